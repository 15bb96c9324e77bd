//! `rtok stage`: the versions staged for publishing (`npm stage publish`)
//! and waiting for a human: list, view, approve in one sitting, reject,
//! download.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io;
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::Serialize;
use serde_json::Value;

use super::batch::{OtpSession, Progress};
use super::connect;
use crate::cli::{StageApproveArgs, StageCommand, StageDownloadArgs, StageRejectArgs};
use crate::failure::Failure;
use crate::oidc::workspaces;
use crate::output::{Printer, Report, Stream, visible};
use crate::prompt;
use crate::registry::{Registry, StageItem, is_stage_id};
use crate::settings::Settings;
use crate::time;

pub(super) async fn run(
    settings: &Settings,
    command: StageCommand,
    printer: &Printer,
) -> Result<()> {
    match command {
        StageCommand::List(args) => list(settings, args.package.as_deref(), printer).await,
        StageCommand::View(args) => view(settings, &args.id, printer).await,
        StageCommand::Approve(args) => approve(settings, &args, printer).await,
        StageCommand::Reject(args) => reject(settings, &args, printer).await,
        StageCommand::Download(args) => download(settings, &args, printer).await,
    }
}

/// Every id must be a UUID before any request (npm's `validate-uuid`).
fn check_ids(ids: &[String]) -> Result<()> {
    for id in ids {
        if !is_stage_id(id) {
            return Err(Failure::usage(format!(
                "`{}` is not a stage id (a UUID like 0a1b2c3d-4e5f-6789-abcd-ef0123456789); nothing was sent",
                visible(id)
            ))
            .hint("`rtok stage list` shows the ids")
            .into());
        }
    }
    Ok(())
}

fn client(settings: &Settings, printer: &Printer) -> Result<Registry> {
    settings.require_credential()?;
    Ok(connect::client(settings, printer, "stage")?)
}

/// `package@version`.
fn spec(item: &StageItem) -> String {
    format!("{}@{}", visible(item.package()), visible(item.version()))
}

/// The staged list: `--json` is the items as the registry sent them (one
/// array over every page).
#[derive(Serialize)]
#[serde(transparent)]
struct Listing {
    items: Vec<StageItem>,
    #[serde(skip)]
    registry: String,
}

impl Report for Listing {
    fn human(&self, printer: &Printer) -> io::Result<()> {
        if self.items.is_empty() {
            printer.status(&format!("No staged versions on {}.", self.registry));
            return Ok(());
        }
        let mut table = printer.table(
            Stream::Stdout,
            &["id", "package", "version", "tag", "staged", "by"],
        );
        for item in &self.items {
            table.add_row([
                item.id().to_string(),
                item.package().to_string(),
                item.version().to_string(),
                item.tag().unwrap_or_default().to_string(),
                item.created().map(time::date).unwrap_or_default(),
                item.staged_by().unwrap_or_default(),
            ]);
        }
        printer.data(&table.to_string())
    }

    fn parseable(&self, printer: &Printer) -> io::Result<()> {
        printer.data("id\tpackage\tversion\ttag\tcreated\tactor")?;
        for item in &self.items {
            printer.fields([
                item.id(),
                item.package(),
                item.version(),
                item.tag().unwrap_or_default(),
                item.created().unwrap_or_default(),
                item.text("actor").unwrap_or_default(),
            ])?;
        }
        Ok(())
    }
}

async fn list(settings: &Settings, package: Option<&str>, printer: &Printer) -> Result<()> {
    let registry = client(settings, printer)?;
    let items = registry.list_stage(package).await?;
    printer.emit(&Listing {
        items,
        registry: settings.registry_display(),
    })?;
    Ok(())
}

/// One staged version: `key: value` lines as npm prints them.
#[derive(Serialize)]
#[serde(transparent)]
struct Viewed(StageItem);

