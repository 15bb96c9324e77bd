//! User-facing failures: one message, an optional hint, an exit code.

use crate::registry::RegistryError;

/// Exit codes: 0 success, 1 an operation failed, 2 bad usage (clap), 4
/// authentication needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Failed = 1,
    Usage = 2,
    NeedsAuth = 4,
}

/// A failure rtok itself detects (as opposed to one the registry reports).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    pub message: String,
    pub hint: Option<String>,
    pub exit: Exit,
}

impl Failure {
    pub fn new(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            hint: None,
            exit: Exit::Failed,
        }
    }

    /// Bad usage that clap cannot see, such as a path that does not exist
    /// (exit code 2).
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure {
            exit: Exit::Usage,
            ..Failure::new(message)
        }
    }

    /// A failure that means "authenticate first" (exit code 4).
    pub fn auth(message: impl Into<String>) -> Failure {
        Failure {
            exit: Exit::NeedsAuth,
            ..Failure::new(message)
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Failure {
        self.hint = Some(hint.into());
        self
    }
}

/// The exit code for an error: the first `Failure` or `RegistryError` in its
/// chain decides.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if let Some(failure) = cause.downcast_ref::<Failure>() {
            return failure.exit as u8;
        }
        if let Some(registry) = cause.downcast_ref::<RegistryError>() {
            return if registry.needs_auth() {
                Exit::NeedsAuth as u8
            } else {
                Exit::Failed as u8
            };
        }
        if let Some(credential) =
            cause.downcast_ref::<crate::config::credentials::CredentialError>()
        {
            return if credential.needs_auth() {
                Exit::NeedsAuth as u8
            } else {
                Exit::Failed as u8
            };
        }
    }
    Exit::Failed as u8
}

/// The hint for an error, from the first cause that has one.
pub fn hint(err: &anyhow::Error) -> Option<String> {
    err.chain().find_map(|cause| {
        if let Some(failure) = cause.downcast_ref::<Failure>() {
            return failure.hint.clone();
        }
        if let Some(registry) = cause.downcast_ref::<RegistryError>() {
            return registry.hint();
        }
        if let Some(credential) =
            cause.downcast_ref::<crate::config::credentials::CredentialError>()
        {
            return Some(credential.hint());
        }
        if let Some(keyring) = cause.downcast_ref::<crate::keyring::KeyringError>() {
            return Some(keyring.hint());
        }
        if let Some(command) = cause.downcast_ref::<crate::credential_command::CommandError>() {
            return Some(command.hint());
        }
        None
    })
}

/// The whole chain on one line: `outer: inner: root`.
pub fn message(err: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in err.chain() {
        let text = cause.to_string();
        // thiserror's `transparent` and `#[from]` can repeat a message.
        if parts.last().is_some_and(|last| last.ends_with(&text)) {
            continue;
        }
        parts.push(text);
    }
    parts.join(": ").replace(['\n', '\r'], " ")
}

/// Whether the error is stdout having been closed (`rtok token ls | head`):
/// not worth a message.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn exit_codes_and_hints_come_from_the_chain() {
        let err = anyhow::Error::new(Failure::auth("not logged in").hint("run `rtok login`"))
            .context("could not list tokens");
        assert_eq!(exit_code(&err), 4);
        assert_eq!(hint(&err).as_deref(), Some("run `rtok login`"));
        assert_eq!(message(&err), "could not list tokens: not logged in");
        let plain: anyhow::Result<()> = Err(anyhow::anyhow!("boom")).context("outer");
        assert_eq!(exit_code(&plain.unwrap_err()), 1);
    }
}
