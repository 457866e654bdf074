//! Turns the secret references in fleet configuration (`env:`, `file:`,
//! `age:`, `vault:`) into values, and manages the fleet repo's age-encrypted
//! secrets.
//!
//! [`Secrets`] is what rendering uses: it fetches each reference once per run
//! and hands out [`SecretString`]s, whose `Debug` is redacted. [`AgeStore`] is
//! what `dbfleet secret` commands use to keep `secrets/*.age` in the repo.
//!
//! Secret values appear in no error, warning or `Debug` output of this crate.
//! The crate writes nothing to Vault and knows nothing of what a secret is
//! for; which setting uses which reference is the config crate's business.
//! Unix only: file modes are part of what it checks and writes.

mod age_store;
mod error;
mod local;
mod vault;

use std::collections::{BTreeSet, HashMap};
use std::ffi::OsString;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use dbfleet_model::SecretRef;
pub use secrecy::{ExposeSecret, SecretString};

pub use age_store::{AgeStore, SecretInfo};
pub use error::{SecretError, SecretErrorKind};
pub use local::PermissionWarning;

use age_store::Identities;
use vault::Vault;

/// Where secrets come from, besides the environment and the fleet repo.
#[derive(Clone, Debug, Default)]
pub struct SecretsConfig {
    /// The age identity file that decrypts `age:` secrets.
    pub age_identity: Option<PathBuf>,
    pub vault: Option<VaultConfig>,
}

/// How to reach Vault or OpenBao. `Debug` shows the token as redacted.
#[derive(Clone, Debug)]
pub struct VaultConfig {
    /// The server's base URL, such as `https://vault.example.com:8200`.
    pub address: String,
    pub token: SecretString,
    /// The Vault Enterprise namespace, sent as `X-Vault-Namespace`.
    pub namespace: Option<String>,
}

impl SecretsConfig {
    /// Reads `DBFLEET_AGE_IDENTITY`, `VAULT_ADDR` (or `BAO_ADDR`),
    /// `VAULT_TOKEN` (or `BAO_TOKEN`) and `VAULT_NAMESPACE` (or
    /// `BAO_NAMESPACE`). Vault counts as configured only when both an
    /// address and a token are set.
    pub fn from_env() -> SecretsConfig {
        SecretsConfig::from_vars(|name| std::env::var_os(name))
    }

    fn from_vars(var: impl Fn(&str) -> Option<OsString>) -> SecretsConfig {
        let text = |names: [&str; 2]| {
            names.into_iter().find_map(|n| var(n).and_then(|v| v.into_string().ok()).filter(|v| !v.is_empty()))
        };
        let vault = match (text(["VAULT_ADDR", "BAO_ADDR"]), text(["VAULT_TOKEN", "BAO_TOKEN"])) {
            (Some(address), Some(token)) => Some(VaultConfig {
                address,
                token: SecretString::from(token),
                namespace: text(["VAULT_NAMESPACE", "BAO_NAMESPACE"]),
            }),
            _ => None,
        };
        SecretsConfig { age_identity: var("DBFLEET_AGE_IDENTITY").filter(|v| !v.is_empty()).map(PathBuf::from), vault }
    }
}

/// Fetches secrets for one run over one fleet repo.
///
/// Each reference is looked up at most once for the life of the value, so a
/// secret used by a hundred hosts costs one Vault request. Safe to share
/// between threads.
pub struct Secrets {
    repo_root: PathBuf,
    age: AgeStore,
    age_identity: Option<PathBuf>,
    /// Loaded on the first `age:` lookup and kept, so the identity file is
    /// read once however many age secrets there are.
    identities: OnceLock<Identities>,
    vault: Option<Vault>,
    /// One slot per reference ever asked for. The map's lock is held only to
    /// find or add a slot; the slot's lock is held during the lookup, so
    /// threads asking for the same reference wait for a single lookup while
    /// different references are fetched in parallel. A failed lookup leaves
    /// the slot empty, to be tried again by the next caller.
    cache: Mutex<HashMap<SecretRef, Arc<Mutex<Option<SecretString>>>>>,
    /// Files that others can read, found while fetching; see `warnings`.
    warnings: Mutex<BTreeSet<PermissionWarning>>,
}

