//! `RegistryError`: every way a registry call can fail. A failed request
//! carries the request once (method, URL, what it was for) and the problem;
//! each error has a one-line message, a hint, and says whether it means
//! "authentication needed".

use std::fmt;

use reqwest::StatusCode;
use url::Url;

use super::transport::redirect::Refused;
use crate::config::credential::CredentialError;
use crate::config::origin::Origin;

/// What a request was for; it decides the hint a failure gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    Whoami,
    Tokens,
    Login,
    WebLogin,
    Logout,
    /// Trusted publishing: the identity token request and the exchange.
    Oidc,
    /// The stage queue (`/-/stage`).
    Stage,
    /// A package's trusted-publishing configuration (`/-/package/<name>/trust`).
    Trust,
}

/// How a 401 asked to authenticate (`www-authenticate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Challenge {
    Bearer,
    Basic,
    Other,
}

/// The `authUrl`/`doneUrl` pair of a web one-time-password challenge, both
/// http(s) URLs (their `Display` percent-encodes anything a terminal or a
/// browser command could take for something else).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WebAuth {
    pub auth_url: Url,
    pub done_url: Url,
}

/// What a registry's refusal means, decided here once: commands match on
/// these, never on status numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The credential (or the user name and password) was not accepted: a
    /// 401, or a whoami answer with no user name.
    Rejected,
    /// A one-time password is needed (or the one sent was wrong).
    NeedsOtp,
    /// Not from this address: the `ipaddress` challenge, a 403 that says so,
    /// or a bare 403 to whoami from a registry that speaks npmjs's dialect
    /// (npmjs answers a CIDR-limited token's request from elsewhere so).
    IpRestricted,
    /// 403 for any other reason (a read-only token, no permission;
    /// Verdaccio's answer to a revoked token).
    Forbidden,
    /// 404 or 410: not there (any more).
    NotFound,
    /// 409.
    Conflict,
    /// 400.
    BadRequest,
    /// 429.
    RateLimited,
    /// 405 or 501: the registry does not do this.
    NotSupported,
    /// Another 4xx.
    OtherClientError,
    /// 5xx: the registry failed.
    ServerFailed,
    /// A 4xx naming `E_STAGE_REQUIRED`: the token is stage-only, or direct
    /// publishing with it is over; the version must be staged and approved.
    StageRequired,
}

impl Refusal {
    /// Whether the request itself was refused (a 4xx), as opposed to the
    /// server failing (5xx, or 501 for something it does not do).
    pub(crate) fn of_the_request(self) -> bool {
        !matches!(self, Refusal::ServerFailed | Refusal::NotSupported)
    }
}

/// The request a failure belongs to, as messages show it.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub method: String,
    /// The URL without userinfo, and with any secret in it masked.
    pub url: String,
    pub endpoint: Endpoint,
    /// The configured registry (for hints).
    pub registry: String,
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.url)
    }
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum RegistryError {
    /// The configured credential cannot be used (an unset `${VAR}`, ...).
    #[error(transparent)]
    Credential(#[from] CredentialError),

    /// The HTTP client could not be built (certificates, keys, proxies).
    #[error("could not set up HTTPS: {0}")]
    Setup(String),

    #[error("{}: {}", .0.request, .0.problem)]
    Failed(Box<FailedRequest>),
}

/// A request and what went wrong with it (boxed: errors travel far and
/// are rare).
#[derive(Debug)]
pub(crate) struct FailedRequest {
    pub request: Request,
    pub problem: Problem,
}

/// What went wrong with a request.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Problem {
    #[error("{}{detail}", status_text(*status))]
    Unauthorized {
        status: StatusCode,
        /// `: <what the registry said>`, or empty.
        detail: String,
        challenge: Challenge,
        /// Where the rejected credential was configured, if one was sent.
        credential_origin: Option<Origin>,
    },

    #[error("a one-time password is required")]
    OtpRequired {
        /// The code sent with the request, if any (then it was rejected).
        otp_sent: bool,
        web: Option<WebAuth>,
    },

    #[error("401 Unauthorized: login is not allowed from your IP address")]
    IpNotAllowed,

    #[error("{}{detail}", status_text(*status))]
    Status { status: StatusCode, detail: String },

    #[error("{}: the registry accepts this only as a staged publish (E_STAGE_REQUIRED){detail}", status_text(*status))]
    StageRequired { status: StatusCode, detail: String },

    #[error("no complete answer within {after} (`fetch-timeout`)")]
    Timeout { after: String },

    #[error("{reason}")]
    Connect { reason: String },

    #[error("TLS failed: {reason}")]
    TlsHandshake { reason: String },

    #[error("{0}")]
    InvalidResponse(String),

    #[error("{}", redirect_message(*status, to.as_ref(), *why))]
    RedirectRefused {
        status: StatusCode,
        /// Where it pointed (userinfo dropped), when `Location` was a URL.
        to: Option<Url>,
        why: Refused,
    },

    #[error("more than {limit} redirects (a redirect loop?)")]
    TooManyRedirects { limit: u32 },

    #[error("the response is larger than {limit} bytes")]
    TooLarge { limit: usize },

    #[error("more than {limit} pages of tokens")]
    TooManyPages { limit: usize },
}

