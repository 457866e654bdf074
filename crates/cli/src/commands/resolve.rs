//! `dbfleet resolve`: the effective configuration of targets.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;

use dbfleet_config::{Entry, Fleet, Op, Resolved, Resolver};
use dbfleet_model::{Diagnostic, Diagnostics, SecretRef, Value};
use dbfleet_secrets::{Secrets, SecretsConfig, VaultConfig};
use serde_json::json;

use crate::exit::{Exit, fail};
use crate::fleet::{self, Filter};
use crate::output::{self, DIM, Format, KEY};

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    #[command(flatten)]
    filter: Filter,
    /// Resolve with the time profiles active at this instant (RFC 3339) instead of now.
    #[arg(long)]
    at: Option<String>,
    /// Check that every secret reference can be read (values are never shown).
    #[arg(long)]
    check_secrets: bool,
    /// Also list every parameter no layer sets, with the engine's default
    /// (the lowest layer of precedence).
    #[arg(long)]
    with_defaults: bool,
}

pub(crate) fn run(repo: &Path, format: Format, args: Args) -> anyhow::Result<Exit> {
    let at = fleet::parse_at(args.at.as_deref())?;
    let fleet = fleet::load(repo, format)?;
    let targets = args.filter.select(&fleet)?;
    let resolver = Resolver::new(&fleet, at);
    let (resolved, mut diags) = resolver.resolve_all(&targets);
    if args.check_secrets {
        diags.extend(check_secrets(&fleet, &resolved));
    }
    if diags.has_errors() {
        let secret_only = diags.iter().all(|d| d.code == "secret");
        let err = fleet::invalid(format, &diags);
        return Err(if secret_only { fail(Exit::Secret, "some secrets cannot be read") } else { err });
    }
    match format {
        Format::Json => {
            output::json(&json!(resolved.iter().map(|r| resolved_json(r, args.with_defaults)).collect::<Vec<_>>()))
        }
        Format::Human => print_human(&resolved, args.with_defaults)?,
    }
    Ok(Exit::Ok)
}

/// Catalog defaults of the parameters no layer sets, for `--with-defaults`.
fn defaults(r: &Resolved<'_>) -> Vec<(String, String)> {
    dbfleet_catalog::catalog(r.info.engine)
        .parameters()
        .filter(|p| !p.read_only && p.scope.allows(r.info.scope) && !r.settings.contains_key(p.name.as_str()))
        .filter(|p| {
            dbfleet_catalog::catalog(r.info.engine).lookup(&p.name, &r.info.version)
                == dbfleet_catalog::Lookup::Found(p)
        })
        .filter_map(|p| Some((p.name.clone(), p.default.as_ref()?.to_string())))
        .collect()
}

