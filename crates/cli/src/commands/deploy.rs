//! `dbfleet plan`, `apply`, `drift`, `rollback` and `history`: the
//! commands that talk to live servers, through the drivers, with every
//! change recorded in the state store.
//!
//! All of them start the same way: load, validate, build the desired state
//! of each selected instance (its settings and its tenants'), connect, and
//! plan. `plan` and `drift` stop there; `apply` records a deployment and
//! rolls the plans out one instance at a time.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use dbfleet_config::{CheckedValue, Fleet, Instance, Validated};
use dbfleet_drivers::{Connection, Driver, Tls};
use dbfleet_model::{Scope, Value};
use dbfleet_plan::{Desired, DesiredSetting};
use dbfleet_rollout::{InstancePlan, Outcome};
use dbfleet_secrets::{ExposeSecret, Secrets};
use dbfleet_store::{DeploymentStatus, NewDeployment, PlannedInstance, SqliteStore, StateStore};
use serde_json::json;

use crate::exit::{Exit, fail};
use crate::fleet::{self, Filter};
use crate::output::{self, BOLD, Format};

#[derive(clap::Args, Debug)]
pub(crate) struct Common {
    #[command(flatten)]
    filter: Filter,
    /// Use the time profiles active at this instant (RFC 3339) instead of now.
    #[arg(long)]
    at: Option<String>,
    /// The state store [default: <repo>/.dbfleet/state.db].
    #[arg(long, env = "DBFLEET_STATE")]
    state: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub(crate) struct PlanArgs {
    #[command(flatten)]
    common: Common,
    /// Exit 0 when there is nothing to change, 2 when there is, 1 (or another code) on errors.
    #[arg(long)]
    detailed_exitcode: bool,
}

#[derive(clap::Args, Debug)]
pub(crate) struct ApplyArgs {
    #[command(flatten)]
    common: Common,
    /// Apply without asking.
    #[arg(long)]
    auto_approve: bool,
    /// Allow changes that need a restart (runs the inventory's restart command).
    #[arg(long)]
    allow_restart: bool,
}

#[derive(clap::Args, Debug)]
pub(crate) struct RollbackArgs {
    /// Roll back these instances to the state before their latest applied change.
    instances: Vec<String>,
    /// Roll back every instance of this deployment instead.
    #[arg(long)]
    deployment: Option<String>,
    #[arg(long)]
    auto_approve: bool,
    #[arg(long)]
    allow_restart: bool,
    #[arg(long, env = "DBFLEET_STATE")]
    state: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub(crate) struct HistoryArgs {
    /// Only this instance's changes.
    instance: Option<String>,
    #[arg(long, default_value = "20")]
    limit: usize,
    #[arg(long, env = "DBFLEET_STATE")]
    state: Option<PathBuf>,
}

fn open_store(repo: &Path, state: Option<&Path>) -> anyhow::Result<SqliteStore> {
    let path = state.map(Path::to_path_buf).unwrap_or_else(|| SqliteStore::default_path(repo));
    SqliteStore::open(&path).map_err(|e| fail(Exit::Failure, format!("cannot open the state store: {e}")))
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?)
}

/// The desired state of one instance: its validated settings and the
/// tenant-scope settings of every tenant placed on it.
fn desired(v: &Validated<'_>, tenants: &[&Validated<'_>], secrets: &Secrets) -> anyhow::Result<Desired> {
    let scope = |v: &Validated<'_>| -> anyhow::Result<BTreeMap<String, DesiredSetting>> {
        let mut out = BTreeMap::new();
        for (name, c) in &v.settings {
            let (value, native, sensitive) = match &c.value {
                CheckedValue::Typed(t) => {
                    (Some(t.clone()), c.parameter.format_native(v.info.engine, t), c.parameter.sensitive)
                }
                CheckedValue::Secret(r) => {
                    let s = secrets
                        .fetch(r)
                        .map_err(|e| fail(Exit::Secret, format!("secret `{r}` for `{name}` of {}: {e}", v.info.id)))?;
                    (None, s.expose_secret().to_string(), true)
                }
            };
            out.insert(
                name.to_string(),
                DesiredSetting {
                    value,
                    native,
                    apply: c.parameter.apply,
                    sensitive,
                    origin: c.location().map(|l| l.to_string()),
                },
            );
        }
        Ok(out)
    };
    let mut d = Desired { settings: scope(v)?, tenants: BTreeMap::new() };
    for t in tenants {
        d.tenants.insert(t.info.tenant.clone().unwrap_or_default(), scope(t)?);
    }
    Ok(d)
}

