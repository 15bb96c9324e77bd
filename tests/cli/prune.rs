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