/// `404 Not Found`: the status as messages show it.
pub(crate) fn status_text(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_u16()),
        None => status.as_u16().to_string(),
    }
}

fn redirect_message(status: StatusCode, to: Option<&Url>, why: Refused) -> String {
    let status = status_text(status);
    let to = to.map(crate::display::display_url).unwrap_or_default();
    match why {
        Refused::CrossOrigin => format!(
            "the registry redirected it ({status}) to another origin, {to}; rtok does not send a request body, a one-time password or a credential there"
        ),
        Refused::Downgrade => format!(
            "the registry redirected it ({status}) from https to plain http, {to}; rtok does not follow that"
        ),
        Refused::NotHttp => {
            format!("the registry redirected it ({status}) to {to}, which is not an http(s) URL")
        }
        Refused::NotAUrl => {
            format!("the registry redirected it ({status}) to a `Location` that is not a URL")
        }
    }
}

/// The host of registry.npmjs.org, whose whoami answers a request from an
/// address a token does not allow with a bare 403.
const NPMJS_HOST: &str = "registry.npmjs.org";

impl RegistryError {
    pub(crate) fn failed(request: Request, problem: Problem) -> RegistryError {
        RegistryError::Failed(Box::new(FailedRequest { request, problem }))
    }

    /// The problem, when a request failed.
    pub(crate) fn problem(&self) -> Option<&Problem> {
        match self {
            RegistryError::Failed(failed) => Some(&failed.problem),
            _ => None,
        }
    }

    /// The request that failed, if one did.
    pub(crate) fn request(&self) -> Option<&Request> {
        match self {
            RegistryError::Failed(failed) => Some(&failed.request),
            _ => None,
        }
    }

    /// Whether the failure means the user must authenticate (exit code 4):
    /// credentials rejected, or a one-time password needed.
    pub(crate) fn needs_auth(&self) -> bool {
        if let RegistryError::Credential(err) = self {
            return err.needs_auth();
        }
        matches!(
            self.problem(),
            Some(
                Problem::Unauthorized { .. } | Problem::OtpRequired { .. } | Problem::IpNotAllowed
            )
        )
    }

    /// What the registry's refusal means, when it refused.
    pub(crate) fn refusal(&self) -> Option<Refusal> {
        self.refusal_speaking_npmjs(false)
    }

