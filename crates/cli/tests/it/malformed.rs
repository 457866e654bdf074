//! Malformed input, as data: each case breaks one file of a small valid
//! fleet and names the location and message `dbfleet resolve` must report.

use crate::harness::{MINIMAL, TestFleet};

struct Case {
    name: &'static str,
    /// Files written over the minimal fleet.
    files: &'static [(&'static str, &'static str)],
    /// `file:line:column` that must appear after `-->`.
    location: &'static str,
    /// A fragment of the message.
    message: &'static str,
}

const FLEET: &str = MINIMAL[0].1;

fn fleet_with(replace: &str, with: &str) -> String {
    assert!(FLEET.contains(replace), "{replace}");
    FLEET.replacen(replace, with, 1)
}

const CASES: &[Case] = &[
    Case {
        name: "yaml syntax in tenant",
        files: &[("tenants/acme.yaml", "tier: free\nengines: [pg-1\n")],
        location: "tenants/acme.yaml:3:1",
        message: "invalid YAML",
    },
    Case {
        name: "tab indentation",
        files: &[("tenants/acme.yaml", "tier: free\nengines:\n\tpostgresql: pg-1\n")],
        location: "tenants/acme.yaml:3:2",
        message: "tabs disallowed",
    },
    Case {
        name: "duplicate key",
        files: &[("tenants/acme.yaml", "tier: free\ntier: free\nworkload: mixed\nregion: x\nengines: {}\n")],
        location: "tenants/acme.yaml:2:1",
        message: "duplicate key `tier`",
    },
    Case {
        name: "unknown tenant key",
        files: &[("tenants/acme.yaml", "tier: free\nworkload: mixed\nregoin: x\nengines: {}\n")],
        location: "tenants/acme.yaml:3:1",
        message: "unknown key `regoin`, did you mean `region`?",
    },
    Case {
        name: "unknown tier name",
        files: &[("tenants/acme.yaml", "tier: premum\nworkload: mixed\nregion: x\nengines: {}\n")],
        location: "tenants/acme.yaml:1:7",
        message: "unknown value `premum`, did you mean `premium`?",
    },
    Case {
        name: "tier not declared",
        files: &[("tenants/acme.yaml", "tier: premium\nworkload: mixed\nregion: x\nengines: {}\n")],
        location: "tenants/acme.yaml:1:7",
        message: "tier `premium` is not declared",
    },
    Case {
        name: "unknown instance",
        files: &[("tenants/acme.yaml", "tier: free\nworkload: mixed\nregion: x\nengines:\n  postgresql: pg-2\n")],
        location: "tenants/acme.yaml:5:15",
        message: "unknown instance `pg-2`, did you mean `pg-1`?",
    },
    Case {
        name: "unknown engine in tenant",
        files: &[("tenants/acme.yaml", "tier: free\nworkload: mixed\nregion: x\nengines:\n  postgress: pg-1\n")],
        location: "tenants/acme.yaml:5:3",
        message: "did you mean `postgresql`?",
    },
    Case {
        name: "missing required field",
        files: &[("tenants/acme.yaml", "tier: free\nworkload: mixed\nengines: {}\n")],
        location: "tenants/acme.yaml:1:1",
        message: "missing field `region`",
    },
    Case {
        name: "wrong type in tenant",
        files: &[("tenants/acme.yaml", "tier: free\nworkload: mixed\nregion: [a, b]\nengines: {}\n")],
        location: "tenants/acme.yaml:3:9",
        message: "expected a string",
    },
    Case {
        name: "override of unknown engine",
        files: &[(
            "tenants/acme.yaml",
            "tier: free\nworkload: mixed\nregion: x\nengines: {postgresql: pg-1}\noverrides:\n  mysql:\n    tenant: {a: 1}\n",
        )],
        location: "tenants/acme.yaml:6:3",
        message: "unknown value `mysql` (expected one of: postgresql, redis",
    },
    Case {
        name: "override scope typo",
        files: &[(
            "tenants/acme.yaml",
            "tier: free\nworkload: mixed\nregion: x\nengines: {postgresql: pg-1}\noverrides:\n  postgresql:\n    tennant: {a: 1}\n",
        )],
        location: "tenants/acme.yaml:7:5",
        message: "did you mean `tenant`?",
    },
    Case {
        name: "tenant file name",
        files: &[("tenants/Acme Corp.yaml", "tier: free\nworkload: mixed\nregion: x\nengines: {}\n")],
        location: "tenants/Acme Corp.yaml:1:1",
        message: "tenant id `Acme Corp`",
    },
    Case {
        name: "tenant on a pool of another tier",
        files: &[("tenants/acme.yaml", "tier: enterprise\nworkload: mixed\nregion: x\nengines:\n  postgresql: pg-1\n")],
        location: "tenants/acme.yaml:5:15",
        message: "needs a dedicated instance",
    },
    Case {
        name: "unknown instance key",
        files: &[(
            "inventory/main.yaml",
            "pg-1:\n  engine: postgresql\n  version: \"16.4\"\n  environment: production\n  pool: {tier: free}\n  adress: x\n  hardware: {memory: 16GB, cpus: 4}\n",
        )],
        location: "inventory/main.yaml:6:3",
        message: "unknown key `adress`, did you mean `address`?",
    },
    Case {
        name: "version not allowed",
        files: &[(
            "inventory/main.yaml",
            "pg-1:\n  engine: postgresql\n  version: \"13.2\"\n  environment: production\n  pool: {tier: free}\n  address: x\n  hardware: {memory: 16GB, cpus: 4}\n",
        )],
        location: "inventory/main.yaml:1:1",
        message: "postgresql 13.2 is not a version fleet.yaml allows",
    },
    Case {
        name: "bad memory unit",
        files: &[(
            "inventory/main.yaml",
            "pg-1:\n  engine: postgresql\n  version: \"16.4\"\n  environment: production\n  pool: {tier: free}\n  address: x\n  hardware: {memory: 16XB, cpus: 4}\n",
        )],
        location: "inventory/main.yaml:7:22",
        message: "unknown size unit `XB`",
    },
    Case {
        name: "cpus not a number, without a cascade",
        files: &[(
            "inventory/main.yaml",
            "pg-1:\n  engine: postgresql\n  version: \"16.4\"\n  environment: production\n  pool: {tier: free}\n  address: x\n  hardware: {memory: 16GB, cpus: many}\n",
        )],
        location: "inventory/main.yaml:7:34",
        message: "invalid type",
    },
    Case {
        name: "pool and dedicated",
        files: &[(
            "inventory/main.yaml",
            "pg-1:\n  engine: postgresql\n  version: \"16.4\"\n  environment: production\n  pool: {tier: free}\n  dedicated: acme\n  address: x\n  hardware: {memory: 16GB, cpus: 4}\n",
        )],
        location: "inventory/main.yaml:1:1",
        message: "not both",
    },
    Case {
        name: "unknown environment",
        files: &[(
            "inventory/main.yaml",
            "pg-1:\n  engine: postgresql\n  version: \"16.4\"\n  environment: prodution\n  pool: {tier: free}\n  address: x\n  hardware: {memory: 16GB, cpus: 4}\n",
        )],
        location: "inventory/main.yaml:4:16",
        message: "did you mean `production`?",
    },
    Case {
        name: "environment not declared",
        files: &[(
            "inventory/main.yaml",
            "pg-1:\n  engine: postgresql\n  version: \"16.4\"\n  environment: sandbox\n  pool: {tier: free}\n  address: x\n  hardware: {memory: 16GB, cpus: 4}\n",
        )],
        location: "inventory/main.yaml:1:1",
        message: "environment `sandbox` is not declared",
    },
    Case {
        name: "instance runs another engine",
        files: &[(
            "inventory/main.yaml",
            "pg-1:\n  engine: redis\n  version: \"7.2.1\"\n  environment: production\n  pool: {tier: free}\n  address: x\n  hardware: {memory: 16GB, cpus: 4}\n",
        )],
        location: "tenants/acme.yaml:5:15",
        message: "which runs redis",
    },
    Case {
        name: "duplicate instance across files",
        files: &[(
            "inventory/more.yaml",
            "pg-1:\n  engine: postgresql\n  version: \"16.4\"\n  environment: production\n  pool: {tier: free}\n  address: x\n  hardware: {memory: 16GB, cpus: 4}\n",
        )],
        location: "inventory/more.yaml:1:1",
        message: "instance `pg-1` is defined twice",
    },
    Case {
        name: "unknown operator",
        files: &[("layers/base/postgresql.yaml", "instance:\n  shared_preload_libraries: {$apend: [auto_explain]}\n")],
        location: "layers/base/postgresql.yaml:2:30",
        message: "did you mean `$append`?",
    },
    Case {
        name: "bad secret provider",
        files: &[(
            "layers/base/postgresql.yaml",
            "instance:\n  ssl_key_passphrase: {$secret: \"valt:secret/pg#key\"}\n",
        )],
        location: "layers/base/postgresql.yaml:2:33",
        message: "did you mean `vault`?",
    },
    Case {
        name: "unset needs true",
        files: &[("layers/base/postgresql.yaml", "instance:\n  work_mem: {$unset: no}\n")],
        location: "layers/base/postgresql.yaml:2:22",
        message: "write `$unset: true`",
    },
    Case {
        name: "template syntax",
        files: &[(
            "layers/base/postgresql.yaml",
            "instance:\n  shared_buffers: \"{{ instance.memory | size('MB' }}\"\n",
        )],
        location: "layers/base/postgresql.yaml:2:19",
        message: "template in `shared_buffers`: syntax error",
    },
    Case {
        name: "template undefined variable",
        files: &[("layers/base/postgresql.yaml", "instance:\n  shared_buffers: \"{{ instance.ram | size('MB') }}\"\n")],
        location: "layers/base/postgresql.yaml:2:19",
        message: "undefined",
    },
    Case {
        name: "template filter error",
        files: &[(
            "layers/base/postgresql.yaml",
            "instance:\n  shared_buffers: \"{{ instance.memory | size('XB') }}\"\n",
        )],
        location: "layers/base/postgresql.yaml:2:19",
        message: "unknown size unit `XB`",
    },
    Case {
        name: "template out of fuel",
        files: &[(
            "layers/base/postgresql.yaml",
            "instance:\n  x: \"{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}\"\n",
        )],
        location: "layers/base/postgresql.yaml:2:6",
        message: "fuel",
    },
    Case {
        name: "lock broken by a later layer",
        files: &[("layers/time/night.yaml", "postgresql:\n  instance:\n    ssl: off\n")],
        location: "layers/time/night.yaml:3:10",
        message: "`ssl` is locked by environment production",
    },
    Case {
        name: "append to a scalar",
        files: &[(
            "layers/environments/production.yaml",
            "postgresql:\n  instance:\n    max_connections: {$append: [1]}\n",
        )],
        location: "layers/environments/production.yaml:3:22",
        message: "it is a integer, not a list",
    },
    Case {
        name: "layer for unknown environment",
        files: &[("layers/environments/prod.yaml", "postgresql: {}\n")],
        location: "layers/environments/prod.yaml:1:1",
        message: "did you mean `production`?",
    },
    Case {
        name: "unknown layer kind",
        files: &[("layers/tier/free.yaml", "postgresql: {}\n")],
        location: "layers/tier:1:1",
        message: "layers/tier is not a layer kind",
    },
    Case {
        name: "base layer for unknown engine",
        files: &[("layers/base/mysql.yaml", "instance: {}\n")],
        location: "layers/base/mysql.yaml:1:1",
        message: "unknown engine `mysql`",
    },
    Case {
        name: "unknown time profile layer",
        files: &[("layers/time/nigth.yaml", "postgresql: {}\n")],
        location: "layers/time/nigth.yaml:1:1",
        message: "did you mean `night`?",
    },
    Case {
        name: "two documents",
        files: &[("tenants/acme.yaml", "tier: free\n---\ntier: free\n")],
        location: "tenants/acme.yaml:3:1",
        message: "second one",
    },
    Case {
        name: "non-scalar key",
        files: &[("tenants/acme.yaml", "? [a, b]\n: 1\n")],
        location: "tenants/acme.yaml:1:3",
        message: "a key must be a scalar",
    },
];

