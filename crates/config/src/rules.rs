//! Each engine's rules for dangerous or impossible combinations, and the
//! resource budgets computed from the instance's hardware facts.
//!
//! Rules read effective values (what is set, else the catalog default), so
//! a budget counts the defaults a server would really use. A finding is
//! reported where the first of its settings that the fleet sets explicitly
//! was decided; if the fleet sets none of them, at the instance.

use dbfleet_catalog::Typed;
use dbfleet_model::{Diagnostic, EngineKind, Scope, units::ByteSize};

use crate::load::Fleet;
use crate::validate::Validated;

/// `a < b` for comparable typed values.
pub(crate) fn less(a: &Typed, b: &Typed) -> bool {
    match (a, b) {
        (Typed::Int(x), Typed::Int(y)) | (Typed::Bytes(x), Typed::Bytes(y)) | (Typed::Micros(x), Typed::Micros(y)) => {
            x < y
        }
        (Typed::Real(x), Typed::Real(y)) => x < y,
        (Typed::Int(x), Typed::Real(y)) => (*x as f64) < *y,
        (Typed::Real(x), Typed::Int(y)) => *x < *y as f64,
        _ => false,
    }
}

/// The settings a rule reads, with the instance's hardware.
struct View<'a, 'f> {
    v: &'a Validated<'f>,
    memory: i64,
    cpus: i64,
    findings: Vec<(bool, &'static str, String, Vec<&'static str>)>,
}

impl View<'_, '_> {
    fn get(&self, name: &str) -> Option<Typed> {
        self.v.effective(name)
    }

    fn bytes(&self, name: &str) -> Option<i64> {
        match self.get(name)? {
            Typed::Bytes(b) | Typed::Int(b) => Some(b),
            Typed::Real(r) => Some(r as i64),
            _ => None,
        }
    }

    fn int(&self, name: &str) -> Option<i64> {
        match self.get(name)? {
            Typed::Int(i) | Typed::Bytes(i) => Some(i),
            Typed::Real(r) => Some(r as i64),
            _ => None,
        }
    }

    fn real(&self, name: &str) -> Option<f64> {
        match self.get(name)? {
            Typed::Real(r) => Some(r),
            Typed::Int(i) => Some(i as f64),
            _ => None,
        }
    }

    fn flag(&self, name: &str) -> Option<bool> {
        match self.get(name)? {
            Typed::Bool(b) => Some(b),
            Typed::Str(s) => Some(!matches!(s.as_str(), "off" | "false" | "no" | "disabled" | "0" | "")),
            _ => None,
        }
    }

    fn text(&self, name: &str) -> Option<String> {
        match self.get(name)? {
            Typed::Str(s) => Some(s),
            Typed::List(items) => Some(
                items
                    .iter()
                    .filter_map(|t| if let Typed::Str(s) = t { Some(s.as_str()) } else { None })
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            Typed::Bool(b) => Some(b.to_string()),
            Typed::Int(i) => Some(i.to_string()),
            _ => None,
        }
    }

    fn is_set(&self, name: &str) -> bool {
        self.v.settings.contains_key(name)
    }

    fn error(&mut self, code: &'static str, msg: String, keys: &[&'static str]) {
        self.findings.push((true, code, msg, keys.to_vec()));
    }

    fn warn(&mut self, code: &'static str, msg: String, keys: &[&'static str]) {
        self.findings.push((false, code, msg, keys.to_vec()));
    }
}

fn gb(b: i64) -> String {
    ByteSize(b.max(0) as u64).to_string()
}

/// Runs the rules of the target's engine.
pub(crate) fn check(fleet: &Fleet, v: &Validated<'_>) -> Vec<Diagnostic> {
    let inst = &fleet.instances[&v.info.instance];
    let mut view = View { v, memory: inst.memory as i64, cpus: inst.spec.hardware.cpus as i64, findings: Vec::new() };
    if v.info.scope == Scope::Instance {
        match v.info.engine {
            EngineKind::Postgresql => postgresql(&mut view),
            EngineKind::Redis => redis(&mut view),
            EngineKind::Mongodb => mongodb(&mut view),
            EngineKind::Clickhouse => clickhouse(&mut view),
            EngineKind::Elasticsearch => elasticsearch(&mut view),
            EngineKind::Neo4j => neo4j(&mut view),
            EngineKind::Cassandra => cassandra(&mut view),
        }
    } else {
        tenant(&mut view, fleet);
    }
    view.findings
        .into_iter()
        .map(|(error, code, msg, keys)| {
            let d = if error { Diagnostic::error(code, msg) } else { Diagnostic::warning(code, msg) };
            let d = d.target(v.info.id.to_string());
            match keys.iter().find_map(|k| v.settings.get(k)) {
                Some(c) => {
                    let e = c.chain.last().expect("a setting has an entry");
                    d.at(e.location.clone()).layer(e.layer.to_string())
                }
                None => d.at(inst.location.clone()).layer(format!("instance {}", inst.name)),
            }
        })
        .collect()
}

