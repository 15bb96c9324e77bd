//! Credentials npm cannot see: for a registry that rtok's settings name,
//! its provider (a preset such as `provider = "gcloud"`, or a
//! `credential-command`), else the system keyring when `storage =
//! "keyring"` is recorded. They come after npm's own layers: whatever npm
//! would send, rtok sends too.
//!
//! A provider's token that comes with an expiry is cached: in the system
//! keyring (`keyring::cache`), else in memory for the run, and reused until
//! [`REUSE_MARGIN`] before it expires. A token the registry rejects is
//! fetched again once ([`StoredSources::renew`]).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};
use url::Url;

use super::credential::{AuthKind, Credential, CredentialError, Found};
use super::origin::Origin;
use crate::keyring::{Keyring, KeyringError, cache};
use crate::npmrc::NerfDart;
use crate::provider::{Fetched, Provider};
use crate::rtok_config::{ProviderPreset, RegistrySettings, RtokConfig};
use crate::secret::Secret;

/// A cached provider token is fetched again this long before it expires.
pub(crate) const REUSE_MARGIN: Duration = Duration::from_secs(5 * 60);

/// Where a stored credential comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// A provider preset: its tool's output.
    Provider(ProviderPreset),
    /// `credential-command`: the program's stdout.
    Command(Vec<String>),
    /// The system keyring, under the registry's nerf dart.
    Keyring,
}

/// The stored source of a registry's table, if it has one: the provider
/// or command first, then the keyring record.
pub(crate) fn source(settings: &RegistrySettings) -> Option<Source> {
    match (&settings.provider, &settings.credential_command) {
        (Some(preset), _) => Some(Source::Provider(preset.clone())),
        (None, Some(argv)) => Some(Source::Command(argv.clone())),
        (None, None) if settings.keyring => Some(Source::Keyring),
        (None, None) => None,
    }
}

impl Source {
    /// The provider behind the source (`None`: the keyring).
    pub(crate) fn provider(&self) -> Option<Provider<'_>> {
        match self {
            Source::Provider(preset) => Some(Provider::Preset(preset)),
            Source::Command(argv) => Some(Provider::Command(argv)),
            Source::Keyring => None,
        }
    }
}

