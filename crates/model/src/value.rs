//! The dynamically typed value a setting holds.

use std::collections::BTreeMap;
use std::fmt;

/// A configuration value as written in the fleet repo, before any catalog
/// gives it a type.
///
/// Secrets are held as references only: the plaintext never enters a
/// `Value`, so no code that prints values can leak one.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    List(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Secret(SecretRef),
}

impl Value {
    /// Reads a plain YAML scalar the way YAML 1.2's core schema would, which
    /// is also how a rendered template's output is given its type back.
    pub fn from_plain_scalar(s: &str) -> Value {
        match s {
            "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
            "true" | "True" | "TRUE" => return Value::Bool(true),
            "false" | "False" | "FALSE" => return Value::Bool(false),
            _ => {}
        }
        let bytes = s.as_bytes();
        let numeric_start = bytes[0].is_ascii_digit()
            || ((bytes[0] == b'-' || bytes[0] == b'+' || bytes[0] == b'.') && bytes.len() > 1);
        if numeric_start {
            if let Ok(i) = s.parse::<i64>() {
                return Value::Int(i);
            }
            if let Some(hex) = s.strip_prefix("0x")
                && let Ok(i) = i64::from_str_radix(hex, 16)
            {
                return Value::Int(i);
            }
            if s.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
                && let Ok(f) = s.parse::<f64>()
            {
                return Value::Float(f);
            }
        }
        match s {
            ".inf" | ".Inf" | "+.inf" => Value::Float(f64::INFINITY),
            "-.inf" | "-.Inf" => Value::Float(f64::NEG_INFINITY),
            ".nan" | ".NaN" => Value::Float(f64::NAN),
            _ => Value::String(s.to_string()),
        }
    }

    /// The kind of value, as named in error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Float(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Map(_) => "map",
            Value::Secret(_) => "secret",
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// True if this value, or anything inside it, is a secret reference.
    pub fn contains_secret(&self) -> bool {
        match self {
            Value::Secret(_) => true,
            Value::List(items) => items.iter().any(Value::contains_secret),
            Value::Map(map) => map.values().any(Value::contains_secret),
            _ => false,
        }
    }

    /// Converts to JSON for machine-readable output. Secrets become
    /// `{"$secret": "<reference>"}`: the reference, never the plaintext.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::String(s) => J::String(s.clone()),
            Value::List(items) => J::Array(items.iter().map(Value::to_json).collect()),
            Value::Map(map) => J::Object(map.iter().map(|(k, v)| (k.clone(), v.to_json())).collect()),
            Value::Secret(r) => serde_json::json!({ "$secret": r.to_string() }),
        }
    }
}

impl serde::Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

/// Human form, YAML-flow style, used by `resolve` and `explain`.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::String(s) => {
                // Quote strings that would read back as another type.
                if matches!(Value::from_plain_scalar(s), Value::String(_))
                    && !s.is_empty()
                    && !s.contains([':', '#', '[', ']', '{', '}', ',', '"', '\''])
                    && !s.starts_with([' ', '-', '*', '&', '!', '|', '>', '%', '@', '`'])
                    && !s.ends_with(' ')
                {
                    f.write_str(s)
                } else {
                    write!(f, "{s:?}")
                }
            }
            Value::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Value::Map(map) => {
                f.write_str("{")?;
                for (i, (k, v)) in map.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}: {v}")?;
                }
                f.write_str("}")
            }
            Value::Secret(r) => write!(f, "<secret {r}>"),
        }
    }
}

impl Value {
    /// YAML flow text that reads back as this value, secrets as
    /// `{$secret: "REF"}`: what `dbfleet import` writes into layer files.
    pub fn to_yaml(&self) -> String {
        match self {
            Value::Secret(r) => format!("{{$secret: \"{r}\"}}"),
            Value::List(items) => format!("[{}]", items.iter().map(Value::to_yaml).collect::<Vec<_>>().join(", ")),
            Value::Map(map) => format!(
                "{{{}}}",
                map.iter()
                    .map(|(k, v)| format!("{}: {}", Value::String(k.clone()), v.to_yaml()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            // Plain scalars and strings print the way YAML reads them back.
            other => other.to_string(),
        }
    }
}

/// A reference to a secret held by a provider: `env:NAME`, `file:PATH`,
/// `age:NAME` (an age-encrypted file in the fleet repo) or
/// `vault:MOUNT/PATH#FIELD` (Vault or OpenBao KV version 2).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SecretRef {
    Env { var: String },
    File { path: String },
    Age { name: String },
    Vault { mount: String, path: String, field: String },
}

/// Why a secret reference could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretRefError {
    #[error("secret reference `{0}` has no provider; write `env:`, `file:`, `age:` or `vault:` before it")]
    NoProvider(String),
    #[error("unknown secret provider `{provider}`{}", suggestion.map(|s| format!(", did you mean `{s}`?")).unwrap_or_default())]
    UnknownProvider { provider: String, suggestion: Option<&'static str> },
    #[error("secret reference `{0}` names nothing after the provider")]
    Empty(String),
    #[error("vault reference `{0}` must look like `vault:MOUNT/PATH#FIELD`")]
    BadVault(String),
}

impl std::str::FromStr for SecretRef {
    type Err = SecretRefError;

    fn from_str(s: &str) -> Result<SecretRef, SecretRefError> {
        let (provider, rest) = s.split_once(':').ok_or_else(|| SecretRefError::NoProvider(s.to_string()))?;
        if rest.is_empty() {
            return Err(SecretRefError::Empty(s.to_string()));
        }
        match provider {
            "env" => Ok(SecretRef::Env { var: rest.to_string() }),
            "file" => Ok(SecretRef::File { path: rest.to_string() }),
            "age" => Ok(SecretRef::Age { name: rest.to_string() }),
            "vault" => {
                let (full_path, field) = rest.split_once('#').ok_or_else(|| SecretRefError::BadVault(s.to_string()))?;
                let (mount, path) = full_path.split_once('/').ok_or_else(|| SecretRefError::BadVault(s.to_string()))?;
                if mount.is_empty() || path.is_empty() || field.is_empty() {
                    return Err(SecretRefError::BadVault(s.to_string()));
                }
                Ok(SecretRef::Vault { mount: mount.to_string(), path: path.to_string(), field: field.to_string() })
            }
            other => Err(SecretRefError::UnknownProvider {
                provider: other.to_string(),
                suggestion: crate::did_you_mean(other, ["env", "file", "age", "vault"]),
            }),
        }
    }
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretRef::Env { var } => write!(f, "env:{var}"),
            SecretRef::File { path } => write!(f, "file:{path}"),
            SecretRef::Age { name } => write!(f, "age:{name}"),
            SecretRef::Vault { mount, path, field } => write!(f, "vault:{mount}/{path}#{field}"),
        }
    }
}

