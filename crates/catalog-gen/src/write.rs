//! Writes a catalog file in the format of `docs/catalog-format.md`, and
//! checks it with the catalog crate's loader before anyone writes it out.
//!
//! Hand-rolled rather than serialized, so that the key order follows the
//! format document, strings are always quoted (no YAML 1.1 reader mistakes
//! `off` for a boolean) and the output is byte-for-byte stable.

use std::fmt::Write as _;

use anyhow::Context;
use dbfleet_catalog::{ParamType, Parameter, ScopeSet};
use dbfleet_model::{ApplyMethod, EngineKind, Value};

/// One parameter, with every value already in catalog syntax.
pub(crate) struct Entry {
    pub(crate) ty: &'static str,
    pub(crate) unit: Option<String>,
    /// Bare numbers, written unquoted.
    pub(crate) min: Option<String>,
    pub(crate) max: Option<String>,
    pub(crate) default: Option<Scalar>,
    pub(crate) values: Vec<String>,
    pub(crate) scope: &'static str,
    pub(crate) apply: &'static str,
    pub(crate) since: Option<String>,
    pub(crate) until: Option<String>,
    pub(crate) replaced_by: Option<String>,
    pub(crate) aliases: Vec<String>,
    /// The native file, if not the engine's main one (`main` is not written).
    pub(crate) section: Option<&'static str>,
    pub(crate) sensitive: bool,
    pub(crate) read_only: bool,
    pub(crate) description: String,
}

/// A default value: numbers and sizes are written bare, text is quoted.
pub(crate) enum Scalar {
    Plain(String),
    Text(String),
}

/// The header of a catalog file.
pub(crate) struct Header<'a> {
    pub(crate) comment: &'a str,
    pub(crate) engine: EngineKind,
    pub(crate) versions: &'a [String],
    /// What the generator read from the live server; the first source.
    pub(crate) live_source: String,
    /// The annotation file's sources, after it.
    pub(crate) sources: &'a [String],
}

/// A generated catalog file and a one-line summary of it.
pub(crate) struct Generated {
    pub(crate) text: String,
    pub(crate) summary: String,
}

/// Renders the file like [`catalog`] and loads it with the catalog crate's
/// loader, so that no generator writes a file the loader would refuse.
pub(crate) fn generated<'a>(
    header: &Header<'_>,
    entries: impl IntoIterator<Item = (&'a str, &'a Entry)>,
) -> anyhow::Result<Generated> {
    let text = catalog(header, entries);
    let summary = check_and_summarize(header.engine, &text)?;
    Ok(Generated { text, summary })
}

/// Renders the file; `entries` must be sorted by name.
pub(crate) fn catalog<'a>(header: &Header<'_>, entries: impl IntoIterator<Item = (&'a str, &'a Entry)>) -> String {
    let mut out = String::new();
    for line in header.comment.lines() {
        let _ = if line.is_empty() { writeln!(out, "#") } else { writeln!(out, "# {line}") };
    }
    let _ = writeln!(out, "engine: {}", header.engine.as_str());
    let _ = writeln!(out, "versions: [{}]", header.versions.iter().map(|v| quote(v)).collect::<Vec<_>>().join(", "));
    out.push_str("sources:\n");
    for source in std::iter::once(&header.live_source).chain(header.sources) {
        let _ = writeln!(out, "  - {}", quote(source));
    }
    out.push_str("parameters:\n");
    for (name, e) in entries {
        let _ = writeln!(out, "  {name}:");
        let mut field = |key: &str, value: &str| {
            let _ = writeln!(out, "    {key}: {value}");
        };
        field("type", e.ty);
        if let Some(unit) = &e.unit {
            field("unit", unit);
        }
        if let Some(min) = &e.min {
            field("min", min);
        }
        if let Some(max) = &e.max {
            field("max", max);
        }
        match &e.default {
            Some(Scalar::Plain(text)) => field("default", text),
            Some(Scalar::Text(text)) => field("default", &quote(text)),
            None => {}
        }
        if !e.values.is_empty() {
            field("values", &format!("[{}]", e.values.iter().map(|v| quote(v)).collect::<Vec<_>>().join(", ")));
        }
        field("scope", e.scope);
        field("apply", e.apply);
        if let Some(since) = &e.since {
            field("since", &quote(since));
        }
        if let Some(until) = &e.until {
            field("until", &quote(until));
        }
        if let Some(replaced_by) = &e.replaced_by {
            field("replaced_by", replaced_by);
        }
        if !e.aliases.is_empty() {
            field("aliases", &format!("[{}]", e.aliases.join(", ")));
        }
        if let Some(section) = e.section {
            field("section", section);
        }
        if e.sensitive {
            field("sensitive", "true");
        }
        if e.read_only {
            field("read_only", "true");
        }
        field("description", &quote(&e.description));
    }
    out
}

/// Checks `raw` (a value as the server or an annotation writes it) against
/// the entry's type, unit and bounds, and returns it in catalog syntax:
/// sizes in the largest exact unit the engine writes, booleans, enums and
/// text quoted, numbers bare.
pub(crate) fn native_default(
    engine: EngineKind,
    name: &str,
    ty: ParamType,
    e: &Entry,
    raw: &str,
) -> anyhow::Result<Scalar> {
    let p = bare_parameter(name, ty, e.unit.clone(), e.values.clone());
    // Every default is read as text, the way the server reports it.
    let typed = p
        .normalize(engine, &Value::String(raw.to_string()))
        .with_context(|| format!("default {raw:?} is not a valid {}", e.ty))?;
    Ok(match ty {
        ParamType::Int | ParamType::Real | ParamType::Duration => Scalar::Plain(raw.to_string()),
        ParamType::Size => Scalar::Plain(p.format_native(engine, &typed)),
        ParamType::Bool | ParamType::Enum | ParamType::String | ParamType::List | ParamType::Map => {
            Scalar::Text(raw.to_string())
        }
    })
}

