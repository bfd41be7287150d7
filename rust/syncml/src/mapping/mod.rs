//! Typed model ⇄ element tree, following the SyncML RepPro 1.2 DTD order.
//!
//! Reading is strict: a known element where the DTD does not allow it, a
//! repeated singleton, or a missing mandatory element is a typed error, so
//! a message is never half-understood.

mod lift;
mod lower;

pub use lift::lift;
pub use lower::lower;
