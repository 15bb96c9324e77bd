//! The system keyring: one item per registry (service `rtok`, user name the
//! registry's nerf dart, the token as the secret) in the Secret Service on
//! Linux and the BSDs, the Keychain on macOS, the Credential Manager on
//! Windows. Never the Linux kernel keyutils store, which forgets on reboot.
//!
//! ```text
//! let keyring = Keyring::open()?;            // fails early, saying why, when there is none
//! keyring.set("//registry.npmjs.org/", &token)?;
//! let token: Option<Secret> = keyring.get("//registry.npmjs.org/")?;
//! keyring.delete("//registry.npmjs.org/")?;
//! ```

pub(crate) mod cache;
mod core_store;
#[cfg(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
))]
mod secret_service;

use crate::secret::Secret;

/// The `service` attribute of every item rtok keeps.
pub(crate) const SERVICE: &str = "rtok";

/// Why the keyring cannot do what was asked, in words a user understands.
/// Every variant's [`KeyringError::hint`] names `--storage file`, the way
/// around a keyring that is not there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum KeyringError {
    /// No D-Bus session bus to reach the Secret Service through.
    #[error("the system keyring is not usable: {}", no_bus(.address.as_deref(), .reason))]
    NoSessionBus {
        /// `DBUS_SESSION_BUS_ADDRESS`, when it is set.
        address: Option<String>,
        reason: String,
    },
    /// A session bus, but nothing on it owns `org.freedesktop.secrets`.
    #[error(
        "the system keyring is not usable: the D-Bus session bus has no Secret Service (nothing provides `org.freedesktop.secrets`: no keyring daemon such as gnome-keyring or KeePassXC is running)"
    )]
    NoSecretService,
    /// The collection (or item) is locked, and rtok does not pop up an
    /// unlock prompt that may never be answered.
    #[error("the system keyring is not usable: it is locked")]
    Locked,
    /// The Secret Service has no default collection to store items in.
    #[error(
        "the system keyring is not usable: the Secret Service has no default collection to keep the token in"
    )]
    NoDefaultCollection,
    /// The keyring did not answer in time.
    #[error("the system keyring is not usable: it did not answer within {seconds} s")]
    NotAnswering { seconds: u64 },
    /// The platform refused access (macOS/Windows access rules).
    #[error("the system keyring is not usable: access was refused ({detail})")]
    AccessDenied { detail: String },
    /// This build has no keyring for the platform.
    #[error("the system keyring is not usable: rtok has no keyring support on this platform")]
    Unsupported,
    /// The item exists but holds nothing.
    #[error("the keyring item for `{user}` (service `rtok`) is empty")]
    EmptyItem { user: String },
    /// The item holds bytes that are not text, so not a token.
    #[error("the keyring item for `{user}` (service `rtok`) does not hold text")]
    NotText { user: String },
    /// Anything else the platform reported.
    #[error("the system keyring failed: {detail}")]
    Failed { detail: String },
}

fn no_bus(address: Option<&str>, reason: &str) -> String {
    match address {
        None => format!("no D-Bus session bus: `DBUS_SESSION_BUS_ADDRESS` is not set ({reason})"),
        Some(address) => format!(
            "no D-Bus session bus: `DBUS_SESSION_BUS_ADDRESS` ({address}) cannot be reached ({reason})"
        ),
    }
}

impl KeyringError {
    /// What the user can do about it; always names `--storage file`.
    pub(crate) fn hint(&self) -> String {
        match self {
            KeyringError::NoSessionBus { .. } | KeyringError::NoSecretService => {
                "run rtok inside a desktop session with a keyring daemon (or start one, e.g. `gnome-keyring-daemon --unlock`), or keep the token in `~/.npmrc` with `--storage file`".into()
            }
            KeyringError::Locked => {
                "unlock the keyring (log in to the desktop, or `gnome-keyring-daemon --unlock`), or keep the token in `~/.npmrc` with `--storage file`".into()
            }
            KeyringError::EmptyItem { .. } | KeyringError::NotText { .. } => {
                "store the token again with `rtok login --storage keyring`, or keep it in `~/.npmrc` with `--storage file`".into()
            }
            _ => "keep the token in `~/.npmrc` with `--storage file`".into(),
        }
    }
}

/// An open connection to the system keyring, checked to be usable.
pub(crate) struct Keyring {
    backend: Backend,
}

#[cfg(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
))]
type Backend = secret_service::SecretServiceStore;

#[cfg(not(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
)))]
type Backend = core_store::CoreStore;

