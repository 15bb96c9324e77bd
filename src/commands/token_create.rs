//! `rtok token create`: creates a token and prints it, once, in full.

use anyhow::Result;
use serde_json::Value;

use super::{Session, otp};
use crate::cidr;
use crate::cli::CreateArgs;
use crate::failure::Failure;
use crate::output::Format;
use crate::registry::NewToken;

pub async fn run(session: &Session<'_>, args: &CreateArgs) -> Result<()> {
    // Everything that can be checked locally is checked before the password
    // is asked for and before any request.
    let cidr = cidr::parse_list(&args.cidr).map_err(|message| {
        Failure::new(message)
            .hint("give IPv4 ranges like `--cidr 10.0.0.0/8`, repeated or comma-separated")
    })?;
    session.require_credential()?;
    let password = session.password(&args.password, "create a token")?;
    let new = NewToken {
        password: Some(password),
        name: args.name.clone(),
        description: args.token_description.clone(),
        readonly: args.read_only,
        cidr,
        expires_days: args.expires,
        packages: args.packages.clone(),
        packages_all: args.packages_all,
        scopes: args.scopes.clone(),
        orgs: args.orgs.clone(),
        packages_and_scopes_permission: args
            .packages_and_scopes_permission
            .map(|p| p.as_str().to_string()),
        orgs_permission: args.orgs_permission.map(|p| p.as_str().to_string()),
        bypass_2fa: args.bypass_2fa,
    };

    let registry = session.client("token")?;
    let (created, _) = otp::with_otp(session, &registry, |code| {
        let registry = &registry;
        let new = &new;
        async move { registry.create_token(new, code.as_ref()).await }
    })
    .await?;
    print_created(session, &created)
}

/// The new token goes to stdout in every format (npm 11 masks it under
/// `--json`, which loses it in scripts); details go to stderr.
fn print_created(session: &Session<'_>, created: &Value) -> Result<()> {
    let printer = session.printer;
    let token = created
        .get("token")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match printer.format {
        Format::Json => printer.json(created)?,
        Format::Parseable => {
            if let Some(fields) = created.as_object() {
                for (name, value) in fields {
                    printer.data(&format!("{name}\t{}", parseable_value(value)))?;
                }
            }
        }
        Format::Human => {
            let readonly = created
                .get("readonly")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let mut details = vec![format!(
                "Created a {} token",
                if readonly { "read-only" } else { "publish" }
            )];
            if let Some(key) = created.get("key").and_then(Value::as_str) {
                details.push(format!("with key {key}"));
            }
            let cidr: Vec<&str> = ["cidr_whitelist", "cidr"]
                .iter()
                .find_map(|f| created.get(*f).and_then(Value::as_array))
                .map(|list| list.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if !cidr.is_empty() {
                details.push(format!("for {}", cidr.join(", ")));
            }
            if let Some(expiry) = ["expiry", "expires"]
                .iter()
                .find_map(|f| created.get(*f).and_then(Value::as_str))
            {
                details.push(format!("expiring {expiry}"));
            }
            printer.status(&format!(
                "{}. It is shown only this once:",
                details.join(" ")
            ));
            printer.data(token)?;
        }
    }
    Ok(())
}

fn parseable_value(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(parseable_value)
            .collect::<Vec<_>>()
            .join(","),
        other => other.to_string(),
    }
}