fn postgresql(v: &mut View<'_, '_>) {
    if let Some(Typed::List(rules)) = v.get("hba") {
        for rule in rules.iter().filter_map(|r| if let Typed::Str(s) = r { Some(s) } else { None }) {
            if let Err(reason) = dbfleet_catalog::pg_hba::rule_fields(rule) {
                v.error("hba", format!("pg_hba.conf rule `{rule}`: {reason}"), &["hba"]);
            }
        }
    }
    let sb = v.bytes("shared_buffers").unwrap_or(0);
    let conns = v.int("max_connections").unwrap_or(100);
    let work_mem = v.bytes("work_mem").unwrap_or(0);
    let maint = v.bytes("maintenance_work_mem").unwrap_or(0);
    let av = v.int("autovacuum_max_workers").unwrap_or(3);
    let budget = sb + conns * work_mem + av * maint;
    if budget > v.memory {
        v.error(
            "memory-budget",
            format!(
                "shared_buffers ({}) + max_connections ({conns}) x work_mem ({}) + autovacuum_max_workers ({av}) x maintenance_work_mem ({}) = {}, more than the instance's {} of memory",
                gb(sb), gb(work_mem), gb(maint), gb(budget), gb(v.memory)
            ),
            &["work_mem", "max_connections", "shared_buffers", "maintenance_work_mem"],
        );
    }
    if sb > v.memory / 2 {
        v.warn(
            "memory-budget",
            format!(
                "shared_buffers ({}) is more than half of the instance's {}; the OS page cache gets too little",
                gb(sb),
                gb(v.memory)
            ),
            &["shared_buffers"],
        );
    }
    if let (Some(min), Some(max)) = (v.bytes("min_wal_size"), v.bytes("max_wal_size"))
        && min > max
    {
        v.error(
            "combination",
            format!("min_wal_size ({}) is larger than max_wal_size ({}); the server will not start", gb(min), gb(max)),
            &["min_wal_size", "max_wal_size"],
        );
    }
    if v.text("wal_level").as_deref() == Some("minimal") {
        if v.flag("archive_mode") == Some(true) {
            v.error(
                "combination",
                "archive_mode needs wal_level replica or logical; with minimal the server will not start".into(),
                &["archive_mode", "wal_level"],
            );
        }
        if v.int("max_wal_senders").unwrap_or(0) > 0 {
            v.error(
                "combination",
                "max_wal_senders > 0 needs wal_level replica or logical; with minimal the server will not start".into(),
                &["max_wal_senders", "wal_level"],
            );
        }
    }
    if let (Some(reserved), Some(max)) = (v.int("superuser_reserved_connections"), v.int("max_connections")) {
        // PostgreSQL 16 added reserved_connections, which counts against
        // max_connections too (0, its default, on older versions).
        let others = v.int("reserved_connections").unwrap_or(0);
        if reserved + others >= max {
            let msg = if others > 0 {
                format!(
                    "superuser_reserved_connections ({reserved}) plus reserved_connections ({others}) must be less than max_connections ({max})"
                )
            } else {
                format!("superuser_reserved_connections ({reserved}) must be less than max_connections ({max})")
            };
            v.error("combination", msg, &["superuser_reserved_connections", "reserved_connections", "max_connections"]);
        }
    }
    if let (Some(per_gather), Some(workers)) = (v.int("max_parallel_workers_per_gather"), v.int("max_parallel_workers"))
        && per_gather > workers
    {
        v.warn(
            "combination",
            format!(
                "max_parallel_workers_per_gather ({per_gather}) exceeds max_parallel_workers ({workers}), which caps it"
            ),
            &["max_parallel_workers_per_gather"],
        );
    }
    if let (Some(workers), Some(procs)) = (v.int("max_parallel_workers"), v.int("max_worker_processes"))
        && workers > procs
    {
        v.warn(
            "combination",
            format!("max_parallel_workers ({workers}) exceeds max_worker_processes ({procs}), which caps it"),
            &["max_parallel_workers", "max_worker_processes"],
        );
    }
    if v.flag("archive_mode") == Some(true)
        && v.is_set("archive_mode")
        && v.text("archive_command").is_none_or(|c| c.is_empty())
        && v.text("archive_library").is_none_or(|c| c.is_empty())
    {
        v.warn(
            "combination",
            "archive_mode is on but neither archive_command nor archive_library is set: WAL accumulates".into(),
            &["archive_mode"],
        );
    }
    if v.flag("autovacuum") == Some(false) {
        v.warn(
            "dangerous",
            "autovacuum is off: tables bloat and transaction ID wraparound will stop the server".into(),
            &["autovacuum"],
        );
    }
    if v.flag("fsync") == Some(false) && v.is_set("fsync") {
        v.warn("dangerous", "fsync is off: a crash can corrupt the cluster beyond repair".into(), &["fsync"]);
    }
    if let (Some(ecs), Some(sb)) = (v.bytes("effective_cache_size"), v.bytes("shared_buffers"))
        && ecs < sb
    {
        v.warn(
            "combination",
            format!(
                "effective_cache_size ({}) is smaller than shared_buffers ({}); the planner underestimates the cache",
                gb(ecs),
                gb(sb)
            ),
            &["effective_cache_size", "shared_buffers"],
        );
    }
}

