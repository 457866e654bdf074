//! MongoDB: server parameters and their config-file counterparts through
//! database commands, everything else through file delivery.
//!
//! Observing runs three commands on `admin`: `getCmdLineOpts`, whose
//! `parsed` document holds the options the server started with (the live
//! value of every `apply: restart` option); `{getParameter: "*"}`, the live
//! value of every server parameter (`setParameter.<name>` in the catalog,
//! and the runtime counterparts of config-file options listed in
//! [`counterpart`]); and `{profile: -1}`, the slow-operation threshold and
//! sample rate. None of these tells whether a value was set on purpose, so
//! a setting is `explicit` only when dbfleet's own `mongod.conf` holds it.
//!
//! Applying runs `setParameter` (or `profile`, or `replSetResizeOplog`) for
//! each runtime change; a reset sets the catalog's default, as MongoDB has
//! no reset. Restoring sets the value observed before. The changes are not
//! persisted by the server, so with rendered files the driver also writes
//! `mongod.conf`, and settings that need a restart go only there. The oplog
//! size and minimum retention are set with `replSetResizeOplog` but have no
//! command that reads them, so they are observed from the files alone.
//!
//! The connection is direct (`directConnection=true`): settings belong to
//! one `mongod`, never to whichever member a replica set would pick.

use std::time::Duration;

use dbfleet_catalog::{ParamType, Parameter, Typed};
use dbfleet_model::{ApplyMethod, EngineKind, Value};
use dbfleet_plan::{Action, Change, Observed, ObservedSetting, Settings};
use dbfleet_render::RenderedFile;
use mongodb::bson::{Bson, Document, doc};
use mongodb::error::ErrorKind;
use mongodb::options::{ClientOptions, Credential, ServerAddress, TlsOptions};
use secrecy::ExposeSecret as _;

use crate::common::{self, is_hidden, label, observed, unrestorable};
use crate::file::{FileDriver, Live, LiveWithFiles};
use crate::{Connection, DriverError};

const ENGINE: EngineKind = EngineKind::Mongodb;

/// Manages one `mongod`.
pub struct MongodbDriver {
    live: Mongo,
    files: FileDriver,
}

impl MongodbDriver {
    /// A driver for the server `conn` names; `files` are its rendered
    /// files, written for settings that need a restart (empty: such changes
    /// fail). Connects lazily, on the first command.
    pub fn new(conn: Connection, files: Vec<RenderedFile>) -> MongodbDriver {
        MongodbDriver { live: Mongo { client: client(&conn), conn: conn.clone() }, files: FileDriver::new(conn, files) }
    }
}

/// The command side: one client, built once.
struct Mongo {
    conn: Connection,
    /// The client, or why its options are invalid (an address that does
    /// not parse), reported at first use.
    client: Result<mongodb::Client, String>,
}

