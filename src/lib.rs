//! rtok: a fast, safe manager for npm registry credentials and access tokens.
//!
//! The binary (`main.rs`) is a thin shell around this library; the library
//! form lets the fuzz targets, the benchmark's stub registry and property
//! tests reach the parser and helpers directly.
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod browser;
pub mod cidr;
pub mod cli;
pub mod commands;
pub mod config;
pub mod credential_command;
pub mod failure;
pub mod ids;
pub mod json;
pub mod keyring;
pub mod npmrc;
pub mod output;
pub mod private_file;
pub mod prompt;
pub mod registry;
pub mod rtok_config;
pub mod secret;
pub mod stored;
pub mod time;