const FLEET_CASES: &[(&str, &str, &str, &str, &str)] = &[
    // (name, replace, with, location, message)
    ("unknown fleet key", "workloads:", "workload:", "fleet.yaml:15:1", "did you mean `workloads`?"),
    (
        "unknown engine in fleet",
        "  redis: {versions: [\"7.2\"]}",
        "  reddis: {versions: [\"7.2\"]}",
        "fleet.yaml:4:3",
        "did you mean `redis`?",
    ),
    ("bad placement", "placement: dedicated", "placement: dedicate", "fleet.yaml:13:16", "did you mean `dedicated`?"),
    ("limit of wrong type", "connections: 10,", "connections: lots,", "fleet.yaml:11:27", "invalid type"),
    (
        "bad time zone",
        "timezone: UTC",
        "timezone: Mars/Olympus",
        "fleet.yaml:20:15",
        "unknown time zone `Mars/Olympus`",
    ),
    ("bad window time", "start: \"22:00\"", "start: \"10pm\"", "fleet.yaml:22:60", "is not a time of day"),
];

/// Checks one case; returns what is wrong, if anything.
fn check(name: &str, fleet: &TestFleet, location: &str, message: &str) -> Option<String> {
    // At night, so that the night time profile's layer applies too.
    let run = fleet.run(&["resolve", "--at", "2026-11-23T23:00:00Z"]);
    let arrow = format!("--> {location}");
    let found =
        run.stderr.split("\n\n").any(|block| block.lines().any(|l| l.trim() == arrow) && block.contains(message));
    if run.code != 3 || !found || run.stderr.contains("panicked") {
        return Some(format!(
            "{name}: expected exit 3 and `{message}` at {location}, got exit {}:\n{}",
            run.code, run.stderr
        ));
    }
    None
}

