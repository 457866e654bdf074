//! The SQLite backend of [`StateStore`], and the only place that holds SQL.
//!
//! Each call takes one transaction; writes take SQLite's write lock when they
//! begin (`BEGIN IMMEDIATE`). In WAL mode a transaction that reads first and
//! writes later cannot wait for that lock: if another connection committed
//! since it read, SQLite fails it with `SQLITE_BUSY` at once, whatever the
//! busy timeout, because its snapshot is stale. Taking the lock up front
//! makes concurrent writers, threads or processes, queue for up to
//! [`BUSY_TIMEOUT`] instead, and makes the rule checks in `rules` see the
//! state they write over.
//!
//! A second backend follows the same shape: load the current state inside
//! the transaction, run the `rules` check, write.

use std::fs;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use jiff::Timestamp;
use rusqlite::types::Type;
use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::StateStore;
use crate::error::StoreError;
use crate::migrate::{self, AppliedMigration, MIGRATIONS};
use crate::revision::{self, FileToStore, Revision, RevisionId, StoredFile};
use crate::rules::{self, InstanceState};
use crate::types::{
    Deployment, DeploymentId, DeploymentStatus, InstanceChange, InstanceStatus, NewDeployment, Observed, Snapshot,
};

/// How long a call waits for another writer before failing. Writers hold
/// the lock for one short call each, so a wait this long means something is
/// stuck rather than busy.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The table that records applied migrations. It is created outside the
/// versioned migrations because the runner reads it to decide which to run.
const SCHEMA_MIGRATIONS: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    checksum   TEXT NOT NULL,
    applied_at TEXT NOT NULL
) STRICT";

const DEPLOYMENT_COLUMNS: &str =
    "id, created_at, updated_at, finished_at, fleet_revision, rendered_revision, actor, status, plan, summary";

const CHANGE_COLUMNS: &str = "deployment_id, instance, engine, status, planned, observed_before, observed_after, \
     error, created_at, updated_at, snapshot_at, applying_at, result_at";

/// dbfleet's state in an SQLite file.
#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    /// The store's one connection. SQLite itself orders writers across
    /// connections and processes; the mutex only lets threads share this
    /// connection, which is `Send` but not `Sync`.
    conn: Mutex<Connection>,
}

/// What can go wrong inside a transaction: SQLite failing, or a rule
/// refusing. Lets `?` work on both; `with_tx` adds the path.
enum Failure {
    Db(rusqlite::Error),
    Store(StoreError),
}

impl From<rusqlite::Error> for Failure {
    fn from(e: rusqlite::Error) -> Failure {
        Failure::Db(e)
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Failure {
        Failure::Store(e)
    }
}

impl SqliteStore {
    /// Where a fleet repo keeps its state store unless told otherwise.
    pub fn default_path(fleet_repo: &Path) -> PathBuf {
        fleet_repo.join(".dbfleet").join("state.db")
    }

    /// Opens the store at `path`, creating it and its parent directories if
    /// needed, and applies the migrations it lacks.
    ///
    /// Refuses a store that a newer dbfleet migrated or whose applied
    /// migrations differ from this binary's ([`StoreError::Migration`]).
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent)
                .map_err(|source| StoreError::CreateDir { path: parent.to_path_buf(), source })?;
        }
        let db_err = |source| StoreError::Sqlite { path: path.to_path_buf(), source: Box::new(source) };
        let mut conn = Connection::open(path).map_err(db_err)?;
        configure(&conn).map_err(db_err)?;
        run_migrations(&mut conn, path)?;
        Ok(SqliteStore { path: path.to_path_buf(), conn: Mutex::new(conn) })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn with_tx<T>(
        &self,
        behavior: TransactionBehavior,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, Failure>,
    ) -> Result<T, StoreError> {
        // A panic while the lock was held dropped its transaction, which
        // rolled back: the connection is as good as before.
        let mut conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let result = conn.transaction_with_behavior(behavior).map_err(Failure::Db).and_then(|tx| {
            let value = f(&tx)?;
            tx.commit()?;
            Ok(value)
        });
        result.map_err(|failure| match failure {
            Failure::Db(source) => StoreError::Sqlite { path: self.path.clone(), source: Box::new(source) },
            Failure::Store(e) => e,
        })
    }

    fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T, Failure>) -> Result<T, StoreError> {
        self.with_tx(TransactionBehavior::Immediate, f)
    }

    /// Reads in a transaction too, so that a deployment and its instances
    /// come from one snapshot of the database.
    fn read<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T, Failure>) -> Result<T, StoreError> {
        self.with_tx(TransactionBehavior::Deferred, f)
    }

    /// Checks one step of an instance change with `rule` and, if it allows
    /// the step, writes it with `update`, which gets the deployment's status.
    fn instance_step(
        &self,
        rule: rules::InstanceRule,
        deployment: &DeploymentId,
        instance: &str,
        to: InstanceStatus,
        update: impl FnOnce(&Transaction<'_>, DeploymentStatus) -> rusqlite::Result<()>,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            let status = deployment_status(tx, deployment)?;
            let from = instance_state(tx, deployment, instance)?;
            rule(deployment, status, instance, from, to)?;
            update(tx, status)?;
            Ok(())
        })
    }
}

