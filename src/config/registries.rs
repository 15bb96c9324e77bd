//! The registries a configuration names, and turning a credential's nerf
//! dart (`//host/path/`, which has no scheme) back into a registry URL.

use url::Url;

use super::Config;
use crate::display::is_loopback;

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

/// The registry URL a nerf dart stands for: the scheme of a `known`
/// registry on that host, else `http:` on this machine (where registries
/// are plain HTTP, as Verdaccio's default) and `https:` anywhere else.
pub(crate) fn url_for_nerf(nerf: &str, known: &[Url]) -> Option<Url> {
    let path = if nerf.ends_with('/') {
        nerf.to_string()
    } else {
        format!("{nerf}/")
    };
    let https = Url::parse(&format!("https:{path}")).ok()?;
    let host = crate::npmrc::nerf::host_and_port(&https);
    let scheme = match known
        .iter()
        .find(|url| crate::npmrc::nerf::host_and_port(url) == host)
    {
        Some(url) => url.scheme(),
        None if is_loopback(&https) => "http",
        None => return Some(https),
    };
    Url::parse(&format!("{scheme}:{path}")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

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
