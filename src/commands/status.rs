//! `rtok status`: every registry this machine has credentials for, where
//! each credential comes from, its kind and expiry, and whether the registry
//! still accepts it. Registries are asked side by side (at most
//! `check::CONCURRENCY` at a time); a credential that only a project file
//! names for a host the user's config does not use is listed, not sent. On
//! GitHub Actions, rows that are not ok also become workflow commands on
//! the run's page.

use std::io;
use std::time::Duration;

use anyhow::Result;
use futures_util::StreamExt;
use serde::Serialize;

use super::check::{self, Checked};
use crate::cli::StatusArgs;
use crate::client::Client;
use crate::config::{LayerKind, Origin, client_view, registries};
use crate::display::display_url;
use crate::failure::Failure;
use crate::output::{Format, Printer, Report, Stream, visible};
use crate::registry::RegistryError;
use crate::settings::Settings;
use crate::time;
use crate::tokens::health::{Kind, State};
use crate::tokens::judge::{self, EXPIRING_WITHIN, Expiry};

/// One credential and what checking it found.
#[derive(Serialize)]
struct Row {
    registry: String,
    source: String,
    /// Where the secret is kept: `file`, `env`, `keyring`, `command`,
    /// `provider`.
    storage: &'static str,
    /// The environment variable that holds the secret, if one does.
    variable: Option<String>,
    kind: Kind,
    user: Option<String>,
    /// ISO 8601, from the token's entry in the registry's list.
    expires: Option<String>,
    last_used: Option<String>,
    /// A write token's publish policy where the registry lists one:
    /// `direct` or `stage-only`.
    #[serde(skip_serializing_if = "Option::is_none")]
    publish_policy: Option<&'static str>,
    state: State,
    error: Option<String>,
    credential: String,
    /// The client that reads the credential from where it is: `npm` for
    /// the `.npmrc` files and `npm_config_*`, `pnpm` for `auth.ini`, `yarn`
    /// for `.yarnrc.yml`; `null` for rtok's own (keyring, command).
    client: Option<Client>,
    /// For a scope-specific credential (pnpm's `//host/:@scope:_authToken`,
    /// yarn's `npmScopes`), the scope it is for.
    scope: Option<String>,
    /// How long until it expires, when it is expiring.
    #[serde(skip)]
    left: Option<Duration>,
    /// Where the row goes: the order npm reads the settings in.
    #[serde(skip)]
    order: (u8, String, usize),
    /// Its token comes from a provider (its expiry is the provider's).
    #[serde(skip)]
    provided: bool,
}

impl Row {
    /// What a workflow command says after `<registry>: <state>`.
    fn detail(&self) -> String {
        if let Some(err) = &self.error {
            return err.clone();
        }
        match (self.state, self.left, &self.expires) {
            // Short-lived: hours and minutes, not days.
            (State::Expiring, Some(left), Some(at)) if self.provided => format!(
                "expires at {} UTC, in {} min",
                time::to_iso8601(time::parse(at).unwrap_or(time::now()))[..16].replace('T', " "),
                left.as_secs().div_ceil(60)
            ),
            (State::Expiring, Some(left), Some(at)) => format!(
                "expires on {}, in {}",
                time::date(at),
                judge::plural_days(left)
            ),
            (State::Expired, _, Some(at)) => format!("expired on {}", time::date(at)),
            _ => String::new(),
        }
    }
}

#[derive(Serialize)]
#[serde(transparent)]
struct Status {
    rows: Vec<Row>,
}

impl Report for Status {
    fn human(&self, printer: &Printer) -> io::Result<()> {
        let with_last_used = self.rows.iter().any(|r| r.last_used.is_some());
        // The client column only when another client's file has a row.
        let with_client = self
            .rows
            .iter()
            .any(|r| r.client.is_some_and(|c| c != Client::Npm));
        let mut header = vec!["registry"];
        if with_client {
            header.push("client");
        }
        header.extend(["source", "kind", "user", "expires"]);
        if with_last_used {
            header.push("last used");
        }
        let with_policy = self.rows.iter().any(|r| r.publish_policy.is_some());
        if with_policy {
            header.push("publish");
        }
        header.extend(["state", "credential"]);
        let mut table = printer.table(Stream::Stdout, &header);
        for row in &self.rows {
            let mut cells = vec![row.registry.clone()];
            if with_client {
                cells.push(row.client.map(Client::name).unwrap_or("rtok").to_string());
            }
            cells.extend([
                row.source.replace('`', ""),
                row.kind.name().to_string(),
                match (&row.user, &row.error) {
                    (_, Some(why)) if row.state == State::Unchecked => why.clone(),
                    (_, Some(err)) => format!("failed: {err}"),
                    (Some(user), None) => user.clone(),
                    (None, None) => String::new(),
                },
                row.expires.as_deref().map(time::date).unwrap_or_default(),
            ]);
            if with_last_used {
                cells.push(row.last_used.as_deref().map(time::date).unwrap_or_default());
            }
            if with_policy {
                cells.push(row.publish_policy.unwrap_or_default().to_string());
            }
            cells.extend([row.state.name().to_string(), row.credential.clone()]);
            table.add_row(cells);
        }
        printer.data(&table.to_string())
    }

