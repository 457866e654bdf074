//! Rendered configuration revisions and their content addresses.
//!
//! A revision's id is the sha256 of a canonical encoding of its files, sorted
//! by path, each as (path, sha256 of contents). Hashing each file's digest
//! rather than its contents (as git trees do) gives the same guarantee, equal
//! ids for equal files and only for them, and lets a stored revision be
//! checked against its id even when the contents of its sensitive files were
//! never stored.
//!
//! This module computes; storing is the backend's business.

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;

use crate::digest::{hex, sha256};
use crate::error::{ParseError, StoreError};

/// Prefixes the encoding so that these ids can never equal the sha256 of
/// some other structure the project hashes, and so that a future encoding
/// can be told apart.
const DOMAIN: &[u8] = b"dbfleet revision v1\n";

/// The content address of a revision: 64 lowercase hex digits.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RevisionId(String);

impl RevisionId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RevisionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for RevisionId {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<RevisionId, ParseError> {
        if s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            Ok(RevisionId(s.to_string()))
        } else {
            Err(ParseError { kind: "revision id", text: s.to_string() })
        }
    }
}

/// One rendered file handed to
/// [`StateStore::put_revision`](crate::StateStore::put_revision).
#[derive(Clone, Copy, Debug)]
pub struct FileToStore<'a> {
    /// Relative to the render output directory; compared byte for byte.
    pub path: &'a str,
    pub contents: &'a [u8],
    /// The contents hold a secret: store only their sha256 and size.
    ///
    /// The digest of a file whose only unknown is a short secret can be
    /// guessed by trying candidates, so this protects rendered files, in
    /// which a secret is one line among many, better than it would protect a
    /// file holding nothing but a password.
    pub sensitive: bool,
}

/// A stored revision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revision {
    pub id: RevisionId,
    /// When these contents were first stored.
    pub created_at: Timestamp,
    /// Sorted by path.
    pub files: Vec<StoredFile>,
}

/// One file of a stored revision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredFile {
    pub path: String,
    /// Lowercase hex.
    pub sha256: String,
    pub size: u64,
    /// `None` for contents that were marked sensitive, in this revision or
    /// any other.
    pub contents: Option<Vec<u8>>,
}

/// A file ready to store: what the backend writes.
#[derive(Debug)]
pub(crate) struct HashedFile<'a> {
    pub(crate) path: &'a str,
    pub(crate) sha256: String,
    pub(crate) contents: &'a [u8],
    pub(crate) sensitive: bool,
}

/// Computes the id of `files` and the digest of each, sorted by path.
pub(crate) fn hash_files<'a>(files: &[FileToStore<'a>]) -> Result<(RevisionId, Vec<HashedFile<'a>>), StoreError> {
    let mut sorted: Vec<&FileToStore<'a>> = files.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(b.path));
    if let Some(pair) = sorted.windows(2).find(|pair| pair[0].path == pair[1].path) {
        return Err(StoreError::DuplicatePath { path: pair[0].path.to_string() });
    }

    let mut encoding = DOMAIN.to_vec();
    let mut hashed = Vec::with_capacity(sorted.len());
    for file in sorted {
        let digest = sha256(file.contents);
        // Length-prefixing the path keeps the encoding unambiguous whatever
        // bytes a path holds; the digest has a fixed length.
        encoding.extend_from_slice(&(file.path.len() as u64).to_be_bytes());
        encoding.extend_from_slice(file.path.as_bytes());
        encoding.extend_from_slice(&digest);
        hashed.push(HashedFile {
            path: file.path,
            sha256: hex(&digest),
            contents: file.contents,
            sensitive: file.sensitive,
        });
    }
    Ok((RevisionId(hex(&sha256(&encoding))), hashed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file<'a>(path: &'a str, contents: &'a str) -> FileToStore<'a> {
        FileToStore { path, contents: contents.as_bytes(), sensitive: false }
    }

    fn id(files: &[FileToStore<'_>]) -> RevisionId {
        hash_files(files).unwrap().0
    }

    #[test]
    fn order_of_files_does_not_matter() {
        let a = file("a.conf", "x = 1\n");
        let b = file("b.conf", "y = 2\n");
        assert_eq!(id(&[a, b]), id(&[b, a]));
    }

    #[test]
    fn sensitivity_is_not_part_of_the_address() {
        let plain = file("a.conf", "x = 1\n");
        let secret = FileToStore { sensitive: true, ..plain };
        assert_eq!(id(&[plain]), id(&[secret]));
    }

    #[test]
    fn paths_and_contents_both_count() {
        let base = id(&[file("a.conf", "x = 1\n")]);
        assert_ne!(base, id(&[file("b.conf", "x = 1\n")]));
        assert_ne!(base, id(&[file("a.conf", "x = 2\n")]));
        assert_ne!(base, id(&[]));
    }

    #[test]
    fn moving_bytes_between_path_and_contents_changes_the_id() {
        assert_ne!(id(&[file("ab", "c")]), id(&[file("a", "bc")]));
    }

    #[test]
    fn ids_are_stable() {
        // Computed independently (Python's hashlib over the documented
        // encoding). If it changes, every stored id changes: bump DOMAIN.
        assert_eq!(
            id(&[file("postgresql.conf", "work_mem = '64MB'\n")]).as_str(),
            "4070de6026791c9a79a1eaf93a112a7f823e9de727741733e1b5eb5b1ace26c7"
        );
    }

    #[test]
    fn duplicate_paths_are_refused() {
        let err = hash_files(&[file("a", "1"), file("a", "2")]).unwrap_err();
        assert!(matches!(err, StoreError::DuplicatePath { path } if path == "a"));
    }

    #[test]
    fn revision_ids_parse_only_as_lowercase_hex() {
        let good = "0".repeat(64);
        assert_eq!(good.parse::<RevisionId>().unwrap().as_str(), good);
        assert!("A".repeat(64).parse::<RevisionId>().is_err());
        assert!("0".repeat(63).parse::<RevisionId>().is_err());
    }
}
