//! A registry with npmjs's stage queue (`/-/stage`) and trusted-publishing
//! configurations (`/-/package/<name>/trust`), as npm 11.19.1 uses them
//! (shapes in ../shared/docs/clients-2026.md §2), keeping state: approving
//! publishes, a package holds one configuration, revoking removes it. Its
//! two-factor step is classic (`www-authenticate: OTP`) or web
//! (`authUrl`/`doneUrl`), with a code accepted for a window (npm trust's
//! "skip 2FA for 5 minutes") or once per call; it can answer 429s.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::mock::{MockRegistry, Reply, Request};

/// The bearer token the registry accepts.
pub const STAGE_TOKEN: &str = "npm_StageMockTokenAbCdEfGhIjKlMnOpQrSt0001";

/// The token `POST /-/npm/v1/tokens` hands out.
pub const STAGE_CREATED_TOKEN: &str = "npm_StageOnlyCreatedTokenAbCdEfGhIjKlMn0001";

/// How the registry wants its one-time password on writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TwoFactor {
    /// No two-factor step.
    Off,
    /// Classic codes: any of `codes`; `once` makes each good for one call
    /// (else a code works for every call: the 5-minute window).
    Classic { codes: Vec<String>, once: bool },
    /// Web: every write without a fresh code gets an `authUrl`/`doneUrl`
    /// challenge; `doneUrl` hands over a code good for one call.
    Web,
}

struct State {
    packages: BTreeSet<String>,
    trust: BTreeMap<String, Vec<Value>>,
    staged: Vec<Value>,
    published: Vec<String>,
    rejected: Vec<String>,
    two_factor: TwoFactor,
    used_codes: BTreeSet<String>,
    web_codes: Vec<String>,
    /// The next this-many trust writes get a 429.
    rate_limited: usize,
    /// Stage ids whose approval fails with a 409.
    failing: BTreeSet<String>,
    next_id: usize,
}

/// The registry and a handle on its state.
pub struct StageRegistry {
    pub mock: MockRegistry,
    state: Arc<Mutex<State>>,
}

/// `0000000n-…` stage ids, readable in tests.
pub fn stage_id(n: usize) -> String {
    format!("{n:08x}-0000-4000-8000-{n:012x}")
}

/// A staged item as npm lists it.
pub fn staged_item(n: usize, package: &str, version: &str) -> Value {
    json!({
        "id": stage_id(n),
        "packageName": package,
        "version": version,
        "tag": "latest",
        "createdAt": "2026-11-16T09:00:00.000Z",
        "actor": "octocat",
        "actorType": "user",
        "shasum": format!("{n:040x}"),
    })
}

impl StageRegistry {
    /// `packages` exist; `staged` are waiting.
    pub fn start(packages: &[&str], staged: Vec<Value>, two_factor: TwoFactor) -> StageRegistry {
        let state = Arc::new(Mutex::new(State {
            packages: packages.iter().map(|p| p.to_string()).collect(),
            trust: BTreeMap::new(),
            staged,
            published: Vec::new(),
            rejected: Vec::new(),
            two_factor,
            used_codes: BTreeSet::new(),
            web_codes: Vec::new(),
            rate_limited: 0,
            failing: BTreeSet::new(),
            next_id: 0,
        }));
        let handler_state = Arc::clone(&state);
        let mock = MockRegistry::start(move |req| handle(&handler_state, req));
        StageRegistry { mock, state }
    }

    pub fn url(&self) -> String {
        self.mock.url()
    }

    /// The `.npmrc` line for the accepted token.
    pub fn npmrc(&self) -> String {
        format!(
            "registry={}\n{}:_authToken={STAGE_TOKEN}\n",
            self.url(),
            self.mock.nerf_dart()
        )
    }

    pub fn published(&self) -> Vec<String> {
        self.state.lock().expect("state").published.clone()
    }

    pub fn rejected(&self) -> Vec<String> {
        self.state.lock().expect("state").rejected.clone()
    }

    pub fn staged_ids(&self) -> Vec<String> {
        let state = self.state.lock().expect("state");
        state
            .staged
            .iter()
            .map(|i| i["id"].as_str().unwrap_or("").to_string())
            .collect()
    }

    /// The configurations of `package` now.
    pub fn trust_of(&self, package: &str) -> Vec<Value> {
        let state = self.state.lock().expect("state");
        state.trust.get(package).cloned().unwrap_or_default()
    }

