//! Tests of `Secrets` over every provider, including Vault against a real
//! OpenBao dev server, and of what errors and `Debug` output may show.

use std::collections::BTreeSet;
use std::io;
use std::os::unix::fs::PermissionsExt;

use super::*;

/// A fleet repo in a temporary directory.
struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new() -> Repo {
        Repo { dir: tempfile::tempdir().unwrap() }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, relative: &str, contents: &str, mode: u32) -> PathBuf {
        let path = self.root().join(relative);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, contents).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
        path
    }

    /// An age store with one recipient, whose identity file is returned.
    fn age_identity(&self) -> PathBuf {
        let identity = self.root().join("keys/me");
        AgeStore::new(self.root()).keygen(&identity).unwrap();
        identity
    }

    fn secrets(&self, config: SecretsConfig) -> Secrets {
        Secrets::new(self.root(), config)
    }
}

fn r(text: &str) -> SecretRef {
    text.parse().unwrap()
}

fn vault_config(address: &str, token: &str) -> SecretsConfig {
    SecretsConfig {
        vault: Some(VaultConfig { address: address.to_string(), token: SecretString::from(token), namespace: None }),
        ..SecretsConfig::default()
    }
}

/// An address on which nothing listens: the port was just free.
fn closed_address() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

#[test]
fn env_reads_a_set_variable() {
    // Cargo sets this for every test process; tests cannot set variables
    // themselves, since `set_var` is unsafe and the workspace forbids that.
    let secrets = Repo::new().secrets(SecretsConfig::default());
    assert_eq!(secrets.fetch(&r("env:CARGO_PKG_NAME")).unwrap().expose_secret(), "dbfleet-secrets");
}

#[test]
fn env_reports_an_unset_variable() {
    let secrets = Repo::new().secrets(SecretsConfig::default());
    let err = secrets.check(&r("env:DBFLEET_TEST_NEVER_SET_4F2A")).unwrap_err();
    assert_eq!(err.to_string(), "environment variable `DBFLEET_TEST_NEVER_SET_4F2A` is not set");
    assert_eq!(err.kind(), SecretErrorKind::NotFound);
}

#[test]
fn file_is_read_relative_to_the_repo_and_trimmed() {
    let repo = Repo::new();
    repo.write("creds/pg", "pg-pass\n", 0o600);
    let absolute = repo.write("elsewhere/redis", "redis-pass\r\n", 0o600);
    let secrets = repo.secrets(SecretsConfig::default());
    assert_eq!(secrets.fetch(&r("file:creds/pg")).unwrap().expose_secret(), "pg-pass");
    let absolute = SecretRef::File { path: absolute.to_str().unwrap().to_string() };
    assert_eq!(secrets.fetch(&absolute).unwrap().expose_secret(), "redis-pass");
    assert_eq!(secrets.warnings(), []);
}

#[test]
fn file_readable_by_others_is_used_with_a_warning() {
    let repo = Repo::new();
    let path = repo.write("creds/pg", "pg-pass", 0o644);
    let secrets = repo.secrets(SecretsConfig::default());
    assert_eq!(secrets.fetch(&r("file:creds/pg")).unwrap().expose_secret(), "pg-pass");
    secrets.fetch(&r("file:creds/pg")).unwrap();
    let warnings = secrets.warnings();
    assert_eq!(warnings, [PermissionWarning { path: path.clone(), mode: 0o644 }]);
    assert_eq!(
        warnings[0].to_string(),
        format!("{} is readable by group or others (mode 0644); consider `chmod 600`", path.display())
    );
}

#[test]
fn file_problems_name_the_path() {
    let repo = Repo::new();
    let secrets = repo.secrets(SecretsConfig::default());
    let err = secrets.fetch(&r("file:creds/none")).unwrap_err();
    let missing = repo.root().join("creds/none");
    assert_eq!(err.to_string(), format!("secret file {} does not exist", missing.display()));
    assert_eq!(err.kind(), SecretErrorKind::NotFound);

    let path = repo.write("creds/locked", "x", 0o000);
    if fs::read(&path).is_ok() {
        // Running as root, which reads anything: there is no denial to see.
        return;
    }
    let err = secrets.fetch(&r("file:creds/locked")).unwrap_err();
    assert_eq!(err.to_string(), format!("permission denied reading secret file {}", path.display()));
    assert_eq!(err.kind(), SecretErrorKind::Denied);
}

