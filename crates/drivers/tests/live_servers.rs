//! The PostgreSQL, Redis and ClickHouse drivers against real servers, each
//! test with servers of its own (`dbfleet-testsupport`): changes observed
//! after applying, restarts refused and then made, drift, values the server
//! refuses, servers killed in the middle of an apply, and restores that put
//! every touched setting back as it was.
//!
//! Plans are made the way the CLI makes them: desired values read through
//! the catalog, diffed by `dbfleet_plan::plan` against what the driver
//! observes.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use dbfleet_catalog::Typed;
use dbfleet_drivers::{Connection, Driver, DriverError, Tls, connect};
use dbfleet_model::{ApplyMethod, EngineKind, Value};
use dbfleet_plan::{Action, Desired, DesiredSetting, Observed, ObservedSetting, Plan};
use dbfleet_testsupport::{ClickHouseServer, PgOptions, PgServer, RedisServer};

const PG: EngineKind = EngineKind::Postgresql;
const REDIS: EngineKind = EngineKind::Redis;
const CH: EngineKind = EngineKind::Clickhouse;

/// Runs blocking test-support code (starting, killing, querying servers)
/// without stalling the runtime's other tasks.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

fn connection(engine: EngineKind, version: &str, address: String) -> Connection {
    Connection {
        engine,
        version: version.parse().unwrap(),
        address,
        user: None,
        password: None,
        tls: Tls::default(),
        restart_command: None,
        reload_command: None,
        config_dir: None,
        ready_timeout: Duration::from_secs(30),
    }
}

fn pg_conn(pg: &PgServer) -> Connection {
    connection(PG, "15", format!("127.0.0.1:{}", pg.port()))
}

fn redis_conn(redis: &RedisServer) -> Connection {
    connection(REDIS, "7.0", format!("127.0.0.1:{}", redis.port()))
}

fn ch_conn(ch: &ClickHouseServer) -> Connection {
    Connection {
        config_dir: Some(ch.config_dir().to_path_buf()),
        ..connection(CH, "18.16.1", format!("127.0.0.1:{}", ch.http_port()))
    }
}

/// A connection whose restart command SIGKILLs the process in `pid_file`:
/// the server dies after the driver has written its changes and before it
/// comes back.
fn killing(conn: Connection, pid_file: &Path) -> Connection {
    let script = format!("kill -KILL $(head -n 1 '{}')", pid_file.display());
    Connection {
        restart_command: Some(vec!["sh".into(), "-c".into(), script]),
        ready_timeout: Duration::from_secs(3),
        ..conn
    }
}

/// A desired setting as the CLI makes it: read through the catalog and
/// written back in the engine's spelling.
fn want(engine: EngineKind, name: &str, text: &str) -> DesiredSetting {
    let p = dbfleet_catalog::catalog(engine).get(name).unwrap_or_else(|| panic!("{name} is not in the catalog"));
    let typed = p.normalize(engine, &Value::String(text.into())).unwrap_or_else(|e| panic!("{name} = {text}: {e}"));
    DesiredSetting {
        native: p.format_native(engine, &typed),
        value: Some(typed),
        apply: p.apply,
        sensitive: p.sensitive,
        origin: None,
    }
}

/// A desired value the server will refuse, which validation would have
/// caught: the way to make an apply fail half-way.
fn bad(engine: EngineKind, name: &str, native: &str) -> DesiredSetting {
    let p = dbfleet_catalog::catalog(engine).get(name).unwrap();
    DesiredSetting {
        value: Some(Typed::Str(native.into())),
        native: native.into(),
        apply: p.apply,
        sensitive: p.sensitive,
        origin: None,
    }
}

fn desired(engine: EngineKind, settings: &[(&str, &str)]) -> Desired {
    Desired {
        settings: settings.iter().map(|(n, v)| (n.to_string(), want(engine, n, v))).collect(),
        tenants: BTreeMap::new(),
    }
}

fn plan(engine: EngineKind, desired: &Desired, observed: &Observed) -> Plan {
    let catalog = dbfleet_catalog::catalog(engine);
    dbfleet_plan::plan("test", engine, desired, observed, |n| catalog.get(n).map_or(ApplyMethod::Restart, |p| p.apply))
}

/// The instance settings `names` as observed.
fn pick<'o>(o: &'o Observed, names: &[&str]) -> Vec<(String, Option<&'o ObservedSetting>)> {
    names.iter().map(|n| (n.to_string(), o.settings.get(*n))).collect()
}

fn setting<'o>(o: &'o Observed, name: &str) -> &'o ObservedSetting {
    o.settings.get(name).unwrap_or_else(|| panic!("{name} is not observed"))
}

fn bytes(n: i64) -> Option<Typed> {
    Some(Typed::Bytes(n))
}

const MB: i64 = 1 << 20;

