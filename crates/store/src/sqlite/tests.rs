//! Tests of the SQLite backend on temporary files: migrations, content
//! addressing and secrecy of revisions, the deployment lifecycle, crash
//! recovery, refused transitions and concurrent writers.

use std::path::Path;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use dbfleet_model::EngineKind;
use serde_json::json;
use tempfile::TempDir;

use super::*;
use crate::migrate::MigrationError;
use crate::types::{PlannedInstance, State};

fn temp() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = SqliteStore::default_path(dir.path());
    (dir, path)
}

fn observed(pairs: &[(&str, &str)]) -> Observed {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn planned(instances: &[&str]) -> NewDeployment {
    NewDeployment {
        fleet_revision: "3f2a9c1".to_string(),
        rendered: None,
        actor: "alice".to_string(),
        plan: json!({"changes": instances.len()}),
        summary: format!("{} instances", instances.len()),
        instances: instances
            .iter()
            .map(|name| PlannedInstance {
                instance: name.to_string(),
                engine: EngineKind::Postgresql,
                changes: json!([{"key": "work_mem", "to": "64MB"}]),
            })
            .collect(),
    }
}

fn count(store: &SqliteStore, table: &str) -> i64 {
    let conn = store.conn.lock().unwrap();
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |row| row.get(0)).unwrap()
}

/// Takes `instance` of `deployment` from pending to `status` through the
/// steps a real apply takes.
fn apply(store: &SqliteStore, deployment: &DeploymentId, instance: &str, before: &str, after: &str) {
    store.record_snapshot(deployment, instance, &observed(&[("work_mem", before)])).unwrap();
    store.mark_applying(deployment, instance).unwrap();
    store
        .record_result(deployment, instance, InstanceStatus::Applied, Some(&observed(&[("work_mem", after)])), None)
        .unwrap();
}

/// Every file SQLite keeps for the store (main file, WAL, shared memory),
/// concatenated, to search for bytes that must not be there.
fn all_bytes(db: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for entry in fs::read_dir(db.parent().unwrap()).unwrap() {
        bytes.extend(fs::read(entry.unwrap().path()).unwrap());
    }
    bytes
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

// --- opening and migrations ---------------------------------------------

#[test]
fn open_creates_parent_directories() {
    let dir = tempfile::tempdir().unwrap();
    let path = SqliteStore::default_path(&dir.path().join("fleet"));
    assert!(path.ends_with("fleet/.dbfleet/state.db"));
    SqliteStore::open(&path).unwrap();
    assert!(path.is_file());
}

#[test]
fn connection_is_wal_with_foreign_keys_and_busy_timeout() {
    let (_dir, path) = temp();
    let store = SqliteStore::open(&path).unwrap();
    let conn = store.conn.lock().unwrap();
    let pragma = |name: &str| {
        conn.query_row(&format!("PRAGMA {name}"), [], |row| row.get::<_, rusqlite::types::Value>(0)).unwrap()
    };
    assert_eq!(pragma("journal_mode"), rusqlite::types::Value::Text("wal".to_string()));
    assert_eq!(pragma("foreign_keys"), rusqlite::types::Value::Integer(1));
    assert_eq!(pragma("synchronous"), rusqlite::types::Value::Integer(2), "FULL");
    assert_eq!(pragma("busy_timeout"), rusqlite::types::Value::Integer(BUSY_TIMEOUT.as_millis() as i64));
}

#[test]
fn migrations_apply_once_and_reopening_changes_nothing() {
    let (_dir, path) = temp();
    let rows = |store: &SqliteStore| -> Vec<(u32, String, String, String)> {
        let conn = store.conn.lock().unwrap();
        let mut stmt = conn.prepare("SELECT version, name, checksum, applied_at FROM schema_migrations").unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).unwrap().map(Result::unwrap).collect()
    };
    let first = rows(&SqliteStore::open(&path).unwrap());
    let expected: Vec<(u32, String, String)> =
        MIGRATIONS.iter().map(|m| (m.version, m.name.to_string(), m.checksum())).collect();
    let got: Vec<(u32, String, String)> = first.iter().map(|(v, n, c, _)| (*v, n.clone(), c.clone())).collect();
    assert_eq!(got, expected);

    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(rows(&store), first, "reopening applied nothing again");
    assert_eq!(count(&store, "deployments"), 0);
}

