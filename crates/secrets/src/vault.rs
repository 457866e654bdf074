//! Reads fields of Vault or OpenBao KV version 2 secrets over HTTP.
//!
//! Only token authentication and reads are supported; writing to Vault,
//! leases, renewal and other secret engines are out of scope. The HTTP client
//! is blocking, because callers run on rayon threads rather than in an async
//! runtime.

use std::sync::OnceLock;
use std::time::Duration;

use reqwest::blocking::Client;
use reqwest::header::HeaderValue;
use reqwest::{StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};

use crate::{SecretError, VaultConfig};

/// A Vault server as configured, with the HTTP client built on first use.
#[derive(Debug)]
pub(crate) struct Vault {
    config: VaultConfig,
    /// Built on the first read so that a run with no `vault:` reference
    /// never starts reqwest's background runtime thread.
    http: OnceLock<Client>,
}

impl Vault {
    pub(crate) fn new(config: VaultConfig) -> Vault {
        Vault { config, http: OnceLock::new() }
    }

    /// Reads `field` of the latest version of the secret at `path` in the
    /// KV version 2 engine mounted at `mount`.
    pub(crate) fn read(&self, mount: &str, path: &str, field: &str) -> Result<SecretString, SecretError> {
        let segments: Vec<&str> = path.split('/').collect();
        if segments.iter().chain([&mount]).any(|s| matches!(*s, "" | "." | "..")) {
            return Err(SecretError::VaultBadPath { mount: mount.to_string(), path: path.to_string() });
        }
        let address = &self.config.address;
        let bad_address =
            |reason: &str| SecretError::VaultBadAddress { address: address.clone(), reason: reason.to_string() };
        let mut url = Url::parse(address).map_err(|e| bad_address(&e.to_string()))?;
        // Each segment is pushed separately so it is percent-encoded on its
        // own and cannot change the shape of the path.
        url.path_segments_mut()
            .map_err(|()| bad_address("it cannot have a path"))?
            .pop_if_empty()
            .extend(["v1", mount, "data"])
            .extend(&segments);

        let mut token = header_value(self.config.token.expose_secret(), "token")?;
        token.set_sensitive(true);
        let mut request = self.http()?.get(url).header("X-Vault-Token", token);
        if let Some(namespace) = &self.config.namespace {
            request = request.header("X-Vault-Namespace", header_value(namespace, "namespace")?);
        }
        let response =
            request.send().map_err(|source| SecretError::VaultUnreachable { address: address.clone(), source })?;

        let (mount, path, field) = (mount.to_string(), path.to_string(), field.to_string());
        let status = response.status();
        if status != StatusCode::OK {
            // Error bodies hold `{"errors": [...]}` with messages such as
            // "permission denied", never secret data.
            let errors = response.json::<serde_json::Value>().map(vault_errors).unwrap_or_default();
            return Err(match status {
                StatusCode::FORBIDDEN => SecretError::VaultDenied { mount, path, errors },
                StatusCode::NOT_FOUND => SecretError::VaultNotFound { mount, path },
                _ => SecretError::VaultServer { mount, path, status: status.as_u16(), errors },
            });
        }
        // Parsing into an untyped value first means a parse error can only be
        // about syntax; serde's "invalid type" errors would quote the value.
        let data = match response.json::<serde_json::Value>() {
            Ok(mut body) => body.pointer_mut("/data/data").map(serde_json::Value::take),
            Err(_) => None,
        };
        let Some(serde_json::Value::Object(mut data)) = data else {
            return Err(SecretError::VaultBadResponse { mount, path });
        };
        let kind = match data.remove(&field) {
            Some(serde_json::Value::String(s)) => return Ok(SecretString::from(s)),
            // Numbers and booleans are what `kv put` stores for a value given
            // as JSON; their text is what the user wrote.
            Some(serde_json::Value::Number(n)) => return Ok(SecretString::from(n.to_string())),
            Some(serde_json::Value::Bool(b)) => return Ok(SecretString::from(b.to_string())),
            Some(serde_json::Value::Null) => "null",
            Some(serde_json::Value::Array(_)) => "a list",
            Some(serde_json::Value::Object(_)) => "a map",
            None => {
                let mut available: Vec<String> = data.into_iter().map(|(k, _)| k).collect();
                available.sort();
                return Err(SecretError::VaultFieldMissing { mount, path, field, available });
            }
        };
        Err(SecretError::VaultFieldNotText { mount, path, field, kind })
    }

    fn http(&self) -> Result<&Client, SecretError> {
        if let Some(client) = self.http.get() {
            return Ok(client);
        }
        // reqwest is built without a crypto provider (the default one is
        // aws-lc-rs, slow to build), so one must be installed process-wide
        // before a client exists. An error means one is already installed,
        // by us or by the program, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            // Following a redirect would send the token to wherever the
            // Location header points.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|source| SecretError::VaultClient { source })?;
        // Two threads may race to build; the loser's client is dropped.
        Ok(self.http.get_or_init(|| client))
    }
}

/// `value` as an HTTP header; `what` names it in the error, which must not
/// quote it (it may be the token).
fn header_value(value: &str, what: &'static str) -> Result<HeaderValue, SecretError> {
    HeaderValue::from_str(value).map_err(|_| SecretError::VaultBadHeader { what })
}

/// The `errors` array of a Vault error response.
fn vault_errors(body: serde_json::Value) -> Vec<String> {
    match body {
        serde_json::Value::Object(mut map) => match map.remove("errors") {
            Some(serde_json::Value::Array(errors)) => {
                errors.into_iter().filter_map(|e| e.as_str().map(str::to_string)).collect()
            }
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}
