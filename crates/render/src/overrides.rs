//! The nested override style many teams keep: an engine key at the root,
//! group maps beneath it (`connection`, `performance`, `security`, or any
//! other name) and native parameter names at the leaves, with `${VAR}`
//! placeholders for secrets.
//!
//! ```yaml
//! postgresql:
//!   connection: {max_connections: 200, listen_addresses: "*"}
//!   security: {ssl: on, password: ${PG_PASSWORD}}
//! mongodb:
//!   storage: {wiredTiger: {engineConfig: {cacheSizeGB: 8}}}
//!   performance: {setParameter.cursorTimeoutMillis: 300000}
//! ```
//!
//! [`parse_override_yaml`] returns the settings of each engine under their
//! native names, with group names dropped by this rule:
//!
//! - For PostgreSQL, Redis and ClickHouse, whose names have no dots for a
//!   group to be confused with, a map directly under the engine key is a
//!   group and is dropped; the names beneath it are taken as written, and a
//!   scalar or list directly under the engine key is a setting of its own.
//!   The catalog is not consulted; validation checks the names later.
//! - For MongoDB, Elasticsearch, Neo4j and Cassandra, whose native names
//!   are dotted, keys are read down the tree, joining them with dots, until
//!   the path names a parameter of the engine's catalog (a canonical name or
//!   an alias). The path is first tried as it stands, so `security:
//!   {authorization: enabled}` is `security.authorization`; only when that
//!   is no parameter is the first key below the engine taken for a group and
//!   dropped, so `performance: {storage: {syncPeriodSecs: 60}}` is
//!   `storage.syncPeriodSecs`. Only that first level can be a group. A path
//!   that reaches a scalar without naming a parameter either way is
//!   unmapped, with a close name if there is one.
//!
//! A value that is exactly `${NAME}` becomes a reference to the environment
//! variable `NAME` ([`SecretRef::Env`]), quoted or not, also inside lists
//! and maps. A `${...}` inside other text is unmapped: a secret reference
//! stands for a whole value. Unquoted placeholders are quoted before the YAML
//! is read, because inside `{...}` or `[...]` YAML does not allow braces in
//! a plain scalar; the rare `${NAME}` standing alone inside a block scalar
//! is quoted too.

use dbfleet_catalog::ParamType;
use dbfleet_model::yaml::Node;
use dbfleet_model::{EngineKind, SecretRef, Value};

use crate::common::known_parameter;
use crate::{ParseError, Parsed, ParsedSetting, Unmapped};

/// What an override file holds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Overrides {
    /// The settings of each engine, in file order.
    pub engines: Vec<EngineOverrides>,
    /// Root keys that are not engines, or whose value is not a map.
    pub unmapped: Vec<Unmapped>,
}

/// The settings of one engine in an override file.
#[derive(Clone, Debug, PartialEq)]
pub struct EngineOverrides {
    pub engine: EngineKind,
    /// Settings under native names, and what could not be mapped.
    pub parsed: Parsed,
}

/// Reads an override file; see the module documentation for the rules.
pub fn parse_override_yaml(text: &str) -> Result<Overrides, ParseError> {
    let root = dbfleet_model::yaml::parse("overrides", &quote_placeholders(text)).map_err(|errors| {
        match errors.into_iter().next() {
            Some(e) => ParseError { line: e.location.line, message: e.message },
            None => ParseError { line: 1, message: "invalid YAML".into() },
        }
    })?;
    let mut overrides = Overrides::default();
    if root.is_null() {
        return Ok(overrides);
    }
    let Some(entries) = root.as_map() else {
        let message = format!("an override file is a map with engines as keys, found a {}", root.describe());
        return Err(ParseError { line: root.location.line, message });
    };
    for (key, value) in entries {
        let name = key.as_str().unwrap_or_default();
        let line = key.location.line;
        let unmapped = |reason: String| Unmapped { line, text: format!("{name}: {}", value.to_value()), reason };
        let engine: EngineKind = match name.parse() {
            Ok(engine) => engine,
            Err(e) => {
                overrides.unmapped.push(unmapped(e.to_string()));
                continue;
            }
        };
        let Some(children) = value.as_map() else {
            overrides
                .unmapped
                .push(unmapped(format!("the settings under `{name}` must be a map, found a {}", value.describe())));
            continue;
        };
        let mut parsed = Parsed::default();
        for (key, value) in children {
            let key_name = key.as_str().unwrap_or_default().to_string();
            if dotted(engine) {
                walk(engine, &mut vec![key_name], key.location.line, value, &mut parsed);
            } else {
                match value.as_map() {
                    Some(group) => {
                        for (leaf, value) in group {
                            let leaf_name = leaf.as_str().unwrap_or_default().to_string();
                            add(leaf_name, leaf.location.line, value, &mut parsed);
                        }
                    }
                    None => add(key_name, key.location.line, value, &mut parsed),
                }
            }
        }
        overrides.engines.push(EngineOverrides { engine, parsed });
    }
    Ok(overrides)
}

