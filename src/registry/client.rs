//! The HTTP side of the registry client: one reqwest client, one `send` that
//! attaches the right credential, retries what is safe to retry, caps what
//! it reads, and turns every failure into a `RegistryError`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use url::Url;

use super::error::{Challenge, Endpoint, RegistryError, WebAuth};
use crate::config::credentials::{Credential, CredentialError, Credentials};
use crate::config::network::Network;
use crate::secret::{Secret, redact};

/// The most bytes rtok reads from one response. The token list is
/// paginated, so a registry that sends more is broken or hostile.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// What the client reports as it works; the command layer decides whether
/// and how to print it (`--verbose`, warnings). The client never prints.
#[derive(Debug)]
pub enum Event<'a> {
    Response {
        method: &'a str,
        url: &'a str,
        status: u16,
        elapsed: Duration,
        attempt: u32,
    },
    Retry {
        method: &'a str,
        url: &'a str,
        reason: &'a str,
        wait: Duration,
    },
    /// The registry's `npm-notice` header.
    Notice(&'a str),
    Warning(&'a str),
}

pub type Observer = Arc<dyn Fn(&Event<'_>) + Send + Sync>;

/// Which credential a request carries.
#[derive(Debug, Clone)]
pub enum Auth {
    /// The configured credential for the request URL, if any.
    Configured,
    /// HTTP basic auth with these, whatever is configured (the couch login's
    /// second step, as npm-profile forces it).
    Basic { username: String, password: Secret },
    /// This bearer token, whatever is configured (checking a token that is
    /// not stored yet).
    Bearer(Secret),
    /// No `Authorization` header.
    None,
}

/// One request.
#[derive(Debug, Clone)]
pub struct Call<'a> {
    pub method: Method,
    pub url: Url,
    pub endpoint: Endpoint,
    pub body: Option<Vec<u8>>,
    pub auth: Auth,
    pub otp: Option<&'a Secret>,
    /// Secrets in the body or URL, to be redacted from logs and errors.
    pub secrets: Vec<&'a Secret>,
    /// The URL as logs and errors show it, when the real one holds a secret.
    pub display_url: Option<String>,
    /// A 404 after a retry means an earlier attempt already did the work
    /// (a DELETE whose first response was lost).
    pub gone_after_retry_is_success: bool,
}

impl<'a> Call<'a> {
    pub fn new(method: Method, url: Url, endpoint: Endpoint) -> Call<'a> {
        Call {
            method,
            url,
            endpoint,
            body: None,
            auth: Auth::Configured,
            otp: None,
            secrets: Vec::new(),
            display_url: None,
            gone_after_retry_is_success: false,
        }
    }

    pub fn json_body(mut self, body: &serde_json::Value) -> Self {
        self.body = Some(body.to_string().into_bytes());
        self
    }
}

/// What `send` puts in the `Authorization` header, and what to redact.
#[derive(Default)]
struct Authorization {
    header: Option<HeaderValue>,
    secret: Option<Secret>,
    origin: Option<String>,
}

/// A successful response, body read.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// Settings that shape every request.
pub struct ClientConfig {
    pub registry: Url,
    pub credentials: Credentials,
    pub network: Network,
    /// The `npm-command` header: what the user ran.
    pub command: &'static str,
    pub observer: Option<Observer>,
}

/// The transport. Build once per command; cheap to share by reference.
pub struct HttpClient {
    http: reqwest::Client,
    registry: Url,
    credentials: Credentials,
    network: Network,
    command: &'static str,
    observer: Option<Observer>,
    warned_plain_http: AtomicBool,
}

impl HttpClient {
    pub fn new(config: ClientConfig) -> Result<HttpClient, RegistryError> {
        let http = build_reqwest(&config)?;
        Ok(HttpClient {
            http,
            registry: config.registry,
            credentials: config.credentials,
            network: config.network,
            command: config.command,
            observer: config.observer,
            warned_plain_http: AtomicBool::new(false),
        })
    }

    pub fn registry(&self) -> &Url {
        &self.registry
    }

    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// `path` under the registry, with exactly one `/` between them (as
    /// npm-registry-fetch joins them).
    pub fn url(&self, path: &str) -> Url {
        let base = self.registry.as_str().trim_end_matches('/');
        let joined = format!("{base}/{}", path.trim_start_matches('/'));
        Url::parse(&joined).unwrap_or_else(|_| self.registry.clone())
    }

