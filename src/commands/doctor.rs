//! `rtok doctor`: for the current folder, which credential npm would use for
//! each registry that matters here (the configured one, and the registry of
//! the `package.json` name's scope), what it hides, and what is wrong, each
//! finding with a stable code and a hint that fixes it. It reads files,
//! asks git and the registries (all at once), and writes nothing.

mod files;
mod layers;
mod project;

use std::io;
use std::time::SystemTime;

use anyhow::{Context, Result};
use serde::Serialize;
use url::Url;

use super::check::{self, Checked};
use crate::config::credentials::{AuthKind, CredentialError, Found};
use crate::config::{LayerKind, Origin, locate};
use crate::failure::Failure;
use crate::output::{Printer, Report, visible};
use crate::registry::{Problem, RegistryError, display_url, is_loopback};
use crate::settings::Settings;
use crate::time;
use crate::tokens::health::{self, Kind, PLACEHOLDER_TOKEN, Severity, State};
use crate::tokens::judge::{self, EXPIRING_WITHIN, Expiry};
use layers::{Candidate, Probe};
use project::Package;

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
    hidden: Vec<(Candidate, Option<Probed>)>,
}

/// One finding, as `--json` has it.
#[derive(Serialize)]
struct Finding {
    code: &'static str,
    severity: Severity,
    registry: Option<String>,
    source: Option<String>,
    message: String,
    hint: String,
}

/// A registry and its credentials, as `--json` has it.
#[derive(Serialize)]
struct RegistryEntry {
    registry: String,
    serves: Vec<String>,
    publishes: Option<String>,
    source: Option<String>,
    storage: Option<&'static str>,
    variable: Option<String>,
    kind: Option<Kind>,
    user: Option<String>,
    expires: Option<String>,
    state: Option<State>,
    error: Option<String>,
    hidden: Vec<HiddenEntry>,
}

#[derive(Serialize)]
struct HiddenEntry {
    source: String,
    storage: &'static str,
    variable: Option<String>,
    kind: Kind,
    /// `null` when it could not be tried on its own (a client certificate).
    state: Option<State>,
    user: Option<String>,
}

/// `{"registries": [...], "findings": [...]}`.
#[derive(Serialize)]
struct Doctor {
    registries: Vec<RegistryEntry>,
    findings: Vec<Finding>,
}

impl Report for Doctor {
    fn human(&self, printer: &Printer) -> io::Result<()> {
        let mut out = String::from("Registries:\n");
        for entry in &self.registries {
            out.push_str(&format!("  {}{}\n", entry.registry, roles(entry)));
            out.push_str(&format!("    uses   {}\n", credential_line(entry)));
            for hidden in &entry.hidden {
                let state = match (hidden.state, &hidden.user) {
                    (Some(State::Ok), Some(user)) => format!("ok as {}", visible(user)),
                    (Some(state), _) => state.name().to_string(),
                    (None, _) => "not checked".to_string(),
                };
                out.push_str(&format!(
                    "    hides  {}: {}, {state}\n",
                    hidden.source,
                    hidden.kind.name()
                ));
            }
        }
        if !self.findings.is_empty() {
            out.push_str("\nFindings:\n");
            for finding in &self.findings {
                let registry = finding.registry.as_deref().unwrap_or("");
                out.push_str(&format!(
                    "  {:<8} {}  {registry}\n    {}\n    hint: {}\n",
                    finding.severity.name(),
                    finding.code,
                    visible(&finding.message),
                    visible(&finding.hint)
                ));
            }
        }
        printer.data(out.trim_end())?;
        // With errors, the `error:` line that ends the run says it all.
        if self.count(Severity::Error) == 0 {
            printer.status(&self.summary());
        }
        Ok(())
    }

    /// One finding a line: severity, code, registry, source, message, hint.
    fn parseable(&self, printer: &Printer) -> io::Result<()> {
        printer.data("severity\tcode\tregistry\tsource\tmessage\thint")?;
        for f in &self.findings {
            let line = [
                f.severity.name(),
                f.code,
                f.registry.as_deref().unwrap_or(""),
                f.source.as_deref().unwrap_or(""),
                &f.message,
                &f.hint,
            ]
            .map(|field| visible(field).into_owned())
            .join("\t");
            printer.data(&line)?;
        }
        Ok(())
    }
}

