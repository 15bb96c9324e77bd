//! The one safe writer of rtok's files (the `.npmrc` files through
//! `npmrc::file`, rtok's own settings file directly): read-modify-write
//! under an advisory lock on the folder, the new content written to a file
//! in the same folder, flushed and renamed over the target (a crash leaves
//! the old file or the new one), symlinks followed, and a folder rtok
//! creates made private (0700).
//!
//! - Owner and mode: a rewritten file keeps its owner and group (as far as
//!   the writer may give them away: root can). It keeps its mode unless it
//!   holds a secret afterwards, then it is at most 0600. A new file is 0600.
//! - Nothing left behind: on Linux the new content lives in an unnamed
//!   `O_TMPFILE` until it is complete, so a killed rtok leaves nothing.
//!   Elsewhere (or on a file system without it) the temporary file is
//!   `.<name>.rtok-*.tmp`, and such files older than a minute, left by a
//!   killed rtok, are removed under the lock before each write.
//! - Only regular files: a FIFO, a device or a folder where the file should
//!   be is refused (reading a FIFO would hang, `/dev/zero` would never end).

use std::fs::{self, File, Metadata};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, bail};

use crate::failure::Failure;

/// Whether a file holds a secret after a write, which decides its mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Holds {
    /// A token, password or `_auth`: the file ends up at most 0600.
    Secret,
    /// Nothing secret: the file keeps the mode it had.
    NoSecret,
}

/// Reads `path` as text (`None` when it does not exist), lets `edit`
/// compute the new text, and writes it when it differs. Nothing is written
/// when `edit` fails or returns the text unchanged (for a missing file:
/// empty). A file that is not UTF-8 is an error naming it. For files that
/// never hold a secret (rtok's settings): an existing file keeps its mode.
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
        Ok((new.into_bytes(), Holds::NoSecret, result))
    })
}

/// [`edit`] for any bytes: the old content (`None` when the file does not
/// exist) in; the new content, and whether it holds a secret, out.
pub(crate) fn edit_bytes<T>(
    path: &Path,
    edit: impl FnOnce(Option<&[u8]>) -> Result<(Vec<u8>, Holds, T)>,
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

    let (original, metadata) = match read_regular_with_metadata(&target)? {
        Some((bytes, metadata)) => (Some(bytes), Some(metadata)),
        None => (None, None),
    };
    let (updated, holds, result) = edit(original.as_deref())?;
    if original.as_deref().unwrap_or_default() != updated.as_slice() {
        remove_stale_temporaries(&target, &folder);
        write_atomically(&target, &folder, &updated, holds, metadata.as_ref())?;
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
/// file when it cannot be read, is not a regular file or is not UTF-8.
pub(crate) fn read_text(path: &Path) -> Result<Option<String>> {
    match read_regular(path)? {
        Some(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| not_utf8(path)),
        None => Ok(None),
    }
}

/// The file's bytes, or `None` when it does not exist. Symlinks are
/// followed; anything but a regular file at the end (a folder, a FIFO, a
/// device) is an error naming the file with a hint, never a hang: the file
/// is opened without blocking and checked before it is read.
pub(crate) fn read_regular(path: &Path) -> Result<Option<Vec<u8>>> {
    Ok(read_regular_with_metadata(path)?.map(|(bytes, _)| bytes))
}

fn read_regular_with_metadata(path: &Path) -> Result<Option<(Vec<u8>, Metadata)>> {
    let describe = || format!("could not read {}", path.display());
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Opening a FIFO for reading waits for a writer; without blocking it
        // does not, and the check below refuses it.
        options.custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32);
    }
    let mut file = match options.open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) if err.kind() == std::io::ErrorKind::IsADirectory => {
            return Err(not_regular(path, "a folder"));
        }
        Err(err) => return Err(err).with_context(describe),
    };
    let metadata = file.metadata().with_context(describe)?;
    if is_dev_null(&metadata) {
        // `NPM_CONFIG_GLOBALCONFIG=/dev/null` is how npm users and CI turn
        // a layer off: an empty file, as npm reads it.
        return Ok(Some((Vec::new(), metadata)));
    }
    if !metadata.is_file() {
        return Err(not_regular(path, kind_of(&metadata)));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
    file.read_to_end(&mut bytes).with_context(describe)?;
    Ok(Some((bytes, metadata)))
}

