//! File delivery, for real, on the local filesystem: atomic writes with
//! backups and modes, reload and restart commands that are real shell
//! commands, restores after a failing reload, and the health probe against
//! a real TCP listener on 127.0.0.1. The files are PostgreSQL's (its
//! renderer and parser are complete), but nothing here depends on the
//! engine: the MongoDB, Elasticsearch, Neo4j and Cassandra drivers deliver
//! their static settings through the same code.

use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::time::Duration;

use dbfleet_catalog::catalog;
use dbfleet_drivers::{Connection, Driver, DriverError, FileDriver, Tls};
use dbfleet_model::{ApplyMethod, EngineKind, Value, Version};
use dbfleet_plan::{Desired, DesiredSetting, Observed, Plan};
use dbfleet_render::{RenderInput, RenderValue, RenderedFile, Setting};

const ENGINE: EngineKind = EngineKind::Postgresql;

/// A configuration directory, and a listener that stands for the server so
/// that the health probe has something to connect to.
struct Server {
    dir: tempfile::TempDir,
    listener: TcpListener,
}

impl Server {
    fn new() -> Server {
        Server { dir: tempfile::tempdir().unwrap(), listener: TcpListener::bind("127.0.0.1:0").unwrap() }
    }

    fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }

    fn read(&self, name: &str) -> Option<String> {
        std::fs::read_to_string(self.path(name)).ok()
    }

    fn mode(&self, name: &str) -> u32 {
        std::fs::metadata(self.path(name)).unwrap().permissions().mode() & 0o777
    }

    /// Connection settings with the given commands, each a shell script
    /// that gets the configuration directory as `$1`.
    fn conn(&self, reload: Option<&str>, restart: Option<&str>) -> Connection {
        let script =
            |s: &str| vec!["sh".into(), "-c".into(), s.into(), "sh".into(), self.dir.path().display().to_string()];
        Connection {
            engine: ENGINE,
            version: version(),
            address: self.listener.local_addr().unwrap().to_string(),
            user: None,
            password: None,
            tls: Tls::default(),
            restart_command: restart.map(script),
            reload_command: reload.map(script),
            config_dir: Some(self.dir.path().to_path_buf()),
            ready_timeout: Duration::from_secs(5),
        }
    }

    fn driver(&self, reload: Option<&str>, restart: Option<&str>, pairs: &[(&str, &str)]) -> FileDriver {
        FileDriver::new(self.conn(reload, restart), render(pairs))
    }
}

fn version() -> Version {
    "16".parse().unwrap()
}

/// PostgreSQL's rendered files for these settings.
fn render(pairs: &[(&str, &str)]) -> Vec<RenderedFile> {
    let version = version();
    let settings = pairs
        .iter()
        .map(|(name, value)| {
            let parameter = catalog(ENGINE).get(name).unwrap();
            let typed = parameter.normalize(ENGINE, &Value::String(value.to_string())).unwrap();
            Setting { name: &parameter.name, parameter, value: RenderValue::Typed(typed), origin: None }
        })
        .collect();
    let input = RenderInput {
        engine: ENGINE,
        version: &version,
        instance: "db-1",
        fleet: "acme",
        revision: "test",
        annotate: false,
        settings,
        tenants: Vec::new(),
    };
    dbfleet_render::render(&input).unwrap()
}

/// The plan that takes `observed` to these settings.
fn plan(pairs: &[(&str, &str)], observed: &Observed) -> Plan {
    let settings = pairs
        .iter()
        .map(|(name, value)| {
            let parameter = catalog(ENGINE).get(name).unwrap();
            let typed = parameter.normalize(ENGINE, &Value::String(value.to_string())).unwrap();
            let native = parameter.format_native(ENGINE, &typed);
            let want =
                DesiredSetting { value: Some(typed), native, apply: parameter.apply, sensitive: false, origin: None };
            (name.to_string(), want)
        })
        .collect();
    let desired = Desired { settings, tenants: Default::default() };
    dbfleet_plan::plan("db-1", ENGINE, &desired, observed, |n| {
        catalog(ENGINE).get(n).map_or(ApplyMethod::Restart, |p| p.apply)
    })
}