fn redis(v: &mut View<'_, '_>) {
    let maxmemory = v.bytes("maxmemory").unwrap_or(0);
    if maxmemory > v.memory {
        v.error(
            "memory-budget",
            format!("maxmemory ({}) is more than the instance's {} of memory", gb(maxmemory), gb(v.memory)),
            &["maxmemory"],
        );
    } else if maxmemory > v.memory * 9 / 10 {
        v.warn(
            "memory-budget",
            format!(
                "maxmemory ({}) leaves less than 10% of {} for forks during persistence and replication",
                gb(maxmemory),
                gb(v.memory)
            ),
            &["maxmemory"],
        );
    }
    if maxmemory == 0 && v.is_set("maxmemory-policy") && v.text("maxmemory-policy").as_deref() != Some("noeviction") {
        v.warn(
            "combination",
            "maxmemory-policy evicts keys, but maxmemory is 0 (unlimited), so it never applies".into(),
            &["maxmemory-policy", "maxmemory"],
        );
    }
    if v.flag("protected-mode") == Some(false)
        && v.text("bind").is_some_and(|b| b.contains("0.0.0.0") || b.contains('*'))
        && !v.is_set("requirepass")
    {
        v.error("dangerous", "protected-mode is off, the server listens on all interfaces, and there is no requirepass: anyone can reach it".into(), &["protected-mode", "bind"]);
    }
    if v.flag("appendonly") == Some(false) && v.text("save").is_some_and(|s| s.trim().is_empty() || s == "\"\"") {
        v.warn(
            "dangerous",
            "appendonly is off and save is empty: nothing is persisted, a restart loses all data".into(),
            &["appendonly", "save"],
        );
    }
    if let Some(threads) = v.int("io-threads")
        && threads > v.cpus
    {
        v.warn(
            "combination",
            format!("io-threads ({threads}) exceeds the instance's {} CPUs", v.cpus),
            &["io-threads"],
        );
    }
}

