//! Validation as data: each case is a real-world mistake in one engine's
//! settings, and the diagnostic (code and line) `dbfleet validate` must
//! report for it. Every case runs the real binary on a one-instance fleet.

use dbfleet_model::EngineKind;

use crate::harness::TestFleet;

/// One mistake.
pub(crate) struct Case {
    pub(crate) name: &'static str,
    pub(crate) engine: EngineKind,
    /// The instance's version.
    pub(crate) version: &'static str,
    /// Lines under `instance:` in `layers/base/<engine>.yaml` (line 2 on).
    pub(crate) instance: &'static str,
    /// Lines under `tenant:` (after the instance lines), if any.
    pub(crate) tenant: &'static str,
    /// The diagnostic code expected.
    pub(crate) code: &'static str,
    /// The line of `layers/base/<engine>.yaml` it must point at; 0 for
    /// "at the instance in the inventory".
    pub(crate) line: u32,
    /// A fragment of the message.
    pub(crate) message: &'static str,
}

/// Writes a fleet with one staging pool instance of `engine` (16GB, 4 CPUs)
/// and one tenant on it, with `instance` and `tenant` as its base layer.
pub(crate) fn fleet_for(engine: EngineKind, version: &str, instance: &str, tenant: &str) -> TestFleet {
    let major: String =
        version.split('.').take(if engine == EngineKind::Postgresql { 1 } else { 2 }).collect::<Vec<_>>().join(".");
    let major = match engine {
        EngineKind::Elasticsearch | EngineKind::Neo4j => version.split('.').next().unwrap().to_string(),
        _ => major,
    };
    let fleet = TestFleet::new(&[]);
    fleet.write(
        "fleet.yaml",
        &format!(
            "name: v\nengines:\n  {engine}: {{versions: [\"{major}\"]}}\nenvironments:\n  staging: {{}}\ntiers:\n  premium:\n    placement: shared\n    limits: {{connections: 10, storage: 1GB}}\nworkloads:\n  mixed: {{}}\n"
        ),
    );
    let mut base = String::from("instance:\n");
    base.push_str(instance);
    if !tenant.is_empty() {
        base.push_str("tenant:\n");
        base.push_str(tenant);
    }
    fleet.write(&format!("layers/base/{engine}.yaml"), &base);
    fleet.write(
        "inventory.yaml",
        &format!("i-1:\n  engine: {engine}\n  version: \"{version}\"\n  environment: staging\n  pool: {{tier: premium}}\n  address: 127.0.0.1:1\n  hardware: {{memory: 16GB, cpus: 4}}\n"),
    );
    fleet.write("tenants/t.yaml", &format!("tier: premium\nworkload: mixed\nregion: x\nengines:\n  {engine}: i-1\n"));
    fleet
}

fn check(case: &Case) -> Option<String> {
    let fleet = fleet_for(case.engine, case.version, case.instance, case.tenant);
    let run = fleet.run(&["--format", "json", "validate"]);
    let v: serde_json::Value = match serde_json::from_str(&run.stdout) {
        Ok(v) => v,
        Err(_) => return Some(format!("{}: no JSON (exit {}):\n{}", case.name, run.code, run.stderr)),
    };
    let diags = v["diagnostics"].as_array().cloned().unwrap_or_default();
    let file = format!("layers/base/{}.yaml", case.engine);
    let found = diags.iter().any(|d| {
        let at_line = if case.line == 0 {
            d["location"]["file"] == "inventory.yaml"
        } else {
            d["location"]["file"] == file.as_str() && d["location"]["line"] == case.line
        };
        d["code"] == case.code && at_line && d["message"].as_str().is_some_and(|m| m.contains(case.message))
    });
    if found {
        None
    } else {
        Some(format!(
            "{}: expected [{}] `{}` at line {}, got:\n{}",
            case.name,
            case.code,
            case.message,
            case.line,
            serde_json::to_string_pretty(&diags).unwrap()
        ))
    }
}

/// Runs every case and reports all failures at once.
pub(crate) fn run_cases(cases: &[Case]) {
    let failures: Vec<String> = cases.iter().filter_map(check).collect();
    assert!(failures.is_empty(), "{} of {} cases failed:\n\n{}", failures.len(), cases.len(), failures.join("\n\n"));
}

use EngineKind::*;

