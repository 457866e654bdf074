//! The fleet repo: loading, resolution with provenance, and templates.
//!
//! The pipeline is a sequence of types: files are parsed into spanned YAML
//! nodes, decoded into [`spec`] types, read into located layer entries
//! ([`layer`]), linked into a [`Fleet`] ([`load`]), and resolved per target
//! into [`Resolved`] configurations ([`resolve`]) whose every key carries the
//! chain of entries that set it.
//!
//! This crate reads the fleet repo and nothing else: it never fetches a
//! secret's value (references stay references) and never talks to a server.

mod context;
pub mod layer;
pub mod load;
mod policy;
pub mod resolve;
mod rules;
pub mod spec;
pub mod template;
pub mod time;
pub mod validate;

pub use layer::{Entry, LayerId, LayerKind, Op};
pub use load::{Fleet, Instance, Tenant, load};
pub use resolve::{Resolved, Resolver, Slot, TargetId, TargetInfo};
pub use validate::{Checked, CheckedValue, Validated, validate};
