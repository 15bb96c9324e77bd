//! `rtok token list` on Verdaccio and, for what Verdaccio cannot show
//! (pagination, npmjs's granular fields, faults), on the mock.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::support::*;

/// A Verdaccio user with `n` extra tokens made through the API (by the
/// login token, which Verdaccio handles reliably). Returns the user, its
/// env, and the new tokens' full values.
pub fn user_with_tokens(prefix: &str, n: usize) -> (User, TestEnv, Vec<String>) {
    let reg = shared();
    let user = reg.new_user(prefix);
    let env = TestEnv::new();
    env.register_secret(&user.token);
    env.register_secret(&user.password);
    env.write_userconfig(&reg.npmrc_for(&user));
    let mut tokens = Vec::new();
    for _ in 0..n {
        let run = env
            .rtok()
            .args(["token", "create", "--password-stdin", "--json"])
            .stdin(format!("{}\n", user.password))
            .run();
        run.success();
        let token = run.json()["token"].as_str().expect("token").to_string();
        tokens.push(token);
    }
    for token in &tokens {
        env.register_secret(token);
    }
    (user, env, tokens)
}

#[test]
fn lists_tokens_as_a_table_json_and_parseable_lines() {
    let (_user, env, tokens) = user_with_tokens("list", 2);

    let run = env.rtok().args(["token", "list", "--json"]).run();
    run.success();
    let listed = run.json();
    let listed = listed.as_array().expect("an array");
    assert_eq!(listed.len(), 2);
    for object in listed {
        // Every field Verdaccio sent, plus the short id.
        for field in ["user", "token", "key", "cidr", "readonly", "created", "id"] {
            assert!(object.get(field).is_some(), "{field} missing in {object}");
        }
        let key = object["key"].as_str().expect("key");
        let id = object["id"].as_str().expect("id");
        assert!(key.starts_with(id) && id.len() >= 6, "{id} vs {key}");
        let mask = object["token"].as_str().expect("mask");
        assert!(mask.contains("..."), "Verdaccio masks tokens: {mask}");
    }
    for token in &tokens {
        assert!(
            listed.iter().any(|o| rtok::tokens::mask::mask_matches(
                o["token"].as_str().unwrap_or(""),
                token
            )),
            "created token not listed"
        );
    }

    let run = env.rtok().args(["token", "ls"]).run();
    run.success();
    let lines = run.stdout_lines();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("id") && l.contains("CIDR whitelist")),
        "{}",
        run.stdout
    );
    for object in listed {
        let id = object["id"].as_str().expect("id");
        assert!(
            run.stdout.contains(id),
            "{}",
            run.describe(&format!("id {id} in the table"))
        );
    }
    assert!(
        run.stdout
            .contains(&listed[0]["created"].as_str().expect("created")[..10])
    );

    let run = env.rtok().args(["token", "list", "--parseable"]).run();
    run.success();
    let lines = run.stdout_lines();
    assert_eq!(
        lines[0],
        "key\ttoken\tid\tname\tcreated\treadonly\tCIDR whitelist"
    );
    assert_eq!(lines.len(), 3);
    for line in &lines[1..] {
        let columns: Vec<&str> = line.split('\t').collect();
        assert_eq!(columns.len(), 7, "{line}");
        assert!(columns[0].starts_with(columns[2]));
    }

    // `rtok token` alone lists, as `npm token` does.
    let run = env.rtok().args(["token", "--json"]).run();
    run.success();
    assert_eq!(run.json().as_array().map(Vec::len), Some(2));
}

#[test]
fn an_empty_list_says_so_on_stderr() {
    let (_user, env, _) = user_with_tokens("empty", 0);
    let run = env.rtok().args(["token", "list"]).run();
    run.success();
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr.contains("No tokens"),
        "{}",
        run.describe("a note")
    );
    let run = env.rtok().args(["token", "list", "--json"]).run();
    run.success();
    assert_eq!(run.json(), json!([]));
}

