//! Process plumbing shared by every server: finding binaries, running
//! commands, signalling and waiting for processes, reading log tails.
//!
//! The servers daemonize (pg_ctl, `daemonize yes`, `--daemon`), so they are
//! not children of the test process: they are found through their pid files
//! and through `/proc`, never through `std::process::Child`.

use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{self, Signal};
use nix::unistd::Pid;

use crate::error::{Error, Result};

/// How long a server may take to become ready. Generous: the machines have
/// two cores, and tests start servers in parallel with builds running.
pub(crate) const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a graceful stop may take before SIGKILL.
pub(crate) const STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// How many lines of each log file an error shows.
const TAIL_LINES: usize = 30;

/// Finds an executable on `PATH`, then in `extra_dirs` (for sbin directories
/// and pip's scripts dir, which need not be on a test runner's `PATH`).
pub(crate) fn find_executable(name: &str, extra_dirs: &[PathBuf]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(extra_dirs.iter().cloned())
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

/// Like [`find_executable`], but a missing binary is [`Error::Missing`].
pub(crate) fn require_executable(name: &str, extra_dirs: &[PathBuf]) -> Result<PathBuf> {
    find_executable(name, extra_dirs).ok_or_else(|| Error::missing(name))
}

pub(crate) fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Builds a [`Command`] from an argv.
pub(crate) fn command<S: AsRef<OsStr>>(argv: &[S]) -> Command {
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..]);
    cmd
}

/// Runs a short command to completion (psql, redis-cli, pg_ctl stop, ...)
/// and returns its stdout without trailing newlines; a failure carries its
/// output.
pub(crate) fn run(cmd: &mut Command) -> Result<String> {
    let output = cmd.stdin(Stdio::null()).output().map_err(Error::io(format!("running {}", describe(cmd))))?;
    if !output.status.success() {
        return Err(command_error(cmd, &output));
    }
    Ok(trim_newlines(String::from_utf8_lossy(&output.stdout).into_owned()))
}

fn command_error(cmd: &Command, output: &Output) -> Error {
    let mut text = String::from_utf8_lossy(&output.stderr).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stdout));
    Error::Command {
        command: describe(cmd),
        status: output.status.to_string(),
        output: last_lines(text.trim_end(), TAIL_LINES),
    }
}

pub(crate) fn trim_newlines(mut s: String) -> String {
    let len = s.trim_end_matches(['\n', '\r']).len();
    s.truncate(len);
    s
}

/// Runs a command that starts a server in the background and returns: the
/// daemon's launcher, with `env` set to mark the server's processes. Its output goes to `log` (appended), not to a pipe: a
/// daemon that inherited the pipe would hold it open and `output()` would
/// wait for the daemon to exit.
pub(crate) fn launch(argv: &[String], cwd: &Path, env: (&str, &Path), log: &Path) -> Result<ExitStatus> {
    let out = OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(Error::io(format!("opening {}", log.display())))?;
    let err = out.try_clone().map_err(Error::io(format!("opening {}", log.display())))?;
    command(argv)
        .current_dir(cwd)
        .env(env.0, env.1)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .status()
        .map_err(Error::io(format!("running {}", argv.join(" "))))
}

