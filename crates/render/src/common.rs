//! What every renderer shares: the header, ordering, native spelling of a
//! value, and provenance comments.

use dbfleet_catalog::{Lookup, Parameter};
use dbfleet_model::EngineKind;
use secrecy::ExposeSecret;

use crate::{RenderInput, RenderValue, Setting, TenantInput};

/// The header that opens every rendered file, as comment lines starting
/// with `comment` (`#`, or `<!--` handled by the caller for XML). It names
/// the target and revision but no time, so the same input renders the same
/// bytes.
pub(crate) fn header_lines(input: &RenderInput<'_>) -> [String; 2] {
    [
        format!(
            "Rendered by dbfleet for {} ({} {}), fleet {}, revision {}.",
            input.instance, input.engine, input.version, input.fleet, input.revision
        ),
        "Do not edit: dbfleet overwrites this file; change the fleet repo instead.".to_string(),
    ]
}

/// `header_lines` as `#` comments followed by a blank line.
pub(crate) fn hash_header(input: &RenderInput<'_>) -> String {
    let [a, b] = header_lines(input);
    format!("# {a}\n# {b}\n\n")
}

/// Settings of one section, in name order.
pub(crate) fn section<'s, 'a>(settings: &'s [Setting<'a>], section: &str) -> Vec<&'s Setting<'a>> {
    let mut out: Vec<&Setting<'_>> = settings.iter().filter(|s| s.parameter.section == section).collect();
    out.sort_by(|a, b| a.name.cmp(b.name));
    out
}

/// The value as the engine spells it; a secret's plaintext for secrets.
pub(crate) fn native(input: &RenderInput<'_>, s: &Setting<'_>) -> String {
    match &s.value {
        RenderValue::Typed(t) => s.parameter.format_native(input.engine, t),
        RenderValue::Secret(secret) => secret.expose_secret().to_string(),
    }
}

/// Whether any of the settings holds a secret.
pub(crate) fn any_secret<'s, 'a: 's>(settings: impl IntoIterator<Item = &'s Setting<'a>>) -> bool {
    settings.into_iter().any(|s| matches!(s.value, RenderValue::Secret(_)))
}

/// The provenance comment for `--annotate`, or nothing.
pub(crate) fn origin(input: &RenderInput<'_>, s: &Setting<'_>) -> Option<String> {
    if input.annotate { s.origin.clone() } else { None }
}

/// The catalog's parameter for a name found in a native file, whatever the
/// version: a canonical name or a deprecated alias, present now or once.
/// Parsers use it to tell settings from directives the catalog does not
/// know, which they list as unmapped.
pub(crate) fn known_parameter(engine: EngineKind, name: &str) -> Option<&'static Parameter> {
    let catalog = dbfleet_catalog::catalog(engine);
    let newest = catalog.versions().last()?;
    match catalog.lookup(name, newest) {
        Lookup::Found(parameter)
        | Lookup::Alias { parameter, .. }
        | Lookup::NotYet { parameter, .. }
        | Lookup::Removed { parameter, .. } => Some(parameter),
        Lookup::Unknown { .. } => None,
    }
}

/// The tenant setting that carries a tenant user's password, for the
/// engines whose tenants are users with passwords (Redis, ClickHouse).
pub(crate) const TENANT_PASSWORD: &str = "password";

/// The plaintext of a tenant's `password` setting, if it has one.
pub(crate) fn tenant_password(input: &RenderInput<'_>, tenant: &TenantInput<'_>) -> Option<String> {
    tenant.settings.iter().find(|s| s.name == TENANT_PASSWORD).map(|s| native(input, s))
}

