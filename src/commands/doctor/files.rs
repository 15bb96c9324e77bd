//! Literal secrets in the config files in play: which lines hold one (not
//! a `${VAR}` reference, as `npmrc::Reference` decides) and whether git
//! tracks the file (`git ls-files`). Whether other users may read a file is
//! the config's finding (`Config::exposed`), made when it read the file.

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
            let Origin::File { path, line, .. } = &setting.origin else {
                continue;
            };
            if is_secret_key(&setting.key)
                && !setting.value.trim().is_empty()
                && setting.reference.is_literal()
            {
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
}
