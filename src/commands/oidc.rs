//! `rtok oidc token` and `rtok oidc check`: trusted publishing from CI for
//! any client, with failures that say why.

use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;
use serde_json::Value;

use super::connect;
use crate::cli::{OidcCheckArgs, OidcCommand, OidcTokenArgs};
use crate::failure::Failure;
use crate::oidc::identity::CiEnv;
use crate::oidc::{self, workspaces};
use crate::output::{Printer, Report, Stream};
use crate::secret::Secret;
use crate::settings::Settings;

pub(super) async fn run(
    settings: &Settings,
    command: OidcCommand,
    printer: &Printer,
) -> Result<()> {
    match command {
        OidcCommand::Token(args) => token(settings, &args, printer).await,
        OidcCommand::Check(args) => check(settings, &args, printer).await,
    }
}

/// The exchanged token: alone on stdout, or the registry's whole answer
/// (which holds it) with `--json`.
#[derive(Serialize)]
#[serde(transparent)]
struct Exchanged {
    answer: Value,
    #[serde(skip)]
    token: Secret,
}

impl Report for Exchanged {
    fn human(&self, printer: &Printer) -> io::Result<()> {
        printer.data(self.token.expose())
    }
}

/// One row of `oidc check`.
#[derive(Serialize)]
struct Checked {
    package: String,
    ok: bool,
    error: Option<String>,
    /// What the package's trust configuration allows (`publish`, `stage
    /// publish`), when the configured credential may read it.
    #[serde(skip_serializing_if = "Option::is_none")]
    allows: Option<String>,
}

#[derive(Serialize)]
#[serde(transparent)]
struct Checks {
    rows: Vec<Checked>,
}

impl Report for Checks {
    fn human(&self, printer: &Printer) -> io::Result<()> {
        let with_allows = self.rows.iter().any(|r| r.allows.is_some());
        let mut header = vec!["package", "state", "reason"];
        if with_allows {
            header.push("trust allows");
        }
        let mut table = printer.table(Stream::Stdout, &header);
        for row in &self.rows {
            let state = if row.ok { "ok" } else { "failed" };
            let mut cells = vec![
                row.package.as_str(),
                state,
                row.error.as_deref().unwrap_or(""),
            ];
            if with_allows {
                cells.push(row.allows.as_deref().unwrap_or(""));
            }
            table.add_row(cells);
        }
        printer.data(&table.to_string())
    }

    fn parseable(&self, printer: &Printer) -> io::Result<()> {
        printer.data("package\tstate\treason")?;
        for row in &self.rows {
            let state = if row.ok { "ok" } else { "failed" };
            let reason = row.error.as_deref().unwrap_or("");
            printer.data(&format!("{}\t{state}\t{reason}", row.package))?;
        }
        Ok(())
    }
}

fn current_dir() -> Result<PathBuf> {
    std::env::current_dir().context("could not read the current folder")
}

/// `oidc token`: the token on stdout (or the registry's answer with
/// `--json`), or, with `--github-env NAME`, only the mask line on stdout and
/// the token in `$GITHUB_ENV` for the job's later steps.
async fn token(settings: &Settings, args: &OidcTokenArgs, printer: &Printer) -> Result<()> {
    let package = match &args.package {
        Some(package) => package.clone(),
        None => workspaces::package_name(&current_dir()?)?,
    };
    let env = CiEnv::from_process();
    // Where the token would go is checked before anything is asked for.
    let export = match &args.github_env {
        Some(name) => Some(github_env_target(name, &env)?),
        None => None,
    };
    let registry = connect::client(settings, printer, "oidc")?;
    let exchanged = oidc::exchange(&registry, &env, &package).await?;
    if let Some((name, file)) = export {
        let token = &exchanged.token;
        if token.expose().contains(['\n', '\r']) {
            return Err(Failure::new(
                "the registry's token spans several lines; it cannot go into `$GITHUB_ENV`",
            )
            .into());
        }
        // The mask comes first, so GitHub hides the token from every later line.
        printer.data(&format!("::add-mask::{}", token.expose()))?;
        append_github_env(&file, &name, token)?;
        printer.status(&format!(
            "The trusted-publishing token for {package} is in `{name}` for the job's next steps."
        ));
        return Ok(());
    }
    printer.emit(&Exchanged {
        answer: exchanged.answer,
        token: exchanged.token,
    })?;
    Ok(())
}

