//! The lifecycle all four servers share: start on free ports (retrying on
//! new ones when a port was taken meanwhile), wait until ready, stop, kill,
//! restart and start again, and clean up on drop.
//!
//! A server is described by a [`Spec`]: the argv that starts it in the
//! background, how to stop it, its pid file and a readiness probe. Each
//! server module only writes its configuration and fills in a `Spec`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::signal::Signal;
use nix::unistd::Pid;

use crate::error::{Error, Result};
use crate::ports::{self, Ports};
use crate::process::{
    self, LogMark, Logs, NotReady, START_TIMEOUT, STOP_TIMEOUT, is_alive, read_pid_file, send_signal, shell_join,
    shell_quote, wait_for, wait_until_ready,
};
use crate::scratch::Scratch;

/// How many times a start is retried on new ports after "Address already
/// in use".
const PORT_ATTEMPTS: usize = 8;
/// Where launchers' own output goes, in the scratch dir.
const LAUNCH_LOG: &str = "launch.log";

/// How to run one server.
pub(crate) struct Spec {
    /// Starts the server in the background and returns.
    pub(crate) start: Vec<String>,
    /// Asks for a graceful stop and returns; `None`: SIGTERM the main process.
    pub(crate) stop: Option<Vec<String>>,
    /// Restarts in one go, if the server has such a command (pg_ctl);
    /// otherwise a stop, wait, start script is generated.
    pub(crate) restart: Option<Vec<String>>,
    /// Stops quickly but cleanly on drop; `None`: SIGKILL, fine for servers
    /// that leave nothing behind outside their dir.
    pub(crate) quick_stop: Option<Vec<String>>,
    /// Holds the main process's pid on its first line while it runs.
    pub(crate) pid_file: PathBuf,
    /// The server's log files, shown when something fails.
    pub(crate) logs: Vec<PathBuf>,
    /// Answers true once the server serves requests on these ports.
    pub(crate) ready: fn(&[u16]) -> bool,
}

/// A running (or stopped) server and everything it owns.
pub(crate) struct Daemon {
    server: &'static str,
    spec: Spec,
    logs: Logs,
    ports: Ports,
    // Last, so that it is dropped last: it removes the dir the others name.
    scratch: Scratch,
}

impl Daemon {
    /// Starts a server in `scratch` on `port_count` fresh ports (consecutive
    /// if the server derives ports from the first). `make_spec` writes the
    /// configuration for the given ports and says how to run the server; it
    /// is called again with new ports if one of them was taken meanwhile.
    pub(crate) fn start(
        server: &'static str,
        scratch: Scratch,
        port_count: usize,
        consecutive: bool,
        mut make_spec: impl FnMut(&Scratch, &[u16]) -> Result<Spec>,
    ) -> Result<Daemon> {
        let mut attempt = 1;
        loop {
            let ports = Ports::reserve(port_count, consecutive)?;
            let spec = make_spec(&scratch, ports.as_slice())?;
            let mut log_files = spec.logs.clone();
            log_files.push(scratch.join(LAUNCH_LOG));
            let logs = Logs::new(log_files);
            let parts = Parts { server, spec: &spec, logs: &logs, ports: &ports, scratch: &scratch };
            match parts.launch(&spec.start) {
                Ok(()) => {
                    return Ok(Daemon { server, spec, logs, ports, scratch });
                }
                Err(err) if err.is_port_collision() && attempt < PORT_ATTEMPTS => attempt += 1,
                // Dropping `scratch` cleans up what the attempt left.
                Err(err) => return Err(err),
            }
        }
    }

