//! Reading settings maps into flat, located entries.
//!
//! A settings map is nested YAML whose leaves are values; nested maps join
//! their keys with dots, so `wiredTiger: {engineConfig: {cacheSizeGB: 4}}`
//! and `wiredTiger.engineConfig.cacheSizeGB: 4` are the same key. Maps whose
//! keys start with `$` are operators rather than nesting:
//!
//! | written | meaning |
//! |---|---|
//! | `{$secret: REF}` | a reference to a secret, resolved only when rendering |
//! | `{$append: [..]}` | add items to the list set by earlier layers |
//! | `{$remove: [..]}` | take items out of the list set by earlier layers |
//! | `{$unset: true}` | drop the key (and everything below it) set by earlier layers |
//! | `$lock: [KEY, ..]` | (as a key of a settings map) later layers may not change these keys |

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use dbfleet_model::yaml::{Node, NodeKind, scalar_value};
use dbfleet_model::{Diagnostic, Diagnostics, EngineKind, Location, SecretRef, Value};

/// The kinds of layer, in precedence order (lowest first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LayerKind {
    CatalogDefault,
    Base,
    Environment,
    Tier,
    Workload,
    Time,
    Tenant,
    Instance,
}

impl LayerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LayerKind::CatalogDefault => "catalog default",
            LayerKind::Base => "engine base",
            LayerKind::Environment => "environment",
            LayerKind::Tier => "tier",
            LayerKind::Workload => "workload",
            LayerKind::Time => "time profile",
            LayerKind::Tenant => "tenant",
            LayerKind::Instance => "instance",
        }
    }
}

/// Which layer an entry belongs to: its kind and the member it is for
/// (`environment production`, `tenant acme`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub struct LayerId {
    pub kind: LayerKind,
    pub name: String,
}

impl fmt::Display for LayerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind.as_str(), self.name)
    }
}

/// What an entry does to the key it names.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    Set(Value),
    Append(Vec<Value>),
    Remove(Vec<Value>),
    Unset,
}

/// One key set by one layer, where it was written.
#[derive(Clone, Debug)]
pub struct Entry {
    pub key: Arc<str>,
    pub op: Op,
    pub location: Location,
    pub layer: Arc<LayerId>,
}

/// A key a layer locks against later layers.
#[derive(Clone, Debug)]
pub struct Lock {
    pub key: Arc<str>,
    pub location: Location,
    pub layer: Arc<LayerId>,
}

/// The entries and locks of one scope of one layer.
#[derive(Clone, Debug, Default)]
pub struct ScopeLayer {
    pub entries: Vec<Entry>,
    pub locks: Vec<Lock>,
}

impl ScopeLayer {
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.locks.is_empty()
    }
}

/// One layer's settings for one engine, by scope.
#[derive(Clone, Debug, Default)]
pub struct EngineLayer {
    pub instance: ScopeLayer,
    pub tenant: ScopeLayer,
}

impl EngineLayer {
    pub fn scope(&self, scope: dbfleet_model::Scope) -> &ScopeLayer {
        match scope {
            dbfleet_model::Scope::Instance => &self.instance,
            dbfleet_model::Scope::Tenant => &self.tenant,
        }
    }
}

const OPERATORS: &[&str] = &["$secret", "$append", "$remove", "$unset", "$lock"];

fn located(code: &'static str, msg: impl Into<String>, at: &Location, layer: &LayerId) -> Diagnostic {
    Diagnostic::error(code, msg).at(at.clone()).layer(layer.to_string())
}

/// Reads a layer body (`ENGINE: {instance: .., tenant: ..}`).
pub fn read_layer_body(
    node: &Node,
    layer: &Arc<LayerId>,
    diags: &mut Diagnostics,
) -> BTreeMap<EngineKind, EngineLayer> {
    let mut out = BTreeMap::new();
    if node.is_null() {
        return out;
    }
    let Some(entries) = node.as_map() else {
        diags.push(located(
            "schema",
            format!("expected a map of engines, found a {}", node.describe()),
            &node.location,
            layer,
        ));
        return out;
    };
    for (key, value) in entries {
        let name = key.as_str().unwrap_or_default();
        match name.parse::<EngineKind>() {
            Ok(engine) => {
                out.insert(engine, read_scoped(value, layer, diags));
            }
            Err(e) => diags.push(located("unknown-engine", e.to_string(), &key.location, layer)),
        }
    }
    out
}

