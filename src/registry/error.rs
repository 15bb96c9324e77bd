//! `RegistryError`: every way a registry call can fail, each with a one-line
//! message, a hint, and whether it means "authentication needed".

use reqwest::StatusCode;

use crate::config::credentials::CredentialError;

/// What a request was for; it decides the hint a failure gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
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
pub enum Challenge {
    Bearer,
    Basic,
    Other,
}

/// The `authUrl`/`doneUrl` pair of a web one-time-password challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebAuth {
    pub auth_url: String,
    pub done_url: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error(transparent)]
    Credential(#[from] CredentialError),

    #[error("{method} {url}: {status}{detail}")]
    Unauthorized {
        method: String,
        url: String,
        status: StatusCode,
        detail: String,
        challenge: Challenge,
        endpoint: Endpoint,
        /// Where the rejected credential was configured, if one was sent.
        credential_origin: Option<String>,
        registry: String,
    },

    #[error("{method} {url}: a one-time password is required")]
    OtpRequired {
        method: String,
        url: String,
        /// The code sent with the request, if any (then it was rejected).
        otp_sent: bool,
        web: Option<WebAuth>,
    },

    #[error("{method} {url}: 401 Unauthorized: login is not allowed from your IP address")]
    IpNotAllowed { method: String, url: String },

    #[error("{method} {url}: {status}{detail}")]
    Status {
        method: String,
        url: String,
        status: StatusCode,
        detail: String,
        endpoint: Endpoint,
        registry: String,
    },

    #[error("{method} {url}: no complete answer within {after} (`fetch-timeout`)")]
    Timeout {
        method: String,
        url: String,
        after: String,
    },

    #[error("{method} {url}: {reason}")]
    Connect {
        method: String,
        url: String,
        reason: String,
    },

    #[error("{method} {url}: TLS failed: {reason}")]
    TlsHandshake {
        method: String,
        url: String,
        reason: String,
    },

    #[error("{method} {url}: {problem}")]
    InvalidResponse {
        method: String,
        url: String,
        problem: String,
        registry: String,
    },

    #[error("{method} {url}: the response is larger than {limit} bytes")]
    TooLarge {
        method: String,
        url: String,
        limit: usize,
    },

    #[error("GET {url}: more than {limit} pages of tokens")]
    TooManyPages { url: String, limit: usize },

    #[error("could not set up HTTPS: {0}")]
    Tls(String),
}

impl RegistryError {
    /// Whether the failure means the user must authenticate (exit code 4):
    /// credentials rejected, or a one-time password needed.
    pub fn needs_auth(&self) -> bool {
        matches!(
            self,
            RegistryError::Unauthorized { .. }
                | RegistryError::OtpRequired { .. }
                | RegistryError::IpNotAllowed { .. }
        )
    }

    /// The HTTP status, when the registry answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            RegistryError::Unauthorized { status, .. } | RegistryError::Status { status, .. } => {
                Some(*status)
            }
            RegistryError::OtpRequired { .. } | RegistryError::IpNotAllowed { .. } => {
                Some(StatusCode::UNAUTHORIZED)
            }
            _ => None,
        }
    }

    /// A line naming the command or setting that fixes it, where one exists.
    pub fn hint(&self) -> Option<String> {
        match self {
            RegistryError::Credential(err) => Some(err.hint()),
            RegistryError::Unauthorized {
                challenge: Challenge::Basic,
                registry,
                ..
            } => Some(format!(
                "check the user name and password, or run `rtok login --registry {registry}`"
            )),
            RegistryError::Unauthorized {
                credential_origin: Some(origin),
                registry,
                ..
            } => Some(format!(
                "the token from {origin} was rejected: run `rtok login --registry {registry}` or fix that token"
            )),
            RegistryError::Unauthorized { registry, .. } => {
                Some(format!("run `rtok login --registry {registry}`"))
            }
            RegistryError::OtpRequired { otp_sent: true, .. } => Some(
                "the one-time password was rejected or has expired: pass a fresh one with `--otp <code>`".into(),
            ),
            RegistryError::OtpRequired { web: Some(web), .. } => Some(format!(
                "authenticate at {} and rerun, or pass `--otp <code>`",
                web.auth_url
            )),
            RegistryError::OtpRequired { .. } => {
                Some("pass the code from your authenticator app with `--otp <code>`".into())
            }
            RegistryError::IpNotAllowed { .. } => {
                Some("this account or token only allows logins from certain IP ranges".into())
            }
            RegistryError::Status { status, endpoint, registry, .. } => {
                status_hint(*status, *endpoint, registry)
            }
            RegistryError::Timeout { .. } => Some(
                "check the network, or raise `fetch-timeout` (milliseconds) in .npmrc".into(),
            ),
            RegistryError::Connect { .. } => Some(
                "check the registry URL (`--registry`) and the network and proxy settings".into(),
            ),
            RegistryError::TlsHandshake { .. } => Some(
                "a private CA goes in `cafile` (or `ca`); a client certificate in `//host/:certfile` and `//host/:keyfile`; `strict-ssl=false` skips the check (unsafe)"
                    .into(),
            ),
            RegistryError::InvalidResponse { registry, .. } => Some(format!(
                "is {registry} an npm registry? Check `--registry` and the proxy settings"
            )),
            RegistryError::TooLarge { .. } | RegistryError::TooManyPages { .. } => None,
            RegistryError::Tls(_) => Some("check `cafile`, `ca`, `certfile` and `keyfile` in .npmrc".into()),
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