const POSTGRESQL: &[Case] = &[
    // Names.
    Case {
        name: "typo",
        engine: Postgresql,
        version: "16.4",
        instance: "  shared_bufers: 1GB\n",
        tenant: "",
        code: "unknown-parameter",
        line: 2,
        message: "unknown postgresql parameter `shared_bufers`, did you mean `shared_buffers`?",
    },
    Case {
        name: "pre-13 name, suggests its replacement",
        engine: Postgresql,
        version: "15.8",
        instance: "  max_connections: 200\n  wal_keep_segments: 64\n",
        tenant: "",
        code: "unknown-parameter",
        line: 3,
        message: "unknown postgresql parameter `wal_keep_segments`, did you mean `wal_keep_size`?",
    },
    Case {
        name: "old alias",
        engine: Postgresql,
        version: "16.4",
        instance: "  sort_mem: 8MB\n",
        tenant: "",
        code: "deprecated-name",
        line: 2,
        message: "`sort_mem` is an old name of `work_mem`; write `work_mem`",
    },
    Case {
        name: "read-only (initdb-time)",
        engine: Postgresql,
        version: "16.4",
        instance: "  wal_segment_size: 64MB\n",
        tenant: "",
        code: "read-only",
        line: 2,
        message: "`wal_segment_size` is reported by the server but cannot be set",
    },
    // Versions.
    Case {
        name: "removed",
        engine: Postgresql,
        version: "16.4",
        instance: "  vacuum_defer_cleanup_age: 10\n",
        tenant: "",
        code: "version",
        line: 2,
        message: "`vacuum_defer_cleanup_age` was removed after postgresql 15",
    },
    Case {
        name: "removed, with replacement",
        engine: Postgresql,
        version: "16.4",
        instance: "  force_parallel_mode: on\n",
        tenant: "",
        code: "version",
        line: 2,
        message: "`force_parallel_mode` was removed after postgresql 15, and this instance runs a newer version; use `debug_parallel_query` instead",
    },
    Case {
        name: "removed in 17",
        engine: Postgresql,
        version: "17.2",
        instance: "  old_snapshot_threshold: 1h\n",
        tenant: "",
        code: "version",
        line: 2,
        message: "`old_snapshot_threshold` was removed after postgresql 16",
    },
    Case {
        name: "only in 17",
        engine: Postgresql,
        version: "16.4",
        instance: "  transaction_timeout: 5min\n",
        tenant: "",
        code: "version",
        line: 2,
        message: "`transaction_timeout` exists from postgresql 17 on, and this instance runs an older version",
    },
    Case {
        name: "only in 16",
        engine: Postgresql,
        version: "15.8",
        instance: "  reserved_connections: 5\n",
        tenant: "",
        code: "version",
        line: 2,
        message: "`reserved_connections` exists from postgresql 16 on",
    },
    // Values.
    Case {
        name: "unit",
        engine: Postgresql,
        version: "16.4",
        instance: "  work_mem: 64XB\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "invalid value for `work_mem`: unknown unit `XB`",
    },
    Case {
        name: "unit typo",
        engine: Postgresql,
        version: "16.4",
        instance: "  shared_buffers: 512MG\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "invalid value for `shared_buffers`: unknown unit `MG` in `512MG`",
    },
    Case {
        name: "duration over max",
        engine: Postgresql,
        version: "16.4",
        instance: "  checkpoint_timeout: 2d\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "invalid value for `checkpoint_timeout`: `2d` is out of range: must be between 30s and 1d",
    },
    Case {
        name: "int over max",
        engine: Postgresql,
        version: "17.2",
        instance: "  effective_io_concurrency: 2000\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "invalid value for `effective_io_concurrency`: `2000` is out of range: must be between 0 and 1000",
    },
    Case {
        name: "real over max",
        engine: Postgresql,
        version: "16.4",
        instance: "  checkpoint_completion_target: 1.5\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "invalid value for `checkpoint_completion_target`: `1.5` is out of range: must be between 0 and 1",
    },
    Case {
        name: "not an integer",
        engine: Postgresql,
        version: "16.4",
        instance: "  max_connections: 100k\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "invalid value for `max_connections`: `100k` is not an integer",
    },
    Case {
        name: "boolean no longer accepted (14+)",
        engine: Postgresql,
        version: "16.4",
        instance: "  password_encryption: on\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "invalid value for `password_encryption`: `on` is not one of md5, scram-sha-256",
    },
    Case {
        name: "enum typo",
        engine: Postgresql,
        version: "16.4",
        instance: "  wal_level: replca\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "`replca` is not one of minimal, replica, logical; did you mean `replica`?",
    },
    // Scope.
    Case {
        name: "instance-only in tenant scope",
        engine: Postgresql,
        version: "16.4",
        instance: "  max_connections: 200\n",
        tenant: "  shared_buffers: 1GB\n",
        code: "scope",
        line: 4,
        message: "`shared_buffers` can only be set for the whole instance, not in tenant scope",
    },
    // Budgets.
    Case {
        name: "work_mem x connections over RAM",
        engine: Postgresql,
        version: "16.4",
        instance: "  work_mem: 256MB\n",
        tenant: "",
        code: "memory-budget",
        line: 2,
        message: "max_connections (100) x work_mem (256MB) + autovacuum_max_workers (3) x maintenance_work_mem (64MB) = 25920MB, more than the instance's 16GB",
    },
    Case {
        name: "shared_buffers over half",
        engine: Postgresql,
        version: "16.4",
        instance: "  shared_buffers: 10GB\n  effective_cache_size: 12GB\n",
        tenant: "",
        code: "memory-budget",
        line: 2,
        message: "shared_buffers (10GB) is more than half of the instance's 16GB",
    },
    // Combinations.
    Case {
        name: "min_wal_size > max_wal_size",
        engine: Postgresql,
        version: "16.4",
        instance: "  min_wal_size: 4GB\n  max_wal_size: 2GB\n",
        tenant: "",
        code: "combination",
        line: 2,
        message: "min_wal_size (4GB) is larger than max_wal_size (2GB)",
    },
    Case {
        name: "archive_mode with wal_level minimal",
        engine: Postgresql,
        version: "16.4",
        instance: "  wal_level: minimal\n  archive_mode: on\n  archive_command: \"cp %p /archive/%f\"\n  max_wal_senders: 0\n",
        tenant: "",
        code: "combination",
        line: 3,
        message: "archive_mode needs wal_level replica or logical",
    },
    Case {
        name: "wal_level minimal with default max_wal_senders",
        engine: Postgresql,
        version: "16.4",
        instance: "  wal_level: minimal\n",
        tenant: "",
        code: "combination",
        line: 2,
        message: "max_wal_senders > 0 needs wal_level replica or logical",
    },
    Case {
        name: "reserved >= max_connections",
        engine: Postgresql,
        version: "15.8",
        instance: "  max_connections: 5\n  superuser_reserved_connections: 5\n",
        tenant: "",
        code: "combination",
        line: 3,
        message: "superuser_reserved_connections (5) must be less than max_connections (5)",
    },
    Case {
        name: "both reserved pools >= max_connections (16+)",
        engine: Postgresql,
        version: "16.4",
        instance: "  max_connections: 20\n  reserved_connections: 15\n  superuser_reserved_connections: 5\n",
        tenant: "",
        code: "combination",
        line: 4,
        message: "superuser_reserved_connections (5) plus reserved_connections (15) must be less than max_connections (20)",
    },
    Case {
        name: "per-gather over max_parallel_workers",
        engine: Postgresql,
        version: "16.4",
        instance: "  max_parallel_workers_per_gather: 16\n  max_parallel_workers: 8\n",
        tenant: "",
        code: "combination",
        line: 2,
        message: "max_parallel_workers_per_gather (16) exceeds max_parallel_workers (8)",
    },
    Case {
        name: "parallel workers over worker processes",
        engine: Postgresql,
        version: "16.4",
        instance: "  max_parallel_workers: 16\n  max_worker_processes: 8\n",
        tenant: "",
        code: "combination",
        line: 2,
        message: "max_parallel_workers (16) exceeds max_worker_processes (8)",
    },
    Case {
        name: "archive_mode without a command",
        engine: Postgresql,
        version: "16.4",
        instance: "  archive_mode: on\n",
        tenant: "",
        code: "combination",
        line: 2,
        message: "archive_mode is on but neither archive_command nor archive_library is set",
    },
    Case {
        name: "effective_cache_size under shared_buffers",
        engine: Postgresql,
        version: "16.4",
        instance: "  shared_buffers: 6GB\n",
        tenant: "",
        code: "combination",
        line: 2,
        message: "effective_cache_size (4GB) is smaller than shared_buffers (6GB)",
    },
    Case {
        name: "autovacuum off",
        engine: Postgresql,
        version: "16.4",
        instance: "  autovacuum: off\n",
        tenant: "",
        code: "dangerous",
        line: 2,
        message: "autovacuum is off",
    },
    Case {
        name: "fsync off",
        engine: Postgresql,
        version: "16.4",
        instance: "  fsync: off\n",
        tenant: "",
        code: "dangerous",
        line: 2,
        message: "fsync is off: a crash can corrupt the cluster",
    },
    Case {
        name: "fsync and full_page_writes off",
        engine: Postgresql,
        version: "16.4",
        instance: "  fsync: off\n  full_page_writes: off\n",
        tenant: "",
        code: "dangerous",
        line: 2,
        message: "fsync is off: a crash can corrupt the cluster",
    },
];

