//! The credential each config layer holds for a registry, by npm's rules
//! applied to that layer alone, so `doctor` can name what the winning
//! credential hides (a stale project `.npmrc` token over a fresh login).

use base64::Engine;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use std::collections::HashMap;
use url::Url;

use crate::config::credential::AuthKind;
use crate::config::{Config, LayerKind, Origin, Setting};
use crate::npmrc::credential_prefixes;
use crate::secret::Secret;

/// Layers, highest first.
const LAYERS: [LayerKind; 5] = [
    LayerKind::Cli,
    LayerKind::Env,
    LayerKind::Project,
    LayerKind::User,
    LayerKind::Global,
];

/// How a candidate credential can be tried against the registry.
#[derive(Debug, Clone)]
pub(super) enum Probe {
    Bearer(Secret),
    Basic {
        username: String,
        password: Secret,
    },
    /// A client certificate alone, or a value that cannot be decoded: not
    /// tried on its own.
    None,
}

/// One layer's credential for a registry.
#[derive(Debug, Clone)]
pub(super) struct Candidate {
    pub origin: Origin,
    pub auth: AuthKind,
    /// The `${VAR}` that is not set, when the credential names one.
    pub unset: Option<String>,
    pub probe: Probe,
}

/// The credential each layer holds for `url` (the longest matching prefix
/// in that layer, `_authToken` before `_auth` before `username` +
/// `_password` before a client certificate), highest layer first.
pub(super) fn candidates(config: &Config, url: &Url) -> Vec<Candidate> {
    let prefixes = credential_prefixes(url);
    let mut found = Vec::new();
    for kind in LAYERS {
        let Some(layer) = config.layer(kind) else {
            continue;
        };
        // Within a file, the last line of a key wins, as in the merged view.
        let mut settings: HashMap<&str, &Setting> = HashMap::new();
        for setting in &layer.settings {
            if !setting.array && !setting.value.is_empty() {
                settings.insert(setting.key.as_str(), setting);
            }
        }
        let get =
            |prefix: &str, field: &str| settings.get(format!("{prefix}:{field}").as_str()).copied();
        let candidate = prefixes.iter().find_map(|prefix| {
            if let Some(token) = get(prefix, "_authToken") {
                return Some(candidate(token, AuthKind::Token, bearer(token)));
            }
            if let Some(auth) = get(prefix, "_auth") {
                return Some(candidate(auth, AuthKind::Auth, basic_from_auth(auth)));
            }
            if let (Some(user), Some(pass)) = (get(prefix, "username"), get(prefix, "_password")) {
                let probe = match decode(&pass.value).and_then(|p| String::from_utf8(p).ok()) {
                    Some(password) => Probe::Basic {
                        username: user.value.clone(),
                        password: Secret::new(password),
                    },
                    None => Probe::None,
                };
                let mut found = candidate(user, AuthKind::UsernamePassword, probe);
                found.unset = found.unset.or_else(|| pass.unset.first().cloned());
                return Some(found);
            }
            if let (Some(cert), Some(_)) = (get(prefix, "certfile"), get(prefix, "keyfile")) {
                return Some(candidate(cert, AuthKind::ClientCertificate, Probe::None));
            }
            None
        });
        found.extend(candidate);
    }
    found
}

fn candidate(setting: &Setting, auth: AuthKind, probe: Probe) -> Candidate {
    let unset = setting.unset.first().cloned();
    Candidate {
        origin: setting.origin.clone(),
        auth,
        probe: if unset.is_some() { Probe::None } else { probe },
        unset,
    }
}

fn bearer(setting: &Setting) -> Probe {
    Probe::Bearer(Secret::new(setting.value.clone()))
}

/// `_auth` is base64 of `user:password`.
fn basic_from_auth(setting: &Setting) -> Probe {
    let pair = decode(&setting.value).and_then(|bytes| String::from_utf8(bytes).ok());
    match pair.as_deref().and_then(|pair| pair.split_once(':')) {
        Some((username, password)) => Probe::Basic {
            username: username.to_string(),
            password: Secret::new(password),
        },
        None => Probe::None,
    }
}

/// Base64 as Node reads it: padding optional.
fn decode(text: &str) -> Option<Vec<u8>> {
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    LENIENT.decode(text.trim()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Inputs;

    #[test]
    fn each_layer_gives_its_own_credential() {
        let dir = tempfile::tempdir().expect("temp");
        let project = dir.path().join("project");
        std::fs::create_dir_all(&project).expect("mkdir");
        std::fs::write(project.join("package.json"), "{}").expect("package.json");
        std::fs::write(
            project.join(".npmrc"),
            "//r.example/:_authToken=stale\n//r.example/:_authToken=stale-again\n",
        )
        .expect("project npmrc");
        let user = dir.path().join("user.npmrc");
        std::fs::write(
            &user,
            "//r.example/npm/:_auth=YWxpY2U6cHc=\n//other.example/:_authToken=x\n",
        )
        .expect("user npmrc");
        let env: HashMap<String, String> = [
            ("NPM_CONFIG_USERCONFIG", user.display().to_string()),
            (
                "NPM_CONFIG_GLOBALCONFIG",
                dir.path().join("none").display().to_string(),
            ),
            ("HOME", dir.path().display().to_string()),
            (
                "npm_config_//r.example/:_authToken",
                "${NOT_SET}".to_string(),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let config = Config::load(&Inputs {
            cli: Vec::new(),
            env,
            cwd: project.clone(),
        })
        .expect("load");
        let url = Url::parse("https://r.example/npm/").expect("url");
        let found = candidates(&config, &url);
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(matches!(found[0].origin, Origin::Env { .. }));
        assert_eq!(found[0].unset.as_deref(), Some("NOT_SET"));
        assert!(matches!(found[0].probe, Probe::None));
        let Origin::File { line, .. } = &found[1].origin else {
            panic!("a file origin")
        };
        assert_eq!(*line, 2, "the last line of a key wins");
        assert!(matches!(&found[1].probe, Probe::Bearer(t) if t.expose() == "stale-again"));
        assert_eq!(found[2].auth, AuthKind::Auth);
        assert!(matches!(&found[2].probe,
            Probe::Basic { username, password } if username == "alice" && password.expose() == "pw"));
    }
}