#[test]
fn store_from_a_newer_dbfleet_is_refused() {
    let (_dir, path) = temp();
    let store = SqliteStore::open(&path).unwrap();
    store
        .conn
        .lock()
        .unwrap()
        .execute(
            "INSERT INTO schema_migrations VALUES (9999, 'from_the_future', ?1, '2030-01-01T00:00:00.000Z')",
            ["0".repeat(64)],
        )
        .unwrap();
    drop(store);
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(matches!(&err, StoreError::Migration { source: MigrationError::Missing { version: 9999 }, .. }), "{err:?}");
}

#[test]
fn changed_applied_migration_is_refused() {
    let (_dir, path) = temp();
    let store = SqliteStore::open(&path).unwrap();
    store
        .conn
        .lock()
        .unwrap()
        .execute("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1", [])
        .unwrap();
    drop(store);
    let err = SqliteStore::open(&path).unwrap_err();
    let StoreError::Migration { source: MigrationError::Divergent { version, expected_checksum, found }, .. } = err
    else {
        panic!("{err:?}")
    };
    assert_eq!((version, expected_checksum.as_str(), found), (1, "edited", MIGRATIONS[0].checksum()));
}

/// The schema's CHECK constraints list the statuses the Rust enums know.
#[test]
fn schema_accepts_every_status() {
    for status in DeploymentStatus::ALL {
        assert!(MIGRATIONS[0].sql.contains(&format!("'{status}'")), "{status}");
    }
    for status in InstanceStatus::ALL {
        assert!(MIGRATIONS[0].sql.contains(&format!("'{status}'")), "{status}");
    }
}

#[test]
fn stored_times_have_a_fixed_width() {
    let whole: Timestamp = "2026-11-24T13:36:05Z".parse().unwrap();
    let fraction: Timestamp = "2026-11-24T13:36:05.5Z".parse().unwrap();
    assert_eq!(ts(whole), "2026-11-24T13:36:05.000Z");
    assert!(ts(whole) < ts(fraction));
}

// --- revisions -------------------------------------------------------------

#[test]
fn same_files_twice_give_one_revision() {
    let (_dir, path) = temp();
    let store = SqliteStore::open(&path).unwrap();
    let a = FileToStore { path: "pg-1/postgresql.conf", contents: b"work_mem = '64MB'\n", sensitive: false };
    let b = FileToStore { path: "redis-1/redis.conf", contents: b"maxmemory 1gb\n", sensitive: false };

    let first = store.put_revision(&[a, b]).unwrap();
    let again = store.put_revision(&[b, a]).unwrap();
    assert_eq!(first, again);
    assert_eq!((count(&store, "revisions"), count(&store, "revision_files"), count(&store, "blobs")), (1, 2, 2));

    let revision = store.get_revision(&first).unwrap().unwrap();
    let files: Vec<(&str, Option<&[u8]>)> =
        revision.files.iter().map(|f| (f.path.as_str(), f.contents.as_deref())).collect();
    assert_eq!(files, [("pg-1/postgresql.conf", Some(a.contents)), ("redis-1/redis.conf", Some(b.contents))]);
    assert_eq!(revision.files[0].sha256, crate::digest::sha256_hex(a.contents));
    assert_eq!(revision.files[0].size, a.contents.len() as u64);
}