impl Doctor {
    fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    /// `No problems found.`, or `2 warnings, 1 note.`
    fn summary(&self) -> String {
        let parts: Vec<String> = [
            (Severity::Error, "error"),
            (Severity::Warning, "warning"),
            (Severity::Info, "note"),
        ]
        .into_iter()
        .filter_map(|(severity, word)| match self.count(severity) {
            0 => None,
            1 => Some(format!("1 {word}")),
            n => Some(format!("{n} {word}s")),
        })
        .collect();
        if parts.is_empty() {
            "No problems found.".to_string()
        } else {
            format!("{}.", parts.join(", "))
        }
    }
}

/// ` (the configured registry, @acme; publishes @acme/tool)`.
fn roles(entry: &RegistryEntry) -> String {
    let serves: Vec<String> = entry
        .serves
        .iter()
        .map(|s| match s.as_str() {
            "registry" => "the configured registry".to_string(),
            scope => format!("{scope} packages"),
        })
        .collect();
    let mut text = serves.join(", ");
    if let Some(package) = &entry.publishes {
        text.push_str(&format!("; publishes {}", visible(package)));
    }
    format!(" ({text})")
}

/// `~/.npmrc:2: session token of alice, expires 2026-12-01`.
fn credential_line(entry: &RegistryEntry) -> String {
    let (Some(source), Some(kind), Some(state)) = (&entry.source, entry.kind, entry.state) else {
        return "no credential".to_string();
    };
    let what = kind_words(kind);
    let mut line = match (&entry.user, state) {
        (Some(user), State::Ok) => format!("{source}: {what} of {}", visible(user)),
        (Some(user), state) => format!("{source}: {what} of {}, {}", visible(user), state.name()),
        (None, state) => format!("{source}: {what}, {}", state.name()),
    };
    if let Some(at) = &entry.expires {
        line.push_str(&format!(", expires {}", time::date(at)));
    }
    line
}

/// How messages name a kind of credential.
fn kind_words(kind: Kind) -> &'static str {
    match kind {
        Kind::Session => "session token",
        Kind::Granular => "granular token",
        Kind::Token => "token",
        Kind::Basic => "user name and password",
        Kind::ClientCertificate => "client certificate",
    }
}

