//! `rtok logout`: revoke, then remove the credential from the file that held it.

use crate::support::*;

#[test]
fn logout_on_verdaccio_then_npm_is_logged_out() {
    let reg = shared();
    let user = reg.new_user("logout");
    let env = TestEnv::new();
    env.register_secret(&user.token);
    let before = format!(
        "# mine\nregistry={}\n{}:_authToken={}\n# after\n",
        reg.url,
        reg.nerf_dart(),
        user.token
    );
    env.write_userconfig(&before);
    env.npm().arg("whoami").run().success();

    let run = env.rtok().arg("logout").run();
    run.success();
    assert!(
        run.stderr
            .contains(&format!("Logged out of {} (user {})", reg.url, user.name)),
        "{}",
        run.stderr
    );
    assert_eq!(
        env.read_userconfig(),
        format!("# mine\nregistry={}\n# after\n", reg.url)
    );

    let npm = env.npm().arg("whoami").run();
    assert_ne!(npm.code, 0, "{}", npm.describe("npm to be logged out"));
}

#[test]
fn logout_revokes_the_token_and_reports_json() {
    let mock = MockRegistry::start(|req| match req.method.as_str() {
        "GET" => Reply::json(200, json!({"username": "u"})),
        _ => Reply::json(200, json!({})),
    });
    let env = TestEnv::new();
    env.register_secret("tok/with+odd=chars");
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "\"tok/with+odd=chars\""));
    let run = env.rtok().args(["logout", "--json"]).run();
    run.success();
    let out = run.json();
    assert_eq!(out["registry"], mock.url());
    assert_eq!(out["username"], "u");
    assert_eq!(out["revoked"], true);
    let delete = mock
        .requests()
        .into_iter()
        .find(|r| r.method == "DELETE")
        .expect("a DELETE");
    // The token is URL-encoded in the path, as encodeURIComponent does.
    assert_eq!(delete.path, "/-/user/token/tok%2Fwith%2Bodd%3Dchars");
    assert!(!env.read_userconfig().contains("_authToken"));
}

#[test]
fn logout_removes_the_credential_from_the_project_file_that_held_it() {
    let mock = MockRegistry::start(|_| Reply::json(200, json!({"username": "u"})));
    let env = TestEnv::new();
    let nerf = mock.nerf_dart();
    let project_rc = env.project.join(".npmrc");
    std::fs::write(
        &project_rc,
        format!("registry={}\n{nerf}:_authToken=project-token\n", mock.url()),
    )
    .expect("write");
    let user_rc = format!("{nerf}:_authToken=user-token\n# user file\n");
    env.write_userconfig(&user_rc);
    env.rtok().arg("logout").run().success();
    assert_eq!(
        std::fs::read_to_string(&project_rc).expect("read"),
        format!("registry={}\n", mock.url())
    );
    assert_eq!(env.read_userconfig(), user_rc, "the user file is untouched");
}

#[test]
fn a_token_at_a_parent_path_is_removed_where_it_is() {
    // npm's bug: with the registry at /npm/ and the token at //host/, npm
    // revokes the token but leaves the line.
    let mock = MockRegistry::start(|_| Reply::json(200, json!({"username": "u"})));
    let env = TestEnv::new();
    let host = mock.nerf_dart();
    env.write_userconfig(&format!(
        "registry={}npm/\n{host}:_authToken=parent-token\n",
        mock.url()
    ));
    env.rtok().arg("logout").run().success();
    assert_eq!(
        env.read_userconfig(),
        format!("registry={}npm/\n", mock.url())
    );
}

#[test]
fn a_failed_revoke_keeps_the_credential() {
    let mock = MockRegistry::start(|req| match req.method.as_str() {
        "GET" => Reply::json(200, json!({"username": "u"})),
        _ => Reply::json(502, json!({"error": "bad gateway"})),
    });
    let env = TestEnv::new();
    let original = npmrc_for_mock(&mock.url(), "still-valid")
        .replace("fetch-retry-mintimeout=10", "fetch-retries=0");
    env.write_userconfig(&original);
    let run = env.rtok().arg("logout").run();
    assert_error(&run, 1, "could not revoke the token");
    assert!(
        run.stderr.contains("so it was kept in"),
        "{}",
        run.describe("where it was kept")
    );
    assert_eq!(env.read_userconfig(), original);
}

#[test]
fn an_already_invalid_token_is_removed_and_the_message_says_so() {
    let mock = MockRegistry::start(|_| Reply::json(401, json!({"error": "invalid token"})));
    let env = TestEnv::new();
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "dead-token"));
    let run = env.rtok().arg("logout").run();
    run.success();
    assert!(
        run.stderr.contains("already invalid"),
        "{}",
        run.describe("the note")
    );
    assert!(!env.read_userconfig().contains("dead-token"));
}

#[test]
fn not_logged_in_is_exit_4_naming_the_registry() {
    let env = TestEnv::new();
    env.write_userconfig("registry=http://127.0.0.1:9/\n");
    let run = env.rtok().arg("logout").run();
    assert_error(&run, 4, "not logged in to http://127.0.0.1:9/");
}

#[test]
fn logout_with_scope_removes_the_mapping() {
    let mock = MockRegistry::start(|_| Reply::json(200, json!({"username": "u"})));
    let env = TestEnv::new();
    let nerf = mock.nerf_dart();
    env.write_userconfig(&format!(
        "@acme:registry={}\n{nerf}:_authToken=t\nother=1\n",
        mock.url()
    ));
    env.rtok()
        .args(["logout", "--scope", "@acme"])
        .run()
        .success();
    assert_eq!(env.read_userconfig(), "other=1\n");
}

#[test]
fn an_environment_token_is_revoked_and_the_variable_named() {
    let mock = MockRegistry::start(|_| Reply::json(200, json!({"username": "u"})));
    let env = TestEnv::new();
    let nerf = mock.nerf_dart();
    let run = env
        .rtok()
        .args(["logout", "--registry", &mock.url()])
        .env(format!("NPM_CONFIG_{nerf}:_authToken"), "env-token")
        .run();
    run.success();
    assert!(
        run.stderr.contains("environment variable"),
        "{}",
        run.describe("the variable")
    );
    assert!(mock.requests().iter().any(|r| r.method == "DELETE"));
}
