//! What `doctor` prints: the registries with their credentials, and the
//! findings, as JSON (`{"registries", "findings"}`), tab-separated lines, or
//! the human text.

use std::io;

use serde::Serialize;

use super::project::InUse;
use super::{ClientExamined, Examined, Sent, Winner};
use crate::client::Client;
use crate::config::Origin;
use crate::display::display_url;
use crate::output::{Printer, Report, visible};
use crate::registry::RegistryError;
use crate::time;
use crate::tokens::health::{Kind, Severity, State};

use crate::commands::check;

/// One finding, as `--json` has it.
#[derive(Serialize)]
pub(super) struct Finding {
    pub(super) code: &'static str,
    pub(super) severity: Severity,
    pub(super) registry: Option<String>,
    pub(super) source: Option<String>,
    pub(super) message: String,
    pub(super) hint: String,
}

/// A registry and its credentials, as `--json` has it.
#[derive(Serialize)]
pub(super) struct RegistryEntry {
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
    /// What each other client in use sends here (npm's is above).
    clients: Vec<ClientEntry>,
}

/// What one other client sends to a registry, as `--json` has it.
#[derive(Serialize)]
struct ClientEntry {
    client: Client,
    /// `pnpm 11+`, `yarn berry`: the release line whose rules were used.
    flavor: &'static str,
    source: Option<String>,
    storage: Option<&'static str>,
    variable: Option<String>,
    kind: Option<Kind>,
    /// `null` when it sends nothing.
    state: Option<State>,
    user: Option<String>,
    error: Option<String>,
    hidden: Vec<HiddenEntry>,
}

/// A client this folder uses.
#[derive(Serialize)]
pub(super) struct ClientInUse {
    client: Client,
    flavor: &'static str,
    /// What says the folder uses it: `pnpm-lock.yaml`, `packageManager in
    /// package.json`, ...
    because: String,
    /// Where it reads credentials, highest first.
    precedence: &'static str,
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

/// `{"registries": [...], "findings": [...], "clients": [...]}`.
#[derive(Serialize)]
pub(super) struct Doctor {
    pub(super) registries: Vec<RegistryEntry>,
    /// The clients in use in this folder (npm always).
    pub(super) clients: Vec<ClientInUse>,
    pub(super) findings: Vec<Finding>,
}

impl Report for Doctor {
    fn human(&self, printer: &Printer) -> io::Result<()> {
        let mut out = String::new();
        // Only when another client is in use: npm's precedence is the
        // one everyone knows.
        if self.clients.len() > 1 {
            out.push_str("Clients in this folder (where each reads credentials, highest first):\n");
            for client in &self.clients {
                out.push_str(&format!(
                    "  {:<10} ({}) {}\n",
                    client.flavor, client.because, client.precedence
                ));
            }
            out.push('\n');
        }
        out.push_str("Registries:\n");
        for entry in &self.registries {
            out.push_str(&format!("  {}{}\n", entry.registry, roles(entry)));
            if entry.clients.is_empty() {
                out.push_str(&format!("    uses   {}\n", credential_line(entry)));
            } else {
                out.push_str(&format!("    {:<11} {}\n", "npm", credential_line(entry)));
            }
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
            for client in &entry.clients {
                out.push_str(&format!(
                    "    {:<11} {}\n",
                    client.flavor,
                    client_line(client)
                ));
                for hidden in &client.hidden {
                    out.push_str(&format!("    {:<11} hides {}\n", "", hidden.source));
                }
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
    pub(super) fn count(&self, severity: Severity) -> usize {
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

/// `~/.yarnrc.yml:4: token of alice`.
fn client_line(client: &ClientEntry) -> String {
    let (Some(source), Some(kind)) = (&client.source, client.kind) else {
        return "no credential".to_string();
    };
    let what = kind_words(kind);
    let state = match (&client.user, client.state) {
        (Some(user), Some(State::Ok)) => format!(" of {}", visible(user)),
        (Some(user), Some(state)) => format!(" of {}, {}", visible(user), state.name()),
        (None, Some(state)) => format!(", {}", state.name()),
        (_, None) => String::new(),
    };
    format!("{source}: {what}{state}")
}

/// The JSON and human view of a client in use.
pub(super) fn client_in_use(in_use: &InUse) -> ClientInUse {
    ClientInUse {
        client: in_use.flavor.client(),
        flavor: in_use.flavor.name(),
        because: in_use.because.clone(),
        precedence: in_use.flavor.precedence(),
    }
}

fn hidden_entry(sent: &Sent) -> HiddenEntry {
    let origin = &sent.credential.origin;
    HiddenEntry {
        source: origin.to_string(),
        storage: origin.storage(),
        variable: origin.variable().map(str::to_string),
        kind: check::kind_of(sent.credential.auth),
        state: sent.checked.as_ref().map(|c| c.state).or_else(|| {
            sent.credential
                .found
                .as_ref()
                .err()
                .map(check::unusable_state)
        }),
        user: sent.checked.as_ref().and_then(|c| c.user.clone()),
    }
}

fn client_entry(examined: &ClientExamined) -> ClientEntry {
    let mut entry = ClientEntry {
        client: examined.flavor.client(),
        flavor: examined.flavor.name(),
        source: None,
        storage: None,
        variable: None,
        kind: None,
        state: None,
        user: None,
        error: None,
        hidden: examined.hidden.iter().map(hidden_entry).collect(),
    };
    if let Some(sent) = &examined.winner {
        let origin = &sent.credential.origin;
        entry.source = Some(origin.to_string());
        entry.storage = Some(origin.storage());
        entry.variable = origin.variable().map(str::to_string);
        entry.kind = Some(check::kind_of(sent.credential.auth));
        match (&sent.credential.found, &sent.checked) {
            (Err(err), _) => {
                entry.state = Some(check::unusable_state(err));
                entry.error = Some(err.to_string());
            }
            (Ok(_), Some(checked)) => {
                entry.kind = Some(checked.kind);
                entry.state = Some(checked.state);
                entry.user = checked.user.clone();
                entry.error = checked.failure.as_ref().map(RegistryError::to_string);
            }
            (Ok(_), None) => entry.state = Some(State::Unchecked),
        }
    }
    entry
}

/// How messages name a kind of credential.
pub(super) fn kind_words(kind: Kind) -> &'static str {
    match kind {
        Kind::Session => "session token",
        Kind::Granular => "granular token",
        Kind::Token => "token",
        Kind::Basic => "user name and password",
        Kind::ClientCertificate => "client certificate",
    }
}

/// The JSON and human view of one examined registry.
pub(super) fn entry(ex: &Examined) -> RegistryEntry {
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
        clients: ex.clients.iter().map(client_entry).collect(),
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
                credential(origin, check::kind_of(*auth), check::unusable_state(err));
            }
            entry.error = Some(err.to_string());
        }
        Winner::Placeholder(found) => {
            credential(&found.origin, Kind::Token, State::Rejected);
            entry.error = Some("setup-node's placeholder token".to_string());
        }
        Winner::Unsent(found) => {
            credential(&found.origin, check::kind_of(found.kind), State::Unchecked);
            entry.error = Some(
                "not checked: it would go over plain HTTP to another machine, so rtok did not send it"
                    .to_string(),
            );
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
