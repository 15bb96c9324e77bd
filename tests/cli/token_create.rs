//! `rtok token create` on Verdaccio and, for two-factor challenges, the mock.

use crate::support::*;
use crate::token_list::user_with_tokens;

#[test]
fn creates_a_read_only_cidr_token_and_prints_it_once() {
    let (user, env, _) = user_with_tokens("create", 0);
    let password = &user.password;
    let run = env
        .rtok()
        .args([
            "token",
            "create",
            "--read-only",
            "--cidr",
            "10.0.0.0/8,192.168.0.0/16",
            "--password-stdin",
        ])
        .stdin(format!("{password}\n"))
        .run();
    run.success();
    let token = run.stdout.trim().to_string();
    assert!(
        token.len() > 20,
        "{}",
        run.describe("the full token on stdout")
    );
    assert!(
        run.stderr.contains("read-only"),
        "{}",
        run.describe("details on stderr")
    );
    env.register_secret(&token);

    // The registry really got readonly and the CIDR list (npm 11 drops
    // --read-only).
    let run = env.rtok().args(["token", "list", "--json"]).run();
    run.success();
    let listed = run.json();
    let created = listed
        .as_array()
        .expect("array")
        .iter()
        .find(|o| rtok::tokens::mask::mask_matches(o["token"].as_str().unwrap_or(""), &token))
        .expect("the new token is listed");
    assert_eq!(created["readonly"], true);
    assert_eq!(created["cidr"], json!(["10.0.0.0/8", "192.168.0.0/16"]));
}

#[test]
fn json_output_carries_the_full_token() {
    let (user, env, _) = user_with_tokens("createjson", 0);
    let run = env
        .rtok()
        .args(["token", "create", "--password-stdin", "--json"])
        .stdin(user.password.clone())
        .run();
    run.success();
    let created = run.json();
    let token = created["token"].as_str().expect("token");
    assert!(
        !token.contains("***") && token.len() > 20,
        "not masked: {token}"
    );
    assert!(created["key"].is_string());

    let run = env
        .rtok()
        .args(["token", "create", "--password-stdin", "--parseable"])
        .stdin(user.password.clone())
        .run();
    run.success();
    let token_line = run
        .stdout_lines()
        .into_iter()
        .find(|l| l.starts_with("token\t"))
        .expect("token line")
        .to_string();
    assert!(token_line.len() > "token\t".len() + 20);
}

#[test]
fn a_wrong_password_is_exit_4() {
    let (_user, env, _) = user_with_tokens("wrongpw", 0);
    let run = env
        .rtok()
        .args(["token", "create", "--password-stdin"])
        .stdin("not-the-password")
        .run();
    assert_error(&run, 4, "401");
}

#[test]
fn invalid_cidrs_fail_before_any_request() {
    let mock = MockRegistry::start(|_| Reply::json(500, json!({})));
    let env = TestEnv::new();
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "tok"));
    let run = env
        .rtok()
        .args([
            "token",
            "create",
            "--cidr",
            "10.0.0.0/8,10.0.0.999/8",
            "--password-stdin",
        ])
        .stdin("pw")
        .run();
    assert_error(&run, 1, "`10.0.0.999/8`");
    let run = env
        .rtok()
        .args(["token", "create", "--cidr", "::1/128", "--password-stdin"])
        .stdin("pw")
        .run();
    assert_error(&run, 1, "IPv6");
    assert!(mock.requests().is_empty());
}

#[test]
fn without_a_terminal_the_password_flag_is_named() {
    let mock = MockRegistry::start(|_| Reply::json(500, json!({})));
    let env = TestEnv::new();
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "tok"));
    let run = env.rtok().args(["token", "create"]).run();
    assert_error(&run, 4, "password");
    assert!(hint(&run).contains("--password-stdin"));
    assert!(mock.requests().is_empty());
}

