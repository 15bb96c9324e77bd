//! `Secret`: a token, password or one-time password that must never be printed by accident.

use std::fmt;

/// A credential value. `Debug` prints `Secret(REDACTED)` and there is no
/// `Display` and no `Serialize`, so a secret cannot slip into a log line, an
/// error message, JSON or a panic through formatting. The value is read with
/// [`Secret::expose`], which is called only where the secret must go: an
/// HTTP header or body, a config file or keyring write, a child's
/// environment, and the one output of `token create`/`rotate`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The secret as a table may show it: its ends only (`npm_aBcD...7890`),
    /// or `***` when too short for that.
    pub fn masked(&self) -> String {
        crate::mask::mask(&self.0)
    }

    /// Whether this full token fits a mask a registry listed it under.
    pub fn fits_mask(&self, mask: &str) -> bool {
        crate::mask::mask_matches(mask, &self.0)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(REDACTED)")
    }
}

/// A secret read from JSON (the token in a registry's answer).
impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

/// A command-line value that is a secret (`--otp`, `--password`).
impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(Secret::new(text))
    }
}

/// For `#[serde(serialize_with)]` where a secret must be written out: the
/// body of a request, the created token rtok prints once.
pub fn serialize_exposed<S: serde::Serializer>(secret: &Secret, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(secret.expose())
}

pub fn serialize_exposed_option<S: serde::Serializer>(
    secret: &Option<Secret>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match secret {
        Some(secret) => s.serialize_str(secret.expose()),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let secret = Secret::new("npm_abcdefghijklmnop");
        assert_eq!(format!("{secret:?}"), "Secret(REDACTED)");
        assert_eq!(format!("{:?}", Some(&secret)), "Some(Secret(REDACTED))");
    }

    #[test]
    fn secrets_come_from_json_and_flags() {
        let secret: Secret = serde_json::from_str("\"npm_x\"").expect("json");
        assert_eq!(secret.expose(), "npm_x");
        let flag: Secret = "123456".parse().expect("flag");
        assert_eq!(flag.expose(), "123456");
    }
}
