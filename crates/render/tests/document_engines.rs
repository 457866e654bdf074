//! The document engines' files (MongoDB, Elasticsearch, Neo4j, Cassandra):
//! snapshots of every rendered file, with and without `--annotate`;
//! parse-back of a realistic set of settings per engine (render, read the
//! files back, normalise through the catalog, compare with the input); and
//! round trips of configuration files written by hand in each engine's
//! documented format (`tests/fixtures/<engine>/`): read, normalise, render,
//! read again, compare.
//!
//! What this proves: dbfleet reads back exactly what it writes, and reads
//! files written the way the engines' documentation shows, as far as our
//! reading of that documentation goes. What it does not prove: that a real
//! mongod, Elasticsearch node, Neo4j server or Cassandra node accepts these
//! files. None of the four runs on the test machine.

use std::collections::BTreeMap;

use dbfleet_catalog::{Lookup, Typed, catalog};
use dbfleet_model::{EngineKind, SecretRef, Value, Version};
use dbfleet_render::{RenderInput, RenderValue, RenderedFile, Setting, parse, render};
use secrecy::SecretString;

/// A secret whose plaintext, once "fetched", is `plaintext`.
fn secret(plaintext: &str) -> Value {
    Value::Secret(SecretRef::Env { var: plaintext.into() })
}

fn s(text: &str) -> Value {
    Value::String(text.into())
}

fn list(items: &[&str]) -> Value {
    Value::List(items.iter().map(|i| s(i)).collect())
}

/// A render input of `settings` as the fleet writes them, each normalised
/// through the catalog as validation would; secret values become their
/// plaintext.
fn input<'a>(
    engine: EngineKind,
    version: &'a Version,
    settings: &'a [(&'static str, Value)],
    annotate: bool,
) -> RenderInput<'a> {
    let catalog = catalog(engine);
    let settings = settings
        .iter()
        .enumerate()
        .map(|(i, (name, value))| {
            let parameter = catalog.get(name).unwrap_or_else(|| panic!("{engine} has no `{name}`"));
            let value = match value {
                Value::Secret(SecretRef::Env { var }) => RenderValue::Secret(SecretString::from(var.clone())),
                other => RenderValue::Typed(
                    parameter.normalize(engine, other).unwrap_or_else(|e| panic!("{engine} `{name}`: {e}")),
                ),
            };
            let origin = Some(format!("layers/base/{engine}.yaml:{}:3, engine base {engine}", i + 2));
            Setting { name: &parameter.name, parameter, value, origin }
        })
        .collect();
    RenderInput {
        engine,
        version,
        instance: "db-prod-1",
        fleet: "acme",
        revision: "4f2c9e1",
        annotate,
        settings,
        tenants: Vec::new(),
    }
}

/// What each setting of `input` should read back as, by canonical name: its
/// normalised value, a secret's plaintext read as the parameter reads text.
fn expected(input: &RenderInput<'_>) -> BTreeMap<String, Typed> {
    input
        .settings
        .iter()
        .map(|setting| {
            let typed = match &setting.value {
                RenderValue::Typed(t) => t.clone(),
                RenderValue::Secret(secret) => {
                    use secrecy::ExposeSecret as _;
                    setting.parameter.normalize(input.engine, &s(secret.expose_secret())).unwrap()
                }
            };
            (setting.name.to_string(), typed)
        })
        .collect()
}

/// One unmapped entry: (file, line, text).
type Unmapped = (String, u32, String);

