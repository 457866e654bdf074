//! The fleet repo's age-encrypted secrets: `secrets/<name>.age` files, each
//! encrypted to every public key in `secrets/recipients.txt`.
//!
//! This is what `dbfleet secret set|get|list|rekey` work on, and what `age:`
//! references read. Only native x25519 identities and recipients are
//! supported: no passphrases, SSH keys or plugins.
//!
//! Every write goes to a temporary file in `secrets/` that is then renamed
//! over the target, so a crash never leaves a half-written secret for git to
//! pick up.

use std::collections::HashSet;
use std::fs::{self, OpenOptions};
use std::io::{self, BufRead, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use age::armor::{ArmoredReader, ArmoredWriter, Format};
use age::x25519;
use secrecy::{ExposeSecret, SecretString};

use crate::SecretError;

/// The fleet repo's store of age-encrypted secrets, in `<repo>/secrets/`.
#[derive(Clone, Debug)]
pub struct AgeStore {
    dir: PathBuf,
}

/// One secret in the store, as `list` describes it without decrypting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretInfo {
    pub name: String,
    /// How many recipients the file is encrypted to, counted from the
    /// stanzas in its header; `None` when the header cannot be read.
    pub recipients: Option<usize>,
    pub modified: SystemTime,
}

/// The x25519 identities from an identity file, as age-keygen writes it.
pub(crate) struct Identities(Vec<x25519::Identity>);

impl Identities {
    pub(crate) fn load(path: &Path) -> Result<Identities, SecretError> {
        let unreadable = |source| SecretError::AgeIdentityUnreadable { path: path.to_path_buf(), source };
        let file = fs::File::open(path).map_err(unreadable)?;
        let mut identities = Vec::new();
        for (index, line) in io::BufReader::new(file).lines().enumerate() {
            let line = secrecy::zeroize::Zeroizing::new(line.map_err(unreadable)?);
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let identity = line
                .parse::<x25519::Identity>()
                .map_err(|_| SecretError::AgeIdentityInvalid { path: path.to_path_buf(), line: index + 1 })?;
            identities.push(identity);
        }
        if identities.is_empty() {
            return Err(SecretError::AgeIdentityEmpty { path: path.to_path_buf() });
        }
        Ok(Identities(identities))
    }
}

impl AgeStore {
    /// The store of the fleet repo at `repo_root`. Nothing is read until a
    /// method is called, and the directory need not exist yet.
    pub fn new(repo_root: &Path) -> AgeStore {
        AgeStore { dir: repo_root.join("secrets") }
    }

