//! `rtok token rotate`: a new token with the old one's restrictions, saved
//! where the old one was, checked, and only then the old one revoked. Any
//! failure rolls back.

use std::time::Duration;

use std::io;

use anyhow::Result;
use serde::Serialize;

use super::super::otp;
use super::create::Created;
use super::{delete, fetch_listed};
use crate::cli::RotateArgs;
use crate::client::Client;
use crate::config::Origin;
use crate::config::store::{Change, Entry, Holding, Place, Store};
use crate::failure::Failure;
use crate::npmrc::NerfDart;
use crate::output::{Printer, Report};
use crate::prompt;
use crate::registry::{NewToken, Refusal, Registry, TokenRecord};
use crate::rtok_config::Storage;
use crate::secret::Secret;
use crate::settings::Settings;
use crate::time;
use crate::tokens::{Permission, ids};

/// The replacement token, printed once; `--json` is the created token.
#[derive(Serialize)]
#[serde(transparent)]
struct Rotated {
    created: Created,
    #[serde(skip)]
    old_id: String,
    #[serde(skip)]
    saved_to: Option<String>,
}

impl Report for Rotated {
    fn human(&self, printer: &Printer) -> io::Result<()> {
        let saved = self
            .saved_to
            .as_ref()
            .map(|path| format!("; saved it to {path}"))
            .unwrap_or_default();
        let created = &self.created.0;
        printer.status(&format!(
            "Rotated token {}: created {}, revoked the old one{saved}. The new token is shown only this once:",
            self.old_id,
            created.key.as_deref().unwrap_or("a new token")
        ));
        printer.data(created.token.expose())
    }
}

pub(super) async fn run(settings: &Settings, args: &RotateArgs, printer: &Printer) -> Result<()> {
    let found = settings.require_credential()?;
    let (registry, tokens) = fetch_listed(settings, printer).await?;
    let current = settings.current_token();
    let old = find_old(settings, args, &tokens, current.as_ref())?;
    let replaces_current = current.as_ref().is_some_and(|s| s.fits_mask(old.mask()));

    let mut request = restrictions_of(old);
    request.password = Some(prompt::password(
        &args.password,
        "create the replacement token",
        printer,
    )?);
    let request = &request;
    let registry_ref = &registry;
    let (created, code) = otp::with_otp(
        settings.otp.as_ref(),
        printer,
        &registry,
        |code| async move { registry_ref.create_token(request, code.as_ref()).await },
    )
    .await?;
    let store = settings.store();
    let mut rollback = Rollback {
        new_key: created.key.clone(),
        new_token: created.token.clone(),
        saved: None,
        code,
    };

    // Save it where the old one was, when the old one is the one in use,
    // and only if that place still holds the old one.
    let mut saved_to = None;
    if replaces_current && let Some(old_token) = current.as_ref() {
        let place = match &found.origin {
            Origin::File {
                path,
                variable: None,
                ..
            } => Some(Place::File(path.clone())),
            Origin::Keyring => Some(Place::Keyring),
            other => {
                printer.warn(&format!(
                    "the old token comes from {other}: put the new token there yourself"
                ));
                None
            }
        };
        if let Some(place) = place {
            match store.replace(
                &place,
                &found.nerf,
                &settings.registry,
                old_token,
                &created.token,
            ) {
                Ok(change) => {
                    rollback.saved = Some(change);
                    saved_to = Some(place.shown());
                }
                Err(err) => {
                    let state = rollback.run(&registry, &store).await;
                    // The store's error keeps its hint; the context says
                    // what became of the new token.
                    return Err(err.context(format!(
                        "could not save the new token to {} ({state})",
                        place.shown()
                    )));
                }
            }
        }
    }
    // Every other client's copy: replaced where it is the old token (it
    // would stop working), written where a chosen client has none.
    if replaces_current && let Some(old_token) = current.as_ref() {
        let chosen = crate::config::clients::chosen(
            &settings.config,
            args.clients.clients.as_deref(),
            settings.rtok.clients(),
        );
        match other_copies(
            settings,
            &store,
            &found.origin,
            &chosen,
            old_token,
            &created.token,
            printer,
        ) {
            Ok((change, places)) => {
                let mut all = rollback.saved.take().unwrap_or_default();
                all.push(change);
                rollback.saved = Some(all);
                if !places.is_empty() {
                    let mut shown: Vec<String> = saved_to.take().into_iter().collect();
                    shown.extend(places);
                    saved_to = Some(shown.join(", "));
                }
            }
            Err(err) => {
                let state = rollback.run(&registry, &store).await;
                return Err(err.context(format!(
                    "could not save the new token for every client ({state})"
                )));
            }
        }
    }
    match registry.whoami_as(&created.token).await {
        Ok(_) => {}
        // A token limited to other networks is refused here by design; that
        // says nothing about whether it works where it is meant to.
        Err(err)
            if !request.cidr.is_empty()
                && matches!(
                    err.refusal(),
                    Some(Refusal::Forbidden | Refusal::IpRestricted)
                ) =>
        {
            printer.warn(&format!(
                "could not check the new token from this machine: it only works from {}",
                request.cidr.join(", ")
            ));
        }
        Err(err) => {
            let state = rollback.run(&registry, &store).await;
            return Err(
                Failure::new(format!("the new token does not work ({err}); {state}"))
                    .hint(
                        "check the registry with `rtok doctor`, then run `rtok token rotate` again",
                    )
                    .into(),
            );
        }
    }

    let code = rollback.code.clone();
    match registry.delete_token(old.key(), code.as_ref()).await {
        Ok(()) => {}
        // Gone already (another rotate, or someone revoked it): what this
        // rotate wanted; the new token is saved and works.
        Err(err) if err.refusal() == Some(Refusal::NotFound) => {
            printer.warn(&format!(
                "the old token {} was already revoked (by another rotate or by hand)",
                old.key()
            ));
        }
        Err(err) => {
            let state = rollback.run(&registry, &store).await;
            return Err(Failure::new(format!(
                "could not revoke the old token {} ({err}); {state}",
                old.key()
            ))
            .hint("fix the cause and run `rtok token rotate` again")
            .into());
        }
    }

    printer.emit(&Rotated {
        old_id: old.id().unwrap_or(old.key()).to_string(),
        created: Created(created),
        saved_to,
    })?;
    Ok(())
}

