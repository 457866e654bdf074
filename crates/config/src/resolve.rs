//! Resolution: the effective configuration of a target, with provenance.
//!
//! A target is either an instance (its server configuration, `instance`
//! scope) or a tenant on one of its engines (the settings applied to that
//! tenant inside its instance, `tenant` scope). Layers apply in precedence
//! order: engine base < environment < tier < workload < active time
//! profiles (in declaration order) < tenant < instance. Catalog defaults sit
//! below all of them and are added by the caller that knows the catalog.
//!
//! Merging is deep: nested maps are flattened to dotted keys, a key set by a
//! later layer replaces the same key, a scalar replaces a map below it and
//! the other way round. Lists are replaced unless `$append`/`$remove` is
//! used. Every key keeps the chain of entries that touched it, in order.
//!
//! The layers below the tenant depend only on (scope, engine, environment,
//! tier, workload), so their merge is computed once per combination and
//! shared by every target that has it.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex};

use dbfleet_model::{Diagnostic, Diagnostics, EngineKind, Environment, Scope, TierName, Value, Version, Workload};
use jiff::Timestamp;
use rayon::prelude::*;
use serde::Serialize;

use crate::layer::{Entry, LayerKind, Lock, Op, ScopeLayer};
use crate::load::{Fleet, Instance, Tenant};
use crate::template::{Templates, is_template};

/// Names a target: an instance, or a tenant on one engine (`acme/postgresql`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TargetId {
    Instance(String),
    Tenant { tenant: String, engine: EngineKind },
}

impl fmt::Display for TargetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetId::Instance(name) => f.write_str(name),
            TargetId::Tenant { tenant, engine } => write!(f, "{tenant}/{engine}"),
        }
    }
}

impl Serialize for TargetId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Everything that decides which layers apply to a target.
#[derive(Clone, Debug, Serialize)]
pub struct TargetInfo {
    pub id: TargetId,
    pub scope: Scope,
    pub engine: EngineKind,
    pub version: Version,
    pub environment: Environment,
    pub tier: TierName,
    pub workload: Workload,
    pub instance: String,
    pub tenant: Option<String>,
}

impl Fleet {
    /// Every target: instances first, then tenants, each sorted by name.
    pub fn targets(&self) -> Vec<TargetInfo> {
        let mut out: Vec<TargetInfo> = self.instances.values().filter_map(|i| self.instance_target(i)).collect();
        for tenant in self.tenants.values() {
            for engine in tenant.spec.engines.keys() {
                if let Some(t) = self.tenant_target(tenant, *engine) {
                    out.push(t);
                }
            }
        }
        out
    }

    fn instance_target(&self, inst: &Instance) -> Option<TargetInfo> {
        let (tier, workload) = inst.tier_and_workload(self)?;
        Some(TargetInfo {
            id: TargetId::Instance(inst.name.clone()),
            scope: Scope::Instance,
            engine: inst.spec.engine,
            version: inst.spec.version.clone(),
            environment: inst.spec.environment,
            tier,
            workload,
            instance: inst.name.clone(),
            tenant: inst.spec.dedicated.clone(),
        })
    }

    fn tenant_target(&self, tenant: &Tenant, engine: EngineKind) -> Option<TargetInfo> {
        let inst = self.instances.get(tenant.spec.engines.get(&engine)?)?;
        Some(TargetInfo {
            id: TargetId::Tenant { tenant: tenant.id.clone(), engine },
            scope: Scope::Tenant,
            engine,
            version: inst.spec.version.clone(),
            environment: inst.spec.environment,
            tier: tenant.spec.tier,
            workload: tenant.spec.workload,
            instance: inst.name.clone(),
            tenant: Some(tenant.id.clone()),
        })
    }

    /// Looks a target up by name (`pg-prod-01` or `acme/postgresql`).
    pub fn target(&self, name: &str) -> Result<TargetInfo, Diagnostic> {
        let found = match name.split_once('/') {
            None => self.instances.get(name).and_then(|i| self.instance_target(i)),
            Some((tenant, engine)) => match (self.tenants.get(tenant), engine.parse::<EngineKind>()) {
                (Some(t), Ok(e)) if t.spec.engines.contains_key(&e) => self.tenant_target(t, e),
                (Some(t), Ok(e)) => {
                    let uses: Vec<_> = t.spec.engines.keys().map(|e| e.as_str()).collect();
                    return Err(Diagnostic::error("unknown-target", format!("tenant `{tenant}` does not use {e}"))
                        .help(format!("it uses {}", uses.join(", "))));
                }
                _ => None,
            },
        };
        found.ok_or_else(|| {
            let names: Vec<String> = self.targets().iter().map(|t| t.id.to_string()).collect();
            let mut d = Diagnostic::error("unknown-target", format!("no target `{name}` in this fleet"));
            if let Some(s) = dbfleet_model::did_you_mean(name, names.iter().map(String::as_str)) {
                d = d.help(format!("did you mean `{s}`?"));
            } else {
                d = d.help("`dbfleet targets` lists them; a tenant target is written TENANT/ENGINE");
            }
            d
        })
    }

