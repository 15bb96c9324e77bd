//! Building the HTTP client from npm's network settings: timeout, TLS trust
//! (`strict-ssl`, `ca`, `cafile`, `NODE_EXTRA_CA_CERTS`), the registry's
//! client certificate, and proxies.

use url::Url;

use super::{ClientConfig, Event};
use crate::display::display_url_str;
use crate::registry::RegistryError;

pub(super) fn build_reqwest(config: &ClientConfig) -> Result<reqwest::Client, RegistryError> {
    let network = &config.network;
    let mut builder = reqwest::Client::builder()
        .user_agent(user_agent())
        // `send` follows redirects itself, deciding each hop's credential,
        // body and one-time password (`redirect.rs`).
        .redirect(reqwest::redirect::Policy::none())
        // Proxies are chosen below from npm's settings, not reqwest's own
        // reading of the environment.
        .no_proxy();
    if let Some(timeout) = network.timeout {
        builder = builder.timeout(timeout);
    }
    if !network.strict_ssl {
        builder = builder.danger_accept_invalid_certs(true);
    }
    for cert in trusted_roots(config)? {
        builder = builder.add_root_certificate(cert);
    }
    if let Some(identity) = client_identity(config)? {
        builder = builder.identity(identity);
    }
    if network.https_proxy.is_some() || network.http_proxy.is_some() {
        let https_proxy = parse_proxy(network.https_proxy.as_deref())?;
        let http_proxy = parse_proxy(network.http_proxy.as_deref())?;
        let network = network.clone();
        builder = builder.proxy(reqwest::Proxy::custom(move |url: &Url| {
            let host = url.host_str()?;
            if network.bypasses_proxy(host, url.port_or_known_default().unwrap_or(0)) {
                return None;
            }
            match url.scheme() {
                "https" => https_proxy.clone(),
                _ => http_proxy.clone(),
            }
        }));
    }
    builder
        .build()
        .map_err(|err| RegistryError::Setup(super::response::root_cause(&err)))
}

/// Roots trusted on top of the compiled-in ones: `ca`, `cafile`, and (like
/// Node) `NODE_EXTRA_CA_CERTS`, whose absence or damage is only a warning
/// and which is read only when HTTPS is used.
fn trusted_roots(config: &ClientConfig) -> Result<Vec<reqwest::Certificate>, RegistryError> {
    let network = &config.network;
    let mut roots = Vec::new();
    if let Some(extra) = network
        .node_extra_ca_certs
        .as_ref()
        .filter(|_| config.registry.scheme() == "https")
    {
        match std::fs::read(extra).map(|bytes| reqwest::Certificate::from_pem_bundle(&bytes)) {
            Ok(Ok(certs)) => roots.extend(certs),
            Ok(Err(_)) | Err(_) => {
                if let Some(observer) = &config.observer {
                    observer(&Event::Warning(&format!(
                        "ignoring NODE_EXTRA_CA_CERTS ({}): not a readable PEM file",
                        extra.display()
                    )));
                }
            }
        }
    }
    let mut bundles: Vec<Vec<u8>> = network
        .ca
        .iter()
        .map(|pem| pem.clone().into_bytes())
        .collect();
    if let Some(cafile) = &network.cafile {
        bundles.push(std::fs::read(cafile).map_err(|err| {
            RegistryError::Setup(format!(
                "could not read `cafile` {}: {err}",
                cafile.display()
            ))
        })?);
    }
    for bundle in bundles {
        let certs = reqwest::Certificate::from_pem_bundle(&bundle).map_err(|err| {
            RegistryError::Setup(format!(
                "a `ca`/`cafile` certificate is not valid PEM ({err})"
            ))
        })?;
        roots.extend(certs);
    }
    Ok(roots)
}

/// The registry's `certfile` + `keyfile`, for mutual TLS.
fn client_identity(config: &ClientConfig) -> Result<Option<reqwest::Identity>, RegistryError> {
    let Ok(Some(found)) = config.credentials.for_url(&config.registry) else {
        return Ok(None);
    };
    let Some(cert) = &found.client_cert else {
        return Ok(None);
    };
    let read = |path: &std::path::Path, what: &str| {
        std::fs::read(path).map_err(|err| {
            RegistryError::Setup(format!("could not read `{what}` {}: {err}", path.display()))
        })
    };
    let mut pem = read(&cert.certfile, "certfile")?;
    pem.push(b'\n');
    pem.extend(read(&cert.keyfile, "keyfile")?);
    reqwest::Identity::from_pem(&pem).map(Some).map_err(|err| {
        RegistryError::Setup(format!(
            "`certfile`/`keyfile` are not a PEM certificate and key ({err})"
        ))
    })
}

fn parse_proxy(text: Option<&str>) -> Result<Option<Url>, RegistryError> {
    let Some(text) = text else { return Ok(None) };
    // npm accepts `host:port` without a scheme and means http.
    let with_scheme = if text.contains("://") {
        text.to_string()
    } else {
        format!("http://{text}")
    };
    Url::parse(&with_scheme).map(Some).map_err(|_| {
        RegistryError::Setup(format!(
            "the proxy setting `{}` is not a URL",
            display_url_str(text)
        ))
    })
}

pub(crate) fn user_agent() -> String {
    format!(
        "rtok/{} ({} {})",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}
