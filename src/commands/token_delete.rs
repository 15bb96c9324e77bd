//! `rtok token delete`: resolves every argument against the list first, then
//! revokes each token by its key.

use anyhow::Result;
use futures_util::StreamExt;
use serde_json::Value;

use super::{Session, otp};
use crate::cli::DeleteArgs;
use crate::failure::Failure;
use crate::ids::{self, Resolved};
use crate::output::Format;
use crate::registry::{Registry, RegistryError};
use crate::secret::Secret;

/// Revocations in flight at once.
pub const CONCURRENCY: usize = 8;

pub async fn run(session: &Session<'_>, args: &DeleteArgs) -> Result<()> {
    session.require_credential()?;
    let registry = session.client("token")?;
    let mut tokens = registry.list_tokens().await?;
    ids::assign(&mut tokens, ids::MIN_ID_LEN);

    // Resolve everything before revoking anything: one bad argument stops
    // the whole command with nothing changed.
    let mut keys: Vec<String> = Vec::new();
    for argument in &args.tokens {
        match ids::resolve(argument, &tokens) {
            Resolved::Key(key) => {
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
            Resolved::Ambiguous(matches) => {
                return Err(Failure::new(format!(
                    "token id `{}` is ambiguous: it matches {} tokens; nothing was revoked",
                    shown(argument),
                    matches.len()
                ))
                .hint("use more characters of the id (`rtok token list` shows ids that are unique)")
                .into());
            }
            Resolved::Unknown => {
                return Err(Failure::new(format!(
                    "unknown token id or value `{}`; nothing was revoked",
                    shown(argument)
                ))
                .hint("run `rtok token list` to see the ids")
                .into());
            }
        }
    }

    let outcome = revoke_all(session, &registry, &keys).await?;
    report(session, &outcome)
}

/// What happened to each key.
pub struct Outcome {
    pub revoked: Vec<String>,
    pub failed: Vec<(String, RegistryError)>,
}

/// Revokes `keys`: the first alone (so a two-factor challenge is answered
/// once), then the rest with bounded concurrency and the same code.
pub async fn revoke_all(
    session: &Session<'_>,
    registry: &Registry,
    keys: &[String],
) -> Result<Outcome> {
    let mut outcome = Outcome {
        revoked: Vec::new(),
        failed: Vec::new(),
    };
    let Some((first, rest)) = keys.split_first() else {
        return Ok(outcome);
    };
    let (_, code) = otp::with_otp(session, registry, |code| async move {
        registry.delete_token(first, code.as_ref()).await
    })
    .await?;
    outcome.revoked.push(first.clone());

    let code: Option<Secret> = code;
    let code = code.as_ref();
    let mut results = futures_util::stream::iter(rest.iter())
        .map(|key| async move { (key, registry.delete_token(key, code).await) })
        .buffer_unordered(CONCURRENCY);
    while let Some((key, result)) = results.next().await {
        match result {
            Ok(()) => outcome.revoked.push(key.clone()),
            Err(err) => outcome.failed.push((key.clone(), err)),
        }
    }
    // Report in the order the user gave.
    outcome
        .revoked
        .sort_by_key(|key| keys.iter().position(|k| k == key));
    outcome
        .failed
        .sort_by_key(|(key, _)| keys.iter().position(|k| k == key));
    Ok(outcome)
}

fn report(session: &Session<'_>, outcome: &Outcome) -> Result<()> {
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
        return Err(Failure::new(format!(
            "revoked {} of {} tokens; {} failed",
            outcome.revoked.len(),
            outcome.revoked.len() + outcome.failed.len(),
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

/// An argument as an error message may show it: it may be a full token, so
/// only its start is shown.
fn shown(argument: &str) -> String {
    if argument.chars().count() > 16 {
        let start: String = argument.chars().take(8).collect();
        format!("{start}...")
    } else {
        argument.to_string()
    }
}
