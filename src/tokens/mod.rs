//! Token logic that does not talk to a registry: short ids, masks and mask
//! matching, filters (expiry, age, globs, selection), permissions.

pub(crate) mod filter;
pub(crate) mod ids;
pub mod mask;
mod permission;

pub use ids::short_ids;
pub use permission::Permission;
