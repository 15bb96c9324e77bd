//! `rtok token prune`: selection, the token in use, dry runs and consent.

use crate::support::*;
use crate::token_list::user_with_tokens;

#[test]
fn prunes_read_only_tokens_on_verdaccio_after_a_dry_run() {
    let (user, env, _) = user_with_tokens("prune", 1);
    for _ in 0..2 {
        env.rtok()
            .args(["token", "create", "--read-only", "--password-stdin"])
            .stdin(user.password.clone())
            .run()
            .success();
    }
    let run = env
        .rtok()
        .args(["token", "prune", "--read-only", "--dry-run", "--json"])
        .run();
    run.success();
    let would = run.json();
    assert_eq!(would.as_array().map(Vec::len), Some(2));
    assert!(
        would
            .as_array()
            .expect("array")
            .iter()
            .all(|o| o["readonly"] == true)
    );

    let run = env
        .rtok()
        .args(["token", "prune", "--read-only", "--dry-run"])
        .run();
    run.success();
    assert!(
        run.stderr.contains("Would revoke 2 tokens"),
        "{}",
        run.describe("the dry-run note")
    );
    let listed = env.rtok().args(["token", "list", "--json"]).run();
    assert_eq!(
        listed.json().as_array().map(Vec::len),
        Some(3),
        "a dry run revokes nothing"
    );

    let run = env
        .rtok()
        .args(["token", "prune", "--read-only", "--yes", "--json"])
        .run();
    run.success();
    assert_eq!(run.json().as_array().map(Vec::len), Some(2));
    let listed = env.rtok().args(["token", "list", "--json"]).run();
    let left = listed.json();
    assert_eq!(left.as_array().map(Vec::len), Some(1));
    assert_eq!(left[0]["readonly"], false);
}

#[test]
fn without_a_terminal_prune_needs_yes_or_dry_run() {
    let registry = TokenRegistry::start("npm_SessionTokenForPruneAbCdEfGhIjKlMnOp01", Vec::new());
    let env = TestEnv::new();
    env.write_userconfig(&npmrc_for_mock(
        &registry.url(),
        "npm_SessionTokenForPruneAbCdEfGhIjKlMnOp01",
    ));
    let run = env.rtok().args(["token", "prune", "--expired"]).run();
    assert_error(&run, 1, "no terminal to confirm");
    assert!(hint(&run).contains("--yes") && hint(&run).contains("--dry-run"));
    assert!(registry.mock.requests().is_empty(), "nothing fetched");
    // Without a filter it is a usage error.
    let run = env.rtok().args(["token", "prune", "--yes"]).run();
    run.failure(2);
}

fn npmjs_account() -> (TokenRegistry, TestEnv) {
    let session = "npm_SessionTokenForPruneAbCdEfGhIjKlMnOp02";
    let mut expired = granular_token("aaaaaaaa-0001", "ci-old");
    expired["expiry"] = json!("2020-01-01T00:00:00.000Z");
    expired["created"] = json!("2019-12-01T00:00:00.000Z");
    let mut idle = granular_token("bbbbbbbb-0002", "ci-idle");
    idle["accessed"] = json!("2021-01-01T00:00:00.000Z");
    let mut never_used = granular_token("cccccccc-0003", "laptop");
    never_used["created"] = json!("2022-01-01T00:00:00.000Z");
    never_used["accessed"] = json!(null);
    let mut fresh = granular_token("dddddddd-0004", "ci-fresh");
    fresh["created"] = json!(rtok::time::now_iso8601());
    fresh["accessed"] = json!(rtok::time::now_iso8601());
    let tokens = [expired, idle, never_used, fresh]
        .into_iter()
        .enumerate()
        .map(|(i, o)| {
            (
                o,
                format!("npm_OtherSecretToken{i:02}AbCdEfGhIjKlMnOpQrStUv"),
            )
        })
        .collect();
    let registry = TokenRegistry::start(session, tokens);
    let env = TestEnv::new();
    env.register_secret(session);
    env.write_userconfig(&npmrc_for_mock(&registry.url(), session));
    (registry, env)
}

fn would_prune(env: &TestEnv, filters: &[&str]) -> Vec<String> {
    let run = env
        .rtok()
        .args(["token", "prune", "--dry-run", "--json"])
        .args(filters)
        .run();
    run.success();
    run.json_keys()
}

#[test]
fn filters_select_by_expiry_age_use_and_name() {
    let (_registry, env) = npmjs_account();
    assert_eq!(would_prune(&env, &["--expired"]), ["aaaaaaaa-0001"]);
    // `accessed: null` is "never used": idle since it was created.
    assert_eq!(
        would_prune(&env, &["--unused-for", "90d"]),
        ["aaaaaaaa-0001", "bbbbbbbb-0002", "cccccccc-0003"]
    );
    assert_eq!(
        would_prune(&env, &["--name", "ci-*", "--older-than", "30d"]),
        ["aaaaaaaa-0001", "bbbbbbbb-0002"]
    );
    assert_eq!(
        would_prune(&env, &["--name", "nothing-*"]),
        Vec::<String>::new()
    );
    // The session token (2024, never expiring, name "laptop session") is in
    // use: kept unless asked.
    assert_eq!(
        would_prune(&env, &["--older-than", "30d"]),
        ["aaaaaaaa-0001", "bbbbbbbb-0002", "cccccccc-0003"]
    );
    assert_eq!(
        would_prune(&env, &["--older-than", "30d", "--include-current"]),
        [
            "session-key-0001",
            "aaaaaaaa-0001",
            "bbbbbbbb-0002",
            "cccccccc-0003"
        ]
    );
}