pub(super) async fn run(settings: &Settings, printer: &Printer) -> Result<()> {
    let now = time::now();
    let cwd = std::env::current_dir().context("could not read the current folder")?;
    let root = locate::project_prefix(&cwd);
    let package = match project::read(&root) {
        Ok(package) => package,
        Err(problem) => {
            printer.warn(&format!(
                "{problem}; the package's scope and publishing are not checked"
            ));
            None
        }
    };
    let targets = targets(settings, package.as_ref(), printer);
    let examined: Vec<Examined> = futures_util::future::join_all(
        targets
            .into_iter()
            .map(|target| examine(settings, printer, target, now)),
    )
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
    // Errors first; within a severity, the order they were found in.
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));

    let report = Doctor {
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

/// Asks about the winning credential and every hidden one, all at once.
async fn examine(
    settings: &Settings,
    printer: &Printer,
    target: Target,
    now: SystemTime,
) -> Examined {
    let winner = settings.credentials.for_url(&target.url);
    let winner_origin = match &winner {
        Ok(Some(found)) => Some(found.origin.clone()),
        Err(
            CredentialError::UnsetVariable { origin, .. }
            | CredentialError::BadBase64 { origin, .. },
        ) => Some(origin.clone()),
        _ => None,
    };
    let hidden: Vec<Candidate> = layers::candidates(&settings.config, &target.url)
        .into_iter()
        .filter(|c| Some(&c.origin) != winner_origin.as_ref())
        .collect();
    let unusable_auth = layers::candidates(&settings.config, &target.url)
        .into_iter()
        .find(|c| Some(&c.origin) == winner_origin.as_ref())
        .map_or(AuthKind::Token, |c| c.auth);
    let url = &target.url;
    let winner = async {
        match winner {
            Ok(None) => Winner::None,
            Err(err) => Winner::Unusable {
                origin: winner_origin.clone(),
                auth: unusable_auth,
                err,
            },
            Ok(Some(found))
                if found
                    .token()
                    .is_some_and(|t| t.expose() == PLACEHOLDER_TOKEN) =>
            {
                Winner::Placeholder(found)
            }
            Ok(Some(found)) => {
                let checked =
                    check::check(settings, printer, url, &found, now, EXPIRING_WITHIN).await;
                Winner::Checked(found, Box::new(checked))
            }
        }
    };
    let probes = futures_util::future::join_all(
        hidden
            .iter()
            .map(|candidate| probe(settings, printer, url, candidate)),
    );
    let (winner, probes) = futures_util::future::join(winner, probes).await;
    Examined {
        hidden: hidden.into_iter().zip(probes).collect(),
        target,
        winner,
    }
}

/// `whoami` with a hidden credential on its own.
async fn probe(
    settings: &Settings,
    printer: &Printer,
    url: &Url,
    candidate: &Candidate,
) -> Option<Probed> {
    if candidate.unset.is_some() {
        return Some(Probed {
            state: State::UnsetVariable,
            user: None,
        });
    }
    let client = match super::connect::client_for(settings, printer, url, "whoami") {
        Ok(client) => client,
        Err(err) => {
            return Some(Probed {
                state: check::state_of(&err),
                user: None,
            });
        }
    };
    let answer = match &candidate.probe {
        Probe::Bearer(token) => client.whoami_as(token).await,
        Probe::Basic { username, password } => {
            client
                .whoami_as_basic(username.clone(), password.clone())
                .await
        }
        Probe::None => return None,
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

/// The JSON and human view of one examined registry.
fn entry(ex: &Examined) -> RegistryEntry {
    let mut entry = RegistryEntry {
        registry: display_url(&ex.target.url),
        serves: ex.target.serves.clone(),
        publishes: ex.target.publishes.clone(),
        source: None,
        storage: None,
        variable: None,
        kind: None,
        user: None,
        expires: None,
        state: None,
        error: None,
        hidden: ex
            .hidden
            .iter()
            .map(|(candidate, probed)| HiddenEntry {
                source: candidate.origin.to_string(),
                storage: candidate.origin.storage(),
                variable: candidate.origin.variable().map(str::to_string),
                kind: check::kind_of(candidate.auth),
                state: probed.as_ref().map(|p| p.state),
                user: probed.as_ref().and_then(|p| p.user.clone()),
            })
            .collect(),
    };
    let mut credential = |origin: &Origin, kind: Kind, state: State| {
        entry.source = Some(origin.to_string());
        entry.storage = Some(origin.storage());
        entry.variable = origin.variable().map(str::to_string);
        entry.kind = Some(kind);
        entry.state = Some(state);
    };
    match &ex.winner {
        Winner::None => {}
        Winner::Unusable { origin, auth, err } => {
            if let Some(origin) = origin {
                credential(origin, check::kind_of(*auth), unusable_state(err));
            }
            entry.error = Some(err.to_string());
        }
        Winner::Placeholder(found) => {
            credential(&found.origin, Kind::Token, State::Rejected);
            entry.error = Some("setup-node's placeholder token".to_string());
        }
        Winner::Checked(found, checked) => {
            credential(&found.origin, checked.kind, checked.state);
            entry.user = checked.user.clone();
            entry.error = checked.failure.as_ref().map(RegistryError::to_string);
            entry.expires = checked.expiry.at().map(time::to_iso8601);
        }
    }
    entry
}

fn unusable_state(err: &CredentialError) -> State {
    match err {
        CredentialError::UnsetVariable { .. } => State::UnsetVariable,
        _ => State::Error,
    }
}

/// Whether `whoami` was refused because of where the request came from:
/// the `ipaddress` challenge, a 403 that says so, or any 403 from an
/// npmjs-shaped registry (npmjs answers a CIDR-limited token's request from
/// elsewhere with a bare 403). Verdaccio answers a revoked token with 403
/// too ("unauthorized access"): there it is a rejection.
fn ip_restricted(err: &RegistryError, npmjs: bool) -> bool {
    match err.problem() {
        Some(Problem::IpNotAllowed) => true,
        Some(Problem::Status { status, detail }) if status.as_u16() == 403 => {
            let detail = detail.to_ascii_lowercase();
            npmjs
                || ["ip address", "cidr", "whitelist", "allowlist", "allowed ip"]
                    .iter()
                    .any(|word| detail.contains(word))
        }
        _ => false,
    }
}

/// How to replace a credential, by where it lives.
fn replace_hint(origin: &Origin, registry: &str) -> String {
    match origin {
        Origin::File {
            variable: Some(var),
            ..
        } => format!(
            "put a valid token in `${var}` (in CI, update the secret it comes from; `rtok token create` makes one), or run `rtok login --registry {registry}`"
        ),
        Origin::Env { var } => format!(
            "set `{var}` to a valid token (in CI, update the secret it comes from), or unset it and run `rtok login --registry {registry}`"
        ),
        Origin::File {
            layer: LayerKind::User,
            ..
        } => format!(
            "run `rtok login --registry {registry}` to replace it, or fix the token at {}",
            origin.place()
        ),
        // `login` writes the user config, which a project file overrides.
        Origin::File { path, line, .. } => format!(
            "put a valid token at {}, or remove line {line} of {} and run `rtok login --registry {registry}`",
            origin.place(),
            path.display()
        ),
        other => format!(
            "replace the credential from {other}, or run `rtok login --registry {registry}`"
        ),
    }
}

/// How to get rid of a credential, by where it lives.
fn removal(origin: &Origin) -> String {
    match origin {
        Origin::Env { var } => format!("unset `{var}`"),
        Origin::File { path, line, .. } => format!("remove line {line} of {}", path.display()),
        other => format!("remove the credential from {other}"),
    }
}

/// What npm makes of a rejected publish token.
const E404: &str = "npm reports this as `E404 Not Found - PUT` when publishing, which reads like a missing package";

/// The findings about one registry's credentials.
fn registry_findings(ex: &Examined, github: bool) -> Vec<Finding> {
    let registry = display_url(&ex.target.url);
    let mut findings = Vec::new();
    let mut add = |code, severity, source: Option<&Origin>, message: String, hint: String| {
        findings.push(Finding {
            code,
            severity,
            registry: Some(registry.clone()),
            source: source.map(Origin::to_string),
            message,
            hint,
        });
    };
    let winner_origin = match &ex.winner {
        Winner::None => None,
        Winner::Unusable { origin, .. } => origin.as_ref(),
        Winner::Placeholder(found) | Winner::Checked(found, _) => Some(&found.origin),
    };
    match &ex.winner {
        Winner::None => {
            let login = match ex.target.serves.iter().find(|s| s.starts_with('@')) {
                Some(scope) if !ex.target.serves.iter().any(|s| s == "registry") => {
                    format!("run `rtok login --scope {scope}`")
                }
                _ => format!("run `rtok login --registry {registry}`"),
            };
            add(
                "no-credential",
                Severity::Info,
                None,
                format!(
                    "npm has no credential for {registry}: public packages install, but publishing and private packages need one"
                ),
                login,
            );
        }
        Winner::Unusable { origin, err, .. } => match err {
            CredentialError::UnsetVariable { key, var, .. } => {
                let place = origin.as_ref().map(Origin::place).unwrap_or_default();
                let hint = if github {
                    format!(
                        "pass the secret to this step: `env: {var}: ${{{{ secrets.{var} }}}}` in the workflow, or remove the line"
                    )
                } else {
                    format!("set `{var}` in the environment, or remove or fix that line")
                };
                add(
                    "unset-variable",
                    Severity::Error,
                    origin.as_ref(),
                    format!(
                        "`{key}` ({place}) refers to `${{{var}}}`, which is not set: npm sends the text `${{{var}}}` as the token and the registry rejects it"
                    ),
                    hint,
                );
            }
            // Bad base64 and the like: the credential cannot be sent at all.
            other => add(
                "rejected",
                Severity::Error,
                origin.as_ref(),
                format!("{other}, so npm cannot authenticate to {registry}"),
                other.hint(),
            ),
        },
        Winner::Placeholder(found) => {
            let holder = match found.origin.variable() {
                Some(var) => format!("`${var}`"),
                None => "the token".to_string(),
            };
            add(
                "placeholder-token",
                Severity::Error,
                Some(&found.origin),
                format!(
                    "{holder} is setup-node's placeholder `{PLACEHOLDER_TOKEN}`: the workflow gave it no secret, so the registry rejects it; {E404}"
                ),
                "pass the secret to the step (`env: NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}`), or publish with trusted publishing (`rtok oidc token`) and no stored token".into(),
            );
        }
        Winner::Checked(found, checked) => {
            let source = found.origin.to_string();
            let what = kind_words(checked.kind);
            if let Some(err) = &checked.failure
                && checked.state == State::Rejected
            {
                let said = err
                    .problem()
                    .map_or_else(|| err.to_string(), |p| p.to_string());
                let npmjs = health::npmjs_shaped(&ex.target.url, found.token().map(|t| t.expose()));
                if ip_restricted(err, npmjs) {
                    add(
                        "ip-restricted",
                        Severity::Warning,
                        Some(&found.origin),
                        format!(
                            "the registry refused the {what} from {source} ({}): it is limited to IP ranges (CIDR) this machine is not in",
                            visible(&said)
                        ),
                        "use it from an allowed address, or create one for this machine with `rtok token create --cidr <range>`".into(),
                    );
                } else {
                    let e404 = if found.token().is_some() {
                        format!("; {E404}")
                    } else {
                        String::new()
                    };
                    add(
                        "rejected",
                        Severity::Error,
                        Some(&found.origin),
                        format!(
                            "the registry rejected the {what} from {source} ({}): it has expired, been revoked, or belongs to another registry{e404}",
                            visible(&said)
                        ),
                        replace_hint(&found.origin, &registry),
                    );
                }
            }
            let id = checked
                .entry()
                .map(|e| e.id().unwrap_or(e.key()).to_string())
                .unwrap_or_default();
            match checked.expiry {
                Expiry::Expired { at } => add(
                    "expired",
                    Severity::Error,
                    Some(&found.origin),
                    format!("the {what} from {source} expired on {}; {E404}", date(at)),
                    format!(
                        "`rtok token rotate {id}` replaces it, or run `rtok login --registry {registry}`"
                    ),
                ),
                Expiry::Expiring { at, left } => add(
                    "expiring",
                    Severity::Warning,
                    Some(&found.origin),
                    format!(
                        "the {what} from {source} expires on {}, in {}",
                        date(at),
                        judge::plural_days(left)
                    ),
                    format!("`rtok token rotate {id}` replaces it now"),
                ),
                Expiry::Unknown | Expiry::Later { .. } => {}
            }
            if let (Some(package), Some(entry)) = (&ex.target.publishes, checked.entry()) {
                let shown = visible(package);
                if !judge::is_write(entry) {
                    add(
                        "read-only",
                        Severity::Warning,
                        Some(&found.origin),
                        format!(
                            "the {what} from {source} is read-only, so `npm publish` of {shown} fails"
                        ),
                        format!(
                            "create a publish token with `rtok token create --packages {shown} --packages-and-scopes-permission read-write`, or run `rtok login --registry {registry}`"
                        ),
                    );
                } else if !judge::covers_package(entry, package) {
                    let covered: Vec<String> = entry
                        .scopes()
                        .iter()
                        .map(|(kind, name)| format!("{kind} {}", visible(name)))
                        .collect();
                    let covered = if covered.is_empty() {
                        "no packages".to_string()
                    } else {
                        covered.join(", ")
                    };
                    add(
                        "package-not-covered",
                        Severity::Warning,
                        Some(&found.origin),
                        format!(
                            "the {what} from {source} does not cover {shown} (it covers {covered}), so `npm publish` of it fails"
                        ),
                        format!(
                            "create a token that covers it: `rtok token create --packages {shown} --packages-and-scopes-permission read-write`"
                        ),
                    );
                }
            }
        }
    }
    if ex.target.url.scheme() == "http"
        && !is_loopback(&ex.target.url)
        && let Some(origin) = winner_origin
    {
        add(
            "plain-http",
            Severity::Warning,
            Some(origin),
            format!(
                "the credential for {registry} goes over plain HTTP, which anyone on the network path can read"
            ),
            format!("use the registry's https:// URL in place of {registry}"),
        );
    }
    let winner_rejected = match &ex.winner {
        Winner::Checked(_, checked) => checked.state == State::Rejected,
        Winner::Placeholder(_) | Winner::Unusable { .. } => true,
        Winner::None => false,
    };
    for (candidate, probed) in &ex.hidden {
        let Some(winner) = winner_origin else { break };
        let hidden = candidate.origin.to_string();
        let works = probed.as_ref().is_some_and(|p| p.state == State::Ok);
        if winner_rejected && works {
            let user = probed
                .as_ref()
                .and_then(|p| p.user.as_deref())
                .map(|u| format!(" (user {})", visible(u)))
                .unwrap_or_default();
            add(
                "shadowed-credential",
                Severity::Error,
                Some(winner),
                format!(
                    "npm uses the credential from {winner}, which does not work, and not the working one from {hidden}{user}"
                ),
                format!(
                    "{} so that npm uses the one from {}",
                    removal(winner),
                    candidate.origin.place()
                ),
            );
        } else {
            let state = match probed {
                Some(p) if p.state != State::Ok => {
                    format!(" (which does not work either: {})", p.state.name())
                }
                _ => String::new(),
            };
            add(
                "shadowed-credential",
                Severity::Warning,
                Some(winner),
                format!(
                    "the credential from {winner} hides another one for {registry} at {hidden}{state}; npm never uses the hidden one"
                ),
                format!("{} if it is no longer needed", removal(&candidate.origin)),
            );
        }
    }
    findings
}

/// Findings about the config files themselves: literal tokens in files git
/// tracks, and files other users can read.
fn file_findings(settings: &Settings, printer: &Printer) -> Vec<Finding> {
    let known = check::known_registries(settings);
    let secrets = files::literal_secrets(&settings.config);
    let mut findings = Vec::new();
    let mut seen_files: Vec<&std::path::Path> = Vec::new();
    for secret in &secrets {
        let registry = secret
            .key
            .rsplit_once(':')
            .map(|(prefix, _)| display_url(&check::registry_for(prefix, &known)));
        let source = format!("{}:{}", secret.path.display(), secret.line);
        let first_in_file = !seen_files.contains(&secret.path.as_path());
        if first_in_file {
            seen_files.push(&secret.path);
        }
        match files::git_tracks(&secret.path) {
            files::Tracked::Yes => findings.push(Finding {
                code: "literal-token-in-git",
                severity: Severity::Error,
                registry: registry.clone(),
                source: Some(source.clone()),
                message: format!(
                    "{source} holds a literal `{}` and git tracks {}: everyone with the repository has it",
                    field(&secret.key),
                    secret.path.display()
                ),
                hint: format!(
                    "revoke it (`rtok scan --git-history --revoke` finds every copy), then write `{}=${{NPM_TOKEN}}` instead (`git rm --cached` the file if it should not be in git)",
                    secret.key
                ),
            }),
            files::Tracked::No => {}
            files::Tracked::Unknown(why) if first_in_file => {
                printer.verbose(&format!(
                    "could not ask git whether it tracks {}: {why}",
                    secret.path.display()
                ));
            }
            files::Tracked::Unknown(_) => {}
        }
        if first_in_file && let Some(mode) = files::open_to_others(&secret.path) {
            findings.push(Finding {
                code: "readable-by-others",
                severity: Severity::Warning,
                registry,
                source: Some(secret.path.display().to_string()),
                message: format!(
                    "{} holds a credential and other users can read it (mode {mode:04o})",
                    secret.path.display()
                ),
                hint: format!("run `chmod 600 {}`", secret.path.display()),
            });
        }
    }
    findings
}

/// `_authToken` of `//host/:_authToken`.
fn field(key: &str) -> &str {
    key.rsplit_once(':').map_or(key, |(_, field)| field)
}

fn date(at: SystemTime) -> String {
    time::date(&time::to_iso8601(at))
}
