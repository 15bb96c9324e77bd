//! Where things are: npm's config files (project root, home, global prefix),
//! pnpm's config folder (`auth.ini`), yarn berry's home `.yarnrc.yml`, and
//! the process environment they are found from.

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

/// The platform a path rule is for; the rules below take it as an argument
/// so every platform's rule is tested on every platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Platform {
    MacOs,
    Windows,
    /// Linux and every other Unix.
    OtherUnix,
}

const PLATFORM: Platform = if cfg!(target_os = "macos") {
    Platform::MacOs
} else if cfg!(windows) {
    Platform::Windows
} else {
    Platform::OtherUnix
};

/// pnpm 11/12's config folder, where its `auth.ini` (and `config.yaml`)
/// live: `$XDG_CONFIG_HOME/pnpm` on every platform when that is set, else
/// `~/Library/Preferences/pnpm` on macOS, `%LOCALAPPDATA%\pnpm\config` on
/// Windows (`~/.config/pnpm` without `LOCALAPPDATA`), `~/.config/pnpm` on
/// any other Unix. This is pnpm's `getConfigDir` as
/// `shared/docs/clients-2026.md` §1.3 reads it: no other variable (no
/// `PNPM_CONFIG_DIR`, not `PNPM_HOME`, which is the store and binaries)
/// moves it. `None` only when the rule needs a home folder and there is none.
pub(crate) fn pnpm_config_dir(
    env: &HashMap<String, String>,
    home: Option<&Path>,
) -> Option<PathBuf> {
    pnpm_config_dir_on(PLATFORM, env, home)
}

fn pnpm_config_dir_on(
    platform: Platform,
    env: &HashMap<String, String>,
    home: Option<&Path>,
) -> Option<PathBuf> {
    let set = |name: &str| env.get(name).filter(|value| !value.is_empty());
    if let Some(xdg) = set("XDG_CONFIG_HOME") {
        return Some(Path::new(xdg).join("pnpm"));
    }
    match platform {
        Platform::MacOs => Some(home?.join("Library/Preferences/pnpm")),
        Platform::Windows => match set("LOCALAPPDATA") {
            Some(local) => Some(Path::new(local).join("pnpm").join("config")),
            None => Some(home?.join(".config").join("pnpm")),
        },
        Platform::OtherUnix => Some(home?.join(".config/pnpm")),
    }
}

/// pnpm 11/12's user credential file, `<pnpm config folder>/auth.ini`: npm's
/// ini dialect (so `crate::npmrc::Document` edits it), read above `~/.npmrc`
/// (clients-2026.md §1.3, §1.5).
pub(crate) fn pnpm_auth_ini(env: &HashMap<String, String>, home: Option<&Path>) -> Option<PathBuf> {
    Some(pnpm_config_dir(env, home)?.join("auth.ini"))
}

