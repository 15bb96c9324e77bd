//! Trusted publishing for the tests, on the in-process `MockRegistry`:
//! identity tokens (unsigned JWTs holding the claims a CI puts in them), a
//! GitHub-style identity endpoint, a registry that exchanges them for
//! package tokens, and a fake `buildkite-agent`.

use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::env::RtokCmd;
use super::mock::{MockRegistry, Reply, Request};

/// The CI variables a developer's shell or a CI runner may have; every OIDC
/// test starts without them, so only what the test sets is seen.
pub const CI_VARS: &[&str] = &[
    "GITHUB_ACTIONS",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "GITHUB_ENV",
    "BUILDKITE",
    "GITLAB_CI",
    "CIRCLECI",
];

/// `RtokCmd::without_ci`.
pub trait WithoutCi {
    /// Removes every variable of `CI_VARS` (and `NPM_ID_TOKEN`, already
    /// scrubbed as an `NPM_` name) from the child's environment.
    fn without_ci(self) -> Self;
}

impl WithoutCi for RtokCmd {
    fn without_ci(self) -> Self {
        CI_VARS.iter().fold(self, |cmd, name| cmd.env_remove(name))
    }
}

/// A compact JWT with these claims (`header.payload.signature`, the
/// signature a placeholder: rtok never checks it, the registry would).
pub fn jwt(claims: &Value) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT","kid":"test"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(format!("signature-{}", stable_hash(&claims.to_string())))
    )
}

/// The payload of a JWT, or `None` when it is not one.
pub fn jwt_claims(token: &str) -> Option<Value> {
    let mut parts = token.split('.');
    let (_, payload, _, None) = (parts.next()?, parts.next()?, parts.next()?, parts.next()) else {
        return None;
    };
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    serde_json::from_slice::<Value>(&bytes)
        .ok()
        .filter(Value::is_object)
}

/// GitHub Actions' claims for a release workflow of `repository` on `main`.
pub fn github_claims(repository: &str, audience: &str) -> Value {
    json!({
        "iss": "https://token.actions.githubusercontent.com",
        "sub": format!("repo:{repository}:ref:refs/heads/main"),
        "aud": audience,
        "repository": repository,
        "repository_owner": repository.split('/').next().unwrap_or(repository),
        "workflow_ref": format!("{repository}/.github/workflows/release.yml@refs/heads/main"),
        "ref": "refs/heads/main",
        "exp": 4_102_444_800u64,
    })
}

/// A GitHub-style identity token service: `GET /_apis/idtoken?...&audience=A`
/// with the job's request token as bearer answers `{"value": <JWT>}` whose
/// `aud` is A; a wrong bearer is 401, no `audience` is 400.
pub struct GitHubIdentity {
    pub mock: MockRegistry,
    /// `ACTIONS_ID_TOKEN_REQUEST_TOKEN`.
    pub request_token: String,
    claims: Value,
}

impl GitHubIdentity {
    /// Issues tokens with `claims` (their `aud` replaced by the asked audience).
    pub fn start(claims: Value) -> GitHubIdentity {
        let request_token = format!("ghs_request{}", stable_hash(&claims.to_string()));
        let (expected, issued) = (request_token.clone(), claims.clone());
        let mock = MockRegistry::start(move |req: &Request| {
            if req.method != "GET" || req.path_only() != "/_apis/idtoken" {
                return Reply::json(404, json!({"message": "Not Found"}));
            }
            if req.bearer() != Some(expected.as_str()) {
                return Reply::json(401, json!({"message": "Bad credentials"}));
            }
            match req.query_param("audience").map(percent_decode) {
                Some(audience) if !audience.is_empty() => {
                    Reply::json(200, json!({"count": 1, "value": issue(&issued, &audience)}))
                }
                _ => Reply::json(400, json!({"message": "audience is required"})),
            }
        });
        GitHubIdentity {
            mock,
            request_token,
            claims,
        }
    }

    /// `ACTIONS_ID_TOKEN_REQUEST_URL` (with a query of its own, as GitHub's has).
    pub fn request_url(&self) -> String {
        format!("{}_apis/idtoken?api-version=2.0", self.mock.url())
    }

    /// The identity token this service hands out for `audience`.
    pub fn token_for(&self, audience: &str) -> String {
        issue(&self.claims, audience)
    }

    /// The variables GitHub Actions sets for a job with `id-token: write`.
    pub fn job_env(&self, cmd: RtokCmd) -> RtokCmd {
        cmd.env("GITHUB_ACTIONS", "true")
            .env("ACTIONS_ID_TOKEN_REQUEST_URL", self.request_url())
            .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", &self.request_token)
    }
}

fn issue(claims: &Value, audience: &str) -> String {
    let mut claims = claims.clone();
    claims["aud"] = json!(audience);
    jwt(&claims)
}

