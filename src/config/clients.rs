//! Where each client keeps its user credentials, and which clients a write
//! is for (issue 18). npm's user config is `Config::user_config_path`;
//! pnpm 11/12 read `<pnpm config folder>/auth.ini` above it; yarn berry
//! reads only its `.yarnrc.yml` files, the home one being where its login
//! writes (clients-2026.md §1.1).

use std::path::PathBuf;

use anyhow::Result;

use super::Config;
use crate::client::Client;
use crate::failure::Failure;

/// A client's user credential file, as this run sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClientFile {
    pub client: Client,
    pub path: PathBuf,
}

/// The user credential file `client` reads; `None` only without a home
/// folder to put it in.
pub(crate) fn user_file(config: &Config, client: Client) -> Option<PathBuf> {
    let env = config.env();
    let home = crate::locate::home_dir(env);
    match client {
        Client::Npm => config.user_config_path().map(PathBuf::from),
        Client::Pnpm => crate::locate::pnpm_auth_ini(env, home.as_deref()),
        Client::Yarn => Some(crate::locate::yarnrc_home(env, home.as_deref())),
    }
}

/// The user credential file of `client`, or an error that says why there
/// is none.
pub(crate) fn require_user_file(config: &Config, client: Client) -> Result<ClientFile> {
    let path = user_file(config, client).ok_or_else(|| {
        Failure::new(format!(
            "there is no home folder for {}'s user credential file",
            client.name()
        ))
        .hint(match client {
            Client::Npm => "pass `--userconfig <path>`",
            Client::Pnpm => "set XDG_CONFIG_HOME or HOME",
            Client::Yarn => "set HOME",
        })
    })?;
    Ok(ClientFile { client, path })
}

/// Every client's user credential file that exists now (a folder or
/// another odd thing at the path counts: writing there must fail loudly).
pub(crate) fn existing(config: &Config) -> Vec<ClientFile> {
    Client::ALL
        .into_iter()
        .filter_map(|client| {
            let path = user_file(config, client)?;
            std::fs::symlink_metadata(&path)
                .is_ok()
                .then_some(ClientFile { client, path })
        })
        .collect()
}

/// The clients a write is for: those named on the command line (`--for`),
/// else exactly those of the `clients` setting, else npm and every client
/// whose user credential file already exists. In `Client::ALL` order, each
/// once.
pub(crate) fn chosen(
    config: &Config,
    named: Option<&[Client]>,
    setting: Option<&[Client]>,
) -> Vec<Client> {
    let mut clients: Vec<Client> = match named.or(setting) {
        Some(list) => list.to_vec(),
        None => std::iter::once(Client::Npm)
            .chain(existing(config).into_iter().map(|f| f.client))
            .collect(),
    };
    clients.sort();
    clients.dedup();
    clients
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_with(files: &[&str]) -> (tempfile::TempDir, Config) {
        let (dir, config) = crate::config::load_for_test("", &[]).expect("config");
        let home = crate::locate::home_dir(config.env()).expect("home");
        for file in files {
            let path = home.join(file);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
            std::fs::write(&path, "").expect("write");
        }
        (dir, config)
    }

    #[test]
    fn by_default_npm_and_every_client_with_a_file_are_chosen() {
        let (_dir, config) = config_with(&[]);
        assert_eq!(chosen(&config, None, None), vec![Client::Npm]);
        let (_dir, config) = config_with(&[".yarnrc.yml"]);
        assert_eq!(chosen(&config, None, None), vec![Client::Npm, Client::Yarn]);
        let (_dir, config) = config_with(&[".config/pnpm/auth.ini", ".yarnrc.yml"]);
        assert_eq!(
            chosen(&config, None, None),
            vec![Client::Npm, Client::Pnpm, Client::Yarn]
        );
    }

    #[test]
    fn the_command_line_beats_the_setting_and_the_setting_is_exact() {
        let (_dir, config) = config_with(&[".yarnrc.yml"]);
        assert_eq!(
            chosen(&config, None, Some(&[Client::Pnpm])),
            vec![Client::Pnpm]
        );
        assert_eq!(
            chosen(
                &config,
                Some(&[Client::Yarn, Client::Npm]),
                Some(&[Client::Pnpm])
            ),
            vec![Client::Npm, Client::Yarn]
        );
    }
}
