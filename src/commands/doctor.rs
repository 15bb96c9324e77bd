//! `rtok doctor`: for the current folder, which credential npm would use for
//! each registry that matters here (the configured one, and the registry of
//! the `package.json` name's scope), what it hides, and what is wrong, each
//! finding with a stable code and a hint that fixes it. It reads files,
//! asks git and the registries (side by side), and writes nothing. Which
//! credential each layer holds is the resolver's answer
//! (`Credentials::layered`); no credential goes over plain HTTP. For every
//! other client the folder uses (pnpm, yarn), the same question is asked
//! of `config::client_view`, by that client's own precedence.

mod files;
mod findings;
mod project;
mod providers;
mod report;
mod stage;

use std::time::SystemTime;

use anyhow::{Context, Result};
use futures_util::StreamExt;
use url::Url;

use super::check::{self, Checked};
use crate::config::Origin;
use crate::config::client_view::{Clients, Flavor};
use crate::config::credential::{AuthKind, Credential, CredentialError, Found};
use crate::config::credentials::LayerCredential;
use crate::display::{display_url, is_loopback};
use crate::failure::Failure;
use crate::output::Printer;
use crate::registry::RegistryError;
use crate::settings::Settings;
use crate::time;
use crate::tokens::health::{PLACEHOLDER_TOKEN, Severity, State};
use crate::tokens::judge::{self, EXPIRING_WITHIN};
use findings::{client_file_findings, file_findings, registry_findings};
use project::Package;
use report::{Doctor, entry};

/// A registry that matters in this folder.
struct Target {
    url: Url,
    /// What it serves: `registry` (the configured one) and/or `@scope`.
    serves: Vec<String>,
    /// The package `npm publish` sends here, if there is one to publish.
    publishes: Option<String>,
}

/// The credential npm uses for a target, and what asking about it found.
enum Winner {
    None,
    Unusable {
        origin: Option<Origin>,
        auth: AuthKind,
        err: CredentialError,
    },
    /// setup-node's placeholder: never sent anywhere.
    Placeholder(Found),
    /// For a registry over plain HTTP on another machine: not sent, so
    /// not checked.
    Unsent(Found),
    /// (Boxed: the other variants are small.)
    Checked(Found, Box<Checked>),
}

/// What trying a hidden credential on its own found.
struct Probed {
    state: State,
    user: Option<String>,
}

struct Examined {
    target: Target,
    winner: Winner,
    hidden: Vec<(LayerCredential, Option<Probed>)>,
    /// What each other client in use sends there.
    clients: Vec<ClientExamined>,
}

/// What another client (pnpm, yarn) sends to a target, by its own
/// precedence, and what asking the registry about it found.
struct ClientExamined {
    flavor: Flavor,
    winner: Option<Sent>,
    hidden: Vec<Sent>,
}

/// One credential a client sends or hides.
struct Sent {
    credential: LayerCredential,
    /// `None` when it was not asked about (unusable, or plain HTTP to
    /// another machine).
    checked: Option<Box<Checked>>,
}

impl Sent {
    /// Whether the registry accepted it.
    fn works(&self) -> bool {
        self.checked
            .as_ref()
            .is_some_and(|c| c.failure.is_none() && c.state != State::Expired)
    }

    fn found(&self) -> Option<&Found> {
        self.credential.found.as_ref().ok()
    }
}

/// Whether a credential for `url` would cross the network in the clear.
fn plain_http(url: &Url) -> bool {
    url.scheme() == "http" && !is_loopback(url)
}

