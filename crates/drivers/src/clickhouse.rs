//! ClickHouse over its HTTP interface, with settings delivered as dbfleet's
//! own two files in the server's configuration directory (`config_dir`):
//! `users.d/dbfleet.xml` for profile settings (catalog section `users`),
//! which go into profile `default`, and `config.d/dbfleet.xml` for server
//! elements (section `config`). The server merges both into its own files.
//! Their text is what `dbfleet render` writes (`dbfleet_render`), root
//! element `<yandex>` before 21.11 included.
//!
//! Observing reads `system.settings` (the profile settings of the user
//! dbfleet connects as), `system.merge_tree_settings` (as `merge_tree.*`)
//! and, on servers that have it (23.x on), `system.server_settings`. Other
//! server elements cannot be read from a running 18.16 server, so for them
//! the value in dbfleet's file stands in for the running one. A setting is
//! explicit when dbfleet's files hold it.
//!
//! Applying rewrites the files (atomically, the previous one kept as
//! `.dbfleet.bak`), runs `SYSTEM RELOAD CONFIG` (which re-reads the users
//! files too, and reports a file the server cannot parse), restarts for
//! server elements read only at start, and then polls `system.settings`
//! until the new values show. Every value is first checked against the
//! catalog for the server's version: an 18.16 server reads a malformed
//! number in a profile as 0 (for `max_memory_usage`: no limit), and an
//! unknown name in profile `default` makes every query of the default user
//! fail, the `SYSTEM RELOAD CONFIG` that would undo it included.
//!
//! Restoring writes each setting the plan touched back into the files as
//! `before` held it (or leaves it out), reloads and polls until the values
//! of `before` show again; the server's own reload of changed files, about
//! every two seconds, covers a default profile too broken to run the
//! reload query.
//!
//! Tenants (their profiles, users and quotas) are the third file,
//! `users.d/dbfleet-tenants.xml`, which the driver takes as rendered
//! (`dbfleet_render`) and delivers whole, as dbfleet's own `tenants.xml`
//! setting. It is observed when the driver was given a rendered tenants file
//! or the file exists: its value is a digest of the file's text from the
//! root element on (the header names the fleet revision, which a new commit
//! changes without changing a tenant; see [`tenants_digest`]), its text is
//! kept in memory only, and it is sensitive (password hashes) and never
//! explicit. Applying writes the rendered file atomically (the previous one
//! kept as `.dbfleet.bak`) before the reload, then checks that the server
//! knows every user of the file: in `system.users` where the server has it
//! (20.x on) and dbfleet's user may read it (else only that the server still
//! answers), otherwise by the answer to a login without a password, which
//! names an unknown user apart from a refused password (18.16). Restoring writes
//! back the text observed before (or removes the file when there was none);
//! a snapshot from the state store does not hold it, so the tenants cannot
//! be put back from one.
//!
//! Tenant-scope settings never reach this driver: the CLI plans a tenant
//! through the tenants file. This module does not write or read any other
//! file in `config.d`/`users.d`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use dbfleet_catalog::{Lookup, Parameter, Typed};
use dbfleet_model::{ApplyMethod, EngineKind, Value};
use dbfleet_plan::{Action, Change, Observed, ObservedSetting, Plan, Settings};
use dbfleet_render::{RenderInput, RenderValue, Setting};
use secrecy::{ExposeSecret as _, SecretString};

use crate::common::{self, label, observed};
use crate::{Applied, Connection, Driver, DriverError};

const ENGINE: EngineKind = EngineKind::Clickhouse;
const DEFAULT_PORT: u16 = 8123;
/// dbfleet's files, relative to `config_dir`, by catalog section.
const FILES: [(&str, &str); 2] = [("users", "users.d/dbfleet.xml"), ("config", "config.d/dbfleet.xml")];
/// dbfleet's setting for the tenants file, and the file, relative to
/// `config_dir`.
pub(crate) const TENANTS: &str = "tenants.xml";
pub(crate) const TENANTS_FILE: &str = "users.d/dbfleet-tenants.xml";
/// ClickHouse's error code for a user it does not know (18.16; from 20.x
/// on a failed login says only `AUTHENTICATION_FAILED`).
const UNKNOWN_USER: u32 = 192;
/// Error codes that mean the credentials were refused: unknown user,
/// wrong or missing password, address not allowed, authentication failed.
const DENIED: [u32; 5] = [192, 193, 194, 195, 516];

