//! Writes a catalog file in the format of `docs/catalog-format.md`.
//!
//! Hand-rolled rather than serialized, so that the key order follows the
//! format document, strings are always quoted (no YAML 1.1 reader mistakes
//! `off` for a boolean) and the output is byte-for-byte stable.

use std::fmt::Write as _;

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
    pub(crate) engine: &'a str,
    pub(crate) versions: &'a [String],
    pub(crate) sources: &'a [String],
}

/// Renders the file; `entries` must be sorted by name.
pub(crate) fn catalog<'a>(header: &Header<'_>, entries: impl IntoIterator<Item = (&'a str, &'a Entry)>) -> String {
    let mut out = String::new();
    for line in header.comment.lines() {
        let _ = if line.is_empty() { writeln!(out, "#") } else { writeln!(out, "# {line}") };
    }
    let _ = writeln!(out, "engine: {}", header.engine);
    let _ = writeln!(out, "versions: [{}]", header.versions.iter().map(|v| quote(v)).collect::<Vec<_>>().join(", "));
    out.push_str("sources:\n");
    for source in header.sources {
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
        if e.read_only {
            field("read_only", "true");
        }
        field("description", &quote(&e.description));
    }
    out
}

/// A YAML double-quoted scalar.
fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_in_format_order_with_strings_quoted() {
        let entry = Entry {
            ty: "enum",
            unit: None,
            min: None,
            max: None,
            default: Some(Scalar::Text("off".into())),
            values: vec!["off".into(), "on".into(), "regress".into()],
            scope: "both",
            apply: "reload",
            since: None,
            until: Some("15".into()),
            replaced_by: Some("debug_parallel_query".into()),
            aliases: Vec::new(),
            read_only: false,
            description: "Forces \"parallel\" plans.".into(),
        };
        let versions = ["15".to_string(), "16".to_string()];
        let header =
            Header { comment: "Generated.\n\nDo not edit.", engine: "postgresql", versions: &versions, sources: &[] };
        let text = catalog(&header, [("force_parallel_mode", &entry)]);
        assert_eq!(
            text,
            "# Generated.\n#\n# Do not edit.\nengine: postgresql\nversions: [\"15\", \"16\"]\nsources:\nparameters:\n  force_parallel_mode:\n    type: enum\n    default: \"off\"\n    values: [\"off\", \"on\", \"regress\"]\n    scope: both\n    apply: reload\n    until: \"15\"\n    replaced_by: debug_parallel_query\n    description: \"Forces \\\"parallel\\\" plans.\"\n"
        );
    }
}
