//! Reading a fleet repo from disk into a linked [`Fleet`].
//!
//! Loading runs in passes, each collecting every problem it finds: parse
//! each file (YAML syntax), decode it (shape, unknown keys, wrong types),
//! read its settings (operators, secret references), then link the files
//! together (unknown tiers, instances, engines; placement). A fleet is
//! returned only when no pass found an error.
//!
//! Layout (see docs/fleet-repo.md):
//! `fleet.yaml`, `layers/base/<engine>.yaml`,
//! `layers/{environments,tiers,workloads,time}/<name>.yaml`,
//! `tenants/<id>.yaml`, `inventory.yaml` and/or `inventory/*.yaml`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use dbfleet_model::decode::{DecodeError, decode};
use dbfleet_model::yaml::{self, Node};
use dbfleet_model::{Diagnostic, Diagnostics, EngineKind, Environment, Location, TierName, Value, Workload};
use rayon::prelude::*;

use crate::layer::{EngineLayer, LayerId, LayerKind, read_layer_body, read_scoped, read_settings};
use crate::spec::{FleetSpec, InstanceSpec, Placement, TenantSpec};
use crate::time::TimeProfile;

/// A fleet repo, loaded and linked: every name it uses refers to something
/// that exists.
#[derive(Debug)]
pub struct Fleet {
    pub root: PathBuf,
    pub spec: FleetSpec,
    /// `fleet.yaml` as read, for locating its fields in later diagnostics.
    pub spec_node: Node,
    pub time_profiles: Vec<TimeProfile>,
    /// Layers by kind and member name (engine name for the base layer).
    pub layers: HashMap<(LayerKind, String), BTreeMap<EngineKind, EngineLayer>>,
    pub tenants: BTreeMap<String, Tenant>,
    pub instances: BTreeMap<String, Instance>,
    /// `policies.yaml`, empty when the repo has none.
    pub policies: crate::spec::PoliciesSpec,
    pub policies_node: Option<Node>,
    /// Non-fatal problems found while loading.
    pub warnings: Diagnostics,
    /// How many files and bytes were read, for benchmarks.
    pub stats: LoadStats,
}

#[derive(Debug, Default, Clone, Copy)]
pub struct LoadStats {
    pub files: usize,
    pub bytes: usize,
}

#[derive(Debug)]
pub struct Tenant {
    pub id: String,
    pub spec: TenantSpec,
    pub location: Location,
    /// Where `tier`, `workload` and each `engines.<engine>` are written,
    /// so link errors point at the line to change.
    pub field_locations: BTreeMap<String, Location>,
    pub overrides: BTreeMap<EngineKind, EngineLayer>,
}

#[derive(Debug)]
pub struct Instance {
    pub name: String,
    pub spec: InstanceSpec,
    pub location: Location,
    /// `hardware.memory` in bytes.
    pub memory: u64,
    /// `hardware.disk` in bytes, if given.
    pub disk: Option<u64>,
    pub credentials: BTreeMap<String, (Value, Location)>,
    pub overrides: EngineLayer,
}

impl Instance {
    /// The tier and workload the instance is configured for: its pool's, or
    /// its dedicated tenant's.
    pub fn tier_and_workload<'a>(&'a self, fleet: &'a Fleet) -> Option<(TierName, Workload)> {
        match (&self.spec.pool, &self.spec.dedicated) {
            (Some(pool), _) => Some((pool.tier, pool.workload)),
            (None, Some(t)) => fleet.tenants.get(t).map(|t| (t.spec.tier, t.spec.workload)),
            (None, None) => None,
        }
    }
}

impl Fleet {
    /// The layer of `kind` for `name` and `engine`, if the repo has one.
    pub fn layer(&self, kind: LayerKind, name: &str, engine: EngineKind) -> Option<&EngineLayer> {
        self.layers.get(&(kind, name.to_string()))?.get(&engine)
    }
}

