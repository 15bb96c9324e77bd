//! `rtok whoami` on the real registry, and the ways it can fail.

use crate::support::*;

#[test]
fn prints_the_user_on_verdaccio() {
    let reg = shared();
    let user = reg.new_user("whoami");
    let env = TestEnv::new();
    env.register_secret(&user.token);
    env.register_secret(&user.password);
    env.write_userconfig(&reg.npmrc_for(&user));

    let run = env.rtok().arg("whoami").run();
    run.success();
    assert_eq!(run.stdout, format!("{}\n", user.name));
    assert!(
        run.stderr.is_empty(),
        "{}",
        run.describe("nothing on stderr")
    );

    let run = env.rtok().args(["whoami", "--json"]).run();
    run.success();
    assert_eq!(run.json(), json!(user.name));
}

#[test]
fn verbose_logs_the_request_without_the_token() {
    let reg = shared();
    let user = reg.new_user("verbose");
    let env = TestEnv::new();
    env.register_secret(&user.token);
    env.write_userconfig(&reg.npmrc_for(&user));
    let run = env.rtok().args(["-v", "whoami"]).run();
    run.success();
    assert!(
        run.stderr.contains(&format!("GET {}-/whoami 200", reg.url)),
        "{}",
        run.describe("a verbose request line")
    );
}

#[test]
fn the_token_can_come_from_the_environment() {
    let reg = shared();
    let user = reg.new_user("envtoken");
    let env = TestEnv::new();
    env.register_secret(&user.token);
    // The file names a variable; the variable holds the token.
    env.write_userconfig(&format!(
        "registry={}\n{}:_authToken=${{MY_TOKEN}}\n",
        reg.url,
        reg.nerf_dart()
    ));
    let run = env.rtok().arg("whoami").env("MY_TOKEN", &user.token).run();
    run.success();
    assert_eq!(run.stdout.trim(), user.name);

    // npm_config_* works too, with the nerf dart kept verbatim.
    let env = TestEnv::new();
    env.register_secret(&user.token);
    let run = env
        .rtok()
        .args(["whoami", "--registry", &reg.url])
        .env(
            format!("npm_config_{}:_authToken", reg.nerf_dart()),
            &user.token,
        )
        .run();
    run.success();
    assert_eq!(run.stdout.trim(), user.name);
}

#[test]
fn an_unset_variable_is_an_error_and_nothing_is_sent() {
    let mock = MockRegistry::start(|_| Reply::json(200, json!({"username": "nobody"})));
    let env = TestEnv::new();
    let nerf = mock.nerf_dart();
    env.write_userconfig(&format!(
        "registry={}\n# token from CI\n{nerf}:_authToken=${{NPM_TOKEN}}\n",
        mock.url()
    ));
    let run = env.rtok().arg("whoami").run();
    assert_error(&run, 1, "${NPM_TOKEN}");
    assert!(
        run.stderr
            .contains(&format!("{}:3", env.userconfig.display())),
        "{}",
        run.describe("file and line")
    );
    assert!(hint(&run).contains("NPM_TOKEN"));
    assert!(
        mock.requests().is_empty(),
        "no request may carry the literal ${{NPM_TOKEN}}"
    );
}

#[test]
fn no_credentials_means_exit_4_with_a_login_hint() {
    let reg = shared();
    let env = TestEnv::new();
    env.write_userconfig(&format!("registry={}\n", reg.url));
    let run = env.rtok().arg("whoami").run();
    assert_error(&run, 4, "not logged in");
    assert!(
        hint(&run).contains("rtok login"),
        "{}",
        run.describe("a login hint")
    );
}

#[test]
fn a_rejected_token_means_exit_4() {
    // Verdaccio answers a bad token with 200 and no user name.
    let reg = shared();
    let env = TestEnv::new();
    env.write_userconfig(&format!(
        "registry={}\n{}:_authToken=not-a-real-token\n",
        reg.url,
        reg.nerf_dart()
    ));
    let run = env.rtok().arg("whoami").run();
    assert_error(&run, 4, "did not recognise the credential");
    assert!(
        hint(&run).contains("rtok login"),
        "{}",
        run.describe("a login hint")
    );

    // A registry that says 401 gets the same treatment.
    let mock = MockRegistry::start(|_| {
        Reply::json(401, json!({"error": "token expired"}))
            .header("www-authenticate", "Bearer realm=\"x\"")
    });
    let env = TestEnv::new();
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "expired-token"));
    let run = env.rtok().arg("whoami").run();
    assert_error(&run, 4, "401 Unauthorized: token expired");
    assert!(
        hint(&run).contains(&format!("{}:2", env.userconfig.display())),
        "{}",
        run.describe("where the token is")
    );
}

#[test]
fn scope_picks_the_scoped_registry() {
    let reg = shared();
    let user = reg.new_user("scoped");
    let env = TestEnv::new();
    env.register_secret(&user.token);
    env.write_userconfig(&format!(
        "registry=http://127.0.0.1:9/\n@acme:registry={}\n{}:_authToken={}\n",
        reg.url,
        reg.nerf_dart(),
        user.token
    ));
    let run = env.rtok().args(["whoami", "--scope", "acme"]).run();
    run.success();
    assert_eq!(run.stdout.trim(), user.name);
}

#[test]
fn an_unreachable_registry_is_a_one_line_error() {
    // Port 9 (discard) on loopback: nothing listens there.
    let env = TestEnv::new();
    env.write_userconfig(
        "registry=http://127.0.0.1:9/\n//127.0.0.1:9/:_authToken=tok\nfetch-retries=0\n",
    );
    let run = env.rtok().arg("whoami").run();
    assert_error(&run, 1, "could not connect");
}

#[test]
fn a_bad_registry_url_names_where_it_came_from() {
    let env = TestEnv::new();
    env.write_userconfig("registry=not a url\n");
    let run = env.rtok().arg("whoami").run();
    assert_error(&run, 1, "is not a URL");
    assert!(
        run.stderr
            .contains(&format!("{}:1", env.userconfig.display()))
    );
}

#[test]
fn a_token_with_a_stray_line_break_is_refused_without_showing_it() {
    // npm/cli#7819: a token pasted with its newline, here through a variable.
    let mock = MockRegistry::start(|_| Reply::json(200, json!({"username": "u"})));
    let env = TestEnv::new();
    env.register_secret("pasted-token-123");
    let nerf = mock.nerf_dart();
    env.write_userconfig(&format!(
        "registry={}\n{nerf}:_authToken=${{NPM_TOKEN}}\n",
        mock.url()
    ));
    let run = env
        .rtok()
        .arg("whoami")
        .env("NPM_TOKEN", "pasted-token-123\n")
        .run();
    assert_error(&run, 1, "holds characters an HTTP header cannot carry");
    assert!(
        run.stderr
            .contains(&format!("{}:2", env.userconfig.display())),
        "{}",
        run.describe("where it is")
    );
    assert!(hint(&run).contains("line break"));
    assert!(mock.requests().is_empty());
}
