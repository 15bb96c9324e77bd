//! Walking the given paths with ripgrep's `ignore` crate: in parallel,
//! dotfiles included, `.git` excluded, `.gitignore` honoured inside git
//! repositories, symbolic links not followed (as ripgrep), binary files
//! skipped. Each regular file is read once and handed to the detector.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ignore::{WalkBuilder, WalkState};

use super::detect::{Detector, FileKind};
use super::{Finding, WHOLE_LIMIT, scan_bytes, scan_reader};

/// Something worth a warning that does not stop the scan.
pub(crate) type Warn<'a> = &'a (dyn Fn(String) + Sync);

/// Scans every file under `paths` (which must exist). Problems with single
/// files or folders go to `warn`; the rest is still scanned.
pub(crate) fn walk(paths: &[PathBuf], detector: &Detector, warn: Warn<'_>) -> Vec<Finding> {
    let Some((first, rest)) = paths.split_first() else {
        return Vec::new();
    };
    let mut builder = WalkBuilder::new(first);
    for path in rest {
        builder.add(path);
    }
    builder
        .hidden(false)
        .parents(true)
        .ignore(true)
        .git_ignore(true)
        .git_global(true)
        .git_exclude(true)
        .require_git(true)
        .follow_links(false)
        .filter_entry(|entry| entry.file_name() != ".git")
        .threads(
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
                .min(12),
        );
    let found = Mutex::new(Vec::new());
    builder.build_parallel().run(|| {
        let found = &found;
        let mut buffer = Vec::new();
        Box::new(move |entry| {
            let entry = match entry {
                Ok(entry) => entry,
                Err(err) => {
                    warn(describe_walk_error(&err));
                    return WalkState::Continue;
                }
            };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                return WalkState::Continue;
            }
            let path = entry.path();
            let kind = FileKind::of(entry.file_name().as_encoded_bytes());
            match scan_file(path, kind, detector, &mut buffer) {
                Ok(hits) if !hits.is_empty() => {
                    let shown = shown_bytes(path);
                    let mut found = found.lock().unwrap_or_else(|e| e.into_inner());
                    found.extend(
                        hits.into_iter()
                            .map(|hit| Finding::new(shown.clone(), None, hit)),
                    );
                }
                Ok(_) => {}
                Err(err) => warn(format!("could not read {}: {err}", display(path))),
            }
            WalkState::Continue
        })
    });
    found.into_inner().unwrap_or_else(|e| e.into_inner())
}

/// Reads and scans one file: whole when it is small enough (the buffer is
/// reused from file to file), in chunks otherwise.
fn scan_file(
    path: &Path,
    kind: FileKind,
    detector: &Detector,
    buffer: &mut Vec<u8>,
) -> std::io::Result<Vec<super::detect::Hit>> {
    let mut file = File::open(path)?;
    let size = file.metadata()?.len();
    if size > WHOLE_LIMIT {
        return Ok(scan_reader(detector, file, kind)?.unwrap_or_default());
    }
    buffer.clear();
    file.read_to_end(buffer)?;
    Ok(scan_bytes(detector, buffer, kind))
}

/// A path's exact bytes as a finding holds them: without a leading `./`.
/// (On Unix, a name's bytes; on Windows, its UTF-8, WTF-8 for a name that
/// is not valid UTF-16.)
fn shown_bytes(path: &Path) -> Vec<u8> {
    let path = path.strip_prefix(".").unwrap_or(path);
    path.as_os_str().as_encoded_bytes().to_vec()
}

/// A path as warnings show it: without a leading `./`.
pub(crate) fn display(path: &Path) -> String {
    let path = path.strip_prefix(".").unwrap_or(path);
    path.to_string_lossy().into_owned()
}

/// `ignore`'s errors already name the path; keep them on one line.
fn describe_walk_error(err: &ignore::Error) -> String {
    format!("skipped: {}", err.to_string().replace('\n', " "))
}