    /// Names of the time profiles active at `at`, in precedence order.
    pub fn active_time_profiles(&self, at: Timestamp) -> Vec<&str> {
        self.time_profiles.iter().filter(|p| p.is_active(at)).map(|p| p.name.as_str()).collect()
    }
}

/// The state of one key after merging: its value (`None` once unset) and
/// every entry that touched it, lowest precedence first.
#[derive(Clone, Debug)]
pub struct Slot<'f> {
    pub value: Option<Value>,
    pub chain: Vec<&'f Entry>,
}

impl Slot<'_> {
    /// The entry that decided the current value.
    pub fn winner(&self) -> Option<&Entry> {
        self.chain.last().copied()
    }
}

/// A target's effective configuration.
#[derive(Clone, Debug)]
pub struct Resolved<'f> {
    pub info: TargetInfo,
    /// Time profiles that were active, in precedence order.
    pub time_profiles: Vec<&'f str>,
    pub settings: BTreeMap<&'f str, Slot<'f>>,
}

impl Resolved<'_> {
    /// The keys that have a value, with it.
    pub fn values(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.settings.iter().filter_map(|(k, s)| s.value.as_ref().map(|v| (*k, v)))
    }
}

#[derive(Clone, Default)]
struct Merged<'f> {
    slots: BTreeMap<&'f str, Slot<'f>>,
    locks: BTreeMap<&'f str, &'f Lock>,
    diags: Vec<Diagnostic>,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct PrefixKey {
    scope: Scope,
    engine: EngineKind,
    environment: Environment,
    tier: TierName,
    workload: Workload,
}

/// Resolves targets of one fleet at one instant.
pub struct Resolver<'f> {
    fleet: &'f Fleet,
    time_profiles: Vec<&'f str>,
    templates: Templates<'f>,
    template_errors: Vec<Diagnostic>,
    /// Merged layers below the tenant, shared by every target with the same
    /// key. Filled lazily from many threads; a race computes a value twice
    /// and keeps one, which is harmless because merging is pure.
    prefixes: Mutex<HashMap<PrefixKey, Arc<Merged<'f>>>>,
}

impl<'f> Resolver<'f> {
    pub fn new(fleet: &'f Fleet, at: Timestamp) -> Resolver<'f> {
        Resolver::with_time_profiles(fleet, fleet.active_time_profiles(at))
    }

    /// A resolver with a chosen set of active time profiles (in precedence
    /// order), so validation can try each profile whenever it would apply.
    pub fn with_time_profiles(fleet: &'f Fleet, time_profiles: Vec<&'f str>) -> Resolver<'f> {
        let (templates, errors) = Templates::compile(fleet);
        let template_errors = errors.into_iter().map(|(e, entry)| template_diagnostic(&e, entry)).collect();
        Resolver { fleet, time_profiles, templates, template_errors, prefixes: Mutex::default() }
    }

    pub fn time_profiles(&self) -> &[&'f str] {
        &self.time_profiles
    }

    /// Problems found before any target was resolved (template syntax).
    pub fn global_diagnostics(&self) -> &[Diagnostic] {
        &self.template_errors
    }

