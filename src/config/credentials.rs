//! Which credential a request carries, by npm's rules: the longest matching
//! nerf-dart prefix of the request URL, and within it `_authToken`, then
//! `_auth`, then `username` + `_password`, then a client certificate alone.
//! When npm's layers have none, rtok's own settings may: a registry's
//! `credential-command`, else the system keyring (`stored`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use url::Url;

use super::credential::{
    AuthKind, ClientCert, Credential, CredentialError, Found, decode_lenient, encode_base64,
};
use super::stored::StoredSources;
use super::{Config, LayerKind, Origin, Setting};
use crate::npmrc::nerf::host_and_port;
use crate::npmrc::{NerfDart, Reference, credential_prefixes};
use crate::rtok_config::RtokConfig;
use crate::secret::Secret;

#[derive(Debug, Default, Clone)]
struct Fields {
    token: Option<Setting>,
    auth: Option<Setting>,
    username: Option<Setting>,
    password: Option<Setting>,
    certfile: Option<Setting>,
    keyfile: Option<Setting>,
}

/// npm's layers, highest first.
const LAYERS: [LayerKind; 5] = [
    LayerKind::Cli,
    LayerKind::Env,
    LayerKind::Project,
    LayerKind::User,
    LayerKind::Global,
];

/// Every credential in the effective configuration, by nerf-dart prefix,
/// each layer's own, and the ones rtok's settings keep elsewhere.
#[derive(Debug, Clone, Default)]
pub(crate) struct Credentials {
    /// The merged view npm uses: per key, the highest layer's setting.
    by_prefix: HashMap<String, Fields>,
    /// Each layer on its own (within a file, the last line of a key wins).
    layers: Vec<(LayerKind, HashMap<String, Fields>)>,
    registry: Option<Url>,
    /// Shared by every clone, so each stored credential is fetched once.
    stored: Option<Arc<StoredSources>>,
}

impl Credentials {
    /// Collects the credential settings of `config`; `registry` is where a
    /// URL on the same host without its own credential falls back to (as
    /// npm-registry-fetch does for absolute URLs on the registry's host).
    pub(crate) fn from_config(config: &Config, registry: &Url) -> Credentials {
        let layers = LAYERS
            .into_iter()
            .filter_map(|kind| {
                let layer = config.layer(kind)?;
                Some((kind, by_prefix(layer.settings.iter().filter(|s| !s.array))))
            })
            .collect();
        Credentials {
            by_prefix: by_prefix(config.effective()),
            layers,
            registry: Some(registry.clone()),
            stored: None,
        }
    }

    /// Credentials that hold `found` alone, for `registry`: how `status`
    /// and `doctor` ask a registry about the credential another client
    /// would send (pnpm's `auth.ini`, yarn's `.yarnrc.yml`), with none of
    /// npm's layers and nothing stored.
    pub(crate) fn only(found: &Found, registry: &Url) -> Credentials {
        let setting = |field: &str, value: &Secret| Setting {
            key: format!("{}:{field}", found.nerf),
            value: value.expose().to_string(),
            unset: Vec::new(),
            reference: Reference::Literal,
            variables: Vec::new(),
            array: false,
            origin: found.origin.clone(),
        };
        let mut fields = Fields::default();
        match &found.credential {
            Some(Credential::Bearer(token)) => fields.token = Some(setting("_authToken", token)),
            Some(Credential::Basic { encoded, .. }) => {
                fields.auth = Some(setting("_auth", encoded))
            }
            None => {}
        }
        Credentials {
            by_prefix: HashMap::from([(found.nerf.as_str().to_string(), fields)]),
            layers: Vec::new(),
            registry: Some(registry.clone()),
            stored: None,
        }
    }

    /// Adds the credentials rtok's settings name (a `credential-command`, a
    /// keyring record), consulted after npm's layers and fetched on first
    /// use: a command that needs none never runs a command or opens D-Bus.
    pub(crate) fn with_stored(mut self, rtok: &RtokConfig) -> Credentials {
        if rtok
            .registries()
            .iter()
            .any(|r| super::stored::source(r).is_some())
        {
            self.stored = Some(Arc::new(StoredSources::new(rtok.clone())));
        }
        self
    }

