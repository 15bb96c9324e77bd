//! The registries a configuration names, and turning a credential's nerf
//! dart (`//host/path/`, which has no scheme) back into a registry URL.

use url::Url;

use super::{Config, LayerKind};
use crate::npmrc::NerfDart;

/// The configured registry, then every `registry` and `@scope:registry`
/// setting that is a URL.
pub(crate) fn configured(config: &Config, registry: &Url) -> Vec<Url> {
    let mut urls = vec![registry.clone()];
    for setting in config.effective() {
        if (setting.key == "registry" || setting.key.ends_with(":registry"))
            && let Ok(url) = Url::parse(setting.value.trim())
        {
            urls.push(url);
        }
    }
    urls
}

/// Whether a credential keyed by `nerf` may be sent to its host without
/// the user's own config saying so: its host is the configured registry's,
/// a scope registry's, or one that a registry setting or credential of the
/// command line, the environment, or the user or global file names. A
/// credential that only a project file names for any other host (a
/// cloned repository's `.npmrc`) is listed by `status`, never checked.
pub(crate) fn user_vouches_for(config: &Config, registry: &Url, nerf: &str) -> bool {
    let Some(dart) = NerfDart::parse(nerf) else {
        return false;
    };
    let host = dart.host().to_ascii_lowercase();
    let url_host = |url: &Url| crate::npmrc::nerf::host_and_port(url).to_ascii_lowercase();
    if configured(config, registry)
        .iter()
        .any(|url| url_host(url) == host)
    {
        return true;
    }
    [
        LayerKind::Cli,
        LayerKind::Env,
        LayerKind::User,
        LayerKind::Global,
    ]
    .into_iter()
    .filter_map(|kind| config.layer(kind))
    .flat_map(|layer| &layer.settings)
    .any(|setting| {
        let named = match setting.key.rsplit_once(':') {
            Some((prefix, _)) if prefix.starts_with("//") => {
                NerfDart::parse(prefix).map(|dart| dart.host().to_ascii_lowercase())
            }
            _ if setting.key == "registry" || setting.key.ends_with(":registry") => {
                Url::parse(setting.value.trim())
                    .ok()
                    .map(|url| url_host(&url))
            }
            _ => None,
        };
        named.as_deref() == Some(host.as_str())
    })
}

/// The registry URL a nerf dart stands for, by `NerfDart`'s one rule:
/// the scheme of a `known` registry on its `host:port`, else `http:` on
/// this machine and `https:` anywhere else. (For callers that still hold
/// the nerf dart as a string.)
pub(crate) fn url_for_nerf(nerf: &str, known: &[Url]) -> Option<Url> {
    NerfDart::parse(nerf)?.registry_url(known)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_only_the_project_names_is_not_vouched_for() {
        let (_dir, config) = crate::config::load_project_for_test(
            "//attacker.example/:_authToken=${NPM_TOKEN}\n//mine.example/:_authToken=x\n",
            "@acme:registry=https://scoped.example/\n//mine.example/:_auth=eA==\n",
            &[],
        );
        let registry = Url::parse("https://registry.npmjs.org/").expect("url");
        let vouched = |nerf: &str| user_vouches_for(&config, &registry, nerf);
        assert!(!vouched("//attacker.example/"));
        assert!(vouched("//mine.example/"));
        assert!(vouched("//scoped.example/npm/"));
        assert!(vouched("//registry.npmjs.org/"));
    }

    #[test]
    fn nerf_darts_get_the_scheme_of_a_known_registry_on_their_host() {
        let known = [Url::parse("http://r.example:4873/npm/").expect("url")];
        let url = |nerf: &str| url_for_nerf(nerf, &known).expect("url").to_string();
        assert_eq!(
            url("//r.example:4873/other/"),
            "http://r.example:4873/other/"
        );
        assert_eq!(url("//elsewhere.example/"), "https://elsewhere.example/");
        assert_eq!(url("//127.0.0.1:9/"), "http://127.0.0.1:9/");
        assert_eq!(url("//localhost:9"), "http://localhost:9/");
    }
}
