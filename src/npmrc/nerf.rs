//! Nerf darts: the `//host[:port]/path/` form that keys credentials in `.npmrc`.

use url::Url;

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