/// Reads `files` back and normalises every setting for `version`, by
/// canonical name. Panics on a name the version does not have, a value the
/// catalog refuses, or a setting read twice.
fn read_back(
    engine: EngineKind,
    version: &Version,
    files: &[(String, String)],
) -> (BTreeMap<String, Typed>, Vec<Unmapped>) {
    let catalog = catalog(engine);
    let mut settings = BTreeMap::new();
    let mut unmapped = Vec::new();
    for (path, text) in files {
        let parsed = parse(engine, path, text).unwrap_or_else(|e| panic!("{path}: {e}"));
        for setting in parsed.settings {
            let parameter = match catalog.lookup(&setting.name, version) {
                Lookup::Found(p) | Lookup::Alias { parameter: p, .. } => p,
                other => panic!("{path}:{}: `{}` on {engine} {version}: {other:?}", setting.line, setting.name),
            };
            let typed = parameter
                .normalize(engine, &setting.value)
                .unwrap_or_else(|e| panic!("{path}:{}: `{}`: {e}", setting.line, setting.name));
            let earlier = settings.insert(parameter.name.clone(), typed);
            assert!(earlier.is_none(), "{path}: `{}` read twice", parameter.name);
        }
        for u in parsed.unmapped {
            assert!(!u.reason.is_empty(), "{path}:{}: no reason", u.line);
            unmapped.push((path.clone(), u.line, u.text));
        }
    }
    (settings, unmapped)
}

fn contents(files: &[RenderedFile]) -> Vec<(String, String)> {
    files.iter().map(|f| (f.path.clone(), f.contents.clone())).collect()
}

// ------------------------------------------------------------ the cases

fn mongodb() -> Vec<(&'static str, Value)> {
    vec![
        ("net.port", Value::Int(27017)),
        ("net.bindIp", s("localhost,10.0.1.15")),
        ("net.maxIncomingConnections", Value::Int(20000)),
        ("net.compression.compressors", s("zstd,snappy")),
        ("net.tls.mode", s("requireTLS")),
        ("net.tls.certificateKeyFile", s("/etc/mongodb/tls/server.pem")),
        ("net.tls.certificateKeyFilePassword", secret("pem #pass: 1")),
        ("net.tls.CAFile", s("/etc/mongodb/tls/ca.pem")),
        ("net.unixDomainSocket.filePermissions", s("0700")),
        ("storage.dbPath", s("/var/lib/mongodb")),
        ("storage.directoryPerDB", Value::Bool(true)),
        ("storage.wiredTiger.engineConfig.cacheSizeGB", Value::Float(12.5)),
        ("storage.wiredTiger.engineConfig.journalCompressor", s("zstd")),
        ("storage.wiredTiger.collectionConfig.blockCompressor", s("zstd")),
        ("storage.oplogMinRetentionHours", Value::Int(24)),
        ("systemLog.destination", s("file")),
        ("systemLog.path", s("/var/log/mongodb/mongod.log")),
        ("systemLog.logAppend", Value::Bool(true)),
        ("systemLog.logRotate", s("reopen")),
        ("systemLog.component.replication.verbosity", Value::Int(1)),
        ("processManagement.fork", Value::Bool(false)),
        ("processManagement.timeZoneInfo", s("/usr/share/zoneinfo")),
        ("operationProfiling.mode", s("off")),
        ("operationProfiling.slowOpThresholdMs", Value::Int(200)),
        ("operationProfiling.slowOpSampleRate", Value::Float(0.5)),
        ("operationProfiling.filter", s("{ op: \"query\", millis: { $gt: 2000 } }")),
        ("replication.replSetName", s("rs0")),
        ("replication.oplogSizeMB", Value::Int(51200)),
        ("security.authorization", s("enabled")),
        ("security.keyFile", s("/etc/mongodb/keyfile")),
        ("security.clusterAuthMode", s("keyFile")),
        ("security.clusterIpSourceAllowlist", list(&["10.0.1.0/24", "127.0.0.1"])),
        ("security.javascriptEnabled", Value::Bool(false)),
        ("setParameter.enableLocalhostAuthBypass", Value::Bool(false)),
        ("setParameter.authenticationMechanisms", s("SCRAM-SHA-256")),
        ("setParameter.cursorTimeoutMillis", Value::Int(300000)),
        ("setParameter.transactionLifetimeLimitSeconds", Value::Int(120)),
        ("setParameter.storageEngineConcurrencyAdjustmentAlgorithm", s("throughputProbing")),
        ("setParameter.logComponentVerbosity", s("{verbosity: 0, command: {verbosity: 1}}")),
        ("setParameter.mirrorReads", s("{samplingRate: 0.05}")),
    ]
}

