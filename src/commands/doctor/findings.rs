//! `doctor`'s findings: the stable codes of the contract, each with its
//! severity, message and the hint that fixes it. Messages name where a
//! credential lives, never the credential.

use std::time::SystemTime;

use super::report::{Finding, kind_words};
use super::{ClientExamined, Examined, Sent, Winner, files};
use crate::config::child_config::{Handed, Route};
use crate::config::child_yarn;
use crate::config::client_view::{self, Clients, Flavor};
use crate::config::credential::{Credential, CredentialError, Found};
use crate::config::{LayerKind, Origin};
use crate::display::{display_url, is_loopback};
use crate::output::{Printer, visible};
use crate::registry::Refusal;
use crate::settings::Settings;
use crate::time;
use crate::tokens::health::{self, PLACEHOLDER_TOKEN, Severity, State};
use crate::tokens::judge::{self, Expiry};

use crate::commands::check;

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

/// What every finding about one registry needs.
struct Context<'a> {
    ex: &'a Examined,
    /// The registry as shown.
    registry: String,
    /// On GitHub Actions (hints name the workflow's secrets).
    github: bool,
}

impl Context<'_> {
    fn finding(
        &self,
        code: &'static str,
        severity: Severity,
        source: Option<&Origin>,
        message: String,
        hint: String,
    ) -> Finding {
        Finding {
            code,
            severity,
            registry: Some(self.registry.clone()),
            source: source.map(Origin::to_string),
            message,
            hint,
        }
    }

    /// Where the credential npm uses for this registry was written.
    fn winner_origin(&self) -> Option<&Origin> {
        match &self.ex.winner {
            Winner::None => None,
            Winner::Unusable { origin, .. } => origin.as_ref(),
            Winner::Placeholder(found) | Winner::Unsent(found) | Winner::Checked(found, _) => {
                Some(&found.origin)
            }
        }
    }
}

/// One check per finding code (or pair of codes that exclude each other),
/// in the order their findings are listed.
type Check = fn(&Context) -> Vec<Finding>;

const REGISTRY_CHECKS: [Check; 15] = [
    stored_credential,
    no_credential,
    unset_variable,
    malformed_reference,
    unusable,
    placeholder_token,
    unreachable,
    rejected_or_ip_restricted,
    expired_or_expiring,
    read_only_or_not_covered,
    plain_http,
    shadowed_credential,
    shadowed_by_client_file,
    client_disagreement,
    yarn_needs_yarnrc,
];

/// The findings about one registry's credentials.
pub(super) fn registry_findings(ex: &Examined, github: bool) -> Vec<Finding> {
    let context = Context {
        ex,
        registry: display_url(&ex.target.url),
        github,
    };
    REGISTRY_CHECKS
        .iter()
        .flat_map(|check| check(&context))
        .chain(super::stage::direct_publish(ex))
        .collect()
}

/// rtok found it in its own settings: npm cannot see it there.
fn stored_credential(cx: &Context) -> Vec<Finding> {
    let Some(origin @ (Origin::Keyring | Origin::Command { .. })) = cx.winner_origin() else {
        return Vec::new();
    };
    let registry = &cx.registry;
    vec![cx.finding(
        "stored-credential",
        Severity::Info,
        Some(origin),
        format!(
            "the credential for {registry} comes from {origin}, which npm itself cannot read: rtok uses it, and npm, pnpm or yarn do when run through `rtok exec`"
        ),
        match origin {
            Origin::Keyring => "run them as `rtok exec -- npm publish` (add `--ignore-scripts` for installs), or write the token back to ~/.npmrc with `rtok keyring export`".into(),
            _ => "run them as `rtok exec -- npm publish` (add `--ignore-scripts` for installs)".into(),
        },
    )]
}

fn no_credential(cx: &Context) -> Vec<Finding> {
    if !matches!(cx.ex.winner, Winner::None) {
        return Vec::new();
    }
    let registry = &cx.registry;
    let serves = &cx.ex.target.serves;
    let login = match serves.iter().find(|s| s.starts_with('@')) {
        Some(scope) if !serves.iter().any(|s| s == "registry") => {
            format!("run `rtok login --scope {scope}`")
        }
        _ => format!("run `rtok login --registry {registry}`"),
    };
    vec![cx.finding(
        "no-credential",
        Severity::Info,
        None,
        format!(
            "npm has no credential for {registry}: public packages install, but publishing and private packages need one"
        ),
        login,
    )]
}

