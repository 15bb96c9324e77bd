//! `rtok token rotate`: end to end on Verdaccio, the token in use and the
//! rollbacks on the stateful mock and a fault proxy.

use crate::support::*;
use crate::token_list::user_with_tokens;

fn listed(env: &TestEnv) -> Vec<serde_json::Value> {
    let run = env.rtok().args(["token", "list", "--json"]).run();
    run.success();
    run.json().as_array().expect("array").clone()
}

#[test]
fn rotates_a_token_on_verdaccio_keeping_its_restrictions() {
    let (user, env, _) = user_with_tokens("rotate", 0);
    env.rtok()
        .args([
            "token",
            "create",
            "--read-only",
            "--cidr",
            "10.1.0.0/16",
            "--password-stdin",
        ])
        .stdin(user.password.clone())
        .run()
        .success();
    let before = listed(&env);
    let old_key = before[0]["key"].as_str().expect("key").to_string();
    let old_id = before[0]["id"].as_str().expect("id").to_string();

    let run = env
        .rtok()
        .args(["token", "rotate", &old_id, "--password-stdin"])
        .stdin(user.password.clone())
        .run();
    run.success();
    let new_token = run.stdout.trim().to_string();
    env.register_secret(&new_token);
    assert!(
        run.stderr.contains(&format!("Rotated token {old_id}")),
        "{}",
        run.describe("a status line")
    );

    let after = listed(&env);
    assert_eq!(after.len(), 1, "the old token is revoked");
    assert_ne!(after[0]["key"], json!(old_key));
    assert_eq!(after[0]["readonly"], true);
    assert_eq!(after[0]["cidr"], json!(["10.1.0.0/16"]));
    assert!(rtok::tokens::mask::mask_matches(
        after[0]["token"].as_str().expect("mask"),
        &new_token
    ));
}

#[test]
fn a_failed_revoke_rolls_back_on_verdaccio() {
    let reg = shared();
    let user = reg.new_user("rotateback");
    let direct = TestEnv::new();
    direct.register_secret(&user.token);
    direct.write_userconfig(&reg.npmrc_for(&user));
    direct
        .rtok()
        .args(["token", "create", "--password-stdin"])
        .stdin(user.password.clone())
        .run()
        .success();
    let old = listed(&direct);
    let old_key = old[0]["key"].as_str().expect("key").to_string();

    // The same registry behind a proxy whose DELETEs fail.
    let proxy = forwarding_proxy(&reg.url, |req| {
        (req.method == "DELETE").then(|| Reply::json(503, json!({"error": "maintenance"})))
    });
    let env = TestEnv::new();
    env.register_secret(&user.token);
    let config = format!(
        "registry={}\n{}:_authToken={}\nfetch-retries=0\n",
        proxy.url(),
        proxy.nerf_dart(),
        user.token
    );
    env.write_userconfig(&config);
    let run = env
        .rtok()
        .args(["token", "rotate", &old_key[..8], "--password-stdin"])
        .stdin(user.password.clone())
        .run();
    assert_error(&run, 1, "could not revoke the old token");
    assert!(
        run.stderr.contains("rollback incomplete"),
        "{}",
        run.describe("the state after a failed rollback")
    );
    // The proxy also refuses the rollback's DELETE of the new token: the
    // message must say how to clean up.
    assert!(
        run.stderr.contains("rtok token delete"),
        "{}",
        run.describe("the clean-up command")
    );
    assert_eq!(env.read_userconfig(), config);

    // Now let the rollback through: only the old token's DELETE fails.
    let old_path = format!("/-/npm/v1/tokens/token/{old_key}");
    let proxy = forwarding_proxy(&reg.url, move |req| {
        (req.method == "DELETE" && req.path == old_path)
            .then(|| Reply::json(503, json!({"error": "maintenance"})))
    });
    let env = TestEnv::new();
    env.register_secret(&user.token);
    env.write_userconfig(&format!(
        "registry={}\n{}:_authToken={}\nfetch-retries=0\n",
        proxy.url(),
        proxy.nerf_dart(),
        user.token
    ));
    let keys_before = crate::token_delete::listed_keys(&direct);
    let run = env
        .rtok()
        .args(["token", "rotate", &old_key[..8], "--password-stdin"])
        .stdin(user.password.clone())
        .run();
    assert_error(&run, 1, "rolled back");
    assert!(
        run.stderr.contains("the old token is unchanged"),
        "{}",
        run.describe("the state")
    );
    let keys_after = crate::token_delete::listed_keys(&direct);
    assert_eq!(
        keys_after, keys_before,
        "the new token was revoked, the old one kept"
    );
    assert!(keys_after.contains(&old_key));
}