/// The new token in every client file other than npm's source: replaced
/// where the file holds the old token, saved where a chosen client holds
/// nothing for the registry; a file holding another token or a `${VAR}` is
/// left, with a note. All or nothing: a failure undoes what was written.
#[allow(clippy::too_many_arguments)]
fn other_copies(
    settings: &Settings,
    store: &Store<'_>,
    origin: &Origin,
    chosen: &[Client],
    old: &Secret,
    new: &Secret,
    printer: &Printer,
) -> Result<(Change, Vec<String>)> {
    let registry = &settings.registry;
    let nerf = NerfDart::from_url(registry);
    // A new copy is kept as the one in use is: in the keyring, else in files.
    let storage = match origin {
        Origin::Keyring => Storage::Keyring,
        _ => Storage::File,
    };
    let program = super::super::copies::rtok_program();
    let mut change = Change::default();
    let mut places = Vec::new();
    let mut attempt = || -> Result<()> {
        for client in Client::ALL {
            let place = store.file_of(client)?;
            if matches!((origin, &place), (Origin::File { path, .. }, Place::File(file)) if path == file)
            {
                continue;
            }
            match store.holding(&place, registry)? {
                Holding::Token { token, .. } if &token == old => {
                    change.push(store.replace(&place, &nerf, registry, old, new)?);
                    places.push(place.shown());
                }
                // npm's copy is the one in use, handled above.
                Holding::Nothing if client != Client::Npm && chosen.contains(&client) => {
                    let Some(target) = store.place_for(client, storage, &program)? else {
                        continue;
                    };
                    let entry = Entry {
                        registry,
                        token: new,
                        scope: None,
                    };
                    change.push(store.save(&target, &entry)?.change);
                    places.push(target.shown());
                }
                Holding::Token { .. } => printer.warn(&format!(
                    "{} holds another token for {}; it was left as it is",
                    place.shown(),
                    settings.registry_display()
                )),
                Holding::Reference { line } => printer.warn(&format!(
                    "{}:{line} refers to a variable for {}; set it to the new token",
                    place.shown(),
                    settings.registry_display()
                )),
                Holding::Nothing | Holding::Other { .. } => {}
            }
        }
        Ok(())
    };
    match attempt() {
        Ok(()) => Ok((change, places)),
        Err(err) => {
            let undone = change.undo(store).sentence();
            Err(err.context(undone))
        }
    }
}

