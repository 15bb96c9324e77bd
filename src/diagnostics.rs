//! What an error means for the user: its exit code, its hint and its one-line
//! message, decided at the top (beside `main`, as uv's `diagnostics` and
//! cargo's `display_error`) for every error type in the crate, so that no
//! low module has to know the others' errors.

use crate::config::CredentialError;
use crate::credential_command::CommandError;
use crate::failure::{Exit, Failure};
use crate::keyring::KeyringError;
use crate::registry::{Refusal, RegistryError};

/// What `E_STAGE_REQUIRED` means and what to run instead.
pub(crate) const STAGE_REQUIRED_HINT: &str = "the token is stage-only (`read-write-stage-only`), or direct publishing with it is over (npmjs, January 2027): publish with `npm stage publish` (or `pnpm stage publish`), then approve with `rtok stage approve`";

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
        if let Some(credential) = cause.downcast_ref::<CredentialError>() {
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
            if registry.refusal() == Some(Refusal::StageRequired) {
                return Some(STAGE_REQUIRED_HINT.to_string());
            }
            return registry.hint();
        }
        if let Some(credential) = cause.downcast_ref::<CredentialError>() {
            return Some(credential.hint());
        }
        if let Some(keyring) = cause.downcast_ref::<KeyringError>() {
            return Some(keyring.hint());
        }
        if let Some(command) = cause.downcast_ref::<CommandError>() {
            return Some(command.hint());
        }
        None
    })
}

pub use crate::failure::{is_broken_pipe, message};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::failure::Failure;
    use anyhow::Context;

    #[test]
    fn exit_codes_and_hints_come_from_the_chain() {
        let err = anyhow::Error::new(Failure::auth("not logged in").hint("run `rtok login`"))
            .context("could not list tokens");
        assert_eq!(exit_code(&err), 4);
        assert_eq!(hint(&err).as_deref(), Some("run `rtok login`"));
        assert_eq!(message(&err), "could not list tokens: not logged in");
        let plain: anyhow::Result<()> = Err(anyhow::anyhow!("boom")).context("outer");
        let stage = crate::registry::RegistryError::failed(
            crate::registry::error::Request {
                method: "PUT".into(),
                url: "https://registry.npmjs.org/x".into(),
                endpoint: crate::registry::Endpoint::Tokens,
                registry: "https://registry.npmjs.org/".into(),
            },
            crate::registry::Problem::StageRequired {
                status: reqwest::StatusCode::FORBIDDEN,
                detail: String::new(),
            },
        );
        let stage = anyhow::Error::new(stage);
        assert_eq!(exit_code(&stage), 1);
        assert!(hint(&stage).is_some_and(|h| h.contains("rtok stage approve")));
        assert_eq!(exit_code(&plain.unwrap_err()), 1);
    }
}
