//! Redis: `redis.conf` for the instance, `users.acl` for its tenants, and a
//! reader for redis.conf syntax.
//!
//! `redis.conf` holds one directive per line, `name arg...`, each argument
//! double-quoted (with Redis's escapes) when it is empty or holds spaces,
//! quotes or control characters. A value is one argument unless the
//! directive takes several: lists such as `bind` are written as words on
//! one line, `save` as one line per `seconds changes` pair (`save ""` when
//! empty), `client-output-buffer-limit` as one line per class,
//! `loadmodule` as one line per module and a map (`rename-command`) as one
//! line per entry. These spellings are read by every supported version
//! (6.2 takes one save pair and one buffer class per line). A `#` after a
//! value would be read as more arguments, so origins go on the line before.
//!
//! `users.acl` is rendered when the instance has tenants or sets `aclfile`
//! (Redis refuses to start when the file named there is missing); point
//! `aclfile` at where it is installed, or Redis never reads it. It has one
//! line per tenant: `user <tenant> on resetchannels ~<tenant>:* &<tenant>:*
//! +@all -@dangerous #<sha256>`. `resetchannels` comes before the channel
//! pattern because 6.2 starts new users with all channels and then refuses
//! to add one. The password is the tenant's `password` setting, written as
//! its SHA-256 (`#<hex>`), because ACL files split on single spaces with no
//! quoting, so `>password` cannot carry every password, and the plaintext
//! then never lands on disk. A tenant without a password is rendered `off`:
//! `nopass` would let anyone in as that tenant. The file also defines the
//! `default` user, because Redis ignores `requirepass` once an ACL file is
//! loaded: `default` gets the `requirepass` password, or `nopass` exactly
//! when the instance has no `requirepass` (what Redis does without the
//! file). ACL files have no comments, so this one has no header.

use std::collections::HashMap;
use std::fmt::Write as _;

use dbfleet_catalog::{ParamType, Typed};
use dbfleet_model::{EngineKind, Value};

use crate::common;
use crate::{
    ParseError, Parsed, ParsedSetting, RenderError, RenderInput, RenderValue, RenderedFile, Setting, Unmapped,
};

const CONF: &str = "redis.conf";
const ACL: &str = "users.acl";

/// How a directive's value is laid out on its lines.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Layout {
    /// One argument, quoted when needed.
    Arg,
    /// Each word an argument, on one line.
    Words,
    /// Words in groups of this size, one line per group.
    Groups(usize),
    /// One line per list item, the item's words as arguments.
    LinePerItem,
}

fn layout(s: &Setting<'_>) -> Layout {
    match s.name {
        "save" => Layout::Groups(2),
        "client-output-buffer-limit" => Layout::Groups(4),
        "loadmodule" => Layout::LinePerItem,
        "replicaof" => Layout::Words,
        // A list in the catalog, but a single string argument to Redis.
        "tls-protocols" => Layout::Arg,
        _ if s.parameter.ty == ParamType::List => Layout::Words,
        _ => Layout::Arg,
    }
}

pub(crate) fn render(input: &RenderInput<'_>) -> Result<Vec<RenderedFile>, RenderError> {
    if let Some(s) = input.settings.iter().find(|s| s.parameter.section != "main") {
        return Err(RenderError::UnknownSection {
            engine: EngineKind::Redis,
            section: s.parameter.section.clone(),
            name: s.name.to_string(),
        });
    }
    let settings = common::section(&input.settings, "main");
    let mut text = common::hash_header(input);
    for s in &settings {
        if let Some(origin) = common::origin(input, s) {
            let _ = writeln!(text, "# {}", origin.replace(['\n', '\r'], " "));
        }
        for line in directive_lines(input, s)? {
            text.push_str(&line);
            text.push('\n');
        }
    }
    let mut files = vec![RenderedFile { path: CONF.into(), contents: text, sensitive: common::any_secret(settings) }];
    let aclfile = input.settings.iter().any(|s| s.name == "aclfile" && !common::native(input, s).is_empty());
    if !input.tenants.is_empty() || aclfile {
        files.push(users_acl(input)?);
    }
    Ok(files)
}

