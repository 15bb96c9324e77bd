//! `rtok status`: one row per configured credential, checked at once.

use crate::support::*;

#[test]
fn shows_every_credential_and_fails_when_one_is_rejected() {
    let reg = shared();
    let user = reg.new_user("status");
    let good = MockRegistry::start(|req| match req.bearer() {
        Some("npm_EnvironmentTokenAbCdEfGhIjKlMnOpQr1234") => {
            Reply::json(200, json!({"username": "from-env"}))
        }
        _ => Reply::json(401, json!({"error": "nope"})),
    });
    let bad = MockRegistry::start(|_| Reply::json(401, json!({"error": "token revoked"})));
    let env = TestEnv::new();
    env.register_secret(&user.token);
    env.register_secret("npm_EnvironmentTokenAbCdEfGhIjKlMnOpQr1234");
    env.register_secret("npm_RevokedTokenAbCdEfGhIjKlMnOpQrStUv5678");
    env.write_userconfig(&format!(
        "{}@acme:registry={}\n{}:_authToken=npm_RevokedTokenAbCdEfGhIjKlMnOpQrStUv5678\n",
        reg.npmrc_for(&user),
        bad.url(),
        bad.nerf_dart(),
    ));
    let good_nerf = good.nerf_dart();
    let run = env
        .rtok()
        .args(["status", "--json"])
        .env(
            format!("npm_config_{good_nerf}:_authToken"),
            "npm_EnvironmentTokenAbCdEfGhIjKlMnOpQr1234",
        )
        .env("npm_config_registry_for_status_test", "unused")
        .run();
    run.failure(1);
    let rows = run.json();
    let rows = rows.as_array().expect("array");
    assert_eq!(rows.len(), 3);
    let row = |url: &str| {
        rows.iter()
            .find(|r| r["registry"] == url)
            .unwrap_or_else(|| panic!("no row for {url}: {rows:?}"))
    };
    let verdaccio = row(&reg.url);
    assert_eq!(verdaccio["user"], json!(user.name));
    // Verdaccio lists the tokens made with `token create`, not the login
    // token: a listed account without it is a session token.
    assert_eq!(verdaccio["kind"], "session");
    assert_eq!(verdaccio["state"], "ok");
    assert_eq!(
        verdaccio["source"],
        format!("{}:2", env.userconfig.display())
    );
    let from_env = row(&good.url());
    assert_eq!(from_env["user"], "from-env");
    assert!(
        from_env["source"]
            .as_str()
            .expect("source")
            .contains("environment variable")
    );
    assert_eq!(from_env["credential"], "npm_Envi...1234");
    let rejected = row(&bad.url());
    assert!(
        rejected["error"]
            .as_str()
            .expect("error")
            .contains("token revoked")
    );
    assert!(
        run.stderr.contains("1 of 3 credentials failed"),
        "{}",
        run.describe("the summary")
    );

    let run = env.rtok().arg("status").run();
    run.failure(1);
    for needle in [&reg.url[..], "token", &user.name[..], "failed: "] {
        assert!(
            run.stdout.contains(needle),
            "{}",
            run.describe(&format!("`{needle}` in the table"))
        );
    }
}

#[test]
fn all_good_is_exit_0_and_basic_auth_shows_the_user_only() {
    let mock = MockRegistry::start(|req| match req.header("authorization") {
        Some(auth) if auth.starts_with("Basic ") => Reply::json(200, json!({"username": "carol"})),
        _ => Reply::json(401, json!({})),
    });
    let env = TestEnv::new();
    env.register_secret("c2VjcmV0");
    let nerf = mock.nerf_dart();
    env.write_userconfig(&format!(
        "registry={}\n{nerf}:username=carol\n{nerf}:_password=c2VjcmV0\n",
        mock.url()
    ));
    let run = env.rtok().args(["status", "--json"]).run();
    run.success();
    assert_eq!(run.json()[0]["kind"], "basic");
    assert_eq!(run.json()[0]["credential"], "carol:***");
}

