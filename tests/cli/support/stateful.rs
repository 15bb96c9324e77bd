//! A mock registry that keeps state: tokens can be listed, created and
//! revoked, and a revoked token stops working. For what Verdaccio cannot
//! show (npmjs's granular fields, the token in use being listed) and for
//! faults in the middle of a multi-step command. Also a forwarding proxy
//! that puts faults in front of the real Verdaccio.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::mock::{MockRegistry, Reply, Request};
use super::verdaccio::http_agent;

/// The account password the stateful registry accepts for `token create`.
pub const PASSWORD: &str = "pw";

#[derive(Default)]
struct State {
    /// Listed objects (masked), each with its full secret alongside.
    tokens: Vec<(Value, String)>,
    failing_deletes: HashSet<String>,
    /// `GET /-/whoami` refuses tokens made by `POST` (a broken new token).
    refuse_new_tokens: bool,
    created: usize,
    creates: Vec<Value>,
}

/// A registry that behaves like npmjs's token API.
pub struct TokenRegistry {
    pub mock: MockRegistry,
    state: Arc<Mutex<State>>,
}

/// `npm_aBcD...7890`: npmjs's mask of a token.
pub fn npmjs_mask(token: &str) -> String {
    format!("{}...{}", &token[..8], &token[token.len() - 4..])
}

impl TokenRegistry {
    /// Starts with `session` as a listed, working token (key
    /// `session-key-0001`) and the given extra `(object, secret)` tokens.
    pub fn start(session: &str, extra: Vec<(Value, String)>) -> TokenRegistry {
        let mut state = State::default();
        let mut session_object = super::mock::npm_token("session-key-0001", &npmjs_mask(session));
        session_object["name"] = json!("laptop session");
        state.tokens.push((session_object, session.to_string()));
        state.tokens.extend(extra);
        let state = Arc::new(Mutex::new(state));
        let handler_state = Arc::clone(&state);
        let mock = MockRegistry::start(move |req| handle(&handler_state, req));
        TokenRegistry { mock, state }
    }

    pub fn url(&self) -> String {
        self.mock.url()
    }

    pub fn nerf_dart(&self) -> String {
        self.mock.nerf_dart()
    }

    /// The keys currently listed.
    pub fn keys(&self) -> Vec<String> {
        let state = self.state.lock().expect("state lock");
        state
            .tokens
            .iter()
            .map(|(o, _)| o["key"].as_str().unwrap_or("").to_string())
            .collect()
    }

    /// The listed object with this key.
    pub fn object(&self, key: &str) -> Option<Value> {
        let state = self.state.lock().expect("state lock");
        state
            .tokens
            .iter()
            .find(|(o, _)| o["key"] == key)
            .map(|(o, _)| o.clone())
    }

    /// Bodies of every `POST /-/npm/v1/tokens` so far.
    pub fn creates(&self) -> Vec<Value> {
        self.state.lock().expect("state lock").creates.clone()
    }

    /// From now on, whoami refuses every token created here.
    pub fn refuse_new_tokens(&self) {
        self.state.lock().expect("state lock").refuse_new_tokens = true;
    }

    /// From now on, revoking `key` answers 500.
    pub fn fail_deletes_of(&self, key: &str) {
        self.state
            .lock()
            .expect("state lock")
            .failing_deletes
            .insert(key.to_string());
    }
}

