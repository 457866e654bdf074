//! PostgreSQL: instance settings through `ALTER SYSTEM` (which writes
//! `postgresql.auto.conf`), tenant settings through `ALTER ROLE "<tenant>"
//! SET`, the role being named after the tenant.
//!
//! Observing reads `pg_settings` for the values the server runs, normalised
//! through the catalog (its `setting` counts in the parameter's `unit`);
//! `pg_file_settings` for what the files hold now, which `pg_settings` does
//! not show for a value waiting for a restart; and `pg_db_role_setting` for
//! the roles' own settings (every one of which is explicit: `ALTER ROLE` is
//! the mechanism). An instance setting is explicit when
//! `postgresql.auto.conf` holds it now, or the running value came from
//! there (an `ALTER SYSTEM RESET` not yet reloaded, which a plan then
//! finishes).
//!
//! Applying sends one statement per change, each on its own because
//! `ALTER SYSTEM` refuses to run in a transaction block, with the value as
//! an SQL literal (utility statements take no parameters). Then it reloads,
//! waits until its own session has re-read the files, and reads
//! `pg_file_settings` back: a value the server refuses at reload is an
//! error naming the parameter. Settings the server marks `pending_restart`
//! are restarted into when restarts are allowed, and reported otherwise.
//!
//! dbfleet's own `hba` parameter is pg_hba.conf. Observing reads the file
//! the server names in `hba_file` with `pg_read_file` (superusers and
//! `pg_read_server_files` only; without that right `hba` is not observed):
//! its value is the fleet's rules in it, its text every rule line, tenant
//! rules included. When the tenant rules differ from those of the rendered
//! pg_hba.conf the value is unreadable, so a plan rewrites the file.
//! Applying writes the rendered pg_hba.conf over that file with
//! `COPY ... TO` (superusers and `pg_write_server_files`), reloads, and
//! reads `pg_hba_file_rules`: a rule the server refuses is an error, and
//! the server keeps its previous rules meanwhile. Restoring writes the rule
//! lines of the snapshot back (the old file's comments are not kept).
//!
//! This module does not create or drop roles, edit `postgresql.conf`, or
//! manage per-database settings (`ALTER DATABASE ... SET`).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use dbfleet_model::{ApplyMethod, EngineKind, Value};
use dbfleet_plan::{Action, Change, Observed, ObservedSetting, Plan, Settings};
use secrecy::ExposeSecret as _;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, NoTls};

use dbfleet_catalog::pg_hba::TENANT_MARK;
use dbfleet_render::pg_sql::{quote_ident, set_value, sql_literal};

use crate::common::{self, label, observed};
use crate::{Applied, Connection, Driver, DriverError};

const ENGINE: EngineKind = EngineKind::Postgresql;
/// The file `ALTER SYSTEM` writes, in the data directory.
const AUTO_CONF: &str = "postgresql.auto.conf";
const DEFAULT_PORT: u16 = 5432;
/// dbfleet's parameter for pg_hba.conf, and the rendered file's name.
const HBA: &str = "hba";
const HBA_FILE: &str = "pg_hba.conf";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// One row of `pg_settings`.
struct Running {
    name: String,
    setting: String,
    unit: Option<String>,
    context: String,
    pending_restart: bool,
    /// The running value was read from `postgresql.auto.conf`.
    from_auto_conf: bool,
}

/// One row of `pg_file_settings`: a line of a configuration file as the
/// server would read it now.
struct InFile {
    in_auto_conf: bool,
    line: i32,
    /// `None` for a line the server cannot parse at all.
    name: Option<String>,
    applied: bool,
    error: Option<String>,
}

/// Manages one PostgreSQL server over its own protocol.
pub(crate) struct PostgresDriver {
    conn: Connection,
    /// The rendered pg_hba.conf, when the fleet sets `hba`.
    hba: Option<String>,
}

impl PostgresDriver {
    pub(crate) fn new(conn: Connection, files: Vec<dbfleet_render::RenderedFile>) -> PostgresDriver {
        let hba = files.into_iter().find(|f| f.path == HBA_FILE).map(|f| f.contents);
        PostgresDriver { conn, hba }
    }

