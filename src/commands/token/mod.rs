//! `rtok token ...`: list, create, delete (one or many, or picked from the
//! list on a terminal), rotate, prune and audit the account's tokens.

mod audit;
mod create;
mod delete;
mod list;
mod prune;
mod revoke;
mod rotate;

use anyhow::Result;

use super::connect;
use crate::cli::{ListArgs, TokenCommand};
use crate::output::Printer;
use crate::registry::{Registry, TokenRecord};
use crate::settings::Settings;
use crate::tokens::ids;

pub(super) async fn run(
    settings: &Settings,
    command: Option<TokenCommand>,
    printer: &Printer,
) -> Result<()> {
    match command.unwrap_or(TokenCommand::List(ListArgs::default())) {
        TokenCommand::List(args) => list::run(settings, &args, printer).await,
        TokenCommand::Create(args) => create::run(settings, &args, printer).await,
        TokenCommand::Delete(args) => delete::run(settings, &args, printer).await,
        TokenCommand::Rotate(args) => rotate::run(settings, &args, printer).await,
        TokenCommand::Prune(args) => prune::run(settings, &args, printer).await,
        TokenCommand::Audit(args) => audit::run(settings, &args, printer).await,
    }
}

/// The account's tokens, for a command that lists and then acts: the
/// credential checked first (exit 4 without one), a client for the
/// registry, and every listed token with its short id (ids come from the
/// whole list, so they stay the same whatever is shown).
async fn fetch_listed(
    settings: &Settings,
    printer: &Printer,
) -> Result<(Registry, Vec<TokenRecord>)> {
    settings.require_credential()?;
    let registry = connect::client(settings, printer, "token")?;
    let mut tokens = registry.list_tokens().await?;
    ids::assign(&mut tokens, ids::MIN_ID_LEN);
    Ok((registry, tokens))
}

/// The key of the listed token this machine uses for the registry, if one
/// of them is.
fn current_key(settings: &Settings, tokens: &[TokenRecord]) -> Option<String> {
    let secret = settings.current_token()?;
    ids::by_value(&secret, tokens).map(|t| t.key().to_string())
}
