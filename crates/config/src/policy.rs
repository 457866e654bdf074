//! Fleet policies (`policies.yaml`): rules a platform team declares, such as
//! "production requires TLS for every engine". Each assertion compares the
//! target's effective value (set, or the catalog default), normalised
//! through the catalog so `on`, `true` and `1` agree.
//!
//! A violation names the rule, the target, the value and where the value
//! came from.

use dbfleet_catalog::Typed;
use dbfleet_model::{Diagnostic, Location, Value};

use crate::load::Fleet;
use crate::resolve::TargetInfo;
use crate::rules::less;
use crate::spec::{PolicySeverity, Selector};
use crate::validate::{CheckedValue, Validated};

fn selects(s: &Selector, t: &TargetInfo) -> bool {
    (s.environment.is_empty() || s.environment.contains(&t.environment))
        && (s.tier.is_empty() || s.tier.contains(&t.tier))
        && (s.workload.is_empty() || s.workload.contains(&t.workload))
        && (s.engine.is_empty() || s.engine.contains(&t.engine))
        && (s.scope.is_empty() || s.scope.contains(&t.scope))
}

/// One assertion of a `require` block.
enum Check {
    Equals(Value),
    Not(Value),
    In(Vec<Value>),
    NotIn(Vec<Value>),
    Present(bool),
    Min(Value),
    Max(Value),
    Contains(Value),
}

const CHECKS: &[&str] = &["equals", "not", "in", "not_in", "present", "min", "max", "contains"];

/// Reads an assertion; a plain value means `equals`.
fn parse_check(v: &Value) -> Result<Check, String> {
    let Value::Map(m) = v else { return Ok(Check::Equals(v.clone())) };
    let [(op, arg)] = m.iter().collect::<Vec<_>>()[..] else {
        return Err(format!("a check is a map with one of {}", CHECKS.join(", ")));
    };
    let list = |a: &Value| match a {
        Value::List(items) => Ok(items.clone()),
        _ => Err(format!("`{op}` takes a list")),
    };
    Ok(match op.as_str() {
        "equals" => Check::Equals(arg.clone()),
        "not" => Check::Not(arg.clone()),
        "in" => Check::In(list(arg)?),
        "not_in" => Check::NotIn(list(arg)?),
        "present" => Check::Present(matches!(arg, Value::Bool(true))),
        "min" => Check::Min(arg.clone()),
        "max" => Check::Max(arg.clone()),
        "contains" => Check::Contains(arg.clone()),
        other => {
            let mut msg = format!("unknown check `{other}`");
            if let Some(s) = dbfleet_model::did_you_mean(other, CHECKS.iter().copied()) {
                msg.push_str(&format!(", did you mean `{s}`?"));
            }
            return Err(msg);
        }
    })
}

/// Where a policy's assertion is written, for diagnostics about the policy itself.
fn policy_location(fleet: &Fleet, name: &str, engine: &str, key: &str) -> Option<Location> {
    let node = fleet.policies_node.as_ref()?.get("policies")?.get(name)?;
    let at = node.get("require").and_then(|r| r.get(engine)).and_then(|e| e.get(key)).unwrap_or(node);
    Some(at.location.clone())
}

/// Checks every policy that selects the target.
pub(crate) fn check(fleet: &Fleet, v: &Validated<'_>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let info = &v.info;
    let engine = info.engine;
    let catalog = dbfleet_catalog::catalog(engine);
    for (name, policy) in &fleet.policies.policies {
        if !selects(&policy.when, info) {
            continue;
        }
        let Some(require) = policy.require.get(&engine) else { continue };
        for (key, assertion) in require {
            let policy_at = policy_location(fleet, name, engine.as_str(), key);
            let check = match parse_check(assertion) {
                Ok(c) => c,
                Err(e) => {
                    out.push(
                        Diagnostic::error("policy-syntax", format!("policy `{name}`, `{key}`: {e}")).at_opt(policy_at),
                    );
                    continue;
                }
            };
            let Some(parameter) = catalog.get(key) else {
                out.push(
                    Diagnostic::error(
                        "policy-syntax",
                        format!("policy `{name}` names unknown {engine} parameter `{key}`"),
                    )
                    .at_opt(policy_at),
                );
                continue;
            };
            let norm = |x: &Value| parameter.normalize(engine, x).ok();
            let set = v.settings.get(key.as_str());
            let actual: Option<Typed> = match set.map(|c| &c.value) {
                Some(CheckedValue::Typed(t)) => Some(t.clone()),
                Some(CheckedValue::Secret(_)) => None,
                None => v.effective(key),
            };
            let present = set.is_some();
            let contains = |item: &Value| match (&actual, norm(item)) {
                (Some(Typed::List(items)), Some(t)) => items.contains(&t),
                (Some(Typed::Str(s)), _) => item.as_str().is_some_and(|i| s.split(',').any(|p| p.trim() == i)),
                _ => false,
            };
            let ok = match &check {
                Check::Present(want) => present == *want,
                Check::Equals(x) => actual.is_some() && actual == norm(x),
                Check::Not(x) => actual != norm(x),
                Check::In(xs) => xs.iter().any(|x| actual.is_some() && actual == norm(x)),
                Check::NotIn(xs) => !xs.iter().any(|x| actual == norm(x)),
                Check::Min(x) => matches!((&actual, norm(x)), (Some(a), Some(m)) if !less(a, &m)),
                Check::Max(x) => matches!((&actual, norm(x)), (Some(a), Some(m)) if !less(&m, a)),
                Check::Contains(x) => contains(x),
            };
            if ok {
                continue;
            }
            let shown = match (&actual, set) {
                (_, Some(c)) if matches!(c.value, CheckedValue::Secret(_)) => "a secret".to_string(),
                (Some(t), Some(_)) => format!("`{}`", parameter.format_native(engine, t)),
                (Some(t), None) => format!("the default `{}`", parameter.format_native(engine, t)),
                (None, _) => "not set".to_string(),
            };
            let wanted = match &check {
                Check::Present(true) => "to be set".to_string(),
                Check::Present(false) => "not to be set".to_string(),
                Check::Equals(x) => format!("`{x}`"),
                Check::Not(x) => format!("anything but `{x}`"),
                Check::In(xs) => format!("one of {}", Value::List(xs.clone())),
                Check::NotIn(xs) => format!("none of {}", Value::List(xs.clone())),
                Check::Min(x) => format!("at least `{x}`"),
                Check::Max(x) => format!("at most `{x}`"),
                Check::Contains(x) => format!("to contain `{x}`"),
            };
            let message = format!("policy `{name}`: `{key}` is {shown}; it requires {wanted}");
            let d = match policy.severity {
                PolicySeverity::Error => Diagnostic::error("policy", message),
                PolicySeverity::Warning => Diagnostic::warning("policy", message),
            }
            .target(info.id.to_string());
            let d = match set.and_then(|c| c.chain.last()) {
                Some(e) => d.at(e.location.clone()).layer(e.layer.to_string()),
                None => {
                    d.at(fleet.instances[&info.instance].location.clone()).layer(format!("instance {}", info.instance))
                }
            };
            let d = match policy_at {
                Some(at) => d.related(format!("policy `{name}`"), at),
                None => d,
            };
            out.push(match &policy.description {
                Some(desc) => d.help(desc.clone()),
                None => d,
            });
        }
    }
    out
}