#[test]
fn follows_pagination_across_pages() {
    let mock = MockRegistry::start(|req| {
        let host = req.header("host").unwrap_or_default().to_string();
        match req.query_param("page") {
            None => Reply::json(
                200,
                token_page(
                    vec![
                        npm_token("aaaa1111aaaa", "aaaa11"),
                        npm_token("aaaa2222aaaa", "aaaa22"),
                    ],
                    Some(&format!("http://{host}/-/npm/v1/tokens?page=1")),
                ),
            ),
            Some("1") => Reply::json(
                200,
                token_page(
                    vec![npm_token("bbbb1111bbbb", "bbbb11")],
                    // A relative next link works too.
                    Some("/-/npm/v1/tokens?page=2"),
                ),
            ),
            _ => Reply::json(
                200,
                token_page(vec![npm_token("cccc1111cccc", "cccc11")], None),
            ),
        }
    });
    let env = TestEnv::new();
    env.register_secret("s3cret-session");
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "s3cret-session"));
    let run = env.rtok().args(["token", "list", "--json"]).run();
    run.success();
    let keys: Vec<String> = run
        .json()
        .as_array()
        .expect("array")
        .iter()
        .map(|o| o["key"].as_str().expect("key").to_string())
        .collect();
    assert_eq!(
        keys,
        [
            "aaaa1111aaaa",
            "aaaa2222aaaa",
            "bbbb1111bbbb",
            "cccc1111cccc"
        ]
    );
    let requests = mock.requests();
    assert_eq!(requests.len(), 3);
    // The credential goes to every page on the same registry.
    assert!(
        requests
            .iter()
            .all(|r| r.bearer() == Some("s3cret-session"))
    );
    // Short ids are computed across all pages.
    let ids: Vec<String> = run
        .json()
        .as_array()
        .expect("array")
        .iter()
        .map(|o| o["id"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(ids, ["aaaa11", "aaaa22", "bbbb11", "cccc11"]);
}

#[test]
fn a_pagination_loop_is_an_error() {
    let mock = MockRegistry::start(|req| {
        let host = req.header("host").unwrap_or_default().to_string();
        Reply::json(
            200,
            token_page(
                vec![npm_token("k1k1k1k1", "k1")],
                Some(&format!("http://{host}/-/npm/v1/tokens")),
            ),
        )
    });
    let env = TestEnv::new();
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "tok"));
    let run = env.rtok().args(["token", "list"]).run();
    assert_error(&run, 1, "loops");
}

#[test]
fn shows_npmjs_granular_fields() {
    let mut first = granular_token("0b6f6d3e-1111-4c5e-9a51-6c1e0c7e0a01", "ci-publish");
    first["accessed"] = json!("2025-06-01T10:00:00.000Z");
    first["cidr"] = json!(["10.0.0.0/8", "192.168.0.0/16"]);
    let mut second = granular_token("0b6f6d3e-2222-4c5e-9a51-6c1e0c7e0a02", "read-only-mirror");
    second["readonly"] = json!(true);
    second["token"] = json!("npm_XyZw...1234");
    let page = token_page(vec![first, second], None);
    let mock = MockRegistry::start(move |_| Reply::json(200, page.clone()));
    let env = TestEnv::new();
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "tok"));

    let run = env.rtok().args(["token", "list"]).run();
    run.success();
    let out = &run.stdout;
    for expected in [
        "0b6f6d3e-1",
        "0b6f6d3e-2",
        "npm_aBcD...7890",
        "npm_XyZw...1234",
        "ci-publish",
        "read-only-mirror",
        "expires",
        "2030-01-01",
        "last used",
        "2025-06-01",
        "10.0.0.0/8, 192.168.0.0/16",
        "2024-01-02",
    ] {
        assert!(
            out.contains(expected),
            "{}",
            run.describe(&format!("`{expected}` in the table"))
        );
    }
    // No doubled ellipsis (npm appends `…` to an already masked token).
    assert!(!out.contains("7890…"));

    let run = env.rtok().args(["token", "list", "--json"]).run();
    run.success();
    let json = run.json();
    assert_eq!(json[0]["permissions"][0]["name"], "package");
    assert_eq!(json[0]["id"], "0b6f6d3e-1");
    assert_eq!(json[1]["readonly"], true);

    let run = env.rtok().args(["token", "list", "--parseable"]).run();
    run.success();
    assert!(
        run.stdout_lines()[1].ends_with("\t10.0.0.0/8,192.168.0.0/16"),
        "{}",
        run.stdout
    );
}

