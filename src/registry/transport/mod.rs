//! The HTTP side of the registry client: one reqwest client, one `send` that
//! attaches the right credential, retries what the policy allows, follows
//! the redirects the policy allows (deciding the credential again for each
//! URL), caps what it reads, and turns every failure into a `RegistryError`.

mod build;
pub(crate) mod redirect;
pub(crate) mod response;
pub(crate) mod retry;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use url::Url;

use redirect::{Hop, MAX_REDIRECTS, Redirect, Redirected};
use retry::{Decision, Outcome};

use super::error::{Endpoint, Problem, RegistryError, Request};
use crate::config::credential::{Credential, CredentialError};
use crate::config::credentials::Credentials;
use crate::config::network::Network;
use crate::config::origin::Origin;
use crate::display::{display_url, is_loopback, redact};
use crate::secret::Secret;

/// The most bytes rtok reads from one response. The token list is
/// paginated, so a registry that sends more is broken or hostile.
pub(crate) const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// What the client reports as it works; the command layer decides whether
/// and how to print it (`--verbose`, warnings). The client never prints.
#[derive(Debug)]
pub(crate) enum Event<'a> {
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

pub(crate) type Observer = Arc<dyn Fn(&Event<'_>) + Send + Sync>;

/// Which credential a request carries.
#[derive(Debug, Clone)]
pub(crate) enum Auth {
    /// The configured credential for the request URL, if any.
    Configured,
    /// HTTP basic auth with these, whatever is configured (the couch login's
    /// second step, as npm-profile forces it).
    Basic { username: String, password: Secret },
    /// This bearer token, whatever is configured (checking a token that is
    /// not stored yet).
    Bearer(Secret),
    /// No credential (a redirect to another origin of a request that carried
    /// one of the two above).
    None,
}

/// One request.
#[derive(Debug, Clone)]
pub(crate) struct Call<'a> {
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
    /// Set once a redirect took the request to another origin: its errors
    /// then name that origin, not the configured registry.
    left_origin: bool,
    /// Set once the request was sent again with a provider's new token
    /// after a 401: it is not renewed twice.
    renewed: bool,
}

impl<'a> Call<'a> {
    pub(crate) fn new(method: Method, url: Url, endpoint: Endpoint) -> Call<'a> {
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
            left_origin: false,
            renewed: false,
        }
    }

    /// The request a followed redirect makes. To another origin nothing of
    /// this request's own goes along: no credential it was given, no
    /// one-time password (the policy refuses those and bodies anyway); the
    /// configured credential is looked up again for the new URL.
    fn redirected(mut self, hop: Hop) -> Self {
        if !hop.same_origin {
            if !matches!(self.auth, Auth::Configured) {
                self.auth = Auth::None;
            }
            self.otp = None;
            self.left_origin = true;
        }
        if !hop.keep_body {
            self.body = None;
        }
        self.method = hop.method;
        self.url = hop.url;
        self.display_url = None;
        self
    }

    /// A JSON body (anything serde can write).
    pub(crate) fn json_body(mut self, body: &impl serde::Serialize) -> Self {
        self.body = serde_json::to_vec(body).ok();
        self
    }

    fn idempotent(&self) -> bool {
        matches!(self.method, Method::GET | Method::DELETE | Method::HEAD)
    }
}

/// What `send` puts in the `Authorization` header, and what to redact.
#[derive(Default)]
struct Authorization {
    header: Option<HeaderValue>,
    secret: Option<Secret>,
    origin: Option<Origin>,
}

/// A successful response, body read.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// The request, for errors about what came back.
    pub request: Request,
}

impl Reply {
    /// The body as JSON, or the error that says it is not.
    pub(crate) fn json(&self) -> Result<serde_json::Value, RegistryError> {
        response::parse_json(&self.request, self.status, &self.body)
    }

    /// An error about this reply's content (`problem` names what is wrong).
    pub(crate) fn invalid(&self, problem: impl Into<String>) -> RegistryError {
        RegistryError::failed(
            self.request.clone(),
            Problem::InvalidResponse(problem.into()),
        )
    }
}

