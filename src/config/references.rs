//! Where a client would send an environment variable's value: every line of
//! the files npm, pnpm and yarn read (each `.npmrc` layer, and the
//! `.yarnrc.yml` files of the folder and its parents and of the home folder)
//! that refers to `${NAME}`, with the registry the line gives it to. A line
//! that refers to it anywhere but as a registry's credential (`registry=
//! ${NAME}`, a URL, an unknown key) gives it to no registry rtok can name:
//! such a line is as unsafe as one for another host.
//!
//! This module knows only which files to look at; what a line means is the
//! formats' knowledge: `npmrc::keys` (which keys are a registry's
//! credential) and `yarnrc` (yarn's settings, interpolation and default
//! registry).

use std::path::{Path, PathBuf};

use super::{Config, LayerKind};
use crate::npmrc::nerf_dart;

/// One line that refers to the variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reference {
    pub file: PathBuf,
    pub line: usize,
    /// The nerf dart of the registry the line gives the value to; `None`
    /// when it is not a registry's credential.
    pub registry: Option<String>,
}

/// Every line of the clients' files that refers to `${name}`, for a command
/// run in `cwd`.
pub(crate) fn find(config: &Config, cwd: &Path, name: &str) -> Vec<Reference> {
    let mut found = Vec::new();
    for kind in [LayerKind::Project, LayerKind::User, LayerKind::Global] {
        let Some(layer) = config.layer(kind) else {
            continue;
        };
        for setting in layer.settings.iter() {
            if !setting.variables.iter().any(|v| v == name) {
                continue;
            }
            let super::Origin::File { path, line, .. } = &setting.origin else {
                continue;
            };
            let registry = crate::npmrc::keys::credential_target(&setting.key).map(str::to_string);
            found.push(Reference {
                file: path.clone(),
                line: *line,
                registry,
            });
        }
    }
    let mut yarnrcs: Vec<PathBuf> = cwd.ancestors().map(|d| d.join(".yarnrc.yml")).collect();
    if let Some(home) = crate::locate::home_dir(config.env()) {
        yarnrcs.push(home.join(".yarnrc.yml"));
    }
    yarnrcs.dedup();
    for file in yarnrcs {
        // A file rtok cannot read (a folder, a FIFO, no permission) is one
        // yarn cannot read either: it sends nothing anywhere.
        let Ok(uses) = crate::yarnrc::references_in_file(&file, name) else {
            continue;
        };
        found.extend(uses.into_iter().map(|used| Reference {
            file: file.clone(),
            line: used.line,
            registry: used.registry.map(|url| nerf_dart(&url)),
        }));
    }
    found
}