#[test]
fn every_malformed_input_is_reported_at_its_location() {
    let mut failures = Vec::new();
    for case in CASES {
        let fleet = TestFleet::minimal();
        for (path, text) in case.files {
            fleet.write(path, text);
        }
        failures.extend(check(case.name, &fleet, case.location, case.message));
    }
    for (name, replace, with, location, message) in FLEET_CASES {
        let fleet = TestFleet::minimal();
        fleet.write("fleet.yaml", &fleet_with(replace, with));
        failures.extend(check(name, &fleet, location, message));
    }
    let count = CASES.len() + FLEET_CASES.len();
    assert!(count >= 30, "only {count} cases");
    assert!(failures.is_empty(), "{} of {count} cases failed:\n\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn problems_in_many_files_are_reported_together() {
    let fleet = TestFleet::minimal();
    fleet.write("tenants/acme.yaml", "tier: free\nworkload: mixed\nregoin: x\nengines: {}\n");
    fleet.write("tenants/beta.yaml", "tier: free\nworkload: mixd\nregion: x\nengines: {}\n");
    fleet.write("layers/base/postgresql.yaml", "instance:\n  a: {$unset: no}\n  b: {$secret: nope}\n");
    let run = fleet.run(&["resolve"]);
    assert_eq!(run.code, 3);
    for loc in [
        "tenants/acme.yaml:3:1",
        "tenants/beta.yaml:2:11",
        "layers/base/postgresql.yaml:2:15",
        "layers/base/postgresql.yaml:3:16",
    ] {
        assert!(run.stderr.contains(&format!("--> {loc}")), "missing {loc} in\n{}", run.stderr);
    }
    assert!(run.stderr.contains("4 errors"), "{}", run.stderr);
}

#[test]
fn not_a_fleet_repo() {
    let dir = tempfile::tempdir().unwrap();
    let run = crate::harness::run_in(dir.path(), &["resolve"], &[]);
    assert_eq!(run.code, 3);
    assert!(run.stderr.contains("has no fleet.yaml"), "{}", run.stderr);
    assert!(run.stderr.contains("dbfleet init"), "{}", run.stderr);
}

#[test]
fn alias_bombs_are_refused() {
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..9 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        bomb.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    let fleet = TestFleet::minimal();
    fleet.write("tenants/acme.yaml", &bomb);
    let run = fleet.run(&["resolve"]);
    assert_eq!(run.code, 3);
    assert!(run.stderr.contains("expands to more than"), "{}", run.stderr);
}

#[test]
fn json_diagnostics_carry_locations() {
    let fleet = TestFleet::minimal();
    fleet.write("tenants/acme.yaml", "tier: free\nworkload: mixed\nregoin: x\nengines: {}\n");
    let run = fleet.run(&["--format", "json", "resolve"]);
    assert_eq!(run.code, 3);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let d = &v["diagnostics"][0];
    assert_eq!(d["code"], "schema");
    assert_eq!(d["location"]["file"], "tenants/acme.yaml");
    assert_eq!(d["location"]["line"], 3);
    assert_eq!(d["layer"], "tenant acme");
}

#[test]
fn a_broken_instance_does_not_cascade() {
    let fleet = TestFleet::minimal();
    fleet.write("inventory/main.yaml", "pg-1:\n  engine: postgresql\n  version: \"16.4\"\n  environment: production\n  pool: {tier: free}\n  address: x\n  hardware: {memory: 16GB, cpus: many}\n");
    let run = fleet.run(&["resolve"]);
    assert_eq!(run.code, 3);
    assert!(run.stderr.contains("1 error,"), "{}", run.stderr);
    assert!(!run.stderr.contains("unknown instance"), "{}", run.stderr);
}
