//! `rtok scan`: finds npm credentials in files, git history or the index;
//! `--verify` asks the user's own registries whether they are live,
//! `--revoke` revokes them. Exit 1 when anything was found, 2 for bad usage.

use std::collections::HashSet;
use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::cli::{GlobalArgs, ScanArgs, ScanFormat};
use crate::failure::Failure;
use crate::locate::process_env;
use crate::output::{Printer, Stream, Table};
use crate::prompt;
use crate::scan::detect::Detector;
use crate::scan::git::{GitError, Repository};
use crate::scan::{Finding, Status, report, sort, walk};
use crate::settings::Settings;

mod verify;

/// Scanning needs no configuration: the settings are resolved only when a
/// finding is to be verified or revoked, so `rtok scan` works on a machine
/// with no `.npmrc` at all.
pub(super) async fn run(global: &GlobalArgs, args: &ScanArgs, printer: &Printer) -> Result<()> {
    let format = args.format.unwrap_or(if global.json {
        ScanFormat::Json
    } else {
        ScanFormat::Table
    });
    // Decided before anything is read or sent: a script learns it needs
    // `--yes` without a single request having been made.
    if args.revoke && !args.yes && !prompt::interactive() {
        return Err(Failure::usage(
            "`--revoke` revokes credentials and there is no terminal to confirm it",
        )
        .hint("confirm up front with `--yes`, or look first with `--verify`")
        .into());
    }
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    for path in &paths {
        if let Err(err) = std::fs::metadata(path) {
            return Err(Failure::usage(format!(
                "cannot scan `{}`: {}",
                path.display(),
                describe_io(&err)
            ))
            .into());
        }
    }

    let detector = Detector::new().context("could not build the scan patterns")?;
    let warn = |text: String| printer.warn(&text);
    let mut failures: Vec<String> = Vec::new();
    let mut findings = if args.git_history || args.staged {
        let mut repositories = Vec::new();
        for path in &paths {
            repositories.push(Repository::find(path).map_err(git_failure)?);
        }
        let mut found = Vec::new();
        for repository in &repositories {
            let result = if args.git_history {
                repository.history(&detector, &warn)
            } else {
                repository.staged(&detector, &warn)
            };
            match result {
                Ok(more) => found.extend(more),
                Err(err) => failures.push(err.to_string()),
            }
        }
        found
    } else {
        walk::walk(&paths, &detector, &warn)
    };
    sort(&mut findings);

    if !findings.is_empty() && (args.verify || args.revoke) {
        let cwd = std::env::current_dir().context("could not read the current folder")?;
        let settings = Settings::resolve(global, process_env(), cwd)?;
        for warning in &settings.config.warnings {
            printer.warn(warning);
        }
        let checked = verify::verify(&settings, printer, &mut findings, &paths).await?;
        let live = findings
            .iter()
            .filter(|f| matches!(f.status, Some(Status::Live { .. })))
            .count();
        if args.revoke && live > 0 && (args.yes || confirm(printer, &findings)?) {
            verify::revoke(&settings, printer, &mut findings, &checked).await;
            report_revocations(printer, &findings);
        }
    }

    print(printer, global, format, &findings)?;

    if !failures.is_empty() {
        return Err(Failure::new(failures.join("; "))
            .hint(UNREADABLE_REPOSITORY)
            .into());
    }
    if findings.is_empty() {
        printer.status("No npm credentials found.");
        return Ok(());
    }
    Err(found_failure(&findings, args.revoke).into())
}

fn print(
    printer: &Printer,
    global: &GlobalArgs,
    format: ScanFormat,
    findings: &[Finding],
) -> Result<()> {
    match format {
        ScanFormat::Json => printer.json(&report::json(findings))?,
        ScanFormat::Sarif => {
            let cwd = std::env::current_dir()
                .and_then(std::fs::canonicalize)
                .context("could not read the current folder")?;
            printer.json(&report::sarif(findings, &cwd))?
        }
        ScanFormat::Table if global.parseable => {
            printer
                .data("file\tline\tcolumn\tkind\tregistry\tmasked\tfingerprint\tcommit\tstatus")?;
            for f in findings {
                printer.data(&format!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    f.file,
                    f.line,
                    f.column,
                    f.kind.id(),
                    f.registry.as_deref().unwrap_or(""),
                    f.masked(),
                    f.fingerprint(),
                    f.commit.as_deref().unwrap_or(""),
                    f.status.as_ref().map(Status::id).unwrap_or(""),
                ))?;
            }
        }
        ScanFormat::Table if findings.is_empty() => {}
        ScanFormat::Table => printer.data(&table(printer, findings).to_string())?,
    }
    Ok(())
}