#[test]
fn revisions_share_unchanged_contents() {
    let (_dir, path) = temp();
    let store = SqliteStore::open(&path).unwrap();
    let same = FileToStore { path: "redis-1/redis.conf", contents: b"maxmemory 1gb\n", sensitive: false };
    let v1 = FileToStore { path: "pg-1/postgresql.conf", contents: b"work_mem = '64MB'\n", sensitive: false };
    let v2 = FileToStore { contents: b"work_mem = '128MB'\n", ..v1 };
    let first = store.put_revision(&[same, v1]).unwrap();
    let second = store.put_revision(&[same, v2]).unwrap();
    assert_ne!(first, second);
    assert_eq!((count(&store, "revisions"), count(&store, "revision_files"), count(&store, "blobs")), (2, 4, 3));
}

#[test]
fn unknown_revision_is_none() {
    let (_dir, path) = temp();
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.get_revision(&"0".repeat(64).parse().unwrap()).unwrap(), None);
}

const SECRET: &[u8] = b"requirepass s3cr3t-0f-the-fleet";

#[test]
fn sensitive_contents_are_never_written() {
    let (_dir, path) = temp();
    let store = SqliteStore::open(&path).unwrap();
    let secret = FileToStore { path: "redis-1/users.acl", contents: SECRET, sensitive: true };
    let plain = FileToStore { path: "redis-1/redis.conf", contents: b"maxmemory 1gb\n", sensitive: false };
    let id = store.put_revision(&[secret, plain]).unwrap();

    let revision = store.get_revision(&id).unwrap().unwrap();
    let acl = revision.files.iter().find(|f| f.path == "redis-1/users.acl").unwrap();
    assert_eq!(acl.contents, None);
    assert_eq!(acl.sha256, crate::digest::sha256_hex(SECRET));

    assert!(!contains(&all_bytes(&path), SECRET), "secret found while the store is open");
    assert!(contains(&all_bytes(&path), b"maxmemory 1gb"), "the search itself works");
    drop(store);
    assert!(!contains(&all_bytes(&path), SECRET), "secret found after closing");
}

#[test]
fn marking_contents_sensitive_later_erases_the_plaintext() {
    // Small contents live in the table's own page; large ones in overflow
    // pages, which are freed rather than rewritten when erased.
    let large = [&[b'#'; 6000][..], SECRET, &[b'#'; 6000][..]].concat();
    for contents in [SECRET, &large[..]] {
        let (_dir, path) = temp();
        let store = SqliteStore::open(&path).unwrap();
        let leaked = FileToStore { path: "redis-1/users.acl", contents, sensitive: false };
        let first = store.put_revision(&[leaked]).unwrap();
        assert!(contains(&all_bytes(&path), SECRET), "the first put stored plaintext");

        // Same contents under another path, now marked: the earlier copy goes.
        let marked = FileToStore { path: "redis-2/users.acl", contents, sensitive: true };
        store.put_revision(&[marked]).unwrap();
        assert!(!contains(&all_bytes(&path), SECRET), "plaintext of {} bytes left in the files", contents.len());
        assert_eq!(store.get_revision(&first).unwrap().unwrap().files[0].contents, None);

        // And a later unmarked put of the same contents does not bring it back.
        store.put_revision(&[FileToStore { path: "redis-3/users.acl", ..leaked }]).unwrap();
        assert!(!contains(&all_bytes(&path), SECRET));
    }
}

// --- deployments -----------------------------------------------------------

