//! Token logic that does not talk to a registry: short ids, masks and mask
//! matching, filters (expiry, age, globs, selection), permissions, and the
//! health judgements (`judge`: reading a listed token; `health`: kinds,
//! states; `audit`: `token audit`'s rules, judged against the policy that
//! rtok's settings hold).

pub(crate) mod audit;
pub(crate) mod filter;
pub(crate) mod health;
pub(crate) mod ids;
pub(crate) mod judge;

pub use crate::mask;
pub use crate::registry::Permission;
pub use crate::rtok_config::audit_policy::FailOn;
pub use ids::short_ids;
