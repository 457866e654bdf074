//! Throwaway Redis servers, started from a config file we write (Redis
//! refuses `CONFIG REWRITE` when started without one).

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::daemon::{self, Daemon, Spec};
use crate::error::Result;
use crate::process::{self, require_executable, write_file};
use crate::scratch::Scratch;

/// A throwaway Redis server on `127.0.0.1`, without persistence, stopped and
/// deleted on drop.
pub struct RedisServer {
    daemon: Daemon,
    cli: PathBuf,
    config_file: PathBuf,
    log_file: PathBuf,
}

impl RedisServer {
    /// Starts a server on a free port.
    pub fn start() -> Result<RedisServer> {
        Self::start_with_config_lines(&[])
    }

    /// Like [`RedisServer::start`], with `lines` appended to the config
    /// file (later lines win in Redis configs), e.g. `"maxmemory 64mb"`.
    pub fn start_with_config_lines(lines: &[&str]) -> Result<RedisServer> {
        let sbin = ["/usr/bin".into(), "/usr/sbin".into()];
        let server = require_executable("redis-server", &sbin)?;
        let cli = require_executable("redis-cli", &sbin)?;
        let scratch = Scratch::new("redis", None, "")?;
        let config_file = scratch.join("redis.conf");
        let log_file = scratch.join("redis.log");
        let daemon = Daemon::start("redis", scratch, 1, false, |scratch, ports| {
            let port = ports[0];
            let dir = scratch.path();
            let pid_file = dir.join("redis.pid");
            let mut config = format!(
                "# written by dbfleet-testsupport\n\
                 port {port}\n\
                 bind 127.0.0.1\n\
                 dir {dir}\n\
                 daemonize yes\n\
                 pidfile {pid}\n\
                 logfile {log}\n\
                 save \"\"\n\
                 appendonly no\n",
                dir = dir.display(),
                pid = pid_file.display(),
                log = log_file.display(),
            );
            for line in lines {
                config.push_str(line);
                config.push('\n');
            }
            write_file(&config_file, &config)?;
            Ok(Spec {
                start: vec![server.display().to_string(), config_file.display().to_string()],
                stop: Some(cli_argv(&cli, port, &["shutdown", "nosave"])),
                restart: None,
                // Nothing to save, nothing left outside the dir: SIGKILL is fine.
                quick_stop: None,
                pid_file,
                logs: vec![log_file.clone()],
                ready: |ports| answers_ping(ports[0]),
            })
        })?;
        Ok(RedisServer { daemon, cli, config_file, log_file })
    }

    /// The TCP port.
    pub fn port(&self) -> u16 {
        self.daemon.port(0)
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port())
    }

    /// The config file the server was started from (`CONFIG REWRITE`
    /// writes here).
    pub fn config_file(&self) -> &Path {
        &self.config_file
    }

    /// The server's `dir` (its working directory).
    pub fn dir(&self) -> &Path {
        self.daemon.scratch().path()
    }

    /// The server log.
    pub fn log_file(&self) -> &Path {
        &self.log_file
    }

    daemon::lifecycle_methods! {
        /// `SHUTDOWN NOSAVE`, then starts again from the same config file on the
        /// same port. Data is lost (no persistence).
        restart;
        /// `SHUTDOWN NOSAVE`, waiting for the process to exit.
        stop;
        /// SIGKILLs the server, as a crash would.
        kill;
        /// True while the server process runs.
        is_running;
        /// Starts the server again after [`stop`](Self::stop) or
        /// [`kill`](Self::kill), from the same config file on the same port.
        start_again;
        /// An argv (`sh -c '…'`) that shuts the server down, waits for it to
        /// exit and starts it from the same config file.
        restart_command;
    }

    /// Runs `redis-cli -e -h 127.0.0.1 -p PORT ARGS…` and returns its output
    /// without the final newline. An error reply is an [`crate::Error::Command`]
    /// (that is what `-e` is for).
    pub fn cli(&self, args: &[&str]) -> Result<String> {
        self.daemon.require_running()?;
        let mut all = vec!["-e"];
        all.extend_from_slice(args);
        process::run(&mut process::command(&cli_argv(&self.cli, self.port(), &all)))
    }
}

impl std::fmt::Debug for RedisServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisServer").field("port", &self.port()).field("config_file", &self.config_file).finish()
    }
}

fn cli_argv(cli: &Path, port: u16, args: &[&str]) -> Vec<String> {
    let mut argv = vec![cli.display().to_string(), "-h".into(), "127.0.0.1".into(), "-p".into(), port.to_string()];
    argv.extend(args.iter().map(|a| (*a).to_owned()));
    argv
}

/// Sends an inline `PING`. `-NOAUTH` counts as an answer: a test may have
/// configured `requirepass`.
fn answers_ping(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut reply = [0u8; 64];
    stream.write_all(b"PING\r\n").is_ok()
        && stream.read(&mut reply).is_ok_and(|n| reply[..n].starts_with(b"+PONG") || reply[..n].starts_with(b"-NOAUTH"))
}
