//! Network settings npm users set: timeout, TLS trust, proxies, retries.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Result, bail};

use super::{Config, Setting};
use crate::failure::Failure;

/// How rtok talks to registries, from npm's own config keys.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Network {
    /// `fetch-timeout` (ms; default 5 minutes, 0 = none).
    pub timeout: Option<Duration>,
    /// `strict-ssl` (default true).
    pub strict_ssl: bool,
    /// `ca`: PEM certificates given inline.
    pub ca: Vec<String>,
    /// `cafile`: a PEM file of certificates.
    pub cafile: Option<PathBuf>,
    /// `NODE_EXTRA_CA_CERTS`: extra roots Node (so npm) trusts; users behind
    /// a TLS-inspecting proxy rely on it.
    pub node_extra_ca_certs: Option<PathBuf>,
    /// Proxy for https URLs: `https-proxy`, else `proxy`, else
    /// `HTTPS_PROXY`/`https_proxy`, else `HTTP_PROXY`/`http_proxy`.
    pub https_proxy: Option<String>,
    /// Proxy for http URLs: `proxy`, else `HTTP_PROXY`/`http_proxy`.
    pub http_proxy: Option<String>,
    /// Hosts that bypass the proxy: `noproxy`, else `NO_PROXY`/`no_proxy`.
    pub noproxy: Vec<String>,
    pub retry: Retry,
}

/// npm's retry settings (`fetch-retries` and friends).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Retry {
    pub retries: u32,
    pub factor: f64,
    pub min: Duration,
    pub max: Duration,
}

/// npm's retry count and factor, with waits sized for a command a person
/// waits on: npm waits 10 s, then 60 s, tuned for installs of thousands of
/// packages; rtok waits about 1 s, then up to 10 s. npm's keys override.
impl Default for Retry {
    fn default() -> Self {
        Retry {
            retries: 2,
            factor: 10.0,
            min: Duration::from_millis(1_000),
            max: Duration::from_millis(10_000),
        }
    }
}

impl Network {
    pub(crate) fn from_config(config: &Config) -> Result<Network> {
        let env = config.env();
        let timeout_ms = number(config.get("fetch-timeout"), 300_000.0)?;
        let retry = Retry {
            retries: number(config.get("fetch-retries"), 2.0)? as u32,
            factor: number(config.get("fetch-retry-factor"), 10.0)?,
            min: Duration::from_millis(
                number(config.get("fetch-retry-mintimeout"), 1_000.0)? as u64
            ),
            max: Duration::from_millis(
                number(config.get("fetch-retry-maxtimeout"), 10_000.0)? as u64
            ),
        };
        let proxy = proxy_setting(config.get("proxy"));
        let https_proxy = proxy_setting(config.get("https-proxy"));
        // `proxy=false` turns proxies off explicitly, environment included.
        let proxy_disabled = config.value("proxy") == Some("false");
        let https_proxy = if proxy_disabled {
            https_proxy
        } else {
            https_proxy.or_else(|| proxy.clone()).or_else(|| {
                env_var(
                    env,
                    &["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"],
                )
            })
        };
        let http_proxy = if proxy_disabled {
            None
        } else {
            proxy.or_else(|| env_var(env, &["HTTP_PROXY", "http_proxy"]))
        };
        let noproxy_settings = config.values("noproxy");
        let noproxy_text: Vec<String> = if noproxy_settings.is_empty() {
            env_var(env, &["NO_PROXY", "no_proxy"])
                .into_iter()
                .collect()
        } else {
            noproxy_settings.iter().map(|s| s.value.clone()).collect()
        };
        Ok(Network {
            timeout: (timeout_ms > 0.0).then(|| Duration::from_millis(timeout_ms as u64)),
            strict_ssl: boolean(config.get("strict-ssl"), true)?,
            ca: config
                .values("ca")
                .iter()
                .map(|s| s.value.clone())
                .filter(|v| !v.is_empty() && v != "null")
                .collect(),
            cafile: config.value("cafile").map(PathBuf::from),
            node_extra_ca_certs: env
                .get("NODE_EXTRA_CA_CERTS")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            https_proxy,
            http_proxy,
            noproxy: noproxy_text
                .iter()
                .flat_map(|text| text.split([',', ' ']))
                .map(str::trim)
                .filter(|entry| !entry.is_empty())
                .map(str::to_string)
                .collect(),
            retry,
        })
    }

    /// Whether a request to `host` (and `port`) skips the proxy: an entry
    /// equal to the host, `*`, or a domain suffix (`.example.com` or
    /// `example.com` match `a.example.com`), optionally with `:port`.
    pub(crate) fn bypasses_proxy(&self, host: &str, port: u16) -> bool {
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        self.noproxy.iter().any(|entry| {
            let entry = entry.to_ascii_lowercase();
            if entry == "*" {
                return true;
            }
            let (name, entry_port) = match entry.rsplit_once(':') {
                Some((name, p)) if !name.contains(':') => (name.to_string(), p.parse::<u16>().ok()),
                _ => (entry.clone(), None),
            };
            if entry_port.is_some_and(|p| p != port) {
                return false;
            }
            let name = name.trim_start_matches('*').trim_start_matches('.');
            host == name || host.ends_with(&format!(".{name}"))
        })
    }
}