#[test]
fn sends_npm_11s_granular_fields_and_readonly() {
    let mock = MockRegistry::start(|req| {
        let mut created = req.json();
        created["token"] = json!("npm_NEWTOKENVALUE0123456789abcdefghij");
        created["key"] = json!("fresh-key");
        Reply::json(201, created)
    });
    let env = TestEnv::new();
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "session"));
    let run = env
        .rtok()
        .args([
            "token",
            "create",
            "--password-stdin",
            "--json",
            "--read-only",
            "--name",
            "ci",
            "--token-description",
            "for CI",
            "--expires",
            "30",
            "--packages",
            "a",
            "--packages",
            "b",
            "--scopes",
            "@acme",
            "--orgs",
            "acme",
            "--packages-and-scopes-permission",
            "read-only",
            "--orgs-permission",
            "no-access",
            "--bypass-2fa",
            "--cidr",
            "1.2.3.4/32",
        ])
        .stdin("pw")
        .allow_secret("npm_NEWTOKENVALUE0123456789abcdefghij")
        .run();
    run.success();
    let requests = mock.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "POST");
    assert_eq!(requests[0].path, "/-/npm/v1/tokens");
    assert_eq!(
        requests[0].json(),
        json!({
            "name": "ci", "password": "pw", "description": "for CI", "packages": ["a", "b"],
            "scopes": ["@acme"], "orgs": ["acme"], "packages_and_scopes_permission": "read-only",
            "orgs_permission": "no-access", "expires": 30, "cidr_whitelist": ["1.2.3.4/32"],
            "bypass_2fa": true, "readonly": true
        })
    );
    assert_eq!(run.json()["token"], "npm_NEWTOKENVALUE0123456789abcdefghij");
}

#[test]
fn an_otp_challenge_without_a_terminal_names_the_flag() {
    let mock = MockRegistry::start(|req| match req.header("npm-otp") {
        None => {
            Reply::json(401, json!({"error": "otp required"})).header("www-authenticate", "OTP")
        }
        Some(_) => Reply::json(201, json!({"token": "npm_CREATED", "key": "k"})),
    });
    let env = TestEnv::new();
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "session"));
    let run = env
        .rtok()
        .args(["token", "create", "--password-stdin"])
        .stdin("pw")
        .run();
    assert_error(&run, 4, "one-time password");
    assert!(hint(&run).contains("--otp"));
    assert_eq!(mock.requests().len(), 1, "no blind retry");

    let run = env
        .rtok()
        .args(["token", "create", "--password-stdin", "--otp", "123456"])
        .stdin("pw")
        .allow_secret("npm_CREATED")
        .run();
    run.success();
    assert_eq!(run.stdout.trim(), "npm_CREATED");
    let last = mock.requests().pop().expect("a request");
    assert_eq!(last.header("npm-otp"), Some("123456"));
    assert_eq!(last.header("npm-auth-type"), Some("legacy"));
}

#[test]
fn a_rejected_otp_says_so() {
    let mock = MockRegistry::start(|_| {
        Reply::json(401, json!({"error": "You must provide a one-time pass."}))
    });
    let env = TestEnv::new();
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "session"));
    let run = env
        .rtok()
        .args(["token", "create", "--password-stdin", "--otp", "000000"])
        .stdin("pw")
        .run();
    assert_error(&run, 4, "one-time password");
    assert!(
        hint(&run).contains("rejected or has expired"),
        "{}",
        run.describe("the rejected-code hint")
    );
}

#[test]
fn on_a_terminal_the_password_and_the_one_time_password_are_asked_for() {
    let mock = MockRegistry::start(|req| match req.header("npm-otp") {
        None => {
            Reply::json(401, json!({"error": "otp required"})).header("www-authenticate", "OTP")
        }
        Some("123456") if req.json()["password"] == "typed-password" => {
            Reply::json(201, json!({"token": "npm_FromAPromptedCreate", "key": "k"}))
        }
        Some(_) => Reply::json(401, json!({"error": "bad otp"})).header("www-authenticate", "OTP"),
    });
    let env = TestEnv::new();
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "session"));
    let mut command = raw_rtok(&env);
    command.args(["token", "create"]);
    let mut session =
        rexpect::session::spawn_command(command, Some(30_000)).expect("spawn rtok in a pty");
    let mut seen = session.exp_string("Password: ").expect("password prompt");
    session
        .send_line("typed-password")
        .expect("send the password");
    seen += &session.exp_string("Enter OTP: ").expect("OTP prompt");
    session.send_line("123 456").expect("send the code");
    seen += &session.exp_eof().expect("rtok exits");
    assert!(
        !seen.contains("typed-password"),
        "the password was echoed: {seen}"
    );
    assert!(!seen.contains("123 456"), "the code was echoed: {seen}");
    assert!(seen.contains("npm_FromAPromptedCreate"), "{seen}");
    let requests = mock.requests();
    assert_eq!(requests.len(), 2, "one try, one retry with the code");
    assert_eq!(requests[1].header("npm-otp"), Some("123456"));
}