    /// One line per credential; fields are only ever added at the end.
    fn parseable(&self, printer: &Printer) -> io::Result<()> {
        printer.data("registry\tsource\tkind\tuser\tcredential\terror\texpires\tstate\tclient")?;
        for row in &self.rows {
            let line = [
                row.registry.as_str(),
                &row.source,
                row.kind.name(),
                row.user.as_deref().unwrap_or(""),
                &row.credential,
                row.error.as_deref().unwrap_or(""),
                row.expires.as_deref().unwrap_or(""),
                row.state.name(),
                row.client.map(Client::name).unwrap_or(""),
            ]
            .map(|field| visible(field).into_owned())
            .join("\t");
            printer.data(&line)?;
        }
        Ok(())
    }
}

pub(super) async fn run(settings: &Settings, args: &StatusArgs, printer: &Printer) -> Result<()> {
    let credentials = &settings.credentials;
    let prefixes = credentials.prefixes();
    let first = prefixes.len();
    // pnpm's auth.ini and yarn's home .yarnrc.yml: a file the client
    // cannot read either is an error naming it, as a broken .npmrc is.
    let mut in_client_files = Vec::new();
    for client in [Client::Pnpm, Client::Yarn] {
        in_client_files.extend(client_view::user_file_credentials(
            &settings.config,
            client,
            &settings.credentials,
        )?);
    }
    if prefixes.is_empty() && in_client_files.is_empty() {
        return Err(Failure::auth(
            "no registry credentials in the config files or the environment",
        )
        .hint("log in with `rtok login`")
        .into());
    }
    let now = time::now();
    let within = args.expiring_within.unwrap_or(EXPIRING_WITHIN);
    let known = check::known_registries(settings);
    let checks = prefixes.into_iter().enumerate().filter_map(|(index, prefix)| {
        let (auth, origin) = credentials.describe(prefix)?;
        let registry = check::registry_for(prefix, &known);
        // A cloned project's `.npmrc` must not make `status` send the
        // user's `${NPM_TOKEN}` to a host of its choosing.
        let unchecked = matches!(
            origin,
            Origin::File {
                layer: LayerKind::Project,
                ..
            }
        ) && !registries::user_vouches_for(&settings.config, &settings.registry, prefix);
        let found = credentials.at(prefix);
        Some(async move {
            let mut row = Row {
                registry: display_url(&registry),
                source: origin.to_string(),
                storage: origin.storage(),
                variable: origin.variable().map(str::to_string),
                kind: check::kind_of(auth),
                user: None,
                expires: None,
                last_used: None,
                publish_policy: None,
                state: State::Ok,
                error: None,
                credential: String::new(),
                client: client_of(&origin),
                scope: None,
                left: None,
                order: reading_order(&origin),
                provided: false,
            };
            match found {
                Ok(Some(found)) if unchecked => {
                    row.state = State::Unchecked;
                    row.error = Some(format!(
                        "named only by the project .npmrc, for a host your own config does not use; not checked (nothing was sent to {})",
                        row.registry
                    ));
                    row.credential = check::masked(&found);
                }
                Ok(Some(found)) => {
                    let checked =
                        check::check(settings, printer, &registry, &found, now, within).await;
                    row.credential = check::masked(&found);
                    fill(&mut row, checked);
                    let expiry = credentials.provider_expiry_of(&found);
                    provider_expiry(&mut row, expiry, now, args);
                }
                // A credential that cannot be used (an unset or malformed
                // `${VAR}`) is a row that says why, never skipped.
                Err(err) => {
                    row.state = check::unusable_state(&err);
                    row.error = Some(err.to_string());
                    row.credential = "(unusable)".into();
                }
                Ok(None) => {}
            }
            (index, row)
        })
    });
    let client_checks = in_client_files
        .into_iter()
        .enumerate()
        .map(|(index, credential)| {
            let registry = credential
                .registry
                .clone()
                .unwrap_or_else(|| check::registry_for(credential.nerf.as_str(), &known));
            async move {
                let origin = &credential.origin;
                let rank = match credential.client {
                    Client::Pnpm => 6,
                    _ => 7,
                };
                let place = match origin {
                    Origin::File { path, line, .. } => (path.display().to_string(), *line),
                    other => (other.to_string(), 0),
                };
                let mut row = Row {
                    registry: display_url(&registry),
                    source: origin.to_string(),
                    storage: origin.storage(),
                    variable: origin.variable().map(str::to_string),
                    kind: check::kind_of(credential.auth),
                    user: None,
                    expires: None,
                    last_used: None,
                    state: State::Ok,
                    error: None,
                    credential: String::new(),
                    client: Some(credential.client),
                    scope: credential.scope.clone(),
                    publish_policy: None,
                    provided: false,
                    left: None,
                    order: (rank, place.0, place.1),
                };
                match &credential.found {
                    Ok(found) => {
                        let checked =
                            check::check_alone(settings, printer, &registry, found, now, within)
                                .await;
                        row.credential = check::masked(found);
                        fill(&mut row, checked);
                    }
                    Err(err) => {
                        row.state = check::unusable_state(err);
                        row.error = Some(err.to_string());
                        row.credential = "(unusable)".into();
                    }
                }
                (first + index, row)
            }
        });
    // Registries are asked side by side, a bounded number at a time: the
    // slowest sets the pace, and hundreds of credentials do not exhaust
    // the open-files limit.
    let checks = checks
        .map(futures_util::future::Either::Left)
        .chain(client_checks.map(futures_util::future::Either::Right));
    let mut rows: Vec<(usize, Row)> = futures_util::stream::iter(checks)
        .buffer_unordered(check::CONCURRENCY)
        .collect()
        .await;
    rows.sort_by(|(i, a), (j, b)| a.order.cmp(&b.order).then(i.cmp(j)));
    let rows: Vec<Row> = rows.into_iter().map(|(_, row)| row).collect();
    let status = Status { rows };
    printer.emit(&status)?;
    let counted = |row: &Row| match row.state {
        State::Ok | State::Unchecked => false,
        State::Expiring => args.expiring_within.is_some(),
        _ => true,
    };
    if printer.format != Format::Json {
        if args.expiring_within.is_none() {
            warn_expiring(printer, &status.rows);
        }
        if is_github_actions(settings) {
            for row in status
                .rows
                .iter()
                .filter(|r| !matches!(r.state, State::Ok | State::Unchecked))
            {
                printer.data(&workflow_command(row))?;
            }
        }
    }
    let failed: Vec<&Row> = status.rows.iter().filter(|r| counted(r)).collect();
    if failed.is_empty() {
        return Ok(());
    }
    let expiring = failed.iter().filter(|r| r.state == State::Expiring).count();
    let mut message = format!(
        "{} of {} credentials failed",
        failed.len(),
        status.rows.len()
    );
    if expiring > 0 {
        message.push_str(&format!(
            " ({expiring} expiring within {})",
            judge::plural_days(within)
        ));
    }
    let hint = if expiring == failed.len() {
        "`rtok token rotate <id>` replaces a token before it expires (`rtok token list` shows the ids)"
    } else {
        "`rtok login --registry <url>` replaces a failing credential; `rtok doctor` explains what is wrong"
    };
    Err(Failure::new(message).hint(hint).into())
}