impl Entry {
    /// The entry with `raw` (the server's or the annotation's default, if
    /// any) as its default, checked and written by [`native_default`].
    pub(crate) fn with_default(
        mut self,
        engine: EngineKind,
        name: &str,
        ty: ParamType,
        raw: Option<&str>,
    ) -> anyhow::Result<Entry> {
        self.default = raw.map(|raw| native_default(engine, name, ty, &self, raw)).transpose()?;
        Ok(self)
    }
}

/// A catalog parameter with only the facts that reading a value of it
/// (`normalize`) and writing one back (`format_native`) look at.
pub(crate) fn bare_parameter(name: &str, ty: ParamType, unit: Option<String>, values: Vec<String>) -> Parameter {
    Parameter {
        name: name.to_string(),
        ty,
        unit,
        min: None,
        max: None,
        default: None,
        values,
        scope: ScopeSet::Instance,
        apply: ApplyMethod::Restart,
        since: None,
        until: None,
        replaced_by: None,
        aliases: Vec::new(),
        section: "main".into(),
        sensitive: false,
        read_only: false,
        description: String::new(),
    }
}

/// Loads the generated text with the catalog crate's loader and counts the
/// parameters of each version.
fn check_and_summarize(engine: EngineKind, text: &str) -> anyhow::Result<String> {
    let file = format!("{engine}.yaml (generated)");
    let catalog = dbfleet_catalog::load(engine, &file, text).map_err(|errors| {
        let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
        anyhow::anyhow!("the generated catalog is invalid:\n{}", errors.join("\n"))
    })?;
    let per_version: Vec<String> = catalog
        .versions()
        .iter()
        .map(|v| {
            let present = catalog
                .parameters()
                .filter(|p| matches!(catalog.lookup(&p.name, v), dbfleet_catalog::Lookup::Found(_)))
                .count();
            format!("{v}: {present}")
        })
        .collect();
    Ok(format!("{} parameters; per version {}", catalog.parameters().count(), per_version.join(", ")))
}

/// A YAML double-quoted scalar.
fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An entry with nothing but a type; cases set what they test.
    fn entry(ty: &'static str, unit: Option<&str>) -> Entry {
        Entry {
            ty,
            unit: unit.map(Into::into),
            min: None,
            max: None,
            default: None,
            values: Vec::new(),
            scope: "instance",
            apply: "runtime",
            since: None,
            until: None,
            replaced_by: None,
            aliases: Vec::new(),
            section: None,
            sensitive: false,
            read_only: false,
            description: String::new(),
        }
    }

    fn render(engine: EngineKind, entries: &[(&str, &Entry)]) -> String {
        let versions = ["15".to_string(), "16".to_string()];
        let header = Header {
            comment: "Generated.\n\nDo not edit.",
            engine,
            versions: &versions,
            live_source: "server 15.0 (generated)".into(),
            sources: &["notes".into()],
        };
        catalog(&header, entries.iter().copied())
    }

    #[test]
    fn renders_in_format_order_with_strings_quoted() {
        let entry = Entry {
            default: Some(Scalar::Text("off".into())),
            values: vec!["off".into(), "on".into(), "regress".into()],
            scope: "both",
            apply: "reload",
            until: Some("15".into()),
            replaced_by: Some("debug_parallel_query".into()),
            description: "Forces \"parallel\" plans.".into(),
            ..entry("enum", None)
        };
        assert_eq!(
            render(EngineKind::Postgresql, &[("force_parallel_mode", &entry)]),
            "# Generated.\n#\n# Do not edit.\nengine: postgresql\nversions: [\"15\", \"16\"]\nsources:\n  - \"server 15.0 (generated)\"\n  - \"notes\"\nparameters:\n  force_parallel_mode:\n    type: enum\n    default: \"off\"\n    values: [\"off\", \"on\", \"regress\"]\n    scope: both\n    apply: reload\n    until: \"15\"\n    replaced_by: debug_parallel_query\n    description: \"Forces \\\"parallel\\\" plans.\"\n"
        );
    }

    #[test]
    fn section_and_sensitive_go_after_aliases_and_before_read_only() {
        let a = Entry {
            aliases: vec!["b".into()],
            section: Some("users"),
            sensitive: true,
            read_only: true,
            ..entry("string", None)
        };
        let text = render(EngineKind::Clickhouse, &[("a", &a)]);
        let fields = text.split_once("  a:\n").unwrap().1;
        assert_eq!(
            fields,
            "    type: string\n    scope: instance\n    apply: runtime\n    aliases: [b]\n    section: users\n    sensitive: true\n    read_only: true\n    description: \"\"\n"
        );
    }

    #[test]
    fn redis_sizes_default_to_their_largest_exact_unit() {
        let default = |ty, e: &Entry, raw| native_default(EngineKind::Redis, "p", ty, e, raw);
        let size = default(ParamType::Size, &entry("size", Some("B")), "1048576").unwrap();
        assert!(matches!(size, Scalar::Plain(ref s) if s == "1mb"));
        let flag = default(ParamType::Bool, &entry("bool", None), "no").unwrap();
        assert!(matches!(flag, Scalar::Text(ref s) if s == "no"));
        assert!(default(ParamType::Bool, &entry("bool", None), "maybe").is_err());
    }
}