/// Reads `{instance: SETTINGS, tenant: SETTINGS}`.
pub fn read_scoped(node: &Node, layer: &Arc<LayerId>, diags: &mut Diagnostics) -> EngineLayer {
    let mut out = EngineLayer::default();
    if node.is_null() {
        return out;
    }
    let Some(entries) = node.as_map() else {
        diags.push(located(
            "schema",
            format!("expected a map with `instance` and `tenant`, found a {}", node.describe()),
            &node.location,
            layer,
        ));
        return out;
    };
    for (key, value) in entries {
        match key.as_str() {
            Some("instance") => out.instance = read_settings(value, layer, diags),
            Some("tenant") => out.tenant = read_settings(value, layer, diags),
            Some(other) => {
                let mut msg = format!("unknown key `{other}`");
                match dbfleet_model::did_you_mean(other, ["instance", "tenant"]) {
                    Some(s) => msg.push_str(&format!(", did you mean `{s}`?")),
                    None => msg.push_str(" (settings go under `instance:` or `tenant:`)"),
                }
                diags.push(located("schema", msg, &key.location, layer));
            }
            None => {}
        }
    }
    out
}

/// Reads a settings map into flat entries.
pub fn read_settings(node: &Node, layer: &Arc<LayerId>, diags: &mut Diagnostics) -> ScopeLayer {
    let mut out = ScopeLayer::default();
    if node.is_null() {
        return out;
    }
    if node.as_map().is_none() {
        diags.push(located(
            "schema",
            format!("expected a map of settings, found a {}", node.describe()),
            &node.location,
            layer,
        ));
        return out;
    }
    flatten("", node, layer, &mut out, diags);
    out
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() { key.to_string() } else { format!("{prefix}.{key}") }
}

fn flatten(prefix: &str, node: &Node, layer: &Arc<LayerId>, out: &mut ScopeLayer, diags: &mut Diagnostics) {
    let Some(entries) = node.as_map() else { return };
    for (key_node, value) in entries {
        let key = key_node.as_str().unwrap_or_default();
        if key.is_empty() {
            diags.push(located("schema", "empty setting name", &key_node.location, layer));
            continue;
        }
        if key == "$lock" {
            read_locks(prefix, value, layer, out, diags);
            continue;
        }
        if let Some(op) = key.strip_prefix('$') {
            diags.push(unknown_operator(op, &key_node.location, layer));
            continue;
        }
        let full = join(prefix, key);
        match &value.kind {
            NodeKind::Map(inner) if !inner.is_empty() && !is_operator_map(value) => {
                flatten(&full, value, layer, out, diags)
            }
            _ => {
                if let Some(op) = read_op(value, layer, diags) {
                    out.entries.push(Entry {
                        key: full.into(),
                        op,
                        location: value.location.clone(),
                        layer: layer.clone(),
                    });
                }
            }
        }
    }
}

fn is_operator_map(node: &Node) -> bool {
    node.as_map().is_some_and(|m| m.iter().any(|(k, _)| k.as_str().is_some_and(|k| k.starts_with('$') && k != "$lock")))
}

fn unknown_operator(op: &str, at: &Location, layer: &LayerId) -> Diagnostic {
    let mut msg = format!("unknown operator `${op}`");
    if let Some(s) = dbfleet_model::did_you_mean(&format!("${op}"), OPERATORS.iter().copied()) {
        msg.push_str(&format!(", did you mean `{s}`?"));
    } else {
        msg.push_str(&format!(" (operators are {})", OPERATORS.join(", ")));
    }
    located("schema", msg, at, layer)
}

fn read_locks(prefix: &str, node: &Node, layer: &Arc<LayerId>, out: &mut ScopeLayer, diags: &mut Diagnostics) {
    let items: Vec<&Node> = match &node.kind {
        NodeKind::Seq(items) => items.iter().collect(),
        NodeKind::Scalar { .. } if !node.is_null() => vec![node],
        _ => {
            diags.push(located("schema", "`$lock` takes a list of setting names", &node.location, layer));
            return;
        }
    };
    for item in items {
        match item.as_str() {
            Some(k) if !k.is_empty() => out.locks.push(Lock {
                key: join(prefix, k).into(),
                location: item.location.clone(),
                layer: layer.clone(),
            }),
            _ => diags.push(located("schema", "`$lock` items must be setting names", &item.location, layer)),
        }
    }
}

/// Reads the value of one setting: a plain value or an operator map.
fn read_op(node: &Node, layer: &Arc<LayerId>, diags: &mut Diagnostics) -> Option<Op> {
    let Some(map) = node.as_map().filter(|_| is_operator_map(node)) else {
        return read_value(node, layer, diags).map(Op::Set);
    };
    if map.len() != 1 {
        diags.push(located("schema", "an operator map holds exactly one `$` key", &node.location, layer));
        return None;
    }
    let (k, v) = &map[0];
    match k.as_str().unwrap_or_default() {
        "$secret" => read_secret(v, layer, diags).map(|r| Op::Set(Value::Secret(r))),
        "$append" | "$remove" => {
            let items = match read_value(v, layer, diags)? {
                Value::List(items) => items,
                other => vec![other],
            };
            Some(if k.as_str() == Some("$append") { Op::Append(items) } else { Op::Remove(items) })
        }
        "$unset" => match read_value(v, layer, diags)? {
            Value::Bool(true) => Some(Op::Unset),
            _ => {
                diags.push(located("schema", "write `$unset: true` to unset a key", &v.location, layer));
                None
            }
        },
        other => {
            diags.push(unknown_operator(other.trim_start_matches('$'), &k.location, layer));
            None
        }
    }
}

