//! Validation: every resolved setting checked against its engine's
//! parameter catalog, the tier's override rules, the engine's rules for
//! dangerous combinations and resource budgets (`rules`), and the fleet's
//! own policies (`policy`).
//!
//! Validation collects every problem: each diagnostic names the setting,
//! the target, and the file, line and layer that decided the value.

use std::collections::BTreeMap;

use dbfleet_catalog::{Lookup, Parameter, Typed};
use dbfleet_model::{Diagnostic, EngineKind, Location, Scope, SecretRef, Value, Version};

use crate::layer::{Entry, LayerKind, Op};
use crate::load::Fleet;
use crate::resolve::{Resolved, TargetInfo};

/// A setting's value after validation.
#[derive(Clone, Debug, PartialEq)]
pub enum CheckedValue {
    Typed(Typed),
    Secret(SecretRef),
}

/// One valid setting: its catalog entry, canonical value and provenance.
#[derive(Clone, Debug)]
pub struct Checked<'f> {
    pub parameter: &'static Parameter,
    pub value: CheckedValue,
    pub chain: Vec<&'f Entry>,
}

impl Checked<'_> {
    /// Where the value was decided.
    pub fn location(&self) -> Option<&Location> {
        self.chain.last().map(|e| &e.location)
    }

    /// `file:line:col, layer` for rendered-file annotations and messages.
    pub fn origin(&self) -> Option<String> {
        self.chain.last().map(|e| format!("{}, {}", e.location, e.layer))
    }
}

/// A target's configuration in catalog terms: canonical names and values.
/// Settings that failed validation are left out (and reported).
#[derive(Clone, Debug)]
pub struct Validated<'f> {
    pub info: TargetInfo,
    pub settings: BTreeMap<&'static str, Checked<'f>>,
}

impl Validated<'_> {
    /// The effective typed value of a parameter: the one set, or the
    /// catalog default.
    pub fn effective(&self, name: &str) -> Option<Typed> {
        match self.settings.get(name) {
            Some(Checked { value: CheckedValue::Typed(t), .. }) => Some(t.clone()),
            Some(Checked { value: CheckedValue::Secret(_), .. }) => None,
            None => default_of(self.info.engine, name),
        }
    }
}

/// The catalog default of a parameter, normalised.
pub fn default_of(engine: EngineKind, name: &str) -> Option<Typed> {
    let p = dbfleet_catalog::catalog(engine).get(name)?;
    p.normalize(engine, p.default.as_ref()?).ok()
}

fn diag(
    severity_error: bool,
    code: &'static str,
    message: String,
    target: &TargetInfo,
    entry: Option<&Entry>,
) -> Diagnostic {
    let d = if severity_error { Diagnostic::error(code, message) } else { Diagnostic::warning(code, message) };
    let d = d.target(target.id.to_string());
    match entry {
        Some(e) => d.at(e.location.clone()).layer(e.layer.to_string()),
        None => d,
    }
}

fn version_text(engine: EngineKind, v: &Version) -> String {
    format!("{engine} {v}")
}

