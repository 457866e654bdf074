//! The context templates are rendered with. Documented in
//! docs/fleet-repo.md; a field added here must be added there.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::load::{Fleet, Instance, Tenant};
use crate::resolve::TargetInfo;

#[derive(Serialize)]
struct Context<'a> {
    fleet: &'a str,
    target: String,
    scope: &'static str,
    engine: Engine<'a>,
    environment: &'static str,
    tier: Tier<'a>,
    workload: &'static str,
    instance: InstanceCtx<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tenant: Option<TenantCtx<'a>>,
}

#[derive(Serialize)]
struct Engine<'a> {
    name: &'static str,
    version: &'a str,
    major: u32,
}

#[derive(Serialize)]
struct Tier<'a> {
    name: &'static str,
    placement: crate::spec::Placement,
    limits: &'a crate::spec::TierLimits,
}

#[derive(Serialize)]
struct InstanceCtx<'a> {
    name: &'a str,
    address: &'a str,
    region: Option<&'a str>,
    memory: u64,
    cpus: u32,
    disk: Option<u64>,
    storage: Option<&'a str>,
    labels: &'a BTreeMap<String, String>,
}

#[derive(Serialize)]
struct TenantCtx<'a> {
    id: &'a str,
    display_name: &'a str,
    tier: &'static str,
    workload: &'static str,
    region: &'a str,
    labels: &'a BTreeMap<String, String>,
}

pub(crate) fn build(fleet: &Fleet, info: &TargetInfo, inst: &Instance, tenant: Option<&Tenant>) -> minijinja::Value {
    let tier = &fleet.spec.tiers[&info.tier];
    let ctx = Context {
        fleet: &fleet.spec.name,
        target: info.id.to_string(),
        scope: info.scope.as_str(),
        engine: Engine { name: info.engine.as_str(), version: info.version.as_str(), major: info.version.major() },
        environment: info.environment.as_str(),
        tier: Tier { name: info.tier.as_str(), placement: tier.placement, limits: &tier.limits },
        workload: info.workload.as_str(),
        instance: InstanceCtx {
            name: &inst.name,
            address: &inst.spec.address,
            region: inst.spec.region.as_deref(),
            memory: inst.memory,
            cpus: inst.spec.hardware.cpus,
            disk: inst.disk,
            storage: inst.spec.hardware.storage.as_deref(),
            labels: &inst.spec.labels,
        },
        tenant: tenant.map(|t| TenantCtx {
            id: &t.id,
            display_name: t.spec.display_name.as_deref().unwrap_or(&t.id),
            tier: t.spec.tier.as_str(),
            workload: t.spec.workload.as_str(),
            region: &t.spec.region,
            labels: &t.spec.labels,
        }),
    };
    minijinja::Value::from(minijinja::value::Serde(&ctx))
}
