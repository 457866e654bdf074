//! Reading a catalog file and enforcing the rules of
//! `docs/catalog-format.md`.
//!
//! The file is parsed into spanned YAML nodes, each parameter is decoded on
//! its own (so one bad entry does not hide the others), and the rules are
//! checked against the nodes, so every problem comes back at once with the
//! line and column of the value it is about.

use std::collections::HashMap;

use dbfleet_model::decode::decode;
use dbfleet_model::yaml::{self, Node};
use dbfleet_model::{ApplyMethod, EngineKind, Location, Version};

use crate::conventions::{Quantity, parse_unit};
use crate::parameter::less;
use crate::{Catalog, ParamType, Parameter, ScopeSet};

/// A problem with a catalog file, at the place it is about.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct CatalogError {
    pub location: Location,
    pub message: String,
}

const TOP_KEYS: &[&str] = &["engine", "versions", "sources", "parameters"];

/// One entry of `parameters:` as written. `min`, `max` and `default` are
/// only checked for presence here and read from the node afterwards, where
/// their YAML type and location are still known.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParameter {
    #[serde(rename = "type")]
    ty: ParamType,
    unit: Option<String>,
    #[serde(rename = "min")]
    _min: Option<serde::de::IgnoredAny>,
    #[serde(rename = "max")]
    _max: Option<serde::de::IgnoredAny>,
    #[serde(rename = "default")]
    _default: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    values: Vec<String>,
    scope: ScopeSet,
    apply: ApplyMethod,
    since: Option<Version>,
    until: Option<Version>,
    replaced_by: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
    section: Option<String>,
    #[serde(default)]
    sensitive: bool,
    #[serde(default)]
    read_only: bool,
    description: String,
}

/// Collects problems while reading one file.
struct Problems {
    file: String,
    errors: Vec<CatalogError>,
}

impl Problems {
    fn at(&mut self, location: &Location, message: impl Into<String>) {
        self.errors.push(CatalogError { location: location.clone(), message: message.into() });
    }

    fn decode<'a, T: serde::Deserialize<'a>>(&mut self, node: &'a Node) -> Option<T> {
        match decode(node) {
            Ok(t) => Some(t),
            Err(e) => {
                let location = e.location.unwrap_or_else(|| Location::file(self.file.as_str()));
                self.at(&location, e.message);
                None
            }
        }
    }
}

/// Reads the catalog of `engine` from `text`; `file` names it in errors.
pub fn load(engine: EngineKind, file: &str, text: &str) -> Result<Catalog, Vec<CatalogError>> {
    let root = yaml::parse(file, text).map_err(|errors| {
        errors.into_iter().map(|e| CatalogError { location: e.location, message: e.message }).collect::<Vec<_>>()
    })?;
    let mut problems = Problems { file: file.to_string(), errors: Vec::new() };
    let catalog = read_catalog(engine, &root, &mut problems);
    match catalog {
        Some(catalog) if problems.errors.is_empty() => Ok(catalog),
        _ => Err(problems.errors),
    }
}