/// How a catalog setting is read and changed on a running server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mechanism<'a> {
    /// A server parameter, through getParameter and setParameter.
    Parameter(&'a str),
    /// One component's verbosity inside the `logComponentVerbosity`
    /// parameter.
    ComponentVerbosity(&'a str),
    /// A field of the `profile` command (`slowms`, `sampleRate`).
    Profile(&'static str),
    /// A field of `replSetResizeOplog` (`size`, `minRetentionHours`), which
    /// nothing reads back.
    Oplog(&'static str),
}

/// Config-file options that a running server changes through another
/// name: the catalog's descriptions name these.
fn counterpart(name: &str) -> Option<Mechanism<'_>> {
    Some(match name {
        "storage.journal.commitIntervalMs" => Mechanism::Parameter("journalCommitInterval"),
        "systemLog.verbosity" => Mechanism::Parameter("logLevel"),
        "security.redactClientLogData" => Mechanism::Parameter("redactClientLogData"),
        "security.ldap.servers" => Mechanism::Parameter("ldapServers"),
        "security.ldap.bind.queryUser" => Mechanism::Parameter("ldapQueryUser"),
        "security.ldap.bind.queryPassword" => Mechanism::Parameter("ldapQueryPassword"),
        "security.ldap.timeoutMS" => Mechanism::Parameter("ldapTimeoutMS"),
        "security.ldap.userToDNMapping" => Mechanism::Parameter("ldapUserToDNMapping"),
        "security.ldap.authz.queryTemplate" => Mechanism::Parameter("ldapAuthzQueryTemplate"),
        "operationProfiling.slowOpThresholdMs" => Mechanism::Profile("slowms"),
        "operationProfiling.slowOpSampleRate" => Mechanism::Profile("sampleRate"),
        "replication.oplogSizeMB" => Mechanism::Oplog("size"),
        "storage.oplogMinRetentionHours" => Mechanism::Oplog("minRetentionHours"),
        _ => {
            let component = name.strip_prefix("systemLog.component.")?.strip_suffix(".verbosity")?;
            Mechanism::ComponentVerbosity(component)
        }
    })
}

/// How `parameter` changes on a running server, if it does.
fn mechanism(parameter: &Parameter) -> Option<Mechanism<'_>> {
    if parameter.apply != ApplyMethod::Runtime {
        return None;
    }
    match parameter.name.strip_prefix("setParameter.") {
        Some(name) => Some(Mechanism::Parameter(name)),
        None => counterpart(&parameter.name),
    }
}

fn parameter(name: &str) -> Result<&'static Parameter, DriverError> {
    dbfleet_catalog::catalog(ENGINE).get(name).ok_or_else(|| DriverError::Rejected {
        name: name.to_string(),
        reason: "the MongoDB catalog has no such setting".into(),
    })
}

/// Client options for one server, reached directly.
fn client(conn: &Connection) -> Result<mongodb::Client, String> {
    let address = ServerAddress::parse(&conn.address).map_err(|e| e.to_string())?;
    let mut options = ClientOptions::builder()
        .hosts(vec![address])
        .direct_connection(true)
        .app_name("dbfleet".to_string())
        .connect_timeout(Duration::from_secs(5))
        .server_selection_timeout(Duration::from_secs(5))
        .build();
    if let Some(user) = &conn.user {
        let password = conn.password.as_ref().map(|p| p.expose_secret().to_string());
        options.credential =
            Some(Credential::builder().username(user.clone()).password(password).source("admin".to_string()).build());
    }
    if conn.tls.enabled {
        let tls = TlsOptions::builder()
            .ca_file_path(conn.tls.ca.clone())
            .allow_invalid_certificates(conn.tls.insecure.then_some(true))
            .build();
        options.tls = Some(mongodb::options::Tls::Enabled(tls));
    }
    mongodb::Client::with_options(options).map_err(|e| e.to_string())
}

impl Mongo {
    /// Runs one command on `admin`; `name` is the setting it is about, for
    /// a rejection.
    async fn command(&self, command: Document, name: &str) -> Result<Document, DriverError> {
        let address = &self.conn.address;
        let client = self
            .client
            .as_ref()
            .map_err(|e| DriverError::Unreachable { address: address.clone(), reason: e.clone() })?;
        client.database("admin").run_command(command).await.map_err(|e| command_error(address, name, e))
    }
}

/// A driver error as dbfleet tells it: the server refused the credentials,
/// could not be reached, or refused the command.
fn command_error(address: &str, name: &str, e: mongodb::error::Error) -> DriverError {
    // Codes 13 (Unauthorized) and 18 (AuthenticationFailed).
    const DENIED: [i32; 2] = [13, 18];
    match *e.kind {
        ErrorKind::Command(ref c) if DENIED.contains(&c.code) => {
            DriverError::Denied { address: address.to_string(), reason: format!("{}: {}", c.code_name, c.message) }
        }
        ErrorKind::Command(ref c) => {
            DriverError::Rejected { name: name.to_string(), reason: format!("{}: {}", c.code_name, c.message) }
        }
        ErrorKind::Authentication { ref message, .. } => {
            DriverError::Denied { address: address.to_string(), reason: message.clone() }
        }
        ErrorKind::ServerSelection { ref message, .. } => {
            DriverError::Unreachable { address: address.to_string(), reason: message.clone() }
        }
        ErrorKind::Io(ref io) => DriverError::Unreachable { address: address.to_string(), reason: io.to_string() },
        _ => DriverError::Protocol(format!("{address}: {e}")),
    }
}