    fn parts(&self) -> Parts<'_> {
        Parts { server: self.server, spec: &self.spec, logs: &self.logs, ports: &self.ports, scratch: &self.scratch }
    }

    pub(crate) fn scratch(&self) -> &Scratch {
        &self.scratch
    }

    pub(crate) fn port(&self, i: usize) -> u16 {
        self.ports.get(i)
    }

    /// The main process, if it runs.
    pub(crate) fn pid(&self) -> Option<Pid> {
        self.parts().pid()
    }

    pub(crate) fn is_running(&self) -> bool {
        self.pid().is_some()
    }

    /// Fails with [`Error::NotRunning`] unless the server runs.
    pub(crate) fn require_running(&self) -> Result<()> {
        if self.is_running() { Ok(()) } else { Err(Error::NotRunning { server: self.server }) }
    }

    /// Waits until the server answers, e.g. after something else ran its
    /// [`restart_command`](Self::restart_command).
    pub(crate) fn wait_ready(&self) -> Result<()> {
        self.parts().await_ready(&self.logs.mark())
    }

    /// Gracefully stops the server and waits until every one of its
    /// processes has exited; SIGKILL after [`STOP_TIMEOUT`] (an error).
    pub(crate) fn stop(&self) -> Result<()> {
        let Some(pid) = self.pid() else {
            // Nothing to ask: at most the leftovers of a killed server.
            self.scratch.kill_all();
            return Ok(());
        };
        let mark = self.logs.mark();
        let asked = self
            .spec
            .stop
            .as_ref()
            .is_some_and(|argv| process::run(process::command(argv).current_dir(self.scratch.path())).is_ok());
        if !asked {
            send_signal(pid, Signal::SIGTERM);
        }
        if self.scratch.wait_idle(STOP_TIMEOUT) {
            return Ok(());
        }
        self.scratch.kill_all();
        Err(Error::Stop {
            server: self.server,
            reason: format!("still running {}s after being asked to stop: killed", STOP_TIMEOUT.as_secs()),
            log_tail: self.logs.tail(Some(&mark)),
        })
    }

    /// SIGKILLs the main process only, as a crash would, and waits until it
    /// is gone. Its children (PostgreSQL's backends) are left to notice.
    pub(crate) fn kill(&self) -> Result<()> {
        let pid = self.pid().ok_or(Error::NotRunning { server: self.server })?;
        send_signal(pid, Signal::SIGKILL);
        if !wait_for(Duration::from_secs(10), || !is_alive(pid)) {
            return Err(Error::Stop {
                server: self.server,
                reason: format!("pid {pid} survived SIGKILL"),
                log_tail: String::new(),
            });
        }
        // Dead is not enough: until init reaps it (every 2 s or so on these
        // machines) the zombie's pid still answers kill(pid, 0), and
        // PostgreSQL's lock files would make the next start refuse, taking
        // it for a live postmaster. Best effort: some inits never reap.
        let proc_dir = format!("/proc/{pid}");
        wait_for(Duration::from_secs(10), || !Path::new(&proc_dir).exists());
        Ok(())
    }

    /// Starts a stopped or killed server again, on the same ports. Does
    /// nothing if it runs.
    pub(crate) fn start_again(&self) -> Result<()> {
        if self.is_running() {
            return Ok(());
        }
        // After a kill the main process's children may still be winding
        // down and holding resources (shared memory, ports).
        if !self.scratch.wait_idle(Duration::from_secs(10)) {
            self.scratch.kill_all();
        }
        self.parts().launch(&self.spec.start)
    }

    /// Runs [`Daemon::restart_command`] and waits until the server is ready.
    pub(crate) fn restart(&self) -> Result<()> {
        self.parts().launch(&self.restart_command())
    }

    /// An argv that restarts the server on the same ports with the same
    /// configuration files, as a control plane would run it.
    pub(crate) fn restart_command(&self) -> Vec<String> {
        match &self.spec.restart {
            Some(argv) => argv.clone(),
            None => {
                restart_script(self.scratch.marker(), &self.spec.pid_file, self.spec.stop.as_deref(), &self.spec.start)
            }
        }
    }

    /// The last lines of the server's logs.
    pub(crate) fn log_tail(&self) -> String {
        self.logs.tail(None)
    }
}