    async fn connect(&self) -> Result<Client, DriverError> {
        let (host, port) = common::split_address(&self.conn.address, DEFAULT_PORT)?;
        let mut config = tokio_postgres::Config::new();
        config
            .host(&host)
            .port(port)
            .user(self.conn.user.as_deref().unwrap_or("postgres"))
            .dbname("postgres")
            .application_name("dbfleet")
            .connect_timeout(CONNECT_TIMEOUT);
        if let Some(password) = &self.conn.password {
            config.password(password.expose_secret());
        }
        // The connection object drives the socket; queries on the client
        // report its failures, so its own result is not needed.
        if self.conn.tls.enabled {
            config.ssl_mode(tokio_postgres::config::SslMode::Require);
            let tls = tokio_postgres_rustls::MakeRustlsConnect::new(common::rustls_client_config(&self.conn.tls)?);
            let (client, connection) = config.connect(tls).await.map_err(|e| self.error(&e))?;
            tokio::spawn(async move { drop(connection.await) });
            Ok(client)
        } else {
            let (client, connection) = config.connect(NoTls).await.map_err(|e| self.error(&e))?;
            tokio::spawn(async move { drop(connection.await) });
            Ok(client)
        }
    }

    /// A failure outside any one change: of the connection, the
    /// credentials or a query of ours.
    fn error(&self, e: &tokio_postgres::Error) -> DriverError {
        let address = self.conn.address.clone();
        match e.as_db_error() {
            Some(db) if denial(db.code()) => DriverError::Denied { address, reason: db.message().to_string() },
            Some(db) => DriverError::Protocol(format!("{address}: {}", db.message())),
            None => DriverError::Unreachable { address, reason: common::with_causes(e) },
        }
    }

    /// A failure of the statement that makes one change. The server's
    /// message may quote the value, so it is dropped for secrets.
    fn refused(&self, e: &tokio_postgres::Error, name: String, sensitive: bool) -> DriverError {
        match e.as_db_error() {
            Some(db) if !denial(db.code()) => {
                let reason = if sensitive {
                    format!(
                        "refused the value (SQLSTATE {}; the message is not shown, the value is secret)",
                        db.code().code()
                    )
                } else {
                    db.message().to_string()
                };
                DriverError::Rejected { name, reason }
            }
            _ => self.error(e),
        }
    }

    async fn query(&self, client: &Client, sql: &str) -> Result<Vec<tokio_postgres::Row>, DriverError> {
        client.query(sql, &[]).await.map_err(|e| self.error(&e))
    }

    async fn running(&self, client: &Client) -> Result<Vec<Running>, DriverError> {
        let rows = self
            .query(client, "SELECT name, setting, unit, context, pending_restart, sourcefile FROM pg_settings")
            .await?;
        Ok(rows
            .iter()
            .map(|row| Running {
                name: row.get(0),
                setting: row.get::<_, Option<String>>(1).unwrap_or_default(),
                unit: row.get(2),
                context: row.get(3),
                pending_restart: row.get::<_, Option<bool>>(4).unwrap_or(false),
                from_auto_conf: row.get::<_, Option<String>>(5).is_some_and(|f| f.ends_with(AUTO_CONF)),
            })
            .collect())
    }

    async fn in_files(&self, client: &Client) -> Result<Vec<InFile>, DriverError> {
        let rows = self
            .query(client, "SELECT sourcefile, sourceline, name, applied, error FROM pg_file_settings ORDER BY seqno")
            .await?;
        Ok(rows
            .iter()
            .map(|row| InFile {
                in_auto_conf: row.get::<_, Option<String>>(0).is_some_and(|f| f.ends_with(AUTO_CONF)),
                line: row.get::<_, Option<i32>>(1).unwrap_or(0),
                name: row.get(2),
                applied: row.get::<_, Option<bool>>(3).unwrap_or(false),
                error: row.get(4),
            })
            .collect())
    }