    fn emit(&self, event: Event<'_>) {
        if let Some(observer) = &self.observer {
            observer(&event);
        }
    }

    /// Sends `call`, retrying where that is safe, and returns the 2xx reply
    /// or the error it maps to.
    pub async fn send(&self, call: Call<'_>) -> Result<Reply, RegistryError> {
        let method = call.method.as_str().to_string();
        let shown_url = call
            .display_url
            .clone()
            .unwrap_or_else(|| display_url(&call.url));
        let authorization = self.authorization(&call)?;
        let mut secrets: Vec<&Secret> = call.secrets.clone();
        secrets.extend(call.otp);
        secrets.extend(authorization.secret.as_ref());
        if authorization.header.is_some() {
            self.warn_if_plain_http(&call.url);
        }

        let idempotent = matches!(call.method, Method::GET | Method::DELETE | Method::HEAD);
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let started = Instant::now();
            let mut request = self
                .http
                .request(call.method.clone(), call.url.clone())
                .header("accept", "application/json")
                .header("npm-command", self.command)
                .header(
                    "npm-auth-type",
                    if call.otp.is_some() { "legacy" } else { "web" },
                );
            if let Some(value) = &authorization.header {
                request = request.header("authorization", value.clone());
            }
            if let Some(otp) = call.otp
                && let Ok(mut value) = HeaderValue::from_str(otp.expose())
            {
                value.set_sensitive(true);
                request = request.header("npm-otp", value);
            }
            if let Some(body) = &call.body {
                request = request
                    .header("content-type", "application/json")
                    .body(body.clone());
            }

            let outcome = match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    let headers = response.headers().clone();
                    let body = read_capped(response).await;
                    Ok((status, headers, body))
                }
                Err(err) => Err(err),
            };

            match outcome {
                Ok((status, headers, body)) => {
                    let elapsed = started.elapsed();
                    self.emit(Event::Response {
                        method: &method,
                        url: &shown_url,
                        status: status.as_u16(),
                        elapsed,
                        attempt,
                    });
                    if let Some(notice) = headers.get("npm-notice").and_then(|v| v.to_str().ok()) {
                        self.emit(Event::Notice(&redact(notice, &secrets)));
                    }
                    let body = match body {
                        Ok(body) => body,
                        Err(BodyError::TooLarge) => {
                            return Err(RegistryError::TooLarge {
                                method,
                                url: shown_url,
                                limit: MAX_BODY_BYTES,
                            });
                        }
                        Err(BodyError::Transport(err)) => {
                            if idempotent && attempt <= self.network.retry.retries {
                                let wait = self.backoff(attempt, None);
                                self.emit(Event::Retry {
                                    method: &method,
                                    url: &shown_url,
                                    reason: "the connection broke while reading the response",
                                    wait,
                                });
                                tokio::time::sleep(wait).await;
                                continue;
                            }
                            return Err(self.transport_error(&method, &shown_url, &err, true));
                        }
                    };
                    if status.is_success() {
                        return Ok(Reply {
                            status,
                            headers,
                            body,
                        });
                    }
                    if attempt > 1
                        && status == StatusCode::NOT_FOUND
                        && call.gone_after_retry_is_success
                    {
                        return Ok(Reply {
                            status,
                            headers,
                            body,
                        });
                    }
                    let retryable =
                        status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS;
                    if retryable && idempotent && attempt <= self.network.retry.retries {
                        let wait = self.backoff(attempt, retry_after(&headers));
                        self.emit(Event::Retry {
                            method: &method,
                            url: &shown_url,
                            reason: status.canonical_reason().unwrap_or("server error"),
                            wait,
                        });
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    return Err(self.status_error(
                        &call,
                        method,
                        shown_url,
                        status,
                        &headers,
                        &body,
                        &secrets,
                        authorization.origin.clone(),
                    ));
                }
                Err(err) => {
                    // A request that never connected never reached the server,
                    // so even a POST may go again; anything else only when
                    // repeating it cannot do the work twice.
                    let safe = idempotent || err.is_connect();
                    if safe && is_transient(&err) && attempt <= self.network.retry.retries {
                        let wait = self.backoff(attempt, None);
                        self.emit(Event::Retry {
                            method: &method,
                            url: &shown_url,
                            reason: if err.is_connect() {
                                "could not connect"
                            } else {
                                "the connection failed"
                            },
                            wait,
                        });
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    return Err(self.transport_error(&method, &shown_url, &err, false));
                }
            }
        }
    }

    /// The `Authorization` header `call` carries, the secret inside it (to
    /// redact from errors), and where a configured credential came from.
    fn authorization(&self, call: &Call<'_>) -> Result<Authorization, RegistryError> {
        let (value, secret, origin) = match &call.auth {
            Auth::None => return Ok(Authorization::default()),
            Auth::Basic { username, password } => {
                let pair = format!("{username}:{}", password.expose());
                let encoded = crate::config::credentials::encode_base64(&pair);
                (format!("Basic {encoded}"), password.clone(), None)
            }
            Auth::Bearer(token) => (format!("Bearer {}", token.expose()), token.clone(), None),
            Auth::Configured => {
                let Some(found) = self.credentials.for_url(&call.url)? else {
                    return Ok(Authorization::default());
                };
                let origin = found.origin.to_string();
                match found.credential {
                    Some(Credential::Bearer(token)) => {
                        (format!("Bearer {}", token.expose()), token, Some(origin))
                    }
                    Some(Credential::Basic { encoded, .. }) => {
                        (format!("Basic {}", encoded.expose()), encoded, Some(origin))
                    }
                    // A client certificate alone: TLS carries it.
                    None => return Ok(Authorization::default()),
                }
            }
        };
        let mut header =
            HeaderValue::from_str(&value).map_err(|_| CredentialError::NotHeaderSafe {
                origin: origin.clone().unwrap_or_else(|| "the command line".into()),
            })?;
        header.set_sensitive(true);
        Ok(Authorization {
            header: Some(header),
            secret: Some(secret),
            origin,
        })
    }

    /// npm's backoff (`fetch-retry-mintimeout` × `fetch-retry-factor`^n,
    /// capped at `fetch-retry-maxtimeout`) with jitter, or the registry's
    /// `Retry-After` when it gave one (capped the same way).
    fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(wait) = retry_after {
            // Honoured, but never longer than `fetch-retry-maxtimeout`: a
            // registry cannot park the command for an hour.
            return wait.min(self.network.retry.max);
        }
        let retry = &self.network.retry;
        let exponent = i32::try_from(attempt.saturating_sub(1)).unwrap_or(i32::MAX);
        let base = retry.min.as_secs_f64() * retry.factor.max(1.0).powi(exponent);
        let capped = base.min(retry.max.as_secs_f64().max(retry.min.as_secs_f64()));
        // Between half and all of the delay, so that many clients that failed
        // together do not come back together.
        Duration::from_secs_f64(capped * (0.5 + 0.5 * jitter()))
    }

    fn warn_if_plain_http(&self, url: &Url) {
        if url.scheme() != "http" || is_loopback(url) {
            return;
        }
        if !self.warned_plain_http.swap(true, Ordering::Relaxed) {
            let message = format!(
                "sending credentials over plain HTTP to {}; anyone on the network path can read them (use https://)",
                crate::npmrc::nerf::host_and_port(url)
            );
            self.emit(Event::Warning(&message));
        }
    }

    fn transport_error(
        &self,
        method: &str,
        url: &str,
        err: &reqwest::Error,
        reading: bool,
    ) -> RegistryError {
        if err.is_timeout() {
            return RegistryError::Timeout {
                method: method.to_string(),
                url: url.to_string(),
                after: self
                    .network
                    .timeout
                    .map_or_else(|| "the timeout".into(), describe_duration),
            };
        }
        if err.is_redirect() {
            return RegistryError::Connect {
                method: method.to_string(),
                url: url.to_string(),
                reason: "too many redirects (a redirect loop?)".into(),
            };
        }
        let cause = root_cause(err);
        if is_tls_failure(err) {
            return RegistryError::TlsHandshake {
                method: method.to_string(),
                url: url.to_string(),
                reason: cause,
            };
        }
        let reason = if reading {
            "the connection broke while reading the response".to_string()
        } else if err.is_connect() {
            format!("could not connect ({cause})")
        } else {
            format!("request failed ({cause})")
        };
        RegistryError::Connect {
            method: method.to_string(),
            url: url.to_string(),
            reason,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn status_error(
        &self,
        call: &Call<'_>,
        method: String,
        url: String,
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
        secrets: &[&Secret],
        credential_origin: Option<String>,
    ) -> RegistryError {
        let parsed: Option<serde_json::Value> = serde_json::from_slice(body).ok();
        let registry = display_url(&self.registry);
        if status == StatusCode::UNAUTHORIZED {
            let challenges: Vec<String> = headers
                .get_all("www-authenticate")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| {
                    v.split(',')
                        .map(|p| p.trim().to_ascii_lowercase())
                        .collect::<Vec<_>>()
                })
                .collect();
            if challenges.iter().any(|c| c == "ipaddress") {
                return RegistryError::IpNotAllowed { method, url };
            }
            let says_otp = challenges.iter().any(|c| c == "otp")
                || (challenges.is_empty()
                    && String::from_utf8_lossy(body)
                        .to_ascii_lowercase()
                        .contains("one-time pass"));
            if says_otp {
                let web = parsed.as_ref().and_then(|v| {
                    let auth_url = v.get("authUrl")?.as_str()?;
                    let done_url = v.get("doneUrl")?.as_str()?;
                    Some(WebAuth {
                        auth_url: auth_url.to_string(),
                        done_url: done_url.to_string(),
                    })
                });
                return RegistryError::OtpRequired {
                    method,
                    url,
                    otp_sent: call.otp.is_some(),
                    web,
                };
            }
            let challenge = if challenges.iter().any(|c| c.starts_with("basic"))
                && matches!(call.auth, Auth::Basic { .. })
            {
                Challenge::Basic
            } else if challenges.iter().any(|c| c.starts_with("bearer")) {
                Challenge::Bearer
            } else if challenges.iter().any(|c| c.starts_with("basic")) {
                Challenge::Basic
            } else {
                Challenge::Other
            };
            return RegistryError::Unauthorized {
                method,
                url,
                status,
                detail: detail(parsed.as_ref(), body, secrets),
                challenge,
                endpoint: call.endpoint,
                credential_origin,
                registry,
            };
        }
        RegistryError::Status {
            method,
            url,
            status,
            detail: detail(parsed.as_ref(), body, secrets),
            endpoint: call.endpoint,
            registry,
        }
    }

    /// Parses a JSON reply, or says what was wrong with it.
    pub fn parse_json(
        &self,
        call_method: &str,
        url: &Url,
        reply: &Reply,
    ) -> Result<serde_json::Value, RegistryError> {
        serde_json::from_slice(&reply.body).map_err(|_| RegistryError::InvalidResponse {
            method: call_method.to_string(),
            url: display_url(url),
            problem: format!(
                "{} but the body is not JSON{}",
                status_text(reply.status),
                body_excerpt(&reply.body, &[])
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            ),
            registry: display_url(&self.registry),
        })
    }

    pub fn invalid(&self, method: &str, url: &Url, problem: impl Into<String>) -> RegistryError {
        RegistryError::InvalidResponse {
            method: method.to_string(),
            url: display_url(url),
            problem: problem.into(),
            registry: display_url(&self.registry),
        }
    }
}

