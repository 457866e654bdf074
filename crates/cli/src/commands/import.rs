//! `dbfleet import`: turns configuration teams already have into fleet
//! layers. Reads native files of any engine, or the common nested override
//! YAML (engine at the root, grouped sections, native names at the leaves,
//! `${VAR}` placeholders), checks every setting through the catalog like
//! any other value, and writes a layer file. Whatever cannot be mapped to a
//! parameter is listed with its line and the reason, never dropped silently.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use dbfleet_catalog::Lookup;
use dbfleet_model::{Diagnostic, Diagnostics, EngineKind, Location, Scope, Value, Version};
use dbfleet_render::{Parsed, Unmapped};
use serde_json::json;

use crate::exit::{Exit, fail};
use crate::output::{self, Format};

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// Native configuration files (postgresql.conf, redis.conf, config.xml, mongod.conf, ...).
    files: Vec<PathBuf>,
    /// The engine the native files belong to.
    #[arg(long, required_unless_present = "overrides")]
    engine: Option<EngineKind>,
    /// A nested override YAML file (several engines at once) instead of native files.
    #[arg(long, conflicts_with_all = ["files", "engine"])]
    overrides: Option<PathBuf>,
    /// Check against this engine version [default: the newest the catalog knows].
    #[arg(long)]
    version: Option<Version>,
    /// Write the settings into this scope of the layer.
    #[arg(long, default_value = "instance")]
    scope: Scope,
    /// Write the layer here instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// One imported setting, under its catalog name.
struct Imported {
    name: String,
    value: Value,
}

/// Checks parsed settings through the catalog: canonical names, versions
/// and values. Problems become diagnostics (invalid values) or unmapped
/// entries (names the catalog does not know for this version).
fn check(
    engine: EngineKind,
    version: &Version,
    file: &str,
    parsed: Parsed,
    diags: &mut Diagnostics,
    unmapped: &mut Vec<(String, Unmapped)>,
) -> Vec<Imported> {
    let catalog = dbfleet_catalog::catalog(engine);
    let mut out: BTreeMap<String, Imported> = BTreeMap::new();
    for mut u in parsed.unmapped {
        // A name the parser did not recognise may be a typo of one it would.
        let first = u.text.split_whitespace().next().unwrap_or_default();
        if let Lookup::Unknown { suggestion: Some(s) } = catalog.lookup(first, version) {
            u.reason.push_str(&format!(" (did you mean `{s}`?)"));
        }
        unmapped.push((file.to_string(), u));
    }
    for s in parsed.settings {
        let at = Location::new(file, s.line, 1);
        let mut skip =
            |reason: String| unmapped.push((file.to_string(), Unmapped { line: s.line, text: s.name.clone(), reason }));
        let parameter = match catalog.lookup(&s.name, version) {
            Lookup::Found(p) => p,
            Lookup::Alias { parameter, .. } => parameter,
            Lookup::NotYet { since, .. } => {
                skip(format!("exists only from {engine} {since}"));
                continue;
            }
            Lookup::Removed { until, replaced_by, .. } => {
                skip(format!(
                    "removed after {engine} {until}{}",
                    replaced_by.map(|r| format!("; use `{r}`")).unwrap_or_default()
                ));
                continue;
            }
            Lookup::Unknown { suggestion } => {
                skip(format!(
                    "not a {engine} parameter{}",
                    suggestion.map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default()
                ));
                continue;
            }
        };
        if parameter.read_only {
            skip("read-only: reported by the server, cannot be set".into());
            continue;
        }
        if !matches!(s.value, Value::Secret(_))
            && let Err(e) = parameter.normalize(engine, &s.value)
        {
            diags.push(
                Diagnostic::error("invalid-value", format!("invalid value for `{}`: {e}", parameter.name)).at(at),
            );
            continue;
        }
        // A later line wins, as it does for the engines themselves.
        out.insert(parameter.name.clone(), Imported { name: parameter.name.clone(), value: s.value });
    }
    out.into_values().collect()
}