    async fn read(&self, client: &Client) -> Result<Observed, DriverError> {
        let files = self.in_files(client).await?;
        let in_auto_conf: BTreeSet<&str> =
            files.iter().filter(|f| f.in_auto_conf).filter_map(|f| f.name.as_deref()).collect();
        // The line the server takes for each name: the last one that is not
        // superseded (a superseded line is neither applied nor in error).
        let mut effective: BTreeMap<&str, &InFile> = BTreeMap::new();
        for f in files.iter().filter(|f| f.applied || f.error.is_some()) {
            if let Some(name) = &f.name {
                effective.insert(name, f);
            }
        }
        let catalog = dbfleet_catalog::catalog(ENGINE);
        let mut settings = Settings::new();
        for r in self.running(client).await? {
            let explicit = r.from_auto_conf || in_auto_conf.contains(r.name.as_str());
            let text = with_unit(&r.setting, r.unit.as_deref());
            let Some((name, mut s)) = observed(ENGINE, &self.conn.version, &r.name, &Value::String(text), explicit)
            else {
                continue;
            };
            if let (Some(value), Some(p)) = (&s.value, catalog.get(&name)) {
                s.raw = p.format_native(ENGINE, value);
            }
            // pg_settings flags a pending value only once the server has
            // reloaded; before that, a postmaster setting whose file value
            // differs from the running one is the same thing.
            let waiting = r.context == "postmaster"
                && effective.get(r.name.as_str()).is_some_and(|f| !f.applied && f.error.is_some());
            s.pending_restart = r.pending_restart || waiting;
            settings.insert(name, s);
        }

        let mut tenants: BTreeMap<String, Settings<_>> = BTreeMap::new();
        let roles = self
            .query(
                client,
                "SELECT r.rolname, s.setconfig FROM pg_db_role_setting s \
                 JOIN pg_roles r ON r.oid = s.setrole WHERE s.setdatabase = 0",
            )
            .await?;
        for row in &roles {
            let role: String = row.get(0);
            for item in row.get::<_, Option<Vec<String>>>(1).unwrap_or_default() {
                let Some((name, value)) = item.split_once('=') else { continue };
                let Some((name, mut s)) =
                    observed(ENGINE, &self.conn.version, name, &Value::String(value.to_string()), true)
                else {
                    continue;
                };
                if let (Some(value), Some(p)) = (&s.value, catalog.get(&name)) {
                    s.raw = p.format_native(ENGINE, value);
                }
                tenants.entry(role.clone()).or_default().insert(name, s);
            }
        }
        if let Some(hba) = self.read_hba(client).await? {
            settings.insert(HBA.to_string(), hba);
        }
        Ok(Observed { settings, tenants })
    }

    /// pg_hba.conf as the `hba` setting, or `None` when this role may not
    /// read server files.
    async fn read_hba(&self, client: &Client) -> Result<Option<ObservedSetting>, DriverError> {
        let text: String = match client.query_one("SELECT pg_read_file(current_setting('hba_file'))", &[]).await {
            Ok(row) => row.get(0),
            Err(e) if e.as_db_error().is_some_and(|db| denial(db.code())) => return Ok(None),
            Err(e) => return Err(self.error(&e)),
        };
        let parsed = dbfleet_render::parse(ENGINE, HBA_FILE, &text)
            .map_err(|e| DriverError::Protocol(format!("{}: {HBA_FILE}: {e}", self.conn.address)))?;
        let rules =
            parsed.settings.into_iter().find(|s| s.name == HBA).map(|s| s.value).unwrap_or(Value::List(Vec::new()));
        let Some((_, mut observed)) = observed(ENGINE, &self.conn.version, HBA, &rules, false) else {
            return Ok(None);
        };
        let lines = rule_lines(&text);
        let tenant_rules =
            |lines: &[String]| lines.iter().filter(|l| l.contains(TENANT_MARK)).cloned().collect::<Vec<_>>();
        if self.hba.as_deref().is_some_and(|rendered| tenant_rules(&rule_lines(rendered)) != tenant_rules(&lines)) {
            observed.value = None;
        }
        observed.raw = Value::List(lines.into_iter().map(Value::String).collect()).to_string();
        Ok(Some(observed))
    }

