//! The two providers that read from this machine: environment variables and
//! plain files.

use std::fmt;
use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use secrecy::SecretString;

use crate::SecretError;

/// A file holding a secret that users other than its owner can read. It is still used:
/// refusing would break setups that rely on group access on purpose, so the
/// CLI shows these instead.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PermissionWarning {
    pub path: PathBuf,
    /// The file's permission bits, such as `0o644`.
    pub mode: u32,
}

impl fmt::Display for PermissionWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} is readable by group or others (mode {:04o}); consider `chmod 600`",
            self.path.display(),
            self.mode
        )
    }
}

pub(crate) fn env(var: &str) -> Result<SecretString, SecretError> {
    match std::env::var(var) {
        Ok(value) => Ok(SecretString::from(value)),
        Err(std::env::VarError::NotPresent) => Err(SecretError::EnvNotSet { var: var.to_string() }),
        Err(std::env::VarError::NotUnicode(_)) => Err(SecretError::EnvNotUnicode { var: var.to_string() }),
    }
}

/// Reads the secret file at `path`, without its trailing line ending, and
/// says whether others can read it.
pub(crate) fn file(path: &Path) -> Result<(SecretString, Option<PermissionWarning>), SecretError> {
    let open_err = |e: io::Error| match e.kind() {
        io::ErrorKind::NotFound => SecretError::FileMissing { path: path.to_path_buf() },
        io::ErrorKind::PermissionDenied => SecretError::FileDenied { path: path.to_path_buf() },
        _ => SecretError::Read { path: path.to_path_buf(), source: e },
    };
    let mut file = fs::File::open(path).map_err(open_err)?;
    // The mode is taken from the open file, so it is the mode of the file
    // that was read even if the path is swapped meanwhile.
    let metadata = file.metadata().map_err(open_err)?;
    let mut bytes = secrecy::zeroize::Zeroizing::new(Vec::new());
    file.read_to_end(&mut bytes).map_err(open_err)?;
    let mut text = String::from_utf8(std::mem::take(&mut *bytes)).map_err(|e| {
        secrecy::zeroize::Zeroize::zeroize(&mut e.into_bytes());
        SecretError::FileNotUnicode { path: path.to_path_buf() }
    })?;
    // Editors and `echo >` add a final newline that is never part of the
    // secret; \r\n covers files written on Windows.
    let trimmed = text.trim_end_matches(['\n', '\r']).len();
    text.truncate(trimmed);
    Ok((SecretString::from(text), permission_warning(path, &metadata)))
}

/// A warning if the file `metadata` describes is readable by group or others.
pub(crate) fn permission_warning(path: &Path, metadata: &fs::Metadata) -> Option<PermissionWarning> {
    let mode = metadata.permissions().mode() & 0o7777;
    (mode & 0o044 != 0).then(|| PermissionWarning { path: path.to_path_buf(), mode })
}
