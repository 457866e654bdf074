//! Cassandra: observed over CQL, changed with `nodetool` where a setting
//! can change on a live node, and through file delivery otherwise.
//!
//! Observing reads `SELECT name, value FROM system_views.settings`
//! (Cassandra 4.0 and later), which holds the value each setting has on the
//! node now, `nodetool` changes included; the session only ever talks to
//! the node named, through an allow-list host filter, because the table is
//! node-local. Nothing there says which values were set on purpose, so a
//! setting is `explicit` only when dbfleet's own `cassandra.yaml` holds it.
//!
//! Applying runs one `nodetool` command per runtime change ([`nodetool_args`]
//! lists them): a reset sets the catalog's default, as nodetool has no reset,
//! and the three cache sizes, which `setcachecapacity` takes together, are
//! completed from `nodetool info`. Restoring sets the value observed before.
//! nodetool's changes last until the node restarts, so with rendered files
//! the driver also writes `cassandra.yaml`, and settings that need a restart
//! go only there.
//!
//! nodetool talks JMX, not CQL: the command defaults to `nodetool -h <host>`
//! (JMX port 7199) and [`CassandraDriver::with_nodetool`] replaces it, for
//! another port, JMX credentials or a wrapper such as `kubectl exec`.

use std::sync::Arc;
use std::time::Duration;

use dbfleet_catalog::{ParamType, Parameter, Typed};
use dbfleet_model::{ApplyMethod, EngineKind, Value};
use dbfleet_plan::{Action, Change, Observed, ObservedSetting, Settings};
use dbfleet_render::RenderedFile;
use scylla::client::session_builder::SessionBuilder;
use scylla::policies::host_filter::AllowListHostFilter;
use secrecy::ExposeSecret as _;

use crate::common::{self, is_hidden, label, observed, run_command, rustls_client_config, split_address, unrestorable};
use crate::file::{FileDriver, Live, LiveWithFiles};
use crate::{Connection, DriverError};

const ENGINE: EngineKind = EngineKind::Cassandra;
const SETTINGS: &str = "SELECT name, value FROM system_views.settings";
const MIB: i64 = 1 << 20;
const KIB: i64 = 1 << 10;
const MS: i64 = 1_000;

/// Manages one Cassandra node.
pub struct CassandraDriver {
    live: Node,
    files: FileDriver,
}

impl CassandraDriver {
    /// A driver for the node `conn` names (its CQL address); `files` are
    /// its rendered files, written for settings that need a restart (empty:
    /// such changes fail). Connects on each observation.
    pub fn new(conn: Connection, files: Vec<RenderedFile>) -> CassandraDriver {
        let nodetool = match split_address(&conn.address, 9042) {
            Ok((host, _)) => vec!["nodetool".to_string(), "-h".to_string(), host],
            // The address error surfaces when observing; nodetool alone
            // reaches the local node.
            Err(_) => vec!["nodetool".to_string()],
        };
        CassandraDriver { live: Node { conn: conn.clone(), nodetool }, files: FileDriver::new(conn, files) }
    }

    /// Runs `command` (program and leading arguments, such as
    /// `["nodetool", "-h", "10.0.0.5", "-p", "7199", "-u", "admin", "-pwf",
    /// "/etc/cassandra/jmx.password"]`) instead of `nodetool -h <host>`; the
    /// subcommand and its arguments are appended.
    pub fn with_nodetool(mut self, command: Vec<String>) -> CassandraDriver {
        self.live.nodetool = command;
        self
    }
}

/// The node: CQL for reading, nodetool for changing.
struct Node {
    conn: Connection,
    nodetool: Vec<String>,
}

/// What nodetool calls a cache in `setcachecapacity` and `info`.
const CACHES: [(&str, &str); 3] =
    [("key_cache_size", "Key Cache"), ("row_cache_size", "Row Cache"), ("counter_cache_size", "Counter Cache")];

