//! Neo4j 5: `neo4j.conf`, and a reader for it.
//!
//! One `name=value` line per setting, with `#` comments on lines of their
//! own: Neo4j reads everything after `=` as the value, so `--annotate`
//! comments go above the line they describe. Neo4j reads the file with
//! `java.util.Properties` escapes, so a backslash, a line break or a
//! leading space in a value is escaped (`\\`, `\n`, `\ `), and the reader
//! undoes escapes and joins lines continued with a trailing backslash. The
//! reader takes `=` as the only separator, as Neo4j's own files do.
//! Lists are comma-separated
//! (`dbms.security.procedures.unrestricted=apoc.*,gds.*`), except
//! `server.jvm.additional`, which Neo4j takes one flag per line, repeating
//! the key, because a JVM flag may itself contain commas. Sizes and
//! durations use Neo4j's suffixes (`8g`, `5m`). Nothing here was checked
//! against a running server; the syntax follows the Operations Manual's
//! configuration pages.

use dbfleet_catalog::Typed;
use dbfleet_model::{EngineKind, Value};

use crate::common::{self, guard};
use crate::{
    ParseError, Parsed, ParsedSetting, RenderError, RenderInput, RenderValue, RenderedFile, Setting, Unmapped,
};

const FILE: &str = "neo4j.conf";

/// The one setting Neo4j reads from repeated lines.
const JVM_ADDITIONAL: &str = "server.jvm.additional";

pub(crate) fn render(input: &RenderInput<'_>) -> Result<Vec<RenderedFile>, RenderError> {
    guard::check(input, &["main"])?;
    let settings = common::section(&input.settings, "main");
    let mut contents = common::hash_header(input);
    for s in &settings {
        contents.push_str(&common::origin_line(input, s));
        for value in values(input, s) {
            contents.push_str(&format!("{}={}\n", s.name, escape(&value)));
        }
    }
    Ok(vec![RenderedFile { path: FILE.into(), contents, sensitive: common::any_secret(settings.iter().copied()) }])
}

/// The value of each line `s` takes: one, or one per flag of
/// `server.jvm.additional`.
fn values(input: &RenderInput<'_>, s: &Setting<'_>) -> Vec<String> {
    let format = |t: &Typed| s.parameter.format_native(input.engine, t);
    match &s.value {
        RenderValue::Typed(Typed::List(items)) if s.name == JVM_ADDITIONAL => items.iter().map(format).collect(),
        RenderValue::Typed(Typed::List(items)) => vec![items.iter().map(format).collect::<Vec<_>>().join(",")],
        _ => vec![common::native(input, s)],
    }
}

/// `value` as java.util.Properties reads it back.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for (i, c) in value.chars().enumerate() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{c}' => out.push_str("\\f"),
            // Properties drops the white space before a value.
            ' ' if i == 0 => out.push_str("\\ "),
            c => out.push(c),
        }
    }
    out
}

/// A value with java.util.Properties escapes undone.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(decoded) => out.push(decoded),
                    None => out.push_str(&format!("\\u{hex}")),
                }
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// The logical lines of `text`, each with the number of the line it starts
/// on: as in java.util.Properties, a line ending in an odd number of
/// backslashes goes on with the next one, whose leading white space is
/// dropped.
fn logical_lines(text: &str) -> Vec<(u32, String)> {
    let mut out: Vec<(u32, String)> = Vec::new();
    let mut continued = false;
    for (index, raw) in text.lines().enumerate() {
        let line = if continued { raw.trim_start() } else { raw };
        let comment = !continued && line.trim_start().starts_with(['#', '!']);
        let backslashes = line.len() - line.trim_end_matches('\\').len();
        let continues = !comment && backslashes % 2 == 1;
        let line = if continues { &line[..line.len() - 1] } else { line };
        match out.last_mut() {
            Some((_, text)) if continued => text.push_str(line),
            _ => out.push((index as u32 + 1, line.to_string())),
        }
        continued = continues;
    }
    out
}

