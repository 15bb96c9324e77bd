//! Scanning what git holds, through git's own plumbing: `--git-history`
//! reads every blob of every commit reachable from any ref once (`git
//! rev-list` feeds `git diff-tree --raw`, which names each blob with the
//! commit and path that brought it in, and `git cat-file --batch` streams
//! the contents); `--staged` reads the index's blobs of the paths staged
//! for the next commit (`git diff-index --cached`).
//!
//! The repository scanned is data, not configuration: every git rtok runs
//! goes through [`command`], which overrides each setting of the
//! repository's own `.git/config` that could make git run a program.

use std::collections::HashSet;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;

use super::detect::{Detector, FileKind};
use super::walk::Warn;
use super::{Finding, WHOLE_LIMIT, scan_bytes, scan_reader};

/// Settings given on git's command line, which outrank every config file
/// (the repository's `.git/config` and whatever it includes). They switch
/// off each setting that makes git run a program while it reads a
/// repository:
///
/// - `core.fsmonitor`: a hook run whenever the index is read;
/// - `core.hooksPath`: hooks (none runs on a read, but a `post-index-change`
///   would if the index were written);
/// - `log.showSignature` and the `gpg.*.program`s: a verifier run per
///   signed commit;
/// - `credential.helper`, `core.sshCommand`, `core.askPass`: only ever run
///   to reach a remote, which [`ENVIRONMENT`] forbids; disabled all the same;
/// - `core.pager`: never used with stdout on a pipe, and `--no-pager`.
///
/// What the commands themselves guarantee: they are plumbing (`rev-list`,
/// `diff-tree`, `diff-index`, `cat-file`, `ls-files`, `rev-parse`), which
/// read no `diff.external`, `diff.<driver>.command`/`textconv` or
/// `log.*` (and get `--no-ext-diff --no-textconv` besides); `--raw`
/// output runs no diff driver, `cat-file --batch` without `--filters` runs
/// no `filter.<driver>.clean`/`smudge`/`process`, and nothing compares the
/// work tree, so no filter runs on a refresh either.
/// `core.alternateRefsCommand` and `uploadpack.packObjectsHook` belong to
/// fetches and pushes served, which never happen here.
const OVERRIDES: [&str; 11] = [
    "core.fsmonitor=false",
    "core.hooksPath=/dev/null",
    "log.showSignature=false",
    "gpg.program=false",
    "gpg.openpgp.program=false",
    "gpg.x509.program=false",
    "gpg.ssh.program=false",
    "credential.helper=",
    "core.sshCommand=false",
    "core.askPass=false",
    "core.pager=cat",
];

/// The environment of every git rtok runs:
///
/// - no remote is ever reached: a partial clone (`extensions.partialClone`)
///   fetches a missing object from its promisor remote, whose URL the
///   repository names (`ext::<command>` runs a command when the repository
///   also allows the `ext` protocol); `GIT_NO_LAZY_FETCH` (git 2.44) stops
///   the fetch, and `GIT_ALLOW_PROTOCOL` set to no protocol outranks any
///   `protocol.*.allow` for older gits;
/// - no prompt; no system-wide config (it is not the repository's, but
///   nothing in it is needed to read objects);
/// - no optional locks (no index refresh written back);
/// - no replace refs: `--all` reaches the replacements through
///   `refs/replace/`, and the replaced commits are scanned as they are.
const ENVIRONMENT: [(&str, &str); 6] = [
    ("GIT_NO_LAZY_FETCH", "1"),
    ("GIT_ALLOW_PROTOCOL", ""),
    ("GIT_TERMINAL_PROMPT", "0"),
    ("GIT_CONFIG_NOSYSTEM", "1"),
    ("GIT_OPTIONAL_LOCKS", "0"),
    ("GIT_NO_REPLACE_OBJECTS", "1"),
];

/// `git -C <dir>` that runs nothing the repository configures (see
/// [`OVERRIDES`] and [`ENVIRONMENT`]); add plumbing arguments only. Every
/// git rtok runs on a user's files starts here (`doctor`'s `ls-files` too).
pub(crate) fn command(dir: &Path) -> Command {
    let mut command = Command::new("git");
    command.arg("--no-pager").arg("-C").arg(dir);
    for setting in OVERRIDES {
        command.arg("-c").arg(setting);
    }
    command.envs(ENVIRONMENT);
    command
}

/// Why a path could not be scanned as a git repository.
#[derive(Debug, thiserror::Error)]
pub(crate) enum GitError {
    #[error("`{}` is not in a git repository", .0.display())]
    NotARepository(PathBuf),
    #[error("could not run `git`: {0}")]
    NotInstalled(String),
    #[error("git failed on `{}`: {message}", path.display())]
    Failed { path: PathBuf, message: String },
}