    /// `refusal`, for a caller that knows more about the registry's dialect
    /// (a token of npmjs's shape): with `npmjs`, a bare 403 to whoami means
    /// an IP restriction, as it does from registry.npmjs.org itself.
    pub(crate) fn refusal_speaking_npmjs(&self, npmjs: bool) -> Option<Refusal> {
        let RegistryError::Failed(failed) = self else {
            return None;
        };
        let request = &failed.request;
        let refusal = match &failed.problem {
            Problem::Unauthorized { .. } => Refusal::Rejected,
            Problem::OtpRequired { .. } => Refusal::NeedsOtp,
            Problem::IpNotAllowed => Refusal::IpRestricted,
            Problem::StageRequired { .. } => Refusal::StageRequired,
            Problem::Status { status, detail } => match status.as_u16() {
                403 => {
                    let npmjs = npmjs
                        || Url::parse(&request.url)
                            .is_ok_and(|url| url.host_str() == Some(NPMJS_HOST));
                    let detail = detail.to_ascii_lowercase();
                    let says_ip = ["ip address", "cidr", "whitelist", "allowlist", "allowed ip"]
                        .iter()
                        .any(|word| detail.contains(word));
                    if says_ip || (npmjs && request.endpoint == Endpoint::Whoami) {
                        Refusal::IpRestricted
                    } else {
                        Refusal::Forbidden
                    }
                }
                400 => Refusal::BadRequest,
                401 => Refusal::Rejected,
                404 | 410 => Refusal::NotFound,
                409 => Refusal::Conflict,
                429 => Refusal::RateLimited,
                405 | 501 => Refusal::NotSupported,
                _ if status.is_client_error() => Refusal::OtherClientError,
                _ if status.is_server_error() => Refusal::ServerFailed,
                _ => return None,
            },
            _ => return None,
        };
        Some(refusal)
    }

    /// Whether the registry has no web login, as npm reads the answer to
    /// starting one: any 4xx, or exactly 500 (then the legacy login is
    /// tried).
    pub(crate) fn means_no_web_login(&self) -> bool {
        matches!(self.status().map(|s| s.as_u16()), Some(400..=500))
    }

    /// The HTTP status, when the registry answered.
    pub(crate) fn status(&self) -> Option<StatusCode> {
        match self.problem()? {
            Problem::Unauthorized { status, .. }
            | Problem::Status { status, .. }
            | Problem::StageRequired { status, .. } => Some(*status),
            Problem::OtpRequired { .. } | Problem::IpNotAllowed => Some(StatusCode::UNAUTHORIZED),
            _ => None,
        }
    }

    /// A line naming the command or setting that fixes it, where one exists.
    pub(crate) fn hint(&self) -> Option<String> {
        let (request, problem) = match self {
            RegistryError::Credential(err) => return Some(err.hint()),
            RegistryError::Setup(_) => {
                return Some("check `cafile`, `ca`, `certfile` and `keyfile` in .npmrc".into());
            }
            RegistryError::Failed(failed) => (&failed.request, &failed.problem),
        };
        let registry = &request.registry;
        match problem {
            Problem::Unauthorized {
                challenge: Challenge::Basic,
                ..
            } => Some(format!(
                "check the user name and password, or run `rtok login --registry {registry}`"
            )),
            Problem::Unauthorized {
                credential_origin: Some(origin),
                ..
            } => Some(format!(
                "the token from {} was rejected: run `rtok login --registry {registry}` or fix that token",
                origin
            )),
            Problem::Unauthorized { .. } => Some(format!("run `rtok login --registry {registry}`")),
            Problem::OtpRequired { otp_sent: true, .. } => Some(
                "the one-time password was rejected or has expired: pass a fresh one with `--otp <code>`".into(),
            ),
            Problem::OtpRequired { web: Some(web), .. } => Some(format!(
                "authenticate at {} and rerun, or pass `--otp <code>`",
                web.auth_url
            )),
            Problem::OtpRequired { .. } => {
                Some("pass the code from your authenticator app with `--otp <code>`".into())
            }
            Problem::IpNotAllowed => {
                Some("this account or token only allows logins from certain IP ranges".into())
            }
            Problem::Status { status, .. } => status_hint(*status, request.endpoint, registry),
            // `diagnostics.rs` explains it (what to run instead).
            Problem::StageRequired { .. } => None,
            Problem::Timeout { .. } => Some(
                "check the network, or raise `fetch-timeout` (milliseconds) in .npmrc".into(),
            ),
            Problem::Connect { .. } => Some(
                "check the registry URL (`--registry`) and the network and proxy settings".into(),
            ),
            Problem::TlsHandshake { .. } => Some(
                "a private CA goes in `cafile` (or `ca`); a client certificate in `//host/:certfile` and `//host/:keyfile`; `strict-ssl=false` skips the check (unsafe)"
                    .into(),
            ),
            Problem::InvalidResponse(_) => Some(format!(
                "is {registry} an npm registry? Check `--registry` and the proxy settings"
            )),
            Problem::RedirectRefused { .. } => Some(
                "if the registry has moved, pass its new address with `--registry` (or set `registry` in .npmrc)".into(),
            ),
            Problem::TooManyRedirects { .. } => Some(
                "check the registry URL (`--registry`) and the proxy settings".into(),
            ),
            Problem::TooLarge { .. } => Some(format!(
                "npm registries answer in pages far smaller than this: is {registry} an npm registry? Check `--registry` and the proxy settings"
            )),
            Problem::TooManyPages { .. } => None,
        }
    }
}

