//! How results reach the terminal: human text (colour only when the
//! terminal wants it; `NO_COLOR` and pipes turn it off) or JSON.

use std::io::Write;

use anstyle::{AnsiColor, Style};
use dbfleet_model::{Diagnostic, Diagnostics, Severity};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    Human,
    Json,
}

pub(crate) const BOLD: Style = Style::new().bold();
pub(crate) const DIM: Style = Style::new().dimmed();
pub(crate) const ERROR: Style = AnsiColor::Red.on_default().bold();
pub(crate) const WARN: Style = AnsiColor::Yellow.on_default().bold();
pub(crate) const KEY: Style = AnsiColor::Cyan.on_default();

/// Prints diagnostics to stderr, every one with its location.
pub(crate) fn diagnostics(diags: &Diagnostics) {
    let mut err = anstream::stderr().lock();
    for d in diags.iter() {
        let _ = write_diagnostic(&mut err, d);
    }
    let (e, w) = (diags.errors(), diags.warnings());
    if e + w > 0 {
        let _ = writeln!(err, "{} error{}, {} warning{}", e, plural(e), w, plural(w));
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn write_diagnostic(out: &mut impl Write, d: &Diagnostic) -> std::io::Result<()> {
    let style = match d.severity {
        Severity::Error => ERROR,
        Severity::Warning => WARN,
    };
    writeln!(out, "{style}{}[{}]{style:#}{BOLD}: {}{BOLD:#}", d.label(), d.code, d.message)?;
    for (label, text) in d.details() {
        writeln!(out, "  {DIM}{label}{DIM:#} {text}")?;
    }
    writeln!(out)
}

/// Prints diagnostics the way the chosen format wants them: JSON on stdout
/// (so a pipeline gets one document), text on stderr.
pub(crate) fn report(format: Format, diags: &Diagnostics) {
    match format {
        Format::Human => diagnostics(diags),
        Format::Json => json(&serde_json::json!({ "diagnostics": diags })),
    }
}

pub(crate) fn json(value: &serde_json::Value) {
    let mut out = anstream::stdout().lock();
    let _ = serde_json::to_writer_pretty(&mut out, value);
    let _ = writeln!(out);
}

/// Left-aligned columns for human tables.
pub(crate) fn table(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| rows.iter().filter_map(|r| r.get(c)).map(|s| s.chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}  ", w = widths[i]));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