fn build_reqwest(config: &ClientConfig) -> Result<reqwest::Client, RegistryError> {
    let network = &config.network;
    let mut builder = reqwest::Client::builder()
        .user_agent(user_agent())
        // Proxies are chosen below from npm's settings, not reqwest's own
        // reading of the environment.
        .no_proxy();
    if let Some(timeout) = network.timeout {
        builder = builder.timeout(timeout);
    }
    if !network.strict_ssl {
        builder = builder.danger_accept_invalid_certs(true);
    }
    let mut pem_bundles: Vec<Vec<u8>> = network
        .ca
        .iter()
        .map(|pem| pem.clone().into_bytes())
        .collect();
    if let Some(cafile) = &network.cafile {
        let bytes = std::fs::read(cafile).map_err(|err| {
            RegistryError::Tls(format!(
                "could not read `cafile` {}: {err}",
                cafile.display()
            ))
        })?;
        pem_bundles.push(bytes);
    }
    // Like Node, a missing or bad NODE_EXTRA_CA_CERTS is a warning, and it
    // is read only when HTTPS is used (a plain-HTTP registry skips the cost).
    if let Some(extra) = network
        .node_extra_ca_certs
        .as_ref()
        .filter(|_| config.registry.scheme() == "https")
    {
        match std::fs::read(extra).map(|bytes| reqwest::Certificate::from_pem_bundle(&bytes)) {
            Ok(Ok(certs)) => {
                for cert in certs {
                    builder = builder.add_root_certificate(cert);
                }
            }
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
    for bundle in pem_bundles {
        let certs = reqwest::Certificate::from_pem_bundle(&bundle).map_err(|err| {
            RegistryError::Tls(format!(
                "a `ca`/`cafile` certificate is not valid PEM ({err})"
            ))
        })?;
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    if let Ok(Some(found)) = config.credentials.for_url(&config.registry)
        && let Some(cert) = &found.client_cert
    {
        let mut pem = std::fs::read(&cert.certfile).map_err(|err| {
            RegistryError::Tls(format!(
                "could not read `certfile` {}: {err}",
                cert.certfile.display()
            ))
        })?;
        pem.push(b'\n');
        pem.extend(std::fs::read(&cert.keyfile).map_err(|err| {
            RegistryError::Tls(format!(
                "could not read `keyfile` {}: {err}",
                cert.keyfile.display()
            ))
        })?);
        let identity = reqwest::Identity::from_pem(&pem).map_err(|err| {
            RegistryError::Tls(format!(
                "`certfile`/`keyfile` are not a PEM certificate and key ({err})"
            ))
        })?;
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
        .map_err(|err| RegistryError::Tls(root_cause(&err)))
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
        RegistryError::Tls(format!(
            "the proxy setting `{}` is not a URL",
            display_url_str(text)
        ))
    })
}

/// `500 ms`, `30 s`, `5 min`: a duration as a message shows it.
fn describe_duration(duration: Duration) -> String {
    let ms = duration.as_millis();
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms.is_multiple_of(60_000) {
        format!("{} min", ms / 60_000)
    } else {
        format!("{:.1} s", duration.as_secs_f64()).replace(".0 s", " s")
    }
}

pub fn user_agent() -> String {
    format!(
        "rtok/{} ({} {})",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

/// Whether the failure happened in the TLS handshake: an untrusted or
/// invalid certificate, or a client certificate the server wanted.
fn is_tls_failure(err: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(current) = source {
        if current.downcast_ref::<rustls::Error>().is_some() {
            return true;
        }
        // Connectors wrap the handshake error in their own types; its text
        // is what stays recognisable.
        let text = current.to_string().to_ascii_lowercase();
        if text.contains("certificate") || text.contains("tls handshake") {
            return true;
        }
        // io::Error hides its payload from `source()`: look inside.
        if let Some(inner) = current
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            && inner.downcast_ref::<rustls::Error>().is_some()
        {
            return true;
        }
        source = current.source();
    }
    false
}

/// Whether a transport failure may go away on its own (a refused or reset
/// connection, a connection closed mid-answer), as opposed to one that will
/// fail the same way again (a bad certificate, an unknown host, a timeout
/// that already took `fetch-timeout`).
fn is_transient(err: &reqwest::Error) -> bool {
    use std::io::ErrorKind;
    if err.is_timeout() {
        return false;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(current) = source {
        if let Some(io) = current.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                ErrorKind::ConnectionRefused
                    | ErrorKind::ConnectionReset
                    | ErrorKind::ConnectionAborted
                    | ErrorKind::BrokenPipe
                    | ErrorKind::NotConnected
            )
        {
            return true;
        }
        let text = current.to_string();
        if text.contains("certificate") || text.contains("tls") || text.contains("dns error") {
            return false;
        }
        if text.contains("connection closed before message completed")
            || text.contains("connection reset")
        {
            return true;
        }
        source = current.source();
    }
    false
}

enum BodyError {
    TooLarge,
    Transport(reqwest::Error),
}

async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, BodyError> {
    if response
        .content_length()
        .is_some_and(|len| len > MAX_BODY_BYTES as u64)
    {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_BODY_BYTES {
                    return Err(BodyError::TooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(err) => return Err(BodyError::Transport(err)),
        }
    }
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get("retry-after")?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// The `: <what the registry said>` tail of an error message (the status
/// itself, `404 Not Found`, comes before it): the registry's
/// `error`/`message` field or the first words of a non-JSON body, secrets
/// redacted.
fn detail(parsed: Option<&serde_json::Value>, body: &[u8], secrets: &[&Secret]) -> String {
    let said = match parsed {
        Some(value) => ["error", "message", "reason"]
            .iter()
            .find_map(|field| value.get(*field).and_then(|v| v.as_str()))
            .map(|text| one_line(&redact(text, secrets), 160)),
        None => body_excerpt(body, secrets),
    };
    match said.filter(|s| !s.is_empty()) {
        Some(said) => format!(": {said}"),
        None => String::new(),
    }
}

fn status_text(status: StatusCode) -> String {
    format!(
        "{}{}",
        status.as_u16(),
        status
            .canonical_reason()
            .map(|r| format!(" {r}"))
            .unwrap_or_default()
    )
}

/// The first words of a body that is not JSON, on one line: HTML tags
/// dropped, whitespace collapsed, control characters removed.
fn body_excerpt(body: &[u8], secrets: &[&Secret]) -> Option<String> {
    let text = String::from_utf8_lossy(&body[..body.len().min(4096)]);
    let mut plain = String::new();
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                plain.push(' ');
            }
            _ if in_tag => {}
            _ => plain.push(c),
        }
    }
    let excerpt = one_line(&redact(&plain, secrets), 100);
    (!excerpt.is_empty()).then_some(excerpt)
}

fn one_line(text: &str, limit: usize) -> String {
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect();
    let joined = words.join(" ");
    if joined.chars().count() > limit {
        let cut: String = joined.chars().take(limit).collect();
        format!("{cut}...")
    } else {
        joined
    }
}

fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut source: &dyn std::error::Error = err;
    while let Some(next) = source.source() {
        source = next;
    }
    one_line(&source.to_string(), 160)
}

/// A URL as logs and messages show it: no user name or password.
pub fn display_url(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.to_string()
}

fn display_url_str(text: &str) -> String {
    Url::parse(text)
        .map(|u| display_url(&u))
        .unwrap_or_else(|_| "<invalid>".into())
}

pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name == "localhost" || name.ends_with(".localhost"),
        None => false,
    }
}