/// How to reach an instance, from the inventory.
fn connection(inst: &Instance, secrets: &Secrets) -> anyhow::Result<Connection> {
    let text = |key: &str| -> anyhow::Result<Option<String>> {
        Ok(match inst.credentials.get(key) {
            None => None,
            Some((Value::Secret(r), _)) => Some(
                secrets
                    .fetch(r)
                    .map_err(|e| fail(Exit::Secret, format!("credentials of {}: secret `{r}`: {e}", inst.name)))?
                    .expose_secret()
                    .to_string(),
            ),
            Some((v, _)) => Some(v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())),
        })
    };
    let control = inst.spec.control.clone().unwrap_or_default();
    let tls = inst.spec.tls.clone().unwrap_or_default();
    Ok(Connection {
        engine: inst.spec.engine,
        version: inst.spec.version.clone(),
        address: inst.spec.address.clone(),
        user: text("user")?,
        password: text("password")?.map(Into::into),
        tls: Tls { enabled: tls.enabled, ca: tls.ca.map(|c| inst_path(&c)), insecure: tls.insecure },
        restart_command: Some(control.restart).filter(|c| !c.is_empty()),
        reload_command: Some(control.reload).filter(|c| !c.is_empty()),
        config_dir: control.config_dir.map(PathBuf::from),
        ready_timeout: Duration::from_secs(control.ready_timeout.unwrap_or(60)),
    })
}

fn inst_path(p: &str) -> PathBuf {
    PathBuf::from(p)
}

/// Everything needed to act on the selected instances.
struct Prepared {
    items: Vec<(Box<dyn Driver>, InstancePlan)>,
    /// Instances that could not be observed, with the error and its exit code.
    unreachable: Vec<(String, String, Exit)>,
}

fn prepare(fleet: &Fleet, common: &Common, format: Format, rt: &tokio::runtime::Runtime) -> anyhow::Result<Prepared> {
    let mut targets = common.filter.select(fleet)?;
    let instances: Vec<String> = targets.iter().map(|t| t.instance.clone()).collect();
    targets.extend(fleet.targets().into_iter().filter(|t| t.scope == Scope::Tenant && instances.contains(&t.instance)));
    targets.retain(|t| instances.contains(&t.instance));
    targets.sort_by(|a, b| a.id.cmp(&b.id));
    targets.dedup_by(|a, b| a.id == b.id);
    let at = fleet::parse_at(common.at.as_deref())?;
    let (validated, diags) =
        crate::commands::validate::validate_targets(fleet, &targets, vec![fleet.active_time_profiles(at)]);
    if diags.has_errors() {
        return Err(fleet::invalid(format, &diags));
    }
    let secrets = crate::commands::resolve::secrets(fleet);
    let mut tenants: BTreeMap<&str, Vec<&Validated<'_>>> = BTreeMap::new();
    for v in validated.iter().filter(|v| v.info.scope == Scope::Tenant) {
        tenants.entry(v.info.instance.as_str()).or_default().push(v);
    }
    // The rendered files, for engines that take static settings from files.
    let revision = crate::commands::render::revision(&fleet.root);
    let fetch = |r: &dbfleet_model::SecretRef| secrets.fetch(r).map_err(|e| e.to_string());
    let (rendered, rdiags) = dbfleet_render::render_validated(fleet, &validated, &fetch, &revision, false);
    if rdiags.has_errors() {
        return Err(fleet::invalid(format, &rdiags));
    }
    let mut rendered: BTreeMap<String, Vec<dbfleet_render::RenderedFile>> = rendered.into_iter().collect();
    let mut items = Vec::new();
    let mut unreachable = Vec::new();
    for v in validated.iter().filter(|v| v.info.scope == Scope::Instance) {
        let inst = &fleet.instances[&v.info.instance];
        let mut want = desired(v, tenants.get(inst.name.as_str()).map(Vec::as_slice).unwrap_or_default(), &secrets)?;
        let files = rendered.remove(&inst.name).unwrap_or_default();
        tenant_file(&mut want, inst.spec.engine, &files);
        let driver = dbfleet_drivers::connect(connection(inst, &secrets)?, files);
        match rt.block_on(dbfleet_rollout::plan_instance(driver.as_ref(), &inst.name, want)) {
            Ok(ip) => items.push((driver, ip)),
            Err(e) => unreachable.push((inst.name.clone(), e.to_string(), driver_exit(&e))),
        }
    }
    Ok(Prepared { items, unreachable })
}