#[test]
fn server_errors_are_retried_then_reported() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let mock = MockRegistry::start(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
        Reply::text(503, "<html><body>upstream down</body></html>")
    });
    let env = TestEnv::new();
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "tok"));
    let run = env.rtok().args(["token", "list"]).run();
    assert_error(&run, 1, "503 Service Unavailable: upstream down");
    assert!(hint(&run).contains("try again later"));
    assert_eq!(
        calls.load(Ordering::SeqCst),
        3,
        "one try and npm's default two retries"
    );
}

#[test]
fn a_500_then_success_recovers() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let mock = MockRegistry::start(move |_| match counter.fetch_add(1, Ordering::SeqCst) {
        0 => Reply::json(500, json!({"error": "boom"})),
        _ => Reply::json(
            200,
            token_page(vec![npm_token("abcdef123456", "abcdef")], None),
        ),
    });
    let env = TestEnv::new();
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "tok"));
    let run = env.rtok().args(["token", "list", "--json"]).run();
    run.success();
    assert_eq!(run.json()[0]["key"], "abcdef123456");
}

#[test]
fn malformed_replies_are_one_line_errors() {
    for (body, needle) in [
        ("{\"objects\": [", "not JSON"),
        ("[1, 2, 3]", "no `objects` list"),
        ("{\"objects\": [{\"token\": \"x\"}]}", "has no `key`"),
        ("<html>proxy login</html>", "not JSON: proxy login"),
    ] {
        let body = body.to_string();
        let mock = MockRegistry::start(move |_| {
            Reply::bytes(200, "application/json", body.clone().into_bytes())
        });
        let env = TestEnv::new();
        env.write_userconfig(&npmrc_for_mock(&mock.url(), "tok"));
        let run = env.rtok().args(["token", "list"]).run();
        assert_error(&run, 1, needle);
    }
}

#[test]
fn unauthorized_is_exit_4_and_not_found_names_the_token_api() {
    let mock = MockRegistry::start(|_| Reply::json(401, json!({"error": "bad token"})));
    let env = TestEnv::new();
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "tok"));
    let run = env.rtok().args(["token", "list"]).run();
    assert_error(&run, 4, "401 Unauthorized: bad token");

    let mock = MockRegistry::start(|_| Reply::text(404, "Not Found"));
    let env = TestEnv::new();
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "tok"));
    let run = env.rtok().args(["token", "list"]).run();
    assert_error(&run, 1, "404 Not Found");
    assert!(
        hint(&run).contains("no token API"),
        "{}",
        run.describe("the token API hint")
    );

    let mock = MockRegistry::start(|_| Reply::json(403, json!({"error": "forbidden"})));
    let env = TestEnv::new();
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "tok"));
    let run = env.rtok().args(["token", "list"]).run();
    assert_error(&run, 1, "403 Forbidden");
    assert!(
        hint(&run).contains("read-only"),
        "{}",
        run.describe("a 403 hint")
    );
}

