//! Where the CI job's OIDC identity token comes from: `NPM_ID_TOKEN` (GitLab,
//! CircleCI, any CI), GitHub Actions' token service, or Buildkite's agent.
//! Each failure names the piece that is missing.

use std::collections::HashMap;
use std::process::Stdio;
use std::time::Duration;

use anyhow::Result;
use url::Url;

use crate::display::redact;
use crate::failure::{Exit, Failure};
use crate::registry::{Refusal, Registry, RegistryError};
use crate::secret::Secret;

/// How long `buildkite-agent` may take to hand over a token.
pub(crate) const AGENT_TIMEOUT: Duration = Duration::from_secs(30);

/// The CI environment variables the providers read, taken once.
#[derive(Debug, Clone, Default)]
pub(crate) struct CiEnv {
    vars: HashMap<String, String>,
}

impl CiEnv {
    /// This process's environment.
    pub(crate) fn from_process() -> CiEnv {
        CiEnv {
            vars: crate::locate::process_env(),
        }
    }

    /// A variable's value; set to the empty string counts as unset.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    fn is_true(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }
}

/// Which provider gave the identity token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Provider {
    /// The `NPM_ID_TOKEN` variable.
    Variable,
    GitHubActions,
    Buildkite,
}

impl Provider {
    /// As messages name it: "`NPM_ID_TOKEN`", "GitHub Actions", "Buildkite".
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Provider::Variable => "`NPM_ID_TOKEN`",
            Provider::GitHubActions => "GitHub Actions",
            Provider::Buildkite => "Buildkite",
        }
    }

    /// Whether asking again gives a new token (a variable cannot).
    pub(crate) fn can_refresh(self) -> bool {
        !matches!(self, Provider::Variable)
    }
}

/// An identity token and where it came from.
#[derive(Debug, Clone)]
pub(crate) struct Identity {
    pub token: Secret,
    pub provider: Provider,
}

/// `npm:<registry host>`: the audience npm's trusted publishing expects (the
/// host name alone, without port, as npm takes `URL.hostname`).
pub(crate) fn audience(registry: &Url) -> String {
    format!("npm:{}", registry.host_str().unwrap_or_default())
}

/// The identity token for `audience`, from the first provider this
/// environment has: `NPM_ID_TOKEN`, else GitHub Actions, else Buildkite.
/// None at all is exit 4, naming what is missing.
pub(crate) async fn obtain(registry: &Registry, env: &CiEnv, audience: &str) -> Result<Identity> {
    if let Some(token) = env.get("NPM_ID_TOKEN") {
        return Ok(Identity {
            token: Secret::new(token.trim()),
            provider: Provider::Variable,
        });
    }
    let on_github = env.is_true("GITHUB_ACTIONS")
        || env.get("ACTIONS_ID_TOKEN_REQUEST_URL").is_some()
        || env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN").is_some();
    if on_github {
        return github(registry, env, audience).await;
    }
    if env.is_true("BUILDKITE") {
        return buildkite("buildkite-agent", audience, AGENT_TIMEOUT).await;
    }
    Err(Failure::auth(
        "no OIDC identity for trusted publishing: `NPM_ID_TOKEN` is not set, and this is neither GitHub Actions (`ACTIONS_ID_TOKEN_REQUEST_URL`) nor Buildkite (`BUILDKITE=true`)",
    )
    .hint(format!(
        "GitHub Actions: give the job `permissions: id-token: write`; GitLab: `id_tokens: {{NPM_ID_TOKEN: {{aud: \"{audience}\"}}}}`; CircleCI: `export NPM_ID_TOKEN=$(circleci run oidc get --claims '{{\"aud\":\"{audience}\"}}')`"
    ))
    .into())
}

/// GitHub Actions: `GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=<aud>` with
/// `Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN`; the token is the
/// answer's `value`. GitHub sets both variables only for jobs that may ask.
async fn github(registry: &Registry, env: &CiEnv, audience: &str) -> Result<Identity> {
    let url = env.get("ACTIONS_ID_TOKEN_REQUEST_URL");
    let request_token = env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN");
    let missing: Vec<&str> = [
        ("`ACTIONS_ID_TOKEN_REQUEST_URL`", url.is_none()),
        ("`ACTIONS_ID_TOKEN_REQUEST_TOKEN`", request_token.is_none()),
    ]
    .into_iter()
    .filter_map(|(name, absent)| absent.then_some(name))
    .collect();
    let (Some(url), Some(request_token)) = (url, request_token) else {
        return Err(Failure::auth(format!(
            "no OIDC identity from GitHub Actions: {} {} not set",
            missing.join(" and "),
            if missing.len() == 1 { "is" } else { "are" }
        ))
        .hint("the workflow (or the job) needs `permissions: id-token: write`")
        .into());
    };
    let request_token = Secret::new(request_token);
    let mut url = Url::parse(url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| {
            Failure::new("`ACTIONS_ID_TOKEN_REQUEST_URL` is not an http(s) URL")
                .hint("GitHub Actions sets it; do not override it in the workflow")
        })?;
    url.query_pairs_mut().append_pair("audience", audience);

    let answer = registry
        .get_json_with_bearer(&url, &request_token)
        .await
        .map_err(|err| provider_error("GitHub Actions", &err))?;
    match answer.get("value").and_then(|v| v.as_str()) {
        Some(value) if !value.trim().is_empty() => Ok(Identity {
            token: Secret::new(value.trim()),
            provider: Provider::GitHubActions,
        }),
        _ => Err(Failure::new(
            "GitHub Actions' token service answered without an identity token (no `value`)",
        )
        .into()),
    }
}