/// Files in the directory that are neither managed nor backups: left-over
/// temporary files.
fn strays(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.retain(|n| n.contains(".tmp"));
    names
}

const RELOAD_OK: &str = r#"echo reloaded >> "$1/reloads""#;
const RESTART_OK: &str = r#"echo restarted >> "$1/restarts""#;

#[tokio::test]
async fn writes_atomically_keeping_a_backup_and_reads_back() {
    let server = Server::new();
    std::fs::write(server.path("postgresql.conf"), "work_mem = 4MB\n").unwrap();
    let want = [("work_mem", "64MB"), ("log_min_duration_statement", "250ms")];
    let driver = server.driver(Some(RELOAD_OK), None, &want);

    let before = driver.observe().await.unwrap();
    assert_eq!(before.settings["work_mem"].raw, "4MB");
    assert!(before.settings["work_mem"].explicit, "a setting in dbfleet's file is explicit");
    let plan = plan(&want, &before);
    assert_eq!(plan.changes.len(), 2);

    let applied = driver.apply(&plan, false).await.unwrap();
    assert!(applied.reloaded && !applied.restarted, "{applied:?}");
    assert_eq!(applied.changed, ["log_min_duration_statement", "work_mem"]);
    assert_eq!(server.read("postgresql.conf").unwrap(), render(&want)[0].contents);
    assert_eq!(server.read("postgresql.conf.dbfleet.bak").unwrap(), "work_mem = 4MB\n");
    assert_eq!(server.read("reloads").unwrap(), "reloaded\n");
    assert_eq!(server.mode("postgresql.conf"), 0o644);
    assert!(strays(server.dir.path()).is_empty(), "{:?}", strays(server.dir.path()));

    // Verification is observing again and planning: nothing is left.
    let after = driver.observe().await.unwrap();
    assert!(plan_is_empty(&want, &after), "{}", self::plan(&want, &after));
    // Applying the same plan again writes nothing and reloads nothing.
    let again = driver.apply(&self::plan(&want, &after), false).await.unwrap();
    assert_eq!(again, dbfleet_drivers::Applied::default());
    assert_eq!(server.read("reloads").unwrap(), "reloaded\n");
}

fn plan_is_empty(pairs: &[(&str, &str)], observed: &Observed) -> bool {
    plan(pairs, observed).is_empty()
}

#[tokio::test]
async fn sensitive_files_are_written_0600_and_others_0644() {
    let server = Server::new();
    let files = vec![
        RenderedFile { path: "postgresql.conf".into(), contents: "work_mem = 8MB\n".into(), sensitive: false },
        RenderedFile {
            path: "secrets/ssl.conf".into(),
            contents: "ssl_key_passphrase = 'x'\n".into(),
            sensitive: true,
        },
    ];
    // An existing file with a wider mode gets the mode it should have.
    std::fs::write(server.path("postgresql.conf"), "work_mem = 4MB\n").unwrap();
    std::fs::set_permissions(server.path("postgresql.conf"), std::fs::Permissions::from_mode(0o666)).unwrap();
    let driver = FileDriver::new(server.conn(Some(RELOAD_OK), None), files);
    let plan = plan(&[("work_mem", "8MB")], &driver.observe().await.unwrap());
    driver.apply(&plan, false).await.unwrap();
    assert_eq!(server.mode("postgresql.conf"), 0o644);
    assert_eq!(server.mode("secrets/ssl.conf"), 0o600);
    assert_eq!(server.mode("postgresql.conf.dbfleet.bak"), 0o666, "a backup keeps the old file's mode");
    assert!(server.path("secrets/ssl.conf.dbfleet.new").exists(), "a file that did not exist is marked new");
}

