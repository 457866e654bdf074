//! Neo4j: dynamic settings through `dbms.setConfigValue`, everything else
//! through file delivery.
//!
//! Observing runs `CALL dbms.listConfig()` on the `system` database, which
//! lists every setting with the value the server runs now, static ones
//! included. It does not say which values dbfleet set, so a setting is
//! `explicit` only when dbfleet's own `neo4j.conf` holds it. Applying calls
//! `dbms.setConfigValue(name, value)` for each runtime change, an empty
//! value for a reset (Neo4j's own way back to the default); restoring sets
//! the value observed before. `dbms.setConfigValue` is an Enterprise
//! Edition procedure and its changes are not written to `neo4j.conf`, so
//! with rendered files the driver also writes the file, and settings that
//! need a restart go only there.
//!
//! The connection is `bolt://` (`bolt+s://` with TLS), never the routing
//! `neo4j://`: a setting belongs to the one server named, not to whichever
//! cluster member routing would pick.

use dbfleet_model::{ApplyMethod, EngineKind, Value};
use dbfleet_plan::{Action, Change, Observed, ObservedSetting, Settings};
use dbfleet_render::RenderedFile;
use neo4rs::{ConfigBuilder, Graph, query};
use secrecy::ExposeSecret as _;

use crate::common::{is_hidden, label, observed, unrestorable};
use crate::file::{FileDriver, Live, LiveWithFiles};
use crate::{Connection, DriverError};

const ENGINE: EngineKind = EngineKind::Neo4j;

/// Reads every setting's name and running value.
const LIST_CONFIG: &str = "CALL dbms.listConfig() YIELD name, value RETURN name, value";
/// Changes one dynamic setting; an empty value resets it to its default.
const SET_CONFIG_VALUE: &str = "CALL dbms.setConfigValue($name, $value)";

/// Manages one Neo4j server.
pub struct Neo4jDriver {
    live: Bolt,
    files: FileDriver,
}

impl Neo4jDriver {
    /// A driver for the server `conn` names; `files` are its rendered
    /// files, written for settings that need a restart (empty: such changes
    /// fail). Connects lazily, on the first query.
    pub fn new(conn: Connection, files: Vec<RenderedFile>) -> Neo4jDriver {
        Neo4jDriver { live: Bolt { graph: graph(&conn), conn: conn.clone() }, files: FileDriver::new(conn, files) }
    }
}

/// The Bolt side: a connection pool to one server.
struct Bolt {
    conn: Connection,
    /// The pool, or why its configuration is invalid, reported at first
    /// use.
    graph: Result<Graph, String>,
}

fn graph(conn: &Connection) -> Result<Graph, String> {
    let scheme = match (conn.tls.enabled, conn.tls.insecure) {
        (false, _) => "bolt",
        (true, false) => "bolt+s",
        (true, true) => "bolt+ssc",
    };
    let mut config = ConfigBuilder::default()
        .uri(format!("{scheme}://{}", conn.address))
        // With authentication off, Neo4j accepts any credentials.
        .user(conn.user.clone().unwrap_or_else(|| "neo4j".into()))
        .password(conn.password.as_ref().map(|p| p.expose_secret().to_string()).unwrap_or_default())
        .db("system")
        // listConfig returns a few hundred rows: one PULL takes them all.
        .fetch_size(10_000)
        .max_connections(2);
    if let Some(ca) = conn.tls.ca.as_ref().filter(|_| conn.tls.enabled && !conn.tls.insecure) {
        config = config.with_client_certificate(ca);
    }
    Graph::connect(config.build().map_err(|e| e.to_string())?).map_err(|e| e.to_string())
}