/// Lowercase hex SHA-256, the form in which Redis ACL files (`#<hex>`) and
/// ClickHouse (`password_sha256_hex`) take a password, so that the
/// plaintext is never written.
pub(crate) fn sha256_hex(text: &str) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Builders of render inputs from the real catalogs, for the renderers'
/// unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use dbfleet_catalog::{ParamType, Parameter, ScopeSet};
    use dbfleet_model::{ApplyMethod, EngineKind, Value, Version};
    use secrecy::SecretString;

    use crate::{RenderInput, RenderValue, Setting, TenantInput};

    /// `name` set to `value` (read the way the fleet's YAML strings are),
    /// with an origin naming the line it stands on.
    pub(crate) fn setting(engine: EngineKind, name: &str, value: &str) -> Setting<'static> {
        let parameter =
            dbfleet_catalog::catalog(engine).get(name).unwrap_or_else(|| panic!("{engine} has no `{name}`"));
        let typed = parameter
            .normalize(engine, &Value::String(value.into()))
            .unwrap_or_else(|e| panic!("{engine} `{name}` = `{value}`: {e}"));
        Setting {
            name: &parameter.name,
            parameter,
            value: RenderValue::Typed(typed),
            origin: Some(format!("layers/base/{engine}.yaml ({name}), engine base {engine}")),
        }
    }

    fn settings(engine: EngineKind, pairs: &[(&str, &str)]) -> Vec<Setting<'static>> {
        pairs.iter().map(|(name, value)| setting(engine, name, value)).collect()
    }

    /// An instance `db-1` of fleet `acme` at revision `abc123`, without
    /// tenants or annotations.
    pub(crate) fn input(engine: EngineKind, version: &str, pairs: &[(&str, &str)]) -> RenderInput<'static> {
        let version: &'static Version = Box::leak(Box::new(version.parse().expect("a version")));
        RenderInput {
            engine,
            version,
            instance: "db-1",
            fleet: "acme",
            revision: "abc123",
            annotate: false,
            settings: settings(engine, pairs),
            tenants: Vec::new(),
        }
    }

    pub(crate) fn tenant(engine: EngineKind, name: &'static str, pairs: &[(&str, &str)]) -> TenantInput<'static> {
        TenantInput { tenant: name, settings: settings(engine, pairs) }
    }

    /// `name` holding a secret's plaintext. A name the catalog lacks (the
    /// tenant `password`) gets a sensitive string parameter of its own.
    pub(crate) fn secret_setting(engine: EngineKind, name: &str, plaintext: &str) -> Setting<'static> {
        let parameter: &'static Parameter = match dbfleet_catalog::catalog(engine).get(name) {
            Some(p) => p,
            None => Box::leak(Box::new(Parameter {
                name: name.to_string(),
                ty: ParamType::String,
                unit: None,
                min: None,
                max: None,
                default: None,
                values: Vec::new(),
                scope: ScopeSet::Tenant,
                apply: ApplyMethod::Reload,
                since: None,
                until: None,
                replaced_by: None,
                aliases: Vec::new(),
                section: if engine == EngineKind::Clickhouse { "users" } else { "main" }.to_string(),
                sensitive: true,
                read_only: false,
                description: "A tenant user's password.".to_string(),
            })),
        };
        Setting {
            name: &parameter.name,
            parameter,
            value: RenderValue::Secret(SecretString::from(plaintext)),
            origin: Some(format!("secret for {name}")),
        }
    }
}

/// A value for a line-based file (neo4j.conf, JVM options, keystore
/// entries), where nothing can continue a value on the next line.
pub(crate) fn one_line(s: &Setting<'_>, text: String) -> Result<String, crate::RenderError> {
    if text.contains(['\n', '\r']) {
        let reason = "the value spans several lines, which this file cannot hold".to_string();
        return Err(crate::RenderError::Unrenderable { name: s.name.to_string(), reason });
    }
    Ok(text)
}

/// The `--annotate` provenance as a comment line of its own, for files
/// whose values run to the end of the line: a `#` after the value would
/// become part of it.
pub(crate) fn origin_line(input: &RenderInput<'_>, s: &Setting<'_>) -> String {
    origin(input, s).map(|o| format!("# {}\n", o.replace(['\n', '\r'], " "))).unwrap_or_default()
}