fn unset_variable(cx: &Context) -> Vec<Finding> {
    let Winner::Unusable {
        origin,
        err: CredentialError::UnsetVariable { key, var, .. },
        ..
    } = &cx.ex.winner
    else {
        return Vec::new();
    };
    let place = origin.as_ref().map(Origin::place).unwrap_or_default();
    let hint = if cx.github {
        format!(
            "pass the secret to this step: `env: {var}: ${{{{ secrets.{var} }}}}` in the workflow, or remove the line"
        )
    } else {
        format!("set `{var}` in the environment, or remove or fix that line")
    };
    vec![cx.finding(
        "unset-variable",
        Severity::Error,
        origin.as_ref(),
        format!(
            "`{key}` ({place}) refers to `${{{var}}}`, which is not set: npm sends the text `${{{var}}}` as the token and the registry rejects it"
        ),
        hint,
    )]
}

/// `${NPM_TOKEN` (no closing brace): rtok sends nothing, npm sends the text.
fn malformed_reference(cx: &Context) -> Vec<Finding> {
    let Winner::Unusable {
        origin,
        err: err @ CredentialError::MalformedReference { key, .. },
        ..
    } = &cx.ex.winner
    else {
        return Vec::new();
    };
    let place = origin.as_ref().map(Origin::place).unwrap_or_default();
    vec![cx.finding(
        "malformed-reference",
        Severity::Error,
        origin.as_ref(),
        format!(
            "`{key}` ({place}) has a `${{` that no `}}` closes: it is neither a token nor a `${{VAR}}` reference, so rtok sends nothing, and npm sends the text itself, which the registry rejects"
        ),
        err.hint(),
    )]
}

/// Bad base64 and the like: the credential cannot be sent at all.
fn unusable(cx: &Context) -> Vec<Finding> {
    let Winner::Unusable { origin, err, .. } = &cx.ex.winner else {
        return Vec::new();
    };
    // A provider that fails is `provider-failed` (doctor/providers.rs).
    if matches!(
        err,
        CredentialError::UnsetVariable { .. }
            | CredentialError::MalformedReference { .. }
            | CredentialError::Command(_)
    ) {
        return Vec::new();
    }
    vec![cx.finding(
        "rejected",
        Severity::Error,
        origin.as_ref(),
        format!("{err}, so npm cannot authenticate to {}", cx.registry),
        err.hint(),
    )]
}

fn placeholder_token(cx: &Context) -> Vec<Finding> {
    let Winner::Placeholder(found) = &cx.ex.winner else {
        return Vec::new();
    };
    let holder = match found.origin.variable() {
        Some(var) => format!("`${var}`"),
        None => "the token".to_string(),
    };
    vec![cx.finding(
        "placeholder-token",
        Severity::Error,
        Some(&found.origin),
        format!(
            "{holder} is setup-node's placeholder `{PLACEHOLDER_TOKEN}`: the workflow gave it no secret, so the registry rejects it; {E404}"
        ),
        "pass the secret to the step (`env: NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}`), or publish with trusted publishing (`rtok oidc token`) and no stored token".into(),
    )]
}

/// The registry could not be asked (no connection, a broken answer): an
/// error, as the exit code says.
fn unreachable(cx: &Context) -> Vec<Finding> {
    let Winner::Checked(found, checked) = &cx.ex.winner else {
        return Vec::new();
    };
    let (Some(err), State::Unreachable | State::Error) = (&checked.failure, checked.state) else {
        return Vec::new();
    };
    let code = match checked.state {
        State::Unreachable => "unreachable",
        _ => "check-failed",
    };
    vec![cx.finding(
        code,
        Severity::Error,
        Some(&found.origin),
        format!(
            "could not check the credential from {} with {}: {}",
            found.origin,
            cx.registry,
            visible(&err.to_string())
        ),
        err.hint().unwrap_or_else(|| {
            "check the registry URL, your network and proxy settings, then run `rtok doctor` again"
                .into()
        }),
    )]
}

