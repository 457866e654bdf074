//! `render` and `import` through the real binary: files, modes, secrets,
//! the recorded revision, and the round trip of the configuration files the
//! installed PostgreSQL, Redis and ClickHouse packages ship.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use dbfleet_catalog::Typed;

use crate::harness::TestFleet;
use crate::validation::fleet_for;

const SECRET: &str = "r3nder-Secret-never-in-logs";

#[test]
fn render_writes_files_with_modes_and_secrets_only_where_needed() {
    let fleet = fleet_for(
        dbfleet_model::EngineKind::Redis,
        "7.0.15",
        "  maxmemory: 1gb\n  requirepass: {$secret: env:DBFLEET_TEST_REDIS_PASS}\n",
        "",
    );
    let out = fleet.path().join("out");
    let run = fleet
        .run_env(&["render", "--annotate", "--out", out.to_str().unwrap()], &[("DBFLEET_TEST_REDIS_PASS", SECRET)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stdout.contains(SECRET) && !run.stderr.contains(SECRET));
    let conf = out.join("i-1/redis.conf");
    let text = std::fs::read_to_string(&conf).unwrap();
    assert!(text.contains(SECRET), "the rendered file needs the secret");
    assert!(text.contains("layers/base/redis.yaml:2"), "--annotate writes provenance:\n{text}");
    assert_eq!(std::fs::metadata(&conf).unwrap().permissions().mode() & 0o777, 0o600);
    assert!(run.stderr.contains("rendered revision"), "{}", run.stderr);
    // The store keeps only the digest of a secret-bearing file.
    let db = std::fs::read(fleet.path().join(".dbfleet/state.db")).unwrap();
    assert!(!String::from_utf8_lossy(&db).contains(SECRET));
    // A missing secret is an error with its location, exit 5.
    let run = fleet.run(&["render", "--out", out.to_str().unwrap()]);
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(run.stderr.contains("--> layers/base/redis.yaml:3"), "{}", run.stderr);
}

#[test]
fn render_is_deterministic() {
    let fleet = fleet_for(
        dbfleet_model::EngineKind::Postgresql,
        "16.4",
        "  work_mem: 32MB\n  shared_buffers: 1GB\n  log_line_prefix: '%m [%p] '\n",
        "  statement_timeout: 30s\n",
    );
    let (a, b) = (fleet.path().join("a"), fleet.path().join("b"));
    assert_eq!(fleet.run(&["render", "--out", a.to_str().unwrap()]).code, 0);
    assert_eq!(fleet.run(&["render", "--out", b.to_str().unwrap()]).code, 0);
    for f in ["i-1/postgresql.conf", "i-1/tenants.sql"] {
        assert_eq!(std::fs::read(a.join(f)).unwrap(), std::fs::read(b.join(f)).unwrap(), "{f}");
    }
}

/// The settings of an imported layer file, normalised through the catalog.
fn normalised(engine: dbfleet_model::EngineKind, layer: &Path) -> BTreeMap<String, Typed> {
    let text = std::fs::read_to_string(layer).unwrap();
    let node = dbfleet_model::yaml::parse("layer", &text).unwrap();
    let settings = node.get(engine.as_str()).and_then(|e| e.get("instance")).expect("an instance section");
    let catalog = dbfleet_catalog::catalog(engine);
    settings
        .as_map()
        .unwrap_or_default()
        .iter()
        .map(|(k, v)| {
            let name = k.as_str().unwrap().to_string();
            let p = catalog.get(&name).unwrap_or_else(|| panic!("imported `{name}` is not a catalog name"));
            let t = p.normalize(engine, &v.to_value()).unwrap_or_else(|e| panic!("`{name}`: {e}"));
            (name, t)
        })
        .collect()
}

/// Imports `files` for `engine` into a layer, validates a fleet built on
/// it, renders it, imports the rendered files again, and checks that the
/// same settings with equal values come back.
fn round_trip(engine: dbfleet_model::EngineKind, version: &str, files: &[&Path], rendered: &[&str], at_least: usize) {
    let fleet = fleet_for(engine, version, "", "");
    let layer = fleet.path().join("layers/environments/staging.yaml");
    let import = |out: &Path, files: Vec<String>| {
        let mut args = vec![
            "import".to_string(),
            "--engine".into(),
            engine.as_str().into(),
            "--version".into(),
            version.into(),
            "--out".into(),
            out.display().to_string(),
        ];
        args.extend(files);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = fleet.run(&args);
        assert_eq!(run.code, 0, "import: {}", run.stderr);
    };
    import(&layer, files.iter().map(|f| f.display().to_string()).collect());
    let first = normalised(engine, &layer);
    assert!(first.len() >= at_least, "only {} settings imported from {files:?}", first.len());
    let run = fleet.run(&["validate"]);
    assert_eq!(run.code, 0, "imported {files:?} do not validate:\n{}", run.stderr);
    let out = fleet.path().join("out");
    let run = fleet.run(&["render", "--out", out.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let again = fleet.path().join("again.yaml");
    import(&again, rendered.iter().map(|r| out.join("i-1").join(r).display().to_string()).collect());
    assert_eq!(first, normalised(engine, &again), "round trip of {files:?} changed settings");
}

#[test]
fn shipped_redis_conf_round_trips() {
    round_trip(dbfleet_model::EngineKind::Redis, "7.0.15", &[Path::new("/etc/redis/redis.conf")], &["redis.conf"], 50);
}

#[test]
fn shipped_postgresql_conf_round_trips() {
    // Debian's shipped sample is all comments; initdb's generated file is
    // the one a server really starts with.
    let pg = dbfleet_testsupport::PgServer::start().expect("PostgreSQL starts");
    round_trip(dbfleet_model::EngineKind::Postgresql, "15.18", &[pg.config_file()], &["postgresql.conf"], 10);
}

#[test]
fn shipped_clickhouse_config_and_users_xml_round_trip() {
    round_trip(
        dbfleet_model::EngineKind::Clickhouse,
        "18.16.1",
        &[Path::new("/etc/clickhouse-server/config.xml"), Path::new("/etc/clickhouse-server/users.xml")],
        &["config.d/dbfleet.xml", "users.d/dbfleet.xml"],
        30,
    );
}

#[test]
fn import_lists_what_it_cannot_map() {
    let fleet = TestFleet::new(&[]);
    fleet.write(
        "redis.conf",
        "maxmemory 1gb\ninclude /etc/redis/extra.conf\nmaxmemroy 2gb\nrename-command FLUSHALL \"\"\n",
    );
    let run = fleet.run(&["import", "--engine", "redis", fleet.path().join("redis.conf").to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("maxmemory: 1gb"), "{}", run.stdout);
    for line in [":2: include", ":3: maxmemroy", "did you mean `maxmemory`?", ":4: rename-command"] {
        assert!(run.stderr.contains(line), "missing {line}:\n{}", run.stderr);
    }
    // Invalid values are reported with their line and left out.
    fleet.write("bad.conf", "maxmemory lots\nmaxclients 100\n");
    let run = fleet.run(&["import", "--engine", "redis", fleet.path().join("bad.conf").to_str().unwrap()]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("bad.conf:1:1"), "{}", run.stderr);
    assert!(run.stdout.contains("maxclients: \"100\"") && !run.stdout.contains("maxmemory:"), "{}", run.stdout);
}

#[test]
fn import_override_yaml_with_placeholders() {
    let fleet = TestFleet::new(&[]);
    fleet.write(
        "overrides.yaml",
        "postgresql:\n  connection:\n    max_connections: 200\n  performance:\n    shared_buffers: 4GB\n    work_mem: 64MB\n  security:\n    ssl: on\nredis:\n  memory:\n    maxmemory: 2gb\n  security:\n    requirepass: ${REDIS_PASSWORD}\n",
    );
    let run = fleet.run(&["import", "--overrides", fleet.path().join("overrides.yaml").to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for line in [
        "postgresql:",
        "    max_connections: 200",
        "    shared_buffers: 4GB",
        "redis:",
        "    requirepass: {$secret: \"env:REDIS_PASSWORD\"}",
    ] {
        assert!(run.stdout.contains(line), "missing `{line}`:\n{}", run.stdout);
    }
}
