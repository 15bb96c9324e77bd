//! rtok: a fast, safe manager for npm registry credentials and access tokens.
//!
//! The binary (`main.rs`) is a thin shell around this library; the library
//! form lets the fuzz targets, the benchmark's stub registry and property
//! tests reach the parser and helpers directly. See `docs/architecture.md`.
#![warn(clippy::print_stdout, clippy::print_stderr, unreachable_pub)]

// What the binary, the fuzz target and the tests reach is `pub`; the rest
// is the crate's own (`pub(crate)`, checked by `unreachable_pub`).
pub(crate) mod browser;
pub(crate) mod cidr;
pub mod cli;
pub mod client;
pub mod commands;
pub(crate) mod config;
pub(crate) mod credential_command;
pub mod diagnostics;
pub(crate) mod display;
pub mod failure;
pub(crate) mod keyring;
pub(crate) mod locate;
pub mod mask;
pub mod npmrc;
pub(crate) mod oidc;
pub mod output;
pub(crate) mod private_file;
pub(crate) mod prompt;
pub(crate) mod provider;
pub(crate) mod registry;
pub(crate) mod rtok_config;
pub(crate) mod scan;
pub mod secret;
pub(crate) mod settings;
pub(crate) mod severity;
pub mod time;
pub mod tokens;
pub(crate) mod trust_manifest;
pub(crate) mod yarnrc;