/// Why a name read from a native file is not taken as a setting: the
/// catalog does not know it, perhaps with a close name to suggest.
pub(crate) fn unknown_reason(engine: EngineKind, name: &str) -> String {
    let catalog = dbfleet_catalog::catalog(engine);
    let suggestion = catalog.versions().last().and_then(|newest| match catalog.lookup(name, newest) {
        Lookup::Unknown { suggestion } => suggestion,
        _ => None,
    });
    let hint = suggestion.map(|s| format!("; did you mean `{s}`?")).unwrap_or_default();
    format!("`{name}` is not a {engine} parameter in the catalog{hint}")
}

/// The checks every document-engine renderer (MongoDB, Elasticsearch,
/// Neo4j, Cassandra) runs before it writes anything.
pub(crate) mod guard {
    use dbfleet_catalog::Lookup;

    use crate::{RenderError, RenderInput};

    /// Refuses what would otherwise be dropped or written into a file the
    /// server rejects: a tenant-scope setting (none of these engines has
    /// one), a setting of a section none of the engine's files holds, and a
    /// setting the target version does not have. Validation reports each of
    /// these first, where it was written; this is the renderer's own guard.
    pub(crate) fn check(input: &RenderInput<'_>, sections: &[&str]) -> Result<(), RenderError> {
        let (engine, version) = (input.engine, input.version);
        if let Some((tenant, s)) = input.tenants.iter().find_map(|t| t.settings.first().map(|s| (t.tenant, s))) {
            let reason = format!("{engine} has no tenant-scope parameters, but tenant `{tenant}` sets it");
            return Err(RenderError::Unrenderable { name: s.name.to_string(), reason });
        }
        for s in &input.settings {
            if !sections.contains(&s.parameter.section.as_str()) {
                let section = s.parameter.section.clone();
                return Err(RenderError::UnknownSection { engine, section, name: s.name.to_string() });
            }
            let reason = match dbfleet_catalog::catalog(engine).lookup(s.name, version) {
                Lookup::Found(_) | Lookup::Alias { .. } => continue,
                Lookup::NotYet { since, .. } => {
                    format!("{engine} {version} does not have it; it exists from {since} on")
                }
                Lookup::Removed { until, replaced_by, .. } => format!(
                    "{engine} {version} no longer has it; it was last in {until}{}",
                    replaced_by.map(|r| format!(", use `{r}` instead")).unwrap_or_default()
                ),
                Lookup::Unknown { .. } => format!("it is not in the {engine} catalog"),
            };
            return Err(RenderError::Unrenderable { name: s.name.to_string(), reason });
        }
        Ok(())
    }
}

/// YAML for mongod.conf, elasticsearch.yml and cassandra.yaml: a small
/// block-style writer that can put a comment beside any value, and a reader
/// that flattens nested maps back into the catalog's dotted names.
///
/// Scalars are spelled by the `saphyr` emitter, which quotes any string a
/// YAML 1.1 or 1.2 reader would take for something else (`off`, `0700`,
/// `a: b`); the structure is written here because neither saphyr's emitter
/// nor serde-saphyr can put a comment beside a list or a map.
pub(crate) mod yaml {
    use dbfleet_catalog::{ParamType, Parameter, Typed};
    use dbfleet_model::EngineKind;
    use dbfleet_model::yaml::Node;
    use saphyr::{Scalar, Yaml as SaphyrYaml, YamlEmitter};
    use secrecy::ExposeSecret;

    use crate::{ParseError, Parsed, ParsedSetting, RenderInput, RenderValue, Setting, Unmapped};

    /// One value, written in block style.
    pub(crate) enum Yaml {
        /// Text already spelled as YAML, plain or quoted.
        Scalar(String),
        Seq(Vec<Yaml>),
        Map(Map),
    }

