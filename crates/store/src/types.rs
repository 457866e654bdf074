//! The records the store keeps about deployments, and their statuses.
//!
//! These are state types, not wire types: they carry no serde derives, so
//! that what the CLI prints in JSON is its own decision. Which status may
//! follow which is decided in `rules`, not here.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use dbfleet_model::EngineKind;
use jiff::Timestamp;

use crate::error::ParseError;
use crate::revision::RevisionId;

/// State observed on an instance: setting name to the server's own text.
pub type Observed = BTreeMap<String, String>;

/// The id of a deployment: a UUID version 7 in its hyphenated text form.
///
/// Version 7 ids begin with the time they were made, so they sort roughly by
/// creation (exactly, within one process), which keeps listings stable when
/// two deployments share a millisecond.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeploymentId(String);

impl DeploymentId {
    pub(crate) fn generate() -> DeploymentId {
        DeploymentId(uuid::Uuid::now_v7().hyphenated().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DeploymentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for DeploymentId {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<DeploymentId, ParseError> {
        match uuid::Uuid::try_parse(s) {
            Ok(id) if id.get_version_num() == 7 => Ok(DeploymentId(id.hyphenated().to_string())),
            _ => Err(ParseError { kind: "deployment id", text: s.to_string() }),
        }
    }
}

macro_rules! status {
    (
        $(#[$meta:meta])*
        $name:ident, $kind:literal { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every status, in the order a record usually passes through them.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The status as stored and displayed.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = ParseError;

            fn from_str(s: &str) -> Result<$name, ParseError> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(ParseError { kind: $kind, text: s.to_string() }),
                }
            }
        }
    };
}

status! {
    /// Where a deployment is in its life.
    DeploymentStatus, "deployment status" {
        /// Recorded; nothing has been changed yet.
        Planned => "planned",
        /// At least one instance has been snapshotted, so something may have
        /// changed. A deployment found here on start-up was interrupted.
        Applying => "applying",
        Succeeded => "succeeded",
        Failed => "failed",
        RolledBack => "rolled_back",
        RollbackFailed => "rollback_failed",
    }
}

status! {
    /// Where one instance's change is in its life.
    InstanceStatus, "instance status" {
        /// Nothing done yet.
        Pending => "pending",
        /// Its state before the change is recorded; it has not been changed.
        Snapshotted => "snapshotted",
        /// dbfleet started changing it; the outcome is not recorded yet.
        Applying => "applying",
        Applied => "applied",
        /// Applied, and the server was seen to hold the planned values.
        Verified => "verified",
        Failed => "failed",
        /// Returned to its snapshot.
        Restored => "restored",
        RestoreFailed => "restore_failed",
    }
}

/// A deployment or instance status, as named in
/// [`StoreError::IllegalTransition`](crate::StoreError::IllegalTransition).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Deployment(DeploymentStatus),
    Instance(InstanceStatus),
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            State::Deployment(s) => s.fmt(f),
            State::Instance(s) => s.fmt(f),
        }
    }
}

/// What [`StateStore::begin_deployment`](crate::StateStore::begin_deployment)
/// records.
#[derive(Clone, Debug, PartialEq)]
pub struct NewDeployment {
    /// The fleet repo's revision the plan was made from (a commit id, with a
    /// marker if the work tree was dirty); the store does not interpret it.
    pub fleet_revision: String,
    /// The rendered configuration being applied, if it was stored.
    pub rendered: Option<RevisionId>,
    /// Who ran the apply.
    pub actor: String,
    pub plan: serde_json::Value,
    /// One line for listings.
    pub summary: String,
    /// The instances the plan changes, in the order they are applied.
    pub instances: Vec<PlannedInstance>,
}

/// One instance in a [`NewDeployment`].
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedInstance {
    pub instance: String,
    pub engine: EngineKind,
    /// This instance's part of the plan.
    pub changes: serde_json::Value,
}

/// A recorded deployment.
#[derive(Clone, Debug, PartialEq)]
pub struct Deployment {
    pub id: DeploymentId,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// When it last took a final status.
    pub finished_at: Option<Timestamp>,
    pub fleet_revision: String,
    pub rendered: Option<RevisionId>,
    pub actor: String,
    pub status: DeploymentStatus,
    pub plan: serde_json::Value,
    pub summary: String,
    /// In plan order.
    pub instances: Vec<InstanceChange>,
}

/// What one deployment did to one instance.
#[derive(Clone, Debug, PartialEq)]
pub struct InstanceChange {
    pub deployment: DeploymentId,
    pub instance: String,
    pub engine: EngineKind,
    pub status: InstanceStatus,
    pub planned: serde_json::Value,
    /// Observed before anything was changed; `None` until snapshotted.
    pub before: Option<Observed>,
    /// Observed after the last recorded outcome.
    pub after: Option<Observed>,
    pub error: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub snapshot_at: Option<Timestamp>,
    /// When dbfleet started changing the instance; set means the instance
    /// may differ from `before`.
    pub applying_at: Option<Timestamp>,
    /// When the last outcome was recorded.
    pub result_at: Option<Timestamp>,
}

/// The state to restore an instance to, and where it was recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    pub deployment: DeploymentId,
    pub instance: String,
    pub engine: EngineKind,
    pub before: Observed,
    pub taken_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_text() {
        for s in DeploymentStatus::ALL {
            assert_eq!(s.as_str().parse::<DeploymentStatus>(), Ok(*s));
        }
        for s in InstanceStatus::ALL {
            assert_eq!(s.as_str().parse::<InstanceStatus>(), Ok(*s));
        }
        assert!("done".parse::<DeploymentStatus>().is_err());
    }

    #[test]
    fn deployment_ids_are_v7_uuids() {
        let id = DeploymentId::generate();
        assert_eq!(id.as_str().parse::<DeploymentId>(), Ok(id.clone()));
        assert!(DeploymentId::generate() > id, "ids made later in the process sort later");
        // A v4 UUID is well formed but not an id this store made.
        assert!("0b7c6b2e-6d3f-4a55-9a57-0c1d2e3f4a5b".parse::<DeploymentId>().is_err());
        assert!("latest".parse::<DeploymentId>().is_err());
    }
}