#[test]
fn full_deployment_lifecycle() {
    let (_dir, path) = temp();
    let store = SqliteStore::open(&path).unwrap();
    let rendered =
        store.put_revision(&[FileToStore { path: "pg-1/postgresql.conf", contents: b"x", sensitive: false }]).unwrap();
    let new = NewDeployment { rendered: Some(rendered.clone()), ..planned(&["pg-1", "pg-2"]) };
    let id = store.begin_deployment(&new).unwrap();

    let d = store.deployment(&id).unwrap().unwrap();
    assert_eq!(d.status, DeploymentStatus::Planned);
    assert_eq!((d.fleet_revision.as_str(), d.actor.as_str(), &d.plan), ("3f2a9c1", "alice", &new.plan));
    assert_eq!(d.rendered, Some(rendered));
    let names: Vec<_> = d.instances.iter().map(|i| (i.instance.as_str(), i.status)).collect();
    assert_eq!(names, [("pg-1", InstanceStatus::Pending), ("pg-2", InstanceStatus::Pending)]);
    assert!(store.unfinished_deployments().unwrap().is_empty(), "nothing can have changed yet");

    store.record_snapshot(&id, "pg-1", &observed(&[("work_mem", "4MB")])).unwrap();
    assert_eq!(store.deployment(&id).unwrap().unwrap().status, DeploymentStatus::Applying);
    store.mark_applying(&id, "pg-1").unwrap();
    store.record_result(&id, "pg-1", InstanceStatus::Applied, Some(&observed(&[("work_mem", "64MB")])), None).unwrap();
    store.record_result(&id, "pg-1", InstanceStatus::Verified, None, None).unwrap();
    apply(&store, &id, "pg-2", "8MB", "64MB");
    store.record_result(&id, "pg-2", InstanceStatus::Verified, None, None).unwrap();
    store.finish_deployment(&id, DeploymentStatus::Succeeded).unwrap();

    let d = store.deployment(&id).unwrap().unwrap();
    assert_eq!(d.status, DeploymentStatus::Succeeded);
    assert!(d.finished_at.is_some());
    let pg1 = &d.instances[0];
    assert_eq!(pg1.status, InstanceStatus::Verified);
    assert_eq!(pg1.before, Some(observed(&[("work_mem", "4MB")])));
    assert_eq!(pg1.after, Some(observed(&[("work_mem", "64MB")])), "a result without `after` keeps the earlier one");
    assert_eq!(pg1.planned, new.instances[0].changes);
    assert_eq!(pg1.engine, EngineKind::Postgresql);
    assert!(pg1.snapshot_at.unwrap() <= pg1.applying_at.unwrap());
    assert!(pg1.applying_at.unwrap() <= pg1.result_at.unwrap());

    assert_eq!(store.list_deployments(10).unwrap(), std::slice::from_ref(&d));
    assert_eq!(store.instance_history("pg-1", 10).unwrap(), std::slice::from_ref(pg1));
    let snapshot = store.latest_snapshot_for("pg-1").unwrap().unwrap();
    assert_eq!((snapshot.deployment, snapshot.before), (id, observed(&[("work_mem", "4MB")])));
    assert!(store.unfinished_deployments().unwrap().is_empty());
    assert_eq!(store.latest_snapshot_for("mongo-1").unwrap(), None);
}

#[test]
fn listings_are_newest_first_and_limited() {
    let (_dir, path) = temp();
    let store = SqliteStore::open(&path).unwrap();
    let ids: Vec<DeploymentId> = (0..3).map(|_| store.begin_deployment(&planned(&["pg-1"])).unwrap()).collect();
    let listed: Vec<DeploymentId> = store.list_deployments(2).unwrap().into_iter().map(|d| d.id).collect();
    assert_eq!(listed, [ids[2].clone(), ids[1].clone()]);
    let history: Vec<DeploymentId> =
        store.instance_history("pg-1", 10).unwrap().into_iter().map(|c| c.deployment).collect();
    assert_eq!(history, [ids[2].clone(), ids[1].clone(), ids[0].clone()]);
}