#[test]
fn no_credentials_at_all_is_exit_4() {
    let env = TestEnv::new();
    env.write_userconfig("registry=http://127.0.0.1:9/\n");
    let run = env.rtok().arg("status").run();
    assert_error(&run, 4, "no registry credentials");
}

#[test]
fn a_credential_naming_an_unset_variable_is_a_row_that_names_it() {
    let env = TestEnv::new();
    env.write_userconfig(
        "registry=https://r.example/\n//r.example/:_authToken=${RTOK_TEST_NOT_SET}\n",
    );
    let run = env.rtok().args(["status", "--json"]).run();
    run.failure(1);
    let rows = run.json();
    let rows = rows.as_array().expect("an array");
    assert_eq!(rows.len(), 1, "{}", run.describe("one row"));
    let row = &rows[0];
    assert_eq!(row["registry"], "https://r.example/");
    assert_eq!(row["variable"], "RTOK_TEST_NOT_SET");
    assert_eq!(
        row["source"],
        format!("{}:2 ($RTOK_TEST_NOT_SET)", env.userconfig.display())
    );
    assert!(
        row["error"]
            .as_str()
            .is_some_and(|e| e.contains("RTOK_TEST_NOT_SET") && e.contains("not set")),
        "{}",
        run.describe("an error naming the variable")
    );
    assert!(run.stderr.contains("1 of 1 credentials failed"));

    let run = env.rtok().arg("status").run();
    run.failure(1);
    assert!(
        run.stdout.contains("r.example") && run.stdout.contains("RTOK_TEST_NOT_SET"),
        "{}",
        run.describe("a row naming the variable")
    );
}

#[test]
fn sources_name_the_variable_behind_a_reference_and_the_environment() {
    let mock = MockRegistry::start(|_| Reply::json(200, json!({"username": "vera"})));
    let env = TestEnv::new();
    env.register_secret("npm_VariableTokenAbCdEfGhIjKlMnOpQrStUv99");
    env.write_userconfig(&format!(
        "registry={}\n{}:_authToken=${{RTOK_TEST_TOKEN}}\n",
        mock.url(),
        mock.nerf_dart()
    ));
    let run = env
        .rtok()
        .args(["status", "--json"])
        .env(
            "RTOK_TEST_TOKEN",
            "npm_VariableTokenAbCdEfGhIjKlMnOpQrStUv99",
        )
        .run();
    run.success();
    let row = &run.json()[0];
    assert_eq!(
        row["source"],
        format!("{}:2 ($RTOK_TEST_TOKEN)", env.userconfig.display())
    );
    assert_eq!(row["variable"], "RTOK_TEST_TOKEN");
    assert_eq!(row["user"], "vera");

    let other = MockRegistry::start(|_| Reply::json(200, json!({"username": "envy"})));
    let variable = format!("npm_config_{}:_authToken", other.nerf_dart());
    env.write_userconfig(&format!("registry={}\n", other.url()));
    let run = env
        .rtok()
        .args(["status", "--json"])
        .env(&variable, "npm_VariableTokenAbCdEfGhIjKlMnOpQrStUv99")
        .run();
    run.success();
    assert_eq!(run.json()[0]["variable"], json!(variable));
    assert!(
        run.json()[0]["source"]
            .as_str()
            .is_some_and(|s| s.contains(&variable)),
        "{}",
        run.describe("the variable in the source")
    );
}

#[test]
fn status_uses_the_shared_client_with_its_verbose_log() {
    let mock = MockRegistry::start(|_| Reply::json(200, json!({"username": "logged"})));
    let env = TestEnv::new();
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "status-token-1234"));
    env.register_secret("status-token-1234");
    let run = env.rtok().args(["status", "-v"]).run();
    run.success();
    assert!(
        run.stderr
            .contains(&format!("http GET {}-/whoami 200", mock.url())),
        "{}",
        run.describe("a --verbose line for the whoami")
    );
}