/// yarn berry's home rc file: `<home>/<name>`, where the name is
/// `YARN_RC_FILENAME` (berry matches the variable's name case-insensitively,
/// as it does every `YARN_*` variable) else `.yarnrc.yml`, and the home is
/// `os.homedir()`, else `/usr/local/share` (clients-2026.md §1.6). Berry
/// would take an empty `YARN_RC_FILENAME` as the name; rtok takes it as
/// unset, as a file cannot have an empty name.
pub(crate) fn yarnrc_home(env: &HashMap<String, String>, home: Option<&Path>) -> PathBuf {
    let name = env
        .iter()
        .find(|(key, value)| key.eq_ignore_ascii_case("YARN_RC_FILENAME") && !value.is_empty())
        .map_or(".yarnrc.yml", |(_, value)| value.as_str());
    home.unwrap_or(Path::new("/usr/local/share")).join(name)
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

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect()
    }

    #[test]
    fn pnpm_config_dir_follows_pnpm_on_every_platform() {
        let home = Some(Path::new("/home/u"));
        let none = env(&[]);
        let xdg = env(&[("XDG_CONFIG_HOME", "/xdg"), ("LOCALAPPDATA", "/local")]);
        let local = env(&[("LOCALAPPDATA", "/local")]);
        let empty_xdg = env(&[("XDG_CONFIG_HOME", "")]);
        let dir = |platform, env, home| pnpm_config_dir_on(platform, env, home);

        assert_eq!(
            dir(Platform::OtherUnix, &none, home),
            Some(PathBuf::from("/home/u/.config/pnpm"))
        );
        assert_eq!(
            dir(Platform::OtherUnix, &empty_xdg, home),
            Some(PathBuf::from("/home/u/.config/pnpm"))
        );
        assert_eq!(
            dir(Platform::MacOs, &none, home),
            Some(PathBuf::from("/home/u/Library/Preferences/pnpm"))
        );
        assert_eq!(
            dir(Platform::Windows, &local, home),
            Some(Path::new("/local").join("pnpm").join("config"))
        );
        assert_eq!(
            dir(Platform::Windows, &none, home),
            Some(Path::new("/home/u/.config").join("pnpm"))
        );
        // XDG_CONFIG_HOME wins everywhere, macOS and Windows included.
        for platform in [Platform::OtherUnix, Platform::MacOs, Platform::Windows] {
            assert_eq!(dir(platform, &xdg, None), Some(PathBuf::from("/xdg/pnpm")));
        }
        assert_eq!(dir(Platform::OtherUnix, &none, None), None);
        assert_eq!(
            dir(Platform::Windows, &local, None),
            Some(Path::new("/local").join("pnpm").join("config"))
        );
    }

    #[test]
    fn pnpm_auth_ini_is_in_the_config_dir() {
        let xdg = env(&[("XDG_CONFIG_HOME", "/xdg")]);
        assert_eq!(
            pnpm_auth_ini(&xdg, None),
            Some(PathBuf::from("/xdg/pnpm/auth.ini"))
        );
    }

    #[test]
    fn yarnrc_home_honours_yarn_rc_filename_in_any_case() {
        let home = Some(Path::new("/home/u"));
        assert_eq!(
            yarnrc_home(&env(&[]), home),
            PathBuf::from("/home/u/.yarnrc.yml")
        );
        assert_eq!(
            yarnrc_home(&env(&[("yarn_rc_filename", ".yarnrc-ci.yml")]), home),
            PathBuf::from("/home/u/.yarnrc-ci.yml")
        );
        assert_eq!(
            yarnrc_home(&env(&[("YARN_RC_FILENAME", "")]), home),
            PathBuf::from("/home/u/.yarnrc.yml")
        );
        assert_eq!(
            yarnrc_home(&env(&[]), None),
            PathBuf::from("/usr/local/share/.yarnrc.yml")
        );
    }

    /// `auth.ini` is npm's ini dialect; pnpm 11+'s own keys (a scope's token
    /// on one host, a token helper) edit like any other, keeping every other
    /// byte (clients-2026.md §1.3, §1.10).
    #[test]
    fn auth_ini_scope_token_and_token_helper_keys_round_trip() {
        use crate::npmrc::Document;
        let original = "; pnpm auth\r\n//npm.example/:_authToken=${NPM_TOKEN}\r\n\r\n//npm.example/:@corp:_authToken=old\r\n";
        let mut document = Document::parse(original);
        assert_eq!(
            String::from_utf8(document.render()).expect("utf-8"),
            original
        );

        let scope_key = "//npm.example/:@corp:_authToken";
        document.set(scope_key, "new", &|key| key == scope_key);
        assert_eq!(
            String::from_utf8(document.render()).expect("utf-8"),
            original.replace("@corp:_authToken=old", "@corp:_authToken=new")
        );

        let helper_key = "//npm.example/:tokenHelper";
        document.set(helper_key, "/usr/local/bin/helper --json", &|key| {
            key == helper_key
        });
        let with_helper = original.replace("@corp:_authToken=old", "@corp:_authToken=new")
            + "//npm.example/:tokenHelper=/usr/local/bin/helper --json\r\n";
        assert_eq!(
            String::from_utf8(document.render()).expect("utf-8"),
            with_helper
        );
        let read: Vec<_> = document
            .entries()
            .map(|located| (located.line, located.entry.key.clone()))
            .collect();
        assert!(read.contains(&(4, scope_key.to_string())), "{read:?}");
        assert!(read.contains(&(5, helper_key.to_string())), "{read:?}");

        assert_eq!(document.remove(&|key| key == helper_key), 1);
        document.set(scope_key, "old", &|key| key == scope_key);
        assert_eq!(
            String::from_utf8(document.render()).expect("utf-8"),
            original
        );
        assert_eq!(document.remove(&|key| key == scope_key), 1);
        assert_eq!(
            String::from_utf8(document.render()).expect("utf-8"),
            "; pnpm auth\r\n//npm.example/:_authToken=${NPM_TOKEN}\r\n\r\n"
        );
    }
}