/// Loads the fleet repo at `root`.
pub fn load(root: &Path) -> Result<Fleet, Diagnostics> {
    let mut diags = Diagnostics::default();
    let mut stats = LoadStats::default();

    let fleet_file = root.join("fleet.yaml");
    if !fleet_file.is_file() {
        diags.push(
            Diagnostic::error("not-a-fleet", format!("{} is not a fleet repo: it has no fleet.yaml", root.display()))
                .help("run `dbfleet init` to create one, or pass the repo with --repo"),
        );
        return Err(diags);
    }
    let spec_node = read_yaml(root, &fleet_file, &mut diags, &mut stats);
    let spec: Option<FleetSpec> = spec_node.as_ref().and_then(|n| decoded(decode(n), &n.location, "fleet", &mut diags));

    let mut time_profiles = Vec::new();
    if let (Some(spec), Some(node)) = (&spec, &spec_node) {
        for (name, p) in &spec.time_profiles {
            match TimeProfile::compile(name, p) {
                Ok(tp) => time_profiles.push(tp),
                Err(errors) => {
                    let base = node.get("time_profiles").and_then(|n| n.get(name));
                    for e in errors {
                        let at = base.map(|b| locate(b, &e.field)).unwrap_or_else(|| node.location.clone());
                        diags.push(
                            Diagnostic::error("time-profile", e.message).at(at).layer(format!("time profile {name}")),
                        );
                    }
                }
            }
        }
    }

    let layers = read_layers(root, spec.as_ref(), &mut diags, &mut stats);
    let tenants = read_tenants(root, &mut diags, &mut stats);
    let (instances, broken) = read_inventory(root, &mut diags, &mut stats);
    let policies_path = root.join("policies.yaml");
    let policies_node =
        if policies_path.is_file() { read_yaml(root, &policies_path, &mut diags, &mut stats) } else { None };
    let policies = policies_node
        .as_ref()
        .and_then(|n| decoded(decode(n), &n.location, "policies", &mut diags))
        .unwrap_or_default();

    let (Some(spec), Some(spec_node)) = (spec, spec_node) else {
        diags.sort();
        return Err(diags);
    };
    let mut fleet = Fleet {
        root: root.to_path_buf(),
        spec,
        spec_node,
        time_profiles,
        layers,
        tenants,
        instances,
        policies,
        policies_node,
        warnings: Diagnostics::default(),
        stats,
    };
    link(&mut fleet, &broken, &mut diags);
    diags.sort();
    if diags.has_errors() {
        return Err(diags);
    }
    fleet.warnings = diags;
    Ok(fleet)
}

/// Follows a path of keys and list indexes down a node, stopping at the
/// deepest node that exists.
fn locate(node: &Node, path: &[String]) -> Location {
    let mut current = node;
    for part in path {
        let next = match part.parse::<usize>() {
            Ok(i) => current.as_seq().and_then(|s| s.get(i)),
            Err(_) => current.get(part),
        };
        match next {
            Some(n) => current = n,
            None => break,
        }
    }
    current.location.clone()
}

fn relative(root: &Path, path: &Path) -> Arc<str> {
    path.strip_prefix(root).unwrap_or(path).to_string_lossy().into()
}

fn read_yaml(root: &Path, path: &Path, diags: &mut Diagnostics, stats: &mut LoadStats) -> Option<Node> {
    let name = relative(root, path);
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            diags.push(Diagnostic::error("io", format!("cannot read {name}: {e}")).at(Location::file(name)));
            return None;
        }
    };
    stats.files += 1;
    stats.bytes += text.len();
    match yaml::parse(name, &text) {
        Ok(node) => Some(node),
        Err(errors) => {
            diags.extend(errors.into_iter().map(|e| Diagnostic::error("yaml", e.message).at(e.location)));
            None
        }
    }
}

fn decoded<T>(result: Result<T, DecodeError>, fallback: &Location, what: &str, diags: &mut Diagnostics) -> Option<T> {
    match result {
        Ok(v) => Some(v),
        Err(e) => {
            let at = e.location.unwrap_or_else(|| fallback.clone());
            diags.push(Diagnostic::error("schema", e.message).at(at).layer(what.to_string()));
            None
        }
    }
}