/// A registry with trusted publishers: `POST
/// /-/npm/v1/oidc/token/exchange/package/<name>` answers 201 `{"token",
/// "expires"}` when the bearer is a JWT for `npm:127.0.0.1` whose claims
/// hold every value the package's trusted publisher names; a bad or missing
/// JWT or audience is 401, a publisher that does not match 403, an unknown
/// package 404 (the messages are npmjs's style). It also takes a publish
/// (`PUT /<name>`, as npm and pnpm send it) authenticated by that package's
/// exchanged token, and refuses any other bearer with 401.
pub struct OidcRegistry {
    pub mock: MockRegistry,
}

impl OidcRegistry {
    /// `publishers`: each package and the claims (name → value) its trusted
    /// publisher requires.
    pub fn start(publishers: &[(&str, Value)]) -> OidcRegistry {
        let publishers: Arc<BTreeMap<String, Value>> = Arc::new(
            publishers
                .iter()
                .map(|(name, claims)| (name.to_string(), claims.clone()))
                .collect(),
        );
        let mock = MockRegistry::start(move |req: &Request| exchange(req, &publishers));
        OidcRegistry { mock }
    }

    pub fn url(&self) -> String {
        self.mock.url()
    }

    /// The audience this registry accepts: `npm:127.0.0.1`.
    pub fn audience(&self) -> String {
        "npm:127.0.0.1".to_string()
    }

    /// The token an exchange for `package` gives (the same every time).
    pub fn token_for(package: &str) -> String {
        token_for(package)
    }

    /// The publish requests received (`PUT /<name>`), in order.
    pub fn publishes(&self) -> Vec<Request> {
        self.mock
            .requests()
            .into_iter()
            .filter(|r| r.method == "PUT")
            .collect()
    }

    /// The exchange requests received, in order.
    pub fn exchanges(&self) -> Vec<Request> {
        self.mock
            .requests()
            .into_iter()
            .filter(|r| r.path.starts_with(EXCHANGE))
            .collect()
    }
}

const EXCHANGE: &str = "/-/npm/v1/oidc/token/exchange/package/";

fn exchange(req: &Request, publishers: &BTreeMap<String, Value>) -> Reply {
    let refuse = |status: u16, why: &str| {
        Reply::json(
            status,
            json!({"message": format!("OIDC token exchange error - {why}")}),
        )
    };
    if req.method == "PUT" && !req.path.starts_with("/-/") {
        return publish(req);
    }
    let Some(escaped) = req.path.strip_prefix(EXCHANGE) else {
        return Reply::json(404, json!({"error": "Not found"}));
    };
    if req.method != "POST" {
        return Reply::json(405, json!({"error": "method not allowed"}));
    }
    let Some(claims) = req.bearer().and_then(jwt_claims) else {
        return refuse(401, "invalid or missing identity token");
    };
    if claims["aud"] != json!("npm:127.0.0.1") {
        return refuse(401, "audience mismatch");
    }
    // npm escapes the scope's `/` as `%2f`, and nothing else.
    let package = escaped.replacen("%2f", "/", 1);
    let Some(required) = publishers.get(&package) else {
        return refuse(404, "package not found");
    };
    let matches = required
        .as_object()
        .is_some_and(|required| required.iter().all(|(name, value)| &claims[name] == value));
    if !matches {
        return refuse(403, "no trusted publisher matches the identity token");
    }
    Reply::json(
        201,
        json!({"token": token_for(&package), "expires": "2030-01-01T01:00:00.000Z"}),
    )
}

/// `PUT /<name>` (a scoped name's `/` as `%2f`): accepted with that
/// package's exchanged token only, as a trusted-publishing registry does.
fn publish(req: &Request) -> Reply {
    let package = req
        .path_only()
        .trim_start_matches('/')
        .replacen("%2f", "/", 1);
    let package = package.replacen("%2F", "/", 1);
    if req.bearer() == Some(token_for(&package).as_str()) {
        Reply::json(200, json!({"ok": "package published"}))
    } else {
        Reply::json(
            401,
            json!({"error": "this token cannot publish that package"}),
        )
        .header("www-authenticate", "Bearer")
    }
}

/// `npm_` + 36 letters and digits, one per package.
fn token_for(package: &str) -> String {
    let digits = format!(
        "{:016x}{:016x}",
        stable_hash(package),
        stable_hash(&format!("{package}!"))
    );
    format!("npm_oidc{digits}")
}

fn stable_hash(text: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    text.hash(&mut hasher);
    hasher.finish()
}

/// `%3A` → `:` and so on (query values as sent).
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Writes an executable `buildkite-agent` into `dir/bin` that records its
/// arguments in `dir/agent-args` and runs `body` (sh); returns the `bin`
/// folder, for the front of `PATH`.
pub fn fake_buildkite_agent(dir: &Path, body: &str) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("create bin/");
    let agent = bin.join("buildkite-agent");
    let args_file = dir.join("agent-args");
    std::fs::write(
        &agent,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{}'\n{body}\n",
            args_file.display()
        ),
    )
    .expect("write buildkite-agent");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&agent, std::fs::Permissions::from_mode(0o755))
            .expect("chmod buildkite-agent");
    }
    bin
}

/// `bin` in front of this process's `PATH`.
pub fn path_with(bin: &Path) -> String {
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}