fn mongodb(v: &mut View<'_, '_>) {
    if let Some(cache_gb) = v.real("storage.wiredTiger.engineConfig.cacheSizeGB") {
        let cache = (cache_gb * (1u64 << 30) as f64) as i64;
        if cache > v.memory {
            v.error(
                "memory-budget",
                format!(
                    "storage.wiredTiger.engineConfig.cacheSizeGB ({cache_gb}) is more than the instance's {}",
                    gb(v.memory)
                ),
                &["storage.wiredTiger.engineConfig.cacheSizeGB"],
            );
        } else if cache > v.memory * 8 / 10 {
            v.warn("memory-budget", format!("the WiredTiger cache ({cache_gb} GB) leaves little of {} for connections and the file system cache", gb(v.memory)), &["storage.wiredTiger.engineConfig.cacheSizeGB"]);
        }
    }
    // `::` is every IPv6 interface; `::1` (IPv6 localhost) is not.
    let open = v.text("net.bindIp").is_some_and(|b| b.split(',').map(str::trim).any(|a| a == "0.0.0.0" || a == "::"))
        || v.flag("net.bindIpAll") == Some(true);
    if open && v.text("security.authorization").as_deref() == Some("disabled") {
        v.error(
            "dangerous",
            "mongod listens on all interfaces with security.authorization disabled: anyone can read and write".into(),
            &["security.authorization", "net.bindIp", "net.bindIpAll"],
        );
    }
    if v.text("net.tls.mode").as_deref() == Some("requireTLS")
        && !v.is_set("net.tls.certificateKeyFile")
        && !v.is_set("net.tls.certificateSelector")
    {
        v.error(
            "combination",
            "net.tls.mode requireTLS needs net.tls.certificateKeyFile (or certificateSelector); mongod will not start"
                .into(),
            &["net.tls.mode"],
        );
    }
}

fn clickhouse(v: &mut View<'_, '_>) {
    let query = v.bytes("max_memory_usage").unwrap_or(0);
    let server = v.bytes("max_server_memory_usage").unwrap_or(0);
    if query > v.memory {
        v.error(
            "memory-budget",
            format!("max_memory_usage per query ({}) is more than the instance's {}", gb(query), gb(v.memory)),
            &["max_memory_usage"],
        );
    }
    if server > 0 && query > server {
        v.error(
            "memory-budget",
            format!("max_memory_usage per query ({}) is more than max_server_memory_usage ({})", gb(query), gb(server)),
            &["max_memory_usage", "max_server_memory_usage"],
        );
    }
    if server > v.memory {
        v.error(
            "memory-budget",
            format!("max_server_memory_usage ({}) is more than the instance's {}", gb(server), gb(v.memory)),
            &["max_server_memory_usage"],
        );
    }
    if let (Some(user), Some(q)) = (v.bytes("max_memory_usage_for_user"), v.bytes("max_memory_usage"))
        && user > 0
        && q > user
    {
        v.warn(
            "combination",
            format!("max_memory_usage ({}) exceeds max_memory_usage_for_user ({}), which caps it", gb(q), gb(user)),
            &["max_memory_usage"],
        );
    }
}

