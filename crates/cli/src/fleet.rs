//! Loading the fleet and choosing targets, shared by the read commands.

use std::path::Path;

use dbfleet_config::{Fleet, TargetInfo};
use dbfleet_model::{Diagnostics, EngineKind, Environment, Scope, TierName};

use crate::exit::{Exit, fail};
use crate::output::{self, Format};

/// Loads the repo, or reports every problem and fails with `Invalid`.
pub(crate) fn load(repo: &Path, format: Format) -> anyhow::Result<Fleet> {
    match dbfleet_config::load(repo) {
        Ok(fleet) => {
            if !fleet.warnings.is_empty() && format == Format::Human {
                output::diagnostics(&fleet.warnings);
            }
            Ok(fleet)
        }
        Err(diags) => Err(invalid(format, &diags)),
    }
}

/// Reports diagnostics and returns the error that exits with `Invalid`.
pub(crate) fn invalid(format: Format, diags: &Diagnostics) -> anyhow::Error {
    output::report(format, diags);
    fail(
        Exit::Invalid,
        format!("the fleet repo has {} error{}", diags.errors(), if diags.errors() == 1 { "" } else { "s" }),
    )
}

/// Target filters shared by commands that work on many targets.
#[derive(clap::Args, Debug, Default)]
pub(crate) struct Filter {
    /// Targets by name (`INSTANCE` or `TENANT/ENGINE`); all when none is given.
    pub(crate) targets: Vec<String>,
    /// Only targets of this engine.
    #[arg(long)]
    pub(crate) engine: Option<EngineKind>,
    /// Only targets in this environment.
    #[arg(long = "env")]
    pub(crate) environment: Option<Environment>,
    /// Only targets of this tier.
    #[arg(long)]
    pub(crate) tier: Option<TierName>,
    /// Only this tenant's targets (and its dedicated instances).
    #[arg(long)]
    pub(crate) tenant: Option<String>,
    /// Only instance or only tenant targets.
    #[arg(long)]
    pub(crate) scope: Option<Scope>,
}

impl Filter {
    pub(crate) fn select(&self, fleet: &Fleet) -> anyhow::Result<Vec<TargetInfo>> {
        if let Some(t) = &self.tenant
            && !fleet.tenants.contains_key(t)
        {
            let mut msg = format!("no tenant `{t}` in this fleet");
            if let Some(s) = dbfleet_model::did_you_mean(t, fleet.tenants.keys().map(String::as_str)) {
                msg.push_str(&format!(" (did you mean `{s}`?)"));
            }
            return Err(fail(Exit::NotFound, msg));
        }
        let base = if self.targets.is_empty() {
            fleet.targets()
        } else {
            let mut out = Vec::new();
            for name in &self.targets {
                match fleet.target(name) {
                    Ok(t) => out.push(t),
                    Err(d) => {
                        let help = d.help.map(|h| format!(" ({h})")).unwrap_or_default();
                        return Err(fail(Exit::NotFound, format!("{}{help}", d.message)));
                    }
                }
            }
            out
        };
        Ok(base
            .into_iter()
            .filter(|t| self.engine.is_none_or(|e| t.engine == e))
            .filter(|t| self.environment.is_none_or(|e| t.environment == e))
            .filter(|t| self.tier.is_none_or(|e| t.tier == e))
            .filter(|t| self.scope.is_none_or(|e| t.scope == e))
            .filter(|t| self.tenant.as_ref().is_none_or(|e| t.tenant.as_ref() == Some(e)))
            .collect())
    }
}

/// Parses `--at`: an RFC 3339 instant, or `now`.
pub(crate) fn parse_at(at: Option<&str>) -> anyhow::Result<jiff::Timestamp> {
    match at {
        None | Some("now") => Ok(jiff::Timestamp::now()),
        Some(text) => text.parse::<jiff::Timestamp>().map_err(|e| {
            fail(
                Exit::Usage,
                format!("--at `{text}` is not a timestamp ({e}); write it like 2026-11-23T08:30:00+01:00"),
            )
        }),
    }
}