/// A repository and what of it to scan.
pub(crate) struct Repository {
    /// Where git runs (`git -C`): the work tree's top, or a bare repository.
    dir: PathBuf,
    /// How paths in the repository are shown: this prefix, then the path.
    shown_prefix: PathBuf,
    /// The part of the repository the user named (empty: all of it).
    pathspec: Option<OsString>,
}

impl Repository {
    /// The repository that holds `path` (a folder or a file in a work tree,
    /// or a bare repository), or why there is none.
    pub(crate) fn find(path: &Path) -> Result<Repository, GitError> {
        let folder = if path.is_dir() {
            path.to_path_buf()
        } else {
            path.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
        };
        let top = git(&folder, &["rev-parse", "--show-toplevel"]);
        match top {
            Ok(top) => {
                let top = PathBuf::from(top.trim_end_matches('\n'));
                let absolute = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
                let pathspec = absolute
                    .strip_prefix(&top)
                    .ok()
                    .filter(|rel| !rel.as_os_str().is_empty())
                    .map(|rel| {
                        let mut spec = OsString::from(":(top,literal)");
                        spec.push(rel.as_os_str());
                        spec
                    });
                Ok(Repository {
                    shown_prefix: shown_prefix(&top),
                    dir: top,
                    pathspec,
                })
            }
            Err(GitError::Failed { .. }) => {
                // A bare repository (a mirror clone) has no work tree.
                match git(&folder, &["rev-parse", "--is-bare-repository"]) {
                    Ok(answer) if answer.trim() == "true" => Ok(Repository {
                        dir: folder,
                        shown_prefix: PathBuf::new(),
                        pathspec: None,
                    }),
                    Ok(_) | Err(GitError::Failed { .. }) => {
                        Err(GitError::NotARepository(path.to_path_buf()))
                    }
                    Err(err) => Err(err),
                }
            }
            Err(err) => Err(err),
        }
    }

    /// Every blob of every commit reachable from any ref, each read once.
    /// `rev-list` names every commit, oldest first, and `diff-tree` lists
    /// what each brings in (a merge: against its first parent). The
    /// pathspec limits `diff-tree` only, so no history simplification can
    /// skip a commit.
    pub(crate) fn history(
        &self,
        detector: &Detector,
        warn: Warn<'_>,
    ) -> Result<Vec<Finding>, GitError> {
        let mut commits = self.spawn(
            &["rev-list".into(), "--all".into(), "--reverse".into()],
            Stdio::null(),
        )?;
        let Some(commit_list) = commits.child.stdout.take() else {
            commits.stop();
            return Err(self.failed("could not connect to git's output"));
        };
        let mut args = strings(&[
            "diff-tree",
            "--stdin",
            "-r",
            "--root",
            "--raw",
            "-z",
            "--no-abbrev",
            "--no-renames",
            "--diff-merges=first-parent",
            "--no-ext-diff",
            "--no-textconv",
        ]);
        self.push_pathspec(&mut args);
        let found = self.scan_listing(&args, Stdio::from(commit_list), detector, warn);
        let listed = commits.finish().map_err(|message| self.failed(&message));
        let found = found?;
        listed?;
        Ok(found)
    }

    /// The blobs staged for the next commit (added, modified, type-changed):
    /// the index against `HEAD`, or against the empty tree before the first
    /// commit.
    pub(crate) fn staged(
        &self,
        detector: &Detector,
        warn: Warn<'_>,
    ) -> Result<Vec<Finding>, GitError> {
        let base = match git(
            &self.dir,
            &["rev-parse", "--verify", "--quiet", "HEAD^{tree}"],
        ) {
            Ok(tree) => tree,
            // No commit yet: the empty tree (of the repository's hash).
            Err(GitError::Failed { .. }) => {
                git(&self.dir, &["hash-object", "-t", "tree", "--stdin"])?
            }
            Err(err) => return Err(err),
        };
        let mut args = strings(&[
            "diff-index",
            "--cached",
            "--raw",
            "-z",
            "--no-abbrev",
            "--no-renames",
            "--no-ext-diff",
            "--no-textconv",
            base.trim(),
        ]);
        self.push_pathspec(&mut args);
        self.scan_listing(&args, Stdio::null(), detector, warn)
    }

    fn push_pathspec(&self, args: &mut Vec<OsString>) {
        if let Some(spec) = &self.pathspec {
            args.push("--".into());
            args.push(spec.clone());
        }
    }