#[test]
fn marks_the_token_in_use_warns_about_expiry_and_sorts_and_filters() {
    let session = "npm_SessionTokenForListAbCdEfGhIjKlMnOpQr01";
    let soon = std::time::SystemTime::now() + std::time::Duration::from_secs(3 * 24 * 3600);
    let mut expiring = granular_token("eeeeeeee-0001", "zeta-expiring");
    expiring["expiry"] = json!(crate::support::verdaccio::iso8601(soon));
    expiring["created"] = json!("2025-03-01T00:00:00.000Z");
    let mut expired = granular_token("ffffffff-0002", "alpha-expired");
    expired["expiry"] = json!("2021-01-01T00:00:00.000Z");
    expired["created"] = json!("2020-12-01T00:00:00.000Z");
    expired["readonly"] = json!(true);
    let registry = TokenRegistry::start(
        session,
        vec![
            (
                expiring,
                "npm_OtherSecretTokenA1AbCdEfGhIjKlMnOpQrStUv".into(),
            ),
            (
                expired,
                "npm_OtherSecretTokenB2AbCdEfGhIjKlMnOpQrStUv".into(),
            ),
        ],
    );
    let env = TestEnv::new();
    env.register_secret(session);
    env.write_userconfig(&npmrc_for_mock(&registry.url(), session));

    let run = env.rtok().args(["token", "list"]).run();
    run.success();
    let session_row = run
        .stdout_lines()
        .into_iter()
        .find(|l| l.contains("laptop session"))
        .expect("session row")
        .to_string();
    assert!(
        session_row.contains("this machine"),
        "{}",
        run.describe("the in-use marker")
    );
    let warnings: Vec<&str> = run
        .stderr_lines()
        .into_iter()
        .filter(|l| l.starts_with("warning: "))
        .collect();
    assert_eq!(warnings.len(), 1, "{}", run.describe("one expiry warning"));
    assert!(
        warnings[0].contains("token eeeeee (zeta-expiring)") && warnings[0].contains("in 3 days"),
        "{}",
        warnings[0]
    );
    assert!(warnings[0].contains("rtok token rotate"));

    let keys = |args: &[&str]| -> Vec<String> {
        let run = env
            .rtok()
            .args(["token", "list", "--json"])
            .args(args)
            .run();
        run.success();
        run.json_keys()
    };
    assert_eq!(
        keys(&["--sort", "name"]),
        ["ffffffff-0002", "session-key-0001", "eeeeeeee-0001"]
    );
    assert_eq!(
        keys(&["--sort", "created"]),
        ["ffffffff-0002", "session-key-0001", "eeeeeeee-0001"]
    );
    assert_eq!(
        keys(&["--sort", "expiry"]),
        ["ffffffff-0002", "eeeeeeee-0001", "session-key-0001"]
    );
    assert_eq!(keys(&["--filter", "expired"]), ["ffffffff-0002"]);
    assert_eq!(keys(&["--filter", "read-only"]), ["ffffffff-0002"]);
    assert_eq!(
        keys(&["--filter", "publish"]),
        ["session-key-0001", "eeeeeeee-0001"]
    );
}

#[test]
fn token_names_cannot_drive_the_terminal() {
    let mut hostile = npm_token("hostile0key", "npm_Host...ile1");
    hostile["name"] = json!("ci\r\n| fake | row |\u{1b}[2J\u{1b}]0;title\u{7}");
    let body = token_page(vec![hostile], None);
    let mock = MockRegistry::start(move |_| Reply::json(200, body.clone()));
    let env = TestEnv::new();
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "list-token-1234"));
    let run = env.rtok().args(["token", "list"]).run();
    run.success();
    for raw in ['\u{1b}', '\u{7}', '\r'] {
        assert!(
            !run.stdout.contains(raw),
            "{}",
            run.describe(&format!("no raw {raw:?} in the table"))
        );
    }
    assert!(
        run.stdout.contains("ci^M^J| fake | row |^[[2J^[]0;title^G"),
        "{}",
        run.describe("the name shown with its control characters")
    );
    // One header, one separator, one row, and the frame: no fake row.
    assert_eq!(run.stdout.lines().count(), 5, "{}", run.describe("one row"));
    let run = env.rtok().args(["token", "list", "--json"]).run();
    run.success();
    assert_eq!(
        run.json()[0]["name"],
        json!("ci\r\n| fake | row |\u{1b}[2J\u{1b}]0;title\u{7}")
    );
}

#[test]
fn shows_each_write_tokens_publish_policy_where_the_registry_lists_one() {
    let mut staged = granular_token("5a5a5a5a-1111-4c5e-9a51-6c1e0c7e0a01", "ci-stage");
    staged["publish_policy"] = json!("stage_only");
    staged["permissions"] = json!([{"name": "package", "action": "write"}]);
    let mut direct = granular_token("d1d1d1d1-2222-4c5e-9a51-6c1e0c7e0a02", "ci-direct");
    direct["permissions"] = json!([{"name": "package", "action": "write"}]);
    let page = token_page(vec![staged, direct], None);
    let mock = MockRegistry::start(move |_| Reply::json(200, page.clone()));
    let env = TestEnv::new();
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "tok"));
    let run = env.rtok().args(["token", "list"]).run();
    run.success();
    let row = |name: &str| {
        run.stdout
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        run.stdout.contains("publish"),
        "{}",
        run.describe("the column")
    );
    assert!(
        row("ci-stage").contains("stage-only"),
        "{}",
        run.describe("stage-only")
    );
    assert!(
        row("ci-direct").contains("direct"),
        "{}",
        run.describe("direct")
    );
    let run = env.rtok().args(["token", "list", "--json"]).run();
    run.success();
    assert_eq!(run.json()[0]["publish_policy"], "stage_only");
}
