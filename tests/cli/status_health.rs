//! `rtok status`, the health columns: each credential's kind (from the
//! token list: npmjs-shaped mocks, the real Verdaccio for session tokens),
//! expiry and last use, state, `--expiring-within`, GitHub Actions workflow
//! commands, and every registry asked at once.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::support::verdaccio::iso8601;
use crate::support::*;

const DAY: Duration = Duration::from_secs(86_400);

/// An npmjs-format token (`npm_` and 36 letters and digits) made from `tag`.
fn npmjs_token(tag: &str) -> String {
    let body: String = format!("{tag}AbCdEfGhIjKlMnOpQrStUvWxYz0123456789")
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(36)
        .collect();
    format!("npm_{body}")
}

/// A granular entry for `secret` as npmjs lists it.
fn granular_for(secret: &str, key: &str, expiry: SystemTime) -> serde_json::Value {
    let mut entry = granular_token(key, "ci-publish");
    entry["token"] = json!(npmjs_mask(secret));
    entry["expiry"] = json!(iso8601(expiry));
    entry["accessed"] = json!("2026-10-31T12:00:00.000Z");
    entry
}

/// A mock account whose token in use is `secret`, listed as `entry`.
fn account_with(secret: &str, entry: serde_json::Value) -> (TokenRegistry, TestEnv) {
    let registry = TokenRegistry::start(
        &npmjs_token("unusedsession"),
        vec![(entry, secret.to_string())],
    );
    let env = TestEnv::new();
    env.register_secret(secret);
    env.write_userconfig(&format!(
        "registry={}\n{}:_authToken={secret}\n",
        registry.url(),
        registry.nerf_dart()
    ));
    (registry, env)
}

fn only_row(run: &Run) -> serde_json::Value {
    let rows = run.json();
    let rows = rows.as_array().expect("an array of rows");
    assert_eq!(rows.len(), 1, "{}", run.describe("one row"));
    rows[0].clone()
}

#[test]
fn a_granular_token_shows_its_expiry_and_last_use() {
    let secret = npmjs_token("granularinuse");
    let expiry = SystemTime::now() + 40 * DAY;
    let (registry, env) = account_with(&secret, granular_for(&secret, "gran-key-0001", expiry));
    let run = env.rtok().args(["status", "--json"]).run();
    run.success();
    let row = only_row(&run);
    assert_eq!(row["kind"], "granular");
    assert_eq!(row["state"], "ok");
    assert_eq!(row["user"], "mockuser");
    assert_eq!(row["storage"], "file");
    assert_eq!(row["variable"], json!(null));
    assert_eq!(row["expires"], json!(iso8601(expiry)));
    assert_eq!(row["last_used"], "2026-10-31T12:00:00.000Z");
    assert_eq!(row["error"], json!(null));
    // whoami and the token list, once each.
    let paths: Vec<String> = registry
        .mock
        .requests()
        .iter()
        .map(|r| r.path_only().to_string())
        .collect();
    assert_eq!(paths.len(), 2, "{paths:?}");
    assert!(
        paths.contains(&"/-/whoami".to_string()) && paths.contains(&"/-/npm/v1/tokens".to_string())
    );

    let run = env.rtok().arg("status").run();
    run.success();
    for needle in [
        "granular",
        "last used",
        &iso8601(expiry)[..10],
        "2026-10-31",
        "ok",
    ] {
        assert!(
            run.stdout.contains(needle),
            "{}",
            run.describe(&format!("`{needle}` in the table"))
        );
    }
}