#[tokio::test]
async fn a_failing_reload_fails_the_apply_and_restore_puts_the_backup_back() {
    let server = Server::new();
    let original = "# hand-written\nwork_mem = 4MB\n";
    std::fs::write(server.path("postgresql.conf"), original).unwrap();
    // The "server" refuses the new file and accepts the old one.
    let reload = r#"if grep -q 999MB "$1/postgresql.conf"; then echo "invalid value for work_mem" >&2; exit 3; fi; echo reloaded >> "$1/reloads""#;
    let want = [("work_mem", "999MB")];
    let driver = server.driver(Some(reload), None, &want);
    let before = driver.observe().await.unwrap();
    let plan = plan(&want, &before);

    let error = driver.apply(&plan, false).await.unwrap_err();
    match &error {
        DriverError::Command { reason, .. } => {
            assert!(reason.contains("status 3") && reason.contains("invalid value for work_mem"), "{reason}")
        }
        other => panic!("expected a command failure, got {other:?}"),
    }
    assert!(server.read("postgresql.conf").unwrap().contains("999MB"));
    assert_eq!(server.read("reloads"), None);

    let restored = driver.restore(&before, &plan, false).await.unwrap();
    assert!(restored.reloaded, "{restored:?}");
    assert_eq!(server.read("postgresql.conf").unwrap(), original);
    assert_eq!(server.read("reloads").unwrap(), "reloaded\n");
    assert!(!server.path("postgresql.conf.dbfleet.bak").exists(), "the backup is what was put back");
    assert_eq!(driver.observe().await.unwrap().settings["work_mem"], before.settings["work_mem"]);
}

#[tokio::test]
async fn restore_removes_a_file_that_did_not_exist() {
    let server = Server::new();
    let want = [("work_mem", "8MB")];
    let driver = server.driver(Some(RELOAD_OK), None, &want);
    let before = driver.observe().await.unwrap();
    assert!(before.settings.is_empty());
    let plan = plan(&want, &before);
    driver.apply(&plan, false).await.unwrap();
    assert!(server.path("postgresql.conf").exists());
    driver.restore(&before, &plan, false).await.unwrap();
    assert!(!server.path("postgresql.conf").exists());
    assert!(!server.path("postgresql.conf.dbfleet.new").exists());
    assert_eq!(server.read("reloads").unwrap(), "reloaded\nreloaded\n");
}

#[tokio::test]
async fn a_restart_that_is_not_allowed_stays_pending_until_one_is() {
    let server = Server::new();
    std::fs::write(server.path("postgresql.conf"), "shared_buffers = 128MB\n").unwrap();
    let want = [("shared_buffers", "1GB")];
    let driver = server.driver(None, Some(RESTART_OK), &want);
    let plan1 = plan(&want, &driver.observe().await.unwrap());

    let applied = driver.apply(&plan1, false).await.unwrap();
    assert_eq!(applied.pending_restart, ["shared_buffers"]);
    assert!(!applied.restarted);
    assert_eq!(server.read("restarts"), None);
    assert!(server.read("postgresql.conf").unwrap().contains("shared_buffers = 1GB"));

    // The server still runs 128MB, and says so until it restarts.
    let waiting = driver.observe().await.unwrap();
    let shared_buffers = &waiting.settings["shared_buffers"];
    assert_eq!((shared_buffers.raw.as_str(), shared_buffers.pending_restart), ("128MB", true));
    let plan2 = plan(&want, &waiting);
    assert_eq!(plan2.changes.len(), 1, "{plan2}");

    // The file is already right; the restart is what is left to do.
    let applied = driver.apply(&plan2, true).await.unwrap();
    assert!(applied.restarted && applied.pending_restart.is_empty(), "{applied:?}");
    assert_eq!(server.read("restarts").unwrap(), "restarted\n");
    let after = driver.observe().await.unwrap();
    assert!(!after.settings["shared_buffers"].pending_restart);
    assert!(plan_is_empty(&want, &after));
}

