//! What several drivers share: reading a server's text through the catalog
//! into an observed setting, running a configured command, and waiting for
//! a server to accept connections; addresses, TLS client settings, the
//! restart rules (refuse before changing anything, then wait for a new
//! server process) and replacing a configuration file atomically.
//!
//! Nothing here knows an engine's protocol; each driver module does.

use std::fs;
use std::io::{self, Write as _};
use std::os::unix::fs::{MetadataExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;
use std::time::Duration;

use dbfleet_catalog::{Lookup, Parameter, Typed};
use dbfleet_model::{EngineKind, Value, Version};
use dbfleet_plan::{Change, ObservedSetting, Plan};

use crate::{Connection, DriverError, Tls};

/// What an observed secret's text is replaced with, so that no snapshot,
/// plan or log holds it.
pub(crate) const HIDDEN: &str = dbfleet_plan::SENSITIVE;

/// A setting the server (or a file dbfleet wrote) reports, under the
/// catalog's canonical name: `None` when the catalog does not know `name`.
/// The value is read the way the engine reads it, so that `1GB` and
/// `1024MB` compare equal; the text of a secret is never kept.
pub(crate) fn observed(
    engine: EngineKind,
    version: &Version,
    name: &str,
    value: &Value,
    explicit: bool,
) -> Option<(String, ObservedSetting)> {
    let parameter = match dbfleet_catalog::catalog(engine).lookup(name, version) {
        Lookup::Found(p) | Lookup::Alias { parameter: p, .. } => p,
        // A server reports what it has, whatever the catalog says of its
        // version; the name is still the catalog's.
        Lookup::NotYet { parameter, .. } | Lookup::Removed { parameter, .. } => parameter,
        Lookup::Unknown { .. } => return None,
    };
    let setting = if parameter.sensitive {
        let digest = match value {
            Value::String(s) if !s.is_empty() => Some(dbfleet_plan::secret_digest(s)),
            _ => None,
        };
        ObservedSetting { value: None, raw: HIDDEN.to_string(), pending_restart: false, digest, explicit }
    } else {
        let raw = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        ObservedSetting {
            value: parameter.normalize(engine, value).ok(),
            raw,
            pending_restart: false,
            digest: None,
            explicit,
        }
    };
    Some((parameter.name.clone(), setting))
}

/// `text` in `engine`'s spelling, read through the catalog; a value the
/// catalog refuses is rejected.
pub(crate) fn typed(engine: EngineKind, parameter: &Parameter, text: &str) -> Result<Typed, DriverError> {
    parameter
        .normalize(engine, &Value::String(text.to_string()))
        .map_err(|e| DriverError::Rejected { name: parameter.name.clone(), reason: e.to_string() })
}

/// The value a reset sets on an engine that has no reset: the catalog's
/// default. Without one the reset is rejected, saying `no_reset`.
pub(crate) fn catalog_default(engine: EngineKind, parameter: &Parameter, no_reset: &str) -> Result<Typed, DriverError> {
    let no_default = || DriverError::Rejected {
        name: parameter.name.clone(),
        reason: format!("{no_reset} and the catalog knows no default to set"),
    };
    let value = parameter.default.as_ref().ok_or_else(no_default)?;
    parameter.normalize(engine, value).map_err(|_| no_default())
}

/// `plan` without its tenant changes, for the restore of a driver that
/// refuses those in apply (before writing anything), so that they never
/// need putting back.
pub(crate) fn instance_changes(plan: &Plan) -> Plan {
    Plan { changes: plan.changes.iter().filter(|c| c.tenant.is_none()).cloned().collect(), ..plan.clone() }
}

/// A change as [`Applied::changed`](crate::Applied::changed) names it:
/// `name`, or `tenant/name` for a tenant's.
pub(crate) fn label(change: &Change) -> String {
    match &change.tenant {
        Some(tenant) => format!("{tenant}/{}", change.name),
        None => change.name.clone(),
    }
}

/// Runs a configured command (program and arguments, no shell) and returns
/// its standard output. Fails when it cannot start, exits non-zero or runs
/// longer than `timeout`; the error quotes the end of its standard error.
pub(crate) async fn run_command(command: &[String], timeout: Duration) -> Result<String, DriverError> {
    let shown = command.join(" ");
    let failed = |reason: String| DriverError::Command { command: shown.clone(), reason };
    let (program, args) = command.split_first().ok_or_else(|| failed("the command is empty".into()))?;
    let child = tokio::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        // A command that outlives its timeout is not left running.
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| failed(format!("cannot start it: {e}")))?;
    let output = tokio::time::timeout(timeout, child.wait_with_output())
        .await
        .map_err(|_| failed(format!("it did not finish within {}s", timeout.as_secs_f32())))?
        .map_err(|e| failed(e.to_string()))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        let status = output.status.code().map_or_else(|| "a signal".to_string(), |c| format!("status {c}"));
        return Err(failed(format!(
            "it exited with {status}{}",
            if tail.is_empty() { String::new() } else { format!(": {}", tail.join(" / ")) }
        )));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Waits until `address` accepts a TCP connection, for at most `timeout`.
pub(crate) async fn wait_for_tcp(address: &str, timeout: Duration) -> Result<(), DriverError> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let attempt = tokio::time::timeout(Duration::from_secs(2), tokio::net::TcpStream::connect(address)).await;
        let reason = match attempt {
            Ok(Ok(_)) => return Ok(()),
            Ok(Err(e)) => e.to_string(),
            Err(_) => "the connection attempt timed out".to_string(),
        };
        if tokio::time::Instant::now() >= deadline {
            let reason = format!("not accepting connections after {}s: {reason}", timeout.as_secs_f32());
            return Err(DriverError::Unreachable { address: address.to_string(), reason });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Splits `host:port` (`[v6]:port` for IPv6) into its parts; a bare host
/// gets `default_port`.
pub(crate) fn split_address(address: &str, default_port: u16) -> Result<(String, u16), DriverError> {
    let bad = |why: &str| DriverError::Protocol(format!("`{address}` is not a server address ({why})"));
    let (host, port) = match address.strip_prefix('[') {
        Some(rest) => {
            let (host, after) = rest.split_once(']').ok_or_else(|| bad("an IPv6 address needs a closing `]`"))?;
            (host, after.strip_prefix(':'))
        }
        None => match address.rsplit_once(':') {
            Some((host, port)) if !host.contains(':') => (host, Some(port)),
            _ => (address, None),
        },
    };
    if host.is_empty() {
        return Err(bad("no host"));
    }
    let port = match port {
        Some(p) => p.parse().map_err(|_| bad("the port is not a number from 0 to 65535"))?,
        None => default_port,
    };
    Ok((host.to_string(), port))
}

/// Whether `host` names this machine, so that a file path the server
/// reports is a path dbfleet can open too.
pub(crate) fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Makes ring the process-wide rustls provider. Clients built on rustls
/// without a provider of their own (reqwest with `rustls-no-provider`, the
/// redis crate) need one installed; an error means one already is, which
/// is as good.
pub(crate) fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A rustls client configuration for `tls`: the CA bundle it names, or the
/// system's trust store; or, with `insecure`, any certificate at all.
pub(crate) fn rustls_client_config(tls: &Tls) -> Result<rustls::ClientConfig, DriverError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject as _;

    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| DriverError::Protocol(format!("TLS setup failed: {e}")))?;
    if tls.insecure {
        let verifier = std::sync::Arc::new(AnyCertificate(provider));
        return Ok(builder.dangerous().with_custom_certificate_verifier(verifier).with_no_client_auth());
    }
    let mut roots = rustls::RootCertStore::empty();
    match &tls.ca {
        Some(path) => {
            let unreadable = |e: &dyn std::fmt::Display| {
                DriverError::Protocol(format!("cannot read the CA bundle {}: {e}", path.display()))
            };
            for cert in CertificateDer::pem_file_iter(path).map_err(|e| unreadable(&e))? {
                roots.add(cert.map_err(|e| unreadable(&e))?).map_err(|e| unreadable(&e))?;
            }
        }
        // Certificates the platform store holds but rustls cannot parse are
        // skipped, as browsers do; an empty store fails at the handshake.
        None => {
            roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        }
    }
    Ok(builder.with_root_certificates(roots).with_no_client_auth())
}