/// Plans the tenants of an engine that delivers them as one rendered file
/// (`dbfleet_drivers::tenant_file_setting`) as that one instance setting.
fn tenant_file(want: &mut Desired, engine: dbfleet_model::EngineKind, files: &[dbfleet_render::RenderedFile]) {
    if let Some((name, setting)) = dbfleet_drivers::tenant_file_setting(engine, files) {
        want.settings.insert(name, setting);
        want.tenants.clear();
    }
}

fn print_plans(p: &Prepared, format: Format, heading: &str) {
    match format {
        Format::Json => output::json(&json!({
            "instances": p.items.iter().map(|(_, ip)| json!({ "instance": ip.instance, "engine": ip.engine, "changes": ip.plan.changes, "needs_restart": ip.plan.needs_restart() })).collect::<Vec<_>>(),
            "unreachable": p.unreachable.iter().map(|(i, e, _)| json!({ "instance": i, "error": e })).collect::<Vec<_>>(),
        })),
        Format::Human => {
            let mut out = anstream::stdout().lock();
            let _ = writeln!(out, "{BOLD}{heading}{BOLD:#}");
            for (_, ip) in &p.items {
                let _ = write!(out, "{}", ip.plan);
            }
            let total: usize = p.items.iter().map(|(_, ip)| ip.plan.changes.len()).sum();
            let _ = writeln!(
                out,
                "{total} change{} on {} instance{}",
                if total == 1 { "" } else { "s" },
                p.items.len(),
                if p.items.len() == 1 { "" } else { "s" }
            );
        }
    }
    for (inst, e, _) in &p.unreachable {
        eprintln!("error: {inst}: {e}");
    }
}

fn changes(p: &Prepared) -> usize {
    p.items.iter().map(|(_, ip)| ip.plan.changes.len()).sum()
}

/// The exit code of a server that could not be observed: refused access
/// (credentials or privileges) or not reached.
fn driver_exit(e: &dbfleet_drivers::DriverError) -> Exit {
    match e {
        dbfleet_drivers::DriverError::Denied { .. } => Exit::Denied,
        _ => Exit::Unreachable,
    }
}

fn unreachable_error(p: &Prepared) -> anyhow::Error {
    // Denied wins: it needs a person to grant something, not a retry.
    let code = if p.unreachable.iter().any(|(_, _, c)| *c == Exit::Denied) { Exit::Denied } else { Exit::Unreachable };
    fail(
        code,
        format!(
            "{} instance{} could not be observed",
            p.unreachable.len(),
            if p.unreachable.len() == 1 { "" } else { "s" }
        ),
    )
}