/// Settings that shape every request.
pub(crate) struct ClientConfig {
    pub registry: Url,
    pub credentials: Credentials,
    pub network: Network,
    /// The `npm-command` header: what the user ran.
    pub command: &'static str,
    pub observer: Option<Observer>,
}

/// What one request came to: the reply, a redirect to follow, or the
/// same request again with a provider's new token (after a 401).
enum Sent {
    Reply(Reply),
    Redirect(Hop),
    Renewed,
}

/// What one attempt got: an answer (with its body, or why the body could
/// not be read), or no answer.
enum Attempt {
    Answered {
        status: StatusCode,
        headers: HeaderMap,
        body: Result<Vec<u8>, BodyError>,
    },
    Failed(reqwest::Error),
}

enum BodyError {
    TooLarge,
    Transport(reqwest::Error),
}

/// The transport. Build once per command; cheap to share by reference.
pub(crate) struct HttpClient {
    http: reqwest::Client,
    registry: Url,
    credentials: Credentials,
    network: Network,
    command: &'static str,
    observer: Option<Observer>,
    warned_plain_http: AtomicBool,
}

impl HttpClient {
    pub(crate) fn new(config: ClientConfig) -> Result<HttpClient, RegistryError> {
        let http = build::build_reqwest(&config)?;
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

    pub(crate) fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    pub(crate) fn registry(&self) -> &Url {
        &self.registry
    }

    /// `path` under the registry, with exactly one `/` between them (as
    /// npm-registry-fetch joins them).
    pub(crate) fn url(&self, path: &str) -> Url {
        let base = self.registry.as_str().trim_end_matches('/');
        let joined = format!("{base}/{}", path.trim_start_matches('/'));
        Url::parse(&joined).unwrap_or_else(|_| self.registry.clone())
    }

    /// The request as errors name it.
    pub(crate) fn request(&self, method: &str, url: &Url, endpoint: Endpoint) -> Request {
        Request {
            method: method.to_string(),
            url: display_url(url),
            endpoint,
            registry: display_url(&self.registry),
        }
    }

    /// Sends `call`, retrying while the retry policy says so and following
    /// redirects the redirect policy allows, and returns the 2xx reply or
    /// the error the last attempt maps to.
    pub(crate) async fn send(&self, call: Call<'_>) -> Result<Reply, RegistryError> {
        let mut call = call;
        let mut hops = 0;
        while hops <= MAX_REDIRECTS {
            match self.send_once(&call).await? {
                Sent::Reply(reply) => return Ok(reply),
                Sent::Redirect(hop) => {
                    hops += 1;
                    call = call.redirected(hop);
                }
                Sent::Renewed => call.renewed = true,
            }
        }
        let request = self.shown_request(&call, &call.secrets);
        Err(RegistryError::failed(
            request,
            Problem::TooManyRedirects {
                limit: MAX_REDIRECTS,
            },
        ))
    }

    /// The request as its errors and `--verbose` show it: the URL without
    /// userinfo or secrets; after a redirect to another origin, that origin
    /// in place of the configured registry.
    fn shown_request(&self, call: &Call<'_>, secrets: &[&Secret]) -> Request {
        let mut request = self.request(call.method.as_str(), &call.url, call.endpoint);
        request.url = match &call.display_url {
            Some(shown) => shown.clone(),
            None => redact(&request.url, secrets),
        };
        if call.left_origin {
            let mut origin = call.url.clone();
            origin.set_path("/");
            origin.set_query(None);
            request.registry = display_url(&origin);
        }
        request
    }

    /// One request to one URL, retried while the policy says so: the reply,
    /// the redirect to follow, or the error.
    async fn send_once(&self, call: &Call<'_>) -> Result<Sent, RegistryError> {
        let authorization = self.authorization(call)?;
        let mut secrets: Vec<&Secret> = call.secrets.clone();
        secrets.extend(call.otp);
        secrets.extend(authorization.secret.as_ref());
        let request = self.shown_request(call, &secrets);
        if authorization.header.is_some() {
            self.warn_if_plain_http(&call.url);
        }
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let started = Instant::now();
            let answer = self.attempt(call, &authorization).await;
            if let Attempt::Answered {
                status, headers, ..
            } = &answer
            {
                self.report(
                    &request,
                    *status,
                    headers,
                    started.elapsed(),
                    attempt,
                    &secrets,
                );
            }
            let outcome = outcome_of(&answer);
            match retry::decide(
                &self.network.retry,
                attempt,
                call.idempotent(),
                &outcome,
                retry::jitter(),
            ) {
                Decision::Retry { wait, reason } => {
                    self.emit(Event::Retry {
                        method: &request.method,
                        url: &request.url,
                        reason,
                        wait,
                    });
                    tokio::time::sleep(wait).await;
                }
                Decision::GiveUp => {
                    if let Some(sent) = redirect_of(call, &answer) {
                        return sent.map_err(|problem| RegistryError::failed(request, problem));
                    }
                    if self.renewed(call, &answer, &authorization, &secrets) {
                        self.emit(Event::Retry {
                            method: &request.method,
                            url: &request.url,
                            reason: "the registry rejected the provider's token; fetched a new one",
                            wait: Duration::ZERO,
                        });
                        return Ok(Sent::Renewed);
                    }
                    let origin = authorization.origin.clone();
                    return self
                        .finish(call, request, answer, attempt, &secrets, origin)
                        .map(Sent::Reply);
                }
            }
        }
    }

