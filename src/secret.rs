//! `Secret`: a token, password or one-time password that must never be printed by accident.

use std::fmt;

/// A credential value. `Debug` prints `Secret(REDACTED)` and there is no
/// `Display`, so a secret cannot slip into a log line, an error message or a
/// panic through formatting. The value is read with [`Secret::expose`], which
/// is called only where the secret must go: an HTTP header or body, a config
/// file write, and the output of `token create`.
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
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(REDACTED)")
    }
}

/// Replaces every occurrence of any of `secrets` in `text` with `***`.
///
/// Used on text that came from elsewhere (a registry's error body, a URL)
/// before it is shown, in case the other side echoed a credential back.
pub fn redact(text: &str, secrets: &[&Secret]) -> String {
    let mut out = text.to_string();
    for secret in secrets {
        // Very short values (an empty password, a 1-char OTP) would turn
        // ordinary text into asterisks without protecting anything.
        if secret.expose().len() >= 4 {
            out = out.replace(secret.expose(), "***");
        }
    }
    out
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
    fn redact_replaces_every_occurrence() {
        let a = Secret::new("tok-123456");
        let b = Secret::new("pw");
        assert_eq!(
            redact("bad token tok-123456 (tok-123456) pw", &[&a, &b]),
            "bad token *** (***) pw"
        );
    }
}