#[test]
fn rotating_the_token_in_use_updates_the_config_in_place() {
    let session = "npm_SessionTokenInUseAbCdEfGhIjKlMnOpQr0001";
    let registry = TokenRegistry::start(session, Vec::new());
    let env = TestEnv::new();
    env.register_secret(session);
    let nerf = registry.nerf_dart();
    let before = format!(
        "# work laptop\r\nregistry={}\r\n{nerf}:_authToken={session} ; from login\r\nsave-exact=true\r\n",
        registry.url()
    );
    env.write_userconfig(&before);

    let run = env
        .rtok()
        .args(["token", "rotate", "current", "--password-stdin", "--json"])
        .stdin(PASSWORD)
        .run();
    run.success();
    let created = run.json();
    let new_token = created["token"].as_str().expect("token").to_string();
    env.register_secret(&new_token);
    assert_eq!(
        env.read_userconfig(),
        before.replace(session, &new_token),
        "only the token changed, comment and all"
    );
    assert_eq!(
        registry.keys(),
        vec![created["key"].as_str().expect("key").to_string()]
    );
    // The name carries over.
    assert_eq!(registry.creates()[0]["name"], "laptop session");
    let run = env.rtok().arg("whoami").run();
    run.success();
}

#[test]
fn a_failed_revoke_of_the_token_in_use_restores_the_file() {
    let session = "npm_SessionTokenInUseAbCdEfGhIjKlMnOpQr0002";
    let registry = TokenRegistry::start(session, Vec::new());
    registry.fail_deletes_of("session-key-0001");
    let env = TestEnv::new();
    env.register_secret(session);
    let nerf = registry.nerf_dart();
    let before = format!(
        "registry={}\n{nerf}:_authToken={session}\nfetch-retries=0\n",
        registry.url()
    );
    env.write_userconfig(&before);
    let run = env
        .rtok()
        .args(["token", "rotate", "current", "--password-stdin"])
        .stdin(PASSWORD)
        .run();
    assert_error(&run, 1, "could not revoke the old token session-key-0001");
    assert!(
        run.stderr
            .contains(&format!("restored {}", env.userconfig.display())),
        "{}",
        run.describe("restored")
    );
    assert_eq!(env.read_userconfig(), before);
    assert_eq!(
        registry.keys(),
        vec!["session-key-0001".to_string()],
        "the new token was revoked"
    );
}

