//! `rtok token delete` on Verdaccio, and its all-or-nothing resolution.

use std::sync::{Arc, Mutex};

use crate::support::*;
use crate::token_list::user_with_tokens;

pub fn listed_keys(env: &TestEnv) -> Vec<String> {
    let run = env.rtok().args(["token", "list", "--json"]).run();
    run.success();
    run.json_keys()
}

#[test]
fn revokes_by_short_id_and_by_token_value() {
    let (_user, env, tokens) = user_with_tokens("delete", 3);
    let run = env.rtok().args(["token", "list", "--json"]).run();
    let listed = run.json();
    let first_id = listed[0]["id"].as_str().expect("id").to_string();
    let first_key = listed[0]["key"].as_str().expect("key").to_string();

    let run = env.rtok().args(["token", "delete", &first_id]).run();
    run.success();
    assert!(
        run.stderr.contains("Revoked 1 token."),
        "{}",
        run.describe("a status line")
    );
    assert!(!listed_keys(&env).contains(&first_key));

    // The token value itself, matched against Verdaccio's mask; the value
    // must never go into a URL, only the key does.
    let remaining = listed_keys(&env);
    let by_value = tokens
        .iter()
        .find(|t| {
            listed.as_array().expect("array").iter().any(|o| {
                o["key"] != json!(first_key)
                    && rtok::tokens::mask::mask_matches(o["token"].as_str().unwrap_or(""), t)
            })
        })
        .expect("a token still listed")
        .clone();
    let run = env
        .rtok()
        .args(["-v", "token", "rm", &by_value, "--json"])
        .allow_secret(&by_value)
        .run();
    run.success();
    let revoked = run.json();
    assert_eq!(revoked.as_array().map(Vec::len), Some(1));
    assert!(
        !run.stderr.contains(&by_value),
        "the value must not be logged"
    );
    assert!(run.stdout.contains(revoked[0].as_str().expect("key")));
    assert_eq!(listed_keys(&env).len(), remaining.len() - 1);
}

#[test]
fn revokes_several_and_reports_keys() {
    let (_user, env, _) = user_with_tokens("deletemany", 3);
    let keys = listed_keys(&env);
    let run = env
        .rtok()
        .args([
            "token",
            "revoke",
            "--parseable",
            &keys[0],
            &keys[1],
            &keys[2],
        ])
        .run();
    run.success();
    assert_eq!(run.stdout.trim(), keys.join("\t"));
    assert!(listed_keys(&env).is_empty());
}

#[test]
fn an_unknown_id_revokes_nothing() {
    let (_user, env, _) = user_with_tokens("deleteunknown", 2);
    let keys = listed_keys(&env);
    let run = env
        .rtok()
        .args(["token", "delete", &keys[0], "zzzzzzzz"])
        .run();
    assert_error(&run, 1, "unknown token id or value `zzzzzzzz`");
    assert!(hint(&run).contains("rtok token list"));
    assert_eq!(listed_keys(&env).len(), 2, "nothing was revoked");
}

#[test]
fn an_ambiguous_id_revokes_nothing() {
    let deleted = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = Arc::clone(&deleted);
    let mock = MockRegistry::start(move |req| match req.method.as_str() {
        "GET" => Reply::json(
            200,
            token_page(
                vec![
                    npm_token("abc111", "abc1"),
                    npm_token("abc222", "abc2"),
                    npm_token("def333", "def3"),
                ],
                None,
            ),
        ),
        _ => {
            seen.lock().expect("lock").push(req.path.clone());
            Reply::json(200, json!({}))
        }
    });
    let env = TestEnv::new();
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "tok"));
    let run = env.rtok().args(["token", "delete", "def", "abc"]).run();
    assert_error(&run, 1, "ambiguous");
    assert!(deleted.lock().expect("lock").is_empty());

    let run = env
        .rtok()
        .args(["token", "delete", "def", "abc2", "def333"])
        .run();
    run.success();
    let mut paths = deleted.lock().expect("lock").clone();
    paths.sort();
    assert_eq!(
        paths,
        [
            "/-/npm/v1/tokens/token/abc222",
            "/-/npm/v1/tokens/token/def333"
        ]
    );
}