/// A number in [0, 1) that differs between runs and calls; jitter needs no
/// more than that.
fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(Instant::now().elapsed().as_nanos());
    (hasher.finish() % 10_000) as f64 / 10_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_url_drops_userinfo() {
        let url = Url::parse("https://user:pass@r.example/npm/").expect("url");
        assert_eq!(display_url(&url), "https://r.example/npm/");
    }

    #[test]
    fn body_excerpt_is_one_short_line() {
        let html = b"<!DOCTYPE html>\n<html><body><pre>Cannot POST /-/v1/login</pre></body></html>";
        assert_eq!(
            body_excerpt(html, &[]).as_deref(),
            Some("Cannot POST /-/v1/login")
        );
        let long = "word ".repeat(100);
        assert!(
            body_excerpt(long.as_bytes(), &[])
                .expect("excerpt")
                .ends_with("...")
        );
        let secret = Secret::new("s3cr3t-token");
        assert_eq!(
            body_excerpt(b"bad token s3cr3t-token", &[&secret]).as_deref(),
            Some("bad token ***")
        );
    }

    #[test]
    fn loopback_hosts() {
        for (url, expected) in [
            ("http://127.0.0.1:4873/", true),
            ("http://[::1]/", true),
            ("http://localhost:1/", true),
            ("http://registry.example/", false),
            ("http://10.0.0.1/", false),
        ] {
            assert_eq!(
                is_loopback(&Url::parse(url).expect("url")),
                expected,
                "{url}"
            );
        }
    }
}