    /// The credential a request to `url` carries, or `None`: npm's layers
    /// first (whatever npm would send, rtok sends too), then rtok's stored
    /// credentials for the URL.
    pub(crate) fn for_url(&self, url: &Url) -> Result<Option<Found>, CredentialError> {
        if let Some(found) = self.walk(url)? {
            return self.provider_behind(found).map(Some);
        }
        let fallback = self.registry.as_ref().filter(|registry| {
            *registry != url
                && registry.scheme() == url.scheme()
                && host_and_port(registry) == host_and_port(url)
        });
        if let Some(registry) = fallback
            && let Some(found) = self.walk(registry)?
        {
            return self.provider_behind(found).map(Some);
        }
        let Some(stored) = &self.stored else {
            return Ok(None);
        };
        match stored.for_url(url)? {
            Some(found) => Ok(Some(found)),
            None => match fallback {
                Some(registry) => stored.for_url(registry),
                None => Ok(None),
            },
        }
    }

    /// After the registry rejected `used` (a 401), whether a request to
    /// `url` may be sent once more: true when its credential comes from a
    /// provider rtok runs, whose cached token was dropped and fetched again
    /// (once per registry and run). npm's own layers are never renewed.
    pub(crate) fn renew(&self, url: &Url, used: &Secret) -> Result<bool, CredentialError> {
        let from_provider = self
            .for_url(url)?
            .is_some_and(|found| found.origin.is_provider());
        match &self.stored {
            Some(stored) if from_provider => stored.renew(url, used),
            _ => Ok(false),
        }
    }

    /// A file's token that `rtok refresh` wrote for a registry with a
    /// provider stands for that provider: the provider's current token is
    /// used (cached, fetched again when it expires or is rejected), so a
    /// refreshed file never leaves rtok itself with an expired token.
    fn provider_behind(&self, found: Found) -> Result<Found, CredentialError> {
        let Some(stored) = &self.stored else {
            return Ok(found);
        };
        let written = found
            .token()
            .is_some_and(|token| stored.written_by_refresh(found.nerf.as_str(), token));
        if !written {
            return Ok(found);
        }
        Ok(stored.at(found.nerf.as_str())?.unwrap_or(found))
    }

    /// A provider's token for exactly this nerf dart with its expiry: the
    /// cached one when it has more than `at_least` left, else a fresh one
    /// (`rtok refresh`). `None` when no provider serves it.
    pub(crate) fn provider_token(
        &self,
        nerf: &str,
        at_least: std::time::Duration,
    ) -> Result<Option<(Secret, Option<std::time::SystemTime>)>, CredentialError> {
        match &self.stored {
            Some(stored) => stored.provider_token(nerf, at_least),
            None => Ok(None),
        }
    }

    /// The credential rtok's settings give exactly this nerf dart (its
    /// provider's token, fetched or reused as every request does), leaving
    /// npm's layers aside: whether the provider works.
    pub(crate) fn stored_at(&self, nerf: &str) -> Result<Option<Found>, CredentialError> {
        match &self.stored {
            Some(stored) => stored.at(nerf),
            None => Ok(None),
        }
    }

    /// When a provider's credential expires: the token this run fetched
    /// (or took from the cache) for a provider origin, or, for a file's
    /// token that `rtok refresh` wrote, the expiry it recorded.
    pub(crate) fn provider_expiry_of(&self, found: &Found) -> Option<std::time::SystemTime> {
        let stored = self.stored.as_ref()?;
        let nerf = found.nerf.as_str();
        if found.origin.is_provider() {
            return stored.expiry(nerf);
        }
        let token = found.token()?;
        stored
            .written_by_refresh(nerf, token)
            .then(|| stored.recorded_expiry(nerf))
            .flatten()
    }