pub(super) async fn run(settings: &Settings, printer: &Printer) -> Result<()> {
    let now = time::now();
    let cwd = std::env::current_dir().context("could not read the current folder")?;
    let root = crate::locate::project_prefix(&cwd);
    let package = match project::read(&root) {
        Ok(package) => package,
        Err(problem) => {
            printer.warn(&format!(
                "{problem}; the package's scope and publishing are not checked"
            ));
            None
        }
    };
    let in_use = project::clients_in_use(&root, package.as_ref());
    // pnpm's and yarn's files, read once; one that cannot be read stops
    // doctor as a broken .npmrc does (naming the file and line).
    let clients = Clients::read(&settings.config, &cwd)?;
    let others: Vec<Flavor> = in_use
        .iter()
        .map(|c| c.flavor)
        .filter(|f| *f != Flavor::Npm)
        .collect();
    let targets = targets(settings, package.as_ref(), printer);
    let examined: Vec<Examined> = futures_util::stream::iter(
        targets
            .into_iter()
            .map(|target| examine(settings, printer, target, now, &clients, &others)),
    )
    .buffered(check::CONCURRENCY)
    .collect()
    .await;

    let github = settings
        .config
        .env()
        .get("GITHUB_ACTIONS")
        .is_some_and(|v| v == "true");
    let mut findings = Vec::new();
    let mut unchecked: Vec<(String, &RegistryError)> = Vec::new();
    for ex in &examined {
        findings.extend(registry_findings(ex, github));
        if let Winner::Checked(_, checked) = &ex.winner
            && matches!(checked.state, State::Unreachable | State::Error)
            && let Some(err) = &checked.failure
        {
            unchecked.push((display_url(&ex.target.url), err));
        }
    }
    findings.extend(file_findings(settings, printer));
    findings.extend(client_file_findings(settings, &clients, &others)?);
    findings.extend(providers::findings(settings, now));
    // Errors first; within a severity, the order they were found in.
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));

    let report = Doctor {
        clients: in_use.iter().map(report::client_in_use).collect(),
        registries: examined.iter().map(entry).collect(),
        findings,
    };
    printer.emit(&report)?;

    if let Some(((registry, err), rest)) = unchecked.split_first() {
        for (other, err) in rest {
            printer.warn(&format!("could not check {other}: {err}"));
        }
        let mut failure = Failure::new(format!("could not check {registry}: {err}"));
        if let Some(hint) = err.hint() {
            failure = failure.hint(hint);
        }
        return Err(failure.into());
    }
    let errors = report.count(Severity::Error);
    if errors > 0 {
        return Err(Failure::new(format!(
            "{} found: {}",
            if errors == 1 {
                "1 error".to_string()
            } else {
                format!("{errors} errors")
            },
            report
                .findings
                .iter()
                .filter(|f| f.severity == Severity::Error)
                .map(|f| f.code)
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .hint("each finding above ends with the hint that fixes it")
        .into());
    }
    Ok(())
}

/// The registries that matter here: the configured one, and the one the
/// package's scope maps to (`@scope:registry`), if that is another.
fn targets(settings: &Settings, package: Option<&Package>, printer: &Printer) -> Vec<Target> {
    let publishes = package.filter(|p| !p.private).and_then(|p| p.name.clone());
    let scope = package
        .and_then(|p| p.name.as_deref())
        .and_then(judge::package_scope)
        .map(str::to_string);
    let mut configured = Target {
        url: settings.registry.clone(),
        serves: vec!["registry".to_string()],
        publishes: None,
    };
    let scope_url = scope.as_ref().and_then(|scope| {
        let key = format!("{scope}:registry");
        let setting = settings.config.get(&key).filter(|s| !s.value.is_empty())?;
        match Url::parse(setting.value.trim()) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => Some(url),
            _ => {
                printer.warn(&format!(
                    "`{key}` ({}) is not an http(s) URL; npm cannot use it",
                    setting.origin
                ));
                None
            }
        }
    });
    match (scope, scope_url) {
        (Some(scope), Some(url)) if url != configured.url => vec![
            configured,
            Target {
                url,
                serves: vec![scope],
                publishes,
            },
        ],
        (scope, _) => {
            configured.serves.extend(scope);
            configured.publishes = publishes;
            vec![configured]
        }
    }
}