#[test]
fn age_secrets_decrypt_with_the_configured_identity() {
    let repo = Repo::new();
    let identity = repo.age_identity();
    AgeStore::new(repo.root()).set("pg-prod", &SecretString::from("pg-pass")).unwrap();
    let secrets = repo.secrets(SecretsConfig { age_identity: Some(identity), vault: None });
    assert_eq!(secrets.fetch(&r("age:pg-prod")).unwrap().expose_secret(), "pg-pass");
    let err = secrets.fetch(&r("age:pg-prd")).unwrap_err();
    assert!(err.to_string().ends_with("; did you mean `pg-prod`?"), "{err}");
    // keygen wrote the identity 0600, so there is nothing to warn about.
    assert_eq!(secrets.warnings(), []);
}

#[test]
fn age_without_an_identity_says_how_to_configure_one() {
    let repo = Repo::new();
    let err = repo.secrets(SecretsConfig::default()).fetch(&r("age:pg")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "no age identity is configured; set DBFLEET_AGE_IDENTITY to the path of your identity file"
    );
    assert_eq!(err.kind(), SecretErrorKind::Misconfigured);
}

#[test]
fn age_identity_readable_by_others_is_warned_about() {
    let repo = Repo::new();
    let identity = repo.age_identity();
    fs::set_permissions(&identity, fs::Permissions::from_mode(0o640)).unwrap();
    AgeStore::new(repo.root()).set("pg", &SecretString::from("x")).unwrap();
    let secrets = repo.secrets(SecretsConfig { age_identity: Some(identity.clone()), vault: None });
    secrets.fetch(&r("age:pg")).unwrap();
    assert_eq!(secrets.warnings(), [PermissionWarning { path: identity, mode: 0o640 }]);
}

#[test]
fn values_are_memoised_for_the_life_of_secrets() {
    let repo = Repo::new();
    let identity = repo.age_identity();
    let store = AgeStore::new(repo.root());
    store.set("pg", &SecretString::from("first")).unwrap();
    repo.write("creds/pg", "first", 0o600);
    let secrets = repo.secrets(SecretsConfig { age_identity: Some(identity), vault: None });
    assert_eq!(secrets.fetch(&r("age:pg")).unwrap().expose_secret(), "first");
    assert_eq!(secrets.fetch(&r("file:creds/pg")).unwrap().expose_secret(), "first");

    store.set("pg", &SecretString::from("second")).unwrap();
    repo.write("creds/pg", "second", 0o600);
    assert_eq!(secrets.fetch(&r("age:pg")).unwrap().expose_secret(), "first");
    assert_eq!(secrets.fetch(&r("file:creds/pg")).unwrap().expose_secret(), "first");
    assert_eq!(repo.secrets(SecretsConfig::default()).fetch(&r("file:creds/pg")).unwrap().expose_secret(), "second");
}

#[test]
fn check_does_not_memoise() {
    let repo = Repo::new();
    repo.write("creds/pg", "first", 0o600);
    let secrets = repo.secrets(SecretsConfig::default());
    secrets.check(&r("file:creds/pg")).unwrap();
    repo.write("creds/pg", "second", 0o600);
    assert_eq!(secrets.fetch(&r("file:creds/pg")).unwrap().expose_secret(), "second");
    fs::remove_file(repo.root().join("creds/pg")).unwrap();
    // Already memoised by `fetch`, so still fine.
    secrets.check(&r("file:creds/pg")).unwrap();
}

#[test]
fn failures_are_not_memoised() {
    let repo = Repo::new();
    let secrets = repo.secrets(SecretsConfig::default());
    secrets.check(&r("file:creds/pg")).unwrap_err();
    repo.write("creds/pg", "now here", 0o600);
    assert_eq!(secrets.fetch(&r("file:creds/pg")).unwrap().expose_secret(), "now here");
}

#[test]
fn fetch_is_shared_between_threads() {
    let repo = Repo::new();
    let identity = repo.age_identity();
    let store = AgeStore::new(repo.root());
    for i in 0..4 {
        store.set(&format!("s{i}"), &SecretString::from(format!("value-{i}"))).unwrap();
    }
    let secrets = repo.secrets(SecretsConfig { age_identity: Some(identity), vault: None });
    std::thread::scope(|scope| {
        for t in 0..8 {
            let secrets = &secrets;
            scope.spawn(move || {
                let i = t % 4;
                let value = secrets.fetch(&r(&format!("age:s{i}"))).unwrap();
                assert_eq!(value.expose_secret(), format!("value-{i}"));
            });
        }
    });
}

