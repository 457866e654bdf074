//! What every engine's generator does with its hand-maintained annotation
//! file: read it with located errors, check that the throwaway server runs
//! the version it is relative to, tell whether an annotated parameter
//! exists in a given server version, merge an annotated default with the
//! server's, and report what did not merge.
//!
//! The shape of each file is the engine module's own (`Annotations` there);
//! nothing here knows an engine.

use std::path::Path;

use anyhow::{Context, bail};
use dbfleet_model::Version;
use dbfleet_model::decode::decode;
use serde::Deserialize;

/// Reads and decodes an annotation file, with located errors.
pub(crate) fn read_annotations<T: for<'de> Deserialize<'de>>(path: &Path) -> anyhow::Result<T> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let file = path.display().to_string();
    let node = dbfleet_model::yaml::parse(file.as_str(), &text).map_err(|errors| {
        let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
        anyhow::anyhow!("{}", errors.join("\n"))
    })?;
    decode(&node).map_err(|e| anyhow::anyhow!("{file}: {e}"))
}

/// Fails unless the throwaway server runs the version the annotations are
/// relative to: `version` must start with `live_version`. `server` names
/// the engine in the message.
pub(crate) fn check_live_version(server: &str, live_version: &Version, version: &str) -> anyhow::Result<()> {
    if !version.parse::<Version>()?.matches_prefix(live_version) {
        bail!("the annotations are relative to {server} {live_version}, but the server is {version}");
    }
    Ok(())
}

/// Fails with every problem that merging the annotation file at `path`
/// with what the server reports found, if there is any.
pub(crate) fn check_merged(path: &Path, problems: &[String]) -> anyhow::Result<()> {
    if problems.is_empty() {
        return Ok(());
    }
    bail!("{} cannot be merged:\n{}", path.display(), problems.join("\n"))
}

/// The default a parameter gets: the annotated one, else the server's
/// value. Where both speak they must agree, unless the generator's own
/// server config changes the parameter (`generator_overrides`).
pub(crate) fn merged_default<'a>(
    live: Option<&'a str>,
    annotated: Option<&'a str>,
    overridden: bool,
) -> anyhow::Result<Option<&'a str>> {
    match (live, annotated) {
        (Some(value), Some(written)) if !overridden && value != written => {
            bail!("annotated `default: {written:?}`, but the server reports {value:?}")
        }
        (_, Some(written)) => Ok(Some(written)),
        (live, None) => Ok(live),
    }
}

/// Whether a parameter with this `since` and `until` exists in `version`.
pub(crate) fn in_range(version: &Version, since: Option<&str>, until: Option<&str>) -> anyhow::Result<bool> {
    let after_since = match since {
        Some(s) => *version >= s.parse::<Version>()? || version.matches_prefix(&s.parse()?),
        None => true,
    };
    let before_until = match until {
        Some(u) => *version <= u.parse::<Version>()? || version.matches_prefix(&u.parse()?),
        None => true,
    };
    Ok(after_since && before_until)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_compared_by_prefix() {
        let v: Version = "7.0".parse().unwrap();
        assert!(in_range(&v, None, None).unwrap());
        assert!(in_range(&v, Some("7.0"), None).unwrap());
        assert!(!in_range(&v, Some("7.2"), None).unwrap());
        assert!(!in_range(&v, None, Some("6.2")).unwrap());
        assert!(in_range(&"7.0.15".parse().unwrap(), None, Some("7.0")).unwrap());
    }

    #[test]
    fn an_annotated_default_must_agree_with_the_server_unless_overridden() {
        assert_eq!(merged_default(Some("1"), None, false).unwrap(), Some("1"));
        assert_eq!(merged_default(None, Some("2"), false).unwrap(), Some("2"));
        assert_eq!(merged_default(Some("1"), Some("1"), false).unwrap(), Some("1"));
        assert_eq!(merged_default(Some("1"), Some("2"), true).unwrap(), Some("2"));
        assert_eq!(merged_default(None, None, true).unwrap(), None);
        let err = merged_default(Some("1"), Some("2"), false).unwrap_err();
        assert_eq!(err.to_string(), "annotated `default: \"2\"`, but the server reports \"1\"");
    }
}