/// The nodetool arguments that set `name` to `value` on a live node, or
/// `None` for a setting nodetool cannot change (the caches, which go
/// together, are [`cache_args`]'s).
fn nodetool_args(parameter: &Parameter, value: &Typed) -> Result<Option<Vec<String>>, DriverError> {
    let whole = |unit: i64, unit_name: &str| match value {
        Typed::Bytes(n) | Typed::Micros(n) if n % unit == 0 => Ok((n / unit).to_string()),
        Typed::Int(n) => Ok(n.to_string()),
        _ => Err(DriverError::Rejected {
            name: parameter.name.clone(),
            reason: format!(
                "nodetool takes whole {unit_name}, which {} is not",
                parameter.format_native(ENGINE, value)
            ),
        }),
    };
    let switch = |on: &str, off: &str| match value {
        Typed::Bool(true) => Ok(on.to_string()),
        _ => Ok(off.to_string()),
    };
    let args: Vec<String> = match parameter.name.as_str() {
        "compaction_throughput" => vec!["setcompactionthroughput".into(), whole(MIB, "MiB/s")?],
        "concurrent_compactors" => vec!["setconcurrentcompactors".into(), whole(1, "compactors")?],
        "incremental_backups" => vec![switch("enablebackup", "disablebackup")?],
        "snapshot_links_per_second" => vec!["setsnapshotthrottle".into(), whole(1, "links")?],
        "hinted_handoff_enabled" => vec![switch("enablehandoff", "disablehandoff")?],
        "max_hint_window" => vec!["setmaxhintwindow".into(), whole(MS, "milliseconds")?],
        "hinted_handoff_throttle" => vec!["sethintedhandoffthrottlekb".into(), whole(KIB, "KiB")?],
        "batchlog_replay_throttle" => vec!["setbatchlogreplaythrottle".into(), whole(KIB, "KiB")?],
        // `-m`: the value is in MiB/s rather than megabits (Cassandra 4.1).
        "stream_throughput_outbound" => vec!["setstreamthroughput".into(), "-m".into(), whole(MIB, "MiB/s")?],
        "inter_dc_stream_throughput_outbound" => {
            vec!["setinterdcstreamthroughput".into(), "-m".into(), whole(MIB, "MiB/s")?]
        }
        "entire_sstable_stream_throughput_outbound" => {
            vec!["setstreamthroughput".into(), "-e".into(), whole(MIB, "MiB/s")?]
        }
        "stream_throughput_outbound_megabits_per_sec" => vec!["setstreamthroughput".into(), whole(1, "megabits/s")?],
        "inter_dc_stream_throughput_outbound_megabits_per_sec" => {
            vec!["setinterdcstreamthroughput".into(), whole(1, "megabits/s")?]
        }
        "audit_logging_options.enabled" => vec![switch("enableauditlog", "disableauditlog")?],
        name => match timeout_kind(name) {
            Some(kind) => vec!["settimeout".into(), kind.into(), whole(MS, "milliseconds")?],
            None => return Ok(None),
        },
    };
    Ok(Some(args))
}

/// The `settimeout` type of a request timeout setting.
fn timeout_kind(name: &str) -> Option<&'static str> {
    Some(match name {
        "read_request_timeout" => "read",
        "range_request_timeout" => "range",
        "write_request_timeout" => "write",
        "counter_write_request_timeout" => "counterwrite",
        "cas_contention_timeout" => "cascontention",
        "truncate_request_timeout" => "truncate",
        "request_timeout" => "misc",
        _ => return None,
    })
}

/// `setcachecapacity <key> <row> <counter>` in MiB: the new sizes where
/// given, the capacities `nodetool info` reports otherwise.
fn cache_args(new: &[(&str, i64)], info: &str) -> Result<Vec<String>, DriverError> {
    let mut args = vec!["setcachecapacity".to_string()];
    for (name, title) in CACHES {
        let bytes = match new.iter().find(|(n, _)| *n == name) {
            Some((_, bytes)) => *bytes,
            None => cache_capacity(info, title).ok_or_else(|| {
                DriverError::Protocol(format!(
                    "`nodetool info` does not report the {title} capacity, which setcachecapacity needs"
                ))
            })?,
        };
        if bytes % MIB != 0 {
            return Err(DriverError::Rejected {
                name: name.into(),
                reason: "nodetool takes cache sizes in whole MiB".into(),
            });
        }
        args.push((bytes / MIB).to_string());
    }
    Ok(args)
}