/// The `.yaml`/`.yml` files directly in `dir`, sorted; a missing dir is empty.
fn yaml_files(dir: &Path, diags: &mut Diagnostics, root: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else { return Vec::new() };
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        // The entry's own type (no stat for most file systems); a symbolic
        // link is followed.
        let is_file = entry.file_type().is_ok_and(|t| t.is_file() || (t.is_symlink() && path.is_file()));
        if is_file && (name.ends_with(".yaml") || name.ends_with(".yml")) {
            files.push(path);
        } else {
            diags.push(
                Diagnostic::warning(
                    "unknown-file",
                    format!("{} is not a .yaml file and is ignored", relative(root, &path)),
                )
                .at(Location::file(relative(root, &path))),
            );
        }
    }
    files.sort();
    files
}

fn stem(path: &Path) -> String {
    path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
}

fn read_layers(
    root: &Path,
    spec: Option<&FleetSpec>,
    diags: &mut Diagnostics,
    stats: &mut LoadStats,
) -> HashMap<(LayerKind, String), BTreeMap<EngineKind, EngineLayer>> {
    let mut layers = HashMap::new();
    let dir = root.join("layers");
    for path in yaml_files(&dir.join("base"), diags, root) {
        let name = stem(&path);
        let file = Location::file(relative(root, &path));
        let Ok(engine) = name.parse::<EngineKind>() else {
            let e = name.parse::<EngineKind>().unwrap_err();
            diags.push(Diagnostic::error("unknown-engine", format!("base layer file names an {e}")).at(file));
            continue;
        };
        if let Some(node) = read_yaml(root, &path, diags, stats) {
            let id = Arc::new(LayerId { kind: LayerKind::Base, name: name.clone() });
            let layer = read_scoped(&node, &id, diags);
            layers.insert((LayerKind::Base, name), BTreeMap::from([(engine, layer)]));
        }
    }
    let kinds = [
        ("environments", LayerKind::Environment),
        ("tiers", LayerKind::Tier),
        ("workloads", LayerKind::Workload),
        ("time", LayerKind::Time),
    ];
    for (sub, kind) in kinds {
        for path in yaml_files(&dir.join(sub), diags, root) {
            let name = stem(&path);
            let file = Location::file(relative(root, &path));
            if let Some(spec) = spec
                && let Some(problem) = unknown_member(spec, kind, &name)
            {
                diags.push(Diagnostic::error("unknown-layer", format!("layers/{sub}/{name}.yaml: {problem}")).at(file));
                continue;
            }
            if let Some(node) = read_yaml(root, &path, diags, stats) {
                let id = Arc::new(LayerId { kind, name: name.clone() });
                layers.insert((kind, name), read_layer_body(&node, &id, diags));
            }
        }
    }
    if let Ok(entries) = fs::read_dir(&dir) {
        let known = ["base", "environments", "tiers", "workloads", "time"];
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.starts_with('.') && !known.contains(&name.as_str()) {
                let mut d = Diagnostic::error("unknown-layer", format!("layers/{name} is not a layer kind"))
                    .at(Location::file(relative(root, &entry.path())));
                if let Some(s) = dbfleet_model::did_you_mean(&name, known) {
                    d = d.help(format!("did you mean `layers/{s}`?"));
                } else {
                    d = d.help(format!("layer kinds are {}", known.join(", ")));
                }
                diags.push(d);
            }
        }
    }
    layers
}