fn rejected_or_ip_restricted(cx: &Context) -> Vec<Finding> {
    let Winner::Checked(found, checked) = &cx.ex.winner else {
        return Vec::new();
    };
    let (Some(err), State::Rejected) = (&checked.failure, checked.state) else {
        return Vec::new();
    };
    let source = found.origin.to_string();
    let what = kind_words(checked.kind);
    let said = err
        .problem()
        .map_or_else(|| err.to_string(), |p| p.to_string());
    let npmjs = health::npmjs_shaped(&cx.ex.target.url, found.token().map(|t| t.expose()));
    if err.refusal_speaking_npmjs(npmjs) == Some(Refusal::IpRestricted) {
        return vec![cx.finding(
            "ip-restricted",
            Severity::Warning,
            Some(&found.origin),
            format!(
                "the registry refused the {what} from {source} ({}): it is limited to IP ranges (CIDR) this machine is not in",
                visible(&said)
            ),
            "use it from an allowed address, or create one for this machine with `rtok token create --cidr <range>`".into(),
        )];
    }
    let e404 = if found.token().is_some() {
        format!("; {E404}")
    } else {
        String::new()
    };
    vec![cx.finding(
        "rejected",
        Severity::Error,
        Some(&found.origin),
        format!(
            "the registry rejected the {what} from {source} ({}): it has expired, been revoked, or belongs to another registry{e404}",
            visible(&said)
        ),
        replace_hint(&found.origin, &cx.registry),
    )]
}

fn expired_or_expiring(cx: &Context) -> Vec<Finding> {
    let Winner::Checked(found, checked) = &cx.ex.winner else {
        return Vec::new();
    };
    let source = found.origin.to_string();
    let what = kind_words(checked.kind);
    let registry = &cx.registry;
    let id = checked
        .entry()
        .map(|e| e.id().unwrap_or(e.key()).to_string())
        .unwrap_or_default();
    match checked.expiry {
        Expiry::Expired { at } => vec![cx.finding(
            "expired",
            Severity::Error,
            Some(&found.origin),
            format!("the {what} from {source} expired on {}; {E404}", date(at)),
            format!(
                "`rtok token rotate {id}` replaces it, or run `rtok login --registry {registry}`"
            ),
        )],
        Expiry::Expiring { at, left } => vec![cx.finding(
            "expiring",
            Severity::Warning,
            Some(&found.origin),
            format!(
                "the {what} from {source} expires on {}, in {}",
                date(at),
                judge::plural_days(left)
            ),
            format!("`rtok token rotate {id}` replaces it now"),
        )],
        Expiry::Unknown | Expiry::Later { .. } => Vec::new(),
    }
}

fn read_only_or_not_covered(cx: &Context) -> Vec<Finding> {
    let Winner::Checked(found, checked) = &cx.ex.winner else {
        return Vec::new();
    };
    let (Some(package), Some(entry)) = (&cx.ex.target.publishes, checked.entry()) else {
        return Vec::new();
    };
    let source = found.origin.to_string();
    let what = kind_words(checked.kind);
    let registry = &cx.registry;
    let shown = visible(package);
    if !judge::is_write(entry) {
        return vec![cx.finding(
            "read-only",
            Severity::Warning,
            Some(&found.origin),
            format!("the {what} from {source} is read-only, so `npm publish` of {shown} fails"),
            format!(
                "create a publish token with `rtok token create --packages {shown} --packages-and-scopes-permission read-write`, or run `rtok login --registry {registry}`"
            ),
        )];
    }
    if judge::covers_package(entry, package) {
        return Vec::new();
    }
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
    vec![cx.finding(
        "package-not-covered",
        Severity::Warning,
        Some(&found.origin),
        format!(
            "the {what} from {source} does not cover {shown} (it covers {covered}), so `npm publish` of it fails"
        ),
        format!(
            "create a token that covers it: `rtok token create --packages {shown} --packages-and-scopes-permission read-write`"
        ),
    )]
}

/// A credential for a plain-HTTP registry on another machine (which doctor
/// itself does not send, so it is not checked).
fn plain_http(cx: &Context) -> Vec<Finding> {
    let url = &cx.ex.target.url;
    let Some(origin) = cx.winner_origin() else {
        return Vec::new();
    };
    if url.scheme() != "http" || is_loopback(url) {
        return Vec::new();
    }
    let registry = &cx.registry;
    vec![cx.finding(
        "plain-http",
        Severity::Warning,
        Some(origin),
        format!(
            "the credential for {registry} goes over plain HTTP, which anyone on the network path can read (rtok did not send it, so it is not checked)"
        ),
        format!("use the registry's https:// URL in place of {registry}"),
    )]
}

