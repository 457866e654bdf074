//! The temp dir a server lives in, and the guard process that cleans it up
//! if the test process dies without running destructors.
//!
//! A server's processes are recognized by either of two marks, so that all
//! of them are found (PostgreSQL's backends, daemons whose pid file is
//! stale) and nobody else's process is ever touched:
//! - their working directory lies inside the scratch dir: we launch them
//!   there, PostgreSQL moves into its data dir and Redis into its `dir`;
//! - their environment holds `DBFLEET_TESTSUPPORT_DIR=<scratch dir>`, set on
//!   every launch. ClickHouse needs this one: while daemonizing it changes
//!   directory to `/` and to its binary's dir before settling in its own.
//!   PostgreSQL and Redis need the first: they overwrite their initial
//!   environment with their process titles.
//!
//! The guard is a tiny `sh` reading a pipe whose write end only the test
//! process holds. A normal drop writes `done` and the guard exits. If the
//! test process dies any other way (abort, SIGKILL, a nextest timeout,
//! `std::process::exit`, a server leaked in a `static`), the kernel closes
//! the pipe, the guard reads end-of-file, kills whatever still runs in the
//! dir and removes it. It runs in its own process group so that a signal to
//! the test's group (Ctrl-C, nextest's timeout) does not take it down too.

use std::fs;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use nix::sys::signal::Signal;
use nix::unistd::{Gid, Pid, Uid};

use crate::error::{Error, Result};
use crate::process::{is_alive, send_signal, wait_for};

/// The environment variable that marks a server's processes.
const MARKER: &str = "DBFLEET_TESTSUPPORT_DIR";

/// The guard. `$1` is the dir, `$2` a cleanup hook run once nothing lives in
/// the dir any more (PostgreSQL's removes a SysV shared memory segment that
/// a SIGKILLed postmaster leaves behind), `$3` the marker variable's name.
const GUARD_SCRIPT: &str = r#"
trap '' HUP INT
d=$1
IFS= read -r line
[ "$line" = done ] && exit 0
i=0
while :; do
    pids=$( {
        find /proc/[0-9]*/cwd -maxdepth 0 \( -lname "$d" -o -lname "$d/*" \) 2>/dev/null
        grep -lzxF "$3=$d" /proc/[0-9]*/environ 2>/dev/null
    } | cut -d/ -f3 | sort -u)
    [ -z "$pids" ] && break
    kill -KILL $pids 2>/dev/null
    i=$((i + 1))
    [ "$i" -ge 200 ] && break
    sleep 0.05
done
[ -n "$2" ] && sh -c "$2" sh "$d"
rm -rf -- "$d"
"#;

/// A server's temp dir; dropping it kills what still runs there and removes it.
#[derive(Debug)]
pub(crate) struct Scratch {
    path: PathBuf,
    cleanup_hook: &'static str,
    guard: Option<(Child, ChildStdin)>,
}

impl Scratch {
    /// Creates `$TMPDIR/dbfleet-<server>-XXXXXX`, owned by `owner` if given
    /// (PostgreSQL's must belong to the `postgres` user), and its guard.
    /// `cleanup_hook` is a `sh` snippet run with the dir as `$1` after every
    /// process in it is gone, both on drop and by the guard.
    pub(crate) fn new(server: &str, owner: Option<(Uid, Gid)>, cleanup_hook: &'static str) -> Result<Scratch> {
        let dir = tempfile::Builder::new()
            .prefix(&format!("dbfleet-{server}-"))
            .tempdir()
            .map_err(Error::io("creating a temp dir"))?;
        // From here on this type and the guard own the removal.
        let path = dir.keep();
        // /proc shows canonical paths: compare against the same.
        let path = fs::canonicalize(&path).unwrap_or(path);
        let mut scratch = Scratch { path, cleanup_hook, guard: None };
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(&scratch.path, Some(uid.as_raw()), Some(gid.as_raw()))
                .map_err(Error::io(format!("chown {}", scratch.path.display())))?;
        }
        scratch.guard = Some(spawn_guard(&scratch.path, cleanup_hook)?);
        Ok(scratch)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// The environment variable every launch of this server carries.
    pub(crate) fn marker(&self) -> (&'static str, &Path) {
        (MARKER, &self.path)
    }

    /// Live processes of this server (see the module docs).
    pub(crate) fn processes(&self) -> Vec<Pid> {
        let me = Pid::this();
        let Ok(entries) = fs::read_dir("/proc") else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter_map(|entry| {
                let pid = Pid::from_raw(entry.file_name().to_str()?.parse().ok()?);
                (pid != me && self.marks(pid)).then_some(pid)
            })
            .collect()
    }

    /// True if `pid` is alive and one of this server's processes: guards
    /// against stale pid files whose pid now belongs to another program.
    pub(crate) fn owns(&self, pid: Pid) -> bool {
        is_alive(pid) && self.marks(pid)
    }

    /// Whether `pid` carries one of our marks. Zombies carry neither: their
    /// cwd link and environment are gone.
    fn marks(&self, pid: Pid) -> bool {
        let proc_dir = PathBuf::from(format!("/proc/{pid}"));
        if fs::read_link(proc_dir.join("cwd")).is_ok_and(|cwd| cwd.starts_with(&self.path)) {
            return true;
        }
        let Ok(environ) = fs::read(proc_dir.join("environ")) else {
            return false;
        };
        let mut wanted = format!("{MARKER}=").into_bytes();
        wanted.extend_from_slice(self.path.as_os_str().as_bytes());
        environ.split(|b| *b == 0).any(|var| var == wanted.as_slice())
    }

    /// Waits until no process lives in the dir.
    pub(crate) fn wait_idle(&self, timeout: Duration) -> bool {
        wait_for(timeout, || self.processes().is_empty())
    }

    /// SIGKILLs every process in the dir and waits until they are gone.
    pub(crate) fn kill_all(&self) -> bool {
        wait_for(Duration::from_secs(10), || {
            let pids = self.processes();
            for pid in &pids {
                send_signal(*pid, Signal::SIGKILL);
            }
            pids.is_empty()
        })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // Never panic here: this runs while a failed test unwinds, and a
        // second panic would abort the whole test binary.
        let idle = self.kill_all();
        if idle && !self.cleanup_hook.is_empty() {
            let _ = Command::new("sh")
                .arg("-c")
                .arg(self.cleanup_hook)
                .arg("sh")
                .arg(&self.path)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        let removed = idle && fs::remove_dir_all(&self.path).is_ok();
        if let Some((mut child, mut stdin)) = self.guard.take() {
            // If we could not clean up, closing the pipe without `done`
            // makes the guard try again with its own means.
            if removed {
                let _ = stdin.write_all(b"done\n");
            }
            drop(stdin);
            let _ = child.wait();
        }
    }
}

fn spawn_guard(dir: &Path, cleanup_hook: &str) -> Result<(Child, ChildStdin)> {
    let spawned = Command::new("sh")
        .arg("-c")
        .arg(GUARD_SCRIPT)
        .arg("dbfleet-testsupport-guard")
        .arg(dir)
        .arg(cleanup_hook)
        .arg(MARKER)
        // Outside the dir, or the guard would count as one of its processes.
        .current_dir("/")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(err) => {
            let _ = fs::remove_dir_all(dir);
            return Err(Error::io("starting the cleanup guard (sh)")(err));
        }
    };
    let stdin = child.stdin.take().expect("stdin was piped");
    Ok((child, stdin))
}