/// The human table: where, what, for which registry, the secret masked, and
/// the columns that apply (commit, status, revocation).
fn table(printer: &Printer, findings: &[Finding]) -> Table {
    let commits = findings.iter().any(|f| f.commit.is_some());
    let verified = findings.iter().any(|f| f.status.is_some());
    let revoked = findings.iter().any(|f| f.revocation.is_some());
    let mut header = vec!["location", "kind", "registry", "secret", "fingerprint"];
    if commits {
        header.push("commit");
    }
    if verified {
        header.push("status");
    }
    if revoked {
        header.push("revoked");
    }
    let mut table = printer.table(Stream::Stdout, &header);
    for f in findings {
        let mut row = vec![
            format!("{}:{}:{}", f.file, f.line, f.column),
            f.kind.id().to_string(),
            f.registry.clone().unwrap_or_default(),
            f.masked(),
            f.fingerprint(),
        ];
        if commits {
            row.push(
                f.commit
                    .as_deref()
                    .map(|c| c.chars().take(12).collect())
                    .unwrap_or_default(),
            );
        }
        if verified {
            row.push(match &f.status {
                Some(Status::Live { user }) => format!("live ({user})"),
                Some(status) => status.id().to_string(),
                None => String::new(),
            });
        }
        if revoked {
            row.push(match &f.revocation {
                Some(r) if r.result.is_ok() => "yes".to_string(),
                Some(_) => "failed".to_string(),
                None => String::new(),
            });
        }
        table.add_row(row);
    }
    table
}

/// Shows the live secrets on stderr and asks before revoking them.
fn confirm(printer: &Printer, findings: &[Finding]) -> Result<bool> {
    let mut seen = HashSet::new();
    let live: Vec<&Finding> = findings
        .iter()
        .filter(|f| matches!(f.status, Some(Status::Live { .. })))
        .filter(|f| seen.insert(f.fingerprint()))
        .collect();
    for f in &live {
        if let Some(Status::Live { user }) = &f.status {
            printer.status(&format!(
                "  {} ({}) of user {user}, at {}:{}",
                f.masked(),
                f.kind.id(),
                f.file,
                f.line
            ));
        }
    }
    let answer = prompt::line(&format!(
        "Revoke {} live secret{}? [y/N] ",
        live.len(),
        plural(live.len())
    ))?;
    let yes = matches!(answer.to_ascii_lowercase().as_str(), "y" | "yes");
    if !yes {
        printer.status("Nothing was revoked.");
    }
    Ok(yes)
}

/// One stderr line per revoked (or not) secret.
fn report_revocations(printer: &Printer, findings: &[Finding]) {
    let mut seen = HashSet::new();
    for f in findings {
        let Some(revocation) = &f.revocation else {
            continue;
        };
        if !seen.insert(f.fingerprint()) {
            continue;
        }
        match &revocation.result {
            Ok(()) => {
                let how = match &revocation.key {
                    Some(key) => format!("by your token list entry {key}"),
                    None => "with itself (`DELETE /-/user/token/...`)".to_string(),
                };
                printer.status(&format!("Revoked {} {how}.", f.masked()));
            }
            Err(err) => printer.warn(&format!("could not revoke {}: {err}", f.masked())),
        }
    }
}

/// "found 3 npm credentials (2 distinct secrets) in 2 files": exit 1.
fn found_failure(findings: &[Finding], revoked: bool) -> Failure {
    let files: HashSet<&[u8]> = findings.iter().map(Finding::path_bytes).collect();
    let secrets: HashSet<String> = findings.iter().map(Finding::fingerprint).collect();
    let message = format!(
        "found {} npm credential{} ({} distinct secret{}) in {} file{}",
        findings.len(),
        plural(findings.len()),
        secrets.len(),
        plural(secrets.len()),
        files.len(),
        plural(files.len())
    );
    let hint = if revoked {
        "remove them from the files (and from git history, where they stay readable)"
    } else {
        "check which are live with `rtok scan --verify`, revoke them with `--revoke`, then remove them from the files"
    };
    Failure::new(message).hint(hint)
}

fn git_failure(err: GitError) -> anyhow::Error {
    match err {
        GitError::NotARepository(_) => Failure::usage(err.to_string())
            .hint(
                "`--git-history` and `--staged` scan git repositories; drop them to scan the files",
            )
            .into(),
        GitError::NotInstalled(_) => Failure::new(err.to_string())
            .hint("install git (Debian: `apt-get install git`)")
            .into(),
        GitError::Failed { .. } => Failure::new(err.to_string())
            .hint(UNREADABLE_REPOSITORY)
            .into(),
    }
}

/// The hint after git could not read a repository (a damaged object, an
/// unsupported format, a repository git does not trust).
const UNREADABLE_REPOSITORY: &str = "see what git finds with `git fsck` in that repository; \
     without `--git-history` and `--staged`, rtok scans the files alone";

fn describe_io(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::NotFound => "no such file or folder".to_string(),
        _ => err.to_string(),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
