//! `rtok token audit`: every listed token judged against a policy (the
//! flags, over the `[audit]` table of rtok's settings file, over the
//! defaults), as a table of findings or JSON; exit 1 at `--fail-on`.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::Serialize;

use super::fetch_listed;
use crate::cli::AuditArgs;
use crate::config::locate;
use crate::failure::Failure;
use crate::output::{Printer, Report, Stream, visible};
use crate::settings::Settings;
use crate::time;
use crate::tokens::audit::audit;
use crate::tokens::health::Severity;
use crate::tokens::policy::{self, AuditTable, Policy};

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
    let policy = policy(settings, args, printer)?;
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

/// The flags, over the settings file's `[audit]` table, over the defaults.
fn policy(settings: &Settings, args: &AuditArgs, printer: &Printer) -> Result<Policy> {
    let table = match settings_file(settings.config.env()) {
        Some(path) => read_table(&path, printer)?,
        None => AuditTable::default(),
    };
    let flags = AuditTable {
        unused_for: args.unused_for,
        max_lifetime: args.max_lifetime,
        fail_on: args.fail_on,
        unknown: Vec::new(),
    };
    Ok(flags.over(table.over(Policy::default())))
}

// INTEGRATION(rtok_config): `settings_file` and `read_table` stand in for
// rtok's settings module (`src/rtok_config.rs`, issue 11), which owns this
// file. When it lands, take the path from it and read `[audit]` from its
// parsed document with `policy::from_toml`'s rules; nothing else here
// changes.

/// `$RTOK_CONFIG`, else `<config dir>/rtok/config.toml` (`$XDG_CONFIG_HOME`
/// or `~/.config` on Linux and the BSDs; the platform's folder elsewhere).
fn settings_file(env: &HashMap<String, String>) -> Option<PathBuf> {
    if let Some(path) = env.get("RTOK_CONFIG").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let xdg = env
        .get("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    let dir = if cfg!(any(target_os = "macos", windows)) {
        xdg.or_else(dirs::config_dir)
    } else {
        xdg.or_else(|| locate::home_dir(env).map(|home| home.join(".config")))
    }?;
    Some(dir.join("rtok").join("config.toml"))
}

/// The `[audit]` table of the settings file; no file is no table. A file
/// that cannot be read or parsed is a one-line error naming it.
fn read_table(path: &Path, printer: &Printer) -> Result<AuditTable> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(AuditTable::default()),
        Err(err) => {
            return Err(Failure::new(format!(
                "could not read rtok's settings file {}: {err}",
                path.display()
            ))
            .hint("fix its permissions, or point `RTOK_CONFIG` at another file")
            .into());
        }
    };
    let table = policy::from_toml(&text).map_err(|err| {
        Failure::new(format!("{}: {err}", path.display())).hint(
            "fix that line; `[audit]` takes `unused-for = \"90d\"`, `max-lifetime = \"90d\"` and `fail-on = \"error\"`",
        )
    })?;
    for key in &table.unknown {
        printer.warn(&format!(
            "{}: `audit.{}` is not a setting rtok knows (it knows `unused-for`, `max-lifetime`, `fail-on`); ignored",
            path.display(),
            visible(key)
        ));
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_settings_file_is_found_where_the_contract_says() {
        assert_eq!(
            settings_file(&env(&[("RTOK_CONFIG", "/etc/rtok.toml"), ("HOME", "/h")])),
            Some(PathBuf::from("/etc/rtok.toml"))
        );
        assert_eq!(
            settings_file(&env(&[("XDG_CONFIG_HOME", "/x"), ("HOME", "/h")])),
            Some(PathBuf::from("/x/rtok/config.toml"))
        );
        if cfg!(target_os = "linux") {
            assert_eq!(
                settings_file(&env(&[("XDG_CONFIG_HOME", "relative"), ("HOME", "/h")])),
                Some(PathBuf::from("/h/.config/rtok/config.toml"))
            );
        }
    }
}