#[test]
fn config_comes_from_the_environment() {
    let vars = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| OsString::from(v))
    };
    let config = SecretsConfig::from_vars(vars(&[
        ("DBFLEET_AGE_IDENTITY", "/home/me/.config/dbfleet/age.key"),
        ("BAO_ADDR", "http://bao:8200"),
        ("VAULT_ADDR", "http://vault:8200"),
        ("BAO_TOKEN", "t0k3n"),
        ("VAULT_NAMESPACE", "team"),
    ]));
    assert_eq!(config.age_identity.as_deref(), Some(Path::new("/home/me/.config/dbfleet/age.key")));
    let vault = config.vault.unwrap();
    assert_eq!(vault.address, "http://vault:8200");
    assert_eq!(vault.token.expose_secret(), "t0k3n");
    assert_eq!(vault.namespace.as_deref(), Some("team"));

    // An address without a token is not a usable configuration.
    let config = SecretsConfig::from_vars(vars(&[("VAULT_ADDR", "http://vault:8200"), ("VAULT_TOKEN", "")]));
    assert!(config.vault.is_none() && config.age_identity.is_none());
    let err = Secrets::new(Path::new("."), config).fetch(&r("vault:secret/pg#password")).unwrap_err();
    assert_eq!(err.to_string(), "vault is not configured; set VAULT_ADDR and VAULT_TOKEN (or BAO_ADDR and BAO_TOKEN)");
    assert_eq!(err.kind(), SecretErrorKind::Misconfigured);
}

#[test]
fn vault_unreachable_names_the_address() {
    let address = closed_address();
    let secrets = Repo::new().secrets(vault_config(&address, "token"));
    let err = secrets.fetch(&r("vault:secret/db/pg#password")).unwrap_err();
    assert_eq!(err.to_string(), format!("vault at {address} is unreachable"));
    assert_eq!(err.kind(), SecretErrorKind::Unreachable);
}

#[test]
fn vault_references_are_checked_before_any_request() {
    let secrets = Repo::new().secrets(vault_config(&closed_address(), "token"));
    for reference in ["vault:secret/a//b#f", "vault:secret/../sys#f", "vault:./x#f"] {
        let err = secrets.fetch(&r(reference)).unwrap_err();
        assert!(matches!(err, SecretError::VaultBadPath { .. }), "{reference}: {err}");
    }
    let secrets = Repo::new().secrets(vault_config("not a url", "token"));
    let err = secrets.fetch(&r("vault:secret/x#f")).unwrap_err();
    assert!(matches!(err, SecretError::VaultBadAddress { .. }), "{err}");
    let secrets = Repo::new().secrets(vault_config(&closed_address(), "bad\ntoken"));
    let err = secrets.fetch(&r("vault:secret/x#f")).unwrap_err();
    assert_eq!(err.to_string(), "the vault token contains characters that cannot be sent in an HTTP header");
}

#[test]
fn vault_against_openbao() {
    let bao = dbfleet_testsupport::BaoServer::start().unwrap();
    bao.kv_put("db/pg", &[("password", "pg-pass-7Qx"), ("user", "app-user-3Kp")]).unwrap();
    let secrets = Repo::new().secrets(vault_config(&bao.address(), bao.root_token()));

    assert_eq!(secrets.fetch(&r("vault:secret/db/pg#password")).unwrap().expose_secret(), "pg-pass-7Qx");
    assert_eq!(secrets.fetch(&r("vault:secret/db/pg#user")).unwrap().expose_secret(), "app-user-3Kp");

    let err = secrets.fetch(&r("vault:secret/db/pg#passwd")).unwrap_err();
    assert_eq!(err.to_string(), "vault secret `secret/db/pg` has no field `passwd`; its fields are `password`, `user`");
    assert_eq!(err.kind(), SecretErrorKind::NotFound);
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("pg-pass-7Qx") && !shown.contains("app-user-3Kp"), "{shown}");

    let err = secrets.fetch(&r("vault:secret/db/nothing#password")).unwrap_err();
    assert_eq!(err.to_string(), "vault has no secret `db/nothing` in the KV version 2 mount `secret` (404)");
    assert_eq!(err.kind(), SecretErrorKind::NotFound);

    // Memoised: a change in Vault is not seen by the same `Secrets`.
    bao.kv_put("db/pg", &[("password", "rotated"), ("user", "app-user-3Kp")]).unwrap();
    assert_eq!(secrets.fetch(&r("vault:secret/db/pg#password")).unwrap().expose_secret(), "pg-pass-7Qx");

    let wrong_token = Repo::new().secrets(vault_config(&bao.address(), "s.not-a-real-token"));
    let err = wrong_token.fetch(&r("vault:secret/db/pg#password")).unwrap_err();
    assert!(err.to_string().starts_with("vault denied reading `secret/db/pg` (403)"), "{err}");
    assert_eq!(err.kind(), SecretErrorKind::Denied);
}