#[test]
fn snapshot_survives_a_crash_mid_apply() {
    let (_dir, path) = temp();
    let store = SqliteStore::open(&path).unwrap();
    let id = store.begin_deployment(&planned(&["pg-1", "pg-2"])).unwrap();
    store.record_snapshot(&id, "pg-1", &observed(&[("work_mem", "4MB")])).unwrap();
    store.mark_applying(&id, "pg-1").unwrap();
    // A crash: the connection is never closed, so SQLite neither
    // checkpoints nor removes the WAL, as when the process dies.
    std::mem::forget(store);

    let store = SqliteStore::open(&path).unwrap();
    let unfinished = store.unfinished_deployments().unwrap();
    assert_eq!(unfinished.len(), 1);
    let d = &unfinished[0];
    assert_eq!((&d.id, d.status), (&id, DeploymentStatus::Applying));
    assert_eq!(d.instances[0].status, InstanceStatus::Applying);
    assert_eq!(d.instances[0].before, Some(observed(&[("work_mem", "4MB")])));
    assert_eq!(d.instances[1].status, InstanceStatus::Pending);
    assert_eq!(store.latest_snapshot_for("pg-1").unwrap().unwrap().deployment, id);

    // Recovery: restore the interrupted instance, then close the deployment.
    let err = store.finish_deployment(&id, DeploymentStatus::RolledBack).unwrap_err();
    assert!(matches!(err, StoreError::Unsettled { status: InstanceStatus::Applying, .. }), "{err}");
    store.record_result(&id, "pg-1", InstanceStatus::Restored, Some(&observed(&[("work_mem", "4MB")])), None).unwrap();
    store.finish_deployment(&id, DeploymentStatus::RolledBack).unwrap();
    assert!(store.unfinished_deployments().unwrap().is_empty());
}

#[test]
fn rollback_walks_back_through_changes_not_yet_restored() {
    let (_dir, path) = temp();
    let store = SqliteStore::open(&path).unwrap();
    let first = store.begin_deployment(&planned(&["pg-1"])).unwrap();
    apply(&store, &first, "pg-1", "4MB", "64MB");
    store.finish_deployment(&first, DeploymentStatus::Succeeded).unwrap();
    let second = store.begin_deployment(&planned(&["pg-1"])).unwrap();
    apply(&store, &second, "pg-1", "64MB", "128MB");
    store.finish_deployment(&second, DeploymentStatus::Succeeded).unwrap();
    // A change that failed before touching the instance is no rollback target.
    let third = store.begin_deployment(&planned(&["pg-1"])).unwrap();
    store.record_snapshot(&third, "pg-1", &observed(&[("work_mem", "128MB")])).unwrap();
    store.record_result(&third, "pg-1", InstanceStatus::Failed, None, Some("connection refused")).unwrap();
    store.finish_deployment(&third, DeploymentStatus::Failed).unwrap();

    let latest = store.latest_snapshot_for("pg-1").unwrap().unwrap();
    assert_eq!((&latest.deployment, latest.before["work_mem"].as_str()), (&second, "64MB"));
    store.record_result(&second, "pg-1", InstanceStatus::Restored, None, None).unwrap();

    let latest = store.latest_snapshot_for("pg-1").unwrap().unwrap();
    assert_eq!((&latest.deployment, latest.before["work_mem"].as_str()), (&first, "4MB"));
    store.record_result(&first, "pg-1", InstanceStatus::Restored, None, None).unwrap();
    assert_eq!(store.latest_snapshot_for("pg-1").unwrap(), None);
}

#[test]
fn failed_restore_keeps_the_original_error_until_replaced() {
    let (_dir, path) = temp();
    let store = SqliteStore::open(&path).unwrap();
    let id = store.begin_deployment(&planned(&["pg-1"])).unwrap();
    store.record_snapshot(&id, "pg-1", &observed(&[("work_mem", "4MB")])).unwrap();
    store.mark_applying(&id, "pg-1").unwrap();
    store.record_result(&id, "pg-1", InstanceStatus::Failed, None, Some("server restarted")).unwrap();
    store.record_result(&id, "pg-1", InstanceStatus::Restored, Some(&observed(&[("work_mem", "4MB")])), None).unwrap();
    let change = &store.deployment(&id).unwrap().unwrap().instances[0];
    assert_eq!((change.status, change.error.as_deref()), (InstanceStatus::Restored, Some("server restarted")));
}

