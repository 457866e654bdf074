//! Generic file delivery: writes an instance's rendered native files into
//! its configuration directory and makes the server read them. It works for
//! every engine on its own ([`FileDriver`]), and it is how the MongoDB,
//! Elasticsearch, Neo4j and Cassandra drivers deliver the settings they
//! cannot change on a running server (catalog `apply: restart`).
//!
//! Design. The driver never renders: the caller renders the instance with
//! `dbfleet_render::render` and hands the files to [`FileDriver::new`] (or a
//! runtime driver's constructor), so the files on disk are byte for byte what
//! `dbfleet render` shows. Observing reads back the files that are there now,
//! through `dbfleet_render::parse`, and every setting found in them is
//! `explicit`: dbfleet wrote it.
//!
//! Applying a plan first copies every managed file to `<name>.dbfleet.bak`
//! (or, when there is none yet, leaves a `<name>.dbfleet.new` marker), so
//! that a restore after any failure returns exactly to the state before this
//! apply. It then writes each file whose bytes or mode differ: a temporary
//! file in the same directory, fsync, rename, fsync of the directory, mode
//! 0600 for files holding secrets and 0644 otherwise. The server takes the
//! files up at a reload when a reload command is configured and the changes
//! allow it, otherwise at a restart, which runs only when allowed; a health
//! probe (TCP connect, and for Elasticsearch `GET /_cluster/health`) follows
//! either. A change whose restart was not allowed is written and recorded in
//! `.dbfleet-pending-restart.json` with the value the server still runs, so
//! that observing reports that value (marked `pending_restart`) until a
//! restart, and the plan keeps the change. [`restore`] renames the backups
//! back (removing files marked new) and reloads or restarts the same way.
//!
//! Secrets are never read back: the renderer writes them only into files
//! marked sensitive and observing reports them hidden, so a plan always
//! re-sends them. Re-sending is harmless: a file whose bytes are unchanged is
//! not written, and a plan whose only file-delivered changes are secrets
//! that the files already hold restarts nothing.
//!
//! This module does not edit files it did not render, merge its output with
//! other content, or read tenant-scope settings back (the parsers know no
//! tenants).

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Component, Path, PathBuf};

use dbfleet_model::{ApplyMethod, EngineKind, Value};
use dbfleet_plan::{Action, Change, Observed, ObservedSetting, Plan, Settings};
use dbfleet_render::RenderedFile;

use crate::common::{label, observed, remove_optional, run_command, sync_dir, wait_for_tcp, write_atomic};
use crate::{Applied, Connection, Driver, DriverError};

/// Where the values a server still runs, for settings written but waiting
/// for a restart, are kept between runs (in the configuration directory).
const PENDING: &str = ".dbfleet-pending-restart.json";

/// Delivers settings by writing the instance's rendered files.
pub struct FileDriver {
    conn: Connection,
    files: Vec<RenderedFile>,
}

/// What makes the server take up written files, weakest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Nothing,
    Reload,
    Restart,
}

/// An engine's way of reading and changing settings on the running server.
/// The runtime drivers implement it; [`observe`], [`apply`] and [`restore`]
/// combine it with file delivery.
#[async_trait::async_trait]
pub(crate) trait Live: Send + Sync {
    /// Whether `change` is made on the running server rather than through
    /// the files.
    fn is_live(&self, change: &Change) -> bool;

    /// The settings the running server reports, `explicit` when held
    /// through the engine's own persistent mechanism.
    async fn read(&self) -> Result<Settings<ObservedSetting>, DriverError>;

    /// Makes `changes` (all live) on the running server.
    async fn set(&self, changes: &[&Change]) -> Result<(), DriverError>;

    /// Returns the settings of `changes` (all live) to their values in
    /// `before`.
    async fn put_back(&self, before: &Observed, changes: &[&Change]) -> Result<(), DriverError>;
}

/// A runtime driver: an engine's [`Live`] side for the changes it makes on
/// the running server, and file delivery for everything else. Each one is a
/// [`Driver`] in the same way, through [`observe`], [`apply`] and
/// [`restore`].
pub(crate) trait LiveWithFiles: Send + Sync {
    /// The engine the driver manages.
    const ENGINE: EngineKind;