/// Reads any self-describing input (YAML nodes, JSON) as a plain value.
/// Secrets are never produced here: `$secret` maps are recognised by the
/// fleet loader, which knows where they are allowed.
impl<'de> serde::Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Value;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_unit<E>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_none<E>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
                <Value as serde::Deserialize>::deserialize(d)
            }
            fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
                Ok(Value::Bool(b))
            }
            fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
                Ok(Value::Int(i))
            }
            fn visit_u64<E>(self, u: u64) -> Result<Value, E> {
                Ok(i64::try_from(u).map_or(Value::Float(u as f64), Value::Int))
            }
            fn visit_f64<E>(self, f: f64) -> Result<Value, E> {
                Ok(Value::Float(f))
            }
            fn visit_str<E>(self, s: &str) -> Result<Value, E> {
                Ok(Value::String(s.to_string()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Value::List(items))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
                let mut out = BTreeMap::new();
                while let Some((k, v)) = map.next_entry::<String, Value>()? {
                    out.insert(k, v);
                }
                Ok(Value::Map(out))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_scalars_get_core_schema_types() {
        assert_eq!(Value::from_plain_scalar("42"), Value::Int(42));
        assert_eq!(Value::from_plain_scalar("-3"), Value::Int(-3));
        assert_eq!(Value::from_plain_scalar("0.9"), Value::Float(0.9));
        assert_eq!(Value::from_plain_scalar("true"), Value::Bool(true));
        assert_eq!(Value::from_plain_scalar("~"), Value::Null);
        assert_eq!(Value::from_plain_scalar("128MB"), Value::String("128MB".into()));
        assert_eq!(Value::from_plain_scalar("on"), Value::String("on".into()));
        assert_eq!(Value::from_plain_scalar("1e3"), Value::Float(1000.0));
        assert_eq!(Value::from_plain_scalar("-"), Value::String("-".into()));
    }

    #[test]
    fn secret_refs_round_trip() {
        for text in ["env:PGPASS", "file:secrets/x.txt", "age:pg-prod", "vault:secret/db/pg#password"] {
            let r: SecretRef = text.parse().unwrap();
            assert_eq!(r.to_string(), text);
        }
        assert!(matches!(
            "valt:x".parse::<SecretRef>(),
            Err(SecretRefError::UnknownProvider { suggestion: Some("vault"), .. })
        ));
        assert!("vault:secret#x".parse::<SecretRef>().is_err());
    }

    #[test]
    fn yaml_round_trips() {
        let v = Value::Map(BTreeMap::from([
            (
                "a b".to_string(),
                Value::List(vec![Value::String("on".into()), Value::String("12".into()), Value::Int(12)]),
            ),
            ("p".to_string(), Value::Secret("env:X".parse().unwrap())),
            ("q".to_string(), Value::String("it's \"x\": y".into())),
        ]));
        let text = format!("k: {}\n", v.to_yaml());
        let node = crate::yaml::parse("t", &text).unwrap();
        let back = node.get("k").unwrap();
        assert_eq!(
            back.get("a b").unwrap().to_value(),
            Value::List(vec![Value::String("on".into()), Value::String("12".into()), Value::Int(12)])
        );
        assert_eq!(back.get("q").unwrap().to_value(), Value::String("it's \"x\": y".into()));
        assert_eq!(back.get("p").unwrap().get("$secret").unwrap().as_str(), Some("env:X"));
    }

    #[test]
    fn display_never_shows_more_than_the_reference() {
        let v = Value::Secret("env:PGPASS".parse().unwrap());
        assert_eq!(v.to_string(), "<secret env:PGPASS>");
    }
}
