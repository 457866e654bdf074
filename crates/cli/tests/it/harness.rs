//! A small builder that writes a fleet into a temp dir and runs `dbfleet`.

use std::path::{Path, PathBuf};
use std::process::Command;

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_dbfleet");

/// The repo's example fleet.
pub(crate) fn example_fleet() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/fleet")
}

/// The output of one run.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// A fleet repo in a temp dir.
pub(crate) struct TestFleet {
    pub(crate) dir: tempfile::TempDir,
}

/// A small valid fleet: two tiers, one pool, one tenant, PostgreSQL only.
pub(crate) const MINIMAL: &[(&str, &str)] = &[
    (
        "fleet.yaml",
        "name: mini
engines:
  postgresql: {versions: [\"16\"]}
  redis: {versions: [\"7.2\"]}
environments:
  production: {protected: true}
  staging: {}
tiers:
  free:
    placement: shared
    limits: {connections: 10, storage: 1GB}
  enterprise:
    placement: dedicated
    limits: {connections: 100, storage: 1TB}
workloads:
  mixed: {}
  analytics: {}
time_profiles:
  night:
    timezone: UTC
    windows:
      - {days: [mon, tue, wed, thu, fri, sat, sun], start: \"22:00\", end: \"06:00\"}
",
    ),
    (
        "layers/base/postgresql.yaml",
        "instance:
  max_connections: 100
  shared_buffers: \"{{ (instance.memory * 0.25) | size('MB') }}\"
  shared_preload_libraries: [pg_stat_statements]
tenant:
  statement_timeout: 60s
",
    ),
    (
        "layers/environments/production.yaml",
        "postgresql:
  instance:
    ssl: on
    $lock: [ssl]
",
    ),
    (
        "layers/time/night.yaml",
        "postgresql:
  tenant:
    statement_timeout: 2h
",
    ),
    (
        "tenants/acme.yaml",
        "tier: free
workload: mixed
region: eu-west-1
engines:
  postgresql: pg-1
overrides:
  postgresql:
    tenant:
      statement_timeout: 30s
",
    ),
    (
        "inventory/main.yaml",
        "pg-1:
  engine: postgresql
  version: \"16.4\"
  environment: production
  pool: {tier: free}
  address: 127.0.0.1:5432
  hardware: {memory: 16GB, cpus: 4}
",
    ),
];

impl TestFleet {
    pub(crate) fn new(files: &[(&str, &str)]) -> TestFleet {
        let fleet = TestFleet { dir: tempfile::tempdir().unwrap() };
        for (path, text) in files {
            fleet.write(path, text);
        }
        fleet
    }

    pub(crate) fn minimal() -> TestFleet {
        TestFleet::new(MINIMAL)
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    pub(crate) fn write(&self, path: &str, text: &str) -> &TestFleet {
        let full = self.dir.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
        self
    }

    pub(crate) fn run(&self, args: &[&str]) -> Run {
        run_in(self.path(), args, &[])
    }

    pub(crate) fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        run_in(self.path(), args, env)
    }
}

pub(crate) fn run_in(repo: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(BIN);
    cmd.arg("-C").arg(repo).args(args);
    cmd.env_remove("VAULT_ADDR").env_remove("VAULT_TOKEN").env_remove("BAO_ADDR").env_remove("BAO_TOKEN");
    cmd.env_remove("DBFLEET_AGE_IDENTITY").env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("dbfleet runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}