/// Observes until `done` holds, for a change made behind the driver's back
/// that the server takes up a moment later.
async fn observe_until(driver: &dyn Driver, done: impl Fn(&Observed) -> bool) -> Observed {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let o = driver.observe().await.unwrap();
        if done(&o) || Instant::now() > deadline {
            return o;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// PostgreSQL

#[tokio::test(flavor = "multi_thread")]
async fn postgres_runtime_and_reload_changes_are_observed_and_idempotent() {
    let pg = blocking(PgServer::start).unwrap();
    let driver = connect(pg_conn(&pg), Vec::new());
    let before = driver.observe().await.unwrap();
    assert!(!setting(&before, "work_mem").explicit);
    let d = desired(PG, &[("work_mem", "64MB"), ("log_min_duration_statement", "250ms")]);
    let p = plan(PG, &d, &before);
    assert_eq!(p.changes.len(), 2, "{p}");
    assert!(!p.needs_restart());

    let applied = driver.apply(&p, false).await.unwrap();
    assert_eq!(applied.changed, ["log_min_duration_statement", "work_mem"]);
    assert!(applied.reloaded && !applied.restarted && applied.pending_restart.is_empty());

    let after = driver.observe().await.unwrap();
    let work_mem = setting(&after, "work_mem");
    assert_eq!((work_mem.value.clone(), work_mem.raw.as_str(), work_mem.explicit), (bytes(64 * MB), "64MB", true));
    assert_eq!(setting(&after, "log_min_duration_statement").value, Some(Typed::Micros(250_000)));
    // A session of its own sees the new values too.
    assert_eq!(blocking(|| pg.psql("SHOW work_mem")).unwrap(), "64MB");
    assert_eq!(blocking(|| pg.psql("SHOW log_min_duration_statement")).unwrap(), "250ms");

    let again = plan(PG, &d, &after);
    assert!(again.is_empty(), "{again}");
    assert_eq!(driver.apply(&again, false).await.unwrap(), Default::default());
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_restart_change_is_refused_then_made_through_the_restart_command() {
    let pg = blocking(PgServer::start).unwrap();
    let driver = connect(pg_conn(&pg), Vec::new());
    let before = driver.observe().await.unwrap();
    let d = desired(PG, &[("shared_buffers", "256MB")]);
    let p = plan(PG, &d, &before);
    assert_eq!(p.changes[0].apply, ApplyMethod::Restart);
    assert!(p.needs_restart());

    let refused = driver.apply(&p, false).await.unwrap_err();
    assert!(matches!(refused, DriverError::RestartNotAllowed), "{refused}");
    assert_eq!(driver.observe().await.unwrap().settings, before.settings, "a refused plan changes nothing");
    let in_file = "SELECT count(*) FROM pg_file_settings WHERE sourcefile LIKE '%postgresql.auto.conf'";
    assert_eq!(blocking(|| pg.psql(in_file)).unwrap(), "0");
    // Allowed, but with no command to restart with: also refused up front.
    let no_command = driver.apply(&p, true).await.unwrap_err();
    assert!(matches!(no_command, DriverError::NoRestartCommand { .. }), "{no_command}");

    let driver =
        connect(Connection { restart_command: Some(blocking(|| pg.restart_command())), ..pg_conn(&pg) }, Vec::new());
    let applied = driver.apply(&p, true).await.unwrap();
    assert!(applied.restarted && applied.pending_restart.is_empty(), "{applied:?}");
    let after = driver.observe().await.unwrap();
    let shared_buffers = setting(&after, "shared_buffers");
    assert_eq!((shared_buffers.value.clone(), shared_buffers.pending_restart), (bytes(256 * MB), false));
    assert!(plan(PG, &d, &after).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_out_of_band_alter_system_is_seen_as_drift() {
    let pg = blocking(PgServer::start).unwrap();
    let driver = connect(pg_conn(&pg), Vec::new());
    let d = desired(PG, &[("work_mem", "64MB")]);
    driver.apply(&plan(PG, &d, &driver.observe().await.unwrap()), false).await.unwrap();

    blocking(|| {
        pg.psql("ALTER SYSTEM SET work_mem = '16MB'")?;
        pg.psql("ALTER SYSTEM SET random_page_cost = 1.5")?;
        pg.psql("SELECT pg_reload_conf()")
    })
    .unwrap();
    let drifted = observe_until(driver.as_ref(), |o| setting(o, "work_mem").value == bytes(16 * MB)).await;
    assert_eq!(setting(&drifted, "work_mem").value, bytes(16 * MB));
    assert!(setting(&drifted, "random_page_cost").explicit);

    let p = plan(PG, &d, &drifted);
    let changes: Vec<_> = p.changes.iter().map(|c| (c.name.as_str(), c.action)).collect();
    assert_eq!(changes, [("random_page_cost", Action::Reset), ("work_mem", Action::Change)], "{p}");
    driver.apply(&p, false).await.unwrap();
    let after = driver.observe().await.unwrap();
    assert_eq!(setting(&after, "random_page_cost").value, Some(Typed::Real(4.0)));
    assert!(!setting(&after, "random_page_cost").explicit);
    assert!(plan(PG, &d, &after).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_value_refused_mid_apply_is_restored() {
    let pg = blocking(PgServer::start).unwrap();
    let driver = connect(pg_conn(&pg), Vec::new());
    let before = driver.observe().await.unwrap();
    let mut d = desired(PG, &[("log_min_duration_statement", "250ms")]);
    d.settings.insert("work_mem".into(), bad(PG, "work_mem", "lots"));
    let p = plan(PG, &d, &before);
    // The valid change goes first, so the failure comes after a change.
    assert_eq!(
        p.changes.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["log_min_duration_statement", "work_mem"]
    );

    let err = driver.apply(&p, false).await.unwrap_err();
    assert!(matches!(&err, DriverError::Rejected { name, .. } if name == "work_mem"), "{err}");
    let half = driver.observe().await.unwrap();
    assert!(setting(&half, "log_min_duration_statement").explicit, "the first change was written");

    driver.restore(&before, &p, false).await.unwrap();
    let after = driver.observe().await.unwrap();
    let touched = ["log_min_duration_statement", "work_mem"];
    assert_eq!(pick(&after, &touched), pick(&before, &touched));
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_value_refused_at_reload_is_reported() {
    let pg = blocking(PgServer::start).unwrap();
    // A line written into postgresql.auto.conf by hand, which ALTER SYSTEM
    // keeps and the server refuses when it reloads.
    let auto_conf = pg.data_dir().join("postgresql.auto.conf");
    let mut text = std::fs::read_to_string(&auto_conf).unwrap();
    text.push_str("work_mem = 'lots'\n");
    std::fs::write(&auto_conf, text).unwrap();
    let driver = connect(pg_conn(&pg), Vec::new());
    let before = driver.observe().await.unwrap();

    // The server runs the default work_mem, which is what is desired, so
    // the plan leaves the line alone (dropped from the fleet, it would be
    // reset, which removes the line).
    let d = desired(PG, &[("log_min_duration_statement", "250ms"), ("work_mem", "4MB")]);
    let p = plan(PG, &d, &before);
    assert_eq!(p.changes.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["log_min_duration_statement"]);
    let err = driver.apply(&p, false).await.unwrap_err();
    assert!(matches!(&err, DriverError::Rejected { name, .. } if name == "work_mem"), "{err}");

    // Putting back what the plan touched is not held up by that line.
    driver.restore(&before, &p, false).await.unwrap();
    let after = driver.observe().await.unwrap();
    assert_eq!(pick(&after, &["log_min_duration_statement"]), pick(&before, &["log_min_duration_statement"]));
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_killed_mid_apply_is_restored() {
    let pg = blocking(PgServer::start).unwrap();
    let restart = blocking(|| pg.restart_command());
    let driver = connect(Connection { restart_command: Some(restart), ..pg_conn(&pg) }, Vec::new());
    let before = driver.observe().await.unwrap();
    let d = desired(PG, &[("shared_buffers", "256MB"), ("work_mem", "64MB")]);
    let p = plan(PG, &d, &before);
    let touched = ["shared_buffers", "work_mem"];

    // Dead before the apply: nothing is written.
    blocking(|| pg.kill()).unwrap();
    let err = driver.apply(&p, true).await.unwrap_err();
    assert!(err.is_connection(), "{err}");
    blocking(|| pg.start_again()).unwrap();
    assert_eq!(pick(&driver.observe().await.unwrap(), &touched), pick(&before, &touched));

    // Dead after the changes are written and reloaded, before the restart
    // that takes up shared_buffers brings it back.
    let dying = connect(killing(pg_conn(&pg), &pg.data_dir().join("postmaster.pid")), Vec::new());
    let err = dying.apply(&p, true).await.unwrap_err();
    assert!(err.is_connection(), "{err}");
    assert!(!blocking(|| pg.is_running()));
    blocking(|| pg.start_again()).unwrap();
    let revived = driver.observe().await.unwrap();
    assert_eq!(setting(&revived, "shared_buffers").value, bytes(256 * MB), "it came back with the new values");

    let restored = driver.restore(&before, &p, true).await.unwrap();
    assert!(restored.restarted, "{restored:?}");
    assert_eq!(pick(&driver.observe().await.unwrap(), &touched), pick(&before, &touched));
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_tenant_role_settings_are_observed_and_reset() {
    let pg = blocking(PgServer::start).unwrap();
    blocking(|| pg.psql("CREATE ROLE acme")).unwrap();
    let driver = connect(pg_conn(&pg), Vec::new());
    let mut d = Desired::default();
    let acme: BTreeMap<String, DesiredSetting> = [("work_mem", "32MB"), ("statement_timeout", "5s")]
        .iter()
        .map(|(n, v)| (n.to_string(), want(PG, n, v)))
        .collect();
    d.tenants.insert("acme".into(), acme);
    let p = plan(PG, &d, &driver.observe().await.unwrap());
    assert_eq!(p.changes.len(), 2);
    let applied = driver.apply(&p, false).await.unwrap();
    assert_eq!(applied.changed, ["acme/statement_timeout", "acme/work_mem"]);

    let after = driver.observe().await.unwrap();
    let role = &after.tenants["acme"];
    assert_eq!(role["work_mem"].value, bytes(32 * MB));
    assert_eq!(role["statement_timeout"].value, Some(Typed::Micros(5_000_000)));
    assert!(role["work_mem"].explicit);
    assert!(plan(PG, &d, &after).is_empty());
    let stored = "SELECT array_to_string(setconfig, ',') FROM pg_db_role_setting WHERE setrole = 'acme'::regrole";
    assert_eq!(blocking(|| pg.psql(stored)).unwrap(), "statement_timeout=5s,work_mem=32MB");

    // Out of band, then dropped from the fleet: changed, then reset.
    blocking(|| pg.psql("ALTER ROLE acme SET work_mem = '8MB'")).unwrap();
    let drifted = driver.observe().await.unwrap();
    assert_eq!(drifted.tenants["acme"]["work_mem"].value, bytes(8 * MB));
    assert_eq!(plan(PG, &d, &drifted).changes.len(), 1);
    d.tenants.insert("acme".into(), BTreeMap::new());
    let reset = plan(PG, &d, &drifted);
    assert!(reset.changes.iter().all(|c| c.action == Action::Reset && c.tenant.as_deref() == Some("acme")), "{reset}");
    assert_eq!(reset.changes.len(), 2);
    driver.apply(&reset, false).await.unwrap();
    assert!(!driver.observe().await.unwrap().tenants.contains_key("acme"));
}

/// A CA, a server certificate it signed for 127.0.0.1 (`server.crt`,
/// `server.key`) and an unrelated CA (`other.crt`), in a fresh directory.
fn test_certificates() -> tempfile::TempDir {
    let certs = tempfile::tempdir().unwrap();
    let dir = certs.path();
    // A CA, and a server certificate it signed for 127.0.0.1.
    let openssl = |args: &str| {
        let script = format!("cd '{}' && openssl {args}", dir.display());
        let output = blocking(|| std::process::Command::new("sh").arg("-c").arg(&script).output()).unwrap();
        assert!(output.status.success(), "openssl {args}: {}", String::from_utf8_lossy(&output.stderr));
    };
    openssl("req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca -keyout ca.key -out ca.crt");
    openssl("req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server.key -out server.csr");
    std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    openssl(
        "x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile san.ext -out server.crt",
    );
    openssl("req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other-ca -keyout other.key -out other.crt");
    certs
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_over_tls_verifies_the_server() {
    let certs = test_certificates();
    let dir = certs.path();
    // The server runs as `postgres` and wants its key private to itself.
    let chown = std::process::Command::new("chown").arg("-R").arg("postgres:postgres").arg(dir).status().unwrap();
    assert!(chown.success());
    for (file, mode) in [("server.key", 0o600), ("server.crt", 0o644)] {
        std::fs::set_permissions(dir.join(file), std::os::unix::fs::PermissionsExt::from_mode(mode)).unwrap();
    }
    std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let options = PgOptions::new()
        .setting("ssl", "on")
        .setting("ssl_cert_file", dir.join("server.crt").display().to_string())
        .setting("ssl_key_file", dir.join("server.key").display().to_string());
    let pg = blocking(|| PgServer::start_with(options)).unwrap();

    let tls = |ca: &str, insecure: bool| Connection {
        tls: Tls { enabled: true, ca: Some(dir.join(ca)), insecure },
        ..pg_conn(&pg)
    };
    let observed = connect(tls("ca.crt", false), Vec::new()).observe().await.unwrap();
    assert_eq!(setting(&observed, "ssl").value, Some(Typed::Bool(true)));
    let err = connect(tls("other.crt", false), Vec::new()).observe().await.unwrap_err();
    assert!(err.is_connection(), "a server the CA did not sign is refused: {err}");
    connect(tls("other.crt", true), Vec::new()).observe().await.unwrap();
}

/// PostgreSQL's rendered files for `hba` rules and tenants.
fn pg_hba_files(rules: &str, tenants: &[&'static str]) -> Vec<dbfleet_render::RenderedFile> {
    let version: dbfleet_model::Version = "15".parse().unwrap();
    let parameter = dbfleet_catalog::catalog(PG).get("hba").unwrap();
    let typed = parameter.normalize(PG, &Value::String(rules.into())).unwrap();
    let input = dbfleet_render::RenderInput {
        engine: PG,
        version: &version,
        instance: "pg-1",
        fleet: "test",
        revision: "test",
        annotate: false,
        settings: vec![dbfleet_render::Setting {
            name: &parameter.name,
            parameter,
            value: dbfleet_render::RenderValue::Typed(typed),
            origin: None,
        }],
        tenants: tenants.iter().map(|t| dbfleet_render::TenantInput { tenant: t, settings: Vec::new() }).collect(),
    };
    dbfleet_render::render(&input).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_pg_hba_is_written_checked_and_put_back() {
    let pg = blocking(PgServer::start).unwrap();
    let rules = "[local all all trust, host all postgres 127.0.0.1/32 trust, host all all 127.0.0.1/32 scram-sha-256]";
    let driver = connect(pg_conn(&pg), pg_hba_files(rules, &["acme"]));
    let before = driver.observe().await.unwrap();
    let initdb = setting(&before, "hba").clone();
    assert!(initdb.raw.contains("local all all trust"), "{}", initdb.raw);
    assert!(!initdb.explicit, "dbfleet never resets pg_hba.conf");

    let desired = desired(PG, &[("hba", rules)]);
    let p = plan(PG, &desired, &before);
    assert_eq!(
        p.changes.iter().map(|c| (c.name.as_str(), c.apply)).collect::<Vec<_>>(),
        [("hba", ApplyMethod::Reload)]
    );
    let applied = driver.apply(&p, false).await.unwrap();
    assert!(applied.reloaded && applied.changed == ["hba"], "{applied:?}");
    let after = driver.observe().await.unwrap();
    assert!(plan(PG, &desired, &after).is_empty(), "applying the plan again changes nothing");
    assert!(setting(&after, "hba").raw.contains("# tenant acme"), "{}", setting(&after, "hba").raw);
    let rules_loaded = blocking(|| pg.psql("SELECT count(*) FROM pg_hba_file_rules WHERE error IS NULL")).unwrap();
    assert_eq!(rules_loaded, "6", "three fleet rules and three for the tenant");

    // A tenant more on the instance: only its rules differ, and that is a change.
    let more = connect(pg_conn(&pg), pg_hba_files(rules, &["acme", "zeta"]));
    assert_eq!(plan(PG, &desired, &more.observe().await.unwrap()).changes.len(), 1);

    driver.restore(&before, &p, false).await.unwrap();
    let restored = driver.observe().await.unwrap();
    assert_eq!(setting(&restored, "hba").raw, initdb.raw, "initdb's rules are back");
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_pg_hba_rule_the_server_refuses_is_reported_and_put_back() {
    let pg = blocking(PgServer::start).unwrap();
    // Well-formed for dbfleet's check, but no IPv4 address.
    let rules = "[local all all trust, host all all 127.0.0.1/32 trust, host all all 300.1.2.3/32 md5]";
    let driver = connect(pg_conn(&pg), pg_hba_files(rules, &[]));
    let before = driver.observe().await.unwrap();
    let p = plan(PG, &desired(PG, &[("hba", rules)]), &before);
    let err = driver.apply(&p, false).await.unwrap_err();
    assert!(
        matches!(&err, DriverError::Rejected { name, reason } if name == "hba" && reason.contains("line 5")),
        "{err}"
    );
    driver.restore(&before, &p, false).await.unwrap();
    let restored = driver.observe().await.unwrap();
    assert_eq!(setting(&restored, "hba").raw, setting(&before, "hba").raw);
    let errors = blocking(|| pg.psql("SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL")).unwrap();
    assert_eq!(errors, "0");
}

// Redis

#[tokio::test(flavor = "multi_thread")]
async fn redis_change_survives_a_restart_because_it_was_rewritten() {
    let redis = blocking(RedisServer::start).unwrap();
    let driver = connect(redis_conn(&redis), Vec::new());
    let before = driver.observe().await.unwrap();
    assert!(before.settings.values().all(|s| !s.explicit), "nothing is dbfleet's yet");
    let d = desired(REDIS, &[("maxmemory", "64mb"), ("maxmemory-policy", "allkeys-lru")]);
    let p = plan(REDIS, &d, &before);
    assert_eq!(p.changes.len(), 2);
    let applied = driver.apply(&p, false).await.unwrap();
    assert_eq!(applied.changed, ["maxmemory", "maxmemory-policy"]);

    let file = std::fs::read_to_string(redis.config_file()).unwrap();
    assert!(
        file.contains("maxmemory 64mb") && file.contains("# dbfleet manages: maxmemory maxmemory-policy"),
        "{file}"
    );
    blocking(|| redis.restart()).unwrap();
    let after = driver.observe().await.unwrap();
    assert_eq!(setting(&after, "maxmemory").value, bytes(64 * MB));
    assert_eq!(setting(&after, "maxmemory-policy").value, Some(Typed::Str("allkeys-lru".into())));
    assert!(setting(&after, "maxmemory").explicit);
    assert!(plan(REDIS, &d, &after).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_out_of_band_config_set_is_drift_and_dropped_settings_reset() {
    let redis = blocking(RedisServer::start).unwrap();
    let driver = connect(redis_conn(&redis), Vec::new());
    let d = desired(REDIS, &[("maxmemory", "64mb"), ("hz", "20")]);
    driver.apply(&plan(REDIS, &d, &driver.observe().await.unwrap()), false).await.unwrap();

    blocking(|| redis.cli(&["CONFIG", "SET", "maxmemory", "1mb"])).unwrap();
    let drifted = driver.observe().await.unwrap();
    assert_eq!(setting(&drifted, "maxmemory").value, bytes(MB));
    let p = plan(REDIS, &d, &drifted);
    assert_eq!(
        p.changes.iter().map(|c| (c.name.as_str(), c.action)).collect::<Vec<_>>(),
        [("maxmemory", Action::Change)]
    );
    driver.apply(&p, false).await.unwrap();

    // Dropped from the fleet: reset to the default. The settings the server
    // was deployed with (port, bind, dir, ...) are not dbfleet's and stay.
    let only_hz = desired(REDIS, &[("hz", "20")]);
    let reset = plan(REDIS, &only_hz, &driver.observe().await.unwrap());
    assert_eq!(
        reset.changes.iter().map(|c| (c.name.as_str(), c.action)).collect::<Vec<_>>(),
        [("maxmemory", Action::Reset)]
    );
    driver.apply(&reset, false).await.unwrap();
    let after = driver.observe().await.unwrap();
    assert_eq!((setting(&after, "maxmemory").value.clone(), setting(&after, "maxmemory").explicit), (bytes(0), false));
    assert!(plan(REDIS, &only_hz, &after).is_empty());
    assert!(plan(REDIS, &Desired::default(), &after).changes.iter().all(|c| c.name == "hz"));
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_refused_value_changes_nothing_and_restore_keeps_it_so() {
    let redis = blocking(|| RedisServer::start_with_config_lines(&["maxmemory 2mb"])).unwrap();
    let driver = connect(redis_conn(&redis), Vec::new());
    let before = driver.observe().await.unwrap();
    let mut d = desired(REDIS, &[("maxmemory", "64mb")]);
    d.settings.insert("maxmemory-policy".into(), bad(REDIS, "maxmemory-policy", "bogus"));
    let p = plan(REDIS, &d, &before);

    let err = driver.apply(&p, false).await.unwrap_err();
    assert!(matches!(&err, DriverError::Rejected { name, .. } if name == "maxmemory-policy"), "{err}");
    let touched = ["maxmemory", "maxmemory-policy"];
    assert_eq!(
        pick(&driver.observe().await.unwrap(), &touched),
        pick(&before, &touched),
        "CONFIG SET is all or nothing"
    );

    driver.restore(&before, &p, false).await.unwrap();
    assert_eq!(pick(&driver.observe().await.unwrap(), &touched), pick(&before, &touched));
    assert_eq!(blocking(|| redis.cli(&["CONFIG", "GET", "maxmemory"])).unwrap(), "maxmemory\n2097152");
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_setting_read_at_start_goes_through_the_config_file_and_a_restart() {
    let redis = blocking(RedisServer::start).unwrap();
    let driver = connect(redis_conn(&redis), Vec::new());
    let before = driver.observe().await.unwrap();
    let d = desired(REDIS, &[("databases", "32")]);
    let p = plan(REDIS, &d, &before);
    assert!(p.needs_restart());
    let file_before = std::fs::read_to_string(redis.config_file()).unwrap();
    let err = driver.apply(&p, false).await.unwrap_err();
    assert!(matches!(err, DriverError::RestartNotAllowed), "{err}");
    assert_eq!(std::fs::read_to_string(redis.config_file()).unwrap(), file_before);

    let driver = connect(
        Connection { restart_command: Some(blocking(|| redis.restart_command())), ..redis_conn(&redis) },
        Vec::new(),
    );
    let applied = driver.apply(&p, true).await.unwrap();
    assert!(applied.restarted);
    let after = driver.observe().await.unwrap();
    assert_eq!(setting(&after, "databases").value, Some(Typed::Int(32)));
    assert!(std::fs::read_to_string(redis.config_file()).unwrap().contains("\ndatabases 32\n"));
    assert!(plan(REDIS, &d, &after).is_empty());
    assert!(redis.config_file().with_file_name("redis.conf.dbfleet.bak").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_killed_mid_apply_is_restored() {
    let redis = blocking(RedisServer::start).unwrap();
    let restart = blocking(|| redis.restart_command());
    let driver = connect(Connection { restart_command: Some(restart), ..redis_conn(&redis) }, Vec::new());
    let before = driver.observe().await.unwrap();
    let d = desired(REDIS, &[("maxmemory", "64mb"), ("databases", "32")]);
    let p = plan(REDIS, &d, &before);
    let touched = ["databases", "maxmemory"];

    blocking(|| redis.kill()).unwrap();
    let err = driver.apply(&p, true).await.unwrap_err();
    assert!(err.is_connection(), "{err}");
    blocking(|| redis.start_again()).unwrap();
    assert_eq!(pick(&driver.observe().await.unwrap(), &touched), pick(&before, &touched));

    // Killed once maxmemory is set and rewritten and databases written.
    let dying = connect(killing(redis_conn(&redis), &redis.dir().join("redis.pid")), Vec::new());
    let err = dying.apply(&p, true).await.unwrap_err();
    assert!(err.is_connection(), "{err}");
    blocking(|| redis.start_again()).unwrap();
    let revived = driver.observe().await.unwrap();
    assert_eq!(setting(&revived, "databases").value, Some(Typed::Int(32)), "it came back with the new values");

    let restored = driver.restore(&before, &p, true).await.unwrap();
    assert!(restored.restarted);
    assert_eq!(pick(&driver.observe().await.unwrap(), &touched), pick(&before, &touched));
}

/// The tenant `password`, which is not a catalog parameter: the renderers
/// read it by name.
fn password_parameter(section: &str) -> &'static dbfleet_catalog::Parameter {
    Box::leak(Box::new(dbfleet_catalog::Parameter {
        name: "password".into(),
        ty: dbfleet_catalog::ParamType::String,
        unit: None,
        min: None,
        max: None,
        default: None,
        values: Vec::new(),
        scope: dbfleet_catalog::ScopeSet::Tenant,
        apply: ApplyMethod::Reload,
        since: None,
        until: None,
        replaced_by: None,
        aliases: Vec::new(),
        section: section.into(),
        sensitive: true,
        read_only: false,
        description: String::new(),
    }))
}

/// Redis's rendered files for tenants, each with a password or none (an
/// `off` user), as the CLI renders them.
fn redis_acl_files(tenants: &[(&'static str, Option<&str>)]) -> Vec<dbfleet_render::RenderedFile> {
    let version: dbfleet_model::Version = "7.0".parse().unwrap();
    let password = password_parameter("main");
    let input = dbfleet_render::RenderInput {
        engine: REDIS,
        version: &version,
        instance: "redis-1",
        fleet: "test",
        revision: "test",
        annotate: false,
        settings: Vec::new(),
        tenants: tenants
            .iter()
            .map(|(t, pw)| dbfleet_render::TenantInput {
                tenant: t,
                settings: pw
                    .iter()
                    .map(|pw| dbfleet_render::Setting {
                        name: "password",
                        parameter: password,
                        value: dbfleet_render::RenderValue::Secret(pw.to_string().into()),
                        origin: None,
                    })
                    .collect(),
            })
            .collect(),
    };
    dbfleet_render::render(&input).unwrap()
}

/// The desired `users.acl` the CLI plans for `files`.
fn acl_desired(files: &[dbfleet_render::RenderedFile]) -> Desired {
    let (name, setting) = dbfleet_drivers::tenant_file_setting(REDIS, files).expect("a users.acl is rendered");
    assert_eq!(name, "users.acl");
    Desired { settings: BTreeMap::from([(name, setting)]), tenants: BTreeMap::new() }
}

fn acl_list(redis: &RedisServer) -> String {
    blocking(|| redis.cli(&["ACL", "LIST"])).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_acl_users_are_set_confined_persisted_and_put_back() {
    let redis = blocking(RedisServer::start).unwrap();
    blocking(|| redis.cli(&["ACL", "SETUSER", "stray", "on", "nopass", "~*", "+@all"])).unwrap();
    let files = redis_acl_files(&[("acme", Some("acme pass")), ("zeta", None)]);
    let driver = connect(redis_conn(&redis), files.clone());
    let before = driver.observe().await.unwrap();
    let listed_before = acl_list(&redis);
    let users = setting(&before, "users.acl");
    assert!(users.raw.contains("user stray") && !users.explicit, "{}", users.raw);
    assert!(
        !connect(redis_conn(&redis), Vec::new()).observe().await.unwrap().settings.contains_key("users.acl"),
        "observed only with a rendered users.acl"
    );

    let d = acl_desired(&files);
    let p = plan(REDIS, &d, &before);
    assert_eq!(
        p.changes.iter().map(|c| (c.name.as_str(), c.apply)).collect::<Vec<_>>(),
        [("users.acl", ApplyMethod::Reload)]
    );
    let shown = p.to_string();
    assert!(shown.contains("users.acl: (sensitive) -> (sensitive)") && !shown.contains("user "), "{shown}");

    let applied = driver.apply(&p, false).await.unwrap();
    assert_eq!(applied.changed, ["users.acl"]);
    let after = driver.observe().await.unwrap();
    assert!(plan(REDIS, &d, &after).is_empty(), "applying again changes nothing");
    let listed = acl_list(&redis);
    assert!(
        listed.contains("user acme on") && listed.contains("user zeta off") && !listed.contains("stray"),
        "{listed}"
    );

    // The tenant can log in and is confined to its keys.
    let as_acme = |args: &[&str]| {
        let mut all = vec!["--user", "acme", "--pass", "acme pass", "--no-auth-warning"];
        all.extend_from_slice(args);
        blocking(|| redis.cli(&all))
    };
    assert_eq!(as_acme(&["SET", "acme:k", "v"]).unwrap(), "OK");
    let refused = as_acme(&["SET", "other:k", "v"]).unwrap_err().to_string();
    assert!(refused.contains("NOPERM"), "{refused}");

    // Persisted by CONFIG REWRITE (no aclfile): still there after a restart.
    blocking(|| redis.restart()).unwrap();
    assert_eq!(acl_list(&redis), listed);
    assert!(plan(REDIS, &d, &driver.observe().await.unwrap()).is_empty());

    // Users changed behind dbfleet's back are drift.
    blocking(|| redis.cli(&["ACL", "SETUSER", "zeta", "on", "nopass"])).unwrap();
    assert_eq!(plan(REDIS, &d, &driver.observe().await.unwrap()).changes.len(), 1);

    // Put back with `reset` first, which Redis describes with
    // `sanitize-payload` (the users it started with have neither flag).
    driver.restore(&before, &p, false).await.unwrap();
    let put_back = || acl_list(&redis).replace(" sanitize-payload", "");
    assert_eq!(put_back(), listed_before, "the users from before are back");
    blocking(|| redis.restart()).unwrap();
    assert_eq!(put_back(), listed_before, "and persisted");
    assert_eq!(plan(REDIS, &d, &driver.observe().await.unwrap()).changes.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_acl_users_go_to_the_aclfile_and_a_refused_rule_is_reported_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let aclfile = dir.path().join("users.acl");
    std::fs::write(&aclfile, "").unwrap();
    let line = format!("aclfile {}", aclfile.display());
    let redis = blocking(|| RedisServer::start_with_config_lines(&[line.as_str()])).unwrap();
    let files = redis_acl_files(&[("acme", Some("acme pass")), ("beta", Some("beta pass"))]);
    let driver = connect(redis_conn(&redis), files.clone());
    let d = acl_desired(&files);
    let before = driver.observe().await.unwrap();
    let p = plan(REDIS, &d, &before);
    driver.apply(&p, false).await.unwrap();
    assert!(plan(REDIS, &d, &driver.observe().await.unwrap()).is_empty());
    let saved = std::fs::read_to_string(&aclfile).unwrap();
    assert!(saved.contains("user acme on") && saved.contains("user beta on"), "ACL SAVE wrote them: {saved}");

    // A password hash Redis refuses: the error names users.acl, not the hash.
    let mut bad = files.clone();
    let acl = bad.iter_mut().find(|f| f.path == "users.acl").unwrap();
    acl.contents.push_str("user gamma on #ABCDEF0123 ~gamma:*\n");
    let bad_driver = connect(redis_conn(&redis), bad.clone());
    let d = acl_desired(&bad);
    let p = plan(REDIS, &d, &bad_driver.observe().await.unwrap());
    let err = bad_driver.apply(&p, false).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(&err, DriverError::Rejected { name, .. } if name == "users.acl"), "{text}");
    assert!(text.contains("gamma") && !text.contains("ABCDEF0123"), "{text}");
    assert!(!acl_list(&redis).contains("gamma"));
}

// ClickHouse

/// A redis-server started with arguments only, no config file; killed on drop.
struct BareRedis(std::process::Child, u16);

impl Drop for BareRedis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_without_a_config_file_is_refused_before_anything_changes() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = std::process::Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--dir"])
        .arg(dir.path())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let redis = BareRedis(child, port);
    let driver = connect(connection(REDIS, "7.0", format!("127.0.0.1:{}", redis.1)), Vec::new());
    let deadline = Instant::now() + Duration::from_secs(20);
    let before = loop {
        match driver.observe().await {
            Ok(o) => break o,
            Err(e) if Instant::now() < deadline => drop(e),
            Err(e) => panic!("redis-server did not come up: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let p = plan(REDIS, &desired(REDIS, &[("maxmemory", "48mb")]), &before);
    let err = driver.apply(&p, false).await.unwrap_err();
    assert!(err.to_string().contains("runs without a config file"), "{err}");
    assert_eq!(pick(&driver.observe().await.unwrap(), &["maxmemory"]), pick(&before, &["maxmemory"]));
    // Nothing to put back, so restoring sends nothing and succeeds.
    let restored = driver.restore(&before, &p, false).await.unwrap();
    assert!(restored.changed.is_empty(), "{restored:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_over_tls_verifies_the_server() {
    let certs = test_certificates();
    let dir = certs.path();
    let tls_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let lines = [
        format!("tls-port {tls_port}"),
        format!("tls-cert-file {}", dir.join("server.crt").display()),
        format!("tls-key-file {}", dir.join("server.key").display()),
        format!("tls-ca-cert-file {}", dir.join("ca.crt").display()),
        "tls-auth-clients no".to_string(),
    ];
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let redis = blocking(|| RedisServer::start_with_config_lines(&lines)).unwrap();
    let tls = |ca: &str, insecure: bool| Connection {
        tls: Tls { enabled: true, ca: Some(dir.join(ca)), insecure },
        ..connection(REDIS, "7.0", format!("127.0.0.1:{tls_port}"))
    };
    let driver = connect(tls("ca.crt", false), Vec::new());
    let before = driver.observe().await.unwrap();
    assert_eq!(setting(&before, "tls-port").raw, tls_port.to_string());
    let p = plan(REDIS, &desired(REDIS, &[("maxmemory", "48mb")]), &before);
    driver.apply(&p, false).await.unwrap();
    assert_eq!(blocking(|| redis.cli(&["CONFIG", "GET", "maxmemory"])).unwrap().lines().nth(1), Some("50331648"));
    let err = connect(tls("other.crt", false), Vec::new()).observe().await.unwrap_err();
    assert!(err.is_connection(), "a server the CA did not sign is refused: {err}");
    connect(tls("other.crt", true), Vec::new()).observe().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn clickhouse_profile_change_is_taken_up_by_a_reload_and_restored() {
    let ch = blocking(ClickHouseServer::start).unwrap();
    let driver = connect(ch_conn(&ch), Vec::new());
    let before = driver.observe().await.unwrap();
    let d = desired(CH, &[("max_memory_usage", "5000000000"), ("max_threads", "3")]);
    let p = plan(CH, &d, &before);
    assert_eq!(p.changes.len(), 2);
    let applied = driver.apply(&p, false).await.unwrap();
    assert!(applied.reloaded && !applied.restarted);

    let file = std::fs::read_to_string(ch.users_d().join("dbfleet.xml")).unwrap();
    assert!(file.contains("<yandex>") && file.contains("<max_threads>3</max_threads>"), "{file}");
    let after = driver.observe().await.unwrap();
    assert_eq!(setting(&after, "max_memory_usage").value, bytes(5_000_000_000));
    assert_eq!(setting(&after, "max_threads").value, Some(Typed::Int(3)));
    assert!(setting(&after, "max_threads").explicit);
    let seen = blocking(|| ch.query("SELECT value FROM system.settings WHERE name = 'max_threads'")).unwrap();
    assert_eq!(seen, "3");
    assert!(plan(CH, &d, &after).is_empty());

    driver.restore(&before, &p, false).await.unwrap();
    let touched = ["max_memory_usage", "max_threads"];
    assert_eq!(pick(&driver.observe().await.unwrap(), &touched), pick(&before, &touched));
    assert!(!ch.users_d().join("dbfleet.xml").exists(), "nothing is left for dbfleet's file to hold");
}

#[tokio::test(flavor = "multi_thread")]
async fn clickhouse_values_it_would_misread_are_refused_before_anything_is_written() {
    let ch = blocking(ClickHouseServer::start).unwrap();
    let driver = connect(ch_conn(&ch), Vec::new());
    let before = driver.observe().await.unwrap();
    let cases = [
        // 18.16 would read it as 0: no limit at all.
        ("max_memory_usage", bad(CH, "max_memory_usage", "lots")),
        // Unknown to 18.16, which would then fail every query.
        ("allow_experimental_analyzer", want(CH, "allow_experimental_analyzer", "1")),
    ];
    for (name, setting) in cases {
        let d = Desired { settings: [(name.to_string(), setting)].into(), tenants: BTreeMap::new() };
        let err = driver.apply(&plan(CH, &d, &before), false).await.unwrap_err();
        assert!(matches!(&err, DriverError::Rejected { name: n, .. } if n == name), "{err}");
        assert!(!ch.users_d().join("dbfleet.xml").exists());
    }
    assert_eq!(driver.observe().await.unwrap().settings, before.settings);
}

#[tokio::test(flavor = "multi_thread")]
async fn clickhouse_tenant_changes_are_refused_and_nothing_needs_putting_back() {
    let ch = blocking(ClickHouseServer::start).unwrap();
    let driver = connect(ch_conn(&ch), Vec::new());
    let before = driver.observe().await.unwrap();
    let mut d = desired(CH, &[("max_threads", "3")]);
    d.tenants.insert("acme".into(), [("max_threads".to_string(), want(CH, "max_threads", "2"))].into());
    let p = plan(CH, &d, &before);
    let err = driver.apply(&p, false).await.unwrap_err();
    assert!(err.to_string().contains("tenant"), "{err}");
    assert!(!ch.users_d().join("dbfleet.xml").exists(), "nothing was written");
    // The rollout restores after a failed apply: with nothing changed, that
    // succeeds and leaves the server as it was.
    driver.restore(&before, &p, false).await.unwrap();
    assert_eq!(driver.observe().await.unwrap().settings, before.settings);
}

#[tokio::test(flavor = "multi_thread")]
async fn clickhouse_server_element_needs_a_restart() {
    let ch = blocking(ClickHouseServer::start).unwrap();
    let driver = connect(ch_conn(&ch), Vec::new());
    let before = driver.observe().await.unwrap();
    let d = desired(CH, &[("merge_tree.parts_to_throw_insert", "500")]);
    let p = plan(CH, &d, &before);
    assert!(p.needs_restart());
    let err = driver.apply(&p, false).await.unwrap_err();
    assert!(matches!(err, DriverError::RestartNotAllowed), "{err}");
    assert!(!ch.config_d().join("dbfleet.xml").exists());

    let driver =
        connect(Connection { restart_command: Some(blocking(|| ch.restart_command())), ..ch_conn(&ch) }, Vec::new());
    let applied = driver.apply(&p, true).await.unwrap();
    assert!(applied.restarted);
    let after = driver.observe().await.unwrap();
    let setting = setting(&after, "merge_tree.parts_to_throw_insert");
    assert_eq!((setting.value.clone(), setting.explicit), (Some(Typed::Int(500)), true));
    assert!(plan(CH, &d, &after).is_empty());

    let restored = driver.restore(&before, &p, true).await.unwrap();
    assert!(restored.restarted);
    let name = ["merge_tree.parts_to_throw_insert"];
    assert_eq!(pick(&driver.observe().await.unwrap(), &name), pick(&before, &name));
}

#[tokio::test(flavor = "multi_thread")]
async fn clickhouse_killed_mid_apply_is_restored() {
    let ch = blocking(ClickHouseServer::start).unwrap();
    let driver = connect(ch_conn(&ch), Vec::new());
    let before = driver.observe().await.unwrap();
    let d = desired(CH, &[("max_threads", "3")]);
    let p = plan(CH, &d, &before);

    blocking(|| ch.kill()).unwrap();
    let err = driver.apply(&p, false).await.unwrap_err();
    assert!(err.is_connection(), "{err}");
    assert!(!ch.users_d().join("dbfleet.xml").exists(), "nothing is written for a server that is down");

    // Killed after the restart-level change is written, before it is back.
    blocking(|| ch.start_again()).unwrap();
    let restart_level = desired(CH, &[("max_threads", "3"), ("merge_tree.parts_to_throw_insert", "500")]);
    let p = plan(CH, &restart_level, &before);
    let pid_file = ch.config_dir().parent().unwrap().join("clickhouse-server.pid");
    let dying = connect(killing(ch_conn(&ch), &pid_file), Vec::new());
    let err = dying.apply(&p, true).await.unwrap_err();
    assert!(err.is_connection(), "{err}");
    blocking(|| ch.start_again()).unwrap();
    let revived = driver.observe().await.unwrap();
    assert_eq!(setting(&revived, "merge_tree.parts_to_throw_insert").value, Some(Typed::Int(500)));

    let driver =
        connect(Connection { restart_command: Some(blocking(|| ch.restart_command())), ..ch_conn(&ch) }, Vec::new());
    driver.restore(&before, &p, true).await.unwrap();
    let touched = ["max_threads", "merge_tree.parts_to_throw_insert"];
    assert_eq!(pick(&driver.observe().await.unwrap(), &touched), pick(&before, &touched));
}

/// A tenant to render: name, password (or none), profile settings.
type ChTenant<'a> = (&'static str, Option<&'a str>, &'a [(&'static str, &'a str)]);

/// ClickHouse's rendered files for tenants, as the CLI renders them.
fn clickhouse_tenant_files(tenants: &[ChTenant<'_>]) -> Vec<dbfleet_render::RenderedFile> {
    let version: dbfleet_model::Version = "18.16.1".parse().unwrap();
    let password = password_parameter("users");
    let catalog = dbfleet_catalog::catalog(CH);
    let input = dbfleet_render::RenderInput {
        engine: CH,
        version: &version,
        instance: "ch-1",
        fleet: "test",
        revision: "test",
        annotate: false,
        settings: Vec::new(),
        tenants: tenants
            .iter()
            .map(|(t, pw, settings)| {
                let mut own: Vec<dbfleet_render::Setting<'static>> = settings
                    .iter()
                    .map(|(name, value)| {
                        let parameter = catalog.get(name).unwrap();
                        let typed = parameter.normalize(CH, &Value::String(value.to_string())).unwrap();
                        dbfleet_render::Setting {
                            name,
                            parameter,
                            value: dbfleet_render::RenderValue::Typed(typed),
                            origin: None,
                        }
                    })
                    .collect();
                own.extend(pw.iter().map(|pw| dbfleet_render::Setting {
                    name: "password",
                    parameter: password,
                    value: dbfleet_render::RenderValue::Secret(pw.to_string().into()),
                    origin: None,
                }));
                dbfleet_render::TenantInput { tenant: t, settings: own }
            })
            .collect(),
    };
    dbfleet_render::render(&input).unwrap()
}

/// The desired `tenants.xml` the CLI plans for `files`.
fn tenants_desired(files: &[dbfleet_render::RenderedFile]) -> Desired {
    let (name, setting) = dbfleet_drivers::tenant_file_setting(CH, files).expect("a tenants.xml is rendered");
    assert_eq!(name, "tenants.xml");
    Desired { settings: BTreeMap::from([(name, setting)]), tenants: BTreeMap::new() }
}

#[tokio::test(flavor = "multi_thread")]
async fn clickhouse_tenants_file_is_delivered_checked_and_put_back() {
    let ch = blocking(ClickHouseServer::start).unwrap();
    let files = clickhouse_tenant_files(&[("acme", Some("acme pass"), &[("max_threads", "2")]), ("zeta", None, &[])]);
    let driver = connect(ch_conn(&ch), files.clone());
    let before = driver.observe().await.unwrap();
    let tenants = setting(&before, "tenants.xml");
    assert!(tenants.raw.is_empty() && !tenants.explicit && tenants.digest.is_some(), "no file yet: {tenants:?}");
    assert!(
        !connect(ch_conn(&ch), Vec::new()).observe().await.unwrap().settings.contains_key("tenants.xml"),
        "observed only with a rendered tenants file or one in place"
    );

    let d = tenants_desired(&files);
    let p = plan(CH, &d, &before);
    assert_eq!(
        p.changes.iter().map(|c| (c.name.as_str(), c.apply)).collect::<Vec<_>>(),
        [("tenants.xml", ApplyMethod::Reload)]
    );
    let shown = p.to_string();
    assert!(shown.contains("tenants.xml: (sensitive) -> (sensitive)") && !shown.contains("password"), "{shown}");

    let applied = driver.apply(&p, false).await.unwrap();
    assert_eq!(applied.changed, ["tenants.xml"]);
    assert!(applied.reloaded);
    let path = ch.users_d().join("dbfleet-tenants.xml");
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(written.contains("<acme>") && written.contains("<yandex>"), "{written}");
    assert!(!ch.users_d().join("dbfleet.xml").exists(), "the instance's own file is not touched");

    // The tenant logs in with its password and runs with its profile.
    let as_acme = |password: &str| {
        blocking(|| ch.query_as("acme", password, "SELECT value FROM system.settings WHERE name = 'max_threads'"))
    };
    assert_eq!(as_acme("acme pass").unwrap(), "2");
    assert!(as_acme("wrong").is_err(), "a wrong password got in");
    assert!(blocking(|| ch.query_as("zeta", "", "SELECT 1")).is_err(), "zeta has no password but got in");

    let after = driver.observe().await.unwrap();
    assert!(plan(CH, &d, &after).is_empty(), "applying again changes nothing");
    // The same tenants rendered at another revision are no change.
    let mut other_revision = files.clone();
    for f in &mut other_revision {
        f.contents = f.contents.replace("revision test.", "revision 0123456789ab.");
    }
    assert!(plan(CH, &tenants_desired(&other_revision), &after).is_empty());

    // A snapshot from the state store keeps no text: the tenants cannot be
    // put back from it, and the file stays.
    let mut stored = before.clone();
    stored.settings.insert(
        "tenants.xml".into(),
        ObservedSetting {
            value: None,
            raw: "(sensitive)".into(),
            pending_restart: false,
            digest: None,
            explicit: false,
        },
    );
    let err = driver.restore(&stored, &p, false).await.unwrap_err();
    assert!(err.to_string().contains("tenants.xml"), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), written);

    // Restoring from the state observed before removes the file: the tenant
    // can no longer log in.
    driver.restore(&before, &p, false).await.unwrap();
    assert!(!path.exists());
    assert!(ch.users_d().join("dbfleet-tenants.xml.dbfleet.bak").exists(), "the previous file is kept");
    assert!(as_acme("acme pass").is_err(), "acme still logs in after the restore");
    assert_eq!(plan(CH, &d, &driver.observe().await.unwrap()).changes.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn clickhouse_tenants_file_changes_are_put_back_as_they_were() {
    let ch = blocking(ClickHouseServer::start).unwrap();
    let first = clickhouse_tenant_files(&[("acme", Some("acme pass"), &[("max_threads", "2")])]);
    let driver = connect(ch_conn(&ch), first.clone());
    let p = plan(CH, &tenants_desired(&first), &driver.observe().await.unwrap());
    driver.apply(&p, false).await.unwrap();

    // A second tenant and another profile: applied, then put back.
    let second = clickhouse_tenant_files(&[
        ("acme", Some("acme pass"), &[("max_threads", "3")]),
        ("beta", Some("beta pass"), &[]),
    ]);
    let driver = connect(ch_conn(&ch), second.clone());
    let before = driver.observe().await.unwrap();
    let p = plan(CH, &tenants_desired(&second), &before);
    assert_eq!(p.changes.len(), 1);
    driver.apply(&p, false).await.unwrap();
    let threads = |user: &str, pw: &str| {
        blocking(|| ch.query_as(user, pw, "SELECT value FROM system.settings WHERE name = 'max_threads'"))
    };
    assert_eq!(threads("acme", "acme pass").unwrap(), "3");
    assert_eq!(threads("beta", "beta pass").unwrap(), threads("default", "").unwrap());

    driver.restore(&before, &p, false).await.unwrap();
    assert_eq!(threads("acme", "acme pass").unwrap(), "2");
    assert!(threads("beta", "beta pass").is_err(), "beta is gone");
    assert!(plan(CH, &tenants_desired(&first), &driver.observe().await.unwrap()).is_empty());
}
