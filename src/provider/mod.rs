//! Providers of short-lived registry tokens: the presets rtok's settings
//! name (`provider = "codeartifact" | "gcloud" | "azure" | "gh"`), each with
//! its tool's exact command line, how to read the token and its expiry from
//! the tool's output, and the lifetime assumed when the output has none; and
//! a `credential-command`'s output, a bare token or JSON `{"token",
//! "expires"}` / `{"token", "expires_in"}`. The commands run through
//! `credential_command` (no shell, stdin closed, the 30 s limit); output
//! without a token is an error that never shows the output.

use std::time::{Duration, SystemTime};

use serde_json::Value;
use url::Url;

use crate::credential_command::{self, CommandError};
use crate::rtok_config::ProviderPreset;
use crate::secret::Secret;

/// Azure DevOps' resource id: the audience of a token Azure Artifacts takes.
pub(crate) const AZURE_DEVOPS_RESOURCE: &str = "499b84ac-1321-427f-aa17-267ca6975798";

/// Where a registry's token comes from.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Provider<'a> {
    Preset(&'a ProviderPreset),
    /// A `credential-command`: bare token or JSON with an expiry.
    Command(&'a [String]),
}

/// A token and when it stops working (`None`: unknown, so never cached: a
/// `credential-command` that prints a bare token).
#[derive(Debug, Clone)]
pub(crate) struct Fetched {
    pub token: Secret,
    pub expires: Option<SystemTime>,
}

impl Provider<'_> {
    /// The program and arguments run.
    pub(crate) fn argv(&self) -> Vec<String> {
        match self {
            Provider::Preset(preset) => preset_argv(preset),
            Provider::Command(argv) => argv.to_vec(),
        }
    }

    /// The name messages use (`None`: a `credential-command`).
    pub(crate) fn name(&self) -> Option<&'static str> {
        match self {
            Provider::Preset(preset) => Some(preset.name()),
            Provider::Command(_) => None,
        }
    }

    /// Runs the tool and reads its output.
    pub(crate) fn fetch(&self, registry: &Url) -> Result<Fetched, CommandError> {
        let argv = self.argv();
        let text = credential_command::output(&argv, registry, self.name())?;
        let now = crate::time::now();
        let parsed = match self {
            Provider::Preset(preset) => parse_preset(preset, &text, now),
            Provider::Command(_) => parse_command(&text, now),
        };
        parsed.map_err(|why| CommandError::not_a_token(&argv, registry, self.name(), why))
    }
}

/// Each preset's command line.
pub(crate) fn preset_argv(preset: &ProviderPreset) -> Vec<String> {
    let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    match preset {
        ProviderPreset::CodeArtifact {
            domain,
            domain_owner,
            region,
            duration,
        } => {
            let mut argv = words(&[
                "aws",
                "codeartifact",
                "get-authorization-token",
                "--domain",
                domain,
            ]);
            if let Some(owner) = domain_owner {
                argv.extend(words(&["--domain-owner", owner]));
            }
            if let Some(region) = region {
                argv.extend(words(&["--region", region]));
            }
            if let Some(duration) = duration {
                argv.extend(words(&[
                    "--duration-seconds",
                    &duration.as_secs().to_string(),
                ]));
            }
            // The user's own `output = text` profile setting would print
            // the token and expiry as a tab-separated line.
            argv.extend(words(&["--output", "json"]));
            argv
        }
        ProviderPreset::Gcloud => words(&["gcloud", "auth", "print-access-token"]),
        ProviderPreset::Azure => words(&[
            "az",
            "account",
            "get-access-token",
            "--resource",
            AZURE_DEVOPS_RESOURCE,
            "--output",
            "json",
        ]),
        ProviderPreset::Gh => words(&["gh", "auth", "token"]),
    }
}

