//! Why the state store refused or failed a call.
//!
//! Refusals that protect the record (an illegal transition, a deployment that
//! is already finished, a newer schema) have their own variants, so the CLI
//! can tell them from a broken database file. No variant holds file contents
//! or observed values.

use std::fmt;
use std::path::PathBuf;

use crate::migrate::MigrationError;
use crate::revision::RevisionId;
use crate::types::{DeploymentId, DeploymentStatus, InstanceStatus, State};

/// Why a state store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the directory of the state store {}", path.display())]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    // The SQLite errors are boxed because they are several times larger
    // than every other variant, and every `Result` of this crate pays for
    // the largest one.
    #[error("state store {} failed", path.display())]
    Sqlite {
        path: PathBuf,
        #[source]
        source: Box<rusqlite::Error>,
    },

    #[error("cannot migrate the state store {}", path.display())]
    Migration {
        path: PathBuf,
        #[source]
        source: MigrationError,
    },

    /// A migration failed and was rolled back; `applied` lists the versions
    /// this call applied before it, which stay applied.
    #[error("migration {version} ({name}) of the state store {} failed{}", path.display(), applied_note(applied))]
    MigrationFailed {
        path: PathBuf,
        version: u32,
        name: &'static str,
        applied: Vec<u32>,
        #[source]
        source: Box<rusqlite::Error>,
    },

    #[error("revision has two files at path `{path}`")]
    DuplicatePath { path: String },

    #[error("deployment plans instance `{instance}` twice")]
    DuplicateInstance { instance: String },

    #[error("no revision {revision} in the state store")]
    UnknownRevision { revision: RevisionId },

    #[error("no deployment {deployment}")]
    UnknownDeployment { deployment: DeploymentId },

    #[error("deployment {deployment} has no instance `{instance}`")]
    UnknownInstance { deployment: DeploymentId, instance: String },

    #[error("illegal transition of {subject} from {from} to {to}")]
    IllegalTransition { subject: Subject, from: State, to: State },

    /// An instance step that only a running deployment may take, asked of
    /// one that is planned-and-abandoned or finished.
    #[error("deployment {deployment} is {status}, so instance `{instance}` cannot become {to}")]
    DeploymentFinished { deployment: DeploymentId, status: DeploymentStatus, instance: String, to: InstanceStatus },

    /// A deployment cannot take a final status while one of its instances
    /// contradicts it.
    #[error("deployment {deployment} cannot become {to} while instance `{instance}` is {status}")]
    Unsettled { deployment: DeploymentId, to: DeploymentStatus, instance: String, status: InstanceStatus },
}

fn applied_note(applied: &[u32]) -> String {
    if applied.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = applied.iter().map(u32::to_string).collect();
        format!(" (migrations {} were applied before it and stay applied)", list.join(", "))
    }
}

/// What an illegal transition was asked of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    Deployment(DeploymentId),
    Instance { deployment: DeploymentId, instance: String },
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Deployment(id) => write!(f, "deployment {id}"),
            Subject::Instance { deployment, instance } => {
                write!(f, "instance `{instance}` in deployment {deployment}")
            }
        }
    }
}

/// Text that is not a valid id or status.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a valid {kind}")]
pub struct ParseError {
    pub kind: &'static str,
    pub text: String,
}
