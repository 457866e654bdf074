//! Elasticsearch: dynamic cluster settings through the cluster settings
//! API, everything else through file delivery.
//!
//! Observing reads `GET /_cluster/settings?include_defaults=true&flat_settings=true`:
//! the effective value of a setting is its transient value, else its
//! persistent one, else the node's (from `elasticsearch.yml`) or built-in
//! default, which the `defaults` section reports; a persistent value is
//! `explicit`, as that is where dbfleet writes. Applying sends every runtime
//! change in one `PUT /_cluster/settings` under `persistent`, a reset as
//! `null`; Elasticsearch validates the request whole, so a rejected setting
//! changes nothing. Settings of `elasticsearch.yml`, the JVM options and the
//! keystore (catalog `apply: restart`) go through [`crate::file`], whose
//! health probe uses [`wait_for_health`].
//!
//! Transient settings (deprecated since 7.16) are reported but never
//! written: one that overrides a persistent value keeps it from taking
//! effect, which the next plan shows as an unfinished change.

use std::time::Duration;

use dbfleet_catalog::Typed;
use dbfleet_model::{ApplyMethod, EngineKind, Value};
use dbfleet_plan::{Action, Change, Observed, ObservedSetting, Settings};
use dbfleet_render::RenderedFile;
use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret as _;
use serde_json::{Map, Value as Json};

use crate::common::{label, observed, with_causes};
use crate::file::{FileDriver, Live, LiveWithFiles};
use crate::{Connection, DriverError};

const SETTINGS: &str = "/_cluster/settings";
const SETTINGS_WITH_DEFAULTS: &str = "/_cluster/settings?include_defaults=true&flat_settings=true";
const HEALTH: &str = "/_cluster/health";

/// Manages one Elasticsearch node (and the cluster settings it serves).
pub struct ElasticsearchDriver {
    http: Http,
    files: FileDriver,
}

impl ElasticsearchDriver {
    /// A driver for the node `conn` names; `files` are its rendered files,
    /// written for settings that need a restart (empty: such changes fail).
    pub fn new(conn: Connection, files: Vec<RenderedFile>) -> ElasticsearchDriver {
        ElasticsearchDriver { http: Http::new(&conn), files: FileDriver::new(conn, files) }
    }
}

/// The HTTP side: a client for one node, built once.
struct Http {
    conn: Connection,
    /// The client, or why none could be built (a CA file that does not
    /// read), reported at first use.
    client: Result<reqwest::Client, String>,
}

impl Http {
    fn new(conn: &Connection) -> Http {
        Http { conn: conn.clone(), client: client(conn) }
    }

    fn base(&self) -> String {
        let scheme = if self.conn.tls.enabled { "https" } else { "http" };
        format!("{scheme}://{}", self.conn.address)
    }

    fn unreachable(&self, reason: impl ToString) -> DriverError {
        DriverError::Unreachable { address: self.conn.address.clone(), reason: reason.to_string() }
    }

    /// Sends one request and returns the status and the JSON body.
    async fn send(&self, method: Method, path: &str, body: Option<&Json>) -> Result<(StatusCode, Json), DriverError> {
        let client = self.client.as_ref().map_err(|e| self.unreachable(e))?;
        let mut request = client.request(method, format!("{}{path}", self.base()));
        if let Some(user) = &self.conn.user {
            request = request.basic_auth(user, self.conn.password.as_ref().map(|p| p.expose_secret().to_string()));
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        // The error's text is reqwest's, which names the URL but never the
        // credentials.
        let response = request.send().await.map_err(|e| self.unreachable(with_causes(&e)))?;
        let status = response.status();
        let text = response.text().await.map_err(|e| self.unreachable(with_causes(&e)))?;
        if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
            let reason = format!("{status}: {}", error_reason(&text).unwrap_or(text));
            return Err(DriverError::Denied { address: self.conn.address.clone(), reason });
        }
        let json = serde_json::from_str(&text).map_err(|e| {
            DriverError::Protocol(format!(
                "{} answered {path} with {status} and a body that is not JSON: {e}",
                self.conn.address
            ))
        })?;
        Ok((status, json))
    }

