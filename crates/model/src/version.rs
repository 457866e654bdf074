//! Engine versions as dotted numbers.

use std::fmt;
use std::str::FromStr;

/// An engine version such as `15`, `7.2.4` or `18.16.1`. Compares part by
/// part, a missing part counting as zero (`15` == `15.0`).
#[derive(Clone, Debug, Eq)]
pub struct Version {
    parts: Vec<u32>,
    text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a version (expected numbers separated by dots, such as 15 or 7.2)")]
pub struct VersionError(pub String);

impl Version {
    pub fn major(&self) -> u32 {
        self.parts[0]
    }

    pub fn parts(&self) -> &[u32] {
        &self.parts
    }

    /// True if `self` starts with all of `prefix`'s parts: `7.2.4` matches
    /// `7` and `7.2`, not `7.20`.
    pub fn matches_prefix(&self, prefix: &Version) -> bool {
        prefix.parts.len() <= self.parts.len() && self.parts[..prefix.parts.len()] == prefix.parts[..]
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl FromStr for Version {
    type Err = VersionError;

    fn from_str(s: &str) -> Result<Version, VersionError> {
        let text = s.trim();
        let parts: Result<Vec<u32>, _> = text.split('.').map(str::parse).collect();
        match parts {
            Ok(parts) if !parts.is_empty() => Ok(Version { parts, text: text.to_string() }),
            _ => Err(VersionError(s.to_string())),
        }
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Version) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Version) -> std::cmp::Ordering {
        let n = self.parts.len().max(other.parts.len());
        (0..n)
            .map(|i| self.parts.get(i).copied().unwrap_or(0).cmp(&other.parts.get(i).copied().unwrap_or(0)))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Version) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl std::hash::Hash for Version {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let mut parts = self.parts.as_slice();
        while let [rest @ .., 0] = parts {
            parts = rest;
        }
        parts.hash(state);
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl serde::Serialize for Version {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> serde::Deserialize<'de> for Version {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Version, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for Version {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Version".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": ["string", "number"],
            "description": "An engine version: numbers separated by dots, such as 15 or 7.2.",
            "pattern": "^[0-9]+(\\.[0-9]+)*$"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        s.parse().unwrap()
    }

    #[test]
    fn ordering_and_prefixes() {
        assert!(v("15") < v("15.1"));
        assert!(v("7.2") < v("7.10"));
        assert_eq!(v("15"), v("15.0"));
        assert!(v("7.2.4").matches_prefix(&v("7.2")));
        assert!(!v("7.20").matches_prefix(&v("7.2")));
        assert_eq!(v("18.16.1").major(), 18);
        assert!("15.x".parse::<Version>().is_err());
    }
}
