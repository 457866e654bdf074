//! `dbfleet init`: writes the bundled example fleet.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::EXAMPLE_FLEET;
use crate::exit::{Exit, fail};

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// Where to write the fleet (default: the repo, `-C`).
    dir: Option<PathBuf>,
    /// Overwrite files that already exist.
    #[arg(long)]
    force: bool,
}

pub(crate) fn run(repo: &Path, args: Args) -> anyhow::Result<Exit> {
    let dir = args.dir.unwrap_or_else(|| repo.to_path_buf());
    if dir.join("fleet.yaml").exists() && !args.force {
        return Err(fail(
            Exit::Failure,
            format!("{} already holds a fleet (fleet.yaml exists); pass --force to overwrite", dir.display()),
        ));
    }
    for (rel, contents) in EXAMPLE_FLEET {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        fs::write(&path, contents).with_context(|| format!("cannot write {}", path.display()))?;
    }
    println!("wrote the example fleet ({} files) to {}", EXAMPLE_FLEET.len(), dir.display());
    println!("next: dbfleet -C {} resolve", dir.display());
    Ok(Exit::Ok)
}
