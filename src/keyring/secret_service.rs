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
//!
//! Everything runs on the calling thread: rtok connects the socket itself
//! and drives zbus's executor while it waits (`internal_executor(false)`),
//! so a lookup starts no thread and needs no thread to wake another for
//! each reply. On a busy machine that halves what a lookup costs.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use futures_lite::future;
use secret_service::{EncryptionType, Error as SsError, SecretService};
use zbus::DBusError;

use super::{KeyringError, SERVICE, label};

/// How long one D-Bus exchange (and connecting) may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

pub(super) struct SecretServiceStore {
    connection: zbus::Connection,
    service: SecretService<'static>,
}

impl SecretServiceStore {
    /// Connects and opens a session: proves there is a bus and a Secret
    /// Service on it. Two round trips; a lookup needs no more.
    pub(super) fn open() -> Result<SecretServiceStore, KeyringError> {
        let connection = connect()?;
        let service = run(&connection, async {
            SecretService::connect_with_existing(EncryptionType::Plain, connection.clone()).await
        })?
        .map_err(classify)?;
        Ok(SecretServiceStore {
            connection,
            service,
        })
    }

    /// Usable for storing: there is a default collection and it is unlocked.
    pub(super) fn check(&self) -> Result<(), KeyringError> {
        run(&self.connection, async {
            let collection = self.default_collection().await?;
            if collection.is_locked().await.map_err(classify)? {
                return Err(KeyringError::Locked);
            }
            Ok(())
        })?
    }

    pub(super) fn get(&self, user: &str) -> Result<Option<Vec<u8>>, KeyringError> {
        run(&self.connection, async {
            let found = self
                .service
                .search_items(attributes(user))
                .await
                .map_err(classify)?;
            match found.unlocked.first() {
                Some(item) => item.get_secret().await.map(Some).map_err(classify),
                None if !found.locked.is_empty() => Err(KeyringError::Locked),
                None => Ok(None),
            }
        })?
    }

    pub(super) fn set(&self, user: &str, secret: &[u8]) -> Result<(), KeyringError> {
        run(&self.connection, async {
            let collection = self.default_collection().await?;
            // Creating an item in a locked collection would ask for a prompt.
            if collection.is_locked().await.map_err(classify)? {
                return Err(KeyringError::Locked);
            }
            collection
                .create_item(&label(user), attributes(user), secret, true, "text/plain")
                .await
                .map(drop)
                .map_err(classify)
        })?
    }

    pub(super) fn delete(&self, user: &str) -> Result<bool, KeyringError> {
        run(&self.connection, async {
            let found = self
                .service
                .search_items(attributes(user))
                .await
                .map_err(classify)?;
            if !found.locked.is_empty() {
                return Err(KeyringError::Locked);
            }
            for item in &found.unlocked {
                item.delete().await.map_err(classify)?;
            }
            Ok(!found.unlocked.is_empty())
        })?
    }

    async fn default_collection(&self) -> Result<secret_service::Collection<'_>, KeyringError> {
        self.service
            .get_default_collection()
            .await
            .map_err(|err| match err {
                SsError::NoResult => KeyringError::NoDefaultCollection,
                other => classify(other),
            })
    }
}

fn attributes(user: &str) -> HashMap<&str, &str> {
    HashMap::from([("service", SERVICE), ("username", user)])
}

/// Runs `work` on this thread, driving the connection's executor (which
/// reads the socket) meanwhile, for at most `CALL_TIMEOUT`.
fn run<T>(connection: &zbus::Connection, work: impl Future<Output = T>) -> Result<T, KeyringError> {
    let executor = connection.executor().clone();
    async_io::block_on(future::or(
        future::or(async { Ok(work.await) }, async {
            loop {
                executor.tick().await;
            }
        }),
        async {
            async_io::Timer::after(CALL_TIMEOUT).await;
            Err(KeyringError::NotAnswering {
                seconds: CALL_TIMEOUT.as_secs(),
            })
        },
    ))
}

