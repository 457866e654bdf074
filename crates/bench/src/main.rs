//! `dbfleet-bench`: generates large fleets and measures dbfleet on them.
//!
//! `dbfleet-bench gen --tenants N --out DIR` writes a fleet repo with the
//! example fleet's layers, N tenants over all seven engines, shared pools
//! and dedicated instances. `dbfleet-bench run DIR` measures, each phase in
//! a fresh child process so that peak memory (VmHWM) belongs to that phase
//! alone, and prints a Markdown table:
//!
//! - `parse floor`: saphyr-parser events for every file, building nothing
//!   (the least any YAML-based tool must do);
//! - `peer: serde-saphyr`: the same files deserialised into generic values
//!   by another YAML library;
//! - `load`: dbfleet's loader (spanned nodes, decoding, layers, linking);
//! - `load + resolve`: the above plus resolving every target with
//!   provenance and templates;
//! - `+ validate`: every target checked against its catalog, rules,
//!   budgets and policies;
//! - `+ render`: native files for every instance (secrets replaced by a
//!   fixed placeholder, so no provider is measured).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};
use rayon::prelude::*;

/// The allocator the `dbfleet` binary uses too, so every phase (the floor
/// and the peer included) allocates the same way.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod generate;
mod live;

fn usage() -> anyhow::Error {
    anyhow::anyhow!(
        "usage: dbfleet-bench gen --tenants N --out DIR | run DIR [--repeat N] | live [--redis N] [--pg N] [--rounds N] | phase NAME DIR"
    )
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("gen") => {
            let tenants = flag(&args, "--tenants")?.parse()?;
            let out = PathBuf::from(flag(&args, "--out")?);
            let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/fleet");
            let stats = generate::fleet(&example, &out, tenants)?;
            println!(
                "wrote {} tenants, {} instances, {} files ({} bytes) to {}",
                tenants,
                stats.instances,
                stats.files,
                stats.bytes,
                out.display()
            );
            Ok(())
        }
        Some("run") => {
            let dir = PathBuf::from(args.get(1).ok_or_else(usage)?);
            let repeat: usize = flag(&args, "--repeat").unwrap_or_else(|_| "3".into()).parse()?;
            run(&dir, repeat)
        }
        Some("live") => {
            let redis = flag(&args, "--redis").unwrap_or_else(|_| "8".into()).parse()?;
            let pg = flag(&args, "--pg").unwrap_or_else(|_| "4".into()).parse()?;
            let rounds = flag(&args, "--rounds").unwrap_or_else(|_| "5".into()).parse()?;
            live::run(redis, pg, rounds)
        }
        Some("phase") => {
            let name = args.get(1).ok_or_else(usage)?;
            let dir = PathBuf::from(args.get(2).ok_or_else(usage)?);
            phase(name, &dir)
        }
        _ => Err(usage()),
    }
}

fn flag(args: &[String], name: &str) -> anyhow::Result<String> {
    let i = args.iter().position(|a| a == name).with_context(|| format!("missing {name}"))?;
    args.get(i + 1).cloned().with_context(|| format!("{name} needs a value"))
}

const PHASES: &[(&str, &str)] = &[
    ("parse", "parse floor (saphyr-parser events)"),
    ("peer", "peer: serde-saphyr to generic values"),
    ("load", "dbfleet load"),
    ("resolve", "dbfleet load + resolve all targets"),
    ("validate", "dbfleet load + resolve + validate all targets"),
    ("render", "dbfleet load + resolve + validate + render all instances"),
];

/// One phase's measurement, printed by the child as one JSON line.
struct Measure {
    secs: f64,
    items: usize,
    peak_kb: u64,
}