const REDIS: &[Case] = &[
    // Names.
    Case {
        name: "typo",
        engine: Redis,
        version: "7.2.4",
        instance: "  maxmemroy: 4gb\n",
        tenant: "",
        code: "unknown-parameter",
        line: 2,
        message: "unknown redis parameter `maxmemroy`, did you mean `maxmemory`?",
    },
    Case {
        name: "old alias slaveof",
        engine: Redis,
        version: "7.2.4",
        instance: "  slaveof: 10.0.0.1 6379\n",
        tenant: "",
        code: "deprecated-name",
        line: 2,
        message: "`slaveof` is an old name of `replicaof`; write `replicaof`",
    },
    Case {
        name: "old alias min-slaves-to-write",
        engine: Redis,
        version: "7.0.15",
        instance: "  min-slaves-to-write: 1\n",
        tenant: "",
        code: "deprecated-name",
        line: 2,
        message: "`min-slaves-to-write` is an old name of `min-replicas-to-write`",
    },
    // Versions.
    Case {
        name: "removed in 7.0",
        engine: Redis,
        version: "7.2.4",
        instance: "  gopher-enabled: no\n",
        tenant: "",
        code: "version",
        line: 2,
        message: "`gopher-enabled` was removed after redis 6.2",
    },
    Case {
        name: "only in 7.0",
        engine: Redis,
        version: "6.2.14",
        instance: "  busy-reply-threshold: 5000\n",
        tenant: "",
        code: "version",
        line: 2,
        message: "`busy-reply-threshold` exists from redis 7.0 on, and this instance runs an older version",
    },
    Case {
        name: "7.0 shutdown option on 6.2",
        engine: Redis,
        version: "6.2.14",
        instance: "  shutdown-on-sigterm: save\n",
        tenant: "",
        code: "version",
        line: 2,
        message: "`shutdown-on-sigterm` exists from redis 7.0 on",
    },
    Case {
        name: "only in 7.2",
        engine: Redis,
        version: "7.0.15",
        instance: "  set-max-listpack-entries: 128\n",
        tenant: "",
        code: "version",
        line: 2,
        message: "`set-max-listpack-entries` exists from redis 7.2 on",
    },
    // Values.
    Case {
        name: "unit typo",
        engine: Redis,
        version: "7.2.4",
        instance: "  maxmemory: 512MG\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "invalid value for `maxmemory`: unknown unit `MG` in `512MG`",
    },
    Case {
        name: "no terabyte unit",
        engine: Redis,
        version: "7.2.4",
        instance: "  repl-backlog-size: 1t\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "invalid value for `repl-backlog-size`: unknown unit `t` in `1t`",
    },
    Case {
        name: "hz over max",
        engine: Redis,
        version: "7.2.4",
        instance: "  hz: 1000\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "invalid value for `hz`: `1000` is out of range: must be between 1 and 500",
    },
    Case {
        name: "no databases",
        engine: Redis,
        version: "7.2.4",
        instance: "  databases: 0\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "invalid value for `databases`: `0` is out of range: must be at least 1",
    },
    Case {
        name: "PostgreSQL-style boolean",
        engine: Redis,
        version: "7.2.4",
        instance: "  appendonly: \"on\"\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "invalid value for `appendonly`: `on` is not a boolean (yes, no)",
    },
    Case {
        name: "timeout in milliseconds",
        engine: Redis,
        version: "7.2.4",
        instance: "  timeout: 1500ms\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "invalid value for `timeout`: `1500ms` is not a whole number of s",
    },
    Case {
        name: "not an integer",
        engine: Redis,
        version: "7.2.4",
        instance: "  maxclients: lots\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "invalid value for `maxclients`: `lots` is not an integer",
    },
    Case {
        name: "enum typo",
        engine: Redis,
        version: "7.2.4",
        instance: "  appendfsync: everysecond\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "`everysecond` is not one of everysec, always, no; did you mean `everysec`?",
    },
    Case {
        name: "policy with underscore",
        engine: Redis,
        version: "7.0.15",
        instance: "  maxmemory-policy: allkeys_lru\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "`allkeys_lru` is not one of volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction; did you mean `allkeys-lru`?",
    },
    // Scope and secrets.
    Case {
        name: "server setting in tenant scope",
        engine: Redis,
        version: "7.2.4",
        instance: "  maxmemory: 4gb\n",
        tenant: "  maxmemory: 1gb\n",
        code: "scope",
        line: 4,
        message: "`maxmemory` can only be set for the whole instance, not in tenant scope",
    },
    Case {
        name: "plaintext requirepass",
        engine: Redis,
        version: "7.2.4",
        instance: "  requirepass: hunter2\n",
        tenant: "",
        code: "plaintext-secret",
        line: 2,
        message: "`requirepass` holds a secret: write it as {$secret: REF}",
    },
    Case {
        name: "plaintext masterauth",
        engine: Redis,
        version: "7.2.4",
        instance: "  replicaof: 10.0.0.1 6379\n  masterauth: hunter2\n",
        tenant: "",
        code: "plaintext-secret",
        line: 3,
        message: "`masterauth` holds a secret",
    },
    // Budgets.
    Case {
        name: "maxmemory over RAM",
        engine: Redis,
        version: "7.2.4",
        instance: "  maxmemory: 32gb\n",
        tenant: "",
        code: "memory-budget",
        line: 2,
        message: "maxmemory (32GB) is more than the instance's 16GB",
    },
    Case {
        name: "maxmemory leaves no room to fork",
        engine: Redis,
        version: "7.2.4",
        instance: "  maxmemory: 15gb\n",
        tenant: "",
        code: "memory-budget",
        line: 2,
        message: "maxmemory (15GB) leaves less than 10% of 16GB for forks",
    },
    // Combinations.
    Case {
        name: "eviction policy without maxmemory",
        engine: Redis,
        version: "7.2.4",
        instance: "  maxmemory-policy: allkeys-lru\n",
        tenant: "",
        code: "combination",
        line: 2,
        message: "maxmemory-policy evicts keys, but maxmemory is 0 (unlimited)",
    },
    Case {
        name: "open to the world",
        engine: Redis,
        version: "7.2.4",
        instance: "  protected-mode: no\n  bind: 0.0.0.0\n",
        tenant: "",
        code: "dangerous",
        line: 2,
        message: "protected-mode is off, the server listens on all interfaces, and there is no requirepass",
    },
    Case {
        name: "no persistence at all",
        engine: Redis,
        version: "7.2.4",
        instance: "  appendonly: no\n  save: \"\"\n",
        tenant: "",
        code: "dangerous",
        line: 2,
        message: "appendonly is off and save is empty",
    },
    Case {
        name: "io-threads over CPUs",
        engine: Redis,
        version: "7.2.4",
        instance: "  io-threads: 8\n",
        tenant: "",
        code: "combination",
        line: 2,
        message: "io-threads (8) exceeds the instance's 4 CPUs",
    },
];

const MONGODB: &[Case] = &[
    // Names.
    Case {
        name: "case typo",
        engine: Mongodb,
        version: "7.0.14",
        instance: "  net:\n    bindIP: 127.0.0.1\n",
        tenant: "",
        code: "unknown-parameter",
        line: 3,
        message: "unknown mongodb parameter `net.bindIP`, did you mean `net.bindIp`?",
    },
    Case {
        name: "server parameter typo",
        engine: Mongodb,
        version: "8.0.3",
        instance: "  setParameter:\n    cursorTimeoutMS: 600000\n",
        tenant: "",
        code: "unknown-parameter",
        line: 3,
        message: "unknown mongodb parameter `setParameter.cursorTimeoutMS`, did you mean `setParameter.cursorTimeoutMillis`?",
    },
    Case {
        name: "missing section",
        engine: Mongodb,
        version: "7.0.14",
        instance: "  authorization: enabled\n",
        tenant: "",
        code: "unknown-parameter",
        line: 2,
        message: "unknown mongodb parameter `authorization`",
    },
    // Versions.
    Case {
        name: "journal option removed in 6.1",
        engine: Mongodb,
        version: "7.0.14",
        instance: "  storage:\n    journal:\n      enabled: true\n",
        tenant: "",
        code: "version",
        line: 4,
        message: "`storage.journal.enabled` was removed after mongodb 6.0, and this instance runs a newer version",
    },
    Case {
        name: "only in 8.0",
        engine: Mongodb,
        version: "7.0.14",
        instance: "  auditLog.schema: OCSF\n",
        tenant: "",
        code: "version",
        line: 2,
        message: "`auditLog.schema` exists from mongodb 8.0 on",
    },
    Case {
        name: "only in 7.0",
        engine: Mongodb,
        version: "6.0.16",
        instance: "  setParameter.planCacheSize: 10%\n",
        tenant: "",
        code: "version",
        line: 2,
        message: "`setParameter.planCacheSize` exists from mongodb 7.0 on",
    },
    // Values.
    Case {
        name: "cache size with a unit",
        engine: Mongodb,
        version: "7.0.14",
        instance: "  storage.wiredTiger.engineConfig.cacheSizeGB: 8GB\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "invalid value for `storage.wiredTiger.engineConfig.cacheSizeGB`: `8GB` is not a number",
    },
    Case {
        name: "oplog under minimum",
        engine: Mongodb,
        version: "7.0.14",
        instance: "  replication:\n    replSetName: rs0\n    oplogSizeMB: 512\n",
        tenant: "",
        code: "invalid-value",
        line: 4,
        message: "invalid value for `replication.oplogSizeMB`: `512` is out of range: must be between 990 and 1073741824",
    },
    Case {
        name: "sample rate as percent",
        engine: Mongodb,
        version: "7.0.14",
        instance: "  operationProfiling.slowOpSampleRate: 50\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "invalid value for `operationProfiling.slowOpSampleRate`: `50` is out of range: must be between 0 and 1",
    },
    Case {
        name: "verbosity over max",
        engine: Mongodb,
        version: "8.0.3",
        instance: "  systemLog.verbosity: 7\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "invalid value for `systemLog.verbosity`: `7` is out of range: must be between 0 and 5",
    },
    Case {
        name: "authorization as a boolean",
        engine: Mongodb,
        version: "7.0.14",
        instance: "  security:\n    authorization: true\n",
        tenant: "",
        code: "invalid-value",
        line: 3,
        message: "invalid value for `security.authorization`: `true` is not one of enabled, disabled",
    },
    Case {
        name: "engine removed in 4.2",
        engine: Mongodb,
        version: "6.0.16",
        instance: "  storage.engine: mmapv1\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "invalid value for `storage.engine`: `mmapv1` is not one of wiredTiger, inMemory",
    },
    Case {
        name: "old SSL spelling of the TLS mode",
        engine: Mongodb,
        version: "7.0.14",
        instance: "  net.tls.mode: requireSSL\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "`requireSSL` is not one of disabled, allowTLS, preferTLS, requireTLS; did you mean `requireTLS`?",
    },
    // Scope and secrets.
    Case {
        name: "server option in tenant scope",
        engine: Mongodb,
        version: "7.0.14",
        instance: "  net.port: 27017\n",
        tenant: "  net:\n    port: 27018\n",
        code: "scope",
        line: 5,
        message: "`net.port` can only be set for the whole instance, not in tenant scope",
    },
    Case {
        name: "plaintext key file password",
        engine: Mongodb,
        version: "7.0.14",
        instance: "  net.tls.certificateKeyFilePassword: s3cret\n",
        tenant: "",
        code: "plaintext-secret",
        line: 2,
        message: "`net.tls.certificateKeyFilePassword` holds a secret",
    },
    Case {
        name: "plaintext LDAP bind password",
        engine: Mongodb,
        version: "8.0.3",
        instance: "  security.ldap.bind.queryPassword: s3cret\n",
        tenant: "",
        code: "plaintext-secret",
        line: 2,
        message: "`security.ldap.bind.queryPassword` holds a secret",
    },
    // Budgets.
    Case {
        name: "cache over RAM",
        engine: Mongodb,
        version: "7.0.14",
        instance: "  storage.wiredTiger.engineConfig.cacheSizeGB: 24\n",
        tenant: "",
        code: "memory-budget",
        line: 2,
        message: "storage.wiredTiger.engineConfig.cacheSizeGB (24) is more than the instance's 16GB",
    },
    Case {
        name: "cache leaves too little",
        engine: Mongodb,
        version: "7.0.14",
        instance: "  storage.wiredTiger.engineConfig.cacheSizeGB: 14\n",
        tenant: "",
        code: "memory-budget",
        line: 2,
        message: "the WiredTiger cache (14 GB) leaves little of 16GB",
    },
    // Combinations.
    Case {
        name: "all interfaces, default no auth",
        engine: Mongodb,
        version: "7.0.14",
        instance: "  net.bindIp: 0.0.0.0\n",
        tenant: "",
        code: "dangerous",
        line: 2,
        message: "mongod listens on all interfaces with security.authorization disabled",
    },
    Case {
        name: "bindIpAll, default no auth",
        engine: Mongodb,
        version: "7.0.14",
        instance: "  net.port: 27017\n  net.bindIpAll: true\n",
        tenant: "",
        code: "dangerous",
        line: 3,
        message: "mongod listens on all interfaces with security.authorization disabled",
    },
    Case {
        name: "all IPv6 interfaces, auth disabled",
        engine: Mongodb,
        version: "8.0.3",
        instance: "  net.bindIp: \"127.0.0.1, ::\"\n  security.authorization: disabled\n",
        tenant: "",
        code: "dangerous",
        line: 3,
        message: "mongod listens on all interfaces with security.authorization disabled",
    },
    Case {
        name: "requireTLS without a certificate",
        engine: Mongodb,
        version: "7.0.14",
        instance: "  net.tls.mode: requireTLS\n  net.tls.CAFile: /etc/ssl/ca.pem\n",
        tenant: "",
        code: "combination",
        line: 2,
        message: "net.tls.mode requireTLS needs net.tls.certificateKeyFile",
    },
];

