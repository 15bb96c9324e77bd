//! Credentials npm cannot see: for a registry that rtok's settings name,
//! its `credential-command`, else the system keyring when `storage =
//! "keyring"` is recorded. They come after npm's own layers: whatever npm
//! would send, rtok sends too.

use std::collections::HashMap;
use std::sync::Mutex;

use url::Url;

use super::credential::{AuthKind, Credential, CredentialError, Found};
use super::origin::Origin;
use crate::credential_command;
use crate::keyring::{Keyring, KeyringError};
use crate::npmrc::NerfDart;
use crate::rtok_config::{RegistrySettings, RtokConfig};
use crate::secret::Secret;

/// Where a stored credential comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// `credential-command`: the program's stdout.
    Command(Vec<String>),
    /// The system keyring, under the registry's nerf dart.
    Keyring,
}

/// The stored source of a registry's table, if it has one: the command
/// first, then the keyring record.
pub(crate) fn source(settings: &RegistrySettings) -> Option<Source> {
    match &settings.credential_command {
        Some(argv) => Some(Source::Command(argv.clone())),
        None if settings.keyring => Some(Source::Keyring),
        None => None,
    }
}

/// The keyring, connected on first use and then reused, so a command that
/// needs no stored credential never touches D-Bus.
#[derive(Default)]
pub(crate) struct LazyKeyring {
    opened: Option<Result<Keyring, KeyringError>>,
}

impl LazyKeyring {
    pub(crate) fn new() -> LazyKeyring {
        LazyKeyring::default()
    }

    pub(crate) fn get(&mut self) -> Result<&Keyring, KeyringError> {
        self.opened
            .get_or_insert_with(Keyring::open)
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// The token for a registry from its stored source: the command's output,
/// or the keyring item (`Ok(None)`: recorded, but the keyring has no item).
/// Errors stay typed (`CredentialError::Command`, `::Keyring`) and carry
/// their hints.
pub(crate) fn fetch(
    settings: &RegistrySettings,
    source: &Source,
    keyring: &mut LazyKeyring,
) -> Result<Option<Secret>, CredentialError> {
    match source {
        Source::Command(argv) => Ok(Some(credential_command::run(argv, &settings.url)?)),
        Source::Keyring => Ok(keyring.get()?.get(&settings.nerf)?),
    }
}

impl Source {
    /// The source as a credential's `Origin`.
    pub(crate) fn origin(&self) -> Origin {
        match self {
            Source::Command(argv) => Origin::Command { argv: argv.clone() },
            Source::Keyring => Origin::Keyring,
        }
    }
}

/// rtok's stored credentials for one run: each fetched at most once (a
/// credential command runs once, the keyring is opened once), shared by
/// every clone of `Credentials`.
pub(crate) struct StoredSources {
    config: RtokConfig,
    keyring: Mutex<LazyKeyring>,
    fetched: Mutex<HashMap<String, Result<Secret, CredentialError>>>,
}

impl std::fmt::Debug for StoredSources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredSources")
            .field("config", &self.config.path)
            .finish_non_exhaustive()
    }
}

impl StoredSources {
    pub(crate) fn new(config: RtokConfig) -> StoredSources {
        StoredSources {
            config,
            keyring: Mutex::new(LazyKeyring::new()),
            fetched: Mutex::new(HashMap::new()),
        }
    }

    /// The stored credential for a request to `url`: the longest nerf-dart
    /// prefix with a source.
    pub(crate) fn for_url(&self, url: &Url) -> Result<Option<Found>, CredentialError> {
        let found = crate::npmrc::credential_prefixes(url)
            .into_iter()
            .filter_map(|prefix| self.config.at(&prefix))
            .find_map(|settings| Some((settings, source(settings)?)));
        match found {
            Some((settings, source)) => self.found(settings, source).map(Some),
            None => Ok(None),
        }
    }

    /// The stored credential for exactly this nerf dart.
    pub(crate) fn at(&self, nerf: &str) -> Result<Option<Found>, CredentialError> {
        let found = self
            .config
            .at(nerf)
            .and_then(|settings| Some((settings, source(settings)?)));
        match found {
            Some((settings, source)) => self.found(settings, source).map(Some),
            None => Ok(None),
        }
    }

    /// The nerf darts that have a stored source.
    pub(crate) fn prefixes(&self) -> impl Iterator<Item = &str> {
        self.config
            .registries()
            .iter()
            .filter(|s| source(s).is_some())
            .map(|s| s.nerf.as_str())
    }

    /// Kind and origin of a stored credential, without fetching it.
    pub(crate) fn describe(&self, nerf: &str) -> Option<(AuthKind, Origin)> {
        let source = source(self.config.at(nerf)?)?;
        Some((AuthKind::Token, source.origin()))
    }

    fn found(&self, settings: &RegistrySettings, source: Source) -> Result<Found, CredentialError> {
        let token = self.token(settings, &source)?;
        Ok(Found {
            nerf: NerfDart::from_url(&settings.url),
            kind: AuthKind::Token,
            credential: Some(Credential::Bearer(token)),
            client_cert: None,
            origin: source.origin(),
        })
    }

    /// The token, fetched on first use and remembered (errors too, so a
    /// failing command is not run again for every request).
    fn token(
        &self,
        settings: &RegistrySettings,
        source: &Source,
    ) -> Result<Secret, CredentialError> {
        let mut fetched = self.fetched.lock().map_err(|_| poisoned())?;
        if let Some(known) = fetched.get(&settings.nerf) {
            return known.clone();
        }
        let result = {
            let mut keyring = self.keyring.lock().map_err(|_| poisoned())?;
            match fetch(settings, source, &mut keyring) {
                Ok(Some(token)) => Ok(token),
                Ok(None) => Err(CredentialError::NotInKeyring {
                    message: format!(
                        "not logged in to {}: {} records its token in the system keyring, but the keyring has no item for it (service `rtok`, user `{}`)",
                        settings.url,
                        self.config.path.display(),
                        settings.nerf
                    ),
                    hint: format!("run `rtok login --registry {}`", settings.url),
                }),
                Err(err) => Err(err),
            }
        };
        fetched.insert(settings.nerf.clone(), result.clone());
        result
    }
}

fn poisoned() -> CredentialError {
    CredentialError::Poisoned
}
