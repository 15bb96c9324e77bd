//! The one safe writer of rtok's files (the `.npmrc` files through
//! `npmrc::file`, rtok's own settings file directly): read-modify-write
//! under an advisory lock on the folder, a temporary file in the same folder
//! flushed and renamed over the target (a crash leaves the old file or the
//! new one), symlinks followed to their target, mode 0600, and a folder rtok
//! creates made private (0700).

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::failure::Failure;

/// Reads `path` as text (`None` when it does not exist), lets `edit`
/// compute the new text, and writes it when it differs. Nothing is written
/// when `edit` fails or returns the text unchanged (for a missing file:
/// empty). A file that is not UTF-8 is an error naming it.
pub(crate) fn edit<T>(
    path: &Path,
    edit: impl FnOnce(Option<&str>) -> Result<(String, T)>,
) -> Result<T> {
    edit_bytes(path, |old| {
        let text = match old {
            Some(bytes) => Some(std::str::from_utf8(bytes).map_err(|_| not_utf8(path))?),
            None => None,
        };
        let (new, result) = edit(text)?;
        Ok((new.into_bytes(), result))
    })
}

/// [`edit`] for any bytes: the old content (`None` when the file does not
/// exist) in, the new content out.
pub(crate) fn edit_bytes<T>(
    path: &Path,
    edit: impl FnOnce(Option<&[u8]>) -> Result<(Vec<u8>, T)>,
) -> Result<T> {
    let target = resolve_symlinks(path)?;
    let folder = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    create_private_folder(&folder)?;
    let lock = File::open(&folder)
        .with_context(|| format!("could not open {} to lock it", folder.display()))?;
    lock.lock()
        .with_context(|| format!("could not lock {} for writing", folder.display()))?;

    let original = match fs::read(&target) {
        Ok(bytes) => Some(bytes),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
        Err(err) => {
            return Err(err).with_context(|| format!("could not read {}", target.display()));
        }
    };
    let (updated, result) = edit(original.as_deref())?;
    if original.as_deref().unwrap_or_default() != updated.as_slice() {
        write_atomically(&target, &folder, &updated)?;
    }
    drop(lock);
    Ok(result)
}

fn not_utf8(path: &Path) -> anyhow::Error {
    Failure::new(format!("{} is not UTF-8 text", path.display()))
        .hint("fix or remove that file")
        .into()
}

/// The file's text, or `None` when it does not exist; an error naming the
/// file when it cannot be read or is not UTF-8.
pub(crate) fn read_text(path: &Path) -> Result<Option<String>> {
    match fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| not_utf8(path)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err).with_context(|| format!("could not read {}", path.display())),
    }
}

/// The file's bytes, or `None` when it does not exist; an error naming the
/// file when it cannot be read.
pub(crate) fn read_bytes(path: &Path) -> Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err).with_context(|| format!("could not read {}", path.display())),
    }
}

/// Creates `folder` (and its parents) when missing; a folder rtok creates
/// for its settings is private (0700), as `~/.config` usually is.
pub(crate) fn create_private_folder(folder: &Path) -> Result<()> {
    if folder.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(folder)
        .with_context(|| format!("could not create {}", folder.display()))
}

fn write_atomically(target: &Path, folder: &Path, bytes: &[u8]) -> Result<()> {
    let describe = || format!("could not write {}", target.display());
    // `.npmrc.rtok-XXXX.tmp`: hidden, and named after the file it replaces.
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let prefix = if name.starts_with('.') {
        format!("{name}.rtok-")
    } else {
        format!(".{name}.rtok-")
    };
    let mut temporary = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".tmp")
        .tempfile_in(folder)
        .with_context(describe)?;
    set_private(temporary.as_file())?;
    temporary.write_all(bytes).with_context(describe)?;
    temporary.as_file().sync_all().with_context(describe)?;
    pause_for_crash_test();
    temporary
        .persist(target)
        .map_err(|err| err.error)
        .with_context(describe)?;
    // The rename is durable only once the folder's entry is on disk too.
    if let Ok(dir) = File::open(folder) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// Test hook (`--features test-hooks`): `RTOK_TEST_PAUSE_BEFORE_RENAME=<ms>`
/// sleeps between writing the temporary file and renaming it, so a test can
/// kill the process there and check that the old file survived.
fn pause_for_crash_test() {
    #[cfg(feature = "test-hooks")]
    if let Some(ms) = std::env::var("RTOK_TEST_PAUSE_BEFORE_RENAME")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}

#[cfg(unix)]
fn set_private(file: &File) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(fs::Permissions::from_mode(0o600))
        .context("could not make the new file private (mode 0600)")
}

#[cfg(not(unix))]
fn set_private(_file: &File) -> Result<()> {
    Ok(())
}

/// Follows a chain of symlinks to the file that is really written; a
/// dangling link's target is created.
fn resolve_symlinks(path: &Path) -> Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = fs::read_link(&current)
                    .with_context(|| format!("could not read the symlink {}", current.display()))?;
                current = match current.parent() {
                    Some(parent) if link.is_relative() => parent.join(link),
                    _ => link,
                };
            }
            Ok(meta) if meta.is_dir() => bail!(Failure::new(format!(
                "{} is a folder, not a file",
                current.display()
            ))),
            _ => return Ok(current),
        }
    }
    bail!(Failure::new(format!(
        "{} is a symlink loop",
        path.display()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_are_private_and_leave_no_temporary_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("new/rtok/config.toml");
        edit(&path, |old| {
            assert_eq!(old, None);
            Ok(("a = 1\n".to_string(), ()))
        })
        .expect("edit");
        assert_eq!(fs::read_to_string(&path).expect("read"), "a = 1\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| fs::metadata(p).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(path.parent().expect("folder")), 0o700);
        }
        let names: Vec<_> = fs::read_dir(path.parent().expect("folder"))
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("config.toml")]);
    }

    #[test]
    fn a_failed_or_empty_edit_writes_nothing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("config.toml");
        fs::write(&path, "a = 1\n").expect("write");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod");
        }
        let failed: Result<()> = edit(&path, |_| bail!("no"));
        assert!(failed.is_err());
        edit(&path, |old| Ok((old.unwrap_or_default().to_string(), ()))).expect("same");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // Untouched, not even re-moded: nothing was written.
            let mode = fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode, 0o644);
        }
        assert_eq!(fs::read_to_string(&path).expect("read"), "a = 1\n");
    }
}
