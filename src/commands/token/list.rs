//! `rtok token list`: the account's tokens as a table, JSON or tab-separated
//! lines, with the token this machine uses marked and near expiries flagged.

use std::io;
use std::time::{Duration, SystemTime};

use anyhow::Result;
use serde::Serialize;

use super::{current_key, fetch_listed};
use crate::cli::{ListArgs, ListFilter, SortField};
use crate::output::{Format, Printer, Report, Stream, Table, visible};
use crate::registry::TokenRecord;
use crate::settings::Settings;
use crate::time;
use crate::tokens::filter::{self, SortKey};
use crate::tokens::judge;

/// Tokens expiring sooner than this get a warning.
const EXPIRY_WARNING: Duration = Duration::from_secs(7 * 24 * 3600);

/// The listed tokens: `--json` is npm's array (every field the registry
/// sent, plus `id`); the table marks the token in use.
#[derive(Serialize)]
#[serde(transparent)]
pub(super) struct Listing {
    pub(super) tokens: Vec<TokenRecord>,
    #[serde(skip)]
    pub(super) current: Option<String>,
    #[serde(skip)]
    pub(super) registry: String,
}

impl Report for Listing {
    fn human(&self, printer: &Printer) -> io::Result<()> {
        if self.tokens.is_empty() {
            printer.status(&format!("No tokens on {}.", self.registry));
            return Ok(());
        }
        let table = table(
            printer,
            Stream::Stdout,
            &self.tokens,
            self.current.as_deref(),
        );
        printer.data(&table.to_string())
    }

    /// npm's `--parseable` layout, with the `cidr` field read as well.
    fn parseable(&self, printer: &Printer) -> io::Result<()> {
        printer.data("key\ttoken\tid\tname\tcreated\treadonly\tCIDR whitelist")?;
        for token in &self.tokens {
            printer.fields([
                token.key(),
                token.mask(),
                token.id().unwrap_or_default(),
                token.name().unwrap_or_default(),
                token.created().unwrap_or_default(),
                if token.readonly() { "true" } else { "false" },
                &token.cidr().join(","),
            ])?;
        }
        Ok(())
    }
}

pub(super) async fn run(settings: &Settings, args: &ListArgs, printer: &Printer) -> Result<()> {
    let (_, mut tokens) = fetch_listed(settings, printer).await?;
    let now = SystemTime::now();
    if let Some(wanted) = args.filter {
        tokens.retain(|token| match wanted {
            ListFilter::Expired => filter::is_expired(token, now),
            ListFilter::ReadOnly => token.readonly(),
            ListFilter::Publish => !token.readonly(),
        });
    }
    if let Some(field) = args.sort {
        filter::sort(
            &mut tokens,
            match field {
                SortField::Created => SortKey::Created,
                SortField::Expiry => SortKey::Expiry,
                SortField::Name => SortKey::Name,
            },
        );
    }
    warn_about_expiry(printer, &tokens, now);
    // Only the table marks the token in use: matching it against every
    // listed mask is 8% of a 10,000-token `--json` run for nothing.
    let current = match printer.format {
        Format::Human => current_key(settings, &tokens),
        Format::Json | Format::Parseable => None,
    };
    let listing = Listing {
        tokens,
        current,
        registry: settings.registry_display(),
    };
    printer.emit(&listing)?;
    // The process ends right after this: freeing 10,000 token maps one by
    // one was 9% of a 10,000-token run, and the operating system takes the
    // memory back at once.
    std::mem::forget(listing);
    Ok(())
}

fn warn_about_expiry(printer: &Printer, tokens: &[TokenRecord], now: SystemTime) {
    for token in tokens {
        let Some(left) = filter::time_left(token, now) else {
            continue;
        };
        if left <= EXPIRY_WARNING {
            let id = token.id().unwrap_or(token.key());
            let name = token
                .name()
                .map(|n| format!(" ({})", visible(n)))
                .unwrap_or_default();
            let days = left.as_secs().div_ceil(24 * 3600);
            printer.warn(&format!(
                "token {id}{name} expires on {}, in {days} day{}; `rtok token rotate {id}` replaces it",
                time::date(token.expiry().unwrap_or_default()),
                if days == 1 { "" } else { "s" }
            ));
        }
    }
}

/// The human table: the classic columns always; expiry and last use when
/// the registry reports them for any token; "in use" when one of them is
/// the token this machine uses.
pub(super) fn table(
    printer: &Printer,
    stream: Stream,
    tokens: &[TokenRecord],
    current: Option<&str>,
) -> Table {
    let with_expiry = tokens.iter().any(|t| t.expiry().is_some());
    let with_last_used = tokens.iter().any(|t| t.last_used().is_some());
    let with_current = current.is_some_and(|key| tokens.iter().any(|t| t.key() == key));
    // Only where the registry lists a publish policy (npmjs since 2026-09).
    let with_policy = tokens.iter().any(|t| t.publish_policy().is_some());
    let mut header = vec![
        "id",
        "token",
        "name",
        "created",
        "read-only",
        "CIDR whitelist",
    ];
    if with_expiry {
        header.push("expires");
    }
    if with_last_used {
        header.push("last used");
    }
    if with_policy {
        header.push("publish");
    }
    if with_current {
        header.push("in use");
    }
    let mut table = printer.table(stream, &header);
    for token in tokens {
        let mut row = vec![
            token.id().unwrap_or(token.key()).to_string(),
            token.mask().to_string(),
            token.name().unwrap_or_default().to_string(),
            token.created().map(time::date).unwrap_or_default(),
            if token.readonly() { "yes" } else { "no" }.to_string(),
            token.cidr().join(", "),
        ];
        if with_expiry {
            row.push(token.expiry().map(time::date).unwrap_or_default());
        }
        if with_last_used {
            row.push(token.last_used().map(time::date).unwrap_or_default());
        }
        if with_policy {
            row.push(judge::publish_policy_label(token).unwrap_or("").to_string());
        }
        if with_current {
            let here = Some(token.key()) == current;
            row.push(if here { "this machine" } else { "" }.to_string());
        }
        table.add_row(row);
    }
    table
}
