//! Proof against real servers that the PostgreSQL, Redis and ClickHouse
//! renderers write files those servers read the way the catalog says, and
//! that the parsers read the default files of the installed packages.
//!
//! Each server test renders a realistic set of settings, starts a throwaway
//! server of dbfleet-testsupport on the rendered files, and compares what
//! the server reports (`pg_settings`, `CONFIG GET`, `system.settings` and
//! other system tables), normalised through the catalog, with the typed
//! values that were rendered. The round trips parse the files the packages
//! ship (read from the system at test time, not copied into the repo),
//! normalise every setting through the catalog, render, parse again and
//! expect the same settings.
//!
//! Missing servers fail these tests rather than skip them; run
//! `scripts/install-deps.sh` first.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use dbfleet_catalog::{Lookup, Parameter, Typed};
use dbfleet_model::{EngineKind, Value, Version};
use dbfleet_render::{RenderInput, RenderValue, RenderedFile, Setting, TenantInput};
use dbfleet_testsupport::{ClickHouseServer, PgServer, RedisServer};
use secrecy::SecretString;

fn version(text: &str) -> &'static Version {
    Box::leak(Box::new(text.parse().expect("a version")))
}

/// The catalog's parameter for `name` on `version`, or why there is none.
fn parameter(engine: EngineKind, name: &str, version: &Version) -> Result<&'static Parameter, String> {
    match dbfleet_catalog::catalog(engine).lookup(name, version) {
        Lookup::Found(p) | Lookup::Alias { parameter: p, .. } => Ok(p),
        other => Err(format!("{engine} `{name}` on {version}: {other:?}")),
    }
}

/// Reads `value` the way the catalog says `name` is read.
fn normalize(
    engine: EngineKind,
    version: &Version,
    name: &str,
    value: &Value,
) -> Result<(&'static Parameter, Typed), String> {
    let p = parameter(engine, name, version)?;
    p.normalize(engine, value).map(|t| (p, t)).map_err(|e| format!("{engine} `{name}` = {value}: {e}"))
}

/// Settings given as the fleet's YAML strings would give them.
fn settings(engine: EngineKind, version: &Version, pairs: &[(&str, &str)]) -> Vec<Setting<'static>> {
    pairs
        .iter()
        .map(|(name, value)| {
            let (parameter, typed) = normalize(engine, version, name, &Value::String((*value).into())).unwrap();
            Setting { name: &parameter.name, parameter, value: RenderValue::Typed(typed), origin: None }
        })
        .collect()
}

fn secret(engine: EngineKind, version: &Version, name: &str, plaintext: &str) -> Setting<'static> {
    let parameter = parameter(engine, name, version).unwrap();
    Setting {
        name: &parameter.name,
        parameter,
        value: RenderValue::Secret(SecretString::from(plaintext)),
        origin: None,
    }
}

/// A `password` tenant setting; no catalog has one yet, so the parameter
/// is made up here the way a catalog entry would describe it.
fn tenant_password(plaintext: &str) -> Setting<'static> {
    let parameter: &'static Parameter = Box::leak(Box::new(Parameter {
        name: "password".into(),
        ty: dbfleet_catalog::ParamType::String,
        unit: None,
        min: None,
        max: None,
        default: None,
        values: Vec::new(),
        scope: dbfleet_catalog::ScopeSet::Tenant,
        apply: dbfleet_model::ApplyMethod::Reload,
        since: None,
        until: None,
        replaced_by: None,
        aliases: Vec::new(),
        section: "users".into(),
        sensitive: true,
        read_only: false,
        description: "The tenant user's password.".into(),
    }));
    Setting {
        name: &parameter.name,
        parameter,
        value: RenderValue::Secret(SecretString::from(plaintext)),
        origin: None,
    }
}

fn input(engine: EngineKind, version: &'static Version, settings: Vec<Setting<'static>>) -> RenderInput<'static> {
    RenderInput {
        engine,
        version,
        instance: "test-1",
        fleet: "test",
        revision: "working-tree",
        annotate: true,
        settings,
        tenants: Vec::new(),
    }
}

fn file<'f>(files: &'f [RenderedFile], path: &str) -> &'f RenderedFile {
    files.iter().find(|f| f.path == path).unwrap_or_else(|| panic!("no {path} among {files:?}"))
}

