//! What `doctor` prints: the registries with their credentials, and the
//! findings, as JSON (`{"registries", "findings"}`), tab-separated lines, or
//! the human text.

use std::io;

use serde::Serialize;

use super::{Examined, Winner};
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
pub(super) struct Doctor {
    pub(super) registries: Vec<RegistryEntry>,
    pub(super) findings: Vec<Finding>,
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
