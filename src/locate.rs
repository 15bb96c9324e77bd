//! Where things are: npm's config files (project root, home, global prefix),
//! and the process environment they are found from.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// `HOME`, else the platform's idea of the home folder (as npm does).
pub(crate) fn home_dir(env: &HashMap<String, String>) -> Option<PathBuf> {
    env.get("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .or_else(dirs::home_dir)
}

/// The project root: the nearest ancestor of `cwd` (itself included) holding
/// `package.json` or a `node_modules` folder, else `cwd`.
pub(crate) fn project_prefix(cwd: &Path) -> PathBuf {
    cwd.ancestors()
        .find(|dir| dir.join("package.json").is_file() || dir.join("node_modules").is_dir())
        .unwrap_or(cwd)
        .to_path_buf()
}

/// npm's default global prefix: `PREFIX`, else two levels above the real
/// path of the `node` found on `PATH` (`/usr/local/bin/node` →
/// `/usr/local`).
pub(crate) fn default_global_prefix(env: &HashMap<String, String>) -> Option<PathBuf> {
    if let Some(prefix) = env.get("PREFIX").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(prefix));
    }
    let path = env.get("PATH")?;
    let node = std::env::split_paths(path)
        .map(|dir| dir.join("node"))
        .find(|candidate| candidate.is_file())?;
    let real = std::fs::canonicalize(&node).unwrap_or(node);
    let prefix = real.parent()?.parent()?.to_path_buf();
    match env.get("DESTDIR").filter(|d| !d.is_empty()) {
        Some(destdir) => Some(Path::new(destdir).join(prefix.strip_prefix("/").unwrap_or(&prefix))),
        None => Some(prefix),
    }
}

/// A path from a setting: `~/` is the home folder, a relative path is taken
/// from the working folder.
pub(crate) fn resolve_path(value: &str, cwd: &Path, home: Option<&Path>) -> PathBuf {
    if let (Some(rest), Some(home)) = (value.strip_prefix("~/"), home) {
        return home.join(rest);
    }
    if value == "~"
        && let Some(home) = home
    {
        return home.to_path_buf();
    }
    cwd.join(value)
}

/// The process environment, as far as it is text.
pub(crate) fn process_env() -> HashMap<String, String> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_path_handles_home_and_relative_paths() {
        let cwd = Path::new("/work/p");
        let home = Some(Path::new("/home/u"));
        assert_eq!(
            resolve_path("~/.npmrc", cwd, home),
            PathBuf::from("/home/u/.npmrc")
        );
        assert_eq!(resolve_path("rc", cwd, home), PathBuf::from("/work/p/rc"));
        assert_eq!(resolve_path("/abs/rc", cwd, home), PathBuf::from("/abs/rc"));
    }

    #[test]
    fn node_on_path_gives_the_prefix() {
        let dir = tempfile::tempdir().expect("temp dir");
        let bin = dir.path().join("opt/node/bin");
        std::fs::create_dir_all(&bin).expect("mkdir");
        std::fs::write(bin.join("node"), "").expect("node");
        let env = HashMap::from([("PATH".to_string(), bin.display().to_string())]);
        let prefix = default_global_prefix(&env).expect("prefix");
        assert!(prefix.ends_with("opt/node"), "{}", prefix.display());
    }
}
