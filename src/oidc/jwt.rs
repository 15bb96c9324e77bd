//! The claims inside an OIDC identity token (a JWT), decoded without checking
//! the signature: the registry checks that; rtok only shows what the token
//! says, so that a refused exchange names the value that did not match.

use base64::Engine;
use base64::alphabet::URL_SAFE;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde_json::{Map, Value};

use crate::secret::Secret;

/// The claims trusted publishing matches on, in the order they are shown:
/// GitHub's (`repository`, `workflow_ref`), GitLab's equivalents
/// (`project_path`, `ci_config_ref_uri`), then those every issuer has.
const SHOWN: &[&str] = &[
    "repository",
    "project_path",
    "workflow_ref",
    "ci_config_ref_uri",
    "ref",
    "environment",
    "sub",
    "aud",
];

/// base64url with or without `=` padding (RFC 7515 says without; some
/// issuers pad).
const BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A JWT's payload. Not a secret: it is the token's signature, which this
/// type never keeps, that makes the token usable.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Claims(Map<String, Value>);

/// Why a token is not a JWT; the text never holds any part of the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub(crate) struct NotAJwt(&'static str);

impl Claims {
    /// Decodes the payload of a compact JWT (`header.payload.signature`).
    pub(crate) fn decode(token: &Secret) -> Result<Claims, NotAJwt> {
        let parts: Vec<&str> = token.expose().trim().split('.').collect();
        let [header, payload, _signature] = parts.as_slice() else {
            return Err(NotAJwt(
                "it does not have the three `.`-separated parts of a JWT",
            ));
        };
        let object = |part: &str, which: &'static str| -> Result<Map<String, Value>, NotAJwt> {
            let bytes = BASE64URL.decode(part).map_err(|_| NotAJwt(which))?;
            match serde_json::from_slice(&bytes) {
                Ok(Value::Object(map)) => Ok(map),
                _ => Err(NotAJwt(which)),
            }
        };
        object(header, "its header is not base64url-encoded JSON")?;
        object(payload, "its payload is not base64url-encoded JSON").map(Claims)
    }

    /// A claim as text: a string as it is, a list of strings joined with
    /// `,` (a JWT's `aud` may be either).
    pub(crate) fn text(&self, name: &str) -> Option<String> {
        match self.0.get(name)? {
            Value::String(text) => Some(text.clone()),
            Value::Array(items) => Some(
                items
                    .iter()
                    .map(|item| {
                        item.as_str()
                            .map_or_else(|| item.to_string(), str::to_string)
                    })
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }

    /// A claim as a message may show it: [`Claims::text`] on one line, with
    /// control characters made spaces and a long value cut.
    pub(crate) fn shown(&self, name: &str) -> Option<String> {
        self.text(name).map(|value| one_line(&value))
    }

    /// Whether `aud` is, or contains, `audience`.
    pub(crate) fn has_audience(&self, audience: &str) -> bool {
        match self.0.get("aud") {
            Some(Value::String(aud)) => aud == audience,
            Some(Value::Array(items)) => items.iter().any(|item| item.as_str() == Some(audience)),
            _ => false,
        }
    }

    /// Seconds since the epoch at which the token stops being valid (`exp`).
    pub(crate) fn expires_at(&self) -> Option<u64> {
        self.0.get("exp")?.as_u64()
    }

    /// `repository=acme/tool, workflow_ref=..., environment=(none), ...`:
    /// the claims trusted publishing matches on that the token holds, on one
    /// line. `environment` is always named, since its absence is a common
    /// reason for a refusal.
    pub(crate) fn summary(&self) -> String {
        let mut shown = Vec::new();
        for name in SHOWN {
            match self.shown(name) {
                Some(value) => shown.push(format!("{name}={value}")),
                None if *name == "environment" => shown.push("environment=(none)".to_string()),
                None => {}
            }
        }
        shown.join(", ")
    }
}

/// Control characters (a newline could forge an output line) become spaces;
/// very long values are cut.
fn one_line(text: &str) -> String {
    const LIMIT: usize = 200;
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if clean.chars().count() > LIMIT {
        format!("{}...", clean.chars().take(LIMIT).collect::<String>())
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn jwt(payload: &Value) -> Secret {
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        Secret::new(format!(
            "{}.{}.{}",
            engine.encode(br#"{"alg":"RS256","typ":"JWT"}"#),
            engine.encode(payload.to_string()),
            engine.encode(b"signature")
        ))
    }

    #[test]
    fn the_claims_trusted_publishing_matches_on_are_shown() {
        let claims = Claims::decode(&jwt(&json!({
            "sub": "repo:acme/tool:ref:refs/heads/main",
            "aud": "npm:registry.npmjs.org",
            "repository": "acme/tool",
            "workflow_ref": "acme/tool/.github/workflows/release.yml@refs/heads/main",
            "ref": "refs/heads/main",
            "exp": 1_900_000_000u64,
            "repository_owner": "acme",
        })))
        .expect("decode");
        assert_eq!(
            claims.summary(),
            "repository=acme/tool, workflow_ref=acme/tool/.github/workflows/release.yml@refs/heads/main, ref=refs/heads/main, environment=(none), sub=repo:acme/tool:ref:refs/heads/main, aud=npm:registry.npmjs.org"
        );
        assert!(claims.has_audience("npm:registry.npmjs.org"));
        assert!(!claims.has_audience("npm:127.0.0.1"));
        assert_eq!(claims.expires_at(), Some(1_900_000_000));
    }

    #[test]
    fn an_audience_list_and_gitlab_claims() {
        let claims = Claims::decode(&jwt(&json!({
            "aud": ["npm:registry.npmjs.org", "other"],
            "project_path": "group/tool",
            "ci_config_ref_uri": "gitlab.com/group/tool//.gitlab-ci.yml@refs/heads/main",
            "environment": "release\nforged",
        })))
        .expect("decode");
        assert!(claims.has_audience("npm:registry.npmjs.org"));
        assert_eq!(
            claims.summary(),
            "project_path=group/tool, ci_config_ref_uri=gitlab.com/group/tool//.gitlab-ci.yml@refs/heads/main, environment=release forged, aud=npm:registry.npmjs.org,other"
        );
    }

    #[test]
    fn padded_base64url_is_accepted() {
        let engine = base64::engine::general_purpose::URL_SAFE;
        let token = Secret::new(format!(
            "{}.{}.sig",
            engine.encode(br#"{"alg":"none"}"#),
            engine.encode(br#"{"sub":"x"}"#)
        ));
        assert_eq!(
            Claims::decode(&token).expect("decode").text("sub"),
            Some("x".into())
        );
    }

    #[test]
    fn what_is_not_a_jwt_is_refused() {
        for token in [
            "npm_abcdefghijklmnopqrstuvwxyz0123456789",
            "a.b",
            "a.b.c.d",
            "!!!.e30.sig",
            "e30.bm90IGpzb24.sig",
            "e30.WzFd.sig",
            "",
        ] {
            let err = Claims::decode(&Secret::new(token)).expect_err(token);
            assert!(!err.to_string().contains(token) || token.is_empty());
        }
    }
}
