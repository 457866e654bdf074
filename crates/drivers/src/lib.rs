//! Drivers: the only code that talks to live database servers.
//!
//! One [`Driver`] per engine behind one trait: observe the live settings
//! (normalised through the catalog so they compare with the fleet's),
//! apply a [`Plan`], and restore a recorded snapshot. Verification is
//! observing again after applying and planning against the result: an
//! empty plan means the server has what was asked.
//!
//! Drivers know nothing of the fleet repo or the state store: the caller
//! records a snapshot before calling [`Driver::apply`] and decides what to
//! do when it fails.

mod cassandra;
mod clickhouse;
mod common;
mod elasticsearch;
mod file;
mod mongodb;
mod neo4j;
mod postgresql;
mod redis;
mod redis_acl;

pub use cassandra::CassandraDriver;
pub use elasticsearch::ElasticsearchDriver;
pub use file::FileDriver;
pub use mongodb::MongodbDriver;
pub use neo4j::Neo4jDriver;

use std::path::PathBuf;
use std::time::Duration;

use dbfleet_model::{EngineKind, Version};
use dbfleet_plan::{Observed, Plan};
use secrecy::SecretString;

/// The instance setting through which a driver delivers its engine's
/// rendered tenant file whole, with the desired value for `files`, or
/// `None` when the engine has no such file or none was rendered:
///
/// - Redis: `users.acl` (its ACL users), valued by the digest of the
///   rendered file (the driver reports the same digest when the server's
///   users are the file's);
/// - ClickHouse: `tenants.xml`, the rendered `users.d/dbfleet-tenants.xml`
///   (tenant profiles, users and quotas), by the digest the driver reports
///   for the file (without its header, which names the fleet revision).
///
/// Both files hold password hashes, so the setting is sensitive. The
/// tenants' own settings are carried by the file and are not planned on
/// their own.
pub fn tenant_file_setting(
    engine: EngineKind,
    files: &[dbfleet_render::RenderedFile],
) -> Option<(String, dbfleet_plan::DesiredSetting)> {
    let (path, name, origin, digest): (&str, &str, &str, fn(&str) -> String) = match engine {
        EngineKind::Redis => (
            redis_acl::ACL,
            redis_acl::ACL,
            "rendered from the fleet's tenants and requirepass",
            dbfleet_plan::secret_digest,
        ),
        EngineKind::Clickhouse => (
            clickhouse::TENANTS_FILE,
            clickhouse::TENANTS,
            "rendered from the fleet's tenants",
            clickhouse::tenants_digest,
        ),
        _ => return None,
    };
    let file = files.iter().find(|f| f.path == path)?;
    let digest = digest(&file.contents);
    let setting = dbfleet_plan::DesiredSetting {
        value: Some(dbfleet_catalog::Typed::Str(digest.clone())),
        native: digest,
        apply: dbfleet_model::ApplyMethod::Reload,
        sensitive: true,
        origin: Some(origin.into()),
    };
    Some((name.to_string(), setting))
}

/// How to reach and manage one server.
#[derive(Clone, Debug)]
pub struct Connection {
    pub engine: EngineKind,
    pub version: Version,
    /// `host:port`.
    pub address: String,
    pub user: Option<String>,
    pub password: Option<SecretString>,
    pub tls: Tls,
    /// The command that restarts the server, run only when a plan needs a
    /// restart and restarts are allowed.
    pub restart_command: Option<Vec<String>>,
    /// The command that makes the server re-read its files (when the engine
    /// has no network way to do it).
    pub reload_command: Option<Vec<String>>,
    /// Where the server reads configuration files that dbfleet writes
    /// (ClickHouse's `config.d`/`users.d` parent, a file-delivery target).
    pub config_dir: Option<PathBuf>,
    /// How long to wait for the server to come back after a restart.
    pub ready_timeout: Duration,
}