/// Connects to the session bus. For a `unix:path=` or `unix:abstract=`
/// address rtok opens the socket itself, so zbus needs no helper thread;
/// other addresses go through zbus. Either way the handshake has a deadline.
fn connect() -> Result<zbus::Connection, KeyringError> {
    let address = std::env::var("DBUS_SESSION_BUS_ADDRESS")
        .ok()
        .filter(|a| !a.is_empty());
    let unset = address.is_none();
    let no_bus = |reason: String| KeyringError::NoSessionBus {
        address: address.clone(),
        reason,
    };
    let builder = match address.as_deref().map(unix_socket) {
        Some(Some(target)) => {
            let stream = target
                .connect()
                .map_err(|err| no_bus(socket_reason(&err, None)))?;
            zbus::connection::Builder::async_io_unix_stream(stream)
        }
        _ => zbus::connection::Builder::session().map_err(|err| no_bus(bus_reason(&err, unset)))?,
    };
    let builder = builder
        .internal_executor(false)
        .method_timeout(CALL_TIMEOUT);
    // The executor does not exist before the connection: the handshake is
    // driven by `build` itself.
    let built = async_io::block_on(future::or(async { Some(builder.build().await) }, async {
        async_io::Timer::after(CALL_TIMEOUT).await;
        None
    }));
    match built {
        Some(Ok(connection)) => Ok(connection),
        Some(Err(err)) => Err(no_bus(bus_reason(&err, unset))),
        None => Err(no_bus(format!(
            "it did not answer within {} s",
            CALL_TIMEOUT.as_secs()
        ))),
    }
}

/// The socket of a `unix:path=...` or `unix:abstract=...` bus address (the
/// first address of a `;`-separated list), when that is what it is.
enum UnixSocket {
    Path(String),
    #[cfg(any(target_os = "linux", target_os = "android"))]
    Abstract(Vec<u8>),
}

impl UnixSocket {
    fn connect(&self) -> std::io::Result<std::os::unix::net::UnixStream> {
        match self {
            UnixSocket::Path(path) => std::os::unix::net::UnixStream::connect(path),
            #[cfg(any(target_os = "linux", target_os = "android"))]
            UnixSocket::Abstract(name) => {
                use std::os::linux::net::SocketAddrExt;
                let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
                std::os::unix::net::UnixStream::connect_addr(&addr)
            }
        }
    }
}

fn unix_socket(address: &str) -> Option<UnixSocket> {
    let first = address.split(';').next()?;
    let params = first.strip_prefix("unix:")?;
    for pair in params.split(',') {
        let (key, value) = pair.split_once('=')?;
        let value = unescape(value)?;
        match key {
            "path" => return Some(UnixSocket::Path(String::from_utf8(value).ok()?)),
            #[cfg(any(target_os = "linux", target_os = "android"))]
            "abstract" => return Some(UnixSocket::Abstract(value)),
            _ => {}
        }
    }
    None
}

/// D-Bus address values escape bytes as `%XX`.
fn unescape(value: &str) -> Option<Vec<u8>> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

fn socket_reason(io: &std::io::Error, place: Option<&str>) -> String {
    let place = place.map(|p| format!(" at {p}")).unwrap_or_default();
    match io.kind() {
        std::io::ErrorKind::NotFound => format!("there is no bus socket{place}"),
        std::io::ErrorKind::ConnectionRefused => {
            format!("nothing listens on the bus socket{place}")
        }
        _ => format!("{io}{place}"),
    }
}

/// Why connecting to the bus failed, without zbus's jargon.
fn bus_reason(err: &zbus::Error, unset: bool) -> String {
    match err {
        zbus::Error::InputOutput(io) => socket_reason(io, None),
        zbus::Error::Connection(io, address) => {
            let place = address.to_string();
            socket_reason(io, unset.then_some(place.as_str()))
        }
        zbus::Error::Address(text) => format!("not a D-Bus address: {text}"),
        other => other.to_string(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bus_addresses_name_their_socket() {
        let Some(UnixSocket::Path(path)) = unix_socket("unix:path=/run/user/1000/bus") else {
            panic!("path")
        };
        assert_eq!(path, "/run/user/1000/bus");
        let Some(UnixSocket::Path(path)) =
            unix_socket("unix:guid=abc,path=/tmp/a%20b;unix:path=/other")
        else {
            panic!("path with guid")
        };
        assert_eq!(path, "/tmp/a b");
        #[cfg(target_os = "linux")]
        assert!(matches!(
            unix_socket("unix:abstract=/tmp/dbus-x,guid=1"),
            Some(UnixSocket::Abstract(name)) if name == b"/tmp/dbus-x"
        ));
        assert!(unix_socket("tcp:host=localhost,port=1").is_none());
        assert!(unix_socket("unix:tmpdir=/tmp").is_none());
    }
}
