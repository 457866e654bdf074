//! Rolling changes out to one instance at a time, safely.
//!
//! For each instance: observe, plan, write the observed state to the store
//! (durably, before anything changes), apply through the driver, observe
//! again and re-plan to verify, and on any failure restore what was changed
//! from the snapshot and record both outcomes. A rollback replays a
//! recorded snapshot. The same [`Plan`] drives the dry run (`dbfleet plan`),
//! drift detection and apply.
//!
//! Canary ordering, health gates and resuming a crashed rollout build on
//! this in later work; this crate already leaves a record from which an
//! interrupted apply can be found and undone (`StateStore::unfinished_deployments`).

use std::collections::BTreeMap;

use dbfleet_drivers::{Applied, Driver, DriverError};
use dbfleet_model::{ApplyMethod, EngineKind, Scope};
use dbfleet_plan::{Action, Desired, Observed, ObservedSetting, Plan, SENSITIVE};
use dbfleet_store::{DeploymentId, InstanceStatus, StateStore, StoreError};

/// One instance's plan, with the observation it was made against.
pub struct InstancePlan {
    pub instance: String,
    pub engine: EngineKind,
    pub desired: Desired,
    pub before: Observed,
    pub plan: Plan,
}

/// The apply method of resetting `name` on `engine`, from the catalog.
pub fn reset_apply(engine: EngineKind, name: &str) -> ApplyMethod {
    dbfleet_catalog::catalog(engine).get(name).map_or(ApplyMethod::Restart, |p| p.apply)
}

/// Observes the server and plans the way to `desired`.
pub async fn plan_instance(driver: &dyn Driver, instance: &str, desired: Desired) -> Result<InstancePlan, DriverError> {
    let engine = driver.engine();
    let before = driver.observe().await?;
    let plan = dbfleet_plan::plan(instance, engine, &desired, &before, |n| reset_apply(engine, n));
    Ok(InstancePlan { instance: instance.to_string(), engine, desired, before, plan })
}

/// What happened to one instance.
#[derive(Debug)]
pub enum Outcome {
    /// Nothing to do.
    Unchanged,
    /// Applied and verified.
    Applied(Applied),
    /// Applying failed; what was changed has been put back.
    Restored { error: String },
    /// Applying failed, and so did putting things back: the instance needs
    /// a person. The store holds the snapshot to restore from.
    RestoreFailed { error: String, restore_error: String },
}

#[derive(Debug, thiserror::Error)]
pub enum RolloutError {
    #[error("state store: {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Driver(#[from] DriverError),
    #[error("no applied change of `{0}` is recorded, so there is nothing to roll back")]
    NothingToRollBack(String),
}

/// How a snapshot is kept in the store: `[TENANT/]NAME` → `=RAW` for a
/// setting the server held explicitly (restore sets it back), `~RAW` for
/// one it did not (restore resets it). Values of sensitive settings are
/// never stored: they are written as `=` or `~` followed by nothing, and
/// cannot be restored from the store. A setting is sensitive when its
/// catalog parameter is, or when the driver reported it with a digest (a
/// setting of the driver's own that the catalog does not know, such as
/// Redis's `users.acl`, whose text holds password hashes).
pub fn encode_snapshot(engine: EngineKind, o: &Observed) -> BTreeMap<String, String> {
    let enc = |name: &str, s: &ObservedSetting| {
        let marker = if s.explicit { '=' } else { '~' };
        if is_sensitive(engine, name, Some(s)) { format!("{marker}{SENSITIVE}") } else { format!("{marker}{}", s.raw) }
    };
    let mut out = BTreeMap::new();
    for (k, s) in &o.settings {
        out.insert(k.clone(), enc(k, s));
    }
    for (t, settings) in &o.tenants {
        for (k, s) in settings {
            out.insert(format!("{t}/{k}"), enc(k, s));
        }
    }
    out
}

/// Whether `name`'s value is a secret: by the catalog, or because the
/// driver reported it with a digest.
fn is_sensitive(engine: EngineKind, name: &str, observed: Option<&ObservedSetting>) -> bool {
    dbfleet_catalog::catalog(engine).get(name).is_some_and(|p| p.sensitive)
        || observed.is_some_and(|s| s.digest.is_some())
}

/// Reads a snapshot written by [`encode_snapshot`] back, normalising
/// values through the catalog.
pub fn decode_snapshot(engine: EngineKind, map: &BTreeMap<String, String>) -> Observed {
    let catalog = dbfleet_catalog::catalog(engine);
    let mut o = Observed::default();
    for (key, text) in map {
        let (explicit, raw) = match text.split_at_checked(1) {
            Some(("=", raw)) => (true, raw),
            Some((_, raw)) => (false, raw),
            None => (false, ""),
        };
        let (tenant, name) = match key.split_once('/') {
            Some((t, n)) => (Some(t), n),
            None => (None, key.as_str()),
        };
        // A secret is kept as a placeholder (or, in snapshots of earlier
        // versions, as nothing): it must read back as unknown, never as an
        // empty value a restore would set.
        let hidden = raw == SENSITIVE || (raw.is_empty() && is_sensitive(engine, name, None));
        let value = if hidden {
            None
        } else {
            catalog.get(name).and_then(|p| p.normalize(engine, &dbfleet_model::Value::from_plain_scalar(raw)).ok())
        };
        let raw = if hidden { SENSITIVE } else { raw };
        let s = ObservedSetting { value, raw: raw.to_string(), pending_restart: false, digest: None, explicit };
        match tenant {
            Some(t) => {
                o.tenants.entry(t.to_string()).or_default().insert(name.to_string(), s);
            }
            None => {
                o.settings.insert(name.to_string(), s);
            }
        }
    }
    o
}