fn env_var(env: &HashMap<String, String>, names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|name| env.get(*name).filter(|v| !v.is_empty()).cloned())
}

fn proxy_setting(setting: Option<&Setting>) -> Option<String> {
    setting
        .map(|s| s.value.clone())
        .filter(|v| !v.is_empty() && v != "false" && v != "null")
}

fn number(setting: Option<&Setting>, default: f64) -> Result<f64> {
    let Some(setting) = setting.filter(|s| !s.value.is_empty()) else {
        return Ok(default);
    };
    match setting.value.trim().parse::<f64>() {
        Ok(n) if n.is_finite() && n >= 0.0 => Ok(n),
        _ => bail!(
            Failure::new(format!(
                "`{}` ({}) must be a non-negative number, not `{}`",
                setting.key, setting.origin, setting.value
            ))
            .hint(fix_the_line(setting))
        ),
    }
}

fn boolean(setting: Option<&Setting>, default: bool) -> Result<bool> {
    let Some(setting) = setting.filter(|s| !s.value.is_empty()) else {
        return Ok(default);
    };
    match setting.value.trim() {
        "true" => Ok(true),
        "false" => Ok(false),
        other => bail!(
            Failure::new(format!(
                "`{}` ({}) must be `true` or `false`, not `{other}`",
                setting.key, setting.origin
            ))
            .hint(fix_the_line(setting))
        ),
    }
}

/// The hint for a setting with a value rtok cannot read.
fn fix_the_line(setting: &Setting) -> String {
    format!(
        "fix or remove `{}` at {} (npm reads the same line)",
        setting.key, setting.origin
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn network(npmrc: &str, env: &[(&str, &str)]) -> Result<Network> {
        let (_dir, config) = crate::config::load_for_test(npmrc, env)?;
        Network::from_config(&config)
    }

    #[test]
    fn defaults_are_npms() {
        let net = network("", &[]).expect("network");
        assert_eq!(net.timeout, Some(Duration::from_secs(300)));
        assert!(net.strict_ssl);
        assert_eq!(net.retry, Retry::default());
        assert_eq!(net.https_proxy, None);
    }

    #[test]
    fn settings_are_read() {
        let net = network(
            "fetch-timeout=1500\nstrict-ssl=false\ncafile=/ca.pem\nca[]=\"-----BEGIN CERTIFICATE-----\\nAAA\\n-----END CERTIFICATE-----\"\nfetch-retries=0\n",
            &[],
        )
        .expect("network");
        assert_eq!(net.timeout, Some(Duration::from_millis(1500)));
        assert!(!net.strict_ssl);
        assert_eq!(net.cafile, Some(PathBuf::from("/ca.pem")));
        assert_eq!(net.ca.len(), 1);
        assert!(net.ca[0].contains("\nAAA\n"));
        assert_eq!(net.retry.retries, 0);
    }

    #[test]
    fn bad_values_name_the_line() {
        let err = network("fetch-timeout=soon\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("fetch-timeout") && err.contains(":1"), "{err}");
        let err = network("strict-ssl=maybe\n", &[]).unwrap_err().to_string();
        assert!(err.contains("strict-ssl"), "{err}");
    }

    #[test]
    fn proxies_come_from_config_then_environment() {
        let net = network(
            "",
            &[
                ("HTTPS_PROXY", "http://envproxy:1"),
                ("http_proxy", "http://plain:2"),
            ],
        )
        .expect("network");
        assert_eq!(net.https_proxy.as_deref(), Some("http://envproxy:1"));
        assert_eq!(net.http_proxy.as_deref(), Some("http://plain:2"));
        let net = network(
            "proxy=http://cfg:3\n",
            &[("HTTPS_PROXY", "http://envproxy:1")],
        )
        .expect("network");
        assert_eq!(net.https_proxy.as_deref(), Some("http://cfg:3"));
        assert_eq!(net.http_proxy.as_deref(), Some("http://cfg:3"));
        let net =
            network("proxy=false\n", &[("HTTPS_PROXY", "http://envproxy:1")]).expect("network");
        assert_eq!(net.https_proxy, None);
        assert_eq!(net.http_proxy, None);
    }

    #[test]
    fn noproxy_matches_hosts_and_suffixes() {
        let net = network(
            "noproxy=localhost,.internal.example, other.example:8443\n",
            &[],
        )
        .expect("network");
        assert!(net.bypasses_proxy("localhost", 80));
        assert!(net.bypasses_proxy("reg.internal.example", 443));
        assert!(net.bypasses_proxy("other.example", 8443));
        assert!(!net.bypasses_proxy("other.example", 443));
        assert!(!net.bypasses_proxy("registry.npmjs.org", 443));
        let net = network("", &[("NO_PROXY", "*")]).expect("network");
        assert!(net.bypasses_proxy("anything", 1));
    }
}