/// A short name for a provider's command line: the cache key, so a changed
/// setting (another domain, another tool) never reuses a token.
fn cache_key(provider: &Provider<'_>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"rtok-provider-v1");
    for word in provider.argv() {
        hasher.update(b"\0");
        hasher.update(word.as_bytes());
    }
    hasher.finalize()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A short, one-way name for a token (`rtok refresh` records it to know
/// whether a file still holds the token it wrote). Never the token.
pub(crate) fn fingerprint(token: &Secret) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"rtok-refresh-v1\0");
    hasher.update(token.expose().as_bytes());
    hasher.finalize()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether a token expiring at `expires` is still good at `now` for at
/// least `left` more.
fn lasts(expires: Option<SystemTime>, now: SystemTime, left: Duration) -> bool {
    expires.is_none_or(|at| at.duration_since(now).is_ok_and(|rest| rest > left))
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
    match source.provider() {
        Some(provider) => Ok(Some(provider.fetch(&settings.url)?.token)),
        None => Ok(keyring.get()?.get(&settings.nerf)?),
    }
}

impl Source {
    /// The source as a credential's `Origin`.
    pub(crate) fn origin(&self) -> Origin {
        match self {
            Source::Provider(preset) => Origin::Provider {
                name: preset.name(),
                argv: crate::provider::preset_argv(preset),
            },
            Source::Command(argv) => Origin::Command { argv: argv.clone() },
            Source::Keyring => Origin::Keyring,
        }
    }
}

/// A token as this run holds it, with its expiry when known.
#[derive(Debug, Clone)]
struct Held {
    token: Secret,
    expires: Option<SystemTime>,
}

/// Where `--verbose` notes of the stored sources go.
pub(crate) type NoteSink = Arc<dyn Fn(&str) + Send + Sync>;

/// rtok's stored credentials for one run: each fetched at most once (a
/// credential command runs once, the keyring is opened once), shared by
/// every clone of `Credentials`.
pub(crate) struct StoredSources {
    config: RtokConfig,
    keyring: Mutex<LazyKeyring>,
    fetched: Mutex<HashMap<String, Result<Held, CredentialError>>>,
    /// Registries whose provider was run again after a rejection.
    renewed: Mutex<HashSet<String>>,
    notes: Mutex<Option<NoteSink>>,
    said_memory_only: AtomicBool,
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
            renewed: Mutex::new(HashSet::new()),
            notes: Mutex::new(None),
            said_memory_only: AtomicBool::new(false),
        }
    }

    /// Where `--verbose` notes go (said once each).
    pub(crate) fn set_notes(&self, sink: NoteSink) {
        if let Ok(mut notes) = self.notes.lock() {
            *notes = Some(sink);
        }
    }

    fn note_memory_only(&self, why: &KeyringError) {
        if self.said_memory_only.swap(true, Ordering::SeqCst) {
            return;
        }
        let sink = self.notes.lock().ok().and_then(|n| n.clone());
        if let Some(sink) = sink {
            sink(&format!(
                "provider tokens are kept in memory for this run only ({why})"
            ));
        }
    }

    /// The registry settings with a stored source for a request to `url`.
    fn settings_for_url(&self, url: &Url) -> Option<(&RegistrySettings, Source)> {
        crate::npmrc::credential_prefixes(url)
            .into_iter()
            .filter_map(|prefix| self.config.at(&prefix))
            .find_map(|settings| Some((settings, source(settings)?)))
    }

    /// After the registry rejected `used`, the credential for `url`: when
    /// it comes from a provider, its cached token is dropped and the
    /// provider runs once more (once per registry and run). `true` when
    /// there is a new token to retry with.
    pub(crate) fn renew(&self, url: &Url, used: &Secret) -> Result<bool, CredentialError> {
        let Some((settings, source)) = self.settings_for_url(url) else {
            return Ok(false);
        };
        let Some(provider) = source.provider() else {
            return Ok(false);
        };
        let mut fetched = self.fetched.lock().map_err(|_| poisoned())?;
        // Another request already renewed it.
        if let Some(Ok(held)) = fetched.get(&settings.nerf)
            && held.token != *used
        {
            return Ok(true);
        }
        let mut renewed = self.renewed.lock().map_err(|_| poisoned())?;
        if !renewed.insert(settings.nerf.clone()) {
            return Ok(false);
        }
        drop(renewed);
        if let Ok(keyring) = self.keyring.lock().map_err(|_| poisoned())?.get() {
            let _ = cache::forget(keyring, &settings.nerf);
        }
        let result = self.run_provider(settings, &provider);
        let again = result.is_ok();
        fetched.insert(settings.nerf.clone(), result);
        Ok(again)
    }

    /// The provider token for exactly this nerf dart and its expiry: the
    /// cached one when it has more than `at_least` left, else a fresh one
    /// (`rtok refresh`). `None` when the registry has no provider.
    pub(crate) fn provider_token(
        &self,
        nerf: &str,
        at_least: Duration,
    ) -> Result<Option<(Secret, Option<SystemTime>)>, CredentialError> {
        let Some(settings) = self.config.at(nerf) else {
            return Ok(None);
        };
        let Some(source) = source(settings) else {
            return Ok(None);
        };
        let Some(provider) = source.provider() else {
            return Ok(None);
        };
        let now = crate::time::now();
        let mut fetched = self.fetched.lock().map_err(|_| poisoned())?;
        let cached = match fetched.get(nerf) {
            Some(Ok(held)) => Some(held.clone()),
            _ => self.cached(settings, &provider, now),
        };
        let held = match cached {
            Some(held) if held.expires.is_some() && lasts(held.expires, now, at_least) => held,
            _ => {
                let result = self.run_provider(settings, &provider);
                fetched.insert(nerf.to_string(), result.clone());
                result?
            }
        };
        Ok(Some((held.token, held.expires)))
    }

    /// Whether `token` is the one `rtok refresh` last wrote into files for
    /// the registry with nerf dart `nerf` (its recorded fingerprint).
    pub(crate) fn written_by_refresh(&self, nerf: &str, token: &Secret) -> bool {
        self.config
            .at(nerf)
            .filter(|settings| source(settings).is_some_and(|s| s.provider().is_some()))
            .and_then(|settings| settings.refreshed.as_ref())
            .is_some_and(|refreshed| refreshed.fingerprint == fingerprint(token))
    }

    /// The expiry `rtok refresh` recorded for what it wrote for `nerf`.
    pub(crate) fn recorded_expiry(&self, nerf: &str) -> Option<SystemTime> {
        let refreshed = self.config.at(nerf)?.refreshed.as_ref()?;
        crate::time::parse(&refreshed.expires)
    }

    /// The expiry of the token this run holds for `nerf`, when known.
    pub(crate) fn expiry(&self, nerf: &str) -> Option<SystemTime> {
        let fetched = self.fetched.lock().ok()?;
        fetched.get(nerf)?.as_ref().ok()?.expires
    }

    /// The token from the keyring's cache, when it is there and lasts more
    /// than [`REUSE_MARGIN`].
    fn cached(
        &self,
        settings: &RegistrySettings,
        provider: &Provider<'_>,
        now: SystemTime,
    ) -> Option<Held> {
        let mut keyring = self.keyring.lock().ok()?;
        let keyring = match keyring.get() {
            Ok(keyring) => keyring,
            Err(err) => {
                self.note_memory_only(&err);
                return None;
            }
        };
        let (token, expires) = cache::get(keyring, &settings.nerf, &cache_key(provider))
            .ok()
            .flatten()?;
        lasts(Some(expires), now, REUSE_MARGIN).then_some(Held {
            token,
            expires: Some(expires),
        })
    }

    /// Runs the provider; a token with an expiry goes to the keyring's
    /// cache (memory only when there is no usable keyring).
    fn run_provider(
        &self,
        settings: &RegistrySettings,
        provider: &Provider<'_>,
    ) -> Result<Held, CredentialError> {
        let Fetched { token, expires } = provider.fetch(&settings.url)?;
        if let Some(expires) = expires
            && let Ok(mut keyring) = self.keyring.lock()
        {
            let stored = keyring.get().and_then(|keyring| {
                cache::set(
                    keyring,
                    &settings.nerf,
                    &cache_key(provider),
                    &token,
                    expires,
                )
            });
            if let Err(err) = stored {
                self.note_memory_only(&err);
            }
        }
        Ok(Held { token, expires })
    }

    /// The stored credential for a request to `url`: the longest nerf-dart
    /// prefix with a source.
    pub(crate) fn for_url(&self, url: &Url) -> Result<Option<Found>, CredentialError> {
        match self.settings_for_url(url) {
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
    /// failing command is not run again for every request); a provider's
    /// from the keyring's cache while it lasts.
    fn token(
        &self,
        settings: &RegistrySettings,
        source: &Source,
    ) -> Result<Secret, CredentialError> {
        let mut fetched = self.fetched.lock().map_err(|_| poisoned())?;
        let now = crate::time::now();
        // What this run fetched serves the run while it has not expired
        // (the margin is for reusing a token in a later run).
        match fetched.get(&settings.nerf) {
            Some(Ok(held)) if lasts(held.expires, now, Duration::ZERO) => {
                return Ok(held.token.clone());
            }
            Some(Err(err)) => return Err(err.clone()),
            _ => {}
        }
        if let Some(provider) = source.provider() {
            let held = match self.cached(settings, &provider, now) {
                Some(held) => Ok(held),
                None => self.run_provider(settings, &provider),
            };
            fetched.insert(settings.nerf.clone(), held.clone());
            return held.map(|held| held.token);
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
        fetched.insert(
            settings.nerf.clone(),
            result.clone().map(|token| Held {
                token,
                expires: None,
            }),
        );
        result
    }
}

fn poisoned() -> CredentialError {
    CredentialError::Poisoned
}

/// Whether the client file at `path` still holds, as its client reads it,
/// the token whose [`fingerprint`] is `fingerprint`: the token `rtok
/// refresh` wrote, not one written since. An ini file (an `.npmrc`, pnpm's
/// `auth.ini`): the last `<nerf>:_authToken` line of `registry`; a
/// `.yarnrc.yml`: the `npmRegistries` entry yarn uses for it.
pub(crate) fn file_holds(path: &std::path::Path, registry: &url::Url, fingerprint_: &str) -> bool {
    let is_yarnrc = path
        .extension()
        .is_some_and(|ext| ext == "yml" || ext == "yaml");
    let held = if is_yarnrc {
        match crate::yarnrc::read_file(path) {
            Ok(Some(file)) => {
                let auth = file.auth_for(registry.as_str(), None);
                match (&auth.place, auth.token.map(|t| &t.value)) {
                    (
                        crate::yarnrc::Place::Registry(_),
                        Some(crate::yarnrc::Value::Literal(token)),
                    ) => Some(token.clone()),
                    _ => None,
                }
            }
            _ => None,
        }
    } else {
        let Ok(Some(bytes)) = crate::private_file::read_regular(path) else {
            return false;
        };
        let document = crate::npmrc::Document::parse(bytes);
        let key = format!("{}:_authToken", crate::npmrc::nerf_dart(registry));
        document
            .entries()
            .filter(|located| located.entry.key == key)
            .last()
            .map(|located| Secret::new(located.entry.value.clone()))
    };
    held.is_some_and(|token| fingerprint(&token) == fingerprint_)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_holds_the_token_refresh_wrote_until_another_replaces_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(".npmrc");
        let written = fingerprint(&Secret::new("tok-1"));
        let r = url::Url::parse("https://r.example/").expect("url");
        let other = url::Url::parse("https://other.example/").expect("url");
        assert!(!file_holds(&path, &r, &written), "no file");
        std::fs::write(&path, "//r.example/:_authToken=tok-1\n").expect("write");
        assert!(file_holds(&path, &r, &written));
        assert!(!file_holds(&path, &other, &written));
        std::fs::write(
            &path,
            "//r.example/:_authToken=tok-1\n//r.example/:_authToken=tok-2\n",
        )
        .expect("write");
        assert!(!file_holds(&path, &r, &written));
        assert_ne!(written, fingerprint(&Secret::new("tok-2")));
        assert!(!written.contains("tok"));

        // yarn's file: the entry yarn uses for the registry.
        let yarnrc = dir.path().join(".yarnrc.yml");
        std::fs::write(
            &yarnrc,
            "npmRegistries:\n  \"https://r.example\":\n    npmAuthToken: tok-1\n",
        )
        .expect("write");
        assert!(file_holds(&yarnrc, &r, &written));
        assert!(!file_holds(&yarnrc, &other, &written));
    }

    #[test]
    fn a_token_lasts_while_more_than_the_margin_is_left() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert!(lasts(None, now, REUSE_MARGIN));
        assert!(lasts(
            Some(now + Duration::from_secs(301)),
            now,
            REUSE_MARGIN
        ));
        assert!(!lasts(
            Some(now + Duration::from_secs(300)),
            now,
            REUSE_MARGIN
        ));
        assert!(!lasts(
            Some(now - Duration::from_secs(1)),
            now,
            REUSE_MARGIN
        ));
    }
}