/// How long a preset's token is taken to last when its output does not
/// say. On the short side: a token taken to last too long is caught by the
/// 401 retry; one taken too short only runs the tool again sooner.
pub(crate) fn default_lifetime(preset: &ProviderPreset) -> Duration {
    const MINUTE: u64 = 60;
    match preset {
        // The output always has `expiration`; without it, the requested
        // duration, else CodeArtifact's default of 12 hours.
        ProviderPreset::CodeArtifact { duration, .. } => duration
            .filter(|d| !d.is_zero())
            .unwrap_or(Duration::from_secs(12 * 60 * MINUTE)),
        // An access token lives 1 hour, but gcloud prints its cached token,
        // which may be older: count on half of it.
        ProviderPreset::Gcloud => Duration::from_secs(30 * MINUTE),
        // Entra ID tokens live 60-90 minutes; `az` hands out cached ones.
        ProviderPreset::Azure => Duration::from_secs(30 * MINUTE),
        // `gh auth token` prints the stored OAuth token, which does not
        // expire on its own: read it again now and then.
        ProviderPreset::Gh => Duration::from_secs(8 * 60 * MINUTE),
    }
}

/// A preset's output as its tool prints it.
pub(crate) fn parse_preset(
    preset: &ProviderPreset,
    text: &str,
    now: SystemTime,
) -> Result<Fetched, &'static str> {
    let default = now + default_lifetime(preset);
    match preset {
        ProviderPreset::CodeArtifact { .. } => {
            let json = json_object(text)?;
            let token = token_field(&json, "authorizationToken")
                .ok_or("JSON without `authorizationToken`")?;
            // `expiration`: ISO 8601 with an offset (CLI v2, and v1 with
            // `cli_timestamp_format = iso8601`), or seconds since the epoch
            // (v1's default).
            let expires = match json.get("expiration") {
                Some(Value::String(at)) => crate::time::parse_with_offset(at),
                Some(Value::Number(secs)) => secs.as_f64().and_then(epoch),
                _ => None,
            };
            Ok(Fetched {
                token,
                expires: Some(expires.unwrap_or(default)),
            })
        }
        ProviderPreset::Azure => {
            let json = json_object(text)?;
            let token = token_field(&json, "accessToken").ok_or("JSON without `accessToken`")?;
            // `expires_on` (POSIX seconds, az 2.54 and later); `expiresOn`
            // is local time without a zone, so not used.
            let expires = match json.get("expires_on") {
                Some(Value::Number(secs)) => secs.as_f64().and_then(epoch),
                Some(Value::String(secs)) => secs.trim().parse::<f64>().ok().and_then(epoch),
                _ => None,
            };
            Ok(Fetched {
                token,
                expires: Some(expires.unwrap_or(default)),
            })
        }
        ProviderPreset::Gcloud | ProviderPreset::Gh => {
            if text.trim_start().starts_with('{') {
                return Err("JSON where a bare token was expected");
            }
            Ok(Fetched {
                token: credential_command::bare_token(text)?,
                expires: Some(default),
            })
        }
    }
}

/// A `credential-command`'s output: a bare token (expiry unknown), or JSON
/// `{"token": ..., "expires": ISO 8601}` / `{"token": ..., "expires_in": N}`.
pub(crate) fn parse_command(text: &str, now: SystemTime) -> Result<Fetched, &'static str> {
    if !text.trim_start().starts_with('{') {
        return Ok(Fetched {
            token: credential_command::bare_token(text)?,
            expires: None,
        });
    }
    let json = json_object(text)?;
    let token = token_field(&json, "token").ok_or("JSON without `token`")?;
    let expires = match (json.get("expires"), json.get("expires_in")) {
        (Some(Value::String(at)), _) => {
            Some(crate::time::parse_with_offset(at).ok_or("`expires` is not an ISO 8601 time")?)
        }
        (Some(Value::Null) | None, Some(Value::Number(secs))) => {
            let secs = secs.as_f64().filter(|s| *s >= 0.0 && s.is_finite());
            Some(now + Duration::from_secs_f64(secs.ok_or("`expires_in` is not seconds")?))
        }
        (Some(Value::Null) | None, None | Some(Value::Null)) => None,
        (Some(_), _) => return Err("`expires` is not an ISO 8601 time"),
        (_, Some(_)) => return Err("`expires_in` is not seconds"),
    };
    Ok(Fetched { token, expires })
}