/// Whether the engine's native names are dotted paths.
fn dotted(engine: EngineKind) -> bool {
    matches!(engine, EngineKind::Mongodb | EngineKind::Elasticsearch | EngineKind::Neo4j | EngineKind::Cassandra)
}

/// Follows `node`, reached through `path`, down to the parameter it sets.
fn walk(engine: EngineKind, path: &mut Vec<String>, line: u32, node: &Node, parsed: &mut Parsed) {
    // A map under the name of a parameter that takes no map is the nested
    // spelling of longer names (`cluster.max_shards_per_node.frozen`).
    let sets =
        |name: &str| known_parameter(engine, name).is_some_and(|p| p.ty == ParamType::Map || node.as_map().is_none());
    let whole = path.join(".");
    if sets(&whole) {
        return add(whole, line, node, parsed);
    }
    let without_group = path.get(1..).map(|rest| rest.join(".")).filter(|rest| !rest.is_empty());
    if let Some(name) = without_group.as_ref().filter(|name| sets(name)) {
        return add(name.clone(), line, node, parsed);
    }
    match node.as_map() {
        Some(children) if !children.is_empty() => {
            for (key, value) in children {
                path.push(key.as_str().unwrap_or_default().to_string());
                walk(engine, path, key.location.line, value, parsed);
                path.pop();
            }
        }
        _ => {
            let mut reason = crate::common::unknown_reason(engine, &whole);
            if let Some(name) = without_group {
                reason.push_str(&format!(", and neither is `{name}` (with `{}` taken for a group)", path[0]));
            }
            parsed.unmapped.push(Unmapped { line, text: format!("{whole}: {}", node.to_value()), reason });
        }
    }
}

/// Adds the setting `name`, or lists it as unmapped when it has no value or
/// a placeholder inside other text.
fn add(name: String, line: u32, node: &Node, parsed: &mut Parsed) {
    let value = node.to_value();
    let unmapped = |reason: String| Unmapped { line, text: format!("{name}: {value}"), reason };
    if node.is_null() {
        let reason = format!("`{name}` has no value");
        return parsed.unmapped.push(unmapped(reason));
    }
    match secrets(&value) {
        Ok(value) => parsed.settings.push(ParsedSetting { name, value, line }),
        Err(text) => {
            let reason = format!(
                "`{text}` holds a `${{...}}` placeholder inside other text; only a whole value can name a secret"
            );
            parsed.unmapped.push(unmapped(reason));
        }
    }
}

/// `value` with each `${NAME}` string turned into an environment secret
/// reference; the offending text when a placeholder sits inside other text.
fn secrets(value: &Value) -> Result<Value, String> {
    Ok(match value {
        Value::String(s) => match placeholder(s) {
            Some(var) => Value::Secret(SecretRef::Env { var: var.to_string() }),
            None if s.contains("${") => return Err(s.clone()),
            None => value.clone(),
        },
        Value::List(items) => Value::List(items.iter().map(secrets).collect::<Result<_, _>>()?),
        Value::Map(map) => {
            Value::Map(map.iter().map(|(k, v)| Ok((k.clone(), secrets(v)?))).collect::<Result<_, String>>()?)
        }
        other => other.clone(),
    })
}