/// The variable name, checked, and the `$GITHUB_ENV` file.
fn github_env_target(name: &str, env: &CiEnv) -> Result<(String, PathBuf)> {
    let valid = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(Failure::new(format!(
            "`--github-env {}`: not a variable name (letters, digits and `_`, not starting with a digit)",
            name.escape_debug()
        ))
        .into());
    }
    let file = env.get("GITHUB_ENV").ok_or_else(|| {
        Failure::new("`--github-env` needs `$GITHUB_ENV`, which GitHub Actions sets for each step")
            .hint("run it as a step of a GitHub Actions job, or drop `--github-env` and capture stdout")
    })?;
    Ok((name.to_string(), PathBuf::from(file)))
}

/// Appends `NAME=<token>` as a line of its own (after a newline if the file
/// does not end with one).
fn append_github_env(file: &Path, name: &str, token: &Secret) -> Result<()> {
    let failed = |err: std::io::Error| {
        Failure::new(format!(
            "could not append to `$GITHUB_ENV` ({}): {err}",
            file.display()
        ))
    };
    let mut options = std::fs::OpenOptions::new();
    options.read(true).append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut handle = options.open(file).map_err(failed)?;
    let mut line = String::new();
    let length = handle.seek(SeekFrom::End(0)).map_err(failed)?;
    if length > 0 {
        let mut last = [0u8; 1];
        handle.seek(SeekFrom::End(-1)).map_err(failed)?;
        handle.read_exact(&mut last).map_err(failed)?;
        if last[0] != b'\n' {
            line.push('\n');
        }
    }
    line.push_str(&format!("{name}={}\n", token.expose()));
    handle.write_all(line.as_bytes()).map_err(failed)?;
    Ok(())
}

/// What each package's trust configuration allows (`publish, stage
/// publish`, `stage publish`, `none configured`), read with the configured
/// credential when there is one; `None` where it could not be read (no
/// credential, a two-factor challenge, a registry without the endpoint).
async fn trust_allows(
    settings: &Settings,
    registry: &crate::registry::Registry,
    packages: &[String],
) -> Vec<Option<String>> {
    let mut allows = Vec::with_capacity(packages.len());
    let readable = settings.current_token().is_some();
    for package in packages {
        if !readable {
            allows.push(None);
            continue;
        }
        allows.push(
            match registry.list_trust(package, settings.otp.as_ref()).await {
                Ok(configs) if configs.is_empty() => Some("none configured".to_string()),
                Ok(configs) => Some(
                    configs
                        .iter()
                        .map(|c| c.allows_label())
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
                Err(_) => None,
            },
        );
    }
    allows
}

/// `oidc check`: tries the exchange for each package and prints a row each.
async fn check(settings: &Settings, args: &OidcCheckArgs, printer: &Printer) -> Result<()> {
    let mut packages: Vec<String> = args.package.clone();
    if args.workspaces {
        packages.extend(super::trust::workspace_packages(&current_dir()?, printer)?);
    } else if packages.is_empty() {
        packages.push(workspaces::package_name(&current_dir()?)?);
    }
    let mut seen = std::collections::HashSet::new();
    packages.retain(|p| seen.insert(p.clone()));

    let registry = connect::client(settings, printer, "oidc")?;
    let results = oidc::check_all(&registry, &CiEnv::from_process(), &packages).await?;
    let failed = results.iter().filter(|r| r.is_err()).count();
    let allows = trust_allows(settings, &registry, &packages).await;
    let rows = packages
        .iter()
        .zip(results)
        .zip(allows)
        .map(|((package, result), allows)| Checked {
            package: package.clone(),
            ok: result.is_ok(),
            error: result.err(),
            allows,
        })
        .collect();
    printer.emit(&Checks { rows })?;

    if failed > 0 {
        return Err(Failure::new(format!(
            "trusted publishing failed for {failed} of {} package{} on {}",
            packages.len(),
            if packages.len() == 1 { "" } else { "s" },
            settings.registry_display()
        ))
        .hint("each failed row says what the registry answered and what the identity token claims")
        .into());
    }
    printer.status(&format!(
        "Trusted publishing works for {} on {} (the tokens were discarded).",
        if packages.len() == 1 {
            packages[0].clone()
        } else {
            format!("all {} packages", packages.len())
        },
        settings.registry_display()
    ));
    Ok(())
}