fn shadowed_credential(cx: &Context) -> Vec<Finding> {
    let Some(winner) = cx.winner_origin() else {
        return Vec::new();
    };
    let winner_rejected = match &cx.ex.winner {
        Winner::Checked(_, checked) => checked.state == State::Rejected,
        Winner::Placeholder(_) | Winner::Unusable { .. } => true,
        Winner::None | Winner::Unsent(_) => false,
    };
    let registry = &cx.registry;
    cx.ex
        .hidden
        .iter()
        .map(|(candidate, probed)| {
            let hidden = candidate.origin.to_string();
            let works = probed.as_ref().is_some_and(|p| p.state == State::Ok);
            if winner_rejected && works {
                let user = probed
                    .as_ref()
                    .and_then(|p| p.user.as_deref())
                    .map(|u| format!(" (user {})", visible(u)))
                    .unwrap_or_default();
                return cx.finding(
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
            }
            let state = match probed {
                Some(p) if p.state != State::Ok => {
                    format!(" (which does not work either: {})", p.state.name())
                }
                _ => String::new(),
            };
            cx.finding(
                "shadowed-credential",
                Severity::Warning,
                Some(winner),
                format!(
                    "the credential from {winner} hides another one for {registry} at {hidden}{state}; npm never uses the hidden one"
                ),
                format!("{} if it is no longer needed", removal(&candidate.origin)),
            )
        })
        .collect()
}

/// What goes into the `Authorization` header (scheme and value), to
/// compare two clients' credentials without showing either.
fn header_value(found: &Found) -> Option<(&'static str, &str)> {
    match &found.credential {
        Some(Credential::Bearer(token)) => Some(("Bearer", token.expose())),
        Some(Credential::Basic { encoded, .. }) => Some(("Basic", encoded.expose())),
        None => None,
    }
}

/// The credential npm sends here, when it sends one.
fn npm_found<'a>(cx: &'a Context) -> Option<&'a Found> {
    match &cx.ex.winner {
        Winner::Placeholder(found) | Winner::Unsent(found) | Winner::Checked(found, _) => {
            Some(found)
        }
        Winner::None | Winner::Unusable { .. } => None,
    }
}

/// Whether npm's credential here works (`None`: not asked).
fn npm_works(cx: &Context) -> Option<bool> {
    match &cx.ex.winner {
        Winner::Checked(_, checked) => {
            Some(checked.failure.is_none() && checked.state != State::Expired)
        }
        Winner::Placeholder(_) | Winner::Unusable { .. } => Some(false),
        Winner::None | Winner::Unsent(_) => None,
    }
}

/// `auth.ini:3 (token, rejected)`-style words for a client's credential.
fn sent_state(sent: &Sent) -> String {
    match (&sent.credential.found, &sent.checked) {
        (Err(err), _) => format!("which cannot be used: {err}"),
        (Ok(_), Some(checked)) if checked.failure.is_none() => match &checked.user {
            Some(user) => format!("which works for {}", visible(user)),
            None => "which works".to_string(),
        },
        (Ok(_), Some(checked)) => format!("which does not work: {}", checked.state.name()),
        (Ok(_), None) => "not checked".to_string(),
    }
}

/// The file pnpm 11+ reads above `~/.npmrc`.
fn is_auth_ini(origin: &Origin) -> bool {
    matches!(origin, Origin::File { path, .. } if path.file_name().is_some_and(|n| n == "auth.ini"))
}

/// pnpm 11+ sends a credential from `auth.ini` that hides the `.npmrc`
/// one npm sends (a stale `pnpm login`, or an unset `${VAR}` that pnpm
/// reads as an empty token). An error when the hidden one works and the
/// winner does not.
fn shadowed_by_client_file(cx: &Context) -> Vec<Finding> {
    let registry = &cx.registry;
    let mut findings = Vec::new();
    for client in cx.ex.clients.iter().filter(|c| c.flavor == Flavor::Pnpm) {
        let Some(winner) = &client.winner else {
            continue;
        };
        if !is_auth_ini(&winner.credential.origin) {
            continue;
        }
        let winner_value = winner.found().and_then(header_value);
        let Some(hidden) = client.hidden.iter().find(|h| {
            matches!(
                &h.credential.origin,
                Origin::File {
                    layer: LayerKind::User,
                    ..
                }
            ) && !is_auth_ini(&h.credential.origin)
                && h.found().and_then(header_value) != winner_value
        }) else {
            continue;
        };
        let error = hidden.works() && !winner.works();
        let at = &winner.credential.origin;
        let line = match at {
            Origin::File { path, line, .. } => format!("line {line} of {}", path.display()),
            other => other.to_string(),
        };
        findings.push(cx.finding(
            "shadowed-by-client-file",
            if error { Severity::Error } else { Severity::Warning },
            Some(at),
            format!(
                "pnpm 11+ sends the credential from {at} ({}) to {registry}, and never the one at {} ({}) that npm uses: auth.ini is read above ~/.npmrc",
                sent_state(winner),
                hidden.credential.origin.place(),
                sent_state(hidden)
            ),
            format!(
                "run `rtok login --registry {registry} --for pnpm` to replace it, or remove {line} so that pnpm uses the one in {}",
                hidden.credential.origin.place()
            ),
        ));
    }
    findings
}