fn typed(s: &Setting<'_>) -> Typed {
    match &s.value {
        RenderValue::Typed(t) => t.clone(),
        RenderValue::Secret(secret) => Typed::Str(secrecy::ExposeSecret::expose_secret(secret).to_string()),
    }
}

/// Parses native files, normalises every setting through the catalog
/// (later settings of a name replace earlier ones), renders them and parses
/// the rendered files again; both readings must agree. Returns how many
/// settings and unmapped entries the first reading had.
fn round_trip(engine: EngineKind, version: &'static Version, files: &[(&str, String)]) -> (usize, usize) {
    let mut errors = Vec::new();
    let mut read = |files: Vec<(String, String)>, unmapped: &mut usize| {
        let mut out: BTreeMap<String, (&'static Parameter, Typed)> = BTreeMap::new();
        for (name, text) in files {
            let parsed = dbfleet_render::parse(engine, &name, &text).unwrap_or_else(|e| panic!("{name}: {e}"));
            *unmapped += parsed.unmapped.len();
            for u in &parsed.unmapped {
                eprintln!("{engine} {name}:{}: unmapped `{}`: {}", u.line, u.text, u.reason);
            }
            for s in parsed.settings {
                match normalize(engine, version, &s.name, &s.value) {
                    Ok((p, t)) => {
                        out.insert(p.name.clone(), (p, t));
                    }
                    Err(e) => errors.push(format!("{name}:{}: {e}", s.line)),
                }
            }
        }
        out
    };
    let mut unmapped = 0;
    let first = read(files.iter().map(|(n, t)| (n.to_string(), t.clone())).collect(), &mut unmapped);
    let settings = first
        .values()
        .map(|(p, t)| Setting { name: &p.name, parameter: p, value: RenderValue::Typed(t.clone()), origin: None })
        .collect();
    let mut input = input(engine, version, settings);
    input.annotate = false;
    let rendered = dbfleet_render::render(&input).unwrap();
    let mut unmapped_again = 0;
    let second = read(rendered.iter().map(|f| (f.path.clone(), f.contents.clone())).collect(), &mut unmapped_again);
    assert!(errors.is_empty(), "settings the catalog does not read:\n{}", errors.join("\n"));
    assert_eq!(unmapped_again, 0, "the rendered files hold something the parser does not map");
    let strip = |m: &BTreeMap<String, (&Parameter, Typed)>| {
        m.iter().map(|(k, (_, t))| (k.clone(), t.clone())).collect::<BTreeMap<_, _>>()
    };
    assert_eq!(strip(&first), strip(&second));
    (first.len(), unmapped)
}

// ---------------------------------------------------------------- PostgreSQL

/// A small server's worth of memory, WAL, checkpoint, logging, autovacuum,
/// parallelism and timeout settings, a list, and strings that need quoting.
const PG_SETTINGS: &[(&str, &str)] = &[
    ("shared_buffers", "64MB"),
    ("effective_cache_size", "256MB"),
    ("work_mem", "8MB"),
    ("maintenance_work_mem", "64MB"),
    ("temp_buffers", "16MB"),
    ("wal_buffers", "4MB"),
    ("max_connections", "50"),
    ("superuser_reserved_connections", "2"),
    ("min_wal_size", "160MB"),
    ("max_wal_size", "512MB"),
    ("checkpoint_timeout", "10min"),
    ("checkpoint_completion_target", "0.8"),
    ("checkpoint_warning", "45s"),
    ("wal_level", "replica"),
    ("wal_compression", "lz4"),
    ("synchronous_commit", "local"),
    ("wal_writer_delay", "100ms"),
    ("commit_delay", "10"),
    ("random_page_cost", "1.1"),
    ("effective_io_concurrency", "100"),
    ("default_statistics_target", "200"),
    ("log_min_duration_statement", "500ms"),
    ("log_checkpoints", "on"),
    ("log_lock_waits", "on"),
    ("log_temp_files", "0"),
    ("log_line_prefix", "%m [%p] %q%u@%d "),
    ("log_connections", "on"),
    ("log_statement", "ddl"),
    ("log_autovacuum_min_duration", "1s"),
    ("autovacuum_max_workers", "2"),
    ("autovacuum_naptime", "30s"),
    ("autovacuum_vacuum_scale_factor", "0.05"),
    ("autovacuum_vacuum_cost_delay", "2ms"),
    ("autovacuum_vacuum_cost_limit", "500"),
    ("max_worker_processes", "4"),
    ("max_parallel_workers", "2"),
    ("max_parallel_workers_per_gather", "1"),
    ("max_parallel_maintenance_workers", "1"),
    ("statement_timeout", "60s"),
    ("idle_in_transaction_session_timeout", "5min"),
    ("lock_timeout", "10s"),
    ("deadlock_timeout", "2s"),
    ("temp_file_limit", "1GB"),
    ("shared_preload_libraries", "pg_stat_statements,auto_explain"),
    ("password_encryption", "scram-sha-256"),
    ("timezone", "Europe/Berlin"),
    ("datestyle", "ISO, DMY"),
    // Not application_name, which psql sets for its own session.
    ("cluster_name", "it's a \\ test"),
    ("search_path", "\"$user\", public"),
    ("default_transaction_isolation", "repeatable read"),
    ("jit", "off"),
    ("huge_pages", "off"),
    ("track_io_timing", "on"),
];

#[test]
fn postgresql_reports_every_rendered_setting() {
    let engine = EngineKind::Postgresql;
    let v15 = version("15");
    let mut input = input(engine, v15, settings(engine, v15, PG_SETTINGS));
    input.tenants = vec![
        TenantInput {
            tenant: "acme \"corp\"",
            settings: settings(
                engine,
                v15,
                &[("statement_timeout", "30s"), ("work_mem", "64MB"), ("search_path", "\"$user\", acme, public")],
            ),
        },
        TenantInput {
            tenant: "zeta",
            settings: settings(
                engine,
                v15,
                &[("lock_timeout", "5s"), ("default_transaction_isolation", "serializable")],
            ),
        },
    ];
    let files = dbfleet_render::render(&input).unwrap();

    let pg = PgServer::start().unwrap();
    std::fs::write(pg.data_dir().join("dbfleet.conf"), &file(&files, "postgresql.conf").contents).unwrap();
    let mut conf = std::fs::OpenOptions::new().append(true).open(pg.config_file()).unwrap();
    writeln!(conf, "\ninclude 'dbfleet.conf'").unwrap();
    pg.restart().unwrap_or_else(|e| panic!("{e}\n{}", pg.log_tail()));

    let problems = pg
        .psql("SELECT name || ': ' || coalesce(error, 'not applied') FROM pg_file_settings WHERE sourcefile LIKE '%/dbfleet.conf' AND (error IS NOT NULL OR NOT applied)")
        .unwrap();
    assert_eq!(problems, "", "settings of the rendered file the server did not take");

    let names: Vec<String> = input.settings.iter().map(|s| format!("'{}'", s.name)).collect();
    let rows = pg
        .psql(&format!(
            "SELECT lower(name) || chr(31) || setting || chr(31) || coalesce(unit, '') || chr(31) || pending_restart \
             FROM pg_settings WHERE lower(name) IN ({})",
            names.join(", ")
        ))
        .unwrap();
    let mut verified = 0;
    for row in rows.lines() {
        let [name, setting, unit, pending]: [&str; 4] = row.split('\u{1f}').collect::<Vec<_>>().try_into().unwrap();
        let rendered = input.settings.iter().find(|s| s.name == name).unwrap();
        assert_eq!(pending, "false", "{name} waits for a restart");
        // pg_settings reports a bare number in the parameter's unit, the
        // unit the catalog was generated with.
        assert_eq!(rendered.parameter.unit.as_deref().unwrap_or(""), unit, "{name}: unit");
        let (_, reported) = normalize(engine, v15, name, &Value::String(setting.into())).unwrap();
        assert_eq!(reported, typed(rendered), "{name}: pg_settings says `{setting}{unit}`");
        verified += 1;
    }
    assert_eq!(verified, input.settings.len(), "pg_settings lacks some rendered parameters:\n{rows}");
    eprintln!("postgresql: {verified} parameters verified in pg_settings");

    // Tenant roles: a stale setting must go, the rendered ones must be set,
    // and applying the file again must change nothing.
    pg.psql("CREATE ROLE \"acme \"\"corp\"\"\"; CREATE ROLE zeta; ALTER ROLE zeta SET work_mem = '1MB'").unwrap();
    let sql = &file(&files, "tenants.sql").contents;
    let role_settings = || {
        pg.psql(
            "SELECT r.rolname || chr(31) || c FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole, \
             unnest(s.setconfig) c WHERE s.setdatabase = 0 ORDER BY 1",
        )
        .unwrap()
    };
    pg.psql(sql).unwrap();
    let once = role_settings();
    pg.psql(sql).unwrap();
    assert_eq!(role_settings(), once, "applying tenants.sql twice changed something");
    let mut reported: BTreeMap<(String, String), Typed> = BTreeMap::new();
    for row in once.lines() {
        let (role, assignment) = row.split_once('\u{1f}').unwrap();
        let (name, value) = assignment.split_once('=').unwrap();
        let (_, t) = normalize(engine, v15, &name.to_lowercase(), &Value::String(value.into())).unwrap();
        reported.insert((role.to_string(), name.to_lowercase()), t);
    }
    let expected: BTreeMap<(String, String), Typed> = input
        .tenants
        .iter()
        .flat_map(|t| t.settings.iter().map(move |s| ((t.tenant.to_string(), s.name.to_string()), typed(s))))
        .collect();
    assert_eq!(reported, expected);
    eprintln!("postgresql: {} tenant role settings verified in pg_db_role_setting", expected.len());
}

/// Connects as `user` with `password` to `database` over TCP and runs
/// `SELECT current_user`, returning psql's error on failure.
fn psql_as(pg: &PgServer, user: &str, password: &str, database: &str) -> Result<String, String> {
    let out = Command::new("/usr/lib/postgresql/15/bin/psql")
        .args(["-X", "-At", "-c", "SELECT current_user", "-d"])
        .arg(format!("host=127.0.0.1 port={} user={user} dbname={database}", pg.port()))
        .env("PGPASSWORD", password)
        .env("PGCONNECT_TIMEOUT", "10")
        .output()
        .unwrap();
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

#[test]
fn postgresql_enforces_the_rendered_pg_hba() {
    let engine = EngineKind::Postgresql;
    let v15 = version("15");
    // The harness connects as postgres over TCP without a password.
    let rules = "[local all all trust, host all postgres 127.0.0.1/32 trust, \
                 host all all 127.0.0.1/32 scram-sha-256]";
    let mut input = input(engine, v15, settings(engine, v15, &[("hba", rules)]));
    input.tenants = ["acme", "zeta"].map(|tenant| TenantInput { tenant, settings: Vec::new() }).into_iter().collect();
    let files = dbfleet_render::render(&input).unwrap();

    let pg = PgServer::start().unwrap();
    pg.psql(
        "CREATE ROLE acme LOGIN PASSWORD 'acme-pw'; CREATE ROLE zeta LOGIN PASSWORD 'zeta-pw'; \
         CREATE ROLE other LOGIN PASSWORD 'other-pw'",
    )
    .unwrap();
    for db in ["acme", "zeta", "other"] {
        pg.psql(&format!("CREATE DATABASE {db}")).unwrap();
    }
    // Before: initdb's rules let anyone on loopback in.
    assert_eq!(psql_as(&pg, "zeta", "", "acme").as_deref(), Ok("zeta"));

    let hba_file = pg.psql("SHOW hba_file").unwrap();
    std::fs::write(&hba_file, &file(&files, "pg_hba.conf").contents).unwrap();
    pg.psql("SELECT pg_reload_conf()").unwrap();
    wait_for("the rendered pg_hba.conf to be loaded", || psql_as(&pg, "zeta", "", "acme").is_err());

    let errors = pg.psql("SELECT line_number || ': ' || error FROM pg_hba_file_rules WHERE error IS NOT NULL").unwrap();
    assert_eq!(errors, "", "rules the server refused");
    let count: usize = pg.psql("SELECT count(*) FROM pg_hba_file_rules").unwrap().parse().unwrap();
    assert_eq!(count, 3 + 2 * 3, "the fleet's rules and three per tenant");

    // Each tenant reaches its own database with its password, and nothing else.
    assert_eq!(psql_as(&pg, "zeta", "zeta-pw", "zeta").as_deref(), Ok("zeta"));
    assert_eq!(psql_as(&pg, "acme", "acme-pw", "acme").as_deref(), Ok("acme"));
    for (user, password, db) in
        [("zeta", "zeta-pw", "acme"), ("acme", "acme-pw", "postgres"), ("zeta", "zeta-pw", "other")]
    {
        let err = psql_as(&pg, user, password, db).unwrap_err();
        assert!(err.contains("pg_hba.conf rejects connection"), "{user} into {db}: {err}");
    }
    let err = psql_as(&pg, "zeta", "wrong", "zeta").unwrap_err();
    assert!(err.contains("password authentication failed"), "{err}");
    // The fleet's own rules follow: another role logs in with its password.
    assert_eq!(psql_as(&pg, "other", "other-pw", "other").as_deref(), Ok("other"));
    assert!(psql_as(&pg, "other", "wrong", "other").is_err());
    eprintln!("postgresql: pg_hba.conf with {count} rules loaded and enforced");
}

#[test]
fn postgresql_default_files_round_trip() {
    let sample = std::fs::read_to_string("/usr/share/postgresql/15/postgresql.conf.sample").unwrap();
    let parsed = dbfleet_render::parse(EngineKind::Postgresql, "postgresql.conf", &sample).unwrap();
    // Everything in the sample is commented out.
    assert_eq!((parsed.settings.len(), parsed.unmapped.len()), (0, 0));
    let pg = PgServer::start().unwrap();
    let generated = std::fs::read_to_string(pg.config_file()).unwrap();
    let hba = std::fs::read_to_string(pg.data_dir().join("pg_hba.conf")).unwrap();
    let (settings, unmapped) = round_trip(
        EngineKind::Postgresql,
        version("15"),
        &[("postgresql.conf", sample), ("postgresql.conf", generated), ("pg_hba.conf", hba)],
    );
    assert!(settings >= 10, "initdb's postgresql.conf sets at least 10 parameters, read {settings}");
    eprintln!("postgresql round trip: {settings} settings, {unmapped} unmapped");
}

// ---------------------------------------------------------------- Redis

const REDIS_SETTINGS: &[(&str, &str)] = &[
    ("maxmemory", "64mb"),
    ("maxmemory-policy", "allkeys-lru"),
    ("maxmemory-samples", "7"),
    ("maxmemory-eviction-tenacity", "20"),
    ("timeout", "300"),
    ("tcp-keepalive", "60"),
    ("tcp-backlog", "128"),
    ("databases", "8"),
    ("appendonly", "yes"),
    ("appendfsync", "everysec"),
    ("appendfilename", "dbfleet.aof"),
    ("auto-aof-rewrite-percentage", "50"),
    ("auto-aof-rewrite-min-size", "32mb"),
    ("save", "3600 1 300 100 60 10000"),
    ("dbfilename", "dump dbfleet.rdb"),
    ("rdbcompression", "yes"),
    ("rdbchecksum", "yes"),
    ("stop-writes-on-bgsave-error", "no"),
    ("slowlog-log-slower-than", "5000"),
    ("slowlog-max-len", "256"),
    ("latency-monitor-threshold", "100"),
    ("latency-tracking-info-percentiles", "50 99 99.9"),
    ("lazyfree-lazy-eviction", "yes"),
    ("lazyfree-lazy-expire", "yes"),
    ("hz", "20"),
    ("dynamic-hz", "yes"),
    ("activerehashing", "yes"),
    ("notify-keyspace-events", "xE"),
    ("hash-max-listpack-entries", "256"),
    ("list-max-listpack-size", "-2"),
    ("set-max-intset-entries", "1024"),
    ("zset-max-listpack-entries", "64"),
    ("proc-title-template", "{title} {listen-addr} {server-mode} dbfleet"),
    ("oom-score-adj-values", "0 100 500"),
    ("replica-priority", "50"),
    ("repl-backlog-size", "2mb"),
    ("repl-timeout", "30"),
    ("min-replicas-max-lag", "15"),
    ("loglevel", "verbose"),
    ("acllog-max-len", "64"),
    ("lfu-log-factor", "12"),
    ("lfu-decay-time", "2"),
    ("active-expire-effort", "2"),
];

#[test]
fn redis_reports_every_rendered_setting() {
    let engine = EngineKind::Redis;
    let v7 = version("7.0");
    let dir = tempfile::tempdir().unwrap();
    let acl_path = dir.path().join("users.acl");
    let requirepass = "default pass \"quoted\"";
    let mut settings = settings(engine, v7, REDIS_SETTINGS);
    settings.extend(self::settings(engine, v7, &[("aclfile", acl_path.to_str().unwrap())]));
    settings.push(secret(engine, v7, "requirepass", requirepass));
    let mut input = input(engine, v7, settings);
    input.tenants = vec![
        TenantInput { tenant: "acme", settings: vec![tenant_password("acme pass")] },
        TenantInput { tenant: "globex", settings: Vec::new() },
    ];
    let files = dbfleet_render::render(&input).unwrap();
    assert!(file(&files, "redis.conf").sensitive && file(&files, "users.acl").sensitive);
    let conf_path = dir.path().join("redis.conf");
    std::fs::write(&conf_path, &file(&files, "redis.conf").contents).unwrap();
    std::fs::write(&acl_path, &file(&files, "users.acl").contents).unwrap();

    let redis = RedisServer::start_with_config_lines(&[&format!("include {}", conf_path.display())]).unwrap();
    let as_default = |args: &[&str]| {
        let mut all = vec!["--user", "default", "--pass", requirepass, "--no-auth-warning"];
        all.extend_from_slice(args);
        redis.cli(&all)
    };
    let mut verified = 0;
    for s in &input.settings {
        let reply = as_default(&["CONFIG", "GET", s.name]).unwrap_or_else(|e| panic!("{e}\n{}", redis.log_tail()));
        let value =
            reply.strip_prefix(&format!("{}\n", s.name)).unwrap_or_else(|| panic!("CONFIG GET {}: {reply:?}", s.name));
        let (_, reported) = normalize(engine, v7, s.name, &Value::String(value.into())).unwrap();
        assert_eq!(reported, typed(s), "{}: CONFIG GET says `{value}`", s.name);
        verified += 1;
    }
    eprintln!("redis: {verified} parameters verified with CONFIG GET");

    // users.acl: requirepass still guards `default`; the tenant with a
    // password gets in and stays in its keys; the one without is off.
    assert!(redis.cli(&["PING"]).is_err(), "default user without a password got in");
    let as_user = |user: &str, pass: &str, args: &[&str]| {
        let mut all = vec!["--user", user, "--pass", pass, "--no-auth-warning"];
        all.extend_from_slice(args);
        redis.cli(&all)
    };
    assert_eq!(as_user("acme", "acme pass", &["SET", "acme:k", "v"]).unwrap(), "OK");
    assert!(as_user("acme", "acme pass", &["SET", "globex:k", "v"]).is_err(), "acme wrote outside its keys");
    assert!(as_user("acme", "acme pass", &["CONFIG", "GET", "maxmemory"]).is_err(), "acme ran a dangerous command");
    assert!(as_user("globex", "", &["PING"]).is_err(), "globex has no password but got in");
    let users = as_default(&["ACL", "LIST"]).unwrap();
    assert_eq!(users.lines().count(), 3, "{users}");
    assert!(users.lines().any(|l| l.starts_with("user globex off ")), "{users}");
}

#[test]
fn redis_default_file_round_trips() {
    let text = std::fs::read_to_string("/etc/redis/redis.conf").unwrap();
    let (settings, unmapped) = round_trip(EngineKind::Redis, version("7.0"), &[("redis.conf", text)]);
    assert!(settings >= 50, "Debian's redis.conf sets more than 50 parameters, read {settings}");
    eprintln!("redis round trip: {settings} settings, {unmapped} unmapped");
}

// ---------------------------------------------------------------- ClickHouse

/// Profile settings of the instance (the `default` profile).
const CH_PROFILE: &[(&str, &str)] = &[
    ("max_memory_usage", "2000000000"),
    ("max_threads", "2"),
    ("max_execution_time", "120"),
    ("load_balancing", "nearest_hostname"),
    ("use_uncompressed_cache", "1"),
    ("log_queries", "1"),
    ("max_query_size", "524288"),
    ("max_result_rows", "100000"),
    ("result_overflow_mode", "break"),
    ("distributed_product_mode", "local"),
    ("join_use_nulls", "1"),
    ("max_bytes_before_external_group_by", "1000000000"),
    ("max_bytes_before_external_sort", "1000000000"),
    ("connect_timeout", "5"),
    ("receive_timeout", "600"),
    ("send_timeout", "600"),
    ("max_block_size", "32768"),
    ("max_insert_block_size", "524288"),
    ("priority", "1"),
    ("skip_unavailable_shards", "1"),
    ("input_format_allow_errors_num", "10"),
    ("output_format_json_quote_64bit_integers", "0"),
    ("queue_max_wait_ms", "2000"),
    ("background_pool_size", "8"),
];

/// Server elements, each checked through a system table or its effect.
const CH_CHECKED: &[(&str, &str)] = &[
    ("timezone", "Europe/Berlin"),
    ("default_database", "system"),
    ("keep_alive_timeout", "7"),
    ("logger.level", "debug"),
    ("max_table_size_to_drop", "1"),
    ("max_partition_size_to_drop", "2"),
    ("query_log.table", "dbfleet_query_log"),
    ("merge_tree.parts_to_delay_insert", "200"),
    ("merge_tree.parts_to_throw_insert", "400"),
    ("merge_tree.max_suspicious_broken_parts", "20"),
    ("merge_tree.old_parts_lifetime", "600"),
    ("macros", "{shard: s1, replica: r-1}"),
    (
        "remote_servers",
        "{dbfleet_c1: {shard: [{replica: {host: 127.0.0.1, port: 9000}}, {replica: {host: 127.0.0.2, port: 9001}}]}}",
    ),
];

/// Server elements 18.16 takes (it starts with them) but shows nowhere.
const CH_UNCHECKED: &[(&str, &str)] = &[
    ("max_concurrent_queries", "50"),
    ("mark_cache_size", "536870912"),
    ("logger.size", "100M"),
    ("query_log.flush_interval_milliseconds", "500"),
];

fn clickhouse_client(server: &ClickHouseServer, user: &str, password: &str, sql: &str) -> Result<String, String> {
    let output = Command::new("clickhouse-client")
        .args(["--host", "127.0.0.1", "--port", &server.tcp_port().to_string(), "--user", user, "--password", password])
        .args(["--query", sql])
        .output()
        .map_err(|e| e.to_string())?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim_end().to_string())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// `name\tvalue` rows as a map.
fn rows(text: &str) -> BTreeMap<String, String> {
    text.lines().filter_map(|l| l.split_once('\t')).map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// The `Keep-Alive` header of an HTTP answer, read with a bare request so
/// that nothing in between rewrites it.
fn keep_alive_header(port: u16) -> Option<String> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    stream.write_all(b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n").ok()?;
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&answer).lines().find_map(|l| l.strip_prefix("Keep-Alive: ").map(str::to_string))
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(30), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn clickhouse_reports_the_rendered_settings() {
    let engine = EngineKind::Clickhouse;
    let v = version("18.16.1");
    let mut all = settings(engine, v, CH_PROFILE);
    all.extend(settings(engine, v, CH_CHECKED));
    all.extend(settings(engine, v, CH_UNCHECKED));
    let mut input = input(engine, v, all);
    let acme_password = "acme & <pass>";
    let mut acme =
        settings(engine, v, &[("max_threads", "1"), ("max_execution_time", "30"), ("max_result_rows", "10")]);
    acme.push(tenant_password(acme_password));
    input.tenants = vec![
        TenantInput { tenant: "acme", settings: acme },
        TenantInput { tenant: "zeta", settings: settings(engine, v, &[("max_threads", "1")]) },
    ];
    let files = dbfleet_render::render(&input).unwrap();

    let server = ClickHouseServer::start().unwrap();
    std::fs::write(server.config_d().join("dbfleet.xml"), &file(&files, "config.d/dbfleet.xml").contents).unwrap();
    std::fs::write(server.users_d().join("dbfleet.xml"), &file(&files, "users.d/dbfleet.xml").contents).unwrap();
    let tenants = file(&files, "users.d/dbfleet-tenants.xml");
    assert!(tenants.sensitive && !file(&files, "users.d/dbfleet.xml").contents.contains("<acme>"));
    std::fs::write(server.users_d().join("dbfleet-tenants.xml"), &tenants.contents).unwrap();
    server.restart().unwrap_or_else(|e| panic!("{e}\n{}", server.log_tail()));
    let query = |sql: &str| server.query(sql).unwrap_or_else(|e| panic!("{sql}: {e}\n{}", server.log_tail()));
    let setting = |name: &str| input.settings.iter().find(|s| s.name == name).unwrap();
    let check = |name: &str, reported: &str| {
        let (_, t) = normalize(engine, v, name, &Value::String(reported.into())).unwrap();
        assert_eq!(t, typed(setting(name)), "{name}: the server reports `{reported}`");
    };

    // The default profile, as the default user sees it.
    let changed = rows(&query("SELECT name, value FROM system.settings WHERE changed"));
    for (name, _) in CH_PROFILE {
        check(name, changed.get(*name).unwrap_or_else(|| panic!("{name} is not changed: {changed:?}")));
    }
    let mut verified = CH_PROFILE.len();

    // Server elements.
    check("timezone", &query("SELECT timezone()"));
    check("default_database", &query("SELECT currentDatabase()"));
    let keep_alive = keep_alive_header(server.http_port()).expect("a Keep-Alive header");
    check("keep_alive_timeout", keep_alive.strip_prefix("timeout=").unwrap_or(&keep_alive));
    let log = server.config_dir().parent().unwrap().join("log/clickhouse-server.log");
    assert!(std::fs::read_to_string(&log).unwrap().contains("<Debug>"), "logger.level debug wrote no debug lines");
    let merge_tree = rows(&query(
        "SELECT name, value FROM system.merge_tree_settings WHERE name IN \
         ('parts_to_delay_insert', 'parts_to_throw_insert', 'max_suspicious_broken_parts', 'old_parts_lifetime')",
    ));
    for (name, value) in &merge_tree {
        check(&format!("merge_tree.{name}"), value);
    }
    assert_eq!(merge_tree.len(), 4);
    let macros = rows(&query("SELECT macro, substitution FROM system.macros"));
    assert_eq!(Typed::Map(macros.into_iter().map(|(k, v)| (k, Typed::Str(v))).collect()), typed(setting("macros")));
    let clusters = query(
        "SELECT host_name, port FROM system.clusters WHERE cluster = 'dbfleet_c1' ORDER BY shard_num, replica_num",
    );
    assert_eq!(clusters, "127.0.0.1\t9000\n127.0.0.2\t9001");
    // The drop limits of one and two bytes refuse to drop a table with rows
    // in it, and the refusal names the limit.
    query("CREATE TABLE default.t (d Date, x UInt64) ENGINE = MergeTree() PARTITION BY d ORDER BY x");
    query("INSERT INTO default.t SELECT toDate('2024-01-01'), number FROM system.numbers LIMIT 1000");
    let refused = server.query("ALTER TABLE default.t DROP PARTITION '2024-01-01'").unwrap_err().to_string();
    assert!(refused.contains("size_to_drop (2.00 B)"), "{refused}");
    let refused = server.query("DROP TABLE default.t").unwrap_err().to_string();
    assert!(refused.contains("size_to_drop (1.00 B)"), "{refused}");
    // log_queries in the default profile fills the renamed query log.
    wait_for("system.dbfleet_query_log", || {
        query("SELECT 1");
        query("SELECT count() FROM system.tables WHERE database = 'system' AND name = 'dbfleet_query_log'") == "1"
    });
    verified += CH_CHECKED.len();
    eprintln!(
        "clickhouse: {verified} parameters verified ({} of the default profile, {} server elements); {} accepted but not observable: {:?}",
        CH_PROFILE.len(),
        CH_CHECKED.len(),
        CH_UNCHECKED.len(),
        CH_UNCHECKED.iter().map(|(n, _)| n).collect::<Vec<_>>()
    );

    // A tenant's profile inherits the default one and overrides it.
    let tenant = rows(
        &clickhouse_client(&server, "acme", acme_password, "SELECT name, value FROM system.settings WHERE changed")
            .unwrap(),
    );
    let acme = &input.tenants[0];
    for s in acme.settings.iter().filter(|s| s.name != "password") {
        let (_, t) = normalize(engine, v, s.name, &Value::String(tenant[s.name].clone())).unwrap();
        assert_eq!(t, typed(s), "acme {}", s.name);
    }
    check("join_use_nulls", &tenant["join_use_nulls"]);
    assert!(clickhouse_client(&server, "acme", "wrong", "SELECT 1").is_err(), "a wrong password got in");
    assert!(clickhouse_client(&server, "zeta", "", "SELECT 1").is_err(), "zeta has no password but got in");
}

#[test]
fn clickhouse_default_files_round_trip() {
    let dir = Path::new("/etc/clickhouse-server");
    let config = std::fs::read_to_string(dir.join("config.xml")).unwrap();
    let users = std::fs::read_to_string(dir.join("users.xml")).unwrap();
    let (settings, unmapped) =
        round_trip(EngineKind::Clickhouse, version("18.16"), &[("config.xml", config), ("users.xml", users)]);
    assert!(settings >= 30, "Debian's config.xml and users.xml set more than 30 parameters, read {settings}");
    eprintln!("clickhouse round trip: {settings} settings, {unmapped} unmapped");
}