impl Report for Viewed {
    fn human(&self, printer: &Printer) -> io::Result<()> {
        let item = &self.0;
        let mut lines = vec![
            format!("id: {}", item.id()),
            format!("package name: {}", item.package()),
            format!("version: {}", item.version()),
        ];
        if let Some(tag) = item.tag() {
            lines.push(format!("tag: {tag}"));
        }
        if let Some(created) = item.created() {
            lines.push(format!("date staged: {created}"));
        }
        if let Some(by) = item.staged_by() {
            lines.push(format!("staged by: {by}"));
        }
        if let Some(shasum) = item.shasum() {
            lines.push(format!("shasum: {shasum}"));
        }
        const SHOWN: [&str; 8] = [
            "id",
            "packageName",
            "version",
            "tag",
            "createdAt",
            "actor",
            "actorType",
            "shasum",
        ];
        for (name, value) in item.fields() {
            if SHOWN.contains(&name.as_str()) {
                continue;
            }
            let value = match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            lines.push(format!("{name}: {value}"));
        }
        for line in lines {
            printer.data(&visible(&line))?;
        }
        Ok(())
    }
}

async fn view(settings: &Settings, id: &str, printer: &Printer) -> Result<()> {
    check_ids(&[id.to_string()])?;
    let registry = client(settings, printer)?;
    let item = registry.view_stage(id).await?;
    printer.emit(&Viewed(item))?;
    Ok(())
}

/// One approval's or rejection's outcome.
#[derive(Serialize)]
struct Outcome {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    package: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

impl Outcome {
    fn shown(&self) -> String {
        match (&self.package, &self.version) {
            (Some(package), Some(version)) => {
                format!("{}@{} ({})", visible(package), visible(version), self.id)
            }
            _ => self.id.clone(),
        }
    }
}

/// The outcomes of a batch, in the order they ran.
#[derive(Serialize)]
#[serde(transparent)]
struct Outcomes {
    outcomes: Vec<Outcome>,
    #[serde(skip)]
    verb: &'static str,
}

impl Report for Outcomes {
    fn human(&self, printer: &Printer) -> io::Result<()> {
        for outcome in &self.outcomes {
            match &outcome.error {
                None => printer.data(&format!("{} {}", self.verb, outcome.shown()))?,
                Some(err) => {
                    printer.data(&format!("failed {}: {}", outcome.shown(), visible(err)))?
                }
            }
        }
        Ok(())
    }

