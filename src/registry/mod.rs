//! The registry client: the npm registry API calls rtok makes, over one HTTP
//! transport. It never prints; it returns data or a `RegistryError`.

pub mod client;
pub mod error;
pub mod types;

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use url::Url;

pub use client::{Auth, Call, ClientConfig, Event, HttpClient, Observer, display_url};
pub use error::{Endpoint, RegistryError, WebAuth};
pub use types::TokenRecord;

use crate::secret::Secret;

/// The most pages `token list` follows (100 tokens a page on npmjs makes
/// this 100,000 tokens); a registry that links on forever is broken.
pub const MAX_PAGES: usize = 1000;

/// What to create: npm 11's body fields for `POST /-/npm/v1/tokens`.
#[derive(Debug, Clone, Default)]
pub struct NewToken {
    pub password: Option<Secret>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub readonly: bool,
    pub cidr: Vec<String>,
    pub expires_days: Option<u32>,
    pub packages: Vec<String>,
    pub packages_all: bool,
    pub scopes: Vec<String>,
    pub orgs: Vec<String>,
    pub packages_and_scopes_permission: Option<String>,
    pub orgs_permission: Option<String>,
    pub bypass_2fa: bool,
}

impl NewToken {
    /// The JSON body, as npm 11 sends it, plus `readonly` (which npm 11.19
    /// drops) and the classic `cidr_whitelist` name Verdaccio and npmjs read.
    fn body(&self) -> Value {
        let mut body = serde_json::Map::new();
        body.insert(
            "name".into(),
            self.name.clone().map_or(Value::Null, Value::String),
        );
        if let Some(password) = &self.password {
            body.insert(
                "password".into(),
                Value::String(password.expose().to_string()),
            );
        }
        if let Some(description) = &self.description {
            body.insert("description".into(), json!(description));
        }
        if !self.packages.is_empty() {
            body.insert("packages".into(), json!(self.packages));
        }
        if self.packages_all {
            body.insert("packages_all".into(), json!(true));
        }
        if !self.scopes.is_empty() {
            body.insert("scopes".into(), json!(self.scopes));
        }
        if !self.orgs.is_empty() {
            body.insert("orgs".into(), json!(self.orgs));
        }
        if let Some(permission) = &self.packages_and_scopes_permission {
            body.insert("packages_and_scopes_permission".into(), json!(permission));
        }
        if let Some(permission) = &self.orgs_permission {
            body.insert("orgs_permission".into(), json!(permission));
        }
        if let Some(days) = self.expires_days {
            body.insert("expires".into(), json!(days));
        }
        if !self.cidr.is_empty() {
            body.insert("cidr_whitelist".into(), json!(self.cidr));
        }
        if self.bypass_2fa {
            body.insert("bypass_2fa".into(), json!(true));
        }
        if self.readonly {
            body.insert("readonly".into(), json!(true));
        }
        Value::Object(body)
    }
}

/// One page of `GET /-/npm/v1/tokens`, the objects kept as text.
#[derive(serde::Deserialize)]
struct Page<'a> {
    #[serde(borrow)]
    objects: Option<Vec<&'a serde_json::value::RawValue>>,
    #[serde(default)]
    urls: Option<PageUrls>,
}

#[derive(serde::Deserialize)]
struct PageUrls {
    #[serde(default, deserialize_with = "string_or_nothing")]
    next: Option<String>,
}

/// `urls.next` as a string; `null`, `false` or anything else means no more
/// pages (the shapes registries send for "last page").
fn string_or_nothing<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    use serde::Deserialize;
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(s),
        _ => None,
    })
}

/// The `"next": "<url>"` nearest the end of a page, read without parsing
/// the page: a guess, checked once the page is read.
fn guess_next(body: &[u8]) -> Option<String> {
    let at = memchr::memmem::rfind(body, b"\"next\"")?;
    let rest = &body[at + b"\"next\"".len()..];
    let colon = rest.iter().position(|b| !b.is_ascii_whitespace())?;
    if rest[colon] != b':' {
        return None;
    }
    let mut values = serde_json::Deserializer::from_slice(&rest[colon + 1..]).into_iter::<String>();
    values.next()?.ok().filter(|next| !next.is_empty())
}