fn read_catalog(engine: EngineKind, root: &Node, problems: &mut Problems) -> Option<Catalog> {
    let Some(entries) = root.as_map() else {
        problems.at(&root.location, format!("a catalog is a map with keys {}", TOP_KEYS.join(", ")));
        return None;
    };
    for (key, _) in entries {
        let name = key.as_str().unwrap_or_default();
        if !TOP_KEYS.contains(&name) {
            let hint = dbfleet_model::did_you_mean(name, TOP_KEYS.iter().copied())
                .map(|s| format!(", did you mean `{s}`?"))
                .unwrap_or_default();
            problems.at(&key.location, format!("unknown key `{name}`{hint}"));
        }
    }
    let mut required = |key: &str| {
        let node = root.get(key);
        if node.is_none() {
            problems.at(&root.location, format!("missing key `{key}`"));
        }
        node
    };
    let (engine_node, versions_node, parameters_node) =
        (required("engine"), required("versions"), required("parameters"));
    if let Some(node) = engine_node
        && let Some(written) = problems.decode::<EngineKind>(node)
        && written != engine
    {
        problems.at(&node.location, format!("this is the catalog of {engine}, but the file says `{written}`"));
    }
    let versions = read_versions(versions_node?, problems)?;
    let sources = match root.get("sources") {
        Some(node) => problems.decode::<Vec<String>>(node)?,
        None => Vec::new(),
    };
    let parameters_node = parameters_node?;
    let Some(entries) = parameters_node.as_map().or_else(|| parameters_node.is_null().then_some(&[][..])) else {
        problems
            .at(&parameters_node.location, format!("`parameters` is a map, found a {}", parameters_node.describe()));
        return None;
    };

    let mut parameters = Vec::new();
    let mut nodes = Vec::new();
    for (key, node) in entries {
        let name = key.as_str().unwrap_or_default();
        if let Some(p) = read_parameter(engine, &versions, name, node, problems) {
            parameters.push(p);
            nodes.push(node);
        }
    }
    let by_name: HashMap<String, usize> = parameters.iter().enumerate().map(|(i, p)| (p.name.clone(), i)).collect();
    let by_alias = check_names(&parameters, &nodes, &by_name, problems);
    Some(Catalog { engine, versions, sources, parameters, by_name, by_alias })
}

/// `versions` must be a non-empty, strictly increasing list, so that a
/// server version falls under at most one entry.
fn read_versions(node: &Node, problems: &mut Problems) -> Option<Vec<Version>> {
    let versions: Vec<Version> = problems.decode(node)?;
    if versions.is_empty() {
        problems.at(&node.location, "`versions` lists no version");
    }
    let items = node.as_seq().unwrap_or_default();
    for (i, pair) in versions.windows(2).enumerate() {
        if pair[0] >= pair[1] || pair[1].matches_prefix(&pair[0]) {
            problems.at(
                &items[i + 1].location,
                format!("versions must be listed oldest first, each once: `{}` follows `{}`", pair[1], pair[0]),
            );
        }
    }
    Some(versions)
}

