//! `rtok token rotate`: a new token with the old one's restrictions, saved
//! where the old one was, checked, and only then the old one revoked. Any
//! failure rolls back.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use serde_json::Value;

use super::{Session, otp, token_delete};
use crate::cli::RotateArgs;
use crate::config::Origin;
use crate::failure::Failure;
use crate::ids;
use crate::npmrc::{self, Document};
use crate::output::Format;
use crate::registry::{NewToken, Registry, TokenRecord};
use crate::secret::Secret;
use crate::time;

pub async fn run(session: &Session<'_>, args: &RotateArgs) -> Result<()> {
    let found = session.require_credential()?;
    let registry = session.client("token")?;
    let mut tokens = registry.list_tokens().await?;
    ids::assign(&mut tokens, ids::MIN_ID_LEN);

    let current = session.current_token();
    let old_key = if args.token == "current" {
        let secret = current.as_ref().ok_or_else(|| {
            Failure::new(format!(
                "this machine uses no token for {} (its credential is a password or certificate)",
                session.registry_display()
            ))
        })?;
        ids::by_value(secret.expose(), &tokens)
            .map(|t| t.key().to_string())
            .ok_or_else(|| {
                Failure::new("the token this machine uses is not in the registry's token list")
                    .hint("some registries do not list login session tokens; rotate a listed token by its id")
            })?
    } else {
        token_delete::resolve_argument(&args.token, &tokens)?
    };
    let old = tokens
        .iter()
        .find(|t| t.key() == old_key)
        .expect("resolve_argument returns a listed key");
    let replaces_current = current
        .as_ref()
        .is_some_and(|s| ids::mask_matches(old.mask(), s.expose()));

    let mut request = restrictions_of(old);
    request.password = Some(session.password(&args.password, "create the replacement token")?);
    let request = &request;
    let registry_ref = &registry;
    let (created, code) = otp::with_otp(session, &registry, |code| async move {
        registry_ref.create_token(request, code.as_ref()).await
    })
    .await?;
    let new_token = Secret::new(
        created
            .get("token")
            .and_then(Value::as_str)
            .unwrap_or_default(),
    );
    let mut rollback = Rollback {
        new_key: created
            .get("key")
            .and_then(Value::as_str)
            .map(str::to_string),
        new_token: new_token.clone(),
        restore: None,
        code,
    };

    // Save it where the old one was, when the old one is the one in use.
    let mut saved_to = None;
    if replaces_current {
        match &found.origin {
            Origin::File { path, .. } => {
                let key = format!("{}:_authToken", found.reg_key);
                let config = &session.config;
                let written = npmrc::file::edit(path, |doc| {
                    let before = doc.clone();
                    doc.set(&key, new_token.expose(), &|raw: &str| {
                        config.expand_key(raw) == key
                    });
                    Ok(before)
                });
                match written {
                    Ok(before) => {
                        rollback.restore = Some((path.clone(), before));
                        saved_to = Some(path.display().to_string());
                    }
                    Err(err) => {
                        let state = rollback.run(&registry).await;
                        return Err(Failure::new(format!(
                            "could not save the new token to {}: {err:#}; {state}",
                            path.display()
                        ))
                        .into());
                    }
                }
            }
            other => session.printer.warn(&format!(
                "the old token comes from {other}: put the new token there yourself"
            )),
        }
    }

    match registry.whoami_as(&new_token).await {
        Ok(_) => {}
        // A token limited to other networks is refused here by design; that
        // says nothing about whether it works where it is meant to.
        Err(err) if !request.cidr.is_empty() && err.status().is_some_and(|s| s.as_u16() == 403) => {
            session.printer.warn(&format!(
                "could not check the new token from this machine: it only works from {}",
                request.cidr.join(", ")
            ));
        }
        Err(err) => {
            let state = rollback.run(&registry).await;
            return Err(
                Failure::new(format!("the new token does not work ({err}); {state}")).into(),
            );
        }
    }

    let code = rollback.code.clone();
    if let Err(err) = registry.delete_token(&old_key, code.as_ref()).await {
        let state = rollback.run(&registry).await;
        return Err(Failure::new(format!(
            "could not revoke the old token {old_key} ({err}); {state}"
        ))
        .hint("fix the cause and run `rtok token rotate` again")
        .into());
    }

    let printer = session.printer;
    match printer.format {
        Format::Json => printer.json(&created)?,
        Format::Human | Format::Parseable => {
            let old_id = old.id().unwrap_or(old.key());
            let saved = saved_to
                .map(|path| format!("; saved it to {path}"))
                .unwrap_or_default();
            printer.status(&format!(
                "Rotated token {old_id}: created {}, revoked the old one{saved}. The new token is shown only this once:",
                rollback.new_key.as_deref().unwrap_or("a new token")
            ));
            printer.data(new_token.expose())?;
        }
    }
    Ok(())
}