/// One step of polling a web login's `doneUrl`.
#[derive(Debug)]
pub enum Poll {
    /// 202: not yet; wait this long (`Retry-After`) and ask again.
    Wait(Option<Duration>),
    Done(Secret),
}

/// The registry API.
pub struct Registry {
    http: HttpClient,
}

impl Registry {
    pub fn new(config: ClientConfig) -> Result<Registry, RegistryError> {
        Ok(Registry {
            http: HttpClient::new(config)?,
        })
    }

    pub fn url(&self) -> &Url {
        self.http.registry()
    }

    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// `GET /-/whoami`: the user name the credential belongs to. A 200
    /// without a string `username` (Verdaccio's answer to a bad token) is
    /// "not authenticated".
    pub async fn whoami(&self) -> Result<String, RegistryError> {
        self.whoami_with(Auth::Configured).await
    }

    /// `whoami` for a token that is not in the config (yet).
    pub async fn whoami_as(&self, token: &Secret) -> Result<String, RegistryError> {
        self.whoami_with(Auth::Bearer(token.clone())).await
    }

    async fn whoami_with(&self, auth: Auth) -> Result<String, RegistryError> {
        let url = self.http.url("/-/whoami");
        let configured = matches!(auth, Auth::Configured);
        let mut call = Call::new(Method::GET, url.clone(), Endpoint::Whoami);
        call.auth = auth;
        let reply = self.http.send(call).await?;
        let value = self.http.parse_json("GET", &url, &reply)?;
        match value.get("username").and_then(Value::as_str) {
            Some(name) if !name.is_empty() => Ok(name.to_string()),
            _ => Err(RegistryError::Unauthorized {
                method: "GET".into(),
                url: display_url(&url),
                status: reply.status,
                detail:
                    ": the registry did not recognise the credential (no user name in its answer)"
                        .into(),
                challenge: error::Challenge::Bearer,
                endpoint: Endpoint::Whoami,
                credential_origin: self
                    .http
                    .credentials()
                    .for_url(&url)
                    .ok()
                    .flatten()
                    .filter(|_| configured)
                    .map(|f| f.origin.to_string()),
                registry: display_url(self.url()),
            }),
        }
    }

    /// `GET /-/npm/v1/tokens`, following `urls.next` to the last page.
    ///
    /// Each page names the next only once it has arrived, so pages come one
    /// after another. To keep the registry busy while rtok reads a page, the
    /// next page is asked for first (its URL taken from the end of the text,
    /// where `urls` usually is) and the page is read while it is on its way;
    /// if the page turns out to name another URL, the early answer is
    /// dropped and the right page fetched (a wasted GET, nothing worse).
    pub async fn list_tokens(&self) -> Result<Vec<TokenRecord>, RegistryError> {
        let mut url = self.http.url("/-/npm/v1/tokens");
        let mut seen = std::collections::HashSet::new();
        let mut tokens = Vec::new();
        let mut early: Option<(Url, Result<client::Reply, RegistryError>)> = None;
        for _ in 0..MAX_PAGES {
            if !seen.insert(url.clone()) {
                return Err(self.http.invalid(
                    "GET",
                    &url,
                    "the token list links back to a page it already sent (`urls.next` loops)",
                ));
            }
            let reply = match early.take() {
                Some((asked, answer)) if asked == url => answer?,
                _ => self.fetch_page(&url).await?,
            };
            let guess = guess_next(&reply.body)
                .and_then(|next| url.join(&next).ok())
                .filter(|guess| !seen.contains(guess));
            let next = match guess {
                Some(guess) => {
                    let read = async {
                        // Let the runtime send the request before this page is read.
                        tokio::task::yield_now().await;
                        self.read_page(&url, &reply, &mut tokens)
                    };
                    let (answer, next) =
                        futures_util::future::join(self.fetch_page(&guess), read).await;
                    early = Some((guess, answer));
                    next?
                }
                None => self.read_page(&url, &reply, &mut tokens)?,
            };
            match next {
                Some(next) => {
                    url = url
                        .join(&next)
                        .map_err(|_| self.http.invalid("GET", &url, "`urls.next` is not a URL"))?;
                }
                None => return Ok(tokens),
            }
        }
        Err(RegistryError::TooManyPages {
            url: display_url(&self.http.url("/-/npm/v1/tokens")),
            limit: MAX_PAGES,
        })
    }

