//! `rtok token delete`: resolves every argument against the list first, then
//! revokes each token by its key. With no arguments on a terminal, the user
//! picks the tokens from the list instead.

use anyhow::Result;

use super::{current_key, fetch_listed, revoke};
use crate::cli::DeleteArgs;
use crate::failure::Failure;
use crate::output::{Printer, visible};
use crate::prompt;
use crate::registry::TokenRecord;
use crate::settings::Settings;
use crate::time;
use crate::tokens::ids::{self, Resolved};

pub(super) async fn run(settings: &Settings, args: &DeleteArgs, printer: &Printer) -> Result<()> {
    let pick = args.tokens.is_empty();
    if pick && !prompt::interactive() {
        return Err(Failure::usage(
            "`rtok token delete` needs the ids of the tokens to revoke (there is no terminal to pick them on)",
        )
        .hint("`rtok token list` shows the ids; then `rtok token delete <ID>...`")
        .into());
    }
    let (registry, tokens) = fetch_listed(settings, printer).await?;
    let keys = if pick {
        let current = current_key(settings, &tokens);
        let keys = pick_tokens(&tokens, current.as_deref())?;
        if keys.is_empty() {
            printer.status("Nothing picked; nothing was revoked.");
            return Ok(());
        }
        confirm(keys.len())?;
        keys
    } else {
        // Resolve everything before revoking anything: one bad argument
        // stops the whole command with nothing changed.
        let mut keys: Vec<String> = Vec::new();
        for argument in &args.tokens {
            let key = resolve_argument(argument, &tokens)?;
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        keys
    };
    let jobs = usize::from(args.jobs.jobs);
    let outcome =
        revoke::revoke_all(settings.otp.as_ref(), printer, &registry, &keys, jobs).await?;
    revoke::report(printer, &outcome)
}

/// The key of the one listed token `argument` names (short id, key prefix
/// or token value), or the error that stops the command.
pub(super) fn resolve_argument(argument: &str, tokens: &[TokenRecord]) -> Result<String> {
    match ids::resolve(argument, tokens) {
        Resolved::Key(key) => Ok(key),
        Resolved::Ambiguous(matches) => Err(Failure::new(format!(
            "token id `{}` is ambiguous: it matches {} tokens; nothing was changed",
            shown(argument),
            matches.len()
        ))
        .hint("use more characters of the id (`rtok token list` shows ids that are unique)")
        .into()),
        Resolved::Unknown => Err(Failure::new(format!(
            "unknown token id or value `{}`; nothing was changed",
            shown(argument)
        ))
        .hint("run `rtok token list` to see the ids")
        .into()),
    }
}

/// An argument as an error message may show it: it may be a full token, so
/// only its start is shown.
fn shown(argument: &str) -> String {
    let start: String = argument.chars().take(8).collect();
    let shown = if argument.chars().count() > 16 {
        format!("{start}...")
    } else {
        argument.to_string()
    };
    visible(&shown).into_owned()
}

/// A multi-select list of the tokens on the terminal (stderr); the keys of
/// the ones picked.
fn pick_tokens(tokens: &[TokenRecord], current: Option<&str>) -> Result<Vec<String>> {
    if tokens.is_empty() {
        return Err(Failure::new("there are no tokens to revoke").into());
    }
    let labels: Vec<String> = tokens.iter().map(|t| label(t, current)).collect();
    let theme = dialoguer::theme::SimpleTheme;
    let picked = dialoguer::MultiSelect::with_theme(&theme)
        .with_prompt("Pick the tokens to revoke (space picks, enter confirms, esc cancels)")
        .items(&labels)
        .report(false)
        .interact_on_opt(&dialoguer::console::Term::stderr())
        .map_err(|err| anyhow::anyhow!("could not read the choice from the terminal: {err}"))?;
    let Some(picked) = picked else {
        return Err(Failure::new("cancelled; nothing was revoked").into());
    };
    Ok(picked
        .into_iter()
        .filter_map(|i| tokens.get(i))
        .map(|t| t.key().to_string())
        .collect())
}

/// One line of the list: id, name, created, last used, read-only.
fn label(token: &TokenRecord, current: Option<&str>) -> String {
    let date = |d: Option<&str>| d.map(time::date).unwrap_or_else(|| "-".into());
    let mut label = format!(
        "{:<8} {:<20} created {}  last used {}  {}",
        token.id().unwrap_or(token.key()),
        visible(token.name().unwrap_or("-")),
        date(token.created()),
        date(token.last_used()),
        if token.readonly() {
            "read-only"
        } else {
            "publish"
        },
    );
    if Some(token.key()) == current {
        label.push_str("  (this machine)");
    }
    label
}

fn confirm(count: usize) -> Result<()> {
    let answer = prompt::line(&format!(
        "Revoke {count} token{}? [y/N] ",
        if count == 1 { "" } else { "s" }
    ))?;
    if matches!(answer.to_ascii_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        Err(Failure::new("cancelled; nothing was revoked").into())
    }
}
