//! The keyring through `keyring-core`'s entry API: the macOS Keychain
//! (`apple-native-keyring-store`) and the Windows Credential Manager
//! (`windows-native-keyring-store`). Built on every platform so the error
//! mapping is tested everywhere, with keyring-core's mock store.
#![cfg_attr(
    all(
        unix,
        not(any(target_os = "macos", target_os = "ios", target_os = "android"))
    ),
    allow(dead_code)
)]

use std::sync::Arc;

use keyring_core::api::CredentialStore;
use keyring_core::{Entry, Error as CoreError};

use super::{KeyringError, SERVICE};

pub(super) struct CoreStore {
    store: Arc<CredentialStore>,
}

impl CoreStore {
    /// The platform's native store.
    pub(super) fn open() -> Result<CoreStore, KeyringError> {
        Ok(CoreStore {
            store: native_store()?,
        })
    }

    pub(super) fn with_store(store: Arc<CredentialStore>) -> CoreStore {
        CoreStore { store }
    }

    /// keyring-core has no cheap probe; the first real call tells.
    pub(super) fn check(&self) -> Result<(), KeyringError> {
        Ok(())
    }

    fn entry(&self, user: &str) -> Result<Entry, KeyringError> {
        Entry::new_in_store(&self.store, SERVICE, user).map_err(classify)
    }

    pub(super) fn get(&self, user: &str) -> Result<Option<Vec<u8>>, KeyringError> {
        match self.entry(user)?.get_secret() {
            Ok(bytes) => Ok(Some(bytes)),
            Err(CoreError::NoEntry) => Ok(None),
            Err(err) => Err(classify(err)),
        }
    }

    pub(super) fn set(&self, user: &str, secret: &[u8]) -> Result<(), KeyringError> {
        self.entry(user)?.set_secret(secret).map_err(classify)
    }

    pub(super) fn delete(&self, user: &str) -> Result<bool, KeyringError> {
        match self.entry(user)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(CoreError::NoEntry) => Ok(false),
            Err(err) => Err(classify(err)),
        }
    }
}

#[cfg(target_os = "macos")]
fn native_store() -> Result<Arc<CredentialStore>, KeyringError> {
    let store: Arc<CredentialStore> =
        apple_native_keyring_store::keychain::Store::new().map_err(classify)?;
    Ok(store)
}

#[cfg(windows)]
fn native_store() -> Result<Arc<CredentialStore>, KeyringError> {
    let store: Arc<CredentialStore> =
        windows_native_keyring_store::Store::new().map_err(classify)?;
    Ok(store)
}

#[cfg(not(any(target_os = "macos", windows)))]
fn native_store() -> Result<Arc<CredentialStore>, KeyringError> {
    Err(KeyringError::Unsupported)
}

fn classify(err: CoreError) -> KeyringError {
    let one_line = |text: String| text.replace(['\n', '\r'], " ");
    match err {
        CoreError::NoStorageAccess(inner) => KeyringError::AccessDenied {
            detail: one_line(inner.to_string()),
        },
        CoreError::NoDefaultStore => KeyringError::Unsupported,
        CoreError::BadEncoding(_) | CoreError::BadDataFormat(..) => KeyringError::Failed {
            detail: "the item's data is not in the expected format".into(),
        },
        // Never show the error's Debug form: `Ambiguous` carries entries and
        // `BadEncoding` the secret's bytes.
        CoreError::Ambiguous(items) => KeyringError::Failed {
            detail: format!("{} items match; remove all but one", items.len()),
        },
        other => KeyringError::Failed {
            detail: one_line(other.to_string()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_items_are_none_and_false() {
        let store: Arc<CredentialStore> = keyring_core::mock::Store::new().expect("mock store");
        let store = CoreStore::with_store(store);
        let user = "//registry.example/";
        assert_eq!(store.get(user), Ok(None));
        assert_eq!(store.delete(user), Ok(false));
        assert_eq!(store.set(user, b"tok"), Ok(()));
    }

    #[test]
    fn errors_keep_secrets_out_of_messages() {
        let err = classify(CoreError::BadEncoding(b"npm_secret\xff".to_vec()));
        assert!(!err.to_string().contains("npm_secret"), "{err}");
        let err = classify(CoreError::NoStorageAccess("user canceled".into()));
        assert_eq!(
            err,
            KeyringError::AccessDenied {
                detail: "user canceled".into()
            }
        );
        assert_eq!(
            classify(CoreError::NoDefaultStore),
            KeyringError::Unsupported
        );
    }
}