fn elasticsearch() -> Vec<(&'static str, Value)> {
    vec![
        ("cluster.name", s("logs-prod")),
        ("node.name", s("es-data-03")),
        ("node.roles", list(&["data_hot", "data_content", "ingest"])),
        ("path.data", s("/var/lib/elasticsearch")),
        ("path.logs", s("/var/log/elasticsearch")),
        ("path.repo", list(&["/mnt/snapshots"])),
        ("network.host", s("_site_")),
        ("http.port", s("9200")),
        ("transport.port", s("9300-9400")),
        ("discovery.seed_hosts", list(&["es-master-01:9300", "es-master-02:9300"])),
        ("cluster.initial_master_nodes", list(&["es-master-01", "es-master-02"])),
        ("bootstrap.memory_lock", Value::Bool(true)),
        ("http.max_content_length", s("200mb")),
        ("indices.memory.index_buffer_size", s("20%")),
        ("thread_pool.write.queue_size", Value::Int(2000)),
        ("xpack.security.enabled", Value::Bool(true)),
        ("xpack.security.http.ssl.enabled", Value::Bool(true)),
        ("xpack.security.http.ssl.keystore.path", s("certs/http.p12")),
        ("xpack.security.http.ssl.keystore.secure_password", secret("http-ks-pass")),
        ("xpack.security.transport.ssl.enabled", Value::Bool(true)),
        ("xpack.security.transport.ssl.verification_mode", s("certificate")),
        ("xpack.security.transport.ssl.keystore.path", s("certs/transport.p12")),
        ("xpack.security.transport.ssl.keystore.secure_password", secret("transport=pass")),
        ("xpack.security.transport.ssl.truststore.path", s("certs/transport.p12")),
        ("xpack.security.transport.ssl.truststore.secure_password", secret("transport=pass")),
        ("cluster.routing.allocation.awareness.attributes", list(&["zone"])),
        ("cluster.routing.allocation.disk.watermark.low", s("85%")),
        ("cluster.routing.allocation.disk.watermark.high", s("90%")),
        ("cluster.max_shards_per_node", Value::Int(1500)),
        ("cluster.max_shards_per_node.frozen", Value::Int(4000)),
        ("indices.recovery.max_bytes_per_sec", s("100mb")),
        ("indices.lifecycle.poll_interval", s("5m")),
        ("search.default_search_timeout", s("30s")),
        ("search.max_buckets", Value::Int(100000)),
        ("action.destructive_requires_name", Value::Bool(true)),
        ("jvm.heap.min", s("8g")),
        ("jvm.heap.max", s("8g")),
        ("jvm.gc", s("G1GC")),
        ("jvm.heap_dump_on_oom", Value::Bool(false)),
        ("jvm.heap_dump_path", s("/var/lib/elasticsearch/dumps")),
        ("jvm.error_file", s("logs/hs_err_pid%p.log")),
        (
            "jvm.extra_options",
            list(&[
                "-XX:+UseStringDeduplication",
                "-Xlog:gc*,gc+age=trace,safepoint:file=logs/gc.log:utctime,pid,tags:filecount=32,filesize=64m",
            ]),
        ),
    ]
}