    async fn fetch_page(&self, url: &Url) -> Result<client::Reply, RegistryError> {
        self.http
            .send(Call::new(Method::GET, url.clone(), Endpoint::Tokens))
            .await
    }

    /// Appends the page's tokens to `tokens`; returns its `urls.next`.
    fn read_page(
        &self,
        url: &Url,
        reply: &client::Reply,
        tokens: &mut Vec<TokenRecord>,
    ) -> Result<Option<String>, RegistryError> {
        let no_list = || {
            self.http.invalid(
                "GET",
                url,
                format!("{} but the reply has no `objects` list", reply.status),
            )
        };
        let page: Page<'_> = match serde_json::from_slice(&reply.body) {
            Ok(page) => page,
            // Valid JSON of another shape, or not JSON at all: say which.
            Err(_) => {
                self.http.parse_json("GET", url, reply)?;
                return Err(no_list());
            }
        };
        let objects = page.objects.ok_or_else(no_list)?;
        tokens.reserve(objects.len());
        for object in objects {
            let record = TokenRecord::from_raw(object)
                .ok_or_else(|| self.http.invalid("GET", url, "a listed token has no `key`"))?;
            tokens.push(record);
        }
        Ok(page
            .urls
            .and_then(|urls| urls.next)
            .filter(|next| !next.is_empty()))
    }

    /// `POST /-/npm/v1/tokens`: the created token object, secret included.
    pub async fn create_token(
        &self,
        new: &NewToken,
        otp: Option<&Secret>,
    ) -> Result<Value, RegistryError> {
        let url = self.http.url("/-/npm/v1/tokens");
        let mut call =
            Call::new(Method::POST, url.clone(), Endpoint::Tokens).json_body(&new.body());
        call.otp = otp;
        if let Some(password) = &new.password {
            call.secrets.push(password);
        }
        let reply = self.http.send(call).await?;
        let value = self.http.parse_json("POST", &url, &reply)?;
        match value.get("token").and_then(Value::as_str) {
            Some(token) if !token.is_empty() => Ok(value),
            _ => Err(self.http.invalid(
                "POST",
                &url,
                format!("{} but the reply has no `token`", reply.status),
            )),
        }
    }

    /// `DELETE /-/npm/v1/tokens/token/<key>`. A 404 on a retry counts as
    /// done: the first attempt got through.
    pub async fn delete_token(&self, key: &str, otp: Option<&Secret>) -> Result<(), RegistryError> {
        let path = format!("/-/npm/v1/tokens/token/{}", encode_component(key));
        let mut call = Call::new(Method::DELETE, self.http.url(&path), Endpoint::Tokens);
        call.otp = otp;
        call.gone_after_retry_is_success = true;
        self.http.send(call).await.map(|_| ())
    }

    /// `DELETE /-/user/token/<token>`: revokes a session token (logout).
    pub async fn revoke_session(&self, token: &Secret) -> Result<(), RegistryError> {
        let path = format!("/-/user/token/{}", encode_component(token.expose()));
        let mut call = Call::new(Method::DELETE, self.http.url(&path), Endpoint::Logout);
        call.display_url = Some(display_url(&self.http.url("/-/user/token/***")));
        call.secrets.push(token);
        call.gone_after_retry_is_success = true;
        self.http.send(call).await.map(|_| ())
    }

    /// The couch ("legacy") login: `PUT /-/user/org.couchdb.user:<name>`
    /// with the password, as npm-profile's `loginCouch` does; on 409 (the
    /// user exists and the registry wants proof), fetch the user document
    /// and `PUT` it back at its revision with basic auth. Returns the token.
    pub async fn login_couch(
        &self,
        username: &str,
        password: &Secret,
        otp: Option<&Secret>,
    ) -> Result<Secret, RegistryError> {
        let path = format!("/-/user/org.couchdb.user:{}", encode_component(username));
        let url = self.http.url(&path);
        let body = json!({
            "_id": format!("org.couchdb.user:{username}"),
            "name": username,
            "password": password.expose(),
            "type": "user",
            "roles": [],
            "date": now_iso8601(),
        });
        let mut call = Call::new(Method::PUT, url.clone(), Endpoint::Login).json_body(&body);
        call.otp = otp;
        call.secrets.push(password);
        let reply = match self.http.send(call).await {
            Ok(reply) => reply,
            Err(RegistryError::Status { status, .. }) if status == StatusCode::CONFLICT => {
                return self
                    .login_couch_existing(username, password, otp, body)
                    .await;
            }
            Err(RegistryError::Status {
                status,
                method,
                url,
                ..
            }) if status == StatusCode::BAD_REQUEST => {
                return Err(RegistryError::Status {
                    method,
                    url,
                    status,
                    detail: format!(": there is no user with the user name \"{username}\""),
                    endpoint: Endpoint::Login,
                    registry: display_url(self.url()),
                });
            }
            Err(err) => return Err(err),
        };
        self.token_from(&url, "PUT", &reply)
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
        let mut call = Call::new(Method::GET, get_url.clone(), Endpoint::Login);
        call.auth = basic.clone();
        call.otp = otp;
        let reply = self.http.send(call).await?;
        let existing = self.http.parse_json("GET", &get_url, &reply)?;
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
        let put_path = format!("{path}/-rev/{}", encode_component(revision));
        let put_url = self.http.url(&put_path);
        let mut call =
            Call::new(Method::PUT, put_url.clone(), Endpoint::Login).json_body(&document);
        call.auth = basic;
        call.otp = otp;
        call.secrets.push(password);
        let reply = self.http.send(call).await?;
        self.token_from(&put_url, "PUT", &reply)
    }

    fn token_from(
        &self,
        url: &Url,
        method: &str,
        reply: &client::Reply,
    ) -> Result<Secret, RegistryError> {
        let value = self.http.parse_json(method, url, reply)?;
        match value.get("token").and_then(Value::as_str) {
            Some(token) if !token.is_empty() => Ok(Secret::new(token)),
            _ => Err(self.http.invalid(
                method,
                url,
                format!("{} but the reply has no `token`", reply.status),
            )),
        }
    }

    /// `POST /-/v1/login`: starts a web login; returns (`loginUrl`, `doneUrl`).
    pub async fn start_web_login(&self) -> Result<(Url, Url), RegistryError> {
        let url = self.http.url("/-/v1/login");
        let call = Call::new(Method::POST, url.clone(), Endpoint::WebLogin).json_body(&json!({}));
        let reply = self.http.send(call).await?;
        let value = self.http.parse_json("POST", &url, &reply)?;
        let field = |name: &str| {
            value
                .get(name)
                .and_then(Value::as_str)
                .and_then(|text| Url::parse(text).ok())
                .filter(|u| matches!(u.scheme(), "http" | "https"))
        };
        match (field("loginUrl"), field("doneUrl")) {
            (Some(login), Some(done)) => Ok((login, done)),
            _ => Err(self.http.invalid(
                "POST",
                &url,
                "invalid response from the web login endpoint (no `loginUrl`/`doneUrl`)",
            )),
        }
    }

    /// One `GET doneUrl` of a web login or web OTP.
    pub async fn poll_web_login(&self, done_url: &Url) -> Result<Poll, RegistryError> {
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
        let value = self.http.parse_json("GET", done_url, &reply)?;
        match value.get("token").and_then(Value::as_str) {
            Some(token) if !token.is_empty() && reply.status == StatusCode::OK => {
                Ok(Poll::Done(Secret::new(token)))
            }
            _ => Err(self.http.invalid(
                "GET",
                done_url,
                "invalid response from the web login endpoint (no `token`)",
            )),
        }
    }
}