/// A command line for error messages.
pub(crate) fn describe(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Quotes a word for `sh`.
pub(crate) fn shell_quote(word: &str) -> String {
    let safe = !word.is_empty() && word.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./=:,@%+".contains(&b));
    if safe { word.to_owned() } else { format!("'{}'", word.replace('\'', r"'\''")) }
}

pub(crate) fn shell_join(argv: &[String]) -> String {
    argv.iter().map(|a| shell_quote(a)).collect::<Vec<_>>().join(" ")
}

/// Why [`wait_until_ready`] gave up.
pub(crate) enum NotReady {
    Exited,
    TimedOut,
}

/// Polls `ready` until it holds, failing early once `alive` says the server
/// is gone, so a server that dies at start fails in milliseconds, not after
/// the whole timeout.
pub(crate) fn wait_until_ready(
    timeout: Duration,
    mut alive: impl FnMut() -> bool,
    mut ready: impl FnMut() -> bool,
) -> Result<(), NotReady> {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(2);
    loop {
        if ready() {
            return Ok(());
        }
        if !alive() {
            // It may have become ready and then handed over to a child in
            // between the two checks: look once more before giving up.
            return if ready() { Ok(()) } else { Err(NotReady::Exited) };
        }
        if Instant::now() >= deadline {
            return Err(NotReady::TimedOut);
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// Polls `done` every few milliseconds until it holds or `timeout` passes.
pub(crate) fn wait_for(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Sends a signal; false if the process is gone.
pub(crate) fn send_signal(pid: Pid, sig: Signal) -> bool {
    signal::kill(pid, sig).is_ok()
}

/// True while `pid` exists and is not a zombie. A daemon's parent is init,
/// which may reap it late (or never, in some containers): kill(pid, 0)
/// succeeds on zombies, so look at the process state instead.
pub(crate) fn is_alive(pid: Pid) -> bool {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // The state follows the command name, which is in parentheses and may
    // itself contain spaces and parentheses.
    match stat.rfind(')').and_then(|i| stat[i + 1..].split_whitespace().next()) {
        Some(state) => !matches!(state, "Z" | "X" | "x"),
        None => false,
    }
}

/// Reads the pid on the first line of a pid file.
pub(crate) fn read_pid_file(path: &Path) -> Option<Pid> {
    let text = fs::read_to_string(path).ok()?;
    let pid: i32 = text.lines().next()?.trim().parse().ok()?;
    (pid > 0).then(|| Pid::from_raw(pid))
}

/// A set of log files, read from an offset so that an error shows what this
/// attempt logged, not what an earlier one did.
#[derive(Debug, Clone)]
pub(crate) struct Logs {
    files: Vec<PathBuf>,
}

/// Where each log file ended when a [`Logs::mark`] was taken.
pub(crate) struct LogMark(Vec<u64>);

impl Logs {
    pub(crate) fn new(files: Vec<PathBuf>) -> Self {
        Logs { files }
    }

    pub(crate) fn mark(&self) -> LogMark {
        LogMark(self.files.iter().map(|f| fs::metadata(f).map_or(0, |m| m.len())).collect())
    }

    /// The last lines of every non-empty log since `mark` (or since the
    /// start), each headed by its file name.
    pub(crate) fn tail(&self, mark: Option<&LogMark>) -> String {
        let mut out = String::new();
        for (i, file) in self.files.iter().enumerate() {
            let from = mark.and_then(|m| m.0.get(i).copied()).unwrap_or(0);
            let text = read_from(file, from);
            let text = text.trim_end();
            if text.is_empty() {
                continue;
            }
            out.push_str(&format!("==> {} <==\n", file.display()));
            out.push_str(&last_lines(text, TAIL_LINES));
            out.push('\n');
        }
        if out.is_empty() {
            out.push_str("(nothing logged)");
        }
        out
    }
}

/// Reads a file from `offset`, at most the last 64 KiB of it.
fn read_from(path: &Path, offset: u64) -> String {
    const MAX: u64 = 64 * 1024;
    let Ok(mut file) = File::open(path) else {
        return String::new();
    };
    let len = file.metadata().map_or(0, |m| m.len());
    // A log rotated or truncated since the mark: show it from its start.
    let offset = if offset > len { 0 } else { offset };
    let start = offset.max(len.saturating_sub(MAX));
    let mut bytes = Vec::new();
    if file.seek(SeekFrom::Start(start)).is_err() || file.read_to_end(&mut bytes).is_err() {
        return String::new();
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Creates a file with `contents`, naming the path on failure.
pub(crate) fn write_file(path: &Path, contents: &str) -> Result<()> {
    fs::write(path, contents).map_err(Error::io(format!("writing {}", path.display())))
}

/// Creates a directory (and parents), naming the path on failure.
pub(crate) fn create_dir(path: &Path) -> Result<()> {
    fs::create_dir_all(path).map_err(Error::io(format!("creating {}", path.display())))
}
