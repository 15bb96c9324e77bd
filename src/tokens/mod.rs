//! Token logic that does not talk to a registry: short ids, masks and mask
//! matching, filters (expiry, age, globs, selection), permissions, and the
//! health judgements (`judge`: reading a listed token; `health`: kinds,
//! states, severities; `audit` and `policy`: `token audit`'s rules).

pub(crate) mod audit;
pub(crate) mod filter;
pub(crate) mod health;
pub(crate) mod ids;
pub(crate) mod judge;
pub mod mask;
mod permission;
pub(crate) mod policy;

pub use ids::short_ids;
pub use permission::Permission;
pub use policy::FailOn;