    /// Where `--verbose` notes about stored credentials go (that provider
    /// tokens stay in memory for lack of a keyring).
    pub(crate) fn set_notes(&self, sink: super::stored::NoteSink) {
        if let Some(stored) = &self.stored {
            stored.set_notes(sink);
        }
    }

    /// The credential for exactly this nerf dart (no walking up), as npm's
    /// `getCredentialsByURI` looks it up for login and logout.
    pub(crate) fn at(&self, reg_key: &str) -> Result<Option<Found>, CredentialError> {
        if let Some(found) = self
            .by_prefix
            .get(reg_key)
            .map(|fields| found(reg_key, fields))
            .transpose()?
            .flatten()
        {
            return Ok(Some(found));
        }
        match &self.stored {
            Some(stored) => stored.at(reg_key),
            None => Ok(None),
        }
    }

    /// Every nerf dart that has a credential (npm's or stored), sorted.
    pub(crate) fn prefixes(&self) -> Vec<&str> {
        let mut keys: Vec<&str> = self
            .by_prefix
            .iter()
            .filter(|(_, f)| f.deciding().is_some())
            .map(|(k, _)| k.as_str())
            .collect();
        if let Some(stored) = &self.stored {
            keys.extend(stored.prefixes());
        }
        keys.sort_unstable();
        keys.dedup();
        keys
    }

    /// What kind of credential a prefix holds and where the deciding
    /// setting is, without using it (so an unset `${VAR}` can be reported,
    /// and a stored one is not fetched).
    pub(crate) fn describe(&self, reg_key: &str) -> Option<(AuthKind, Origin)> {
        let npm = self.by_prefix.get(reg_key).and_then(Fields::deciding);
        let Some(deciding) = npm else {
            return self.stored.as_ref()?.describe(reg_key);
        };
        Some(deciding.described())
    }

    /// The credential `layer` alone holds for a request to `url`: npm's
    /// rules (longest prefix, then `_authToken`, `_auth`, `username` +
    /// `_password`, a client certificate) applied to that layer only.
    pub(crate) fn in_layer(&self, layer: LayerKind, url: &Url) -> Option<LayerCredential> {
        let (_, by_prefix) = self.layers.iter().find(|(kind, _)| *kind == layer)?;
        credential_prefixes(url).into_iter().find_map(|prefix| {
            let fields = by_prefix.get(&prefix)?;
            let (auth, origin) = fields.deciding()?.described();
            let found = found(&prefix, fields).transpose()?;
            Some(LayerCredential {
                auth,
                origin,
                found,
            })
        })
    }

    /// Which credential a request to `url` carries (as [`for_url`]), what
    /// kind it is and where it was written even when it cannot be used, and
    /// every other layer's credential for `url` that it shadows, highest
    /// layer first.
    ///
    /// [`for_url`]: Credentials::for_url
    pub(crate) fn layered(&self, url: &Url) -> Layered {
        let winner = self.for_url(url);
        let described = match &winner {
            Ok(Some(found)) => Some((found.kind, found.origin.clone())),
            Ok(None) => None,
            Err(err) => self
                .describe_url(url)
                .or_else(|| err.origin().map(|origin| (AuthKind::Token, origin.clone()))),
        };
        let winner_origin = described.as_ref().map(|(_, origin)| origin);
        let shadowed = LAYERS
            .into_iter()
            .filter_map(|layer| self.in_layer(layer, url))
            .filter(|candidate| Some(&candidate.origin) != winner_origin)
            .collect();
        Layered {
            winner,
            described,
            shadowed,
        }
    }

    /// The kind and origin of the merged view's deciding setting for `url`
    /// (walking its prefixes, then the registry's on the same host).
    fn describe_url(&self, url: &Url) -> Option<(AuthKind, Origin)> {
        let walk = |url: &Url| {
            credential_prefixes(url).into_iter().find_map(|prefix| {
                self.by_prefix
                    .get(&prefix)
                    .and_then(Fields::deciding)
                    .map(|d| d.described())
            })
        };
        walk(url).or_else(|| {
            let registry = self.registry.as_ref()?;
            (host_and_port(registry) == host_and_port(url))
                .then(|| walk(registry))
                .flatten()
        })
    }

