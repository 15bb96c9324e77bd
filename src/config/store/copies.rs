//! Each client's copy of a registry's credential: which place a write for a
//! client goes to, what a client's file holds for a registry now, and the
//! check made of every place before anything is written (so a broken
//! `.yarnrc.yml` stops a login before any file changes).

use std::path::Path;

use anyhow::Result;
use url::Url;

use super::{Place, Store, yarn};
use crate::client::Client;
use crate::config::clients;
use crate::npmrc::{Document, Reference, nerf_dart};
use crate::rtok_config::Storage;
use crate::secret::Secret;
use crate::yarnrc::Value;

/// What a client's file holds for a registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Holding {
    /// No credential of its own for the registry.
    Nothing,
    /// A literal token, on this line.
    Token { token: Secret, line: usize },
    /// A `${VAR}` reference: the user keeps the token elsewhere.
    Reference { line: usize },
    /// Another kind of credential (a token helper, `_auth`, a password, an
    /// ident).
    Other { line: usize },
}

impl Store<'_> {
    /// Where `client`'s copy of a credential kept in `storage` goes. With
    /// the keyring: npm's is the keyring itself (read through `rtok exec`),
    /// pnpm's a token helper naming `program`; yarn reads no keyring and no
    /// helper, so it has none (`None`).
    pub(crate) fn place_for(
        &self,
        client: Client,
        storage: Storage,
        program: &Path,
    ) -> Result<Option<Place>> {
        let file = clients::require_user_file(self.config, client)?.path;
        Ok(match (client, storage) {
            (Client::Npm, Storage::File) | (Client::Pnpm, Storage::File) => Some(Place::File(file)),
            (Client::Npm, Storage::Keyring) => Some(Place::Keyring),
            (Client::Pnpm, Storage::Keyring) => Some(Place::TokenHelper {
                path: file,
                program: program.to_path_buf(),
            }),
            (Client::Yarn, Storage::File) => Some(Place::Yarnrc(file)),
            (Client::Yarn, Storage::Keyring) => None,
        })
    }

    /// The client's user file as a place to find its copy in (never the
    /// keyring).
    pub(crate) fn file_of(&self, client: Client) -> Result<Place> {
        let path = clients::require_user_file(self.config, client)?.path;
        Ok(match client {
            Client::Yarn => Place::Yarnrc(path),
            Client::Npm | Client::Pnpm => Place::File(path),
        })
    }

    /// Reads what a write to `place` for `registry` would edit: a file that
    /// is not a regular file, cannot be read or does not parse, a keyring
    /// that cannot keep a token, or a token helper pnpm could not run, is
    /// the error now, before anything is written anywhere.
    pub(crate) fn check(&self, place: &Place, registry: &Url) -> Result<()> {
        match place {
            Place::File(path) => {
                crate::private_file::read_regular(path)?;
            }
            Place::Yarnrc(path) => {
                yarn::read(path)?;
            }
            Place::Keyring => crate::keyring::check_usable()?,
            Place::TokenHelper { path, program } => {
                super::token_helper_command(program, registry)?;
                crate::private_file::read_regular(path)?;
                crate::keyring::check_usable()?;
            }
        }
        Ok(())
    }

    /// What `place` (a client's file) holds for `registry` now: in an ini
    /// file the lines under the registry's own nerf dart (the last line of a
    /// key, as npm and pnpm read it); in a `.yarnrc.yml` the entry yarn
    /// uses for it, top-level fallbacks aside. A missing file holds nothing.
    pub(crate) fn holding(&self, place: &Place, registry: &Url) -> Result<Holding> {
        match place {
            Place::File(path) | Place::TokenHelper { path, .. } => {
                let Some(bytes) = crate::private_file::read_regular(path)? else {
                    return Ok(Holding::Nothing);
                };
                Ok(self.holding_in_ini(&Document::parse(bytes), registry))
            }
            Place::Yarnrc(path) => {
                let Some(file) = yarn::read(path)? else {
                    return Ok(Holding::Nothing);
                };
                let auth = file.auth_for(registry.as_str(), None);
                if matches!(auth.place, crate::yarnrc::Place::TopLevel) {
                    return Ok(Holding::Nothing);
                }
                Ok(match (auth.token, auth.ident) {
                    (Some(entry), _) => match &entry.value {
                        Value::Literal(token) if token.expose().is_empty() => Holding::Nothing,
                        Value::Literal(token) => Holding::Token {
                            token: token.clone(),
                            line: entry.line,
                        },
                        _ => Holding::Reference { line: entry.line },
                    },
                    (None, Some(ident)) => Holding::Other { line: ident.line },
                    (None, None) => Holding::Nothing,
                })
            }
            Place::Keyring => Ok(Holding::Nothing),
        }
    }

    fn holding_in_ini(&self, document: &Document, registry: &Url) -> Holding {
        let nerf = nerf_dart(registry);
        let mut token = None;
        let mut other = None;
        for located in document.entries() {
            let key = self.config.expand_key(&located.entry.key);
            let Some(field) = key
                .strip_prefix(nerf.as_str())
                .and_then(|k| k.strip_prefix(':'))
            else {
                continue;
            };
            match field {
                "_authToken" => token = Some((located.entry.value.clone(), located.line)),
                "tokenHelper" | "_auth" | "_password" => other = Some(located.line),
                _ => {}
            }
        }
        match (token, other) {
            (Some((value, line)), _) if !value.is_empty() => {
                if Reference::classify(&value).is_literal() {
                    Holding::Token {
                        token: Secret::new(value),
                        line,
                    }
                } else {
                    Holding::Reference { line }
                }
            }
            (_, Some(line)) => Holding::Other { line },
            _ => Holding::Nothing,
        }
    }
}

impl Store<'_> {
    /// Saves `entry` in every place, in order; all or nothing: when one
    /// fails, what the others did is undone and the error says so.
    pub(crate) fn save_all(
        &self,
        places: &[Place],
        entry: &super::Entry<'_>,
    ) -> Result<Vec<super::Saved>> {
        let mut saved: Vec<super::Saved> = Vec::new();
        for place in places {
            match self.save(place, entry) {
                Ok(one) => saved.push(one),
                Err(err) => {
                    let mut change = super::Change::default();
                    for one in saved {
                        change.push(one.change);
                    }
                    let undone = change.undo(self).sentence();
                    return Err(
                        err.context(format!("could not save to {} ({undone})", place.shown()))
                    );
                }
            }
        }
        Ok(saved)
    }
}
