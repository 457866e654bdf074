//! `dbfleet-catalog-gen`: writes an engine's catalog file
//! (`crates/catalog/data/<engine>.yaml`) from a live server plus the
//! hand-maintained annotations in `crates/catalog-gen/annotations/`.
//!
//! PostgreSQL, Redis and ClickHouse are generated, because their servers run
//! here and describe their own parameters; the catalogs of the four engines
//! that cannot run here are written by hand and checked by the same loader.
//! The output is deterministic (sorted, fixed key order), so regenerating an
//! unchanged catalog changes nothing and a review sees only real differences.
//!
//! ```text
//! cargo run -p dbfleet-catalog-gen -- postgresql   # or redis, clickhouse
//! ```

mod annotations;
mod clickhouse;
mod postgresql;
mod redis;
mod write;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "Generates dbfleet parameter catalogs from live servers plus annotations")]
struct Cli {
    #[command(subcommand)]
    engine: Engine,
}

#[derive(Subcommand)]
enum Engine {
    /// Reads pg_settings of a throwaway PostgreSQL 15 server and merges
    /// annotations/postgresql.yaml (the other versions, descriptions).
    Postgresql {
        /// The annotation file to merge.
        #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/annotations/postgresql.yaml"))]
        annotations: PathBuf,
        /// Where to write the catalog.
        #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../catalog/data/postgresql.yaml"))]
        out: PathBuf,
    },
    /// Reads CONFIG GET * of a throwaway Redis 7.0, probes it with CONFIG
    /// SET and merges annotations/redis.yaml.
    Redis {
        /// The annotation file to merge.
        #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/annotations/redis.yaml"))]
        annotations: PathBuf,
        /// Where to write the catalog.
        #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../catalog/data/redis.yaml"))]
        out: PathBuf,
    },
    /// Reads system.settings and system.merge_tree_settings of a throwaway
    /// ClickHouse 18.16 and merges annotations/clickhouse.yaml.
    Clickhouse {
        /// The annotation file to merge.
        #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/annotations/clickhouse.yaml"))]
        annotations: PathBuf,
        /// Where to write the catalog.
        #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../catalog/data/clickhouse.yaml"))]
        out: PathBuf,
    },
}

fn main() -> anyhow::Result<()> {
    let (generated, out) = match Cli::parse().engine {
        Engine::Postgresql { annotations, out } => (postgresql::generate(&annotations)?, out),
        Engine::Redis { annotations, out } => (redis::generate(&annotations)?, out),
        Engine::Clickhouse { annotations, out } => (clickhouse::generate(&annotations)?, out),
    };
    std::fs::write(&out, &generated.text).with_context(|| format!("cannot write {}", out.display()))?;
    eprintln!("wrote {} ({})", out.display(), generated.summary);
    Ok(())
}