    /// The side that talks to the running server.
    fn live(&self) -> &dyn Live;

    /// The delivery of the instance's rendered files.
    fn files(&self) -> &FileDriver;
}

#[async_trait::async_trait]
impl<T: LiveWithFiles> Driver for T {
    fn engine(&self) -> EngineKind {
        T::ENGINE
    }

    async fn observe(&self) -> Result<Observed, DriverError> {
        observe(Some(self.live()), self.files()).await
    }

    async fn apply(&self, plan: &Plan, allow_restart: bool) -> Result<Applied, DriverError> {
        apply(Some(self.live()), self.files(), plan, allow_restart).await
    }

    async fn restore(&self, before: &Observed, plan: &Plan, allow_restart: bool) -> Result<Applied, DriverError> {
        restore(Some(self.live()), self.files(), before, plan, allow_restart).await
    }
}

impl FileDriver {
    /// A driver that writes `files` (as `dbfleet_render::render` returns
    /// them, paths relative to `conn.config_dir`).
    pub fn new(conn: Connection, files: Vec<RenderedFile>) -> FileDriver {
        FileDriver { conn, files }
    }

    fn dir(&self) -> Result<&Path, DriverError> {
        self.conn.config_dir.as_deref().ok_or_else(|| {
            DriverError::Protocol(format!(
                "no configuration directory is set for {}, so there is nowhere to write its files",
                self.conn.address
            ))
        })
    }

    /// Every managed path, with the bytes and mode that belong there.
    fn targets(&self) -> Result<Vec<(PathBuf, &RenderedFile)>, DriverError> {
        let dir = self.dir()?;
        self.files
            .iter()
            .map(|f| {
                let relative = Path::new(&f.path);
                let inside = relative.components().all(|c| matches!(c, Component::Normal(_)));
                if !inside || f.path.is_empty() {
                    let why = format!("rendered file `{}` would be written outside {}", f.path, dir.display());
                    return Err(DriverError::Protocol(why));
                }
                Ok((dir.join(relative), f))
            })
            .collect()
    }

    /// The managed paths, the pending-restart record included.
    fn managed(&self) -> Result<Vec<PathBuf>, DriverError> {
        let mut paths: Vec<PathBuf> = self.targets()?.into_iter().map(|(p, _)| p).collect();
        paths.push(self.dir()?.join(PENDING));
        Ok(paths)
    }

    /// The settings in the files as they are on disk, and the values the
    /// server still runs for those written but waiting for a restart.
    async fn read_back(&self) -> Result<(Settings<ObservedSetting>, Pending), DriverError> {
        if self.files.is_empty() {
            return Ok(Default::default());
        }
        let targets: Vec<(PathBuf, String)> = self.targets()?.into_iter().map(|(p, f)| (p, f.path.clone())).collect();
        let pending_path = self.dir()?.join(PENDING);
        let (texts, pending) = blocking(move || {
            let mut texts = Vec::new();
            for (path, name) in targets {
                if let Some(text) = read_optional(&path)? {
                    texts.push((name, String::from_utf8_lossy(&text).into_owned()));
                }
            }
            Ok((texts, read_pending(&pending_path)?))
        })
        .await?;
        let mut settings = Settings::new();
        for (name, text) in texts {
            let parsed = dbfleet_render::parse(self.conn.engine, &name, &text)
                .map_err(|e| DriverError::Protocol(format!("cannot read back {name}: {e}")))?;
            for s in parsed.settings {
                if let Some((canonical, setting)) =
                    observed(self.conn.engine, &self.conn.version, &s.name, &s.value, true)
                {
                    settings.insert(canonical, setting);
                }
            }
        }
        Ok((settings, pending))
    }

    /// Copies every managed file to its backup, or marks it new.
    async fn back_up(&self) -> Result<(), DriverError> {
        let paths = self.managed()?;
        blocking(move || {
            for path in paths {
                let (bak, new) = (sibling(&path, ".dbfleet.bak"), sibling(&path, ".dbfleet.new"));
                match fs::metadata(&path) {
                    Ok(meta) => {
                        write_file(&bak, &fs::read(&path)?, meta.permissions().mode() & 0o7777)?;
                        remove_optional(&new)?;
                    }
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {
                        write_file(&new, b"", 0o600)?;
                        remove_optional(&bak)?;
                    }
                    Err(e) => return Err(e),
                }
            }
            Ok(())
        })
        .await
    }

