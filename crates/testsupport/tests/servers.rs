//! Starts every kind of real server, uses, restarts, kills and revives it,
//! starts several at once, and checks that nothing is left behind, even
//! when the test panics or its process aborts.
//!
//! These need the engines installed (`scripts/install-deps.sh`); without them
//! they fail with `Error::Missing` instead of passing vacuously.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use dbfleet_testsupport::{BaoServer, ClickHouseServer, Error, PgOptions, PgServer, RedisServer};

/// Runs an argv the way a control plane would.
fn run_argv(argv: &[String]) {
    let status = Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "{argv:?} failed: {status}");
}

/// Waits until `path` no longer exists (cleanup finished).
fn wait_gone(path: &Path) -> bool {
    let deadline = Instant::now() + Duration::from_secs(20);
    while path.exists() {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// Pids of processes whose working directory is inside `dir`.
fn processes_in(dir: &Path) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let cwd = std::fs::read_link(e.path().join("cwd")).ok()?;
            cwd.starts_with(dir).then_some(pid)
        })
        .collect()
}

#[test]
fn postgres_lifecycle() {
    let pg = PgServer::start().unwrap();
    assert_eq!(pg.psql("SELECT 1").unwrap(), "1");
    assert_eq!(pg.host(), "127.0.0.1");
    assert_eq!(pg.user(), "postgres");
    assert!(pg.connection_string().contains(&format!("port={}", pg.port())));
    assert!(pg.config_file().ends_with("data/postgresql.conf") && pg.config_file().exists());
    assert!(pg.socket_dir().join(format!(".s.PGSQL.{}", pg.port())).exists());
    assert_eq!(pg.psql("SHOW data_directory").unwrap(), pg.data_dir().to_str().unwrap());
    let port = pg.port();

    // Restart keeps the port; a pending_restart setting takes effect.
    pg.psql("ALTER SYSTEM SET max_connections = 42").unwrap();
    pg.psql("SELECT pg_reload_conf()").unwrap();
    pg.restart().unwrap();
    assert_eq!(pg.port(), port);
    assert_eq!(pg.psql("SHOW max_connections").unwrap(), "42");

    // The restart command works from outside, too.
    let argv = pg.restart_command();
    assert!(argv.iter().any(|a| a.ends_with("/pg_ctl")), "{argv:?}");
    assert!(argv.iter().any(|a| a == "restart"), "{argv:?}");
    let before = pg.psql("SELECT pg_postmaster_start_time()").unwrap();
    run_argv(&argv);
    pg.wait_ready().unwrap();
    assert_ne!(pg.psql("SELECT pg_postmaster_start_time()").unwrap(), before);

    pg.stop().unwrap();
    assert!(!pg.is_running());
    assert!(matches!(pg.psql("SELECT 1"), Err(Error::NotRunning { .. })));
    pg.start_again().unwrap();
    assert_eq!(pg.psql("SELECT 2").unwrap(), "2");

    // A crash: the postmaster is killed, and the next start recovers.
    pg.psql("CREATE TABLE t AS SELECT 7 AS x").unwrap();
    pg.kill().unwrap();
    assert!(!pg.is_running());
    pg.start_again().unwrap();
    assert_eq!(pg.psql("SELECT x FROM t").unwrap(), "7");
    assert!(pg.log_tail().contains("database system was interrupted"), "{}", pg.log_tail());

    let bad = pg.psql("SELEC 1").unwrap_err();
    assert!(bad.to_string().contains("syntax error"), "{bad}");
}

#[test]
fn postgres_options() {
    let pg = PgServer::start_with(
        PgOptions::new()
            .setting("work_mem", "5MB")
            .setting("application_name", "it's quoted")
            .conf_line("shared_buffers = '32MB'"),
    )
    .unwrap();
    assert_eq!(pg.psql("SHOW work_mem").unwrap(), "5MB");
    assert_eq!(pg.psql("SHOW application_name").unwrap(), "psql"); // psql sets its own
    assert_eq!(pg.psql("SELECT boot_val <> reset_val FROM pg_settings WHERE name = 'application_name'").unwrap(), "t");
    assert_eq!(pg.psql("SHOW shared_buffers").unwrap(), "32MB");
    assert_eq!(pg.psql("SELECT source FROM pg_settings WHERE name = 'work_mem'").unwrap(), "command line");
    // Command-line settings survive a restart.
    pg.restart().unwrap();
    assert_eq!(pg.psql("SHOW work_mem").unwrap(), "5MB");
}

