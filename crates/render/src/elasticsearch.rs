//! Elasticsearch: `elasticsearch.yml`, `jvm.options.d/dbfleet.options` and,
//! when there are secure settings, `elasticsearch.keystore.env`; and readers
//! for all three.
//!
//! `elasticsearch.yml` holds the catalog's `main` section as flat dotted keys
//! (`cluster.name: prod`), the style of Elastic's own examples, with lists as
//! YAML sequences. Flat keys also keep `cluster.max_shards_per_node` and
//! `cluster.max_shards_per_node.frozen` apart, which nested maps could not.
//! Dynamic cluster settings (`apply: runtime`) are written here too, where
//! they act as this node's defaults; setting them cluster-wide through the
//! cluster settings API is the driver's job, not this file's.
//!
//! The `jvm` section goes to a file in `jvm.options.d`, which Elasticsearch
//! reads after its own `jvm.options`: `-Xms4g`, `-Xmx4g` and the flags the
//! catalog describes (`common::jvm`).
//!
//! The `keystore` section (the TLS keystore and truststore passwords) is
//! refused by Elasticsearch in elasticsearch.yml; it belongs in the
//! elasticsearch-keystore, which is a binary file only the
//! `elasticsearch-keystore` tool writes. So dbfleet renders those settings
//! into a separate sensitive file, `NAME=VALUE` per line, that Elasticsearch
//! never reads: whoever installs the files must load each entry with
//! `elasticsearch-keystore add --stdin --force NAME` (the file's header says
//! how) before the node starts. Nothing here was checked against a running
//! node.

use dbfleet_model::{EngineKind, Value};

use crate::common::{self, guard, jvm, yaml};
use crate::{ParseError, Parsed, ParsedSetting, RenderError, RenderInput, RenderedFile, Unmapped};

const YML: &str = "elasticsearch.yml";
const JVM_OPTIONS: &str = "jvm.options.d/dbfleet.options";
const KEYSTORE: &str = "elasticsearch.keystore.env";

/// How to load the keystore entries, written under the header.
const KEYSTORE_HELP: &str = "\
# Secure settings for the elasticsearch-keystore. Elasticsearch does not read
# this file: load every entry into the keystore before the node starts, e.g.
#   grep -v -e '^#' -e '^$' elasticsearch.keystore.env | while IFS= read -r entry; do
#     printf '%s' \"${entry#*=}\" | bin/elasticsearch-keystore add --stdin --force \"${entry%%=*}\"; done
# then restart the node (or call POST _nodes/reload_secure_settings for the
# settings Elasticsearch marks reloadable). Each line is NAME=VALUE; the value
# runs to the end of the line, unquoted.

";

pub(crate) fn render(input: &RenderInput<'_>) -> Result<Vec<RenderedFile>, RenderError> {
    guard::check(input, &["main", "jvm", "keystore"])?;

    let main = common::section(&input.settings, "main");
    let mut tree = yaml::Map::default();
    for s in &main {
        tree.insert(&[s.name], yaml::setting(input, s), common::origin(input, s))
            .map_err(|reason| RenderError::Unrenderable { name: s.name.to_string(), reason })?;
    }
    let mut yml = common::hash_header(input);
    tree.write(&mut yml);

    let options = common::section(&input.settings, "jvm");
    let mut jvm_text = common::hash_header(input);
    jvm::write(input, &options, &mut jvm_text)?;

    let mut files = vec![
        RenderedFile { path: YML.into(), contents: yml, sensitive: common::any_secret(main.iter().copied()) },
        RenderedFile {
            path: JVM_OPTIONS.into(),
            contents: jvm_text,
            sensitive: common::any_secret(options.iter().copied()),
        },
    ];

    let keystore = common::section(&input.settings, "keystore");
    if !keystore.is_empty() {
        let mut text = common::hash_header(input);
        text.push_str(KEYSTORE_HELP);
        for s in &keystore {
            text.push_str(&common::origin_line(input, s));
            let value = common::one_line(s, common::native(input, s))?;
            text.push_str(&format!("{}={value}\n", s.name));
        }
        // Secure settings are passwords even when a value reached us as
        // plain text, so the file is always private.
        files.push(RenderedFile { path: KEYSTORE.into(), contents: text, sensitive: true });
    }
    Ok(files)
}

