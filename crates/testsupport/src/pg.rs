//! Throwaway PostgreSQL 15 servers: `initdb` into a temp dir, `pg_ctl` to
//! run them, trust authentication on 127.0.0.1 for the `postgres` role.
//!
//! initdb and the postmaster refuse to run as root, so when the tests run as
//! root (as they do on the project's machines) every PostgreSQL command runs
//! through `runuser -u postgres --`, and the temp dir belongs to `postgres`.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use nix::unistd::{User, geteuid};

use crate::daemon::{self, Daemon, Spec};
use crate::error::{Error, Result};
use crate::ports;
use crate::process::{self, is_executable, require_executable, shell_quote};
use crate::scratch::Scratch;

/// Where Debian puts the PostgreSQL 15 server binaries.
pub const PG_BIN_DIR: &str = "/usr/lib/postgresql/15/bin";
/// The OS user the server runs as when we are root, and the superuser role.
const USER: &str = "postgres";

/// A postmaster killed with SIGKILL leaves its small SysV shared memory
/// segment behind (only a clean postmaster exit, or the next start in the
/// same data dir, removes it). Its id is the second field on line 7 of
/// postmaster.pid. Remove it if nobody is attached any more, so that crash
/// tests do not slowly exhaust the system's segments.
const SHM_CLEANUP: &str = r#"f="$1/data/postmaster.pid"
[ -f "$f" ] || exit 0
id=$(sed -n 7p "$f" | awk '{print $2}')
[ -n "$id" ] && ipcs -m -i "$id" 2>/dev/null | grep -q 'nattch=0' && ipcrm -m "$id"
exit 0"#;

/// Extra configuration for [`PgServer::start_with`].
#[derive(Debug, Clone, Default)]
pub struct PgOptions {
    settings: Vec<(String, String)>,
    conf_lines: Vec<String>,
}

impl PgOptions {
    /// No extra configuration.
    pub fn new() -> Self {
        Self::default()
    }

    /// A `-c name=value` on the postgres command line. Command-line settings
    /// beat postgresql.conf and `ALTER SYSTEM`, and stay across restarts.
    pub fn setting(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.settings.push((name.into(), value.into()));
        self
    }

    /// A line appended to postgresql.conf after initdb, e.g.
    /// `"shared_buffers = '32MB'"`; a control plane may change it later.
    pub fn conf_line(mut self, line: impl Into<String>) -> Self {
        self.conf_lines.push(line.into());
        self
    }
}

/// A throwaway PostgreSQL 15 server on `127.0.0.1`, stopped and deleted on
/// drop.
pub struct PgServer {
    daemon: Daemon,
    psql: PathBuf,
    data_dir: PathBuf,
    config_file: PathBuf,
    log_file: PathBuf,
}

impl PgServer {
    /// Initializes a cluster in a temp dir and starts it on a free port.
    pub fn start() -> Result<PgServer> {
        Self::start_with(PgOptions::new())
    }

