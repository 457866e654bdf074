//! `dbfleet schema`: writes the JSON Schemas editors use to check fleet files.

use std::fs;
use std::path::PathBuf;

use anyhow::Context;

use crate::exit::{Exit, fail};

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// Directory to write `<kind>.schema.json` files into.
    #[arg(long, default_value = "schema")]
    out: PathBuf,
    /// Do not write: fail if the files in `--out` differ from the generated ones.
    #[arg(long)]
    check: bool,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Exit> {
    let mut stale = Vec::new();
    for (kind, schema) in dbfleet_config::spec::schemas() {
        let path = args.out.join(format!("{kind}.schema.json"));
        let text = format!("{}\n", serde_json::to_string_pretty(&schema)?);
        if args.check {
            if fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
                stale.push(path.display().to_string());
            }
        } else {
            fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
            fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        }
    }
    if !stale.is_empty() {
        return Err(fail(
            Exit::Failure,
            format!("stale schema files (run `dbfleet schema --out {}`): {}", args.out.display(), stale.join(", ")),
        ));
    }
    Ok(Exit::Ok)
}
