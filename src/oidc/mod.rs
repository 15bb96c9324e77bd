//! Trusted publishing (OIDC): the CI job's identity token is exchanged for a
//! short-lived token that may publish one package. Unlike npm, which drops
//! every failure here silently, a refusal says what the registry said and
//! what the identity token claims, so the user sees which value did not match.

pub(crate) mod identity;
pub(crate) mod jwt;
pub(crate) mod package;
pub(crate) mod workspaces;

use anyhow::{Context, Result};

use crate::display::display_url;
use crate::failure::{Exit, Failure};
use crate::registry::error::{Problem, status_text};
use crate::registry::{OidcToken, Registry};
use crate::secret::Secret;
use identity::{CiEnv, Identity, Provider};
use jwt::Claims;

/// A fresh trusted-publishing token for `package` on `registry`'s registry,
/// from this process's CI identity: what `rtok exec --oidc` puts in the
/// command's environment. Fails (exit 4 when authentication is the problem,
/// else 1) before anything is run.
pub(crate) async fn fresh_token(registry: &Registry, package: &str) -> Result<Secret> {
    let env = CiEnv::from_process();
    Ok(exchange(registry, &env, package).await?.token)
}

/// Checks the name, gets an identity token for the registry's audience, and
/// exchanges it.
pub(crate) async fn exchange(registry: &Registry, env: &CiEnv, package: &str) -> Result<OidcToken> {
    check_name(package)?;
    let audience = identity::audience(registry.url());
    let identity = identity::obtain(registry, env, &audience).await?;
    exchange_with(registry, &identity, package).await
}

/// `package` as a valid npm name, or the failure naming what is wrong.
pub(crate) fn check_name(package: &str) -> Result<()> {
    package::validate(package).map_err(|why| {
        Failure::new(format!(
            "`{}` is not a valid npm package name: {why}",
            package.escape_debug()
        ))
        .hint("pass the package's name with `--package NAME`, or fix `name` in package.json")
        .into()
    })
}

/// Exchanges `identity` for a token for `package`. The identity must be a
/// JWT (nothing is sent otherwise); a refusal is explained with its claims.
pub(crate) async fn exchange_with(
    registry: &Registry,
    identity: &Identity,
    package: &str,
) -> Result<OidcToken> {
    match try_exchange(registry, identity, package).await? {
        Ok(token) => Ok(token),
        Err(refusal) => Err(refusal.into_failure().into()),
    }
}

/// The exchange, with the registry's refusal (a 4xx answer) kept apart
/// from every other failure (not a JWT, network, a broken answer), which
/// keeps its own message, hint and exit code.
async fn try_exchange(
    registry: &Registry,
    identity: &Identity,
    package: &str,
) -> Result<Result<OidcToken, Refusal>> {
    let claims = Claims::decode(&identity.token).map_err(|why| {
        let failure = Failure::auth(format!(
            "the OIDC identity token from {} is not a JWT: {why}",
            identity.provider.describe()
        ));
        match identity.provider {
            Provider::Variable => failure.hint(
                "`NPM_ID_TOKEN` must hold the CI's OIDC identity token (a JWT, e.g. from GitLab's `id_tokens:`), not an npm token",
            ),
            _ => failure,
        }
    })?;
    let shown_registry = display_url(registry.url());
    check_audience(identity, &claims, registry)?;
    let err = match registry.exchange_oidc(package, &identity.token).await {
        Ok(token) => return Ok(Ok(token)),
        Err(err) => err,
    };
    let refused = match err.problem() {
        Some(Problem::Status { status, detail } | Problem::Unauthorized { status, detail, .. })
            if status.is_client_error() =>
        {
            Some((status.as_u16(), format!("{}{detail}", status_text(*status))))
        }
        _ => None,
    };
    let Some((status, answer)) = refused else {
        return Err(anyhow::Error::new(err).context(format!(
            "could not exchange the OIDC identity for a token for `{package}` on {shown_registry}"
        )));
    };
    let mut notes = Vec::new();
    if let Some(expiry) = claims.expires_at().filter(|exp| *exp < now_secs()) {
        notes.push(format!(
            "it expired at {}",
            crate::time::format_iso8601(expiry)
        ));
    }
    Ok(Err(Refusal {
        package: package.to_string(),
        registry: shown_registry,
        request: err.to_string(),
        answer,
        status,
        provider: identity.provider,
        claims: claims.summary(),
        notes: notes.iter().map(|n| format!("; {n}")).collect(),
    }))
}

