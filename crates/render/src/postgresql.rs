//! PostgreSQL: `postgresql.conf` for the instance, `tenants.sql` for the
//! role settings of its tenants, and a reader for postgresql.conf syntax.
//!
//! `postgresql.conf` holds the catalog's `main` section as `name = value`
//! lines: numbers, booleans, sizes and durations bare (`128MB`), strings and
//! enum members single-quoted with PostgreSQL's escapes, a list as one
//! quoted comma-separated string (`'pg_stat_statements, auto_explain'`).
//! `tenants.sql` resets and then sets each tenant role's settings with
//! `ALTER ROLE "<tenant>" SET ...` inside one transaction, so applying it
//! twice changes nothing and a setting removed from the fleet disappears.
//! The roles themselves must already exist: this file never creates one.
//!
//! No `pg_hba.conf` is rendered: the catalog has no `hba` section and no
//! `hba` parameter, so nothing in a fleet can describe client
//! authentication yet. The reader lists the rules of a `pg_hba.conf` as
//! unmapped, so an import shows them instead of dropping them.

use std::fmt::Write as _;

use dbfleet_catalog::Typed;
use dbfleet_model::{EngineKind, Value};

use crate::common;
use crate::{
    ParseError, Parsed, ParsedSetting, RenderError, RenderInput, RenderValue, RenderedFile, Setting, Unmapped,
};

const CONF: &str = "postgresql.conf";
const TENANTS: &str = "tenants.sql";

/// Parameters PostgreSQL flags `GUC_LIST_QUOTE`: in `SET` it quotes each
/// argument as an identifier, so a list must be given as separate
/// arguments there, not as the one string postgresql.conf takes.
const LIST_QUOTE: &[&str] = &[
    "local_preload_libraries",
    "search_path",
    "session_preload_libraries",
    "shared_preload_libraries",
    "temp_tablespaces",
];

pub(crate) fn render(input: &RenderInput<'_>) -> Result<Vec<RenderedFile>, RenderError> {
    let mut files = vec![conf(input)?];
    if !input.tenants.is_empty() {
        files.push(tenants_sql(input)?);
    }
    Ok(files)
}

fn conf(input: &RenderInput<'_>) -> Result<RenderedFile, RenderError> {
    check_sections(&input.settings)?;
    let settings = common::section(&input.settings, "main");
    let mut text = common::hash_header(input);
    for s in &settings {
        let _ = write!(text, "{} = {}", s.name, conf_value(input, s)?);
        if let Some(origin) = common::origin(input, s) {
            let _ = write!(text, "  # {}", one_line(&origin));
        }
        text.push('\n');
    }
    Ok(RenderedFile { path: CONF.into(), contents: text, sensitive: common::any_secret(settings) })
}

/// Every PostgreSQL parameter lives in `main`; anything else is a catalog
/// entry this renderer has no file for.
fn check_sections(settings: &[Setting<'_>]) -> Result<(), RenderError> {
    match settings.iter().find(|s| s.parameter.section != "main") {
        Some(s) => Err(RenderError::UnknownSection {
            engine: EngineKind::Postgresql,
            section: s.parameter.section.clone(),
            name: s.name.to_string(),
        }),
        None => Ok(()),
    }
}

/// The value as postgresql.conf spells it.
fn conf_value(input: &RenderInput<'_>, s: &Setting<'_>) -> Result<String, RenderError> {
    let RenderValue::Typed(typed) = &s.value else {
        return Ok(quote(&common::native(input, s)));
    };
    Ok(match typed {
        Typed::Bool(_) | Typed::Int(_) | Typed::Bytes(_) | Typed::Micros(_) => common::native(input, s),
        // The lexer reads `0.9` bare but not an exponent (`1e-05`), which it
        // takes for a number followed by a unit.
        Typed::Real(_) => {
            let text = common::native(input, s);
            if text.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b'-') { text } else { quote(&text) }
        }
        Typed::Str(text) => quote(text),
        Typed::List(_) => quote(&list_text(input, s, typed)),
        Typed::Map(_) => {
            return Err(RenderError::Unrenderable {
                name: s.name.to_string(),
                reason: "PostgreSQL parameters take no maps".into(),
            });
        }
    })
}

/// A list as the one comma-separated string PostgreSQL reads.
fn list_text(input: &RenderInput<'_>, s: &Setting<'_>, typed: &Typed) -> String {
    match typed {
        Typed::List(items) => {
            items.iter().map(|item| s.parameter.format_native(input.engine, item)).collect::<Vec<_>>().join(", ")
        }
        other => s.parameter.format_native(input.engine, other),
    }
}

/// A single-quoted postgresql.conf string. The file's lexer reads
/// backslash escapes and `''`, and ends a string at a raw newline.
fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// Comments end at a newline, so an origin must fit on one line.
fn one_line(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}

