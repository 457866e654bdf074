//! `resolve`, `explain` and `targets` on real fleets, with snapshots.

use crate::harness::{TestFleet, example_fleet, run_in};

/// A Monday at 08:30 in Berlin: morning rush active, night not.
const AT: &str = "2026-11-23T08:30:00+01:00";

#[test]
fn example_fleet_targets() {
    let run = run_in(&example_fleet(), &["targets"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn example_fleet_resolves_every_target() {
    let run = run_in(&example_fleet(), &["resolve", "--at", AT], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn example_fleet_resolve_json() {
    let run = run_in(
        &example_fleet(),
        &["--format", "json", "resolve", "--at", AT, "pg-prod-premium-01", "globex/postgresql"],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    insta::assert_json_snapshot!(v);
}

#[test]
fn explain_shows_the_whole_chain() {
    let run = run_in(&example_fleet(), &["explain", "--at", AT, "globex/postgresql", "statement_timeout"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!(run.stdout);
    let run = run_in(&example_fleet(), &["explain", "--at", AT, "pg-prod-premium-01", "shared_buffers"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!("explain_template", run.stdout);
}

#[test]
fn precedence_and_time_profiles() {
    let fleet = TestFleet::minimal();
    let get = |at: &str| {
        let run = fleet.run(&["--format", "json", "explain", "--at", at, "acme/postgresql", "statement_timeout"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        let layers: Vec<String> =
            v["chain"].as_array().unwrap().iter().map(|e| e["layer"].as_str().unwrap().to_string()).collect();
        (v["value"].as_str().unwrap().to_string(), layers)
    };
    // At noon the night profile is off: base < tenant.
    let (value, layers) = get("2026-11-23T12:00:00Z");
    assert_eq!(value, "30s");
    assert_eq!(layers, ["engine base postgresql", "tenant acme"]);
    // At night the profile sits between base and tenant, and the tenant still wins.
    let (value, layers) = get("2026-11-23T23:00:00Z");
    assert_eq!(value, "30s");
    assert_eq!(layers, ["engine base postgresql", "time profile night", "tenant acme"]);
    // Without the tenant's override, the night profile decides.
    fleet.write("tenants/acme.yaml", "tier: free\nworkload: mixed\nregion: x\nengines:\n  postgresql: pg-1\n");
    assert_eq!(get("2026-11-23T23:00:00Z").0, "2h");
    assert_eq!(get("2026-11-23T12:00:00Z").0, "60s");
}

#[test]
fn lists_replace_append_remove_and_unset() {
    let fleet = TestFleet::minimal();
    fleet.write(
        "inventory/main.yaml",
        "pg-1:\n  engine: postgresql\n  version: \"16.4\"\n  environment: production\n  pool: {tier: free}\n  address: x\n  hardware: {memory: 16GB, cpus: 4}\n  overrides:\n    instance:\n      shared_preload_libraries: {$append: [auto_explain, pgaudit]}\n      max_connections: {$unset: true}\n",
    );
    fleet.write(
        "layers/workloads/mixed.yaml",
        "postgresql:\n  instance:\n    shared_preload_libraries: {$remove: pg_stat_statements}\n",
    );
    let run = fleet.run(&["--format", "json", "resolve", "pg-1"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let s = &v[0]["settings"];
    assert_eq!(s["shared_preload_libraries"]["value"], serde_json::json!(["auto_explain", "pgaudit"]));
    assert!(s.get("max_connections").is_none(), "unset keys are not shown: {s}");
    assert_eq!(s["shared_buffers"]["value"], "4096MB");
    let explain = fleet.run(&["explain", "pg-1", "max_connections"]);
    assert_eq!(explain.code, 0, "{}", explain.stderr);
    assert!(explain.stdout.contains("(unset)") && explain.stdout.contains("unset"), "{}", explain.stdout);
}

#[test]
fn resolve_is_deterministic() {
    let a = run_in(&example_fleet(), &["--format", "json", "resolve", "--at", AT], &[]);
    let b = run_in(&example_fleet(), &["--format", "json", "resolve", "--at", AT], &[]);
    assert_eq!(a.code, 0);
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn unknown_targets_and_keys_exit_4() {
    let fleet = TestFleet::minimal();
    let run = fleet.run(&["resolve", "pg-2"]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(run.stderr.contains("did you mean `pg-1`?"), "{}", run.stderr);
    let run = fleet.run(&["explain", "pg-1", "max_conections"]);
    assert_eq!(run.code, 4);
    assert!(run.stderr.contains("did you mean `max_connections`?"), "{}", run.stderr);
    let run = fleet.run(&["resolve", "--tenant", "acmee"]);
    assert_eq!(run.code, 4);
    let run = fleet.run(&["resolve", "--at", "yesterday"]);
    assert_eq!(run.code, 64, "{}", run.stderr);
    let run = fleet.run(&["resolve", "--engine", "mysql"]);
    assert_eq!(run.code, 64, "{}", run.stderr);
}

#[test]
fn init_writes_a_fleet_that_resolves() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_in(dir.path(), &["init"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = run_in(dir.path(), &["resolve"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let again = run_in(dir.path(), &["init"], &[]);
    assert_eq!(again.code, 1, "refuses to overwrite");
}

#[test]
fn json_schemas_are_current() {
    let schema_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schema");
    let run = run_in(&example_fleet(), &["schema", "--check", "--out", schema_dir.to_str().unwrap()], &[]);
    assert_eq!(run.code, 0, "run `cargo run -p dbfleet-cli -- schema --out schema`: {}", run.stderr);
}
