//! Two-factor authentication around one registry call: send `--otp` if
//! given; on a challenge, ask (or open the web page) once and retry once.

use std::future::Future;

use anyhow::Result;

use super::{Session, web};
use crate::failure::Failure;
use crate::prompt;
use crate::registry::{Registry, RegistryError};
use crate::secret::Secret;

/// Runs `call` with the session's one-time password; when the registry asks
/// for one that was not given, gets it from the user (a no-echo prompt, or
/// the web flow when the registry offers it) and retries exactly once.
/// Returns the result and the code that worked, for further calls.
pub async fn with_otp<T, F, Fut>(
    session: &Session<'_>,
    registry: &Registry,
    call: F,
) -> Result<(T, Option<Secret>)>
where
    F: Fn(Option<Secret>) -> Fut,
    Fut: Future<Output = Result<T, RegistryError>>,
{
    let given = session.otp();
    match call(given.clone()).await {
        Ok(value) => Ok((value, given)),
        Err(RegistryError::OtpRequired {
            otp_sent: false,
            web: challenge,
            method,
            url,
        }) => {
            if !prompt::interactive() {
                let hint = match &challenge {
                    Some(w) => format!(
                        "pass `--otp <code>`, or authenticate at {} and rerun",
                        w.auth_url
                    ),
                    None => {
                        "pass the code from your authenticator app with `--otp <code>`".to_string()
                    }
                };
                return Err(Failure::auth(format!(
                    "{method} {url}: the registry requires a one-time password, and there is no terminal to ask for it"
                ))
                .hint(hint)
                .into());
            }
            let code = match challenge {
                Some(challenge) => web::authenticate_otp(session, registry, &challenge).await?,
                None => prompt::otp()?,
            };
            let value = call(Some(code.clone())).await?;
            Ok((value, Some(code)))
        }
        Err(err) => Err(err.into()),
    }
}