fn run(dir: &Path, repeat: usize) -> anyhow::Result<()> {
    let exe = std::env::current_exe()?;
    let mut rows = Vec::new();
    for (name, label) in PHASES {
        let mut runs = Vec::new();
        for _ in 0..repeat {
            let out = Command::new(&exe).args(["phase", name]).arg(dir).output()?;
            if !out.status.success() {
                bail!("phase {name} failed: {}", String::from_utf8_lossy(&out.stderr));
            }
            let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
            runs.push(Measure {
                secs: v["secs"].as_f64().unwrap_or_default(),
                items: v["items"].as_u64().unwrap_or_default() as usize,
                peak_kb: v["peak_kb"].as_u64().unwrap_or_default(),
            });
        }
        runs.sort_by(|a, b| a.secs.total_cmp(&b.secs));
        let median = runs.swap_remove(runs.len() / 2);
        rows.push((*name, *label, median));
    }
    let floor = rows[0].2.secs;
    println!("| phase | median time (s) | ratio to parse floor | items | items/s | peak RSS (MiB) |");
    println!("|---|---|---|---|---|---|");
    for (_, label, m) in &rows {
        println!(
            "| {label} | {:.3} | {:.2}x | {} | {:.0} | {:.0} |",
            m.secs,
            m.secs / floor,
            m.items,
            m.items as f64 / m.secs,
            m.peak_kb as f64 / 1024.0
        );
    }
    Ok(())
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            yaml_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "yaml") {
            out.push(path);
        }
    }
    Ok(())
}

/// Peak resident memory of this process, from /proc.
fn peak_kb() -> u64 {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.split_whitespace().nth(1).unwrap_or("0").parse().unwrap_or(0))
        })
        .unwrap_or(0)
}

struct Sink;
impl<'i> saphyr_parser::SpannedEventReceiver<'i> for Sink {
    fn on_event(&mut self, ev: saphyr_parser::Event<'i>, _: saphyr_parser::Span) {
        std::hint::black_box(ev);
    }
}

fn phase(name: &str, dir: &Path) -> anyhow::Result<()> {
    let start = Instant::now();
    let items = match name {
        // Both parse phases read and parse files in parallel, as the loader
        // does, so the comparison is like for like.
        "parse" => {
            let mut files = Vec::new();
            yaml_files(dir, &mut files)?;
            files.par_iter().try_for_each(|f| -> anyhow::Result<()> {
                let text = fs::read_to_string(f)?;
                saphyr_parser::Parser::new_from_str(&text).load(&mut Sink, true).map_err(|e| anyhow::anyhow!("{e}"))?;
                Ok(())
            })?;
            files.len()
        }
        "peer" => {
            let mut files = Vec::new();
            yaml_files(dir, &mut files)?;
            files.par_iter().try_for_each(|f| -> anyhow::Result<()> {
                let text = fs::read_to_string(f)?;
                let v: serde_json::Value =
                    serde_saphyr::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?;
                std::hint::black_box(v);
                Ok(())
            })?;
            files.len()
        }
        "load" => {
            let fleet = dbfleet_config::load(dir).map_err(|d| anyhow::anyhow!("{d}"))?;
            fleet.stats.files
        }
        "resolve" | "validate" | "render" => {
            let fleet = dbfleet_config::load(dir).map_err(|d| anyhow::anyhow!("{d}"))?;
            let targets = fleet.targets();
            // A fixed instant, so every run resolves the same layers.
            let at: jiff::Timestamp = "2026-11-23T08:30:00+01:00".parse()?;
            let resolver = dbfleet_config::Resolver::new(&fleet, at);
            let (resolved, diags) = resolver.resolve_all(&targets);
            if diags.has_errors() {
                bail!("{diags}");
            }
            if name == "resolve" {
                std::hint::black_box(&resolved);
                resolved.len()
            } else {
                let results: Vec<_> = resolved.par_iter().map(|r| dbfleet_config::validate(&fleet, r)).collect();
                if let Some(d) =
                    results.iter().flat_map(|(_, d)| d).find(|d| d.severity == dbfleet_model::Severity::Error)
                {
                    bail!("{d}");
                }
                let validated: Vec<_> = results.into_iter().map(|(v, _)| v).collect();
                if name == "validate" {
                    validated.len()
                } else {
                    let placeholder =
                        |_: &dbfleet_model::SecretRef| Ok(secrecy::SecretString::from("bench-placeholder"));
                    let (files, diags) =
                        dbfleet_render::render_validated(&fleet, &validated, &placeholder, "bench", false);
                    if diags.has_errors() {
                        bail!("{diags}");
                    }
                    files.iter().map(|(_, f)| f.len()).sum()
                }
            }
        }
        other => bail!("unknown phase {other}"),
    };
    let secs = start.elapsed().as_secs_f64();
    println!("{}", serde_json::json!({ "secs": secs, "items": items, "peak_kb": peak_kb() }));
    Ok(())
}
