//! Native configuration files for the seven engines, and the parsers that
//! read such files back (used by `dbfleet import` and by parse-back tests).
//!
//! Rendering is a pure function from a [`RenderInput`] — settings already
//! validated and normalised by the catalog, secrets already fetched — to a
//! list of [`RenderedFile`]s. Output is deterministic: settings are written
//! in name order, and the header names the target and revision but no time.
//! This crate never reads a file, fetches a secret or talks to a server.

mod cassandra;
mod clickhouse;
mod common;
mod elasticsearch;
mod mongodb;
mod neo4j;
pub mod overrides;
pub mod pg_sql;
mod postgresql;
mod redis;
mod validated;

use dbfleet_catalog::{Parameter, Typed};
use dbfleet_model::{EngineKind, Value, Version};
use secrecy::SecretString;

pub use validated::render_validated;

/// The value of one setting, ready to write.
pub enum RenderValue {
    Typed(Typed),
    /// A secret's plaintext: written only into files marked sensitive.
    Secret(SecretString),
}

/// One setting to render.
pub struct Setting<'a> {
    /// The catalog's canonical name.
    pub name: &'a str,
    pub parameter: &'a Parameter,
    pub value: RenderValue,
    /// Where the value came from (`layers/base/postgresql.yaml:8:19, engine
    /// base postgresql`), written beside it with `--annotate`.
    pub origin: Option<String>,
}

/// The tenant-scope settings of one tenant placed on the instance.
pub struct TenantInput<'a> {
    pub tenant: &'a str,
    pub settings: Vec<Setting<'a>>,
}

/// Everything a renderer needs for one instance.
pub struct RenderInput<'a> {
    pub engine: EngineKind,
    pub version: &'a Version,
    /// The instance's name.
    pub instance: &'a str,
    pub fleet: &'a str,
    /// The fleet repo revision (git commit, or `working-tree`).
    pub revision: &'a str,
    /// Write each setting's origin as a comment beside it.
    pub annotate: bool,
    /// Instance-scope settings, in any order.
    pub settings: Vec<Setting<'a>>,
    /// Tenants on this instance, with their tenant-scope settings.
    pub tenants: Vec<TenantInput<'a>>,
}

/// One rendered file. `path` is relative to the engine's configuration
/// directory. A file holding a secret is `sensitive` and is written with
/// mode 0600.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderedFile {
    pub path: String,
    pub contents: String,
    pub sensitive: bool,
}

impl RenderedFile {
    pub fn mode(&self) -> u32 {
        if self.sensitive { 0o600 } else { 0o644 }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("{engine} has no native file section `{section}` (parameter `{name}`)")]
    UnknownSection { engine: EngineKind, section: String, name: String },
    #[error("cannot render `{name}`: {reason}")]
    Unrenderable { name: String, reason: String },
}

/// Renders the native files of one instance.
pub fn render(input: &RenderInput<'_>) -> Result<Vec<RenderedFile>, RenderError> {
    let mut files = match input.engine {
        EngineKind::Postgresql => postgresql::render(input),
        EngineKind::Redis => redis::render(input),
        EngineKind::Mongodb => mongodb::render(input),
        EngineKind::Clickhouse => clickhouse::render(input),
        EngineKind::Elasticsearch => elasticsearch::render(input),
        EngineKind::Neo4j => neo4j::render(input),
        EngineKind::Cassandra => cassandra::render(input),
    }?;
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// Reads a native file of `engine`. `file_name` tells which of the engine's
/// files it is (`postgresql.conf`, `pg_hba.conf`, `users.xml`, `jvm.options`,
/// ...), as the renderer names them.
pub fn parse(engine: EngineKind, file_name: &str, text: &str) -> Result<Parsed, ParseError> {
    match engine {
        EngineKind::Postgresql => postgresql::parse(file_name, text),
        EngineKind::Redis => redis::parse(file_name, text),
        EngineKind::Mongodb => mongodb::parse(file_name, text),
        EngineKind::Clickhouse => clickhouse::parse(file_name, text),
        EngineKind::Elasticsearch => elasticsearch::parse(file_name, text),
        EngineKind::Neo4j => neo4j::parse(file_name, text),
        EngineKind::Cassandra => cassandra::parse(file_name, text),
    }
}

/// One setting read from a native file.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedSetting {
    /// The name as written in the file (a dotted path for nested formats).
    pub name: String,
    pub value: Value,
    /// 1-based line in the file.
    pub line: u32,
}

/// Something in a native file that is not a parameter setting (an include,
/// a directive the catalog does not know), listed so nothing is dropped
/// silently.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unmapped {
    pub line: u32,
    pub text: String,
    pub reason: String,
}

/// What a parser found in one file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Parsed {
    pub settings: Vec<ParsedSetting>,
    pub unmapped: Vec<Unmapped>,
}

#[derive(Debug, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    pub line: u32,
    pub message: String,
}