    fn prefix(&self, info: &TargetInfo) -> Arc<Merged<'f>> {
        let key = PrefixKey {
            scope: info.scope,
            engine: info.engine,
            environment: info.environment,
            tier: info.tier,
            workload: info.workload,
        };
        if let Some(m) = self.prefixes.lock().expect("prefix cache poisoned").get(&key) {
            return m.clone();
        }
        let mut merged = Merged::default();
        let fleet = self.fleet;
        let members: [(LayerKind, &str); 4] = [
            (LayerKind::Base, info.engine.as_str()),
            (LayerKind::Environment, info.environment.as_str()),
            (LayerKind::Tier, info.tier.as_str()),
            (LayerKind::Workload, info.workload.as_str()),
        ];
        let time = self.time_profiles.iter().map(|p| (LayerKind::Time, *p));
        for (kind, name) in members.into_iter().chain(time) {
            if let Some(layer) = fleet.layer(kind, name, info.engine) {
                apply_layer(&mut merged, layer.scope(info.scope));
            }
        }
        let merged = Arc::new(merged);
        self.prefixes.lock().expect("prefix cache poisoned").insert(key, merged.clone());
        merged
    }

    /// Resolves one target. Errors (lock violations, template failures)
    /// come back together; the configuration is returned only without them.
    pub fn resolve(&self, info: &TargetInfo) -> Result<Resolved<'f>, Vec<Diagnostic>> {
        let fleet = self.fleet;
        let mut merged = (*self.prefix(info)).clone();
        let inst = &fleet.instances[&info.instance];
        let tenant = info.tenant.as_ref().and_then(|t| fleet.tenants.get(t));
        if let Some(t) = tenant
            && let Some(layer) = t.overrides.get(&info.engine)
        {
            apply_layer(&mut merged, layer.scope(info.scope));
        }
        apply_layer(&mut merged, inst.overrides.scope(info.scope));

        let mut diags = merged.diags;
        if merged.slots.values().any(|s| s.value.as_ref().is_some_and(has_template)) {
            let ctx = crate::context::build(fleet, info, inst, tenant);
            for slot in merged.slots.values_mut() {
                if let Some(v) = &mut slot.value
                    && let Err(e) = render_value(&self.templates, v, &ctx)
                {
                    let entry = slot.winner().expect("a slot with a value has an entry");
                    diags.push(template_diagnostic(&e, entry).target(info.id.to_string()));
                }
            }
        }
        if diags.is_empty() {
            Ok(Resolved { info: info.clone(), time_profiles: self.time_profiles.clone(), settings: merged.slots })
        } else {
            Err(diags)
        }
    }

    /// Resolves many targets in parallel, keeping their order. Diagnostics
    /// that many targets share (a lock broken in a tier layer, say) are
    /// reported once.
    pub fn resolve_all(&self, targets: &[TargetInfo]) -> (Vec<Resolved<'f>>, Diagnostics) {
        let results: Vec<_> = targets.par_iter().map(|t| self.resolve(t)).collect();
        let mut out = Vec::with_capacity(results.len());
        let mut diags = Diagnostics::default();
        diags.extend(self.template_errors.iter().cloned());
        let mut seen = std::collections::HashSet::new();
        for r in results {
            match r {
                Ok(resolved) => out.push(resolved),
                Err(ds) => {
                    for d in ds {
                        if seen.insert((d.code, d.location.clone(), d.message.clone())) {
                            diags.push(d);
                        }
                    }
                }
            }
        }
        diags.sort();
        (out, diags)
    }
}

fn has_template(v: &Value) -> bool {
    match v {
        Value::String(s) => is_template(s),
        Value::List(items) => items.iter().any(has_template),
        Value::Map(m) => m.values().any(has_template),
        _ => false,
    }
}

fn render_value(
    templates: &Templates<'_>,
    v: &mut Value,
    ctx: &minijinja::Value,
) -> Result<(), crate::template::TemplateError> {
    match v {
        Value::String(s) if is_template(s) => {
            let out = templates.render(s, ctx)?;
            *v = Value::from_plain_scalar(out.trim());
        }
        Value::List(items) => items.iter_mut().try_for_each(|i| render_value(templates, i, ctx))?,
        Value::Map(m) => m.values_mut().try_for_each(|i| render_value(templates, i, ctx))?,
        _ => {}
    }
    Ok(())
}

fn template_diagnostic(e: &crate::template::TemplateError, entry: &Entry) -> Diagnostic {
    let mut msg = format!("template in `{}`: {}", entry.key, e.message);
    if let Some(line) = e.line.filter(|l| *l > 1) {
        msg.push_str(&format!(" (line {line} of the template)"));
    }
    Diagnostic::error("template", msg).at(entry.location.clone()).layer(entry.layer.to_string())
}

/// Keys strictly below `key` in the flattened tree.
fn descendants<'k, T>(map: &BTreeMap<&'k str, T>, key: &str) -> Vec<&'k str> {
    let start = format!("{key}.");
    let end = format!("{key}/"); // '/' sorts right after '.'
    map.range::<str, _>((std::ops::Bound::Included(start.as_str()), std::ops::Bound::Excluded(end.as_str())))
        .map(|(k, _)| *k)
        .collect()
}

