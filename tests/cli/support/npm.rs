//! The real npm CLI, run with the same isolation as rtok plus settings that
//! keep it quiet, offline-friendly and inside the test's temporary tree: for
//! checking that rtok and npm read and write the same npmrc.

use std::path::PathBuf;
use std::sync::OnceLock;

use super::env::{RtokCmd, TestEnv};
use super::verdaccio::find_on_path;

impl TestEnv {
    /// `npm`, isolated like `rtok()`, reading and writing this env's
    /// userconfig and cache.
    pub fn npm(&self) -> RtokCmd {
        let cache = self.home.join(".npm-cache");
        // Set after the parent's npm_config_* are stripped (`env` entries
        // are applied last), so these are the only npm settings from the
        // environment.
        self.command(npm_path())
            .env("npm_config_userconfig", &self.userconfig)
            .env("npm_config_cache", cache)
            .env("npm_config_update_notifier", "false")
            .env("npm_config_fund", "false")
            .env("npm_config_audit", "false")
            .env("npm_config_loglevel", "warn")
    }
}

/// `npm` on PATH, looked up once.
fn npm_path() -> PathBuf {
    static NPM: OnceLock<Option<PathBuf>> = OnceLock::new();
    NPM.get_or_init(|| find_on_path("npm"))
        .clone()
        .unwrap_or_else(|| {
            panic!("npm is not on PATH: install npm 11 (it comes with Node.js) and rerun")
        })
}