fn neo4j() -> Vec<(&'static str, Value)> {
    vec![
        ("server.memory.heap.initial_size", s("8g")),
        ("server.memory.heap.max_size", s("8GB")),
        ("server.memory.pagecache.size", s("16g")),
        ("dbms.memory.transaction.total.max", s("4g")),
        ("db.memory.transaction.max", s("512m")),
        ("server.default_listen_address", s("0.0.0.0")),
        ("server.default_advertised_address", s("neo4j-1.internal")),
        ("server.bolt.listen_address", s(":7687")),
        ("server.bolt.tls_level", s("REQUIRED")),
        ("server.bolt.thread_pool_max_size", Value::Int(800)),
        ("server.http.enabled", Value::Bool(false)),
        ("server.https.enabled", Value::Bool(true)),
        ("server.https.listen_address", s(":7473")),
        ("server.directories.data", s("/var/lib/neo4j/data")),
        ("server.directories.logs", s("/var/log/neo4j")),
        ("db.transaction.timeout", s("60s")),
        ("db.lock.acquisition.timeout", s("30s")),
        ("db.tx_log.rotation.retention_policy", s("7 days")),
        ("db.tx_log.rotation.size", s("512m")),
        ("db.checkpoint.interval.time", s("10m")),
        ("db.logs.query.enabled", s("INFO")),
        ("db.logs.query.threshold", s("2s")),
        ("dbms.security.auth_enabled", Value::Bool(true)),
        ("dbms.security.procedures.unrestricted", list(&["apoc.*", "gds.*"])),
        ("dbms.security.procedures.allowlist", list(&["apoc.coll.*", "gds.*"])),
        ("dbms.ssl.policy.bolt.enabled", Value::Bool(true)),
        ("dbms.ssl.policy.bolt.base_directory", s("certificates/bolt")),
        ("dbms.ssl.policy.bolt.private_key_password", secret("bolt key # pass")),
        ("dbms.ssl.policy.bolt.client_auth", s("NONE")),
        (
            "server.jvm.additional",
            list(&["-XX:+UseG1GC", "-XX:+ExitOnOutOfMemoryError", "-Xlog:gc*,safepoint:file=gc.log"]),
        ),
        ("server.metrics.prometheus.enabled", Value::Bool(true)),
        ("server.metrics.prometheus.endpoint", s("0.0.0.0:2004")),
        ("initial.dbms.default_database", s("graph")),
        ("dbms.cypher.statistics_divergence_threshold", Value::Float(0.5)),
    ]
}

fn cassandra() -> Vec<(&'static str, Value)> {
    vec![
        ("cluster_name", s("Payments Cluster")),
        ("num_tokens", Value::Int(16)),
        ("allocate_tokens_for_local_replication_factor", Value::Int(3)),
        ("endpoint_snitch", s("GossipingPropertyFileSnitch")),
        ("listen_address", s("10.0.2.11")),
        ("rpc_address", s("0.0.0.0")),
        ("broadcast_rpc_address", s("10.0.2.11")),
        ("native_transport_port", Value::Int(9042)),
        ("data_file_directories", list(&["/var/lib/cassandra/data1", "/var/lib/cassandra/data2"])),
        ("commitlog_directory", s("/var/lib/cassandra/commitlog")),
        ("hints_directory", s("/var/lib/cassandra/hints")),
        ("commitlog_sync", s("periodic")),
        ("commitlog_sync_period", s("10000ms")),
        ("commitlog_segment_size", s("32MiB")),
        ("concurrent_reads", Value::Int(64)),
        ("concurrent_writes", Value::Int(64)),
        ("concurrent_compactors", Value::Int(4)),
        ("compaction_throughput", s("128MiB")),
        ("stream_throughput_outbound", s("24MiB")),
        ("key_cache_size", s("512MiB")),
        ("row_cache_size", s("0MiB")),
        ("index_summary_resize_interval", s("60m")),
        ("read_request_timeout", s("5000ms")),
        ("write_request_timeout", s("2s")),
        ("max_hint_window", s("3h")),
        ("hinted_handoff_throttle", s("1024KiB")),
        ("tombstone_failure_threshold", Value::Int(100000)),
        ("dynamic_snitch_badness_threshold", Value::Float(1.0)),
        ("authenticator", s("PasswordAuthenticator")),
        ("authorizer", s("CassandraAuthorizer")),
        ("client_encryption_options.enabled", Value::Bool(true)),
        ("client_encryption_options.keystore", s("/etc/cassandra/tls/keystore.jks")),
        ("client_encryption_options.keystore_password", secret("ks: secret")),
        ("server_encryption_options.internode_encryption", s("all")),
        ("server_encryption_options.keystore_password", secret("ks: secret")),
        ("audit_logging_options.enabled", Value::Bool(true)),
        ("jvm.heap.max", s("8GB")),
        ("jvm.heap.min", s("8192MB")),
        ("jvm.gc", s("G1GC")),
        ("jvm.g1.max_gc_pause_millis", Value::Int(300)),
        ("jvm.heap_dump_path", s("/var/lib/cassandra/dumps")),
        ("jvm.always_pre_touch", Value::Bool(true)),
        ("jvm.extra_options", list(&["-XX:+UseNUMA", "-Xss256k"])),
    ]
}

