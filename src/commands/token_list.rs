//! `rtok token list`: the account's tokens as a table, JSON or tab-separated lines.

use anyhow::Result;
use serde_json::Value;

use super::Session;
use crate::cli::ListArgs;
use crate::ids;
use crate::output::{Format, Printer};
use crate::registry::TokenRecord;
use crate::time;

pub async fn run(session: &Session<'_>, _args: &ListArgs) -> Result<()> {
    session.require_credential()?;
    let registry = session.client("token")?;
    let mut tokens = registry.list_tokens().await?;
    ids::assign(&mut tokens, ids::MIN_ID_LEN);
    let printer = session.printer;
    match printer.format {
        Format::Json => printer.json(&Value::Array(
            tokens.into_iter().map(TokenRecord::into_value).collect(),
        ))?,
        Format::Parseable => print_parseable(printer, &tokens)?,
        Format::Human if tokens.is_empty() => {
            printer.status(&format!("No tokens on {}.", session.registry_display()));
        }
        Format::Human => printer.data(&table(printer, &tokens).to_string())?,
    }
    Ok(())
}

/// npm's `--parseable` layout, with the `cidr` field read as well.
fn print_parseable(printer: &Printer, tokens: &[TokenRecord]) -> Result<()> {
    printer.data("key\ttoken\tid\tname\tcreated\treadonly\tCIDR whitelist")?;
    for token in tokens {
        let created = token
            .fields()
            .get("created")
            .and_then(Value::as_str)
            .unwrap_or_default();
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

/// The human table: the classic columns always, expiry and last use when
/// the registry reports them for any token.
pub fn table(printer: &Printer, tokens: &[TokenRecord]) -> comfy_table::Table {
    let with_expiry = tokens.iter().any(|t| t.expiry().is_some());
    let with_last_used = tokens.iter().any(|t| t.last_used().is_some());
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
        table.add_row(row);
    }
    table
}