#[test]
fn a_login_token_on_verdaccio_is_a_session_and_a_created_one_a_token() {
    let reg = shared();
    let user = reg.new_user("status-kinds");
    let env = TestEnv::new();
    env.register_secret(&user.token);
    env.register_secret(&user.password);
    env.write_userconfig(&reg.npmrc_for(&user));
    let run = env.rtok().args(["status", "--json"]).run();
    run.success();
    let row = only_row(&run);
    assert_eq!(row["kind"], "session");
    assert_eq!(row["user"], json!(user.name));
    assert_eq!(row["expires"], json!(null));

    // A token from the token API is listed (Verdaccio's `first5...last5`
    // mask): matched to its entry, it is a token.
    let created = env
        .rtok()
        .args(["token", "create", "--json", "--password-stdin"])
        .stdin(user.password.clone())
        .run();
    created.success();
    let token = created.json()["token"]
        .as_str()
        .expect("the new token")
        .to_string();
    env.register_secret(&token);
    env.write_userconfig(&format!(
        "registry={}\n{}:_authToken={token}\n",
        reg.url,
        reg.nerf_dart()
    ));
    let run = env.rtok().args(["status", "--json"]).run();
    run.success();
    let row = only_row(&run);
    assert_eq!(row["kind"], "token", "{}", run.describe("kind token"));
    assert_eq!(row["state"], "ok");
}

#[test]
fn a_refused_token_list_is_not_a_failure() {
    // npmjs refuses the token list to granular tokens with 403.
    let mock = MockRegistry::start(|req| match req.path_only() {
        "/-/whoami" => Reply::json(200, json!({"username": "gat-user"})),
        _ => Reply::json(403, json!({"error": "granular tokens cannot list tokens"})),
    });
    let env = TestEnv::new();
    let npmjs = npmjs_token("refusedlist");
    env.register_secret(&npmjs);
    env.register_secret("a-token-of-another-shape-1234");
    for (token, kind) in [
        (npmjs.as_str(), "granular"),
        ("a-token-of-another-shape-1234", "token"),
    ] {
        env.write_userconfig(&npmrc_for_mock(&mock.url(), token));
        let run = env.rtok().args(["status", "--json"]).run();
        run.success();
        let row = only_row(&run);
        assert_eq!(row["kind"], kind, "{}", run.describe(kind));
        assert_eq!(row["state"], "ok");
        assert_eq!(row["user"], "gat-user");
    }
}