const CLICKHOUSE: &[Case] = &[
    // Names.
    Case {
        name: "typo",
        engine: Clickhouse,
        version: "24.8.4",
        instance: "  max_memory_usgae: 10Gi\n",
        tenant: "",
        code: "unknown-parameter",
        line: 2,
        message: "unknown clickhouse parameter `max_memory_usgae`, did you mean `max_memory_usage`?",
    },
    // Versions.
    Case {
        name: "removed, with replacement",
        engine: Clickhouse,
        version: "24.8.4",
        instance: "  max_memory_usage_for_all_queries: 12Gi\n",
        tenant: "",
        code: "version",
        line: 2,
        message: "`max_memory_usage_for_all_queries` was removed after clickhouse 18.16, and this instance runs a newer version; use `max_server_memory_usage` instead",
    },
    Case {
        name: "removed",
        engine: Clickhouse,
        version: "24.8.4",
        instance: "  compile: 1\n",
        tenant: "",
        code: "version",
        line: 2,
        message: "`compile` was removed after clickhouse 18.16",
    },
    Case {
        name: "server memory limit on 18.16",
        engine: Clickhouse,
        version: "18.16.1",
        instance: "  max_server_memory_usage: 12Gi\n",
        tenant: "",
        code: "version",
        line: 2,
        message: "`max_server_memory_usage` exists from clickhouse 24.3 on, and this instance runs an older version",
    },
    Case {
        name: "async inserts on 18.16",
        engine: Clickhouse,
        version: "18.16.1",
        instance: "  async_insert: 1\n",
        tenant: "",
        code: "version",
        line: 2,
        message: "`async_insert` exists from clickhouse 24.3 on",
    },
    Case {
        name: "only in 24.8",
        engine: Clickhouse,
        version: "24.3.5",
        instance: "  lightweight_deletes_sync: 2\n",
        tenant: "",
        code: "version",
        line: 2,
        message: "`lightweight_deletes_sync` exists from clickhouse 24.8 on",
    },
    // Values.
    Case {
        name: "GB is not a ClickHouse unit",
        engine: Clickhouse,
        version: "24.8.4",
        instance: "  max_memory_usage: 10GB\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "invalid value for `max_memory_usage`: unknown unit `GB` in `10GB`",
    },
    Case {
        name: "readonly over max",
        engine: Clickhouse,
        version: "24.8.4",
        instance: "  readonly: 3\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "invalid value for `readonly`: `3` is out of range: must be between 0 and 2",
    },
    Case {
        name: "compression level over max",
        engine: Clickhouse,
        version: "18.16.1",
        instance: "  http_zlib_compression_level: 12\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "invalid value for `http_zlib_compression_level`: `12` is out of range: must be between 1 and 9",
    },
    Case {
        name: "yes is not a ClickHouse boolean",
        engine: Clickhouse,
        version: "24.8.4",
        instance: "  log_queries: yes\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "invalid value for `log_queries`: `yes` is not a boolean (1, 0, true, false)",
    },
    Case {
        name: "auto for a plain integer",
        engine: Clickhouse,
        version: "24.8.4",
        instance: "  max_insert_threads: auto\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "invalid value for `max_insert_threads`: `auto` is not an integer",
    },
    Case {
        name: "enum shorthand",
        engine: Clickhouse,
        version: "24.8.4",
        instance: "  load_balancing: nearest\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "`nearest` is not one of random, nearest_hostname, hostname_levenshtein_distance, in_order, first_or_random, round_robin; did you mean `nearest_hostname`?",
    },
    Case {
        name: "log level abbreviation",
        engine: Clickhouse,
        version: "24.8.4",
        instance: "  send_logs_level: info\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "`info` is not one of none, fatal, error, warning, information, debug, trace, test; did you mean `information`?",
    },
    // Scope and secrets.
    Case {
        name: "server memory limit in a profile",
        engine: Clickhouse,
        version: "24.8.4",
        instance: "  max_concurrent_queries: 100\n",
        tenant: "  max_server_memory_usage: 8Gi\n",
        code: "scope",
        line: 4,
        message: "`max_server_memory_usage` can only be set for the whole instance, not in tenant scope",
    },
    Case {
        name: "pool size in a profile",
        engine: Clickhouse,
        version: "24.8.4",
        instance: "  max_concurrent_queries: 100\n",
        tenant: "  max_threads: 8\n  background_pool_size: 32\n",
        code: "scope",
        line: 5,
        message: "`background_pool_size` can only be set for the whole instance",
    },
    Case {
        name: "plaintext interserver password",
        engine: Clickhouse,
        version: "24.8.4",
        instance: "  interserver_http_credentials.user: replicator\n  interserver_http_credentials.password: s3cret\n",
        tenant: "",
        code: "plaintext-secret",
        line: 3,
        message: "`interserver_http_credentials.password` holds a secret",
    },
    // Budgets.
    Case {
        name: "query memory over RAM",
        engine: Clickhouse,
        version: "24.8.4",
        instance: "  max_memory_usage: 20Gi\n",
        tenant: "",
        code: "memory-budget",
        line: 2,
        message: "max_memory_usage per query (20GB) is more than the instance's 16GB",
    },
    Case {
        name: "query memory over server limit",
        engine: Clickhouse,
        version: "24.8.4",
        instance: "  max_server_memory_usage: 8Gi\n  max_memory_usage: 10Gi\n",
        tenant: "",
        code: "memory-budget",
        line: 3,
        message: "max_memory_usage per query (10GB) is more than max_server_memory_usage (8GB)",
    },
    Case {
        name: "server memory over RAM",
        engine: Clickhouse,
        version: "24.8.4",
        instance: "  max_server_memory_usage: 20Gi\n",
        tenant: "",
        code: "memory-budget",
        line: 2,
        message: "max_server_memory_usage (20GB) is more than the instance's 16GB",
    },
    // Combinations.
    Case {
        name: "query limit over user limit",
        engine: Clickhouse,
        version: "24.8.4",
        instance: "  max_memory_usage_for_user: 4Gi\n  max_memory_usage: 8Gi\n",
        tenant: "",
        code: "combination",
        line: 3,
        message: "max_memory_usage (8GB) exceeds max_memory_usage_for_user (4GB)",
    },
];