pub(crate) fn plan(repo: &Path, format: Format, args: PlanArgs) -> anyhow::Result<Exit> {
    let fleet = fleet::load(repo, format)?;
    let rt = runtime()?;
    let p = prepare(&fleet, &args.common, format, &rt)?;
    print_plans(&p, format, "dbfleet plan");
    if !p.unreachable.is_empty() {
        return Err(unreachable_error(&p));
    }
    Ok(if args.detailed_exitcode && changes(&p) > 0 { Exit::Changes } else { Exit::Ok })
}

pub(crate) fn drift(repo: &Path, format: Format, common: Common) -> anyhow::Result<Exit> {
    let fleet = fleet::load(repo, format)?;
    let rt = runtime()?;
    let p = prepare(&fleet, &common, format, &rt)?;
    print_plans(&p, format, "dbfleet drift: live servers against the fleet repo");
    if !p.unreachable.is_empty() {
        return Err(unreachable_error(&p));
    }
    Ok(if changes(&p) > 0 { Exit::Changes } else { Exit::Ok })
}

fn confirm(question: &str, auto_approve: bool) -> anyhow::Result<()> {
    if auto_approve {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(fail(
            Exit::Usage,
            "refusing to change servers without confirmation: standard input is not a terminal; pass --auto-approve",
        ));
    }
    eprint!("{question} Only 'yes' is accepted: ");
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    if answer.trim() != "yes" {
        return Err(fail(Exit::Failure, "cancelled"));
    }
    Ok(())
}

/// Who a deployment is recorded as: `DBFLEET_ACTOR` (for CI jobs and
/// wrappers), else the login name.
fn actor() -> String {
    ["DBFLEET_ACTOR", "USER", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "unknown".into())
}

