//! The Secret Service (GNOME Keyring, KWallet, KeePassXC) over the D-Bus
//! session bus, through the `secret-service` crate, the pure-Rust client
//! that the keyring family's zbus store is built on. Items look as that
//! store makes them (attributes `service` and `username`, in the default
//! collection), so other keyring-rs programs and `secret-tool` find them.
//!
//! Why not the store itself: it always opens an encrypted (Diffie-Hellman)
//! session, which costs about 6 ms of big-number arithmetic per process,
//! more than the rest of `rtok exec` together. The Secret Service spec says
//! that encryption only keeps secrets out of swap and D-Bus logs, not from
//! other processes of the user (who may ask the service for the secret
//! anyway), and that clients which cannot keep their own memory out of swap
//! gain little from it; rtok hands the token to a child process's
//! environment right after. So rtok opens a plain session.
//!
//! rtok never triggers an unlock prompt: on a machine without a display it
//! would never be answered. A locked keyring is an error that says so.

use std::collections::HashMap;
use std::sync::mpsc;
use std::time::Duration;

use secret_service::blocking::SecretService;
use secret_service::{EncryptionType, Error as SsError};
use zbus::DBusError;

use super::{KeyringError, SERVICE, label};

/// How long one D-Bus call (and connecting) may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

pub(super) struct SecretServiceStore {
    service: SecretService<'static>,
}

impl SecretServiceStore {
    /// Connects and opens a session: proves there is a bus and a Secret
    /// Service on it. Two round trips; a lookup needs no more.
    pub(super) fn open() -> Result<SecretServiceStore, KeyringError> {
        let connection = connect()?;
        let service = SecretService::connect_with_existing(EncryptionType::Plain, connection)
            .map_err(classify)?;
        Ok(SecretServiceStore { service })
    }

    /// Usable for storing: there is a default collection and it is unlocked.
    pub(super) fn check(&self) -> Result<(), KeyringError> {
        let locked = self
            .service
            .get_default_collection()
            .map_err(|err| match err {
                SsError::NoResult => KeyringError::NoDefaultCollection,
                other => classify(other),
            })?
            .is_locked()
            .map_err(classify)?;
        if locked {
            return Err(KeyringError::Locked);
        }
        Ok(())
    }

    pub(super) fn get(&self, user: &str) -> Result<Option<Vec<u8>>, KeyringError> {
        let found = self
            .service
            .search_items(attributes(user))
            .map_err(classify)?;
        match found.unlocked.first() {
            Some(item) => item.get_secret().map(Some).map_err(classify),
            None if !found.locked.is_empty() => Err(KeyringError::Locked),
            None => Ok(None),
        }
    }

    pub(super) fn set(&self, user: &str, secret: &[u8]) -> Result<(), KeyringError> {
        let collection = self
            .service
            .get_default_collection()
            .map_err(|err| match err {
                SsError::NoResult => KeyringError::NoDefaultCollection,
                other => classify(other),
            })?;
        // Checked again: creating an item in a locked collection would ask
        // for a prompt.
        if collection.is_locked().map_err(classify)? {
            return Err(KeyringError::Locked);
        }
        collection
            .create_item(&label(user), attributes(user), secret, true, "text/plain")
            .map(drop)
            .map_err(classify)
    }

    pub(super) fn delete(&self, user: &str) -> Result<bool, KeyringError> {
        let found = self
            .service
            .search_items(attributes(user))
            .map_err(classify)?;
        if !found.locked.is_empty() {
            return Err(KeyringError::Locked);
        }
        for item in &found.unlocked {
            item.delete().map_err(classify)?;
        }
        Ok(!found.unlocked.is_empty())
    }
}

fn attributes(user: &str) -> HashMap<&str, &str> {
    HashMap::from([("service", SERVICE), ("username", user)])
}

/// Connects to the session bus with a deadline on every call. Connecting
/// itself runs on a helper thread: a socket whose other end accepts but
/// never speaks would otherwise block the SASL handshake for ever.
fn connect() -> Result<zbus::blocking::Connection, KeyringError> {
    let address = std::env::var("DBUS_SESSION_BUS_ADDRESS")
        .ok()
        .filter(|a| !a.is_empty());
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let built = zbus::blocking::connection::Builder::session()
            .map(|builder| builder.method_timeout(CALL_TIMEOUT))
            .and_then(|builder| builder.build());
        let _ = sender.send(built);
    });
    let reason = match receiver.recv_timeout(CALL_TIMEOUT) {
        Ok(Ok(connection)) => return Ok(connection),
        Ok(Err(err)) => bus_reason(&err, address.is_none()),
        Err(_) => format!("it did not answer within {} s", CALL_TIMEOUT.as_secs()),
    };
    Err(KeyringError::NoSessionBus { address, reason })
}

/// Why connecting to the bus failed, without zbus's jargon.
fn bus_reason(err: &zbus::Error, unset: bool) -> String {
    let io = match err {
        zbus::Error::InputOutput(io) | zbus::Error::Connection(io, _) => io,
        zbus::Error::Address(text) => return format!("not a D-Bus address: {text}"),
        other => return other.to_string(),
    };
    let place = match err {
        zbus::Error::Connection(_, address) if unset => format!(" at {address}"),
        _ => String::new(),
    };
    match io.kind() {
        std::io::ErrorKind::NotFound => format!("there is no bus socket{place}"),
        std::io::ErrorKind::ConnectionRefused => {
            format!("nothing listens on the bus socket{place}")
        }
        _ => format!("{io}{place}"),
    }
}

/// Maps a Secret Service error to what it means for the user.
fn classify(err: SsError) -> KeyringError {
    match err {
        SsError::Locked | SsError::Prompt | SsError::PromptDisconnected => KeyringError::Locked,
        SsError::Unavailable => KeyringError::NoSecretService,
        SsError::Zbus(ref inner) => classify_zbus(inner).unwrap_or_else(|| failed(&err)),
        SsError::ZbusFdo(ref inner) => {
            classify_name(Some(inner.name().as_str())).unwrap_or_else(|| failed(&err))
        }
        other => failed(&other),
    }
}

fn classify_zbus(err: &zbus::Error) -> Option<KeyringError> {
    match err {
        zbus::Error::MethodError(name, _, _) => classify_name(Some(name.as_str())),
        zbus::Error::FDO(fdo) => classify_name(Some(fdo.name().as_str())),
        zbus::Error::InputOutput(io) if io.kind() == std::io::ErrorKind::TimedOut => {
            Some(KeyringError::NotAnswering {
                seconds: CALL_TIMEOUT.as_secs(),
            })
        }
        zbus::Error::InterfaceNotFound => Some(KeyringError::NoSecretService),
        _ => None,
    }
}

fn classify_name(name: Option<&str>) -> Option<KeyringError> {
    match name? {
        "org.freedesktop.DBus.Error.ServiceUnknown"
        | "org.freedesktop.DBus.Error.NameHasNoOwner"
        | "org.freedesktop.DBus.Error.UnknownObject"
        | "org.freedesktop.DBus.Error.UnknownMethod" => Some(KeyringError::NoSecretService),
        "org.freedesktop.Secret.Error.IsLocked" => Some(KeyringError::Locked),
        "org.freedesktop.DBus.Error.NoReply" | "org.freedesktop.DBus.Error.Timeout" => {
            Some(KeyringError::NotAnswering {
                seconds: CALL_TIMEOUT.as_secs(),
            })
        }
        _ => None,
    }
}

fn failed(err: &SsError) -> KeyringError {
    KeyringError::Failed {
        detail: err.to_string().replace(['\n', '\r'], " "),
    }
}