    /// Runs a `--raw -z` listing (`stdin` its input), feeds each new blob
    /// it names to `git cat-file --batch`, and scans what comes back.
    fn scan_listing(
        &self,
        args: &[OsString],
        stdin: Stdio,
        detector: &Detector,
        warn: Warn<'_>,
    ) -> Result<Vec<Finding>, GitError> {
        let mut listing = self.spawn(args, stdin)?;
        let mut batch = self.spawn(&["cat-file".into(), "--batch".into()], Stdio::piped())?;
        let (Some(list_out), Some(mut batch_in), Some(batch_out)) = (
            listing.child.stdout.take(),
            batch.child.stdin.take(),
            batch.child.stdout.take(),
        ) else {
            return Err(self.failed("could not connect to git's output"));
        };

        // The listing is read on its own thread, which asks cat-file for
        // each new blob; this thread reads the contents as they come, in
        // the same order, so neither pipe can fill up and block the other.
        let (names, blobs) = mpsc::channel::<(Vec<u8>, Option<String>)>();
        let reader = std::thread::spawn(move || -> std::io::Result<()> {
            let mut seen: HashSet<Vec<u8>> = HashSet::new();
            let mut commit: Option<String> = None;
            let mut tokens = BufReader::new(list_out).split(0);
            while let Some(token) = tokens.next() {
                let token = token?;
                let meta = token.trim_ascii_start();
                if !meta.starts_with(b":") {
                    // `diff-tree --stdin` names each commit before its
                    // entries; `diff-index` names none.
                    let hash = meta.trim_ascii();
                    if !hash.is_empty() {
                        commit = Some(String::from_utf8_lossy(hash).into_owned());
                    }
                    continue;
                }
                let Some(path) = tokens.next().transpose()? else {
                    break;
                };
                let Some(blob) = new_blob(meta) else {
                    continue;
                };
                if !seen.insert(blob.to_vec()) {
                    continue;
                }
                batch_in.write_all(blob)?;
                batch_in.write_all(b"\n")?;
                if names.send((path, commit.clone())).is_err() {
                    break;
                }
            }
            // Closing cat-file's input lets it finish.
            drop(batch_in);
            Ok(())
        });

        let mut findings = Vec::new();
        let mut contents = BufReader::with_capacity(1 << 16, batch_out);
        let mut buffer = Vec::new();
        for (path, commit) in blobs {
            let kind = FileKind::of(file_name(&path));
            match read_blob(&mut contents, detector, kind, &mut buffer) {
                Ok(Some(hits)) => {
                    let shown = self.shown(&path);
                    findings.extend(
                        hits.into_iter()
                            .map(|hit| Finding::new(shown.clone(), commit.clone(), hit)),
                    );
                }
                Ok(None) => warn(format!(
                    "git has no object for {}{}",
                    String::from_utf8_lossy(&self.shown(&path)),
                    commit
                        .as_deref()
                        .map(|c| format!(" in commit {c}"))
                        .unwrap_or_default()
                )),
                Err(err) => {
                    listing.stop();
                    batch.stop();
                    return Err(
                        self.failed(&format!("could not read `git cat-file` output: {err}"))
                    );
                }
            }
        }
        let listed = reader.join();
        let list_status = listing.finish();
        let batch_status = batch.finish();
        if let Err(message) = list_status.and(batch_status) {
            return Err(self.failed(&message));
        }
        match listed {
            Ok(Ok(())) => Ok(findings),
            Ok(Err(err)) => Err(self.failed(&format!("could not read the listing: {err}"))),
            Err(_) => Err(self.failed("the listing reader stopped")),
        }
    }

    fn spawn(&self, args: &[OsString], stdin: Stdio) -> Result<GitProcess, GitError> {
        let mut child = command(&self.dir)
            .args(args)
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|err| GitError::NotInstalled(err.to_string()))?;
        // Drained as it comes, so a chatty git can never block on it.
        let stderr = child.stderr.take().map(|mut err| {
            std::thread::spawn(move || {
                let mut text = String::new();
                let _ = err.read_to_string(&mut text);
                text
            })
        });
        Ok(GitProcess { child, stderr })
    }

    /// A path in the repository (bytes, as git gives them) as shown.
    fn shown(&self, path: &[u8]) -> Vec<u8> {
        let prefix = self.shown_prefix.as_os_str().as_encoded_bytes();
        if prefix.is_empty() {
            return path.to_vec();
        }
        let mut shown = prefix.to_vec();
        if !prefix.ends_with(b"/") {
            shown.push(b'/');
        }
        shown.extend_from_slice(path);
        shown
    }

    fn failed(&self, message: &str) -> GitError {
        GitError::Failed {
            path: self.dir.clone(),
            message: message.to_string(),
        }
    }
}