/// The variable of a string that is exactly `${NAME}`, NAME being a shell
/// variable name.
fn placeholder(s: &str) -> Option<&str> {
    let name = s.strip_prefix("${")?.strip_suffix('}')?;
    let mut chars = name.chars();
    let first = chars.next()?;
    ((first.is_ascii_alphabetic() || first == '_') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then_some(name)
}

/// `text` with double quotes around each unquoted `${NAME}` that stands as
/// a whole scalar: after the start of a line, `: `, `- `, `[`, `{` or `,`,
/// and before the end of the line, a comment, `,`, `]` or `}`. Lines keep
/// their numbers, so errors and settings still point at the right line.
fn quote_placeholders(text: &str) -> String {
    text.split_inclusive('\n').map(quote_line).collect()
}

fn quote_line(line: &str) -> String {
    let bytes = line.as_bytes();
    let mut out = String::with_capacity(line.len() + 4);
    // The last character outside quotes that is not a space.
    let mut before: Option<u8> = None;
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if let Some(q) = quote {
            let escaped = q == b'"' && c == b'\\' && i + 1 < bytes.len();
            let end = if escaped { i + 2 } else { i + 1 };
            out.push_str(&line[i..end]);
            if c == q && !escaped {
                quote = None;
                before = Some(c);
            }
            i = end;
            continue;
        }
        let starts_scalar = matches!(before, None | Some(b':' | b'-' | b'[' | b'{' | b',' | b'?'))
            && (i == 0 || matches!(bytes[i - 1], b' ' | b'\t' | b'[' | b'{' | b','));
        if c == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()) {
            out.push_str(&line[i..]);
            break;
        }
        if starts_scalar && (c == b'"' || c == b'\'') {
            quote = Some(c);
        } else if starts_scalar && c == b'$' {
            let token_len = line[i..].find('}').map_or(0, |end| end + 1);
            let token = &line[i..i + token_len];
            let rest = line[i + token_len..].trim_start_matches([' ', '\t']);
            let ends_scalar = rest.is_empty() || rest.starts_with(['\n', '\r', '#', ',', ']', '}']);
            if token_len > 0 && placeholder(token).is_some() && ends_scalar {
                out.push('"');
                out.push_str(token);
                out.push('"');
                before = Some(b'"');
                i += token_len;
                continue;
            }
        }
        let width = line[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&line[i..i + width]);
        if !c.is_ascii_whitespace() {
            before = Some(c);
        }
        i += width;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(overrides: &Overrides, engine: EngineKind) -> Vec<(String, Value)> {
        let parsed = &overrides.engines.iter().find(|e| e.engine == engine).expect("engine present").parsed;
        parsed.settings.iter().map(|s| (s.name.clone(), s.value.clone())).collect()
    }

    fn env(var: &str) -> Value {
        Value::Secret(SecretRef::Env { var: var.into() })
    }

    #[test]
    fn the_documented_example_reads() {
        let text = "postgresql:\n  connection: {max_connections: 200, listen_addresses: \"*\"}\n  performance: {shared_buffers: 4GB, work_mem: 64MB}\n  security: {ssl: on, password: ${PG_PASSWORD}}\n";
        let overrides = parse_override_yaml(text).unwrap();
        assert_eq!(
            settings(&overrides, EngineKind::Postgresql),
            [
                ("max_connections".to_string(), Value::Int(200)),
                ("listen_addresses".to_string(), Value::String("*".into())),
                ("shared_buffers".to_string(), Value::String("4GB".into())),
                ("work_mem".to_string(), Value::String("64MB".into())),
                ("ssl".to_string(), Value::String("on".into())),
                ("password".to_string(), env("PG_PASSWORD")),
            ]
        );
        let lines: Vec<u32> = overrides.engines[0].parsed.settings.iter().map(|s| s.line).collect();
        assert_eq!(lines, [2, 2, 3, 3, 4, 4]);
    }

    /// (YAML under `mongodb:`, the names it sets, the unmapped names).
    #[test]
    fn groups_of_dotted_engines_are_dropped_only_when_the_catalog_says_so() {
        let cases: &[(&str, &[&str], &[&str])] = &[
            ("security: {authorization: enabled}", &["security.authorization"], &[]),
            ("performance: {setParameter.cursorTimeoutMillis: 1000}", &["setParameter.cursorTimeoutMillis"], &[]),
            (
                "storage: {wiredTiger: {engineConfig: {cacheSizeGB: 8}}}",
                &["storage.wiredTiger.engineConfig.cacheSizeGB"],
                &[],
            ),
            ("tuning: {storage: {syncPeriodSecs: 60}}", &["storage.syncPeriodSecs"], &[]),
            ("net.port: 27017", &["net.port"], &[]),
            ("setParameter: {mirrorReads: {samplingRate: 0.1}}", &["setParameter.mirrorReads"], &[]),
            ("tuning: {cacheSizeGB: 8}", &[], &["tuning.cacheSizeGB"]),
            ("a: {b: {net: {port: 1}}}", &[], &["a.b.net.port"]),
            ("net: {port: {x: 1}}", &[], &["net.port.x"]),
        ];
        for (yaml, names, unmapped) in cases {
            let text = format!("mongodb:\n  {yaml}\n");
            let parsed = &parse_override_yaml(&text).unwrap().engines[0].parsed;
            let got: Vec<&str> = parsed.settings.iter().map(|s| s.name.as_str()).collect();
            let got_unmapped: Vec<&str> = parsed.unmapped.iter().map(|u| u.text.split(':').next().unwrap()).collect();
            assert_eq!((&got[..], &got_unmapped[..]), (*names, *unmapped), "{yaml}");
        }
    }

    #[test]
    fn a_map_under_a_parameter_that_takes_none_spells_longer_names() {
        let text = "elasticsearch:\n  limits:\n    cluster: {max_shards_per_node: {frozen: 4000}}\n";
        let parsed = &parse_override_yaml(text).unwrap().engines[0].parsed;
        assert_eq!(parsed.settings[0].name, "cluster.max_shards_per_node.frozen");
    }

    #[test]
    fn unmapped_reasons_name_both_readings() {
        let parsed =
            &parse_override_yaml("cassandra:\n  tuning:\n    concurent_reads: 32\n").unwrap().engines[0].parsed;
        assert_eq!(parsed.unmapped[0].line, 3);
        assert_eq!(
            parsed.unmapped[0].reason,
            "`tuning.concurent_reads` is not a cassandra parameter in the catalog, and neither is `concurent_reads` (with `tuning` taken for a group)"
        );
    }

    #[test]
    fn placeholders_become_environment_secrets_anywhere_a_whole_value_stands() {
        let text = "neo4j:\n  security:\n    dbms.ssl.policy.bolt.private_key_password: ${BOLT_KEY}\n  extra: {server.jvm.additional: [\"-Dx=1\", ${JVM_FLAG}]}\n  bad: {dbms.security.ldap.host: \"ldap-${ENV}.internal\"}\n";
        let overrides = parse_override_yaml(text).unwrap();
        assert_eq!(
            settings(&overrides, EngineKind::Neo4j),
            [
                ("dbms.ssl.policy.bolt.private_key_password".to_string(), env("BOLT_KEY")),
                (
                    "server.jvm.additional".to_string(),
                    Value::List(vec![Value::String("-Dx=1".into()), env("JVM_FLAG")])
                ),
            ]
        );
        let unmapped = &overrides.engines[0].parsed.unmapped;
        assert_eq!(unmapped[0].line, 5);
        assert!(
            unmapped[0].reason.starts_with("`ldap-${ENV}.internal` holds a `${...}` placeholder inside other text")
        );
    }

    #[test]
    fn quoting_leaves_everything_but_bare_placeholders_alone() {
        for (input, want) in [
            ("a: ${X}\n", "a: \"${X}\"\n"),
            ("a: {b: ${X}, c: ${Y_2}}\n", "a: {b: \"${X}\", c: \"${Y_2}\"}\n"),
            ("- ${X} # note ${Y}\n", "- \"${X}\" # note ${Y}\n"),
            ("a: \"${X}\"\n", "a: \"${X}\"\n"),
            ("a: '${X}'\n", "a: '${X}'\n"),
            ("a: x${X}\n", "a: x${X}\n"),
            ("a: ${X}y\n", "a: ${X}y\n"),
            ("a: ${1X}\n", "a: ${1X}\n"),
            ("a: \"it's ${X}\" # ${Y}\n", "a: \"it's ${X}\" # ${Y}\n"),
            ("é: ${X}", "é: \"${X}\""),
        ] {
            assert_eq!(quote_placeholders(input), want, "{input}");
        }
    }

    #[test]
    fn root_keys_that_are_not_engines_are_unmapped() {
        let overrides = parse_override_yaml("postgress:\n  a: 1\nredis: 5\nredis_extra: {}\n").unwrap();
        let got: Vec<(u32, &str)> = overrides.unmapped.iter().map(|u| (u.line, u.reason.as_str())).collect();
        assert_eq!(
            got,
            [
                (1, "unknown engine `postgress`, did you mean `postgresql`?"),
                (3, "the settings under `redis` must be a map, found a scalar"),
                (4, "unknown engine `redis_extra`, did you mean `redis`?"),
            ]
        );
        assert!(overrides.engines.is_empty());
        assert_eq!(parse_override_yaml("[1]").unwrap_err().line, 1);
        assert_eq!(parse_override_yaml("").unwrap(), Overrides::default());
    }

    #[test]
    fn groups_of_other_engines_are_dropped_and_maps_below_kept() {
        let overrides =
            parse_override_yaml("redis:\n  maxmemory: 1gb\n  memory: {maxmemory-policy: allkeys-lru}\n  empty:\n")
                .unwrap();
        let parsed = &overrides.engines[0].parsed;
        assert_eq!(
            parsed.settings.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
            ["maxmemory", "maxmemory-policy"]
        );
        assert_eq!(parsed.unmapped[0].reason, "`empty` has no value");
    }
}
