//! Typed decoding of [`Node`] trees with serde, keeping locations.
//!
//! `decode::<T>(&node)` works like `serde_yaml::from_str`, but every error
//! names the line and column of the node it is about (the innermost one),
//! and an unknown key or enum member comes with a "did you mean".
//!
//! Plain scalars read as strings where a string is wanted (`version: 15` is
//! the string `"15"`), because fleet files are written by people.

use std::fmt;

use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};

use crate::Location;
use crate::yaml::{Node, NodeKind, scalar_value};

/// A node that does not have the shape a type wants.
#[derive(Clone, Debug, PartialEq)]
pub struct DecodeError {
    pub message: String,
    /// The innermost node the problem is about; set while unwinding.
    pub location: Option<Location>,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(loc) => write!(f, "{loc}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for DecodeError {}

impl de::Error for DecodeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DecodeError { message: msg.to_string(), location: None }
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        DecodeError { message: unknown("key", field, expected), location: None }
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        DecodeError { message: unknown("value", variant, expected), location: None }
    }
}

fn unknown(what: &str, name: &str, expected: &'static [&'static str]) -> String {
    let mut msg = format!("unknown {what} `{name}`");
    if let Some(s) = crate::did_you_mean(name, expected.iter().copied()) {
        msg.push_str(&format!(", did you mean `{s}`?"));
    } else if !expected.is_empty() {
        msg.push_str(&format!(" (expected one of: {})", expected.join(", ")));
    }
    msg
}

impl DecodeError {
    fn at(mut self, location: &Location) -> Self {
        if self.location.is_none() {
            self.location = Some(location.clone());
        }
        self
    }
}

/// Decodes `node` into `T`.
pub fn decode<'de, T: serde::Deserialize<'de>>(node: &'de Node) -> Result<T, DecodeError> {
    T::deserialize(node).map_err(|e| e.at(&node.location))
}

impl<'de> de::Deserializer<'de> for &'de Node {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        let result = match &self.kind {
            NodeKind::Scalar { text, plain, tag } => match scalar_value(text, *plain, tag.as_deref()) {
                crate::Value::Null => visitor.visit_unit(),
                crate::Value::Bool(b) => visitor.visit_bool(b),
                crate::Value::Int(i) => visitor.visit_i64(i),
                crate::Value::Float(f) => visitor.visit_f64(f),
                _ => visitor.visit_borrowed_str(text),
            },
            NodeKind::Seq(items) => visitor.visit_seq(Seq { iter: items.iter() }),
            NodeKind::Map(entries) => visitor.visit_map(Map { iter: entries.iter(), value: None }),
        };
        result.map_err(|e| e.at(&self.location))
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match &self.kind {
            NodeKind::Scalar { text, .. } if !self.is_null() => {
                visitor.visit_borrowed_str::<DecodeError>(text).map_err(|e: DecodeError| e.at(&self.location))
            }
            _ => Err(DecodeError {
                message: format!("expected a string, found a {}", self.describe()),
                location: Some(self.location.clone()),
            }),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        if self.is_null() { visitor.visit_none() } else { visitor.visit_some(self) }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        if self.is_null() {
            return visitor.visit_seq(Seq { iter: [].iter() });
        }
        self.deserialize_any(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        if self.is_null() {
            return visitor.visit_map(Map { iter: [].iter(), value: None });
        }
        match &self.kind {
            NodeKind::Map(_) => self.deserialize_any(visitor),
            _ => Err(DecodeError {
                message: format!("expected a map, found a {}", self.describe()),
                location: Some(self.location.clone()),
            }),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        let result = match &self.kind {
            NodeKind::Scalar { text, .. } => {
                let d: de::value::StrDeserializer<'_, DecodeError> = text.as_str().into_deserializer();
                visitor.visit_enum(d)
            }
            NodeKind::Map(entries) if entries.len() == 1 => {
                visitor.visit_enum(Enum { key: &entries[0].0, value: &entries[0].1 })
            }
            _ => Err(DecodeError { message: format!("expected a name, found a {}", self.describe()), location: None }),
        };
        result.map_err(|e| e.at(&self.location))
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char
        bytes byte_buf unit unit_struct tuple tuple_struct identifier
    }
}

struct Seq<'de> {
    iter: std::slice::Iter<'de, Node>,
}

impl<'de> SeqAccess<'de> for Seq<'de> {
    type Error = DecodeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, DecodeError> {
        match self.iter.next() {
            Some(node) => seed.deserialize(node).map(Some).map_err(|e| e.at(&node.location)),
            None => Ok(None),
        }
    }
}

struct Map<'de> {
    iter: std::slice::Iter<'de, (Node, Node)>,
    value: Option<&'de Node>,
}

impl<'de> MapAccess<'de> for Map<'de> {
    type Error = DecodeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, DecodeError> {
        match self.iter.next() {
            Some((key, value)) => {
                self.value = Some(value);
                seed.deserialize(key).map(Some).map_err(|e| e.at(&key.location))
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DecodeError> {
        let node = self.value.take().expect("next_value_seed called before next_key_seed");
        seed.deserialize(node).map_err(|e| e.at(&node.location))
    }
}

struct Enum<'de> {
    key: &'de Node,
    value: &'de Node,
}

impl<'de> de::EnumAccess<'de> for Enum<'de> {
    type Error = DecodeError;
    type Variant = &'de Node;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, &'de Node), DecodeError> {
        let v = seed.deserialize(self.key).map_err(|e| e.at(&self.key.location))?;
        Ok((v, self.value))
    }
}

impl<'de> de::VariantAccess<'de> for &'de Node {
    type Error = DecodeError;

    fn unit_variant(self) -> Result<(), DecodeError> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, DecodeError> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, DecodeError> {
        de::Deserializer::deserialize_seq(self, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        de::Deserializer::deserialize_map(self, visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse;
    use std::collections::BTreeMap;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Tenant {
        tier: crate::TierName,
        version: String,
        #[serde(default)]
        limits: BTreeMap<String, u32>,
        region: Option<String>,
    }

    fn err(input: &str) -> DecodeError {
        let node = parse("t.yaml", input).unwrap();
        decode::<Tenant>(&node).unwrap_err()
    }

    #[test]
    fn unknown_key_has_location_and_suggestion() {
        let e = err("tier: free\nversion: 15\nregoin: eu\n");
        assert_eq!(e.message, "unknown key `regoin`, did you mean `region`?");
        assert_eq!(e.location.unwrap().line, 3);
    }

    #[test]
    fn unknown_enum_member_is_located() {
        let e = err("tier: premum\nversion: 15\n");
        assert_eq!(e.message, "unknown value `premum`, did you mean `premium`?");
        let loc = e.location.unwrap();
        assert_eq!((loc.line, loc.column), (1, 7));
    }

    #[test]
    fn wrong_type_is_located_at_the_innermost_node() {
        let e = err("tier: free\nversion: 15\nlimits:\n  connections: lots\n");
        assert!(e.message.contains("invalid type"), "{}", e.message);
        let loc = e.location.unwrap();
        assert_eq!((loc.line, loc.column), (4, 16));
    }

    #[test]
    fn plain_numbers_read_as_strings_where_wanted() {
        let node = parse("t.yaml", "tier: free\nversion: 15\n").unwrap();
        let t: Tenant = decode(&node).unwrap();
        assert_eq!(t.version, "15");
    }

    #[test]
    fn missing_field_points_at_the_map() {
        let e = err("tier: free\n");
        assert_eq!(e.message, "missing field `version`");
        assert_eq!(e.location.unwrap().line, 1);
    }
}