pub(crate) fn apply(repo: &Path, format: Format, args: ApplyArgs) -> anyhow::Result<Exit> {
    let fleet = fleet::load(repo, format)?;
    let store = open_store(repo, args.common.state.as_deref())?;
    let unfinished = store.unfinished_deployments().map_err(|e| fail(Exit::Failure, e.to_string()))?;
    for d in &unfinished {
        eprintln!(
            "warning: deployment {} ({}) did not finish; `dbfleet history` shows it and `dbfleet rollback --deployment {}` undoes it",
            d.id, d.created_at, d.id
        );
    }
    let rt = runtime()?;
    let p = prepare(&fleet, &args.common, format, &rt)?;
    print_plans(&p, format, "dbfleet apply");
    if !p.unreachable.is_empty() {
        return Err(unreachable_error(&p));
    }
    if changes(&p) == 0 {
        return Ok(Exit::Ok);
    }
    if let Some((_, ip)) = p.items.iter().find(|(_, ip)| ip.plan.needs_restart()).filter(|_| !args.allow_restart) {
        return Err(fail(
            Exit::Failure,
            format!(
                "{} needs a restart to apply this plan; nothing was changed. Pass --allow-restart to restart it.",
                ip.instance
            ),
        ));
    }
    confirm("Apply these changes?", args.auto_approve)?;
    let revision = crate::commands::render::revision(repo);
    let deployment = store
        .begin_deployment(&NewDeployment {
            fleet_revision: revision,
            rendered: None,
            actor: actor(),
            plan: json!(
                p.items
                    .iter()
                    .map(|(_, ip)| json!({ "instance": ip.instance, "changes": dbfleet_rollout::plan_json(&ip.plan) }))
                    .collect::<Vec<_>>()
            ),
            summary: format!(
                "{} changes on {} instances",
                changes(&p),
                p.items.iter().filter(|(_, ip)| !ip.plan.is_empty()).count()
            ),
            instances: p
                .items
                .iter()
                .filter(|(_, ip)| !ip.plan.is_empty())
                .map(|(_, ip)| PlannedInstance {
                    instance: ip.instance.clone(),
                    engine: ip.engine,
                    changes: dbfleet_rollout::plan_json(&ip.plan),
                })
                .collect(),
        })
        .map_err(|e| fail(Exit::Failure, e.to_string()))?;
    eprintln!("deployment {deployment}");
    let mut worst = Exit::Ok;
    let mut stop = false;
    for (driver, ip) in p.items.iter().filter(|(_, ip)| !ip.plan.is_empty()) {
        if stop {
            eprintln!("{}: skipped (an earlier instance failed)", ip.instance);
            continue;
        }
        match rt.block_on(dbfleet_rollout::apply_instance(&store, &deployment, driver.as_ref(), ip, args.allow_restart))
        {
            Ok(Outcome::Unchanged) => {}
            Ok(Outcome::Applied(a)) => {
                eprintln!(
                    "{}: applied {} change{}{}",
                    ip.instance,
                    a.changed.len(),
                    if a.changed.len() == 1 { "" } else { "s" },
                    if a.restarted {
                        " (restarted)"
                    } else if a.reloaded {
                        " (reloaded)"
                    } else {
                        ""
                    }
                );
            }
            Ok(Outcome::Restored { error }) => {
                eprintln!("{}: failed, and restored to its previous values: {error}", ip.instance);
                worst = Exit::ApplyFailed;
                stop = true;
            }
            Ok(Outcome::RestoreFailed { error, restore_error }) => {
                eprintln!(
                    "{}: FAILED and could not be restored: {error}; restoring: {restore_error}. `dbfleet rollback {}` retries from the recorded snapshot.",
                    ip.instance, ip.instance
                );
                worst = Exit::RestoreFailed;
                stop = true;
            }
            Err(e) => {
                eprintln!("{}: {e}", ip.instance);
                worst = Exit::ApplyFailed;
                stop = true;
            }
        }
    }
    let status = match worst {
        Exit::Ok => DeploymentStatus::Succeeded,
        Exit::RestoreFailed => DeploymentStatus::RollbackFailed,
        _ => DeploymentStatus::RolledBack,
    };
    store.finish_deployment(&deployment, status).map_err(|e| fail(Exit::Failure, e.to_string()))?;
    match worst {
        Exit::Ok => Ok(Exit::Ok),
        code => Err(fail(code, format!("deployment {deployment} did not complete"))),
    }
}

