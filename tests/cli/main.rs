//! Integration tests for the `rtok` binary: one test binary, one module per
//! area, all built on `support`. They drive rtok as a Unix user does (a
//! pseudo-terminal, signals, file modes, `sh` scripts), so the whole binary
//! is Unix-only.
#![cfg(unix)]

mod config_files;
mod distribution;
mod doctor;
mod doctor_clients;
mod every_client;
mod exec;
mod exec_clients;
mod faults;
mod interop;
mod keyring;
mod login;
mod logout;
mod npmrc_bytes;
mod oidc;
mod providers;
mod prune;
mod redirects;
mod refresh;
mod rotate;
mod scan;
mod shell;
mod snapshots;
mod stage;
mod status;
mod status_clients;
mod status_health;
mod storage;
mod support;
mod support_selftest;
mod terminal;
mod tls_proxy;
mod token_audit;
mod token_create;
mod token_delete;
mod token_helper;
mod token_list;
mod transport;
mod trust;
mod whoami;
