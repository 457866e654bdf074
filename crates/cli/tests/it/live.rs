//! Plan, apply, drift and rollback through the real `dbfleet` binary
//! against real throwaway servers, with failures injected, and the state
//! store checked after each step.

use dbfleet_testsupport::{ClickHouseServer, PgServer, RedisServer};

use crate::harness::TestFleet;

/// A fleet with one staging instance of `engine` at 127.0.0.1:`port`,
/// whose base layer is `settings` (instance scope), with `control` lines.
fn live_fleet(engine: &str, version: &str, major: &str, port: u16, settings: &str, control: &str) -> TestFleet {
    let fleet = TestFleet::new(&[]);
    fleet.write(
        "fleet.yaml",
        &format!("name: live\nengines:\n  {engine}: {{versions: [\"{major}\"]}}\nenvironments:\n  staging: {{}}\ntiers:\n  premium:\n    placement: shared\n    limits: {{connections: 10, storage: 1GB}}\nworkloads:\n  mixed: {{}}\n"),
    );
    fleet.write(&format!("layers/base/{engine}.yaml"), &format!("instance:\n{settings}"));
    let credentials = match engine {
        "postgresql" => "  credentials: {user: postgres}\n",
        "clickhouse" => "  credentials: {user: default}\n",
        _ => "",
    };
    fleet.write(
        "inventory.yaml",
        &format!("db-1:\n  engine: {engine}\n  version: \"{version}\"\n  environment: staging\n  pool: {{tier: premium}}\n  address: 127.0.0.1:{port}\n  hardware: {{memory: 4GB, cpus: 2}}\n{credentials}{control}"),
    );
    fleet
}

fn control(restart: &[String]) -> String {
    let argv: Vec<String> = restart.iter().map(|a| format!("{a:?}")).collect();
    format!("  control:\n    restart: [{}]\n    ready_timeout: 30\n", argv.join(", "))
}

