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
    assert_eq!(verdaccio["kind"], "token");
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
    assert_eq!(run.json()[0]["kind"], "basic auth");
    assert_eq!(run.json()[0]["credential"], "carol:***");
}

#[test]
fn no_credentials_at_all_is_exit_4() {
    let env = TestEnv::new();
    env.write_userconfig("registry=http://127.0.0.1:9/\n");
    let run = env.rtok().arg("status").run();
    assert_error(&run, 4, "no registry credentials");
}