/// Cassandra 5.0: the 4.1 set and settings only 5.0 has.
fn cassandra_five() -> Vec<(&'static str, Value)> {
    let mut settings = cassandra();
    settings.extend([
        ("sstable.selected_format", s("bti")),
        ("storage_compatibility_mode", s("NONE")),
        ("default_secondary_index", s("sai")),
        (
            "default_compaction",
            s("{class_name: UnifiedCompactionStrategy, parameters: {scaling_parameters: T4, target_sstable_size: 1GiB}}"),
        ),
    ]);
    settings
}

// ------------------------------------------------------------ snapshots

fn snapshot(engine: EngineKind, version: &str, settings: &[(&'static str, Value)]) {
    let version: Version = version.parse().unwrap();
    for annotate in [false, true] {
        let files = render(&input(engine, &version, settings, annotate)).unwrap();
        for file in files {
            let suffix = if annotate { "_annotated" } else { "" };
            let name = format!("{engine}_{version}_{}{suffix}", file.path.replace('/', "_"));
            let header = format!("{} (mode {:o})", file.path, file.mode());
            insta::with_settings!({ description => header }, {
                insta::assert_snapshot!(name, file.contents);
            });
        }
    }
}

#[test]
fn mongodb_files() {
    snapshot(EngineKind::Mongodb, "7.0", &mongodb());
}

#[test]
fn elasticsearch_files() {
    snapshot(EngineKind::Elasticsearch, "8", &elasticsearch());
}

#[test]
fn neo4j_files() {
    snapshot(EngineKind::Neo4j, "5", &neo4j());
}

#[test]
fn cassandra_files() {
    snapshot(EngineKind::Cassandra, "4.1", &cassandra());
    snapshot(EngineKind::Cassandra, "5.0", &cassandra_five());
}

// ------------------------------------------------------------ parse-back

/// Renders `settings`, reads the files back and checks that every setting
/// comes back equal after normalisation, and that nothing is unmapped but
/// `unmapped_in` files' stock lines.
fn parse_back(engine: EngineKind, version: &str, settings: &[(&'static str, Value)]) -> Vec<Unmapped> {
    assert!(settings.len() >= 25, "a realistic set has at least 25 settings");
    let version: Version = version.parse().unwrap();
    let input = input(engine, &version, settings, true);
    let files = render(&input).unwrap();
    let (back, unmapped) = read_back(engine, &version, &contents(&files));
    assert_eq!(back, expected(&input));
    unmapped
}

#[test]
fn mongodb_reads_back() {
    assert_eq!(parse_back(EngineKind::Mongodb, "7.0", &mongodb()), []);
}

#[test]
fn elasticsearch_reads_back() {
    assert_eq!(parse_back(EngineKind::Elasticsearch, "8", &elasticsearch()), []);
}

#[test]
fn neo4j_reads_back() {
    assert_eq!(parse_back(EngineKind::Neo4j, "5", &neo4j()), []);
}

/// Only the stock lines of the per-JDK file come back unmapped.
#[test]
fn cassandra_reads_back() {
    for (version, settings, jdk_file) in
        [("4.1", cassandra(), "jvm11-server.options"), ("5.0", cassandra_five(), "jvm17-server.options")]
    {
        let unmapped = parse_back(EngineKind::Cassandra, version, &settings);
        assert!(!unmapped.is_empty());
        for (file, _, text) in unmapped {
            assert_eq!(file, jdk_file);
            assert!(text.starts_with("--add-") || text.starts_with("-D"), "{text}");
        }
    }
}

// ------------------------------------------------------------ fixtures

/// Reads the fixture `files` of `engine`, checks the unmapped entries and
/// that every setting normalises for `version`, renders the settings, reads
/// the rendered files and checks that the same settings come back.
fn round_trip(engine: EngineKind, version: &str, files: &[(&str, &str)], unmapped: &[(&str, u32, &str)]) -> usize {
    let version: Version = version.parse().unwrap();
    let files: Vec<(String, String)> = files.iter().map(|(p, t)| (p.to_string(), t.to_string())).collect();
    let (settings, got) = read_back(engine, &version, &files);
    let want: Vec<Unmapped> = unmapped.iter().map(|(f, l, t)| (f.to_string(), *l, t.to_string())).collect();
    assert_eq!(got, want);

    let catalog = catalog(engine);
    let rendered = render(&RenderInput {
        engine,
        version: &version,
        instance: "db-prod-1",
        fleet: "acme",
        revision: "imported",
        annotate: false,
        settings: settings
            .iter()
            .map(|(name, typed)| {
                let parameter = catalog.get(name).unwrap();
                // An import would keep these as secret references.
                let value = match typed {
                    Typed::Str(text) if parameter.sensitive => RenderValue::Secret(SecretString::from(text.clone())),
                    other => RenderValue::Typed(other.clone()),
                };
                Setting { name: &parameter.name, parameter, value, origin: None }
            })
            .collect(),
        tenants: Vec::new(),
    })
    .unwrap();
    let (back, _) = read_back(engine, &version, &contents(&rendered));
    assert_eq!(back, settings);
    settings.len()
}

#[test]
fn mongod_conf_written_by_hand_round_trips() {
    let n = round_trip(
        EngineKind::Mongodb,
        "7.0",
        &[("mongod.conf", include_str!("fixtures/mongodb/mongod.conf"))],
        &[
            // Removed in MongoDB 5.0.
            ("mongod.conf", 65, "replication.enableMajorityReadConcern: true"),
            ("mongod.conf", 82, "setParameter.tcmallocAggressiveMemoryDecommit: 1"),
            ("mongod.conf", 87, "cloud.monitoring.free.state: off"),
        ],
    );
    assert!(n >= 25, "{n}");
}

#[test]
fn elasticsearch_files_written_by_hand_round_trip() {
    let n = round_trip(
        EngineKind::Elasticsearch,
        "8",
        &[
            ("elasticsearch.yml", include_str!("fixtures/elasticsearch/elasticsearch.yml")),
            ("jvm.options.d/heap.options", include_str!("fixtures/elasticsearch/heap.options")),
        ],
        &[
            ("elasticsearch.yml", 12, "node.attr.zone: eu-west-1b"),
            ("elasticsearch.yml", 50, "xpack.security.enrollment.enabled: false"),
            ("jvm.options.d/heap.options", 13, "17-:-XX:+UseG1GC"),
            ("jvm.options.d/heap.options", 14, "-XX:+UseStringDeduplication"),
            ("jvm.options.d/heap.options", 15, "-Djava.io.tmpdir=/var/tmp/elasticsearch"),
        ],
    );
    assert!(n >= 25, "{n}");
}

#[test]
fn neo4j_conf_written_by_hand_round_trips() {
    let n = round_trip(
        EngineKind::Neo4j,
        "5",
        &[("neo4j.conf", include_str!("fixtures/neo4j/neo4j.conf"))],
        &[
            ("neo4j.conf", 53, "dbms.ssl.policy.https.base_directory=certificates/https"),
            ("neo4j.conf", 99, "server.windows_service_name=neo4j"),
        ],
    );
    assert!(n >= 25, "{n}");
}

#[test]
fn cassandra_files_written_by_hand_round_trip() {
    let n = round_trip(
        EngineKind::Cassandra,
        "4.1",
        &[
            ("cassandra.yaml", include_str!("fixtures/cassandra/cassandra.yaml")),
            ("jvm-server.options", include_str!("fixtures/cassandra/jvm-server.options")),
            ("jvm11-server.options", include_str!("fixtures/cassandra/jvm11-server.options")),
        ],
        &[
            // An empty value, which Cassandra reads as its default.
            ("cassandra.yaml", 39, "prepared_statements_cache_size: null"),
            (
                "cassandra.yaml",
                48,
                "seed_provider: [{class_name: org.apache.cassandra.locator.SimpleSeedProvider, parameters: [{seeds: \"10.30.1.11:7000,10.30.2.11:7000,10.30.3.11:7000\"}]}]",
            ),
            ("cassandra.yaml", 75, "rpc_keepalive: true"),
            ("cassandra.yaml", 109, "server_encryption_options.protocol: TLS"),
            ("cassandra.yaml", 135, "audit_logging_options.logger: [{class_name: BinAuditLogger}]"),
            ("jvm-server.options", 10, "-ea"),
            ("jvm-server.options", 14, "-XX:+UseThreadPriorities"),
            ("jvm-server.options", 21, "-Xss256k"),
            ("jvm-server.options", 27, "-XX:+UseNUMA"),
            ("jvm11-server.options", 9, "-XX:+ParallelRefProcEnabled"),
            ("jvm11-server.options", 10, "-XX:MaxTenuringThreshold=1"),
            ("jvm11-server.options", 11, "-XX:G1HeapRegionSize=16m"),
            ("jvm11-server.options", 12, "-XX:G1RSetUpdatingPauseTimePercent=5"),
            ("jvm11-server.options", 14, "-XX:InitiatingHeapOccupancyPercent=70"),
            // The stock lines, which dbfleet writes into this file itself.
            ("jvm11-server.options", 20, "-Djdk.attach.allowAttachSelf=true"),
            ("jvm11-server.options", 21, "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED"),
            ("jvm11-server.options", 22, "--add-exports java.base/jdk.internal.ref=ALL-UNNAMED"),
            ("jvm11-server.options", 23, "--add-exports java.base/jdk.internal.util=ALL-UNNAMED"),
            ("jvm11-server.options", 24, "--add-exports java.base/sun.nio.ch=ALL-UNNAMED"),
            (
                "jvm11-server.options",
                25,
                "--add-exports java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED",
            ),
            ("jvm11-server.options", 26, "--add-exports java.rmi/sun.rmi.registry=ALL-UNNAMED"),
            ("jvm11-server.options", 27, "--add-exports java.rmi/sun.rmi.server=ALL-UNNAMED"),
            ("jvm11-server.options", 28, "--add-exports java.sql/java.sql=ALL-UNNAMED"),
            ("jvm11-server.options", 30, "--add-opens java.base/java.lang.module=ALL-UNNAMED"),
            ("jvm11-server.options", 31, "--add-opens java.base/jdk.internal.loader=ALL-UNNAMED"),
            ("jvm11-server.options", 32, "--add-opens java.base/jdk.internal.ref=ALL-UNNAMED"),
            ("jvm11-server.options", 33, "--add-opens java.base/jdk.internal.reflect=ALL-UNNAMED"),
            ("jvm11-server.options", 34, "--add-opens java.base/jdk.internal.math=ALL-UNNAMED"),
            ("jvm11-server.options", 35, "--add-opens java.base/jdk.internal.module=ALL-UNNAMED"),
            ("jvm11-server.options", 36, "--add-opens java.base/jdk.internal.util.jar=ALL-UNNAMED"),
            ("jvm11-server.options", 37, "--add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED"),
            ("jvm11-server.options", 43, "-Dio.netty.tryReflectionSetAccessible=true"),
            ("jvm11-server.options", 44, "-Dio.netty.allocator.useCacheForAllThreads=true"),
            ("jvm11-server.options", 45, "-Dio.netty.allocator.maxOrder=11"),
        ],
    );
    assert!(n >= 25, "{n}");
}
