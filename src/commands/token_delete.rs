//! `rtok token delete`: resolves every argument against the list first, then
//! revokes each token by its key.

use anyhow::Result;

use super::{Session, revoke};
use crate::cli::DeleteArgs;
use crate::failure::Failure;
use crate::ids::{self, Resolved};
use crate::registry::TokenRecord;

pub async fn run(session: &Session<'_>, args: &DeleteArgs) -> Result<()> {
    session.require_credential()?;
    let registry = session.client("token")?;
    let mut tokens = registry.list_tokens().await?;
    ids::assign(&mut tokens, ids::MIN_ID_LEN);

    // Resolve everything before revoking anything: one bad argument stops
    // the whole command with nothing changed.
    let mut keys: Vec<String> = Vec::new();
    for argument in &args.tokens {
        let key = resolve_argument(argument, &tokens)?;
        if !keys.contains(&key) {
            keys.push(key);
        }
    }

    let outcome =
        revoke::revoke_all(session, &registry, &keys, usize::from(args.jobs.jobs)).await?;
    revoke::report(session, &outcome)
}

/// The key of the one listed token `argument` names (short id, key prefix
/// or token value), or the error that stops the command.
pub fn resolve_argument(argument: &str, tokens: &[TokenRecord]) -> Result<String> {
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
    if argument.chars().count() > 16 {
        let start: String = argument.chars().take(8).collect();
        format!("{start}...")
    } else {
        argument.to_string()
    }
}
