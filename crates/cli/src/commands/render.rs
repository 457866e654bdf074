//! `dbfleet render --out DIR`: native configuration files for every
//! instance, after validation, with secrets filled in (mode 0600) and an
//! optional provenance comment beside each setting.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::Context;
use dbfleet_model::Scope;
use dbfleet_store::{FileToStore, SqliteStore, StateStore};
use serde_json::json;

use crate::exit::{Exit, fail};
use crate::fleet::{self, Filter};
use crate::output::{self, Format};

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    #[command(flatten)]
    filter: Filter,
    /// Directory to write into: one subdirectory per instance.
    #[arg(long)]
    out: PathBuf,
    /// Write where each value came from as a comment beside it.
    #[arg(long)]
    annotate: bool,
    /// Render with the time profiles active at this instant (RFC 3339) instead of now.
    #[arg(long)]
    at: Option<String>,
    /// The state store the rendered revision is recorded in [default: <repo>/.dbfleet/state.db].
    #[arg(long, env = "DBFLEET_STATE")]
    state: Option<PathBuf>,
}

/// The fleet repo's revision: the git commit, `-dirty` when the tree has
/// changes, or `working-tree` outside git.
pub(crate) fn revision(repo: &Path) -> String {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(repo)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    match git(&["rev-parse", "--short=12", "HEAD"]) {
        Some(commit) if git(&["status", "--porcelain", "--", "."]).is_some_and(|s| s.is_empty()) => commit,
        Some(commit) => format!("{commit}-dirty"),
        None => "working-tree".to_string(),
    }
}

/// Writes a file atomically with its mode: a temp file in the same
/// directory, then a rename, so a reader never sees half a file and a
/// secret-bearing file is never readable by others, even briefly.
pub(crate) fn write_file(path: &Path, contents: &str, mode: u32) -> anyhow::Result<()> {
    let dir = path.parent().context("a rendered file has a directory")?;
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let tmp = dir.join(format!(".{}.tmp", path.file_name().unwrap_or_default().to_string_lossy()));
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()?;
    fs::set_permissions(&tmp, fs::Permissions::from_mode(mode))?;
    fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

pub(crate) fn run(repo: &Path, format: Format, args: Args) -> anyhow::Result<Exit> {
    let fleet = fleet::load(repo, format)?;
    let mut targets = args.filter.select(&fleet)?;
    // Tenant settings are rendered into their instance's files, so an
    // instance brings its tenants along.
    let instances: Vec<String> =
        targets.iter().filter(|t| t.scope == Scope::Instance).map(|t| t.instance.clone()).collect();
    targets.extend(fleet.targets().into_iter().filter(|t| t.scope == Scope::Tenant && instances.contains(&t.instance)));
    targets.sort_by(|a, b| a.id.cmp(&b.id));
    targets.dedup_by(|a, b| a.id == b.id);
    let at = fleet::parse_at(args.at.as_deref())?;
    let (validated, diags) =
        crate::commands::validate::validate_targets(&fleet, &targets, vec![fleet.active_time_profiles(at)]);
    if diags.has_errors() {
        return Err(fleet::invalid(format, &diags));
    }
    let secrets = crate::commands::resolve::secrets(&fleet);
    let revision = revision(repo);
    let fetch = |r: &dbfleet_model::SecretRef| secrets.fetch(r).map_err(|e| e.to_string());
    let (rendered, rdiags) = dbfleet_render::render_validated(&fleet, &validated, &fetch, &revision, args.annotate);
    if rdiags.has_errors() {
        output::report(format, &rdiags);
        let secret_only = rdiags.iter().all(|d| d.code == "secret");
        return Err(fail(
            if secret_only { Exit::Secret } else { Exit::Invalid },
            format!("{} instance(s) could not be rendered", rdiags.errors()),
        ));
    }
    let mut written = Vec::new();
    let mut stored = Vec::new();
    for (instance, files) in &rendered {
        for f in files {
            let path = args.out.join(instance).join(&f.path);
            write_file(&path, &f.contents, f.mode())?;
            written.push(json!({ "instance": instance, "path": path.display().to_string(), "mode": format!("{:o}", f.mode()), "bytes": f.contents.len() }));
            stored.push((format!("{instance}/{}", f.path), f));
        }
    }
    // Record the rendered revision (content-addressed; secret-bearing files
    // by digest only) in the state store.
    let store_path = args.state.clone().unwrap_or_else(|| SqliteStore::default_path(repo));
    let store =
        SqliteStore::open(&store_path).map_err(|e| fail(Exit::Failure, format!("cannot open the state store: {e}")))?;
    let to_store: Vec<FileToStore<'_>> = stored
        .iter()
        .map(|(p, f)| FileToStore { path: p, contents: f.contents.as_bytes(), sensitive: f.sensitive })
        .collect();
    let id = store.put_revision(&to_store).map_err(|e| fail(Exit::Failure, e.to_string()))?;
    match format {
        Format::Json => {
            output::json(&json!({ "revision": revision, "rendered_revision": id.to_string(), "files": written }))
        }
        Format::Human => eprintln!(
            "rendered {} files for {} instances into {} (fleet revision {revision}, rendered revision {id})",
            written.len(),
            rendered.len(),
            args.out.display()
        ),
    }
    Ok(Exit::Ok)
}
