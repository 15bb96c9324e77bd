//! `rtok login`: gets a token from the registry (in the browser, or with a
//! user name and password) and stores it in the user config, or with
//! `--storage keyring` in the system keyring (recorded in rtok's settings,
//! no file holding the secret).

use std::io;
use std::time::Duration;

use anyhow::{Context, Result};
use serde::Serialize;
use url::Url;

use super::{connect, otp, web};
use crate::browser;
use crate::cli::{AuthType, LoginArgs, StorageChoice};
use crate::client::Client;
use crate::config::store::{Entry, Place, Saved};
use crate::display::display_url;
use crate::failure::Failure;
use crate::output::{Printer, Report, visible};
use crate::prompt;
use crate::registry::{Problem, Registry, RegistryError};
use crate::rtok_config::Storage;
use crate::secret::Secret;
use crate::settings::Settings;

/// What `login` did: `--json` prints it as an object.
#[derive(Serialize)]
struct LoggedIn {
    registry: String,
    username: Option<String>,
    scope: Option<String>,
    /// The file the login was written to: the user config, or (keyring)
    /// rtok's settings, which record it.
    config: String,
    storage: &'static str,
    /// Each client's copy: where it went, or why there is none.
    copies: Vec<Copy>,
}

/// One client's copy of the new token.
#[derive(Serialize)]
struct Copy {
    client: Client,
    /// The file (or the system keyring) it went to; `None`: not written.
    place: Option<String>,
    /// Why it was not written (a `${VAR}` kept, a client that cannot read
    /// the keyring).
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

impl Report for LoggedIn {
    fn human(&self, printer: &Printer) -> io::Result<()> {
        let who = self
            .username
            .as_deref()
            .map(|u| format!(" as {}", visible(u)))
            .unwrap_or_default();
        let scope = self
            .scope
            .as_ref()
            .map(|s| format!(" for scope {s}"))
            .unwrap_or_default();
        let kept = match self.storage {
            "keyring" => "; the token is in the system keyring (run npm through `rtok exec`)",
            _ => "",
        };
        printer.status(&format!(
            "Logged in{who} on {}{scope}{kept}.",
            self.registry
        ));
        // One client in its usual place says nothing more; several say
        // where each copy went.
        let plain =
            matches!(&self.copies[..], [only] if only.client == Client::Npm && only.note.is_none());
        if !plain {
            for copy in &self.copies {
                match (&copy.place, &copy.note) {
                    (Some(place), None) => printer.status(&format!("  {}: {place}", copy.client)),
                    (Some(place), Some(note)) => {
                        printer.status(&format!("  {}: {place} ({note})", copy.client))
                    }
                    (None, Some(note)) => {
                        printer.status(&format!("  {}: not written: {note}", copy.client))
                    }
                    (None, None) => {}
                }
            }
        }
        Ok(())
    }
}

pub(super) async fn run(settings: &Settings, args: &LoginArgs, printer: &Printer) -> Result<()> {
    // A registry whose tokens come from a provider needs no login.
    if let Some(preset) = settings
        .rtok
        .for_url(&settings.registry)
        .and_then(|r| r.provider.as_ref())
    {
        printer.status(&format!(
            "No login needed: rtok gets tokens for {} from the `{}` provider ({}); sign in with that tool if it asks. `rtok refresh` writes one into ~/.npmrc for tools that only read files.",
            settings.registry_display(),
            preset.name(),
            settings.rtok.path.display()
        ));
        return Ok(());
    }
    let storage = match args.storage {
        Some(StorageChoice::File) => Storage::File,
        Some(StorageChoice::Keyring) => Storage::Keyring,
        None => settings.rtok.storage(),
    };
    let store = settings.store();
    let targets = super::copies::targets(settings, &args.clients, storage)?;
    // Before anything is asked of the user or the registry: a file that
    // cannot be written or a keyring that cannot keep the token is the
    // answer, and nothing is written anywhere.
    for (_, place) in &targets {
        if let Some(place) = place {
            store.check(place, &settings.registry)?;
        }
    }
    let registry = connect::client(settings, printer, "login")?;
    let auth_type = flow(args, settings.config.value("auth-type"));

    let mut typed_username = None;
    let token = match auth_type {
        AuthType::Web => {
            match web_login(settings, printer, &registry, args.auth_type.is_some()).await {
                Ok(token) => token,
                Err(WebLoginError::Unsupported(err)) => {
                    printer.verbose(&format!(
                        "web login is not supported here ({err}); trying a legacy login"
                    ));
                    let (token, name) = legacy_login(settings, printer, &registry, args).await?;
                    typed_username = Some(name);
                    token
                }
                Err(WebLoginError::Failed(err)) => return Err(err),
            }
        }
        AuthType::Legacy => {
            let (token, name) = legacy_login(settings, printer, &registry, args).await?;
            typed_username = Some(name);
            token
        }
    };

    let username = match registry.whoami_as(&token).await {
        Ok(name) => Some(name),
        Err(err) => {
            printer.warn(&format!(
                "logged in, but could not confirm the user name: {err}"
            ));
            typed_username
        }
    };

    let entry = Entry {
        registry: &settings.registry,
        token: &token,
        scope: settings.scope.as_deref(),
    };
    let places: Vec<Place> = targets.iter().filter_map(|(_, p)| p.clone()).collect();
    let saved = store
        .save_all(&places, &entry)
        .context("logged in, but the token was not saved")?;
    // Nothing after this can fail in a way that should take the login back.
    let mut saved = saved.into_iter();
    let mut copies = Vec::new();
    for (client, place) in &targets {
        let Some(place) = place else {
            copies.push(Copy {
                client: *client,
                place: None,
                note: Some(format!(
                    "{client} reads no keyring; run it through `rtok exec -- {client} ...`"
                )),
            });
            continue;
        };
        let Saved {
            change: _kept,
            references,
        } = saved.next().unwrap_or_default();
        let note = (!references.is_empty()).then(|| {
            let kept = references.join(", ");
            match (storage, place) {
                (Storage::Keyring, Place::Keyring) => format!(
                    "{kept} refers to a variable; while it is set, npm and rtok use it instead of the keyring"
                ),
                _ => format!("{kept} refers to a variable, which rtok leaves in place; set it to the new token"),
            }
        });
        if let Some(note) = &note {
            printer.warn(&format!("{}: {note}", place.shown()));
        }
        copies.push(Copy {
            client: *client,
            place: Some(place.shown()),
            note,
        });
    }
    let kept_in = match storage {
        Storage::File => targets
            .iter()
            .find_map(|(_, p)| p.as_ref())
            .map(Place::shown)
            .unwrap_or_default(),
        Storage::Keyring => settings.rtok.path.display().to_string(),
    };

    printer.emit(&LoggedIn {
        registry: settings.registry_display(),
        username,
        scope: settings.scope.clone(),
        config: kept_in,
        storage: storage.as_str(),
        copies,
    })?;
    Ok(())
}

/// The login flow: `--auth-type`; else legacy when a user name or password
/// was given (they are for the couch login, and a script that passes them
/// has no one at a browser); else the `auth-type` setting, else web.
fn flow(args: &LoginArgs, setting: Option<&str>) -> AuthType {
    let credentials_given =
        args.username.is_some() || args.password.password_stdin || args.password.password.is_some();
    match (args.auth_type, setting) {
        (Some(kind), _) => kind,
        _ if credentials_given => AuthType::Legacy,
        (None, Some("legacy")) => AuthType::Legacy,
        (None, _) => AuthType::Web,
    }
}

enum WebLoginError {
    /// The registry has no web login (a 4xx, or exactly 500, as npm reads
    /// it): fall back to the legacy login.
    Unsupported(RegistryError),
    Failed(anyhow::Error),
}

fn classify(err: RegistryError) -> WebLoginError {
    match err.means_no_web_login() {
        true => WebLoginError::Unsupported(err),
        false => WebLoginError::Failed(err.into()),
    }
}

/// The web login. Unless `--auth-type web` asked for it, it needs someone
/// to finish it: with neither a terminal (to show the URL) nor a browser it
/// fails at once rather than wait minutes for nobody.
async fn web_login(
    settings: &Settings,
    printer: &Printer,
    registry: &Registry,
    asked_for: bool,
) -> Result<Secret, WebLoginError> {
    use std::io::IsTerminal;
    let (login_url, done_url) = registry.start_web_login().await.map_err(classify)?;
    let done_url = through_configured_registry(done_url, &settings.registry);
    let opened = browser::open(login_url.as_str());
    if !opened && !asked_for && !std::io::stderr().is_terminal() {
        return Err(WebLoginError::Failed(
            Failure::auth(
                "the registry logs in in a browser, and there is neither a terminal nor a browser here to finish it",
            )
            .hint("log in with a password: `--auth-type legacy --username <name> --password-stdin`")
            .into(),
        ));
    }
    printer.status(&format!("Login at:\n{login_url}"));
    let spinner = spinner(printer, opened);
    let result = web::poll(registry, &done_url, web::WEB_TIMEOUT).await;
    if let Some(spinner) = spinner {
        spinner.finish_and_clear();
    }
    result.map_err(|err| match err.downcast::<RegistryError>() {
        Ok(registry_error) => classify(registry_error),
        Err(other) => WebLoginError::Failed(other),
    })
}

/// npm polls a `doneUrl` on registry.npmjs.org through the configured
/// registry instead, so a proxy or mirror in between sees the poll too.
fn through_configured_registry(done: Url, registry: &Url) -> Url {
    if done.host_str() != Some("registry.npmjs.org")
        || registry.host_str() == Some("registry.npmjs.org")
    {
        return done;
    }
    let base = registry.as_str().trim_end_matches('/');
    let query = done.query().map(|q| format!("?{q}")).unwrap_or_default();
    Url::parse(&format!("{base}{}{query}", done.path())).unwrap_or(done)
}

fn spinner(printer: &Printer, opened: bool) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if printer.quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.set_message(if opened {
        "waiting for the login in the browser"
    } else {
        "waiting for the login (open the URL above)"
    });
    spinner.enable_steady_tick(Duration::from_millis(100));
    Some(spinner)
}