/// Whether the file is the null device (whatever name it was reached by).
fn is_dev_null(metadata: &Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        metadata.file_type().is_char_device()
            && fs::metadata("/dev/null").is_ok_and(|null| null.rdev() == metadata.rdev())
    }
    #[cfg(not(unix))]
    {
        let _ = metadata;
        false
    }
}

fn kind_of(metadata: &Metadata) -> &'static str {
    if metadata.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let kind = metadata.file_type();
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
}

fn not_regular(path: &Path, kind: &str) -> anyhow::Error {
    Failure::new(format!(
        "{} is {kind}, not a regular file",
        path.display()
    ))
    .hint("rtok reads and writes only regular files: name a file instead (for the user config, `--userconfig <file>`)")
    .into()
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

/// A new private folder (0700) in the system's temporary folder, removed
/// with everything in it when the returned guard is dropped: where
/// `rtok exec` puts the configuration it hands its child.
pub(crate) fn private_temp_dir(prefix: &str) -> Result<tempfile::TempDir> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(prefix);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o700));
    }
    builder
        .tempdir()
        .context("could not create a private temporary folder")
}

/// Writes `bytes` to `path`, which must not exist yet (an existing file or
/// a symlink there is an error, never followed), as a new file of mode 0600
/// from the start: no moment when another user could open it. For files
/// that live no longer than a process (not flushed to disk).
pub(crate) fn write_new_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let describe = || format!("could not write {}", path.display());
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    // Not flushed to disk: the file lives only as long as a child process,
    // and a crash takes it to nowhere it could be read from later.
    let mut file = options.open(path).with_context(describe)?;
    file.write_all(bytes).with_context(describe)
}

/// `.npmrc.rtok-` for `.npmrc`, `.config.toml.rtok-` for `config.toml`: the
/// start of every temporary file name rtok gives a file it replaces.
fn temporary_prefix(target: &Path) -> String {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name.starts_with('.') {
        format!("{name}.rtok-")
    } else {
        format!(".{name}.rtok-")
    }
}

/// Removes `.<name>.rtok-*.tmp` files older than a minute: what a killed
/// rtok left (a newer one may belong to a writer that does not lock, such
/// as an older rtok). Called under the folder lock; failures are ignored.
fn remove_stale_temporaries(target: &Path, folder: &Path) {
    const STALE: Duration = Duration::from_secs(60);
    let prefix = temporary_prefix(target);
    let Ok(entries) = fs::read_dir(folder) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with(&prefix) && name.ends_with(".tmp")) {
            continue;
        }
        let Ok(metadata) = entry.metadata() else {
            continue;
        };
        let old = metadata
            .modified()
            .ok()
            .and_then(|modified| now.duration_since(modified).ok())
            .is_some_and(|age| age > STALE);
        if metadata.is_file() && old {
            let _ = fs::remove_file(entry.path());
        }
    }
}

fn write_atomically(
    target: &Path,
    folder: &Path,
    bytes: &[u8],
    holds: Holds,
    old: Option<&Metadata>,
) -> Result<()> {
    let describe = || format!("could not write {}", target.display());
    #[cfg(target_os = "linux")]
    if let Some(file) = unnamed_file(folder) {
        let mut file = file;
        prepare(&file, holds, old)?;
        file.write_all(bytes).with_context(describe)?;
        file.sync_all().with_context(describe)?;
        pause_for_crash_test();
        link_into_place(&file, target, folder).with_context(describe)?;
        sync_folder(folder);
        return Ok(());
    }
    let mut temporary = tempfile::Builder::new()
        .prefix(&temporary_prefix(target))
        .suffix(".tmp")
        .tempfile_in(folder)
        .with_context(describe)?;
    prepare(temporary.as_file(), holds, old)?;
    temporary.write_all(bytes).with_context(describe)?;
    temporary.as_file().sync_all().with_context(describe)?;
    pause_for_crash_test();
    temporary
        .persist(target)
        .map_err(|err| err.error)
        .with_context(describe)?;
    sync_folder(folder);
    Ok(())
}

/// The rename is durable only once the folder's entry is on disk too.
fn sync_folder(folder: &Path) {
    if let Ok(dir) = File::open(folder) {
        let _ = dir.sync_all();
    }
}