/// Sets up a new connection. Each of these is per connection, not stored in
/// the file (except the journal mode), so every open repeats them.
fn configure(conn: &Connection) -> rusqlite::Result<()> {
    // First, so that the statements below already wait for locks.
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // WAL lets readers such as `dbfleet status` run while an apply writes.
    conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))?;
    // In WAL mode only FULL makes a commit survive power loss; a snapshot
    // must, since the caller changes the server right after recording it.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Overwrites deleted content with zeros, so that erasing the plaintext
    // of contents later marked sensitive leaves no copy in free pages.
    conn.pragma_update(None, "secure_delete", "ON")?;
    Ok(())
}

/// Applies pending migrations, one transaction each, re-checking under the
/// write lock before each so that concurrent openers apply each once.
fn run_migrations(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let db_err = |source| StoreError::Sqlite { path: path.to_path_buf(), source: Box::new(source) };
    let migration_err = |source| StoreError::Migration { path: path.to_path_buf(), source };
    conn.execute_batch(SCHEMA_MIGRATIONS).map_err(db_err)?;

    // Checked once without the write lock, so that opening an up-to-date
    // store, the common case, never waits for a writer.
    if migrate::check(&applied_migrations(conn).map_err(db_err)?, MIGRATIONS).map_err(migration_err)?.is_empty() {
        return Ok(());
    }

    let mut applied_now = Vec::new();
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db_err)?;
        let applied = applied_migrations(&tx).map_err(db_err)?;
        let pending = migrate::check(&applied, MIGRATIONS).map_err(migration_err)?;
        let Some(next) = pending.first() else { return Ok(()) };
        let result = tx
            .execute_batch(next.sql)
            .and_then(|()| {
                tx.execute(
                    "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?1, ?2, ?3, ?4)",
                    params![next.version, next.name, next.checksum(), ts(Timestamp::now())],
                )
            })
            .and_then(|_| tx.commit());
        if let Err(source) = result {
            return Err(StoreError::MigrationFailed {
                path: path.to_path_buf(),
                version: next.version,
                name: next.name,
                applied: applied_now,
                source: Box::new(source),
            });
        }
        applied_now.push(next.version);
    }
}

fn applied_migrations(conn: &Connection) -> rusqlite::Result<Vec<AppliedMigration>> {
    conn.prepare("SELECT version, name, checksum FROM schema_migrations ORDER BY version")?
        .query_map([], |row| Ok(AppliedMigration { version: row.get(0)?, name: row.get(1)?, checksum: row.get(2)? }))?
        .collect()
}