/// Writes, inside a server's `impl` block, the public lifecycle methods every
/// server has, each handing over to the server's `daemon` field. The server
/// documents the six whose behaviour differs from server to server (how it
/// stops, what a restart keeps); waiting for readiness and the log tail are
/// documented here, since they are the same for all.
macro_rules! lifecycle_methods {
    (
        $(#[$restart:meta])* restart;
        $(#[$stop:meta])* stop;
        $(#[$kill:meta])* kill;
        $(#[$is_running:meta])* is_running;
        $(#[$start_again:meta])* start_again;
        $(#[$restart_command:meta])* restart_command;
    ) => {
        $(#[$restart])*
        pub fn restart(&self) -> $crate::Result<()> {
            self.daemon.restart()
        }

        $(#[$stop])*
        pub fn stop(&self) -> $crate::Result<()> {
            self.daemon.stop()
        }

        $(#[$kill])*
        pub fn kill(&self) -> $crate::Result<()> {
            self.daemon.kill()
        }

        $(#[$is_running])*
        pub fn is_running(&self) -> bool {
            self.daemon.is_running()
        }

        $(#[$start_again])*
        pub fn start_again(&self) -> $crate::Result<()> {
            self.daemon.start_again()
        }

        $(#[$restart_command])*
        pub fn restart_command(&self) -> Vec<String> {
            self.daemon.restart_command()
        }

        /// Waits until the server answers again, after something else ran
        /// [`restart_command`](Self::restart_command) (which returns before the
        /// server is ready).
        pub fn wait_ready(&self) -> $crate::Result<()> {
            self.daemon.wait_ready()
        }

        /// The last lines of the server's logs, for assertion messages.
        pub fn log_tail(&self) -> String {
            self.daemon.log_tail()
        }
    };
}
pub(crate) use lifecycle_methods;

/// What launching and probing need, borrowed from a [`Daemon`] or from the
/// locals of a start attempt that has not become one yet.
struct Parts<'a> {
    server: &'static str,
    spec: &'a Spec,
    logs: &'a Logs,
    ports: &'a Ports,
    scratch: &'a Scratch,
}

impl Parts<'_> {
    fn pid(&self) -> Option<Pid> {
        read_pid_file(&self.spec.pid_file).filter(|pid| self.scratch.owns(*pid))
    }

    /// Runs a launcher (start or restart) and waits until the server is ready.
    fn launch(&self, argv: &[String]) -> Result<()> {
        let mark = self.logs.mark();
        let status = process::launch(argv, self.scratch.path(), self.scratch.marker(), &self.scratch.join(LAUNCH_LOG))?;
        if !status.success() {
            self.scratch.kill_all();
            return Err(self.start_error(format!("`{}` exited with {status}", shell_join(argv)), &mark));
        }
        self.await_ready(&mark).inspect_err(|_| {
            self.scratch.kill_all();
        })
    }

    fn await_ready(&self, mark: &LogMark) -> Result<()> {
        let ports = self.ports.as_slice();
        let ready = || {
            (self.spec.ready)(ports)
                // Whoever answers must be our process: across processes
                // another test may have won the race for the port.
                && ports::listened_by(ports, &self.scratch.processes())
                // Redis writes its pid file after it starts listening: an
                // immediate stop or kill must find it.
                && self.pid().is_some()
        };
        wait_until_ready(START_TIMEOUT, || !self.scratch.processes().is_empty(), ready).map_err(|why| {
            let reason = match why {
                NotReady::Exited => "it exited".to_owned(),
                NotReady::TimedOut => {
                    format!("not ready after {}s", START_TIMEOUT.as_secs())
                }
            };
            self.start_error(reason, mark)
        })
    }

    fn start_error(&self, reason: String, mark: &LogMark) -> Error {
        Error::Start { server: self.server, reason, log_tail: self.logs.tail(Some(mark)) }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // Best effort and panic-free (this runs during unwinding too); the
        // scratch dir's own drop then SIGKILLs whatever is left.
        if let (Some(argv), true) = (&self.spec.quick_stop, self.is_running()) {
            let _ = process::run(process::command(argv).current_dir(self.scratch.path()));
        }
    }
}

/// A `sh -c` script that stops the server (the stop command, or SIGTERM),
/// waits for the main process to exit (SIGKILL after 30 s) and starts it
/// again, marked like every launch. The pid must carry the server's mark,
/// so a stale pid file never makes it signal somebody else's process.
fn restart_script(
    (marker, dir): (&str, &Path),
    pid_file: &Path,
    stop: Option<&[String]>,
    start: &[String],
) -> Vec<String> {
    let stop = match stop {
        Some(argv) => format!("{} >/dev/null 2>&1 || kill -TERM \"$pid\"", shell_join(argv)),
        None => "kill -TERM \"$pid\"".to_owned(),
    };
    let script = format!(
        r#"d={dir}
export {marker}="$d"
ours() {{
    case $(readlink "/proc/$1/cwd" 2>/dev/null) in "$d"|"$d"/*) return 0;; esac
    tr '\0' '\n' <"/proc/$1/environ" 2>/dev/null | grep -qxF "{marker}=$d"
}}
pid=$(head -n 1 {pid_file} 2>/dev/null)
if [ -n "$pid" ] && ours "$pid"; then
    {stop}
    i=0
    while ours "$pid"; do
        i=$((i + 1))
        [ "$i" -eq 600 ] && kill -KILL "$pid"
        [ "$i" -ge 700 ] && break
        sleep 0.05
    done
fi
cd "$d" && exec {start}"#,
        dir = shell_quote(&dir.to_string_lossy()),
        pid_file = shell_quote(&pid_file.to_string_lossy()),
        start = shell_join(start),
    );
    vec!["sh".to_owned(), "-c".to_owned(), script]
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;

    use super::*;
    use crate::process::{require_executable, write_file};

    /// Another process taking a port between our pick and the server's bind
    /// (simulated by binding it in `make_spec`) makes the start retry on new
    /// ports rather than fail.
    #[test]
    fn retries_on_a_port_taken_meanwhile() {
        let redis = require_executable("redis-server", &[]).unwrap();
        let scratch = Scratch::new("retry", None, "").unwrap();
        let mut squatters = Vec::new();
        let daemon = Daemon::start("redis", scratch, 1, false, |scratch, ports| {
            if squatters.is_empty() {
                squatters.push(TcpListener::bind(("127.0.0.1", ports[0])).unwrap());
            }
            let config = scratch.join("redis.conf");
            let pid_file = scratch.join("redis.pid");
            let log = scratch.join("redis.log");
            write_file(
                &config,
                &format!(
                    "port {}\nbind 127.0.0.1\ndaemonize yes\nsave \"\"\ndir {}\npidfile {}\nlogfile {}\n",
                    ports[0],
                    scratch.path().display(),
                    pid_file.display(),
                    log.display()
                ),
            )?;
            Ok(Spec {
                start: vec![redis.display().to_string(), config.display().to_string()],
                stop: None,
                restart: None,
                quick_stop: None,
                pid_file,
                logs: vec![log],
                ready: |ports| ports::accepts(ports[0]),
            })
        })
        .unwrap();
        let taken = squatters[0].local_addr().unwrap().port();
        assert_ne!(daemon.port(0), taken);
        assert!(daemon.is_running());
        let log = std::fs::read_to_string(daemon.scratch().join("redis.log")).unwrap();
        assert!(log.contains("Address already in use"), "{log}");
    }
}
