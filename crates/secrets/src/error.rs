//! Why a secret could not be read or stored, and the coarse category the CLI
//! turns into an exit code.
//!
//! No variant holds a secret value, and none holds anything a value could hide
//! in: errors carry references, paths, names, line numbers, HTTP statuses and
//! the messages Vault returns, never file contents or response data.

use std::io;
use std::path::PathBuf;

/// The category of a [`SecretError`], for mapping to an exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SecretErrorKind {
    /// The secret, or something it lives in, does not exist.
    NotFound,
    /// The secret exists but this user, identity or token may not read it.
    Denied,
    /// The server holding the secret could not be reached or is failing.
    Unreachable,
    /// dbfleet is not set up to read this kind of secret (a missing identity,
    /// address or token, or a broken identity or recipients file).
    Misconfigured,
    /// The reference or the stored data is malformed.
    Invalid,
}

/// Why a secret could not be fetched, stored or listed.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("environment variable `{var}` is not set")]
    EnvNotSet { var: String },

    #[error("environment variable `{var}` is not valid UTF-8")]
    EnvNotUnicode { var: String },

    #[error("secret file {} does not exist", path.display())]
    FileMissing { path: PathBuf },

    #[error("permission denied reading secret file {}", path.display())]
    FileDenied { path: PathBuf },

    #[error("secret file {} is not valid UTF-8", path.display())]
    FileNotUnicode { path: PathBuf },

    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("cannot write {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("no age identity is configured; set DBFLEET_AGE_IDENTITY to the path of your identity file")]
    AgeNoIdentity,

    #[error("cannot read age identity file {}", path.display())]
    AgeIdentityUnreadable {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// The line number is all that is said about the line: it may hold a key.
    #[error("age identity file {} has something other than an x25519 identity on line {line}", path.display())]
    AgeIdentityInvalid { path: PathBuf, line: usize },

    #[error("age identity file {} holds no identity", path.display())]
    AgeIdentityEmpty { path: PathBuf },

    #[error("age identity file {} already exists; refusing to overwrite it", path.display())]
    AgeIdentityExists { path: PathBuf },

    #[error("invalid secret name `{name}`: use letters, digits, `.`, `_` and `-`, and do not start with `.`")]
    InvalidName { name: String },

    #[error("no age secret `{name}` ({} does not exist){}", path.display(), did_you_mean(similar))]
    AgeNotFound { name: String, path: PathBuf, similar: Vec<String> },

    #[error(
        "age secret `{name}` is not encrypted to the identity in {}; ask a teammate who can read it to add your public key to secrets/recipients.txt and run `dbfleet secret rekey`",
        identity.display()
    )]
    AgeNotRecipient { name: String, identity: PathBuf },

    #[error("age secret file {} is damaged or not an age file", path.display())]
    AgeCorrupt {
        path: PathBuf,
        #[source]
        source: age::DecryptError,
    },

    #[error("age secret `{name}` does not decrypt to UTF-8 text")]
    AgeNotUnicode { name: String },

    #[error("no recipients in {}; run `dbfleet secret keygen` or add age public keys to it", path.display())]
    AgeNoRecipients { path: PathBuf },

    #[error("{}:{line}: not an age public key (expected `age1…`)", path.display())]
    AgeBadRecipient { path: PathBuf, line: usize },

    #[error("vault is not configured; set VAULT_ADDR and VAULT_TOKEN (or BAO_ADDR and BAO_TOKEN)")]
    VaultNotConfigured,

    #[error("vault address `{address}` is not a usable URL: {reason}")]
    VaultBadAddress { address: String, reason: String },

    #[error("the vault {what} contains characters that cannot be sent in an HTTP header")]
    VaultBadHeader { what: &'static str },

    #[error("vault reference `{mount}/{path}` has an empty, `.` or `..` path segment")]
    VaultBadPath { mount: String, path: String },

    #[error("cannot set up the HTTP client for vault")]
    VaultClient {
        #[source]
        source: reqwest::Error,
    },

    #[error("vault at {address} is unreachable")]
    VaultUnreachable {
        address: String,
        #[source]
        source: reqwest::Error,
    },

    #[error("vault denied reading `{mount}/{path}` (403){}; check the token and its policies", vault_says(errors))]
    VaultDenied { mount: String, path: String, errors: Vec<String> },

    #[error("vault has no secret `{path}` in the KV version 2 mount `{mount}` (404)")]
    VaultNotFound { mount: String, path: String },

    #[error("vault secret `{mount}/{path}` has no field `{field}`; {}", field_list(available))]
    VaultFieldMissing { mount: String, path: String, field: String, available: Vec<String> },

    #[error("vault secret field `{mount}/{path}#{field}` holds {kind}, not text")]
    VaultFieldNotText { mount: String, path: String, field: String, kind: &'static str },

    #[error("vault answered `{mount}/{path}` with HTTP {status}{}", vault_says(errors))]
    VaultServer { mount: String, path: String, status: u16, errors: Vec<String> },

    #[error("vault's answer for `{mount}/{path}` is not KV version 2 secret data; is `{mount}` a KV version 2 mount?")]
    VaultBadResponse { mount: String, path: String },

    /// `rekey` stopped part-way; `done` were already re-encrypted, and running
    /// it again after fixing the cause finishes the job.
    #[error("rekey stopped at `{name}` after re-encrypting {}", done_list(done))]
    RekeyIncomplete {
        name: String,
        done: Vec<String>,
        #[source]
        source: Box<SecretError>,
    },
}

impl SecretError {
    /// The category of this error, for the CLI's exit code.
    pub fn kind(&self) -> SecretErrorKind {
        use SecretErrorKind as K;
        match self {
            SecretError::EnvNotSet { .. }
            | SecretError::FileMissing { .. }
            | SecretError::AgeNotFound { .. }
            | SecretError::VaultNotFound { .. }
            | SecretError::VaultFieldMissing { .. } => K::NotFound,

            SecretError::FileDenied { .. } | SecretError::AgeNotRecipient { .. } | SecretError::VaultDenied { .. } => {
                K::Denied
            }

            SecretError::VaultUnreachable { .. } => K::Unreachable,
            // A 5xx (including a sealed Vault's 503) is the server failing,
            // not the request being wrong.
            SecretError::VaultServer { status, .. } if *status >= 500 => K::Unreachable,

            SecretError::AgeNoIdentity
            | SecretError::AgeIdentityUnreadable { .. }
            | SecretError::AgeIdentityInvalid { .. }
            | SecretError::AgeIdentityEmpty { .. }
            | SecretError::AgeNoRecipients { .. }
            | SecretError::AgeBadRecipient { .. }
            | SecretError::VaultNotConfigured
            | SecretError::VaultBadAddress { .. }
            | SecretError::VaultBadHeader { .. }
            | SecretError::VaultClient { .. } => K::Misconfigured,

            SecretError::Read { source, .. } | SecretError::Write { source, .. } => match source.kind() {
                io::ErrorKind::NotFound => K::NotFound,
                io::ErrorKind::PermissionDenied => K::Denied,
                _ => K::Misconfigured,
            },

            SecretError::RekeyIncomplete { source, .. } => source.kind(),

            SecretError::EnvNotUnicode { .. }
            | SecretError::FileNotUnicode { .. }
            | SecretError::AgeIdentityExists { .. }
            | SecretError::InvalidName { .. }
            | SecretError::AgeCorrupt { .. }
            | SecretError::AgeNotUnicode { .. }
            | SecretError::VaultBadPath { .. }
            | SecretError::VaultFieldNotText { .. }
            | SecretError::VaultServer { .. }
            | SecretError::VaultBadResponse { .. } => K::Invalid,
        }
    }
}

fn did_you_mean(similar: &[String]) -> String {
    match similar {
        [] => String::new(),
        [one] => format!("; did you mean `{one}`?"),
        [init @ .., last] => format!("; did you mean {} or `{last}`?", backticked(init)),
    }
}

fn field_list(available: &[String]) -> String {
    if available.is_empty() {
        "it has no fields".to_string()
    } else {
        format!("its fields are {}", backticked(available))
    }
}

fn done_list(done: &[String]) -> String {
    if done.is_empty() { "nothing".to_string() } else { backticked(done) }
}

fn vault_says(errors: &[String]) -> String {
    if errors.is_empty() { String::new() } else { format!(": {}", errors.join("; ")) }
}

fn backticked(names: &[String]) -> String {
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}