#[test]
fn prune_revokes_concurrently_and_reports_partial_failure() {
    let (registry, env) = npmjs_account();
    registry.fail_deletes_of("bbbbbbbb-0002");
    let run = env
        .rtok()
        .args(["token", "prune", "--older-than", "30d", "--yes"])
        .arg("--userconfig")
        .arg(&env.userconfig)
        .run();
    run.failure(1);
    assert!(
        run.stderr.contains("revoked 2 of 3 tokens; 1 failed"),
        "{}",
        run.describe("the summary")
    );
    assert!(
        run.stderr.contains("revocation is broken today"),
        "{}",
        run.describe("the reason")
    );
    let mut keys = registry.keys();
    keys.sort();
    assert_eq!(keys, ["bbbbbbbb-0002", "dddddddd-0004", "session-key-0001"]);
}

#[test]
fn unused_for_on_a_registry_without_last_use_warns() {
    let (_user, env, _) = user_with_tokens("pruneunused", 1);
    let run = env
        .rtok()
        .args(["token", "prune", "--unused-for", "1d", "--dry-run"])
        .run();
    run.success();
    assert!(
        run.stderr
            .contains("does not report when tokens were last used"),
        "{}",
        run.describe("a warning")
    );
}

/// A registry with read-only tokens `ro0key`, `ro1key` and a token in use;
/// DELETEs of `ro1key` fail with 500.
fn prune_mock() -> MockRegistry {
    MockRegistry::start(|req| match req.method.as_str() {
        "GET" => {
            let mut objects = Vec::new();
            for key in ["ro0key00", "ro1key00"] {
                let mut token = npm_token(key, "m");
                token["readonly"] = json!(true);
                objects.push(token);
            }
            Reply::json(200, token_page(objects, None))
        }
        "DELETE" if req.path.contains("ro1key") => Reply::json(500, json!({"error": "boom"})),
        _ => Reply::empty(204),
    })
}

#[test]
fn the_question_shows_what_it_asks_about_even_with_quiet() {
    let mock = prune_mock();
    let env = TestEnv::new();
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "prune-pty-token"));
    let mut command = raw_rtok(&env);
    command.args(["token", "prune", "--read-only", "--quiet"]);
    let mut session =
        rexpect::session::spawn_command(command, Some(30_000)).expect("spawn rtok in a pty");
    let seen = session
        .exp_string("Revoke these 2 tokens? [y/N] ")
        .expect("the question");
    assert!(
        seen.contains("ro0key") && seen.contains("ro1key"),
        "the preview before the question: {seen}"
    );
    session.send_line("n").expect("answer");
    let rest = session.exp_eof().expect("rtok exits");
    assert!(rest.contains("cancelled"), "{rest}");
    assert!(
        mock.requests().iter().all(|r| r.method == "GET"),
        "nothing revoked"
    );
}

#[test]
fn tables_on_stderr_follow_stderr_not_stdout() {
    // stdout is a terminal, stderr a file: the failure table on stderr is
    // plain ASCII, as stderr is not a terminal.
    let mock = prune_mock();
    let env = TestEnv::new();
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "prune-pty-token"));
    let errors = env.root.join("stderr.txt");
    let mut command = std::process::Command::new("sh");
    command
        .arg("-c")
        .arg(r#""$0" token prune --read-only --yes 2>"$1"; echo "exit=$?""#)
        .arg(env!("CARGO_BIN_EXE_rtok"))
        .arg(&errors)
        .env("HOME", &env.home)
        .env("NPM_CONFIG_GLOBALCONFIG", &env.globalconfig)
        .env("NO_COLOR", "1")
        .current_dir(&env.project);
    for (name, _) in std::env::vars_os() {
        if crate::support::env::is_removed_var(&name) {
            command.env_remove(&name);
        }
    }
    let mut session =
        rexpect::session::spawn_command(command, Some(30_000)).expect("spawn rtok in a pty");
    let out = session.exp_eof().expect("rtok exits");
    assert!(out.contains("exit=1"), "{out}");
    let stderr = std::fs::read_to_string(&errors).expect("stderr file");
    assert!(
        stderr.contains("| ro1key00 | failed: ") && stderr.contains("+----"),
        "an ASCII table on stderr: {stderr}"
    );
    assert!(!stderr.contains('│') && !stderr.contains('─'), "{stderr}");
}