impl StateStore for SqliteStore {
    fn put_revision(&self, files: &[FileToStore<'_>]) -> Result<RevisionId, StoreError> {
        let (id, files) = revision::hash_files(files)?;
        let erased = self.write(|tx| {
            let mut erased = 0;
            for file in &files {
                let contents = (!file.sensitive).then_some(file.contents);
                tx.prepare_cached(
                    "INSERT INTO blobs (sha256, size, contents) VALUES (?1, ?2, ?3) ON CONFLICT (sha256) DO NOTHING",
                )?
                .execute(params![file.sha256, file.contents.len() as i64, contents])?;
                if file.sensitive {
                    erased += tx
                        .prepare_cached("UPDATE blobs SET contents = NULL WHERE sha256 = ?1 AND contents IS NOT NULL")?
                        .execute([&file.sha256])?;
                }
            }
            let inserted = tx
                .prepare_cached("INSERT INTO revisions (id, created_at) VALUES (?1, ?2) ON CONFLICT (id) DO NOTHING")?
                .execute(params![id.as_str(), ts(Timestamp::now())])?;
            if inserted == 1 {
                let mut insert =
                    tx.prepare_cached("INSERT INTO revision_files (revision_id, path, sha256) VALUES (?1, ?2, ?3)")?;
                for file in &files {
                    insert.execute(params![id.as_str(), file.path, file.sha256])?;
                }
            }
            Ok(erased)
        })?;
        if erased > 0 {
            // The erased plaintext is still in WAL frames written earlier;
            // moving every frame into the main file and emptying the WAL
            // leaves only the zeroed pages. While another connection reads
            // an older snapshot the WAL cannot be emptied; it is when the
            // last connection closes, which checkpoints and deletes it.
            let conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                .map_err(|source| StoreError::Sqlite { path: self.path.clone(), source: Box::new(source) })?;
        }
        Ok(id)
    }

    fn get_revision(&self, id: &RevisionId) -> Result<Option<Revision>, StoreError> {
        self.read(|tx| {
            let created_at = tx
                .query_row("SELECT created_at FROM revisions WHERE id = ?1", [id.as_str()], |row| parsed(row, 0))
                .optional()?;
            let Some(created_at) = created_at else { return Ok(None) };
            let files = tx
                .prepare(
                    "SELECT f.path, f.sha256, b.size, b.contents FROM revision_files f \
                     JOIN blobs b ON b.sha256 = f.sha256 WHERE f.revision_id = ?1 ORDER BY f.path",
                )?
                .query_map([id.as_str()], |row| {
                    Ok(StoredFile {
                        path: row.get(0)?,
                        sha256: row.get(1)?,
                        size: row.get::<_, i64>(2)?.try_into().map_err(|e| conversion(2, Type::Integer, e))?,
                        contents: row.get(3)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(Some(Revision { id: id.clone(), created_at, files }))
        })
    }

    fn begin_deployment(&self, new: &NewDeployment) -> Result<DeploymentId, StoreError> {
        for (n, planned) in new.instances.iter().enumerate() {
            if new.instances[..n].iter().any(|earlier| earlier.instance == planned.instance) {
                return Err(StoreError::DuplicateInstance { instance: planned.instance.clone() });
            }
        }
        let id = DeploymentId::generate();
        let now = ts(Timestamp::now());
        self.write(|tx| {
            if let Some(rendered) = &new.rendered {
                let known = tx.query_row("SELECT 1 FROM revisions WHERE id = ?1", [rendered.as_str()], |_| Ok(()));
                if known.optional()?.is_none() {
                    return Err(StoreError::UnknownRevision { revision: rendered.clone() }.into());
                }
            }
            tx.execute(
                "INSERT INTO deployments (id, created_at, updated_at, fleet_revision, rendered_revision, actor, \
                 status, plan, summary) VALUES (?1, ?2, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    id.as_str(),
                    now,
                    new.fleet_revision,
                    new.rendered.as_ref().map(RevisionId::as_str),
                    new.actor,
                    DeploymentStatus::Planned.as_str(),
                    to_json(&new.plan)?,
                    new.summary,
                ],
            )?;
            let mut insert = tx.prepare(
                "INSERT INTO instance_changes (deployment_id, instance, position, engine, status, planned, \
                 created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
            )?;
            for (position, planned) in new.instances.iter().enumerate() {
                insert.execute(params![
                    id.as_str(),
                    planned.instance,
                    position as i64,
                    planned.engine.as_str(),
                    InstanceStatus::Pending.as_str(),
                    to_json(&planned.changes)?,
                    now,
                ])?;
            }
            Ok(())
        })?;
        Ok(id)
    }

    fn record_snapshot(&self, deployment: &DeploymentId, instance: &str, before: &Observed) -> Result<(), StoreError> {
        self.instance_step(rules::instance_step, deployment, instance, InstanceStatus::Snapshotted, |tx, status| {
            let now = ts(Timestamp::now());
            tx.execute(
                "UPDATE instance_changes SET status = ?3, observed_before = ?4, snapshot_at = ?5, updated_at = ?5 \
                 WHERE deployment_id = ?1 AND instance = ?2",
                params![deployment.as_str(), instance, InstanceStatus::Snapshotted.as_str(), to_json(before)?, now],
            )?;
            if status == DeploymentStatus::Planned {
                tx.execute(
                    "UPDATE deployments SET status = ?2, updated_at = ?3 WHERE id = ?1",
                    params![deployment.as_str(), DeploymentStatus::Applying.as_str(), now],
                )?;
            }
            Ok(())
        })
    }

    fn mark_applying(&self, deployment: &DeploymentId, instance: &str) -> Result<(), StoreError> {
        self.instance_step(rules::instance_step, deployment, instance, InstanceStatus::Applying, |tx, _| {
            tx.execute(
                "UPDATE instance_changes SET status = ?3, applying_at = ?4, updated_at = ?4 \
                 WHERE deployment_id = ?1 AND instance = ?2",
                params![deployment.as_str(), instance, InstanceStatus::Applying.as_str(), ts(Timestamp::now())],
            )?;
            Ok(())
        })
    }

    fn record_result(
        &self,
        deployment: &DeploymentId,
        instance: &str,
        status: InstanceStatus,
        after: Option<&Observed>,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        self.instance_step(rules::result_step, deployment, instance, status, |tx, _| {
            let after = after.map(to_json).transpose()?;
            tx.execute(
                "UPDATE instance_changes SET status = ?3, observed_after = COALESCE(?4, observed_after), \
                 error = COALESCE(?5, error), result_at = ?6, updated_at = ?6 \
                 WHERE deployment_id = ?1 AND instance = ?2",
                params![deployment.as_str(), instance, status.as_str(), after, error, ts(Timestamp::now())],
            )?;
            Ok(())
        })
    }

    fn finish_deployment(&self, deployment: &DeploymentId, status: DeploymentStatus) -> Result<(), StoreError> {
        self.write(|tx| {
            let from = deployment_status(tx, deployment)?;
            let instances = tx
                .prepare(
                    "SELECT instance, status, applying_at IS NOT NULL FROM instance_changes \
                     WHERE deployment_id = ?1 ORDER BY position",
                )?
                .query_map([deployment.as_str()], |row| {
                    Ok((row.get(0)?, InstanceState { status: parsed(row, 1)?, touched: row.get(2)? }))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rules::finish(deployment, from, status, &instances)?;
            tx.execute(
                "UPDATE deployments SET status = ?2, finished_at = ?3, updated_at = ?3 WHERE id = ?1",
                params![deployment.as_str(), status.as_str(), ts(Timestamp::now())],
            )?;
            Ok(())
        })
    }

    fn deployment(&self, id: &DeploymentId) -> Result<Option<Deployment>, StoreError> {
        self.read(|tx| {
            let sql = format!("SELECT {DEPLOYMENT_COLUMNS} FROM deployments WHERE id = ?1");
            let found = tx.query_row(&sql, [id.as_str()], deployment_row).optional()?;
            Ok(found.map(|d| with_instances(tx, d)).transpose()?)
        })
    }

    fn list_deployments(&self, limit: usize) -> Result<Vec<Deployment>, StoreError> {
        self.read(|tx| {
            let sql =
                format!("SELECT {DEPLOYMENT_COLUMNS} FROM deployments ORDER BY created_at DESC, id DESC LIMIT ?1");
            deployments(tx, &sql, params![sql_limit(limit)])
        })
    }

    fn latest_snapshot_for(&self, instance: &str) -> Result<Option<Snapshot>, StoreError> {
        self.read(|tx| {
            let snapshot = tx
                .query_row(
                    "SELECT deployment_id, instance, engine, observed_before, snapshot_at FROM instance_changes \
                     WHERE instance = ?1 AND applying_at IS NOT NULL AND status <> ?2 \
                     ORDER BY applying_at DESC, deployment_id DESC LIMIT 1",
                    params![instance, InstanceStatus::Restored.as_str()],
                    |row| {
                        Ok(Snapshot {
                            deployment: parsed(row, 0)?,
                            instance: row.get(1)?,
                            engine: parsed(row, 2)?,
                            before: json(row, 3)?,
                            taken_at: parsed(row, 4)?,
                        })
                    },
                )
                .optional()?;
            Ok(snapshot)
        })
    }

    fn unfinished_deployments(&self) -> Result<Vec<Deployment>, StoreError> {
        self.read(|tx| {
            let sql = format!("SELECT {DEPLOYMENT_COLUMNS} FROM deployments WHERE status = ?1 ORDER BY created_at, id");
            deployments(tx, &sql, params![DeploymentStatus::Applying.as_str()])
        })
    }

    fn instance_history(&self, instance: &str, limit: usize) -> Result<Vec<InstanceChange>, StoreError> {
        self.read(|tx| {
            let sql = format!(
                "SELECT {CHANGE_COLUMNS} FROM instance_changes WHERE instance = ?1 \
                 ORDER BY created_at DESC, deployment_id DESC LIMIT ?2"
            );
            let changes = tx
                .prepare(&sql)?
                .query_map(params![instance, sql_limit(limit)], change_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(changes)
        })
    }
}

fn deployment_status(conn: &Connection, deployment: &DeploymentId) -> Result<DeploymentStatus, Failure> {
    conn.query_row("SELECT status FROM deployments WHERE id = ?1", [deployment.as_str()], |row| parsed(row, 0))
        .optional()?
        .ok_or_else(|| StoreError::UnknownDeployment { deployment: deployment.clone() }.into())
}

fn instance_state(conn: &Connection, deployment: &DeploymentId, instance: &str) -> Result<InstanceState, Failure> {
    conn.query_row(
        "SELECT status, applying_at IS NOT NULL FROM instance_changes WHERE deployment_id = ?1 AND instance = ?2",
        params![deployment.as_str(), instance],
        |row| Ok(InstanceState { status: parsed(row, 0)?, touched: row.get(1)? }),
    )
    .optional()?
    .ok_or_else(|| {
        StoreError::UnknownInstance { deployment: deployment.clone(), instance: instance.to_string() }.into()
    })
}

/// Runs a query over deployments and loads each one's instances.
fn deployments(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> Result<Vec<Deployment>, Failure> {
    let found = conn.prepare(sql)?.query_map(params, deployment_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(found.into_iter().map(|d| with_instances(conn, d)).collect::<rusqlite::Result<_>>()?)
}

fn with_instances(conn: &Connection, mut deployment: Deployment) -> rusqlite::Result<Deployment> {
    let sql = format!("SELECT {CHANGE_COLUMNS} FROM instance_changes WHERE deployment_id = ?1 ORDER BY position");
    deployment.instances =
        conn.prepare_cached(&sql)?.query_map([deployment.id.as_str()], change_row)?.collect::<rusqlite::Result<_>>()?;
    Ok(deployment)
}

/// Reads the columns of [`DEPLOYMENT_COLUMNS`], without instances.
fn deployment_row(row: &Row<'_>) -> rusqlite::Result<Deployment> {
    Ok(Deployment {
        id: parsed(row, 0)?,
        created_at: parsed(row, 1)?,
        updated_at: parsed(row, 2)?,
        finished_at: parsed_opt(row, 3)?,
        fleet_revision: row.get(4)?,
        rendered: parsed_opt(row, 5)?,
        actor: row.get(6)?,
        status: parsed(row, 7)?,
        plan: json(row, 8)?,
        summary: row.get(9)?,
        instances: Vec::new(),
    })
}

/// Reads the columns of [`CHANGE_COLUMNS`].
fn change_row(row: &Row<'_>) -> rusqlite::Result<InstanceChange> {
    Ok(InstanceChange {
        deployment: parsed(row, 0)?,
        instance: row.get(1)?,
        engine: parsed(row, 2)?,
        status: parsed(row, 3)?,
        planned: json(row, 4)?,
        before: json_opt(row, 5)?,
        after: json_opt(row, 6)?,
        error: row.get(7)?,
        created_at: parsed(row, 8)?,
        updated_at: parsed(row, 9)?,
        snapshot_at: parsed_opt(row, 10)?,
        applying_at: parsed_opt(row, 11)?,
        result_at: parsed_opt(row, 12)?,
    })
}

/// A time as stored: RFC 3339 in UTC with exactly three fractional digits,
/// so that stored times sort as text (a varying number of digits would put
/// `…:05Z` after `…:05.5Z`).
fn ts(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn sql_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

fn to_json(value: &impl Serialize) -> rusqlite::Result<String> {
    serde_json::to_string(value).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

fn conversion(idx: usize, ty: Type, e: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(idx, ty, Box::new(e))
}

/// Reads a text column through `FromStr`; stored text that does not parse
/// (a status a newer dbfleet wrote, a damaged file) is a conversion error
/// naming the column.
fn parsed<T>(row: &Row<'_>, idx: usize) -> rusqlite::Result<T>
where
    T: FromStr,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    row.get::<_, String>(idx)?.parse().map_err(|e| conversion(idx, Type::Text, e))
}

fn parsed_opt<T>(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<T>>
where
    T: FromStr,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    row.get::<_, Option<String>>(idx)?.map(|text| text.parse().map_err(|e| conversion(idx, Type::Text, e))).transpose()
}

fn json<T: DeserializeOwned>(row: &Row<'_>, idx: usize) -> rusqlite::Result<T> {
    serde_json::from_str(&row.get::<_, String>(idx)?).map_err(|e| conversion(idx, Type::Text, e))
}

fn json_opt<T: DeserializeOwned>(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<T>> {
    row.get::<_, Option<String>>(idx)?
        .map(|text| serde_json::from_str(&text).map_err(|e| conversion(idx, Type::Text, e)))
        .transpose()
}

#[cfg(test)]
mod tests;
