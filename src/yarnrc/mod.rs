//! yarn berry's `.yarnrc.yml`, as far as credentials go: every credential
//! setting with its line and what its value is (`read.rs`), which one yarn
//! uses for a registry and scope, and lossless edits of the token for a
//! registry or a scope (`edit.rs`). clients-2026.md §1.6 and §1.10 describe
//! the format and yarn's rules.
//!
//! The editor changes lines, never re-serialises: `yaml-rust2` (already
//! linked for pnpm's workspace file) parses the file and says where each
//! node starts; an edit replaces one scalar or inserts or removes whole lines
//! of block-style maps, then parses the result again and checks that it
//! means the original plus exactly the intended change (else it is refused).
//! Writing the file is the caller's job, through `crate::private_file`.

mod edit;
mod read;
mod resolve;
mod tree;
mod uses;
mod value;

pub(crate) use edit::{Change, edit};
pub(crate) use read::{Auth, Entry, Field, FileError, Place, Yarnrc, read_file};
pub(crate) use resolve::{Missing, Unresolved, missing_variables, resolve};
pub(crate) use uses::{DEFAULT_REGISTRY, references_in_file};
pub(crate) use value::{NewValue, Value};

/// Why a `.yarnrc.yml` could not be read or edited. No variant holds a
/// value from the file: a key may be a URL with a password in it and a
/// value may be a token.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum Error {
    #[error("line {line}: invalid YAML: {message}")]
    Invalid { line: usize, message: String },
    #[error("the file is not UTF-8 text")]
    NotUtf8,
    #[error("line {line}: the file's top level is not a map of settings")]
    NotAMap { line: usize },
    #[error("line {line}: a key appears twice in the same map")]
    DuplicateKey { line: usize },
    #[error(
        "line {line}: the value is a `${{…}}` reference; rtok does not replace it with a literal token"
    )]
    KeepsReference { line: usize },
    #[error(
        "a `${{VAR}}` without a default stops every yarn command while VAR is unset; write `${{VAR:-}}` instead"
    )]
    ReferenceWithoutDefault,
    #[error("the value has a `${{` that yarn cannot read")]
    MalformedReference,
    #[error("line {line}: rtok does not edit {what} here; edit the file by hand")]
    Unsupported { line: usize, what: &'static str },
    #[error("the edit would have changed other settings, so the file was left as it was")]
    Unverified,
}