#[test]
fn status_warns_when_strict_ssl_is_off() {
    let ca = TestCa::new("status tolerated CA");
    let registry = TlsRegistry::start(&ca.server(), None, |path, auth| match (path, auth) {
        ("/-/whoami", Some("Bearer tls-status-token")) => {
            (200, r#"{"username":"tls-user"}"#.into())
        }
        _ => (401, r#"{"error":"no"}"#.into()),
    });
    let env = TestEnv::new();
    env.register_secret("tls-status-token");
    env.write_userconfig(&format!(
        "registry={}\n//127.0.0.1:{}/:_authToken=tls-status-token\nstrict-ssl=false\n",
        registry.url(),
        registry.port()
    ));
    let run = env.rtok().args(["status", "--json"]).run();
    run.success();
    assert_eq!(run.json()[0]["user"], "tls-user");
    assert!(
        run.stderr.contains("warning: `strict-ssl` is false"),
        "{}",
        run.describe("the strict-ssl warning")
    );
}

#[test]
fn registry_strings_cannot_drive_the_terminal() {
    let hostile = "evil\u{1b}[2J\u{1b}]0;owned\u{7}\rname\u{8}";
    let mock = MockRegistry::start(move |_| Reply::json(200, json!({"username": hostile})));
    let env = TestEnv::new();
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "hostile-token-1234"));
    for args in [&["status"][..], &["whoami"][..]] {
        let run = env.rtok().args(args).run();
        run.success();
        for raw in ['\u{1b}', '\u{7}', '\r', '\u{8}'] {
            assert!(
                !run.stdout.contains(raw) && !run.stderr.contains(raw),
                "{}",
                run.describe(&format!("no raw {raw:?} from `rtok {}`", args.join(" ")))
            );
        }
        assert!(
            run.stdout.contains("evil^[[2J^[]0;owned^G^Mname^H"),
            "{}",
            run.describe("the control characters shown")
        );
    }
    // JSON keeps the exact string, escaped by JSON.
    let run = env.rtok().args(["whoami", "--json"]).run();
    run.success();
    assert_eq!(run.json(), json!(hostile));
}

/// Issue 17: `storage` is where rtok found the credential. A `${VAR}` line
/// of an `.npmrc` is found in the file (`variable` names the indirection);
/// an `NPM_CONFIG_*` variable is `env`.
#[test]
fn storage_is_where_the_credential_was_found() {
    let mock = MockRegistry::start(|_| Reply::json(200, json!({"username": "vera"})));
    let other = MockRegistry::start(|_| Reply::json(200, json!({"username": "envy"})));
    let env = TestEnv::new();
    let token = "npm_StorageTokenAbCdEfGhIjKlMnOpQrStUv0001";
    env.register_secret(token);
    env.write_userconfig(&format!(
        "registry={}\n{}:_authToken=${{RTOK_TEST_TOKEN}}\n",
        mock.url(),
        mock.nerf_dart()
    ));
    let run = env
        .rtok()
        .args(["status", "--json"])
        .env("RTOK_TEST_TOKEN", token)
        .env(
            format!("npm_config_{}:_authToken", other.nerf_dart()),
            token,
        )
        .run();
    run.success();
    let rows = run.json();
    let row = |url: &str| {
        rows.as_array()
            .expect("rows")
            .iter()
            .find(|r| r["registry"] == url)
            .unwrap_or_else(|| panic!("no row for {url}: {rows}"))
            .clone()
    };
    let in_file = row(&mock.url());
    assert_eq!(in_file["storage"], "file");
    assert_eq!(in_file["variable"], "RTOK_TEST_TOKEN");
    let in_env = row(&other.url());
    assert_eq!(in_env["storage"], "env");
    assert_eq!(
        in_env["variable"],
        format!("npm_config_{}:_authToken", other.nerf_dart())
    );
}