/// A BSON value as a fleet value.
fn to_value(bson: &Bson) -> Value {
    match bson {
        Bson::Null | Bson::Undefined => Value::Null,
        Bson::Boolean(b) => Value::Bool(*b),
        Bson::Int32(i) => Value::Int(i64::from(*i)),
        Bson::Int64(i) => Value::Int(*i),
        Bson::Double(f) => Value::Float(*f),
        Bson::String(s) => Value::String(s.clone()),
        Bson::Array(items) => Value::List(items.iter().map(to_value).collect()),
        Bson::Document(doc) => Value::Map(doc.iter().map(|(k, v)| (k.clone(), to_value(v))).collect()),
        other => Value::String(other.to_string()),
    }
}

/// A catalog value as BSON of the type the server parameter takes.
fn to_bson(parameter: &Parameter, typed: &Typed) -> Bson {
    match typed {
        Typed::Bool(b) => Bson::Boolean(*b),
        Typed::Int(i) => i32::try_from(*i).map_or(Bson::Int64(*i), Bson::Int32),
        Typed::Real(f) => Bson::Double(*f),
        Typed::Str(s) => Bson::String(s.clone()),
        // MongoDB writes sizes and durations as bare numbers in the
        // parameter's unit.
        Typed::Bytes(_) | Typed::Micros(_) => {
            let text = parameter.format_native(ENGINE, typed);
            text.parse().map_or(Bson::String(text), Bson::Int64)
        }
        Typed::List(items) => Bson::Array(items.iter().map(|t| to_bson(parameter, t)).collect()),
        Typed::Map(map) => Bson::Document(map.iter().map(|(k, v)| (k.clone(), to_bson(parameter, v))).collect()),
    }
}

/// `text` in the engine's spelling, read through the catalog.
fn typed(parameter: &Parameter, text: &str) -> Result<Typed, DriverError> {
    common::typed(ENGINE, parameter, text)
}

/// The value a reset sets: MongoDB has no reset, so the catalog's default.
fn default(parameter: &Parameter) -> Result<Typed, DriverError> {
    common::catalog_default(ENGINE, parameter, "MongoDB cannot reset a parameter")
}

/// The command that sets `parameter` to `value` on a running server.
fn set_command(parameter: &Parameter, value: &Typed) -> Option<Document> {
    let bson = to_bson(parameter, value);
    let as_double = |b: &Bson| match b {
        Bson::Int32(i) => Bson::Double(f64::from(*i)),
        Bson::Int64(i) => Bson::Double(*i as f64),
        other => other.clone(),
    };
    Some(match mechanism(parameter)? {
        Mechanism::Parameter(name) => doc! { "setParameter": 1, name: bson },
        Mechanism::ComponentVerbosity(component) => {
            doc! { "setParameter": 1, "logComponentVerbosity": { component: { "verbosity": bson } } }
        }
        // Level -1 changes the threshold and rate without touching the
        // profiling level.
        Mechanism::Profile(field) => doc! { "profile": -1, field: bson },
        // replSetResizeOplog takes doubles.
        Mechanism::Oplog(field) => doc! { "replSetResizeOplog": 1, field: as_double(&bson) },
    })
}