/// The blob a `--raw` entry brings in (`:old_mode new_mode old new
/// status`): none for a deletion, a submodule (a commit, not a blob) or a
/// symbolic link.
fn new_blob(meta: &[u8]) -> Option<&[u8]> {
    let mut fields = meta[1..].split(|b| *b == b' ');
    let _old_mode = fields.next()?;
    let new_mode = fields.next()?;
    let _old = fields.next()?;
    let new = fields.next()?;
    let status = fields.next()?;
    if status.starts_with(b"D")
        || new.iter().all(|b| *b == b'0')
        || new_mode == b"160000"
        || new_mode == b"120000"
    {
        return None;
    }
    Some(new)
}

/// Reads one `cat-file --batch` answer and scans it; `None` when git says
/// the object is missing.
fn read_blob(
    contents: &mut BufReader<ChildStdout>,
    detector: &Detector,
    kind: FileKind,
    buffer: &mut Vec<u8>,
) -> std::io::Result<Option<Vec<super::detect::Hit>>> {
    let mut header = Vec::new();
    contents.read_until(b'\n', &mut header)?;
    let header = String::from_utf8_lossy(&header);
    let mut fields = header.split_whitespace();
    let (_oid, kind_name, size) = (fields.next(), fields.next(), fields.next());
    let size: u64 = match (kind_name, size.and_then(|s| s.parse().ok())) {
        (Some(_), Some(size)) => size,
        (Some("missing" | "ambiguous"), None) => return Ok(None),
        _ => {
            return Err(std::io::Error::other(format!(
                "unexpected header {:?}",
                header.trim()
            )));
        }
    };
    let hits = if size > WHOLE_LIMIT {
        let mut body = contents.by_ref().take(size);
        let hits = scan_reader(detector, &mut body, kind)?.unwrap_or_default();
        // Whatever the scanner did not need must still be consumed.
        std::io::copy(&mut body, &mut std::io::sink())?;
        hits
    } else {
        buffer.clear();
        buffer.resize(size as usize, 0);
        contents.read_exact(buffer)?;
        scan_bytes(detector, buffer, kind)
    };
    let mut newline = [0u8; 1];
    contents.read_exact(&mut newline)?;
    Ok(Some(hits))
}

/// A running git command and the thread collecting its stderr.
struct GitProcess {
    child: Child,
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl GitProcess {
    /// Waits for it; its first stderr line when it failed.
    fn finish(mut self) -> Result<(), String> {
        let status = self.child.wait();
        let stderr = self
            .stderr
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default();
        match status {
            Ok(status) if status.success() => Ok(()),
            Ok(status) => {
                Err(first_line(&stderr).unwrap_or_else(|| format!("exited with {status}")))
            }
            Err(err) => Err(err.to_string()),
        }
    }

    /// Ends it after a failure (the process is ours: it was spawned above).
    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn first_line(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_string)
}

/// Runs a short git command and returns its stdout.
fn git(dir: &Path, args: &[&str]) -> Result<String, GitError> {
    let output = command(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|err| GitError::NotInstalled(err.to_string()))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(GitError::Failed {
            path: dir.to_path_buf(),
            message: first_line(&String::from_utf8_lossy(&output.stderr))
                .unwrap_or_else(|| format!("exited with {}", output.status)),
        })
    }
}

fn strings(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

/// The last component of a `/`-separated path in a repository.
fn file_name(path: &[u8]) -> &[u8] {
    path.rsplit(|b| *b == b'/').next().unwrap_or(path)
}

/// How to show the repository's top from the current folder: relative when
/// it is at or under it, else absolute.
fn shown_prefix(top: &Path) -> PathBuf {
    let cwd = std::env::current_dir()
        .and_then(std::fs::canonicalize)
        .unwrap_or_default();
    match top.strip_prefix(&cwd) {
        Ok(rel) => rel.to_path_buf(),
        Err(_) => top.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_entries_name_the_new_blob() {
        let entry = b":100644 100644 aaaa bbbb M";
        assert_eq!(new_blob(entry), Some(&b"bbbb"[..]));
        assert_eq!(new_blob(b":000000 100644 0000 cccc A"), Some(&b"cccc"[..]));
        assert_eq!(new_blob(b":100644 000000 aaaa 0000 D"), None);
        assert_eq!(new_blob(b":160000 160000 aaaa bbbb M"), None);
        assert_eq!(new_blob(b":000000 120000 0000 bbbb A"), None);
    }

    #[test]
    fn file_names_are_the_last_component() {
        assert_eq!(file_name(b"a/b/.npmrc"), b".npmrc");
        assert_eq!(file_name(b".yarnrc.yml"), b".yarnrc.yml");
    }
}