    /// One attempt: build the request, send it, read the body (capped).
    async fn attempt(&self, call: &Call<'_>, authorization: &Authorization) -> Attempt {
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
        match request.send().await {
            Ok(response) => Attempt::Answered {
                status: response.status(),
                headers: response.headers().clone(),
                body: read_capped(response).await,
            },
            Err(err) => Attempt::Failed(err),
        }
    }

    /// Whether a rejected request (a 401 that is not a one-time-password
    /// challenge) carried a provider's token that was then fetched again:
    /// the request is then sent once more. Which credentials count is
    /// `config/`'s answer (`Origin::is_provider`, `Credentials::renew`).
    fn renewed(
        &self,
        call: &Call<'_>,
        answer: &Attempt,
        authorization: &Authorization,
        secrets: &[&Secret],
    ) -> bool {
        if call.renewed || !matches!(call.auth, Auth::Configured) {
            return false;
        }
        let Attempt::Answered {
            status,
            headers,
            body: Ok(body),
        } = answer
        else {
            return false;
        };
        if *status != StatusCode::UNAUTHORIZED
            || !matches!(
                response::status_problem(call, *status, headers, body, secrets, None),
                Problem::Unauthorized { .. }
            )
        {
            return false;
        }
        let (Some(origin), Some(used)) = (&authorization.origin, &authorization.secret) else {
            return false;
        };
        origin.is_provider() && self.credentials.renew(&call.url, used).unwrap_or(false)
    }

    /// The last attempt's answer as the caller gets it.
    fn finish(
        &self,
        call: &Call<'_>,
        request: Request,
        answer: Attempt,
        attempt: u32,
        secrets: &[&Secret],
        credential_origin: Option<Origin>,
    ) -> Result<Reply, RegistryError> {
        let (status, headers, body) = match answer {
            Attempt::Failed(err) => {
                let problem = response::transport_problem(&err, false, self.network.timeout);
                return Err(RegistryError::failed(request, problem));
            }
            Attempt::Answered {
                body: Err(BodyError::TooLarge),
                ..
            } => {
                let problem = Problem::TooLarge {
                    limit: MAX_BODY_BYTES,
                };
                return Err(RegistryError::failed(request, problem));
            }
            Attempt::Answered {
                body: Err(BodyError::Transport(err)),
                ..
            } => {
                let problem = response::transport_problem(&err, true, self.network.timeout);
                return Err(RegistryError::failed(request, problem));
            }
            Attempt::Answered {
                status,
                headers,
                body: Ok(body),
            } => (status, headers, body),
        };
        let gone_already =
            attempt > 1 && status == StatusCode::NOT_FOUND && call.gone_after_retry_is_success;
        if status.is_success() || gone_already {
            return Ok(Reply {
                status,
                headers,
                body,
                request,
            });
        }
        let problem =
            response::status_problem(call, status, &headers, &body, secrets, credential_origin);
        Err(RegistryError::failed(request, problem))
    }