#[derive(Clone, Debug, Default)]
pub struct Tls {
    pub enabled: bool,
    /// A CA bundle to verify the server with.
    pub ca: Option<PathBuf>,
    /// Skip verification (development only).
    pub insecure: bool,
}

/// What applying did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// Changes sent to the server, by setting name (tenant changes as
    /// `tenant/name`).
    pub changed: Vec<String>,
    /// Whether the server was reloaded and restarted.
    pub reloaded: bool,
    pub restarted: bool,
    /// Changes that need a restart that was not allowed: they are written
    /// and take effect at the next restart (PostgreSQL's pending_restart).
    pub pending_restart: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    #[error("cannot reach {address}: {reason}")]
    Unreachable { address: String, reason: String },
    /// The server refused the credentials, or the role lacks a privilege.
    #[error("{address} denied access: {reason}")]
    Denied { address: String, reason: String },
    #[error("the server rejected `{name}`: {reason}")]
    Rejected { name: String, reason: String },
    #[error("the plan needs a restart, which is not allowed (pass --allow-restart)")]
    RestartNotAllowed,
    #[error("no restart command is configured for {address}")]
    NoRestartCommand { address: String },
    #[error("`{command}` failed: {reason}")]
    Command { command: String, reason: String },
    #[error("{0}")]
    Protocol(String),
}

impl DriverError {
    /// Whether the failure is about the connection rather than a value,
    /// which decides the exit code and whether a restore can be attempted.
    pub fn is_connection(&self) -> bool {
        matches!(self, DriverError::Unreachable { .. } | DriverError::Denied { .. })
    }
}

/// One engine's way of managing a live server.
#[async_trait::async_trait]
pub trait Driver: Send + Sync {
    fn engine(&self) -> EngineKind;

    /// The live settings, instance scope and per tenant, normalised through
    /// the catalog, each marked `explicit` when it is held through the
    /// mechanism this driver writes (see `ObservedSetting::explicit`).
    async fn observe(&self) -> Result<Observed, DriverError>;

    /// Applies a plan: writes every change, then reloads and, when the plan
    /// needs it and `allow_restart` is set, restarts. On error nothing is
    /// undone here; the caller restores from its snapshot.
    async fn apply(&self, plan: &Plan, allow_restart: bool) -> Result<Applied, DriverError>;

    /// Puts back the settings `plan` touched as they were in `before`: set
    /// again through the driver's mechanism when `before` held them
    /// explicitly, reset otherwise, with the same reload and restart rules
    /// as apply.
    async fn restore(&self, before: &Observed, plan: &Plan, allow_restart: bool) -> Result<Applied, DriverError>;
}

/// The driver for `conn.engine`. `files` are the instance's rendered files
/// (`dbfleet_render`): the engines that take static settings only from
/// their files (MongoDB, Elasticsearch, Neo4j, Cassandra) deliver those
/// through them, PostgreSQL its pg_hba.conf, Redis its users.acl (as ACL
/// users), ClickHouse its tenants file (`users.d/dbfleet-tenants.xml`, as
/// the `tenants.xml` setting; it writes its other files itself).
pub fn connect(conn: Connection, files: Vec<dbfleet_render::RenderedFile>) -> Box<dyn Driver> {
    match conn.engine {
        EngineKind::Postgresql => Box::new(postgresql::PostgresDriver::new(conn, files)),
        EngineKind::Redis => Box::new(redis::RedisDriver::new(conn, files)),
        EngineKind::Clickhouse => Box::new(clickhouse::ClickHouseDriver::new(conn, files)),
        EngineKind::Mongodb => Box::new(MongodbDriver::new(conn, files)),
        EngineKind::Elasticsearch => Box::new(ElasticsearchDriver::new(conn, files)),
        EngineKind::Neo4j => Box::new(Neo4jDriver::new(conn, files)),
        EngineKind::Cassandra => Box::new(CassandraDriver::new(conn, files)),
    }
}
