//! Exit codes, documented in docs/exit-codes.md. A script can rely on them:
//! they never change meaning.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Exit {
    /// The command did what was asked.
    Ok = 0,
    /// An unexpected failure (I/O, a bug): the message says what.
    Failure = 1,
    /// `plan --detailed-exitcode` / `drift`: there are changes.
    Changes = 2,
    /// The fleet repo has errors (syntax, schema, references, validation).
    Invalid = 3,
    /// A target, key, tenant or secret named on the command line does not exist.
    NotFound = 4,
    /// A secret could not be read (missing, undecryptable, provider down).
    Secret = 5,
    /// A server could not be reached.
    Unreachable = 6,
    /// Applying failed; what was changed was put back.
    ApplyFailed = 7,
    /// Applying failed and restoring failed too: the instance needs attention.
    RestoreFailed = 8,
    /// Bad command-line usage.
    Usage = 64,
    /// Permission denied: a file, a secret provider, or a server that refused
    /// the credentials or lacks a privilege dbfleet needs.
    Denied = 77,
}

/// An error that ends the command with a specific exit code.
#[derive(Debug)]
pub(crate) struct Coded {
    pub(crate) exit: Exit,
    pub(crate) message: String,
}

impl fmt::Display for Coded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Coded {}

pub(crate) fn fail(exit: Exit, message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Coded { exit, message: message.into() })
}