    /// Gives `package` this configuration (as if made earlier).
    pub fn set_trust(&self, package: &str, mut config: Value) {
        let mut state = self.state.lock().expect("state");
        state.next_id += 1;
        config["id"] = json!(format!("trust-{:04}", state.next_id));
        state.trust.insert(package.to_string(), vec![config]);
    }

    pub fn rate_limit_next(&self, count: usize) {
        self.state.lock().expect("state").rate_limited = count;
    }

    pub fn fail_approval_of(&self, id: &str) {
        self.state
            .lock()
            .expect("state")
            .failing
            .insert(id.to_string());
    }

    /// Requests that change something (not GET), as `METHOD path`.
    pub fn writes(&self) -> Vec<String> {
        self.mock
            .requests()
            .into_iter()
            .filter(|r| r.method != "GET")
            .map(|r| format!("{} {}", r.method, r.path_only()))
            .collect()
    }
}

fn otp_challenge() -> Reply {
    Reply::json(
        401,
        json!({"error": "This operation requires a one-time password."}),
    )
    .header("www-authenticate", "OTP")
}

/// `None` when the write may go ahead; else the challenge to answer with.
fn check_two_factor(state: &mut State, req: &Request) -> Option<Reply> {
    let sent = req.header("npm-otp").map(str::to_string);
    match state.two_factor.clone() {
        TwoFactor::Off => None,
        TwoFactor::Classic { codes, once } => match sent {
            Some(code) if codes.contains(&code) && !(once && state.used_codes.contains(&code)) => {
                state.used_codes.insert(code);
                None
            }
            _ => Some(otp_challenge()),
        },
        TwoFactor::Web => {
            if let Some(code) = sent
                && let Some(at) = state.web_codes.iter().position(|c| *c == code)
            {
                state.web_codes.remove(at);
                return None;
            }
            state.next_id += 1;
            let n = state.next_id;
            let host = req.header("host").unwrap_or_default().to_string();
            Some(
                Reply::json(
                    401,
                    json!({
                        "error": "This operation requires a one-time password.",
                        "authUrl": format!("http://{host}/-/auth/{n}"),
                        "doneUrl": format!("http://{host}/-/done/{n}"),
                    }),
                )
                .header("www-authenticate", "OTP"),
            )
        }
    }
}

fn decode(text: &str) -> String {
    super::oidc::percent_decode(text)
}

