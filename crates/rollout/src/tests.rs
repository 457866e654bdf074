//! Orchestration tests against a fake driver: the pure logic of snapshot,
//! apply, verify and restore, with every failure injected on purpose. The
//! real drivers are tested against real servers in `dbfleet-drivers`.

use std::collections::BTreeMap;
use std::sync::Mutex;

use dbfleet_catalog::Typed;
use dbfleet_drivers::{Applied, Driver, DriverError};
use dbfleet_model::{ApplyMethod, EngineKind};
use dbfleet_plan::{Desired, DesiredSetting, Observed, ObservedSetting, Plan};
use dbfleet_store::{DeploymentStatus, InstanceStatus, NewDeployment, PlannedInstance, SqliteStore, StateStore};

use super::*;

/// A server held in memory. `reject` makes apply fail on that setting after
/// changing the ones before it; `break_restore` makes restore fail; `ignore`
/// makes the server accept but not take a setting.
#[derive(Default)]
struct Fake {
    settings: Mutex<BTreeMap<String, i64>>,
    reject: Option<&'static str>,
    break_restore: bool,
    ignore: Option<&'static str>,
}

fn observed(settings: &BTreeMap<String, i64>) -> Observed {
    Observed {
        settings: settings
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    ObservedSetting {
                        value: Some(Typed::Int(*v)),
                        raw: v.to_string(),
                        pending_restart: false,
                        digest: None,
                        explicit: true,
                    },
                )
            })
            .collect(),
        tenants: BTreeMap::new(),
    }
}

#[async_trait::async_trait]
impl Driver for Fake {
    fn engine(&self) -> EngineKind {
        EngineKind::Postgresql
    }

    async fn observe(&self) -> Result<Observed, DriverError> {
        Ok(observed(&self.settings.lock().unwrap()))
    }

    async fn apply(&self, plan: &Plan, _allow_restart: bool) -> Result<Applied, DriverError> {
        let mut s = self.settings.lock().unwrap();
        let mut applied = Applied::default();
        for c in &plan.changes {
            if Some(c.name.as_str()) == self.reject {
                return Err(DriverError::Rejected { name: c.name.clone(), reason: "invalid value".into() });
            }
            if Some(c.name.as_str()) != self.ignore {
                s.insert(c.name.clone(), c.native.as_deref().unwrap().parse().unwrap());
            }
            applied.changed.push(c.name.clone());
        }
        Ok(applied)
    }

    async fn restore(&self, before: &Observed, plan: &Plan, _allow_restart: bool) -> Result<Applied, DriverError> {
        if self.break_restore {
            return Err(DriverError::Unreachable { address: "fake".into(), reason: "gone".into() });
        }
        let mut s = self.settings.lock().unwrap();
        for c in &plan.changes {
            match before.settings.get(&c.name) {
                Some(b) => s.insert(c.name.clone(), b.raw.parse().unwrap()),
                None => s.remove(&c.name),
            };
        }
        Ok(Applied::default())
    }
}

fn fake(reject: Option<&'static str>, break_restore: bool, ignore: Option<&'static str>) -> Fake {
    Fake {
        settings: Mutex::new(BTreeMap::from([("work_mem".to_string(), 4), ("max_connections".to_string(), 100)])),
        reject,
        break_restore,
        ignore,
    }
}

fn desired() -> Desired {
    let s = |v: i64| DesiredSetting {
        value: Some(Typed::Int(v)),
        native: v.to_string(),
        apply: ApplyMethod::Reload,
        sensitive: false,
        origin: None,
    };
    Desired {
        settings: BTreeMap::from([("work_mem".to_string(), s(8)), ("max_connections".to_string(), s(200))]),
        tenants: BTreeMap::new(),
    }
}

fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("state.db")).unwrap();
    (dir, store)
}

fn begin(store: &SqliteStore) -> DeploymentId {
    store
        .begin_deployment(&NewDeployment {
            fleet_revision: "test".into(),
            rendered: None,
            actor: "test".into(),
            plan: serde_json::json!([]),
            summary: "test".into(),
            instances: vec![PlannedInstance {
                instance: "pg".into(),
                engine: EngineKind::Postgresql,
                changes: serde_json::json!([]),
            }],
        })
        .unwrap()
}