#[test]
fn a_client_certificate_alone_is_its_own_kind() {
    let ca = TestCa::new("status mtls CA");
    let registry = TlsRegistry::start(&ca.server(), Some(&ca), |path, auth| match (path, auth) {
        ("/-/whoami", None) => (200, r#"{"username":"cert-user"}"#.into()),
        _ => (401, r#"{"error":"no"}"#.into()),
    });
    let env = TestEnv::new();
    let cafile = ca.write(&env.root);
    let (cert, key) = ca.client().write(&env.root, "client");
    env.write_userconfig(&format!(
        "registry={url}\ncafile={}\n//127.0.0.1:{port}/:certfile={}\n//127.0.0.1:{port}/:keyfile={}\n",
        cafile.display(),
        cert.display(),
        key.display(),
        url = registry.url(),
        port = registry.port()
    ));
    let run = env.rtok().args(["status", "--json"]).run();
    run.success();
    let row = only_row(&run);
    assert_eq!(row["kind"], "client-certificate");
    assert_eq!(row["user"], "cert-user");
    assert_eq!(row["state"], "ok");
}

#[test]
fn expiring_tokens_warn_and_fail_only_with_expiring_within() {
    let secret = npmjs_token("expiringsoon");
    let expiry = SystemTime::now() + 3 * DAY + Duration::from_secs(3600);
    let (_registry, env) = account_with(&secret, granular_for(&secret, "soon-key-0001", expiry));
    let run = env.rtok().args(["status", "--json"]).run();
    run.success();
    assert_eq!(only_row(&run)["state"], "expiring");

    let run = env.rtok().arg("status").run();
    run.success();
    assert!(
        run.stderr.contains("warning: the credential for") && run.stderr.contains("in 4 days"),
        "{}",
        run.describe("a warning about the expiry")
    );

    let run = env
        .rtok()
        .args(["status", "--expiring-within", "14d"])
        .run();
    run.failure(1);
    assert!(
        run.stderr
            .contains("error: 1 of 1 credentials failed (1 expiring within 14 days)"),
        "{}",
        run.describe("the expiring failure")
    );
    assert!(
        hint(&run).contains("rtok token rotate"),
        "{}",
        run.describe("a rotate hint")
    );
    // A shorter window than what is left: ok.
    let run = env
        .rtok()
        .args(["status", "--json", "--expiring-within", "2d"])
        .run();
    run.success();
    assert_eq!(only_row(&run)["state"], "ok");

    let run = env
        .rtok()
        .args(["status", "--expiring-within", "soon"])
        .run();
    run.failure(2);
    assert!(
        run.stderr.contains("not a duration"),
        "{}",
        run.describe("usage error")
    );
}

#[test]
fn an_expired_listed_token_is_expired() {
    let secret = npmjs_token("expiredtoken");
    let expiry = SystemTime::now() - 2 * DAY;
    let (_registry, env) = account_with(&secret, granular_for(&secret, "old-key-0001", expiry));
    let run = env.rtok().args(["status", "--json"]).run();
    run.failure(1);
    let row = only_row(&run);
    assert_eq!(row["state"], "expired");
    assert_eq!(row["expires"], json!(iso8601(expiry)));
    assert!(run.stderr.contains("1 of 1 credentials failed"));
}

#[test]
fn rejected_unreachable_and_broken_registries_each_have_their_state() {
    let rejected = MockRegistry::start(|_| {
        Reply::json(401, json!({"error": "token revoked"})).header("www-authenticate", "Bearer")
    });
    let html = MockRegistry::start(|_| {
        Reply::bytes(
            200,
            "text/html",
            b"<html><body>Sign in to the proxy</body></html>".to_vec(),
        )
    });
    let failing = MockRegistry::start(|_| Reply::json(500, json!({"error": "down"})));
    let env = TestEnv::new();
    env.write_userconfig(&format!(
        "registry={}\n{}:_authToken=rejected-token-1234\n{}:_authToken=html-token-1234\n{}:_authToken=failing-token-1234\n//127.0.0.1:9/:_authToken=refused-token-1234\nfetch-retries=0\n",
        rejected.url(),
        rejected.nerf_dart(),
        html.nerf_dart(),
        failing.nerf_dart(),
    ));
    for secret in [
        "rejected-token-1234",
        "html-token-1234",
        "failing-token-1234",
        "refused-token-1234",
    ] {
        env.register_secret(secret);
    }
    let before = file_tree(&env.root);
    let run = env.rtok().args(["status", "--json"]).run();
    assert_eq!(file_tree(&env.root), before, "status wrote nothing");
    // Rejected is exit 1 here, not 4: status reports, it needs no login.
    run.failure(1);
    let rows = run.json();
    let state = |url: &str| {
        rows.as_array()
            .expect("rows")
            .iter()
            .find(|r| r["registry"] == url)
            .unwrap_or_else(|| panic!("no row for {url}: {rows}"))["state"]
            .clone()
    };
    assert_eq!(state(&rejected.url()), "rejected");
    assert_eq!(state(&html.url()), "error");
    assert_eq!(state(&failing.url()), "error");
    assert_eq!(state("http://127.0.0.1:9/"), "unreachable");
    assert!(
        run.stderr.contains("4 of 4 credentials failed"),
        "{}",
        run.describe("summary")
    );
}

#[test]
fn github_actions_gets_workflow_commands_after_the_table() {
    let secret = npmjs_token("actionsexpiring");
    let expiry = SystemTime::now() + 2 * DAY + Duration::from_secs(3600);
    let (registry, env) = account_with(&secret, granular_for(&secret, "gha-key-0001", expiry));
    let bad = MockRegistry::start(|_| {
        Reply::json(401, json!({"error": "token revoked"})).header("www-authenticate", "Bearer")
    });
    env.register_secret("revoked-in-ci-1234");
    env.write_userconfig(&format!(
        "registry={}\n{}:_authToken={secret}\n{}:_authToken=revoked-in-ci-1234\n",
        registry.url(),
        registry.nerf_dart(),
        bad.nerf_dart()
    ));
    let run = env.rtok().arg("status").env("GITHUB_ACTIONS", "true").run();
    run.failure(1);
    let commands: Vec<&str> = run
        .stdout_lines()
        .into_iter()
        .filter(|l| l.starts_with("::"))
        .collect();
    assert_eq!(
        commands.len(),
        2,
        "{}",
        run.describe("two workflow commands")
    );
    assert_eq!(
        commands[0],
        format!(
            "::warning title=rtok status::{}: expiring (expires on {}, in 3 days)",
            registry.url(),
            &iso8601(expiry)[..10]
        )
    );
    assert!(
        commands[1].starts_with(&format!(
            "::error title=rtok status::{}: rejected (GET ",
            bad.url()
        )) && commands[1].contains("401 Unauthorized: token revoked"),
        "{}",
        commands[1]
    );
    let last_table_line = run
        .stdout_lines()
        .into_iter()
        .rposition(|l| l.starts_with('+'))
        .expect("a table");
    let first_command = run
        .stdout_lines()
        .into_iter()
        .position(|l| l.starts_with("::"))
        .expect("a command");
    assert!(
        last_table_line < first_command,
        "{}",
        run.describe("commands after the table")
    );

    // JSON stays JSON; outside Actions there are no commands.
    let run = env
        .rtok()
        .args(["status", "--json"])
        .env("GITHUB_ACTIONS", "true")
        .run();
    run.failure(1);
    assert_eq!(run.json().as_array().expect("rows").len(), 2);
    let run = env.rtok().arg("status").run();
    assert!(
        !run.stdout.contains("::"),
        "{}",
        run.describe("no commands")
    );
}

#[test]
fn every_registry_is_asked_at_once() {
    const REGISTRIES: usize = 6;
    // Each whoami waits until all six are in flight together: a status
    // that asked one registry after another would never fill the wave.
    let gate = Arc::new(Gate::new(REGISTRIES, REGISTRIES, Duration::from_secs(5)));
    let mocks: Vec<MockRegistry> = (0..REGISTRIES)
        .map(|_| {
            let gate = Arc::clone(&gate);
            MockRegistry::start(move |req| match req.path_only() {
                "/-/whoami" => {
                    gate.pass();
                    Reply::json(200, json!({"username": "parallel"}))
                }
                _ => Reply::json(404, json!({"error": "no token API"})),
            })
        })
        .collect();
    let env = TestEnv::new();
    let mut npmrc = format!("registry={}\n", mocks[0].url());
    for (i, mock) in mocks.iter().enumerate() {
        let token = format!("parallel-token-{i:04}");
        env.register_secret(&token);
        npmrc.push_str(&format!("{}:_authToken={token}\n", mock.nerf_dart()));
    }
    env.write_userconfig(&npmrc);
    let run = env.rtok().args(["status", "--json"]).run();
    run.success();
    assert_eq!(run.json().as_array().expect("rows").len(), REGISTRIES);
    assert_eq!(
        gate.widest(),
        REGISTRIES,
        "all whoami requests in flight at once"
    );
    assert_eq!(gate.shortfalls(), 0, "no wave had to be let go unfilled");
}

/// Probe #13: 400 credentials under a 256-file limit are all checked, and
/// all `ok`: status asks a bounded number of registries at a time.
#[test]
fn hundreds_of_credentials_fit_a_small_open_files_limit() {
    const CREDENTIALS: usize = 400;
    let mock = MockRegistry::start(|req| {
        if req.path_only().ends_with("/-/whoami") {
            Reply::json(200, json!({"username": "many"}))
        } else {
            Reply::json(404, json!({"error": "no token API"}))
        }
    });
    let env = TestEnv::new();
    let mut npmrc = format!("registry={}\nfetch-retries=0\n", mock.url());
    for i in 0..CREDENTIALS {
        npmrc.push_str(&format!(
            "{}r{i}/:_authToken=tok-{i}-abcdefgh\n",
            mock.nerf_dart()
        ));
    }
    env.write_userconfig(&npmrc);
    let run = env
        .command("sh")
        .args([
            "-c",
            "ulimit -n 256 && exec \"$0\" status --json",
            env!("CARGO_BIN_EXE_rtok"),
        ])
        .run();
    let rows = run.json();
    let rows = rows.as_array().expect("rows");
    assert_eq!(rows.len(), CREDENTIALS, "{}", run.describe("every row"));
    let not_ok: Vec<&serde_json::Value> = rows.iter().filter(|r| r["state"] != "ok").collect();
    assert!(
        not_ok.is_empty(),
        "{} rows not ok, first: {}",
        not_ok.len(),
        not_ok[0]
    );
    run.success();
}