/// Why `name` is not a member the fleet declares for layers of `kind`.
fn unknown_member(spec: &FleetSpec, kind: LayerKind, name: &str) -> Option<String> {
    fn check<T: std::str::FromStr<Err = dbfleet_model::UnknownName> + Ord>(
        name: &str,
        declared: impl Fn(&T) -> bool,
    ) -> Option<String> {
        match name.parse::<T>() {
            Err(e) => Some(e.to_string()),
            Ok(v) if !declared(&v) => Some(format!("`{name}` is not declared in fleet.yaml")),
            Ok(_) => None,
        }
    }
    match kind {
        LayerKind::Environment => check::<Environment>(name, |e| spec.environments.contains_key(e)),
        LayerKind::Tier => check::<TierName>(name, |t| spec.tiers.contains_key(t)),
        LayerKind::Workload => check::<Workload>(name, |w| spec.workloads.contains_key(w)),
        LayerKind::Time if !spec.time_profiles.contains_key(name) => {
            let mut msg = format!("no time profile `{name}` in fleet.yaml");
            if let Some(s) = dbfleet_model::did_you_mean(name, spec.time_profiles.keys().map(String::as_str)) {
                msg.push_str(&format!(", did you mean `{s}`?"));
            }
            Some(msg)
        }
        _ => None,
    }
}

/// Names of tenants and instances: lowercase letters, digits, `-`, `_`, `.`.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.'))
}

fn read_tenants(root: &Path, diags: &mut Diagnostics, stats: &mut LoadStats) -> BTreeMap<String, Tenant> {
    let files = yaml_files(&root.join("tenants"), diags, root);
    let results: Vec<(Option<Tenant>, Diagnostics, LoadStats)> = files
        .par_iter()
        .map(|path| {
            let mut d = Diagnostics::default();
            let mut s = LoadStats::default();
            let tenant = read_tenant(root, path, &mut d, &mut s);
            (tenant, d, s)
        })
        .collect();
    let mut tenants = BTreeMap::new();
    for (tenant, d, s) in results {
        diags.extend(d);
        stats.files += s.files;
        stats.bytes += s.bytes;
        if let Some(t) = tenant {
            tenants.insert(t.id.clone(), t);
        }
    }
    tenants
}

fn read_tenant(root: &Path, path: &Path, diags: &mut Diagnostics, stats: &mut LoadStats) -> Option<Tenant> {
    let id = stem(path);
    let node = read_yaml(root, path, diags, stats)?;
    if !valid_name(&id) {
        diags.push(
            Diagnostic::error(
                "name",
                format!("tenant id `{id}` (from the file name) must use lowercase letters, digits, `-`, `_` or `.`"),
            )
            .at(node.location.clone()),
        );
        return None;
    }
    let layer = Arc::new(LayerId { kind: LayerKind::Tenant, name: id.clone() });
    let spec: TenantSpec = decoded(decode(&node), &node.location, &layer.to_string(), diags)?;
    let overrides = match node.get("overrides") {
        Some(n) => read_layer_body(n, &layer, diags),
        None => BTreeMap::new(),
    };
    let mut field_locations = BTreeMap::new();
    for field in ["tier", "workload"] {
        if let Some(n) = node.get(field) {
            field_locations.insert(field.to_string(), n.location.clone());
        }
    }
    for (k, v) in node.get("engines").and_then(Node::as_map).unwrap_or_default() {
        field_locations.insert(format!("engines.{}", k.as_str().unwrap_or_default()), v.location.clone());
    }
    Some(Tenant { id, spec, location: node.location.clone(), field_locations, overrides })
}

/// Reads every inventory file. Also returns the names of instances that
/// exist but could not be read, so that references to them do not cause a
/// second, misleading "unknown instance" error.
fn read_inventory(
    root: &Path,
    diags: &mut Diagnostics,
    stats: &mut LoadStats,
) -> (BTreeMap<String, Instance>, HashSet<String>) {
    let mut files = Vec::new();
    let single = root.join("inventory.yaml");
    if single.is_file() {
        files.push(single);
    }
    files.extend(yaml_files(&root.join("inventory"), diags, root));
    let mut instances: BTreeMap<String, Instance> = BTreeMap::new();
    let mut broken = HashSet::new();
    for path in files {
        let Some(node) = read_yaml(root, &path, diags, stats) else { continue };
        if node.is_null() {
            continue;
        }
        let Some(entries) = node.as_map() else {
            diags.push(
                Diagnostic::error("schema", "an inventory file is a map of instance names to instances")
                    .at(node.location.clone()),
            );
            continue;
        };
        for (key, value) in entries {
            let name = key.as_str().unwrap_or_default().to_string();
            if !valid_name(&name) {
                diags.push(
                    Diagnostic::error(
                        "name",
                        format!("instance name `{name}` must use lowercase letters, digits, `-`, `_` or `.`"),
                    )
                    .at(key.location.clone()),
                );
                continue;
            }
            if let Some(previous) = instances.get(&name) {
                diags.push(
                    Diagnostic::error("duplicate", format!("instance `{name}` is defined twice"))
                        .at(key.location.clone())
                        .related("first defined", previous.location.clone()),
                );
                continue;
            }
            match read_instance(name.clone(), key, value, diags) {
                Some(instance) => {
                    instances.insert(name, instance);
                }
                None => {
                    broken.insert(name);
                }
            }
        }
    }
    (instances, broken)
}

