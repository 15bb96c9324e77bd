//! The registry client: the npm registry API calls rtok makes, over one HTTP
//! transport. It never prints; it returns data or a `RegistryError`.

pub(crate) mod error;
mod permission;
pub(crate) mod stage;
pub(crate) mod transport;
pub(crate) mod trust;
pub(crate) mod types;

use std::collections::HashSet;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use url::Url;

pub(crate) use error::{Endpoint, Problem, Refusal, RegistryError, WebAuth};
pub use permission::Permission;
pub(crate) use stage::{StageItem, is_stage_id};
pub(crate) use transport::{Auth, Call, ClientConfig, Event, HttpClient, Observer, Reply};
pub(crate) use trust::{Allow, Provider, Trust, TrustConfig};
pub(crate) use types::{CreatedToken, NewToken, TokenRecord};

use crate::display::{display_url, encode_component};
use crate::secret::Secret;

/// The most pages `token list` follows (100 tokens a page on npmjs makes
/// this 100,000 tokens); a registry that links on forever is broken.
pub(crate) const MAX_PAGES: usize = 1000;

/// One page of `GET /-/npm/v1/tokens`.
#[derive(Deserialize)]
struct Page {
    objects: Option<Vec<Value>>,
    #[serde(default)]
    urls: Option<PageUrls>,
}

#[derive(Deserialize)]
struct PageUrls {
    /// A string, or `null`, `false` or anything else for "last page" (the
    /// shapes registries send).
    #[serde(default)]
    next: Value,
}

/// The user document of a couch login, as npm-profile sends it.
#[derive(serde::Serialize)]
struct CouchUser<'a> {
    #[serde(rename = "_id")]
    id: String,
    name: &'a str,
    #[serde(serialize_with = "crate::secret::serialize_exposed")]
    password: Secret,
    #[serde(rename = "type")]
    kind: &'static str,
    roles: [(); 0],
    date: String,
}

/// One step of polling a web login's `doneUrl`.
#[derive(Debug)]
pub(crate) enum Poll {
    /// 202: not yet; wait this long (`Retry-After`) and ask again.
    Wait(Option<Duration>),
    Done(Secret),
}

/// The registry API.
pub(crate) struct Registry {
    http: HttpClient,
}

impl Registry {
    pub(crate) fn new(config: ClientConfig) -> Result<Registry, RegistryError> {
        Ok(Registry {
            http: HttpClient::new(config)?,
        })
    }

    /// The registry this client talks to.
    pub(crate) fn url(&self) -> &Url {
        self.http.registry()
    }

    /// `GET /-/whoami`: the user name the configured credential belongs to.
    pub(crate) async fn whoami(&self) -> Result<String, RegistryError> {
        self.whoami_with(Auth::Configured).await
    }

    /// `whoami` for a token that is not in the config (yet).
    pub(crate) async fn whoami_as(&self, token: &Secret) -> Result<String, RegistryError> {
        self.whoami_with(Auth::Bearer(token.clone())).await
    }

    /// `whoami` with a user name and password (an `_auth` or `_password`
    /// found in a file).
    pub(crate) async fn whoami_as_basic(
        &self,
        username: String,
        password: Secret,
    ) -> Result<String, RegistryError> {
        self.whoami_with(Auth::Basic { username, password }).await
    }

    /// A 200 without a string `username` (Verdaccio's answer to a bad
    /// token) is "not authenticated".
    async fn whoami_with(&self, auth: Auth) -> Result<String, RegistryError> {
        let url = self.http.url("/-/whoami");
        let configured = matches!(auth, Auth::Configured);
        let challenge = match auth {
            Auth::Basic { .. } => error::Challenge::Basic,
            _ => error::Challenge::Bearer,
        };
        let mut call = Call::new(Method::GET, url.clone(), Endpoint::Whoami);
        call.auth = auth;
        let reply = self.http.send(call).await?;
        match reply.json()?.get("username").and_then(Value::as_str) {
            Some(name) if !name.is_empty() => Ok(name.to_string()),
            _ => {
                let credential_origin = match configured {
                    true => self.http.credentials().for_url(&url).ok().flatten(),
                    false => None,
                }
                .map(|found| found.origin);
                Err(RegistryError::failed(
                    reply.request,
                    Problem::Unauthorized {
                        status: reply.status,
                        detail: ": the registry did not recognise the credential (no user name in its answer)"
                            .into(),
                        challenge,
                        credential_origin,
                    },
                ))
            }
        }
    }