// --- refused transitions ---------------------------------------------------

fn illegal(err: StoreError) -> (State, State) {
    match err {
        StoreError::IllegalTransition { from, to, .. } => (from, to),
        other => panic!("expected an illegal transition, got {other:?}"),
    }
}

#[test]
fn illegal_transitions_are_refused_and_change_nothing() {
    let (_dir, path) = temp();
    let store = SqliteStore::open(&path).unwrap();
    let id = store.begin_deployment(&planned(&["pg-1", "pg-2"])).unwrap();
    let before = store.deployment(&id).unwrap();
    let i = State::Instance;
    use InstanceStatus as I;

    // A result for an instance that was never snapshotted.
    let err = store.record_result(&id, "pg-1", I::Applied, Some(&observed(&[])), None).unwrap_err();
    assert_eq!(illegal(err), (i(I::Pending), i(I::Applied)));
    // Applying before snapshotting.
    assert_eq!(illegal(store.mark_applying(&id, "pg-1").unwrap_err()), (i(I::Pending), i(I::Applying)));
    assert_eq!(store.deployment(&id).unwrap(), before, "refusals wrote nothing");

    store.record_snapshot(&id, "pg-1", &observed(&[("work_mem", "4MB")])).unwrap();
    // A second snapshot would overwrite the state to restore.
    let err = store.record_snapshot(&id, "pg-1", &observed(&[("work_mem", "64MB")])).unwrap_err();
    assert_eq!(illegal(err), (i(I::Snapshotted), i(I::Snapshotted)));
    // Marking applying through record_result skips its timestamp.
    let err = store.record_result(&id, "pg-1", I::Applying, None, None).unwrap_err();
    assert_eq!(illegal(err), (i(I::Snapshotted), i(I::Applying)));
    // Restoring what was never changed.
    let err = store.record_result(&id, "pg-1", I::Restored, None, None).unwrap_err();
    assert_eq!(illegal(err), (i(I::Snapshotted), i(I::Restored)));
    let change = &store.deployment(&id).unwrap().unwrap().instances[0];
    assert_eq!((change.status, change.before.as_ref()), (I::Snapshotted, Some(&observed(&[("work_mem", "4MB")]))));
}

#[test]
fn finishing_is_checked_against_the_instances() {
    let (_dir, path) = temp();
    let store = SqliteStore::open(&path).unwrap();
    let id = store.begin_deployment(&planned(&["pg-1", "pg-2"])).unwrap();
    apply(&store, &id, "pg-1", "4MB", "64MB");

    let err = store.finish_deployment(&id, DeploymentStatus::Succeeded).unwrap_err();
    assert_eq!(err.to_string(), format!("deployment {id} cannot become succeeded while instance `pg-2` is pending"));
    let err = store.finish_deployment(&id, DeploymentStatus::Applying).unwrap_err();
    assert_eq!(
        illegal(err),
        (State::Deployment(DeploymentStatus::Applying), State::Deployment(DeploymentStatus::Applying))
    );

    store.finish_deployment(&id, DeploymentStatus::Failed).unwrap();
    // Once finished, nothing more is applied...
    let err = store.record_snapshot(&id, "pg-2", &observed(&[])).unwrap_err();
    assert!(matches!(err, StoreError::DeploymentFinished { status: DeploymentStatus::Failed, .. }), "{err}");
    // ...but what was applied can still be restored.
    store.record_result(&id, "pg-1", InstanceStatus::Restored, None, None).unwrap();
    store.finish_deployment(&id, DeploymentStatus::RolledBack).unwrap();
    let err = store.finish_deployment(&id, DeploymentStatus::Failed).unwrap_err();
    assert_eq!(
        illegal(err),
        (State::Deployment(DeploymentStatus::RolledBack), State::Deployment(DeploymentStatus::Failed))
    );
}

