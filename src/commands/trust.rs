//! `rtok trust`: packages' trusted-publishing configurations (`npm trust`),
//! listed, revoked, and synced over a whole monorepo from flags or a
//! `trust.toml`, a package at a time with one two-factor code.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;
use serde::Serialize;

use super::batch::{OtpSession, Progress};
use super::connect;
use crate::cli::{TrustCommand, TrustListArgs, TrustRevokeArgs, TrustSyncArgs};
use crate::failure::Failure;
use crate::oidc::{package, workspaces};
use crate::output::{Printer, Report, Stream, visible};
use crate::prompt;
use crate::registry::{Allow, Provider, Registry, Trust, TrustConfig};
use crate::settings::Settings;
use crate::trust_manifest::{self, Manifest};

pub(super) async fn run(
    settings: &Settings,
    command: TrustCommand,
    printer: &Printer,
) -> Result<()> {
    match command {
        TrustCommand::List(args) => list(settings, &args, printer).await,
        TrustCommand::Revoke(args) => revoke(settings, &args, printer).await,
        TrustCommand::Sync(args) => sync(settings, &args, printer).await,
    }
}

fn current_dir() -> Result<PathBuf> {
    std::env::current_dir()
        .map_err(|err| Failure::new(format!("could not read the current folder: {err}")).into())
}

fn client(settings: &Settings, printer: &Printer) -> Result<Registry> {
    settings.require_credential()?;
    Ok(connect::client(settings, printer, "trust")?)
}

/// The publishable workspace packages of `root` (private ones and ones
/// without a name are skipped, with a line saying so); `oidc check
/// --workspaces` and `trust --workspaces` both take them from here.
pub(super) fn workspace_packages(root: &Path, printer: &Printer) -> Result<Vec<String>> {
    let mut packages = Vec::new();
    let mut private = Vec::new();
    for member in workspaces::discover(root)? {
        match member.name {
            Some(name) if member.private => private.push(name),
            Some(name) => packages.push(name),
            None => printer.warn(&format!(
                "{}/package.json has no `name`; it cannot be published, so it is skipped",
                member.dir
            )),
        }
    }
    if !private.is_empty() {
        printer.status(&format!(
            "Skipping {} private workspace package{} (never published): {}",
            private.len(),
            if private.len() == 1 { "" } else { "s" },
            private.join(", ")
        ));
    }
    if packages.is_empty() {
        return Err(Failure::new(format!(
            "no publishable workspace packages in {}",
            root.display()
        ))
        .into());
    }
    Ok(packages)
}

/// Named packages, else the workspace's, else ./package.json's; checked
/// as npm checks names, duplicates dropped.
fn packages_of(named: &[String], all_workspaces: bool, printer: &Printer) -> Result<Vec<String>> {
    let mut packages = named.to_vec();
    if all_workspaces {
        packages.extend(workspace_packages(&current_dir()?, printer)?);
    } else if packages.is_empty() {
        packages.push(workspaces::package_name(&current_dir()?)?);
    }
    checked(packages)
}

fn checked(mut packages: Vec<String>) -> Result<Vec<String>> {
    for name in &packages {
        package::validate(name).map_err(|why| {
            Failure::usage(format!("`{}` is not a package name: {why}", visible(name)))
        })?;
    }
    let mut seen = std::collections::HashSet::new();
    packages.retain(|p| seen.insert(p.clone()));
    Ok(packages)
}

/// One listed configuration with its package (`--json`: the registry's
/// fields plus `package`).
#[derive(Serialize)]
struct Listed {
    package: String,
    #[serde(flatten)]
    config: TrustConfig,
}

#[derive(Serialize)]
#[serde(transparent)]
struct Listing {
    configs: Vec<Listed>,
    #[serde(skip)]
    without: Vec<String>,
}

