//! Redis: settings through `CONFIG SET`, all of a plan's in one call (Redis
//! 7 applies them together or not at all), then `CONFIG REWRITE` so that
//! they survive a restart.
//!
//! Settings that Redis reads only at start (catalog `apply: restart`, which
//! `CONFIG SET` refuses) are written into the config file the server runs
//! from (`INFO server`'s `config_file`), replacing the line that sets them,
//! and the server is restarted with the configured restart command. That
//! needs the file to be reachable from here: under `config_dir` when one is
//! configured, else at the reported path when the server is on this host.
//!
//! `CONFIG GET` does not say where a value came from, and the config file
//! mixes dbfleet's settings with the ones the server was deployed with
//! (`port`, `bind`, `dir`, ...), which a plan must never reset. So dbfleet
//! lists the settings it set in a comment line of the config file
//! (`# dbfleet manages: maxmemory ...`, which `CONFIG REWRITE` keeps), and
//! exactly those are explicit. Without a reachable file nothing is
//! explicit, and settings dropped from the fleet are left as they are.
//!
//! Resetting sets the catalog's default. Restoring sets each setting back
//! to the value observed before, explicit or not, because Redis has no
//! layer below `CONFIG SET` to fall back to.
//!
//! dbfleet's `users.acl` setting is the ACL users of the rendered
//! `users.acl` (`default` and one user per tenant; see `redis_acl` for how
//! lines compare). It is observed only when the driver was given that file:
//! `ACL LIST`, whose value is the digest of the rendered file when the
//! server's users are exactly those of the file (the plan is then
//! satisfied) and the digest of the listing otherwise; its text is the
//! listing, which is sensitive (password hashes) and never shown. It is
//! never explicit: dbfleet does not take users away because the fleet
//! stopped rendering the file. Applying it, after the `CONFIG SET` changes,
//! sends `ACL SETUSER <name> reset <rules>` for every line of the file,
//! `ACL DELUSER` for every other user (never `default`, nor the user dbfleet
//! connects as), and persists the users: `ACL SAVE` when the server has an
//! `aclfile`, `CONFIG REWRITE` (which writes `user` lines into the config
//! file) otherwise. Restoring does the same with the lines observed before.
//!
//! This module does not manage tenant settings or replication.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use ::redis::aio::MultiplexedConnection;
use ::redis::{
    AsyncConnectionConfig, Client, ConnectionAddr, ErrorKind, IntoConnectionInfo as _, RedisConnectionInfo, RedisError,
    ServerErrorKind,
};
use dbfleet_catalog::{ParamType, Typed};
use dbfleet_model::{ApplyMethod, EngineKind, Value};
use dbfleet_plan::{Action, Observed, ObservedSetting, Plan, Settings};
use secrecy::ExposeSecret as _;

use crate::common::{self, label, observed};
use crate::redis_acl::{self, ACL};
use crate::{Applied, Connection, Driver, DriverError};

const ENGINE: EngineKind = EngineKind::Redis;
const DEFAULT_PORT: u16 = 6379;
/// Starts the comment line that lists the settings dbfleet set.
const MANAGED: &str = "# dbfleet manages:";

/// One setting to give a value, in apply or restore.
struct Write<'p> {
    name: &'p str,
    value: String,
    sensitive: bool,
    /// Read only at start: written into the config file, not `CONFIG SET`.
    at_start: bool,
    /// Whether dbfleet holds it afterwards (see the module comment).
    explicit: bool,
}

/// Manages one Redis server over its own protocol.
pub(crate) struct RedisDriver {
    conn: Connection,
    /// The rendered users.acl, when the fleet renders one.
    acl: Option<String>,
}

impl RedisDriver {
    pub(crate) fn new(conn: Connection, files: Vec<dbfleet_render::RenderedFile>) -> RedisDriver {
        let acl = files.into_iter().find(|f| f.path == ACL).map(|f| f.contents);
        RedisDriver { conn, acl }
    }