/// A registry that creates whatever is asked and says, as npmjs does, that
/// a `read-write-stage-only` token has `publish_policy: stage_only`.
fn policy_mock() -> MockRegistry {
    MockRegistry::start(|req| {
        let body = req.json();
        let stage_only = body["packages_and_scopes_permission"] == "read-write-stage-only";
        let mut created = json!({"token": "npm_CreatedStageToken", "key": "k1", "readonly": false});
        if stage_only {
            created["publish_policy"] = json!("stage_only");
        }
        Reply::json(201, created)
    })
}

#[test]
fn stage_only_tokens_are_asked_for_as_npm_12_names_them() {
    for flags in [
        vec!["--stage-only"],
        vec!["--packages-and-scopes-permission", "read-write-stage-only"],
    ] {
        let mock = policy_mock();
        let env = TestEnv::new();
        env.write_userconfig(&npmrc_for_mock(&mock.url(), "session"));
        let run = env
            .rtok()
            .args([
                "token",
                "create",
                "--password-stdin",
                "--packages",
                "@acme/cli",
            ])
            .args(&flags)
            .stdin("pw")
            .allow_secret("npm_CreatedStageToken")
            .run();
        run.success();
        let body = mock.requests()[0].json();
        assert_eq!(
            body["packages_and_scopes_permission"], "read-write-stage-only",
            "{flags:?}: {body}"
        );
        assert!(
            run.stderr.contains("Created a stage-only token"),
            "{}",
            run.describe("the kind")
        );
        assert!(
            !run.stderr.contains("warning:"),
            "{}",
            run.describe("no warning")
        );
    }
}

#[test]
fn a_token_that_publishes_directly_gets_a_warning_naming_stage_only() {
    let mock = policy_mock();
    let env = TestEnv::new();
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "session"));
    let run = env
        .rtok()
        .args([
            "token",
            "create",
            "--password-stdin",
            "--packages-and-scopes-permission",
            "read-write",
        ])
        .stdin("pw")
        .allow_secret("npm_CreatedStageToken")
        .run();
    run.success();
    assert!(
        run.stderr.contains("warning:") && run.stderr.contains("--stage-only"),
        "{}",
        run.describe("the warning")
    );
    let run = env
        .rtok()
        .args(["token", "create", "--password-stdin", "--read-only"])
        .stdin("pw")
        .allow_secret("npm_CreatedStageToken")
        .run();
    run.success();
    assert!(
        !run.stderr.contains("warning:"),
        "{}",
        run.describe("read-only: no warning")
    );
    // Organisations have no stage-only level; nothing is sent.
    let before = mock.requests().len();
    let run = env
        .rtok()
        .args([
            "token",
            "create",
            "--password-stdin",
            "--orgs-permission",
            "read-write-stage-only",
        ])
        .stdin("pw")
        .run();
    assert_error(&run, 2, "no stage-only level");
    assert_eq!(mock.requests().len(), before);
}

#[test]
fn e_stage_required_is_explained() {
    // Its exact shape is undocumented: a 403 with the code in `code`, and
    // one with it in the message.
    for body in [
        json!({"code": "E_STAGE_REQUIRED", "error": "Forbidden"}),
        json!({"error": "E_STAGE_REQUIRED: this token can only stage publishes"}),
    ] {
        let mock = MockRegistry::start(move |_| Reply::json(403, body.clone()));
        let env = TestEnv::new();
        env.write_userconfig(&npmrc_for_mock(&mock.url(), "session"));
        let run = env
            .rtok()
            .args(["token", "create", "--password-stdin"])
            .stdin("pw")
            .run();
        assert_error(&run, 1, "E_STAGE_REQUIRED");
        let hint = hint(&run);
        assert!(
            hint.contains("stage-only")
                && hint.contains("npm stage publish")
                && hint.contains("rtok stage approve"),
            "{}",
            run.describe("the explanation")
        );
    }
}
