//! The state store's schema versions, and the pure check of what a database
//! has applied against what this binary knows.
//!
//! Migrations are SQL files under `migrations/`, embedded in the binary and
//! listed in [`MIGRATIONS`] in order. A database records each one it applied
//! in `schema_migrations` with the sha256 of its SQL. [`check`] compares the
//! two lists and either names the migrations to apply or says why the
//! database must not be touched; the backend applies what it names, one
//! transaction each, re-checking under its write lock so that two processes
//! opening a new store at once apply each migration once.
//!
//! There is no "dirty" state (a migration half applied): SQLite runs DDL
//! inside transactions, so a failed migration leaves nothing behind. For the
//! same reason a migration cannot switch `PRAGMA foreign_keys`; one that
//! rebuilds a table uses `PRAGMA defer_foreign_keys` instead. An applied
//! migration is never edited: a change to the schema is a new migration.

use crate::digest::sha256_hex;

/// One embedded migration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Migration {
    pub version: u32,
    pub name: &'static str,
    pub sql: &'static str,
}

impl Migration {
    /// The sha256 of the SQL, as recorded when the migration is applied.
    pub fn checksum(&self) -> String {
        sha256_hex(self.sql.as_bytes())
    }
}

/// Every migration this binary knows, by increasing version. File
/// `migrations/NNNN_name.sql` is version NNNN; a test checks that the
/// directory and this list agree.
pub const MIGRATIONS: &[Migration] =
    &[Migration { version: 1, name: "init", sql: include_str!("../migrations/0001_init.sql") }];

/// A migration as a database records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppliedMigration {
    pub version: u32,
    pub name: String,
    pub checksum: String,
}

/// Why a database's migrations and this binary's do not fit together.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MigrationError {
    /// The SQL of an applied migration was changed after it was applied, so
    /// the schema is not what this binary's migrations describe.
    #[error(
        "migration {version} was changed after it was applied (recorded checksum {expected_checksum}, this dbfleet's {found})"
    )]
    Divergent { version: u32, expected_checksum: String, found: String },

    /// The database has a migration this binary does not know.
    #[error(
        "the state store was written by a newer dbfleet: it has migration {version}, which this dbfleet does not know; refusing to use it"
    )]
    Missing { version: u32 },

    /// A migration this binary knows is not applied, but a later one is, as
    /// when two branches each added a migration: applying it now would run
    /// it against a schema it was not written for.
    #[error("migration {version} is not applied but the later migration {latest_applied} is")]
    OutOfOrder { version: u32, latest_applied: u32 },
}

