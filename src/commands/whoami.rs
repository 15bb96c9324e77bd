//! `rtok whoami`: the user name the registry knows the credential by.

use anyhow::Result;
use serde_json::Value;

use super::Session;
use crate::output::Format;

pub async fn run(session: &Session<'_>) -> Result<()> {
    session.require_credential()?;
    let registry = session.client("whoami")?;
    let name = registry.whoami().await?;
    match session.printer.format {
        Format::Json => session.printer.json(&Value::String(name))?,
        Format::Human | Format::Parseable => session.printer.data(&name)?,
    }
    Ok(())
}