fn print_human(resolved: &[Resolved<'_>], with_defaults: bool) -> std::io::Result<()> {
    let mut out = anstream::stdout().lock();
    for r in resolved {
        let i = &r.info;
        let mut facts = vec![
            format!("{} {}", i.engine, i.version),
            i.environment.to_string(),
            format!("tier {}", i.tier),
            format!("workload {}", i.workload),
        ];
        if let Some(t) = &i.tenant {
            facts.push(format!("tenant {t}"));
        }
        facts.push(format!("{} scope", i.scope));
        if !r.time_profiles.is_empty() {
            facts.push(format!("time {}", r.time_profiles.join("+")));
        }
        writeln!(out, "{}{}{} {DIM}({}){DIM:#}", output::BOLD, i.id, output::BOLD.render_reset(), facts.join(", "))?;
        let mut rows: Vec<(String, String, String)> = r
            .settings
            .iter()
            .filter_map(|(k, s)| Some((k.to_string(), s.value.as_ref()?.to_string(), s.winner()?.location.to_string())))
            .collect();
        if with_defaults {
            rows.extend(defaults(r).into_iter().map(|(k, v)| (k, v, "catalog default".to_string())));
            rows.sort();
        }
        let kw = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
        let vw = rows.iter().map(|r| r.1.chars().count()).max().unwrap_or(0).min(48);
        for (k, v, loc) in rows {
            writeln!(out, "  {KEY}{k:<kw$}{KEY:#} = {v:<vw$}  {DIM}# {loc}{DIM:#}")?;
        }
        writeln!(out)?;
    }
    Ok(())
}

pub(crate) fn entry_json(e: &Entry) -> serde_json::Value {
    let (op, value) = match &e.op {
        Op::Set(v) => ("set", v.to_json()),
        Op::Append(items) => ("append", Value::List(items.clone()).to_json()),
        Op::Remove(items) => ("remove", Value::List(items.clone()).to_json()),
        Op::Unset => ("unset", serde_json::Value::Null),
    };
    json!({
        "layer": e.layer.to_string(),
        "file": &*e.location.file,
        "line": e.location.line,
        "column": e.location.column,
        "op": op,
        "value": value,
    })
}

fn resolved_json(r: &Resolved<'_>, with_defaults: bool) -> serde_json::Value {
    let mut settings: serde_json::Map<String, serde_json::Value> = r
        .settings
        .iter()
        .filter_map(|(k, s)| {
            let v = s.value.as_ref()?;
            Some((
                k.to_string(),
                json!({ "value": v.to_json(), "chain": s.chain.iter().map(|e| entry_json(e)).collect::<Vec<_>>() }),
            ))
        })
        .collect();
    if with_defaults {
        for (k, v) in defaults(r) {
            settings.insert(k, json!({ "value": v, "chain": [], "catalog_default": true }));
        }
    }
    json!({
        "target": r.info.id.to_string(),
        "scope": r.info.scope,
        "engine": r.info.engine,
        "version": r.info.version,
        "environment": r.info.environment,
        "tier": r.info.tier,
        "workload": r.info.workload,
        "instance": r.info.instance,
        "tenant": r.info.tenant,
        "time_profiles": r.time_profiles,
        "settings": settings,
    })
}

/// The secrets configuration for a fleet: the environment first, then the
/// Vault address fleet.yaml names (with the token from the environment).
pub(crate) fn secrets(fleet: &Fleet) -> Secrets {
    let mut config = SecretsConfig::from_env();
    if config.vault.is_none() {
        let token = std::env::var("VAULT_TOKEN").or_else(|_| std::env::var("BAO_TOKEN")).ok().filter(|t| !t.is_empty());
        if let (Some(v), Some(token)) = (&fleet.spec.secrets.vault, token) {
            config.vault =
                Some(VaultConfig { address: v.address.clone(), token: token.into(), namespace: v.namespace.clone() });
        }
    }
    Secrets::new(&fleet.root, config)
}

fn collect_refs(v: &Value, out: &mut Vec<SecretRef>) {
    match v {
        Value::Secret(r) => out.push(r.clone()),
        Value::List(items) => items.iter().for_each(|i| collect_refs(i, out)),
        Value::Map(m) => m.values().for_each(|i| collect_refs(i, out)),
        _ => {}
    }
}

/// Checks every secret the resolved targets (and their instances'
/// credentials) refer to; each failure is reported once, where it is written.
pub(crate) fn check_secrets(fleet: &Fleet, resolved: &[Resolved<'_>]) -> Diagnostics {
    let secrets = secrets(fleet);
    let mut diags = Diagnostics::default();
    let mut seen = BTreeSet::new();
    let mut check = |r: &SecretRef, at: &dbfleet_model::Location, layer: String| {
        if !seen.insert((r.clone(), at.clone())) {
            return;
        }
        if let Err(e) = secrets.check(r) {
            diags.push(Diagnostic::error("secret", format!("secret `{r}`: {e}")).at(at.clone()).layer(layer));
        }
    };
    let mut instances = BTreeSet::new();
    for res in resolved {
        for slot in res.settings.values() {
            let (Some(v), Some(w)) = (&slot.value, slot.winner()) else { continue };
            let mut refs = Vec::new();
            collect_refs(v, &mut refs);
            for r in &refs {
                check(r, &w.location, w.layer.to_string());
            }
        }
        if instances.insert(res.info.instance.clone()) {
            let inst = &fleet.instances[&res.info.instance];
            for (v, at) in inst.credentials.values() {
                let mut refs = Vec::new();
                collect_refs(v, &mut refs);
                for r in &refs {
                    check(r, at, format!("instance {}", inst.name));
                }
            }
        }
    }
    diags
}