/// The migrations in `local` that a database which applied `applied` still
/// needs, in order; or why it must not be migrated.
///
/// Both lists are sorted by version. An applied migration with a different
/// checksum is divergent, one missing from `local` is missing; checked in
/// version order, the first problem wins.
pub fn check<'a>(applied: &[AppliedMigration], local: &'a [Migration]) -> Result<Vec<&'a Migration>, MigrationError> {
    for done in applied {
        match local.iter().find(|m| m.version == done.version) {
            None => return Err(MigrationError::Missing { version: done.version }),
            Some(m) => {
                let found = m.checksum();
                if found != done.checksum {
                    return Err(MigrationError::Divergent {
                        version: done.version,
                        expected_checksum: done.checksum.clone(),
                        found,
                    });
                }
            }
        }
    }
    let latest_applied = applied.iter().map(|m| m.version).max();
    let pending: Vec<&Migration> =
        local.iter().filter(|m| !applied.iter().any(|done| done.version == m.version)).collect();
    match (pending.first(), latest_applied) {
        (Some(first), Some(latest)) if first.version < latest => {
            Err(MigrationError::OutOfOrder { version: first.version, latest_applied: latest })
        }
        _ => Ok(pending),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCAL: &[Migration] = &[
        Migration { version: 1, name: "init", sql: "CREATE TABLE a (x INTEGER);" },
        Migration { version: 2, name: "b", sql: "CREATE TABLE b (x INTEGER);" },
        Migration { version: 3, name: "c", sql: "CREATE TABLE c (x INTEGER);" },
    ];

    fn applied(m: &Migration) -> AppliedMigration {
        AppliedMigration { version: m.version, name: m.name.to_string(), checksum: m.checksum() }
    }

    /// Runs `check` and renders the outcome as the pending versions or the
    /// error's variant, for compact expectations.
    fn run(applied: &[AppliedMigration]) -> Result<Vec<u32>, MigrationError> {
        check(applied, LOCAL).map(|pending| pending.iter().map(|m| m.version).collect())
    }

    #[test]
    fn fresh_database_needs_every_migration() {
        assert_eq!(run(&[]), Ok(vec![1, 2, 3]));
    }

    #[test]
    fn up_to_date_database_needs_none() {
        let all: Vec<_> = LOCAL.iter().map(applied).collect();
        assert_eq!(run(&all), Ok(vec![]));
    }

    #[test]
    fn older_database_needs_the_rest() {
        assert_eq!(run(&[applied(&LOCAL[0])]), Ok(vec![2, 3]));
    }

    #[test]
    fn changed_sql_of_an_applied_migration_is_divergent() {
        let mut changed = applied(&LOCAL[1]);
        changed.checksum = "0".repeat(64);
        assert_eq!(
            run(&[applied(&LOCAL[0]), changed]),
            Err(MigrationError::Divergent {
                version: 2,
                expected_checksum: "0".repeat(64),
                found: LOCAL[1].checksum()
            })
        );
    }

    #[test]
    fn renaming_a_migration_is_not_divergence() {
        let mut renamed = applied(&LOCAL[0]);
        renamed.name = "first".to_string();
        assert_eq!(run(&[renamed]), Ok(vec![2, 3]));
    }

    #[test]
    fn migration_from_a_newer_binary_is_missing() {
        let mut all: Vec<_> = LOCAL.iter().map(applied).collect();
        all.push(AppliedMigration { version: 4, name: "newer".to_string(), checksum: "f".repeat(64) });
        let err = run(&all).unwrap_err();
        assert_eq!(err, MigrationError::Missing { version: 4 });
        assert!(err.to_string().contains("written by a newer dbfleet"), "{err}");
    }

    #[test]
    fn first_problem_in_version_order_wins() {
        let mut changed = applied(&LOCAL[0]);
        changed.checksum = "0".repeat(64);
        let newer = AppliedMigration { version: 9, name: "newer".to_string(), checksum: "f".repeat(64) };
        assert!(matches!(run(&[changed, newer]), Err(MigrationError::Divergent { version: 1, .. })));
    }

    #[test]
    fn gap_before_an_applied_migration_is_out_of_order() {
        assert_eq!(
            run(&[applied(&LOCAL[0]), applied(&LOCAL[2])]),
            Err(MigrationError::OutOfOrder { version: 2, latest_applied: 3 })
        );
    }

    /// Tidy check: `MIGRATIONS` lists exactly the files in `migrations/`,
    /// in order, with the version and name their file names give.
    #[test]
    fn embedded_list_matches_the_directory() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let mut files: Vec<String> =
            std::fs::read_dir(&dir).unwrap().map(|entry| entry.unwrap().file_name().into_string().unwrap()).collect();
        files.sort();
        let listed: Vec<String> = MIGRATIONS.iter().map(|m| format!("{:04}_{}.sql", m.version, m.name)).collect();
        assert_eq!(files, listed);
        for (m, file) in MIGRATIONS.iter().zip(&files) {
            assert_eq!(m.sql, std::fs::read_to_string(dir.join(file)).unwrap(), "{file}");
        }
        assert!(MIGRATIONS.windows(2).all(|pair| pair[0].version < pair[1].version));
    }
}