#[test]
fn redis_lifecycle() {
    let redis = RedisServer::start().unwrap();
    assert_eq!(redis.cli(&["PING"]).unwrap(), "PONG");
    assert_eq!(redis.url(), format!("redis://127.0.0.1:{}", redis.port()));
    let config = std::fs::read_to_string(redis.config_file()).unwrap();
    assert!(config.contains(&format!("port {}", redis.port())), "{config}");
    assert_eq!(redis.cli(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]).unwrap(), "OK");
    assert_eq!(redis.cli(&["CONFIG", "REWRITE"]).unwrap(), "OK");
    assert!(std::fs::read_to_string(redis.config_file()).unwrap().contains("allkeys-lru"));
    assert!(matches!(redis.cli(&["NOSUCHCOMMAND"]), Err(Error::Command { .. })));

    redis.cli(&["SET", "k", "v"]).unwrap();
    assert_eq!(redis.cli(&["GET", "k"]).unwrap(), "v");
    let port = redis.port();
    redis.restart().unwrap();
    assert_eq!(redis.port(), port);
    assert_eq!(redis.cli(&["GET", "k"]).unwrap(), "", "no persistence: the key is gone");
    // CONFIG REWRITE went to the file the server restarts from.
    assert_eq!(redis.cli(&["CONFIG", "GET", "maxmemory-policy"]).unwrap(), "maxmemory-policy\nallkeys-lru");

    run_argv(&redis.restart_command());
    redis.wait_ready().unwrap();
    assert_eq!(redis.cli(&["PING"]).unwrap(), "PONG");

    redis.stop().unwrap();
    assert!(!redis.is_running());
    redis.start_again().unwrap();
    redis.kill().unwrap();
    assert!(!redis.is_running());
    assert!(matches!(redis.cli(&["PING"]), Err(Error::NotRunning { .. })));
    redis.start_again().unwrap();
    assert_eq!(redis.cli(&["PING"]).unwrap(), "PONG");
}

#[test]
fn redis_config_lines() {
    let redis = RedisServer::start_with_config_lines(&["maxmemory 64mb", "databases 4"]).unwrap();
    assert_eq!(redis.cli(&["CONFIG", "GET", "maxmemory"]).unwrap(), "maxmemory\n67108864");
    assert_eq!(redis.cli(&["CONFIG", "GET", "databases"]).unwrap(), "databases\n4");
}

#[test]
fn clickhouse_lifecycle() {
    let ch = ClickHouseServer::start().unwrap();
    assert_eq!(ch.query("SELECT 1").unwrap(), "1");
    assert_eq!(ch.query("SELECT version()").unwrap(), "18.16.1");
    assert!(ch.config_file().exists() && ch.users_file().exists());
    assert!(ch.config_d().is_dir() && ch.users_d().is_dir());
    assert_eq!(ch.http_url(), format!("http://127.0.0.1:{}", ch.http_port()));
    match ch.query("SELEC 1") {
        Err(Error::Http { status, body, .. }) => {
            assert_eq!(status, 400, "18.16 answers syntax errors with 400");
            assert!(body.contains("Syntax error"), "{body}");
        }
        other => panic!("expected an HTTP error, got {other:?}"),
    }

    // config.d and users.d are merged by the server.
    std::fs::write(ch.config_d().join("macros.xml"), "<yandex><macros><shard>07</shard></macros></yandex>").unwrap();
    std::fs::write(
        ch.users_d().join("threads.xml"),
        "<yandex><profiles><default><max_threads>3</max_threads></default></profiles></yandex>",
    )
    .unwrap();
    let ports = (ch.http_port(), ch.tcp_port());
    ch.restart().unwrap();
    assert_eq!((ch.http_port(), ch.tcp_port()), ports);
    assert_eq!(ch.query("SELECT substitution FROM system.macros WHERE macro = 'shard'").unwrap(), "07");
    assert_eq!(ch.query("SELECT value FROM system.settings WHERE name = 'max_threads'").unwrap(), "3");

    run_argv(&ch.restart_command());
    ch.wait_ready().unwrap();
    assert_eq!(ch.query("SELECT 1").unwrap(), "1");

    ch.kill().unwrap();
    assert!(!ch.is_running());
    ch.start_again().unwrap();
    assert_eq!(ch.query("SELECT 2").unwrap(), "2");
    ch.stop().unwrap();
    assert!(!ch.is_running());
    ch.start_again().unwrap();
    assert_eq!(ch.query("SELECT 3").unwrap(), "3");
}

#[test]
fn bao_lifecycle() {
    let bao = BaoServer::start().unwrap();
    assert_eq!(bao.root_token(), "root");
    assert_eq!(bao.address(), format!("http://127.0.0.1:{}", bao.port()));
    bao.kv_put("app/db", &[("user", "fleet"), ("password", "s3cr\"et")]).unwrap();
    let got = bao.kv_get("app/db").unwrap().unwrap();
    assert_eq!(got["user"], "fleet");
    assert_eq!(got["password"], "s3cr\"et");
    assert_eq!(bao.kv_get("app/none").unwrap(), None);
    assert_eq!(bao.request("GET", "/v1/sys/health", "").unwrap().status, 200);

    let port = bao.port();
    bao.restart().unwrap();
    assert_eq!(bao.port(), port);
    assert_eq!(bao.kv_get("app/db").unwrap(), None, "dev mode forgets on restart");

    bao.kill().unwrap();
    assert!(!bao.is_running());
    bao.start_again().unwrap();
    bao.kv_put("x", &[("k", "v")]).unwrap();
    assert_eq!(bao.kv_get("x").unwrap().unwrap()["k"], "v");
    bao.stop().unwrap();
    assert!(!bao.is_running());
}