/// An `O_TMPFILE` in `folder`: a file with no name until it is linked, so a
/// crash leaves nothing. `None` when the file system cannot make one.
#[cfg(target_os = "linux")]
fn unnamed_file(folder: &Path) -> Option<File> {
    use rustix::fs::{CWD, Mode, OFlags};
    let fd = rustix::fs::openat(
        CWD,
        folder,
        OFlags::TMPFILE | OFlags::WRONLY | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o600),
    )
    .ok()?;
    Some(File::from(fd))
}

/// Gives the unnamed `file` the name `target`: linked straight to it when
/// there is no file yet, else linked under a temporary name and renamed
/// over it (`linkat` does not replace).
#[cfg(target_os = "linux")]
fn link_into_place(file: &File, target: &Path, folder: &Path) -> std::io::Result<()> {
    use rustix::fs::{AtFlags, CWD};
    use std::os::fd::AsRawFd;
    let proc_path = format!("/proc/self/fd/{}", file.as_raw_fd());
    let link = |to: &Path| rustix::fs::linkat(CWD, &proc_path, CWD, to, AtFlags::SYMLINK_FOLLOW);
    match link(target) {
        Ok(()) => return Ok(()),
        Err(rustix::io::Errno::EXIST) => {}
        Err(err) => return Err(err.into()),
    }
    let prefix = temporary_prefix(target);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    for attempt in 0..100u32 {
        let name = folder.join(format!(
            "{prefix}{}-{nanos:x}-{attempt}.tmp",
            std::process::id()
        ));
        match link(&name) {
            Ok(()) => {
                return fs::rename(&name, target).inspect_err(|_| {
                    let _ = fs::remove_file(&name);
                });
            }
            Err(rustix::io::Errno::EXIST) => continue,
            Err(err) => return Err(err.into()),
        }
    }
    Err(std::io::Error::other("no free temporary name"))
}

/// The new file's owner, group and mode, before any byte is in it: the old
/// file's owner and group; its mode, or at most 0600 when a secret is in
/// it; 0600 for a file that is new.
#[cfg(unix)]
fn prepare(file: &File, holds: Holds, old: Option<&Metadata>) -> Result<()> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let Some(old) = old else {
        return set_mode(file, 0o600);
    };
    let new = file
        .metadata()
        .context("could not read the new file's owner")?;
    if (new.uid(), new.gid()) != (old.uid(), old.gid()) {
        // Root (`sudo rtok login` with HOME kept) gives the file back to its
        // owner. Others may only change the group to one of their own, or
        // nothing: then the file is theirs, as any editor would leave it.
        if std::os::unix::fs::fchown(file, Some(old.uid()), Some(old.gid())).is_err() {
            let _ = std::os::unix::fs::fchown(file, None, Some(old.gid()));
        }
    }
    let mode = old.permissions().mode() & 0o777;
    set_mode(
        file,
        match holds {
            Holds::Secret => mode & 0o600,
            Holds::NoSecret => mode,
        },
    )
}

#[cfg(unix)]
fn set_mode(file: &File, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(fs::Permissions::from_mode(mode))
        .with_context(|| format!("could not set the new file's mode to {mode:04o}"))
}

#[cfg(not(unix))]
fn prepare(_file: &File, _holds: Holds, _old: Option<&Metadata>) -> Result<()> {
    Ok(())
}

/// Test hook (`--features test-hooks`): `RTOK_TEST_PAUSE_BEFORE_RENAME=<ms>`
/// sleeps between writing the new content and giving it the file's name,
/// so a test can kill the process there. `RTOK_TEST_PAUSED_MARKER=<path>`
/// is created when the pause starts, so the test knows when to kill.
fn pause_for_crash_test() {
    #[cfg(feature = "test-hooks")]
    if let Some(ms) = std::env::var("RTOK_TEST_PAUSE_BEFORE_RENAME")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        if let Some(marker) = std::env::var_os("RTOK_TEST_PAUSED_MARKER") {
            let _ = fs::write(marker, b"paused\n");
        }
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
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
            Ok(meta) if !meta.is_file() => return Err(not_regular(&current, kind_of(&meta))),
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