#[tokio::test]
async fn a_needed_restart_without_a_command_changes_nothing() {
    let server = Server::new();
    std::fs::write(server.path("postgresql.conf"), "max_connections = 100\n").unwrap();
    let want = [("max_connections", "200")];
    let driver = server.driver(None, None, &want);
    let before = driver.observe().await.unwrap();
    let plan = plan(&want, &before);
    let error = driver.apply(&plan, true).await.unwrap_err();
    assert!(matches!(error, DriverError::NoRestartCommand { .. }), "{error:?}");
    assert_eq!(server.read("postgresql.conf").unwrap(), "max_connections = 100\n");
    // The caller restores after any error; here that finds nothing to undo.
    let restored = driver.restore(&before, &plan, true).await.unwrap();
    assert!(!restored.restarted);
    assert_eq!(server.read("postgresql.conf").unwrap(), "max_connections = 100\n");
}

#[tokio::test]
async fn the_health_probe_fails_when_nothing_listens_after_a_restart() {
    let server = Server::new();
    let mut conn = server.conn(None, Some(RESTART_OK));
    // A port that was free a moment ago, and now has no listener.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    conn.address = closed.local_addr().unwrap().to_string();
    drop(closed);
    conn.ready_timeout = Duration::from_millis(300);
    let want = [("max_connections", "200")];
    let driver = FileDriver::new(conn, render(&want));
    let plan = plan(&want, &driver.observe().await.unwrap());
    let error = driver.apply(&plan, true).await.unwrap_err();
    assert!(
        matches!(&error, DriverError::Unreachable { reason, .. } if reason.contains("not accepting connections")),
        "{error:?}"
    );
    assert_eq!(server.read("restarts").unwrap(), "restarted\n", "the probe runs after the restart command");
}

#[tokio::test]
async fn a_command_that_hangs_is_stopped_at_the_ready_timeout() {
    let server = Server::new();
    let mut conn = server.conn(Some("exec sleep 30"), None);
    conn.ready_timeout = Duration::from_millis(300);
    let want = [("work_mem", "8MB")];
    let driver = FileDriver::new(conn, render(&want));
    let plan = plan(&want, &driver.observe().await.unwrap());
    let started = std::time::Instant::now();
    let error = driver.apply(&plan, false).await.unwrap_err();
    assert!(matches!(&error, DriverError::Command { reason, .. } if reason.contains("did not finish")), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn secrets_already_in_place_restart_nothing() {
    let server = Server::new();
    let want = [("max_connections", "200")];
    let driver = server.driver(None, Some(RESTART_OK), &want);
    driver.apply(&plan(&want, &driver.observe().await.unwrap()), true).await.unwrap();
    assert_eq!(server.read("restarts").unwrap(), "restarted\n");
    // A server that hides a secret makes every plan re-send it; with the
    // files already holding it, nothing is written or restarted.
    let mut resend = plan(&want, &Observed::default());
    for c in &mut resend.changes {
        c.sensitive = true;
    }
    let applied = driver.apply(&resend, true).await.unwrap();
    assert!(!applied.restarted, "{applied:?}");
    assert_eq!(server.read("restarts").unwrap(), "restarted\n");
}

#[tokio::test]
async fn paths_that_leave_the_directory_are_refused() {
    let server = Server::new();
    let files = vec![RenderedFile { path: "../escape.conf".into(), contents: String::new(), sensitive: false }];
    let driver = FileDriver::new(server.conn(Some(RELOAD_OK), None), files);
    let error = driver.observe().await.unwrap_err();
    assert!(error.to_string().contains("outside"), "{error}");
    assert!(!server.dir.path().parent().unwrap().join("escape.conf").exists());
}