/// User name and password (prompted on a terminal, or from `--username` and
/// `--password-stdin`), then the couch login with the one-time-password
/// retry. Returns the token and the user name typed.
async fn legacy_login(
    settings: &Settings,
    printer: &Printer,
    registry: &Registry,
    args: &LoginArgs,
) -> Result<(Secret, String)> {
    let username = match &args.username {
        Some(name) => name.clone(),
        None if prompt::interactive() => prompt::line("Username: ")?,
        None => {
            return Err(Failure::auth(
                "a user name is needed to log in, and there is no terminal to ask for it",
            )
            .hint("pass `--username <name>` and the password with `--password-stdin`")
            .into());
        }
    };
    if username.is_empty() {
        return Err(Failure::auth("the user name is empty").into());
    }
    let password = prompt::password(&args.password, "log in", printer)?;
    let username_ref = username.as_str();
    let password_ref = &password;
    let (token, _) = otp::with_otp(
        settings.otp.as_ref(),
        printer,
        registry,
        |code| async move {
            registry
                .login_couch(username_ref, password_ref, code.as_ref())
                .await
        },
    )
    .await
    .map_err(|err| wrong_password(err, &username, &settings.registry))?;
    Ok((token, username))
}

/// A 401 on the couch login means the password (or user) is wrong: say so
/// plainly (exit code 4), with the status the registry answered.
fn wrong_password(err: anyhow::Error, username: &str, registry: &Url) -> anyhow::Error {
    let rejected =
        err.downcast_ref::<RegistryError>()
            .and_then(|err| match (err.request(), err.problem()) {
                (Some(request), Some(Problem::Unauthorized { status, .. })) => {
                    Some((request, *status))
                }
                _ => None,
            });
    match rejected {
        Some((request, status)) => Failure::auth(format!(
            "{request}: {}: the registry {} refused the login for `{username}`: wrong user name or password",
            crate::registry::error::status_text(status),
            display_url(registry)
        ))
        .hint("check the user name and password and run `rtok login` again")
        .into(),
        _ => err,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npmjs_done_urls_go_through_the_configured_registry() {
        let done = Url::parse("https://registry.npmjs.org/-/v1/done?sessionId=abc").expect("url");
        let mirror = Url::parse("https://mirror.example/npm/").expect("url");
        assert_eq!(
            through_configured_registry(done.clone(), &mirror).as_str(),
            "https://mirror.example/npm/-/v1/done?sessionId=abc"
        );
        let npmjs = Url::parse("https://registry.npmjs.org/").expect("url");
        assert_eq!(through_configured_registry(done.clone(), &npmjs), done);
        let other = Url::parse("https://other.example/-/v1/done").expect("url");
        assert_eq!(through_configured_registry(other.clone(), &mirror), other);
    }
}