    /// Like [`PgServer::start`], with extra settings.
    pub fn start_with(options: PgOptions) -> Result<PgServer> {
        let bin = Path::new(PG_BIN_DIR);
        for name in ["initdb", "pg_ctl", "postgres"] {
            if !is_executable(&bin.join(name)) {
                return Err(Error::missing(bin.join(name).display().to_string()));
            }
        }
        let psql = require_executable("psql", &[bin.to_owned()])?;
        let (as_postgres, owner) = if geteuid().is_root() {
            let runuser = require_executable("runuser", &["/usr/sbin".into(), "/sbin".into()])?;
            let user = User::from_name(USER).ok().flatten().ok_or_else(|| Error::missing("the `postgres` OS user"))?;
            let prefix = vec![runuser.display().to_string(), "-u".into(), USER.into(), "--".into()];
            (prefix, Some((user.uid, user.gid)))
        } else {
            (Vec::new(), None)
        };

        let scratch = Scratch::new("pg", owner, SHM_CLEANUP)?;
        let data_dir = scratch.join("data");
        let config_file = data_dir.join("postgresql.conf");
        let log_file = scratch.join("postgres.log");
        let tool = |name: &str, args: &[&str]| -> Vec<String> {
            let mut argv = as_postgres.clone();
            argv.push(bin.join(name).display().to_string());
            argv.extend(args.iter().map(|a| (*a).to_owned()));
            argv
        };

        let data = data_dir.to_string_lossy();
        let initdb =
            tool("initdb", &["-D", &data, "-U", USER, "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"]);
        // Run from inside the dir: as `postgres`, the test's cwd may be unreadable.
        process::run(process::command(&initdb).current_dir(scratch.path()))?;
        append_lines(&config_file, &options.conf_lines)?;

        let log = log_file.to_string_lossy();
        let daemon = Daemon::start("postgres", scratch, 1, false, |scratch, ports| {
            // Port, address and socket dir go on the command line: a test
            // that rewrites postgresql.conf cannot move the server away.
            // pg_ctl passes -o through sh, hence the quoting; `pg_ctl
            // restart` reuses it from postmaster.opts.
            let mut opts = format!(
                "-p {} -k {} -c listen_addresses=127.0.0.1",
                ports[0],
                shell_quote(&scratch.path().to_string_lossy())
            );
            for (name, value) in &options.settings {
                opts.push_str(&format!(" -c {}", shell_quote(&format!("{name}={value}"))));
            }
            let pg_ctl = |args: &[&str]| {
                let mut all = vec!["-D", &*data];
                all.extend_from_slice(args);
                tool("pg_ctl", &all)
            };
            Ok(Spec {
                start: pg_ctl(&["-l", &log, "-w", "-t", "60", "-o", &opts, "start"]),
                stop: Some(pg_ctl(&["-m", "fast", "-w", "-t", "60", "stop"])),
                restart: Some(pg_ctl(&["-l", &log, "-m", "fast", "-w", "-t", "60", "restart"])),
                // Immediate, not SIGKILL: the postmaster then releases its
                // shared memory.
                quick_stop: Some(pg_ctl(&["-m", "immediate", "-w", "stop"])),
                pid_file: PathBuf::from(&*data).join("postmaster.pid"),
                logs: vec![PathBuf::from(&*log)],
                ready: |ports| ports::accepts(ports[0]),
            })
        })?;
        Ok(PgServer { daemon, psql, data_dir, config_file, log_file })
    }

    /// Always `127.0.0.1`.
    pub fn host(&self) -> &str {
        "127.0.0.1"
    }

    /// The TCP port.
    pub fn port(&self) -> u16 {
        self.daemon.port(0)
    }

    /// The superuser role, `postgres`; no password (trust).
    pub fn user(&self) -> &str {
        USER
    }

    /// The data directory (`PGDATA`).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// `postgresql.conf` in the data directory.
    pub fn config_file(&self) -> &Path {
        &self.config_file
    }

    /// Where the server's Unix socket lives.
    pub fn socket_dir(&self) -> &Path {
        self.daemon.scratch().path()
    }

    /// The server log.
    pub fn log_file(&self) -> &Path {
        &self.log_file
    }

    /// `host=127.0.0.1 port=… user=postgres dbname=postgres`, as
    /// tokio-postgres and libpq take it.
    pub fn connection_string(&self) -> String {
        format!("host=127.0.0.1 port={} user={USER} dbname=postgres", self.port())
    }

    daemon::lifecycle_methods! {
        /// `pg_ctl restart -m fast -w`: same port, same settings.
        restart;
        /// `pg_ctl stop -m fast -w`.
        stop;
        /// SIGKILLs the postmaster, as a crash would; its backends notice and exit.
        kill;
        /// True while the postmaster runs.
        is_running;
        /// Starts the server again after [`stop`](Self::stop) or
        /// [`kill`](Self::kill), on the same port (crash recovery runs after a kill).
        start_again;
        /// The argv that restarts this server (`runuser -u postgres -- pg_ctl -D …
        /// -m fast -w restart` when running as root), for a control plane to run.
        restart_command;
    }

    /// Runs `psql -X -At -v ON_ERROR_STOP=1 -c SQL` and returns its output
    /// (unaligned, tuples only, `|`-separated), without the final newline.
    pub fn psql(&self, sql: &str) -> Result<String> {
        self.daemon.require_running()?;
        process::run(
            Command::new(&self.psql)
                .args(["-X", "-At", "-v", "ON_ERROR_STOP=1", "-d"])
                .arg(self.connection_string())
                .arg("-c")
                .arg(sql)
                .env("PGCONNECT_TIMEOUT", "10"),
        )
    }
}

impl std::fmt::Debug for PgServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgServer").field("port", &self.port()).field("data_dir", &self.data_dir).finish()
    }
}

fn append_lines(path: &Path, lines: &[String]) -> Result<()> {
    if lines.is_empty() {
        return Ok(());
    }
    let mut text = String::from("\n# added by dbfleet-testsupport\n");
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    OpenOptions::new()
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(Error::io(format!("appending to {}", path.display())))
}