impl Keyring {
    /// Connects to the platform's keyring (on Linux: the session bus and a
    /// Secret Service on it, or an error saying which is missing). Enough
    /// for lookups; [`Keyring::check`] also proves it can store.
    pub(crate) fn open() -> Result<Keyring, KeyringError> {
        Ok(Keyring {
            backend: Backend::open()?,
        })
    }

    /// Whether items can be stored now (on Linux: a default collection that
    /// is unlocked). No item is touched.
    pub(crate) fn check(&self) -> Result<(), KeyringError> {
        self.backend.check()
    }

    /// The token kept for `user` (a nerf dart such as `//registry.npmjs.org/`),
    /// or `None` when there is no such item.
    pub(crate) fn get(&self, user: &str) -> Result<Option<Secret>, KeyringError> {
        decode(user, self.backend.get(user)?)
    }

    /// Stores `token` for `user`, replacing what was there.
    pub(crate) fn set(&self, user: &str, token: &Secret) -> Result<(), KeyringError> {
        if token.expose().trim().is_empty() {
            return Err(KeyringError::EmptyItem { user: user.into() });
        }
        self.backend.set(user, token.expose().as_bytes())
    }

    /// Deletes the item for `user`; `false` when there was none.
    pub(crate) fn delete(&self, user: &str) -> Result<bool, KeyringError> {
        self.backend.delete(user)
    }
}

/// Whether a keyring is usable now, for storing and reading, and if not,
/// why; touches no item ([`Keyring::open`] then [`Keyring::check`]). For
/// `login --storage keyring` before anything is asked of the registry.
pub(crate) fn check_usable() -> Result<(), KeyringError> {
    Keyring::open()?.check()
}

/// An item's bytes as a token: text, trimmed, not empty.
fn decode(user: &str, bytes: Option<Vec<u8>>) -> Result<Option<Secret>, KeyringError> {
    let Some(bytes) = bytes else {
        return Ok(None);
    };
    match String::from_utf8(bytes) {
        // `echo TOKEN | secret-tool store ...` keeps the newline; no token
        // has white space at either end.
        Ok(text) if text.trim().is_empty() => Err(KeyringError::EmptyItem { user: user.into() }),
        Ok(text) => Ok(Some(Secret::new(text.trim()))),
        Err(_) => Err(KeyringError::NotText { user: user.into() }),
    }
}

/// The label an item shows in keyring managers (Seahorse, Keychain Access).
fn label(user: &str) -> String {
    format!("npm registry token for {user} (rtok)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_hint_names_storage_file() {
        let errors = [
            KeyringError::NoSessionBus {
                address: None,
                reason: "x".into(),
            },
            KeyringError::NoSecretService,
            KeyringError::Locked,
            KeyringError::NoDefaultCollection,
            KeyringError::NotAnswering { seconds: 5 },
            KeyringError::AccessDenied { detail: "x".into() },
            KeyringError::Unsupported,
            KeyringError::EmptyItem {
                user: "//r/".into(),
            },
            KeyringError::NotText {
                user: "//r/".into(),
            },
            KeyringError::Failed { detail: "x".into() },
        ];
        for error in errors {
            assert!(error.hint().contains("`--storage file`"), "{error:?}");
            assert!(!error.to_string().contains('\n'), "{error}");
        }
    }

    #[test]
    fn items_decode_to_trimmed_text() {
        let user = "//r/";
        assert_eq!(decode(user, None), Ok(None));
        assert_eq!(
            decode(user, Some(b"tok\n".to_vec())).map(|t| t.map(|t| t.expose().to_string())),
            Ok(Some("tok".to_string()))
        );
        assert_eq!(
            decode(user, Some(Vec::new())),
            Err(KeyringError::EmptyItem { user: user.into() })
        );
        assert_eq!(
            decode(user, Some(b" \n".to_vec())),
            Err(KeyringError::EmptyItem { user: user.into() })
        );
        assert_eq!(
            decode(user, Some(vec![0xff])),
            Err(KeyringError::NotText { user: user.into() })
        );
    }

    #[test]
    fn the_missing_bus_message_names_the_variable() {
        let unset = KeyringError::NoSessionBus {
            address: None,
            reason: "no socket at /run/user/1000/bus".into(),
        };
        assert!(
            unset
                .to_string()
                .contains("`DBUS_SESSION_BUS_ADDRESS` is not set"),
            "{unset}"
        );
        let unreachable = KeyringError::NoSessionBus {
            address: Some("unix:path=/tmp/none".into()),
            reason: "connection refused".into(),
        };
        assert!(
            unreachable
                .to_string()
                .contains("(unix:path=/tmp/none) cannot be reached"),
            "{unreachable}"
        );
    }
}