    /// `GET /-/npm/v1/tokens`, following `urls.next` to the last page.
    pub(crate) async fn list_tokens(&self) -> Result<Vec<TokenRecord>, RegistryError> {
        let first = self.http.url("/-/npm/v1/tokens");
        let mut url = first.clone();
        let mut seen = HashSet::new();
        let mut tokens = Vec::new();
        for _ in 0..MAX_PAGES {
            if !seen.insert(url.clone()) {
                let request = self.http.request("GET", &url, Endpoint::Tokens);
                return Err(RegistryError::failed(
                    request,
                    Problem::InvalidResponse(
                        "the token list links back to a page it already sent (`urls.next` loops)"
                            .into(),
                    ),
                ));
            }
            let reply = self
                .http
                .send(Call::new(Method::GET, url.clone(), Endpoint::Tokens))
                .await?;
            match read_page(&reply, &mut tokens)? {
                Some(next) => {
                    url = url
                        .join(&next)
                        .map_err(|_| reply.invalid("`urls.next` is not a URL"))?;
                }
                None => return Ok(tokens),
            }
        }
        Err(RegistryError::failed(
            self.http.request("GET", &first, Endpoint::Tokens),
            Problem::TooManyPages { limit: MAX_PAGES },
        ))
    }

    /// `POST /-/npm/v1/tokens`: the created token, secret included.
    pub(crate) async fn create_token(
        &self,
        new: &NewToken,
        otp: Option<&Secret>,
    ) -> Result<CreatedToken, RegistryError> {
        let url = self.http.url("/-/npm/v1/tokens");
        let mut call = Call::new(Method::POST, url, Endpoint::Tokens).json_body(new);
        call.otp = otp;
        if let Some(password) = &new.password {
            call.secrets.push(password);
        }
        let reply = self.http.send(call).await?;
        let value = reply.json()?;
        let has_token = value
            .get("token")
            .and_then(Value::as_str)
            .is_some_and(|t| !t.is_empty());
        match serde_json::from_value::<CreatedToken>(value) {
            Ok(created) if has_token => Ok(created),
            _ => Err(reply.invalid(format!(
                "{} but the reply has no `token`",
                error::status_text(reply.status)
            ))),
        }
    }

    /// `DELETE /-/npm/v1/tokens/token/<key>`. A 404 on a retry counts as
    /// done: the first attempt got through.
    pub(crate) async fn delete_token(
        &self,
        key: &str,
        otp: Option<&Secret>,
    ) -> Result<(), RegistryError> {
        let path = format!("/-/npm/v1/tokens/token/{}", encode_component(key));
        let mut call = Call::new(Method::DELETE, self.http.url(&path), Endpoint::Tokens);
        call.otp = otp;
        call.gone_after_retry_is_success = true;
        self.http.send(call).await.map(|_| ())
    }

    /// `DELETE /-/user/token/<token>`, authenticated by that token, as
    /// `npm logout` sends it: revokes a session token at logout, or any
    /// token by itself (a leaked one `scan --revoke` found).
    pub(crate) async fn revoke_session(&self, token: &Secret) -> Result<(), RegistryError> {
        let path = format!("/-/user/token/{}", encode_component(token.expose()));
        let mut call = Call::new(Method::DELETE, self.http.url(&path), Endpoint::Logout);
        call.auth = Auth::Bearer(token.clone());
        call.display_url = Some(display_url(&self.http.url("/-/user/token/***")));
        call.secrets.push(token);
        call.gone_after_retry_is_success = true;
        self.http.send(call).await.map(|_| ())
    }