    /// `--verbose` and notices for one answer.
    fn report(
        &self,
        request: &Request,
        status: StatusCode,
        headers: &HeaderMap,
        elapsed: Duration,
        attempt: u32,
        secrets: &[&Secret],
    ) {
        self.emit(Event::Response {
            method: &request.method,
            url: &request.url,
            status: status.as_u16(),
            elapsed,
            attempt,
        });
        if let Some(notice) = headers.get("npm-notice").and_then(|v| v.to_str().ok()) {
            self.emit(Event::Notice(&redact(notice, secrets)));
        }
    }

    /// The `Authorization` header `call` carries, the secret inside it (to
    /// redact from errors), and where a configured credential came from.
    fn authorization(&self, call: &Call<'_>) -> Result<Authorization, RegistryError> {
        // The scheme, the credential as the header carries it, and the
        // secret to redact from what the registry says back.
        let (scheme, credential, secret, origin) = match &call.auth {
            Auth::Basic { username, password } => {
                let pair = format!("{username}:{}", password.expose());
                let encoded = Secret::new(crate::config::credential::encode_base64(&pair));
                ("Basic", encoded, password.clone(), None)
            }
            Auth::Bearer(token) => ("Bearer", token.clone(), token.clone(), None),
            Auth::None => return Ok(Authorization::default()),
            Auth::Configured => {
                let Some(found) = self.credentials.for_url(&call.url)? else {
                    return Ok(Authorization::default());
                };
                let (scheme, credential) = match found.credential {
                    Some(Credential::Bearer(token)) => ("Bearer", token),
                    Some(Credential::Basic { encoded, .. }) => ("Basic", encoded),
                    // A client certificate alone: TLS carries it.
                    None => return Ok(Authorization::default()),
                };
                (scheme, credential.clone(), credential, Some(found.origin))
            }
        };
        let header = HeaderValue::from_str(&format!("{scheme} {}", credential.expose()));
        let mut header = header.map_err(|_| CredentialError::NotHeaderSafe {
            origin: origin
                .as_ref()
                .map_or_else(|| "the command line".into(), Origin::to_string),
        })?;
        header.set_sensitive(true);
        Ok(Authorization {
            header: Some(header),
            secret: Some(secret),
            origin,
        })
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

    fn emit(&self, event: Event<'_>) {
        if let Some(observer) = &self.observer {
            observer(&event);
        }
    }
}

/// The redirect an answer asks for, as the policy decides it: `None` when the
/// answer is not one (it stands), the hop to follow, or why not.
fn redirect_of(call: &Call<'_>, answer: &Attempt) -> Option<Result<Sent, Problem>> {
    let Attempt::Answered {
        status,
        headers,
        body: Ok(_),
    } = answer
    else {
        return None;
    };
    let location = headers
        .get(reqwest::header::LOCATION)
        .and_then(|value| value.to_str().ok());
    let request = Redirected {
        url: &call.url,
        method: &call.method,
        has_body: call.body.is_some(),
        has_otp: call.otp.is_some(),
    };
    match redirect::decide(request, status.as_u16(), location) {
        Redirect::No => None,
        Redirect::Follow(hop) => Some(Ok(Sent::Redirect(hop))),
        Redirect::Refuse { to, why } => Some(Err(Problem::RedirectRefused {
            status: *status,
            to,
            why,
        })),
    }
}

/// What an attempt means for the retry policy.
fn outcome_of(answer: &Attempt) -> Outcome {
    match answer {
        Attempt::Answered {
            body: Err(BodyError::TooLarge),
            ..
        } => Outcome::TooLarge,
        Attempt::Answered {
            body: Err(BodyError::Transport(_)),
            ..
        } => Outcome::BrokenBody,
        Attempt::Answered {
            status, headers, ..
        } => Outcome::Status {
            status: status.as_u16(),
            retry_after: retry_after(headers),
        },
        Attempt::Failed(err) => Outcome::Transport {
            connected: !err.is_connect(),
            transient: response::is_transient(err),
        },
    }
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get("retry-after")?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
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
