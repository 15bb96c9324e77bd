//! Two-factor authentication around one registry call: send `--otp` if
//! given; on a challenge, ask (or open the web page) once and retry once.

use std::future::Future;

use anyhow::Result;

use super::web;
use crate::failure::Failure;
use crate::output::Printer;
use crate::prompt;
use crate::registry::{Problem, Registry, RegistryError};
use crate::secret::Secret;

/// Runs `call` with the one-time password given (`--otp`, the `otp`
/// setting); when the registry asks for one that was not given, gets it from
/// the user (a no-echo prompt, or the web flow when the registry offers it)
/// and retries exactly once. Returns the result and the code that worked,
/// for further calls.
pub(super) async fn with_otp<T, F, Fut>(
    given: Option<&Secret>,
    printer: &Printer,
    registry: &Registry,
    call: F,
) -> Result<(T, Option<Secret>)>
where
    F: Fn(Option<Secret>) -> Fut,
    Fut: Future<Output = Result<T, RegistryError>>,
{
    let given = given.cloned();
    let err = match call(given.clone()).await {
        Ok(value) => return Ok((value, given)),
        Err(err) => err,
    };
    let (request, challenge) = match err {
        RegistryError::Failed(failed)
            if matches!(
                failed.problem,
                Problem::OtpRequired {
                    otp_sent: false,
                    ..
                }
            ) =>
        {
            let web = match failed.problem {
                Problem::OtpRequired { web, .. } => web,
                _ => None,
            };
            (failed.request, web)
        }
        other => return Err(other.into()),
    };
    if !prompt::interactive() {
        let hint = match &challenge {
            Some(w) => format!(
                "pass `--otp <code>`, or authenticate at {} and rerun",
                w.auth_url
            ),
            None => "pass the code from your authenticator app with `--otp <code>`".to_string(),
        };
        return Err(Failure::auth(format!(
            "{request}: the registry requires a one-time password, and there is no terminal to ask for it"
        ))
        .hint(hint)
        .into());
    }
    let code = match challenge {
        Some(challenge) => web::authenticate_otp(printer, registry, &challenge).await?,
        None => prompt::otp()?,
    };
    let value = call(Some(code.clone())).await?;
    Ok((value, Some(code)))
}