/// Accepts any server certificate (`tls.insecure`), while still checking
/// that the server holds the key of the one it shows.
#[derive(Debug)]
struct AnyCertificate(std::sync::Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The restart command to use for changes that need a restart, checked
/// before anything is changed: `None` when `needed` is false, an error when
/// restarts are not allowed or none is configured.
pub(crate) fn restart_command(
    conn: &Connection,
    needed: bool,
    allow_restart: bool,
) -> Result<Option<&[String]>, DriverError> {
    if !needed {
        return Ok(None);
    }
    if !allow_restart {
        return Err(DriverError::RestartNotAllowed);
    }
    match conn.restart_command.as_deref() {
        Some(command) if !command.is_empty() => Ok(Some(command)),
        _ => Err(DriverError::NoRestartCommand { address: conn.address.clone() }),
    }
}

/// Runs `command` to restart the server and waits, for at most
/// `conn.ready_timeout` in all, until `is_back` says that a new server
/// process answers. Asking for a new process, rather than for any answer,
/// matters because a restart command may return before the old process has
/// stopped listening.
pub(crate) async fn restart<F, Fut>(conn: &Connection, command: &[String], mut is_back: F) -> Result<(), DriverError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<bool, DriverError>>,
{
    let deadline = tokio::time::Instant::now() + conn.ready_timeout;
    run_command(command, conn.ready_timeout).await?;
    let mut last = String::from("it still runs the process from before the restart");
    loop {
        match is_back().await {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(e) => last = e.to_string(),
        }
        if tokio::time::Instant::now() >= deadline {
            let reason = format!("not back {}s after the restart: {last}", conn.ready_timeout.as_secs_f32());
            return Err(DriverError::Unreachable { address: conn.address.clone(), reason });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Replaces the file at `path` with `contents`, or removes it when
/// `contents` is `None`, the way [`write_atomic`] does. The previous file is
/// kept as `<name>.dbfleet.bak` for a person to go back to. The new file
/// keeps the old one's mode (a server running as its own user may rewrite
/// it, as Redis's `CONFIG REWRITE` does); a new file gets `new_mode`.
pub(crate) async fn replace_file(path: &Path, contents: Option<String>, new_mode: u32) -> Result<(), DriverError> {
    let owned = path.to_path_buf();
    let failed = |e: io::Error| DriverError::Protocol(format!("cannot write {}: {e}", path.display()));
    tokio::task::spawn_blocking(move || replace_file_now(&owned, contents.as_deref(), new_mode))
        .await
        .map_err(|e| DriverError::Protocol(format!("writing {} stopped: {e}", path.display())))?
        .map_err(failed)
}

fn replace_file_now(path: &Path, contents: Option<&str>, new_mode: u32) -> io::Result<()> {
    let old = match fs::metadata(path) {
        Ok(meta) => Some(meta),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    if old.is_some() {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        fs::copy(path, parent_dir(path).join(format!("{name}.dbfleet.bak")))?;
    }
    match contents {
        Some(contents) => {
            let mode = old.map_or(new_mode, |meta| meta.permissions().mode() & 0o7777);
            write_atomic(path, contents.as_bytes(), mode)
        }
        None if old.is_some() => {
            fs::remove_file(path)?;
            sync_dir(path)
        }
        None => Ok(()),
    }
}

/// Replaces `path` with `bytes`, with mode `mode`, so that a reader sees the
/// old file or the new one, never a part, even across a crash: a temporary
/// file in the same directory (hidden, so that no `*.xml`/`*.conf` glob
/// picks it up), fsync, rename, fsync of the directory. The file keeps the
/// owner of the one it replaces (a new one gets the directory's), so that a
/// server running as its own user can still read a 0600 file that dbfleet,
/// running as root, wrote. The directory must exist.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let dir = parent_dir(path);
    let owner = match fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => fs::metadata(dir)?,
        Err(e) => return Err(e),
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.dbfleet.tmp.{}", std::process::id()));
    remove_optional(&tmp)?;
    let mut file = fs::OpenOptions::new().write(true).create_new(true).mode(mode).open(&tmp)?;
    // The mode given at creation is narrowed by the umask; this sets it
    // exactly, before any secret is written.
    file.set_permissions(fs::Permissions::from_mode(mode))?;
    // Only a privileged process may give a file away; otherwise it stays
    // ours, which a server running as our user can read.
    let chowned = match std::os::unix::fs::fchown(&file, Some(owner.uid()), Some(owner.gid())) {
        Err(e) if e.kind() != io::ErrorKind::PermissionDenied => Err(e),
        _ => Ok(()),
    };
    let written = chowned.and_then(|()| file.write_all(bytes)).and_then(|()| file.sync_all());
    if let Err(e) = written.and_then(|()| fs::rename(&tmp, path)) {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    sync_dir(path)
}

/// Makes a rename or removal in `path`'s directory durable.
pub(crate) fn sync_dir(path: &Path) -> io::Result<()> {
    fs::File::open(parent_dir(path))?.sync_all()
}

/// Removes the file at `path`, if there is one.
pub(crate) fn remove_optional(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// The directory `path` is in (`.` for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// Whether `s` is a secret whose text was never read (see [`observed`]),
/// so that there is no earlier value to put back.
pub(crate) fn is_hidden(s: &ObservedSetting) -> bool {
    s.value.is_none() && s.raw == HIDDEN
}

/// Fails, once everything else has been put back, for the secrets among
/// the settings to restore: dbfleet never reads a secret back, so their
/// earlier values are unknown.
pub(crate) fn unrestorable(secrets: &[String]) -> Result<(), DriverError> {
    if secrets.is_empty() {
        return Ok(());
    }
    Err(DriverError::Protocol(format!(
        "cannot put back {}: dbfleet never reads a secret back, so the earlier value is unknown and the new one stays",
        secrets.join(", ")
    )))
}

/// An error with all its causes, `outer: inner: innermost`, for clients
/// whose own message leaves the cause out ("error connecting to server").
pub(crate) fn with_causes(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let part = c.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        cause = c.source();
    }
    text
}
