//! Integration tests for the `rtok` binary: one test binary, one module per
//! area, all built on `support`.

mod config_files;
mod exec;
mod faults;
mod interop;
mod keyring;
mod login;
mod logout;
mod prune;
mod rotate;
mod shell;
mod status;
mod support;
mod support_selftest;
mod tls_proxy;
mod token_create;
mod token_delete;
mod token_list;
mod transport;
mod whoami;