    /// The couch ("legacy") login: `PUT /-/user/org.couchdb.user:<name>`
    /// with the password, as npm-profile's `loginCouch` does; on 409 (the
    /// user exists and the registry wants proof), fetch the user document
    /// and `PUT` it back at its revision with basic auth. Returns the token.
    pub(crate) async fn login_couch(
        &self,
        username: &str,
        password: &Secret,
        otp: Option<&Secret>,
    ) -> Result<Secret, RegistryError> {
        let path = format!("/-/user/org.couchdb.user:{}", encode_component(username));
        let url = self.http.url(&path);
        let body = serde_json::to_value(CouchUser {
            id: format!("org.couchdb.user:{username}"),
            name: username,
            password: password.clone(),
            kind: "user",
            roles: [],
            date: crate::time::now_iso8601(),
        })
        .unwrap_or_default();
        let mut call = Call::new(Method::PUT, url, Endpoint::Login).json_body(&body);
        call.otp = otp;
        call.secrets.push(password);
        match self.http.send(call).await {
            Ok(reply) => token_from(&reply),
            Err(err) if err.status() == Some(StatusCode::CONFLICT) => {
                self.login_couch_existing(username, password, otp, body)
                    .await
            }
            Err(err) if err.status() == Some(StatusCode::BAD_REQUEST) => {
                let request = err.request().cloned().unwrap_or_else(|| {
                    self.http
                        .request("PUT", &self.http.url(&path), Endpoint::Login)
                });
                Err(RegistryError::failed(
                    request,
                    Problem::Status {
                        status: StatusCode::BAD_REQUEST,
                        detail: format!(": there is no user with the user name \"{username}\""),
                    },
                ))
            }
            Err(err) => Err(err),
        }
    }

    async fn login_couch_existing(
        &self,
        username: &str,
        password: &Secret,
        otp: Option<&Secret>,
        body: Value,
    ) -> Result<Secret, RegistryError> {
        let path = format!("/-/user/org.couchdb.user:{}", encode_component(username));
        let mut get_url = self.http.url(&path);
        get_url.set_query(Some("write=true"));
        let basic = Auth::Basic {
            username: username.to_string(),
            password: password.clone(),
        };
        let mut call = Call::new(Method::GET, get_url, Endpoint::Login);
        call.auth = basic.clone();
        call.otp = otp;
        let existing = self.http.send(call).await?.json()?;
        let mut document = body;
        if let (Some(target), Some(source)) = (document.as_object_mut(), existing.as_object()) {
            for (field, value) in source {
                if !target.contains_key(field) || field == "roles" {
                    target.insert(field.clone(), value.clone());
                }
            }
        }
        let revision = existing
            .get("_rev")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let put_url = self
            .http
            .url(&format!("{path}/-rev/{}", encode_component(revision)));
        let mut call = Call::new(Method::PUT, put_url, Endpoint::Login).json_body(&document);
        call.auth = basic;
        call.otp = otp;
        call.secrets.push(password);
        token_from(&self.http.send(call).await?)
    }

    /// `POST /-/v1/login`: starts a web login; returns (`loginUrl`, `doneUrl`).
    pub(crate) async fn start_web_login(&self) -> Result<(Url, Url), RegistryError> {
        let url = self.http.url("/-/v1/login");
        let call = Call::new(Method::POST, url, Endpoint::WebLogin).json_body(&json!({}));
        let reply = self.http.send(call).await?;
        let value = reply.json()?;
        let field = |name: &str| {
            value
                .get(name)
                .and_then(Value::as_str)
                .and_then(|text| Url::parse(text).ok())
                .filter(|u| matches!(u.scheme(), "http" | "https"))
        };
        match (field("loginUrl"), field("doneUrl")) {
            (Some(login), Some(done)) => Ok((login, done)),
            _ => Err(reply
                .invalid("invalid response from the web login endpoint (no `loginUrl`/`doneUrl`)")),
        }
    }

    /// One `GET doneUrl` of a web login or web OTP.
    pub(crate) async fn poll_web_login(&self, done_url: &Url) -> Result<Poll, RegistryError> {
        let call = Call::new(Method::GET, done_url.clone(), Endpoint::WebLogin);
        let reply = self.http.send(call).await?;
        if reply.status == StatusCode::ACCEPTED {
            let wait = reply
                .headers
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            return Ok(Poll::Wait(wait));
        }
        match reply.json()?.get("token").and_then(Value::as_str) {
            Some(token) if !token.is_empty() && reply.status == StatusCode::OK => {
                Ok(Poll::Done(Secret::new(token)))
            }
            _ => Err(reply.invalid("invalid response from the web login endpoint (no `token`)")),
        }
    }
}

/// What a trusted-publishing exchange gave: the short-lived token, and the
/// registry's whole answer (which holds the token too, for `--json`).
pub(crate) struct OidcToken {
    pub(crate) token: Secret,
    pub(crate) answer: Value,
}

