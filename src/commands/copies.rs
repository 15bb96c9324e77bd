//! Which clients a write is for, and the place of each client's copy:
//! `--for`, else the `clients` setting, else npm and every client whose
//! credential file exists (the rule is `config::clients::chosen`; the
//! places are the store's).

use anyhow::Result;

use crate::cli::ClientsArg;
use crate::client::Client;
use crate::config::clients;
use crate::config::store::Place;
use crate::rtok_config::Storage;
use crate::settings::Settings;

/// Each chosen client with the place of its copy (`None`: the client cannot
/// have one with this storage).
pub(super) fn targets(
    settings: &Settings,
    arg: &ClientsArg,
    storage: Storage,
) -> Result<Vec<(Client, Option<Place>)>> {
    let chosen = clients::chosen(
        &settings.config,
        arg.clients.as_deref(),
        settings.rtok.clients(),
    );
    if chosen.is_empty() {
        return Err(crate::failure::Failure::usage(
            "no client to write for: `--for` or the `clients` setting names none",
        )
        .into());
    }
    let program = rtok_program();
    let store = settings.store();
    chosen
        .into_iter()
        .map(|client| Ok((client, store.place_for(client, storage, &program)?)))
        .collect()
}

/// This rtok's path, which pnpm's token helper line names (an unknown path
/// is empty, and the store refuses to name it).
pub(super) fn rtok_program() -> std::path::PathBuf {
    std::env::current_exe().unwrap_or_default()
}
