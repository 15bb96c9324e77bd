//! `rtok token-helper <REGISTRY>`: prints the `Authorization` value for a
//! registry's credential as rtok resolves it (npm's config files and
//! environment, then rtok's stored sources: the keyring, a
//! `credential-command`), `Bearer <token>` (`Basic <encoded>` for a
//! password), for pnpm 11+ to run as the `tokenHelper` of `auth.ini`
//! (`//<nerf>:tokenHelper=<rtok> token-helper <registry>`). pnpm adds
//! `Bearer ` only to output without a scheme, and pnpm 10 sends the output
//! as it is, so the scheme is always printed. No network; no credential is
//! one line on stderr and exit 4, which pnpm reports as the helper's
//! failure.

use anyhow::Result;
use url::Url;

use crate::cli::TokenHelperArgs;
use crate::config::credential::Credential;
use crate::display::display_url;
use crate::failure::Failure;
use crate::output::Printer;
use crate::settings::Settings;

pub(super) fn run(settings: &Settings, args: &TokenHelperArgs, printer: &Printer) -> Result<()> {
    let registry = parse(&args.url)?;
    let found = settings.credentials.for_url(&registry)?;
    let header = match found.and_then(|found| found.credential) {
        Some(Credential::Bearer(token)) => format!("Bearer {}", token.expose()),
        Some(Credential::Basic { encoded, .. }) => format!("Basic {}", encoded.expose()),
        None => {
            return Err(Failure::auth(format!(
                "no credential for {} in the config files, the environment or rtok's settings",
                display_url(&registry)
            ))
            .into());
        }
    };
    printer.data(&header)?;
    Ok(())
}

/// The registry argument: an http(s) URL with a host.
fn parse(text: &str) -> Result<Url> {
    match Url::parse(text.trim()) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host_str().is_some() => Ok(url),
        _ => Err(Failure::new(format!(
            "`{}` is not a registry URL such as `https://registry.npmjs.org/`",
            crate::display::visible(text)
        ))
        .into()),
    }
}