/// Three of each, all started at once from separate threads.
#[test]
fn parallel_starts() {
    let mut threads = Vec::new();
    for _ in 0..3 {
        threads.push(std::thread::spawn(|| {
            let pg = PgServer::start().unwrap();
            assert_eq!(pg.psql("SELECT 1").unwrap(), "1");
            vec![pg.port()]
        }));
        threads.push(std::thread::spawn(|| {
            let redis = RedisServer::start().unwrap();
            assert_eq!(redis.cli(&["PING"]).unwrap(), "PONG");
            vec![redis.port()]
        }));
        threads.push(std::thread::spawn(|| {
            let ch = ClickHouseServer::start().unwrap();
            assert_eq!(ch.query("SELECT 1").unwrap(), "1");
            vec![ch.http_port(), ch.tcp_port()]
        }));
        threads.push(std::thread::spawn(|| {
            let bao = BaoServer::start().unwrap();
            bao.kv_put("p", &[("k", "v")]).unwrap();
            vec![bao.port(), bao.port() + 1]
        }));
    }
    // The servers ran concurrently (each thread holds its server until it
    // returns), so their ports must all differ.
    let ports: Vec<u16> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    let distinct: BTreeSet<u16> = ports.iter().copied().collect();
    assert_eq!(distinct.len(), ports.len(), "{ports:?}");
}

/// A panicking test still stops its server and removes its dir.
#[test]
fn panic_cleans_up() {
    let (tx, rx) = std::sync::mpsc::channel();
    let result = std::thread::spawn(move || {
        let redis = RedisServer::start().unwrap();
        tx.send(redis.dir().to_owned()).unwrap();
        panic!("test failure while a server runs");
    })
    .join();
    assert!(result.is_err());
    let dir: PathBuf = rx.recv().unwrap();
    assert!(!dir.exists(), "{} left behind", dir.display());
    assert!(processes_in(&dir).is_empty());
}

/// Dropping waits until the server's processes have exited.
#[test]
fn drop_cleans_up() {
    let pg = PgServer::start().unwrap();
    let dir = pg.socket_dir().to_owned();
    assert!(!processes_in(&dir).is_empty());
    drop(pg);
    assert!(!dir.exists());
    assert!(processes_in(&dir).is_empty());
}

const ABORT_HELPER_ENV: &str = "DBFLEET_TESTSUPPORT_ABORT_HELPER";

/// Not a test on its own: run by `abort_cleans_up` in a child process, where
/// it starts a server and aborts, so that no destructor runs.
#[test]
fn abort_helper() {
    if std::env::var_os(ABORT_HELPER_ENV).is_none() {
        return;
    }
    let pg = PgServer::start().unwrap();
    let pid_file = std::fs::read_to_string(pg.data_dir().join("postmaster.pid")).unwrap();
    let shmid = pid_file.lines().nth(6).unwrap().split_whitespace().nth(1).unwrap().to_owned();
    println!("DIR={}", pg.socket_dir().display());
    println!("SHMID={shmid}");
    std::process::abort();
}

/// The guard process cleans up after a test process that died without
/// unwinding.
#[test]
fn abort_cleans_up() {
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "abort_helper", "--nocapture", "--test-threads=1"])
        .env(ABORT_HELPER_ENV, "1")
        .stderr(Stdio::null())
        .output()
        .unwrap();
    assert!(!output.status.success(), "the helper should have aborted");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let field = |name: &str| {
        stdout
            .lines()
            // libtest prints `test abort_helper ... ` before the output.
            .find_map(|l| l.split_once(name).map(|(_, value)| value))
            .unwrap_or_else(|| panic!("no {name} in {stdout}"))
            .to_owned()
    };
    let dir = PathBuf::from(field("DIR="));
    let shmid = field("SHMID=");
    assert!(wait_gone(&dir), "{} left behind", dir.display());
    assert!(processes_in(&dir).is_empty());
    // `ipcs -m -i ID` exits 0 even for an unknown id: look at the list.
    let list = Command::new("ipcs").arg("-m").output().unwrap();
    let list = String::from_utf8_lossy(&list.stdout);
    assert!(
        !list.lines().any(|l| l.split_whitespace().nth(1) == Some(shmid.as_str())),
        "shared memory segment {shmid} left behind:\n{list}"
    );
}

#[test]
fn missing_binary_error_says_what_to_do() {
    let err = Error::Missing { what: "redis-server".into(), hint: dbfleet_testsupport::INSTALL_HINT };
    assert_eq!(err.to_string(), "redis-server is missing: run scripts/install-deps.sh");
}
