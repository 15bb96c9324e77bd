//! Provider tokens kept with their expiry: one item per registry, service
//! `rtok`, user name `provider-cache:<nerf dart>` (never a nerf dart, so it
//! never collides with a stored token), the secret
//! `rtok-cache-v1 <expiry, seconds since the epoch> <key>` and the token on
//! the next line. `key` names the provider's command line, so a changed
//! setting does not reuse another tool's token.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{Keyring, KeyringError};
use crate::secret::Secret;

const HEADER: &str = "rtok-cache-v1";

/// The item's user name for a registry's nerf dart.
pub(crate) fn user(nerf: &str) -> String {
    format!("provider-cache:{nerf}")
}

/// The cached token for `nerf` made under `key`, with its expiry; `None`
/// when there is none, it was made by another command line, or it does
/// not read as rtok's.
pub(crate) fn get(
    keyring: &Keyring,
    nerf: &str,
    key: &str,
) -> Result<Option<(Secret, SystemTime)>, KeyringError> {
    let Some(item) = keyring.get(&user(nerf))? else {
        return Ok(None);
    };
    Ok(decode(item.expose(), key))
}

/// Keeps `token` for `nerf` until `expires`.
pub(crate) fn set(
    keyring: &Keyring,
    nerf: &str,
    key: &str,
    token: &Secret,
    expires: SystemTime,
) -> Result<(), KeyringError> {
    keyring.set(&user(nerf), &encode(key, token, expires))
}

/// Drops the cached token for `nerf` (`false`: there was none).
pub(crate) fn forget(keyring: &Keyring, nerf: &str) -> Result<bool, KeyringError> {
    keyring.delete(&user(nerf))
}

fn encode(key: &str, token: &Secret, expires: SystemTime) -> Secret {
    let secs = expires
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Secret::new(format!("{HEADER} {secs} {key}\n{}", token.expose()))
}

fn decode(text: &str, key: &str) -> Option<(Secret, SystemTime)> {
    let (header, token) = text.split_once('\n')?;
    let mut words = header.split(' ');
    if words.next()? != HEADER {
        return None;
    }
    let secs: u64 = words.next()?.parse().ok()?;
    if words.next()? != key || token.trim().is_empty() {
        return None;
    }
    Some((
        Secret::new(token.trim()),
        UNIX_EPOCH + Duration::from_secs(secs),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_round_trip_under_their_key_only() {
        let at = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let item = encode("k1", &Secret::new("tok"), at);
        let (token, expires) = decode(item.expose(), "k1").expect("decode");
        assert_eq!((token.expose(), expires), ("tok", at));
        assert!(decode(item.expose(), "k2").is_none());
        assert!(decode("npm_plain_token", "k1").is_none());
        assert!(decode("rtok-cache-v1 x k1\ntok", "k1").is_none());
        assert_eq!(user("//r.example/"), "provider-cache://r.example/");
    }
}
