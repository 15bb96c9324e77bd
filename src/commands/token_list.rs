//! `rtok token list`: the account's tokens as a table, JSON or tab-separated
//! lines, with the token this machine uses marked and near expiries flagged.

use std::cmp::Ordering;
use std::time::{Duration, SystemTime};

use anyhow::Result;

use super::Session;
use crate::cli::{ListArgs, ListFilter, SortField};
use crate::ids;
use crate::output::{Format, Printer};
use crate::registry::TokenRecord;
use crate::registry::types::write_pretty_list;
use crate::time;

/// Tokens expiring sooner than this get a warning.
const EXPIRY_WARNING: Duration = Duration::from_secs(7 * 24 * 3600);

pub async fn run(session: &Session<'_>, args: &ListArgs) -> Result<()> {
    session.require_credential()?;
    let registry = session.client("token")?;
    let mut tokens = registry.list_tokens().await?;
    // Ids come from the whole list, so they stay the same whatever is shown.
    ids::assign(&mut tokens, ids::MIN_ID_LEN);
    let now = SystemTime::now();
    if let Some(filter) = args.filter {
        tokens.retain(|token| matches_filter(token, filter, now));
    }
    if let Some(field) = args.sort {
        sort(&mut tokens, field);
    }
    let printer = session.printer;
    warn_about_expiry(printer, &tokens, now);
    match printer.format {
        Format::Json => printer.data(&write_pretty_list(&tokens))?,
        Format::Parseable => print_parseable(printer, &tokens)?,
        Format::Human if tokens.is_empty() => {
            printer.status(&format!("No tokens on {}.", session.registry_display()));
        }
        Format::Human => {
            // Only the table marks the token in use (JSON stays npm's shape).
            let current = session.current_token().and_then(|secret| {
                ids::by_value(secret.expose(), &tokens).map(|t| t.key().to_string())
            });
            printer.data(&table(printer, &tokens, current.as_deref()).to_string())?;
        }
    }
    Ok(())
}

/// Whether the token has expired by `now`.
pub fn is_expired(token: &TokenRecord, now: SystemTime) -> bool {
    token
        .expiry()
        .and_then(time::parse)
        .is_some_and(|expiry| expiry <= now)
}

fn matches_filter(token: &TokenRecord, filter: ListFilter, now: SystemTime) -> bool {
    match filter {
        ListFilter::Expired => is_expired(token, now),
        ListFilter::ReadOnly => token.readonly(),
        ListFilter::Publish => !token.readonly(),
    }
}

/// Sorts by the field, tokens without it last; stable, so the registry's
/// order breaks ties.
fn sort(tokens: &mut [TokenRecord], field: SortField) {
    fn missing_last<T: Ord>(a: Option<T>, b: Option<T>) -> Ordering {
        match (a, b) {
            (Some(a), Some(b)) => a.cmp(&b),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        }
    }
    tokens.sort_by(|a, b| match field {
        SortField::Created => missing_last(
            a.created().and_then(time::parse),
            b.created().and_then(time::parse),
        ),
        SortField::Expiry => missing_last(
            a.expiry().and_then(time::parse),
            b.expiry().and_then(time::parse),
        ),
        SortField::Name => missing_last(a.name(), b.name()),
    });
}

fn warn_about_expiry(printer: &Printer, tokens: &[TokenRecord], now: SystemTime) {
    for token in tokens {
        let Some(expiry) = token.expiry().and_then(time::parse) else {
            continue;
        };
        let Ok(left) = expiry.duration_since(now) else {
            continue;
        };
        if left <= EXPIRY_WARNING {
            let id = token.id().unwrap_or(token.key());
            let name = token.name().map(|n| format!(" ({n})")).unwrap_or_default();
            let days = left.as_secs().div_ceil(24 * 3600);
            printer.warn(&format!(
                "token {id}{name} expires on {}, in {days} day{}; `rtok token rotate {id}` replaces it",
                time::date(token.expiry().unwrap_or_default()),
                if days == 1 { "" } else { "s" }
            ));
        }
    }
}

/// npm's `--parseable` layout, with the `cidr` field read as well.
fn print_parseable(printer: &Printer, tokens: &[TokenRecord]) -> Result<()> {
    printer.data("key\ttoken\tid\tname\tcreated\treadonly\tCIDR whitelist")?;
    for token in tokens {
        let created = token.created().unwrap_or_default();
        printer.data(
            &[
                token.key(),
                token.mask(),
                token.id().unwrap_or_default(),
                token.name().unwrap_or_default(),
                created,
                if token.readonly() { "true" } else { "false" },
                &token.cidr().join(","),
            ]
            .join("\t"),
        )?;
    }
    Ok(())
}

/// The human table: the classic columns always; expiry and last use when
/// the registry reports them for any token; "in use" when one of them is
/// the token this machine uses.
pub fn table(
    printer: &Printer,
    tokens: &[TokenRecord],
    current: Option<&str>,
) -> comfy_table::Table {
    let with_expiry = tokens.iter().any(|t| t.expiry().is_some());
    let with_last_used = tokens.iter().any(|t| t.last_used().is_some());
    let with_current = current.is_some_and(|key| tokens.iter().any(|t| t.key() == key));
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
    if with_current {
        header.push("in use");
    }
    let mut table = printer.table(&header);
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
        if with_current {
            row.push(
                if Some(token.key()) == current {
                    "this machine"
                } else {
                    ""
                }
                .to_string(),
            );
        }
        table.add_row(row);
    }
    table
}
