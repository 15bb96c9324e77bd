//! `rtok token create`: creates a token and prints it, once, in full.

use std::io;

use anyhow::Result;
use serde::Serialize;
use serde_json::Value;

use super::super::{connect, otp};
use crate::cidr;
use crate::cli::CreateArgs;
use crate::failure::Failure;
use crate::output::{Printer, Report};
use crate::prompt;
use crate::registry::{CreatedToken, NewToken, Permission};
use crate::settings::Settings;

/// The created token. It goes to stdout in every format (npm 11 masks it
/// under `--json`, which loses it in scripts); details go to stderr.
#[derive(Serialize)]
#[serde(transparent)]
pub(super) struct Created(pub(super) CreatedToken);

impl Report for Created {
    fn human(&self, printer: &Printer) -> io::Result<()> {
        let created = &self.0;
        let mut details = vec![format!(
            "Created a {} token",
            if created.readonly() {
                "read-only"
            } else if created.stage_only() {
                "stage-only"
            } else {
                "publish"
            }
        )];
        if let Some(key) = &created.key {
            details.push(format!("with key {key}"));
        }
        let cidr = created.cidr();
        if !cidr.is_empty() {
            details.push(format!("for {}", cidr.join(", ")));
        }
        if let Some(expiry) = created.expiry() {
            details.push(format!("expiring {expiry}"));
        }
        printer.status(&format!(
            "{}. It is shown only this once:",
            details.join(" ")
        ));
        printer.data(created.token.expose())
    }

    /// `field<TAB>value` lines, the token first.
    fn parseable(&self, printer: &Printer) -> io::Result<()> {
        let created = &self.0;
        printer.data(&format!("token\t{}", created.token.expose()))?;
        if let Some(key) = &created.key {
            printer.data(&format!("key\t{key}"))?;
        }
        for (name, value) in &created.rest {
            printer.data(&format!("{name}\t{}", parseable_value(value)))?;
        }
        Ok(())
    }
}

pub(super) async fn run(settings: &Settings, args: &CreateArgs, printer: &Printer) -> Result<()> {
    // Everything that can be checked locally is checked before the password
    // is asked for and before any request.
    let cidr = cidr::parse_list(&args.cidr).map_err(|message| {
        Failure::new(message)
            .hint("give IPv4 ranges like `--cidr 10.0.0.0/8`, repeated or comma-separated")
    })?;
    if args.orgs_permission == Some(Permission::ReadWriteStageOnly) {
        return Err(Failure::usage(
            "`--orgs-permission` has no stage-only level (only packages and scopes do)",
        )
        .hint("use `--stage-only` (or `--packages-and-scopes-permission read-write-stage-only`)")
        .into());
    }
    let permission = match args.stage_only {
        true => Some(Permission::ReadWriteStageOnly),
        false => args.packages_and_scopes_permission,
    };
    settings.require_credential()?;
    let password = prompt::password(&args.password, "create a token", printer)?;
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
        packages_and_scopes_permission: permission,
        orgs_permission: args.orgs_permission,
        bypass_2fa: args.bypass_2fa,
    };

    let registry = connect::client(settings, printer, "token")?;
    let (created, _) = otp::with_otp(settings.otp.as_ref(), printer, &registry, |code| {
        let registry = &registry;
        let new = &new;
        async move { registry.create_token(new, code.as_ref()).await }
    })
    .await?;
    if publishes_directly(&new) && !created.stage_only() {
        printer.warn(DIRECT_PUBLISH_WARNING);
    }
    printer.emit(&Created(created))?;
    Ok(())
}

/// What npm 12.2.3 says when it creates a token that can publish directly.
pub(super) const DIRECT_PUBLISH_WARNING: &str = "this token can publish directly to the registry; consider `--stage-only` (`read-write-stage-only`): it can only stage a publish, which a human approves (`rtok stage approve`). npmjs stops accepting bypass-2FA tokens with direct-publish access in January 2027";

/// A request for a write token that is not stage-only.
pub(super) fn publishes_directly(new: &NewToken) -> bool {
    !new.readonly
        && !matches!(
            new.packages_and_scopes_permission,
            Some(Permission::ReadOnly | Permission::NoAccess | Permission::ReadWriteStageOnly)
        )
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
