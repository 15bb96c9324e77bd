//! Integration tests for the `rtok` binary: one test binary, one module per
//! area, all built on `support`.

mod support;
mod support_selftest;
