//! Support for rtok's integration tests: isolated runs of rtok and npm
//! (`env`, `npm`), the real pnpm and yarn (`clients`), an in-process mock
//! registry (`mock`) and the real Verdaccio (`verdaccio`).
//!
//! A command test module starts with `use crate::support::*;` and reads
//! like this:
//!
//! ```text
//! #[test]
//! fn whoami_prints_the_user() {
//!     let reg = shared();                      // one Verdaccio per process
//!     let user = reg.new_user("whoami");       // unique name, own token
//!     let env = TestEnv::new();                // own HOME, project, npmrc
//!     env.register_secret(&user.token);        // must never be printed
//!     env.write_userconfig(&reg.npmrc_for(&user));
//!     let run = env.rtok().arg("whoami").run();
//!     run.success();
//!     assert_eq!(run.stdout.trim(), user.name);
//! }
//!
//! #[test]
//! fn otp_challenge() {
//!     let mock = MockRegistry::start(|req| match req.header("npm-otp") {
//!         None => Reply::json(401, json!({"error": "otp required"}))
//!             .header("www-authenticate", "OTP"),
//!         Some(_) => Reply::json(200, json!({"username": "u"})),
//!     });
//!     // ... point the env's userconfig at mock.url(), run, then inspect
//!     // mock.requests().
//! }
//! ```

// Each test module uses a different part of the support; what one test
// binary leaves unused is not dead code.
#![allow(dead_code, unused_imports)]

pub mod clients;
pub mod env;
pub mod fake_tools;
pub mod fixtures;
pub mod gate;
pub mod keyring;
pub mod mock;
pub mod npm;
pub mod oidc;
pub mod scan;
pub mod snapshot;
pub mod stage_mock;
pub mod stateful;
pub mod tls;
pub mod verdaccio;

pub use clients::{Client, yarnrc_for};
pub use env::{DEFAULT_TIMEOUT, RtokCmd, Run, TestEnv};
pub use fake_tools::FakeTools;
pub use fixtures::{assert_error, file_tree, hint, npmrc_for_mock, raw_rtok, require_test_hooks};
pub use gate::Gate;
pub use keyring::{PrivateKeyring, assert_no_file_contains};
pub use mock::{MockRegistry, Reply, Request, granular_token, npm_token, token_page};
pub use oidc::{
    GitHubIdentity, OidcRegistry, WithoutCi, fake_buildkite_agent, github_claims, jwt, jwt_claims,
    path_with, percent_decode,
};
pub use snapshot::{snapshot_settings, terminal_text, transcript};
pub use stage_mock::{
    STAGE_CREATED_TOKEN, STAGE_TOKEN, StageRegistry, TwoFactor, stage_id, staged_item,
};
pub use stateful::{PASSWORD, TokenRegistry, forwarding_proxy, npmjs_mask};
pub use tls::{ConnectProxy, TestCa, TlsRegistry};
pub use verdaccio::{User, Verdaccio, http_agent, shared};
// Every test builds JSON for mocks and compares JSON output.
pub use serde_json::json;