/// Reads a neo4j.conf, whatever it is called. Values are kept as the text
/// after `=`, unescaped (the catalog reads them); names may be the 4.4
/// forms that 5 still accepts. A name set twice is unmapped the second
/// time, except `server.jvm.additional`, whose lines make one list.
pub(crate) fn parse(_file_name: &str, text: &str) -> Result<Parsed, ParseError> {
    let mut parsed = Parsed::default();
    for (line, raw) in logical_lines(text) {
        let trimmed = raw.trim_start();
        if trimmed.is_empty() || trimmed.starts_with(['#', '!']) {
            continue;
        }
        let unmapped = |reason: String| Unmapped { line, text: trimmed.to_string(), reason };
        let Some((name, value)) = trimmed.split_once('=') else {
            parsed.unmapped.push(unmapped("not a `name=value` line".into()));
            continue;
        };
        let (name, value) = (name.trim(), unescape(value.trim_start()));
        let Some(parameter) = common::known_parameter(EngineKind::Neo4j, name) else {
            parsed.unmapped.push(unmapped(common::unknown_reason(EngineKind::Neo4j, name)));
            continue;
        };
        let earlier = parsed
            .settings
            .iter_mut()
            .find(|s| common::known_parameter(EngineKind::Neo4j, &s.name).is_some_and(|p| std::ptr::eq(p, parameter)));
        match earlier {
            Some(ParsedSetting { value: Value::List(flags), .. }) if parameter.name == JVM_ADDITIONAL => {
                flags.push(Value::String(value));
            }
            Some(first) => {
                let reason = format!(
                    "`{}` is already set on line {}; only {JVM_ADDITIONAL} may repeat",
                    parameter.name, first.line
                );
                parsed.unmapped.push(unmapped(reason));
            }
            None => {
                let value = if parameter.name == JVM_ADDITIONAL {
                    Value::List(vec![Value::String(value)])
                } else {
                    Value::String(value)
                };
                parsed.settings.push(ParsedSetting { name: name.to_string(), value, line });
            }
        }
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::testing;

    fn conf(pairs: &[(&str, &str)]) -> String {
        let files = render(&testing::input(EngineKind::Neo4j, "5", pairs)).unwrap();
        files[0].contents.split_once("\n\n").unwrap().1.to_string()
    }

    #[test]
    fn lists_are_comma_separated_but_jvm_flags_repeat_the_key() {
        let text = conf(&[
            ("dbms.security.procedures.unrestricted", "[apoc.*, gds.*]"),
            ("server.jvm.additional", "[-XX:+UseG1GC, \"-Xlog:gc*,safepoint:file=gc.log\"]"),
            ("server.memory.heap.max_size", "8GB"),
            ("db.transaction.timeout", "90s"),
        ]);
        assert_eq!(
            text,
            "db.transaction.timeout=90s\ndbms.security.procedures.unrestricted=apoc.*,gds.*\nserver.jvm.additional=-XX:+UseG1GC\nserver.jvm.additional=-Xlog:gc*,safepoint:file=gc.log\nserver.memory.heap.max_size=8g\n"
        );
        let parsed = parse(FILE, &text).unwrap();
        let jvm = parsed.settings.iter().find(|s| s.name == JVM_ADDITIONAL).unwrap();
        assert_eq!(
            jvm.value,
            Value::List(vec![
                Value::String("-XX:+UseG1GC".into()),
                Value::String("-Xlog:gc*,safepoint:file=gc.log".into())
            ])
        );
        assert_eq!(jvm.line, 3);
    }

    #[test]
    fn annotations_sit_above_the_line() {
        let mut input = testing::input(EngineKind::Neo4j, "5", &[("server.bolt.enabled", "true")]);
        input.annotate = true;
        let text = &render(&input).unwrap()[0].contents;
        assert!(text.ends_with(
            "\n# layers/base/neo4j.yaml (server.bolt.enabled), engine base neo4j\nserver.bolt.enabled=true\n"
        ));
    }

    #[test]
    fn old_names_unknown_names_and_repeats() {
        let parsed = parse(
            FILE,
            "dbms.memory.heap.max_size=4g\n# a comment\nserver.memory.heap.max_size=8g\ndbms.mode=CORE\nnot a setting\n",
        )
        .unwrap();
        assert_eq!(parsed.settings.len(), 1);
        assert_eq!(parsed.settings[0].name, "dbms.memory.heap.max_size");
        let reasons: Vec<(u32, &str)> = parsed.unmapped.iter().map(|u| (u.line, u.reason.as_str())).collect();
        assert_eq!(
            reasons,
            [
                (3, "`server.memory.heap.max_size` is already set on line 1; only server.jvm.additional may repeat"),
                (4, "`dbms.mode` is not a neo4j parameter in the catalog; did you mean `dbms.read_only`?"),
                (5, "not a `name=value` line"),
            ]
        );
    }

    #[test]
    fn values_are_escaped_as_java_properties_and_read_back() {
        for value in [r"C:\neo4j\data", " leading space", "two\nlines\tand a tab", r"trailing \"] {
            let input = testing::input(EngineKind::Neo4j, "5", &[("server.directories.data", value)]);
            let text = &render(&input).unwrap()[0].contents;
            let parsed = parse(FILE, text).unwrap();
            assert_eq!(parsed.settings[0].value, Value::String(value.into()), "{text}");
        }
        let input = testing::input(EngineKind::Neo4j, "5", &[("server.directories.data", r"C:\data")]);
        assert!(render(&input).unwrap()[0].contents.ends_with("server.directories.data=C:\\\\data\n"));
    }

    #[test]
    fn continued_lines_and_escapes_of_a_hand_written_file() {
        let text = "dbms.security.procedures.unrestricted=apoc.*,\\\n    gds.*\n! old-style comment\nserver.directories.data=\\u0041\\:b\n";
        let parsed = parse(FILE, text).unwrap();
        let values: Vec<(u32, &Value)> = parsed.settings.iter().map(|s| (s.line, &s.value)).collect();
        assert_eq!(values, [(1, &Value::String("apoc.*,gds.*".into())), (4, &Value::String("A:b".into()))]);
    }
}