/// Every variant, formatted with `{}` and `{:?}`, and a `Secrets` that has
/// fetched a known value, must not show that value or the Vault token.
#[test]
fn no_output_shows_a_secret() {
    const VALUE: &str = "hunter2-Wq8Zt";
    const TOKEN: &str = "token-Kd3Lp0";
    let repo = Repo::new();
    let identity = repo.age_identity();
    let store = AgeStore::new(repo.root());
    store.set("pg", &SecretString::from(VALUE)).unwrap();
    repo.write("creds/pg", VALUE, 0o644);
    repo.write("secrets/broken.age", VALUE, 0o600);
    let mut config = vault_config(&closed_address(), TOKEN);
    config.age_identity = Some(identity.clone());
    let secrets = repo.secrets(config);
    assert_eq!(secrets.fetch(&r("age:pg")).unwrap().expose_secret(), VALUE);
    assert_eq!(secrets.fetch(&r("file:creds/pg")).unwrap().expose_secret(), VALUE);

    // An identity that is not in recipients.txt, and a secret encrypted to
    // it alone whose plaintext is not UTF-8.
    let other = age::x25519::Identity::generate();
    let other_identity = repo.write("keys/other", &format!("{}\n", other.to_string().expose_secret()), 0o600);
    let binary = age::encrypt(&other.to_public(), &[0xff, 0xfe]).unwrap();
    fs::write(repo.root().join("secrets/binary.age"), binary).unwrap();
    let bad_identity = repo.write("keys/bad", &format!("{VALUE}\n"), 0o600);
    let empty_identity = repo.write("keys/empty", "", 0o600);

    let reqwest_error = || match secrets.fetch(&r("vault:secret/pg#password")).unwrap_err() {
        SecretError::VaultUnreachable { source, .. } => source,
        other => panic!("{other}"),
    };
    let s = String::from;
    let path = || repo.root().join("creds/pg");
    let mount = || s("secret");
    let vpath = || s("db/pg");
    let errors = vec![
        secrets.fetch(&r("env:DBFLEET_TEST_NEVER_SET_4F2A")).unwrap_err(),
        SecretError::EnvNotUnicode { var: s("PGPASS") },
        secrets.fetch(&r("file:creds/none")).unwrap_err(),
        SecretError::FileDenied { path: path() },
        SecretError::FileNotUnicode { path: path() },
        SecretError::Read { path: path(), source: io::Error::other("disk on fire") },
        SecretError::Write { path: path(), source: io::Error::other("disk full") },
        Secrets::new(repo.root(), SecretsConfig::default()).fetch(&r("age:pg")).unwrap_err(),
        store.get("pg", &repo.root().join("keys/none")).unwrap_err(),
        store.get("pg", &bad_identity).unwrap_err(),
        store.get("pg", &empty_identity).unwrap_err(),
        store.keygen(&identity).unwrap_err(),
        store.get("../pg", &identity).unwrap_err(),
        store.get("pgg", &identity).unwrap_err(),
        store.get("pg", &other_identity).unwrap_err(),
        store.get("broken", &identity).unwrap_err(),
        store.get("binary", &other_identity).unwrap_err(),
        SecretError::AgeNoRecipients { path: repo.root().join("secrets/recipients.txt") },
        SecretError::AgeBadRecipient { path: repo.root().join("secrets/recipients.txt"), line: 3 },
        Secrets::new(repo.root(), SecretsConfig::default()).fetch(&r("vault:secret/pg#password")).unwrap_err(),
        Secrets::new(repo.root(), vault_config("::", TOKEN)).fetch(&r("vault:secret/pg#password")).unwrap_err(),
        SecretError::VaultBadHeader { what: "token" },
        secrets.fetch(&r("vault:secret/a//b#f")).unwrap_err(),
        SecretError::VaultClient { source: reqwest_error() },
        SecretError::VaultUnreachable { address: closed_address(), source: reqwest_error() },
        SecretError::VaultDenied { mount: mount(), path: vpath(), errors: vec![s("permission denied")] },
        SecretError::VaultNotFound { mount: mount(), path: vpath() },
        SecretError::VaultFieldMissing {
            mount: mount(),
            path: vpath(),
            field: s("pw"),
            available: vec![s("password")],
        },
        SecretError::VaultFieldNotText { mount: mount(), path: vpath(), field: s("pw"), kind: "a map" },
        SecretError::VaultServer { mount: mount(), path: vpath(), status: 503, errors: vec![s("Vault is sealed")] },
        SecretError::VaultBadResponse { mount: mount(), path: vpath() },
        SecretError::RekeyIncomplete {
            name: s("redis"),
            done: vec![s("pg")],
            source: Box::new(SecretError::Write { path: path(), source: io::Error::other("disk full") }),
        },
    ];

    let covered: BTreeSet<usize> = errors.iter().map(variant_index).collect();
    assert_eq!(covered, (0..VARIANTS).collect(), "every variant must appear once in `errors`");
    for err in &errors {
        let mut shown = format!("{err}\n{err:?}");
        let mut source = std::error::Error::source(err);
        while let Some(inner) = source {
            shown.push_str(&format!("\n{inner}\n{inner:?}"));
            source = inner.source();
        }
        assert!(!shown.contains(VALUE) && !shown.contains(TOKEN), "{shown}");
        assert!(!shown.is_empty());
    }
    let shown = format!("{secrets:?}");
    assert!(shown.contains("age:pg") && !shown.contains(VALUE) && !shown.contains(TOKEN), "{shown}");
}

