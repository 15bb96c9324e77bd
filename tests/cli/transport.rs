//! What goes over the wire: which requests carry the credential, headers,
//! redirects. These need the mock: they look at raw requests.

use crate::support::*;

#[test]
fn requests_name_rtok_and_the_command() {
    let mock = MockRegistry::start(|_| Reply::json(200, json!({"username": "u"})));
    let env = TestEnv::new();
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "tok"));
    env.rtok().arg("whoami").run().success();
    let request = &mock.requests()[0];
    let agent = request.header("user-agent").expect("user-agent");
    assert!(
        agent.starts_with(&format!("rtok/{}", env!("CARGO_PKG_VERSION"))),
        "{agent}"
    );
    assert_eq!(request.header("npm-command"), Some("whoami"));
    assert_eq!(request.header("authorization"), Some("Bearer tok"));
    assert_eq!(request.header("npm-otp"), None);
}

#[test]
fn a_cross_origin_redirect_never_carries_the_token() {
    let elsewhere = MockRegistry::start(|_| Reply::json(200, json!({"username": "stolen"})));
    let target = format!("{}-/whoami", elsewhere.url());
    let mock = MockRegistry::start(move |_| Reply::empty(302).header("location", &target));
    let env = TestEnv::new();
    env.register_secret("the-secret-token");
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "the-secret-token"));
    let run = env.rtok().arg("whoami").run();
    run.success();
    assert_eq!(run.stdout.trim(), "stolen");
    let arrived = elsewhere.requests();
    assert_eq!(arrived.len(), 1);
    assert_eq!(
        arrived[0].header("authorization"),
        None,
        "the token followed the redirect"
    );
}

#[test]
fn a_same_origin_redirect_keeps_the_token() {
    let mock = MockRegistry::start(|req| match req.path.as_str() {
        "/-/whoami" => Reply::empty(307).header("location", "/moved/-/whoami"),
        _ => match req.bearer() {
            Some("tok") => Reply::json(200, json!({"username": "u"})),
            _ => Reply::json(401, json!({"error": "no auth"})),
        },
    });
    let env = TestEnv::new();
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "tok"));
    let run = env.rtok().arg("whoami").run();
    run.success();
    assert_eq!(run.stdout.trim(), "u");
}

#[test]
fn a_next_page_on_another_host_gets_no_credential() {
    let other = MockRegistry::start(|_| {
        Reply::json(200, token_page(vec![npm_token("other1other1", "o")], None))
    });
    let next = format!("{}-/npm/v1/tokens?page=1", other.url());
    let mock = MockRegistry::start(move |_| {
        Reply::json(
            200,
            token_page(vec![npm_token("first1first1", "f")], Some(&next)),
        )
    });
    let env = TestEnv::new();
    env.register_secret("session-token-xyz");
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "session-token-xyz"));
    env.rtok().args(["token", "list", "--json"]).run().success();
    assert_eq!(other.requests()[0].header("authorization"), None);
}

#[test]
fn a_redirect_loop_is_a_one_line_error() {
    let mock = MockRegistry::start(|_| Reply::empty(302).header("location", "/-/whoami"));
    let env = TestEnv::new();
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "tok"));
    let run = env.rtok().arg("whoami").run();
    assert_error(&run, 1, "redirect");
}

#[test]
fn credentials_in_other_files_and_other_hosts_stay_home() {
    // Two registries in one file: each request gets only its own token.
    let a = MockRegistry::start(|_| Reply::json(200, json!({"username": "a"})));
    let b = MockRegistry::start(|_| Reply::json(200, json!({"username": "b"})));
    let env = TestEnv::new();
    env.write_userconfig(&format!(
        "registry={}\n{}:_authToken=token-for-a\n{}:_authToken=token-for-b\n",
        a.url(),
        a.nerf_dart(),
        b.nerf_dart()
    ));
    env.rtok().arg("whoami").run().success();
    env.rtok()
        .args(["whoami", "--registry", &b.url()])
        .run()
        .success();
    assert_eq!(a.requests()[0].bearer(), Some("token-for-a"));
    assert_eq!(b.requests()[0].bearer(), Some("token-for-b"));
}