/// A request for a token restricted as `old` is: read-only, CIDR ranges,
/// and for granular tokens name, description, packages/scopes/orgs with
/// their permissions, and the same lifetime.
pub fn restrictions_of(old: &TokenRecord) -> NewToken {
    let mut new = NewToken {
        readonly: old.readonly(),
        cidr: old.cidr().iter().map(|c| c.to_string()).collect(),
        name: old.name().map(str::to_string),
        description: old.description().map(str::to_string),
        ..NewToken::default()
    };
    for scope in old.objects("scopes") {
        let name = scope
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        match scope.get("type").and_then(Value::as_str) {
            Some("package") if name == "*" => new.packages_all = true,
            Some("package") => new.packages.push(name),
            Some("scope") => new.scopes.push(name),
            Some("org") => new.orgs.push(name),
            _ => {}
        }
    }
    for permission in old.objects("permissions") {
        let level = match permission.get("action").and_then(Value::as_str) {
            Some("read") => "read-only",
            Some("write") => "read-write",
            Some("none") => "no-access",
            _ => continue,
        };
        match permission.get("name").and_then(Value::as_str) {
            Some("package") => new.packages_and_scopes_permission = Some(level.to_string()),
            Some("org") => new.orgs_permission = Some(level.to_string()),
            _ => {}
        }
    }
    new.expires_days = lifetime_days(old);
    new
}

/// The old token's lifetime (expiry minus creation), in whole days rounded
/// up, so the replacement lives as long.
fn lifetime_days(old: &TokenRecord) -> Option<u32> {
    let expiry = old.expiry().and_then(time::parse)?;
    let created = old.created().and_then(time::parse)?;
    let span = expiry.duration_since(created).unwrap_or(Duration::ZERO);
    u32::try_from(span.as_secs().div_ceil(24 * 3600))
        .ok()
        .filter(|days| *days > 0)
}

/// What to undo if a later step fails.
struct Rollback {
    new_key: Option<String>,
    new_token: Secret,
    /// The file and the document it held before the new token was saved.
    restore: Option<(PathBuf, Document)>,
    code: Option<Secret>,
}

impl Rollback {
    /// Restores the config file and revokes the new token; returns a
    /// sentence saying what state things are in.
    async fn run(&mut self, registry: &Registry) -> String {
        let mut done = Vec::new();
        let mut problems = Vec::new();
        if let Some((path, before)) = self.restore.take() {
            let restored = npmrc::file::edit(&path, |doc| {
                *doc = before;
                Ok(())
            });
            match restored {
                Ok(()) => done.push(format!("restored {}", path.display())),
                Err(err) => {
                    problems.push(format!("could not restore {} ({err:#})", path.display()))
                }
            }
        }
        let key = match &self.new_key {
            Some(key) => Some(key.clone()),
            None => registry.list_tokens().await.ok().and_then(|tokens| {
                ids::by_value(self.new_token.expose(), &tokens).map(|t| t.key().to_string())
            }),
        };
        match key {
            Some(key) => match registry.delete_token(&key, self.code.as_ref()).await {
                Ok(()) => done.push(format!("revoked the new token {key}")),
                Err(err) => problems.push(format!(
                    "could not revoke the new token {key} ({err}): revoke it with `rtok token delete {key}`"
                )),
            },
            None => problems.push("could not find the new token to revoke it: check `rtok token list`".into()),
        }
        if problems.is_empty() {
            format!(
                "rolled back ({}); the old token is unchanged and still works",
                done.join(", ")
            )
        } else {
            format!("rollback incomplete: {}", problems.join("; "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn granular_restrictions_carry_over() {
        let old = TokenRecord::from_value(json!({
            "key": "k", "token": "npm_a...b", "name": "ci", "description": "deploys",
            "readonly": true, "cidr": ["10.0.0.0/8"],
            "created": "2025-01-01T00:00:00.000Z", "expiry": "2025-01-30T12:00:00.000Z",
            "scopes": [{"type": "package", "name": "left-pad"}, {"type": "scope", "name": "@acme"}, {"type": "org", "name": "acme"}],
            "permissions": [{"name": "package", "action": "write"}, {"name": "org", "action": "read"}]
        }))
        .expect("record");
        let new = restrictions_of(&old);
        assert!(new.readonly);
        assert_eq!(new.cidr, vec!["10.0.0.0/8"]);
        assert_eq!(new.name.as_deref(), Some("ci"));
        assert_eq!(new.description.as_deref(), Some("deploys"));
        assert_eq!(new.packages, vec!["left-pad"]);
        assert_eq!(new.scopes, vec!["@acme"]);
        assert_eq!(new.orgs, vec!["acme"]);
        assert_eq!(
            new.packages_and_scopes_permission.as_deref(),
            Some("read-write")
        );
        assert_eq!(new.orgs_permission.as_deref(), Some("read-only"));
        assert_eq!(new.expires_days, Some(30));
    }

    #[test]
    fn classic_tokens_keep_readonly_and_cidr_only() {
        let old = TokenRecord::from_value(
            json!({"key": "k", "token": "abc", "readonly": false, "cidr_whitelist": null}),
        )
        .expect("record");
        let new = restrictions_of(&old);
        assert!(
            !new.readonly && new.cidr.is_empty() && new.expires_days.is_none() && !new.packages_all
        );
    }
}