/// The capacity of one cache in bytes, from a `nodetool info` line such as
/// `Key Cache : entries 10, size 896 bytes, capacity 49 MiB, ...`.
fn cache_capacity(info: &str, title: &str) -> Option<i64> {
    let line = info.lines().find(|l| l.split(':').next().is_some_and(|head| head.trim() == title))?;
    let capacity = line.split(',').find_map(|part| part.trim().strip_prefix("capacity "))?;
    let (number, unit) = capacity.trim().split_once(' ')?;
    let number: f64 = number.parse().ok()?;
    // Cassandra 4.0 and later print KiB, MiB, ...; earlier ones KB, MB.
    let multiplier = match unit.trim() {
        "bytes" | "B" => 1,
        "KiB" | "KB" => KIB,
        "MiB" | "MB" => MIB,
        "GiB" | "GB" => 1 << 30,
        "TiB" | "TB" => 1 << 40,
        _ => return None,
    };
    Some((number * multiplier as f64).round() as i64)
}

/// `(name, value)` rows of `system_views.settings` as settings by catalog
/// name; a setting without a value is left out, as if not set.
/// Throughputs read `64MiB/s`, where the catalog has a size.
fn read_rows(conn: &Connection, rows: impl IntoIterator<Item = (String, Option<String>)>) -> Settings<ObservedSetting> {
    let catalog = dbfleet_catalog::catalog(ENGINE);
    rows.into_iter()
        .filter_map(|(name, value)| {
            let mut text = value?;
            if catalog.get(&name).is_some_and(|p| p.ty == ParamType::Size) && text.ends_with("/s") {
                text.truncate(text.len() - 2);
            }
            observed(ENGINE, &conn.version, &name, &Value::String(text), false)
        })
        .collect()
}

fn parameter(name: &str) -> Result<&'static Parameter, DriverError> {
    dbfleet_catalog::catalog(ENGINE).get(name).ok_or_else(|| DriverError::Rejected {
        name: name.to_string(),
        reason: "the Cassandra catalog has no such setting".into(),
    })
}

/// `text` in the engine's spelling, read through the catalog.
fn typed(parameter: &Parameter, text: &str) -> Result<Typed, DriverError> {
    common::typed(ENGINE, parameter, text)
}

/// The value a reset sets: nodetool has no reset, so the catalog's default.
fn default(parameter: &Parameter) -> Result<Typed, DriverError> {
    common::catalog_default(ENGINE, parameter, "nodetool cannot reset a setting")
}

impl Node {
    fn unreachable(&self, reason: impl ToString) -> DriverError {
        DriverError::Unreachable { address: self.conn.address.clone(), reason: reason.to_string() }
    }

    async fn nodetool(&self, args: Vec<String>) -> Result<String, DriverError> {
        let mut command = self.nodetool.clone();
        command.extend(args);
        run_command(&command, self.conn.ready_timeout).await
    }