/// npm and pnpm or yarn send different credentials to one registry (when
/// it is not the auth.ini case above, which says more).
fn client_disagreement(cx: &Context) -> Vec<Finding> {
    let Some(npm) = npm_found(cx) else {
        return Vec::new();
    };
    let npm_value = header_value(npm);
    let registry = &cx.registry;
    let mut findings = Vec::new();
    for client in &cx.ex.clients {
        let Some(winner) = &client.winner else {
            continue;
        };
        let Some(found) = winner.found() else {
            continue;
        };
        if header_value(found) == npm_value || shadowed_by_auth_ini(client, &npm.origin) {
            continue;
        }
        let name = client.flavor.client().name();
        let hint = match (npm_works(cx), winner.works()) {
            (Some(true), false) => format!(
                "update {name}'s: `rtok login --registry {registry} --for {name}` writes a working token where {name} reads it ({})",
                winner.credential.origin.place()
            ),
            (Some(false), true) => format!(
                "update npm's: `rtok login --registry {registry} --for npm` replaces the one at {}",
                npm.origin.place()
            ),
            _ => {
                format!("`rtok login --registry {registry} --for npm,{name}` gives both one token")
            }
        };
        findings.push(cx.finding(
            "client-disagreement",
            Severity::Warning,
            Some(&winner.credential.origin),
            format!(
                "npm and {} send different credentials to {registry}: npm the one from {}, {} the one from {} ({})",
                client.flavor.name(),
                npm.origin,
                name,
                winner.credential.origin,
                sent_state(winner)
            ),
            hint,
        ));
    }
    findings
}

/// Whether pnpm's auth.ini entry hides exactly the credential npm sends
/// (`shadowed-by-client-file` says so).
fn shadowed_by_auth_ini(client: &ClientExamined, npm_origin: &Origin) -> bool {
    client.flavor == Flavor::Pnpm
        && client
            .winner
            .as_ref()
            .is_some_and(|w| is_auth_ini(&w.credential.origin))
        && client
            .hidden
            .iter()
            .any(|h| h.credential.origin == *npm_origin)
}

/// A yarn berry project whose registry has a credential only where yarn
/// never looks (an `.npmrc`).
fn yarn_needs_yarnrc(cx: &Context) -> Vec<Finding> {
    let Some(origin) = cx.winner_origin() else {
        return Vec::new();
    };
    if !matches!(origin, Origin::File { .. } | Origin::Env { .. }) {
        return Vec::new();
    }
    let registry = &cx.registry;
    cx.ex
        .clients
        .iter()
        .filter(|c| c.flavor == Flavor::YarnBerry && c.winner.is_none())
        .map(|_| {
            cx.finding(
                "yarn-needs-yarnrc",
                Severity::Warning,
                Some(origin),
                format!(
                    "this is a yarn berry project, and the credential for {registry} is only at {origin}: yarn never reads .npmrc files or npm_config_* variables, so it sends nothing (`YN0033: No authentication configured for request`)"
                ),
                format!(
                    "run `rtok login --registry {registry} --for yarn` to put it in ~/.yarnrc.yml too"
                ),
            )
        })
        .collect()
}