    /// A mapping in insertion order; each entry may carry a comment.
    #[derive(Default)]
    pub(crate) struct Map {
        entries: Vec<(String, Yaml, Option<String>)>,
    }

    impl Map {
        /// Puts `value` at the dotted `path`, creating the maps on the way
        /// and writing `comment` beside it. Fails when part of the path
        /// already holds a value, or the path a map: a catalog with both
        /// `a.b` and `a.b.c` cannot be written as nested maps.
        pub(crate) fn insert(&mut self, path: &[&str], value: Yaml, comment: Option<String>) -> Result<(), String> {
            let Some((first, rest)) = path.split_first() else {
                return Err("the name is empty".into());
            };
            let existing = self.entries.iter_mut().find(|(key, _, _)| key == first);
            match (existing, rest.is_empty()) {
                (None, true) => self.entries.push((first.to_string(), value, comment)),
                (None, false) => {
                    let mut child = Map::default();
                    child.insert(rest, value, comment)?;
                    self.entries.push((first.to_string(), Yaml::Map(child), None));
                }
                (Some((_, Yaml::Map(child), _)), false) => child.insert(rest, value, comment)?,
                (Some(_), _) => return Err(format!("`{first}` would hold both a value and other settings")),
            }
            Ok(())
        }

        /// The whole map as a YAML document.
        pub(crate) fn write(&self, out: &mut String) {
            write_map(self, 0, false, out);
        }
    }

    /// `text` as a YAML scalar: plain where that reads back as the same
    /// string, otherwise double-quoted with escapes (multi-line text too, so
    /// it stays on its key's line).
    pub(crate) fn scalar(text: &str) -> String {
        let mut out = String::new();
        // The emitter fails only when its writer does, and a String never does.
        let _ = YamlEmitter::new(&mut out).dump(&SaphyrYaml::Value(Scalar::String(text.into())));
        out.strip_prefix("---\n").map(str::to_string).unwrap_or(out)
    }

    /// A setting's value: the engine's spelling of a typed value (plain
    /// where YAML reads it back as the intended number or boolean), lists
    /// as block sequences, maps as nested maps, a secret as its plaintext.
    pub(crate) fn setting(input: &RenderInput<'_>, s: &Setting<'_>) -> Yaml {
        match &s.value {
            RenderValue::Typed(t) => typed(input.engine, s.parameter, t),
            RenderValue::Secret(secret) => Yaml::Scalar(scalar(secret.expose_secret())),
        }
    }

    /// A typed value of parameter `p`, as [`setting`] writes it.
    pub(crate) fn typed(engine: EngineKind, p: &Parameter, t: &Typed) -> Yaml {
        match t {
            Typed::Str(s) => Yaml::Scalar(scalar(s)),
            Typed::List(items) => Yaml::Seq(items.iter().map(|item| typed(engine, p, item)).collect()),
            Typed::Map(map) => {
                let mut out = Map::default();
                out.entries.extend(map.iter().map(|(k, v)| (k.clone(), typed(engine, p, v), None)));
                Yaml::Map(out)
            }
            Typed::Bool(_) | Typed::Int(_) | Typed::Real(_) | Typed::Bytes(_) | Typed::Micros(_) => {
                Yaml::Scalar(native_scalar(&p.format_native(engine, t)))
            }
        }
    }

    /// The engine's spelling of a number, boolean, size or duration: plain
    /// when YAML reads it back as a number or boolean (`8`, `true`) or as
    /// the same string (`256MiB`), quoted otherwise.
    pub(crate) fn native_scalar(text: &str) -> String {
        use dbfleet_model::Value;
        match Value::from_plain_scalar(text) {
            Value::Bool(_) | Value::Int(_) | Value::Float(_) => text.to_string(),
            _ => scalar(text),
        }
    }

    fn indent(out: &mut String, width: usize) {
        out.extend(std::iter::repeat_n(' ', width));
    }