#[test]
fn unknown_names_are_refused() {
    let (_dir, path) = temp();
    let store = SqliteStore::open(&path).unwrap();
    let id = store.begin_deployment(&planned(&["pg-1"])).unwrap();
    let err = store.record_snapshot(&id, "pg-9", &observed(&[])).unwrap_err();
    assert!(matches!(err, StoreError::UnknownInstance { ref instance, .. } if instance == "pg-9"), "{err}");

    let stranger = DeploymentId::generate();
    let err = store.mark_applying(&stranger, "pg-1").unwrap_err();
    assert!(matches!(err, StoreError::UnknownDeployment { .. }), "{err}");
    assert_eq!(store.deployment(&stranger).unwrap(), None);

    let err = store.begin_deployment(&planned(&["pg-1", "pg-1"])).unwrap_err();
    assert!(matches!(err, StoreError::DuplicateInstance { .. }), "{err}");
    let missing = NewDeployment { rendered: Some("0".repeat(64).parse().unwrap()), ..planned(&["pg-1"]) };
    assert!(matches!(store.begin_deployment(&missing).unwrap_err(), StoreError::UnknownRevision { .. }));
    assert_eq!(count(&store, "deployments"), 1, "refused deployments left no row");
}

// --- concurrency -------------------------------------------------------------

#[test]
fn writers_on_two_connections_wait_for_each_other() {
    const PER_THREAD: usize = 25;
    let (_dir, path) = temp();
    SqliteStore::open(&path).unwrap();
    let start = Arc::new(Barrier::new(2));
    let threads: Vec<_> = ["pg", "redis"]
        .into_iter()
        .map(|prefix| {
            let (path, start) = (path.clone(), Arc::clone(&start));
            thread::spawn(move || {
                let store = SqliteStore::open(&path).unwrap();
                start.wait();
                for n in 0..PER_THREAD {
                    let instance = format!("{prefix}-{n}");
                    let id = store.begin_deployment(&planned(&[&instance])).unwrap();
                    apply(&store, &id, &instance, "a", "b");
                    store.finish_deployment(&id, DeploymentStatus::Succeeded).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    let all = store.list_deployments(1000).unwrap();
    assert_eq!(all.len(), 2 * PER_THREAD);
    assert!(all.iter().all(|d| d.status == DeploymentStatus::Succeeded));
}

#[test]
fn a_held_write_lock_delays_a_write_instead_of_failing_it() {
    let (_dir, path) = temp();
    let store = SqliteStore::open(&path).unwrap();
    let hold = Duration::from_millis(300);
    let locked = Arc::new(Barrier::new(2));
    let holder = {
        let (path, locked) = (path.clone(), Arc::clone(&locked));
        thread::spawn(move || {
            let mut other = Connection::open(&path).unwrap();
            let tx = other.transaction_with_behavior(TransactionBehavior::Immediate).unwrap();
            locked.wait();
            thread::sleep(hold);
            tx.commit().unwrap();
        })
    };
    locked.wait();
    let started = Instant::now();
    store.begin_deployment(&planned(&["pg-1"])).unwrap();
    assert!(started.elapsed() >= hold - Duration::from_millis(50), "the write did not wait: {:?}", started.elapsed());
    holder.join().unwrap();
}

#[test]
fn one_store_is_shared_between_threads() {
    let (_dir, path) = temp();
    let store = Arc::new(SqliteStore::open(&path).unwrap());
    let threads: Vec<_> = (0..2)
        .map(|n| {
            let store: Arc<dyn StateStore> = store.clone();
            thread::spawn(move || {
                for _ in 0..10 {
                    store.begin_deployment(&planned(&[&format!("pg-{n}")])).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(count(&store, "deployments"), 20);
}