const ELASTICSEARCH: &[Case] = &[
    // Names.
    Case {
        name: "typo",
        engine: Elasticsearch,
        version: "8.15.0",
        instance: "  discovery.seed_host: [es-1, es-2]\n",
        tenant: "",
        code: "unknown-parameter",
        line: 2,
        message: "unknown elasticsearch parameter `discovery.seed_host`, did you mean `discovery.seed_hosts`?",
    },
    // Versions.
    Case {
        name: "removed in 9",
        engine: Elasticsearch,
        version: "9.0.1",
        instance: "  cluster.routing.allocation.disk.watermark.enable_for_single_data_node: true\n",
        tenant: "",
        code: "version",
        line: 2,
        message: "`cluster.routing.allocation.disk.watermark.enable_for_single_data_node` was removed after elasticsearch 8, and this instance runs a newer version",
    },
    // Values.
    Case {
        name: "bandwidth unit",
        engine: Elasticsearch,
        version: "8.15.0",
        instance: "  indices.recovery.max_bytes_per_sec: 100mbps\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "invalid value for `indices.recovery.max_bytes_per_sec`: unknown unit `mbps` in `100mbps`",
    },
    Case {
        name: "no buckets",
        engine: Elasticsearch,
        version: "8.15.0",
        instance: "  search.max_buckets: 0\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "invalid value for `search.max_buckets`: `0` is out of range: must be at least 1",
    },
    Case {
        name: "queue size under -1",
        engine: Elasticsearch,
        version: "9.0.1",
        instance: "  thread_pool.write.queue_size: -2\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "invalid value for `thread_pool.write.queue_size`: `-2` is out of range: must be at least -1",
    },
    Case {
        name: "yes is not an Elasticsearch boolean",
        engine: Elasticsearch,
        version: "8.15.0",
        instance: "  bootstrap.memory_lock: yes\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "invalid value for `bootstrap.memory_lock`: `yes` is not a boolean (true, false)",
    },
    Case {
        name: "enum singular",
        engine: Elasticsearch,
        version: "8.15.0",
        instance: "  cluster.routing.allocation.enable: primary\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "`primary` is not one of all, primaries, new_primaries, none; did you mean `primaries`?",
    },
    Case {
        name: "enum with underscore",
        engine: Elasticsearch,
        version: "9.0.1",
        instance: "  discovery.type: single_node\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "`single_node` is not one of multi-node, single-node; did you mean `single-node`?",
    },
    Case {
        name: "paid license is not self-generated",
        engine: Elasticsearch,
        version: "8.15.0",
        instance: "  xpack.license.self_generated.type: platinum\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "invalid value for `xpack.license.self_generated.type`: `platinum` is not one of basic, trial",
    },
    // Scope and secrets.
    Case {
        name: "node setting in tenant scope",
        engine: Elasticsearch,
        version: "8.15.0",
        instance: "  cluster.name: acme\n",
        tenant: "  cluster.name: tenant-a\n",
        code: "scope",
        line: 4,
        message: "`cluster.name` can only be set for the whole instance, not in tenant scope",
    },
    Case {
        name: "plaintext keystore password",
        engine: Elasticsearch,
        version: "8.15.0",
        instance: "  xpack.security.http.ssl.keystore.path: certs/http.p12\n  xpack.security.http.ssl.keystore.secure_password: changeme\n",
        tenant: "",
        code: "plaintext-secret",
        line: 3,
        message: "`xpack.security.http.ssl.keystore.secure_password` holds a secret",
    },
    Case {
        name: "plaintext truststore password",
        engine: Elasticsearch,
        version: "9.0.1",
        instance: "  xpack.security.transport.ssl.truststore.secure_password: changeme\n",
        tenant: "",
        code: "plaintext-secret",
        line: 2,
        message: "`xpack.security.transport.ssl.truststore.secure_password` holds a secret",
    },
    // Budgets.
    Case {
        name: "heap over RAM",
        engine: Elasticsearch,
        version: "8.15.0",
        instance: "  jvm.heap.min: 24g\n  jvm.heap.max: 24g\n",
        tenant: "",
        code: "memory-budget",
        line: 3,
        message: "the JVM heap (24GB) is more than the instance's 16GB",
    },
    Case {
        name: "heap over half of RAM",
        engine: Elasticsearch,
        version: "8.15.0",
        instance: "  jvm.heap.min: 10g\n  jvm.heap.max: 10g\n",
        tenant: "",
        code: "memory-budget",
        line: 3,
        message: "the heap (10GB) is more than half of 16GB",
    },
    Case {
        name: "heap past compressed oops",
        engine: Elasticsearch,
        version: "9.0.1",
        instance: "  jvm.heap.max: 32g\n",
        tenant: "",
        code: "memory-budget",
        line: 2,
        message: "a JVM heap of 32GB is above ~31GB",
    },
    // Combinations.
    Case {
        name: "initial heap over max",
        engine: Elasticsearch,
        version: "8.15.0",
        instance: "  jvm.heap.min: 8g\n  jvm.heap.max: 4g\n",
        tenant: "",
        code: "combination",
        line: 2,
        message: "the initial heap (8GB) is larger than the maximum (4GB)",
    },
    Case {
        name: "initial heap differs",
        engine: Elasticsearch,
        version: "8.15.0",
        instance: "  jvm.heap.min: 2g\n  jvm.heap.max: 4g\n",
        tenant: "",
        code: "combination",
        line: 2,
        message: "initial heap (2GB) and maximum heap (4GB) differ",
    },
    Case {
        name: "HTTPS without security",
        engine: Elasticsearch,
        version: "9.0.1",
        instance: "  xpack.security.enabled: false\n  xpack.security.http.ssl.enabled: true\n",
        tenant: "",
        code: "combination",
        line: 3,
        message: "xpack.security.http.ssl.enabled needs xpack.security.enabled",
    },
    Case {
        name: "single node with bootstrap masters",
        engine: Elasticsearch,
        version: "8.15.0",
        instance: "  discovery.type: single-node\n  cluster.initial_master_nodes: [es-1]\n",
        tenant: "",
        code: "combination",
        line: 2,
        message: "discovery.type single-node cannot be combined with cluster.initial_master_nodes",
    },
];