    /// Generates a new identity, writes it to `identity_path` (readable by
    /// its owner only) and appends its public key to `secrets/recipients.txt`.
    /// Returns the public key.
    ///
    /// Existing secrets are not encrypted to the new key until someone who
    /// can read them runs [`AgeStore::rekey`].
    pub fn keygen(&self, identity_path: &Path) -> Result<String, SecretError> {
        let identity = x25519::Identity::generate();
        let public = identity.to_public().to_string();

        if let Some(parent) = identity_path.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent).map_err(|source| SecretError::Write { path: parent.to_path_buf(), source })?;
        }
        // `create_new` rather than a check first: an existing identity may be
        // the only key to some secrets, and must never be replaced.
        let mut file =
            OpenOptions::new().write(true).create_new(true).mode(0o600).open(identity_path).map_err(|source| {
                match source.kind() {
                    io::ErrorKind::AlreadyExists => {
                        SecretError::AgeIdentityExists { path: identity_path.to_path_buf() }
                    }
                    _ => SecretError::Write { path: identity_path.to_path_buf(), source },
                }
            })?;
        let contents = secrecy::zeroize::Zeroizing::new(format!(
            "# created by dbfleet secret keygen\n# public key: {public}\n{}\n",
            identity.to_string().expose_secret()
        ));
        file.write_all(contents.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|source| SecretError::Write { path: identity_path.to_path_buf(), source })?;

        let recipients = self.recipients_path();
        let write_err = |source| SecretError::Write { path: recipients.clone(), source };
        fs::create_dir_all(&self.dir).map_err(|source| SecretError::Write { path: self.dir.clone(), source })?;
        let existing = match fs::read_to_string(&recipients) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
            Err(source) => return Err(SecretError::Read { path: recipients, source }),
        };
        let mut file = OpenOptions::new().append(true).create(true).open(&recipients).map_err(write_err)?;
        // A hand-edited file may lack its final newline; without one the new
        // key would be glued onto the last line.
        let separator = if existing.is_empty() || existing.ends_with('\n') { "" } else { "\n" };
        file.write_all(format!("{separator}{public}\n").as_bytes()).map_err(write_err)?;
        Ok(public)
    }

    /// Encrypts `value` to every recipient in `secrets/recipients.txt` and
    /// stores it as `secrets/<name>.age`, replacing any previous value.
    pub fn set(&self, name: &str, value: &SecretString) -> Result<(), SecretError> {
        validate_name(name)?;
        let recipients = self.recipients()?;
        self.write_secret(name, value, &recipients)
    }

    /// Decrypts the secret `name` with the identity file at `identity`.
    pub fn get(&self, name: &str, identity: &Path) -> Result<SecretString, SecretError> {
        self.decrypt(name, &Identities::load(identity)?, identity)
    }

    /// Every secret in the store, sorted by name. An absent `secrets/`
    /// directory is an empty store.
    pub fn list(&self) -> Result<Vec<SecretInfo>, SecretError> {
        let mut infos = Vec::new();
        for name in self.names()? {
            let path = self.secret_path(&name);
            let read_err = |source| SecretError::Read { path: path.clone(), source };
            let modified = fs::metadata(&path).and_then(|m| m.modified()).map_err(read_err)?;
            let recipients = count_stanzas(&fs::read(&path).map_err(read_err)?);
            infos.push(SecretInfo { name, recipients, modified });
        }
        Ok(infos)
    }

    /// Re-encrypts every secret to the current `secrets/recipients.txt`, as
    /// after adding or removing a teammate. Returns the names re-encrypted.
    ///
    /// Everything is decrypted before anything is written, so a secret this
    /// identity cannot read stops the rekey with nothing changed. Each file
    /// is then replaced atomically; if a write fails, the error says which
    /// secrets were already done.
    pub fn rekey(&self, identity: &Path) -> Result<Vec<String>, SecretError> {
        let recipients = self.recipients()?;
        let identities = Identities::load(identity)?;
        let plaintexts = self
            .names()?
            .into_iter()
            .map(|name| self.decrypt(&name, &identities, identity).map(|value| (name, value)))
            .collect::<Result<Vec<_>, _>>()?;
        let mut done = Vec::with_capacity(plaintexts.len());
        for (name, value) in plaintexts {
            if let Err(e) = self.write_secret(&name, &value, &recipients) {
                return Err(SecretError::RekeyIncomplete { name, done, source: Box::new(e) });
            }
            done.push(name);
        }
        Ok(done)
    }

    /// Deletes the secret `name`.
    pub fn remove(&self, name: &str) -> Result<(), SecretError> {
        validate_name(name)?;
        let path = self.secret_path(name);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(self.not_found(name)),
            Err(source) => Err(SecretError::Write { path, source }),
        }
    }

    /// Decrypts `name` with already loaded identities; `identity_path` is
    /// only for the error message.
    pub(crate) fn decrypt(
        &self,
        name: &str,
        identities: &Identities,
        identity_path: &Path,
    ) -> Result<SecretString, SecretError> {
        validate_name(name)?;
        let path = self.secret_path(name);
        let ciphertext = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(self.not_found(name)),
            Err(source) => return Err(SecretError::Read { path, source }),
        };
        let corrupt = |source| SecretError::AgeCorrupt { path: path.clone(), source };
        let decryptor = age::Decryptor::new_buffered(ArmoredReader::new(&ciphertext[..])).map_err(corrupt)?;
        let mut reader =
            decryptor.decrypt(identities.0.iter().map(|i| i as &dyn age::Identity)).map_err(|e| match e {
                age::DecryptError::NoMatchingKeys => {
                    SecretError::AgeNotRecipient { name: name.to_string(), identity: identity_path.to_path_buf() }
                }
                other => corrupt(other),
            })?;
        let mut plaintext = secrecy::zeroize::Zeroizing::new(Vec::new());
        reader.read_to_end(&mut plaintext).map_err(|e| corrupt(age::DecryptError::Io(e)))?;
        let text = String::from_utf8(std::mem::take(&mut *plaintext)).map_err(|e| {
            // The rejected bytes are the secret: wipe them before dropping.
            secrecy::zeroize::Zeroize::zeroize(&mut e.into_bytes());
            SecretError::AgeNotUnicode { name: name.to_string() }
        })?;
        Ok(SecretString::from(text))
    }

    fn write_secret(
        &self,
        name: &str,
        value: &SecretString,
        recipients: &[x25519::Recipient],
    ) -> Result<(), SecretError> {
        let encryptor = age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
            .expect("x25519 recipients always combine, and `recipients` rejects an empty list");
        let mut armored = Vec::new();
        // Writing into a Vec cannot fail, and x25519 wrapping has no error
        // case, so neither can encryption.
        let mut writer = encryptor
            .wrap_output(ArmoredWriter::wrap_output(&mut armored, Format::AsciiArmor).expect("writing to a Vec"))
            .expect("writing to a Vec");
        writer.write_all(value.expose_secret().as_bytes()).expect("writing to a Vec");
        writer.finish().and_then(ArmoredWriter::finish).expect("writing to a Vec");

        let path = self.secret_path(name);
        let write_err = |source| SecretError::Write { path: path.clone(), source };
        let mut temp = tempfile::NamedTempFile::new_in(&self.dir).map_err(write_err)?;
        temp.write_all(&armored).and_then(|()| temp.as_file().sync_all()).map_err(write_err)?;
        temp.persist(&path).map_err(|e| write_err(e.error))?;
        Ok(())
    }

    /// The recipients from `secrets/recipients.txt`, without duplicates. A
    /// `#` starts a comment, on its own line or after a key.
    fn recipients(&self) -> Result<Vec<x25519::Recipient>, SecretError> {
        let path = self.recipients_path();
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(SecretError::AgeNoRecipients { path }),
            Err(source) => return Err(SecretError::Read { path, source }),
        };
        let mut seen = HashSet::new();
        let mut recipients = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let key = line.split_once('#').map_or(line, |(key, _)| key).trim();
            if key.is_empty() {
                continue;
            }
            let recipient = key
                .parse::<x25519::Recipient>()
                .map_err(|_| SecretError::AgeBadRecipient { path: path.clone(), line: index + 1 })?;
            if seen.insert(recipient.clone()) {
                recipients.push(recipient);
            }
        }
        if recipients.is_empty() {
            return Err(SecretError::AgeNoRecipients { path });
        }
        Ok(recipients)
    }

    /// The names of the stored secrets, sorted.
    fn names(&self) -> Result<Vec<String>, SecretError> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(SecretError::Read { path: self.dir.clone(), source }),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| SecretError::Read { path: self.dir.clone(), source })?;
            let file_name = entry.file_name();
            let Some(name) = file_name.to_str().and_then(|n| n.strip_suffix(".age")) else { continue };
            // Files whose names `set` could not have written are not ours.
            if validate_name(name).is_ok() {
                names.push(name.to_string());
            }
        }
        names.sort();
        Ok(names)
    }

    fn not_found(&self, name: &str) -> SecretError {
        let similar = self
            .names()
            .unwrap_or_default()
            .into_iter()
            .filter(|candidate| dbfleet_model::did_you_mean(name, [candidate.as_str()]).is_some())
            .collect();
        SecretError::AgeNotFound { name: name.to_string(), path: self.secret_path(name), similar }
    }

    fn secret_path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.age"))
    }

    fn recipients_path(&self) -> PathBuf {
        self.dir.join("recipients.txt")
    }
}