/// Keys strictly above `key` (its dotted prefixes).
fn ancestors(key: &str) -> impl Iterator<Item = &str> {
    key.match_indices('.').map(move |(i, _)| &key[..i])
}

fn find_lock<'f>(m: &Merged<'f>, key: &str) -> Option<&'f Lock> {
    if m.locks.is_empty() {
        return None;
    }
    if let Some(l) = m.locks.get(key) {
        return Some(l);
    }
    ancestors(key)
        .find_map(|a| m.locks.get(a).copied())
        .or_else(|| descendants(&m.locks, key).first().map(|k| m.locks[k]))
}

fn apply_layer<'f>(m: &mut Merged<'f>, layer: &'f ScopeLayer) {
    for entry in &layer.entries {
        apply(m, entry);
    }
    for lock in &layer.locks {
        m.locks.insert(&lock.key, lock);
    }
}

fn apply<'f>(m: &mut Merged<'f>, e: &'f Entry) {
    // Restating a locked key's current value is not a change, so it is allowed.
    let unchanged = matches!(&e.op, Op::Set(v) if m.slots.get(&*e.key).and_then(|s| s.value.as_ref()) == Some(v));
    if let Some(lock) = find_lock(m, &e.key).filter(|_| !unchanged) {
        m.diags.push(
            Diagnostic::error(
                "locked",
                format!("`{}` is locked by {} and cannot be changed by {}", e.key, lock.layer, e.layer),
            )
            .at(e.location.clone())
            .layer(e.layer.to_string())
            .related(format!("locked by {}", lock.layer), lock.location.clone()),
        );
        return;
    }
    // A value replaces whatever was above or below it in the tree.
    for a in ancestors(&e.key) {
        m.slots.remove(a);
    }
    if !matches!(e.op, Op::Append(_) | Op::Remove(_)) {
        for k in descendants(&m.slots, &e.key) {
            m.slots.remove(k);
        }
    }
    let slot = m.slots.entry(&e.key).or_insert_with(|| Slot { value: None, chain: Vec::new() });
    slot.chain.push(e);
    match &e.op {
        Op::Set(v) => slot.value = Some(v.clone()),
        Op::Unset => slot.value = None,
        Op::Append(items) | Op::Remove(items) => {
            let mut list = match slot.value.take() {
                None => Vec::new(),
                Some(Value::List(l)) => l,
                Some(other) => {
                    let previous = slot.chain[slot.chain.len() - 2];
                    m.diags.push(
                        Diagnostic::error(
                            "list-op",
                            format!("cannot add to or remove from `{}`: it is a {}, not a list", e.key, other.kind()),
                        )
                        .at(e.location.clone())
                        .layer(e.layer.to_string())
                        .related(format!("set by {}", previous.layer), previous.location.clone()),
                    );
                    slot.value = Some(other);
                    return;
                }
            };
            if let Op::Append(items) = &e.op {
                list.extend(items.iter().cloned());
            } else {
                list.retain(|x| !items.contains(x));
            }
            slot.value = Some(Value::List(list));
        }
    }
}

/// Merges a sequence of layers: the pure law the rest is built on, exposed
/// for property tests and tools.
pub fn merge_layers<'f>(layers: &[&'f ScopeLayer]) -> (BTreeMap<&'f str, Slot<'f>>, Vec<Diagnostic>) {
    let mut m = Merged::default();
    for l in layers {
        apply_layer(&mut m, l);
    }
    (m.slots, m.diags)
}

#[cfg(test)]
mod merge_laws {
    //! Property tests for the laws merging must keep, on random layers over
    //! a small key space (so keys collide, nest and unset each other often).

    use std::sync::Arc;

    use dbfleet_model::{Location, Value};
    use proptest::prelude::*;

    use super::*;
    use crate::layer::{LayerId, LayerKind};

    fn key() -> impl Strategy<Value = String> {
        prop::sample::select(vec!["a", "b", "a.x", "a.y", "b.x.z", "c"]).prop_map(String::from)
    }

    fn op() -> impl Strategy<Value = Op> {
        let scalar = prop_oneof![any::<i8>().prop_map(|i| Value::Int(i.into())), "[a-c]{1,2}".prop_map(Value::String)];
        prop_oneof![
            4 => scalar.clone().prop_map(Op::Set),
            1 => prop::collection::vec(scalar.clone(), 0..3).prop_map(|l| Op::Set(Value::List(l))),
            1 => prop::collection::vec(scalar.clone(), 1..3).prop_map(Op::Append),
            1 => prop::collection::vec(scalar, 1..2).prop_map(Op::Remove),
            1 => Just(Op::Unset),
        ]
    }