fn read_parameter(
    engine: EngineKind,
    versions: &[Version],
    name: &str,
    node: &Node,
    problems: &mut Problems,
) -> Option<Parameter> {
    let raw: RawParameter = problems.decode(node)?;
    let at = |key: &str| node.get(key).map_or_else(|| node.location.clone(), |n| n.location.clone());
    let mut p = Parameter {
        name: name.to_string(),
        ty: raw.ty,
        unit: raw.unit,
        min: None,
        max: None,
        default: None,
        values: raw.values,
        scope: raw.scope,
        apply: raw.apply,
        since: raw.since,
        until: raw.until,
        replaced_by: raw.replaced_by,
        aliases: raw.aliases,
        section: raw.section.unwrap_or_else(|| "main".to_string()),
        sensitive: raw.sensitive,
        read_only: raw.read_only,
        description: raw.description,
    };

    if let Some(unit) = &p.unit {
        let quantity = match p.ty {
            ParamType::Size => Some(Quantity::Size),
            ParamType::Duration => Some(Quantity::Duration),
            _ => None,
        };
        match quantity {
            None => problems.at(&at("unit"), format!("`unit` is for size and duration parameters, not {}", p.ty)),
            Some(q) if parse_unit(unit, q).is_none() => {
                let examples = match q {
                    Quantity::Size => "B, kB, 8kB, MB, MiB, GB",
                    Quantity::Duration => "us, ms, s, min, h, d",
                };
                problems.at(&at("unit"), format!("unknown {} unit `{unit}` (expected one of {examples})", p.ty));
            }
            Some(_) => {}
        }
    }
    match (p.ty, p.values.is_empty()) {
        (ParamType::Enum, true) => problems.at(&at("type"), "an enum parameter needs `values`"),
        (ParamType::Enum, false) | (_, true) => {}
        (ty, false) => problems.at(&at("values"), format!("`values` is for enum parameters, not {ty}")),
    }

    let numeric = matches!(p.ty, ParamType::Int | ParamType::Real | ParamType::Size | ParamType::Duration);
    for key in ["min", "max"] {
        let Some(bound) = node.get(key).filter(|n| !n.is_null()) else { continue };
        if !numeric {
            problems.at(&bound.location, format!("`{key}` is for numbers, sizes and durations, not {}", p.ty));
            continue;
        }
        match p.read(engine, &bound.to_value()) {
            Ok(t) if key == "min" => p.min = Some(t),
            Ok(t) => p.max = Some(t),
            Err(e) => problems.at(&bound.location, format!("invalid {key}: {e}")),
        }
    }
    if let (Some(min), Some(max)) = (&p.min, &p.max)
        && less(max, min)
    {
        problems.at(
            &at("min"),
            format!("min {} is above max {}", p.format_native(engine, min), p.format_native(engine, max)),
        );
    }
    if let Some(default) = node.get("default").filter(|n| !n.is_null()) {
        let value = default.to_value();
        if let Err(e) = p.normalize(engine, &value) {
            problems.at(&default.location, format!("invalid default: {e}"));
        }
        p.default = Some(value);
    }

    let listed = versions.iter().map(Version::as_str).collect::<Vec<_>>().join(", ");
    for (key, version) in [("since", &p.since), ("until", &p.until)] {
        if let Some(v) = version.as_ref().filter(|v| !versions.contains(v)) {
            problems.at(
                &at(key),
                format!("`{key}` names version `{v}`, which is not one of the listed versions ({listed})"),
            );
        }
    }
    if let (Some(since), Some(until)) = (&p.since, &p.until)
        && since > until
    {
        problems.at(&at("until"), format!("`until` {until} is before `since` {since}"));
    }
    if p.description.trim().is_empty() {
        problems.at(&at("description"), "the description is empty");
    }
    Some(p)
}