#[test]
fn partial_failure_reports_what_was_revoked_and_what_failed() {
    let mock = MockRegistry::start(|req| match (req.method.as_str(), req.path.as_str()) {
        ("GET", _) => Reply::json(
            200,
            token_page(
                vec![
                    npm_token("aaa111", "a"),
                    npm_token("bbb222", "b"),
                    npm_token("ccc333", "c"),
                ],
                None,
            ),
        ),
        ("DELETE", "/-/npm/v1/tokens/token/bbb222") => {
            Reply::json(403, json!({"error": "token is protected"}))
        }
        _ => Reply::json(200, json!({})),
    });
    let env = TestEnv::new();
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "tok"));
    let run = env
        .rtok()
        .args(["token", "delete", "aaa", "bbb", "ccc"])
        .run();
    run.failure(1);
    let error_line = run
        .stderr_lines()
        .into_iter()
        .find(|l| l.starts_with("error: "))
        .expect("an error line")
        .to_string();
    assert!(
        error_line.contains("revoked 2 of 3"),
        "{}",
        run.describe("a summary")
    );
    assert!(run.stderr.contains("aaa111") && run.stderr.contains("revoked"));
    assert!(run.stderr.contains("bbb222") && run.stderr.contains("token is protected"));
    let deletes = mock
        .requests()
        .iter()
        .filter(|r| r.method == "DELETE")
        .count();
    assert_eq!(deletes, 3, "403 is not retried");
}

#[test]
fn an_otp_challenge_is_answered_once_for_all_tokens() {
    let mock = MockRegistry::start(|req| match (req.method.as_str(), req.header("npm-otp")) {
        ("GET", _) => Reply::json(
            200,
            token_page(
                (0..5)
                    .map(|i| npm_token(&format!("key{i}aaaa"), "x"))
                    .collect(),
                None,
            ),
        ),
        (_, None) => Reply::json(401, json!({})).header("www-authenticate", "otp"),
        (_, Some(_)) => Reply::json(200, json!({})),
    });
    let env = TestEnv::new();
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "tok"));
    let run = env
        .rtok()
        .args(["token", "delete", "key0", "key1", "key2", "key3", "key4"])
        .run();
    assert_error(&run, 4, "one-time password");

    let run = env
        .rtok()
        .args([
            "token", "delete", "--otp", "654321", "key0", "key1", "key2", "key3", "key4",
        ])
        .run();
    run.success();
    let deletes: Vec<Request> = mock
        .requests()
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .collect();
    // One failed try above, then five with the code.
    assert_eq!(deletes.len(), 6);
    assert!(
        deletes[1..]
            .iter()
            .all(|r| r.header("npm-otp") == Some("654321"))
    );
}

#[test]
fn revocations_run_concurrently_up_to_the_limit() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;
    // The first DELETE goes alone (it answers a two-factor challenge for
    // all); the other 24 must come 4 at a time: each is held until 4 are
    // held together, and a 5th while 4 are held would show as wider.
    let gate = Arc::new(Gate::new(4, 24, Duration::from_secs(3)));
    let first_done = Arc::new(AtomicBool::new(false));
    let (held, first) = (Arc::clone(&gate), Arc::clone(&first_done));
    let mock = MockRegistry::start(move |req| match req.method.as_str() {
        "GET" => Reply::json(
            200,
            token_page(
                (0..25)
                    .map(|i| npm_token(&format!("tok{i:03}key"), "m"))
                    .collect(),
                None,
            ),
        ),
        _ => {
            if first.swap(true, Ordering::SeqCst) {
                held.pass();
            }
            Reply::empty(204)
        }
    });
    let env = TestEnv::new();
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "tok"));
    let ids: Vec<String> = (0..25).map(|i| format!("tok{i:03}")).collect();
    let run = env
        .rtok()
        .args(["token", "delete", "--jobs", "4"])
        .args(&ids)
        .run();
    run.success();
    assert!(run.stderr.contains("Revoked 25 tokens."));
    assert_eq!(gate.widest(), 4, "at most 4 in flight, and 4 reached");
    assert_eq!(gate.shortfalls(), 0, "every wave filled to 4");
}