/// JVM heap checks shared by the three JVM engines.
fn jvm_heap(v: &mut View<'_, '_>, min_key: &'static str, max_key: &'static str, extra: Option<(&'static str, &str)>) {
    let heap = v.bytes(max_key).unwrap_or(0);
    // Memory outside the heap that the budget counts too (Neo4j's page cache).
    let (extra_bytes, extra_what) = match extra {
        Some((key, what)) => {
            let bytes = v.bytes(key).unwrap_or(0);
            (bytes, format!(" plus {what} ({})", gb(bytes)))
        }
        None => (0, String::new()),
    };
    if heap + extra_bytes > v.memory {
        let keys: Vec<&'static str> = std::iter::once(max_key).chain(extra.map(|(key, _)| key)).collect();
        v.error(
            "memory-budget",
            format!("the JVM heap ({}){extra_what} is more than the instance's {}", gb(heap), gb(v.memory)),
            &keys,
        );
    }
    if heap > 31 << 30 {
        v.warn(
            "memory-budget",
            format!("a JVM heap of {} is above ~31GB, where compressed object pointers stop working", gb(heap)),
            &[max_key],
        );
    }
    if let (Some(min), Some(max)) = (v.bytes(min_key), v.bytes(max_key)) {
        if min > max {
            v.error(
                "combination",
                format!(
                    "the initial heap ({}) is larger than the maximum ({}); the JVM will not start",
                    gb(min),
                    gb(max)
                ),
                &[min_key, max_key],
            );
        } else if min != max && v.is_set(min_key) {
            v.warn(
                "combination",
                format!(
                    "initial heap ({}) and maximum heap ({}) differ; set them equal to avoid resize pauses",
                    gb(min),
                    gb(max)
                ),
                &[min_key, max_key],
            );
        }
    }
}

fn elasticsearch(v: &mut View<'_, '_>) {
    jvm_heap(v, "jvm.heap.min", "jvm.heap.max", None);
    if let Some(heap) = v.bytes("jvm.heap.max")
        && heap > v.memory / 2
    {
        v.warn(
            "memory-budget",
            format!(
                "the heap ({}) is more than half of {}; Lucene needs the rest for the file system cache",
                gb(heap),
                gb(v.memory)
            ),
            &["jvm.heap.max"],
        );
    }
    if v.flag("xpack.security.enabled") == Some(false) && v.flag("xpack.security.http.ssl.enabled") == Some(true) {
        v.error(
            "combination",
            "xpack.security.http.ssl.enabled needs xpack.security.enabled".into(),
            &["xpack.security.http.ssl.enabled", "xpack.security.enabled"],
        );
    }
    if v.text("discovery.type").as_deref() == Some("single-node") && v.is_set("cluster.initial_master_nodes") {
        v.error(
            "combination",
            "discovery.type single-node cannot be combined with cluster.initial_master_nodes; the node will not start"
                .into(),
            &["discovery.type", "cluster.initial_master_nodes"],
        );
    }
}

fn neo4j(v: &mut View<'_, '_>) {
    jvm_heap(
        v,
        "server.memory.heap.initial_size",
        "server.memory.heap.max_size",
        Some(("server.memory.pagecache.size", "the page cache")),
    );
}

fn cassandra(v: &mut View<'_, '_>) {
    jvm_heap(v, "jvm.heap.min", "jvm.heap.max", None);
    if v.text("commitlog_sync").as_deref() == Some("batch") && v.is_set("commitlog_sync_period") {
        v.error(
            "combination",
            "commitlog_sync batch does not take commitlog_sync_period; Cassandra refuses to start".into(),
            &["commitlog_sync_period", "commitlog_sync"],
        );
    }
    if v.text("commitlog_sync").as_deref() == Some("periodic")
        && !v.is_set("commitlog_sync_period")
        && v.is_set("commitlog_sync")
    {
        v.error("combination", "commitlog_sync periodic needs commitlog_sync_period".into(), &["commitlog_sync"]);
    }
    if v.text("commitlog_sync").as_deref() == Some("group") {
        if !v.is_set("commitlog_sync_group_window") {
            v.error(
                "combination",
                "commitlog_sync group needs commitlog_sync_group_window; Cassandra refuses to start".into(),
                &["commitlog_sync"],
            );
        }
        if v.is_set("commitlog_sync_period") {
            v.error(
                "combination",
                "commitlog_sync group does not take commitlog_sync_period; Cassandra refuses to start".into(),
                &["commitlog_sync_period", "commitlog_sync"],
            );
        }
    }
    if v.text("authenticator").is_some_and(|a| a.contains("AllowAll"))
        && v.text("authorizer").is_some_and(|a| a.contains("CassandraAuthorizer"))
    {
        v.error(
            "combination",
            "CassandraAuthorizer needs an authenticator other than AllowAllAuthenticator".into(),
            &["authorizer", "authenticator"],
        );
    }
    if let Some(tokens) = v.int("num_tokens")
        && tokens > 256
    {
        v.warn(
            "combination",
            format!("num_tokens {tokens} slows repairs and streaming; 16 is the current recommendation"),
            &["num_tokens"],
        );
    }
    if let Some(compactors) = v.int("concurrent_compactors")
        && compactors > v.cpus
    {
        v.warn(
            "combination",
            format!("concurrent_compactors ({compactors}) exceeds the instance's {} CPUs", v.cpus),
            &["concurrent_compactors"],
        );
    }
}

/// Tenant-scope budgets: per-query memory against the tier's memory limit.
fn tenant(v: &mut View<'_, '_>, fleet: &Fleet) {
    let Some(limit) = fleet.spec.tiers[&v.v.info.tier]
        .limits
        .memory
        .as_deref()
        .and_then(|m| dbfleet_model::units::parse_size(m).ok())
    else {
        return;
    };
    let key: &'static str = match v.v.info.engine {
        EngineKind::Postgresql => "work_mem",
        EngineKind::Clickhouse => "max_memory_usage",
        _ => return,
    };
    if let Some(mem) = v.bytes(key).filter(|_| v.is_set(key))
        && mem > limit as i64
    {
        v.error(
            "tier-limit",
            format!("{key} ({}) is more than tier {}'s memory limit ({})", gb(mem), v.v.info.tier, gb(limit as i64)),
            &[key],
        );
    }
}
