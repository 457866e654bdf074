//! The one error type of this crate.
//!
//! Every failure that involves a server carries the tail of that server's
//! log, because "failed to start" alone is useless when a test fails in CI.

use std::io;

/// What the `hint` of [`Error::Missing`] tells the reader to do.
pub const INSTALL_HINT: &str = "run scripts/install-deps.sh";

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a throwaway server could not be started, used or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A binary (or the `postgres` OS user) the server needs is not on this
    /// machine. Tests are meant to fail on this, never to skip silently.
    #[error("{what} is missing: {hint}")]
    Missing {
        /// What was looked for, e.g. `redis-server`.
        what: String,
        /// What to do about it.
        hint: &'static str,
    },
    /// The server did not become ready (its process exited, or it timed out).
    #[error("{server} did not start: {reason}\n--- last lines of its log ---\n{log_tail}")]
    Start {
        /// Which server, e.g. `postgres`.
        server: &'static str,
        /// What went wrong.
        reason: String,
        /// The last lines the server (and its launcher) logged.
        log_tail: String,
    },
    /// The server did not stop in time, or its stop command failed.
    #[error("{server} did not stop: {reason}\n--- last lines of its log ---\n{log_tail}")]
    Stop {
        /// Which server.
        server: &'static str,
        /// What went wrong.
        reason: String,
        /// The last lines the server logged.
        log_tail: String,
    },
    /// A command (psql, redis-cli, pg_ctl, ...) exited unsuccessfully.
    #[error("`{command}` failed ({status}):\n{output}")]
    Command {
        /// The command line, for reading (not re-parsable).
        command: String,
        /// How it exited.
        status: String,
        /// Its stderr and stdout (tail).
        output: String,
    },
    /// An HTTP request to the server got a non-success status.
    #[error("HTTP {status} from {url}: {body}")]
    Http {
        /// The request URL.
        url: String,
        /// The response status code.
        status: u16,
        /// The response body.
        body: String,
    },
    /// The operation needs a running server, and this one is stopped.
    #[error("{server} is not running")]
    NotRunning {
        /// Which server.
        server: &'static str,
    },
    /// An I/O error, with what was being done.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

impl Error {
    pub(crate) fn missing(what: impl Into<String>) -> Self {
        Error::Missing { what: what.into(), hint: INSTALL_HINT }
    }

    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(io::Error) -> Self {
        let context = context.into();
        move |source| Error::Io { context, source }
    }

    /// True when the server failed because one of its ports was taken
    /// between our probe and its bind: such a start is retried on new ports.
    pub(crate) fn is_port_collision(&self) -> bool {
        match self {
            Error::Start { reason, log_tail, .. } => {
                let text = format!("{reason}\n{log_tail}").to_ascii_lowercase();
                text.contains("address already in use")
            }
            _ => false,
        }
    }
}