    /// The rendered files whose bytes or mode differ from what is on disk.
    async fn stale(&self) -> Result<Vec<(PathBuf, Vec<u8>, u32)>, DriverError> {
        let wanted: Vec<(PathBuf, Vec<u8>, u32)> =
            self.targets()?.into_iter().map(|(p, f)| (p, f.contents.clone().into_bytes(), f.mode())).collect();
        blocking(move || {
            let mut stale = Vec::new();
            for (path, bytes, mode) in wanted {
                let same = match fs::metadata(&path) {
                    Ok(meta) => meta.permissions().mode() & 0o7777 == mode && fs::read(&path)? == bytes,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => false,
                    Err(e) => return Err(e),
                };
                if !same {
                    stale.push((path, bytes, mode));
                }
            }
            Ok(stale)
        })
        .await
    }

    /// Puts every backup back and removes the files marked new. Returns
    /// whether any file changed.
    async fn put_back(&self) -> Result<bool, DriverError> {
        if self.files.is_empty() {
            return Ok(false);
        }
        let paths = self.managed()?;
        blocking(move || {
            let mut changed = false;
            for path in paths {
                let (bak, new) = (sibling(&path, ".dbfleet.bak"), sibling(&path, ".dbfleet.new"));
                if let Some(saved) = read_optional(&bak)? {
                    changed |= read_optional(&path)?.as_deref() != Some(saved.as_slice());
                    fs::rename(&bak, &path)?;
                    sync_dir(&path)?;
                } else if new.exists() {
                    changed |= path.exists();
                    remove_optional(&path)?;
                    fs::remove_file(&new)?;
                    sync_dir(&path)?;
                }
            }
            Ok(changed)
        })
        .await
    }

    /// How the server takes up `changes` (delivered through the files) and
    /// which of them must wait for a restart. Fails, before anything is
    /// changed, when a needed restart has no command.
    fn step(&self, changes: &[&Change], allow_restart: bool) -> Result<(Step, Vec<String>), DriverError> {
        // A server re-reads its files at a reload only when there is a way
        // to ask for one; otherwise it reads them when it starts.
        let reload = if self.conn.reload_command.is_some() { Step::Reload } else { Step::Restart };
        let needs = |c: &&Change| match c.apply {
            ApplyMethod::Restart => Step::Restart,
            ApplyMethod::Runtime | ApplyMethod::Reload => reload,
        };
        match changes.iter().map(needs).max().unwrap_or(Step::Nothing) {
            Step::Restart if allow_restart => {
                if self.conn.restart_command.is_none() {
                    return Err(DriverError::NoRestartCommand { address: self.conn.address.clone() });
                }
                Ok((Step::Restart, Vec::new()))
            }
            Step::Restart => {
                let waiting = changes.iter().filter(|c| needs(c) == Step::Restart).map(|c| label(c)).collect();
                let now = if changes.iter().any(|c| needs(c) == Step::Reload) { Step::Reload } else { Step::Nothing };
                Ok((now, waiting))
            }
            step => Ok((step, Vec::new())),
        }
    }

    /// Writes the stale files.
    async fn write(&self, stale: Vec<(PathBuf, Vec<u8>, u32)>) -> Result<(), DriverError> {
        blocking(move || {
            for (path, bytes, mode) in stale {
                write_file(&path, &bytes, mode)?;
            }
            Ok(())
        })
        .await
    }

    /// Runs the reload or restart command, then waits for the server to be
    /// healthy.
    async fn activate(&self, step: Step) -> Result<(), DriverError> {
        let command = match step {
            Step::Nothing => return Ok(()),
            Step::Reload => self.conn.reload_command.as_ref(),
            Step::Restart => self.conn.restart_command.as_ref(),
        };
        // `step` only asks for a command that is configured.
        let Some(command) = command else { return Ok(()) };
        run_command(command, self.conn.ready_timeout).await?;
        self.probe().await
    }