impl Report for Listing {
    fn human(&self, printer: &Printer) -> io::Result<()> {
        let mut table = printer.table(
            Stream::Stdout,
            &[
                "package",
                "id",
                "type",
                "source",
                "file",
                "environment",
                "allows",
            ],
        );
        for listed in &self.configs {
            let c = &listed.config;
            table.add_row([
                listed.package.clone(),
                c.id().unwrap_or_default().to_string(),
                c.kind().unwrap_or_default().to_string(),
                c.source().unwrap_or_default().to_string(),
                c.file().unwrap_or_default().to_string(),
                c.environment().unwrap_or_default().to_string(),
                c.allows_label(),
            ]);
        }
        for package in &self.without {
            table.add_row([
                package.clone(),
                String::new(),
                "(none)".into(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            ]);
        }
        printer.data(&table.to_string())
    }
}

async fn list(settings: &Settings, args: &TrustListArgs, printer: &Printer) -> Result<()> {
    let packages = packages_of(&args.packages, args.workspaces, printer)?;
    let registry = client(settings, printer)?;
    let mut session = OtpSession::new(settings.otp.as_ref(), printer, &registry);
    let mut listing = Listing {
        configs: Vec::new(),
        without: Vec::new(),
    };
    for package in &packages {
        let configs = session
            .run(|code| {
                let registry = &registry;
                async move { registry.list_trust(package, code.as_ref()).await }
            })
            .await
            .map_err(|err| {
                err.context(format!(
                    "could not list the trust configuration of {package}"
                ))
            })?;
        if configs.is_empty() {
            listing.without.push(package.clone());
        }
        listing
            .configs
            .extend(configs.into_iter().map(|config| Listed {
                package: package.clone(),
                config,
            }));
    }
    printer.emit(&listing)?;
    Ok(())
}

async fn revoke(settings: &Settings, args: &TrustRevokeArgs, printer: &Printer) -> Result<()> {
    let package = checked(vec![args.package.clone()])?.remove(0);
    let registry = client(settings, printer)?;
    let mut session = OtpSession::new(settings.otp.as_ref(), printer, &registry);
    session
        .run(|code| {
            let registry = &registry;
            let package = &package;
            let id = &args.id;
            async move { registry.revoke_trust(package, id, code.as_ref()).await }
        })
        .await?;
    printer.emit(&Revoked {
        package,
        id: args.id.clone(),
    })?;
    Ok(())
}

#[derive(Serialize)]
struct Revoked {
    package: String,
    id: String,
}

impl Report for Revoked {
    fn human(&self, printer: &Printer) -> io::Result<()> {
        printer.status(&format!(
            "Revoked the trust configuration {} of {}.",
            visible(&self.id),
            visible(&self.package)
        ));
        Ok(())
    }
}

/// What `sync` does to one package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Action {
    Create,
    /// Revoke the configuration there, then create: one per package.
    Replace,
    Unchanged,
    /// Its current configuration could not be read.
    Unknown,
}

/// One package's line of the plan, then of the report.
#[derive(Serialize)]
struct Step {
    package: String,
    action: Action,
    wanted: Trust,
    /// The ids a replace revokes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    current: Vec<String>,
    /// `planned` (dry run or not yet), `done`, `failed`.
    result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Serialize)]
#[serde(transparent)]
struct Plan {
    steps: Vec<Step>,
}

impl Plan {
    fn table(&self, printer: &Printer, stream: Stream, with_result: bool) -> crate::output::Table {
        let mut header = vec!["package", "action", "publisher", "allows"];
        if with_result {
            header.push("result");
        }
        let mut table = printer.table(stream, &header);
        for step in &self.steps {
            let mut row = vec![
                step.package.clone(),
                match step.action {
                    Action::Create => "create",
                    Action::Replace => "replace",
                    Action::Unchanged => "unchanged",
                    Action::Unknown => "?",
                }
                .to_string(),
                publisher(&step.wanted.provider),
                step.wanted
                    .allow
                    .iter()
                    .map(|a| a.label())
                    .collect::<Vec<_>>()
                    .join(", "),
            ];
            if with_result {
                row.push(match &step.error {
                    Some(err) => format!("failed: {err}"),
                    None => step.result.to_string(),
                });
            }
            table.add_row(row);
        }
        table
    }
}

impl Report for Plan {
    fn human(&self, printer: &Printer) -> io::Result<()> {
        let with_result = self.steps.iter().any(|s| s.result != "planned");
        printer.data(&self.table(printer, Stream::Stdout, with_result).to_string())
    }
}

/// `github acme/tools release.yml (env npm)`.
fn publisher(provider: &Provider) -> String {
    let (kind, source, file, environment) = match provider {
        Provider::Github {
            repository,
            workflow,
            environment,
        } => ("github", repository, workflow, environment),
        Provider::Gitlab {
            project,
            file,
            environment,
        } => ("gitlab", project, file, environment),
    };
    let mut text = format!("{kind} {source} {file}");
    if let Some(environment) = environment {
        text.push_str(&format!(" (env {environment})"));
    }
    text
}

/// `--allow` values.
fn allows_of(values: &[String]) -> Result<Vec<Allow>> {
    if values.is_empty() {
        return Err(Failure::usage(
            "at least one `--allow` is required: `publish`, `stage-publish` (repeatable)",
        )
        .into());
    }
    values
        .iter()
        .map(|v| {
            Allow::parse(v).ok_or_else(|| {
                Failure::usage(format!(
                    "`--allow {}`: expected `publish` or `stage-publish`",
                    visible(v)
                ))
                .into()
            })
        })
        .collect()
}