fn json_object(text: &str) -> Result<serde_json::Map<String, Value>, &'static str> {
    match serde_json::from_str::<Value>(text.trim()) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err("JSON, but not an object"),
        Err(_) if text.trim_start().starts_with('<') => Err("it looks like HTML"),
        Err(_) => Err("not the JSON the tool prints"),
    }
}

/// A string field that holds one word: the token.
fn token_field(json: &serde_json::Map<String, Value>, field: &str) -> Option<Secret> {
    let text = json.get(field)?.as_str()?;
    credential_command::bare_token(text)
        .ok()
        .filter(|t| !t.expose().is_empty())
}

fn epoch(secs: f64) -> Option<SystemTime> {
    (secs.is_finite() && secs > 0.0).then(|| SystemTime::UNIX_EPOCH + Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
    }

    fn codeartifact(duration: Option<u64>, owner: Option<&str>) -> ProviderPreset {
        ProviderPreset::CodeArtifact {
            domain: "acme".into(),
            domain_owner: owner.map(str::to_string),
            region: Some("us-east-1".into()),
            duration: duration.map(Duration::from_secs),
        }
    }

    #[test]
    fn each_preset_has_its_tools_command_line() {
        assert_eq!(
            preset_argv(&codeartifact(Some(7200), Some("123456789012"))).join(" "),
            "aws codeartifact get-authorization-token --domain acme --domain-owner 123456789012 --region us-east-1 --duration-seconds 7200 --output json"
        );
        assert_eq!(
            preset_argv(&codeartifact(None, None)).join(" "),
            "aws codeartifact get-authorization-token --domain acme --region us-east-1 --output json"
        );
        assert_eq!(
            preset_argv(&ProviderPreset::Gcloud).join(" "),
            "gcloud auth print-access-token"
        );
        assert_eq!(
            preset_argv(&ProviderPreset::Azure).join(" "),
            "az account get-access-token --resource 499b84ac-1321-427f-aa17-267ca6975798 --output json"
        );
        assert_eq!(preset_argv(&ProviderPreset::Gh).join(" "), "gh auth token");
    }

    #[test]
    fn codeartifact_reads_token_and_expiration() {
        let preset = codeartifact(None, None);
        let out = r#"{
    "authorizationToken": "eyJ2ZXIiOjEsImlzdSI6MTcw.secret",
    "expiration": "2027-01-15T10:00:00-08:00"
}"#;
        let fetched = parse_preset(&preset, out, now()).expect("parse");
        assert_eq!(fetched.token.expose(), "eyJ2ZXIiOjEsImlzdSI6MTcw.secret");
        assert_eq!(fetched.expires, crate::time::parse("2027-01-15T18:00:00Z"));
        // AWS CLI v1 prints seconds since the epoch.
        let out = r#"{"authorizationToken": "tok", "expiration": 1800003600.0}"#;
        let fetched = parse_preset(&preset, out, now()).expect("parse");
        assert_eq!(fetched.expires, Some(now() + Duration::from_secs(3600)));
        // No expiration: the requested duration, else 12 hours.
        let out = r#"{"authorizationToken": "tok"}"#;
        let fetched = parse_preset(&codeartifact(Some(900), None), out, now()).expect("parse");
        assert_eq!(fetched.expires, Some(now() + Duration::from_secs(900)));
        let fetched = parse_preset(&preset, out, now()).expect("parse");
        assert_eq!(fetched.expires, Some(now() + Duration::from_secs(43_200)));
    }

    #[test]
    fn output_without_a_token_is_refused() {
        let preset = codeartifact(None, None);
        for (out, why) in [
            ("<html><body>Sign in</body></html>", "it looks like HTML"),
            (
                r#"{"expiration": "2027-01-15T10:00:00Z"}"#,
                "JSON without `authorizationToken`",
            ),
            (
                r#"{"authorizationToken": ""}"#,
                "JSON without `authorizationToken`",
            ),
            (
                r#"{"authorizationToken": "two words"}"#,
                "JSON without `authorizationToken`",
            ),
            (r#"["tok"]"#, "JSON, but not an object"),
            ("tok", "not the JSON the tool prints"),
        ] {
            assert_eq!(parse_preset(&preset, out, now()).unwrap_err(), why, "{out}");
        }
        assert_eq!(
            parse_preset(&ProviderPreset::Azure, r#"{"tokenType": "Bearer"}"#, now()).unwrap_err(),
            "JSON without `accessToken`"
        );
        for preset in [ProviderPreset::Gcloud, ProviderPreset::Gh] {
            assert_eq!(
                parse_preset(&preset, "<!DOCTYPE html>", now()).unwrap_err(),
                "it looks like HTML"
            );
            assert_eq!(
                parse_preset(&preset, r#"{"token": "x"}"#, now()).unwrap_err(),
                "JSON where a bare token was expected"
            );
            assert_eq!(
                parse_preset(&preset, "ERROR: (gcloud) no account", now()).unwrap_err(),
                "it holds whitespace"
            );
        }
    }

    #[test]
    fn azure_reads_expires_on() {
        let out = r#"{"accessToken": "eyJ0eXAi.az", "expiresOn": "2027-01-15 10:00:00.000000", "expires_on": 1800001800, "subscription": "s", "tenant": "t", "tokenType": "Bearer"}"#;
        let fetched = parse_preset(&ProviderPreset::Azure, out, now()).expect("parse");
        assert_eq!(fetched.token.expose(), "eyJ0eXAi.az");
        assert_eq!(fetched.expires, Some(now() + Duration::from_secs(1800)));
        // Older az: only the zone-less local `expiresOn`: the default.
        let out = r#"{"accessToken": "eyJ0eXAi.az", "expiresOn": "2027-01-15 10:00:00.000000"}"#;
        let fetched = parse_preset(&ProviderPreset::Azure, out, now()).expect("parse");
        assert_eq!(fetched.expires, Some(now() + Duration::from_secs(1800)));
    }

    #[test]
    fn bare_tools_get_their_default_lifetime() {
        let fetched = parse_preset(&ProviderPreset::Gcloud, "ya29.a0AfB_token\n", now()).unwrap();
        assert_eq!(fetched.token.expose(), "ya29.a0AfB_token");
        assert_eq!(fetched.expires, Some(now() + Duration::from_secs(1800)));
        let fetched = parse_preset(&ProviderPreset::Gh, "gho_abc123\n", now()).unwrap();
        assert_eq!(fetched.expires, Some(now() + Duration::from_secs(8 * 3600)));
    }

    #[test]
    fn credential_commands_may_print_json_with_an_expiry() {
        let bare = parse_command("npm_abc\n", now()).expect("bare");
        assert_eq!(bare.token.expose(), "npm_abc");
        assert_eq!(bare.expires, None);
        let at = parse_command(
            r#"{"token": "t1", "expires": "2027-01-15T10:00:00Z"}"#,
            now(),
        )
        .expect("expires");
        assert_eq!(at.expires, crate::time::parse("2027-01-15T10:00:00Z"));
        let within = parse_command(r#"{"token": "t2", "expires_in": 600}"#, now()).expect("in");
        assert_eq!(within.expires, Some(now() + Duration::from_secs(600)));
        assert_eq!(
            parse_command(r#"{"token": "t3"}"#, now())
                .expect("none")
                .expires,
            None
        );
        for (out, why) in [
            (r#"{"access_token": "x"}"#, "JSON without `token`"),
            (
                r#"{"token": "x", "expires": "soon"}"#,
                "`expires` is not an ISO 8601 time",
            ),
            (
                r#"{"token": "x", "expires_in": "10"}"#,
                "`expires_in` is not seconds",
            ),
            (
                r#"{"token": "x", "expires_in": -5}"#,
                "`expires_in` is not seconds",
            ),
            ("{not json", "not the JSON the tool prints"),
            ("<html>", "it looks like HTML"),
        ] {
            assert_eq!(parse_command(out, now()).unwrap_err(), why, "{out}");
        }
    }
}
