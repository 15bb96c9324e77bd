//! `rtok token prune`: revokes the tokens that match every given filter,
//! never the one this machine uses unless asked, after a look or a yes.

use std::io;
use std::time::SystemTime;

use anyhow::Result;
use serde::Serialize;

use super::{current_key, fetch_listed, list, revoke};
use crate::cli::PruneArgs;
use crate::failure::Failure;
use crate::output::{Printer, Report, Stream};
use crate::prompt;
use crate::registry::TokenRecord;
use crate::settings::Settings;
use crate::tokens::filter::Selection;

/// What a dry run would revoke: `--json` lists the token objects.
#[derive(Serialize)]
#[serde(transparent)]
struct WouldRevoke<'a> {
    tokens: &'a [TokenRecord],
    #[serde(skip)]
    current: Option<&'a str>,
}

impl Report for WouldRevoke<'_> {
    fn human(&self, printer: &Printer) -> io::Result<()> {
        if self.tokens.is_empty() {
            printer.status("No tokens match; nothing to revoke.");
            return Ok(());
        }
        let table = list::table(printer, Stream::Stdout, self.tokens, self.current);
        printer.data(&table.to_string())
    }

    fn parseable(&self, printer: &Printer) -> io::Result<()> {
        if self.tokens.is_empty() {
            return self.human(printer);
        }
        for token in self.tokens {
            printer.fields([token.key(), token.id().unwrap_or_default()])?;
        }
        Ok(())
    }
}

pub(super) async fn run(settings: &Settings, args: &PruneArgs, printer: &Printer) -> Result<()> {
    // Decide up front whether anyone can answer the question, so a script
    // learns it needs --yes before anything is fetched.
    if !args.dry_run && !args.yes && !prompt::interactive() {
        return Err(Failure::new(
            "`token prune` revokes tokens and there is no terminal to confirm it",
        )
        .hint("look first with `--dry-run`, then confirm with `--yes`")
        .into());
    }
    let (registry, tokens) = fetch_listed(settings, printer).await?;
    let now = SystemTime::now();
    let current = current_key(settings, &tokens);
    if args.unused_for.is_some() && !tokens.iter().any(TokenRecord::reports_last_use) {
        printer.warn(
            "this registry does not report when tokens were last used, so `--unused-for` matches none",
        );
    }
    let selection = selection(args);
    let (selected, kept_current): (Vec<TokenRecord>, Vec<TokenRecord>) = tokens
        .into_iter()
        .filter(|token| selection.selects(token, now))
        .partition(|token| args.include_current || Some(token.key()) != current.as_deref());
    if !kept_current.is_empty() {
        printer.status(
            "Keeping the token this machine uses (`--include-current` would revoke it too).",
        );
    }

    if selected.is_empty() {
        printer.emit(&WouldRevoke {
            tokens: &[],
            current: None,
        })?;
        return Ok(());
    }
    let plural = if selected.len() == 1 { "" } else { "s" };

    if args.dry_run {
        printer.emit(&WouldRevoke {
            tokens: &selected,
            current: current.as_deref(),
        })?;
        printer.status(&format!(
            "Would revoke {} token{plural} (dry run: nothing was revoked).",
            selected.len()
        ));
        return Ok(());
    }

    if !args.yes {
        // The question shows what it is about, even with `--quiet`.
        let preview = list::table(printer, Stream::Stderr, &selected, current.as_deref());
        printer.notice_table(&preview);
        let answer = prompt::line(&format!(
            "Revoke these {} token{plural}? [y/N] ",
            selected.len()
        ))?;
        if !matches!(answer.to_ascii_lowercase().as_str(), "y" | "yes") {
            return Err(Failure::new("cancelled; nothing was revoked").into());
        }
    }

    let keys: Vec<String> = selected.iter().map(|t| t.key().to_string()).collect();
    let jobs = usize::from(args.jobs.jobs);
    let outcome =
        revoke::revoke_all(settings.otp.as_ref(), printer, &registry, &keys, jobs).await?;
    revoke::report(printer, &outcome)
}

fn selection(args: &PruneArgs) -> Selection {
    Selection {
        expired: args.expired,
        older_than: args.older_than,
        unused_for: args.unused_for,
        read_only: args.read_only,
        publish: args.publish,
        name: args.name.clone(),
    }
}