/// Probe #1 (r06): a cloned project's `.npmrc` names a host for
/// `${NPM_TOKEN}`; `status` lists that credential, sends it nowhere, and
/// does not fail for it. A project line for the user's own registry is
/// still checked.
#[test]
fn a_credential_only_the_project_names_is_listed_not_sent() {
    let attacker = MockRegistry::start(|_| Reply::json(200, json!({"username": "attacker"})));
    let mine = MockRegistry::start(|_| Reply::json(200, json!({"username": "me"})));
    let env = TestEnv::new();
    let secret = "npm_UserSecretFromShellEnv0123456789abcd";
    env.register_secret(secret);
    env.write_userconfig(&format!("registry={}\n", mine.url()));
    std::fs::write(
        env.project.join(".npmrc"),
        format!("{}:_authToken=${{NPM_TOKEN}}\n", attacker.nerf_dart()),
    )
    .expect("project .npmrc");
    let run = env
        .rtok()
        .args(["status", "--json"])
        .env("NPM_TOKEN", secret)
        .run();
    run.success();
    let row = &run.json()[0];
    assert_eq!(row["registry"], attacker.url());
    assert_eq!(row["state"], "unchecked");
    assert_eq!(row["storage"], "file");
    assert_eq!(row["variable"], "NPM_TOKEN");
    let why = row["error"].as_str().expect("the reason");
    assert!(
        why.contains("project") && why.contains("not checked"),
        "{why}"
    );
    let human = env.rtok().arg("status").env("NPM_TOKEN", secret).run();
    human.success();
    assert!(
        human.stdout.contains("unchecked") && !human.stdout.contains("failed:"),
        "{}",
        human.describe("an unchecked row that is no failure")
    );
    assert!(
        attacker.requests().is_empty(),
        "the project's host received {:?}",
        attacker
            .requests()
            .iter()
            .map(|r| r.path_only().to_string())
            .collect::<Vec<_>>()
    );

    // The same line for the user's own registry is checked as before.
    std::fs::write(
        env.project.join(".npmrc"),
        format!("{}:_authToken=${{NPM_TOKEN}}\n", mine.nerf_dart()),
    )
    .expect("project .npmrc");
    let run = env
        .rtok()
        .args(["status", "--json"])
        .env("NPM_TOKEN", secret)
        .run();
    run.success();
    assert_eq!(run.json()[0]["state"], "ok");
    assert_eq!(run.json()[0]["user"], "me");
}

/// Issue 17: with registry `http://r.example:4873/npm/`, a credential for
/// `//r.example:4873/other/` is that host's plain-HTTP registry in
/// `status` too (as in `keyring` and `scan`), not `https:`. A proxy stands
/// in for the network, so the name needs no DNS.
#[test]
fn a_nerf_dart_on_the_configured_host_keeps_its_scheme() {
    let proxy = MockRegistry::start(|req| match req.path_only() {
        "http://r.example:4873/other/-/whoami" => Reply::json(200, json!({"username": "other"})),
        "http://r.example:4873/npm/-/whoami" => Reply::json(200, json!({"username": "npm"})),
        _ => Reply::json(404, json!({"error": "not found"})),
    });
    let env = TestEnv::new();
    env.register_secret("nerf-scheme-token-0001");
    env.register_secret("nerf-scheme-token-0002");
    env.write_userconfig(&format!(
        "registry=http://r.example:4873/npm/\n//r.example:4873/npm/:_authToken=nerf-scheme-token-0001\n//r.example:4873/other/:_authToken=nerf-scheme-token-0002\nproxy={}\nfetch-retries=0\n",
        proxy.url()
    ));
    let run = env.rtok().args(["status", "--json"]).run();
    run.success();
    let rows = run.json();
    let registries: Vec<&str> = rows
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["registry"].as_str().expect("registry"))
        .collect();
    assert_eq!(
        registries,
        ["http://r.example:4873/npm/", "http://r.example:4873/other/"]
    );
}