/// Checks that names and aliases are unique together and that
/// `replaced_by` names a parameter; returns the alias index.
fn check_names(
    parameters: &[Parameter],
    nodes: &[&Node],
    by_name: &HashMap<String, usize>,
    problems: &mut Problems,
) -> HashMap<String, usize> {
    let mut by_alias: HashMap<String, usize> = HashMap::new();
    for (i, (p, node)) in parameters.iter().zip(nodes).enumerate() {
        let alias_nodes = node.get("aliases").and_then(Node::as_seq).unwrap_or_default();
        for (alias, alias_node) in p.aliases.iter().zip(alias_nodes) {
            if by_name.contains_key(alias) {
                problems.at(
                    &alias_node.location,
                    format!("alias `{alias}` of `{}` is also the name of a parameter", p.name),
                );
            } else if let Some(&other) = by_alias.get(alias) {
                let other = &parameters[other].name;
                problems
                    .at(&alias_node.location, format!("alias `{alias}` of `{}` is also an alias of `{other}`", p.name));
            } else {
                by_alias.insert(alias.clone(), i);
            }
        }
        if let Some(target) = &p.replaced_by {
            let location = node.get("replaced_by").map_or(&node.location, |n| &n.location);
            if *target == p.name {
                problems.at(location, format!("`{}` cannot be replaced by itself", p.name));
            } else if !by_name.contains_key(target) {
                let mut names: Vec<&str> = by_name.keys().map(String::as_str).collect();
                names.sort_unstable();
                let hint = dbfleet_model::did_you_mean(target, names)
                    .map(|s| format!(", did you mean `{s}`?"))
                    .unwrap_or_default();
                problems.at(
                    location,
                    format!("`replaced_by` names `{target}`, which is not a parameter in this file{hint}"),
                );
            }
        }
    }
    by_alias
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "engine: postgresql\nversions: [\"13\", \"14\", \"15\"]\nparameters:\n";

    /// Loads `parameters` under a three-line header, so that the first
    /// parameter line is line 4, and returns the errors as (line, message).
    fn errors(parameters: &str) -> Vec<(u32, String)> {
        let text = format!("{HEADER}{parameters}");
        match load(EngineKind::Postgresql, "t.yaml", &text) {
            Ok(_) => Vec::new(),
            Err(errors) => errors.into_iter().map(|e| (e.location.line, e.message)).collect(),
        }
    }

    /// Each rule of the format, broken once: (parameters, line, message).
    #[test]
    fn each_rule_reports_its_line() {
        let cases: &[(&str, u32, &str)] = &[
            (
                "  a:\n    type: enum\n    scope: both\n    apply: reload\n    description: d\n",
                5,
                "an enum parameter needs `values`",
            ),
            (
                "  a:\n    type: int\n    values: [x]\n    scope: both\n    apply: reload\n    description: d\n",
                6,
                "`values` is for enum parameters, not int",
            ),
            (
                "  a:\n    type: int\n    min: 10\n    max: 5\n    scope: both\n    apply: reload\n    description: d\n",
                6,
                "min 10 is above max 5",
            ),
            (
                "  a:\n    type: size\n    unit: kB\n    min: 1MB\n    max: 512\n    scope: both\n    apply: reload\n    description: d\n",
                7,
                "min 1MB is above max 512kB",
            ),
            (
                "  a:\n    type: bool\n    since: \"15\"\n    until: \"14\"\n    scope: both\n    apply: reload\n    description: d\n",
                7,
                "`until` 14 is before `since` 15",
            ),
            (
                "  a:\n    type: bool\n    since: \"12\"\n    scope: both\n    apply: reload\n    description: d\n",
                6,
                "`since` names version `12`, which is not one of the listed versions (13, 14, 15)",
            ),
            (
                "  a:\n    type: bool\n    scope: both\n    apply: reload\n    replaced_by: gone\n    description: d\n  b:\n    type: bool\n    scope: both\n    apply: reload\n    description: d\n",
                8,
                "`replaced_by` names `gone`, which is not a parameter in this file",
            ),
            (
                "  work_mem:\n    type: bool\n    scope: both\n    apply: reload\n    until: \"14\"\n    replaced_by: work_mme\n    description: d\n",
                9,
                "`replaced_by` names `work_mme`, which is not a parameter in this file, did you mean `work_mem`?",
            ),
            (
                "  a:\n    type: bool\n    scope: both\n    apply: reload\n    aliases: [b]\n    description: d\n  b:\n    type: bool\n    scope: both\n    apply: reload\n    description: d\n",
                8,
                "alias `b` of `a` is also the name of a parameter",
            ),
            (
                "  a:\n    type: bool\n    scope: both\n    apply: reload\n    aliases: [old]\n    description: d\n  b:\n    type: bool\n    scope: both\n    apply: reload\n    aliases: [old]\n    description: d\n",
                14,
                "alias `old` of `b` is also an alias of `a`",
            ),
            (
                "  a:\n    type: bool\n    scope: both\n    apply: reload\n    description: d\n  a:\n    type: int\n",
                9,
                "duplicate key `a`",
            ),
            (
                "  a:\n    type: bool\n    scope: both\n    apply: reload\n    sinse: \"14\"\n    description: d\n",
                8,
                "unknown key `sinse`, did you mean `since`?",
            ),
            (
                "  a:\n    type: bool\n    scope: both\n    apply: relaod\n    description: d\n",
                7,
                "unknown value `relaod`, did you mean `reload`?",
            ),
            (
                "  a:\n    type: enum\n    values: [minimal, replica]\n    default: logical\n    scope: instance\n    apply: restart\n    description: d\n",
                7,
                "invalid default: `logical` is not one of minimal, replica",
            ),
            (
                "  a:\n    type: int\n    min: 0\n    max: 10\n    default: 11\n    scope: instance\n    apply: restart\n    description: d\n",
                8,
                "invalid default: `11` is out of range: must be between 0 and 10",
            ),
            (
                "  a:\n    type: int\n    unit: kB\n    scope: instance\n    apply: restart\n    description: d\n",
                6,
                "`unit` is for size and duration parameters, not int",
            ),
            (
                "  a:\n    type: duration\n    unit: fortnight\n    scope: instance\n    apply: restart\n    description: d\n",
                6,
                "unknown duration unit `fortnight` (expected one of us, ms, s, min, h, d)",
            ),
            (
                "  a:\n    type: size\n    min: lots\n    scope: instance\n    apply: restart\n    description: d\n",
                6,
                "invalid min: `lots` is not a size (a number with one of B, kB, MB, GB, TB, KiB, MiB, GiB, TiB, or a bare number counted in bytes)",
            ),
            (
                "  a:\n    type: string\n    max: 3\n    scope: instance\n    apply: restart\n    description: d\n",
                6,
                "`max` is for numbers, sizes and durations, not string",
            ),
            (
                "  a:\n    type: bool\n    scope: instance\n    apply: restart\n    description: \"  \"\n",
                8,
                "the description is empty",
            ),
            ("  a:\n    type: bool\n    scope: instance\n    apply: restart\n", 5, "missing field `description`"),
        ];
        for (parameters, line, message) in cases {
            let got = errors(parameters);
            assert_eq!(got, vec![(*line, message.to_string())], "for:\n{parameters}");
        }
    }

    #[test]
    fn header_rules() {
        let load_text = |text: &str| match load(EngineKind::Postgresql, "t.yaml", text) {
            Ok(_) => Vec::new(),
            Err(errors) => errors.into_iter().map(|e| (e.location.line, e.message)).collect(),
        };
        assert_eq!(
            load_text("engine: redis\nversions: [\"7\"]\nparameters: {}\n"),
            vec![(1, "this is the catalog of postgresql, but the file says `redis`".to_string())]
        );
        assert_eq!(
            load_text("engine: postgresql\nversions: [\"14\", \"13\", \"13.2\"]\nparameters: {}\n"),
            vec![
                (2, "versions must be listed oldest first, each once: `13` follows `14`".to_string()),
                (2, "versions must be listed oldest first, each once: `13.2` follows `13`".to_string()),
            ]
        );
        assert_eq!(
            load_text("engine: postgresql\nversion: [\"13\"]\nparameters: {}\n"),
            vec![
                (2, "unknown key `version`, did you mean `versions`?".to_string()),
                (1, "missing key `versions`".to_string()),
            ]
        );
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let got = errors(
            "  a:\n    type: enum\n    scope: both\n    apply: reload\n    description: d\n  b:\n    type: int\n    min: 3\n    max: 1\n    scope: both\n    apply: reload\n    description: d\n",
        );
        assert_eq!(got.len(), 2, "{got:?}");
    }

    #[test]
    fn a_good_entry_loads_with_defaults_filled_in() {
        let text = format!(
            "{HEADER}  shared_buffers:\n    type: size\n    unit: 8kB\n    min: 16\n    max: 1073741823\n    default: 128MB\n    scope: instance\n    apply: restart\n    description: Shared page cache.\n"
        );
        let catalog = load(EngineKind::Postgresql, "t.yaml", &text).unwrap();
        let p = catalog.get("shared_buffers").unwrap();
        assert_eq!(p.min, Some(crate::Typed::Bytes(16 * 8192)));
        assert_eq!(p.default, Some(dbfleet_model::Value::String("128MB".into())));
        assert_eq!((p.section.as_str(), p.sensitive, p.read_only), ("main", false, false));
    }
}