/// Checks one target.
pub fn validate<'f>(fleet: &'f Fleet, resolved: &Resolved<'f>) -> (Validated<'f>, Vec<Diagnostic>) {
    let info = &resolved.info;
    let engine = info.engine;
    let catalog = dbfleet_catalog::catalog(engine);
    let mut diags = Vec::new();
    let mut settings: BTreeMap<&'static str, Checked<'f>> = BTreeMap::new();

    if catalog.supported_version(&info.version).is_none() {
        let listed: Vec<String> = catalog.versions().iter().map(|v| v.to_string()).collect();
        diags.push(
            Diagnostic::warning(
                "unsupported-version",
                format!(
                    "{} is not a version dbfleet's catalog covers ({}); checks use the nearest",
                    version_text(engine, &info.version),
                    listed.join(", ")
                ),
            )
            .target(info.id.to_string())
            .at(fleet.instances[&info.instance].location.clone()),
        );
    }

    for (key, value, chain) in regroup_maps(engine, resolved) {
        let slot = crate::resolve::Slot { value: Some(value), chain };
        let value = slot.value.as_ref().expect("regrouped settings have values");
        let key = key.as_str();
        let winner = slot.winner();
        let parameter: &'static Parameter = match catalog.lookup(key, &info.version) {
            Lookup::Found(p) => p,
            Lookup::Alias { alias, parameter } => {
                diags.push(diag(
                    false,
                    "deprecated-name",
                    format!("`{alias}` is an old name of `{}`; write `{}`", parameter.name, parameter.name),
                    info,
                    winner,
                ));
                parameter
            }
            Lookup::NotYet { parameter, since } => {
                diags.push(diag(
                    true,
                    "version",
                    format!(
                        "`{}` exists from {engine} {since} on, and this instance runs an older version",
                        parameter.name
                    ),
                    info,
                    winner,
                ));
                continue;
            }
            Lookup::Removed { parameter, until, replaced_by } => {
                let mut msg = format!(
                    "`{}` was removed after {engine} {until}, and this instance runs a newer version",
                    parameter.name
                );
                if let Some(r) = replaced_by {
                    msg.push_str(&format!("; use `{r}` instead"));
                }
                diags.push(diag(true, "version", msg, info, winner));
                continue;
            }
            Lookup::Unknown { suggestion } => {
                let mut msg = format!("unknown {engine} parameter `{key}`");
                if let Some(s) = suggestion {
                    msg.push_str(&format!(", did you mean `{s}`?"));
                }
                diags.push(diag(true, "unknown-parameter", msg, info, winner));
                continue;
            }
        };
        if parameter.read_only {
            diags.push(diag(
                true,
                "read-only",
                format!("`{}` is reported by the server but cannot be set", parameter.name),
                info,
                winner,
            ));
            continue;
        }
        if !parameter.scope.allows(info.scope) {
            let only = if info.scope == Scope::Instance { "per tenant" } else { "for the whole instance" };
            diags.push(diag(
                true,
                "scope",
                format!("`{}` can only be set {only}, not in {} scope", parameter.name, info.scope),
                info,
                winner,
            ));
            continue;
        }
        let checked = match value {
            Value::Secret(r) => CheckedValue::Secret(r.clone()),
            _ if parameter.sensitive => {
                diags.push(diag(
                    true,
                    "plaintext-secret",
                    format!("`{}` holds a secret: write it as {{$secret: REF}}, never as plain text", parameter.name),
                    info,
                    winner,
                ));
                continue;
            }
            v => match parameter.normalize(engine, v) {
                Ok(t) => CheckedValue::Typed(t),
                Err(e) => {
                    diags.push(diag(
                        true,
                        "invalid-value",
                        format!("invalid value for `{}`: {e}", parameter.name),
                        info,
                        winner,
                    ));
                    continue;
                }
            },
        };
        if let Some(previous) = settings.get(parameter.name.as_str()) {
            let d = diag(
                true,
                "duplicate",
                format!("`{}` is set twice, under two of its names", parameter.name),
                info,
                winner,
            );
            let d = match previous.location() {
                Some(l) => d.related("also set", l.clone()),
                None => d,
            };
            diags.push(d);
            continue;
        }
        check_tier_override(fleet, info, key, parameter, &checked, &slot.chain, &mut diags);
        settings.insert(&parameter.name, Checked { parameter, value: checked, chain: slot.chain.clone() });
    }
    let validated = Validated { info: info.clone(), settings };
    diags.extend(crate::rules::check(fleet, &validated));
    diags.extend(crate::policy::check(fleet, &validated));
    (validated, diags)
}