/// Accepts `[A-Za-z0-9._-]+` not starting with `.`: that rules out `.` and
/// `..`, hidden files and the temporary files writes go through, and a name
/// can hold no path separator.
fn validate_name(name: &str) -> Result<(), SecretError> {
    let valid = !name.is_empty()
        && !name.starts_with('.')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if valid { Ok(()) } else { Err(SecretError::InvalidName { name: name.to_string() }) }
}

/// Counts the recipient stanzas in an age file's header, which is plain text
/// (after removing any armor) ending at the `---` MAC line. `None` if the
/// file does not start like an age file.
fn count_stanzas(file: &[u8]) -> Option<usize> {
    let mut binary = Vec::new();
    ArmoredReader::new(file).read_to_end(&mut binary).ok()?;
    let mut lines = binary.split(|&b| b == b'\n');
    if lines.next()? != b"age-encryption.org/v1" {
        return None;
    }
    let mut stanzas = 0;
    for line in lines {
        if line.starts_with(b"---") {
            return Some(stanzas);
        }
        // age adds a random "grease" stanza to every file so that parsers
        // keep tolerating unknown stanzas; it is nobody's key.
        if let Some(stanza) = line.strip_prefix(b"-> ") {
            let tag = stanza.split(|&b| b == b' ').next().unwrap_or_default();
            if !tag.ends_with(b"-grease") {
                stanzas += 1;
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    struct Repo {
        dir: tempfile::TempDir,
        store: AgeStore,
    }

    impl Repo {
        fn new() -> Repo {
            let dir = tempfile::tempdir().unwrap();
            let store = AgeStore::new(dir.path());
            Repo { dir, store }
        }

        fn key(&self, name: &str) -> PathBuf {
            self.dir.path().join("keys").join(name)
        }
    }

    fn secret(text: &str) -> SecretString {
        SecretString::from(text)
    }

    #[test]
    fn keygen_writes_a_private_identity_and_appends_the_recipient() {
        let repo = Repo::new();
        let alice = repo.store.keygen(&repo.key("alice")).unwrap();
        assert!(alice.starts_with("age1"));
        let mode = fs::metadata(repo.key("alice")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let bob = repo.store.keygen(&repo.key("bob")).unwrap();
        let recipients = fs::read_to_string(repo.dir.path().join("secrets/recipients.txt")).unwrap();
        assert_eq!(recipients, format!("{alice}\n{bob}\n"));
    }

    #[test]
    fn keygen_never_overwrites_an_identity() {
        let repo = Repo::new();
        repo.store.keygen(&repo.key("alice")).unwrap();
        let before = fs::read(repo.key("alice")).unwrap();
        let err = repo.store.keygen(&repo.key("alice")).unwrap_err();
        assert!(matches!(err, SecretError::AgeIdentityExists { .. }), "{err}");
        assert_eq!(fs::read(repo.key("alice")).unwrap(), before);
    }

    #[test]
    fn keygen_adds_a_newline_a_hand_edited_file_lacks() {
        let repo = Repo::new();
        fs::create_dir_all(repo.dir.path().join("secrets")).unwrap();
        let carol = x25519::Identity::generate().to_public().to_string();
        fs::write(repo.dir.path().join("secrets/recipients.txt"), format!("# team\n{carol}")).unwrap();
        let alice = repo.store.keygen(&repo.key("alice")).unwrap();
        let recipients = fs::read_to_string(repo.dir.path().join("secrets/recipients.txt")).unwrap();
        assert_eq!(recipients, format!("# team\n{carol}\n{alice}\n"));
    }

    #[test]
    fn set_then_get_round_trips_exactly() {
        let repo = Repo::new();
        repo.store.keygen(&repo.key("alice")).unwrap();
        repo.store.set("pg-prod", &secret("s3cr3t\n with spaces ")).unwrap();
        let value = repo.store.get("pg-prod", &repo.key("alice")).unwrap();
        assert_eq!(value.expose_secret(), "s3cr3t\n with spaces ");
        let file = fs::read_to_string(repo.dir.path().join("secrets/pg-prod.age")).unwrap();
        assert!(file.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"), "{file}");
        assert!(!file.contains("s3cr3t"));
    }

    #[test]
    fn set_replaces_and_leaves_no_temporary_files() {
        let repo = Repo::new();
        repo.store.keygen(&repo.key("alice")).unwrap();
        repo.store.set("a", &secret("one")).unwrap();
        repo.store.set("a", &secret("two")).unwrap();
        assert_eq!(repo.store.get("a", &repo.key("alice")).unwrap().expose_secret(), "two");
        let mut entries: Vec<_> = fs::read_dir(repo.dir.path().join("secrets"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        entries.sort();
        assert_eq!(entries, ["a.age", "recipients.txt"]);
    }

    #[test]
    fn set_needs_recipients() {
        let repo = Repo::new();
        let err = repo.store.set("a", &secret("x")).unwrap_err();
        assert!(matches!(err, SecretError::AgeNoRecipients { .. }), "{err}");
        fs::create_dir_all(repo.dir.path().join("secrets")).unwrap();
        fs::write(repo.dir.path().join("secrets/recipients.txt"), "# nobody yet\n\n").unwrap();
        let err = repo.store.set("a", &secret("x")).unwrap_err();
        assert!(matches!(err, SecretError::AgeNoRecipients { .. }), "{err}");
    }

    #[test]
    fn recipients_allow_comments_and_report_bad_lines() {
        let repo = Repo::new();
        fs::create_dir_all(repo.dir.path().join("secrets")).unwrap();
        let alice = x25519::Identity::generate().to_public().to_string();
        let text = format!("# the team\n{alice}  # alice\n{alice}\nnot-a-key\n");
        fs::write(repo.dir.path().join("secrets/recipients.txt"), text).unwrap();
        let err = repo.store.recipients().unwrap_err();
        assert!(matches!(err, SecretError::AgeBadRecipient { line: 4, .. }), "{err}");
        fs::write(repo.dir.path().join("secrets/recipients.txt"), format!("# the team\n{alice}  # alice\n{alice}\n"))
            .unwrap();
        assert_eq!(repo.store.recipients().unwrap().len(), 1);
    }

    #[test]
    fn names_are_validated() {
        let repo = Repo::new();
        repo.store.keygen(&repo.key("alice")).unwrap();
        for bad in ["", ".", "..", "../x", "a/b", ".hidden", "a b", "é"] {
            let err = repo.store.set(bad, &secret("x")).unwrap_err();
            assert!(matches!(err, SecretError::InvalidName { .. }), "{bad:?}: {err}");
            let err = repo.store.get(bad, &repo.key("alice")).unwrap_err();
            assert!(matches!(err, SecretError::InvalidName { .. }), "{bad:?}: {err}");
        }
        for good in ["a", "pg-prod.password", "A_1"] {
            repo.store.set(good, &secret("x")).unwrap();
        }
    }

    #[test]
    fn list_counts_recipients_without_decrypting() {
        let repo = Repo::new();
        assert_eq!(repo.store.list().unwrap(), []);
        repo.store.keygen(&repo.key("alice")).unwrap();
        repo.store.set("one", &secret("x")).unwrap();
        repo.store.keygen(&repo.key("bob")).unwrap();
        repo.store.set("two", &secret("y")).unwrap();
        fs::write(repo.dir.path().join("secrets/junk.age"), "not age").unwrap();
        fs::write(repo.dir.path().join("secrets/notes.txt"), "ignored").unwrap();
        let listed: Vec<_> = repo.store.list().unwrap().into_iter().map(|i| (i.name, i.recipients)).collect();
        assert_eq!(listed, [("junk".to_string(), None), ("one".to_string(), Some(1)), ("two".to_string(), Some(2))]);
    }

    #[test]
    fn rekey_lets_a_new_recipient_read_and_keeps_others_out() {
        let repo = Repo::new();
        repo.store.keygen(&repo.key("alice")).unwrap();
        repo.store.set("pg", &secret("pg-pass")).unwrap();
        repo.store.set("redis", &secret("redis-pass")).unwrap();

        repo.store.keygen(&repo.key("bob")).unwrap();
        let err = repo.store.get("pg", &repo.key("bob")).unwrap_err();
        assert!(matches!(err, SecretError::AgeNotRecipient { .. }), "{err}");
        // Bob cannot rekey what he cannot read, and nothing changes.
        let err = repo.store.rekey(&repo.key("bob")).unwrap_err();
        assert!(matches!(err, SecretError::AgeNotRecipient { .. }), "{err}");

        assert_eq!(repo.store.rekey(&repo.key("alice")).unwrap(), ["pg", "redis"]);
        assert_eq!(repo.store.get("pg", &repo.key("bob")).unwrap().expose_secret(), "pg-pass");
        assert_eq!(repo.store.get("redis", &repo.key("alice")).unwrap().expose_secret(), "redis-pass");
        assert!(repo.store.list().unwrap().iter().all(|i| i.recipients == Some(2)));

        // Mallory generated a key but never made it into recipients.txt.
        let mallory = repo.key("mallory");
        fs::write(&mallory, format!("{}\n", x25519::Identity::generate().to_string().expose_secret())).unwrap();
        let err = repo.store.get("pg", &mallory).unwrap_err();
        assert!(matches!(err, SecretError::AgeNotRecipient { .. }), "{err}");
        assert_eq!(err.kind(), crate::SecretErrorKind::Denied);
    }

    #[test]
    fn rekey_after_removing_a_recipient_shuts_them_out() {
        let repo = Repo::new();
        let alice = repo.store.keygen(&repo.key("alice")).unwrap();
        repo.store.keygen(&repo.key("bob")).unwrap();
        repo.store.set("pg", &secret("pg-pass")).unwrap();
        fs::write(repo.dir.path().join("secrets/recipients.txt"), format!("{alice}\n")).unwrap();
        repo.store.rekey(&repo.key("alice")).unwrap();
        let err = repo.store.get("pg", &repo.key("bob")).unwrap_err();
        assert!(matches!(err, SecretError::AgeNotRecipient { .. }), "{err}");
    }

    #[test]
    fn missing_secrets_suggest_similar_names() {
        let repo = Repo::new();
        repo.store.keygen(&repo.key("alice")).unwrap();
        for name in ["pg-prod", "pg-prod2", "redis"] {
            repo.store.set(name, &secret("x")).unwrap();
        }
        let err = repo.store.get("pg-prd", &repo.key("alice")).unwrap_err();
        assert!(err.to_string().ends_with("; did you mean `pg-prod` or `pg-prod2`?"), "{err}");
        assert_eq!(err.kind(), crate::SecretErrorKind::NotFound);
        let err = repo.store.remove("zzz").unwrap_err();
        assert!(matches!(&err, SecretError::AgeNotFound { similar, .. } if similar.is_empty()), "{err}");
    }

    #[test]
    fn remove_deletes_the_file() {
        let repo = Repo::new();
        repo.store.keygen(&repo.key("alice")).unwrap();
        repo.store.set("a", &secret("x")).unwrap();
        repo.store.remove("a").unwrap();
        assert_eq!(repo.store.list().unwrap(), []);
    }

    #[test]
    fn identity_file_problems_are_reported_without_contents() {
        let repo = Repo::new();
        let err = repo.store.get("a", &repo.key("nobody")).unwrap_err();
        assert!(matches!(err, SecretError::AgeIdentityUnreadable { .. }), "{err}");
        fs::create_dir_all(repo.key("")).unwrap();
        fs::write(repo.key("bad"), "# comment\nAGE-SECRET-KEY-1NOTREALLY\n").unwrap();
        let err = repo.store.get("a", &repo.key("bad")).unwrap_err();
        assert!(matches!(err, SecretError::AgeIdentityInvalid { line: 2, .. }), "{err}");
        assert!(!format!("{err} {err:?}").contains("NOTREALLY"));
        fs::write(repo.key("empty"), "# nothing\n").unwrap();
        let err = repo.store.get("a", &repo.key("empty")).unwrap_err();
        assert!(matches!(err, SecretError::AgeIdentityEmpty { .. }), "{err}");
    }

    #[test]
    fn a_damaged_file_is_corrupt_not_denied() {
        let repo = Repo::new();
        repo.store.keygen(&repo.key("alice")).unwrap();
        fs::write(repo.dir.path().join("secrets/a.age"), "-----BEGIN AGE ENCRYPTED FILE-----\nxx\n").unwrap();
        let err = repo.store.get("a", &repo.key("alice")).unwrap_err();
        assert!(matches!(err, SecretError::AgeCorrupt { .. }), "{err}");
    }
}