/// What `rtok exec -- yarn ...` could not hand yarn berry here for the
/// configured registry (the layouts `config::child_yarn` names): each is a
/// warning with the line that stands in the way.
fn yarn_exec_findings(settings: &Settings) -> Vec<Finding> {
    let Ok(cwd) = std::env::current_dir() else {
        return Vec::new();
    };
    let Ok(Some(found)) = settings.credentials.for_url(&settings.registry) else {
        return Vec::new();
    };
    let registry = display_url(&settings.registry);
    let handed = Handed::from_found(found, &settings.registry, vec![Route::Default]);
    child_yarn::plan(&settings.config, &cwd, &[handed])
        .notes
        .into_iter()
        .map(|note| {
            let source = note.split(": ").next().map(str::to_string);
            Finding {
                code: "yarn-exec-cannot-hand",
                severity: Severity::Warning,
                registry: Some(registry.clone()),
                source,
                message: format!(
                    "`rtok exec -- yarn ...` cannot hand yarn berry the credential for {registry}: {}",
                    visible(&note)
                ),
                hint: format!(
                    "remove that entry so that rtok exec can hand yarn the token, or keep the token there too: `rtok login --registry {registry} --for yarn`"
                ),
            }
        })
        .collect()
}

/// Findings about the clients' own files: an unset `${VAR}` in a
/// `.yarnrc.yml` yarn reads here (when yarn berry is in use), and
/// scope-specific tokens in npm's files that npm ignores.
pub(super) fn client_file_findings(
    settings: &Settings,
    clients: &Clients,
    in_use: &[Flavor],
) -> anyhow::Result<Vec<Finding>> {
    let mut findings = Vec::new();
    if in_use.contains(&Flavor::YarnBerry) {
        for (path, missing) in clients.yarn_missing_variables()? {
            let source = format!("{}:{}", path.display(), missing.line);
            let what = match missing.setting {
                Some(setting) => format!("`{setting}` at {source}"),
                None => source.clone(),
            };
            findings.push(Finding {
                code: "yarn-unset-variable",
                severity: Severity::Error,
                registry: None,
                source: Some(source),
                message: format!(
                    "{what} refers to `${{{name}}}`, which is not set: every yarn command in this folder stops with `Usage Error: Environment variable not found ({name})`",
                    name = missing.name
                ),
                hint: format!(
                    "set `{name}`, or write `${{{name}:-}}` so that yarn goes on without it",
                    name = missing.name
                ),
            });
        }
    }
    if in_use.contains(&Flavor::YarnBerry) {
        findings.extend(yarn_exec_findings(settings));
    }
    let known = check::known_registries(settings);
    for scoped in client_view::scope_specific_keys(&settings.config) {
        let registry = display_url(&check::registry_for(scoped.nerf.as_str(), &known));
        let host_key = format!("{}:_authToken", scoped.nerf);
        findings.push(Finding {
            code: "npm-ignores-scoped-token",
            severity: Severity::Warning,
            registry: Some(registry),
            source: Some(scoped.origin.to_string()),
            message: format!(
                "`{}` ({}) is a token for {} packages only: pnpm 11+ uses it, but npm (and pnpm 10) ignore the key and send `{host_key}` for {} packages instead",
                scoped.key,
                scoped.origin.place(),
                visible(&scoped.scope),
                visible(&scoped.scope)
            ),
            hint: format!(
                "if npm needs it too, write it as `{host_key}` (`rtok login --scope {}`), or keep the line for pnpm 11+ alone",
                visible(&scoped.scope)
            ),
        });
    }
    Ok(findings)
}

/// Findings about the config files themselves: literal tokens in files git
/// tracks, and files other users can read (as the config found them when
/// it read them: one check).
pub(super) fn file_findings(settings: &Settings, printer: &Printer) -> Vec<Finding> {
    let known = check::known_registries(settings);
    let secrets = files::literal_secrets(&settings.config);
    let registry_of = |secret: &files::LiteralSecret| {
        secret
            .key
            .rsplit_once(':')
            .map(|(prefix, _)| display_url(&check::registry_for(prefix, &known)))
    };
    let mut findings = Vec::new();
    let mut seen_files: Vec<&std::path::Path> = Vec::new();
    for secret in &secrets {
        let registry = registry_of(secret);
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
        if first_in_file
            && let Some(exposed) = settings
                .config
                .exposed
                .iter()
                .find(|exposed| exposed.path == secret.path)
        {
            findings.push(Finding {
                code: "readable-by-others",
                severity: Severity::Warning,
                registry,
                source: Some(secret.path.display().to_string()),
                message: format!(
                    "{} holds a credential and other users can read it (mode {:04o})",
                    secret.path.display(),
                    exposed.mode
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_of_keys() {
        assert_eq!(field("//r/:_authToken"), "_authToken");
        assert_eq!(field("_auth"), "_auth");
    }
}
