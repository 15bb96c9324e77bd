//! npm's `.npmrc` dialect: lossless parsing and editing, `${VAR}` expansion, nerf darts.

pub mod document;
pub mod expand;
pub mod file;
pub(crate) mod keys;
mod lossy;
pub mod nerf;
pub mod value;

pub use document::Document;
pub use expand::{Reference, expand};
pub use nerf::{NerfDart, credential_prefixes, nerf_dart};