/// An identity token goes only to the registry it was issued for: its `aud`
/// (a string or a list) must hold `npm:<registry host>`. Whoever runs
/// another registry could replay it where it is valid, so a mismatch is
/// refused before anything is sent (exit 4, naming both audiences). GitHub
/// and Buildkite are asked for the right audience; this checks them too.
fn check_audience(identity: &Identity, claims: &Claims, registry: &Registry) -> Result<()> {
    let expected = identity::audience(registry.url());
    if claims.has_audience(&expected) {
        return Ok(());
    }
    let actual = claims
        .shown("aud")
        .map_or_else(|| "no `aud`".to_string(), |aud| format!("`aud` `{aud}`"));
    let failure = Failure::auth(format!(
        "the OIDC identity token from {} has {actual}, but {} expects `{expected}`; it was not sent",
        identity.provider.describe(),
        display_url(registry.url())
    ));
    Err(match identity.provider {
        Provider::Variable => failure.hint(format!(
            "have the CI issue `NPM_ID_TOKEN` for `{expected}` (GitLab: `id_tokens: {{NPM_ID_TOKEN: {{aud: \"{expected}\"}}}}`), or use the registry it was issued for with `--registry`"
        )),
        _ => failure.hint(format!(
            "{} did not issue the token for the audience rtok asked for (`{expected}`)",
            identity.provider.describe()
        )),
    }
    .into())
}

/// The registry's refusal of an exchange, with what the identity claimed.
#[derive(Debug)]
struct Refusal {
    package: String,
    registry: String,
    /// `POST <url>: 403 Forbidden: <message>`.
    request: String,
    /// `403 Forbidden: <message>`.
    answer: String,
    status: u16,
    provider: Provider,
    claims: String,
    /// `; it expired at ...`, or nothing.
    notes: String,
}

impl Refusal {
    /// The error for one package: exit 4 for a 401, else 1.
    fn into_failure(self) -> Failure {
        let hint = match self.status {
            404 => format!(
                "`{}` must already exist on {} with a trusted publisher for this CI (npmjs: the package's Settings, Trusted Publisher); the first publish needs a token",
                self.package, self.registry
            ),
            _ => "the package's trusted publisher must name exactly these values: the repository (or project), the workflow (or CI config) file, and the environment, if it has one"
                .to_string(),
        };
        Failure {
            message: format!(
                "trusted publishing refused `{}` on {}: {}; the identity token from {} has {}{}",
                self.package,
                self.registry,
                self.request,
                self.provider.describe(),
                self.claims,
                self.notes
            ),
            hint: Some(hint),
            exit: if self.status == 401 {
                Exit::NeedsAuth
            } else {
                Exit::Failed
            },
        }
    }

    /// The same, short, for a row that already names package and registry.
    fn row(&self) -> String {
        format!(
            "{}; the identity token has {}{}",
            self.answer, self.claims, self.notes
        )
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Checks whether `identity` may publish each of `packages`: one result a
/// package, in order, each token dropped as soon as it arrives. Providers
/// that can are asked for a fresh identity token per package (an issuer or
/// registry may refuse a token it has seen).
pub(crate) async fn check_all(
    registry: &Registry,
    env: &CiEnv,
    packages: &[String],
) -> Result<Vec<Result<(), String>>> {
    let audience = identity::audience(registry.url());
    // The first identity is asked for up front: without one, no row can pass.
    let first = identity::obtain(registry, env, &audience).await?;
    // An identity for another audience fails every row alike: refused once.
    if let Ok(claims) = Claims::decode(&first.token) {
        check_audience(&first, &claims, registry)?;
    }
    let mut results = Vec::with_capacity(packages.len());
    for (index, package) in packages.iter().enumerate() {
        let result: Result<Result<(), String>> = async {
            check_name(package)?;
            let fresh;
            let identity = if index > 0 && first.provider.can_refresh() {
                fresh = identity::obtain(registry, env, &audience)
                    .await
                    .context("could not get another identity token")?;
                &fresh
            } else {
                &first
            };
            Ok(try_exchange(registry, identity, package)
                .await?
                .map(drop)
                .map_err(|refusal| refusal.row()))
        }
        .await;
        // The token, if any, is dropped here: a check never shows it.
        results.push(match result {
            Ok(row) => row,
            Err(err) => Err(crate::failure::message(&err)),
        });
    }
    Ok(results)
}
