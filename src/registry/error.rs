//! `RegistryError`: every way a registry call can fail. A failed request
//! carries the request once (method, URL, what it was for) and the problem;
//! each error has a one-line message, a hint, and says whether it means
//! "authentication needed".

use std::fmt;

use reqwest::StatusCode;

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
}

/// How a 401 asked to authenticate (`www-authenticate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Challenge {
    Bearer,
    Basic,
    Other,
}

/// The `authUrl`/`doneUrl` pair of a web one-time-password challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WebAuth {
    pub auth_url: String,
    pub done_url: String,
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

    #[error("no complete answer within {after} (`fetch-timeout`)")]
    Timeout { after: String },

    #[error("{reason}")]
    Connect { reason: String },

    #[error("TLS failed: {reason}")]
    TlsHandshake { reason: String },

    #[error("{0}")]
    InvalidResponse(String),

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

    /// The HTTP status, when the registry answered.
    pub(crate) fn status(&self) -> Option<StatusCode> {
        match self.problem()? {
            Problem::Unauthorized { status, .. } | Problem::Status { status, .. } => Some(*status),
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
            Problem::TooLarge { .. } | Problem::TooManyPages { .. } => None,
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
}