fn status(store: &SqliteStore, id: &DeploymentId) -> InstanceStatus {
    store.deployment(id).unwrap().unwrap().instances[0].status
}

#[tokio::test]
async fn applies_verifies_and_records() {
    let (_dir, store) = store();
    let driver = fake(None, false, None);
    let ip = plan_instance(&driver, "pg", desired()).await.unwrap();
    assert_eq!(ip.plan.changes.len(), 2);
    let id = begin(&store);
    let outcome = apply_instance(&store, &id, &driver, &ip, false).await.unwrap();
    assert!(matches!(outcome, Outcome::Applied(_)), "{outcome:?}");
    assert_eq!(status(&store, &id), InstanceStatus::Verified);
    let change = &store.deployment(&id).unwrap().unwrap().instances[0];
    assert_eq!(change.before.as_ref().unwrap()["work_mem"], "=4");
    // Idempotent: planning again finds nothing to do.
    assert!(plan_instance(&driver, "pg", desired()).await.unwrap().plan.is_empty());
}

#[tokio::test]
async fn a_rejected_value_restores_the_original() {
    let (_dir, store) = store();
    let driver = fake(Some("work_mem"), false, None);
    let ip = plan_instance(&driver, "pg", desired()).await.unwrap();
    let id = begin(&store);
    let outcome = apply_instance(&store, &id, &driver, &ip, false).await.unwrap();
    assert!(matches!(&outcome, Outcome::Restored { error } if error.contains("work_mem")), "{outcome:?}");
    // max_connections was changed before work_mem failed, and is back.
    assert_eq!(driver.observe().await.unwrap().settings["max_connections"].raw, "100");
    let change = &store.deployment(&id).unwrap().unwrap().instances[0];
    assert_eq!(change.status, InstanceStatus::Restored);
    assert!(change.error.as_deref().unwrap().contains("work_mem"));
}

#[tokio::test]
async fn a_change_the_server_ignores_fails_verification_and_is_restored() {
    let (_dir, store) = store();
    let driver = fake(None, false, Some("work_mem"));
    let ip = plan_instance(&driver, "pg", desired()).await.unwrap();
    let id = begin(&store);
    let outcome = apply_instance(&store, &id, &driver, &ip, false).await.unwrap();
    assert!(matches!(&outcome, Outcome::Restored { error } if error.contains("did not take work_mem")), "{outcome:?}");
    assert_eq!(driver.observe().await.unwrap().settings["max_connections"].raw, "100");
}

#[tokio::test]
async fn a_failed_restore_is_recorded_for_a_person() {
    let (_dir, store) = store();
    let driver = fake(Some("work_mem"), true, None);
    let ip = plan_instance(&driver, "pg", desired()).await.unwrap();
    let id = begin(&store);
    let outcome = apply_instance(&store, &id, &driver, &ip, false).await.unwrap();
    assert!(matches!(outcome, Outcome::RestoreFailed { .. }), "{outcome:?}");
    assert_eq!(status(&store, &id), InstanceStatus::RestoreFailed);
    // The snapshot to restore from is still there.
    assert_eq!(store.latest_snapshot_for("pg").unwrap().unwrap().before["max_connections"], "=100");
    store.finish_deployment(&id, DeploymentStatus::RollbackFailed).unwrap();
}

#[tokio::test]
async fn restarts_are_refused_before_anything_changes() {
    let (_dir, store) = store();
    let driver = fake(None, false, None);
    let mut d = desired();
    d.settings.get_mut("max_connections").unwrap().apply = ApplyMethod::Restart;
    let ip = plan_instance(&driver, "pg", d).await.unwrap();
    assert!(ip.plan.needs_restart());
    let id = begin(&store);
    let err = apply_instance(&store, &id, &driver, &ip, false).await.unwrap_err();
    assert!(matches!(err, RolloutError::Driver(DriverError::RestartNotAllowed)));
    assert_eq!(driver.observe().await.unwrap().settings["max_connections"].raw, "100");
    assert_eq!(status(&store, &id), InstanceStatus::Pending);
}