/// A registry listing `pick0key`, `pick1key`, `pick2key` and accepting
/// every DELETE.
fn picking_mock() -> MockRegistry {
    MockRegistry::start(|req| match req.method.as_str() {
        "GET" => {
            let objects = (0..3)
                .map(|i| {
                    let mut token = granular_token(&format!("pick{i}key0000"), &format!("ci-{i}"));
                    token["accessed"] = json!(format!("2026-11-0{}T00:00:00.000Z", i + 1));
                    token
                })
                .collect();
            Reply::json(200, token_page(objects, None))
        }
        _ => Reply::empty(204),
    })
}

/// Types `keys` at the terminal.
fn press(session: &mut rexpect::session::PtySession, keys: &str) {
    session.send(keys).expect("type at the terminal");
    session.flush().expect("type at the terminal");
}

#[test]
fn without_ids_on_a_terminal_the_user_picks_from_the_list() {
    let mock = picking_mock();
    let env = TestEnv::new();
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "picking-token"));
    let mut command = raw_rtok(&env);
    command.args(["token", "delete"]);
    let mut session =
        rexpect::session::spawn_command(command, Some(30_000)).expect("spawn rtok in a pty");
    session
        .exp_string("Pick the tokens to revoke")
        .expect("the list");
    // The list shows each token's id, name, dates and access.
    let listed = session.exp_string("ci-2").expect("the last token listed");
    assert!(
        listed.contains("pick0k") && listed.contains("last used 2026-11-01"),
        "{listed}"
    );
    press(&mut session, " "); // pick the first
    press(&mut session, "\u{1b}[B"); // down
    press(&mut session, "\u{1b}[B"); // down
    press(&mut session, " "); // pick the third
    press(&mut session, "\r"); // confirm the picks
    session
        .exp_string("Revoke 2 tokens? [y/N] ")
        .expect("the confirmation");
    session.send_line("y").expect("yes");
    let rest = session.exp_eof().expect("rtok exits");
    assert!(rest.contains("Revoked 2 tokens."), "{rest}");
    let deleted: Vec<String> = mock
        .requests()
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .map(|r| r.path)
        .collect();
    assert_eq!(
        deleted,
        [
            "/-/npm/v1/tokens/token/pick0key0000",
            "/-/npm/v1/tokens/token/pick2key0000"
        ]
    );
}

#[test]
fn without_ids_a_no_to_the_confirmation_revokes_nothing() {
    let mock = picking_mock();
    let env = TestEnv::new();
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "picking-token"));
    let mut command = raw_rtok(&env);
    command.args(["token", "delete"]);
    let mut session =
        rexpect::session::spawn_command(command, Some(30_000)).expect("spawn rtok in a pty");
    session.exp_string("ci-2").expect("the list");
    press(&mut session, " "); // pick the first
    press(&mut session, "\r"); // confirm the picks
    session
        .exp_string("Revoke 1 token? [y/N] ")
        .expect("the confirmation");
    session.send_line("n").expect("no");
    let rest = session.exp_eof().expect("rtok exits");
    assert!(rest.contains("cancelled; nothing was revoked"), "{rest}");
    assert!(mock.requests().iter().all(|r| r.method == "GET"));
}

#[test]
fn without_ids_and_without_a_terminal_delete_is_a_usage_error() {
    let mock = picking_mock();
    let env = TestEnv::new();
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "picking-token"));
    let run = env.rtok().args(["token", "delete"]).run();
    assert_error(&run, 2, "needs the ids of the tokens to revoke");
    assert!(hint(&run).contains("rtok token list"));
    assert!(mock.requests().is_empty(), "nothing asked of the registry");
}