/// The settings the server reports in the answers to `getCmdLineOpts`,
/// `getParameter: "*"` and `profile: -1`.
fn read_answers(
    conn: &Connection,
    options: &Document,
    parameters: &Document,
    profile: &Document,
) -> Settings<ObservedSetting> {
    let catalog = dbfleet_catalog::catalog(ENGINE);
    let mut settings = Settings::new();
    let mut put = |name: &str, value: &Bson| {
        // getParameter gives some comma-separated options as arrays
        // (authenticationMechanisms); the catalog has them as the text of
        // the configuration file.
        let value = match (value, catalog.get(name)) {
            (Bson::Array(items), Some(p)) if p.ty == ParamType::String => {
                let items: Vec<String> =
                    items.iter().map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string)).collect();
                Value::String(items.join(","))
            }
            _ => to_value(value),
        };
        if let Some((name, setting)) = observed(ENGINE, &conn.version, name, &value, false) {
            settings.insert(name, setting);
        }
    };
    // What the server started with: the running value of what only a
    // restart changes. Runtime values come next, from the commands that
    // report them as they are now.
    if let Ok(parsed) = options.get_document("parsed") {
        let mut flat = Vec::new();
        flatten(None, parsed, &mut flat);
        for (name, value) in flat {
            if catalog.get(&name).is_some_and(|p| p.apply == ApplyMethod::Restart) {
                put(&name, value);
            }
        }
    }
    for p in catalog.parameters() {
        let value = match p.name.strip_prefix("setParameter.").map(Mechanism::Parameter).or_else(|| mechanism(p)) {
            Some(Mechanism::Parameter(name)) => parameters.get(name),
            Some(Mechanism::ComponentVerbosity(component)) => parameters
                .get_document("logComponentVerbosity")
                .ok()
                .and_then(|d| d.get_document(component).ok())
                .and_then(|d| d.get("verbosity")),
            Some(Mechanism::Profile(field)) => profile.get(field),
            Some(Mechanism::Oplog(_)) | None => None,
        };
        if let Some(value) = value {
            put(&p.name, value);
        }
    }
    settings
}

/// `getCmdLineOpts`'s `parsed` document as dotted names, stopping at the
/// first name the catalog knows so that a map parameter stays whole.
fn flatten<'d>(prefix: Option<&str>, doc: &'d Document, out: &mut Vec<(String, &'d Bson)>) {
    let catalog = dbfleet_catalog::catalog(ENGINE);
    for (key, value) in doc {
        let name = prefix.map_or_else(|| key.clone(), |p| format!("{p}.{key}"));
        match value {
            Bson::Document(inner) if catalog.get(&name).is_none() => flatten(Some(&name), inner, out),
            _ => out.push((name, value)),
        }
    }
}

#[async_trait::async_trait]
impl Live for Mongo {
    fn is_live(&self, change: &Change) -> bool {
        change.tenant.is_none() && dbfleet_catalog::catalog(ENGINE).get(&change.name).and_then(mechanism).is_some()
    }

    async fn read(&self) -> Result<Settings<ObservedSetting>, DriverError> {
        let options = self.command(doc! { "getCmdLineOpts": 1 }, "getCmdLineOpts").await?;
        let parameters = self.command(doc! { "getParameter": "*" }, "getParameter").await?;
        let profile = self.command(doc! { "profile": -1 }, "profile").await?;
        Ok(read_answers(&self.conn, &options, &parameters, &profile))
    }

    async fn set(&self, changes: &[&Change]) -> Result<(), DriverError> {
        for c in changes {
            let p = parameter(&c.name)?;
            let value = match (c.action, &c.native) {
                (Action::Reset, _) => default(p)?,
                (_, Some(text)) => typed(p, text)?,
                (_, None) => return Err(DriverError::Protocol(format!("the plan gives no value for `{}`", label(c)))),
            };
            if let Some(command) = set_command(p, &value) {
                self.command(command, &c.name).await?;
            }
        }
        Ok(())
    }

    async fn put_back(&self, before: &Observed, changes: &[&Change]) -> Result<(), DriverError> {
        let mut secrets = Vec::new();
        for c in changes {
            let p = parameter(&c.name)?;
            let value = match before.settings.get(&c.name) {
                Some(was) if is_hidden(was) => {
                    secrets.push(label(c));
                    continue;
                }
                Some(was) => typed(p, &was.raw)?,
                None => default(p)?,
            };
            if let Some(command) = set_command(p, &value) {
                self.command(command, &c.name).await?;
            }
        }
        unrestorable(&secrets)
    }
}

impl LiveWithFiles for MongodbDriver {
    const ENGINE: EngineKind = ENGINE;

    fn live(&self) -> &dyn Live {
        &self.live
    }

    fn files(&self) -> &FileDriver {
        &self.files
    }
}