    fn comment(out: &mut String, comment: Option<&String>) {
        if let Some(c) = comment {
            out.push_str(" # ");
            out.push_str(&c.replace(['\n', '\r'], " "));
        }
        out.push('\n');
    }

    /// Writes `map` at `width` spaces; `inline` when the first entry goes on
    /// a line already started (after a sequence item's `- `).
    fn write_map(map: &Map, width: usize, inline: bool, out: &mut String) {
        for (i, (key, value, note)) in map.entries.iter().enumerate() {
            if !(inline && i == 0) {
                indent(out, width);
            }
            out.push_str(&scalar(key));
            out.push(':');
            match value {
                Yaml::Scalar(text) => {
                    out.push(' ');
                    out.push_str(text);
                    comment(out, note.as_ref());
                }
                Yaml::Seq(items) if items.is_empty() => {
                    out.push_str(" []");
                    comment(out, note.as_ref());
                }
                Yaml::Map(child) if child.entries.is_empty() => {
                    out.push_str(" {}");
                    comment(out, note.as_ref());
                }
                Yaml::Seq(items) => {
                    comment(out, note.as_ref());
                    write_seq(items, width + 2, out);
                }
                Yaml::Map(child) => {
                    comment(out, note.as_ref());
                    write_map(child, width + 2, false, out);
                }
            }
        }
    }

    fn write_seq(items: &[Yaml], width: usize, out: &mut String) {
        for item in items {
            indent(out, width);
            out.push('-');
            match item {
                Yaml::Scalar(text) => {
                    out.push(' ');
                    out.push_str(text);
                    out.push('\n');
                }
                Yaml::Seq(inner) if inner.is_empty() => out.push_str(" []\n"),
                Yaml::Map(inner) if inner.entries.is_empty() => out.push_str(" {}\n"),
                Yaml::Seq(inner) => {
                    out.push('\n');
                    write_seq(inner, width + 2, out);
                }
                Yaml::Map(inner) => {
                    out.push(' ');
                    write_map(inner, width + 2, true, out);
                }
            }
        }
    }

    /// Reads a YAML configuration file of `engine` into settings named by
    /// dotted paths, each at the line of its key. A path stops at the first
    /// prefix the catalog knows, so a list or map parameter keeps its value
    /// whole; keys the catalog does not know are followed into their maps,
    /// and whatever still means nothing is listed as unmapped with the
    /// reason. Parameters of a section other than `sections` (a JVM option
    /// in cassandra.yaml) are unmapped too: they belong in another file.
    pub(crate) fn flatten(
        engine: EngineKind,
        file_name: &str,
        text: &str,
        sections: &[&str],
    ) -> Result<Parsed, ParseError> {
        let root = dbfleet_model::yaml::parse(file_name, text).map_err(|errors| match errors.into_iter().next() {
            Some(e) => ParseError { line: e.location.line, message: e.message },
            None => ParseError { line: 1, message: "invalid YAML".into() },
        })?;
        let mut parsed = Parsed::default();
        if root.is_null() {
            return Ok(parsed);
        }
        let Some(entries) = root.as_map() else {
            let message = format!("{file_name} must be a map of settings, found a {}", root.describe());
            return Err(ParseError { line: root.location.line, message });
        };
        walk(engine, None, entries, sections, &mut parsed);
        Ok(parsed)
    }

