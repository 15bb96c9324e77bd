//! `rtok token prune`: revokes the tokens that match every given filter,
//! never the one this machine uses unless asked, after a look or a yes.

use std::time::SystemTime;

use anyhow::Result;
use serde_json::Value;

use super::{Session, revoke, token_list};
use crate::cli::PruneArgs;
use crate::failure::Failure;
use crate::ids;
use crate::output::Format;
use crate::prompt;
use crate::registry::TokenRecord;
use crate::time;

pub async fn run(session: &Session<'_>, args: &PruneArgs) -> Result<()> {
    // Decide up front whether anyone can answer the question, so a script
    // learns it needs --yes before anything is fetched.
    if !args.dry_run && !args.yes && !prompt::interactive() {
        return Err(Failure::new(
            "`token prune` revokes tokens and there is no terminal to confirm it",
        )
        .hint("look first with `--dry-run`, then confirm with `--yes`")
        .into());
    }
    session.require_credential()?;
    let registry = session.client("token")?;
    let mut tokens = registry.list_tokens().await?;
    ids::assign(&mut tokens, ids::MIN_ID_LEN);

    let now = SystemTime::now();
    let current = session
        .current_token()
        .and_then(|secret| ids::by_value(secret.expose(), &tokens).map(|t| t.key().to_string()));
    if args.unused_for.is_some() && !tokens.iter().any(TokenRecord::reports_last_use) {
        session.printer.warn(
            "this registry does not report when tokens were last used, so `--unused-for` matches none",
        );
    }
    let (selected, kept_current): (Vec<TokenRecord>, Vec<TokenRecord>) = tokens
        .into_iter()
        .filter(|token| selects(args, token, now))
        .partition(|token| args.include_current || Some(token.key()) != current.as_deref());
    if !kept_current.is_empty() {
        session.printer.status(
            "Keeping the token this machine uses (`--include-current` would revoke it too).",
        );
    }

    let printer = session.printer;
    if selected.is_empty() {
        return match printer.format {
            Format::Json => Ok(printer.json(&Value::Array(Vec::new()))?),
            _ => {
                printer.status("No tokens match; nothing to revoke.");
                Ok(())
            }
        };
    }

    if args.dry_run {
        match printer.format {
            Format::Json => printer.json(&Value::Array(
                selected.iter().map(TokenRecord::to_value).collect(),
            ))?,
            Format::Parseable => {
                for token in &selected {
                    printer.data(&format!(
                        "{}\t{}",
                        token.key(),
                        token.id().unwrap_or_default()
                    ))?;
                }
            }
            Format::Human => printer
                .data(&token_list::table(printer, &selected, current.as_deref()).to_string())?,
        }
        printer.status(&format!(
            "Would revoke {} token{} (dry run: nothing was revoked).",
            selected.len(),
            if selected.len() == 1 { "" } else { "s" }
        ));
        return Ok(());
    }

    if !args.yes {
        printer.status(&token_list::table(printer, &selected, current.as_deref()).to_string());
        let answer = prompt::line(&format!(
            "Revoke these {} token{}? [y/N] ",
            selected.len(),
            if selected.len() == 1 { "" } else { "s" }
        ))?;
        if !matches!(answer.to_ascii_lowercase().as_str(), "y" | "yes") {
            return Err(Failure::new("cancelled; nothing was revoked").into());
        }
    }

    let keys: Vec<String> = selected.iter().map(|t| t.key().to_string()).collect();
    let outcome =
        revoke::revoke_all(session, &registry, &keys, usize::from(args.jobs.jobs)).await?;
    revoke::report(session, &outcome)
}

/// Whether `token` matches every filter given.
fn selects(args: &PruneArgs, token: &TokenRecord, now: SystemTime) -> bool {
    let created = token.created().and_then(time::parse);
    if args.expired && !token_list::is_expired(token, now) {
        return false;
    }
    if let Some(age) = args.older_than {
        match (created, now.checked_sub(age)) {
            (Some(created), Some(cutoff)) if created < cutoff => {}
            _ => return false,
        }
    }
    if let Some(idle) = args.unused_for {
        // `accessed: null` means never used: idle since it was created. No
        // field at all means the registry does not say: not selected.
        let last = if token.never_used() {
            created
        } else {
            token.last_used().and_then(time::parse)
        };
        match (last, now.checked_sub(idle)) {
            (Some(last), Some(cutoff)) if last < cutoff => {}
            _ => return false,
        }
    }
    if args.read_only && !token.readonly() {
        return false;
    }
    if args.publish && token.readonly() {
        return false;
    }
    if let Some(pattern) = &args.name
        && !token.name().is_some_and(|name| glob_matches(pattern, name))
    {
        return false;
    }
    true
}

/// `*` (any run of characters) and `?` (one character) glob matching.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_matches("ci-*", "ci-publish"));
        assert!(glob_matches("*", ""));
        assert!(glob_matches("c?-*h", "ci-publish"));
        assert!(!glob_matches("ci-*", "deploy-ci"));
        assert!(glob_matches("*ci*", "deploy-ci-2"));
        assert!(!glob_matches("a?c", "ac"));
    }
}