pub(crate) fn rollback(repo: &Path, format: Format, args: RollbackArgs) -> anyhow::Result<Exit> {
    let fleet = fleet::load(repo, format)?;
    let store = open_store(repo, args.state.as_deref())?;
    let mut names = args.instances.clone();
    if let Some(id) = &args.deployment {
        let id = id.parse().map_err(|e| fail(Exit::Usage, format!("`{id}` is not a deployment id: {e}")))?;
        let d = store
            .deployment(&id)
            .map_err(|e| fail(Exit::Failure, e.to_string()))?
            .ok_or_else(|| fail(Exit::NotFound, format!("no deployment {id}")))?;
        names.extend(d.instances.iter().map(|i| i.instance.clone()));
    }
    if names.is_empty() {
        return Err(fail(Exit::Usage, "name the instances to roll back, or --deployment ID"));
    }
    let secrets = crate::commands::resolve::secrets(&fleet);
    let rt = runtime()?;
    let mut plans = Vec::new();
    for name in &names {
        let inst = fleet
            .instances
            .get(name)
            .ok_or_else(|| fail(Exit::NotFound, format!("no instance `{name}` in this fleet")))?;
        let snap =
            store.latest_snapshot_for(name).map_err(|e| fail(Exit::Failure, e.to_string()))?.ok_or_else(|| {
                fail(
                    Exit::NotFound,
                    format!("no applied change of `{name}` is recorded, so there is nothing to roll back"),
                )
            })?;
        let change = store
            .deployment(&snap.deployment)
            .map_err(|e| fail(Exit::Failure, e.to_string()))?
            .and_then(|d| d.instances.into_iter().find(|i| &i.instance == name));
        let changed: Vec<(Option<String>, String)> = change
            .and_then(|c| c.planned.as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|c| Some((c["tenant"].as_str().map(str::to_string), c["name"].as_str()?.to_string())))
            .collect();
        let before = dbfleet_rollout::decode_snapshot(inst.spec.engine, &snap.before);
        // Rolling back writes values over the wire or puts file backups back;
        // it renders nothing new.
        let driver = dbfleet_drivers::connect(connection(inst, &secrets)?, Vec::new());
        let now = rt.block_on(driver.observe()).map_err(|e| fail(driver_exit(&e), format!("{name}: {e}")))?;
        let plan = dbfleet_rollout::rollback_plan(name, inst.spec.engine, &before, &changed, &now);
        plans.push((driver, before, plan, snap.deployment));
    }
    {
        let mut out = anstream::stdout().lock();
        writeln!(out, "{BOLD}dbfleet rollback{BOLD:#}")?;
        for (_, _, plan, d) in &plans {
            writeln!(out, "  back to the state before deployment {d}:")?;
            write!(out, "{plan}")?;
        }
    }
    if let Some((_, _, plan, _)) = plans.iter().find(|(_, _, p, _)| p.needs_restart()).filter(|_| !args.allow_restart) {
        return Err(fail(
            Exit::Failure,
            format!("rolling back {} needs a restart; nothing was changed. Pass --allow-restart.", plan.instance),
        ));
    }
    confirm("Roll back?", args.auto_approve)?;
    let mut worst = Exit::Ok;
    for (driver, before, plan, deployment) in &plans {
        match rt.block_on(driver.restore(before, plan, args.allow_restart)) {
            Ok(_) => {
                eprintln!("{}: rolled back", plan.instance);
                let after =
                    rt.block_on(driver.observe()).ok().map(|a| dbfleet_rollout::encode_snapshot(plan.engine, &a));
                if let Err(e) = store.record_result(
                    deployment,
                    &plan.instance,
                    dbfleet_store::InstanceStatus::Restored,
                    after.as_ref(),
                    None,
                ) {
                    eprintln!("warning: {}: rolled back, but the store could not record it: {e}", plan.instance);
                }
            }
            Err(e) => {
                eprintln!("{}: rollback failed: {e}", plan.instance);
                worst = Exit::RestoreFailed;
            }
        }
    }
    match worst {
        Exit::Ok => Ok(Exit::Ok),
        code => Err(fail(code, "rollback did not complete")),
    }
}

pub(crate) fn history(repo: &Path, format: Format, args: HistoryArgs) -> anyhow::Result<Exit> {
    let store = open_store(repo, args.state.as_deref())?;
    let deployments = store.list_deployments(args.limit).map_err(|e| fail(Exit::Failure, e.to_string()))?;
    let rows: Vec<serde_json::Value> = deployments
        .iter()
        .flat_map(|d| {
            d.instances.iter().filter(|i| args.instance.as_ref().is_none_or(|n| n == &i.instance)).map(move |i| {
                json!({ "deployment": d.id.to_string(), "created_at": d.created_at.to_string(), "actor": d.actor, "deployment_status": d.status.as_str(), "instance": i.instance, "status": i.status.as_str(), "error": i.error })
            })
        })
        .collect();
    match format {
        Format::Json => output::json(&json!(rows)),
        Format::Human => {
            let mut table =
                vec![["DEPLOYMENT", "CREATED", "ACTOR", "INSTANCE", "STATUS", "ERROR"].map(String::from).to_vec()];
            for r in &rows {
                table.push(
                    ["deployment", "created_at", "actor", "instance", "status", "error"]
                        .iter()
                        .map(|k| r[k].as_str().unwrap_or("").to_string())
                        .collect(),
                );
            }
            print!("{}", output::table(&table));
        }
    }
    Ok(Exit::Ok)
}