fn tenants_sql(input: &RenderInput<'_>) -> Result<RenderedFile, RenderError> {
    let [a, b] = common::header_lines(input);
    let mut text = format!(
        "-- {a}\n-- {b}\n--\n-- Settings of the tenant roles on this instance. Each role is reset first, so\n-- that a setting removed from the fleet goes away; the roles must exist.\n\nBEGIN;\n"
    );
    let mut tenants: Vec<_> = input.tenants.iter().collect();
    tenants.sort_by(|x, y| x.tenant.cmp(y.tenant));
    let mut sensitive = false;
    for tenant in tenants {
        check_sections(&tenant.settings)?;
        let role = quote_ident(tenant.tenant);
        let _ = writeln!(text, "ALTER ROLE {role} RESET ALL;");
        for s in common::section(&tenant.settings, "main") {
            if let RenderValue::Typed(Typed::Map(_)) = &s.value {
                return Err(RenderError::Unrenderable {
                    name: s.name.to_string(),
                    reason: "PostgreSQL parameters take no maps".into(),
                });
            }
            let _ = write!(text, "ALTER ROLE {role} SET {} = {};", s.name, sql_value(input, s));
            if let Some(origin) = common::origin(input, s) {
                let _ = write!(text, "  -- {}", one_line(&origin));
            }
            text.push('\n');
        }
        sensitive |= common::any_secret(&tenant.settings);
    }
    text.push_str("COMMIT;\n");
    Ok(RenderedFile { path: TENANTS.into(), contents: text, sensitive })
}

/// The right-hand side of `SET name = ...`: one string literal, or one
/// literal per element for the `GUC_LIST_QUOTE` parameters.
fn sql_value(input: &RenderInput<'_>, s: &Setting<'_>) -> String {
    let text = match &s.value {
        RenderValue::Typed(t @ Typed::List(_)) => list_text(input, s, t),
        _ => common::native(input, s),
    };
    if !LIST_QUOTE.contains(&s.name) {
        return sql_literal(&text);
    }
    let elements = split_identifiers(&text);
    if elements.is_empty() {
        return "''".into();
    }
    elements.iter().map(|e| sql_literal(e)).collect::<Vec<_>>().join(", ")
}

/// Splits a list the way PostgreSQL's `SplitIdentifierString` does: at
/// commas outside double quotes; quoted elements lose their quotes (`""`
/// is a quote), unquoted ones are folded to lower case.
fn split_identifiers(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut element = String::new();
        if chars.next_if_eq(&'"').is_some() {
            while let Some(c) = chars.next() {
                if c == '"' && chars.next_if_eq(&'"').is_none() {
                    break;
                }
                element.push(c);
            }
        } else {
            while let Some(c) = chars.next_if(|c| *c != ',') {
                element.push(c);
            }
            element = element.trim_end().to_lowercase();
        }
        while chars.next_if(|c| *c != ',').is_some() {}
        if !element.is_empty() {
            out.push(element);
        }
        if chars.next().is_none() {
            return out;
        }
    }
}

/// An SQL string literal that reads the same whatever
/// `standard_conforming_strings` says: `E'...'` once a backslash is in it.
fn sql_literal(text: &str) -> String {
    let doubled = text.replace('\'', "''");
    if text.contains('\\') { format!("E'{}'", doubled.replace('\\', "\\\\")) } else { format!("'{doubled}'") }
}

/// A double-quoted SQL identifier, so that any tenant name is taken as is.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

pub(crate) fn parse(file_name: &str, text: &str) -> Result<Parsed, ParseError> {
    let base = file_name.rsplit('/').next().unwrap_or(file_name);
    match base {
        "pg_hba.conf" | "pg_ident.conf" => Ok(unmapped_lines(
            text,
            "client authentication rules are not catalog parameters; dbfleet does not manage them yet",
        )),
        _ if base.ends_with(".conf") => parse_conf(text),
        _ => Err(ParseError {
            line: 0,
            message: format!(
                "`{file_name}` is not a PostgreSQL configuration file (expected postgresql.conf syntax, *.conf)"
            ),
        }),
    }
}

/// Every line that is not blank or a comment, as unmapped.
fn unmapped_lines(text: &str, reason: &str) -> Parsed {
    let unmapped = (1..)
        .zip(text.lines())
        .filter(|(_, line)| !line.trim().is_empty() && !line.trim_start().starts_with('#'))
        .map(|(line, t)| Unmapped { line, text: t.trim().to_string(), reason: reason.to_string() })
        .collect();
    Parsed { settings: Vec::new(), unmapped }
}

