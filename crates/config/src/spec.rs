//! The typed shape of the fleet repo's files, as written by people.
//!
//! These types are decoded from spanned YAML (so every error has a line and
//! column) and are also the source of the checked-in JSON Schema that
//! editors use to autocomplete fleet files. Settings maps (layer bodies,
//! overrides, credentials) are free-form here: they are read separately,
//! key by key, by [`crate::layer`], so that each value keeps its location.

use std::collections::BTreeMap;

use dbfleet_model::{EngineKind, Environment, TierName, Version, Workload};
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

/// `fleet.yaml`: what the fleet is made of.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FleetSpec {
    /// A short name for the fleet, used in rendered file headers.
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// The engines the fleet runs and the versions it supports for each.
    pub engines: BTreeMap<EngineKind, EngineSpec>,
    /// The environments instances can belong to.
    pub environments: BTreeMap<Environment, EnvironmentSpec>,
    /// Commercial tiers: placement and limits of their tenants.
    pub tiers: BTreeMap<TierName, TierSpec>,
    /// Workload profiles tenants and pools are tuned for.
    pub workloads: BTreeMap<Workload, WorkloadSpec>,
    /// Time-of-day profiles, in precedence order: when several are active,
    /// a later one wins over an earlier one.
    #[serde(default)]
    pub time_profiles: IndexMap<String, TimeProfileSpec>,
    /// Where secret providers live.
    #[serde(default)]
    pub secrets: SecretsSpec,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EngineSpec {
    /// Versions instances of this engine may run (prefixes: `15` allows `15.8`).
    pub versions: Vec<Version>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentSpec {
    #[serde(default)]
    pub description: Option<String>,
    /// A protected environment holds customer data: policies and rollouts
    /// treat it with the most care.
    #[serde(default)]
    pub protected: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Placement {
    /// Tenants of the tier share pool instances.
    Shared,
    /// Each tenant of the tier gets instances of its own.
    Dedicated,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TierSpec {
    #[serde(default)]
    pub description: Option<String>,
    pub placement: Placement,
    /// Quotas every tenant of the tier gets.
    pub limits: TierLimits,
    /// Settings a tenant of this tier may override, as
    /// `ENGINE.SCOPE.KEY` (a `*` as last part allows a whole group), each
    /// with an optional range. Keys not named here cannot be overridden by
    /// the tenant's own file.
    #[serde(default)]
    pub overridable: BTreeMap<String, OverrideRange>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct TierLimits {
    /// Connections a tenant may hold open at once, per engine.
    pub connections: u32,
    /// Storage a tenant may use, per engine (a size such as `10GB`).
    pub storage: String,
    /// Memory a tenant's queries may use at once (a size).
    #[serde(default)]
    pub memory: Option<String>,
    /// CPU cores a tenant's workload may use.
    #[serde(default)]
    pub cpus: Option<f64>,
    /// Queries per second before throttling.
    #[serde(default)]
    pub qps: Option<u32>,
    /// Days backups are kept.
    #[serde(default)]
    pub backup_retention_days: Option<u32>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OverrideRange {
    /// The lowest value a tenant may set (same syntax as the setting).
    #[serde(default)]
    #[schemars(with = "Option<serde_json::Value>")]
    pub min: Option<dbfleet_model::Value>,
    /// The highest value a tenant may set.
    #[serde(default)]
    #[schemars(with = "Option<serde_json::Value>")]
    pub max: Option<dbfleet_model::Value>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkloadSpec {
    #[serde(default)]
    pub description: Option<String>,
}

/// When a time profile is active: during any of its weekly windows or on
/// any of its dates, in its time zone.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeProfileSpec {
    #[serde(default)]
    pub description: Option<String>,
    /// An IANA time zone name, such as `Europe/Berlin`.
    #[serde(default = "utc")]
    pub timezone: String,
    #[serde(default)]
    pub windows: Vec<WindowSpec>,
    /// Whole days (`YYYY-MM-DD`) on which the profile is active, such as
    /// public holidays.
    #[serde(default)]
    pub dates: Vec<String>,
}

fn utc() -> String {
    "UTC".to_string()
}

/// A weekly window. `end` before `start` means the window runs past
/// midnight into the next day.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WindowSpec {
    pub days: Vec<Weekday>,
    /// `HH:MM`, inclusive.
    pub start: String,
    /// `HH:MM`, exclusive.
    pub end: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretsSpec {
    /// A Vault or OpenBao server for `vault:` references. The token comes
    /// from `VAULT_TOKEN`, never from the repo.
    #[serde(default)]
    pub vault: Option<VaultSpec>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VaultSpec {
    pub address: String,
    #[serde(default)]
    pub namespace: Option<String>,
}

/// `tenants/<id>.yaml`: one tenant.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantSpec {
    /// A human name, for dashboards.
    #[serde(default)]
    pub display_name: Option<String>,
    pub tier: TierName,
    pub workload: Workload,
    /// Where the tenant's data must live, such as `eu-west-1`.
    pub region: String,
    /// The engines the tenant uses, each with the instance it is placed on.
    pub engines: BTreeMap<EngineKind, String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// The tenant's own settings, by engine and scope. Only keys the tier
    /// allows may be set.
    #[serde(default)]
    pub overrides: LayerBody,
}

/// One instance in `inventory/*.yaml` (a map of instance names to these).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InstanceSpec {
    pub engine: EngineKind,
    pub version: Version,
    pub environment: Environment,
    /// For a shared pool: the tier and workload the pool serves.
    #[serde(default)]
    pub pool: Option<PoolSpec>,
    /// For a dedicated instance: the tenant it belongs to.
    #[serde(default)]
    pub dedicated: Option<String>,
    /// `host:port` the control plane reaches the server at.
    pub address: String,
    #[serde(default)]
    pub region: Option<String>,
    pub hardware: HardwareSpec,
    /// Login for the control plane. Values may be secret references.
    #[serde(default)]
    pub credentials: SettingsMap,
    #[serde(default)]
    pub tls: Option<TlsSpec>,
    /// How dbfleet restarts or reloads the server and where it may write
    /// configuration files, for changes that cannot be made over the wire.
    #[serde(default)]
    pub control: Option<ControlSpec>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Settings for this instance only: `instance:` and `tenant:` maps.
    #[serde(default)]
    pub overrides: ScopedSettings,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PoolSpec {
    pub tier: TierName,
    #[serde(default = "mixed")]
    pub workload: Workload,
}

fn mixed() -> Workload {
    Workload::Mixed
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HardwareSpec {
    /// Memory of the machine, such as `64GB`.
    pub memory: String,
    pub cpus: u32,
    /// Data disk size, such as `2TB`.
    #[serde(default)]
    pub disk: Option<String>,
    /// `ssd` or `hdd`; tuning uses it for cost settings.
    #[serde(default)]
    pub storage: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ControlSpec {
    /// The command (argv) that restarts the server, run only when a plan
    /// needs a restart and `--allow-restart` is given.
    #[serde(default)]
    pub restart: Vec<String>,
    /// The command (argv) that makes the server re-read its files, for
    /// engines without a network way to do it.
    #[serde(default)]
    pub reload: Vec<String>,
    /// The directory the server reads dbfleet's configuration files from
    /// (ClickHouse's config directory, file delivery).
    #[serde(default)]
    pub config_dir: Option<String>,
    /// Seconds to wait for the server after a restart (default 60).
    #[serde(default)]
    pub ready_timeout: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsSpec {
    #[serde(default)]
    pub enabled: bool,
    /// Path of a CA bundle to verify the server with.
    #[serde(default)]
    pub ca: Option<String>,
    /// Skip verification (only for development fleets).
    #[serde(default)]
    pub insecure: bool,
}

/// Free-form settings, read key by key with locations by `crate::layer`.
/// The typed pass only checks that it is a map.
#[derive(Debug, Clone, Default, JsonSchema)]
#[schemars(
    description = "Settings: native parameter names (nested maps join with dots) to values. A value may be `{$secret: REF}`, `{$append: [..]}`, `{$remove: [..]}` or `{$unset: true}`; `$lock: [KEY, ..]` locks keys against later layers."
)]
pub struct SettingsMap(#[schemars(with = "BTreeMap<String, serde_json::Value>")] ());

impl<'de> Deserialize<'de> for SettingsMap {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <BTreeMap<String, serde::de::IgnoredAny>>::deserialize(d).map(|_| SettingsMap(()))
    }
}

/// `instance:` and `tenant:` settings for one engine.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScopedSettings {
    /// Server configuration.
    #[serde(default)]
    pub instance: SettingsMap,
    /// Settings applied to each tenant inside the server (per role or
    /// database), and quotas.
    #[serde(default)]
    pub tenant: SettingsMap,
}

/// A layer file's body: settings by engine, each split by scope.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct LayerBody(pub BTreeMap<EngineKind, ScopedSettings>);

/// The JSON Schemas of the fleet repo's files, by file kind.
pub fn schemas() -> Vec<(&'static str, schemars::Schema)> {
    vec![
        ("fleet", schemars::schema_for!(FleetSpec)),
        ("tenant", schemars::schema_for!(TenantSpec)),
        ("inventory", schemars::schema_for!(BTreeMap<String, InstanceSpec>)),
        ("layer", schemars::schema_for!(LayerBody)),
        ("scoped", schemars::schema_for!(ScopedSettings)),
        ("policies", schemars::schema_for!(PoliciesSpec)),
    ]
}

/// `policies.yaml`: the fleet's own rules, checked by `dbfleet validate`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PoliciesSpec {
    #[serde(default)]
    pub policies: IndexMap<String, PolicySpec>,
}

/// One policy: on the targets `when` selects, every `require` assertion
/// must hold for the target's engine.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default = "error_severity")]
    pub severity: PolicySeverity,
    #[serde(default)]
    pub when: Selector,
    /// By engine: setting name to the value it must have, or to a check:
    /// `{equals: V}`, `{not: V}`, `{in: [..]}`, `{not_in: [..]}`,
    /// `{present: true}`, `{min: V}`, `{max: V}`, `{contains: V}`.
    #[schemars(with = "BTreeMap<EngineKind, BTreeMap<String, serde_json::Value>>")]
    pub require: BTreeMap<EngineKind, BTreeMap<String, dbfleet_model::Value>>,
}

fn error_severity() -> PolicySeverity {
    PolicySeverity::Error
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PolicySeverity {
    Error,
    Warning,
}

/// Which targets a policy applies to; an empty list matches everything.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Selector {
    #[serde(default)]
    pub environment: Vec<Environment>,
    #[serde(default)]
    pub tier: Vec<TierName>,
    #[serde(default)]
    pub workload: Vec<Workload>,
    #[serde(default)]
    pub engine: Vec<EngineKind>,
    #[serde(default)]
    pub scope: Vec<dbfleet_model::Scope>,
}
