//! `doctor`'s findings about providers (rtok's settings: `provider = "..."`
//! or a `credential-command`): `provider-failed` (the tool gave no token;
//! its message and the fix) and `stale-provider-token` (a token `rtok
//! refresh` wrote into a file has expired since, so npm run directly sends
//! an expired token). Messages name where a token lives, never the token.

use std::time::SystemTime;

use super::report::Finding;
use crate::config::credential::CredentialError;
use crate::config::stored;
use crate::display::display_url;
use crate::rtok_config::RegistrySettings;
use crate::settings::Settings;
use crate::time;
use crate::tokens::health::Severity;

/// Every provider's findings, in the order of rtok's settings.
pub(super) fn findings(settings: &Settings, now: SystemTime) -> Vec<Finding> {
    let mut found = Vec::new();
    for registry in settings.rtok.registries() {
        let Some(source) = stored::source(registry) else {
            continue;
        };
        if source.provider().is_none() {
            continue;
        }
        found.extend(provider_failed(settings, registry, &source));
        found.extend(stale_provider_token(registry, now));
    }
    found
}

fn provider_failed(
    settings: &Settings,
    registry: &RegistrySettings,
    source: &stored::Source,
) -> Option<Finding> {
    let err = settings.credentials.stored_at(&registry.nerf).err()?;
    let hint = match &err {
        CredentialError::Command(command) => command.hint(),
        other => other.hint(),
    };
    Some(Finding {
        code: "provider-failed",
        severity: Severity::Error,
        registry: Some(display_url(&registry.url)),
        source: Some(source.origin().to_string()),
        message: format!(
            "{err}: rtok, `rtok exec` and `rtok refresh` have no token for {}",
            display_url(&registry.url)
        ),
        hint,
    })
}

fn stale_provider_token(registry: &RegistrySettings, now: SystemTime) -> Vec<Finding> {
    let Some(refreshed) = &registry.refreshed else {
        return Vec::new();
    };
    let Some(expires) = time::parse(&refreshed.expires) else {
        return Vec::new();
    };
    if expires > now {
        return Vec::new();
    }
    let shown = display_url(&registry.url);
    refreshed
        .files
        .iter()
        .filter(|file| stored::file_holds(file, &registry.url, &refreshed.fingerprint))
        .map(|file| Finding {
            code: "stale-provider-token",
            severity: Severity::Error,
            registry: Some(shown.clone()),
            source: Some(file.display().to_string()),
            message: format!(
                "the token `rtok refresh` wrote for {shown} into {} expired on {}: npm, pnpm or yarn run directly send an expired token and get 401",
                file.display(),
                refreshed.expires
            ),
            hint: format!(
                "run `rtok refresh --registry {shown}` (in CI, before each install), or run npm as `rtok exec -- npm ci`"
            ),
        })
        .collect()
}
