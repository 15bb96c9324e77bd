//! The store's arm for yarn berry's `.yarnrc.yml`: each edit is made by
//! `yarnrc::edit` (one scalar or whole lines changed, checked by parsing
//! the result again) and written by the safe writer; an undo puts the
//! earlier bytes back only while the file still holds what the edit wrote.

use std::path::Path;

use anyhow::Result;

use crate::private_file::{self, Holds};
use crate::secret::Secret;
use crate::yarnrc::{self, Field, FileError, Value, Yarnrc};

/// The file's bytes before and after an edit (equal: nothing changed).
pub(super) struct Edited {
    pub before: Vec<u8>,
    pub after: Vec<u8>,
}

/// Makes `change` in `path` (a missing file is empty; a file that is not a
/// map of settings, not UTF-8 or not a regular file is an error naming it,
/// and nothing is written).
pub(super) fn edit(path: &Path, change: &yarnrc::Change<'_>) -> Result<Edited> {
    private_file::edit_bytes(path, |old| {
        let before = old.unwrap_or_default().to_vec();
        let text =
            std::str::from_utf8(&before).map_err(|_| located(path, yarnrc::Error::NotUtf8))?;
        let edited = yarnrc::edit(text, change).map_err(|source| located(path, source))?;
        let holds = holds_secret(&edited);
        let after = edited.into_bytes();
        Ok((after.clone(), holds, Edited { before, after }))
    })
}

/// Reads `path` for a check before anything is written: `None` when it
/// does not exist.
pub(super) fn read(path: &Path) -> Result<Option<Yarnrc>> {
    yarnrc::read_file(path)
}

/// The literal token yarn sends to `registry` from this file's
/// `npmRegistries` (or `npmScopes.<scope>`) entry, with its line.
pub(super) fn literal_token(
    file: &Yarnrc,
    registry: &str,
    scope: Option<&str>,
) -> Option<(Secret, usize)> {
    let auth = file.auth_for(registry, scope);
    if matches!(auth.place, yarnrc::Place::TopLevel) {
        return None;
    }
    match &auth.token?.value {
        Value::Literal(token) if !token.expose().is_empty() => {
            Some((token.clone(), auth.token?.line))
        }
        _ => None,
    }
}

/// Puts the file back to `before`, only while it still holds `after`
/// (`false`: someone wrote it meanwhile, and it was left as it is). A file
/// the edit created is removed.
pub(super) fn undo(path: &Path, before: &[u8], after: &[u8]) -> Result<bool> {
    let restored = private_file::edit_bytes(path, |current| {
        let current = current.unwrap_or_default();
        if current == after {
            let holds = match std::str::from_utf8(before) {
                Ok(text) => holds_secret(text),
                Err(_) => Holds::Secret,
            };
            Ok((before.to_vec(), holds, true))
        } else {
            Ok((current.to_vec(), Holds::Secret, false))
        }
    })?;
    if restored && before.is_empty() && std::fs::read(path).is_ok_and(|b| b.is_empty()) {
        let _ = std::fs::remove_file(path);
    }
    Ok(restored)
}

fn located(path: &Path, source: yarnrc::Error) -> anyhow::Error {
    FileError {
        path: path.to_path_buf(),
        source,
    }
    .into()
}

/// Whether the text holds a token or an ident that is not a reference (a
/// file that does not parse is treated as holding one: it stays private).
fn holds_secret(text: &str) -> Holds {
    match Yarnrc::parse(text) {
        Ok(file) => {
            let secret = file.entries().iter().any(|entry| {
                matches!(entry.field, Field::AuthToken | Field::AuthIdent)
                    && matches!(&entry.value, Value::Literal(v) if !v.expose().is_empty())
            });
            if secret {
                Holds::Secret
            } else {
                Holds::NoSecret
            }
        }
        Err(_) => Holds::Secret,
    }
}