/// Copies what checking found into the row.
fn fill(row: &mut Row, checked: Checked) {
    row.kind = checked.kind;
    row.state = checked.state;
    row.user = checked.user.clone();
    row.error = checked.failure.as_ref().map(RegistryError::to_string);
    if let Some(entry) = checked.entry() {
        row.expires = checked.expiry.at().map(time::to_iso8601);
        row.last_used = entry
            .last_used()
            .and_then(time::parse)
            .map(time::to_iso8601);
        row.publish_policy = judge::publish_policy_label(entry);
    }
    if let Expiry::Expiring { left, .. } = checked.expiry {
        row.left = Some(left);
    }
}

/// A provider's token (or the one `rtok refresh` wrote) expires when the
/// provider said: expired once past it, expiring within
/// `--expiring-within`, else within refresh's default 15 minutes.
fn provider_expiry(
    row: &mut Row,
    expiry: Option<std::time::SystemTime>,
    now: std::time::SystemTime,
    args: &StatusArgs,
) {
    let Some(at) = expiry else { return };
    row.expires = Some(time::to_iso8601(at));
    row.provided = true;
    if !matches!(row.state, State::Ok | State::Rejected | State::Expiring) {
        return;
    }
    let soon = args.expiring_within.unwrap_or(Duration::from_secs(15 * 60));
    match at.duration_since(now) {
        Err(_) => row.state = State::Expired,
        Ok(left) if left <= soon && row.state != State::Rejected => {
            row.state = State::Expiring;
            row.left = Some(left);
        }
        // A 12-hour token is not "expiring" by the 7 days of long-lived ones.
        Ok(_) if row.state == State::Expiring => row.state = State::Ok,
        Ok(_) => {}
    }
}

