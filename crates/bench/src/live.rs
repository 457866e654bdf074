//! `dbfleet-bench live --redis N --pg M`: plan and apply against N real
//! Redis and M real PostgreSQL servers started on loopback, side by side
//! with a peer that sends the same changes with the stock clients
//! (`redis-cli CONFIG SET` + `CONFIG REWRITE`, `psql ALTER SYSTEM` +
//! `pg_reload_conf()`) and does nothing else: no observing, planning,
//! verification or state store. The peer is the floor of what applying
//! these changes costs; dbfleet's overhead is the ratio to it.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Context;
use dbfleet_catalog::Typed;
use dbfleet_drivers::{Connection, Tls};
use dbfleet_model::{ApplyMethod, EngineKind, Version};
use dbfleet_plan::{Desired, DesiredSetting};
use dbfleet_store::{NewDeployment, PlannedInstance, SqliteStore, StateStore};
use dbfleet_testsupport::{PgServer, RedisServer};

/// The changes each round makes: two values alternating between rounds so
/// that every round has real work.
fn redis_desired(round: usize) -> Desired {
    let mb = if round.is_multiple_of(2) { 64 } else { 128 };
    let s = |v: Typed, native: String| DesiredSetting {
        value: Some(v),
        native,
        apply: ApplyMethod::Runtime,
        sensitive: false,
        origin: None,
    };
    Desired {
        settings: BTreeMap::from([
            ("maxmemory".to_string(), s(Typed::Bytes(mb << 20), format!("{mb}mb"))),
            (
                "maxmemory-policy".to_string(),
                s(
                    Typed::Str(if round.is_multiple_of(2) { "allkeys-lru" } else { "volatile-lru" }.into()),
                    if round.is_multiple_of(2) { "allkeys-lru".into() } else { "volatile-lru".into() },
                ),
            ),
            ("timeout".to_string(), s(Typed::Micros((300 + round as i64) * 1_000_000), format!("{}", 300 + round))),
        ]),
        tenants: BTreeMap::new(),
    }
}

fn pg_desired(round: usize) -> Desired {
    let mb = if round.is_multiple_of(2) { 24 } else { 32 };
    let s = |v: Typed, native: String| DesiredSetting {
        value: Some(v),
        native,
        apply: ApplyMethod::Reload,
        sensitive: false,
        origin: None,
    };
    Desired {
        settings: BTreeMap::from([
            ("work_mem".to_string(), s(Typed::Bytes(mb << 20), format!("{mb}MB"))),
            (
                "log_min_duration_statement".to_string(),
                s(Typed::Micros((250 + round as i64) * 1000), format!("{}ms", 250 + round)),
            ),
            (
                "checkpoint_completion_target".to_string(),
                s(
                    Typed::Real(if round.is_multiple_of(2) { 0.8 } else { 0.9 }),
                    if round.is_multiple_of(2) { "0.8".into() } else { "0.9".into() },
                ),
            ),
        ]),
        tenants: BTreeMap::new(),
    }
}

fn conn(engine: EngineKind, version: &str, port: u16, user: Option<&str>) -> Connection {
    Connection {
        engine,
        version: version.parse::<Version>().expect("a version"),
        address: format!("127.0.0.1:{port}"),
        user: user.map(str::to_string),
        password: None,
        tls: Tls::default(),
        restart_command: None,
        reload_command: None,
        config_dir: None,
        ready_timeout: Duration::from_secs(30),
    }
}

fn sh(cmd: &mut Command) -> anyhow::Result<()> {
    let out = cmd.output()?;
    anyhow::ensure!(out.status.success(), "{:?}: {}", cmd, String::from_utf8_lossy(&out.stderr));
    Ok(())
}

/// The peer: the same changes with the stock clients.
fn peer(redis: &[RedisServer], pg: &[PgServer], round: usize) -> anyhow::Result<()> {
    for r in redis {
        let d = redis_desired(round);
        let mut args = vec!["-p".to_string(), r.port().to_string(), "CONFIG".into(), "SET".into()];
        for (k, v) in &d.settings {
            args.push(k.clone());
            args.push(v.native.clone());
        }
        sh(Command::new("redis-cli").args(&args))?;
        sh(Command::new("redis-cli").args(["-p", &r.port().to_string(), "CONFIG", "REWRITE"]))?;
    }
    for p in pg {
        let d = pg_desired(round);
        let mut cmd = Command::new("psql");
        cmd.args(["-X", "-q", "-d", &p.connection_string()]);
        for (k, v) in &d.settings {
            cmd.args(["-c", &format!("ALTER SYSTEM SET {k} = '{}'", v.native)]);
        }
        cmd.args(["-c", "SELECT pg_reload_conf()"]);
        sh(&mut cmd)?;
    }
    Ok(())
}