/// Asks about the winning credential and every hidden one, side by side
/// (nothing is sent over plain HTTP to another machine).
async fn examine(
    settings: &Settings,
    printer: &Printer,
    target: Target,
    now: SystemTime,
    clients: &Clients,
    others: &[Flavor],
) -> Examined {
    let layered = settings.credentials.layered(&target.url);
    let url = &target.url;
    let unsent = plain_http(url);
    let winner = async {
        match layered.winner {
            Ok(None) => Winner::None,
            Err(err) => {
                let (auth, origin) = match layered.described {
                    Some((auth, origin)) => (auth, Some(origin)),
                    None => (AuthKind::Token, err.origin().cloned()),
                };
                Winner::Unusable { origin, auth, err }
            }
            Ok(Some(found))
                if found
                    .token()
                    .is_some_and(|t| t.expose() == PLACEHOLDER_TOKEN) =>
            {
                Winner::Placeholder(found)
            }
            Ok(Some(found)) if unsent => Winner::Unsent(found),
            Ok(Some(found)) => {
                let checked =
                    check::check(settings, printer, url, &found, now, EXPIRING_WITHIN).await;
                Winner::Checked(found, Box::new(checked))
            }
        }
    };
    let hidden = layered.shadowed;
    let probes = futures_util::stream::iter(
        hidden
            .iter()
            .map(|candidate| probe(settings, printer, url, candidate, unsent)),
    )
    .buffered(check::CONCURRENCY)
    .collect::<Vec<_>>();
    let scope = target
        .serves
        .iter()
        .find(|s| s.starts_with('@'))
        .map(String::as_str);
    let views = futures_util::future::join_all(others.iter().map(|flavor| {
        let view = clients.view(*flavor, &settings.credentials, url, scope);
        examine_client(settings, printer, url, view, unsent, now)
    }));
    let (winner, probes, clients) = futures_util::future::join3(winner, probes, views).await;
    Examined {
        hidden: hidden.into_iter().zip(probes).collect(),
        target,
        winner,
        clients,
    }
}

/// Asks the registry about what another client sends there and what it
/// hides, each credential alone (`check::check_alone`).
async fn examine_client(
    settings: &Settings,
    printer: &Printer,
    url: &Url,
    view: crate::config::client_view::ClientView,
    unsent: bool,
    now: SystemTime,
) -> ClientExamined {
    let ask = |credential: LayerCredential| async move {
        let checked = match &credential.found {
            Ok(found)
                if !unsent
                    && found
                        .token()
                        .is_none_or(|t| t.expose() != PLACEHOLDER_TOKEN) =>
            {
                Some(Box::new(
                    check::check_alone(settings, printer, url, found, now, EXPIRING_WITHIN).await,
                ))
            }
            _ => None,
        };
        Sent {
            credential,
            checked,
        }
    };
    let winner = match view.winner {
        Some(credential) => Some(ask(credential).await),
        None => None,
    };
    let hidden = futures_util::future::join_all(view.hidden.into_iter().map(ask)).await;
    ClientExamined {
        flavor: view.flavor,
        winner,
        hidden,
    }
}

/// `whoami` with a hidden credential on its own; `None` when it cannot be
/// tried by itself (a client certificate, an `_auth` that is no
/// `user:password`, a plain-HTTP registry on another machine).
async fn probe(
    settings: &Settings,
    printer: &Printer,
    url: &Url,
    candidate: &LayerCredential,
    unsent: bool,
) -> Option<Probed> {
    let found = match &candidate.found {
        Ok(found) => found,
        Err(
            err @ (CredentialError::UnsetVariable { .. }
            | CredentialError::MalformedReference { .. }),
        ) => {
            return Some(Probed {
                state: check::unusable_state(err),
                user: None,
            });
        }
        Err(_) => return None,
    };
    if unsent {
        return None;
    }
    enum Try {
        Bearer(crate::secret::Secret),
        Basic(String, crate::secret::Secret),
    }
    let attempt = match &found.credential {
        Some(Credential::Bearer(token)) => Try::Bearer(token.clone()),
        Some(basic @ Credential::Basic { .. }) => {
            let (username, password) = basic.basic_pair()?;
            Try::Basic(username, password)
        }
        None => return None,
    };
    let client = match super::connect::client_for(settings, printer, url, "whoami") {
        Ok(client) => client,
        Err(err) => {
            return Some(Probed {
                state: check::state_of(&err),
                user: None,
            });
        }
    };
    let answer = match attempt {
        Try::Bearer(token) => client.whoami_as(&token).await,
        Try::Basic(username, password) => client.whoami_as_basic(username, password).await,
    };
    Some(match answer {
        Ok(user) => Probed {
            state: State::Ok,
            user: Some(user),
        },
        Err(err) => Probed {
            state: check::state_of(&err),
            user: None,
        },
    })
}
