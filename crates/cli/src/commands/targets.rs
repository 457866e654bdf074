//! `dbfleet targets`: lists what can be resolved.

use std::path::Path;

use crate::exit::Exit;
use crate::fleet::{self, Filter};
use crate::output::{self, Format};

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    #[command(flatten)]
    filter: Filter,
}

pub(crate) fn run(repo: &Path, format: Format, args: Args) -> anyhow::Result<Exit> {
    let fleet = fleet::load(repo, format)?;
    let targets = args.filter.select(&fleet)?;
    match format {
        Format::Json => output::json(&serde_json::to_value(&targets)?),
        Format::Human => {
            let mut rows = vec![
                ["TARGET", "SCOPE", "ENGINE", "VERSION", "ENVIRONMENT", "TIER", "WORKLOAD", "INSTANCE"]
                    .map(String::from)
                    .to_vec(),
            ];
            for t in &targets {
                rows.push(vec![
                    t.id.to_string(),
                    t.scope.to_string(),
                    t.engine.to_string(),
                    t.version.to_string(),
                    t.environment.to_string(),
                    t.tier.to_string(),
                    t.workload.to_string(),
                    t.instance.clone(),
                ]);
            }
            print!("{}", output::table(&rows));
            eprintln!("{} targets", targets.len());
        }
    }
    Ok(Exit::Ok)
}
