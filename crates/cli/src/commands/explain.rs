//! `dbfleet explain TARGET KEY`: every layer that touched a key, in order.

use std::io::Write;
use std::path::Path;

use dbfleet_config::{Op, Resolver};
use serde_json::json;

use crate::commands::resolve::entry_json;
use crate::exit::{Exit, fail};
use crate::fleet;
use crate::output::{self, BOLD, DIM, Format};

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// The target (`INSTANCE` or `TENANT/ENGINE`).
    target: String,
    /// The setting, as resolved (nested keys joined with dots).
    key: String,
    /// Explain the value at this instant (RFC 3339) instead of now.
    #[arg(long)]
    at: Option<String>,
}

pub(crate) fn run(repo: &Path, format: Format, args: Args) -> anyhow::Result<Exit> {
    let at = fleet::parse_at(args.at.as_deref())?;
    let fleet = fleet::load(repo, format)?;
    let info = fleet.target(&args.target).map_err(|d| {
        let help = d.help.map(|h| format!(" ({h})")).unwrap_or_default();
        fail(Exit::NotFound, format!("{}{help}", d.message))
    })?;
    let resolver = Resolver::new(&fleet, at);
    let resolved = resolver.resolve(&info).map_err(|ds| fleet::invalid(format, &dbfleet_model::Diagnostics(ds)))?;
    let default = catalog_default(&info, &args.key);
    let Some(slot) = resolved.settings.get(args.key.as_str()) else {
        if let Some(d) = default {
            // Not set by any layer: the engine's default applies.
            match format {
                Format::Json => output::json(
                    &json!({ "target": info.id.to_string(), "key": args.key, "value": d, "chain": [], "catalog_default": d }),
                ),
                Format::Human => println!("{} {} = {d} (catalog default; no layer sets it)", info.id, args.key),
            }
            return Ok(Exit::Ok);
        }
        let keys: Vec<&str> = resolved.settings.keys().copied().collect();
        let mut msg = format!("no layer sets `{}` for {}", args.key, info.id);
        if let Some(s) = dbfleet_model::did_you_mean(&args.key, keys.iter().copied()) {
            msg.push_str(&format!(" (did you mean `{s}`?)"));
        }
        return Err(fail(Exit::NotFound, msg));
    };
    match format {
        Format::Json => output::json(&json!({
            "target": info.id.to_string(),
            "key": args.key,
            "value": slot.value.as_ref().map(|v| v.to_json()),
            "time_profiles": resolved.time_profiles,
            "chain": slot.chain.iter().map(|e| entry_json(e)).collect::<Vec<_>>(),
            "catalog_default": default,
        })),
        Format::Human => {
            let mut out = anstream::stdout().lock();
            let value = slot.value.as_ref().map_or_else(|| "(unset)".to_string(), |v| v.to_string());
            writeln!(out, "{BOLD}{}{BOLD:#} {} = {BOLD}{value}{BOLD:#}", info.id, args.key)?;
            let mut rows = vec![["#", "LAYER", "LOCATION", "OPERATION"].map(String::from).to_vec()];
            if let Some(d) = &default {
                rows.push(vec![
                    "0".into(),
                    "catalog default".into(),
                    format!("{} catalog", info.engine),
                    format!("default {d}"),
                ]);
            }
            for (i, e) in slot.chain.iter().enumerate() {
                let op = match &e.op {
                    Op::Set(v) => format!("set {v}"),
                    Op::Append(items) => format!("append {}", dbfleet_model::Value::List(items.clone())),
                    Op::Remove(items) => format!("remove {}", dbfleet_model::Value::List(items.clone())),
                    Op::Unset => "unset".to_string(),
                };
                rows.push(vec![(i + 1).to_string(), e.layer.to_string(), e.location.to_string(), op]);
            }
            write!(out, "{}", output::table(&rows))?;
            if let Some(winner) = slot.winner() {
                writeln!(out, "{DIM}decided by {} at {}{DIM:#}", winner.layer, winner.location)?;
            }
        }
    }
    Ok(Exit::Ok)
}

/// The engine's documented default for `key`, if the catalog knows one and
/// the key may be set in the target's scope.
pub(crate) fn catalog_default(info: &dbfleet_config::TargetInfo, key: &str) -> Option<String> {
    let p = dbfleet_catalog::catalog(info.engine).get(key)?;
    if !p.scope.allows(info.scope) {
        return None;
    }
    p.default.as_ref().map(|d| d.to_string())
}