fn handle(state: &Mutex<State>, req: &Request) -> Reply {
    let mut state = state.lock().expect("state lock");
    let authorized = req
        .bearer()
        .is_some_and(|token| state.tokens.iter().any(|(_, secret)| secret == token));
    if !authorized {
        return Reply::json(401, json!({"error": "invalid token"}))
            .header("www-authenticate", "Bearer");
    }
    match (req.method.as_str(), req.path_only()) {
        ("GET", "/-/whoami")
            if state.refuse_new_tokens
                && req.bearer().is_some_and(|t| t.starts_with("npm_Created")) =>
        {
            Reply::json(401, json!({"error": "token not active yet"}))
                .header("www-authenticate", "Bearer")
        }
        ("GET", "/-/whoami") => Reply::json(200, json!({"username": "mockuser"})),
        ("GET", "/-/npm/v1/tokens") => {
            let objects: Vec<Value> = state.tokens.iter().map(|(o, _)| o.clone()).collect();
            Reply::json(
                200,
                json!({"objects": objects, "total": objects.len(), "urls": {}}),
            )
        }
        ("POST", "/-/npm/v1/tokens") => {
            let body = req.json();
            state.creates.push(body.clone());
            if body["password"] != PASSWORD {
                return Reply::json(401, json!({"error": "wrong password"}))
                    .header("www-authenticate", "Basic");
            }
            state.created += 1;
            let n = state.created;
            let secret = format!("npm_Created{n:04}TokenValueAbCdEfGhIjKlMnOpQr{n:04}");
            let key = format!("created-key-{n:04}");
            let mut object = json!({
                "key": key,
                "token": npmjs_mask(&secret),
                "name": body["name"],
                "description": body.get("description").cloned().unwrap_or(Value::Null),
                "readonly": body.get("readonly").cloned().unwrap_or(json!(false)),
                "cidr": body.get("cidr_whitelist").cloned().unwrap_or(Value::Null),
                "created": "2026-01-01T00:00:00.000Z",
                "updated": "2026-01-01T00:00:00.000Z",
                "accessed": null,
            });
            state.tokens.push((object.clone(), secret.clone()));
            object["token"] = json!(secret);
            Reply::json(201, object)
        }
        // Logout: the session token revokes itself.
        ("DELETE", path) if path.starts_with("/-/user/token/") => {
            let token = req.bearer().unwrap_or_default().to_string();
            state.tokens.retain(|(_, secret)| *secret != token);
            Reply::json(200, json!({"ok": "logged out"}))
        }
        ("DELETE", path) if path.starts_with("/-/npm/v1/tokens/token/") => {
            let key = &path["/-/npm/v1/tokens/token/".len()..];
            if state.failing_deletes.contains(key) {
                return Reply::json(500, json!({"error": "revocation is broken today"}));
            }
            let before = state.tokens.len();
            state.tokens.retain(|(o, _)| o["key"] != key);
            if state.tokens.len() == before {
                Reply::json(404, json!({"error": "no such token"}))
            } else {
                Reply::empty(204)
            }
        }
        _ => Reply::json(404, json!({"error": "not found"})),
    }
}

/// A proxy in front of a real registry: every request is forwarded to
/// `upstream` unless `fault` answers it first.
pub fn forwarding_proxy(
    upstream: &str,
    fault: impl Fn(&Request) -> Option<Reply> + Send + Sync + 'static,
) -> MockRegistry {
    let upstream = upstream.trim_end_matches('/').to_string();
    MockRegistry::start(move |req| {
        if let Some(reply) = fault(req) {
            return reply;
        }
        let agent = http_agent();
        let url = format!("{upstream}{}", req.path);
        let authorization = req.header("authorization").unwrap_or_default().to_string();
        let result = match req.method.as_str() {
            "GET" => agent
                .get(&url)
                .header("authorization", &authorization)
                .call(),
            "DELETE" => agent
                .delete(&url)
                .header("authorization", &authorization)
                .call(),
            "POST" => agent
                .post(&url)
                .header("authorization", &authorization)
                .header("content-type", "application/json")
                .send(&req.body[..]),
            "PUT" => agent
                .put(&url)
                .header("authorization", &authorization)
                .header("content-type", "application/json")
                .send(&req.body[..]),
            other => return Reply::text(405, &format!("the test proxy does not forward {other}")),
        };
        match result {
            Ok(mut response) => {
                let status = response.status().as_u16();
                let body = response.body_mut().read_to_vec().unwrap_or_default();
                Reply::bytes(status, "application/json", body)
            }
            Err(err) => Reply::text(502, &format!("test proxy: {err}")),
        }
    })
}