    fn parseable(&self, printer: &Printer) -> io::Result<()> {
        printer.data("id\tpackage\tversion\tstate\terror")?;
        for o in &self.outcomes {
            printer.fields([
                o.id.as_str(),
                o.package.as_deref().unwrap_or_default(),
                o.version.as_deref().unwrap_or_default(),
                if o.ok { self.verb } else { "failed" },
                o.error.as_deref().unwrap_or_default(),
            ])?;
        }
        Ok(())
    }
}

/// Exit 1 when any failed, after every outcome was reported.
fn finish(outcomes: Outcomes, printer: &Printer, what: &str) -> Result<()> {
    let failed = outcomes.outcomes.iter().filter(|o| !o.ok).count();
    let total = outcomes.outcomes.len();
    printer.emit(&outcomes)?;
    if failed > 0 {
        return Err(Failure::new(format!(
            "{failed} of {total} {what}{} failed",
            if total == 1 { "" } else { "s" }
        ))
        .hint("each failed line says what the registry answered; rerun for those ids")
        .into());
    }
    Ok(())
}

async fn approve(settings: &Settings, args: &StageApproveArgs, printer: &Printer) -> Result<()> {
    check_ids(&args.ids)?;
    let pick = args.ids.is_empty() && !args.all;
    if pick && !prompt::interactive() {
        return Err(Failure::usage(
            "`rtok stage approve` needs stage ids or `--all` (there is no terminal to pick them on)",
        )
        .hint("`rtok stage list` shows the ids; then `rtok stage approve <ID>...` or `--all --package <PKG>`")
        .into());
    }
    let registry = client(settings, printer)?;
    // The list names each id's package and version (for the report and the
    // order); `--all` and the picker choose from it.
    let listed = registry.list_stage(args.package.as_deref()).await?;
    let chosen: Vec<Chosen> = if args.all {
        listed.iter().map(Chosen::from_item).collect()
    } else if pick {
        let picked = pick_items(&listed)?;
        if picked.is_empty() {
            printer.status("Nothing picked; nothing was approved.");
            return Ok(());
        }
        picked
    } else {
        let by_id: HashMap<String, &StageItem> = listed
            .iter()
            .map(|item| (item.id().to_ascii_lowercase(), item))
            .collect();
        let mut seen = BTreeSet::new();
        args.ids
            .iter()
            .filter(|id| seen.insert(id.to_ascii_lowercase()))
            .map(|id| match by_id.get(&id.to_ascii_lowercase()) {
                Some(item) => Chosen::from_item(item),
                None => Chosen {
                    id: id.clone(),
                    package: None,
                    version: None,
                },
            })
            .collect()
    };
    if chosen.is_empty() {
        printer.status(&format!(
            "No staged versions{} on {}; nothing to approve.",
            args.package
                .as_deref()
                .map(|p| format!(" of {}", visible(p)))
                .unwrap_or_default(),
            settings.registry_display()
        ));
        return Ok(());
    }
    let chosen = dependency_order(chosen, &workspace_dependencies());
    let mut session = OtpSession::new(settings.otp.as_ref(), printer, &registry);
    let progress = Progress::new(printer, "approving", chosen.len());
    let mut outcomes = Vec::new();
    for item in chosen {
        progress.at(&item.label());
        let result = session
            .run(|code| {
                let registry = &registry;
                let id = item.id.clone();
                async move { registry.approve_stage(&id, code.as_ref()).await }
            })
            .await;
        progress.done_one();
        outcomes.push(item.outcome(result));
    }
    progress.finish();
    finish(
        Outcomes {
            outcomes,
            verb: "approved",
        },
        printer,
        "approval",
    )
}

/// An id chosen for a batch, with what the list said about it.
#[derive(Debug, Clone, PartialEq)]
struct Chosen {
    id: String,
    package: Option<String>,
    version: Option<String>,
}

impl Chosen {
    fn from_item(item: &StageItem) -> Chosen {
        Chosen {
            id: item.id().to_string(),
            package: Some(item.package().to_string()).filter(|p| !p.is_empty()),
            version: Some(item.version().to_string()).filter(|v| !v.is_empty()),
        }
    }

    fn label(&self) -> String {
        match &self.package {
            Some(package) => format!("{package}@{}", self.version.as_deref().unwrap_or("?")),
            None => self.id.clone(),
        }
    }