/// A neo4rs error as dbfleet tells it; `name` is the setting a query was
/// about, for a rejection.
fn query_error(address: &str, name: &str, e: neo4rs::Error) -> DriverError {
    let address = address.to_string();
    match e {
        neo4rs::Error::Neo4j(e) if e.code().starts_with("Neo.ClientError.Security.") => {
            DriverError::Denied { address, reason: format!("{}: {}", e.code(), e.message()) }
        }
        neo4rs::Error::Neo4j(e) => {
            DriverError::Rejected { name: name.to_string(), reason: format!("{}: {}", e.code(), e.message()) }
        }
        neo4rs::Error::AuthenticationError(reason) => DriverError::Denied { address, reason },
        e @ (neo4rs::Error::IOError { .. }
        | neo4rs::Error::ConnectionError
        | neo4rs::Error::ConnectionTimedOut
        | neo4rs::Error::UnsupportedVersion(..)
        | neo4rs::Error::ProtocolMismatch(_)
        | neo4rs::Error::UrlParseError(_)
        | neo4rs::Error::InvalidDnsName(_)) => DriverError::Unreachable { address, reason: e.to_string() },
        e => DriverError::Protocol(format!("{address}: {e}")),
    }
}

/// `(name, value)` rows of `dbms.listConfig()` as settings by catalog name.
/// A setting without a value (a memory size Neo4j picks itself) is left
/// out, as if not set.
fn read_rows(conn: &Connection, rows: impl IntoIterator<Item = (String, Option<String>)>) -> Settings<ObservedSetting> {
    rows.into_iter()
        .filter_map(|(name, value)| observed(ENGINE, &conn.version, &name, &Value::String(value?), false))
        .collect()
}

impl Bolt {
    fn graph(&self) -> Result<&Graph, DriverError> {
        self.graph
            .as_ref()
            .map_err(|e| DriverError::Unreachable { address: self.conn.address.clone(), reason: e.clone() })
    }

    /// Sets one setting; `value` is empty for a reset.
    async fn set_config_value(&self, name: &str, value: &str) -> Result<(), DriverError> {
        let q = query(SET_CONFIG_VALUE).param("name", name).param("value", value);
        self.graph()?.run(q).await.map(drop).map_err(|e| query_error(&self.conn.address, name, e))
    }
}

#[async_trait::async_trait]
impl Live for Bolt {
    fn is_live(&self, change: &Change) -> bool {
        let parameter = dbfleet_catalog::catalog(ENGINE).get(&change.name);
        change.tenant.is_none() && parameter.is_some_and(|p| p.apply == ApplyMethod::Runtime && p.section == "main")
    }

    async fn read(&self) -> Result<Settings<ObservedSetting>, DriverError> {
        let failed = |e| query_error(&self.conn.address, "dbms.listConfig", e);
        let mut stream = self.graph()?.execute(query(LIST_CONFIG)).await.map_err(failed)?;
        let mut rows = Vec::new();
        while let Some(row) = stream.next().await.map_err(failed)? {
            let name: String = row.get("name").map_err(|e| DriverError::Protocol(format!("dbms.listConfig: {e}")))?;
            let value: Option<String> =
                row.get("value").map_err(|e| DriverError::Protocol(format!("dbms.listConfig: {e}")))?;
            rows.push((name, value));
        }
        Ok(read_rows(&self.conn, rows))
    }

    async fn set(&self, changes: &[&Change]) -> Result<(), DriverError> {
        for c in changes {
            let value = match (c.action, &c.native) {
                (Action::Reset, _) => "",
                (_, Some(text)) => text.as_str(),
                (_, None) => return Err(DriverError::Protocol(format!("the plan gives no value for `{}`", label(c)))),
            };
            self.set_config_value(&c.name, value).await?;
        }
        Ok(())
    }

    async fn put_back(&self, before: &Observed, changes: &[&Change]) -> Result<(), DriverError> {
        let mut secrets = Vec::new();
        for c in changes {
            match before.settings.get(&c.name) {
                Some(was) if is_hidden(was) => secrets.push(label(c)),
                Some(was) => self.set_config_value(&c.name, &was.raw).await?,
                None => self.set_config_value(&c.name, "").await?,
            }
        }
        unrestorable(&secrets)
    }
}

impl LiveWithFiles for Neo4jDriver {
    const ENGINE: EngineKind = ENGINE;

    fn live(&self) -> &dyn Live {
        &self.live
    }

    fn files(&self) -> &FileDriver {
        &self.files
    }
}
