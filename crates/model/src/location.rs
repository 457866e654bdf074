//! Where a piece of configuration came from.

use std::fmt;
use std::sync::Arc;

/// A position in a source file: the file path as the user would write it
/// (relative to the fleet repo where possible), a 1-based line and a 1-based
/// column.
///
/// The path is shared (`Arc<str>`) because one file yields many locations.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct Location {
    pub file: Arc<str>,
    pub line: u32,
    pub column: u32,
}

impl Location {
    pub fn new(file: impl Into<Arc<str>>, line: u32, column: u32) -> Location {
        Location { file: file.into(), line, column }
    }

    /// A location naming a whole file, for problems that have no better place.
    pub fn file(file: impl Into<Arc<str>>) -> Location {
        Location { file: file.into(), line: 1, column: 1 }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}