    fn walk(&self, url: &Url) -> Result<Option<Found>, CredentialError> {
        for prefix in credential_prefixes(url) {
            if let Some(fields) = self.by_prefix.get(&prefix)
                && let Some(found) = found(&prefix, fields)?
            {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }
}

/// The settings that decide a prefix's credential, by npm's precedence:
/// `_authToken`, then `_auth`, then `username` + `_password`, then a client
/// certificate alone.
enum Deciding<'a> {
    Token(&'a Setting),
    Auth(&'a Setting),
    UsernamePassword(&'a Setting, &'a Setting),
    ClientCertificate(&'a Setting),
}

/// One layer's credential for a registry.
#[derive(Debug, Clone)]
pub(crate) struct LayerCredential {
    pub auth: AuthKind,
    /// Where its deciding setting was written.
    pub origin: Origin,
    /// The credential, or why it cannot be used (an unset or malformed
    /// `${VAR}`, bad base64).
    pub found: Result<Found, CredentialError>,
}

/// The credential npm uses for a URL and the ones it shadows.
#[derive(Debug)]
pub(crate) struct Layered {
    pub winner: Result<Option<Found>, CredentialError>,
    /// The winner's kind and origin, also when it cannot be used.
    pub described: Option<(AuthKind, Origin)>,
    /// Every other layer's credential for the URL, highest layer first.
    pub shadowed: Vec<LayerCredential>,
}

/// Credential settings by nerf-dart prefix; a later setting of a key
/// replaces an earlier one.
fn by_prefix<'a>(settings: impl Iterator<Item = &'a Setting>) -> HashMap<String, Fields> {
    let mut by_prefix: HashMap<String, Fields> = HashMap::new();
    for setting in settings {
        let Some((prefix, field)) = setting.key.rsplit_once(':') else {
            continue;
        };
        if !prefix.starts_with("//") || setting.value.is_empty() {
            continue;
        }
        let fields = by_prefix.entry(prefix.to_string()).or_default();
        let slot = match field {
            "_authToken" => &mut fields.token,
            "_auth" => &mut fields.auth,
            "username" => &mut fields.username,
            "_password" => &mut fields.password,
            "certfile" => &mut fields.certfile,
            "keyfile" => &mut fields.keyfile,
            _ => continue,
        };
        *slot = Some(setting.clone());
    }
    by_prefix
}

impl Deciding<'_> {
    fn described(&self) -> (AuthKind, Origin) {
        match self {
            Deciding::Token(s) => (AuthKind::Token, s.origin.clone()),
            Deciding::Auth(s) => (AuthKind::Auth, s.origin.clone()),
            Deciding::UsernamePassword(s, _) => (AuthKind::UsernamePassword, s.origin.clone()),
            Deciding::ClientCertificate(s) => (AuthKind::ClientCertificate, s.origin.clone()),
        }
    }
}

impl Fields {
    fn deciding(&self) -> Option<Deciding<'_>> {
        if let Some(token) = &self.token {
            Some(Deciding::Token(token))
        } else if let Some(auth) = &self.auth {
            Some(Deciding::Auth(auth))
        } else if let (Some(user), Some(pass)) = (&self.username, &self.password) {
            Some(Deciding::UsernamePassword(user, pass))
        } else if let (Some(cert), Some(_)) = (&self.certfile, &self.keyfile) {
            Some(Deciding::ClientCertificate(cert))
        } else {
            None
        }
    }
}

/// A setting's value, or the error naming the malformed reference or the
/// unset variable it refers to.
fn usable(setting: &Setting) -> Result<String, CredentialError> {
    if setting.reference == Reference::Malformed {
        return Err(CredentialError::MalformedReference {
            key: setting.key.clone(),
            origin: setting.origin.clone(),
        });
    }
    match setting.unset.first() {
        Some(var) => Err(CredentialError::UnsetVariable {
            key: setting.key.clone(),
            var: var.clone(),
            origin: setting.origin.clone(),
        }),
        None => Ok(setting.value.clone()),
    }
}

fn found(reg_key: &str, fields: &Fields) -> Result<Option<Found>, CredentialError> {
    let (Some(nerf), Some(deciding)) = (NerfDart::parse(reg_key), fields.deciding()) else {
        return Ok(None);
    };
    let (kind, credential, setting) = match deciding {
        Deciding::Token(setting) => (
            AuthKind::Token,
            Some(Credential::Bearer(Secret::new(usable(setting)?))),
            setting,
        ),
        Deciding::Auth(setting) => {
            let encoded = usable(setting)?;
            let username = decode_lenient(&encoded)
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .and_then(|pair| pair.split_once(':').map(|(user, _)| user.to_string()));
            let credential = Credential::Basic {
                username,
                encoded: Secret::new(encoded),
            };
            (AuthKind::Auth, Some(credential), setting)
        }
        Deciding::UsernamePassword(user_setting, pass_setting) => {
            let username = usable(user_setting)?;
            let password = decode_lenient(&usable(pass_setting)?).ok_or_else(|| {
                CredentialError::BadBase64 {
                    key: pass_setting.key.clone(),
                    origin: pass_setting.origin.clone(),
                }
            })?;
            let mut pair = format!("{username}:").into_bytes();
            pair.extend_from_slice(&password);
            let credential = Credential::Basic {
                username: Some(username),
                encoded: Secret::new(encode_base64(&pair)),
            };
            (AuthKind::UsernamePassword, Some(credential), user_setting)
        }
        Deciding::ClientCertificate(setting) => (AuthKind::ClientCertificate, None, setting),
    };
    let client_cert = match (&fields.certfile, &fields.keyfile) {
        (Some(cert), Some(key)) => Some(ClientCert {
            certfile: PathBuf::from(usable(cert)?),
            keyfile: PathBuf::from(usable(key)?),
        }),
        _ => None,
    };
    Ok(Some(Found {
        nerf,
        kind,
        credential,
        client_cert,
        origin: setting.origin.clone(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LayerKind;
    use crate::config::credential::{is_credential_key, is_secret_key};

    fn config(npmrc: &str, env: &[(&str, &str)]) -> (tempfile::TempDir, Config) {
        crate::config::load_for_test(npmrc, env).expect("load")
    }

    fn url(text: &str) -> Url {
        Url::parse(text).expect("test URL")
    }

    fn bearer(found: &Found) -> &str {
        found.token().expect("a token").expose()
    }

    #[test]
    fn the_longest_prefix_wins() {
        let (_dir, config) = config(
            "//r.example/:_authToken=short\n//r.example/npm/:_authToken=long\n",
            &[],
        );
        let creds = Credentials::from_config(&config, &url("https://r.example/npm/"));
        let found = creds
            .for_url(&url("https://r.example/npm/-/whoami"))
            .unwrap()
            .unwrap();
        assert_eq!(bearer(&found), "long");
        assert_eq!(found.nerf.as_str(), "//r.example/npm/");
        let found = creds
            .for_url(&url("https://r.example/other/"))
            .unwrap()
            .unwrap();
        assert_eq!(bearer(&found), "short");
    }

    #[test]
    fn a_prefix_without_trailing_slash_matches() {
        let (_dir, config) = config("//r.example/npm:_authToken=noslash\n", &[]);
        let creds = Credentials::from_config(&config, &url("https://r.example/npm/"));
        let found = creds
            .for_url(&url("https://r.example/npm/-/whoami"))
            .unwrap()
            .unwrap();
        assert_eq!(bearer(&found), "noslash");
    }

    #[test]
    fn token_beats_auth_beats_username_password() {
        let (_dir, config) = config(
            "//a/:_auth=dXNlcjpwYXNz\n//a/:_authToken=tok\n\
             //b/:username=bob\n//b/:_password=c2VjcmV0\n//b/:_auth=YWxpY2U6cHc=\n\
             //c/:username=carol\n//c/:_password=c2VjcmV0\n",
            &[],
        );
        let creds = Credentials::from_config(&config, &url("https://a/"));
        assert_eq!(
            bearer(&creds.for_url(&url("https://a/x")).unwrap().unwrap()),
            "tok"
        );
        let b = creds.for_url(&url("https://b/x")).unwrap().unwrap();
        assert_eq!(b.kind, AuthKind::Auth);
        let Some(Credential::Basic { username, encoded }) = &b.credential else {
            panic!("basic")
        };
        assert_eq!(username.as_deref(), Some("alice"));
        assert_eq!(encoded.expose(), "YWxpY2U6cHc=");
        let c = creds.for_url(&url("https://c/x")).unwrap().unwrap();
        let Some(Credential::Basic { username, encoded }) = &c.credential else {
            panic!("basic")
        };
        assert_eq!(username.as_deref(), Some("carol"));
        assert_eq!(encoded.expose(), encode_base64("carol:secret"));
    }

    #[test]
    fn other_hosts_and_ports_get_nothing() {
        let (_dir, config) = config("//r.example/:_authToken=tok\n", &[]);
        let creds = Credentials::from_config(&config, &url("https://r.example/"));
        assert!(
            creds
                .for_url(&url("https://evil.example/"))
                .unwrap()
                .is_none()
        );
        assert!(
            creds
                .for_url(&url("https://r.example:8443/"))
                .unwrap()
                .is_none()
        );
        assert!(
            creds
                .for_url(&url("https://r.example.evil/"))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn same_host_urls_fall_back_to_the_registry_credential() {
        let (_dir, config) = config("//r.example/npm/:_authToken=tok\n", &[]);
        let creds = Credentials::from_config(&config, &url("https://r.example/npm/"));
        let found = creds
            .for_url(&url("https://r.example/elsewhere/page2"))
            .unwrap()
            .unwrap();
        assert_eq!(bearer(&found), "tok");
    }

    #[test]
    fn an_unset_variable_is_an_error_naming_it_and_the_line() {
        let (dir, config) = config("# comment\n//r.example/:_authToken=${NPM_TOKEN}\n", &[]);
        let creds = Credentials::from_config(&config, &url("https://r.example/"));
        let err = creds
            .for_url(&url("https://r.example/-/whoami"))
            .unwrap_err();
        let message = err.to_string();
        assert!(message.contains("${NPM_TOKEN}"), "{message}");
        assert!(
            message.contains(&format!("{}:2", dir.path().join(".npmrc").display())),
            "{message}"
        );
        let CredentialError::UnsetVariable { origin, .. } = err else {
            panic!("unset")
        };
        assert!(matches!(
            origin,
            Origin::File {
                layer: LayerKind::User,
                line: 2,
                ..
            }
        ));
    }

    #[test]
    fn a_set_variable_is_used() {
        let (_dir, config) = config(
            "//r.example/:_authToken=${NPM_TOKEN}\n",
            &[("NPM_TOKEN", "from-env")],
        );
        let creds = Credentials::from_config(&config, &url("https://r.example/"));
        assert_eq!(
            bearer(&creds.for_url(&url("https://r.example/x")).unwrap().unwrap()),
            "from-env"
        );
    }

    #[test]
    fn environment_credentials_are_found() {
        let (_dir, config) = config("", &[("npm_config_//r.example/:_authToken", "envtok")]);
        let creds = Credentials::from_config(&config, &url("https://r.example/"));
        let found = creds.for_url(&url("https://r.example/x")).unwrap().unwrap();
        assert_eq!(bearer(&found), "envtok");
        assert!(matches!(found.origin, Origin::Env { .. }));
    }

    #[test]
    fn client_certificates_come_with_the_credential() {
        let (_dir, config) = config(
            "//r.example/:certfile=/c.pem\n//r.example/:keyfile=/k.pem\n//r.example/:_authToken=t\n",
            &[],
        );
        let creds = Credentials::from_config(&config, &url("https://r.example/"));
        let found = creds.for_url(&url("https://r.example/x")).unwrap().unwrap();
        assert_eq!(
            found.client_cert,
            Some(ClientCert {
                certfile: "/c.pem".into(),
                keyfile: "/k.pem".into()
            })
        );
    }

    #[test]
    fn each_layer_gives_its_own_credential_and_the_winner_shadows_them() {
        let (_dir, config) = crate::config::load_project_for_test(
            "//r.example/:_authToken=stale\n//r.example/:_authToken=stale-again\n",
            "//r.example/npm/:_auth=YWxpY2U6cHc=\n//other.example/:_authToken=x\n",
            &[("npm_config_//r.example/:_authToken", "${NOT_SET}")],
        );
        let registry = url("https://r.example/npm/");
        let creds = Credentials::from_config(&config, &registry);

        let env_layer = creds.in_layer(LayerKind::Env, &registry).expect("env");
        assert!(matches!(env_layer.origin, Origin::Env { .. }));
        assert!(matches!(
            env_layer.found,
            Err(CredentialError::UnsetVariable { ref var, .. }) if var == "NOT_SET"
        ));
        let project_layer = creds
            .in_layer(LayerKind::Project, &registry)
            .expect("project");
        let Origin::File { line, .. } = &project_layer.origin else {
            panic!("a file origin")
        };
        assert_eq!(*line, 2, "the last line of a key wins");
        assert_eq!(
            bearer(project_layer.found.as_ref().expect("usable")),
            "stale-again"
        );
        let user_layer = creds.in_layer(LayerKind::User, &registry).expect("user");
        assert_eq!(user_layer.auth, AuthKind::Auth);
        let (username, password) = user_layer
            .found
            .as_ref()
            .expect("usable")
            .credential
            .as_ref()
            .and_then(Credential::basic_pair)
            .expect("user:password");
        assert_eq!((username.as_str(), password.expose()), ("alice", "pw"));
        assert!(creds.in_layer(LayerKind::Global, &registry).is_none());

        // npm uses the user file's longer prefix; the environment's and the
        // project's credentials are shadowed, highest layer first.
        let layered = creds.layered(&registry);
        assert_eq!(
            layered.winner.expect("usable").expect("found").kind,
            AuthKind::Auth
        );
        assert!(matches!(
            layered.described,
            Some((
                AuthKind::Auth,
                Origin::File {
                    layer: LayerKind::User,
                    ..
                }
            ))
        ));
        let shadowed: Vec<bool> = layered
            .shadowed
            .iter()
            .map(|c| matches!(c.origin, Origin::Env { .. }))
            .collect();
        assert_eq!(shadowed, [true, false]);

        // For the host alone, the environment's unset variable wins.
        let layered = creds.layered(&url("https://r.example/"));
        assert!(matches!(
            layered.winner,
            Err(CredentialError::UnsetVariable { .. })
        ));
        assert!(matches!(
            layered.described,
            Some((AuthKind::Token, Origin::Env { .. }))
        ));
        assert_eq!(layered.shadowed.len(), 1, "the project's");
    }

    #[test]
    fn a_malformed_reference_is_never_a_credential() {
        let (_dir, config) = config(
            "//r.example/:_authToken=${NPM_TOKEN\n",
            &[("NPM_TOKEN", "set-but-irrelevant")],
        );
        let creds = Credentials::from_config(&config, &url("https://r.example/"));
        let err = creds
            .for_url(&url("https://r.example/-/whoami"))
            .unwrap_err();
        assert!(matches!(err, CredentialError::MalformedReference { .. }));
        assert!(err.to_string().contains("malformed"), "{err}");
        assert!(err.hint().contains(":1"), "{}", err.hint());
    }

    #[test]
    fn credential_keys_are_recognised() {
        assert!(is_credential_key("//r.example:8080/:_authToken"));
        assert!(is_credential_key("_authToken"));
        assert!(!is_credential_key("registry"));
        assert!(!is_credential_key("@scope:registry"));
        assert!(is_secret_key("//r/:_password"));
        assert!(!is_secret_key("//r/:username"));
    }
}