const NEO4J: &[Case] = &[
    // Names.
    Case {
        name: "typo",
        engine: Neo4j,
        version: "5.24.0",
        instance: "  server.memory.pagecache.sise: 4g\n",
        tenant: "",
        code: "unknown-parameter",
        line: 2,
        message: "unknown neo4j parameter `server.memory.pagecache.sise`, did you mean `server.memory.pagecache.size`?",
    },
    Case {
        name: "4.x heap name",
        engine: Neo4j,
        version: "5.24.0",
        instance: "  dbms.memory.heap.max_size: 4g\n",
        tenant: "",
        code: "deprecated-name",
        line: 2,
        message: "`dbms.memory.heap.max_size` is an old name of `server.memory.heap.max_size`",
    },
    Case {
        name: "4.x connector name",
        engine: Neo4j,
        version: "5.24.0",
        instance: "  dbms.connector.bolt.listen_address: 0.0.0.0:7687\n",
        tenant: "",
        code: "deprecated-name",
        line: 2,
        message: "`dbms.connector.bolt.listen_address` is an old name of `server.bolt.listen_address`",
    },
    Case {
        name: "4.x read-only switch",
        engine: Neo4j,
        version: "5.24.0",
        instance: "  dbms.read_only: true\n",
        tenant: "",
        code: "deprecated-name",
        line: 2,
        message: "`dbms.read_only` is an old name of `server.databases.default_to_read_only`",
    },
    Case {
        name: "old and new name both set",
        engine: Neo4j,
        version: "5.24.0",
        instance: "  dbms.memory.heap.max_size: 4g\n  server.memory.heap.max_size: 4g\n",
        tenant: "",
        code: "duplicate",
        line: 3,
        message: "`server.memory.heap.max_size` is set twice, under two of its names",
    },
    // Values.
    Case {
        name: "unit typo",
        engine: Neo4j,
        version: "5.24.0",
        instance: "  server.memory.heap.initial_size: 512MG\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "invalid value for `server.memory.heap.initial_size`: unknown unit `MG` in `512MG`",
    },
    Case {
        name: "tx log rotation under minimum",
        engine: Neo4j,
        version: "5.24.0",
        instance: "  db.tx_log.rotation.size: 64KiB\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "invalid value for `db.tx_log.rotation.size`: `64KiB` is out of range: must be at least 128k",
    },
    Case {
        name: "percentage over 100",
        engine: Neo4j,
        version: "5.24.0",
        instance: "  db.transaction.sampling.percentage: 150\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "invalid value for `db.transaction.sampling.percentage`: `150` is out of range: must be between 1 and 100",
    },
    Case {
        name: "fewer databases than system + default",
        engine: Neo4j,
        version: "5.24.0",
        instance: "  dbms.max_databases: 1\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "invalid value for `dbms.max_databases`: `1` is out of range: must be at least 2",
    },
    Case {
        name: "no is not a Neo4j boolean",
        engine: Neo4j,
        version: "5.24.0",
        instance: "  dbms.security.auth_enabled: no\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "invalid value for `dbms.security.auth_enabled`: `no` is not a boolean (true, false)",
    },
    Case {
        name: "not an integer",
        engine: Neo4j,
        version: "5.24.0",
        instance: "  db.checkpoint.interval.tx: 100k\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "invalid value for `db.checkpoint.interval.tx`: `100k` is not an integer",
    },
    Case {
        name: "TLS level that does not exist",
        engine: Neo4j,
        version: "5.24.0",
        instance: "  server.bolt.tls_level: MANDATORY\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "invalid value for `server.bolt.tls_level`: `MANDATORY` is not one of REQUIRED, OPTIONAL, DISABLED",
    },
    Case {
        name: "rule planner removed in 4.0",
        engine: Neo4j,
        version: "5.24.0",
        instance: "  dbms.cypher.planner: RULE\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "invalid value for `dbms.cypher.planner`: `RULE` is not one of DEFAULT, COST",
    },
    // Scope and secrets.
    Case {
        name: "server setting in tenant scope",
        engine: Neo4j,
        version: "5.24.0",
        instance: "  db.transaction.timeout: 60s\n",
        tenant: "  db.transaction.timeout: 10s\n",
        code: "scope",
        line: 4,
        message: "`db.transaction.timeout` can only be set for the whole instance, not in tenant scope",
    },
    Case {
        name: "plaintext private key password",
        engine: Neo4j,
        version: "5.24.0",
        instance: "  dbms.ssl.policy.bolt.enabled: true\n  dbms.ssl.policy.bolt.private_key_password: changeit\n",
        tenant: "",
        code: "plaintext-secret",
        line: 3,
        message: "`dbms.ssl.policy.bolt.private_key_password` holds a secret",
    },
    // Budgets.
    Case {
        name: "heap plus page cache over RAM",
        engine: Neo4j,
        version: "5.24.0",
        instance: "  server.memory.heap.initial_size: 8g\n  server.memory.heap.max_size: 8g\n  server.memory.pagecache.size: 10g\n",
        tenant: "",
        code: "memory-budget",
        line: 3,
        message: "the JVM heap (8GB) plus the page cache (10GB) is more than the instance's 16GB",
    },
    Case {
        name: "page cache alone over RAM",
        engine: Neo4j,
        version: "5.24.0",
        instance: "  server.memory.pagecache.size: 20g\n",
        tenant: "",
        code: "memory-budget",
        line: 2,
        message: "plus the page cache (20GB) is more than the instance's 16GB",
    },
    Case {
        name: "heap past compressed oops",
        engine: Neo4j,
        version: "5.24.0",
        instance: "  server.memory.heap.max_size: 32g\n",
        tenant: "",
        code: "memory-budget",
        line: 2,
        message: "a JVM heap of 32GB is above ~31GB",
    },
    // Combinations.
    Case {
        name: "initial heap over max",
        engine: Neo4j,
        version: "5.24.0",
        instance: "  server.memory.heap.initial_size: 8g\n  server.memory.heap.max_size: 4g\n",
        tenant: "",
        code: "combination",
        line: 2,
        message: "the initial heap (8GB) is larger than the maximum (4GB)",
    },
    Case {
        name: "initial heap differs",
        engine: Neo4j,
        version: "5.24.0",
        instance: "  server.memory.heap.initial_size: 1g\n  server.memory.heap.max_size: 4g\n",
        tenant: "",
        code: "combination",
        line: 2,
        message: "initial heap (1GB) and maximum heap (4GB) differ",
    },
];

const CASSANDRA: &[Case] = &[
    // Names.
    Case {
        name: "typo",
        engine: Cassandra,
        version: "4.1.5",
        instance: "  concurent_compactors: 2\n",
        tenant: "",
        code: "unknown-parameter",
        line: 2,
        message: "unknown cassandra parameter `concurent_compactors`, did you mean `concurrent_compactors`?",
    },
    Case {
        name: "Thrift option removed in 4.0",
        engine: Cassandra,
        version: "4.1.5",
        instance: "  start_native_transport: true\n  start_rpc: false\n",
        tenant: "",
        code: "unknown-parameter",
        line: 3,
        message: "unknown cassandra parameter `start_rpc`",
    },
    Case {
        name: "pre-4.1 name with unit suffix",
        engine: Cassandra,
        version: "4.1.5",
        instance: "  read_request_timeout_in_ms: 5000\n",
        tenant: "",
        code: "deprecated-name",
        line: 2,
        message: "`read_request_timeout_in_ms` is an old name of `read_request_timeout`; write `read_request_timeout`",
    },
    Case {
        name: "pre-4.1 enable_ name",
        engine: Cassandra,
        version: "5.0.2",
        instance: "  enable_materialized_views: true\n",
        tenant: "",
        code: "deprecated-name",
        line: 2,
        message: "`enable_materialized_views` is an old name of `materialized_views_enabled`",
    },
    // Versions.
    Case {
        name: "5.0 upgrade switch on 4.1",
        engine: Cassandra,
        version: "4.1.5",
        instance: "  storage_compatibility_mode: NONE\n",
        tenant: "",
        code: "version",
        line: 2,
        message: "`storage_compatibility_mode` exists from cassandra 5.0 on, and this instance runs an older version",
    },
    Case {
        name: "SAI default on 4.1",
        engine: Cassandra,
        version: "4.1.5",
        instance: "  default_secondary_index: sai\n",
        tenant: "",
        code: "version",
        line: 2,
        message: "`default_secondary_index` exists from cassandra 5.0 on",
    },
    // Values.
    Case {
        name: "unit typo",
        engine: Cassandra,
        version: "4.1.5",
        instance: "  key_cache_size: 100MG\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "invalid value for `key_cache_size`: unknown unit `MG` in `100MG`",
    },
    Case {
        name: "phi over max",
        engine: Cassandra,
        version: "5.0.2",
        instance: "  phi_convict_threshold: 20\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "invalid value for `phi_convict_threshold`: `20` is out of range: must be between 5 and 16",
    },
    Case {
        name: "no tokens",
        engine: Cassandra,
        version: "4.1.5",
        instance: "  num_tokens: 0\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "invalid value for `num_tokens`: `0` is out of range: must be at least 1",
    },
    Case {
        name: "fractional thread count",
        engine: Cassandra,
        version: "4.1.5",
        instance: "  memtable_flush_writers: 2.5\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "invalid value for `memtable_flush_writers`: expected an integer, found number `2.5`",
    },
    Case {
        name: "enum typo",
        engine: Cassandra,
        version: "4.1.5",
        instance: "  commitlog_sync: batched\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "`batched` is not one of periodic, batch, group; did you mean `batch`?",
    },
    Case {
        name: "allocation type shorthand",
        engine: Cassandra,
        version: "5.0.2",
        instance: "  memtable_allocation_type: offheap\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "invalid value for `memtable_allocation_type`: `offheap` is not one of unslabbed_heap_buffers, unslabbed_heap_buffers_logged, heap_buffers, offheap_buffers, offheap_objects",
    },
    Case {
        name: "GC abbreviation",
        engine: Cassandra,
        version: "4.1.5",
        instance: "  jvm.gc: CMS\n",
        tenant: "",
        code: "invalid-value",
        line: 2,
        message: "invalid value for `jvm.gc`: `CMS` is not one of G1GC, ConcMarkSweepGC, ZGC",
    },
    // Scope and secrets.
    Case {
        name: "node setting in tenant scope",
        engine: Cassandra,
        version: "4.1.5",
        instance: "  num_tokens: 16\n",
        tenant: "  num_tokens: 8\n",
        code: "scope",
        line: 4,
        message: "`num_tokens` can only be set for the whole instance, not in tenant scope",
    },
    Case {
        name: "plaintext keystore password",
        engine: Cassandra,
        version: "4.1.5",
        instance: "  server_encryption_options:\n    internode_encryption: all\n    keystore_password: cassandra\n",
        tenant: "",
        code: "plaintext-secret",
        line: 4,
        message: "`server_encryption_options.keystore_password` holds a secret",
    },
    // Budgets.
    Case {
        name: "heap over RAM",
        engine: Cassandra,
        version: "5.0.2",
        instance: "  jvm.heap.min: 20G\n  jvm.heap.max: 20G\n",
        tenant: "",
        code: "memory-budget",
        line: 3,
        message: "the JVM heap (20GB) is more than the instance's 16GB",
    },
    Case {
        name: "heap past compressed oops",
        engine: Cassandra,
        version: "4.1.5",
        instance: "  jvm.heap.max: 40G\n",
        tenant: "",
        code: "memory-budget",
        line: 2,
        message: "a JVM heap of 40GB is above ~31GB",
    },
    // Combinations.
    Case {
        name: "initial heap over max",
        engine: Cassandra,
        version: "5.0.2",
        instance: "  jvm.heap.min: 8G\n  jvm.heap.max: 4G\n",
        tenant: "",
        code: "combination",
        line: 2,
        message: "the initial heap (8GB) is larger than the maximum (4GB)",
    },
    Case {
        name: "initial heap differs",
        engine: Cassandra,
        version: "5.0.2",
        instance: "  jvm.heap.min: 2G\n  jvm.heap.max: 8G\n",
        tenant: "",
        code: "combination",
        line: 2,
        message: "initial heap (2GB) and maximum heap (8GB) differ",
    },
    Case {
        name: "batch sync with a period",
        engine: Cassandra,
        version: "4.1.5",
        instance: "  commitlog_sync: batch\n  commitlog_sync_period: 10000ms\n",
        tenant: "",
        code: "combination",
        line: 3,
        message: "commitlog_sync batch does not take commitlog_sync_period",
    },
    Case {
        name: "periodic sync without a period",
        engine: Cassandra,
        version: "4.1.5",
        instance: "  commitlog_sync: periodic\n",
        tenant: "",
        code: "combination",
        line: 2,
        message: "commitlog_sync periodic needs commitlog_sync_period",
    },
    Case {
        name: "group sync without a window",
        engine: Cassandra,
        version: "5.0.2",
        instance: "  commitlog_sync: group\n",
        tenant: "",
        code: "combination",
        line: 2,
        message: "commitlog_sync group needs commitlog_sync_group_window",
    },
    Case {
        name: "group sync with a period",
        engine: Cassandra,
        version: "4.1.5",
        instance: "  commitlog_sync: group\n  commitlog_sync_group_window: 15ms\n  commitlog_sync_period: 10000ms\n",
        tenant: "",
        code: "combination",
        line: 4,
        message: "commitlog_sync group does not take commitlog_sync_period",
    },
    Case {
        name: "authorizer without authenticator",
        engine: Cassandra,
        version: "4.1.5",
        instance: "  authorizer: CassandraAuthorizer\n",
        tenant: "",
        code: "combination",
        line: 2,
        message: "CassandraAuthorizer needs an authenticator other than AllowAllAuthenticator",
    },
    Case {
        name: "3.x-era token count",
        engine: Cassandra,
        version: "4.1.5",
        instance: "  num_tokens: 512\n",
        tenant: "",
        code: "combination",
        line: 2,
        message: "num_tokens 512 slows repairs and streaming",
    },
    Case {
        name: "compactors over CPUs",
        engine: Cassandra,
        version: "5.0.2",
        instance: "  concurrent_compactors: 8\n",
        tenant: "",
        code: "combination",
        line: 2,
        message: "concurrent_compactors (8) exceeds the instance's 4 CPUs",
    },
];