impl Secrets {
    /// Secrets of the fleet repo at `repo_root`. Nothing is read or
    /// contacted until the first fetch.
    pub fn new(repo_root: &Path, config: SecretsConfig) -> Secrets {
        Secrets {
            repo_root: repo_root.to_path_buf(),
            age: AgeStore::new(repo_root),
            age_identity: config.age_identity,
            identities: OnceLock::new(),
            vault: config.vault.map(Vault::new),
            cache: Mutex::new(HashMap::new()),
            warnings: Mutex::new(BTreeSet::new()),
        }
    }

    /// The value `r` refers to.
    pub fn fetch(&self, r: &SecretRef) -> Result<SecretString, SecretError> {
        // A panic in another thread's lookup cannot leave a slot half
        // written (it holds a whole value or none), so poison is ignored.
        let slot = Arc::clone(self.cache.lock().unwrap_or_else(PoisonError::into_inner).entry(r.clone()).or_default());
        let mut slot = slot.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(value) = &*slot {
            return Ok(value.clone());
        }
        let value = self.lookup(r)?;
        *slot = Some(value.clone());
        Ok(value)
    }

    /// Checks that `r` can be fetched. A value not already memoised is
    /// dropped at once rather than kept, so checking every reference of a
    /// fleet does not leave them all in memory.
    pub fn check(&self, r: &SecretRef) -> Result<(), SecretError> {
        let slot = self.cache.lock().unwrap_or_else(PoisonError::into_inner).get(r).cloned();
        // The map's lock is released before the slot's is taken, as in
        // `fetch`, so a slow lookup of this reference blocks no other.
        if slot.is_some_and(|slot| slot.lock().unwrap_or_else(PoisonError::into_inner).is_some()) {
            return Ok(());
        }
        self.lookup(r).map(drop)
    }

    /// Files read so far (secret files and the age identity) that group or
    /// others can read, sorted by path.
    pub fn warnings(&self) -> Vec<PermissionWarning> {
        self.warnings.lock().unwrap_or_else(PoisonError::into_inner).iter().cloned().collect()
    }

    fn lookup(&self, r: &SecretRef) -> Result<SecretString, SecretError> {
        match r {
            SecretRef::Env { var } => local::env(var),
            SecretRef::File { path } => {
                let (value, warning) = local::file(&self.repo_root.join(path))?;
                self.warn(warning);
                Ok(value)
            }
            SecretRef::Age { name } => {
                let identity_path = self.age_identity.as_deref().ok_or(SecretError::AgeNoIdentity)?;
                self.age.decrypt(name, self.identities(identity_path)?, identity_path)
            }
            SecretRef::Vault { mount, path, field } => {
                self.vault.as_ref().ok_or(SecretError::VaultNotConfigured)?.read(mount, path, field)
            }
        }
    }

    fn identities(&self, path: &Path) -> Result<&Identities, SecretError> {
        if let Some(identities) = self.identities.get() {
            return Ok(identities);
        }
        let identities = Identities::load(path)?;
        self.warn(fs::metadata(path).ok().and_then(|m| local::permission_warning(path, &m)));
        // Two threads may both load the file; either result is the same.
        Ok(self.identities.get_or_init(|| identities))
    }

    fn warn(&self, warning: Option<PermissionWarning>) {
        if let Some(warning) = warning {
            self.warnings.lock().unwrap_or_else(PoisonError::into_inner).insert(warning);
        }
    }
}

/// Shows configuration and which references have been asked for, never values.
impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let asked_for: BTreeSet<String> =
            self.cache.lock().unwrap_or_else(PoisonError::into_inner).keys().map(SecretRef::to_string).collect();
        f.debug_struct("Secrets")
            .field("repo_root", &self.repo_root)
            .field("age_identity", &self.age_identity)
            .field("vault", &self.vault)
            .field("asked_for", &asked_for)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
