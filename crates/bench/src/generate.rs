//! Writes a large synthetic fleet: the example fleet's `fleet.yaml` and
//! layers, `tenants` tenants spread over the four tiers, five workloads and
//! all seven engines, shared pools of at most `POOL_SIZE` tenants per
//! engine and tier, and one dedicated instance per engine for every
//! enterprise and platform tenant. Deterministic for a given count.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

const POOL_SIZE: usize = 150;

const ENGINES: [(&str, &str, &str); 7] = [
    ("postgresql", "16.4", "5432"),
    ("redis", "7.2.5", "6379"),
    ("mongodb", "7.0.14", "27017"),
    ("clickhouse", "24.8.4", "8123"),
    ("elasticsearch", "8.15.2", "9200"),
    ("neo4j", "5.24.0", "7687"),
    ("cassandra", "5.0.2", "9042"),
];

const WORKLOADS: [&str; 5] = ["read_heavy", "write_heavy", "analytics", "realtime", "mixed"];

pub(crate) struct Stats {
    pub(crate) instances: usize,
    pub(crate) files: usize,
    pub(crate) bytes: usize,
}

fn copy_dir(from: &Path, to: &Path, stats: &mut Stats) -> anyhow::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let path = entry?.path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target, stats)?;
        } else {
            stats.bytes += fs::copy(&path, &target)? as usize;
            stats.files += 1;
        }
    }
    Ok(())
}

fn tier(i: usize) -> &'static str {
    match i % 100 {
        0..=59 => "free",
        60..=89 => "premium",
        90..=97 => "enterprise",
        _ => "platform",
    }
}

/// The engines tenant `i` uses: two or three, spread evenly.
fn engines(i: usize) -> Vec<usize> {
    let mut out = vec![i % 7, (i * 3 + 1) % 7];
    if i.is_multiple_of(2) {
        out.push((i * 5 + 2) % 7);
    }
    out.sort_unstable();
    out.dedup();
    out
}

fn instance(out: &mut String, name: &str, engine: usize, placement: &str, n: usize) {
    let (engine, version, port) = ENGINES[engine];
    let _ = write!(
        out,
        "{name}:\n  engine: {engine}\n  version: \"{version}\"\n  environment: production\n  {placement}\n  address: {name}.bench.internal:{port}\n  region: eu-west-1\n  hardware: {{memory: {}GB, cpus: {}, disk: 2TB, storage: ssd}}\n  credentials:\n    user: dbfleet\n    password: {{$secret: \"vault:secret/prod/{name}#password\"}}\n",
        [32, 64, 128][n % 3],
        [8, 16, 32][n % 3],
    );
}

pub(crate) fn fleet(example: &Path, out: &Path, tenants: usize) -> anyhow::Result<Stats> {
    if out.exists() {
        fs::remove_dir_all(out)?;
    }
    let mut stats = Stats { instances: 0, files: 0, bytes: 0 };
    fs::create_dir_all(out.join("tenants"))?;
    fs::create_dir_all(out.join("inventory"))?;
    stats.bytes += fs::copy(example.join("fleet.yaml"), out.join("fleet.yaml"))? as usize;
    stats.files += 1;
    copy_dir(&example.join("layers"), &out.join("layers"), &mut stats)?;

    let mut inventory: BTreeMap<usize, String> = BTreeMap::new();
    // Tenants placed so far per (engine, shared tier), to fill pools in order.
    let mut placed: BTreeMap<(usize, &str), usize> = BTreeMap::new();
    let mut n = 0;
    for i in 0..tenants {
        let id = format!("t{i:05}");
        let tier = tier(i);
        let mut text = format!("tier: {tier}\nworkload: {}\nregion: eu-west-1\nengines:\n", WORKLOADS[i % 5]);
        for &e in &engines(i) {
            let name = if matches!(tier, "free" | "premium") {
                let count = placed.entry((e, tier)).or_default();
                let pool = *count / POOL_SIZE;
                if (*count).is_multiple_of(POOL_SIZE) {
                    n += 1;
                    let name = format!("{}-{tier}-{pool:03}", ENGINES[e].0);
                    instance(
                        inventory.entry(e).or_default(),
                        &name,
                        e,
                        &format!("pool: {{tier: {tier}, workload: mixed}}"),
                        n,
                    );
                }
                *count += 1;
                format!("{}-{tier}-{pool:03}", ENGINES[e].0)
            } else {
                n += 1;
                let name = format!("{}-{id}", ENGINES[e].0);
                instance(inventory.entry(e).or_default(), &name, e, &format!("dedicated: {id}"), n);
                name
            };
            let _ = writeln!(text, "  {}: {name}", ENGINES[e].0);
        }
        // Every tenth tenant overrides a setting of its own.
        if i % 10 == 0 && engines(i).contains(&0) {
            text.push_str("overrides:\n  postgresql:\n    tenant:\n      statement_timeout: 25s\n");
        }
        stats.bytes += text.len();
        stats.files += 1;
        fs::write(out.join("tenants").join(format!("{id}.yaml")), text)?;
    }
    for (e, text) in &inventory {
        stats.bytes += text.len();
        stats.files += 1;
        fs::write(out.join("inventory").join(format!("{}.yaml", ENGINES[*e].0)), text)?;
    }
    stats.instances = n;
    Ok(stats)
}
