//! `dbfleet validate`: every target checked against its engine's catalog,
//! tier rules, engine rules, budgets and the fleet's policies, with every
//! problem reported at once.
//!
//! Without `--at`, each target is checked with no time profile active and
//! with each time profile active on its own, so a problem that only shows
//! at night is found in the afternoon.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use dbfleet_config::{Fleet, Resolver, TargetInfo, Validated, validate};
use dbfleet_model::{Diagnostic, Diagnostics, Severity};
use serde_json::json;

use crate::exit::{Exit, fail};
use crate::fleet::{self, Filter};
use crate::output::{self, Format};

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    #[command(flatten)]
    filter: Filter,
    /// Check only the time profiles active at this instant (RFC 3339).
    #[arg(long)]
    at: Option<String>,
    /// Also check that every secret reference can be read.
    #[arg(long)]
    check_secrets: bool,
    /// Fail on warnings too.
    #[arg(long)]
    deny_warnings: bool,
    /// Write SARIF 2.1.0 (for code-scanning annotations) instead of the usual output.
    #[arg(long)]
    sarif: bool,
}

/// Validates `targets` under each set of time profiles to try; diagnostics
/// shared by many targets are reported once, with a count.
pub(crate) fn validate_targets<'f>(
    fleet: &'f Fleet,
    targets: &[TargetInfo],
    time_sets: Vec<Vec<&'f str>>,
) -> (Vec<Validated<'f>>, Diagnostics) {
    let mut diags = Diagnostics::default();
    // Each distinct problem, with the targets it affects.
    let mut seen: HashMap<(&'static str, Option<dbfleet_model::Location>, String), HashSet<Option<String>>> =
        HashMap::new();
    let mut first = Vec::new();
    let mut add = |d: Diagnostic, diags: &mut Diagnostics| {
        let key = (d.code, d.location.clone(), d.message.clone());
        let targets = seen.entry(key).or_default();
        let new_problem = targets.is_empty();
        targets.insert(d.target.clone());
        if new_problem {
            diags.push(d);
        }
    };
    for (i, profiles) in time_sets.into_iter().enumerate() {
        let resolver = Resolver::with_time_profiles(fleet, profiles);
        let (resolved, rdiags) = resolver.resolve_all(targets);
        for d in rdiags {
            add(d, &mut diags);
        }
        let results: Vec<_> = {
            use rayon::prelude::*;
            resolved.par_iter().map(|r| validate(fleet, r)).collect()
        };
        for (validated, ds) in results {
            for d in ds {
                add(d, &mut diags);
            }
            if i == 0 {
                first.push(validated);
            }
        }
    }
    for d in &mut diags.0 {
        let n = seen[&(d.code, d.location.clone(), d.message.clone())].len();
        if n > 1 {
            let help = format!("the same problem affects {} more target{}", n - 1, if n == 2 { "" } else { "s" });
            d.help = Some(match d.help.take() {
                Some(h) => format!("{h}; {help}"),
                None => help,
            });
        }
    }
    diags.sort();
    (first, diags)
}

pub(crate) fn run(repo: &Path, format: Format, args: Args) -> anyhow::Result<Exit> {
    let fleet = fleet::load(repo, format)?;
    let targets = args.filter.select(&fleet)?;
    let time_sets = match &args.at {
        Some(at) => vec![fleet.active_time_profiles(fleet::parse_at(Some(at))?)],
        None => std::iter::once(Vec::new()).chain(fleet.time_profiles.iter().map(|p| vec![p.name.as_str()])).collect(),
    };
    let (validated, mut diags) = validate_targets(&fleet, &targets, time_sets);
    if args.check_secrets {
        let resolver = Resolver::new(&fleet, jiff::Timestamp::now());
        let (resolved, _) = resolver.resolve_all(&targets);
        diags.extend(crate::commands::resolve::check_secrets(&fleet, &resolved));
        diags.sort();
    }
    let failed = diags.has_errors() || (args.deny_warnings && diags.warnings() > 0);
    if args.sarif {
        output::json(&sarif(&diags));
    } else {
        match format {
            Format::Json => output::json(&json!({ "targets": validated.len(), "diagnostics": diags })),
            Format::Human => {
                output::diagnostics(&diags);
                if !failed {
                    eprintln!("{} targets valid", validated.len());
                }
            }
        }
    }
    if failed {
        return Err(fail(
            Exit::Invalid,
            format!(
                "validation found {} error{} and {} warning{}",
                diags.errors(),
                s(diags.errors()),
                diags.warnings(),
                s(diags.warnings())
            ),
        ));
    }
    Ok(Exit::Ok)
}

fn s(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// SARIF 2.1.0: one run, one rule per diagnostic code.
fn sarif(diags: &Diagnostics) -> serde_json::Value {
    let mut codes: Vec<&str> = diags.iter().map(|d| d.code).collect();
    codes.sort_unstable();
    codes.dedup();
    let rules: Vec<_> =
        codes.iter().map(|c| json!({ "id": c, "name": c, "helpUri": "https://dbfleet.dev/docs/validation" })).collect();
    let results: Vec<_> = diags
        .iter()
        .map(|d| {
            let mut text = d.message.clone();
            if let Some(t) = &d.target {
                text.push_str(&format!(" (target {t})"));
            }
            if let Some(h) = &d.help {
                text.push_str(&format!(". {h}"));
            }
            let locations: Vec<_> = d
                .location
                .iter()
                .map(|l| json!({ "physicalLocation": { "artifactLocation": { "uri": &*l.file }, "region": { "startLine": l.line, "startColumn": l.column } } }))
                .collect();
            let related: Vec<_> = d
                .related
                .iter()
                .enumerate()
                .map(|(i, (what, l))| json!({ "id": i, "message": { "text": what }, "physicalLocation": { "artifactLocation": { "uri": &*l.file }, "region": { "startLine": l.line, "startColumn": l.column } } }))
                .collect();
            json!({
                "ruleId": d.code,
                "level": if d.severity == Severity::Error { "error" } else { "warning" },
                "message": { "text": text },
                "locations": locations,
                "relatedLocations": related,
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": { "name": "dbfleet", "version": env!("CARGO_PKG_VERSION"), "informationUri": "https://dbfleet.dev", "rules": rules } },
            "originalUriBaseIds": { "SRCROOT": { "uri": "./" } },
            "results": results,
        }],
    })
}
