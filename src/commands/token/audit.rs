//! `rtok token audit`: every listed token judged against a policy (the
//! flags, over the `[audit]` table of rtok's settings file, over the
//! defaults), as a table of findings or JSON; exit 1 at `--fail-on`.

use std::io;

use anyhow::Result;
use serde::Serialize;

use super::fetch_listed;
use crate::cli::AuditArgs;
use crate::failure::Failure;
use crate::output::{Printer, Report, Stream, visible};
use crate::rtok_config::audit_policy::{AuditTable, Policy};
use crate::settings::Settings;
use crate::time;
use crate::tokens::audit::audit;
use crate::tokens::health::Severity;

/// One finding as `--json` and the table show it.
#[derive(Serialize)]
struct Row {
    code: &'static str,
    severity: Severity,
    id: String,
    key: String,
    name: Option<String>,
    message: String,
}

/// `{"tokens": N, "findings": [...]}`.
#[derive(Serialize)]
struct Audit {
    tokens: usize,
    findings: Vec<Row>,
    #[serde(skip)]
    registry: String,
}

impl Report for Audit {
    fn human(&self, printer: &Printer) -> io::Result<()> {
        if !self.findings.is_empty() {
            let mut table = printer.table(
                Stream::Stdout,
                &["id", "name", "severity", "code", "message"],
            );
            for row in &self.findings {
                table.add_row([
                    row.id.as_str(),
                    row.name.as_deref().unwrap_or_default(),
                    row.severity.name(),
                    row.code,
                    &row.message,
                ]);
            }
            printer.data(&table.to_string())?;
        }
        printer.status(&self.summary());
        Ok(())
    }

    fn parseable(&self, printer: &Printer) -> io::Result<()> {
        printer.data("id\tkey\tname\tseverity\tcode\tmessage")?;
        for row in &self.findings {
            let line = [
                row.id.as_str(),
                &row.key,
                row.name.as_deref().unwrap_or_default(),
                row.severity.name(),
                row.code,
                &row.message,
            ]
            .map(|field| visible(field).into_owned())
            .join("\t");
            printer.data(&line)?;
        }
        Ok(())
    }
}

impl Audit {
    /// `Audited 4 tokens on <registry>: 1 error, 3 warnings.`
    fn summary(&self) -> String {
        let count = |severity| {
            self.findings
                .iter()
                .filter(|f| f.severity == severity)
                .count()
        };
        let (errors, warnings) = (count(Severity::Error), count(Severity::Warning));
        let what = match (errors, warnings) {
            (0, 0) => "no findings".to_string(),
            _ => format!(
                "{}, {}",
                counted(errors, "error"),
                counted(warnings, "warning")
            ),
        };
        format!(
            "Audited {} on {}: {what}.",
            counted(self.tokens, "token"),
            self.registry
        )
    }
}

fn counted(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

pub(super) async fn run(settings: &Settings, args: &AuditArgs, printer: &Printer) -> Result<()> {
    // The policy first: a broken settings file is reported before anything
    // is asked of the registry.
    let policy = policy(settings, args);
    let (_, tokens) = fetch_listed(settings, printer).await?;
    let findings = audit(&tokens, &policy, time::now());
    let failing = findings
        .iter()
        .filter(|f| policy.fail_on.fails(f.severity))
        .count();
    let report = Audit {
        tokens: tokens.len(),
        findings: findings
            .into_iter()
            .map(|finding| {
                let token = &tokens[finding.token];
                Row {
                    code: finding.code,
                    severity: finding.severity,
                    id: token.id().unwrap_or(token.key()).to_string(),
                    key: token.key().to_string(),
                    name: token.name().map(str::to_string),
                    message: finding.message,
                }
            })
            .collect(),
        registry: settings.registry_display(),
    };
    printer.emit(&report)?;
    if failing == 0 {
        return Ok(());
    }
    Err(Failure::new(format!(
        "{} at or above `--fail-on {}`",
        counted(failing, "finding"),
        policy.fail_on.name()
    ))
    .hint(
        "revoke a token with `rtok token delete <id>`, or replace it with `rtok token rotate <id>`",
    )
    .into())
}

/// The flags, over rtok's settings file's `[audit]` table, over the
/// defaults.
fn policy(settings: &Settings, args: &AuditArgs) -> Policy {
    let flags = AuditTable {
        unused_for: args.unused_for,
        max_lifetime: args.max_lifetime,
        fail_on: args.fail_on,
        unknown: Vec::new(),
    };
    flags.over(settings.rtok.audit().over(Policy::default()))
}