/// The listed token to replace: `current` (the one this machine uses) or
/// the one the argument names.
fn find_old<'a>(
    settings: &Settings,
    args: &RotateArgs,
    tokens: &'a [TokenRecord],
    current: Option<&Secret>,
) -> Result<&'a TokenRecord> {
    if args.token == "current" {
        let secret = current.ok_or_else(|| {
            Failure::new(format!(
                "this machine uses no token for {} (its credential is a password or certificate)",
                settings.registry_display()
            ))
        })?;
        return ids::by_value(secret, tokens).ok_or_else(|| {
            Failure::new("the token this machine uses is not in the registry's token list")
                .hint("some registries do not list login session tokens; rotate a listed token by its id")
                .into()
        });
    }
    let key = delete::resolve_argument(&args.token, tokens)?;
    tokens
        .iter()
        .find(|t| t.key() == key)
        .ok_or_else(|| Failure::new(format!("token {key} is no longer listed")).into())
}

/// A request for a token restricted as `old` is: read-only, CIDR ranges,
/// and for granular tokens name, description, packages/scopes/orgs with
/// their permissions, and the same lifetime.
fn restrictions_of(old: &TokenRecord) -> NewToken {
    let mut new = NewToken {
        readonly: old.readonly(),
        cidr: old.cidr().iter().map(|c| c.to_string()).collect(),
        name: old.name().map(str::to_string),
        description: old.description().map(str::to_string),
        ..NewToken::default()
    };
    for (kind, name) in old.scopes() {
        match kind {
            "package" if name == "*" => new.packages_all = true,
            "package" => new.packages.push(name.to_string()),
            "scope" => new.scopes.push(name.to_string()),
            "org" => new.orgs.push(name.to_string()),
            _ => {}
        }
    }
    for (name, action) in old.permissions() {
        let Some(level) = Permission::from_action(action) else {
            continue;
        };
        match name {
            "package" => new.packages_and_scopes_permission = Some(level),
            "org" => new.orgs_permission = Some(level),
            _ => {}
        }
    }
    // A stage-only token stays stage-only (npmjs lists it with
    // `publish_policy: stage_only` and a plain `write` action).
    if old.stage_only()
        && matches!(
            new.packages_and_scopes_permission,
            None | Some(Permission::ReadWrite)
        )
    {
        new.packages_and_scopes_permission = Some(Permission::ReadWriteStageOnly);
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
    /// The store's change that saved the new token (its undo puts back
    /// only what it wrote, and only where nothing else wrote since).
    saved: Option<Change>,
    code: Option<Secret>,
}

impl Rollback {
    /// Undoes the save and revokes the new token; returns a sentence saying
    /// what state things are in.
    async fn run(&mut self, registry: &Registry, store: &Store<'_>) -> String {
        let mut done = Vec::new();
        let mut problems = Vec::new();
        if let Some(change) = self.saved.take() {
            let undone = change.undo(store);
            done.extend(undone.done);
            problems.extend(undone.problems);
        }
        let key = match &self.new_key {
            Some(key) => Some(key.clone()),
            None => registry.list_tokens().await.ok().and_then(|tokens| {
                ids::by_value(&self.new_token, &tokens).map(|t| t.key().to_string())
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
            new.packages_and_scopes_permission,
            Some(Permission::ReadWrite)
        );
        assert_eq!(new.orgs_permission, Some(Permission::ReadOnly));
        assert_eq!(new.expires_days, Some(30));
    }

    #[test]
    fn stage_only_tokens_stay_stage_only() {
        let old = TokenRecord::from_value(json!({
            "key": "k", "token": "npm_a...b", "readonly": false, "publish_policy": "stage_only",
            "scopes": [{"type": "package", "name": "left-pad"}],
            "permissions": [{"name": "package", "action": "write"}]
        }))
        .expect("record");
        assert_eq!(
            restrictions_of(&old).packages_and_scopes_permission,
            Some(Permission::ReadWriteStageOnly)
        );
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
