//! Nerf darts: the `//host[:port]/path/` form that keys credentials in `.npmrc`.

use std::fmt;

use url::Url;

/// A nerf dart (`//host[:port]/path/`): the key of a registry's credentials,
/// which has no scheme. Built from a URL or read from a key; turned back
/// into a registry URL by one rule ([`NerfDart::registry_url`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NerfDart(String);

impl NerfDart {
    /// The nerf dart of a registry URL (as [`nerf_dart`]).
    pub fn from_url(url: &Url) -> NerfDart {
        NerfDart(nerf_dart(url))
    }

    /// A nerf dart as written before `:_authToken` in a key; `None` unless
    /// it starts with `//` and names a host.
    pub fn parse(text: &str) -> Option<NerfDart> {
        let rest = text.strip_prefix("//")?;
        let host = rest.split('/').next().unwrap_or(rest);
        (!host.is_empty()).then(|| NerfDart(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `host[:port]`, as written.
    pub fn host(&self) -> &str {
        let rest = &self.0[2..];
        rest.split('/').next().unwrap_or(rest)
    }

    /// The registry URL this nerf dart stands for: with the scheme of the
    /// first of `known` (the configured registry first, then the scopes')
    /// on the same `host:port`; else `http:` on this machine (where
    /// registries are plain HTTP, as Verdaccio's default) and `https:`
    /// anywhere else. A nerf dart without a trailing slash gets one.
    pub fn registry_url(&self, known: &[Url]) -> Option<Url> {
        let path = if self.0.ends_with('/') {
            self.0.clone()
        } else {
            format!("{}/", self.0)
        };
        let https = Url::parse(&format!("https:{path}")).ok()?;
        let host = host_and_port(&https);
        let scheme = match known.iter().find(|url| host_and_port(url) == host) {
            Some(url) => url.scheme(),
            None if crate::display::is_loopback(&https) => "http",
            None => return Some(https),
        };
        Url::parse(&format!("{scheme}:{path}")).ok()
    }
}

impl fmt::Display for NerfDart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The nerf dart of a registry URL, as `@npmcli/config`'s `nerf-dart.js`
/// computes it: protocol, userinfo, query and fragment dropped, host
/// lower-cased, default port dropped, and the path resolved against `.`, so a
/// last segment without a trailing slash is dropped
/// (`https://r.example.com/npm/private` → `//r.example.com/npm/`).
pub fn nerf_dart(url: &Url) -> String {
    let mut base = url.clone();
    base.set_query(None);
    base.set_fragment(None);
    let resolved = base.join(".").unwrap_or(base);
    format!("//{}{}", host_and_port(&resolved), resolved.path())
}

/// `host[:port]` as Node's `URL.host` gives it: the port only when it is not
/// the scheme's default.
pub fn host_and_port(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

/// The candidate credential prefixes for a request URL, longest first, as
/// npm-registry-fetch walks them: `//host/a/b` → `//host/a/` → `//host/a` →
/// `//host/` → `//host`. Each step removes either the last segment or the
/// trailing slash.
pub fn credential_prefixes(url: &Url) -> Vec<String> {
    let mut key = format!("//{}{}", host_and_port(url), url.path());
    let mut prefixes = Vec::new();
    while key.len() > 2 {
        prefixes.push(key.clone());
        if key.ends_with('/') {
            key.pop();
        } else {
            let cut = key.rfind('/').map_or(0, |slash| slash + 1);
            key.truncate(cut);
        }
    }
    prefixes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nerf(url: &str) -> String {
        nerf_dart(&Url::parse(url).expect("test URL"))
    }

    #[test]
    fn nerf_darts_match_npm() {
        assert_eq!(nerf("https://registry.npmjs.org"), "//registry.npmjs.org/");
        assert_eq!(nerf("https://registry.npmjs.org/"), "//registry.npmjs.org/");
        assert_eq!(
            nerf("http://u:p@Reg.Example.com:8080/a/b?x=1#f"),
            "//reg.example.com:8080/a/"
        );
        assert_eq!(
            nerf("https://r.example.com/npm/private"),
            "//r.example.com/npm/"
        );
        assert_eq!(
            nerf("https://r.example.com/npm/private/"),
            "//r.example.com/npm/private/"
        );
        assert_eq!(
            nerf("https://reg.example.com:8443/npm/?x=1"),
            "//reg.example.com:8443/npm/"
        );
        assert_eq!(nerf("https://reg.example.com:443/"), "//reg.example.com/");
        assert_eq!(nerf("http://127.0.0.1:4873/"), "//127.0.0.1:4873/");
        assert_eq!(nerf("http://[::1]:4873/x/"), "//[::1]:4873/x/");
    }

    #[test]
    fn a_nerf_dart_goes_back_to_a_url_by_one_rule() {
        let configured = Url::parse("http://r.example:4873/npm/").expect("url");
        let known = [configured.clone()];
        let back = |nerf: &str| {
            NerfDart::parse(nerf)
                .expect("nerf dart")
                .registry_url(&known)
                .expect("url")
                .to_string()
        };
        // The configured registry's host and port: its scheme.
        assert_eq!(
            back("//r.example:4873/other/"),
            "http://r.example:4873/other/"
        );
        // Another port of that host is another registry.
        assert_eq!(back("//r.example/other/"), "https://r.example/other/");
        assert_eq!(back("//elsewhere.example/"), "https://elsewhere.example/");
        assert_eq!(back("//127.0.0.1:9/"), "http://127.0.0.1:9/");
        assert_eq!(back("//localhost:9"), "http://localhost:9/");
        let dart = NerfDart::from_url(&configured);
        assert_eq!(dart.as_str(), "//r.example:4873/npm/");
        assert_eq!(dart.to_string(), "//r.example:4873/npm/");
        assert_eq!(dart.host(), "r.example:4873");
        assert_eq!(dart.registry_url(&known), Some(configured));
        assert_eq!(NerfDart::parse("r.example/"), None);
        assert_eq!(NerfDart::parse("///x"), None);
    }

    #[test]
    fn the_scheme_is_not_part_of_the_key() {
        assert_eq!(
            nerf("http://r.example.com/"),
            nerf("https://r.example.com/")
        );
    }

    #[test]
    fn prefixes_walk_up_one_step_at_a_time() {
        let url = Url::parse("https://h.example:8443/a/b").expect("test URL");
        assert_eq!(
            credential_prefixes(&url),
            vec![
                "//h.example:8443/a/b",
                "//h.example:8443/a/",
                "//h.example:8443/a",
                "//h.example:8443/",
                "//h.example:8443",
            ]
        );
    }
}
