//! Redirects (probe defect #5): no request body, one-time password or
//! credential crosses origins; `https` is never followed to `http`; errors
//! after a redirect name the origin that answered. Two mocks on two ports
//! are two origins; the one redirected to records what it received.

use crate::support::*;

/// A mock that records everything and answers as a registry would, so a
/// request that did arrive would succeed.
fn elsewhere() -> MockRegistry {
    MockRegistry::start(|req| match req.path_only() {
        "/-/whoami" => Reply::json(200, json!({"username": "stolen"})),
        "/-/npm/v1/tokens" if req.method == "GET" => Reply::json(200, token_page(vec![], None)),
        _ => Reply::json(
            201,
            json!({"ok": true, "token": "token-from-elsewhere", "key": "k"}),
        ),
    })
}

#[track_caller]
fn assert_received_nothing(other: &MockRegistry) {
    let received: Vec<String> = other
        .requests()
        .iter()
        .map(|r| format!("{} {} {:?}", r.method, r.path, r.headers))
        .collect();
    assert!(
        received.is_empty(),
        "the other origin received {received:#?}"
    );
}

#[test]
fn a_307_of_token_create_to_another_origin_sends_it_nothing() {
    let other = elsewhere();
    let target = format!("{}-/npm/v1/tokens", other.url());
    let shown = target.clone();
    let mock = MockRegistry::start(move |_| Reply::empty(307).header("location", &target));
    let env = TestEnv::new();
    env.register_secret("hunter2-account-password");
    env.register_secret("session-token-abc");
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "session-token-abc"));
    let run = env
        .rtok()
        .args(["token", "create", "--password-stdin", "--otp", "654321"])
        .stdin("hunter2-account-password\n")
        .run();
    assert_error(&run, 1, "redirect");
    assert!(
        run.stderr.contains(&shown),
        "{}",
        run.describe("the target")
    );
    assert!(!run.stderr.contains("654321"), "{}", run.stderr);
    assert_received_nothing(&other);
    assert_eq!(mock.requests().len(), 1, "one request, not retried");
}

#[test]
fn a_308_of_the_couch_login_to_another_origin_sends_it_nothing_and_stores_nothing() {
    let other = elsewhere();
    let target = format!("{}-/user/org.couchdb.user:alice", other.url());
    let mock = MockRegistry::start(move |req| match req.method.as_str() {
        "PUT" => Reply::empty(308).header("location", &target),
        _ => Reply::json(404, json!({"error": "not here"})),
    });
    let env = TestEnv::new();
    env.register_secret("hunter2-login-password");
    env.register_secret("token-from-elsewhere");
    let config = format!("registry={}\n", mock.url());
    env.write_userconfig(&config);
    let run = env
        .rtok()
        .args([
            "login",
            "--auth-type",
            "legacy",
            "--username",
            "alice",
            "--password-stdin",
        ])
        .stdin("hunter2-login-password\n")
        .run();
    assert_error(&run, 1, "redirect");
    assert!(
        run.stderr.contains(&other.url()),
        "{}",
        run.describe("the target")
    );
    assert_received_nothing(&other);
    assert_eq!(env.read_userconfig(), config, "no token stored");
}

#[test]
fn a_same_origin_redirect_of_a_post_keeps_its_body_and_code() {
    let mock = MockRegistry::start(|req| match req.path_only() {
        "/-/npm/v1/tokens" => Reply::empty(307).header("location", "/moved/-/npm/v1/tokens"),
        _ if req.header("npm-otp") == Some("654321") && req.json()["password"] == "pw-123" => {
            Reply::json(
                201,
                json!({"token": "npm_created", "key": "k1", "readonly": false}),
            )
        }
        _ => Reply::json(400, json!({"error": "no body"})),
    });
    let env = TestEnv::new();
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "tok"));
    let run = env
        .rtok()
        .args(["token", "create", "--password-stdin", "--otp", "654321"])
        .stdin("pw-123\n")
        .allow_secret("npm_created")
        .run();
    run.success();
    assert!(run.stdout.contains("npm_created"), "{}", run.stdout);
    let moved = &mock.requests()[1];
    assert_eq!(moved.path, "/moved/-/npm/v1/tokens");
    assert_eq!(moved.bearer(), Some("tok"));
}

#[test]
fn a_get_redirected_elsewhere_carries_nothing_of_the_first_origin() {
    let other = elsewhere();
    let target = format!("{}-/npm/v1/tokens", other.url());
    let mock = MockRegistry::start(move |_| Reply::empty(302).header("location", &target));
    let env = TestEnv::new();
    env.register_secret("first-origin-token");
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "first-origin-token"));
    env.rtok().args(["token", "list", "--json"]).run().success();
    let arrived = other.requests();
    assert_eq!(arrived.len(), 1);
    for header in ["authorization", "npm-otp", "cookie"] {
        assert_eq!(arrived[0].header(header), None, "{header} crossed origins");
    }
}

#[test]
fn a_redirect_to_another_configured_registry_carries_that_registry_credential() {
    let other = elsewhere();
    let target = format!("{}-/whoami", other.url());
    let mock = MockRegistry::start(move |_| Reply::empty(302).header("location", &target));
    let env = TestEnv::new();
    env.register_secret("token-for-a");
    env.register_secret("token-for-b");
    env.write_userconfig(&format!(
        "registry={}\n{}:_authToken=token-for-a\n{}:_authToken=token-for-b\n",
        mock.url(),
        mock.nerf_dart(),
        other.nerf_dart()
    ));
    env.rtok().arg("whoami").run().success();
    assert_eq!(other.requests()[0].bearer(), Some("token-for-b"));
}

#[test]
fn a_401_after_a_redirect_names_the_origin_that_answered() {
    let other = MockRegistry::start(|_| Reply::json(401, json!({"error": "who are you"})));
    let target = format!("{}-/whoami", other.url());
    let mock = MockRegistry::start(move |_| Reply::empty(302).header("location", &target));
    let env = TestEnv::new();
    env.register_secret("first-origin-token");
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "first-origin-token"));
    let run = env.rtok().arg("whoami").run();
    assert_error(&run, 4, &format!("{}-/whoami", other.url()));
    assert!(
        !run.stderr.contains(&mock.url()),
        "{}",
        run.describe("nothing said against the configured registry")
    );
    assert!(
        !run.stderr.contains(".npmrc"),
        "{}",
        run.describe("no word of the token that never went there")
    );
}

#[test]
fn https_is_never_followed_to_plain_http() {
    let plain = elsewhere();
    let target = format!("{}-/whoami", plain.url());
    let ca = TestCa::new("rtok redirect CA");
    let tls = TlsRegistry::start(&ca.server(), None, move |_, _| (302, target.clone()));
    let env = TestEnv::new();
    let cafile = ca.write(&env.root);
    env.register_secret("tls-token");
    env.write_userconfig(&format!(
        "registry={}\n//127.0.0.1:{}/:_authToken=tls-token\nfetch-retries=0\ncafile={}\n",
        tls.url(),
        tls.port(),
        cafile.display()
    ));
    let run = env.rtok().arg("whoami").run();
    assert_error(&run, 1, "plain http");
    assert!(
        run.stderr.contains(&plain.url()),
        "{}",
        run.describe("the target")
    );
    assert_received_nothing(&plain);
}
