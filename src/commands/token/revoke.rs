//! Revoking many tokens: bounded concurrency, one two-factor prompt, a
//! progress bar on a terminal, and a table of what failed.

use std::io::{self, IsTerminal};

use anyhow::Result;
use futures_util::StreamExt;
use serde::Serialize;

use super::super::otp;
use crate::failure::Failure;
use crate::output::{Printer, Report, Stream};
use crate::registry::{Registry, RegistryError};
use crate::secret::Secret;

/// What happened to each key.
pub(super) struct Outcome {
    pub(super) revoked: Vec<String>,
    pub(super) failed: Vec<(String, RegistryError)>,
}

/// The revoked keys: a JSON array, tab-separated for `--parseable`.
#[derive(Serialize)]
#[serde(transparent)]
struct Revoked<'a>(&'a [String]);

impl Report for Revoked<'_> {
    fn human(&self, printer: &Printer) -> io::Result<()> {
        let n = self.0.len();
        printer.status(&format!(
            "Revoked {n} token{}.",
            if n == 1 { "" } else { "s" }
        ));
        Ok(())
    }

    fn parseable(&self, printer: &Printer) -> io::Result<()> {
        printer.fields(self.0)
    }
}

/// Revokes `keys` by key: the first alone (so a two-factor challenge is
/// answered once, by prompt or `--otp`), then the rest with at most `jobs`
/// requests in flight, reusing that code. Nothing is retried beyond the
/// client's own safe retries; failures are collected, not fatal.
pub(super) async fn revoke_all(
    otp_given: Option<&Secret>,
    printer: &Printer,
    registry: &Registry,
    keys: &[String],
    jobs: usize,
) -> Result<Outcome> {
    let mut outcome = Outcome {
        revoked: Vec::new(),
        failed: Vec::new(),
    };
    let Some((first, rest)) = keys.split_first() else {
        return Ok(outcome);
    };
    let progress = progress_bar(printer, keys.len());
    let first_result = otp::with_otp(otp_given, printer, registry, |code| async move {
        registry.delete_token(first, code.as_ref()).await
    })
    .await;
    let code = match first_result {
        Ok(((), code)) => {
            outcome.revoked.push(first.clone());
            code
        }
        // Nothing revoked yet: the error (401, OTP, network) is the answer.
        Err(err) => {
            if let Some(bar) = &progress {
                bar.finish_and_clear();
            }
            return Err(err);
        }
    };
    if let Some(bar) = &progress {
        bar.inc(1);
    }

    let code = code.as_ref();
    let mut results = futures_util::stream::iter(rest.iter())
        .map(|key| async move { (key, registry.delete_token(key, code).await) })
        .buffer_unordered(jobs.max(1));
    while let Some((key, result)) = results.next().await {
        match result {
            Ok(()) => outcome.revoked.push(key.clone()),
            Err(err) => outcome.failed.push((key.clone(), err)),
        }
        if let Some(bar) = &progress {
            bar.inc(1);
        }
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    // Report in the order the tokens were given.
    outcome
        .revoked
        .sort_by_key(|key| keys.iter().position(|k| k == key));
    outcome
        .failed
        .sort_by_key(|(key, _)| keys.iter().position(|k| k == key));
    Ok(outcome)
}

/// Prints the result: the revoked keys as data, or on partial failure a
/// table of what was revoked and what failed (stderr) and an error.
pub(super) fn report(printer: &Printer, outcome: &Outcome) -> Result<()> {
    if outcome.failed.is_empty() {
        printer.emit(&Revoked(&outcome.revoked))?;
        return Ok(());
    }
    let mut table = printer.table(Stream::Stderr, &["key", "result"]);
    for key in &outcome.revoked {
        table.add_row([key.as_str(), "revoked"]);
    }
    for (key, err) in &outcome.failed {
        table.add_row([key.clone(), format!("failed: {err}")]);
    }
    printer.status_table(&table);
    let total = outcome.revoked.len() + outcome.failed.len();
    Err(Failure::new(format!(
        "revoked {} of {total} tokens; {} failed",
        outcome.revoked.len(),
        outcome.failed.len()
    ))
    .hint("rerun `rtok token delete` with the keys that failed")
    .into())
}

/// A progress bar on stderr when it is a terminal and there is more than a
/// handful to do.
fn progress_bar(printer: &Printer, total: usize) -> Option<indicatif::ProgressBar> {
    if printer.quiet || total < 4 || !io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(total as u64);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("revoking {bar:30} {pos}/{len} {per_sec}")
    {
        bar.set_style(style);
    }
    Some(bar)
}