/// The settings dbfleet's files hold, by name, as written there.
type Held = BTreeMap<String, Value>;

/// Manages one ClickHouse server over HTTP and its configuration files.
pub(crate) struct ClickHouseDriver {
    conn: Connection,
    /// Built on first use: building needs the TLS settings read, which can
    /// fail, and `connect` cannot.
    http: OnceLock<reqwest::Client>,
    /// The rendered `users.d/dbfleet-tenants.xml`, when the instance has
    /// tenants.
    tenants: Option<dbfleet_render::RenderedFile>,
}

impl ClickHouseDriver {
    pub(crate) fn new(conn: Connection, files: Vec<dbfleet_render::RenderedFile>) -> ClickHouseDriver {
        let tenants = files.into_iter().find(|f| f.path == TENANTS_FILE);
        ClickHouseDriver { conn, http: OnceLock::new(), tenants }
    }

    fn http(&self) -> Result<&reqwest::Client, DriverError> {
        if let Some(client) = self.http.get() {
            return Ok(client);
        }
        common::install_crypto_provider();
        let tls = &self.conn.tls;
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none());
        if tls.enabled && tls.insecure {
            builder = builder.danger_accept_invalid_certs(true);
        } else if let Some(ca) = tls.ca.as_ref().filter(|_| tls.enabled) {
            let unreadable = |e: &dyn std::fmt::Display| {
                DriverError::Protocol(format!("cannot read the CA bundle {}: {e}", ca.display()))
            };
            let pem = std::fs::read(ca).map_err(|e| unreadable(&e))?;
            for cert in reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| unreadable(&e))? {
                builder = builder.add_root_certificate(cert);
            }
        }
        let client = builder.build().map_err(|e| DriverError::Protocol(format!("cannot set up HTTP: {e}")))?;
        Ok(self.http.get_or_init(|| client))
    }

    /// Runs `sql` and returns the response body.
    async fn query(&self, sql: &str) -> Result<String, DriverError> {
        let user = self.conn.user.as_deref().unwrap_or("default");
        self.query_as(user, self.conn.password.as_ref().map(|p| p.expose_secret().to_string()), sql).await
    }

    /// Runs `sql` as `user` with `password`.
    async fn query_as(&self, user: &str, password: Option<String>, sql: &str) -> Result<String, DriverError> {
        let (host, port) = common::split_address(&self.conn.address, DEFAULT_PORT)?;
        let scheme = if self.conn.tls.enabled { "https" } else { "http" };
        let host = if host.contains(':') { format!("[{host}]") } else { host };
        let request =
            self.http()?.post(format!("{scheme}://{host}:{port}/")).body(sql.to_string()).basic_auth(user, password);
        let unreachable = |e: reqwest::Error| DriverError::Unreachable {
            address: self.conn.address.clone(),
            reason: common::with_causes(&e),
        };
        let response = request.send().await.map_err(unreachable)?;
        let ok = response.status().is_success();
        let body = response.text().await.map_err(unreachable)?;
        if ok { Ok(body) } else { Err(self.server_error(body.trim())) }
    }

    /// What a ClickHouse error message (`Code: 115, e.displayText() = ...`)
    /// means for the caller.
    fn server_error(&self, message: &str) -> DriverError {
        if error_code(message).is_some_and(|c| DENIED.contains(&c)) {
            return DriverError::Denied { address: self.conn.address.clone(), reason: message.to_string() };
        }
        // An unknown name in the default profile: every query fails with it.
        if let Some(rest) = message.split("Unknown setting ").nth(1) {
            let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            return DriverError::Rejected { name, reason: message.to_string() };
        }
        DriverError::Protocol(format!("{}: {message}", self.conn.address))
    }

    /// The values of `columns` in each row of `sql` (without a `FORMAT`
    /// clause), read as `JSONEachRow`, so that serde_json undoes the
    /// escaping.
    async fn rows(&self, sql: &str, columns: &[&str]) -> Result<Vec<Vec<String>>, DriverError> {
        let body = self.query(&format!("{sql} FORMAT JSONEachRow")).await?;
        body.lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                let row: serde_json::Map<String, serde_json::Value> = serde_json::from_str(line).map_err(|e| {
                    DriverError::Protocol(format!("{}: unreadable row from `{sql}`: {e}", self.conn.address))
                })?;
                Ok(columns
                    .iter()
                    .map(|c| match row.get(*c) {
                        Some(serde_json::Value::String(text)) => text.clone(),
                        Some(other) => other.to_string(),
                        None => String::new(),
                    })
                    .collect())
            })
            .collect()
    }

    /// Name and value of every setting the running server reports.
    async fn running(&self) -> Result<BTreeMap<String, String>, DriverError> {
        let pairs = |rows: Vec<Vec<String>>, prefix: &str| {
            rows.into_iter()
                .filter_map(|mut row| {
                    let value = row.pop()?;
                    Some((format!("{prefix}{}", row.pop()?), value))
                })
                .collect::<Vec<_>>()
        };
        let mut out = BTreeMap::new();
        out.extend(pairs(self.rows("SELECT name, value FROM system.settings", &["name", "value"]).await?, ""));
        out.extend(pairs(
            self.rows("SELECT name, value FROM system.merge_tree_settings", &["name", "value"]).await?,
            "merge_tree.",
        ));
        let has_server_settings = self
            .query("SELECT count() FROM system.tables WHERE database = 'system' AND name = 'server_settings'")
            .await?
            .trim()
            == "1";
        if has_server_settings {
            out.extend(pairs(
                self.rows("SELECT name, value FROM system.server_settings", &["name", "value"]).await?,
                "",
            ));
        }
        Ok(out)
    }

    fn dir(&self) -> Result<&Path, DriverError> {
        self.conn.config_dir.as_deref().ok_or_else(|| {
            DriverError::Protocol(format!(
                "no configuration directory is set for {}: the ClickHouse driver writes users.d/ and config.d/ there",
                self.conn.address
            ))
        })
    }

    /// What dbfleet's files hold now. A file with anything else in it
    /// (users, quotas, other profiles: from file delivery or a person) is
    /// refused, since the driver would drop it when writing the file again.
    async fn held(&self) -> Result<Held, DriverError> {
        let Some(dir) = self.conn.config_dir.as_deref() else { return Ok(Held::new()) };
        let mut held = Held::new();
        for (_, file) in FILES {
            let path = dir.join(file);
            let text = match tokio::fs::read_to_string(&path).await {
                Ok(text) => text,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(DriverError::Protocol(format!("cannot read {}: {e}", path.display()))),
            };
            let parsed = dbfleet_render::parse(ENGINE, file, &text)
                .map_err(|e| DriverError::Protocol(format!("cannot read {}: {e}", path.display())))?;
            if let Some(u) = parsed.unmapped.first() {
                return Err(DriverError::Protocol(format!(
                    "{}:{} holds `{}`, which the ClickHouse driver does not manage ({}); it would be lost if the driver wrote the file",
                    path.display(),
                    u.line,
                    u.text,
                    u.reason
                )));
            }
            held.extend(parsed.settings.into_iter().map(|s| (s.name, s.value)));
        }
        Ok(held)
    }

    async fn read(&self) -> Result<Observed, DriverError> {
        let running = self.running().await?;
        let held = self.held().await?;
        let version = &self.conn.version;
        let mut settings = Settings::new();
        for (name, raw) in &running {
            let explicit = held.contains_key(name);
            if let Some((name, s)) = observed(ENGINE, version, name, &Value::String(raw.clone()), explicit) {
                settings.insert(name, s);
            }
        }
        // Server elements the running server does not report.
        for (name, value) in held.iter().filter(|(n, _)| !running.contains_key(*n)) {
            if let Some((name, s)) = observed(ENGINE, version, name, value, true) {
                settings.insert(name, s);
            }
        }
        if let Some(tenants) = self.observed_tenants().await? {
            settings.insert(TENANTS.to_string(), tenants);
        }
        Ok(Observed { settings, tenants: Default::default() })
    }

    /// The tenants file's text, `None` when there is none (or nowhere to
    /// look for one).
    async fn tenants_text(&self) -> Result<Option<String>, DriverError> {
        let Some(dir) = self.conn.config_dir.as_deref() else { return Ok(None) };
        let path = dir.join(TENANTS_FILE);
        match tokio::fs::read_to_string(&path).await {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(DriverError::Protocol(format!("cannot read {}: {e}", path.display()))),
        }
    }

    /// `tenants.xml` as observed (see the module comment): reported when a
    /// tenants file was rendered or one exists, an absent file as empty.
    async fn observed_tenants(&self) -> Result<Option<ObservedSetting>, DriverError> {
        let text = self.tenants_text().await?;
        if text.is_none() && (self.tenants.is_none() || self.conn.config_dir.is_none()) {
            return Ok(None);
        }
        let text = text.unwrap_or_default();
        let digest = tenants_digest(&text);
        Ok(Some(ObservedSetting {
            value: Some(Typed::Str(digest.clone())),
            raw: text,
            pending_restart: false,
            // Marks the setting sensitive for whoever keeps snapshots.
            digest: Some(digest),
            explicit: false,
        }))
    }

    /// Makes the tenants file hold `text`, or removes it for `None`; a
    /// file that already does is left alone.
    async fn write_tenants(&self, text: Option<&str>, new_mode: u32) -> Result<(), DriverError> {
        let path = self.dir()?.join(TENANTS_FILE);
        if self.tenants_text().await?.as_deref() == text {
            return Ok(());
        }
        common::replace_file(&path, text.map(str::to_string), new_mode).await
    }

    /// Checks, after a reload, that the server knows every user of the
    /// tenants file `text` (see the module comment), for at most
    /// `ready_timeout`.
    async fn check_tenants(&self, text: &str) -> Result<(), DriverError> {
        let users = tenant_users(text)?;
        if users.is_empty() {
            return Ok(());
        }
        let users_table = "SELECT name FROM system.users";
        let has_users_table =
            self.query("SELECT count() FROM system.tables WHERE database = 'system' AND name = 'users'").await?.trim()
                == "1";
        if has_users_table {
            match self.rows(users_table, &["name"]).await {
                Ok(_) => {}
                Err(e) if e.is_connection() => return Err(e),
                // Reading it takes a privilege (SHOW USERS) the user dbfleet
                // connects as may lack: the reload succeeded and the server
                // answers, which is all that can be known then.
                Err(_) => return self.query("SELECT 1").await.map(drop),
            }
        }
        let deadline = tokio::time::Instant::now() + self.conn.ready_timeout;
        loop {
            let missing = if has_users_table {
                let known: BTreeSet<String> = self.rows(users_table, &["name"]).await?.into_iter().flatten().collect();
                users.iter().find(|u| !known.contains(*u)).cloned()
            } else {
                let mut missing = None;
                for user in &users {
                    if !self.user_exists(user).await? {
                        missing = Some(user.clone());
                        break;
                    }
                }
                missing
            };
            let Some(user) = missing else { return Ok(()) };
            if tokio::time::Instant::now() >= deadline {
                return Err(DriverError::Rejected {
                    name: TENANTS.to_string(),
                    reason: format!(
                        "the server does not know user `{user}` of {TENANTS_FILE} {}s after the reload",
                        self.conn.ready_timeout.as_secs_f32()
                    ),
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Whether a server without `system.users` knows `user`: a login with
    /// no password is refused for a wrong password or address when it
    /// does, as an unknown user when it does not.
    async fn user_exists(&self, user: &str) -> Result<bool, DriverError> {
        match self.query_as(user, None, "SELECT 1").await {
            Ok(_) => Ok(true),
            Err(DriverError::Denied { reason, .. }) => Ok(error_code(&reason) != Some(UNKNOWN_USER)),
            Err(e) => Err(e),
        }
    }

    /// The parameter a change is about, checked against the server's
    /// version and the value it would be given (see the module comment).
    fn check(&self, c: &Change) -> Result<&'static Parameter, DriverError> {
        let refuse = |reason: String| DriverError::Rejected { name: c.name.clone(), reason };
        let version = &self.conn.version;
        let p = match dbfleet_catalog::catalog(ENGINE).lookup(&c.name, version) {
            Lookup::Found(p) | Lookup::Alias { parameter: p, .. } => p,
            Lookup::NotYet { since, .. } => {
                return Err(refuse(format!("ClickHouse {version} does not have it yet (from {since} on)")));
            }
            Lookup::Removed { until, .. } => {
                return Err(refuse(format!("ClickHouse {version} no longer has it (last in {until})")));
            }
            Lookup::Unknown { .. } => return Err(refuse("not a ClickHouse setting the catalog knows".into())),
        };
        if !FILES.iter().any(|(section, _)| *section == p.section) {
            return Err(refuse(format!("section `{}` is not delivered by the ClickHouse driver", p.section)));
        }
        match (c.action, &c.native) {
            (Action::Reset, _) => {}
            (_, None) => {
                return Err(DriverError::Protocol(format!("the plan sets `{}` but carries no value for it", c.name)));
            }
            (_, Some(native)) => {
                p.normalize(ENGINE, &Value::String(native.clone())).map_err(|e| {
                    refuse(if c.sensitive {
                        "the value is not valid (not shown: it is secret)".into()
                    } else {
                        e.to_string()
                    })
                })?;
            }
        }
        Ok(p)
    }

    /// Writes `held` into dbfleet's files: a file whose section holds
    /// nothing is removed, one whose text is unchanged is left alone.
    async fn write(&self, held: &Held, instance: &str) -> Result<(), DriverError> {
        let dir = self.dir()?;
        let catalog = dbfleet_catalog::catalog(ENGINE);
        let mut settings = Vec::new();
        for (name, value) in held {
            let p = catalog.get(name).ok_or_else(|| DriverError::Rejected {
                name: name.clone(),
                reason: "not a ClickHouse setting the catalog knows".into(),
            })?;
            let value = if p.sensitive {
                let text = match value {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                RenderValue::Secret(SecretString::from(text))
            } else {
                RenderValue::Typed(
                    p.normalize(ENGINE, value)
                        .map_err(|e| DriverError::Rejected { name: name.clone(), reason: e.to_string() })?,
                )
            };
            settings.push(Setting { name, parameter: p, value, origin: None });
        }
        let sections: BTreeSet<&str> = settings.iter().map(|s| s.parameter.section.as_str()).collect();
        let input = RenderInput {
            engine: ENGINE,
            version: &self.conn.version,
            instance,
            // Neither is known to a driver, which is handed only the plan.
            fleet: "-",
            revision: "applied by the dbfleet ClickHouse driver",
            annotate: false,
            settings,
            tenants: Vec::new(),
        };
        let rendered = dbfleet_render::render(&input).map_err(|e| DriverError::Protocol(e.to_string()))?;
        for (section, file) in FILES {
            let path = dir.join(file);
            let wanted = match rendered.iter().find(|r| r.path == file) {
                Some(r) if sections.contains(section) => Some(r),
                _ => None,
            };
            let now = tokio::fs::read_to_string(&path).await.ok();
            if now.as_deref() == wanted.map(|r| r.contents.as_str()) {
                continue;
            }
            let mode = wanted.map_or(0o644, |r| r.mode());
            common::replace_file(&path, wanted.map(|r| r.contents.clone()), mode).await?;
        }
        Ok(())
    }

    /// Restarts with `command`, waiting for a new server process: one whose
    /// uptime is shorter than the time since the restart began.
    async fn restart(&self, command: &[String]) -> Result<(), DriverError> {
        let began = tokio::time::Instant::now();
        common::restart(&self.conn, command, move || async move {
            let uptime: f64 = self.query("SELECT uptime()").await?.trim().parse().unwrap_or(f64::MAX);
            Ok(uptime <= began.elapsed().as_secs_f64() + 1.0)
        })
        .await
    }

    /// Waits until the server reports each of `expected` (those it reports
    /// at all), for at most `ready_timeout`.
    async fn wait_for(&self, expected: &BTreeMap<String, Typed>) -> Result<(), DriverError> {
        let deadline = tokio::time::Instant::now() + self.conn.ready_timeout;
        loop {
            let last = match self.running().await {
                Ok(running) => {
                    let wrong = expected.iter().find(|(name, want)| {
                        running.get(*name).is_some_and(|raw| normalize(name, raw).as_ref() != Some(*want))
                    });
                    match wrong {
                        None => return Ok(()),
                        Some((name, _)) => DriverError::Rejected {
                            name: name.clone(),
                            reason: format!(
                                "the server still reports `{}` {}s after the reload",
                                running.get(name).map_or("", String::as_str),
                                self.conn.ready_timeout.as_secs_f32()
                            ),
                        },
                    }
                }
                Err(e) => e,
            };
            if tokio::time::Instant::now() >= deadline {
                return Err(last);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[async_trait::async_trait]
impl Driver for ClickHouseDriver {
    fn engine(&self) -> EngineKind {
        ENGINE
    }

    async fn observe(&self) -> Result<Observed, DriverError> {
        self.read().await
    }

    async fn apply(&self, plan: &Plan, allow_restart: bool) -> Result<Applied, DriverError> {
        if plan.is_empty() {
            return Ok(Applied::default());
        }
        refuse_tenants(plan)?;
        self.dir()?;
        let command = common::restart_command(&self.conn, plan.needs_restart(), allow_restart)?;
        let (tenant_changes, changes): (Vec<&Change>, Vec<&Change>) = plan.changes.iter().partition(|c| is_tenants(c));
        let tenants = match (tenant_changes.first(), &self.tenants) {
            (None, _) => None,
            (Some(c), _) if c.action == Action::Reset => {
                return Err(DriverError::Protocol(format!("`{TENANTS}` is never reset, only rendered again")));
            }
            (Some(_), Some(file)) => Some(file),
            (Some(_), None) => {
                return Err(DriverError::Protocol(format!(
                    "the plan changes `{TENANTS}` but no {TENANTS_FILE} was rendered"
                )));
            }
        };
        let parameters = changes.iter().map(|c| self.check(c)).collect::<Result<Vec<_>, _>>()?;
        // Reachable before anything is written.
        self.query("SELECT 1").await?;
        let mut held = self.held().await?;
        let mut expected = BTreeMap::new();
        for (c, p) in changes.iter().zip(parameters) {
            match (&c.native, c.action) {
                (Some(native), Action::Set | Action::Change) => {
                    let value = Value::String(native.clone());
                    if !p.sensitive {
                        expected.extend(p.normalize(ENGINE, &value).ok().map(|t| (c.name.clone(), t)));
                    }
                    held.insert(c.name.clone(), value);
                }
                _ => {
                    held.remove(&c.name);
                }
            }
        }
        self.write(&held, &plan.instance).await?;
        if let Some(file) = tenants {
            self.write_tenants(Some(&file.contents), file.mode()).await?;
        }
        self.query("SYSTEM RELOAD CONFIG").await?;
        if let Some(command) = command {
            self.restart(command).await?;
        }
        self.wait_for(&expected).await?;
        if let Some(file) = tenants {
            self.check_tenants(&file.contents).await?;
        }
        Ok(Applied {
            changed: plan.changes.iter().map(label).collect(),
            reloaded: true,
            restarted: command.is_some(),
            pending_restart: Vec::new(),
        })
    }

    async fn restore(&self, before: &Observed, plan: &Plan, allow_restart: bool) -> Result<Applied, DriverError> {
        if plan.is_empty() {
            return Ok(Applied::default());
        }
        // Tenant changes were refused by apply before anything was written.
        let plan = &common::instance_changes(plan);
        self.dir()?;
        let mut held = self.held().await?;
        let catalog = dbfleet_catalog::catalog(ENGINE);
        let mut seen = BTreeSet::new();
        let mut expected = BTreeMap::new();
        let mut secrets = Vec::new();
        let mut restart = false;
        // What the tenants file goes back to, when the plan touched it.
        let mut tenants: Option<Option<String>> = None;
        for c in plan.changes.iter().filter(|c| seen.insert(c.name.as_str())) {
            let was = before.settings.get(&c.name);
            if is_tenants(c) {
                match was {
                    // A snapshot from the store holds no text to put back.
                    Some(s) if common::is_hidden(s) => secrets.push(c.name.clone()),
                    // An absent file was observed as empty.
                    Some(s) if !s.raw.is_empty() => tenants = Some(Some(s.raw.clone())),
                    _ => tenants = Some(None),
                }
                continue;
            }
            if was.is_some_and(common::is_hidden) {
                secrets.push(c.name.clone());
                continue;
            }
            let target = was.filter(|s| s.explicit).map(|s| Value::String(s.raw.clone()));
            let old = held.get(&c.name).and_then(|v| normalize_value(&c.name, v));
            let new = target.as_ref().and_then(|v| normalize_value(&c.name, v));
            let at_start = catalog.get(&c.name).is_some_and(|p| p.apply == ApplyMethod::Restart);
            restart |= at_start && old != new;
            match target {
                Some(v) => held.insert(c.name.clone(), v),
                None => held.remove(&c.name),
            };
            expected.extend(was.and_then(|s| s.value.clone()).map(|v| (c.name.clone(), v)));
        }
        let command = common::restart_command(&self.conn, restart, allow_restart)?;
        self.write(&held, &plan.instance).await?;
        if let Some(text) = &tenants {
            self.write_tenants(text.as_deref(), 0o600).await?;
        }
        // A default profile broken by the apply fails this very query; the
        // server's own reload of the changed files then takes over, and
        // waiting below tells whether it did.
        let reloaded = self.query("SYSTEM RELOAD CONFIG").await.is_ok();
        if let Some(command) = command {
            self.restart(command).await?;
        }
        self.wait_for(&expected).await?;
        if let Some(Some(text)) = &tenants {
            self.check_tenants(text).await?;
        }
        common::unrestorable(&secrets)?;
        Ok(Applied {
            changed: seen.into_iter().map(str::to_string).collect(),
            reloaded,
            restarted: command.is_some(),
            pending_restart: Vec::new(),
        })
    }
}

/// Tenants of ClickHouse are delivered whole, as the tenants file
/// (`tenants.xml`); a tenant-scope change would otherwise be taken for a
/// setting of profile `default`, so one that reaches the driver is refused.
fn refuse_tenants(plan: &Plan) -> Result<(), DriverError> {
    match plan.changes.iter().find(|c| c.tenant.is_some()) {
        Some(c) => Err(DriverError::Protocol(format!(
            "the ClickHouse driver takes tenant settings (`{}`) only through the rendered {TENANTS_FILE} (`{TENANTS}`)",
            label(c)
        ))),
        None => Ok(()),
    }
}

fn is_tenants(c: &Change) -> bool {
    c.tenant.is_none() && c.name == TENANTS
}

/// The digest `tenants.xml` compares by: of the file's text from its root
/// element on, leaving out the XML declaration and the header comments
/// (which name the fleet revision). An empty text (no file) has the digest
/// of nothing.
pub(crate) fn tenants_digest(text: &str) -> String {
    let mut rest = text.trim_start();
    loop {
        rest = if let Some(after) = rest.strip_prefix("<?") {
            after.split_once("?>").map_or("", |(_, r)| r).trim_start()
        } else if let Some(after) = rest.strip_prefix("<!--") {
            after.split_once("-->").map_or("", |(_, r)| r).trim_start()
        } else {
            break;
        };
    }
    dbfleet_plan::secret_digest(rest)
}

/// The users a tenants file defines.
fn tenant_users(text: &str) -> Result<Vec<String>, DriverError> {
    let parsed = dbfleet_render::parse(ENGINE, TENANTS_FILE, text)
        .map_err(|e| DriverError::Rejected { name: TENANTS.to_string(), reason: format!("{TENANTS_FILE}: {e}") })?;
    Ok(parsed.unmapped.iter().filter_map(|u| u.text.strip_prefix("users.")).map(str::to_string).collect())
}

/// The code of a ClickHouse error message (`Code: 192, e.displayText() = ...`).
fn error_code(message: &str) -> Option<u32> {
    let code = message.strip_prefix("Code: ").and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next());
    code.and_then(|c| c.parse().ok())
}

fn normalize(name: &str, raw: &str) -> Option<Typed> {
    normalize_value(name, &Value::String(raw.to_string()))
}

fn normalize_value(name: &str, value: &Value) -> Option<Typed> {
    dbfleet_catalog::catalog(ENGINE).get(name)?.normalize(ENGINE, value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenants_compare_without_their_header() {
        let body = "<yandex>\n    <users/>\n</yandex>\n";
        let a = format!("<?xml version=\"1.0\"?>\n<!-- revision abc. -->\n<!-- Do not edit -->\n{body}");
        let b = format!("<?xml version=\"1.0\"?>\n<!-- revision def. -->\n{body}");
        assert_eq!(tenants_digest(&a), tenants_digest(&b));
        assert_eq!(tenants_digest(&a), dbfleet_plan::secret_digest(body));
        assert_ne!(tenants_digest(&a), tenants_digest(&a.replace("<users/>", "<users><x/></users>")));
        assert_eq!(tenants_digest(""), dbfleet_plan::secret_digest(""));
    }

    #[test]
    fn tenant_users_are_read_from_the_file() {
        let text = "<yandex><profiles><acme><profile>default</profile></acme></profiles>\
                    <users><acme><profile>acme</profile></acme><zeta/></users><quotas><acme/></quotas></yandex>";
        assert_eq!(tenant_users(text).unwrap(), ["acme", "zeta"]);
        assert!(tenant_users("<yandex>").is_err());
    }
}