/// Without `--expiring-within`, an expiring credential does not fail the
/// run, but it is worth a line.
fn warn_expiring(printer: &Printer, rows: &[Row]) {
    for row in rows.iter().filter(|r| r.state == State::Expiring) {
        let fix = if row.provided {
            "rtok fetches a new one itself; `rtok refresh` writes one for npm"
        } else {
            "`rtok token rotate` replaces it"
        };
        printer.warn(&format!(
            "the credential for {} ({}) {}; {fix}",
            row.registry,
            row.source.replace('`', ""),
            row.detail()
        ));
    }
}

/// The client that reads a credential of npm's resolver from where it is.
fn client_of(origin: &Origin) -> Option<Client> {
    match origin {
        Origin::Cli { .. } | Origin::Env { .. } | Origin::File { .. } => Some(Client::Npm),
        _ => None,
    }
}

/// Command line, environment (by variable), then the project, user and
/// global files (by path and line): the order npm reads settings in.
fn reading_order(origin: &Origin) -> (u8, String, usize) {
    match origin {
        Origin::Cli { flag } => (0, flag.clone(), 0),
        Origin::Env { var } => (1, var.clone(), 0),
        Origin::File {
            layer, path, line, ..
        } => {
            let rank = match layer {
                LayerKind::Cli => 0,
                LayerKind::Env => 1,
                LayerKind::Project => 2,
                LayerKind::User => 3,
                LayerKind::Global => 4,
            };
            (rank, path.display().to_string(), *line)
        }
        other => (5, other.to_string(), 0),
    }
}

/// GitHub Actions sets `GITHUB_ACTIONS=true` in every step.
fn is_github_actions(settings: &Settings) -> bool {
    settings
        .config
        .env()
        .get("GITHUB_ACTIONS")
        .is_some_and(|v| v == "true")
}

/// `::error title=rtok status::<registry>: <state> (<detail>)`, or
/// `::warning` for an expiring credential. The message is escaped as the
/// runner reads it (`%`, CR, LF), after control characters are made
/// visible.
fn workflow_command(row: &Row) -> String {
    let level = if row.state == State::Expiring {
        "warning"
    } else {
        "error"
    };
    let detail = row.detail();
    let mut message = format!("{}: {}", row.registry, row.state.name());
    if !detail.is_empty() {
        message.push_str(&format!(" ({detail})"));
    }
    format!(
        "::{level} title=rtok status::{}",
        escape_workflow_data(&visible(&message))
    )
}

fn escape_workflow_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(state: State, error: Option<&str>) -> Row {
        Row {
            registry: "https://r.example/".into(),
            source: "/home/u/.npmrc:2".into(),
            storage: "file",
            variable: None,
            kind: Kind::Granular,
            user: None,
            expires: Some("2026-06-04T00:00:00.000Z".into()),
            last_used: None,
            publish_policy: None,
            state,
            error: error.map(str::to_string),
            credential: "npm_aBcD...7890".into(),
            client: Some(Client::Npm),
            scope: None,
            left: None,
            order: (0, String::new(), 0),
            provided: false,
        }
    }

    #[test]
    fn workflow_commands_name_the_registry_and_state() {
        let mut expiring = row(State::Expiring, None);
        expiring.left = Some(Duration::from_secs(3 * 86_400));
        assert_eq!(
            workflow_command(&expiring),
            "::warning title=rtok status::https://r.example/: expiring (expires on 2026-06-04, in 3 days)"
        );
        let rejected = row(
            State::Rejected,
            Some("GET x: 401 Unauthorized: 100% no\r\nmore"),
        );
        assert_eq!(
            workflow_command(&rejected),
            "::error title=rtok status::https://r.example/: rejected (GET x: 401 Unauthorized: 100%25 no^M^Jmore)"
        );
        assert_eq!(
            workflow_command(&row(State::Expired, None)),
            "::error title=rtok status::https://r.example/: expired (expired on 2026-06-04)"
        );
    }
}