fn history(fleet: &TestFleet) -> serde_json::Value {
    let run = fleet.run(&["--format", "json", "history"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    serde_json::from_str(&run.stdout).unwrap()
}

#[test]
fn postgresql_plan_apply_restart_drift_rollback() {
    let pg = PgServer::start().expect("PostgreSQL starts");
    let settings = "  work_mem: 24MB\n  log_min_duration_statement: 250ms\n  shared_buffers: 48MB\n";
    let fleet = live_fleet("postgresql", "15.18", "15", pg.port(), settings, &control(&pg.restart_command()));

    // The plan shows each change with how it applies; shared_buffers needs a restart.
    let run = fleet.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stdout.contains("work_mem: 4MB -> 24MB  [reload]"), "{}", run.stdout);
    assert!(run.stdout.contains("shared_buffers: 128MB -> 48MB  [restart]"), "{}", run.stdout);
    assert!(run.stdout.contains("needs a restart"), "{}", run.stdout);
    insta::assert_snapshot!("postgresql_plan", run.stdout);
    let json = fleet.run(&["--format", "json", "plan"]);
    assert_eq!(json.code, 0, "{}", json.stderr);
    insta::assert_json_snapshot!(
        "postgresql_plan_json",
        serde_json::from_str::<serde_json::Value>(&json.stdout).unwrap()
    );

    // Without --allow-restart nothing changes.
    let run = fleet.run(&["apply", "--auto-approve"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("--allow-restart"), "{}", run.stderr);
    assert_eq!(pg.psql("SHOW work_mem").unwrap(), "4MB");

    // With it, everything applies, through the configured restart command.
    let run = fleet.run(&["apply", "--auto-approve", "--allow-restart"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(pg.psql("SHOW shared_buffers").unwrap(), "48MB");
    assert_eq!(pg.psql("SHOW work_mem").unwrap(), "24MB");
    assert_eq!(pg.psql("SHOW log_min_duration_statement").unwrap(), "250ms");

    // Applying the same configuration again changes nothing.
    let run = fleet.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let h = history(&fleet);
    assert_eq!(h[0]["status"], "verified", "{h}");

    // A change made by hand is drift.
    pg.psql("ALTER SYSTEM SET work_mem = '7MB'").unwrap();
    pg.psql("SELECT pg_reload_conf()").unwrap();
    let run = fleet.run(&["drift"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stdout.contains("work_mem: 7MB -> 24MB"), "{}", run.stdout);
    pg.psql("ALTER SYSTEM RESET work_mem").unwrap();
    pg.psql("SELECT pg_reload_conf()").unwrap();

    // Rolling back returns to the values recorded before the apply.
    let run = fleet.run(&["rollback", "db-1", "--auto-approve", "--allow-restart"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(pg.psql("SHOW shared_buffers").unwrap(), "128MB");
    assert_eq!(pg.psql("SHOW log_min_duration_statement").unwrap(), "-1");
    assert_eq!(history(&fleet)[0]["status"], "restored");
}

#[test]
fn postgresql_a_value_the_server_does_not_take_is_restored_and_recorded() {
    let pg = PgServer::start().expect("PostgreSQL starts");
    // `timezone` is a free-form string to dbfleet, so validation accepts
    // `Mars/Olympus`; the server refuses it. The change planned before it
    // (default_statistics_target) must be put back and both recorded.
    let fleet = live_fleet(
        "postgresql",
        "15.18",
        "15",
        pg.port(),
        "  default_statistics_target: 250\n  timezone: Mars/Olympus\n",
        "",
    );
    assert_eq!(fleet.run(&["validate"]).code, 0);
    let run = fleet.run(&["apply", "--auto-approve"]);
    assert_eq!(run.code, 7, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("restored"), "{}", run.stderr);
    assert_eq!(pg.psql("SHOW default_statistics_target").unwrap(), "100");
    assert_eq!(pg.psql("SELECT count(*) FROM pg_file_settings WHERE sourcefile LIKE '%auto.conf'").unwrap(), "0");
    let h = history(&fleet);
    assert_eq!(h[0]["status"], "restored", "{h}");
    assert_eq!(h[0]["deployment_status"], "rolled_back", "{h}");
    assert!(h[0]["error"].as_str().unwrap().contains("timezone"), "{h}");
}

#[test]
fn postgresql_killed_mid_apply_is_recorded_and_rolled_back_later() {
    let pg = PgServer::start().expect("PostgreSQL starts");
    // The "restart" kills the postmaster and nothing brings it back: the
    // changes are written and reloaded, the server dies, restoring cannot
    // reach it.
    let pid_file = pg.data_dir().join("postmaster.pid");
    let kill = ["sh".to_string(), "-c".into(), format!("kill -KILL $(head -n 1 '{}')", pid_file.display())];
    let settings = "  work_mem: 24MB\n  shared_buffers: 48MB\n";
    let killing = control(&kill).replace("ready_timeout: 30", "ready_timeout: 3");
    let fleet = live_fleet("postgresql", "15.18", "15", pg.port(), settings, &killing);
    let run = fleet.run(&["apply", "--auto-approve", "--allow-restart"]);
    assert_eq!(run.code, 8, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("db-1"), "{}", run.stderr);
    assert!(!pg.is_running());

    // The store holds the snapshot taken before the change, the failure and
    // the failed restore.
    let h = history(&fleet);
    assert_eq!(h[0]["status"], "restore_failed", "{h}");
    assert_eq!(h[0]["deployment_status"], "rollback_failed", "{h}");
    assert!(h[0]["error"].as_str().is_some_and(|e| !e.is_empty()), "{h}");

    // Back up, the server runs the half-applied values...
    pg.start_again().unwrap();
    assert_eq!(pg.psql("SHOW work_mem").unwrap(), "24MB");
    // ...and rollback, with a restart command that works, puts back what
    // the store recorded.
    let inventory = std::fs::read_to_string(fleet.path().join("inventory.yaml")).unwrap();
    fleet.write("inventory.yaml", &inventory.replace(&killing, &control(&pg.restart_command())));
    let run = fleet.run(&["rollback", "db-1", "--auto-approve", "--allow-restart"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(pg.psql("SHOW work_mem").unwrap(), "4MB");
    assert_eq!(pg.psql("SHOW shared_buffers").unwrap(), "128MB");
}

#[test]
fn a_role_without_the_right_is_denied_and_nothing_changes() {
    let pg = PgServer::start().expect("PostgreSQL starts");
    // May read every setting, but not change them.
    pg.psql("CREATE ROLE app LOGIN; GRANT pg_read_all_settings TO app").unwrap();
    let fleet = live_fleet("postgresql", "15.18", "15", pg.port(), "  work_mem: 24MB\n", "");
    let inventory = std::fs::read_to_string(fleet.path().join("inventory.yaml")).unwrap();
    fleet.write("inventory.yaml", &inventory.replace("user: postgres", "user: app"));
    let run = fleet.run(&["apply", "--auto-approve"]);
    assert_eq!(run.code, 77, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("db-1"), "{}", run.stderr);
    assert_eq!(pg.psql("SHOW work_mem").unwrap(), "4MB");
}

#[test]
fn an_unreachable_server_changes_nothing_and_says_which() {
    let pg = PgServer::start().expect("PostgreSQL starts");
    let fleet = live_fleet("postgresql", "15.18", "15", pg.port(), "  work_mem: 24MB\n", "");
    pg.kill().unwrap();
    let run = fleet.run(&["apply", "--auto-approve"]);
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(run.stderr.contains("db-1"), "{}", run.stderr);
    pg.start_again().unwrap();
    assert_eq!(pg.psql("SHOW work_mem").unwrap(), "4MB");
}

#[test]
fn redis_change_survives_a_restart_and_a_rejected_value_is_restored() {
    let redis = RedisServer::start().expect("Redis starts");
    let fleet =
        live_fleet("redis", "7.0.15", "7.0", redis.port(), "  maxmemory: 64mb\n  maxmemory-policy: allkeys-lru\n", "");
    let run = fleet.run(&["apply", "--auto-approve"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    redis.restart().unwrap();
    assert_eq!(redis.cli(&["CONFIG", "GET", "maxmemory"]).unwrap().lines().nth(1), Some("67108864"));
    assert_eq!(fleet.run(&["plan", "--detailed-exitcode"]).code, 0);

    // Drift: a CONFIG SET by hand.
    redis.cli(&["CONFIG", "SET", "maxmemory-policy", "noeviction"]).unwrap();
    let run = fleet.run(&["drift"]);
    assert_eq!(run.code, 2);
    assert!(run.stdout.contains("maxmemory-policy"), "{}", run.stdout);

    // A value Redis refuses at runtime (binding an address this host does
    // not have; nothing is sent anywhere): the change before it is undone.
    let bad = live_fleet("redis", "7.0.15", "7.0", redis.port(), "  maxmemory: 32mb\n  bind: 192.0.2.1\n", "");
    let run = bad.run(&["apply", "--auto-approve"]);
    assert_eq!(run.code, 7, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(redis.cli(&["CONFIG", "GET", "maxmemory"]).unwrap().lines().nth(1), Some("67108864"));
}

#[test]
fn redis_tenants_become_acl_users_through_apply() {
    let redis = RedisServer::start().expect("Redis starts");
    let fleet = live_fleet("redis", "7.0.15", "7.0", redis.port(), "  maxmemory: 64mb\n", "");
    for tenant in ["acme", "zeta"] {
        fleet.write(
            &format!("tenants/{tenant}.yaml"),
            "tier: premium\nworkload: mixed\nregion: eu-west-1\nengines:\n  redis: db-1\n",
        );
    }
    let run = fleet.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("users.acl"), "{}", run.stdout);
    assert!(!run.stdout.contains("+@all"), "the plan shows no ACL rules: {}", run.stdout);

    let run = fleet.run(&["apply", "--auto-approve"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let users = redis.cli(&["ACL", "USERS"]).unwrap();
    assert_eq!(users.lines().collect::<Vec<_>>(), ["acme", "default", "zeta"], "{users}");
    let acme = redis.cli(&["ACL", "GETUSER", "acme"]).unwrap();
    assert!(acme.contains("acme:*"), "confined to its keys: {acme}");
    assert_eq!(fleet.run(&["plan", "--detailed-exitcode"]).code, 0, "applying again changes nothing");

    // A tenant leaves the instance: its user goes; a user made by hand is drift.
    std::fs::remove_file(fleet.path().join("tenants/zeta.yaml")).unwrap();
    redis.cli(&["ACL", "SETUSER", "intruder", "on", "nopass", "~*", "+@all"]).unwrap();
    assert_eq!(fleet.run(&["drift"]).code, 2);
    let run = fleet.run(&["apply", "--auto-approve"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(redis.cli(&["ACL", "USERS"]).unwrap().lines().collect::<Vec<_>>(), ["acme", "default"]);
}

#[test]
fn clickhouse_profile_change_is_picked_up_by_reload() {
    let ch = ClickHouseServer::start().expect("ClickHouse starts");
    let control = format!("  control:\n    config_dir: {:?}\n", ch.config_dir().display().to_string());
    let fleet = live_fleet(
        "clickhouse",
        "18.16.1",
        "18.16",
        ch.http_port(),
        "  max_memory_usage: 3000000000\n  max_threads: 3\n",
        &control,
    );
    let run = fleet.run(&["apply", "--auto-approve"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let v = ch.query("SELECT value FROM system.settings WHERE name = 'max_memory_usage'").unwrap();
    assert_eq!(v.trim(), "3000000000");
    assert_eq!(fleet.run(&["plan", "--detailed-exitcode"]).code, 0);
}

#[test]
fn clickhouse_tenants_become_users_through_apply() {
    let ch = ClickHouseServer::start().expect("ClickHouse starts");
    let control = format!("  control:\n    config_dir: {:?}\n", ch.config_dir().display().to_string());
    let fleet = live_fleet("clickhouse", "18.16.1", "18.16", ch.http_port(), "  max_threads: 3\n", &control);
    // The tier lets a tenant set its own max_threads.
    let spec = std::fs::read_to_string(fleet.path().join("fleet.yaml")).unwrap();
    fleet.write(
        "fleet.yaml",
        &spec.replace(
            "    limits: {connections: 10, storage: 1GB}\n",
            "    limits: {connections: 10, storage: 1GB}\n    overridable:\n      clickhouse.tenant.max_threads: {max: 4}\n",
        ),
    );
    fleet.write(
        "tenants/acme.yaml",
        "tier: premium\nworkload: mixed\nregion: eu-west-1\nengines:\n  clickhouse: db-1\noverrides:\n  clickhouse:\n    tenant: {max_threads: 2}\n",
    );
    let threads = || ch.query("SELECT value FROM system.settings WHERE name = 'max_threads'").unwrap();
    let threads_before = threads();
    let run = fleet.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("~ tenants.xml: (sensitive) -> (sensitive)  [reload]"), "{}", run.stdout);
    assert!(!run.stdout.contains("tenant acme"), "tenant settings travel in the file: {}", run.stdout);

    let run = fleet.run(&["apply", "--auto-approve"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let tenants = std::fs::read_to_string(ch.users_d().join("dbfleet-tenants.xml")).unwrap();
    assert!(tenants.contains("<acme>") && tenants.contains("<max_threads>2</max_threads>"), "{tenants}");
    assert_eq!(threads(), "3", "the default profile keeps the instance's value");
    let run = fleet.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(run.code, 0, "applying again changes nothing:\n{}\n{}", run.stdout, run.stderr);
    let h = history(&fleet);
    assert_eq!(h[0]["status"], "verified", "{h}");

    // The store keeps no tenants file (it holds password hashes): rollback
    // puts back the rest, says so and exits 8, and the tenants stay.
    let run = fleet.run(&["rollback", "db-1", "--auto-approve"]);
    assert_eq!(run.code, 8, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("tenants.xml"), "{}", run.stderr);
    assert_eq!(threads(), threads_before, "max_threads is back");
    assert!(ch.users_d().join("dbfleet-tenants.xml").exists());
}
