//! Which state changes the store accepts: pure functions over the current
//! state, checked by every backend inside its write transaction before it
//! writes.
//!
//! An instance moves pending → snapshotted → applying → applied → verified;
//! it may fail at any of those steps, and once it reached applying (it may
//! differ from its snapshot) it may be restored. A deployment moves planned →
//! applying (on its first snapshot) → a final status, and may be rolled back
//! after that. Everything else is refused, so that a bug in the caller shows
//! as an error rather than as a record that claims something that did not
//! happen, such as a result for an instance that was never snapshotted.

use crate::error::{StoreError, Subject};
use crate::types::{DeploymentId, DeploymentStatus, InstanceStatus, State};

/// An instance change as a rule sees it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct InstanceState {
    pub(crate) status: InstanceStatus,
    /// It reached applying, so the instance may differ from its snapshot.
    pub(crate) touched: bool,
}

/// Whether an instance change may go from `from` to `to`, deployment aside.
fn instance_may(from: InstanceState, to: InstanceStatus) -> bool {
    use InstanceStatus::*;
    match to {
        Snapshotted => from.status == Pending,
        Applying => from.status == Snapshotted,
        Applied => from.status == Applying,
        Verified => from.status == Applied,
        Failed => matches!(from.status, Pending | Snapshotted | Applying | Applied),
        // Only what may have changed can be restored; a restore that failed
        // may be tried again, and fail again.
        Restored | RestoreFailed => {
            from.touched && matches!(from.status, Applying | Applied | Verified | Failed | RestoreFailed)
        }
        Pending => false,
    }
}

/// Whether `to` is a step of applying, which only a deployment that is
/// still planned or applying may take; restores may come at any time later.
fn is_apply_step(to: InstanceStatus) -> bool {
    use InstanceStatus::*;
    matches!(to, Snapshotted | Applying | Applied | Verified | Failed)
}

/// Checks that instance `instance` of a deployment in `deployment_status`
/// may go from `from` to `to`.
pub(crate) fn instance_step(
    deployment: &DeploymentId,
    deployment_status: DeploymentStatus,
    instance: &str,
    from: InstanceState,
    to: InstanceStatus,
) -> Result<(), StoreError> {
    if !instance_may(from, to) {
        return Err(illegal_instance_step(deployment, instance, from, to));
    }
    let running = matches!(deployment_status, DeploymentStatus::Planned | DeploymentStatus::Applying);
    if is_apply_step(to) && !running {
        return Err(StoreError::DeploymentFinished {
            deployment: deployment.clone(),
            status: deployment_status,
            instance: instance.to_string(),
            to,
        });
    }
    Ok(())
}

/// The signature of the checks a backend runs before an instance step.
pub(crate) type InstanceRule =
    fn(&DeploymentId, DeploymentStatus, &str, InstanceState, InstanceStatus) -> Result<(), StoreError>;

/// Checks an outcome recorded through `record_result`: like
/// [`instance_step`], but only to a status that is an outcome. Snapshotting
/// and marking applying record data and times of their own, which this path
/// would skip.
pub(crate) fn result_step(
    deployment: &DeploymentId,
    deployment_status: DeploymentStatus,
    instance: &str,
    from: InstanceState,
    to: InstanceStatus,
) -> Result<(), StoreError> {
    use InstanceStatus::*;
    if matches!(to, Applied | Verified | Failed | Restored | RestoreFailed) {
        instance_step(deployment, deployment_status, instance, from, to)
    } else {
        Err(illegal_instance_step(deployment, instance, from, to))
    }
}

/// The refusal of instance `instance` going from `from` to `to`.
fn illegal_instance_step(
    deployment: &DeploymentId,
    instance: &str,
    from: InstanceState,
    to: InstanceStatus,
) -> StoreError {
    StoreError::IllegalTransition {
        subject: Subject::Instance { deployment: deployment.clone(), instance: instance.to_string() },
        from: State::Instance(from.status),
        to: State::Instance(to),
    }
}