    /// Whether the server is up: it accepts connections and, for
    /// Elasticsearch, reports a cluster health that is not red.
    async fn probe(&self) -> Result<(), DriverError> {
        wait_for_tcp(&self.conn.address, self.conn.ready_timeout).await?;
        if self.conn.engine == EngineKind::Elasticsearch {
            crate::elasticsearch::wait_for_health(&self.conn).await?;
        }
        Ok(())
    }

    /// Records the values the server still runs for `waiting` changes,
    /// which were written without a restart; or, after a restart, that
    /// nothing waits.
    async fn note_pending(&self, waiting: &[&Change], restarted: bool) -> Result<(), DriverError> {
        if self.files.is_empty() {
            return Ok(());
        }
        let path = self.dir()?.join(PENDING);
        // Secrets are not recorded: their text must not be written here.
        let running: Vec<(String, Option<String>)> = waiting
            .iter()
            .filter(|c| !c.sensitive && c.tenant.is_none())
            .map(|c| (c.name.clone(), if c.action == Action::Set { None } else { c.from.clone() }))
            .collect();
        blocking(move || {
            if restarted {
                return remove_optional(&path);
            }
            if running.is_empty() {
                return Ok(());
            }
            let mut pending = read_pending(&path)?;
            for (name, value) in running {
                // The first recorded value is the one the server still runs.
                pending.entry(name).or_insert(value);
            }
            let text = serde_json::to_string_pretty(&pending).map_err(io::Error::other)?;
            write_file(&path, text.as_bytes(), 0o600)
        })
        .await
    }
}

/// Settings written but not yet running, with the value the server runs
/// (`None`: its default).
type Pending = BTreeMap<String, Option<String>>;

#[async_trait::async_trait]
impl Driver for FileDriver {
    fn engine(&self) -> EngineKind {
        self.conn.engine
    }

    async fn observe(&self) -> Result<Observed, DriverError> {
        observe(None, self).await
    }

    async fn apply(&self, plan: &Plan, allow_restart: bool) -> Result<Applied, DriverError> {
        apply(None, self, plan, allow_restart).await
    }

    async fn restore(&self, before: &Observed, plan: &Plan, allow_restart: bool) -> Result<Applied, DriverError> {
        restore(None, self, before, plan, allow_restart).await
    }
}

/// The live settings, where the engine reports them, and those in the files
/// dbfleet wrote. A setting in a file is explicit; one whose file value
/// differs from the running value and needs a restart is pending.
pub(crate) async fn observe(live: Option<&dyn Live>, files: &FileDriver) -> Result<Observed, DriverError> {
    let (written, pending) = files.read_back().await?;
    let mut settings = match live {
        Some(live) => live.read().await?,
        None => Settings::new(),
    };
    let (engine, version) = (files.conn.engine, &files.conn.version);
    let catalog = dbfleet_catalog::catalog(engine);
    for (name, in_file) in &written {
        if let Some(running) = settings.get_mut(name) {
            running.explicit = true;
            let restart = catalog.get(name).is_some_and(|p| p.apply == ApplyMethod::Restart);
            if restart && in_file.value.is_some() && in_file.value != running.value {
                running.pending_restart = true;
            }
        }
    }
    // For what the server does not report, the files tell, except where a
    // restart is pending: there the server runs the recorded value.
    let mut rest: Settings<ObservedSetting> = written.into_iter().filter(|(n, _)| !settings.contains_key(n)).collect();
    for (name, was) in pending.into_iter().filter(|(n, _)| !settings.contains_key(n)) {
        rest.remove(&name);
        let Some(raw) = was else { continue };
        if let Some((name, mut running)) = observed(engine, version, &name, &Value::String(raw), true) {
            running.pending_restart = true;
            rest.insert(name, running);
        }
    }
    settings.extend(rest);
    Ok(Observed { settings, tenants: BTreeMap::new() })
}