/// dbfleet: observe, plan, record, apply, verify, for every instance.
async fn dbfleet(store: &SqliteStore, redis: &[RedisServer], pg: &[PgServer], round: usize) -> anyhow::Result<usize> {
    let mut items = Vec::new();
    for (i, r) in redis.iter().enumerate() {
        let driver = dbfleet_drivers::connect(conn(EngineKind::Redis, "7.0.15", r.port(), None), Vec::new());
        let ip = dbfleet_rollout::plan_instance(driver.as_ref(), &format!("redis-{i}"), redis_desired(round)).await?;
        items.push((driver, ip));
    }
    for (i, p) in pg.iter().enumerate() {
        let driver =
            dbfleet_drivers::connect(conn(EngineKind::Postgresql, "15.18", p.port(), Some("postgres")), Vec::new());
        let ip = dbfleet_rollout::plan_instance(driver.as_ref(), &format!("pg-{i}"), pg_desired(round)).await?;
        items.push((driver, ip));
    }
    let deployment = store.begin_deployment(&NewDeployment {
        fleet_revision: format!("bench-{round}"),
        rendered: None,
        actor: "bench".into(),
        plan: serde_json::json!([]),
        summary: "bench".into(),
        instances: items
            .iter()
            .filter(|(_, ip)| !ip.plan.is_empty())
            .map(|(_, ip)| PlannedInstance {
                instance: ip.instance.clone(),
                engine: ip.engine,
                changes: dbfleet_rollout::plan_json(&ip.plan),
            })
            .collect(),
    })?;
    let mut changes = 0;
    for (driver, ip) in &items {
        changes += ip.plan.changes.len();
        match dbfleet_rollout::apply_instance(store, &deployment, driver.as_ref(), ip, false).await? {
            dbfleet_rollout::Outcome::Applied(_) | dbfleet_rollout::Outcome::Unchanged => {}
            other => anyhow::bail!("{}: {other:?}", ip.instance),
        }
    }
    store.finish_deployment(&deployment, dbfleet_store::DeploymentStatus::Succeeded)?;
    Ok(changes)
}

pub(crate) fn run(redis_n: usize, pg_n: usize, rounds: usize) -> anyhow::Result<()> {
    eprintln!("starting {redis_n} Redis and {pg_n} PostgreSQL servers");
    let redis: Vec<RedisServer> =
        (0..redis_n).map(|_| RedisServer::start()).collect::<Result<_, _>>().context("Redis")?;
    let pg: Vec<PgServer> = (0..pg_n).map(|_| PgServer::start()).collect::<Result<_, _>>().context("PostgreSQL")?;
    let dir = tempfile::tempdir()?;
    let store = SqliteStore::open(&dir.path().join("state.db"))?;
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let (mut ours, mut theirs, mut changes) = (Vec::new(), Vec::new(), 0);
    for round in 0..rounds {
        // dbfleet applies the even-numbered value sets and the peer the odd
        // ones, so each always finds values to change.
        let t = Instant::now();
        changes = rt.block_on(dbfleet(&store, &redis, &pg, 2 * round))?;
        ours.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        peer(&redis, &pg, 2 * round + 1)?;
        theirs.push(t.elapsed().as_secs_f64());
    }
    ours.sort_by(f64::total_cmp);
    theirs.sort_by(f64::total_cmp);
    let (o, p) = (ours[ours.len() / 2], theirs[theirs.len() / 2]);
    let n = redis_n + pg_n;
    println!("| what | median time per round (s) | per instance (ms) | changes per round |");
    println!("|---|---|---|---|");
    println!("| peer: redis-cli / psql, same changes, no checks | {p:.3} | {:.1} | {} |", p * 1000.0 / n as f64, 3 * n);
    println!(
        "| dbfleet: observe + plan + snapshot + apply + verify + record | {o:.3} | {:.1} | {changes} |",
        o * 1000.0 / n as f64
    );
    println!("\nratio dbfleet / peer: {:.2}x over {rounds} rounds, {n} instances", o / p);
    Ok(())
}