fn read_instance(name: String, key: &Node, node: &Node, diags: &mut Diagnostics) -> Option<Instance> {
    let layer = Arc::new(LayerId { kind: LayerKind::Instance, name: name.clone() });
    let spec: InstanceSpec = decoded(decode(node), &node.location, &layer.to_string(), diags)?;
    let hw = node.get("hardware").expect("decoded instance has hardware");
    let size = |field: &str, text: &str, diags: &mut Diagnostics| match dbfleet_model::units::parse_size(text) {
        Ok(b) => Some(b),
        Err(e) => {
            let at = hw.get(field).map_or_else(|| hw.location.clone(), |n| n.location.clone());
            diags.push(Diagnostic::error("unit", format!("hardware.{field}: {e}")).at(at).layer(layer.to_string()));
            None
        }
    };
    let memory = size("memory", &spec.hardware.memory, diags);
    let disk = match &spec.hardware.disk {
        Some(d) => Some(size("disk", d, diags)?),
        None => None,
    };
    let mut credentials = BTreeMap::new();
    if let Some(n) = node.get("credentials") {
        for e in read_settings(n, &layer, diags).entries {
            if let crate::layer::Op::Set(v) = e.op {
                credentials.insert(e.key.to_string(), (v, e.location));
            }
        }
    }
    let overrides = node.get("overrides").map(|n| read_scoped(n, &layer, diags)).unwrap_or_default();
    Some(Instance { name, spec, location: key.location.clone(), memory: memory?, disk, credentials, overrides })
}