/// Reads postgresql.conf syntax: one `name [=] value` per line, `#`
/// comments, values bare or single-quoted with escapes. Names are folded
/// to lower case, as PostgreSQL matches them. A name given twice is listed
/// twice, in file order; the server takes the last.
fn parse_conf(text: &str) -> Result<Parsed, ParseError> {
    let mut parsed = Parsed::default();
    for (line, raw) in (1..).zip(text.lines()) {
        let error = |message: String| ParseError { line, message };
        let mut rest = raw.trim_start();
        if rest.is_empty() || rest.starts_with('#') {
            continue;
        }
        let name_len =
            rest.find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '$' | '.'))).unwrap_or(rest.len());
        let name = &rest[..name_len];
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit() || c == '$' || c == '.') {
            return Err(error(format!("expected a parameter name, found `{}`", rest.trim_end())));
        }
        rest = rest[name_len..].trim_start();
        if let Some(after) = rest.strip_prefix('=') {
            rest = after.trim_start();
        }
        let (value, tail) = read_value(rest).map_err(|m| error(format!("`{name}`: {m}")))?;
        let tail = tail.trim_start();
        if !(tail.is_empty() || tail.starts_with('#')) {
            return Err(error(format!("`{name}`: unexpected `{}` after the value", tail.trim_end())));
        }
        let name = name.to_ascii_lowercase();
        if matches!(name.as_str(), "include" | "include_if_exists" | "include_dir") {
            parsed.unmapped.push(Unmapped {
                line,
                text: raw.trim().to_string(),
                reason: format!("{name} pulls in other files, which are read on their own and not followed here"),
            });
        } else if common::known_parameter(EngineKind::Postgresql, &name).is_none() {
            let reason = if name.contains('.') {
                "an extension's parameter, which the catalog does not describe"
            } else {
                "not a parameter the catalog knows"
            };
            parsed.unmapped.push(Unmapped { line, text: raw.trim().to_string(), reason: reason.into() });
        } else {
            parsed.settings.push(ParsedSetting { name, value: Value::String(value), line });
        }
    }
    Ok(parsed)
}

