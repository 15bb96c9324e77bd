//! `Settings`: everything a command needs to know, resolved once from the
//! arguments, the environment and the config files: the registry and scope,
//! the layered npm config, rtok's own settings, every credential (npm's and
//! rtok's: keyring, credential commands), the network settings and the
//! one-time password.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::Result;
use url::Url;

use crate::cli::GlobalArgs;
use crate::config::credential::Found;
use crate::config::credentials::Credentials;
use crate::config::network::Network;
use crate::config::store::Store;
use crate::config::{Config, DEFAULT_REGISTRY, Inputs};
use crate::display::display_url;
use crate::failure::Failure;
use crate::rtok_config::RtokConfig;
use crate::secret::Secret;

/// The resolved settings of one run.
#[derive(Debug)]
pub(crate) struct Settings {
    /// The registry commands talk to: `--registry`, else `@scope:registry`
    /// for `--scope`, else `registry`, else npm's default.
    pub registry: Url,
    /// The `@scope`, normalised to start with `@`, when `--scope` was given.
    pub scope: Option<String>,
    pub config: Config,
    /// rtok's own settings file (storage, keyring records, credential
    /// commands, audit policy).
    pub rtok: RtokConfig,
    /// Every credential in the config and rtok's settings, collected once
    /// (stored ones are fetched on first use).
    pub credentials: Credentials,
    pub network: Network,
    /// `--otp`, else the `otp` setting.
    pub otp: Option<Secret>,
}

impl Settings {
    /// The credential store over this run's config files and rtok's
    /// settings: the one way commands write credentials.
    pub(crate) fn store(&self) -> Store<'_> {
        Store::new(&self.config, &self.rtok.path)
    }

    /// Loads the configuration (each file once) from the process's
    /// arguments, environment and working folder.
    pub(crate) fn resolve(
        global: &GlobalArgs,
        env: HashMap<String, String>,
        cwd: PathBuf,
    ) -> Result<Settings> {
        let mut cli = Vec::new();
        if let Some(registry) = &global.registry {
            cli.push(("registry".into(), registry.clone(), "--registry".into()));
        }
        if let Some(userconfig) = &global.userconfig {
            cli.push((
                "userconfig".into(),
                userconfig.clone(),
                "--userconfig".into(),
            ));
        }
        let rtok = RtokConfig::load_from_env(&env)?;
        let config = Config::load(&Inputs { cli, env, cwd })?;

        let scope = global.scope.as_deref().map(|s| {
            if s.starts_with('@') {
                s.to_string()
            } else {
                format!("@{s}")
            }
        });
        let scoped = scope
            .as_ref()
            .filter(|_| global.registry.is_none())
            .and_then(|scope| config.get(&format!("{scope}:registry")))
            .filter(|s| !s.value.is_empty());
        let (text, origin) =
            match scoped.or_else(|| config.get("registry").filter(|s| !s.value.is_empty())) {
                Some(setting) => (setting.value.clone(), Some(setting.origin.to_string())),
                None => (DEFAULT_REGISTRY.to_string(), None),
            };
        let registry = parse_registry(&text, origin.as_deref())?;
        let credentials = Credentials::from_config(&config, &registry).with_stored(&rtok);
        let network = Network::from_config(&config)?;
        let otp = global
            .otp
            .clone()
            .or_else(|| config.value("otp").map(Secret::new))
            .filter(|otp| !otp.is_empty());
        Ok(Settings {
            registry,
            scope,
            config,
            rtok,
            credentials,
            network,
            otp,
        })
    }

    /// The registry URL as messages show it.
    pub(crate) fn registry_display(&self) -> String {
        display_url(&self.registry)
    }

    /// The credential configured for the registry, or the "log in first"
    /// failure (exit code 4).
    pub(crate) fn require_credential(&self) -> Result<Found> {
        match self.credentials.for_url(&self.registry)? {
            Some(found) => Ok(found),
            None => Err(Failure::auth(format!(
                "not logged in to {}: no token or password for it in the config files or the environment",
                self.registry_display()
            ))
            .hint(format!("run `rtok login --registry {}`", self.registry_display()))
            .into()),
        }
    }

    /// The bearer token this machine uses for the registry, if it uses one.
    pub(crate) fn current_token(&self) -> Option<Secret> {
        self.credentials
            .for_url(&self.registry)
            .ok()
            .flatten()
            .and_then(|found| found.token().cloned())
    }
}

fn parse_registry(text: &str, origin: Option<&str>) -> Result<Url> {
    let from = origin.map(|o| format!(" (from {o})")).unwrap_or_default();
    let url = Url::parse(text.trim()).map_err(|_| {
        Failure::new(format!("the registry `{text}`{from} is not a URL"))
            .hint("registries look like `https://registry.npmjs.org/`")
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(Failure::new(format!(
            "the registry `{}`{from} is not an http(s) URL",
            display_url(&url)
        ))
        .hint("registries look like `https://registry.npmjs.org/`")
        .into());
    }
    Ok(url)
}