    /// Writes `lines` over the server's pg_hba.conf.
    async fn write_hba(&self, client: &Client, lines: &[String]) -> Result<(), DriverError> {
        let path: String = self.query(client, "SHOW hba_file").await?[0].get(0);
        // CSV with delimiter and quote characters no rule holds writes each
        // line as it is (the text format would escape backslashes).
        if lines.iter().any(|l| l.contains(['\u{1}', '\u{2}', '\n', '\r'])) {
            return Err(DriverError::Rejected { name: HBA.into(), reason: "a rule holds a control character".into() });
        }
        let rows: Vec<String> = (1..)
            .zip(lines.iter().filter(|l| !l.trim().is_empty()))
            .map(|(n, line)| format!("({n}, {})", sql_literal(line)))
            .collect();
        let sql = format!(
            "COPY (SELECT line FROM (VALUES {}) AS t(n, line) ORDER BY n) TO {} WITH (FORMAT csv, DELIMITER E'\\x01', QUOTE E'\\x02')",
            rows.join(", "),
            sql_literal(&path)
        );
        client.batch_execute(&sql).await.map_err(|e| self.refused(&e, HBA.into(), false))
    }

    /// Fails when the server refuses a line of pg_hba.conf as it is now.
    async fn check_hba(&self, client: &Client) -> Result<(), DriverError> {
        let rows = self
            .query(
                client,
                "SELECT line_number, error FROM pg_hba_file_rules WHERE error IS NOT NULL ORDER BY line_number",
            )
            .await?;
        match rows.first() {
            Some(row) => Err(DriverError::Rejected {
                name: HBA.into(),
                reason: format!(
                    "{HBA_FILE} line {}: {}",
                    row.get::<_, Option<i32>>(0).unwrap_or(0),
                    row.get::<_, String>(1)
                ),
            }),
            None => Ok(()),
        }
    }

    /// Sends `statements` one by one, each in its own implicit transaction.
    async fn execute(&self, client: &Client, statements: &[Statement]) -> Result<Vec<String>, DriverError> {
        let mut done = Vec::new();
        for s in statements {
            client.batch_execute(&s.sql).await.map_err(|e| self.refused(&e, s.label.clone(), s.sensitive))?;
            done.push(s.label.clone());
        }
        Ok(done)
    }

