//! Parameter catalogs of the seven engines, with units and version rules.
//!
//! Each engine's catalog is a YAML file in `crates/catalog/data/`, in the
//! format of `docs/catalog-format.md`, compiled into the binary and parsed
//! once on first use ([`catalog`]). A [`Catalog`] answers what a parameter
//! name means on a given server version ([`Catalog::lookup`]); a
//! [`Parameter`] reads fleet values the way its engine would
//! ([`Parameter::normalize`]) and writes them back in the engine's own
//! spelling ([`Parameter::format_native`]).
//!
//! This crate knows engines only through their catalogs and spelling rules
//! (`conventions.rs`): it never talks to a server, and the files it embeds
//! are written by `dbfleet-catalog-gen` (PostgreSQL, Redis, ClickHouse) or
//! by hand.

mod catalog;
mod conventions;
mod load;
mod parameter;
pub mod pg_hba;

use std::sync::OnceLock;

use dbfleet_model::EngineKind;

pub use catalog::{Catalog, Lookup};
pub use load::{CatalogError, load};
pub use parameter::{NormalizeError, ParamType, Parameter, ScopeSet, Typed};

/// The catalog file of `engine` as compiled in.
fn embedded(engine: EngineKind) -> Option<&'static str> {
    Some(match engine {
        EngineKind::Postgresql => include_str!("../data/postgresql.yaml"),
        EngineKind::Redis => include_str!("../data/redis.yaml"),
        EngineKind::Mongodb => include_str!("../data/mongodb.yaml"),
        EngineKind::Clickhouse => include_str!("../data/clickhouse.yaml"),
        EngineKind::Elasticsearch => include_str!("../data/elasticsearch.yaml"),
        EngineKind::Neo4j => include_str!("../data/neo4j.yaml"),
        EngineKind::Cassandra => include_str!("../data/cassandra.yaml"),
    })
}

/// The catalog of `engine`, parsed on first use.
///
/// # Panics
///
/// If the embedded file is missing or invalid, which the tests of this
/// crate rule out for every file that ships.
pub fn catalog(engine: EngineKind) -> &'static Catalog {
    static CATALOGS: [OnceLock<Catalog>; EngineKind::ALL.len()] = [const { OnceLock::new() }; EngineKind::ALL.len()];
    let index = EngineKind::ALL.iter().position(|e| *e == engine).expect("EngineKind::ALL lists every engine");
    CATALOGS[index].get_or_init(|| {
        let text = embedded(engine).unwrap_or_else(|| panic!("no catalog of {engine} is embedded yet"));
        load(engine, &data_file(engine), text).unwrap_or_else(|errors| {
            let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
            panic!("the embedded catalog of {engine} is invalid:\n{}", errors.join("\n"))
        })
    })
}

/// Where the catalog file of `engine` lives in the repository.
fn data_file(engine: EngineKind) -> String {
    format!("crates/catalog/data/{engine}.yaml")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Loads every data file present on disk, whether or not it is embedded
    /// yet, so that whoever writes one can check it with
    /// `cargo test -p dbfleet-catalog`.
    #[test]
    fn every_data_file_loads() {
        let mut failures = Vec::new();
        for &engine in EngineKind::ALL {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("data/{engine}.yaml"));
            let Ok(text) = std::fs::read_to_string(&path) else {
                eprintln!("skipped {engine}: no {} yet", data_file(engine));
                continue;
            };
            match load(engine, &data_file(engine), &text) {
                Ok(c) => eprintln!("{engine}: {} parameters", c.parameters().count()),
                Err(errors) => failures.extend(errors.iter().map(ToString::to_string)),
            }
            match embedded(engine) {
                Some(compiled) => assert_eq!(compiled, text, "{engine}: the embedded file is stale"),
                None => eprintln!("note: {} exists but is not embedded yet (lib.rs, `embedded`)", data_file(engine)),
            }
        }
        assert!(failures.is_empty(), "invalid catalog data:\n{}", failures.join("\n"));
    }

    /// The loader checks that defaults normalize; this checks that they
    /// also survive the trip through the engine's spelling and back.
    #[test]
    fn every_embedded_default_round_trips() {
        for &engine in EngineKind::ALL.iter().filter(|e| embedded(**e).is_some()) {
            for p in catalog(engine).parameters() {
                let Some(default) = &p.default else { continue };
                let typed = p.normalize(engine, default).unwrap_or_else(|e| panic!("{engine} {}: {e}", p.name));
                let written = p.format_native(engine, &typed);
                let back = p.normalize(engine, &dbfleet_model::Value::String(written.clone()));
                assert_eq!(back, Ok(typed), "{engine} {}: {default} is written {written}", p.name);
            }
        }
    }

    #[test]
    fn embedded_catalogs_parse_once() {
        for &engine in EngineKind::ALL {
            if embedded(engine).is_some() {
                let first = catalog(engine) as *const Catalog;
                assert_eq!(catalog(engine).engine(), engine);
                assert!(std::ptr::eq(first, catalog(engine)));
            }
        }
    }
}