/// Reads `elasticsearch.yml` (flat or nested keys), any `*.options` file
/// (`jvm.options`, `jvm.options.d/*.options`) or the keystore entries file.
pub(crate) fn parse(file_name: &str, text: &str) -> Result<Parsed, ParseError> {
    let base = file_name.rsplit('/').next().unwrap_or(file_name);
    if base == KEYSTORE {
        Ok(parse_keystore(text))
    } else if base.ends_with(".options") {
        Ok(jvm::parse(EngineKind::Elasticsearch, text, &[]))
    } else {
        yaml::flatten(EngineKind::Elasticsearch, file_name, text, &["main"])
    }
}

fn parse_keystore(text: &str) -> Parsed {
    let mut parsed = Parsed::default();
    for (index, raw) in text.lines().enumerate() {
        let line = index as u32 + 1;
        if raw.trim().is_empty() || raw.trim_start().starts_with('#') {
            continue;
        }
        let reason = match raw.split_once('=') {
            None => "not a `NAME=VALUE` line".to_string(),
            Some((name, value)) => match common::known_parameter(EngineKind::Elasticsearch, name.trim()) {
                Some(p) if p.section == "keystore" => {
                    let (name, value) = (name.trim().to_string(), Value::String(value.to_string()));
                    parsed.settings.push(ParsedSetting { name, value, line });
                    continue;
                }
                Some(p) => {
                    format!("`{}` is not a secure setting; it belongs in the `{}` section's file", p.name, p.section)
                }
                None => common::unknown_reason(EngineKind::Elasticsearch, name.trim()),
            },
        };
        // The line may hold a password: name only what comes before `=`.
        let text = raw.split_once('=').map_or(raw, |(name, _)| name).trim().to_string();
        parsed.unmapped.push(Unmapped { line, text, reason });
    }
    parsed
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::*;
    use crate::RenderValue;
    use crate::common::testing;

    fn files(input: &RenderInput<'_>) -> Vec<RenderedFile> {
        render(input).unwrap()
    }

    #[test]
    fn keys_stay_flat_and_lists_are_sequences() {
        let input = testing::input(
            EngineKind::Elasticsearch,
            "8",
            &[
                ("cluster.max_shards_per_node", "1500"),
                ("cluster.max_shards_per_node.frozen", "4000"),
                ("discovery.seed_hosts", "[es-1:9300, es-2:9300]"),
                ("http.port", "9200"),
            ],
        );
        let yml = &files(&input)[0];
        assert_eq!(
            yml.contents.split_once("\n\n").unwrap().1,
            "cluster.max_shards_per_node: 1500\ncluster.max_shards_per_node.frozen: 4000\ndiscovery.seed_hosts:\n  - \"es-1:9300\"\n  - \"es-2:9300\"\nhttp.port: \"9200\"\n"
        );
    }

    #[test]
    fn jvm_settings_become_flags_in_jvm_options_d() {
        let input = testing::input(
            EngineKind::Elasticsearch,
            "8",
            &[
                ("jvm.heap.max", "4GB"),
                ("jvm.heap.min", "4096MB"),
                ("jvm.gc", "G1GC"),
                ("jvm.heap_dump_on_oom", "false"),
            ],
        );
        let options = &files(&input)[1];
        assert_eq!(options.path, JVM_OPTIONS);
        assert_eq!(
            options.contents.split_once("\n\n").unwrap().1,
            "-XX:+UseG1GC\n-Xmx4g\n-Xms4g\n-XX:-HeapDumpOnOutOfMemoryError\n"
        );
        let parsed = parse(JVM_OPTIONS, &options.contents).unwrap();
        let names: Vec<&str> = parsed.settings.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["jvm.gc", "jvm.heap.max", "jvm.heap.min", "jvm.heap_dump_on_oom"]);
    }

    #[test]
    fn secure_settings_go_to_a_private_keystore_file_only() {
        let mut input = testing::input(EngineKind::Elasticsearch, "8", &[("xpack.security.http.ssl.enabled", "true")]);
        let parameter = dbfleet_catalog::catalog(EngineKind::Elasticsearch)
            .get("xpack.security.http.ssl.keystore.secure_password")
            .unwrap();
        input.settings.push(crate::Setting {
            name: &parameter.name,
            parameter,
            value: RenderValue::Secret(SecretString::from("p=ss word")),
            origin: None,
        });
        let files = files(&input);
        assert_eq!(
            files.iter().map(|f| (f.path.as_str(), f.sensitive)).collect::<Vec<_>>(),
            [(YML, false), (JVM_OPTIONS, false), (KEYSTORE, true)]
        );
        assert!(!files[0].contents.contains("secure_password"));
        assert!(files[2].contents.ends_with("\nxpack.security.http.ssl.keystore.secure_password=p=ss word\n"));
        let parsed = parse(KEYSTORE, &files[2].contents).unwrap();
        assert_eq!(parsed.settings[0].value, Value::String("p=ss word".into()));
    }

    #[test]
    fn nested_keys_read_as_flat_ones() {
        let text = "cluster:\n  name: logs\n  max_shards_per_node: 1500\n  max_shards_per_node.frozen: 10\nnode: {roles: [data]}\n";
        let parsed = parse(YML, text).unwrap();
        let got: Vec<(&str, u32)> = parsed.settings.iter().map(|s| (s.name.as_str(), s.line)).collect();
        assert_eq!(
            got,
            [
                ("cluster.name", 2),
                ("cluster.max_shards_per_node", 3),
                ("cluster.max_shards_per_node.frozen", 4),
                ("node.roles", 5)
            ]
        );
        let nested = parse(YML, "cluster:\n  max_shards_per_node:\n    frozen: 10\n").unwrap();
        assert_eq!(nested.settings[0].name, "cluster.max_shards_per_node.frozen");
    }

    #[test]
    fn a_secure_setting_in_elasticsearch_yml_is_unmapped() {
        let parsed = parse(YML, "xpack.security.http.ssl.keystore.secure_password: hunter2\n").unwrap();
        assert!(parsed.settings.is_empty());
        assert_eq!(
            parsed.unmapped[0].reason,
            "`xpack.security.http.ssl.keystore.secure_password` is a parameter of the `keystore` section, which belongs in another file"
        );
    }

    #[test]
    fn a_removed_setting_is_refused_for_version_9() {
        let pairs = [("cluster.routing.allocation.disk.watermark.enable_for_single_data_node", "true")];
        assert!(render(&testing::input(EngineKind::Elasticsearch, "8", &pairs)).is_ok());
        let err = render(&testing::input(EngineKind::Elasticsearch, "9", &pairs)).expect_err("refused");
        assert!(err.to_string().ends_with("elasticsearch 9 no longer has it; it was last in 8"), "{err}");
    }

    #[test]
    fn jdk_specific_and_unknown_lines_of_jvm_options_are_unmapped() {
        let parsed = parse("jvm.options", "-Xms2g\n17-:-XX:+UseZGC\n-XX:+UseStringDeduplication\n-Xms3g\n").unwrap();
        assert_eq!(
            parsed.settings,
            [ParsedSetting { name: "jvm.heap.min".into(), value: Value::String("3g".into()), line: 4 }]
        );
        let lines: Vec<(u32, &str)> = parsed.unmapped.iter().map(|u| (u.line, u.reason.as_str())).collect();
        assert_eq!(
            lines,
            [
                (1, "`jvm.heap.min` is set again on line 4, and the JVM takes the last"),
                (2, "an option for some JDK versions only; dbfleet writes options that apply to every JDK"),
                (3, "a flag the elasticsearch catalog does not model; list it under `jvm.extra_options` to keep it"),
            ]
        );
    }
}
