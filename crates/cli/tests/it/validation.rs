//! Validation as data: each case is a real-world mistake in one engine's
//! settings, and the diagnostic (code and line) `dbfleet validate` must
//! report for it. Every case runs the real binary on a one-instance fleet.

use dbfleet_model::EngineKind;

use crate::harness::TestFleet;

/// One mistake.
pub(crate) struct Case {
    pub(crate) name: &'static str,
    pub(crate) engine: EngineKind,
    /// The instance's version.
    pub(crate) version: &'static str,
    /// Lines under `instance:` in `layers/base/<engine>.yaml` (line 2 on).
    pub(crate) instance: &'static str,
    /// Lines under `tenant:` (after the instance lines), if any.
    pub(crate) tenant: &'static str,
    /// The diagnostic code expected.
    pub(crate) code: &'static str,
    /// The line of `layers/base/<engine>.yaml` it must point at; 0 for
    /// "at the instance in the inventory".
    pub(crate) line: u32,
    /// A fragment of the message.
    pub(crate) message: &'static str,
}

/// Writes a fleet with one staging pool instance of `engine` (16GB, 4 CPUs)
/// and one tenant on it, with `instance` and `tenant` as its base layer.
pub(crate) fn fleet_for(engine: EngineKind, version: &str, instance: &str, tenant: &str) -> TestFleet {
    let major: String = version.split('.').take(if engine == EngineKind::Postgresql { 1 } else { 2 }).collect::<Vec<_>>().join(".");
    let major = match engine {
        EngineKind::Elasticsearch | EngineKind::Neo4j => version.split('.').next().unwrap().to_string(),
        _ => major,
    };
    let fleet = TestFleet::new(&[]);
    fleet.write(
        "fleet.yaml",
        &format!(
            "name: v\nengines:\n  {engine}: {{versions: [\"{major}\"]}}\nenvironments:\n  staging: {{}}\ntiers:\n  premium:\n    placement: shared\n    limits: {{connections: 10, storage: 1GB}}\nworkloads:\n  mixed: {{}}\n"
        ),
    );
    let mut base = String::from("instance:\n");
    base.push_str(instance);
    if !tenant.is_empty() {
        base.push_str("tenant:\n");
        base.push_str(tenant);
    }
    fleet.write(&format!("layers/base/{engine}.yaml"), &base);
    fleet.write(
        "inventory.yaml",
        &format!("i-1:\n  engine: {engine}\n  version: \"{version}\"\n  environment: staging\n  pool: {{tier: premium}}\n  address: 127.0.0.1:1\n  hardware: {{memory: 16GB, cpus: 4}}\n"),
    );
    fleet.write("tenants/t.yaml", &format!("tier: premium\nworkload: mixed\nregion: x\nengines:\n  {engine}: i-1\n"));
    fleet
}

fn check(case: &Case) -> Option<String> {
    let fleet = fleet_for(case.engine, case.version, case.instance, case.tenant);
    let run = fleet.run(&["--format", "json", "validate"]);
    let v: serde_json::Value = match serde_json::from_str(&run.stdout) {
        Ok(v) => v,
        Err(_) => return Some(format!("{}: no JSON (exit {}):\n{}", case.name, run.code, run.stderr)),
    };
    let diags = v["diagnostics"].as_array().cloned().unwrap_or_default();
    let file = format!("layers/base/{}.yaml", case.engine);
    let found = diags.iter().any(|d| {
        let at_line = if case.line == 0 {
            d["location"]["file"] == "inventory.yaml"
        } else {
            d["location"]["file"] == file.as_str() && d["location"]["line"] == case.line
        };
        d["code"] == case.code && at_line && d["message"].as_str().is_some_and(|m| m.contains(case.message))
    });
    if found { None } else { Some(format!("{}: expected [{}] `{}` at line {}, got:\n{}", case.name, case.code, case.message, case.line, serde_json::to_string_pretty(&diags).unwrap())) }
}

/// Runs every case and reports all failures at once.
pub(crate) fn run_cases(cases: &[Case]) {
    let failures: Vec<String> = cases.iter().filter_map(check).collect();
    assert!(failures.is_empty(), "{} of {} cases failed:\n\n{}", failures.len(), cases.len(), failures.join("\n\n"));
}

use EngineKind::*;

const POSTGRESQL: &[Case] = &[
    Case { name: "typo", engine: Postgresql, version: "16.4", instance: "  shared_bufers: 1GB\n", tenant: "", code: "unknown-parameter", line: 2, message: "did you mean `shared_buffers`?" },
    Case { name: "unit", engine: Postgresql, version: "16.4", instance: "  work_mem: 64XB\n", tenant: "", code: "invalid-value", line: 2, message: "unknown unit `XB`" },
    Case { name: "removed", engine: Postgresql, version: "16.4", instance: "  vacuum_defer_cleanup_age: 10\n", tenant: "", code: "version", line: 2, message: "was removed after postgresql 15" },
];

const REDIS: &[Case] = &[
    Case { name: "maxmemory over RAM", engine: Redis, version: "7.2.4", instance: "  maxmemory: 32gb\n", tenant: "", code: "memory-budget", line: 2, message: "more than the instance's 16GB" },
];

#[test]
fn validation_cases_postgresql() {
    run_cases(POSTGRESQL);
}

#[test]
fn validation_cases_redis() {
    run_cases(REDIS);
}

#[test]
fn example_fleet_validates_and_sarif_is_well_formed() {
    let run = crate::harness::run_in(&crate::harness::example_fleet(), &["validate"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let fleet = fleet_for(Postgresql, "16.4", "  shared_bufers: 1GB\n  work_mem: 2MB\n", "");
    let run = fleet.run(&["validate", "--sarif"]);
    assert_eq!(run.code, 3);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let r = &v["runs"][0]["results"][0];
    assert_eq!(r["ruleId"], "unknown-parameter");
    assert_eq!(r["level"], "error");
    assert_eq!(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "layers/base/postgresql.yaml");
    assert_eq!(r["locations"][0]["physicalLocation"]["region"]["startLine"], 2);
}

#[test]
fn deny_warnings_fails_on_warnings() {
    // `sort_mem` is an old name of work_mem: a warning.
    let fleet = fleet_for(Postgresql, "16.4", "  sort_mem: 4MB\n", "");
    assert_eq!(fleet.run(&["validate"]).code, 0);
    let run = fleet.run(&["validate", "--deny-warnings"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("deprecated-name"), "{}", run.stderr);
}