/// The configuration each package should have, from flags or a manifest.
fn wanted(args: &TrustSyncArgs, printer: &Printer) -> Result<Vec<(String, Trust)>> {
    let from_flags = args.github.is_some() || args.gitlab.is_some();
    if from_flags {
        let environment = args.environment.as_deref();
        let provider = match (&args.github, &args.gitlab) {
            (Some(repo), _) => Provider::github(
                repo,
                args.workflow.as_deref().unwrap_or_default(),
                environment,
            ),
            (_, Some(project)) => Provider::gitlab(
                project,
                args.file.as_deref().unwrap_or_default(),
                environment,
            ),
            _ => unreachable!("a provider flag was given"),
        }
        .map_err(Failure::usage)?;
        let trust = Trust::new(provider, allows_of(&args.allow)?);
        let packages = packages_of(&args.packages, args.workspaces, printer)?;
        return Ok(packages.into_iter().map(|p| (p, trust.clone())).collect());
    }
    if !args.allow.is_empty() || args.environment.is_some() {
        return Err(Failure::usage(
            "`--allow` and `--environment` go with `--github` or `--gitlab`; a manifest sets them itself",
        )
        .into());
    }
    let file = match &args.manifest {
        Some(file) => file.clone(),
        None => {
            let default = current_dir()?.join("trust.toml");
            if !default.is_file() {
                return Err(Failure::usage(
                    "nothing to sync: give a publisher (`--github OWNER/REPO --workflow FILE`, or `--gitlab GROUP/PROJECT --file FILE`) or a manifest (`--manifest FILE`; ./trust.toml is read when it exists)",
                )
                .into());
            }
            PathBuf::from("trust.toml")
        }
    };
    let manifest = trust_manifest::read(&file)?;
    let packages = manifest_packages(&manifest, args, printer)?;
    packages
        .into_iter()
        .map(|package| {
            let trust = manifest_trust(&manifest, &package).map_err(|(line, why)| {
                Failure::new(format!(
                    "{}:{line}: {}: {why}; nothing was sent",
                    file.display(),
                    visible(&package)
                ))
            })?;
            Ok((package, trust))
        })
        .collect()
}

/// The packages a manifest run covers: the named ones, or the workspace's
/// (`--workspaces`), or the manifest's own tables (names, and globs over
/// the workspace), or else the workspace's or ./package.json's.
fn manifest_packages(
    manifest: &Manifest,
    args: &TrustSyncArgs,
    printer: &Printer,
) -> Result<Vec<String>> {
    if !args.packages.is_empty() || args.workspaces || manifest.packages.is_empty() {
        let all = args.workspaces
            || (args.packages.is_empty() && workspaces::discover(&current_dir()?).is_ok());
        return packages_of(&args.packages, all, printer);
    }
    let needs_workspace = manifest.packages.iter().any(|t| t.is_glob());
    let members = match needs_workspace {
        true => workspace_packages(&current_dir()?, printer)?,
        false => Vec::new(),
    };
    let mut packages = Vec::new();
    for table in &manifest.packages {
        if table.is_glob() {
            let matched: Vec<&String> = members.iter().filter(|m| table.matches(m)).collect();
            if matched.is_empty() {
                printer.warn(&format!(
                    "`[package.\"{}\"]` (line {}) matches no workspace package",
                    visible(&table.pattern),
                    table.settings.line
                ));
            }
            packages.extend(matched.into_iter().cloned());
        } else {
            packages.push(table.pattern.clone());
        }
    }
    checked(packages)
}

/// One package's configuration from the manifest, or `(line, why not)`.
fn manifest_trust(manifest: &Manifest, package: &str) -> Result<Trust, (usize, String)> {
    let s = manifest.settings_for(package);
    let environment = s.environment.as_deref();
    let provider = match (&s.github, &s.gitlab) {
        (Some(repo), _) => {
            let workflow = s.workflow.as_deref().ok_or((s.line, "`github` needs `workflow`".to_string()))?;
            Provider::github(repo, workflow, environment)
        }
        (_, Some(project)) => {
            let file = s.file.as_deref().ok_or((s.line, "`gitlab` needs `file`".to_string()))?;
            Provider::gitlab(project, file, environment)
        }
        _ => {
            return Err((
                s.line,
                "no publisher: set `github` (with `workflow`) or `gitlab` (with `file`) in `[defaults]` or the package's table".into(),
            ));
        }
    }
    .map_err(|why| (s.line, why))?;
    let allow = s
        .allow
        .as_ref()
        .ok_or((s.line, "no `allow` list".to_string()))?
        .iter()
        .filter_map(|a| Allow::parse(a))
        .collect();
    Ok(Trust::new(provider, allow))
}