    /// Sets each `(setting, value)`, the caches together.
    async fn set_values(&self, values: Vec<(&'static Parameter, Typed)>) -> Result<(), DriverError> {
        let mut caches = Vec::new();
        for (p, value) in values {
            if CACHES.iter().any(|(name, _)| *name == p.name) {
                let Typed::Bytes(bytes) = value else {
                    return Err(DriverError::Rejected {
                        name: p.name.clone(),
                        reason: "a cache size must be a size".into(),
                    });
                };
                caches.push((p.name.as_str(), bytes));
                continue;
            }
            match nodetool_args(p, &value)? {
                Some(args) => {
                    self.nodetool(args).await?;
                }
                None => {
                    return Err(DriverError::Rejected {
                        name: p.name.clone(),
                        reason: "nodetool cannot change it on a live node".into(),
                    });
                }
            }
        }
        if !caches.is_empty() {
            let info =
                if caches.len() < CACHES.len() { self.nodetool(vec!["info".into()]).await? } else { String::new() };
            self.nodetool(cache_args(&caches, &info)?).await?;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Live for Node {
    fn is_live(&self, change: &Change) -> bool {
        let runtime = dbfleet_catalog::catalog(ENGINE)
            .get(&change.name)
            .is_some_and(|p| p.apply == ApplyMethod::Runtime && p.section == "main");
        change.tenant.is_none() && runtime
    }

    async fn read(&self) -> Result<Settings<ObservedSetting>, DriverError> {
        let conn = &self.conn;
        let (host, port) = split_address(&conn.address, 9042)?;
        let address = format!("{host}:{port}");
        // system_views is node-local: only the named node may answer.
        let only = AllowListHostFilter::new([address.as_str()]).map_err(|e| self.unreachable(e))?;
        let mut builder = SessionBuilder::new()
            .known_node(&address)
            .host_filter(Arc::new(only))
            .fetch_schema_metadata(false)
            .connection_timeout(Duration::from_secs(5));
        if let Some(user) = &conn.user {
            builder =
                builder.user(user, conn.password.as_ref().map(|p| p.expose_secret().to_string()).unwrap_or_default());
        }
        if conn.tls.enabled {
            builder = builder.tls_context(Some(Arc::new(rustls_client_config(&conn.tls)?)));
        }
        let session = builder.build().await.map_err(|e| {
            let reason = e.to_string();
            if reason.to_ascii_lowercase().contains("authenticat") {
                DriverError::Denied { address: conn.address.clone(), reason }
            } else {
                self.unreachable(reason)
            }
        })?;
        let result = session.query_unpaged(SETTINGS, &[]).await.map_err(|e| {
            DriverError::Protocol(format!(
                "{}: {SETTINGS} failed (Cassandra 4.0 or later has the table): {e}",
                conn.address
            ))
        })?;
        let rows = result.into_rows_result().map_err(|e| DriverError::Protocol(format!("{SETTINGS}: {e}")))?;
        let rows: Vec<(String, Option<String>)> = rows
            .rows::<(String, Option<String>)>()
            .map_err(|e| DriverError::Protocol(format!("{SETTINGS}: {e}")))?
            .collect::<Result<_, _>>()
            .map_err(|e| DriverError::Protocol(format!("{SETTINGS}: {e}")))?;
        Ok(read_rows(conn, rows))
    }

    async fn set(&self, changes: &[&Change]) -> Result<(), DriverError> {
        let mut values = Vec::new();
        for c in changes {
            let p = parameter(&c.name)?;
            let value = match (c.action, &c.native) {
                (Action::Reset, _) => default(p)?,
                (_, Some(text)) => typed(p, text)?,
                (_, None) => return Err(DriverError::Protocol(format!("the plan gives no value for `{}`", label(c)))),
            };
            values.push((p, value));
        }
        self.set_values(values).await
    }

    async fn put_back(&self, before: &Observed, changes: &[&Change]) -> Result<(), DriverError> {
        let (mut values, mut secrets) = (Vec::new(), Vec::new());
        for c in changes {
            let p = parameter(&c.name)?;
            match before.settings.get(&c.name) {
                Some(was) if is_hidden(was) => secrets.push(label(c)),
                Some(was) => values.push((p, typed(p, &was.raw)?)),
                None => values.push((p, default(p)?)),
            }
        }
        self.set_values(values).await?;
        unrestorable(&secrets)
    }
}

impl LiveWithFiles for CassandraDriver {
    const ENGINE: EngineKind = ENGINE;

    fn live(&self) -> &dyn Live {
        &self.live
    }

    fn files(&self) -> &FileDriver {
        &self.files
    }
}

/// The CQL side cannot be replayed here (see the report in
/// `tests/recorded.rs`): reading `system_views.settings` is tested on the
/// rows of a recorded `SELECT`, and building nodetool commands on catalog
/// values; running them is tested for real in `tests/recorded.rs`.
#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> Connection {
        Connection {
            engine: ENGINE,
            version: "4.1.5".parse().unwrap(),
            address: "127.0.0.1:9042".into(),
            user: None,
            password: None,
            tls: crate::Tls::default(),
            restart_command: None,
            reload_command: None,
            config_dir: None,
            ready_timeout: Duration::from_secs(5),
        }
    }

    /// The `name | value` rows of the recorded cqlsh output.
    fn recorded_rows() -> Vec<(String, Option<String>)> {
        let text = include_str!("../tests/recordings/cassandra/settings.cqlsh");
        assert!(text.lines().take_while(|l| l.starts_with('#')).any(|l| l.contains("Source:")));
        text.lines()
            .filter(|l| !l.starts_with('#') && l.contains(" | ") && !l.trim_start().starts_with("name "))
            .map(|l| {
                let (name, value) = l.split_once(" | ").unwrap();
                let value = value.trim();
                (name.trim().to_string(), (value != "null").then(|| value.to_string()))
            })
            .collect()
    }

    #[test]
    fn recorded_settings_rows_are_read_as_settings() {
        let s = read_rows(&conn(), recorded_rows());
        assert_eq!(s["compaction_throughput"].value, Some(Typed::Bytes(64 * MIB)));
        assert_eq!(s["compaction_throughput"].raw, "64MiB");
        assert_eq!(s["read_request_timeout"].value, Some(Typed::Micros(5_000 * MS)));
        assert_eq!(s["concurrent_compactors"].value, Some(Typed::Int(2)));
        assert_eq!(s["hinted_handoff_enabled"].value, Some(Typed::Bool(true)));
        assert_eq!(s["cluster_name"].raw, "Test Cluster");
        assert_eq!(s["num_tokens"].value, Some(Typed::Int(16)));
        // Unknown to the catalog, or without a value: not taken.
        assert!(!s.contains_key("full_query_logging_options"));
        assert!(!s.contains_key("allocate_tokens_for_keyspace"));
        assert!(s.values().all(|o| !o.explicit && !o.pending_restart));
    }

    fn args(name: &str, native: &str) -> Option<Vec<String>> {
        let p = parameter(name).unwrap();
        nodetool_args(p, &typed(p, native).unwrap()).unwrap()
    }

    #[test]
    fn nodetool_commands_for_catalog_values() {
        let cases: &[(&str, &str, &str)] = &[
            ("compaction_throughput", "32MiB", "setcompactionthroughput 32"),
            ("concurrent_compactors", "4", "setconcurrentcompactors 4"),
            ("incremental_backups", "true", "enablebackup"),
            ("incremental_backups", "false", "disablebackup"),
            ("read_request_timeout", "10s", "settimeout read 10000"),
            ("counter_write_request_timeout", "5000ms", "settimeout counterwrite 5000"),
            ("request_timeout", "12s", "settimeout misc 12000"),
            ("max_hint_window", "3h", "setmaxhintwindow 10800000"),
            ("hinted_handoff_throttle", "2MiB", "sethintedhandoffthrottlekb 2048"),
            ("stream_throughput_outbound", "48MiB", "setstreamthroughput -m 48"),
            ("entire_sstable_stream_throughput_outbound", "96MiB", "setstreamthroughput -e 96"),
            ("inter_dc_stream_throughput_outbound_megabits_per_sec", "100", "setinterdcstreamthroughput 100"),
            ("audit_logging_options.enabled", "true", "enableauditlog"),
        ];
        for (name, native, want) in cases {
            assert_eq!(args(name, native).map(|a| a.join(" ")).as_deref(), Some(*want), "{name} = {native}");
        }
        assert_eq!(args("cluster_name", "prod"), None, "nodetool cannot change it");
        let p = parameter("compaction_throughput").unwrap();
        assert!(matches!(nodetool_args(p, &Typed::Bytes(MIB + 1)), Err(DriverError::Rejected { .. })));
    }

    #[test]
    fn cache_sizes_are_completed_from_recorded_nodetool_info() {
        let info = include_str!("../tests/recordings/cassandra/nodetool-info.txt");
        assert_eq!(cache_capacity(info, "Key Cache"), Some(49 * MIB));
        assert_eq!(cache_capacity(info, "Row Cache"), Some(0));
        assert_eq!(cache_capacity(info, "Counter Cache"), Some(24 * MIB));
        let args = cache_args(&[("row_cache_size", 256 * MIB)], info).unwrap();
        assert_eq!(args.join(" "), "setcachecapacity 49 256 24");
    }
}