/// A provider's refusal is an authentication problem (exit 4); a network or
/// server failure is not (exit 1).
fn provider_error(provider: &str, err: &RegistryError) -> anyhow::Error {
    let message = format!("could not get an OIDC identity token from {provider}: {err}");
    let refused = err.refusal().is_some_and(Refusal::of_the_request);
    let failure = Failure {
        message,
        hint: Some(if refused {
            "the workflow (or the job) needs `permissions: id-token: write`".into()
        } else {
            err.hint()
                .unwrap_or_else(|| "try again; the token service may be down".into())
        }),
        exit: if refused {
            Exit::NeedsAuth
        } else {
            Exit::Failed
        },
    };
    failure.into()
}

/// Buildkite: `buildkite-agent oidc request-token --audience <aud>`, run
/// without a shell, stdin closed, within `limit`; stdout (trimmed) is the
/// token, and stderr is shown when it fails.
pub(crate) async fn buildkite(program: &str, audience: &str, limit: Duration) -> Result<Identity> {
    let mut command = tokio::process::Command::new(program);
    command
        .args(["oidc", "request-token", "--audience", audience])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let shown = format!("`{program} oidc request-token --audience {audience}`");
    let child = command.spawn().map_err(|err| {
        if err.kind() == std::io::ErrorKind::NotFound {
            Failure::auth(format!(
                "no OIDC identity from Buildkite: `BUILDKITE=true` but `{program}` is not on PATH"
            ))
            .hint("run the step on a Buildkite agent, or set `NPM_ID_TOKEN`")
        } else {
            Failure::new(format!("could not run {shown}: {err}"))
        }
    })?;
    // Dropping the child on timeout kills it (`kill_on_drop`).
    let output = match tokio::time::timeout(limit, child.wait_with_output()).await {
        Ok(output) => {
            output.map_err(|err| Failure::new(format!("could not run {shown}: {err}")))?
        }
        Err(_) => {
            return Err(Failure::new(format!(
                "{shown} did not answer within {} s",
                limit.as_secs_f64()
            ))
            .into());
        }
    };
    let token = Secret::new(String::from_utf8_lossy(&output.stdout).trim());
    if !output.status.success() {
        let said = first_line(&String::from_utf8_lossy(&output.stderr), &token);
        let code = output.status.code().map_or_else(
            || "was killed".to_string(),
            |code| format!("exited with {code}"),
        );
        return Err(Failure::auth(format!(
            "no OIDC identity from Buildkite: {shown} {code}{}",
            said.map(|s| format!(": {s}")).unwrap_or_default()
        ))
        .hint("the pipeline's agent must be allowed to request OIDC tokens")
        .into());
    }
    if token.is_empty() {
        return Err(Failure::auth(format!(
            "no OIDC identity from Buildkite: {shown} printed nothing"
        ))
        .into());
    }
    Ok(Identity {
        token,
        provider: Provider::Buildkite,
    })
}

/// The first non-empty line of a program's stderr, short, with `secret`
/// (whatever it printed on stdout) taken out.
fn first_line(text: &str, secret: &Secret) -> Option<String> {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    let line: String = redact(line, &[secret])
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect();
    Some(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_audience_is_the_host_without_port() {
        let url = |s: &str| Url::parse(s).expect("url");
        assert_eq!(
            audience(&url("https://registry.npmjs.org/")),
            "npm:registry.npmjs.org"
        );
        assert_eq!(
            audience(&url("http://127.0.0.1:4873/npm/")),
            "npm:127.0.0.1"
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_slow_agent_is_stopped_at_the_limit() {
        // `sh -c` stands in for an agent that never answers; the limit is
        // the only thing that ends it.
        let dir = tempfile::tempdir().expect("tempdir");
        let agent = dir.path().join("agent");
        std::fs::write(&agent, "#!/bin/sh\nexec sleep 30\n").expect("write");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&agent, std::fs::Permissions::from_mode(0o755))
                .expect("chmod");
        }
        let started = std::time::Instant::now();
        let err = buildkite(
            agent.to_str().expect("utf-8"),
            "npm:x",
            Duration::from_millis(200),
        )
        .await
        .expect_err("timeout");
        assert!(
            err.to_string().contains("did not answer within 0.2 s"),
            "{err}"
        );
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn stderr_is_shown_without_the_token() {
        let token = Secret::new("eyJhbGciOi.payload.sig");
        assert_eq!(
            first_line("\n  error: eyJhbGciOi.payload.sig refused\nmore", &token).as_deref(),
            Some("error: *** refused")
        );
        assert_eq!(first_line("  \n", &token), None);
    }
}