fn layer_text(
    sources: &str,
    scope: Scope,
    engines: &[(EngineKind, Vec<Imported>)],
    unmapped: &[(String, Unmapped)],
) -> String {
    let mut text = format!("# Imported by dbfleet from {sources}.\n");
    if !unmapped.is_empty() {
        text.push_str("# Not imported (no matching parameter):\n");
        for (file, u) in unmapped {
            let _ = writeln!(text, "#   {file}:{}: {}: {}", u.line, u.text, u.reason);
        }
    }
    for (engine, settings) in engines {
        let _ = writeln!(text, "{engine}:\n  {scope}:");
        if settings.is_empty() {
            text.push_str("    {}\n");
        }
        for s in settings {
            let _ = writeln!(text, "    {}: {}", Value::String(s.name.clone()), s.value.to_yaml());
        }
    }
    text
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).map_err(|e| {
        let exit = if e.kind() == std::io::ErrorKind::PermissionDenied { Exit::Denied } else { Exit::Failure };
        fail(exit, format!("cannot read {}: {e}", path.display()))
    })
}

pub(crate) fn run(format: Format, args: Args) -> anyhow::Result<Exit> {
    let newest =
        |e: EngineKind| dbfleet_catalog::catalog(e).versions().last().cloned().expect("a catalog lists versions");
    let mut diags = Diagnostics::default();
    let mut unmapped = Vec::new();
    let mut engines = Vec::new();
    let sources;
    if let Some(path) = &args.overrides {
        let name = path.display().to_string();
        let parsed = dbfleet_render::overrides::parse_override_yaml(&read(path)?)
            .map_err(|e| fail(Exit::Invalid, format!("{name}:{}: {}", e.line, e.message)))?;
        unmapped.extend(parsed.unmapped.into_iter().map(|u| (name.clone(), u)));
        for eo in parsed.engines {
            let version = args.version.clone().unwrap_or_else(|| newest(eo.engine));
            let settings = check(eo.engine, &version, &name, eo.parsed, &mut diags, &mut unmapped);
            engines.push((eo.engine, settings));
        }
        sources = name;
    } else {
        let engine = args.engine.expect("clap requires --engine without --overrides");
        if args.files.is_empty() {
            return Err(fail(Exit::Usage, "name the files to import"));
        }
        let version = args.version.clone().unwrap_or_else(|| newest(engine));
        let mut all = Vec::new();
        for path in &args.files {
            let name = path.display().to_string();
            let file_name = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
            let parsed = dbfleet_render::parse(engine, &file_name, &read(path)?)
                .map_err(|e| fail(Exit::Invalid, format!("{name}:{}: {}", e.line, e.message)))?;
            all.extend(check(engine, &version, &name, parsed, &mut diags, &mut unmapped));
        }
        engines.push((engine, all));
        sources = args.files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
    }
    let text = layer_text(&sources, args.scope, &engines, &unmapped);
    match &args.out {
        Some(out) => crate::commands::render::write_file(out, &text, 0o644)?,
        None if format == Format::Human => print!("{text}"),
        None => {}
    }
    if format == Format::Json {
        output::json(&json!({
            "layer": text,
            "settings": engines.iter().map(|(e, s)| (e.to_string(), s.len())).collect::<BTreeMap<_, _>>(),
            "unmapped": unmapped.iter().map(|(f, u)| json!({ "file": f, "line": u.line, "text": u.text, "reason": u.reason })).collect::<Vec<_>>(),
            "diagnostics": diags,
        }));
    } else {
        for (file, u) in &unmapped {
            eprintln!("not imported: {file}:{}: {}: {}", u.line, u.text, u.reason);
        }
        output::diagnostics(&diags);
        let n: usize = engines.iter().map(|(_, s)| s.len()).sum();
        eprintln!("imported {n} setting{}, {} not mapped", if n == 1 { "" } else { "s" }, unmapped.len());
    }
    if diags.has_errors() {
        return Err(fail(
            Exit::Invalid,
            format!(
                "{} imported value{} are invalid and were left out",
                diags.errors(),
                if diags.errors() == 1 { "" } else { "s" }
            ),
        ));
    }
    Ok(Exit::Ok)
}
