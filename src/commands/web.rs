//! Web flows: open a URL for the user and poll the registry until they are
//! done (web one-time passwords now, web login later).

use std::time::{Duration, Instant};

use anyhow::Result;
use url::Url;

use crate::browser;
use crate::failure::Failure;
use crate::output::Printer;
use crate::registry::{Poll, Registry, WebAuth};
use crate::secret::Secret;

/// How long rtok waits for the user to finish in the browser.
pub(super) const WEB_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// Shows `auth_url`, opens it when possible, and polls `done_url` for the
/// one-time password the registry hands back.
pub(super) async fn authenticate_otp(
    printer: &Printer,
    registry: &Registry,
    challenge: &WebAuth,
) -> Result<Secret> {
    // Both are http(s) URLs (the registry client accepts nothing else), and
    // a URL's serialization percent-encodes control characters.
    printer.status(&format!(
        "Authenticate your account at:\n{}",
        challenge.auth_url
    ));
    browser::open(challenge.auth_url.as_str());
    poll(registry, &challenge.done_url, WEB_TIMEOUT).await
}

/// Polls `done_url` until it hands over a token, honouring `Retry-After`
/// (at least 1 s, at most 10 s between polls), for at most `limit`.
pub(super) async fn poll(registry: &Registry, done_url: &Url, limit: Duration) -> Result<Secret> {
    let deadline = Instant::now() + limit;
    loop {
        match registry.poll_web_login(done_url).await? {
            Poll::Done(token) => return Ok(token),
            Poll::Wait(wait) => {
                let wait = wait
                    .unwrap_or(Duration::from_secs(1))
                    .clamp(Duration::from_secs(1), Duration::from_secs(10));
                if Instant::now() + wait > deadline {
                    return Err(Failure::auth(format!(
                        "the web authentication was not completed within {} minutes",
                        limit.as_secs() / 60
                    ))
                    .hint("run the command again, or use `--auth-type legacy`")
                    .into());
                }
                tokio::time::sleep(wait).await;
            }
        }
    }
}