/// Applies `plan`: live changes on the running server, everything through
/// the files (which also keeps live changes across restarts), then the
/// reload or restart the file-delivered changes need.
pub(crate) async fn apply(
    live: Option<&dyn Live>,
    files: &FileDriver,
    plan: &Plan,
    allow_restart: bool,
) -> Result<Applied, DriverError> {
    if plan.is_empty() {
        return Ok(Applied::default());
    }
    let (now, later) = split(live, plan);
    if let Some(c) = later.first().filter(|_| files.files.is_empty()) {
        let reason =
            "it takes effect through the configuration file, and the driver was given no rendered files to write";
        return Err(DriverError::Rejected { name: label(c), reason: reason.into() });
    }
    // First, so that a restore after any failure below returns to exactly
    // this state.
    if !files.files.is_empty() {
        files.back_up().await?;
    }
    let stale = if files.files.is_empty() { Vec::new() } else { files.stale().await? };
    // With every file already in place, a secret in the plan is one that a
    // server hiding it made the plan send again: the files hold it. Other
    // changes may still wait for the restart that takes them up.
    let later: Vec<&Change> =
        if stale.is_empty() { later.into_iter().filter(|c| !c.sensitive).collect() } else { later };
    let (step, waiting) = files.step(&later, allow_restart)?;
    if let Some(live) = live.filter(|_| !now.is_empty()) {
        live.set(&now).await?;
    }
    files.write(stale).await?;
    files.activate(step).await?;
    let waiting_changes: Vec<&Change> = later.iter().copied().filter(|c| waiting.contains(&label(c))).collect();
    files.note_pending(&waiting_changes, step == Step::Restart).await?;
    Ok(applied(plan, step, waiting))
}

/// Restores what `plan` changed: live settings to their values in `before`,
/// files from their backups, then the reload or restart that takes the
/// files up again.
pub(crate) async fn restore(
    live: Option<&dyn Live>,
    files: &FileDriver,
    before: &Observed,
    plan: &Plan,
    allow_restart: bool,
) -> Result<Applied, DriverError> {
    if plan.is_empty() {
        return Ok(Applied::default());
    }
    let (now, later) = split(live, plan);
    let reverted = files.put_back().await?;
    // The files are back whatever happens on the live side, so the server
    // takes them up even when a live setting could not be put back.
    let live_back = match live.filter(|_| !now.is_empty()) {
        Some(live) => live.put_back(before, &now).await,
        None => Ok(()),
    };
    // Files that came back unchanged give the server nothing to take up.
    let later = if reverted { later } else { Vec::new() };
    let (step, waiting) = files.step(&later, allow_restart)?;
    files.activate(step).await?;
    if step == Step::Restart {
        files.note_pending(&[], true).await?;
    }
    live_back?;
    Ok(applied(plan, step, waiting))
}

/// The changes of `plan` made on the running server, and those made
/// through the files.
fn split<'p>(live: Option<&dyn Live>, plan: &'p Plan) -> (Vec<&'p Change>, Vec<&'p Change>) {
    plan.changes.iter().partition(|c| live.is_some_and(|live| live.is_live(c)))
}

/// What applying or restoring `plan` did: every change sent, then `step`,
/// with `waiting` written but left for a restart.
fn applied(plan: &Plan, step: Step, waiting: Vec<String>) -> Applied {
    Applied {
        changed: plan.changes.iter().map(label).collect(),
        reloaded: step == Step::Reload,
        restarted: step == Step::Restart,
        pending_restart: waiting,
    }
}

/// Runs blocking file work off the async threads.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> io::Result<T> + Send + 'static) -> Result<T, DriverError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| DriverError::Protocol(format!("file delivery stopped: {e}")))?
        .map_err(|e| DriverError::Protocol(format!("file delivery failed: {e}")))
}

/// `path` with `suffix` added to its file name.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

fn read_optional(path: &Path) -> io::Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn read_pending(path: &Path) -> io::Result<Pending> {
    match read_optional(path)? {
        Some(text) => serde_json::from_slice(&text).map_err(io::Error::other),
        None => Ok(Pending::new()),
    }
}

/// Writes `path` with [`write_atomic`], creating its directory first (a
/// rendered file may sit in a subdirectory that does not exist yet).
fn write_file(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir)?;
    }
    write_atomic(path, bytes, mode)
}