    fn walk(
        engine: EngineKind,
        prefix: Option<&str>,
        entries: &[(Node, Node)],
        sections: &[&str],
        parsed: &mut Parsed,
    ) {
        for (key, value) in entries {
            let key_text = key.as_str().unwrap_or_default();
            let name = prefix.map_or_else(|| key_text.to_string(), |p| format!("{p}.{key_text}"));
            let line = key.location.line;
            // A map under the name of a parameter that takes no map is the
            // nested spelling of longer names: Elasticsearch reads
            // `cluster: {max_shards_per_node: {frozen: 10}}` as
            // `cluster.max_shards_per_node.frozen`.
            let parameter = crate::common::known_parameter(engine, &name)
                .filter(|p| p.ty == ParamType::Map || value.as_map().is_none());
            let reason = match parameter {
                Some(p) if !sections.contains(&p.section.as_str()) => {
                    format!("`{name}` is a parameter of the `{}` section, which belongs in another file", p.section)
                }
                Some(_) if value.is_null() => format!("`{name}` has no value, so the engine keeps its default"),
                Some(_) => {
                    parsed.settings.push(ParsedSetting { name, value: value.to_value(), line });
                    continue;
                }
                None => match value.as_map() {
                    Some(children) if !children.is_empty() => {
                        walk(engine, Some(&name), children, sections, parsed);
                        continue;
                    }
                    _ => crate::common::unknown_reason(engine, &name),
                },
            };
            parsed.unmapped.push(Unmapped { line, text: format!("{name}: {}", value.to_value()), reason });
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn scalar_value(text: &str) -> Yaml {
            Yaml::Scalar(scalar(text))
        }

        #[test]
        fn scalars_are_quoted_only_where_a_reader_would_misread_them() {
            for (text, want) in [
                ("zstd", "zstd"),
                ("/var/lib/mongodb", "/var/lib/mongodb"),
                ("off", "\"off\""),
                ("0700", "\"0700\""),
                ("a: b", "\"a: b\""),
                ("", "\"\""),
                ("two\nlines", "\"two\\nlines\""),
            ] {
                assert_eq!(scalar(text), want, "{text:?}");
            }
            assert_eq!(
                (native_scalar("8"), native_scalar("true"), native_scalar("256MiB")),
                ("8".into(), "true".into(), "256MiB".into())
            );
        }

        #[test]
        fn every_shape_is_written_in_block_style_and_reads_back() {
            let mut inner = Map::default();
            inner.insert(&["class_name"], scalar_value("X"), None).unwrap();
            inner.insert(&["parameters"], Yaml::Seq(vec![scalar_value("a"), Yaml::Seq(vec![])]), None).unwrap();
            let mut map = Map::default();
            map.insert(&["a", "b"], Yaml::Seq(vec![Yaml::Map(inner), Yaml::Map(Map::default())]), Some("why".into()))
                .unwrap();
            map.insert(&["a", "c"], Yaml::Map(Map::default()), None).unwrap();
            map.insert(&["d"], Yaml::Seq(vec![Yaml::Seq(vec![scalar_value("x")])]), None).unwrap();
            let mut out = String::new();
            map.write(&mut out);
            assert_eq!(
                out,
                "a:\n  b: # why\n    - class_name: X\n      parameters:\n        - a\n        - []\n    - {}\n  c: {}\nd:\n  -\n    - x\n"
            );
            let read = dbfleet_model::yaml::parse("t", &out).unwrap().to_value().to_string();
            assert_eq!(read, "{a: {b: [{class_name: X, parameters: [a, []]}, {}], c: {}}, d: [[x]]}");
        }

        #[test]
        fn a_name_cannot_hold_a_value_and_other_names() {
            let mut map = Map::default();
            map.insert(&["a", "b"], scalar_value("1"), None).unwrap();
            assert!(map.insert(&["a", "b", "c"], scalar_value("2"), None).is_err());
            assert!(map.insert(&["a"], scalar_value("3"), None).is_err());
        }
    }
}

/// JVM options files: Elasticsearch's `jvm.options.d/*.options` and
/// Cassandra's `jvm*-server.options`, one flag per line and `#` comments.
///
/// Each catalog `jvm.*` parameter is one flag, spelled as its description
/// says. `jvm.extra_options` holds raw flags the catalog does not model; they
/// are written last, under a marker comment, so that reading dbfleet's own
/// file gives the list back, while a flag the catalog does not model in a
/// file someone else wrote is listed as unmapped.
pub(crate) mod jvm {
    use dbfleet_catalog::Typed;
    use dbfleet_model::{EngineKind, Value};

