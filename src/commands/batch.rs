//! What a batch of registry writes shares (`stage approve`, `trust sync`):
//! one two-factor step reused for the whole batch where the registry
//! accepts it, and a progress line on a terminal.

use std::future::Future;
use std::io::{self, IsTerminal};

use anyhow::Result;

use super::web;
use crate::failure::Failure;
use crate::output::Printer;
use crate::prompt;
use crate::registry::{Problem, Registry, RegistryError, WebAuth};
use crate::secret::Secret;

/// How many times one call may meet a challenge before it is given up.
const TRIES: usize = 3;

/// A one-time password kept across the calls of a batch: the `--otp` code,
/// or the one typed at the prompt, sent with every call; asked again only
/// when the registry refuses it. A web challenge (`authUrl`/`doneUrl`) is
/// opened once per challenge, since each is the registry's own.
pub(super) struct OtpSession<'a> {
    printer: &'a Printer,
    registry: &'a Registry,
    code: Option<Secret>,
    /// Set once a challenge met no one to answer it: later calls fail at
    /// once instead of sending a code the registry refused (or none).
    stuck: Option<(String, String)>,
}

impl<'a> OtpSession<'a> {
    pub(super) fn new(
        given: Option<&Secret>,
        printer: &'a Printer,
        registry: &'a Registry,
    ) -> OtpSession<'a> {
        OtpSession {
            printer,
            registry,
            code: given.cloned(),
            stuck: None,
        }
    }

    /// Runs `call` with the session's code, answering challenges as
    /// described above.
    pub(super) async fn run<T, F, Fut>(&mut self, call: F) -> Result<T>
    where
        F: Fn(Option<Secret>) -> Fut,
        Fut: Future<Output = Result<T, RegistryError>>,
    {
        if let Some((message, hint)) = &self.stuck {
            return Err(Failure::auth(message.clone()).hint(hint.clone()).into());
        }
        for _ in 0..TRIES {
            let err = match call(self.code.clone()).await {
                Ok(value) => return Ok(value),
                Err(err) => err,
            };
            let Some((otp_sent, web)) = challenge(&err) else {
                return Err(err.into());
            };
            if !prompt::interactive() {
                let (message, hint) = match (&web, otp_sent) {
                    (_, true) => (
                        "the registry refused the one-time password, and there is no terminal to ask for another".to_string(),
                        "pass a fresh code with `--otp <code>` and rerun for what failed".to_string(),
                    ),
                    (Some(w), false) => (
                        "the registry requires a one-time password, and there is no terminal to ask for it".to_string(),
                        format!("pass `--otp <code>`, or authenticate at {} and rerun", w.auth_url),
                    ),
                    (None, false) => (
                        "the registry requires a one-time password, and there is no terminal to ask for it".to_string(),
                        "pass the code from your authenticator app with `--otp <code>`".to_string(),
                    ),
                };
                self.stuck = Some((message.clone(), hint.clone()));
                return Err(Failure::auth(message).hint(hint).into());
            }
            self.code = Some(match web {
                Some(challenge) => {
                    web::authenticate_otp(self.printer, self.registry, &challenge).await?
                }
                None => {
                    if otp_sent {
                        self.printer
                            .status("The registry refused the one-time password.");
                    }
                    prompt::otp()?
                }
            });
        }
        Err(
            Failure::auth("the registry kept asking for a one-time password")
                .hint("check the code from your authenticator app and rerun")
                .into(),
        )
    }
}

/// `(a code was sent, the web challenge)` when `err` asks for a one-time
/// password.
fn challenge(err: &RegistryError) -> Option<(bool, Option<WebAuth>)> {
    match err.problem()? {
        Problem::OtpRequired { otp_sent, web } => Some((*otp_sent, web.clone())),
        _ => None,
    }
}

/// The progress line of a batch: on stderr only when it is a terminal (and
/// not `--quiet`); the item at hand and done / total.
pub(super) struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    pub(super) fn new(printer: &Printer, what: &str, total: usize) -> Progress {
        if printer.quiet || total < 2 || !io::stderr().is_terminal() {
            return Progress { bar: None };
        }
        let bar = indicatif::ProgressBar::new(total as u64);
        let template = format!("{what} {{pos}}/{{len}} {{wide_msg}}");
        if let Ok(style) = indicatif::ProgressStyle::with_template(&template) {
            bar.set_style(style);
        }
        Progress { bar: Some(bar) }
    }

    /// Starts on `item`.
    pub(super) fn at(&self, item: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(crate::output::visible(item).into_owned());
        }
    }

    /// One more done.
    pub(super) fn done_one(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    pub(super) fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}
