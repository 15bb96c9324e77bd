//! What a credential is: the settings that make one up under a nerf dart,
//! its kinds, what goes into the `Authorization` header, where it was found,
//! and why it could not be had. Types only; `credentials.rs` decides which
//! credential a request carries.

use std::path::PathBuf;

use base64::Engine;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};

use super::origin::Origin;
use crate::credential_command::CommandError;
use crate::keyring::KeyringError;
use crate::npmrc::NerfDart;
use crate::secret::Secret;

/// The fields that make up a credential under a nerf dart.
pub(crate) const CREDENTIAL_FIELDS: [&str; 6] = [
    "_authToken",
    "_auth",
    "username",
    "_password",
    "certfile",
    "keyfile",
];

/// Whether `key` is a credential setting (`//host/:_authToken` and friends,
/// or an un-nerfed legacy `_authToken`).
pub(crate) fn is_credential_key(key: &str) -> bool {
    match key.rsplit_once(':') {
        Some((prefix, field)) => prefix.starts_with("//") && CREDENTIAL_FIELDS.contains(&field),
        None => is_legacy_credential_key(key),
    }
}

/// Which keys hold a secret is `.npmrc` format knowledge (the writer needs
/// it too): it lives in `npmrc::keys`.
pub(crate) use crate::npmrc::keys::{is_legacy_credential_key, is_secret_key};

/// Which kind of setting supplied the credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthKind {
    Token,
    /// `_auth`: base64 of `user:password`.
    Auth,
    UsernamePassword,
    ClientCertificate,
}

/// What goes into the `Authorization` header.
#[derive(Debug, Clone)]
pub(crate) enum Credential {
    Bearer(Secret),
    /// `Basic <encoded>`; the user name when it could be read.
    Basic {
        username: Option<String>,
        encoded: Secret,
    },
}

/// A client certificate and key for mutual TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClientCert {
    pub certfile: PathBuf,
    pub keyfile: PathBuf,
}

/// The credential found for a URL and where it came from.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    /// The nerf-dart prefix the credential is keyed by (`//host/path/`).
    pub nerf: NerfDart,
    pub kind: AuthKind,
    pub credential: Option<Credential>,
    pub client_cert: Option<ClientCert>,
    /// Where the deciding setting (`<nerf>:<field>`) was written.
    pub origin: Origin,
}

impl Found {
    pub(crate) fn token(&self) -> Option<&Secret> {
        match &self.credential {
            Some(Credential::Bearer(token)) => Some(token),
            _ => None,
        }
    }
}

impl Credential {
    /// A basic credential's user name and password (`_auth` decoded once,
    /// here), for a request that sets them itself; `None` for a token or
    /// an `_auth` that does not decode to `user:password`.
    pub(crate) fn basic_pair(&self) -> Option<(String, Secret)> {
        let Credential::Basic { encoded, .. } = self else {
            return None;
        };
        let pair = String::from_utf8(decode_lenient(encoded.expose())?).ok()?;
        let (username, password) = pair.split_once(':')?;
        Some((username.to_string(), Secret::new(password)))
    }
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub(crate) enum CredentialError {
    #[error("`{key}` ({}) refers to `${{{var}}}`, which is not set", origin.place())]
    UnsetVariable {
        key: String,
        var: String,
        origin: Origin,
    },
    /// `${NPM_TOKEN` and the like: neither a secret nor a reference.
    #[error("`{key}` ({}) has a malformed `${{...}}` reference (a `${{` that no `}}` closes), so rtok does not send it", origin.place())]
    MalformedReference { key: String, origin: Origin },
    #[error("`{key}` ({}) is not valid base64", origin.place())]
    BadBase64 { key: String, origin: Origin },
    #[error("the credential from {origin} holds characters an HTTP header cannot carry")]
    NotHeaderSafe { origin: String },
    /// The system keyring could not give the token.
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    /// The credential command failed.
    #[error(transparent)]
    Command(#[from] CommandError),
    /// An earlier lookup of a stored credential panicked midway.
    #[error("an earlier credential lookup failed midway")]
    Poisoned,
    /// rtok's settings record a keyring token that the keyring does not
    /// have: not logged in (exit code 4).
    #[error("{message}")]
    NotInKeyring { message: String, hint: String },
}

impl CredentialError {
    /// Where the setting that cannot be used was written, when the error
    /// is about one.
    pub(crate) fn origin(&self) -> Option<&Origin> {
        match self {
            CredentialError::UnsetVariable { origin, .. }
            | CredentialError::MalformedReference { origin, .. }
            | CredentialError::BadBase64 { origin, .. } => Some(origin),
            _ => None,
        }
    }

    /// Whether it means "log in first" (exit code 4).
    pub(crate) fn needs_auth(&self) -> bool {
        matches!(self, CredentialError::NotInKeyring { .. })
    }

    pub(crate) fn hint(&self) -> String {
        match self {
            CredentialError::UnsetVariable { var, .. } => {
                format!("set `{var}` in the environment, or remove or fix that line")
            }
            CredentialError::MalformedReference { origin, .. } => format!(
                "write the reference as `${{NAME}}` at {}, or put the token itself there",
                origin.place()
            ),
            CredentialError::BadBase64 { .. } => {
                "`_password` is stored base64-encoded; run `rtok login` to store it again".into()
            }
            CredentialError::NotHeaderSafe { .. } => {
                "look for a line break or a stray character pasted with the token".into()
            }
            CredentialError::Keyring(err) => err.hint(),
            CredentialError::Command(err) => err.hint(),
            CredentialError::Poisoned => "run the command again".into(),
            CredentialError::NotInKeyring { hint, .. } => hint.clone(),
        }
    }
}

/// Base64 as Node's `Buffer.from(s, 'base64')` reads it: padding optional.
pub(crate) fn decode_lenient(text: &str) -> Option<Vec<u8>> {
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    LENIENT.decode(text.trim()).ok()
}

/// Base64 of `text`, as `_password` is stored.
pub(crate) fn encode_base64(bytes: impl AsRef<[u8]>) -> String {
    STANDARD.encode(bytes)
}