    /// Makes the server re-read its files and waits until this session has:
    /// `pg_reload_conf()` only signals the postmaster, which passes the
    /// signal on to every session, ours included, a moment later.
    async fn reload(&self, client: &Client) -> Result<(), DriverError> {
        const LOAD_TIME: &str = "SELECT pg_conf_load_time()::text";
        let before: String = self.query(client, LOAD_TIME).await?[0].get(0);
        self.query(client, "SELECT pg_reload_conf()").await?;
        let deadline = tokio::time::Instant::now() + self.conn.ready_timeout;
        loop {
            let now: String = self.query(client, LOAD_TIME).await?[0].get(0);
            if now != before {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(DriverError::Protocol(format!(
                    "{}: the server did not reload its configuration within {}s",
                    self.conn.address,
                    self.conn.ready_timeout.as_secs_f32()
                )));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Fails when the server refuses a line of `postgresql.auto.conf` (the
    /// file dbfleet owns) at reload: any line, or with `only` the lines of
    /// those settings and lines without a name. A postmaster setting whose
    /// new value is merely waiting for a restart is reported the same way
    /// by the server, and is not a refusal.
    async fn check_files(&self, client: &Client, only: Option<&BTreeSet<String>>) -> Result<(), DriverError> {
        let contexts: BTreeMap<String, String> = self
            .query(client, "SELECT name, context FROM pg_settings")
            .await?
            .iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect();
        for f in self.in_files(client).await?.into_iter().filter(|f| f.in_auto_conf) {
            // The view says only that the line failed; the server log says why.
            let Some(error) = f.error.map(|e| format!("{e} ({AUTO_CONF} line {}; the server log tells why)", f.line))
            else {
                continue;
            };
            match f.name {
                Some(name) if only.is_some_and(|only| !only.contains(&name)) => {}
                Some(name) if contexts.get(&name).is_some_and(|c| c == "postmaster") => {}
                Some(name) => return Err(DriverError::Rejected { name, reason: error }),
                None => return Err(DriverError::Rejected { name: AUTO_CONF.into(), reason: error }),
            }
        }
        Ok(())
    }

    async fn pending(&self, client: &Client) -> Result<Vec<String>, DriverError> {
        let rows = self.query(client, "SELECT name FROM pg_settings WHERE pending_restart ORDER BY name").await?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }

    async fn start_time(&self, client: &Client) -> Result<String, DriverError> {
        Ok(self.query(client, "SELECT pg_postmaster_start_time()::text").await?[0].get(0))
    }

    /// After the statements: reload when instance settings changed, check
    /// what the server made of the files (`only` as in
    /// [`check_files`](Self::check_files)), and restart into the values
    /// that wait for one when that is allowed (whether or not the plan
    /// expected it: the server knows best what it cannot change while
    /// running).
    async fn settle(
        &self,
        client: Client,
        reload: bool,
        only: Option<&BTreeSet<String>>,
        allow_restart: bool,
        applied: &mut Applied,
    ) -> Result<(), DriverError> {
        if reload {
            self.reload(&client).await?;
            applied.reloaded = true;
        }
        self.check_files(&client, only).await?;
        let pending = self.pending(&client).await?;
        let command = self.conn.restart_command.as_deref().filter(|c| allow_restart && !c.is_empty());
        let Some(command) = command.filter(|_| !pending.is_empty()) else {
            applied.pending_restart = pending;
            return Ok(());
        };
        let started = self.start_time(&client).await?;
        drop(client);
        let started = &started;
        common::restart(&self.conn, command, move || async move {
            let client = self.connect().await?;
            Ok(self.start_time(&client).await? != *started)
        })
        .await?;
        applied.restarted = true;
        let client = self.connect().await?;
        applied.pending_restart = self.pending(&client).await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl Driver for PostgresDriver {
    fn engine(&self) -> EngineKind {
        ENGINE
    }

    async fn observe(&self) -> Result<Observed, DriverError> {
        let client = self.connect().await?;
        self.read(&client).await
    }

    async fn apply(&self, plan: &Plan, allow_restart: bool) -> Result<Applied, DriverError> {
        common::restart_command(&self.conn, plan.needs_restart(), allow_restart)?;
        // Every statement is written before the first is sent, so that a
        // malformed change stops the plan before anything has changed.
        let (hba, settings): (Vec<&Change>, Vec<&Change>) =
            plan.changes.iter().partition(|c| c.tenant.is_none() && c.name == HBA);
        let statements = settings.into_iter().map(Statement::apply).collect::<Result<Vec<_>, _>>()?;
        let hba = match (hba.is_empty(), &self.hba) {
            (true, _) => None,
            (false, Some(text)) => Some(text.lines().map(str::to_string).collect::<Vec<_>>()),
            (false, None) => {
                return Err(DriverError::Protocol(format!("the plan changes `{HBA}` but no {HBA_FILE} was rendered")));
            }
        };
        if statements.is_empty() && hba.is_none() {
            return Ok(Applied::default());
        }
        let client = self.connect().await?;
        let mut applied = Applied { changed: self.execute(&client, &statements).await?, ..Applied::default() };
        if let Some(lines) = &hba {
            self.write_hba(&client, lines).await?;
            applied.changed.push(HBA.into());
            self.check_hba(&client).await?;
        }
        let reload = plan.changes.iter().any(|c| c.tenant.is_none());
        self.settle(client, reload, None, allow_restart, &mut applied).await?;
        Ok(applied)
    }

    async fn restore(&self, before: &Observed, plan: &Plan, allow_restart: bool) -> Result<Applied, DriverError> {
        let client = self.connect().await?;
        let now = self.read(&client).await?;
        let catalog = dbfleet_catalog::catalog(ENGINE);
        let mut seen = BTreeSet::new();
        let mut statements = Vec::new();
        let mut secrets = Vec::new();
        let mut restart = false;
        let mut hba = None;
        for c in plan.changes.iter().filter(|c| seen.insert(label(c))) {
            if c.tenant.is_none() && c.name == HBA {
                hba = before.settings.get(HBA).map(|s| hba_lines(&s.raw)).transpose()?;
                continue;
            }
            let (was, is) = match &c.tenant {
                Some(t) => (before.tenants.get(t).and_then(|s| s.get(&c.name)), None),
                None => (before.settings.get(&c.name), now.settings.get(&c.name)),
            };
            if was.is_some_and(common::is_hidden) {
                secrets.push(label(c));
                continue;
            }
            // The running value differs from the one to go back to, and
            // only a restart changes it.
            let needs_restart = catalog.get(&c.name).is_some_and(|p| p.apply == ApplyMethod::Restart);
            restart |= c.tenant.is_none() && needs_restart && was.map(|s| &s.value) != is.map(|s| &s.value);
            let value = was.filter(|s| s.explicit).map(|s| s.raw.as_str());
            statements.push(Statement::new(c.tenant.as_deref(), &c.name, value, c.sensitive)?);
        }
        common::restart_command(&self.conn, restart, allow_restart)?;
        let mut applied = Applied { changed: self.execute(&client, &statements).await?, ..Applied::default() };
        if let Some(lines) = &hba {
            self.write_hba(&client, lines).await?;
            applied.changed.push(HBA.into());
        }
        // Putting back is not held up by lines of the file it did not touch.
        let touched: BTreeSet<String> =
            plan.changes.iter().filter(|c| c.tenant.is_none()).map(|c| c.name.clone()).collect();
        self.settle(client, !touched.is_empty(), Some(&touched), allow_restart, &mut applied).await?;
        common::unrestorable(&secrets)?;
        Ok(applied)
    }
}

/// The rule lines of a pg_hba.conf (not blank, not comments), each with
/// its fields separated by single spaces.
fn rule_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

/// The pg_hba.conf that puts back the rule lines of an observed `hba`
/// (its text, a list of lines).
fn hba_lines(raw: &str) -> Result<Vec<String>, DriverError> {
    let unreadable = || DriverError::Protocol(format!("the snapshot of `{HBA}` is not a list of rules: {raw}"));
    let parameter = dbfleet_catalog::catalog(ENGINE).get(HBA).ok_or_else(unreadable)?;
    let Ok(dbfleet_catalog::Typed::List(items)) = parameter.normalize(ENGINE, &Value::String(raw.to_string())) else {
        return Err(unreadable());
    };
    let mut lines = vec!["# Put back by dbfleet from the snapshot taken before a change.".to_string()];
    lines.extend(items.iter().map(|item| parameter.format_native(ENGINE, item)));
    Ok(lines)
}

/// Whether an SQLSTATE says the role may not do what was asked.
fn denial(code: &SqlState) -> bool {
    [SqlState::INVALID_PASSWORD, SqlState::INVALID_AUTHORIZATION_SPECIFICATION, SqlState::INSUFFICIENT_PRIVILEGE]
        .contains(code)
}

/// One statement that sets or resets one setting.
struct Statement {
    sql: String,
    /// The setting, as `Applied::changed` names it.
    label: String,
    sensitive: bool,
}

impl Statement {
    fn apply(c: &Change) -> Result<Statement, DriverError> {
        let value = match c.action {
            Action::Reset => None,
            Action::Set | Action::Change => Some(c.native.as_deref().ok_or_else(|| {
                DriverError::Protocol(format!("the plan sets `{}` but carries no value for it", label(c)))
            })?),
        };
        Statement::new(c.tenant.as_deref(), &c.name, value, c.sensitive)
    }

    /// `ALTER SYSTEM` (or `ALTER ROLE "<tenant>"`) `SET name = value`, or
    /// `RESET name` without a value.
    fn new(tenant: Option<&str>, name: &str, value: Option<&str>, sensitive: bool) -> Result<Statement, DriverError> {
        // Names go into the statement bare: they come from the catalog, and
        // anything else is refused rather than quoted.
        let plain = |part: &str| {
            part.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
                && part.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        };
        if !name.split('.').all(plain) || name.split('.').count() > 2 {
            return Err(DriverError::Protocol(format!("`{name}` is not a PostgreSQL parameter name")));
        }
        let target = match tenant {
            Some(t) => format!("ALTER ROLE {}", quote_ident(t)),
            None => "ALTER SYSTEM".to_string(),
        };
        let sql = match value {
            Some(v) => format!("{target} SET {name} = {}", set_value(name, v)),
            None => format!("{target} RESET {name}"),
        };
        let label = match tenant {
            Some(t) => format!("{t}/{name}"),
            None => name.to_string(),
        };
        Ok(Statement { sql, label, sensitive })
    }
}

/// `pg_settings.setting` counts in the parameter's unit (`16384` of `8kB`);
/// the catalog reads a size or duration with a suffix (`131072kB`). `-1`,
/// the "disabled" sentinel, stays bare.
fn with_unit(setting: &str, unit: Option<&str>) -> String {
    let Some(unit) = unit.filter(|u| !u.is_empty() && setting != "-1") else { return setting.to_string() };
    let digits = unit.find(|c: char| !c.is_ascii_digit()).unwrap_or(unit.len());
    let (count, suffix) = unit.split_at(digits);
    let count: i64 = count.parse().unwrap_or(1);
    match (setting.parse::<i64>(), setting.parse::<f64>()) {
        (Ok(n), _) => n.checked_mul(count).map_or_else(|| setting.to_string(), |n| format!("{n}{suffix}")),
        (_, Ok(x)) => format!("{}{suffix}", x * count as f64),
        _ => setting.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_read_in_their_unit() {
        let cases: &[(&str, Option<&str>, &str)] = &[
            ("16384", Some("8kB"), "131072kB"),
            ("4096", Some("kB"), "4096kB"),
            ("-1", Some("ms"), "-1"),
            ("0", Some("8kB"), "0kB"),
            ("0.5", Some("ms"), "0.5ms"),
            ("80", Some("MB"), "80MB"),
            ("on", None, "on"),
            ("", Some(""), ""),
        ];
        for (setting, unit, want) in cases {
            assert_eq!(with_unit(setting, *unit), *want, "{setting} {unit:?}");
        }
    }

    #[test]
    fn statements_quote_values_and_tenants() {
        let sql = |tenant: Option<&str>, name: &str, value: Option<&str>| {
            Statement::new(tenant, name, value, false).map(|s| s.sql).unwrap_or_else(|e| e.to_string())
        };
        let cases: &[(Option<&str>, &str, Option<&str>, &str)] = &[
            (None, "work_mem", Some("64MB"), "ALTER SYSTEM SET work_mem = '64MB'"),
            (None, "work_mem", None, "ALTER SYSTEM RESET work_mem"),
            (None, "application_name", Some("it's"), "ALTER SYSTEM SET application_name = 'it''s'"),
            (None, "application_name", Some(r"a\b"), r"ALTER SYSTEM SET application_name = E'a\\b'"),
            (None, "search_path", Some("\"$user\", public"), "ALTER SYSTEM SET search_path = '$user', 'public'"),
            (None, "search_path", Some(""), "ALTER SYSTEM SET search_path = ''"),
            (
                None,
                "auto_explain.log_min_duration",
                Some("1s"),
                "ALTER SYSTEM SET auto_explain.log_min_duration = '1s'",
            ),
            (Some("acme"), "work_mem", Some("8MB"), "ALTER ROLE \"acme\" SET work_mem = '8MB'"),
            (Some("we\"ird"), "work_mem", None, "ALTER ROLE \"we\"\"ird\" RESET work_mem"),
            (None, "work_mem; DROP TABLE x", Some("1"), "`work_mem; DROP TABLE x` is not a PostgreSQL parameter name"),
            (None, "Work_Mem", Some("1"), "`Work_Mem` is not a PostgreSQL parameter name"),
        ];
        for (tenant, name, value, want) in cases {
            assert_eq!(sql(*tenant, name, *value), *want);
        }
    }
}