/// The lines of one directive.
fn directive_lines(input: &RenderInput<'_>, s: &Setting<'_>) -> Result<Vec<String>, RenderError> {
    let name = s.name;
    let line = |args: &[String]| {
        if args.is_empty() { format!("{name} \"\"") } else { format!("{name} {}", args.join(" ")) }
    };
    let words = |text: &str| text.split_whitespace().map(quote_arg).collect::<Vec<_>>();
    let typed = match &s.value {
        RenderValue::Typed(t) => t,
        RenderValue::Secret(_) => return Ok(vec![line(&[quote_arg(&common::native(input, s))])]),
    };
    let native = |t: &Typed| s.parameter.format_native(input.engine, t);
    Ok(match (typed, layout(s)) {
        (Typed::Map(entries), _) => {
            entries.iter().map(|(key, value)| line(&[quote_arg(key), quote_arg(&native(value))])).collect()
        }
        (Typed::List(items), Layout::LinePerItem) => items.iter().map(|item| line(&words(&native(item)))).collect(),
        (Typed::List(items), Layout::Words) => {
            vec![line(&items.iter().map(|item| quote_arg(&native(item))).collect::<Vec<_>>())]
        }
        (_, Layout::Groups(size)) => {
            let words = words(&native(typed));
            if words.len() % size != 0 {
                return Err(RenderError::Unrenderable {
                    name: name.to_string(),
                    reason: format!("`{}` is not made of groups of {size} words", native(typed)),
                });
            }
            if words.is_empty() { vec![line(&[])] } else { words.chunks(size).map(line).collect() }
        }
        (_, Layout::Words | Layout::LinePerItem) => vec![line(&words(&native(typed)))],
        (Typed::List(items), Layout::Arg) => {
            vec![line(&[quote_arg(&items.iter().map(native).collect::<Vec<_>>().join(" "))])]
        }
        (_, Layout::Arg) => vec![line(&[quote_arg(&native(typed))])],
    })
}

/// One argument as Redis's `sdssplitargs` reads it back: bare when it is
/// plain, else double-quoted with `\"`, `\\`, `\n`, `\r`, `\t` and `\xHH`.
fn quote_arg(text: &str) -> String {
    let plain = !text.is_empty()
        && text.chars().all(|c| !(c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | '\\')));
    if plain {
        return text.to_string();
    }
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_ascii_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn users_acl(input: &RenderInput<'_>) -> Result<RenderedFile, RenderError> {
    let requirepass = input.settings.iter().find(|s| s.name == "requirepass").map(|s| common::native(input, s));
    let mut sensitive = false;
    let default_auth = match requirepass.filter(|p| !p.is_empty()) {
        Some(password) => {
            sensitive = true;
            format!("#{}", common::sha256_hex(&password))
        }
        None => "nopass".into(),
    };
    let mut text = format!("user default on {default_auth} ~* &* +@all\n");
    let mut tenants: Vec<_> = input.tenants.iter().collect();
    tenants.sort_by(|a, b| a.tenant.cmp(b.tenant));
    for tenant in tenants {
        let name = tenant.tenant;
        let bad = |reason: &str| RenderError::Unrenderable { name: format!("tenant {name}"), reason: reason.into() };
        if name.is_empty()
            || name.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '*' | '?' | '[' | ']' | '\\'))
        {
            return Err(bad(
                "a Redis tenant name becomes an ACL user name and key pattern, so it cannot hold spaces or glob characters (* ? [ ] \\)",
            ));
        }
        if name == "default" {
            return Err(bad("`default` is Redis's own user"));
        }
        if let Some(s) = tenant.settings.iter().find(|s| s.name != common::TENANT_PASSWORD) {
            return Err(RenderError::Unrenderable {
                name: s.name.to_string(),
                reason: format!(
                    "tenant {name}: Redis has no per-user settings; only `{}` is read",
                    common::TENANT_PASSWORD
                ),
            });
        }
        let (state, password) = match common::tenant_password(input, tenant) {
            Some(password) => {
                sensitive = true;
                ("on", format!(" #{}", common::sha256_hex(&password)))
            }
            None => ("off", String::new()),
        };
        let _ = writeln!(text, "user {name} {state} resetchannels ~{name}:* &{name}:* +@all -@dangerous{password}");
    }
    Ok(RenderedFile { path: ACL.into(), contents: text, sensitive })
}