/// `encodeURIComponent`: everything but `A-Z a-z 0-9 - _ . ! ~ * ' ( )`.
pub fn encode_component(text: &str) -> String {
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'!')
        .remove(b'~')
        .remove(b'*')
        .remove(b'\'')
        .remove(b'(')
        .remove(b')');
    utf8_percent_encode(text, COMPONENT).to_string()
}

/// Now as `YYYY-MM-DDTHH:MM:SS.000Z`, as JavaScript's `toISOString`.
pub fn now_iso8601() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    crate::time::format_iso8601(secs)
}

// ---- Trusted publishing (OIDC): self-contained, to move as one piece ----

/// What a trusted-publishing exchange gave: the short-lived token, and the
/// registry's whole answer (which holds the token too, for `--json`).
pub struct OidcToken {
    pub token: Secret,
    pub answer: Value,
}

impl std::fmt::Debug for OidcToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OidcToken(REDACTED)")
    }
}

impl Registry {
    /// `POST /-/npm/v1/oidc/token/exchange/package/<name>` (a scoped name's
    /// `/` as `%2f`) with the CI's identity token as the bearer, whatever
    /// credential the config holds: the registry's short-lived token for
    /// publishing `package`.
    pub async fn exchange_oidc(
        &self,
        package: &str,
        identity: &Secret,
    ) -> Result<OidcToken, RegistryError> {
        let path = format!(
            "/-/npm/v1/oidc/token/exchange/package/{}",
            crate::oidc::package::escape(package)
        );
        let url = self.http.url(&path);
        let mut call = Call::new(Method::POST, url.clone(), Endpoint::Oidc);
        call.auth = Auth::Bearer(identity.clone());
        call.secrets.push(identity);
        let reply = self.http.send(call).await?;
        let answer = self.json_without_echo("POST", &url, &reply, &[identity])?;
        match answer.get("token").and_then(Value::as_str) {
            Some(token) if !token.is_empty() => Ok(OidcToken {
                token: Secret::new(token),
                answer,
            }),
            _ => Err(self.http.invalid(
                "POST",
                &url,
                format!("{} but the answer has no `token`", reply.status),
            )),
        }
    }

