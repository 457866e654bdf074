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
//! `pg_hba.conf` is rendered when the instance sets dbfleet's own `hba`
//! parameter (a list of rules in pg_hba.conf syntax, section `hba` of the
//! catalog). Each tenant on the instance comes first, with three rules that
//! confine its role to the database of the same name: `hostssl` (`host`
//! when the instance does not turn `ssl` on) with `scram-sha-256` to its
//! own database, then `reject` for every other database over TCP and the
//! local socket. The fleet's rules follow in their order, since the server
//! takes the first rule that matches. Each rule is checked for a connection
//! type, enough fields and a known method. Tenant rules carry a
//! `# tenant <name>` comment, by which the reader leaves them out of the
//! `hba` list it reads back (they come from the fleet's tenants).

use std::fmt::Write as _;

use dbfleet_catalog::Typed;
use dbfleet_catalog::pg_hba::{TENANT_MARK, rule_fields};
use dbfleet_model::{EngineKind, Value};

use crate::common;
use crate::pg_sql::{self, quote_ident};
use crate::{
    ParseError, Parsed, ParsedSetting, RenderError, RenderInput, RenderValue, RenderedFile, Setting, Unmapped,
};

const CONF: &str = "postgresql.conf";
const TENANTS: &str = "tenants.sql";
const HBA: &str = "pg_hba.conf";
/// The section of the catalog's `hba` parameter.
const HBA_SECTION: &str = "hba";

pub(crate) fn render(input: &RenderInput<'_>) -> Result<Vec<RenderedFile>, RenderError> {
    check_sections(&input.settings)?;
    let mut files = vec![conf(input)?];
    if let Some(hba) = input.settings.iter().find(|s| s.parameter.section == HBA_SECTION) {
        files.push(pg_hba(input, hba)?);
    }
    if !input.tenants.is_empty() {
        files.push(tenants_sql(input)?);
    }
    Ok(files)
}