    async fn connect(&self) -> Result<MultiplexedConnection, DriverError> {
        let (host, port) = common::split_address(&self.conn.address, DEFAULT_PORT)?;
        let tls = &self.conn.tls;
        let addr = if tls.enabled {
            common::install_crypto_provider();
            ConnectionAddr::TcpTls { host, port, insecure: tls.insecure, tls_params: None }
        } else {
            ConnectionAddr::Tcp(host, port)
        };
        let mut settings = RedisConnectionInfo::default();
        if let Some(user) = &self.conn.user {
            settings = settings.set_username(user);
        }
        if let Some(password) = &self.conn.password {
            settings = settings.set_password(password.expose_secret());
        }
        let info = addr.into_connection_info().map_err(|e| self.error(e))?.set_redis_settings(settings);
        let client = match tls.ca.as_ref().filter(|_| tls.enabled && !tls.insecure) {
            Some(ca) => {
                let pem = std::fs::read(ca)
                    .map_err(|e| DriverError::Protocol(format!("cannot read the CA bundle {}: {e}", ca.display())))?;
                Client::build_with_tls(info, ::redis::TlsCertificates { client_tls: None, root_cert: Some(pem) })
            }
            None => Client::open(info),
        }
        .map_err(|e| self.error(e))?;
        // The crate's default of half a second is short for CONFIG REWRITE
        // on a busy server.
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(5)))
            .set_response_timeout(Some(Duration::from_secs(30)));
        client.get_multiplexed_async_connection_with_config(&config).await.map_err(|e| self.error(e))
    }

    fn error(&self, e: RedisError) -> DriverError {
        let address = self.conn.address.clone();
        let denied = matches!(e.kind(), ErrorKind::AuthenticationFailed | ErrorKind::Server(ServerErrorKind::NoPerm))
            || matches!(e.code(), Some("NOAUTH" | "WRONGPASS"));
        let reason = e.detail().map_or_else(|| common::with_causes(&e), str::to_string);
        if denied {
            DriverError::Denied { address, reason }
        } else if matches!(e.kind(), ErrorKind::Server(_) | ErrorKind::Extension | ErrorKind::Parse) {
            DriverError::Protocol(format!("{address}: {reason}"))
        } else {
            DriverError::Unreachable { address, reason }
        }
    }

    async fn run<T: ::redis::FromRedisValue>(
        &self,
        con: &mut MultiplexedConnection,
        cmd: &::redis::Cmd,
    ) -> Result<T, DriverError> {
        cmd.query_async(con).await.map_err(|e| self.error(e))
    }

    /// Every setting the server reports, by the name it reports.
    async fn values(&self, con: &mut MultiplexedConnection) -> Result<HashMap<String, String>, DriverError> {
        self.run(con, ::redis::cmd("CONFIG").arg("GET").arg("*")).await
    }

    async fn info_field(&self, con: &mut MultiplexedConnection, field: &str) -> Result<Option<String>, DriverError> {
        let info: String = self.run(con, ::redis::cmd("INFO").arg("server")).await?;
        let prefix = format!("{field}:");
        Ok(info.lines().find_map(|l| l.strip_prefix(&prefix)).map(|v| v.trim().to_string()).filter(|v| !v.is_empty()))
    }

    /// Refuses, before anything changes, a server started without a config
    /// file: `CONFIG REWRITE` has nowhere to keep a change, which the next
    /// restart would silently undo.
    async fn require_config_file(&self, con: &mut MultiplexedConnection) -> Result<(), DriverError> {
        if self.info_field(con, "config_file").await?.is_some() {
            return Ok(());
        }
        Err(DriverError::Protocol(format!(
            "{} runs without a config file, so no change would survive a restart (CONFIG REWRITE needs one); \
             start it with a redis.conf. Nothing was changed.",
            self.conn.address
        )))
    }

    /// The config file the server runs from, where dbfleet can open it.
    async fn config_file(&self, con: &mut MultiplexedConnection) -> Result<Option<PathBuf>, DriverError> {
        let Some(reported) = self.info_field(con, "config_file").await? else { return Ok(None) };
        let reported = PathBuf::from(reported);
        Ok(match &self.conn.config_dir {
            Some(dir) => reported.file_name().map(|name| dir.join(name)),
            None => {
                let (host, _) = common::split_address(&self.conn.address, DEFAULT_PORT)?;
                common::is_loopback(&host).then_some(reported)
            }
        })
    }

    async fn read(&self, con: &mut MultiplexedConnection) -> Result<Observed, DriverError> {
        let values = self.values(con).await?;
        let managed = match self.config_file(con).await? {
            // A file that cannot be read marks nothing as dbfleet's.
            Some(path) => tokio::fs::read_to_string(&path).await.map(|text| managed(&text)).unwrap_or_default(),
            None => BTreeSet::new(),
        };
        let mut settings = Settings::new();
        for (name, raw) in values {
            if let Some((name, mut s)) = observed(ENGINE, &self.conn.version, &name, &Value::String(raw), false) {
                s.explicit = managed.contains(&name);
                settings.insert(name, s);
            }
        }
        if let Some(rendered) = &self.acl {
            let listed = self.acl_list(con).await?;
            settings.insert(ACL.to_string(), self.observed_users(rendered, listed));
        }
        Ok(Observed { settings, tenants: Default::default() })
    }

    async fn acl_list(&self, con: &mut MultiplexedConnection) -> Result<Vec<String>, DriverError> {
        self.run(con, ::redis::cmd("ACL").arg("LIST")).await
    }

    /// The user dbfleet connects as, when it is not `default`: left out of
    /// the comparison and never deleted, so that dbfleet does not lock
    /// itself out.
    fn own_user(&self) -> Option<&str> {
        self.conn.user.as_deref().filter(|u| *u != "default")
    }

    /// `users.acl` as observed: see the module comment.
    fn observed_users(&self, rendered: &str, listed: Vec<String>) -> ObservedSetting {
        let digest = if redis_acl::same_users(rendered, &listed, self.own_user()) {
            dbfleet_plan::secret_digest(rendered)
        } else {
            dbfleet_plan::secret_digest(&listed.join("\n"))
        };
        ObservedSetting {
            value: Some(Typed::Str(digest.clone())),
            raw: Value::List(listed.into_iter().map(Value::String).collect()).to_string(),
            pending_restart: false,
            // Marks the setting sensitive for whoever keeps snapshots.
            digest: Some(digest),
            explicit: false,
        }
    }

    /// Makes the server's ACL users those of `lines` (`user <name>
    /// <rules>`), then persists them.
    async fn put_users(&self, lines: &[String]) -> Result<(), DriverError> {
        let users: Vec<(String, Vec<String>)> = lines.iter().filter_map(|l| redis_acl::user_line(l)).collect();
        let mut con = self.connect().await?;
        for (name, rules) in &users {
            let mut set = ::redis::cmd("ACL");
            set.arg("SETUSER").arg(name).arg("reset").arg(rules);
            // The connection stays authenticated when the password of the
            // user it authenticated as changes; a reconnection uses
            // `conn.password`, which the file gives `default`.
            if let Err(e) = set.query_async::<()>(&mut con).await {
                return Err(self.acl_refused(e, name, rules));
            }
        }
        let wanted: BTreeSet<&str> = users.iter().map(|(name, _)| name.as_str()).collect();
        let listed = self.acl_list(&mut con).await?;
        for (name, _) in listed.iter().filter_map(|l| redis_acl::user_line(l)) {
            if wanted.contains(name.as_str()) || name == "default" || Some(name.as_str()) == self.own_user() {
                continue;
            }
            self.run::<()>(&mut con, ::redis::cmd("ACL").arg("DELUSER").arg(&name)).await?;
        }
        let aclfile: HashMap<String, String> =
            self.run(&mut con, ::redis::cmd("CONFIG").arg("GET").arg("aclfile")).await?;
        if aclfile.get("aclfile").is_some_and(|f| !f.is_empty()) {
            self.run::<()>(&mut con, ::redis::cmd("ACL").arg("SAVE")).await
        } else {
            self.run::<()>(&mut con, ::redis::cmd("CONFIG").arg("REWRITE")).await
        }
    }

    /// A refused `ACL SETUSER`: Redis quotes the rule it choked on, which
    /// is not shown when it carries a password or its hash.
    fn acl_refused(&self, e: RedisError, user: &str, rules: &[String]) -> DriverError {
        if !matches!(e.kind(), ErrorKind::Server(ServerErrorKind::ResponseError) | ErrorKind::Extension) {
            return self.error(e);
        }
        let mut message = e.detail().map_or_else(|| e.to_string(), str::to_string);
        for rule in rules.iter().filter(|r| redis_acl::is_password_rule(r)) {
            for secret in [rule.as_str(), &rule[1..]].into_iter().filter(|s| !s.is_empty()) {
                message = message.replace(secret, "(a password rule, not shown)");
            }
        }
        DriverError::Rejected { name: ACL.to_string(), reason: format!("user {user}: {message}") }
    }

    /// Gives each of `writes` its value: `CONFIG SET` and `CONFIG REWRITE`
    /// for those the server takes at runtime, the config file and a restart
    /// for the others, then reads every one back.
    async fn write(&self, writes: &[Write<'_>], allow_restart: bool) -> Result<Applied, DriverError> {
        if writes.is_empty() {
            return Ok(Applied::default());
        }
        if let Some(w) = writes.iter().find(|w| w.at_start && !one_line(w.name)) {
            let reason = "it takes several config-file lines, which the driver does not write; deliver it as a file";
            return Err(DriverError::Rejected { name: w.name.to_string(), reason: reason.into() });
        }
        let mut con = self.connect().await?;
        let current = self.values(&mut con).await?;
        let differs = |w: &Write<'_>| current.get(w.name).is_none_or(|now| !same(w.name, now, &w.value));
        let command =
            common::restart_command(&self.conn, writes.iter().any(|w| w.at_start && differs(w)), allow_restart)?;
        let file = self.config_file(&mut con).await?;
        if let (Some(w), None) = (writes.iter().find(|w| w.at_start), &file) {
            let reason = format!(
                "Redis reads it only at start, from its config file, which is not reachable from here \
                 (the server is not on this host and no config_dir is set for {})",
                self.conn.address
            );
            return Err(DriverError::Rejected { name: w.name.to_string(), reason });
        }

        let live: Vec<&Write<'_>> = writes.iter().filter(|w| !w.at_start).collect();
        if !live.is_empty() {
            let mut set = ::redis::cmd("CONFIG");
            set.arg("SET");
            for w in &live {
                set.arg(w.name).arg(&w.value);
            }
            if let Err(e) = set.query_async::<()>(&mut con).await {
                return Err(self.refused(e, &live));
            }
            // Without this the changes are lost at the next restart.
            self.run::<()>(&mut con, ::redis::cmd("CONFIG").arg("REWRITE")).await?;
        }
        // After the rewrite, which would otherwise put back the values the
        // server still runs for the settings read only at start.
        if let Some(path) = &file {
            self.edit_config_file(path, writes).await?;
        }

        let mut restarted = false;
        if let Some(command) = command {
            let run_id = self.info_field(&mut con, "run_id").await?;
            drop(con);
            let run_id = &run_id;
            common::restart(&self.conn, command, move || async move {
                let mut con = self.connect().await?;
                Ok(self.info_field(&mut con, "run_id").await? != *run_id)
            })
            .await?;
            restarted = true;
            con = self.connect().await?;
        }

        let after = self.values(&mut con).await?;
        for w in writes {
            let now = after.get(w.name);
            if now.is_none_or(|now| !same(w.name, now, &w.value)) {
                let shown = if w.sensitive {
                    "a different value".to_string()
                } else {
                    format!("`{}`", now.map_or("", |s| s.as_str()))
                };
                let reason = format!("the server reports {shown} after the change");
                return Err(DriverError::Rejected { name: w.name.to_string(), reason });
            }
        }
        Ok(Applied {
            changed: writes.iter().map(|w| w.name.to_string()).collect(),
            reloaded: false,
            restarted,
            pending_restart: Vec::new(),
        })
    }

    /// A refused `CONFIG SET`: Redis names the argument it choked on, and
    /// changed nothing. Its message never shows a secret's value here.
    fn refused(&self, e: RedisError, live: &[&Write<'_>]) -> DriverError {
        if !matches!(e.kind(), ErrorKind::Server(ServerErrorKind::ResponseError) | ErrorKind::Extension) {
            return self.error(e);
        }
        let message = e.detail().map_or_else(|| e.to_string(), str::to_string);
        let named = message.split('\'').nth(1).and_then(|n| live.iter().find(|w| w.name.eq_ignore_ascii_case(n)));
        let leaks = live.iter().any(|w| w.sensitive && !w.value.is_empty() && message.contains(&w.value));
        let name = named.or(live.first()).map_or_else(String::new, |w| w.name.to_string());
        let reason = if leaks {
            "the server refused the value (its message quotes a secret and is not shown)".into()
        } else {
            message
        };
        DriverError::Rejected { name, reason }
    }

    /// Writes the settings read only at start into the config file, and the
    /// list of settings dbfleet holds.
    async fn edit_config_file(&self, path: &Path, writes: &[Write<'_>]) -> Result<(), DriverError> {
        let text = tokio::fs::read_to_string(path)
            .await
            .map_err(|e| DriverError::Protocol(format!("cannot read {}: {e}", path.display())))?;
        let mut edited = text.clone();
        let mut names = managed(&text);
        for w in writes {
            if w.at_start {
                edited = with_directive(&edited, w.name, &quote_arg(&w.value));
            }
            if w.explicit {
                names.insert(w.name.to_string());
            } else {
                names.remove(w.name);
            }
        }
        let edited = with_managed(&edited, &names);
        if edited != text {
            common::replace_file(path, Some(edited), 0o640).await?;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Driver for RedisDriver {
    fn engine(&self) -> EngineKind {
        ENGINE
    }

    async fn observe(&self) -> Result<Observed, DriverError> {
        let mut con = self.connect().await?;
        self.read(&mut con).await
    }

    async fn apply(&self, plan: &Plan, allow_restart: bool) -> Result<Applied, DriverError> {
        refuse_tenants(plan)?;
        common::restart_command(&self.conn, plan.needs_restart(), allow_restart)?;
        if plan.is_empty() {
            return Ok(Applied::default());
        }
        self.require_config_file(&mut self.connect().await?).await?;
        let users = match (plan.changes.iter().any(is_users), &self.acl) {
            (false, _) => None,
            (true, Some(text)) => Some(text.lines().map(str::to_string).collect::<Vec<_>>()),
            (true, None) => {
                return Err(DriverError::Protocol(format!("the plan changes `{ACL}` but no {ACL} was rendered")));
            }
        };
        let writes = plan
            .changes
            .iter()
            .filter(|c| !is_users(c))
            .map(|c| {
                let value = match c.action {
                    Action::Reset => default(&c.name)?,
                    Action::Set | Action::Change => c.native.clone().ok_or_else(|| {
                        DriverError::Protocol(format!("the plan sets `{}` but carries no value for it", c.name))
                    })?,
                };
                Ok(Write {
                    name: &c.name,
                    value,
                    sensitive: c.sensitive,
                    at_start: c.apply == ApplyMethod::Restart,
                    explicit: c.action != Action::Reset,
                })
            })
            .collect::<Result<Vec<_>, DriverError>>()?;
        let mut applied = self.write(&writes, allow_restart).await?;
        if let Some(lines) = &users {
            self.put_users(lines).await?;
            applied.changed.push(ACL.to_string());
        }
        Ok(applied)
    }

    async fn restore(&self, before: &Observed, plan: &Plan, allow_restart: bool) -> Result<Applied, DriverError> {
        // Tenant changes were refused by apply before anything was written.
        let plan = &common::instance_changes(plan);
        let catalog = dbfleet_catalog::catalog(ENGINE);
        let mut seen = BTreeSet::new();
        let mut writes = Vec::new();
        let mut secrets = Vec::new();
        let mut users = None;
        // What the server holds now: a setting already back as it was (or
        // never changed, when the apply stopped early) is left alone, so a
        // restore that has nothing to do sends nothing.
        let now = self.observe().await?;
        for c in plan.changes.iter().filter(|c| seen.insert(c.name.as_str())) {
            let was = before.settings.get(&c.name);
            let is = now.settings.get(&c.name);
            let unchanged = match (was, is) {
                (Some(w), Some(i)) if is_users(c) => w.raw == i.raw,
                (Some(w), Some(i)) => w.value.is_some() && w.value == i.value && w.explicit == i.explicit,
                (None, None) => true,
                _ => false,
            };
            if unchanged {
                continue;
            }
            if is_users(c) {
                // Without a listing (a snapshot from the store, which keeps
                // no secrets) the users cannot be put back.
                match was.map(|s| user_lines(&s.raw)) {
                    Some(Some(lines)) => users = Some(lines),
                    Some(None) => secrets.push(c.name.clone()),
                    None => {}
                }
                continue;
            }
            if was.is_some_and(common::is_hidden) {
                secrets.push(c.name.clone());
                continue;
            }
            let value = match was {
                Some(s) => s.raw.clone(),
                None => default(&c.name)?,
            };
            let at_start = catalog.get(&c.name).is_some_and(|p| p.apply == ApplyMethod::Restart);
            let explicit = was.is_some_and(|s| s.explicit);
            writes.push(Write { name: &c.name, value, sensitive: c.sensitive, at_start, explicit });
        }
        let mut applied = self.write(&writes, allow_restart).await?;
        if let Some(lines) = &users {
            self.put_users(lines).await?;
            applied.changed.push(ACL.to_string());
        }
        common::unrestorable(&secrets)?;
        Ok(applied)
    }
}

fn is_users(c: &dbfleet_plan::Change) -> bool {
    c.tenant.is_none() && c.name == ACL
}

/// The `ACL LIST` lines of an observed `users.acl` (a YAML flow list), or
/// `None` when it holds none (a snapshot read back from the store).
fn user_lines(raw: &str) -> Option<Vec<String>> {
    let node = dbfleet_model::yaml::parse("users.acl", raw).ok()?;
    match node.to_value() {
        Value::List(items) => {
            let lines: Vec<String> =
                items.into_iter().map(|v| v.as_str().map(str::to_string)).collect::<Option<_>>()?;
            lines.iter().any(|l| redis_acl::user_line(l).is_some()).then_some(lines)
        }
        _ => None,
    }
}

/// Redis has no tenants of its own here: a tenant's settings would be an
/// ACL user's, which this driver does not manage.
fn refuse_tenants(plan: &Plan) -> Result<(), DriverError> {
    match plan.changes.iter().find(|c| c.tenant.is_some()) {
        Some(c) => Err(DriverError::Protocol(format!(
            "the Redis driver does not manage tenant settings (`{}`); deliver them as an ACL file",
            label(c)
        ))),
        None => Ok(()),
    }
}

/// The catalog's default of `name` in Redis's spelling: what resetting
/// sets, Redis having no way to unset a setting.
fn default(name: &str) -> Result<String, DriverError> {
    let p = dbfleet_catalog::catalog(ENGINE).get(name);
    let typed = p.and_then(|p| p.normalize(ENGINE, p.default.as_ref()?).ok());
    match (p, typed) {
        (Some(p), Some(t)) => Ok(p.format_native(ENGINE, &t)),
        _ => Err(DriverError::Rejected {
            name: name.to_string(),
            reason: "the catalog knows no default to reset it to".into(),
        }),
    }
}

/// Whether two spellings of a value of `name` mean the same (`1gb` and
/// `1073741824`), by the catalog; the same text otherwise.
fn same(name: &str, a: &str, b: &str) -> bool {
    let p = dbfleet_catalog::catalog(ENGINE).get(name);
    let read = |text: &str| p.and_then(|p| p.normalize(ENGINE, &Value::String(text.to_string())).ok());
    match (read(a), read(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// Whether the setting is one config-file line with one value. Lists and
/// maps (`loadmodule`, `rename-command`) take a line per item.
fn one_line(name: &str) -> bool {
    dbfleet_catalog::catalog(ENGINE).get(name).is_some_and(|p| !matches!(p.ty, ParamType::List | ParamType::Map))
}

/// The settings listed on the marker line of a config file.
fn managed(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix(MANAGED))
        .flat_map(|rest| rest.split_whitespace().map(str::to_string))
        .collect()
}

/// `text` with one marker line listing `names`, where the marker was (at
/// the end for a new one), or none when `names` is empty.
fn with_managed(text: &str, names: &BTreeSet<String>) -> String {
    let line = (!names.is_empty())
        .then(|| format!("{MANAGED} {}", names.iter().map(String::as_str).collect::<Vec<_>>().join(" ")));
    replace_lines(text, |l| l.starts_with(MANAGED), line)
}

/// `text` with `name` set by one line, `name value`: where the first line
/// that sets it now was, the others dropped (Redis takes the last one, so
/// they would win), or at the end.
fn with_directive(text: &str, name: &str, value: &str) -> String {
    let sets = |l: &str| {
        let l = l.trim_start();
        !l.starts_with('#') && l.split_whitespace().next().is_some_and(|first| first.eq_ignore_ascii_case(name))
    };
    replace_lines(text, sets, Some(format!("{name} {value}")))
}

fn replace_lines(text: &str, matches: impl Fn(&str) -> bool, line: Option<String>) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut line = line;
    for l in text.lines() {
        if matches(l) {
            out.extend(line.take());
        } else {
            out.push(l.to_string());
        }
    }
    out.extend(line);
    let mut joined = out.join("\n");
    joined.push('\n');
    joined
}

/// A value as one argument on a config-file line: as it is when it is one
/// plain word, else double-quoted with Redis's escapes.
fn quote_arg(value: &str) -> String {
    let plain = |c: char| !c.is_whitespace() && !c.is_control() && !matches!(c, '"' | '\'' | '\\');
    if !value.is_empty() && value.chars().all(plain) {
        return value.to_string();
    }
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", u32::from(c) & 0xff)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONF: &str = "port 6400\n# a comment\nmaxmemory 1mb\ndatabases 16\nDatabases 20\n";

    #[test]
    fn directives_replace_every_line_that_sets_them() {
        assert_eq!(with_directive(CONF, "databases", "32"), "port 6400\n# a comment\nmaxmemory 1mb\ndatabases 32\n");
        assert_eq!(with_directive("port 1", "dir", "\"/a b\""), "port 1\ndir \"/a b\"\n");
        assert_eq!(with_directive("# databases 3\n", "databases", "4"), "# databases 3\ndatabases 4\n");
    }

    #[test]
    fn the_marker_lists_what_dbfleet_set() {
        let names: BTreeSet<String> = ["maxmemory".to_string(), "hz".to_string()].into();
        let marked = with_managed(CONF, &names);
        assert!(marked.ends_with("# dbfleet manages: hz maxmemory\n"), "{marked}");
        assert_eq!(managed(&marked), names);
        let fewer: BTreeSet<String> = ["hz".to_string()].into();
        assert_eq!(managed(&with_managed(&marked, &fewer)), fewer);
        assert_eq!(with_managed(&marked, &BTreeSet::new()), CONF);
    }

    #[test]
    fn arguments_are_quoted_when_needed() {
        let cases = [
            ("16", "16"),
            ("", "\"\""),
            ("/a b", "\"/a b\""),
            ("say \"hi\"", "\"say \\\"hi\\\"\""),
            ("a\\b", "\"a\\\\b\""),
        ];
        for (value, want) in cases {
            assert_eq!(quote_arg(value), want);
        }
    }

    #[test]
    fn observed_users_read_back_from_their_text() {
        let lines = vec![
            "user acme on sanitize-payload #ab12 ~acme:* resetchannels &acme:* +@all -@dangerous".to_string(),
            "user default on nopass ~* &* +@all".to_string(),
            "user y on %R~r:* (~sel* -@all +get) +set".to_string(),
        ];
        let raw = Value::List(lines.iter().cloned().map(Value::String).collect()).to_string();
        assert_eq!(user_lines(&raw), Some(lines));
        // A snapshot from the store keeps no listing.
        assert_eq!(user_lines(""), None);
    }

    #[test]
    fn values_compare_by_meaning() {
        assert!(same("maxmemory", "1gb", "1073741824"));
        assert!(!same("maxmemory", "1gb", "1g"));
        assert!(same("maxmemory-policy", "allkeys-lru", "ALLKEYS-LRU"));
        assert!(same("not-a-setting", "x", "x"));
    }
}
