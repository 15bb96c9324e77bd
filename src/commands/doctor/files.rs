//! Literal secrets in the config files in play: which lines hold one (not
//! a `${VAR}` reference), whether git tracks the file (`git ls-files`), and
//! whether other users may read it.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::config::credential::is_secret_key;
use crate::config::{Config, LayerKind, Origin};

/// A line of a config file that holds a secret itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LiteralSecret {
    pub path: PathBuf,
    pub line: usize,
    /// The setting's key (`//host/:_authToken`).
    pub key: String,
}

/// Every literal secret of the project, user and global files, in file
/// and line order.
pub(super) fn literal_secrets(config: &Config) -> Vec<LiteralSecret> {
    let mut found = Vec::new();
    for kind in [LayerKind::Project, LayerKind::User, LayerKind::Global] {
        let Some(layer) = config.layer(kind) else {
            continue;
        };
        for setting in &layer.settings {
            let Origin::File {
                path,
                line,
                variable: None,
                ..
            } = &setting.origin
            else {
                continue;
            };
            if is_secret_key(&setting.key) && !setting.value.trim().is_empty() {
                found.push(LiteralSecret {
                    path: path.clone(),
                    line: *line,
                    key: setting.key.clone(),
                });
            }
        }
    }
    found
}

/// What git says about a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Tracked {
    Yes,
    /// Untracked, ignored, or not in a git repository at all.
    No,
    /// git could not be run.
    Unknown(String),
}

/// Whether git tracks `path` (`git ls-files --error-unmatch`, run in the
/// file's folder so that whichever repository holds it answers).
pub(super) fn git_tracks(path: &Path) -> Tracked {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Tracked::No;
    };
    // The repository may be a cloned project's: its config runs nothing.
    let output = crate::scan::git::command(dir)
        .args(["ls-files", "--error-unmatch", "--"])
        .arg(name)
        .stdin(Stdio::null())
        .output();
    match output {
        Ok(output) if output.status.success() => Tracked::Yes,
        // Exit 1: not tracked; 128: not a repository. Either way, not in git.
        Ok(_) => Tracked::No,
        Err(err) => Tracked::Unknown(err.to_string()),
    }
}

/// The file's mode when users other than its owner may read or write it.
#[cfg(unix)]
pub(super) fn open_to_others(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then_some(mode)
}

#[cfg(not(unix))]
pub(super) fn open_to_others(_path: &Path) -> Option<u32> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_literal_secrets_count() {
        let (dir, config) = crate::config::load_for_test(
            "registry=https://r/\n//r/:_authToken=literal\n//s/:_authToken=${TOKEN}\n//t/:username=u\n//t/:_password=cHc=\n//u/:_authToken=\n",
            &[("TOKEN", "from-env")],
        )
        .expect("load");
        let found = literal_secrets(&config);
        let lines: Vec<(usize, &str)> = found.iter().map(|f| (f.line, f.key.as_str())).collect();
        assert_eq!(lines, [(2, "//r/:_authToken"), (5, "//t/:_password")]);
        assert_eq!(found[0].path, dir.path().join(".npmrc"));
    }

    #[cfg(unix)]
    #[test]
    fn modes_open_to_others_are_reported() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("temp");
        let file = dir.path().join(".npmrc");
        std::fs::write(&file, "x=1\n").expect("write");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        assert_eq!(open_to_others(&file), Some(0o644));
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        assert_eq!(open_to_others(&file), None);
    }
}
