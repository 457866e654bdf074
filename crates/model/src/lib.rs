//! The shared vocabulary of dbfleet.
//!
//! Every other crate speaks in these types: the names of engines,
//! environments, tiers and workloads; the dynamically typed [`Value`] that a
//! setting holds; the [`Location`] a value came from; the spanned YAML
//! [`yaml::Node`] tree and the serde [`decode`] layer over it; units; and the
//! [`Diagnostic`] that every phase reports problems with.
//!
//! This crate does no IO besides parsing strings it is handed, and knows
//! nothing of files on disk, catalogs or servers.

pub mod decode;
mod diagnostic;
mod location;
mod names;
pub mod units;
mod value;
mod version;
pub mod yaml;

pub use diagnostic::{Diagnostic, Diagnostics, Severity};
pub use location::Location;
pub use names::{ApplyMethod, EngineKind, Environment, Scope, TierName, UnknownName, Workload};
pub use value::{SecretRef, SecretRefError, Value};
pub use version::{Version, VersionError};

/// Returns the candidate closest to `input`, if one is close enough to be a
/// plausible typo. Used for every "did you mean" in the product.
pub fn did_you_mean<'a, I>(input: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let input_lower = input.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&input_lower, &c.to_ascii_lowercase()), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}
