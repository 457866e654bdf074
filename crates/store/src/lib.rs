//! dbfleet's state store: the record of what dbfleet rendered and what each
//! `dbfleet apply` did to each instance, and the only component that writes
//! that record.
//!
//! [`StateStore`] is the API; [`SqliteStore`] implements it over an embedded
//! SQLite file (by default `.dbfleet/state.db` in the fleet repo, see
//! [`SqliteStore::default_path`]). It holds content-addressed rendered
//! [`Revision`]s, [`Deployment`]s and, within them, one [`InstanceChange`] per
//! instance with the state observed before anything was changed, so that a
//! rollback, or the next start after a crash, knows what to restore.
//!
//! Every call is one write transaction, and every state change is checked
//! against the rules in `rules` before it is written: an illegal one is a
//! [`StoreError::IllegalTransition`], not a silent overwrite. The schema is
//! versioned by embedded migrations ([`migrate`]), which opening the store
//! applies.
//!
//! The store does not plan, render or talk to servers: plans and planned
//! changes are opaque JSON to it. Rendered files marked sensitive are kept as
//! digests only, but observed state is stored as given, so callers must not
//! put secret values in an [`Observed`] map.

mod digest;
mod error;
pub mod migrate;
mod revision;
mod rules;
mod sqlite;
mod types;

pub use error::{ParseError, StoreError, Subject};
pub use revision::{FileToStore, Revision, RevisionId, StoredFile};
pub use sqlite::SqliteStore;
pub use types::{
    Deployment, DeploymentId, DeploymentStatus, InstanceChange, InstanceStatus, NewDeployment, Observed,
    PlannedInstance, Snapshot, State,
};

/// Reads and writes dbfleet's state.
///
/// Each method is atomic: it either does all it says or nothing, and what it
/// wrote is durable when it returns. A second backend (PostgreSQL, for several
/// control-plane nodes) implements the same trait with the same rules.
pub trait StateStore: Send + Sync {
    /// Stores a rendered configuration and returns its content address.
    ///
    /// The id depends only on the paths and contents, not on their order or
    /// on when they were stored: storing the same files again returns the
    /// same id and adds nothing. The contents of files marked
    /// [`FileToStore::sensitive`] are never stored, only their sha256 and
    /// size; and since that mark sticks to the contents, any plaintext copy
    /// stored earlier under another path or revision is erased.
    fn put_revision(&self, files: &[FileToStore<'_>]) -> Result<RevisionId, StoreError>;

    /// The revision with this id, if it was stored.
    fn get_revision(&self, id: &RevisionId) -> Result<Option<Revision>, StoreError>;

    /// Records a new deployment in [`DeploymentStatus::Planned`], with each of
    /// its instances [`InstanceStatus::Pending`].
    fn begin_deployment(&self, new: &NewDeployment) -> Result<DeploymentId, StoreError>;

    /// Records the state of `instance` observed before any change to it
    /// (pending to snapshotted). The first snapshot of a deployment also moves
    /// the deployment from planned to applying, so that from the first moment
    /// anything may change, a crash leaves it in
    /// [`StateStore::unfinished_deployments`].
    ///
    /// Durable when it returns: the caller changes the instance only after.
    fn record_snapshot(&self, deployment: &DeploymentId, instance: &str, before: &Observed) -> Result<(), StoreError>;

    /// Records that dbfleet is about to change `instance` (snapshotted to
    /// applying). From here on, the instance may differ from its snapshot.
    fn mark_applying(&self, deployment: &DeploymentId, instance: &str) -> Result<(), StoreError>;

    /// Records an outcome for `instance`: applied, verified or failed while
    /// the deployment runs, restored or restore_failed at any time after the
    /// instance was changed. `after` is the state observed afterwards, `error`
    /// what went wrong; each, when `None`, keeps the value recorded earlier,
    /// so a restore does not erase why it was needed.
    fn record_result(
        &self,
        deployment: &DeploymentId,
        instance: &str,
        status: InstanceStatus,
        after: Option<&Observed>,
        error: Option<&str>,
    ) -> Result<(), StoreError>;

    /// Moves a deployment to a final status: succeeded, failed, rolled_back or
    /// rollback_failed. Refused while any instance is still applying, for
    /// succeeded unless every instance is applied or verified, and for
    /// rolled_back while any changed instance is not restored.
    fn finish_deployment(&self, deployment: &DeploymentId, status: DeploymentStatus) -> Result<(), StoreError>;

    /// The deployment with this id and its instance changes, in plan order.
    fn deployment(&self, id: &DeploymentId) -> Result<Option<Deployment>, StoreError>;

    /// The `limit` most recent deployments, newest first.
    fn list_deployments(&self, limit: usize) -> Result<Vec<Deployment>, StoreError>;

    /// The state to return `instance` to for `dbfleet rollback INSTANCE`: the
    /// snapshot taken before the most recent change that reached applying
    /// and has not been restored since. Marking that change restored makes
    /// the next call return the one before it.
    fn latest_snapshot_for(&self, instance: &str) -> Result<Option<Snapshot>, StoreError>;

    /// Deployments still applying, oldest first: on start-up, these are the
    /// ones a crash interrupted, each with the snapshots it had taken.
    fn unfinished_deployments(&self) -> Result<Vec<Deployment>, StoreError>;

    /// The `limit` most recent changes of `instance` across deployments,
    /// newest first.
    fn instance_history(&self, instance: &str, limit: usize) -> Result<Vec<InstanceChange>, StoreError>;
}
