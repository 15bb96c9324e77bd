//! `rtok exec`.