    /// `GET url` (absolute, any host) with `bearer`, through the same
    /// transport as every registry call (proxy, TLS, timeouts, retries,
    /// `--verbose`), the answer parsed as JSON: for a CI's identity token
    /// service.
    pub async fn get_json_with_bearer(
        &self,
        url: &Url,
        bearer: &Secret,
    ) -> Result<Value, RegistryError> {
        let mut call = Call::new(Method::GET, url.clone(), Endpoint::Oidc);
        call.auth = Auth::Bearer(bearer.clone());
        let reply = self.http.send(call).await?;
        self.json_without_echo("GET", url, &reply, &[bearer])
    }

    /// A reply's JSON. A body that is not JSON is shown only when it is an
    /// HTML page (an error page says what went wrong); any other text might
    /// be a bare token, so it is never echoed.
    fn json_without_echo(
        &self,
        method: &str,
        url: &Url,
        reply: &client::Reply,
        secrets: &[&Secret],
    ) -> Result<Value, RegistryError> {
        if let Ok(value) = serde_json::from_slice(&reply.body) {
            return Ok(value);
        }
        let html = reply.body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<');
        let problem = if html {
            match self.http.parse_json(method, url, reply) {
                Err(RegistryError::InvalidResponse { problem, .. }) => {
                    crate::secret::redact(&problem, secrets)
                }
                _ => format!("{} but the body is an HTML page, not JSON", reply.status),
            }
        } else {
            format!("{} but the body is not JSON", reply.status)
        };
        Err(self.http.invalid(method, url, problem))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_body_matches_npm_and_keeps_readonly() {
        let new = NewToken {
            password: Some(Secret::new("pw")),
            readonly: true,
            cidr: vec!["10.0.0.0/8".into()],
            expires_days: Some(30),
            ..NewToken::default()
        };
        assert_eq!(
            new.body(),
            json!({"name": null, "password": "pw", "expires": 30, "cidr_whitelist": ["10.0.0.0/8"], "readonly": true})
        );
    }

    #[test]
    fn the_next_page_is_guessed_from_the_end() {
        assert_eq!(
            guess_next(br#"{"objects":[{"next":"inside"}],"urls":{"next":"https://r/p2"}}"#)
                .as_deref(),
            Some("https://r/p2")
        );
        assert_eq!(
            guess_next(br#"{"objects":[],"urls":{"next" : "/p?page=3"}}"#).as_deref(),
            Some("/p?page=3")
        );
        assert_eq!(guess_next(br#"{"objects":[],"urls":{"next":""}}"#), None);
        assert_eq!(guess_next(br#"{"objects":[],"urls":{"next":null}}"#), None);
        assert_eq!(guess_next(br#"{"objects":[]}"#), None);
        assert_eq!(guess_next(b"not json \"next\""), None);
    }

    #[test]
    fn components_are_encoded_like_javascript() {
        assert_eq!(encode_component("a b/c+d=="), "a%20b%2Fc%2Bd%3D%3D");
        assert_eq!(encode_component("abc-_.!~*'()"), "abc-_.!~*'()");
    }
}
