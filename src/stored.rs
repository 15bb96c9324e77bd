//! Credentials npm cannot see: for a registry that rtok's settings name,
//! its `credential-command`, else the system keyring when `storage =
//! "keyring"` is recorded. They come after npm's own layers: whatever npm
//! would send, rtok sends too.

use anyhow::Result;
use url::Url;

use crate::credential_command;
use crate::keyring::{Keyring, KeyringError};
use crate::rtok_config::{RegistrySettings, RtokConfig};
use crate::secret::Secret;

/// Where a stored credential comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `credential-command`: the program's stdout.
    Command(Vec<String>),
    /// The system keyring, under the registry's nerf dart.
    Keyring,
}

impl Source {
    /// The `storage` column of `status --json`: `command` or `keyring`.
    pub fn storage(&self) -> &'static str {
        match self {
            Source::Command(_) => "command",
            Source::Keyring => "keyring",
        }
    }

    /// The `source` column of `status`: `keyring` or `command: gh auth token`.
    pub fn describe(&self) -> String {
        match self {
            Source::Command(argv) => format!("command: {}", credential_command::shown(argv)),
            Source::Keyring => "keyring".into(),
        }
    }
}

/// The stored source of a registry's table, if it has one: the command
/// first, then the keyring record.
pub fn source(settings: &RegistrySettings) -> Option<Source> {
    match &settings.credential_command {
        Some(argv) => Some(Source::Command(argv.clone())),
        None if settings.keyring => Some(Source::Keyring),
        None => None,
    }
}

/// The keyring, connected on first use and then reused, so a command that
/// needs no stored credential never touches D-Bus.
#[derive(Default)]
pub struct LazyKeyring {
    opened: Option<Result<Keyring, KeyringError>>,
}

impl LazyKeyring {
    pub fn new() -> LazyKeyring {
        LazyKeyring::default()
    }

    pub fn get(&mut self) -> Result<&Keyring, KeyringError> {
        self.opened
            .get_or_insert_with(Keyring::open)
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// The token for a registry from its stored source: the command's output,
/// or the keyring item (`Ok(None)`: recorded, but the keyring has no item).
/// Errors are `CommandError` or `KeyringError`, which carry their hints.
pub fn fetch(
    settings: &RegistrySettings,
    source: &Source,
    keyring: &mut LazyKeyring,
) -> Result<Option<Secret>> {
    match source {
        Source::Command(argv) => Ok(Some(credential_command::run(argv, &settings.url)?)),
        Source::Keyring => Ok(keyring.get()?.get(&settings.nerf)?),
    }
}

/// The stored credential for a request to `url`: the settings table whose
/// nerf dart is the longest prefix of the URL among those with a source
/// (as npm walks up to the first prefix with a credential), its source and
/// the token.
pub fn for_url<'a>(
    config: &'a RtokConfig,
    url: &Url,
    keyring: &mut LazyKeyring,
) -> Result<Option<(&'a RegistrySettings, Source, Option<Secret>)>> {
    let found = crate::npmrc::credential_prefixes(url)
        .into_iter()
        .filter_map(|prefix| config.at(&prefix))
        .find_map(|settings| source(settings).map(|source| (settings, source)));
    let Some((settings, source)) = found else {
        return Ok(None);
    };
    let token = fetch(settings, &source, keyring)?;
    Ok(Some((settings, source, token)))
}