#[test]
fn granular_restrictions_are_requested_again() {
    let session = "npm_SessionTokenInUseAbCdEfGhIjKlMnOpQr0003";
    let mut old = granular_token("0b6f6d3e-aaaa-4c5e-9a51-6c1e0c7e0a01", "deploy");
    old["readonly"] = json!(true);
    old["cidr"] = json!(["10.0.0.0/8"]);
    old["created"] = json!("2026-01-01T00:00:00.000Z");
    old["expiry"] = json!("2026-01-31T00:00:00.000Z");
    old["scopes"] =
        json!([{"type": "package", "name": "left-pad"}, {"type": "org", "name": "acme"}]);
    old["permissions"] =
        json!([{"name": "package", "action": "write"}, {"name": "org", "action": "read"}]);
    let registry = TokenRegistry::start(
        session,
        vec![(old, "npm_OldGranularSecretValue0000000000000001".into())],
    );
    let env = TestEnv::new();
    env.register_secret(session);
    env.write_userconfig(&npmrc_for_mock(&registry.url(), session));
    let run = env
        .rtok()
        .args(["token", "rotate", "0b6f6d3e-a", "--password-stdin"])
        .stdin(PASSWORD)
        .run();
    run.success();
    let request = &registry.creates()[0];
    assert_eq!(request["name"], "deploy");
    assert_eq!(request["description"], "deploy (made by the rtok tests)");
    assert_eq!(request["readonly"], true);
    assert_eq!(request["cidr_whitelist"], json!(["10.0.0.0/8"]));
    assert_eq!(request["packages"], json!(["left-pad"]));
    assert_eq!(request["orgs"], json!(["acme"]));
    assert_eq!(request["packages_and_scopes_permission"], "read-write");
    assert_eq!(request["orgs_permission"], "read-only");
    assert_eq!(request["expires"], 30);
    assert!(
        !registry
            .keys()
            .contains(&"0b6f6d3e-aaaa-4c5e-9a51-6c1e0c7e0a01".to_string())
    );
}

#[test]
fn rotate_current_needs_a_listed_token() {
    let reg = shared();
    let user = reg.new_user("rotatecurrent");
    let env = TestEnv::new();
    env.register_secret(&user.token);
    env.write_userconfig(&reg.npmrc_for(&user));
    // Verdaccio does not list login session tokens.
    let run = env
        .rtok()
        .args(["token", "rotate", "current", "--password-stdin"])
        .stdin(user.password.clone())
        .run();
    assert_error(&run, 1, "not in the registry's token list");
}

#[test]
fn a_new_token_that_does_not_work_is_revoked_and_nothing_saved() {
    let session = "npm_SessionTokenInUseAbCdEfGhIjKlMnOpQr0004";
    let registry = TokenRegistry::start(session, Vec::new());
    registry.refuse_new_tokens();
    let env = TestEnv::new();
    env.register_secret(session);
    let before = npmrc_for_mock(&registry.url(), session);
    env.write_userconfig(&before);
    let run = env
        .rtok()
        .args(["token", "rotate", "current", "--password-stdin"])
        .stdin(PASSWORD)
        .run();
    assert_error(&run, 1, "the new token does not work");
    assert!(
        run.stderr.contains("rolled back")
            && run
                .stderr
                .contains("revoked the new token created-key-0001"),
        "{}",
        run.stderr
    );
    assert_eq!(env.read_userconfig(), before);
    assert_eq!(registry.keys(), vec!["session-key-0001".to_string()]);
}

#[test]
fn a_rollback_keeps_what_another_process_wrote_meanwhile() {
    // Probe #4: the old token's revocation fails after another process
    // wrote to the same file (here: the proxy writes, as a concurrent
    // `rtok login` would, between the save and the rollback). The rollback
    // puts back the old token and keeps the other line.
    let session = "npm_SessionTokenInUseAbCdEfGhIjKlMnOpQr0006";
    let registry = TokenRegistry::start(session, Vec::new());
    let env = TestEnv::new();
    env.register_secret(session);
    let userconfig = env.userconfig.clone();
    let other_line = "//other.example/:_authToken=written-meanwhile\n";
    let proxy = forwarding_proxy(&registry.url(), move |req| {
        (req.method == "DELETE" && req.path.ends_with("/session-key-0001")).then(|| {
            let mut text = std::fs::read_to_string(&userconfig).expect("read the user config");
            text.push_str(other_line);
            std::fs::write(&userconfig, text).expect("write the user config");
            Reply::json(503, json!({"error": "maintenance"}))
        })
    });
    let before = format!(
        "; mine\nregistry={}\n{}:_authToken={session}\nfetch-retries=0\n",
        proxy.url(),
        proxy.nerf_dart()
    );
    env.write_userconfig(&before);
    let run = env
        .rtok()
        .args(["token", "rotate", "current", "--password-stdin"])
        .stdin(PASSWORD)
        .run();
    assert_error(&run, 1, "could not revoke the old token session-key-0001");
    assert!(
        run.stderr.contains("rolled back"),
        "{}",
        run.describe("rolled back")
    );
    assert_eq!(
        env.read_userconfig(),
        format!("{before}{other_line}"),
        "the old token is back and the other process's line is kept"
    );
    assert_eq!(registry.keys(), vec!["session-key-0001".to_string()]);
}

