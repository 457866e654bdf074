//! A loaded catalog and name lookup across versions.
//!
//! A [`Catalog`] is only ever built by the loader (`load.rs`), which has
//! checked the rules of the format, so lookups here can trust that every
//! `since`, `until`, `replaced_by` and alias is consistent.

use std::collections::HashMap;

use dbfleet_model::{EngineKind, Version};

use crate::Parameter;

/// Every parameter one engine has across its supported versions.
#[derive(Clone, Debug)]
pub struct Catalog {
    pub(crate) engine: EngineKind,
    pub(crate) versions: Vec<Version>,
    pub(crate) sources: Vec<String>,
    /// In file order.
    pub(crate) parameters: Vec<Parameter>,
    /// Canonical names to their index in `parameters`.
    pub(crate) by_name: HashMap<String, usize>,
    /// Deprecated names to the index of the parameter they stand for.
    pub(crate) by_alias: HashMap<String, usize>,
}

/// What a name means for one server version.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Lookup<'a> {
    Found(&'a Parameter),
    /// A deprecated name the engine still accepts; the caller warns and
    /// names `parameter` instead.
    Alias {
        alias: &'a str,
        parameter: &'a Parameter,
    },
    /// The parameter exists only from `since` on.
    NotYet {
        parameter: &'a Parameter,
        since: &'a Version,
    },
    /// The parameter was last present in `until`.
    Removed {
        parameter: &'a Parameter,
        until: &'a Version,
        replaced_by: Option<&'a str>,
    },
    /// No parameter or alias has this name; `suggestion` is a close one.
    Unknown {
        suggestion: Option<&'a str>,
    },
}

impl Catalog {
    pub fn engine(&self) -> EngineKind {
        self.engine
    }

    /// The supported versions, as prefixes, oldest first.
    pub fn versions(&self) -> &[Version] {
        &self.versions
    }

    /// Where the facts in this catalog came from.
    pub fn sources(&self) -> &[String] {
        &self.sources
    }

    /// The listed version that `v` falls under (`15.8` under `15`), if any.
    pub fn supported_version(&self, v: &Version) -> Option<&Version> {
        self.versions.iter().find(|listed| v.matches_prefix(listed))
    }

    /// Every parameter, in the order of the catalog file.
    pub fn parameters(&self) -> impl Iterator<Item = &Parameter> {
        self.parameters.iter()
    }

    /// The parameter with this canonical name, whatever the version.
    pub fn get(&self, name: &str) -> Option<&Parameter> {
        self.by_name.get(name).map(|&i| &self.parameters[i])
    }