async fn sync(settings: &Settings, args: &TrustSyncArgs, printer: &Printer) -> Result<()> {
    let wanted = wanted(args, printer)?;
    if !args.dry_run && !args.yes && !prompt::interactive() {
        return Err(Failure::usage(
            "`rtok trust sync` asks before it changes anything, but there is no terminal to ask on; nothing was sent",
        )
        .hint("pass `--yes` to apply without asking, or `--dry-run` to see the plan")
        .into());
    }
    let registry = client(settings, printer)?;
    let mut session = OtpSession::new(settings.otp.as_ref(), printer, &registry);
    let mut steps = Vec::new();
    let progress = Progress::new(printer, "reading", wanted.len());
    for (package, trust) in wanted {
        progress.at(&package);
        let current = session
            .run(|code| {
                let registry = &registry;
                let package = &package;
                async move { registry.list_trust(package, code.as_ref()).await }
            })
            .await;
        progress.done_one();
        let step = match current {
            Ok(configs) if configs.is_empty() => {
                Step::new(package, Action::Create, trust, Vec::new())
            }
            Ok(configs) if configs.len() == 1 && trust.matches(&configs[0]) => {
                Step::new(package, Action::Unchanged, trust, Vec::new())
            }
            Ok(configs) => {
                let ids = configs
                    .iter()
                    .filter_map(|c| c.id().map(str::to_string))
                    .collect();
                Step::new(package, Action::Replace, trust, ids)
            }
            Err(err) => {
                let mut step = Step::new(package, Action::Unknown, trust, Vec::new());
                step.result = "failed";
                step.error = Some(crate::failure::message(&err));
                step
            }
        };
        steps.push(step);
    }
    progress.finish();
    let mut plan = Plan { steps };
    let changes = plan
        .steps
        .iter()
        .filter(|s| matches!(s.action, Action::Create | Action::Replace))
        .count();
    if args.dry_run {
        printer.emit(&plan)?;
        printer.status(&format!(
            "Dry run: {changes} of {} package{} would change; nothing was sent.",
            plan.steps.len(),
            if plan.steps.len() == 1 { "" } else { "s" }
        ));
        return unread(&plan);
    }
    if changes > 0 && !args.yes {
        printer.notice_table(&plan.table(printer, Stream::Stderr, false));
        let answer = prompt::line(&format!(
            "Apply {changes} change{}? [y/N] ",
            if changes == 1 { "" } else { "s" }
        ))?;
        if !matches!(answer.to_ascii_lowercase().as_str(), "y" | "yes") {
            return Err(Failure::new("cancelled; nothing was changed").into());
        }
    }
    let progress = Progress::new(printer, "configuring", changes);
    let mut first = true;
    for step in plan.steps.iter_mut() {
        if !matches!(step.action, Action::Create | Action::Replace) {
            if step.action == Action::Unchanged {
                step.result = "unchanged";
            }
            continue;
        }
        if !first && !args.pace.is_zero() {
            pause(args.pace).await;
        }
        first = false;
        progress.at(&step.package);
        let result = apply(&registry, &mut session, step).await;
        progress.done_one();
        match result {
            Ok(()) => step.result = "done",
            Err(err) => {
                step.result = "failed";
                step.error = Some(crate::failure::message(&err));
            }
        }
    }
    progress.finish();
    printer.emit(&plan)?;
    let failed = plan.steps.iter().filter(|s| s.result == "failed").count();
    if failed > 0 {
        return Err(Failure::new(format!(
            "{failed} of {} package{} could not be configured",
            plan.steps.len(),
            if plan.steps.len() == 1 { "" } else { "s" }
        ))
        .hint("each failed row says what the registry answered; rerun `rtok trust sync`: it changes only what is still different")
        .into());
    }
    if changes == 0 {
        printer.status("Every package is already configured so; nothing was sent.");
    }
    Ok(())
}

/// Exit 1 when the current configuration of any package could not be read.
fn unread(plan: &Plan) -> Result<()> {
    let failed = plan
        .steps
        .iter()
        .filter(|s| s.action == Action::Unknown)
        .count();
    if failed > 0 {
        return Err(Failure::new(format!(
            "could not read the current configuration of {failed} package{}",
            if failed == 1 { "" } else { "s" }
        ))
        .into());
    }
    Ok(())
}

impl Step {
    fn new(package: String, action: Action, wanted: Trust, current: Vec<String>) -> Step {
        Step {
            package,
            action,
            wanted,
            current,
            result: "planned",
            error: None,
        }
    }
}

/// Revokes what is there (a replace), then creates.
async fn apply(registry: &Registry, session: &mut OtpSession<'_>, step: &Step) -> Result<()> {
    for id in &step.current {
        session
            .run(|code| async move {
                registry
                    .revoke_trust(&step.package, id, code.as_ref())
                    .await
            })
            .await?;
    }
    session
        .run(|code| async move {
            registry
                .create_trust(&step.package, &step.wanted, code.as_ref())
                .await
        })
        .await?;
    Ok(())
}

async fn pause(pace: Duration) {
    tokio::time::sleep(pace).await;
}