impl std::fmt::Debug for OidcToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OidcToken(REDACTED)")
    }
}

/// Trusted publishing (OIDC).
impl Registry {
    /// `POST /-/npm/v1/oidc/token/exchange/package/<name>` (a scoped name's
    /// `/` as `%2f`) with the CI's identity token as the bearer, whatever
    /// credential the config holds: the registry's short-lived token for
    /// publishing `package`.
    pub(crate) async fn exchange_oidc(
        &self,
        package: &str,
        identity: &Secret,
    ) -> Result<OidcToken, RegistryError> {
        let path = format!(
            "/-/npm/v1/oidc/token/exchange/package/{}",
            crate::oidc::package::escape(package)
        );
        let mut call = Call::new(Method::POST, self.http.url(&path), Endpoint::Oidc);
        call.auth = Auth::Bearer(identity.clone());
        call.secrets.push(identity);
        let reply = self.http.send(call).await?;
        let answer = json_without_echo(&reply, &[identity])?;
        match answer.get("token").and_then(Value::as_str) {
            Some(token) if !token.is_empty() => Ok(OidcToken {
                token: Secret::new(token),
                answer,
            }),
            _ => Err(reply.invalid(format!(
                "{} but the answer has no `token`",
                error::status_text(reply.status)
            ))),
        }
    }

    /// `GET url` (absolute, any host) with `bearer`, through the same
    /// transport as every registry call (proxy, TLS, timeouts, retries,
    /// `--verbose`), the answer parsed as JSON: for a CI's identity token
    /// service.
    pub(crate) async fn get_json_with_bearer(
        &self,
        url: &Url,
        bearer: &Secret,
    ) -> Result<Value, RegistryError> {
        let mut call = Call::new(Method::GET, url.clone(), Endpoint::Oidc);
        call.auth = Auth::Bearer(bearer.clone());
        let reply = self.http.send(call).await?;
        json_without_echo(&reply, &[bearer])
    }
}

/// A reply's JSON. A body that is not JSON is shown only when it is an HTML
/// page (an error page says what went wrong); any other text might be a bare
/// token, so it is never echoed.
fn json_without_echo(reply: &Reply, secrets: &[&Secret]) -> Result<Value, RegistryError> {
    if let Ok(value) = serde_json::from_slice(&reply.body) {
        return Ok(value);
    }
    let status = error::status_text(reply.status);
    let html = reply.body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<');
    let problem = match reply.json() {
        Err(err) if html => match err.problem() {
            Some(Problem::InvalidResponse(text)) => crate::display::redact(text, secrets),
            _ => format!("{status} but the body is an HTML page, not JSON"),
        },
        _ => format!("{status} but the body is not JSON"),
    };
    Err(reply.invalid(problem))
}

/// Appends a page's tokens to `tokens`; returns its `urls.next`.
fn read_page(
    reply: &Reply,
    tokens: &mut Vec<TokenRecord>,
) -> Result<Option<String>, RegistryError> {
    let no_list = || {
        reply.invalid(format!(
            "{} but the reply has no `objects` list",
            error::status_text(reply.status)
        ))
    };
    let page: Page = match serde_json::from_slice(&reply.body) {
        Ok(page) => page,
        // Valid JSON of another shape, or not JSON at all: say which.
        Err(_) => {
            reply.json()?;
            return Err(no_list());
        }
    };
    let objects = page.objects.ok_or_else(no_list)?;
    tokens.reserve(objects.len());
    for object in objects {
        let record = match object {
            Value::Object(fields) => TokenRecord::from_fields(fields),
            _ => None,
        }
        .ok_or_else(|| reply.invalid("a listed token has no `key`"))?;
        tokens.push(record);
    }
    Ok(page.urls.and_then(|urls| match urls.next {
        Value::String(next) if !next.is_empty() => Some(next),
        _ => None,
    }))
}

fn token_from(reply: &Reply) -> Result<Secret, RegistryError> {
    match reply.json()?.get("token").and_then(Value::as_str) {
        Some(token) if !token.is_empty() => Ok(Secret::new(token)),
        _ => Err(reply.invalid(format!(
            "{} but the reply has no `token`",
            error::status_text(reply.status)
        ))),
    }
}