#[test]
fn an_old_token_revoked_meanwhile_is_no_reason_to_roll_back() {
    // Probe #4's race: another rotate revoked the old token first. A 404
    // for it means it is gone, so the new token (saved, working) stays and
    // nothing claims the old one still works.
    let session = "npm_SessionTokenInUseAbCdEfGhIjKlMnOpQr0007";
    let registry = TokenRegistry::start(session, Vec::new());
    let env = TestEnv::new();
    env.register_secret(session);
    let proxy = forwarding_proxy(&registry.url(), |req| {
        (req.method == "DELETE" && req.path.ends_with("/session-key-0001"))
            .then(|| Reply::json(404, json!({"error": "not found"})))
    });
    env.write_userconfig(&format!(
        "registry={}\n{}:_authToken={session}\nfetch-retries=0\n",
        proxy.url(),
        proxy.nerf_dart()
    ));
    let run = env
        .rtok()
        .args(["token", "rotate", "current", "--password-stdin"])
        .stdin(PASSWORD)
        .run();
    run.success();
    let new_token = run.stdout.trim().to_string();
    env.register_secret(&new_token);
    assert!(
        run.stderr.contains("was already revoked") && !run.stderr.contains("still works"),
        "{}",
        run.describe("a note that the old token was gone")
    );
    assert!(
        env.read_userconfig()
            .contains(&format!("_authToken={new_token}\n")),
        "the new token is saved"
    );
}

#[test]
fn a_new_token_that_does_not_work_comes_with_a_hint() {
    // Probe #19: the error had no `hint:` line.
    let session = "npm_SessionTokenInUseAbCdEfGhIjKlMnOpQr0008";
    let registry = TokenRegistry::start(session, Vec::new());
    registry.refuse_new_tokens();
    let env = TestEnv::new();
    env.register_secret(session);
    env.write_userconfig(&npmrc_for_mock(&registry.url(), session));
    let run = env
        .rtok()
        .args(["token", "rotate", "current", "--password-stdin"])
        .stdin(PASSWORD)
        .run();
    assert_error(&run, 1, "the new token does not work");
    assert!(hint(&run).contains("rtok doctor"), "{}", run.stderr);
}

#[test]
fn a_stage_only_token_is_replaced_by_a_stage_only_one() {
    let session = "npm_SessionTokenInUseAbCdEfGhIjKlMnOpQr0009";
    let mut old = granular_token("5a5a5a5a-aaaa-4c5e-9a51-6c1e0c7e0a01", "release");
    old["publish_policy"] = json!("stage_only");
    old["scopes"] = json!([{"type": "package", "name": "left-pad"}]);
    old["permissions"] = json!([{"name": "package", "action": "write"}]);
    let registry = TokenRegistry::start(
        session,
        vec![(old, "npm_OldStageOnlySecretValue000000000000001".into())],
    );
    let env = TestEnv::new();
    env.register_secret(session);
    env.write_userconfig(&npmrc_for_mock(&registry.url(), session));
    env.rtok()
        .args(["token", "rotate", "5a5a5a5a-a", "--password-stdin"])
        .stdin(PASSWORD)
        .run()
        .success();
    assert_eq!(
        registry.creates()[0]["packages_and_scopes_permission"],
        "read-write-stage-only"
    );
}