    fn layer(kind: LayerKind, ops: Vec<(String, Op)>) -> ScopeLayer {
        let id = Arc::new(LayerId { kind, name: format!("{kind:?}") });
        let entries = ops
            .into_iter()
            .enumerate()
            .map(|(i, (k, op))| Entry {
                key: k.into(),
                op,
                location: Location::new("t.yaml", i as u32 + 1, 1),
                layer: id.clone(),
            })
            .collect();
        ScopeLayer { entries, locks: Vec::new() }
    }

    fn layers() -> impl Strategy<Value = Vec<ScopeLayer>> {
        let kinds = [LayerKind::Base, LayerKind::Environment, LayerKind::Tier, LayerKind::Tenant];
        prop::collection::vec(prop::collection::vec((key(), op()), 0..6), 1..4)
            .prop_map(move |ls| ls.into_iter().enumerate().map(|(i, ops)| layer(kinds[i], ops)).collect())
    }

    fn values(slots: &BTreeMap<&str, Slot<'_>>) -> BTreeMap<String, Value> {
        slots.iter().filter_map(|(k, s)| Some((k.to_string(), s.value.clone()?))).collect()
    }

    /// Whether a layer only sets and unsets (no list operators), which is
    /// what makes re-applying it a no-op.
    fn idempotent_ops(l: &ScopeLayer) -> bool {
        l.entries.iter().all(|e| matches!(e.op, Op::Set(_) | Op::Unset))
    }

    proptest! {
        #[test]
        fn merging_is_deterministic(ls in layers()) {
            let refs: Vec<&ScopeLayer> = ls.iter().collect();
            let (a, _) = merge_layers(&refs);
            let (b, _) = merge_layers(&refs);
            prop_assert_eq!(values(&a), values(&b));
        }

        #[test]
        fn reapplying_a_set_only_layer_changes_nothing(ls in layers(), extra in prop::collection::vec((key(), op()), 0..6)) {
            let last = layer(LayerKind::Instance, extra);
            prop_assume!(idempotent_ops(&last));
            let mut once: Vec<&ScopeLayer> = ls.iter().collect();
            once.push(&last);
            let mut twice = once.clone();
            twice.push(&last);
            prop_assert_eq!(values(&merge_layers(&once).0), values(&merge_layers(&twice).0));
        }

        #[test]
        fn the_last_layer_to_set_a_key_wins(ls in layers(), k in key(), v in any::<i16>()) {
            let top = layer(LayerKind::Instance, vec![(k.clone(), Op::Set(Value::Int(v.into())))]);
            let mut all: Vec<&ScopeLayer> = ls.iter().collect();
            all.push(&top);
            let (slots, _) = merge_layers(&all);
            prop_assert_eq!(slots[k.as_str()].value.clone(), Some(Value::Int(v.into())));
            prop_assert_eq!(slots[k.as_str()].winner().unwrap().layer.kind, LayerKind::Instance);
            // Nothing above or below the key survives beside it.
            for other in slots.keys() {
                let (below, above) = (format!("{k}."), format!("{other}."));
                let nested = other.starts_with(&below) || k.starts_with(&above);
                prop_assert!(!nested || slots[other].value.is_none(), "{} next to {}", other, k);
            }
        }

        #[test]
        fn an_unset_removes_the_key_and_everything_below(ls in layers(), k in key()) {
            let top = layer(LayerKind::Instance, vec![(k.clone(), Op::Unset)]);
            let mut all: Vec<&ScopeLayer> = ls.iter().collect();
            all.push(&top);
            let merged = values(&merge_layers(&all).0);
            let below = format!("{k}.");
            prop_assert!(merged.keys().all(|o| o != &k && !o.starts_with(&below)));
        }

        #[test]
        fn chains_keep_every_contributor_in_precedence_order(ls in layers()) {
            let refs: Vec<&ScopeLayer> = ls.iter().collect();
            let (slots, _) = merge_layers(&refs);
            for slot in slots.values() {
                let kinds: Vec<LayerKind> = slot.chain.iter().map(|e| e.layer.kind).collect();
                prop_assert!(kinds.windows(2).all(|w| w[0] <= w[1]), "{:?}", kinds);
            }
        }
    }
}