fn read_secret(node: &Node, layer: &LayerId, diags: &mut Diagnostics) -> Option<SecretRef> {
    let Some(text) = node.as_str().filter(|_| !node.is_null()) else {
        diags.push(located(
            "secret",
            "`$secret` takes a reference such as `env:NAME` or `vault:MOUNT/PATH#FIELD`",
            &node.location,
            layer,
        ));
        return None;
    };
    match text.parse() {
        Ok(r) => Some(r),
        Err(e) => {
            diags.push(located("secret", e.to_string(), &node.location, layer));
            None
        }
    }
}

/// Converts a value node, recognising `$secret` inside lists and maps (a
/// list of users with passwords, say). Other operators are only allowed at
/// the top of a setting.
pub fn read_value(node: &Node, layer: &LayerId, diags: &mut Diagnostics) -> Option<Value> {
    match &node.kind {
        NodeKind::Scalar { text, plain, tag } => Some(scalar_value(text, *plain, tag.as_deref())),
        NodeKind::Seq(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                out.push(read_value(item, layer, diags)?);
            }
            Some(Value::List(out))
        }
        NodeKind::Map(entries) => {
            if let [(k, v)] = entries.as_slice()
                && k.as_str() == Some("$secret")
            {
                return read_secret(v, layer, diags).map(Value::Secret);
            }
            let mut out = BTreeMap::new();
            for (k, v) in entries {
                let key = k.as_str().unwrap_or_default();
                if let Some(op) = key.strip_prefix('$') {
                    diags.push(unknown_operator(op, &k.location, layer));
                    return None;
                }
                out.insert(key.to_string(), read_value(v, layer, diags)?);
            }
            Some(Value::Map(out))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dbfleet_model::yaml::parse;

    fn layer() -> Arc<LayerId> {
        Arc::new(LayerId { kind: LayerKind::Environment, name: "production".into() })
    }

    fn read(text: &str) -> (ScopeLayer, Diagnostics) {
        let node = parse("l.yaml", text).unwrap();
        let mut diags = Diagnostics::default();
        let out = read_settings(&node, &layer(), &mut diags);
        (out, diags)
    }

    #[test]
    fn nested_maps_join_with_dots() {
        let (l, d) = read("storage:\n  wiredTiger:\n    cacheSizeGB: 4\nnet.port: 27017\n");
        assert!(d.is_empty());
        let keys: Vec<_> = l.entries.iter().map(|e| &*e.key).collect();
        assert_eq!(keys, ["storage.wiredTiger.cacheSizeGB", "net.port"]);
        assert_eq!(l.entries[0].location.line, 3);
    }

    #[test]
    fn operators() {
        let (l, d) = read(
            "a: {$append: [x]}\nb: {$remove: y}\nc: {$unset: true}\npw: {$secret: env:PW}\nusers: [{name: x, pw: {$secret: 'vault:kv/a#b'}}]\n$lock: [a, c]\n",
        );
        assert!(d.is_empty(), "{d}");
        assert_eq!(l.entries[0].op, Op::Append(vec![Value::String("x".into())]));
        assert_eq!(l.entries[1].op, Op::Remove(vec![Value::String("y".into())]));
        assert_eq!(l.entries[2].op, Op::Unset);
        assert!(matches!(&l.entries[3].op, Op::Set(Value::Secret(_))));
        assert!(matches!(&l.entries[4].op, Op::Set(v) if v.contains_secret()));
        assert_eq!(l.locks.iter().map(|l| &*l.key).collect::<Vec<_>>(), ["a", "c"]);
    }

    #[test]
    fn bad_operators_are_located() {
        let (_, d) = read("a: {$apend: [x]}\nb: {$secret: nope}\nc: {$unset: no}\n");
        let msgs: Vec<_> = d.iter().map(|d| (d.location.as_ref().unwrap().line, d.message.as_str())).collect();
        assert_eq!(msgs[0], (1, "unknown operator `$apend`, did you mean `$append`?"));
        assert_eq!(msgs[1].0, 2);
        assert!(msgs[1].1.contains("no provider"));
        assert_eq!(msgs[2], (3, "write `$unset: true` to unset a key"));
    }
}