pub(crate) fn parse(file_name: &str, text: &str) -> Result<Parsed, ParseError> {
    let base = file_name.rsplit('/').next().unwrap_or(file_name);
    if base.ends_with(".acl") {
        let unmapped = (1..)
            .zip(text.lines())
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(line, l)| Unmapped {
                line,
                text: l.trim().to_string(),
                reason: "ACL users are rendered from the fleet's tenants, not imported".into(),
            })
            .collect();
        return Ok(Parsed { settings: Vec::new(), unmapped });
    }
    if !base.ends_with(".conf") {
        return Err(ParseError {
            line: 0,
            message: format!(
                "`{file_name}` is not a Redis configuration file (expected redis.conf syntax, *.conf, or an ACL file, *.acl)"
            ),
        });
    }
    parse_conf(text)
}

/// Reads redis.conf syntax. Names are folded to lower case, as Redis
/// matches them. Directives that add up over several lines (`save`,
/// `client-output-buffer-limit`, `loadmodule`) become one setting at their
/// first line; any other name given twice is listed twice, and Redis takes
/// the last.
fn parse_conf(text: &str) -> Result<Parsed, ParseError> {
    let mut parsed = Parsed::default();
    // Where the setting of an adding-up directive is, and for buffer limits
    // which classes it holds, so that a later line for a class replaces it.
    let mut added: HashMap<String, usize> = HashMap::new();
    let mut buffer_classes: Vec<(String, Vec<String>)> = Vec::new();
    for (line, raw) in (1..).zip(text.lines()) {
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let args = split_args(trimmed).map_err(|message| ParseError { line, message })?;
        let name = args[0].to_ascii_lowercase();
        let values = &args[1..];
        let unmapped = |reason: &str| Unmapped { line, text: trimmed.to_string(), reason: reason.to_string() };
        let reason = match name.as_str() {
            "include" => Some("include pulls in another file, which is read on its own and not followed here"),
            "rename-command" => Some(
                "renamed commands are left out of imports: dbfleet applies settings with CONFIG SET and reads them with CONFIG GET, which a renamed or disabled CONFIG would break (use ACLs to fence commands off)",
            ),
            "user" => Some("ACL users are rendered from the fleet's tenants (users.acl), not imported"),
            _ if common::known_parameter(EngineKind::Redis, &name).is_none() => {
                Some("not a parameter the catalog knows")
            }
            _ => None,
        };
        if let Some(reason) = reason {
            parsed.unmapped.push(unmapped(reason));
            continue;
        }
        if values.is_empty() {
            return Err(ParseError { line, message: format!("`{name}` has no value") });
        }
        let index = *added.entry(name.clone()).or_insert_with(|| {
            parsed.settings.push(ParsedSetting { name: name.clone(), value: Value::Null, line });
            parsed.settings.len() - 1
        });
        let setting = &mut parsed.settings[index];
        match name.as_str() {
            "save" => {
                let mut words = match &setting.value {
                    Value::String(s) => s.split_whitespace().map(str::to_string).collect(),
                    _ => Vec::new(),
                };
                // `save ""` clears the points given so far.
                if values.iter().all(String::is_empty) {
                    words.clear();
                } else {
                    words.extend(values.iter().cloned());
                }
                setting.value = Value::String(words.join(" "));
            }
            "client-output-buffer-limit" => {
                let class = |c: &str| match c.to_ascii_lowercase().as_str() {
                    "slave" => "replica".to_string(),
                    other => other.to_string(),
                };
                for group in values.chunks(4) {
                    let key = class(&group[0]);
                    match buffer_classes.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, g)) => *g = group.to_vec(),
                        None => buffer_classes.push((key, group.to_vec())),
                    }
                }
                let words: Vec<String> = buffer_classes.iter().flat_map(|(_, g)| g.iter().cloned()).collect();
                setting.value = Value::String(words.join(" "));
            }
            "loadmodule" => {
                let mut items = match std::mem::replace(&mut setting.value, Value::Null) {
                    Value::List(items) => items,
                    _ => Vec::new(),
                };
                items.push(Value::String(values.join(" ")));
                setting.value = Value::List(items);
            }
            _ => {
                // Not an adding-up directive: every line is its own setting.
                added.remove(&name);
                setting.value = Value::String(values.join(" "));
            }
        }
    }
    Ok(parsed)
}