    fn outcome(self, result: Result<()>) -> Outcome {
        let error = result.err().map(|err| crate::failure::message(&err));
        Outcome {
            id: self.id,
            package: self.package,
            version: self.version,
            ok: error.is_none(),
            error,
        }
    }
}

/// The workspace packages of the current folder and the workspace
/// packages each depends on; empty outside a workspace.
fn workspace_dependencies() -> BTreeMap<String, Vec<String>> {
    let Ok(root) = std::env::current_dir() else {
        return BTreeMap::new();
    };
    let Ok(members) = workspaces::discover(&root) else {
        return BTreeMap::new();
    };
    let names: BTreeSet<String> = members.iter().filter_map(|m| m.name.clone()).collect();
    members
        .iter()
        .filter_map(|member| {
            let name = member.name.clone()?;
            let deps = workspaces::dependencies(&root, member)
                .into_iter()
                .filter(|dep| names.contains(dep) && *dep != name)
                .collect();
            Some((name, deps))
        })
        .collect()
}

/// `chosen` with each package after the workspace packages it depends on
/// (so a dependent is never published before what it needs); otherwise in
/// the order given. A dependency cycle keeps the given order for its part.
fn dependency_order(chosen: Vec<Chosen>, deps: &BTreeMap<String, Vec<String>>) -> Vec<Chosen> {
    if deps.is_empty() {
        return chosen;
    }
    let mut placed: Vec<Chosen> = Vec::with_capacity(chosen.len());
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut left = chosen;
    while !left.is_empty() {
        let pending: BTreeSet<String> = left.iter().filter_map(|c| c.package.clone()).collect();
        let ready = left.iter().position(|c| {
            let Some(package) = &c.package else {
                return true;
            };
            deps.get(package).is_none_or(|needs| {
                needs
                    .iter()
                    .all(|dep| done.contains(dep) || !pending.contains(dep) || dep == package)
            })
        });
        let index = ready.unwrap_or(0);
        let next = left.remove(index);
        // A package is done once none of its versions are left.
        if let Some(package) = &next.package
            && !left.iter().any(|c| c.package.as_ref() == Some(package))
        {
            done.insert(package.clone());
        }
        placed.push(next);
    }
    placed
}

/// A multi-select of the staged versions on the terminal (stderr).
fn pick_items(items: &[StageItem]) -> Result<Vec<Chosen>> {
    if items.is_empty() {
        return Err(Failure::new("there are no staged versions to approve").into());
    }
    let labels: Vec<String> = items
        .iter()
        .map(|item| {
            format!(
                "{:<40} {:<12} staged {}  {}",
                spec(item),
                item.tag().map(visible).unwrap_or_default(),
                item.created().map(time::date).unwrap_or_else(|| "-".into()),
                item.id()
            )
        })
        .collect();
    let theme = dialoguer::theme::SimpleTheme;
    let picked = dialoguer::MultiSelect::with_theme(&theme)
        .with_prompt("Pick the versions to approve (space picks, enter confirms, esc cancels)")
        .items(&labels)
        .report(false)
        .interact_on_opt(&dialoguer::console::Term::stderr())
        .map_err(|err| anyhow::anyhow!("could not read the choice from the terminal: {err}"))?;
    let Some(picked) = picked else {
        return Err(Failure::new("cancelled; nothing was approved").into());
    };
    Ok(picked
        .into_iter()
        .filter_map(|i| items.get(i))
        .map(Chosen::from_item)
        .collect())
}

async fn reject(settings: &Settings, args: &StageRejectArgs, printer: &Printer) -> Result<()> {
    check_ids(&args.ids)?;
    if !args.yes && !prompt::interactive() {
        return Err(Failure::usage(
            "`rtok stage reject` deletes staged versions for good and asks first, but there is no terminal to ask on; nothing was sent",
        )
        .hint("pass `--yes` to reject without asking")
        .into());
    }
    let registry = client(settings, printer)?;
    let mut ids: Vec<String> = Vec::new();
    for id in &args.ids {
        if !ids.iter().any(|i| i.eq_ignore_ascii_case(id)) {
            ids.push(id.clone());
        }
    }
    if !args.yes {
        printer.notice(&format!(
            "Rejecting deletes the staged version{} and {} tarball{} from the registry for good:\n  {}",
            if ids.len() == 1 { "" } else { "s" },
            if ids.len() == 1 { "its" } else { "their" },
            if ids.len() == 1 { "" } else { "s" },
            ids.join("\n  ")
        ));
        let answer = prompt::line(&format!(
            "Reject {} staged version{}? [y/N] ",
            ids.len(),
            if ids.len() == 1 { "" } else { "s" }
        ))?;
        if !matches!(answer.to_ascii_lowercase().as_str(), "y" | "yes") {
            return Err(Failure::new("cancelled; nothing was rejected").into());
        }
    }
    let mut session = OtpSession::new(settings.otp.as_ref(), printer, &registry);
    let mut outcomes = Vec::new();
    for id in ids {
        let result = session
            .run(|code| {
                let registry = &registry;
                let id = id.clone();
                async move { registry.reject_stage(&id, code.as_ref()).await }
            })
            .await;
        let chosen = Chosen {
            id,
            package: None,
            version: None,
        };
        outcomes.push(chosen.outcome(result));
    }
    finish(
        Outcomes {
            outcomes,
            verb: "rejected",
        },
        printer,
        "rejection",
    )
}

/// Where a download went.
#[derive(Serialize)]
struct Downloaded {
    id: String,
    file: PathBuf,
    bytes: usize,
}

impl Report for Downloaded {
    fn human(&self, printer: &Printer) -> io::Result<()> {
        printer.status(&format!(
            "Downloaded {} ({} bytes) to:",
            self.id, self.bytes
        ));
        printer.data(&visible(&self.file.display().to_string()))
    }
}

async fn download(settings: &Settings, args: &StageDownloadArgs, printer: &Printer) -> Result<()> {
    check_ids(std::slice::from_ref(&args.id))?;
    let registry = client(settings, printer)?;
    let file = match &args.output {
        Some(file) => file.clone(),
        None => PathBuf::from(registry.view_stage(&args.id).await?.tarball_name()),
    };
    let bytes = registry.download_stage(&args.id).await?;
    write_file(&file, &bytes)?;
    printer.emit(&Downloaded {
        id: args.id.clone(),
        file,
        bytes: bytes.len(),
    })?;
    Ok(())
}

/// Writes `bytes` to `file` whole or not at all (a temporary file beside
/// it, renamed into place).
fn write_file(file: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let failed =
        |err: io::Error| Failure::new(format!("could not write {}: {err}", file.display()));
    let dir = match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut temp = tempfile::NamedTempFile::new_in(&dir).map_err(failed)?;
    temp.write_all(bytes).map_err(failed)?;
    temp.persist(file).map_err(|err| failed(err.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chosen(package: &str) -> Chosen {
        Chosen {
            id: format!("id-{package}"),
            package: Some(package.to_string()),
            version: Some("1.0.0".into()),
        }
    }

    #[test]
    fn dependents_come_after_what_they_need() {
        let deps: BTreeMap<String, Vec<String>> = [
            (
                "@a/cli".to_string(),
                vec!["@a/core".to_string(), "@a/utils".to_string()],
            ),
            ("@a/core".to_string(), vec!["@a/utils".to_string()]),
            ("@a/utils".to_string(), vec![]),
        ]
        .into_iter()
        .collect();
        let order: Vec<String> = dependency_order(
            vec![
                chosen("@a/cli"),
                chosen("other"),
                chosen("@a/core"),
                chosen("@a/utils"),
            ],
            &deps,
        )
        .into_iter()
        .map(|c| c.package.unwrap_or_default())
        .collect();
        assert_eq!(order, ["other", "@a/utils", "@a/core", "@a/cli"]);
    }

    #[test]
    fn cycles_and_no_workspace_keep_the_given_order() {
        let cycle: BTreeMap<String, Vec<String>> = [
            ("a".to_string(), vec!["b".to_string()]),
            ("b".to_string(), vec!["a".to_string()]),
        ]
        .into_iter()
        .collect();
        let order: Vec<String> = dependency_order(vec![chosen("a"), chosen("b")], &cycle)
            .into_iter()
            .map(|c| c.package.unwrap_or_default())
            .collect();
        assert_eq!(order, ["a", "b"]);
        let plain = dependency_order(vec![chosen("b"), chosen("a")], &BTreeMap::new());
        assert_eq!(plain[0].package.as_deref(), Some("b"));
    }

    #[test]
    fn ids_are_checked_before_anything() {
        assert!(check_ids(&["0a1b2c3d-4e5f-6789-abcd-ef0123456789".into()]).is_ok());
        assert!(check_ids(&["0a1b2c3d".into()]).is_err());
    }
}
