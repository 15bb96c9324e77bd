//! `rtok whoami`: the user name the registry knows the credential by.

use std::io;

use anyhow::Result;
use serde::Serialize;

use super::connect;
use crate::output::{Printer, Report, visible};
use crate::settings::Settings;

/// The user name: a JSON string, or the name alone on stdout.
#[derive(Serialize)]
#[serde(transparent)]
struct Whoami {
    username: String,
}

impl Report for Whoami {
    fn human(&self, printer: &Printer) -> io::Result<()> {
        printer.data(&visible(&self.username))
    }
}

pub(super) async fn run(settings: &Settings, printer: &Printer) -> Result<()> {
    settings.require_credential()?;
    let registry = connect::client(settings, printer, "whoami")?;
    let username = registry.whoami().await?;
    printer.emit(&Whoami { username })?;
    Ok(())
}