    /// Updates persistent cluster settings; `names` are the changes the
    /// body carries, for the error.
    async fn put_persistent(&self, persistent: Map<String, Json>, names: &[String]) -> Result<(), DriverError> {
        let body = serde_json::json!({ "persistent": persistent });
        let (status, answer) = self.send(Method::PUT, SETTINGS, Some(&body)).await?;
        if !status.is_success() {
            let reason = error_reason(&answer.to_string()).unwrap_or_else(|| format!("{status}: {answer}"));
            // Elasticsearch names the setting it refuses in brackets.
            let name =
                names.iter().find(|n| reason.contains(&format!("[{n}]"))).cloned().unwrap_or_else(|| names.join(", "));
            return Err(DriverError::Rejected { name, reason });
        }
        if answer.get("acknowledged") != Some(&Json::Bool(true)) {
            return Err(DriverError::Protocol(format!(
                "{} did not acknowledge the settings update: {answer}",
                self.conn.address
            )));
        }
        Ok(())
    }
}

/// A client that verifies the node with the configured CA bundle (or not at
/// all, when told so), and gives up on a silent node.
fn client(conn: &Connection) -> Result<reqwest::Client, String> {
    crate::common::install_crypto_provider();
    let mut builder = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        // A redirect would send the credentials wherever it points.
        .redirect(reqwest::redirect::Policy::none());
    if let Some(ca) = &conn.tls.ca {
        let pem = std::fs::read(ca).map_err(|e| format!("cannot read the CA bundle {}: {e}", ca.display()))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| format!("{}: {e}", ca.display()))?;
        builder = builder.tls_certs_only(certs);
    }
    if conn.tls.insecure {
        builder = builder.danger_accept_invalid_certs(true);
    }
    builder.build().map_err(|e| e.to_string())
}

/// `error.reason` of an Elasticsearch error body, with its type.
fn error_reason(body: &str) -> Option<String> {
    let json: Json = serde_json::from_str(body).ok()?;
    let error = json.get("error")?;
    match (error.get("type").and_then(Json::as_str), error.get("reason").and_then(Json::as_str)) {
        (Some(kind), Some(reason)) => Some(format!("{kind}: {reason}")),
        (None, Some(reason)) => Some(reason.to_string()),
        _ => error.as_str().map(str::to_string),
    }
}