/// Checks every cross-file reference.
fn link(fleet: &mut Fleet, broken: &HashSet<String>, diags: &mut Diagnostics) {
    let spec = &fleet.spec;
    for inst in fleet.instances.values() {
        let layer = format!("instance {}", inst.name);
        let err = |code, msg: String| Diagnostic::error(code, msg).at(inst.location.clone()).layer(layer.clone());
        match spec.engines.get(&inst.spec.engine) {
            None => diags
                .push(err("unknown-engine", format!("engine `{}` is not declared in fleet.yaml", inst.spec.engine))),
            Some(e) if !e.versions.iter().any(|v| inst.spec.version.matches_prefix(v)) => diags.push(err(
                "version",
                format!(
                    "{} {} is not a version fleet.yaml allows (allowed: {})",
                    inst.spec.engine,
                    inst.spec.version,
                    e.versions.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(", ")
                ),
            )),
            Some(_) => {}
        }
        if !spec.environments.contains_key(&inst.spec.environment) {
            diags.push(err(
                "unknown-environment",
                format!("environment `{}` is not declared in fleet.yaml", inst.spec.environment),
            ));
        }
        match (&inst.spec.pool, &inst.spec.dedicated) {
            (Some(_), Some(_)) => diags.push(err(
                "placement",
                "an instance is either a shared pool (`pool`) or dedicated to one tenant (`dedicated`), not both"
                    .into(),
            )),
            (None, None) => {
                diags.push(err("placement", "an instance needs `pool: {tier: ..}` or `dedicated: TENANT`".into()))
            }
            (Some(pool), None) => match spec.tiers.get(&pool.tier) {
                None => diags.push(err("unknown-tier", format!("tier `{}` is not declared in fleet.yaml", pool.tier))),
                Some(t) if t.placement != Placement::Shared => diags.push(err(
                    "placement",
                    format!("tier `{}` places tenants on dedicated instances, so it has no pools", pool.tier),
                )),
                Some(_) => {}
            },
            (None, Some(t)) => match fleet.tenants.get(t) {
                None => {
                    let mut msg = format!("dedicated to unknown tenant `{t}`");
                    if let Some(s) = dbfleet_model::did_you_mean(t, fleet.tenants.keys().map(String::as_str)) {
                        msg.push_str(&format!(", did you mean `{s}`?"));
                    }
                    diags.push(err("unknown-tenant", msg))
                }
                Some(tenant) if tenant.spec.engines.get(&inst.spec.engine) != Some(&inst.name) => diags.push(err(
                    "placement",
                    format!(
                        "dedicated to tenant `{t}`, but that tenant does not place its {} on this instance",
                        inst.spec.engine
                    ),
                )),
                Some(_) => {}
            },
        }
    }
    for tenant in fleet.tenants.values() {
        let layer = format!("tenant {}", tenant.id);
        let at = |field: &str| tenant.field_locations.get(field).cloned().unwrap_or_else(|| tenant.location.clone());
        let err_at = |field: &str, code, msg: String| Diagnostic::error(code, msg).at(at(field)).layer(layer.clone());
        let err = |code, msg: String| err_at("tier", code, msg);
        let Some(tier) = spec.tiers.get(&tenant.spec.tier) else {
            diags.push(err("unknown-tier", format!("tier `{}` is not declared in fleet.yaml", tenant.spec.tier)));
            continue;
        };
        if !spec.workloads.contains_key(&tenant.spec.workload) {
            diags.push(err_at(
                "workload",
                "unknown-workload",
                format!("workload `{}` is not declared in fleet.yaml", tenant.spec.workload),
            ));
        }
        for (engine, inst_name) in &tenant.spec.engines {
            let field = format!("engines.{engine}");
            let err = |code, msg: String| err_at(&field, code, msg);
            if !spec.engines.contains_key(engine) {
                diags.push(err("unknown-engine", format!("engine `{engine}` is not declared in fleet.yaml")));
                continue;
            }
            let Some(inst) = fleet.instances.get(inst_name) else {
                if broken.contains(inst_name) {
                    continue;
                }
                let mut msg = format!("places its {engine} on unknown instance `{inst_name}`");
                if let Some(s) = dbfleet_model::did_you_mean(inst_name, fleet.instances.keys().map(String::as_str)) {
                    msg.push_str(&format!(", did you mean `{s}`?"));
                }
                diags.push(err("unknown-instance", msg));
                continue;
            };
            if inst.spec.engine != *engine {
                diags.push(err(
                    "placement",
                    format!("places its {engine} on `{inst_name}`, which runs {}", inst.spec.engine),
                ));
            }
            match (tier.placement, &inst.spec.pool, &inst.spec.dedicated) {
                (Placement::Shared, Some(pool), _) if pool.tier != tenant.spec.tier => diags.push(err(
                    "placement",
                    format!(
                        "a {} tenant cannot live in `{inst_name}`, a pool for tier {}",
                        tenant.spec.tier, pool.tier
                    ),
                )),
                (Placement::Shared, None, _) => diags.push(err(
                    "placement",
                    format!("tier {} shares pools, but `{inst_name}` is a dedicated instance", tenant.spec.tier),
                )),
                (Placement::Dedicated, _, d) if d.as_deref() != Some(tenant.id.as_str()) => diags.push(err(
                    "placement",
                    format!(
                        "tier {} needs a dedicated instance, but `{inst_name}` is not dedicated to `{}`",
                        tenant.spec.tier, tenant.id
                    ),
                )),
                _ => {}
            }
        }
        for engine in tenant.overrides.keys() {
            if !tenant.spec.engines.contains_key(engine) {
                diags.push(err("unknown-engine", format!("overrides {engine}, which the tenant does not use")));
            }
        }
    }
}