#[test]
fn validation_cases_postgresql() {
    run_cases(POSTGRESQL);
}

#[test]
fn validation_cases_redis() {
    run_cases(REDIS);
}

#[test]
fn validation_cases_mongodb() {
    run_cases(MONGODB);
}

#[test]
fn validation_cases_clickhouse() {
    run_cases(CLICKHOUSE);
}

#[test]
fn validation_cases_elasticsearch() {
    run_cases(ELASTICSEARCH);
}

#[test]
fn validation_cases_neo4j() {
    run_cases(NEO4J);
}

#[test]
fn validation_cases_cassandra() {
    run_cases(CASSANDRA);
}

/// Every engine has at least 15 cases.
#[test]
fn every_engine_has_its_cases() {
    for (engine, cases) in [
        (Postgresql, POSTGRESQL),
        (Redis, REDIS),
        (Mongodb, MONGODB),
        (Clickhouse, CLICKHOUSE),
        (Elasticsearch, ELASTICSEARCH),
        (Neo4j, NEO4J),
        (Cassandra, CASSANDRA),
    ] {
        assert!(cases.len() >= 15, "{engine} has {} cases", cases.len());
        assert!(cases.iter().all(|c| c.engine == engine), "{engine}'s table holds another engine's case");
    }
}

/// A configuration that must validate without a single diagnostic.
struct Clean {
    name: &'static str,
    engine: EngineKind,
    version: &'static str,
    instance: &'static str,
    tenant: &'static str,
}