/// Splits a line into arguments the way Redis's `sdssplitargs` does:
/// double quotes with backslash escapes, single quotes with only `\'`, and
/// a closing quote must end the argument.
fn split_args(line: &str) -> Result<Vec<String>, String> {
    let mut args = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let Some(&first) = chars.peek() else { return Ok(args) };
        let mut arg = String::new();
        match first {
            '"' | '\'' => {
                chars.next();
                loop {
                    match chars.next() {
                        None => return Err("unbalanced quotes".into()),
                        Some(c) if c == first => break,
                        Some('\\') if first == '"' => match chars.next() {
                            Some('n') => arg.push('\n'),
                            Some('r') => arg.push('\r'),
                            Some('t') => arg.push('\t'),
                            Some('b') => arg.push('\u{8}'),
                            Some('a') => arg.push('\u{7}'),
                            Some('x') => {
                                let hex: String = chars.clone().take(2).collect();
                                match u8::from_str_radix(&hex, 16) {
                                    Ok(byte) if hex.len() == 2 && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
                                        arg.push(char::from(byte));
                                        chars.nth(1);
                                    }
                                    _ => arg.push('x'),
                                }
                            }
                            Some(c) => arg.push(c),
                            None => return Err("unbalanced quotes".into()),
                        },
                        Some('\\') if chars.next_if_eq(&'\'').is_some() => arg.push('\''),
                        Some(c) => arg.push(c),
                    }
                }
                if chars.peek().is_some_and(|c| !c.is_whitespace()) {
                    return Err("a closing quote must be followed by a space".into());
                }
            }
            _ => {
                while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                    arg.push(c);
                }
            }
        }
        args.push(arg);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::testing::{input, secret_setting, tenant};

    fn sample(annotate: bool) -> RenderInput<'static> {
        let mut input = input(
            EngineKind::Redis,
            "7.0",
            &[
                ("maxmemory", "1gb"),
                ("maxmemory-policy", "allkeys-lru"),
                ("appendonly", "yes"),
                ("save", "3600 1 300 100 60 10000"),
                ("bind", "127.0.0.1 -::1"),
                ("client-output-buffer-limit", "normal 0 0 0 replica 256mb 64mb 60 pubsub 32mb 8mb 60"),
                ("notify-keyspace-events", ""),
                ("proc-title-template", "{title} {listen-addr}"),
                ("tls-protocols", "TLSv1.2 TLSv1.3"),
                ("timeout", "300"),
                ("replicaof", "10.0.0.1 6379"),
                ("aclfile", "/etc/redis/users.acl"),
            ],
        );
        input.annotate = annotate;
        input.settings.push(secret_setting(EngineKind::Redis, "requirepass", "s3cret \"quoted\""));
        input.tenants = vec![
            tenant(EngineKind::Redis, "globex", &[]),
            crate::TenantInput {
                tenant: "acme",
                settings: vec![secret_setting(EngineKind::Redis, common::TENANT_PASSWORD, "pass word")],
            },
        ];
        input
    }

    #[test]
    fn renders_conf_and_acl() {
        let files = crate::render(&sample(false)).unwrap();
        assert_eq!(
            files.iter().map(|f| (f.path.as_str(), f.sensitive)).collect::<Vec<_>>(),
            [("redis.conf", true), ("users.acl", true)]
        );
        insta::assert_snapshot!("redis_conf", files[0].contents);
        insta::assert_snapshot!("redis_users_acl", files[1].contents);
    }

    #[test]
    fn annotates_on_the_line_before() {
        let files = crate::render(&sample(true)).unwrap();
        insta::assert_snapshot!("redis_conf_annotated", files[0].contents);
    }

    #[test]
    fn no_tenants_no_aclfile_no_acl() {
        let files = crate::render(&input(EngineKind::Redis, "7.0", &[("save", "")])).unwrap();
        assert_eq!(files.len(), 1);
        assert!(!files[0].sensitive);
        assert!(files[0].contents.ends_with("\nsave \"\"\n"), "{}", files[0].contents);
    }

    #[test]
    fn acl_without_requirepass_mirrors_redis_and_locks_passwordless_tenants() {
        let mut input = input(EngineKind::Redis, "7.0", &[]);
        input.tenants = vec![tenant(EngineKind::Redis, "t1", &[])];
        let files = crate::render(&input).unwrap();
        assert_eq!(
            files[1].contents,
            "user default on nopass ~* &* +@all\nuser t1 off resetchannels ~t1:* &t1:* +@all -@dangerous\n"
        );
        assert!(!files[1].sensitive);
    }

    #[test]
    fn bad_tenants_are_refused() {
        for name in ["default", "a b", "a*", ""] {
            let mut input = input(EngineKind::Redis, "7.0", &[]);
            input.tenants = vec![crate::TenantInput { tenant: name, settings: Vec::new() }];
            assert!(matches!(crate::render(&input), Err(RenderError::Unrenderable { .. })), "{name:?}");
        }
        let mut input = input(EngineKind::Redis, "7.0", &[]);
        input.tenants = vec![tenant(EngineKind::Redis, "t", &[("maxmemory", "1mb")])];
        assert!(matches!(crate::render(&input), Err(RenderError::Unrenderable { .. })));
    }

    #[test]
    fn odd_save_is_refused() {
        let input = input(EngineKind::Redis, "7.0", &[("save", "3600 1 300")]);
        assert!(matches!(crate::render(&input), Err(RenderError::Unrenderable { .. })));
    }

    #[test]
    fn arguments_round_trip_through_the_splitter() {
        for text in
            ["plain", "", "two words", "quote\"d", "it's", "back\\slash", "tab\tnew\nline", "bell\u{7}", "héllo"]
        {
            let line = format!("x {} y", quote_arg(text));
            assert_eq!(split_args(&line).unwrap(), ["x", text, "y"], "{line}");
        }
    }

    #[test]
    fn splitter_cases() {
        assert_eq!(split_args("save ''").unwrap(), ["save", ""]);
        // `\x4` is not a full escape: Redis keeps the `x` and what follows.
        assert_eq!(split_args(r#"a 'it\'s' "\x41\x4""#).unwrap(), ["a", "it's", "Ax4"]);
        assert_eq!(split_args("a \"b").unwrap_err(), "unbalanced quotes");
        assert_eq!(split_args("a \"b\"c").unwrap_err(), "a closing quote must be followed by a space");
    }

    #[test]
    fn reader_adds_up_repeated_directives() {
        let text = "save 900 1\nsave 300 10\nSAVE \"\"\nsave 60 10000\n\
                    client-output-buffer-limit normal 0 0 0\nclient-output-buffer-limit slave 1mb 1mb 60\n\
                    client-output-buffer-limit replica 256mb 64mb 60\n\
                    loadmodule /m/a.so x y\nloadmodule /m/b.so\nmaxmemory 1gb\nmaxmemory 2gb\n";
        let parsed = parse("redis.conf", text).unwrap();
        let got: Vec<(&str, &Value, u32)> =
            parsed.settings.iter().map(|s| (s.name.as_str(), &s.value, s.line)).collect();
        let s = |v: &str| Value::String(v.into());
        assert_eq!(
            got,
            [
                ("save", &s("60 10000"), 1),
                ("client-output-buffer-limit", &s("normal 0 0 0 replica 256mb 64mb 60"), 5),
                ("loadmodule", &Value::List(vec![s("/m/a.so x y"), s("/m/b.so")]), 8),
                ("maxmemory", &s("1gb"), 10),
                ("maxmemory", &s("2gb"), 11),
            ]
        );
    }

    #[test]
    fn reader_lists_what_it_does_not_import() {
        let text = "include /etc/redis/common.conf\nrename-command CONFIG \"\"\nuser bob on nopass\nno-such-thing 1\n# comment\n";
        let parsed = parse("redis.conf", text).unwrap();
        assert!(parsed.settings.is_empty());
        let reasons: Vec<(u32, &str)> = parsed.unmapped.iter().map(|u| (u.line, &u.reason[..12])).collect();
        assert_eq!(reasons, [(1, "include pull"), (2, "renamed comm"), (3, "ACL users ar"), (4, "not a parame")]);
        assert_eq!(parse("redis.conf", "maxmemory\n").unwrap_err().to_string(), "line 1: `maxmemory` has no value");
        assert!(parse("redis.json", "").is_err());
        assert_eq!(parse("users.acl", "user default on nopass\n").unwrap().unmapped.len(), 1);
    }

    #[test]
    fn rendered_conf_reads_back() {
        let input = sample(false);
        let files = crate::render(&input).unwrap();
        let parsed = parse("redis.conf", &files[0].contents).unwrap();
        assert!(parsed.unmapped.is_empty(), "{:?}", parsed.unmapped);
        for s in &input.settings {
            let p = parsed.settings.iter().rev().find(|p| p.name == s.name).unwrap_or_else(|| panic!("{}", s.name));
            let back = s.parameter.normalize(EngineKind::Redis, &p.value).unwrap();
            match &s.value {
                RenderValue::Typed(t) => assert_eq!(&back, t, "{}", s.name),
                RenderValue::Secret(_) => assert_eq!(back, Typed::Str("s3cret \"quoted\"".into())),
            }
        }
    }
}