fn conf(input: &RenderInput<'_>) -> Result<RenderedFile, RenderError> {
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

/// Every PostgreSQL parameter lives in `main`, but for dbfleet's `hba`;
/// anything else is a catalog entry this renderer has no file for.
fn check_sections(settings: &[Setting<'_>]) -> Result<(), RenderError> {
    match settings.iter().find(|s| !matches!(s.parameter.section.as_str(), "main" | HBA_SECTION)) {
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
        if let Some(s) = tenant.settings.iter().find(|s| s.parameter.section != "main") {
            return Err(RenderError::UnknownSection {
                engine: EngineKind::Postgresql,
                section: s.parameter.section.clone(),
                name: s.name.to_string(),
            });
        }
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
    pg_sql::set_value(s.name, &text)
}

/// `pg_hba.conf`: the tenants' rules, then the fleet's `hba` rules.
fn pg_hba(input: &RenderInput<'_>, hba: &Setting<'_>) -> Result<RenderedFile, RenderError> {
    let unrenderable = |reason: String| RenderError::Unrenderable { name: hba.name.to_string(), reason };
    let rules: Vec<String> = match &hba.value {
        RenderValue::Typed(Typed::List(items)) => {
            items.iter().map(|item| hba.parameter.format_native(input.engine, item)).collect()
        }
        _ => return Err(unrenderable("`hba` is a list of pg_hba.conf rules".into())),
    };
    for rule in &rules {
        rule_fields(rule).map_err(|reason| unrenderable(format!("rule `{rule}`: {reason}")))?;
    }
    let ssl =
        input.settings.iter().any(|s| s.name == "ssl" && matches!(s.value, RenderValue::Typed(Typed::Bool(true))));
    let mut text = common::hash_header(input);
    let mut tenants: Vec<&str> = input.tenants.iter().map(|t| t.tenant).collect();
    tenants.sort_unstable();
    if !tenants.is_empty() {
        text.push_str("# Each tenant's role reaches only the database of the same name.\n");
    }
    for tenant in tenants {
        if tenant.contains(['"', '\n', '\r', '#']) {
            return Err(RenderError::Unrenderable {
                name: format!("tenant {tenant}"),
                reason: "pg_hba.conf cannot name a role or database holding `\"`, `#` or a line break".into(),
            });
        }
        let t = format!("\"{tenant}\"");
        let host = if ssl { "hostssl" } else { "host" };
        let _ = writeln!(text, "{host:<8} {t} {t} all scram-sha-256 {TENANT_MARK}{tenant}");
        let _ = writeln!(text, "{:<8} all {t} all reject {TENANT_MARK}{tenant}", "host");
        let _ = writeln!(text, "{:<8} all {t} reject {TENANT_MARK}{tenant}", "local");
    }
    if !input.tenants.is_empty() {
        text.push('\n');
    }
    if let Some(origin) = common::origin(input, hba) {
        let _ = writeln!(text, "# {}", one_line(&origin));
    }
    for rule in &rules {
        text.push_str(rule.trim());
        text.push('\n');
    }
    Ok(RenderedFile { path: HBA.into(), contents: text, sensitive: false })
}

pub(crate) fn parse(file_name: &str, text: &str) -> Result<Parsed, ParseError> {
    let base = file_name.rsplit('/').next().unwrap_or(file_name);
    match base {
        "pg_hba.conf" => Ok(parse_hba(text)),
        "pg_ident.conf" => {
            Ok(unmapped_lines(text, "user name maps are not catalog parameters; dbfleet does not manage them"))
        }
        _ if base.ends_with(".conf") => parse_conf(text),
        _ => Err(ParseError {
            line: 0,
            message: format!(
                "`{file_name}` is not a PostgreSQL configuration file (expected postgresql.conf syntax, *.conf)"
            ),
        }),
    }
}

/// Reads pg_hba.conf into one `hba` setting, each rule with its fields
/// separated by single spaces, at the line of the first rule. Rules
/// rendered for tenants and include directives are listed as unmapped.
fn parse_hba(text: &str) -> Parsed {
    let mut parsed = Parsed::default();
    let mut rules = Vec::new();
    let mut first = 0;
    for (line, raw) in (1..).zip(text.lines()) {
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let unmapped = |reason: &str| Unmapped { line, text: trimmed.to_string(), reason: reason.into() };
        let (rule, comment) = match trimmed.find(TENANT_MARK.trim_end()) {
            Some(at) => (trimmed[..at].trim_end(), Some(&trimmed[at..])),
            None => (trimmed, None),
        };
        if comment.is_some_and(|c| c.starts_with(TENANT_MARK)) {
            parsed.unmapped.push(unmapped("a tenant's rule, rendered from the fleet's tenants"));
            continue;
        }
        // A comment that is not a tenant mark ends the rule too.
        let rule = rule.split('#').next().unwrap_or_default().trim_end();
        if rule.starts_with("include") {
            parsed.unmapped.push(unmapped("include directives pull in files dbfleet does not manage"));
            continue;
        }
        let fields = rule_fields(rule).unwrap_or_else(|_| rule.split_whitespace().collect());
        if rules.is_empty() {
            first = line;
        }
        rules.push(Value::String(fields.join(" ")));
    }
    if !rules.is_empty() {
        parsed.settings.push(ParsedSetting { name: "hba".into(), value: Value::List(rules), line: first });
    }
    parsed
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

    const HBA_RULES: &str = "[local all postgres peer, hostssl all dbfleet 0.0.0.0/0 scram-sha-256, \
                             host replication replicator 10.0.0.0 255.0.0.0 scram-sha-256]";

    #[test]
    fn renders_pg_hba_with_tenant_rules_first() {
        let mut input = input(EngineKind::Postgresql, "15", &[("ssl", "on"), ("hba", HBA_RULES)]);
        input.tenants = vec![tenant(EngineKind::Postgresql, "zeta", &[]), tenant(EngineKind::Postgresql, "acme", &[])];
        let files = crate::render(&input).unwrap();
        let paths: Vec<_> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["pg_hba.conf", "postgresql.conf", "tenants.sql"]);
        assert!(!files[1].contents.contains("hba"), "hba is not a server parameter");
        insta::assert_snapshot!("postgresql_pg_hba_conf", files[0].contents);

        // Reading the file back gives the fleet's rules, not the tenants'.
        let parsed = parse("pg_hba.conf", &files[0].contents).unwrap();
        let rules = [
            "local all postgres peer",
            "hostssl all dbfleet 0.0.0.0/0 scram-sha-256",
            "host replication replicator 10.0.0.0 255.0.0.0 scram-sha-256",
        ];
        assert_eq!(parsed.settings.len(), 1);
        assert_eq!(parsed.settings[0].value, Value::List(rules.iter().map(|r| Value::String(r.to_string())).collect()));
        assert_eq!(parsed.unmapped.len(), 6);
        assert!(parsed.unmapped.iter().all(|u| u.reason.starts_with("a tenant's rule")));

        // Without ssl, tenants connect over plain TCP.
        input.settings.retain(|s| s.name != "ssl");
        let files = crate::render(&input).unwrap();
        assert!(files[0].contents.contains("host     \"acme\" \"acme\" all scram-sha-256 # tenant acme\n"));
    }

    #[test]
    fn hba_rules_and_names_pg_hba_cannot_hold_are_refused() {
        let input = input(EngineKind::Postgresql, "15", &[("hba", "[host all all 0.0.0.0/0 scram]")]);
        let err = crate::render(&input).unwrap_err().to_string();
        assert!(err.contains("unknown authentication method `scram`"), "{err}");
        let mut input = input_with_hba();
        input.tenants = vec![tenant(EngineKind::Postgresql, "we\"ird", &[])];
        let err = crate::render(&input).unwrap_err().to_string();
        assert!(err.contains("cannot name a role"), "{err}");
    }

    fn input_with_hba() -> RenderInput<'static> {
        input(EngineKind::Postgresql, "15", &[("hba", HBA_RULES)])
    }

    #[test]
    fn hba_includes_are_unmapped_and_ident_maps_listed() {
        let parsed = parse(
            "pg_hba.conf",
            "# comment\nlocal all all peer\n\nhost   all  all 127.0.0.1/32 scram-sha-256  # loopback\ninclude_dir conf.d\n",
        )
        .unwrap();
        assert_eq!(parsed.settings.len(), 1);
        assert_eq!(parsed.settings[0].line, 2);
        assert_eq!(
            parsed.settings[0].value,
            Value::List(vec![
                Value::String("local all all peer".into()),
                Value::String("host all all 127.0.0.1/32 scram-sha-256".into())
            ])
        );
        assert_eq!(parsed.unmapped.iter().map(|u| u.line).collect::<Vec<_>>(), [5]);
        assert_eq!(parse("pg_ident.conf", "map sys db\n").unwrap().unmapped.len(), 1);
        assert!(parse("tenants.sql", "").is_err());
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
            section: "other".into(),
            ..input.settings[0].parameter.clone()
        }));
        input.settings[0].parameter = parameter;
        assert!(matches!(crate::render(&input), Err(RenderError::UnknownSection { .. })));
    }
}