    use crate::{Parsed, ParsedSetting, RenderError, RenderInput, RenderValue, Setting, Unmapped};

    /// How a parameter is spelled as a flag.
    enum Form {
        /// The value right after a prefix: `-Xmx4g`.
        Prefix(&'static str),
        /// A boolean `-XX:` switch: `-XX:+AlwaysPreTouch`, `-XX:-AlwaysPreTouch`.
        Switch(&'static str),
        /// `-XX:Name=value`.
        Assign(&'static str),
        /// The collector named by the value: `-XX:+UseG1GC`.
        Collector,
    }

    /// Every JVM parameter of the catalogs and its flag. An engine's files
    /// use the ones its own catalog has.
    const FLAGS: &[(&str, Form)] = &[
        ("jvm.heap.min", Form::Prefix("-Xms")),
        ("jvm.heap.max", Form::Prefix("-Xmx")),
        ("jvm.heap.new", Form::Prefix("-Xmn")),
        ("jvm.gc", Form::Collector),
        ("jvm.g1.max_gc_pause_millis", Form::Assign("-XX:MaxGCPauseMillis=")),
        ("jvm.parallel_gc_threads", Form::Assign("-XX:ParallelGCThreads=")),
        ("jvm.conc_gc_threads", Form::Assign("-XX:ConcGCThreads=")),
        ("jvm.always_pre_touch", Form::Switch("AlwaysPreTouch")),
        ("jvm.heap_dump_on_oom", Form::Switch("HeapDumpOnOutOfMemoryError")),
        ("jvm.heap_dump_path", Form::Assign("-XX:HeapDumpPath=")),
        ("jvm.error_file", Form::Assign("-XX:ErrorFile=")),
    ];

    /// The parameter whose raw flags are copied as they are.
    const EXTRA: &str = "jvm.extra_options";

    /// The comment line above the extra flags in dbfleet's own files.
    const EXTRA_MARKER: &str = "# jvm.extra_options: flags the catalog does not model, as the fleet repo lists them.";

    /// Appends the flags of `settings` (in name order, the extra flags
    /// last), each under its `--annotate` comment.
    pub(crate) fn write(
        input: &RenderInput<'_>,
        settings: &[&Setting<'_>],
        out: &mut String,
    ) -> Result<(), RenderError> {
        let mut extra = None;
        for s in settings {
            if s.name == EXTRA {
                extra = Some(*s);
                continue;
            }
            let line = crate::common::one_line(s, flag(input, s)?)?;
            out.push_str(&crate::common::origin_line(input, s));
            out.push_str(&line);
            out.push('\n');
        }
        if let Some(s) = extra {
            out.push_str(&crate::common::origin_line(input, s));
            out.push_str(EXTRA_MARKER);
            out.push('\n');
            let items = match &s.value {
                RenderValue::Typed(Typed::List(items)) => {
                    items.iter().map(|t| s.parameter.format_native(input.engine, t)).collect()
                }
                _ => vec![crate::common::native(input, s)],
            };
            for item in items {
                out.push_str(&crate::common::one_line(s, item)?);
                out.push('\n');
            }
        }
        Ok(())
    }

    fn flag(input: &RenderInput<'_>, s: &Setting<'_>) -> Result<String, RenderError> {
        let unrenderable =
            |reason: &str| RenderError::Unrenderable { name: s.name.to_string(), reason: reason.to_string() };
        let form = FLAGS.iter().find(|(name, _)| *name == s.name).map(|(_, form)| form);
        let value = crate::common::native(input, s);
        Ok(match form {
            Some(Form::Prefix(prefix)) => format!("{prefix}{value}"),
            Some(Form::Assign(prefix)) => format!("{prefix}{value}"),
            Some(Form::Collector) => format!("-XX:+Use{value}"),
            Some(Form::Switch(name)) => match &s.value {
                RenderValue::Typed(Typed::Bool(true)) => format!("-XX:+{name}"),
                RenderValue::Typed(Typed::Bool(false)) => format!("-XX:-{name}"),
                _ => return Err(unrenderable("a JVM switch takes true or false")),
            },
            None => return Err(unrenderable("dbfleet knows no JVM flag for it")),
        })
    }

    /// Reads a JVM options file of `engine`. `stock` lists the lines that
    /// dbfleet itself writes into this file besides the settings (see
    /// Cassandra's per-JDK files); they are listed as unmapped, as is every
    /// flag the catalog does not model outside the extra-flags block. When a
    /// flag is given twice, the JVM takes the last; the earlier one is
    /// listed as unmapped.
    pub(crate) fn parse(engine: EngineKind, text: &str, stock: &[&str]) -> Parsed {
        let mut parsed = Parsed::default();
        let mut extra: Option<(u32, Vec<Value>)> = None;
        for (index, raw) in text.lines().enumerate() {
            let line = index as u32 + 1;
            let flag = raw.trim();
            if flag == EXTRA_MARKER {
                extra = Some((line, Vec::new()));
                continue;
            }
            if flag.is_empty() || flag.starts_with('#') {
                continue;
            }
            if let Some((_, items)) = &mut extra {
                items.push(Value::String(flag.to_string()));
                continue;
            }
            let unmapped = |reason: String| Unmapped { line, text: flag.to_string(), reason };
            if stock.contains(&flag) {
                parsed.unmapped.push(unmapped("a stock flag of this file, which dbfleet writes itself".into()));
            } else if let Some((name, value)) = read(engine, flag) {
                if let Some(at) = parsed.settings.iter().position(|s| s.name == name) {
                    let earlier = parsed.settings.remove(at);
                    let reason = format!("`{name}` is set again on line {line}, and the JVM takes the last");
                    parsed.unmapped.push(Unmapped {
                        line: earlier.line,
                        text: format!("{name}: {}", earlier.value),
                        reason,
                    });
                }
                parsed.settings.push(ParsedSetting { name: name.to_string(), value, line });
            } else if !flag.starts_with('-') {
                let reason =
                    if flag.split_once(':').is_some_and(|(range, _)| range.starts_with(|c: char| c.is_ascii_digit())) {
                        "an option for some JDK versions only; dbfleet writes options that apply to every JDK"
                    } else {
                        "not a JVM option (options start with `-`)"
                    };
                parsed.unmapped.push(unmapped(reason.into()));
            } else {
                parsed.unmapped.push(unmapped(format!(
                    "a flag the {engine} catalog does not model; list it under `{EXTRA}` to keep it"
                )));
            }
        }
        if let Some((line, items)) = extra {
            parsed.settings.push(ParsedSetting { name: EXTRA.to_string(), value: Value::List(items), line });
        }
        parsed.unmapped.sort_by_key(|u| u.line);
        parsed
    }

    /// The parameter a flag sets and its value, if the engine's catalog
    /// models the flag.
    fn read(engine: EngineKind, flag: &str) -> Option<(&'static str, Value)> {
        let catalog = dbfleet_catalog::catalog(engine);
        FLAGS.iter().filter(|(name, _)| catalog.get(name).is_some()).find_map(|(name, form)| {
            let value = match form {
                Form::Prefix(prefix) | Form::Assign(prefix) => Value::String(flag.strip_prefix(prefix)?.to_string()),
                Form::Switch(switch) => match flag.strip_prefix("-XX:")?.split_at_checked(1)? {
                    ("+", rest) if rest == *switch => Value::Bool(true),
                    ("-", rest) if rest == *switch => Value::Bool(false),
                    _ => return None,
                },
                Form::Collector => {
                    let collector = flag.strip_prefix("-XX:+Use")?;
                    catalog
                        .get(name)?
                        .values
                        .iter()
                        .any(|v| v == collector)
                        .then(|| Value::String(collector.to_string()))?
                }
            };
            Some((*name, value))
        })
    }
}