#[tokio::test]
async fn rollback_plan_sets_back_and_resets() {
    let before = observed(&BTreeMap::from([("work_mem".to_string(), 4)]));
    let now = observed(&BTreeMap::from([("work_mem".to_string(), 8), ("max_connections".to_string(), 200)]));
    let changed = vec![(None, "work_mem".to_string()), (None, "max_connections".to_string())];
    let plan = rollback_plan("pg", EngineKind::Postgresql, &before, &changed, &now);
    let summary: Vec<_> = plan.changes.iter().map(|c| (c.name.as_str(), c.action, c.native.as_deref())).collect();
    assert_eq!(summary, [("work_mem", Action::Change, Some("4")), ("max_connections", Action::Reset, None)]);

    // A reset to a value the server held without dbfleet shows that value.
    let mut before = observed(&BTreeMap::from([("work_mem".to_string(), 4)]));
    before.settings.get_mut("work_mem").unwrap().explicit = false;
    let plan = rollback_plan("pg", EngineKind::Postgresql, &before, &changed[..1], &now);
    assert_eq!((plan.changes[0].action, plan.changes[0].to.as_deref()), (Action::Reset, Some("4")));
    assert!(plan.to_string().contains("work_mem (was 8) -> as before: 4"), "{plan}");
}

#[test]
fn snapshots_round_trip_and_never_hold_secrets() {
    let mut o = observed(&BTreeMap::from([("work_mem".to_string(), 4)]));
    o.settings.get_mut("work_mem").unwrap().explicit = false;
    o.tenants.insert(
        "acme".into(),
        BTreeMap::from([(
            "statement_timeout".to_string(),
            ObservedSetting { value: None, raw: "30s".into(), pending_restart: false, digest: None, explicit: true },
        )]),
    );
    let enc = encode_snapshot(EngineKind::Postgresql, &o);
    assert_eq!(enc["work_mem"], "~4");
    assert_eq!(enc["acme/statement_timeout"], "=30s");
    let back = decode_snapshot(EngineKind::Postgresql, &enc);
    assert!(!back.settings["work_mem"].explicit);
    assert_eq!(back.tenants["acme"]["statement_timeout"].raw, "30s");
    let mut r = Observed::default();
    r.settings.insert(
        "requirepass".into(),
        ObservedSetting { value: None, raw: "hunter2".into(), pending_restart: false, digest: None, explicit: true },
    );
    let enc = encode_snapshot(EngineKind::Redis, &r);
    assert_eq!(enc["requirepass"], "=(sensitive)");
    // Read back, a secret is unknown, never an empty password to restore.
    for stored in [enc, BTreeMap::from([("requirepass".to_string(), "=".to_string())])] {
        let back = decode_snapshot(EngineKind::Redis, &stored);
        let s = &back.settings["requirepass"];
        assert!(s.value.is_none() && s.raw == "(sensitive)", "{s:?}");
    }
}

#[test]
fn driver_secrets_stay_out_of_snapshots_and_rollbacks_show_none() {
    // Redis's `users.acl`: not a catalog parameter, reported with a digest.
    let acl = ObservedSetting {
        value: Some(Typed::Str("d1".into())),
        raw: "[\"user default on #ab12 ~* &* +@all\"]".into(),
        pending_restart: false,
        digest: Some("d1".into()),
        explicit: false,
    };
    let mut o = Observed::default();
    o.settings.insert("users.acl".into(), acl.clone());
    let enc = encode_snapshot(EngineKind::Redis, &o);
    assert_eq!(enc["users.acl"], "~(sensitive)");
    let back = decode_snapshot(EngineKind::Redis, &enc);
    let changed = vec![(None, "users.acl".to_string())];
    let plan = rollback_plan("r", EngineKind::Redis, &back, &changed, &o);
    let c = &plan.changes[0];
    assert!(c.sensitive && c.from.as_deref() == Some("(sensitive)"), "{c:?}");
    assert_eq!(c.apply, ApplyMethod::Reload, "no restart for a setting the catalog does not know");
}
