//! MongoDB: `mongod.conf`, the YAML file mongod reads with `--config`, and
//! a reader for it.
//!
//! The catalog's dotted names (`storage.wiredTiger.engineConfig.cacheSizeGB`)
//! become nested maps, and server parameters (`setParameter.<name>`) entries
//! of the `setParameter:` map, as the MongoDB manual writes them. A parameter
//! the target version does not have is refused (validation reports it first):
//! mongod refuses to start on an option it does not know, such as
//! `storage.journal.enabled` after 6.0. Nothing here was checked against a
//! running mongod; the layout follows the manual's configuration file
//! options page.

use dbfleet_catalog::Typed;
use dbfleet_model::EngineKind;

use crate::common::{self, guard, yaml};
use crate::{ParseError, Parsed, RenderError, RenderInput, RenderValue, RenderedFile};

/// The file's name, relative to the configuration directory.
const FILE: &str = "mongod.conf";

pub(crate) fn render(input: &RenderInput<'_>) -> Result<Vec<RenderedFile>, RenderError> {
    guard::check(input, &["main"])?;
    let settings = common::section(&input.settings, "main");
    let mut tree = yaml::Map::default();
    for s in &settings {
        let value = match &s.value {
            // mongod reads `setParameter:` as a map of strings, and a
            // document-valued parameter (logComponentVerbosity, mirrorReads)
            // from its text, so such a value is written as one quoted flow
            // document rather than as a nested map.
            RenderValue::Typed(t @ Typed::Map(_)) => {
                yaml::Yaml::Scalar(yaml::scalar(&s.parameter.format_native(input.engine, t)))
            }
            _ => yaml::setting(input, s),
        };
        let path: Vec<&str> = s.name.split('.').collect();
        tree.insert(&path, value, common::origin(input, s))
            .map_err(|reason| RenderError::Unrenderable { name: s.name.to_string(), reason })?;
    }
    let mut contents = common::hash_header(input);
    tree.write(&mut contents);
    Ok(vec![RenderedFile { path: FILE.into(), contents, sensitive: common::any_secret(settings.iter().copied()) }])
}

/// Reads a mongod.conf, whatever it is called: MongoDB has no other file.
pub(crate) fn parse(file_name: &str, text: &str) -> Result<Parsed, ParseError> {
    yaml::flatten(EngineKind::Mongodb, file_name, text, &["main"])
}

#[cfg(test)]
mod tests {
    use dbfleet_model::Value;

    use super::*;
    use crate::common::testing;

    fn conf(version: &str, pairs: &[(&str, &str)]) -> String {
        let files = render(&testing::input(EngineKind::Mongodb, version, pairs)).unwrap();
        files.into_iter().find(|f| f.path == FILE).unwrap().contents
    }

    #[test]
    fn dotted_names_nest_and_server_parameters_sit_under_set_parameter() {
        let text = conf(
            "7.0",
            &[
                ("net.port", "27018"),
                ("net.tls.mode", "requireTLS"),
                ("operationProfiling.mode", "off"),
                ("setParameter.enableLocalhostAuthBypass", "false"),
                ("net.bindIp", "localhost,10.0.0.5"),
            ],
        );
        let body = text.split_once("\n\n").unwrap().1;
        assert_eq!(
            body,
            "net:\n  bindIp: \"localhost,10.0.0.5\"\n  port: 27018\n  tls:\n    mode: requireTLS\noperationProfiling:\n  mode: \"off\"\nsetParameter:\n  enableLocalhostAuthBypass: false\n"
        );
    }

    #[test]
    fn document_valued_server_parameters_are_written_as_text_and_read_back() {
        let text = conf("7.0", &[("setParameter.mirrorReads", "{samplingRate: 0.05}")]);
        assert!(text.contains("  mirrorReads: \"{samplingRate: 0.05}\"\n"), "{text}");
        let parsed = parse(FILE, &text).unwrap();
        assert_eq!(parsed.settings[0].value, Value::String("{samplingRate: 0.05}".into()));
    }

    #[test]
    fn a_parameter_the_version_lacks_is_refused_not_dropped() {
        let input = testing::input(EngineKind::Mongodb, "7.0", &[("storage.journal.enabled", "true")]);
        let err = render(&input).expect_err("refused").to_string();
        assert_eq!(err, "cannot render `storage.journal.enabled`: mongodb 7.0 no longer has it; it was last in 6.0");
        let input =
            testing::input(EngineKind::Mongodb, "6.0", &[("setParameter.indexBuildMinAvailableDiskSpaceMB", "1000")]);
        assert!(render(&input).expect_err("refused").to_string().contains("it exists from 8.0 on"));
        assert!(conf("6.0", &[("storage.journal.enabled", "true")]).contains("journal:\n    enabled: true\n"));
    }

    #[test]
    fn unknown_keys_are_unmapped_with_a_suggestion() {
        let parsed = parse(FILE, "net:\n  prot: 27017\n  port: 27017\nstorage:\n  dbPath:\n").unwrap();
        assert_eq!(parsed.settings.len(), 1);
        let reasons: Vec<(u32, &str)> = parsed.unmapped.iter().map(|u| (u.line, u.reason.as_str())).collect();
        assert_eq!(
            reasons,
            [
                (2, "`net.prot` is not a mongodb parameter in the catalog; did you mean `net.port`?"),
                (5, "`storage.dbPath` has no value, so the engine keeps its default"),
            ]
        );
    }

    #[test]
    fn syntax_errors_carry_their_line() {
        let err = parse(FILE, "net:\n  port: [27017\n").unwrap_err();
        assert!(err.line >= 2 && err.message.starts_with("invalid YAML"), "{err}");
        assert_eq!(parse(FILE, "- a\n").unwrap_err().message, "mongod.conf must be a map of settings, found a list");
    }
}
