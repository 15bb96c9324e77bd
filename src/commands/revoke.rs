//! Revoking many tokens: bounded concurrency, one two-factor prompt, a
//! progress bar on a terminal, and a table of what failed.

use std::io::IsTerminal;

use anyhow::Result;
use futures_util::StreamExt;
use serde_json::Value;

use super::{Session, otp};
use crate::failure::Failure;
use crate::output::Format;
use crate::registry::{Registry, RegistryError};

/// What happened to each key.
pub struct Outcome {
    pub revoked: Vec<String>,
    pub failed: Vec<(String, RegistryError)>,
}

/// Revokes `keys` by key: the first alone (so a two-factor challenge is
/// answered once, by prompt or `--otp`), then the rest with at most `jobs`
/// requests in flight, reusing that code. Nothing is retried beyond the
/// client's own safe retries; failures are collected, not fatal.
pub async fn revoke_all(
    session: &Session<'_>,
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
    let progress = progress_bar(session, keys.len());
    let first_result = otp::with_otp(session, registry, |code| async move {
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
pub fn report(session: &Session<'_>, outcome: &Outcome) -> Result<()> {
    let printer = session.printer;
    if !outcome.failed.is_empty() {
        let mut table = printer.table(&["key", "result"]);
        for key in &outcome.revoked {
            table.add_row(vec![key.clone(), "revoked".to_string()]);
        }
        for (key, err) in &outcome.failed {
            table.add_row(vec![key.clone(), format!("failed: {err}")]);
        }
        printer.status(&table.to_string());
        let total = outcome.revoked.len() + outcome.failed.len();
        return Err(Failure::new(format!(
            "revoked {} of {total} tokens; {} failed",
            outcome.revoked.len(),
            outcome.failed.len()
        ))
        .hint("rerun `rtok token delete` with the keys that failed")
        .into());
    }
    match printer.format {
        Format::Json => printer.json(&Value::from(outcome.revoked.clone()))?,
        Format::Parseable => printer.data(&outcome.revoked.join("\t"))?,
        Format::Human => {
            let n = outcome.revoked.len();
            printer.status(&format!(
                "Revoked {n} token{}.",
                if n == 1 { "" } else { "s" }
            ));
        }
    }
    Ok(())
}

/// A progress bar on stderr when it is a terminal and there is more than a
/// handful to do.
fn progress_bar(session: &Session<'_>, total: usize) -> Option<indicatif::ProgressBar> {
    if session.printer.quiet || total < 4 || !std::io::stderr().is_terminal() {
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