/// Reads one value from the start of `s` and returns it with what follows.
fn read_value(s: &str) -> Result<(String, &str), String> {
    let Some(quoted) = s.strip_prefix('\'') else {
        let end = s.find(|c: char| c.is_whitespace() || c == '#').unwrap_or(s.len());
        if end == 0 {
            return Err("missing value".into());
        }
        return Ok((s[..end].to_string(), &s[end..]));
    };
    let mut out = String::new();
    let mut chars = quoted.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\'' if chars.next_if(|(_, c)| *c == '\'').is_some() => out.push('\''),
            '\'' => return Ok((out, &quoted[i + 1..])),
            '\\' => match chars.next() {
                Some((_, 'b')) => out.push('\u{8}'),
                Some((_, 'f')) => out.push('\u{c}'),
                Some((_, 'n')) => out.push('\n'),
                Some((_, 'r')) => out.push('\r'),
                Some((_, 't')) => out.push('\t'),
                Some((_, d @ '0'..='7')) => {
                    let mut code = d.to_digit(8).unwrap_or(0);
                    for _ in 0..2 {
                        match chars.next_if(|(_, c)| matches!(c, '0'..='7')) {
                            Some((_, d)) => code = code * 8 + d.to_digit(8).unwrap_or(0),
                            None => break,
                        }
                    }
                    out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                }
                Some((_, other)) => out.push(other),
                None => break,
            },
            c => out.push(c),
        }
    }
    Err("unterminated quoted string".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::testing::{input, tenant};

    fn render_text(annotate: bool) -> Vec<RenderedFile> {
        let mut input = input(
            EngineKind::Postgresql,
            "15",
            &[
                ("shared_buffers", "256MB"),
                ("work_mem", "16MB"),
                ("checkpoint_completion_target", "0.9"),
                ("log_line_prefix", "%m [%p] %q%u@%d "),
                ("password_encryption", "scram-sha-256"),
                ("shared_preload_libraries", "pg_stat_statements,auto_explain"),
                ("log_checkpoints", "on"),
                ("checkpoint_timeout", "15min"),
                ("application_name", "it's a \\ test"),
            ],
        );
        input.annotate = annotate;
        input.tenants = vec![
            tenant(EngineKind::Postgresql, "zeta", &[("statement_timeout", "60s"), ("work_mem", "64MB")]),
            tenant(EngineKind::Postgresql, "acme \"corp\"", &[("search_path", "\"$user\", Acme, public")]),
        ];
        crate::render(&input).unwrap()
    }

    #[test]
    fn renders_conf_and_tenants() {
        let files = render_text(false);
        assert_eq!(files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(), ["postgresql.conf", "tenants.sql"]);
        assert!(files.iter().all(|f| !f.sensitive));
        insta::assert_snapshot!("postgresql_conf", files[0].contents);
        insta::assert_snapshot!("postgresql_tenants_sql", files[1].contents);
    }

    #[test]
    fn annotates_origins() {
        let files = render_text(true);
        insta::assert_snapshot!("postgresql_conf_annotated", files[0].contents);
        insta::assert_snapshot!("postgresql_tenants_sql_annotated", files[1].contents);
    }

    #[test]
    fn no_tenants_no_sql() {
        let files = crate::render(&input(EngineKind::Postgresql, "15", &[("work_mem", "4MB")])).unwrap();
        assert_eq!(files.len(), 1);
    }

    #[test]
    fn quoting_round_trips_through_the_reader() {
        for text in ["plain", "it's", "back\\slash", "two\nlines", "", "'", "tab\there", "#hash"] {
            let line = format!("application_name = {}  # comment", quote(text));
            let parsed = parse("postgresql.conf", &line).unwrap();
            assert_eq!(parsed.settings[0].value, Value::String(text.into()), "{line}");
        }
    }

    /// What the reader makes of one line.
    #[derive(Debug, PartialEq)]
    enum Read {
        Nothing,
        Setting(String, String),
        Unmapped(String),
        Error(String),
    }

    fn read(line: &str) -> Read {
        match parse("postgresql.conf", line) {
            Ok(p) if !p.unmapped.is_empty() => Read::Unmapped(p.unmapped[0].reason.clone()),
            Ok(p) => match p.settings.first() {
                Some(s) => Read::Setting(s.name.clone(), s.value.as_str().unwrap_or_default().to_string()),
                None => Read::Nothing,
            },
            Err(e) => Read::Error(e.to_string()),
        }
    }

    #[test]
    fn reader_cases() {
        let setting = |n: &str, v: &str| Read::Setting(n.into(), v.into());
        for (line, want) in [
            ("work_mem = 4MB", setting("work_mem", "4MB")),
            ("work_mem 4MB", setting("work_mem", "4MB")),
            ("  Work_Mem='4MB' # the sort memory", setting("work_mem", "4MB")),
            ("log_line_prefix = '%m [%p] '", setting("log_line_prefix", "%m [%p] ")),
            ("application_name = 'a\\101b\\tc'", setting("application_name", "aAb\tc")),
            ("# work_mem = 4MB", Read::Nothing),
            ("", Read::Nothing),
        ] {
            assert_eq!(read(line), want, "{line}");
        }
        for (line, reason) in [
            ("include 'other.conf'", "include pulls in"),
            ("include_dir = 'conf.d'", "include_dir pulls in"),
            ("pg_stat_statements.max = 10000", "an extension's"),
            ("no_such_parameter = 1", "not a parameter"),
        ] {
            assert!(matches!(read(line), Read::Unmapped(r) if r.starts_with(reason)), "{line}");
        }
        for (line, error) in [
            ("work_mem = '4MB", "line 1: `work_mem`: unterminated quoted string"),
            ("work_mem =", "line 1: `work_mem`: missing value"),
            ("work_mem = 4 MB", "line 1: `work_mem`: unexpected `MB` after the value"),
            ("= 4MB", "line 1: expected a parameter name, found `= 4MB`"),
        ] {
            assert_eq!(read(line), Read::Error(error.into()), "{line}");
        }
    }

    #[test]
    fn hba_rules_are_listed_as_unmapped() {
        let parsed =
            parse("pg_hba.conf", "# comment\nlocal all all peer\n\nhost all all 127.0.0.1/32 scram-sha-256\n").unwrap();
        assert_eq!(parsed.unmapped.iter().map(|u| u.line).collect::<Vec<_>>(), [2, 4]);
        assert!(parse("tenants.sql", "").is_err());
    }

    #[test]
    fn identifier_lists_split_like_postgresql() {
        assert_eq!(split_identifiers("\"$user\", Public ,\"My\"\"Schema\""), ["$user", "public", "My\"Schema"]);
        assert_eq!(split_identifiers(""), Vec::<String>::new());
    }

    #[test]
    fn maps_are_refused() {
        let mut input = input(EngineKind::Postgresql, "15", &[("work_mem", "4MB")]);
        input.settings[0].value = RenderValue::Typed(Typed::Map(Default::default()));
        assert!(matches!(crate::render(&input), Err(RenderError::Unrenderable { .. })));
    }

    #[test]
    fn a_section_without_a_file_is_refused() {
        let mut input = input(EngineKind::Postgresql, "15", &[("work_mem", "4MB")]);
        let parameter = Box::leak(Box::new(dbfleet_catalog::Parameter {
            section: "hba".into(),
            ..input.settings[0].parameter.clone()
        }));
        input.settings[0].parameter = parameter;
        assert!(matches!(crate::render(&input), Err(RenderError::UnknownSection { .. })));
    }
}
