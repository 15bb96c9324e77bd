//! Safe `.npmrc` writes, used by every command that writes: the document
//! edited in memory and written through `private_file` (read-modify-write
//! under an advisory lock, an atomic rename, owner kept, at most 0600 while
//! it holds a secret, symlinks followed).

use std::path::Path;

use anyhow::Result;

use super::Document;
use crate::private_file::Holds;

/// Reads `path` (a missing file is empty), lets `edit` change the document,
/// and writes it back if anything changed, returning what `edit` returned.
///
/// - Lossless: only the lines `edit` touched change; everything else stays
///   byte for byte, whether or not the file is UTF-8 (a Latin-1 comment or
///   a stray byte is kept as it is, as npm would keep it).
/// - Atomic: a temporary file in the same folder is written, flushed to disk
///   and renamed over the file, so a crash leaves the old file or the new
///   one, never half of one.
/// - Concurrent-safe: the whole read-modify-write holds an exclusive lock on
///   the file's folder, so parallel rtok processes editing the same file
///   each see the others' changes (npm's last writer wins; rtok's do not
///   lose each other's keys).
/// - A symlinked `.npmrc` stays a symlink: its target is written.
/// - Owner and group are kept; so is the mode, unless the file holds a
///   secret afterwards: then it is at most 0600 (a shared global `npmrc`
///   stays 0644 after `logout` removed its token).
/// - If `edit` fails, nothing is written.
pub fn edit<T>(path: &Path, edit: impl FnOnce(&mut Document) -> Result<T>) -> Result<T> {
    crate::private_file::edit_bytes(path, |old| {
        let mut document = Document::parse(old.unwrap_or_default());
        let result = edit(&mut document)?;
        let holds = if super::keys::holds_secret(&document) {
            Holds::Secret
        } else {
            Holds::NoSecret
        };
        Ok((document.render(), holds, result))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::bail;
    use std::fs;

    fn same(key: &'static str) -> impl Fn(&str) -> bool {
        move |k| k == key
    }

    #[test]
    fn edits_keep_other_bytes_and_make_the_file_private() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(".npmrc");
        let original =
            "; comment\r\nregistry=https://r.example/\r\n\r\n//other/:_authToken=${OTHER}\r\n";
        fs::write(&path, original).expect("write");
        edit(&path, |doc| {
            doc.set(
                "//r.example/:_authToken",
                "new",
                &same("//r.example/:_authToken"),
            );
            Ok(())
        })
        .expect("edit");
        let text = fs::read_to_string(&path).expect("read");
        assert_eq!(text, format!("{original}//r.example/:_authToken=new\r\n"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&path).expect("meta").permissions().mode() & 0o777,
                0o600
            );
        }
        let leftovers: Vec<_> = fs::read_dir(dir.path())
            .expect("list")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains("rtok-"))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn a_failed_edit_writes_nothing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(".npmrc");
        fs::write(&path, "a=1\n").expect("write");
        let result: Result<()> = edit(&path, |doc| {
            doc.set("a", "2", &same("a"));
            bail!("changed my mind")
        });
        assert!(result.is_err());
        assert_eq!(fs::read_to_string(&path).expect("read"), "a=1\n");
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_stays_a_symlink() {
        let dir = tempfile::tempdir().expect("temp dir");
        let real = dir.path().join("dotfiles/npmrc");
        fs::create_dir_all(real.parent().expect("parent")).expect("mkdir");
        fs::write(&real, "a=1\n").expect("write");
        let link = dir.path().join(".npmrc");
        std::os::unix::fs::symlink("dotfiles/npmrc", &link).expect("symlink");
        edit(&link, |doc| {
            doc.set("b", "2", &same("b"));
            Ok(())
        })
        .expect("edit");
        assert!(
            fs::symlink_metadata(&link)
                .expect("meta")
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read_to_string(&real).expect("read"), "a=1\nb=2\n");
    }

    #[test]
    fn a_missing_file_and_folder_are_created() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("new/folder/.npmrc");
        edit(&path, |doc| {
            doc.set("k", "v", &same("k"));
            Ok(())
        })
        .expect("edit");
        assert_eq!(fs::read_to_string(&path).expect("read"), "k=v\n");
    }

    #[test]
    fn files_that_are_not_utf8_are_edited_byte_for_byte() {
        // A Latin-1 comment, a stray byte in a value npm reads as U+FFFD,
        // and a key line whose comment holds another: every byte outside
        // the edited value stays as it was.
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(".npmrc");
        let original: &[u8] =
            b"# caf\xe9\r\nemail=a\xffb\r\n//r.example/:_authToken=old # \xfe\r\n";
        fs::write(&path, original).expect("write");
        let key = "//r.example/:_authToken";
        edit(&path, |doc| {
            doc.set(key, "new", &same(key));
            doc.set("added", "1", &same("added"));
            Ok(())
        })
        .expect("edit");
        assert_eq!(
            fs::read(&path).expect("read"),
            b"# caf\xe9\r\nemail=a\xffb\r\n//r.example/:_authToken=new # \xfe\r\nadded=1\r\n"
        );
        edit(&path, |doc| {
            doc.set(key, "old", &same(key));
            doc.remove(&same("added"));
            Ok(())
        })
        .expect("edit");
        assert_eq!(fs::read(&path).expect("read"), original);
    }
}