const VARIANTS: usize = 32;

/// A number per variant. The match is exhaustive, so a new variant cannot
/// be added without giving it a number, and then `no_output_shows_a_secret`
/// fails until it has an example.
fn variant_index(err: &SecretError) -> usize {
    match err {
        SecretError::EnvNotSet { .. } => 0,
        SecretError::EnvNotUnicode { .. } => 1,
        SecretError::FileMissing { .. } => 2,
        SecretError::FileDenied { .. } => 3,
        SecretError::FileNotUnicode { .. } => 4,
        SecretError::Read { .. } => 5,
        SecretError::Write { .. } => 6,
        SecretError::AgeNoIdentity => 7,
        SecretError::AgeIdentityUnreadable { .. } => 8,
        SecretError::AgeIdentityInvalid { .. } => 9,
        SecretError::AgeIdentityEmpty { .. } => 10,
        SecretError::AgeIdentityExists { .. } => 11,
        SecretError::InvalidName { .. } => 12,
        SecretError::AgeNotFound { .. } => 13,
        SecretError::AgeNotRecipient { .. } => 14,
        SecretError::AgeCorrupt { .. } => 15,
        SecretError::AgeNotUnicode { .. } => 16,
        SecretError::AgeNoRecipients { .. } => 17,
        SecretError::AgeBadRecipient { .. } => 18,
        SecretError::VaultNotConfigured => 19,
        SecretError::VaultBadAddress { .. } => 20,
        SecretError::VaultBadHeader { .. } => 21,
        SecretError::VaultBadPath { .. } => 22,
        SecretError::VaultClient { .. } => 23,
        SecretError::VaultUnreachable { .. } => 24,
        SecretError::VaultDenied { .. } => 25,
        SecretError::VaultNotFound { .. } => 26,
        SecretError::VaultFieldMissing { .. } => 27,
        SecretError::VaultFieldNotText { .. } => 28,
        SecretError::VaultServer { .. } => 29,
        SecretError::VaultBadResponse { .. } => 30,
        SecretError::RekeyIncomplete { .. } => 31,
    }
}
