//! `dbfleet`: the command-line edge of the control plane.
//!
//! Parses arguments, loads the fleet repo through the library crates, and
//! turns results into human or JSON output and documented exit codes
//! ([`exit::Exit`]). It holds no product logic of its own.

/// mimalloc: loading and resolving a large fleet allocates many small
/// nodes, where it is markedly faster than the system allocator
/// (docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod commands;
mod exit;
mod fleet;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::exit::{Coded, Exit};
use crate::output::Format;

include!(concat!(env!("OUT_DIR"), "/example_fleet.rs"));

/// Configuration control plane for a multi-tenant fleet of databases.
#[derive(Parser, Debug)]
#[command(name = "dbfleet", version, about, max_term_width = 100)]
struct Cli {
    /// The fleet repo (the directory holding fleet.yaml).
    #[arg(short = 'C', long = "repo", global = true, env = "DBFLEET_REPO", default_value = ".")]
    repo: PathBuf,

    /// Output format of read commands.
    #[arg(long, global = true, value_enum, default_value = "human")]
    format: Format,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Write the example fleet into a directory (default: the repo).
    Init(commands::init::Args),
    /// List targets: every instance, and every tenant on each of its engines.
    Targets(commands::targets::Args),
    /// Show the effective configuration of targets and where each value came from.
    Resolve(commands::resolve::Args),
    /// Show every layer that touched one key of one target, like a blame.
    Explain(commands::explain::Args),
    /// Check every target against its engine's catalog, tier rules, budgets and the fleet's policies.
    Validate(commands::validate::Args),
    /// Write native configuration files for every instance (after validation).
    Render(commands::render::Args),
    /// Show what apply would change on live servers (runtime, reload or restart for each).
    Plan(commands::deploy::PlanArgs),
    /// Change live servers to match the fleet repo, recording every step.
    Apply(commands::deploy::ApplyArgs),
    /// Show what differs between live servers and the fleet repo (exit 2 when something does).
    Drift(commands::deploy::Common),
    /// Put instances back to the state recorded before their latest change.
    Rollback(commands::deploy::RollbackArgs),
    /// List recorded deployments and what happened to each instance.
    History(commands::deploy::HistoryArgs),
    /// Turn existing native config files or override YAML into a fleet layer.
    Import(commands::import::Args),
    /// Manage age-encrypted secrets stored in the fleet repo.
    #[command(subcommand)]
    Secret(commands::secret::Command),
    /// Write the JSON Schemas of the fleet repo's files.
    Schema(commands::schema::Args),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => ExitCode::SUCCESS,
                _ => ExitCode::from(Exit::Usage as u8),
            };
        }
    };
    let result = match cli.command {
        Command::Init(args) => commands::init::run(&cli.repo, args),
        Command::Targets(args) => commands::targets::run(&cli.repo, cli.format, args),
        Command::Resolve(args) => commands::resolve::run(&cli.repo, cli.format, args),
        Command::Explain(args) => commands::explain::run(&cli.repo, cli.format, args),
        Command::Validate(args) => commands::validate::run(&cli.repo, cli.format, args),
        Command::Render(args) => commands::render::run(&cli.repo, cli.format, args),
        Command::Plan(args) => commands::deploy::plan(&cli.repo, cli.format, args),
        Command::Apply(args) => commands::deploy::apply(&cli.repo, cli.format, args),
        Command::Drift(args) => commands::deploy::drift(&cli.repo, cli.format, args),
        Command::Rollback(args) => commands::deploy::rollback(&cli.repo, cli.format, args),
        Command::History(args) => commands::deploy::history(&cli.repo, cli.format, args),
        Command::Import(args) => commands::import::run(cli.format, args),
        Command::Secret(cmd) => commands::secret::run(&cli.repo, cli.format, cmd),
        Command::Schema(args) => commands::schema::run(args),
    };
    match result {
        Ok(exit) => ExitCode::from(exit as u8),
        Err(e) => {
            let exit = e.downcast_ref::<Coded>().map_or(Exit::Failure, |c| c.exit);
            let mut err = anstream::stderr().lock();
            let style = output::ERROR;
            let _ = std::io::Write::write_fmt(&mut err, format_args!("{style}error{style:#}: {e:#}\n"));
            ExitCode::from(exit as u8)
        }
    }
}