/// What a DBA would really set on a 16GB, 4-CPU server of each engine, and
/// a few settings that must not be mistaken for the mistakes above.
const CLEAN: &[Clean] = &[
    Clean {
        name: "postgresql 16 primary with WAL archiving",
        engine: Postgresql,
        version: "16.4",
        instance: "  listen_addresses: \"*\"\n  max_connections: 200\n  superuser_reserved_connections: 3\n  reserved_connections: 2\n  shared_buffers: 4GB\n  effective_cache_size: 12GB\n  work_mem: 16MB\n  maintenance_work_mem: 1GB\n  wal_level: replica\n  max_wal_senders: 10\n  min_wal_size: 1GB\n  max_wal_size: 4GB\n  checkpoint_timeout: 15min\n  checkpoint_completion_target: 0.9\n  random_page_cost: 1.1\n  effective_io_concurrency: 200\n  max_worker_processes: 8\n  max_parallel_workers: 4\n  max_parallel_workers_per_gather: 2\n  archive_mode: on\n  archive_command: \"pgbackrest --stanza=main archive-push %p\"\n  log_min_duration_statement: 1s\n  shared_preload_libraries: pg_stat_statements\n  password_encryption: scram-sha-256\n  ssl: on\n",
        tenant: "  statement_timeout: 60s\n  idle_in_transaction_session_timeout: 5min\n  lock_timeout: 10s\n  work_mem: 32MB\n  default_transaction_isolation: \"read committed\"\n",
    },
    Clean {
        name: "postgresql 17 with 17-only settings",
        engine: Postgresql,
        version: "17.2",
        instance: "  shared_buffers: 4GB\n  effective_cache_size: 12GB\n  summarize_wal: on\n  io_combine_limit: 256kB\n  wal_compression: zstd\n  huge_pages: try\n  max_connections: 100\n  maintenance_work_mem: 512MB\n  autovacuum_max_workers: 4\n  log_checkpoints: on\n",
        tenant: "  transaction_timeout: 10min\n",
    },
    Clean {
        name: "redis 7.2 cache with AOF",
        engine: Redis,
        version: "7.2.4",
        instance: "  bind: 127.0.0.1 -::1\n  port: 6379\n  protected-mode: yes\n  requirepass: {$secret: \"vault:secret/redis/main#password\"}\n  maxmemory: 12gb\n  maxmemory-policy: allkeys-lru\n  maxclients: 10000\n  timeout: 300\n  tcp-keepalive: 60\n  appendonly: yes\n  appendfsync: everysec\n  save: \"3600 1 300 100 60 10000\"\n  io-threads: 4\n  slowlog-log-slower-than: 10000\n  latency-monitor-threshold: 100\n  lazyfree-lazy-eviction: yes\n  replica-read-only: yes\n",
        tenant: "",
    },
    Clean {
        name: "redis open bind with a password",
        engine: Redis,
        version: "7.0.15",
        instance: "  bind: 0.0.0.0\n  protected-mode: no\n  requirepass: {$secret: \"vault:secret/redis/main#password\"}\n  maxmemory: 8gb\n  maxmemory-policy: volatile-lru\n  shutdown-on-sigterm: save\n  busy-reply-threshold: 5000\n  hash-max-listpack-entries: 512\n  appendonly: no\n  save: \"900 1\"\n",
        tenant: "",
    },
    Clean {
        name: "mongodb 7.0 replica set member",
        engine: Mongodb,
        version: "7.0.14",
        instance: "  net:\n    port: 27017\n    bindIp: 127.0.0.1,10.0.1.15\n    maxIncomingConnections: 20000\n    tls:\n      mode: requireTLS\n      certificateKeyFile: /etc/ssl/mongodb.pem\n      CAFile: /etc/ssl/ca.pem\n  storage:\n    dbPath: /var/lib/mongodb\n    wiredTiger:\n      engineConfig:\n        cacheSizeGB: 7.5\n      collectionConfig:\n        blockCompressor: zstd\n  replication:\n    replSetName: rs0\n    oplogSizeMB: 51200\n  security:\n    authorization: enabled\n    keyFile: /etc/mongodb/keyfile\n  operationProfiling:\n    mode: slowOp\n    slowOpThresholdMs: 100\n  systemLog:\n    destination: file\n    path: /var/log/mongodb/mongod.log\n    logAppend: true\n  setParameter:\n    transactionLifetimeLimitSeconds: 60\n    cursorTimeoutMillis: 600000\n",
        tenant: "",
    },
    Clean {
        name: "mongodb on IPv4 and IPv6 localhost without auth",
        engine: Mongodb,
        version: "8.0.3",
        instance: "  net.bindIp: localhost,::1\n  net.ipv6: true\n  security.authorization: disabled\n  storage.wiredTiger.engineConfig.cacheSizeGB: 4\n",
        tenant: "",
    },
    Clean {
        name: "clickhouse 24.8 server and profile",
        engine: Clickhouse,
        version: "24.8.4",
        instance: "  listen_host: \"::\"\n  max_connections: 4096\n  max_concurrent_queries: 100\n  keep_alive_timeout: 3\n  max_server_memory_usage: 14Gi\n  uncompressed_cache_size: 8Gi\n  max_table_size_to_drop: 50G\n  max_partition_size_to_drop: 50G\n  timezone: UTC\n  merge_tree.parts_to_throw_insert: 300\n  interserver_http_credentials.password: {$secret: \"vault:secret/clickhouse#interserver\"}\n",
        tenant: "  max_memory_usage: 4Gi\n  max_memory_usage_for_user: 8Gi\n  max_execution_time: 60\n  max_threads: 4\n  readonly: 0\n  log_queries: 1\n  load_balancing: nearest_hostname\n",
    },
    Clean {
        name: "clickhouse 18.16 users.xml profile",
        engine: Clickhouse,
        version: "18.16.1",
        instance: "  max_memory_usage: 10000000000\n  max_memory_usage_for_all_queries: 12G\n  use_uncompressed_cache: 0\n  load_balancing: random\n  max_threads: 4\n  max_execution_time: 300\n  log_queries: 1\n  distributed_directory_monitor_batch_inserts: 1\n  tcp_port: 9000\n  http_port: 8123\n",
        tenant: "",
    },
    Clean {
        name: "elasticsearch 8 data node",
        engine: Elasticsearch,
        version: "8.15.0",
        instance: "  cluster.name: acme-staging\n  node.name: es-1\n  node.roles: [master, data, ingest]\n  network.host: 0.0.0.0\n  http.port: 9200\n  path.data: /var/lib/elasticsearch\n  path.logs: /var/log/elasticsearch\n  discovery.seed_hosts: [es-1, es-2, es-3]\n  cluster.initial_master_nodes: [es-1, es-2, es-3]\n  bootstrap.memory_lock: true\n  xpack.security.enabled: true\n  xpack.security.http.ssl.enabled: true\n  xpack.security.http.ssl.keystore.path: certs/http.p12\n  xpack.security.http.ssl.keystore.secure_password: {$secret: \"vault:secret/es#http\"}\n  indices.memory.index_buffer_size: 10%\n  indices.recovery.max_bytes_per_sec: 100mb\n  action.destructive_requires_name: true\n  jvm.heap.min: 8g\n  jvm.heap.max: 8g\n",
        tenant: "",
    },
    Clean {
        name: "neo4j 5 with TLS on bolt",
        engine: Neo4j,
        version: "5.24.0",
        instance: "  server.default_listen_address: 0.0.0.0\n  server.bolt.enabled: true\n  server.bolt.tls_level: REQUIRED\n  server.memory.heap.initial_size: 4g\n  server.memory.heap.max_size: 4g\n  server.memory.pagecache.size: 8g\n  db.memory.transaction.total.max: 2g\n  dbms.security.auth_enabled: true\n  db.transaction.timeout: 60s\n  db.logs.query.enabled: INFO\n  db.logs.query.threshold: 1s\n  db.tx_log.rotation.retention_policy: 2 days\n  dbms.ssl.policy.bolt.enabled: true\n  dbms.ssl.policy.bolt.private_key_password: {$secret: \"vault:secret/neo4j#bolt-key\"}\n",
        tenant: "",
    },
    Clean {
        name: "cassandra 4.1 node with auth and internode TLS",
        engine: Cassandra,
        version: "4.1.5",
        instance: "  cluster_name: acme-staging\n  num_tokens: 16\n  authenticator: PasswordAuthenticator\n  authorizer: CassandraAuthorizer\n  endpoint_snitch: GossipingPropertyFileSnitch\n  concurrent_reads: 32\n  concurrent_writes: 32\n  concurrent_compactors: 2\n  compaction_throughput: 64MiB\n  commitlog_sync: periodic\n  commitlog_sync_period: 10000ms\n  key_cache_size: 100MiB\n  read_request_timeout: 5000ms\n  write_request_timeout: 2000ms\n  server_encryption_options:\n    internode_encryption: all\n    keystore_password: {$secret: \"vault:secret/cassandra#keystore\"}\n  jvm.heap.min: 8G\n  jvm.heap.max: 8G\n",
        tenant: "",
    },
    Clean {
        name: "cassandra 5.0 with group commit and 5.0-only settings",
        engine: Cassandra,
        version: "5.0.2",
        instance: "  commitlog_sync: group\n  commitlog_sync_group_window: 15ms\n  storage_compatibility_mode: NONE\n  default_secondary_index: sai\n  sstable.selected_format: bti\n  authenticator: PasswordAuthenticator\n  num_tokens: 16\n  jvm.heap.min: 8G\n  jvm.heap.max: 8G\n  jvm.gc: G1GC\n",
        tenant: "",
    },
];

/// The rules must not fire on configurations that are right.
#[test]
fn clean_configurations_have_no_findings() {
    for engine in [Postgresql, Redis, Mongodb, Clickhouse, Elasticsearch, Neo4j, Cassandra] {
        let settings = CLEAN.iter().filter(|c| c.engine == engine).map(|c| c.instance.lines().count()).max();
        assert!(settings.is_some_and(|n| n >= 10), "{engine} needs a clean configuration of 10+ settings");
    }
    let failures: Vec<String> = CLEAN
        .iter()
        .filter_map(|c| {
            let run = fleet_for(c.engine, c.version, c.instance, c.tenant).run(&["--format", "json", "validate"]);
            let v: serde_json::Value = match serde_json::from_str(&run.stdout) {
                Ok(v) => v,
                Err(_) => return Some(format!("{}: no JSON (exit {}):\n{}", c.name, run.code, run.stderr)),
            };
            let diags = v["diagnostics"].as_array().cloned().unwrap_or_default();
            (run.code != 0 || !diags.is_empty()).then(|| {
                format!("{}: exit {}, findings:\n{}", c.name, run.code, serde_json::to_string_pretty(&diags).unwrap())
            })
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} clean configurations have findings:\n\n{}",
        failures.len(),
        CLEAN.len(),
        failures.join("\n\n")
    );
}

#[test]
fn example_fleet_validates_and_sarif_is_well_formed() {
    let run = crate::harness::run_in(&crate::harness::example_fleet(), &["validate"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let fleet = fleet_for(Postgresql, "16.4", "  shared_bufers: 1GB\n  work_mem: 2MB\n", "");
    let run = fleet.run(&["validate", "--sarif"]);
    assert_eq!(run.code, 3);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let r = &v["runs"][0]["results"][0];
    assert_eq!(r["ruleId"], "unknown-parameter");
    assert_eq!(r["level"], "error");
    assert_eq!(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "layers/base/postgresql.yaml");
    assert_eq!(r["locations"][0]["physicalLocation"]["region"]["startLine"], 2);
}

#[test]
fn deny_warnings_fails_on_warnings() {
    // `sort_mem` is an old name of work_mem: a warning.
    let fleet = fleet_for(Postgresql, "16.4", "  sort_mem: 4MB\n", "");
    assert_eq!(fleet.run(&["validate"]).code, 0);
    let run = fleet.run(&["validate", "--deny-warnings"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("deprecated-name"), "{}", run.stderr);
}