/// Waits, for at most the connection's ready timeout, until the node
/// reports a cluster health that is not red.
pub(crate) async fn wait_for_health(conn: &Connection) -> Result<(), DriverError> {
    let http = Http::new(conn);
    let deadline = tokio::time::Instant::now() + conn.ready_timeout;
    loop {
        let last = match http.send(Method::GET, HEALTH, None).await {
            Ok((status, body)) if status.is_success() => match body.get("status").and_then(Json::as_str) {
                Some("green" | "yellow") => return Ok(()),
                other => format!("cluster health is {}", other.unwrap_or("unknown")),
            },
            Ok((status, body)) => format!("{HEALTH} answered {status}: {body}"),
            Err(e @ DriverError::Denied { .. }) => return Err(e),
            Err(e) => e.to_string(),
        };
        if tokio::time::Instant::now() >= deadline {
            let reason = format!("not healthy after {}s: {last}", conn.ready_timeout.as_secs_f32());
            return Err(DriverError::Unreachable { address: conn.address.clone(), reason });
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Reads a flat-settings response into settings by catalog name: the
/// effective value of each, explicit when persistent.
pub(crate) fn read_settings(conn: &Connection, body: &Json) -> Result<Settings<ObservedSetting>, DriverError> {
    let section = |name: &str| -> Result<Option<&Map<String, Json>>, DriverError> {
        match body.get(name) {
            None | Some(Json::Null) => Ok(None),
            Some(Json::Object(map)) => Ok(Some(map)),
            Some(other) => {
                Err(DriverError::Protocol(format!("`{name}` in the cluster settings is not an object: {other}")))
            }
        }
    };
    let mut settings = Settings::new();
    // Weakest first, so that each later section overrides.
    for (part, explicit) in [("defaults", false), ("persistent", true), ("transient", false)] {
        for (name, value) in section(part)?.into_iter().flatten() {
            let explicit = explicit || settings.get(name).is_some_and(|s: &ObservedSetting| s.explicit);
            if let Some((name, setting)) = observed(conn.engine, &conn.version, name, &from_json(value), explicit) {
                settings.insert(name, setting);
            }
        }
    }
    Ok(settings)
}

/// A flat setting's JSON as a value: Elasticsearch reports strings, and
/// lists as arrays of strings.
fn from_json(json: &Json) -> Value {
    match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::String(s) => Value::String(s.clone()),
        Json::Array(items) => Value::List(items.iter().map(from_json).collect()),
        other => Value::String(other.to_string()),
    }
}

/// The JSON that sets `name` to `text` (the engine's spelling): a string,
/// or an array of strings for a list.
fn to_json(name: &str, text: &str) -> Json {
    let engine = EngineKind::Elasticsearch;
    let typed = dbfleet_catalog::catalog(engine)
        .get(name)
        .and_then(|p| p.normalize(engine, &Value::String(text.to_string())).ok().map(|t| (p, t)));
    match typed {
        Some((p, Typed::List(items))) => {
            Json::Array(items.iter().map(|t| Json::String(p.format_native(engine, t))).collect())
        }
        _ => Json::String(text.to_string()),
    }
}

/// The `persistent` body that makes `changes`.
pub(crate) fn update_body(changes: &[&Change]) -> Result<Map<String, Json>, DriverError> {
    changes
        .iter()
        .map(|c| {
            let value = match (c.action, &c.native) {
                (Action::Reset, _) => Json::Null,
                (_, Some(text)) => to_json(&c.name, text),
                (_, None) => {
                    return Err(DriverError::Protocol(format!("the plan gives no value for `{}`", label(c))));
                }
            };
            Ok((c.name.clone(), value))
        })
        .collect()
}

/// The `persistent` body that returns `changes` to `before`: the value
/// again where it was persistent, `null` (the node's value) otherwise.
pub(crate) fn restore_body(before: &Observed, changes: &[&Change]) -> Map<String, Json> {
    changes
        .iter()
        .map(|c| {
            let value = match before.settings.get(&c.name) {
                Some(was) if was.explicit => to_json(&c.name, &was.raw),
                _ => Json::Null,
            };
            (c.name.clone(), value)
        })
        .collect()
}

#[async_trait::async_trait]
impl Live for Http {
    fn is_live(&self, change: &Change) -> bool {
        let parameter = dbfleet_catalog::catalog(EngineKind::Elasticsearch).get(&change.name);
        // Dynamic settings of elasticsearch.yml; JVM options and keystore
        // entries are read only at start.
        change.tenant.is_none() && parameter.is_some_and(|p| p.apply == ApplyMethod::Runtime && p.section == "main")
    }

    async fn read(&self) -> Result<Settings<ObservedSetting>, DriverError> {
        let (status, body) = self.send(Method::GET, SETTINGS_WITH_DEFAULTS, None).await?;
        if !status.is_success() {
            return Err(DriverError::Protocol(format!(
                "{} answered the settings request with {status}: {body}",
                self.conn.address
            )));
        }
        read_settings(&self.conn, &body)
    }

    async fn set(&self, changes: &[&Change]) -> Result<(), DriverError> {
        let names: Vec<String> = changes.iter().map(|c| c.name.clone()).collect();
        self.put_persistent(update_body(changes)?, &names).await
    }

    async fn put_back(&self, before: &Observed, changes: &[&Change]) -> Result<(), DriverError> {
        let names: Vec<String> = changes.iter().map(|c| c.name.clone()).collect();
        self.put_persistent(restore_body(before, changes), &names).await
    }
}

impl LiveWithFiles for ElasticsearchDriver {
    const ENGINE: EngineKind = EngineKind::Elasticsearch;

    fn live(&self) -> &dyn Live {
        &self.http
    }

    fn files(&self) -> &FileDriver {
        &self.files
    }
}