/// The changes of a plan as the store keeps them (never a value).
pub fn plan_json(plan: &Plan) -> serde_json::Value {
    serde_json::to_value(&plan.changes).unwrap_or_default()
}

/// Applies one instance's plan under deployment `deployment`: snapshot,
/// apply, verify, restore on failure. Every step is recorded before the
/// next one starts, so a crash at any point leaves a record to recover from.
pub async fn apply_instance(
    store: &dyn StateStore,
    deployment: &DeploymentId,
    driver: &dyn Driver,
    ip: &InstancePlan,
    allow_restart: bool,
) -> Result<Outcome, RolloutError> {
    if ip.plan.is_empty() {
        return Ok(Outcome::Unchanged);
    }
    if ip.plan.needs_restart() && !allow_restart {
        // Refused before anything is recorded or changed.
        return Err(RolloutError::Driver(DriverError::RestartNotAllowed));
    }
    store.record_snapshot(deployment, &ip.instance, &encode_snapshot(ip.engine, &ip.before))?;
    store.mark_applying(deployment, &ip.instance)?;
    let failure = match driver.apply(&ip.plan, allow_restart).await {
        Ok(applied) => match verify(driver, ip).await {
            Ok(after) => {
                store.record_result(
                    deployment,
                    &ip.instance,
                    InstanceStatus::Applied,
                    Some(&encode_snapshot(ip.engine, &after)),
                    None,
                )?;
                store.record_result(deployment, &ip.instance, InstanceStatus::Verified, None, None)?;
                return Ok(Outcome::Applied(applied));
            }
            Err(e) => e,
        },
        Err(e) => e.to_string(),
    };
    store.record_result(deployment, &ip.instance, InstanceStatus::Failed, None, Some(&failure))?;
    match driver.restore(&ip.before, &ip.plan, allow_restart).await {
        Ok(_) => {
            let after = driver.observe().await.ok();
            let after = after.as_ref().map(|a| encode_snapshot(ip.engine, a));
            store.record_result(deployment, &ip.instance, InstanceStatus::Restored, after.as_ref(), None)?;
            Ok(Outcome::Restored { error: failure })
        }
        Err(e) => {
            store.record_result(
                deployment,
                &ip.instance,
                InstanceStatus::RestoreFailed,
                None,
                Some(&format!("{failure}; restoring failed too: {e}")),
            )?;
            Ok(Outcome::RestoreFailed { error: failure, restore_error: e.to_string() })
        }
    }
}

/// Observes again and re-plans: the server has what was asked when no
/// change of the plan is still needed (restart-time changes that are
/// pending a restart count as done when no restart was allowed, which
/// apply refuses anyway).
async fn verify(driver: &dyn Driver, ip: &InstancePlan) -> Result<Observed, String> {
    let after = driver.observe().await.map_err(|e| format!("verifying: {e}"))?;
    let again = dbfleet_plan::plan(&ip.instance, ip.engine, &ip.desired, &after, |n| reset_apply(ip.engine, n));
    let touched = |c: &dbfleet_plan::Change| ip.plan.changes.iter().any(|p| p.name == c.name && p.tenant == c.tenant);
    let missing: Vec<String> = again
        .changes
        .iter()
        .filter(|c| touched(c))
        .map(|c| match &c.tenant {
            Some(t) => format!("{t}/{}", c.name),
            None => c.name.clone(),
        })
        .collect();
    if missing.is_empty() { Ok(after) } else { Err(format!("the server did not take {}", missing.join(", "))) }
}

/// The plan that takes an instance back to a recorded snapshot: every
/// setting the recorded deployment changed, set back (or reset).
pub fn rollback_plan(
    instance: &str,
    engine: EngineKind,
    snapshot: &Observed,
    changed: &[(Option<String>, String)],
    now: &Observed,
) -> Plan {
    let mut changes = Vec::new();
    for (tenant, name) in changed {
        let (then, current) = match tenant {
            Some(t) => {
                (snapshot.tenants.get(t).and_then(|s| s.get(name)), now.tenants.get(t).and_then(|s| s.get(name)))
            }
            None => (snapshot.settings.get(name), now.settings.get(name)),
        };
        let sensitive = is_sensitive(engine, name, current) || is_sensitive(engine, name, then);
        // A name the catalog does not know is a setting of the driver's own
        // (Redis's `users.acl`; drivers report no other unknown names),
        // put back the way it is applied, without a restart.
        let apply = match dbfleet_catalog::catalog(engine).get(name) {
            Some(_) => reset_apply(engine, name),
            None => ApplyMethod::Reload,
        };
        let (action, native) = match then {
            Some(s) if s.explicit => {
                (if current.is_some() { Action::Change } else { Action::Set }, Some(s.raw.clone()))
            }
            _ => (Action::Reset, None),
        };
        // A reset shows the value recorded before the change, which the
        // server goes back to (its default then, or a driver's own file).
        let shown = match (&native, then) {
            (Some(n), _) => Some(n.clone()),
            (None, Some(s)) if !s.raw.is_empty() => Some(s.raw.clone()),
            (None, _) => None,
        };
        changes.push(dbfleet_plan::Change {
            scope: if tenant.is_some() { Scope::Tenant } else { Scope::Instance },
            tenant: tenant.clone(),
            name: name.clone(),
            action,
            from: current.map(|c| if sensitive { SENSITIVE.to_string() } else { c.raw.clone() }),
            to: shown.map(|n| if sensitive { SENSITIVE.to_string() } else { n }),
            native,
            apply,
            sensitive,
            origin: None,
        });
    }
    Plan { instance: instance.to_string(), engine, changes }
}

#[cfg(test)]
mod tests;