fn handle(state: &Mutex<State>, req: &Request) -> Reply {
    let mut state = state.lock().expect("state");
    let path = req.path_only().to_string();
    if let Some(n) = path.strip_prefix("/-/done/") {
        let code = format!("web-{n}");
        state.web_codes.push(code.clone());
        return Reply::json(200, json!({"token": code}));
    }
    if req.bearer() != Some(STAGE_TOKEN) {
        return Reply::json(401, json!({"error": "invalid token"}))
            .header("www-authenticate", "Bearer");
    }
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (req.method.as_str(), segments.as_slice()) {
        ("GET", ["-", "whoami"]) => Reply::json(200, json!({"username": "stager"})),
        // npmjs (npm/cli#9948): `read-write-stage-only` comes back as
        // `publish_policy: stage_only`.
        ("POST", ["-", "npm", "v1", "tokens"]) => {
            let body = req.json();
            let stage_only = body["packages_and_scopes_permission"] == "read-write-stage-only";
            Reply::json(
                201,
                json!({
                    "token": STAGE_CREATED_TOKEN,
                    "key": "5a5a5a5a-0000-4000-8000-000000000001",
                    "name": body["name"],
                    "readonly": false,
                    "expiry": "2027-01-15T00:00:00.000Z",
                    "publish_policy": if stage_only { json!("stage_only") } else { Value::Null },
                }),
            )
        }
        ("GET", ["-", "stage"]) => {
            let page: usize = req
                .query_param("page")
                .and_then(|p| p.parse().ok())
                .unwrap_or(0);
            let per_page: usize = req
                .query_param("perPage")
                .and_then(|p| p.parse().ok())
                .unwrap_or(100)
                .clamp(1, 100);
            let wanted = req.query_param("package").map(decode);
            let items: Vec<Value> = state
                .staged
                .iter()
                .filter(|i| wanted.as_deref().is_none_or(|w| i["packageName"] == w))
                .cloned()
                .collect();
            let total = items.len();
            let page_items: Vec<Value> = items
                .into_iter()
                .skip(page * per_page)
                .take(per_page)
                .collect();
            Reply::json(200, json!({"items": page_items, "total": total}))
        }
        ("GET", ["-", "stage", id]) => match state.staged.iter().find(|i| i["id"] == *id) {
            Some(item) => Reply::json(200, item.clone()),
            None => Reply::json(404, json!({"error": "Staged package not found"})),
        },
        ("GET", ["-", "stage", id, "tarball"]) => {
            if state.staged.iter().any(|i| i["id"] == *id) {
                Reply::bytes(
                    200,
                    "application/octet-stream",
                    format!("tarball of {id}").into_bytes(),
                )
            } else {
                Reply::json(404, json!({"error": "Staged package not found"}))
            }
        }
        ("POST", ["-", "stage", id, "approve"]) => {
            let id = id.to_string();
            if let Some(challenge) = check_two_factor(&mut state, req) {
                return challenge;
            }
            if state.failing.contains(&id) {
                return Reply::json(409, json!({"error": "version 1.0.0 already exists"}));
            }
            let Some(at) = state.staged.iter().position(|i| i["id"] == id.as_str()) else {
                return Reply::json(404, json!({"error": "Staged package not found"}));
            };
            let item = state.staged.remove(at);
            state.published.push(format!(
                "{}@{}",
                item["packageName"].as_str().unwrap_or(""),
                item["version"].as_str().unwrap_or("")
            ));
            Reply::json(200, json!({"ok": true}))
        }
        ("DELETE", ["-", "stage", id]) => {
            let id = id.to_string();
            if let Some(challenge) = check_two_factor(&mut state, req) {
                return challenge;
            }
            let before = state.staged.len();
            state.staged.retain(|i| i["id"] != id.as_str());
            if state.staged.len() == before {
                return Reply::json(404, json!({"error": "Staged package not found"}));
            }
            state.rejected.push(id);
            Reply::empty(204)
        }
        (method, ["-", "package", name, "trust", rest @ ..]) => {
            let package = decode(name);
            if !state.packages.contains(&package) {
                return Reply::json(404, json!({"error": "Not found"}));
            }
            match (method, rest) {
                ("GET", []) => Reply::json(
                    200,
                    json!(state.trust.get(&package).cloned().unwrap_or_default()),
                ),
                ("POST", []) => {
                    if state.rate_limited > 0 {
                        state.rate_limited -= 1;
                        return Reply::json(429, json!({"error": "Too many requests"}))
                            .header("retry-after", "1");
                    }
                    if let Some(challenge) = check_two_factor(&mut state, req) {
                        return challenge;
                    }
                    if state.trust.get(&package).is_some_and(|c| !c.is_empty()) {
                        return Reply::json(
                            409,
                            json!({"error": "A trusted publisher configuration already exists for this package"}),
                        );
                    }
                    let body = req.json();
                    let Some(configs) = body.as_array().filter(|a| a.len() == 1) else {
                        return Reply::json(
                            400,
                            json!({"error": "expected an array of one configuration"}),
                        );
                    };
                    let mut config = configs[0].clone();
                    state.next_id += 1;
                    let id = format!("trust-{:04}", state.next_id);
                    let object = config.as_object_mut().expect("a configuration object");
                    let mut listed = serde_json::Map::new();
                    listed.insert("id".into(), json!(id));
                    for (k, v) in object.iter() {
                        listed.insert(k.clone(), v.clone());
                    }
                    let listed = Value::Object(listed);
                    state.trust.insert(package, vec![listed.clone()]);
                    Reply::json(201, json!([listed]))
                }
                ("DELETE", [id]) => {
                    if let Some(challenge) = check_two_factor(&mut state, req) {
                        return challenge;
                    }
                    let id = decode(id);
                    let configs = state.trust.entry(package).or_default();
                    let before = configs.len();
                    configs.retain(|c| c["id"] != id.as_str());
                    if configs.len() == before {
                        Reply::json(404, json!({"error": "Trust configuration not found"}))
                    } else {
                        Reply::empty(204)
                    }
                }
                _ => Reply::json(405, json!({"error": "method not allowed"})),
            }
        }
        _ => Reply::json(404, json!({"error": "not found"})),
    }
}