#[test]
fn no_output_ever_contains_a_stored_token() {
    // Every command that does not create a token, in every output mode and
    // with --verbose, against a registry that echoes the token back in its
    // errors: the sweep in `run` fails the test if the token shows up.
    let token = "npm_SessionTokenThatMustNeverBePrinted42";
    let mock = MockRegistry::start(move |req| match (req.method.as_str(), req.path_only()) {
        ("GET", "/-/whoami") => Reply::json(200, json!({"username": "u"})),
        ("GET", "/-/npm/v1/tokens") => Reply::json(
            200,
            token_page(vec![npm_token("abcdef123456", "npm_Sess...ed42")], None),
        ),
        _ => Reply::json(
            500,
            json!({"error": format!("cannot handle token {}", req.bearer().unwrap_or(""))}),
        ),
    });
    let env = TestEnv::new();
    env.register_secret(token);
    env.write_userconfig(
        &npmrc_for_mock(&mock.url(), token).replace("fetch-retry-mintimeout=10", "fetch-retries=0"),
    );
    for args in [
        vec!["whoami"],
        vec!["whoami", "--json"],
        vec!["token", "list"],
        vec!["token", "list", "--json"],
        vec!["token", "list", "--parseable"],
        vec!["token", "delete", "abcdef"],
        vec!["logout"],
        vec!["token", "create", "--password-stdin"],
    ] {
        for verbose in [false, true] {
            let mut command = env.rtok().args(&args).stdin("pw");
            if verbose {
                command = command.arg("--verbose");
            }
            // The sweep inside `run` is the assertion.
            let run = command.run();
            assert!(
                !run.stderr.contains("panicked"),
                "{}",
                run.describe("no panic")
            );
        }
    }
    // The registry's echo was redacted, not dropped.
    let run = env.rtok().args(["token", "delete", "abcdef"]).run();
    assert!(
        run.stderr.contains("cannot handle token ***"),
        "{}",
        run.describe("the redacted echo")
    );
}

/// A registry whose token creation asks for a web one-time password at
/// `auth_url` (probe #7, r09).
fn web_otp_mock(auth_url: &'static str) -> MockRegistry {
    MockRegistry::start(move |req| match (req.method.as_str(), req.path_only()) {
        ("POST", "/-/npm/v1/tokens") => Reply::json(
            401,
            json!({
                "error": "otp required",
                "authUrl": auth_url,
                "doneUrl": format!("http://{}/-/done", req.header("host").unwrap_or_default()),
            }),
        )
        .header("www-authenticate", "OTP"),
        ("GET", "/-/done") => Reply::json(200, json!({"token": "123456"})),
        _ => Reply::json(404, json!({"error": "not found"})),
    })
}

/// A `BROWSER` that records its arguments, and the file it records them in.
fn recording_browser(env: &TestEnv) -> (std::path::PathBuf, std::path::PathBuf) {
    let log = env.root.join("browser.log");
    let script = env.root.join("browser.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nfor a in \"$@\"; do printf 'browser got argument: %s\\n' \"$a\"; done >> '{}'\n",
            log.display()
        ),
    )
    .expect("write the browser script");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    (script, log)
}

const HOSTILE_AUTH_URL: &str = "--remote-debugging-port=9222 \u{1b}]0;PWNED\u{7}\u{1b}[2J";

#[test]
fn a_web_otp_auth_url_that_is_not_a_web_url_is_refused_without_a_terminal() {
    for auth_url in [HOSTILE_AUTH_URL, "file:///etc/passwd"] {
        let mock = web_otp_mock(auth_url);
        let env = TestEnv::new();
        env.register_secret("tok-otp-secret-value");
        env.write_userconfig(&npmrc_for_mock(&mock.url(), "tok-otp-secret-value"));
        let (browser, log) = recording_browser(&env);
        let run = env
            .rtok()
            .args(["token", "create", "--password-stdin"])
            .stdin("pw\n")
            .env("BROWSER", &browser)
            .run();
        assert_error(&run, 1, "`authUrl` is not an http(s) URL");
        for raw in ["\u{1b}", "\u{7}", "remote-debugging", "/etc/passwd"] {
            assert!(!run.stderr.contains(raw), "{}", run.describe("nothing raw"));
        }
        assert!(!log.exists(), "the browser ran");
    }
}

#[test]
fn a_web_otp_auth_url_that_is_not_a_web_url_never_reaches_the_browser_on_a_terminal() {
    let mock = web_otp_mock(HOSTILE_AUTH_URL);
    let env = TestEnv::new();
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "tok-otp-secret-value"));
    let (browser, log) = recording_browser(&env);
    let mut command = raw_rtok(&env);
    command
        .args(["token", "create", "--password", "pw"])
        .env("BROWSER", &browser);
    let mut session =
        rexpect::session::spawn_command(command, Some(30_000)).expect("spawn rtok in a pty");
    let seen = session.exp_eof().expect("rtok exits");
    assert!(seen.contains("`authUrl` is not an http(s) URL"), "{seen}");
    for raw in ["\u{1b}", "\u{7}", "remote-debugging"] {
        assert!(!seen.contains(raw), "raw on the terminal: {seen:?}");
    }
    assert!(!log.exists(), "the browser ran");
}

#[test]
fn a_web_otp_auth_url_is_printed_and_opened_as_its_serialization() {
    let mock = web_otp_mock("http://127.0.0.1:9/auth?\u{1b}]0;PWNED\u{7}x");
    let env = TestEnv::new();
    env.register_secret("tok-otp-secret-value");
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "tok-otp-secret-value"));
    let run = env
        .rtok()
        .args(["token", "create", "--password-stdin"])
        .stdin("pw\n")
        .run();
    assert_error(&run, 4, "one-time password");
    assert!(!run.stderr.contains('\u{1b}'), "{}", run.describe("no ESC"));
    assert!(
        run.stderr
            .contains("http://127.0.0.1:9/auth?%1B]0;PWNED%07x"),
        "{}",
        run.describe("the URL, percent-encoded")
    );
}