fn status_hint(status: StatusCode, endpoint: Endpoint, registry: &str) -> Option<String> {
    match (status.as_u16(), endpoint) {
        (403, Endpoint::Tokens) => Some(
            "the token in use may be read-only, limited to other IP ranges (CIDR), or not allowed to manage tokens; npmjs accepts only tokens from `npm login`/`rtok login` here"
                .into(),
        ),
        (403, _) => Some("the account or token lacks permission for this".into()),
        (404, Endpoint::Tokens) => Some(format!(
            "{registry} has no token API (`/-/npm/v1/tokens`), or the token is not there"
        )),
        (404, Endpoint::Whoami) => Some(format!("{registry} does not answer `/-/whoami`; is it an npm registry?")),
        (404, Endpoint::Trust) => Some(format!(
            "the package does not exist on {registry} (trusted publishing needs a package published once), or it has no configuration with that id"
        )),
        (404, Endpoint::Stage) => Some(format!(
            "no staged version with that id (`rtok stage list` shows them), or {registry} has no stage queue (`/-/stage`)"
        )),
        (404 | 405 | 501, Endpoint::Logout) => {
            Some(format!("{registry} cannot revoke session tokens (`/-/user/token`)"))
        }
        (429, _) => Some("the registry is rate-limiting requests; wait a moment and retry".into()),
        (500..=599, _) => Some("the registry failed; try again later".into()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> Request {
        Request {
            method: "GET".into(),
            url: "https://r.example/-/whoami".into(),
            endpoint: Endpoint::Whoami,
            registry: "https://r.example/".into(),
        }
    }

    #[test]
    fn messages_name_the_request_once_and_the_status() {
        let err = RegistryError::failed(
            request(),
            Problem::Status {
                status: StatusCode::NOT_FOUND,
                detail: ": no such thing".into(),
            },
        );
        assert_eq!(
            err.to_string(),
            "GET https://r.example/-/whoami: 404 Not Found: no such thing"
        );
        assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
        assert!(!err.needs_auth());
        assert!(
            err.hint()
                .expect("hint")
                .contains("does not answer `/-/whoami`")
        );
    }

    #[test]
    fn authentication_problems_need_auth() {
        let otp = RegistryError::failed(
            request(),
            Problem::OtpRequired {
                otp_sent: false,
                web: None,
            },
        );
        assert!(otp.needs_auth());
        assert_eq!(otp.status(), Some(StatusCode::UNAUTHORIZED));
        let timeout = RegistryError::failed(
            request(),
            Problem::Timeout {
                after: "5 min".into(),
            },
        );
        assert!(!timeout.needs_auth());
        assert_eq!(timeout.status(), None);
    }

    fn refused(status: StatusCode, detail: &str) -> RegistryError {
        RegistryError::failed(
            request(),
            Problem::Status {
                status,
                detail: detail.into(),
            },
        )
    }

    fn ip_restricted(err: &RegistryError, npmjs: bool) -> bool {
        err.refusal_speaking_npmjs(npmjs) == Some(Refusal::IpRestricted)
    }

    #[test]
    fn a_403_is_about_ip_ranges_only_where_it_says_so_or_on_npmjs() {
        let forbidden = StatusCode::FORBIDDEN;
        assert!(ip_restricted(&refused(forbidden, ""), true));
        assert!(!ip_restricted(
            &refused(forbidden, ": unauthorized access"),
            false
        ));
        assert!(ip_restricted(
            &refused(forbidden, ": IP address not allowed"),
            false
        ));
        assert!(ip_restricted(
            &refused(forbidden, ": not in CIDR whitelist"),
            false
        ));
        assert!(!ip_restricted(&refused(StatusCode::NOT_FOUND, ""), true));
    }

    #[test]
    fn a_bare_403_from_npmjs_whoami_is_an_ip_restriction_and_elsewhere_a_refusal() {
        let mut npmjs = request();
        npmjs.url = "https://registry.npmjs.org/-/whoami".into();
        let bare = RegistryError::failed(
            npmjs.clone(),
            Problem::Status {
                status: StatusCode::FORBIDDEN,
                detail: String::new(),
            },
        );
        assert_eq!(bare.refusal(), Some(Refusal::IpRestricted));
        npmjs.endpoint = Endpoint::Tokens;
        npmjs.url = "https://registry.npmjs.org/-/npm/v1/tokens".into();
        let list = RegistryError::failed(
            npmjs,
            Problem::Status {
                status: StatusCode::FORBIDDEN,
                detail: String::new(),
            },
        );
        assert_eq!(list.refusal(), Some(Refusal::Forbidden));
        assert_eq!(
            refused(StatusCode::FORBIDDEN, "").refusal(),
            Some(Refusal::Forbidden)
        );
    }

    #[test]
    fn refusals_are_named_by_condition() {
        let cases = [
            (400, Refusal::BadRequest),
            (404, Refusal::NotFound),
            (405, Refusal::NotSupported),
            (409, Refusal::Conflict),
            (410, Refusal::NotFound),
            (418, Refusal::OtherClientError),
            (429, Refusal::RateLimited),
            (500, Refusal::ServerFailed),
            (501, Refusal::NotSupported),
            (503, Refusal::ServerFailed),
        ];
        for (status, refusal) in cases {
            let status = StatusCode::from_u16(status).expect("status");
            assert_eq!(refused(status, "").refusal(), Some(refusal), "{status}");
        }
        let otp = RegistryError::failed(
            request(),
            Problem::OtpRequired {
                otp_sent: false,
                web: None,
            },
        );
        assert_eq!(otp.refusal(), Some(Refusal::NeedsOtp));
        let unauthorized = RegistryError::failed(
            request(),
            Problem::Unauthorized {
                status: StatusCode::OK,
                detail: String::new(),
                challenge: Challenge::Bearer,
                credential_origin: None,
            },
        );
        assert_eq!(unauthorized.refusal(), Some(Refusal::Rejected));
        assert_eq!(
            RegistryError::failed(request(), Problem::IpNotAllowed).refusal(),
            Some(Refusal::IpRestricted)
        );
        let timeout = RegistryError::failed(
            request(),
            Problem::Timeout {
                after: "5 min".into(),
            },
        );
        assert_eq!(timeout.refusal(), None);
    }

    #[test]
    fn a_too_large_response_has_a_hint() {
        let err = RegistryError::failed(request(), Problem::TooLarge { limit: 8 });
        assert!(
            err.hint()
                .expect("hint")
                .contains("is https://r.example/ an npm registry?")
        );
    }
}