    /// What `name` means on a server of `version`: a parameter, a
    /// deprecated alias, one that is not there yet or no longer, or nothing.
    pub fn lookup(&self, name: &str, version: &Version) -> Lookup<'_> {
        let (parameter, alias) = match (self.by_name.get_key_value(name), self.by_alias.get_key_value(name)) {
            (Some((_, &i)), _) => (&self.parameters[i], None),
            (None, Some((alias, &i))) => (&self.parameters[i], Some(alias.as_str())),
            (None, None) => {
                // Sorted, so that ties between suggestions break the same way every run.
                let mut names: Vec<&str> =
                    self.by_name.keys().chain(self.by_alias.keys()).map(String::as_str).collect();
                names.sort_unstable();
                return Lookup::Unknown { suggestion: dbfleet_model::did_you_mean(name, names) };
            }
        };
        if let Some(since) = parameter.since.as_ref().filter(|since| version < *since) {
            return Lookup::NotYet { parameter, since };
        }
        // `until: "15"` covers every 15.x, so only a later version that is
        // not under the prefix has lost the parameter.
        if let Some(until) = parameter.until.as_ref().filter(|until| version > *until && !version.matches_prefix(until))
        {
            return Lookup::Removed { parameter, until, replaced_by: parameter.replaced_by.as_deref() };
        }
        match alias {
            Some(alias) => Lookup::Alias { alias, parameter },
            None => Lookup::Found(parameter),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog;

    fn v(s: &str) -> Version {
        s.parse().unwrap()
    }

    /// What `name` means on `version`, as a short string.
    fn lookup(name: &str, version: &str) -> String {
        match catalog(EngineKind::Postgresql).lookup(name, &v(version)) {
            Lookup::Found(p) => format!("found {}", p.name),
            Lookup::Alias { alias, parameter } => format!("alias {alias} of {}", parameter.name),
            Lookup::NotYet { parameter, since } => format!("{} from {since}", parameter.name),
            Lookup::Removed { parameter, until, replaced_by } => {
                format!("{} until {until}, use {}", parameter.name, replaced_by.unwrap_or("nothing"))
            }
            Lookup::Unknown { suggestion } => format!("unknown, suggest {}", suggestion.unwrap_or("nothing")),
        }
    }

    #[test]
    fn names_across_postgresql_versions() {
        let cases: &[(&str, &str, &str)] = &[
            ("shared_buffers", "13", "found shared_buffers"),
            ("force_parallel_mode", "15.8", "found force_parallel_mode"),
            ("force_parallel_mode", "16", "force_parallel_mode until 15, use debug_parallel_query"),
            ("debug_parallel_query", "15.8", "debug_parallel_query from 16"),
            ("debug_parallel_query", "16.2", "found debug_parallel_query"),
            ("stats_temp_directory", "14.11", "found stats_temp_directory"),
            ("stats_temp_directory", "15", "stats_temp_directory until 14, use nothing"),
            ("operator_precedence_warning", "14", "operator_precedence_warning until 13, use nothing"),
            ("vacuum_cleanup_index_scale_factor", "14", "vacuum_cleanup_index_scale_factor until 13, use nothing"),
            ("promote_trigger_file", "16", "promote_trigger_file until 15, use nothing"),
            ("vacuum_defer_cleanup_age", "16", "vacuum_defer_cleanup_age until 15, use nothing"),
            ("old_snapshot_threshold", "17", "old_snapshot_threshold until 16, use nothing"),
            ("db_user_namespace", "17.0", "db_user_namespace until 16, use nothing"),
            ("trace_recovery_messages", "17", "trace_recovery_messages until 16, use nothing"),
            ("summarize_wal", "16", "summarize_wal from 17"),
            ("io_combine_limit", "17", "found io_combine_limit"),
            ("transaction_timeout", "16.9", "transaction_timeout from 17"),
            ("compute_query_id", "13", "compute_query_id from 14"),
            ("recovery_prefetch", "14", "recovery_prefetch from 15"),
            ("sort_mem", "17", "alias sort_mem of work_mem"),
            ("vacuum_mem", "13", "alias vacuum_mem of maintenance_work_mem"),
            ("shared_bufers", "15", "unknown, suggest shared_buffers"),
            ("sort_mme", "15", "unknown, suggest sort_mem"),
            ("zzzz", "15", "unknown, suggest nothing"),
        ];
        for (name, version, want) in cases {
            assert_eq!(lookup(name, version), *want, "{name} on {version}");
        }
    }

    #[test]
    fn supported_versions_are_prefixes() {
        let pg = catalog(EngineKind::Postgresql);
        assert_eq!(pg.engine(), EngineKind::Postgresql);
        assert_eq!(pg.supported_version(&v("15.8")).map(Version::as_str), Some("15"));
        assert_eq!(pg.supported_version(&v("17")).map(Version::as_str), Some("17"));
        assert_eq!(pg.supported_version(&v("12.20")), None);
        assert_eq!(pg.supported_version(&v("150")), None);
        assert!(pg.get("sort_mem").is_none(), "get takes canonical names only");
        assert!(!pg.sources().is_empty());
    }

    #[test]
    fn aliases_follow_their_parameter_across_versions() {
        let text = "engine: redis\nversions: [\"6.2\", \"7.0\", \"7.2\"]\nparameters:\n  new:\n    type: bool\n    since: \"7.0\"\n    aliases: [old]\n    scope: instance\n    apply: runtime\n    description: d\n";
        let c = crate::load(EngineKind::Redis, "t.yaml", text).unwrap();
        assert!(matches!(c.lookup("old", &v("6.2.14")), Lookup::NotYet { .. }));
        assert!(matches!(c.lookup("old", &v("7.2.4")), Lookup::Alias { alias: "old", .. }));
        assert!(matches!(c.lookup("new", &v("7.0.15")), Lookup::Found(_)));
    }
}