/// The resolved settings, with keys below a map-typed parameter (such as
/// ClickHouse's `remote_servers`) gathered back into one map value. The
/// loader flattens nested maps into dotted keys so layers can merge deeply;
/// for these parameters the whole map is the value, and merging stays deep
/// (one cluster can be changed per environment). The chain of a gathered
/// map is the chain of every key in it, in order.
fn regroup_maps<'f>(engine: EngineKind, resolved: &Resolved<'f>) -> Vec<(String, Value, Vec<&'f Entry>)> {
    let catalog = dbfleet_catalog::catalog(engine);
    fn map_parent<'k>(catalog: &dbfleet_catalog::Catalog, key: &'k str) -> Option<&'k str> {
        key.match_indices('.')
            .map(|(i, _)| &key[..i])
            .find(|prefix| catalog.get(prefix).is_some_and(|p| p.ty == dbfleet_catalog::ParamType::Map))
    }
    let mut out: Vec<(String, Value, Vec<&'f Entry>)> = Vec::new();
    let mut maps: BTreeMap<String, (Value, Vec<&'f Entry>)> = BTreeMap::new();
    for (key, slot) in &resolved.settings {
        let Some(value) = &slot.value else { continue };
        match map_parent(catalog, key) {
            Some(parent) => {
                let (map, chain) =
                    maps.entry(parent.to_string()).or_insert_with(|| (Value::Map(BTreeMap::new()), Vec::new()));
                let mut node = map;
                let rest: Vec<&str> = key[parent.len() + 1..].split('.').collect();
                for (i, part) in rest.iter().enumerate() {
                    let Value::Map(m) = node else { break };
                    node = if i + 1 == rest.len() {
                        m.insert(part.to_string(), value.clone());
                        break;
                    } else {
                        m.entry(part.to_string()).or_insert_with(|| Value::Map(BTreeMap::new()))
                    };
                }
                chain.extend(slot.chain.iter().copied());
            }
            None => out.push((key.to_string(), value.clone(), slot.chain.clone())),
        }
    }
    out.extend(maps.into_iter().map(|(k, (v, chain))| (k, v, chain)));
    out
}

/// Whether a tier's `overridable` pattern allows `engine.scope.key`.
fn pattern_allows(pattern: &str, engine: EngineKind, scope: Scope, key: &str) -> bool {
    let full = format!("{engine}.{scope}.{key}");
    match pattern.strip_suffix('*') {
        Some(prefix) => full.starts_with(prefix),
        None => pattern == full,
    }
}

/// A tenant may only set, in its own file, what its tier allows, within
/// the tier's ranges.
fn check_tier_override(
    fleet: &Fleet,
    info: &TargetInfo,
    key: &str,
    parameter: &Parameter,
    value: &CheckedValue,
    chain: &[&Entry],
    diags: &mut Vec<Diagnostic>,
) {
    let Some(entry) = chain.iter().rev().find(|e| e.layer.kind == LayerKind::Tenant) else { return };
    if !matches!(entry.op, Op::Set(_) | Op::Append(_) | Op::Remove(_)) {
        return;
    }
    let tier = &fleet.spec.tiers[&info.tier];
    let rules: Vec<_> =
        tier.overridable.iter().filter(|(p, _)| pattern_allows(p, info.engine, info.scope, key)).collect();
    if rules.is_empty() {
        diags.push(diag(
            true,
            "tier-override",
            format!("tier {} does not let tenants override `{}.{}.{key}`", info.tier, info.engine, info.scope),
            info,
            Some(entry),
        ));
        return;
    }
    let CheckedValue::Typed(v) = value else { return };
    for (pattern, range) in rules {
        let bound = |b: &Option<Value>| b.as_ref().and_then(|b| parameter.normalize(info.engine, b).ok());
        let (min, max) = (bound(&range.min), bound(&range.max));
        let below = min.as_ref().is_some_and(|m| crate::rules::less(v, m));
        let above = max.as_ref().is_some_and(|m| crate::rules::less(m, v));
        if below || above {
            let show = |b: &Option<Value>| b.as_ref().map_or("-".to_string(), |v| v.to_string());
            diags.push(diag(
                true,
                "tier-limit",
                format!(
                    "tier {} allows `{key}` only within [{}, {}] (rule `{pattern}`), but the tenant sets {}",
                    info.tier,
                    show(&range.min),
                    show(&range.max),
                    parameter.format_native(info.engine, v)
                ),
                info,
                Some(entry),
            ));
        }
    }
}