/// Whether a deployment may take the final status `to` from `from`,
/// instances aside. Applying is no final status: a deployment enters it
/// with its first snapshot, never by finishing.
fn deployment_may(from: DeploymentStatus, to: DeploymentStatus) -> bool {
    use DeploymentStatus::*;
    match from {
        // Succeeded straight from planned is for a deployment with no
        // instances; `finish` refuses it otherwise.
        Planned => matches!(to, Succeeded | Failed),
        Applying => matches!(to, Succeeded | Failed | RolledBack | RollbackFailed),
        Succeeded | Failed | RollbackFailed => matches!(to, RolledBack | RollbackFailed),
        RolledBack => false,
    }
}

/// Checks that a deployment may take the final status `to`, given the state
/// of each of its instances.
pub(crate) fn finish(
    deployment: &DeploymentId,
    from: DeploymentStatus,
    to: DeploymentStatus,
    instances: &[(String, InstanceState)],
) -> Result<(), StoreError> {
    if !deployment_may(from, to) {
        return Err(StoreError::IllegalTransition {
            subject: Subject::Deployment(deployment.clone()),
            from: State::Deployment(from),
            to: State::Deployment(to),
        });
    }
    let contradicts = |state: &InstanceState| {
        use InstanceStatus::*;
        // An instance still applying has no known outcome, whatever the
        // deployment claims.
        state.status == Applying
            || match to {
                DeploymentStatus::Succeeded => !matches!(state.status, Applied | Verified),
                DeploymentStatus::RolledBack => state.touched && state.status != Restored,
                _ => false,
            }
    };
    match instances.iter().find(|(_, state)| contradicts(state)) {
        Some((instance, state)) => Err(StoreError::Unsettled {
            deployment: deployment.clone(),
            to,
            instance: instance.clone(),
            status: state.status,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use DeploymentStatus as D;
    use InstanceStatus as I;

    fn id() -> DeploymentId {
        DeploymentId::generate()
    }

    fn state(status: InstanceStatus) -> InstanceState {
        // Every status past snapshotted except a failure before applying
        // implies the instance was touched; tests of that failure say so.
        let touched = !matches!(status, I::Pending | I::Snapshotted | I::Failed);
        InstanceState { status, touched }
    }

    /// Every instance transition, as (from, to, allowed), with the deployment
    /// applying so that only the instance rules decide.
    #[test]
    fn instance_transitions() {
        let allowed = [
            (I::Pending, I::Snapshotted),
            (I::Pending, I::Failed),
            (I::Snapshotted, I::Applying),
            (I::Snapshotted, I::Failed),
            (I::Applying, I::Applied),
            (I::Applying, I::Failed),
            (I::Applying, I::Restored),
            (I::Applying, I::RestoreFailed),
            (I::Applied, I::Verified),
            (I::Applied, I::Failed),
            (I::Applied, I::Restored),
            (I::Applied, I::RestoreFailed),
            (I::Verified, I::Restored),
            (I::Verified, I::RestoreFailed),
            (I::RestoreFailed, I::Restored),
            (I::RestoreFailed, I::RestoreFailed),
        ];
        for &from in I::ALL {
            for &to in I::ALL {
                let expected = allowed.contains(&(from, to));
                let got = instance_step(&id(), D::Applying, "pg-1", state(from), to);
                assert_eq!(got.is_ok(), expected, "{from} -> {to}: {got:?}");
                if let Err(err) = got {
                    assert!(matches!(err, StoreError::IllegalTransition { .. }), "{err}");
                }
            }
        }
    }

    #[test]
    fn result_without_snapshot_is_illegal() {
        let err = instance_step(&id(), D::Applying, "pg-1", state(I::Pending), I::Applied).unwrap_err();
        assert_eq!(err.to_string().split(" in deployment").next(), Some("illegal transition of instance `pg-1`"));
        assert!(err.to_string().ends_with("from pending to applied"), "{err}");
    }

    #[test]
    fn results_are_only_outcomes() {
        let snapshotted = state(I::Snapshotted);
        assert!(result_step(&id(), D::Applying, "pg-1", snapshotted, I::Applying).is_err());
        assert!(instance_step(&id(), D::Applying, "pg-1", snapshotted, I::Applying).is_ok());
        assert!(result_step(&id(), D::Applying, "pg-1", snapshotted, I::Failed).is_ok());
    }

    #[test]
    fn failure_after_applying_can_be_restored_failure_before_cannot() {
        let touched = InstanceState { status: I::Failed, touched: true };
        let untouched = InstanceState { status: I::Failed, touched: false };
        assert!(instance_step(&id(), D::Failed, "pg-1", touched, I::Restored).is_ok());
        assert!(instance_step(&id(), D::Failed, "pg-1", untouched, I::Restored).is_err());
    }

    #[test]
    fn apply_steps_need_a_running_deployment() {
        for &dep in D::ALL {
            let running = matches!(dep, D::Planned | D::Applying);
            let got = instance_step(&id(), dep, "pg-1", state(I::Pending), I::Snapshotted);
            assert_eq!(got.is_ok(), running, "snapshot in a {dep} deployment");
            if !running {
                assert!(matches!(got, Err(StoreError::DeploymentFinished { .. })));
            }
        }
    }

    #[test]
    fn restores_are_allowed_after_the_deployment_finished() {
        for dep in [D::Succeeded, D::Failed, D::RolledBack, D::RollbackFailed] {
            assert!(instance_step(&id(), dep, "pg-1", state(I::Verified), I::Restored).is_ok(), "{dep}");
        }
    }

    /// Every deployment transition with no instances in the way.
    #[test]
    fn deployment_transitions() {
        let allowed = [
            (D::Planned, D::Succeeded),
            (D::Planned, D::Failed),
            (D::Applying, D::Succeeded),
            (D::Applying, D::Failed),
            (D::Applying, D::RolledBack),
            (D::Applying, D::RollbackFailed),
            (D::Succeeded, D::RolledBack),
            (D::Succeeded, D::RollbackFailed),
            (D::Failed, D::RolledBack),
            (D::Failed, D::RollbackFailed),
            (D::RollbackFailed, D::RolledBack),
            (D::RollbackFailed, D::RollbackFailed),
        ];
        for &from in D::ALL {
            for &to in D::ALL {
                let got = finish(&id(), from, to, &[]);
                assert_eq!(got.is_ok(), allowed.contains(&(from, to)), "{from} -> {to}: {got:?}");
            }
        }
    }

    fn check_finish(to: DeploymentStatus, instances: &[InstanceState]) -> Result<(), String> {
        let named: Vec<(String, InstanceState)> =
            instances.iter().enumerate().map(|(n, s)| (format!("i{n}"), *s)).collect();
        finish(&id(), D::Applying, to, &named).map_err(|e| e.to_string().split_once(" cannot ").unwrap().1.to_string())
    }

    /// Instance states that contradict a final status, as (to, instances,
    /// the refusal without the deployment id, or None).
    #[test]
    fn finishing_checks_instances() {
        let untouched_failure = InstanceState { status: I::Failed, touched: false };
        let cases: &[(D, &[InstanceState], Option<&str>)] = &[
            (D::Succeeded, &[state(I::Applied), state(I::Verified)], None),
            (
                D::Succeeded,
                &[state(I::Applied), state(I::Snapshotted)],
                Some("become succeeded while instance `i1` is snapshotted"),
            ),
            (D::Succeeded, &[state(I::Failed)], Some("become succeeded while instance `i0` is failed")),
            (D::Failed, &[state(I::Applying)], Some("become failed while instance `i0` is applying")),
            (D::Failed, &[state(I::Applied), state(I::Failed), state(I::Pending)], None),
            (D::RolledBack, &[state(I::Restored), untouched_failure, state(I::Pending)], None),
            (
                D::RolledBack,
                &[state(I::Restored), state(I::RestoreFailed)],
                Some("become rolled_back while instance `i1` is restore_failed"),
            ),
            (D::RolledBack, &[state(I::Applied)], Some("become rolled_back while instance `i0` is applied")),
            (D::RollbackFailed, &[state(I::RestoreFailed), state(I::Restored)], None),
        ];
        for (to, instances, expected) in cases {
            let got = check_finish(*to, instances);
            assert_eq!(got.err().as_deref(), *expected, "{to} with {instances:?}");
        }
    }
}
