//! `rtok login` and `rtok logout`: legacy login on Verdaccio (through a real
//! pseudo-terminal and without one), interop with npm, web login and its
//! fallback on the mock, and what they do to the config file.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::support::*;

/// A mock registry with a working legacy login for any user name whose
/// password is `password`, handing out `token`, and optionally the web
/// login (completed when the browser fetches the login URL).
fn login_mock(token: &'static str, web: bool) -> MockRegistry {
    let visited = Arc::new(AtomicBool::new(false));
    MockRegistry::start(move |req| {
        let host = req.header("host").unwrap_or_default().to_string();
        match (req.method.as_str(), req.path_only()) {
            ("POST", "/-/v1/login") if web => Reply::json(
                200,
                json!({
                    "loginUrl": format!("http://{host}/login/session-1"),
                    "doneUrl": format!("http://{host}/done/session-1"),
                }),
            ),
            ("POST", "/-/v1/login") => Reply::text(404, "Cannot POST /-/v1/login"),
            ("GET", "/login/session-1") => {
                visited.store(true, Ordering::SeqCst);
                Reply::text(200, "logged in, you can close this page")
            }
            ("GET", "/done/session-1") if visited.load(Ordering::SeqCst) => {
                Reply::json(200, json!({"token": token}))
            }
            ("GET", "/done/session-1") => Reply::json(202, json!({})).header("retry-after", "1"),
            ("PUT", path) if path.starts_with("/-/user/org.couchdb.user:") => {
                if req.json()["password"] == "right-password" {
                    Reply::json(201, json!({"ok": true, "token": token}))
                } else {
                    Reply::json(401, json!({"error": "bad password"}))
                        .header("www-authenticate", "Basic")
                }
            }
            ("GET", "/-/whoami") if req.bearer() == Some(token) => {
                Reply::json(200, json!({"username": "webuser"}))
            }
            ("DELETE", _) => Reply::json(200, json!({})),
            _ => Reply::json(401, json!({"error": "no"})),
        }
    })
}

#[test]
fn legacy_login_without_a_terminal_then_npm_sees_the_user() {
    let reg = shared();
    let user = reg.new_user("login");
    let env = TestEnv::new();
    env.register_secret(&user.token);
    env.register_secret(&user.password);
    env.write_userconfig(&format!("registry={}\n", reg.url));

    let run = env
        .rtok()
        .args([
            "login",
            "--auth-type",
            "legacy",
            "--username",
            &user.name,
            "--password-stdin",
        ])
        .stdin(format!("{}\n", user.password))
        .run();
    run.success();
    assert_eq!(
        run.stderr.trim(),
        format!("Logged in as {} on {}.", user.name, reg.url)
    );
    let saved = env.read_userconfig();
    assert!(
        saved.starts_with(&format!(
            "registry={}\n{}:_authToken=",
            reg.url,
            reg.nerf_dart()
        )),
        "{saved}"
    );
    let token = saved
        .lines()
        .nth(1)
        .expect("token line")
        .split_once('=')
        .expect("=")
        .1
        .trim_matches('"')
        .to_string();
    env.register_secret(&token);

    // The real npm reads what rtok wrote.
    let npm = env.npm().arg("whoami").run();
    npm.success();
    assert_eq!(npm.stdout.trim(), user.name);
}

#[test]
fn rtok_reads_a_token_npm_config_set_wrote() {
    let reg = shared();
    let user = reg.new_user("npmset");
    let env = TestEnv::new();
    env.register_secret(&user.token);
    env.npm()
        .args(["config", "set", "registry", &reg.url])
        .run()
        .success();
    env.npm()
        .args([
            "config",
            "set",
            &format!("{}:_authToken", reg.nerf_dart()),
            &user.token,
        ])
        .run()
        .success();
    let run = env.rtok().arg("whoami").run();
    run.success();
    assert_eq!(run.stdout.trim(), user.name);
}

#[test]
fn legacy_login_through_a_terminal_does_not_echo_the_password() {
    let reg = shared();
    let user = reg.new_user("pty");
    let env = TestEnv::new();
    env.write_userconfig(&format!("registry={}\n", reg.url));
    let mut command = raw_rtok(&env);
    command.args(["login", "--auth-type", "legacy"]);
    let mut session =
        rexpect::session::spawn_command(command, Some(30_000)).expect("spawn rtok in a pty");
    let mut seen = session.exp_string("Username: ").expect("username prompt");
    session.send_line(&user.name).expect("send the user name");
    seen += &session.exp_string("Password: ").expect("password prompt");
    session
        .send_line(&user.password)
        .expect("send the password");
    seen += &session.exp_eof().expect("rtok exits");
    assert!(seen.contains(&user.name), "the user name is echoed: {seen}");
    assert!(
        !seen.contains(&user.password),
        "the password was echoed: {seen}"
    );
    assert!(
        seen.contains(&format!("Logged in as {}", user.name)),
        "{seen}"
    );
    assert!(env.read_userconfig().contains(":_authToken="));
}

#[test]
fn web_login_opens_the_browser_and_polls() {
    let mock = login_mock("web-token-123456", true);
    let env = TestEnv::new();
    env.register_secret("web-token-123456");
    env.write_userconfig(&format!("registry={}\n", mock.url()));
    let record = env.root.join("browser-visits");
    let browser = env.root.join("browser.sh");
    std::fs::write(
        &browser,
        format!(
            "#!/bin/sh\necho \"$1\" >> '{}'\ncurl -s \"$1\" > /dev/null\n",
            record.display()
        ),
    )
    .expect("write the browser script");
    make_executable(&browser);

    let run = env
        .rtok()
        .arg("login")
        .env("BROWSER", &browser)
        .timeout(Duration::from_secs(30))
        .run();
    run.success();
    let visited = std::fs::read_to_string(&record).expect("the browser was opened");
    assert_eq!(visited.trim(), format!("{}login/session-1", mock.url()));
    assert!(
        run.stderr
            .contains(&format!("Login at:\n{}login/session-1", mock.url())),
        "{}",
        run.describe("the URL")
    );
    assert!(
        run.stderr.contains("Logged in as webuser"),
        "{}",
        run.describe("the user")
    );
    let nerf = mock.nerf_dart();
    assert!(
        env.read_userconfig()
            .contains(&format!("{nerf}:_authToken=web-token-123456"))
    );
    let polls = mock
        .requests()
        .iter()
        .filter(|r| r.path_only() == "/done/session-1")
        .count();
    assert!(polls >= 1);
}

#[test]
fn web_login_falls_back_to_legacy_when_the_registry_has_none() {
    let mock = login_mock("legacy-token-654321", false);
    let env = TestEnv::new();
    env.register_secret("legacy-token-654321");
    env.write_userconfig(&format!("registry={}\n", mock.url()));
    let run = env
        .rtok()
        .args([
            "login",
            "-v",
            "--auth-type",
            "web",
            "--username",
            "someone",
            "--password-stdin",
        ])
        .stdin("right-password")
        .run();
    run.success();
    assert!(
        run.stderr.contains("web login is not supported here"),
        "{}",
        run.describe("the fallback note")
    );
    let methods: Vec<String> = mock
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path_only()))
        .collect();
    assert_eq!(methods[0], "POST /-/v1/login");
    assert_eq!(methods[1], "PUT /-/user/org.couchdb.user:someone");
}

#[test]
fn a_failed_login_leaves_the_file_exactly_as_it_was() {
    let mock = login_mock("never-issued-token", false);
    let env = TestEnv::new();
    let original = format!("# keep me\r\nregistry={}\r\n\r\n; end\r\n", mock.url());
    env.write_userconfig(&original);
    let run = env
        .rtok()
        .args([
            "login",
            "--auth-type",
            "legacy",
            "--username",
            "someone",
            "--password-stdin",
        ])
        .stdin("wrong-password")
        .run();
    assert_error(&run, 4, "wrong user name or password");
    assert_eq!(env.read_userconfig(), original);
}

#[test]
fn login_without_a_terminal_names_the_flags() {
    let mock = login_mock("t", false);
    let env = TestEnv::new();
    env.write_userconfig(&format!("registry={}\n", mock.url()));
    let run = env.rtok().args(["login", "--auth-type", "legacy"]).run();
    assert_error(&run, 4, "user name");
    assert!(hint(&run).contains("--username") && hint(&run).contains("--password-stdin"));
    let run = env
        .rtok()
        .args(["login", "--auth-type", "legacy", "--username", "x"])
        .run();
    assert_error(&run, 4, "password");
    assert!(mock.requests().is_empty());
}

#[test]
fn login_with_scope_writes_the_mapping_and_keeps_every_other_byte() {
    let mock = login_mock("scoped-token-abcdef", false);
    let env = TestEnv::new();
    env.register_secret("scoped-token-abcdef");
    let nerf = mock.nerf_dart();
    let before = format!(
        "; rtok test config\r\nregistry = https://registry.npmjs.org/ # default\r\n\r\n\
         //other.example/:_authToken=${{OTHER_TOKEN}}\r\n{nerf}:_password=b2xk\r\n{nerf}:username=old\r\n\
         # trailing comment\r\n"
    );
    env.write_userconfig(&before);
    let run = env
        .rtok()
        .args([
            "login",
            "--registry",
            &mock.url(),
            "--scope",
            "@acme",
            "--username",
            "u",
            "--password-stdin",
            "--json",
        ])
        .stdin("right-password")
        .run();
    run.success();
    assert_eq!(run.json()["registry"], mock.url());
    assert_eq!(run.json()["username"], "webuser");
    assert_eq!(run.json()["scope"], "@acme");
    let after = env.read_userconfig();
    let expected = format!(
        "; rtok test config\r\nregistry = https://registry.npmjs.org/ # default\r\n\r\n\
         //other.example/:_authToken=${{OTHER_TOKEN}}\r\n\
         {nerf}:_authToken=scoped-token-abcdef\r\n@acme:registry={}\r\n# trailing comment\r\n",
        mock.url()
    );
    assert_eq!(after, expected);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&env.userconfig)
        .expect("meta")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

fn make_executable(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

#[test]
fn a_wrong_password_names_the_status_the_registry_answered() {
    let mock = login_mock("never-issued-token", false);
    let env = TestEnv::new();
    env.write_userconfig(&format!("registry={}\n", mock.url()));
    let run = env
        .rtok()
        .args([
            "login",
            "--auth-type",
            "legacy",
            "--username",
            "someone",
            "--password-stdin",
        ])
        .stdin("wrong-password")
        .run();
    assert_error(&run, 4, "401 Unauthorized");
    assert!(
        run.stderr.contains("wrong user name or password"),
        "{}",
        run.describe("the plain explanation too")
    );
}

/// Probe #12 (r11): a registry that offers web login, no terminal, no
/// browser (`CI=true`), and a user name and password given: the couch login,
/// at once, and the web login is never started, let alone polled.
#[test]
fn a_password_given_without_a_terminal_logs_in_with_it_not_in_a_browser() {
    let mock = login_mock("couch-token-13579", true);
    let env = TestEnv::new();
    env.register_secret("couch-token-13579");
    env.write_userconfig(&format!("registry={}\n", mock.url()));
    let run = env
        .rtok()
        .args(["login", "--username", "alice", "--password-stdin"])
        .env("CI", "true")
        .env_remove("BROWSER")
        .stdin("right-password\n")
        .timeout(Duration::from_secs(60))
        .run();
    run.success();
    let methods: Vec<String> = mock
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path_only()))
        .collect();
    assert_eq!(
        methods,
        ["PUT /-/user/org.couchdb.user:alice", "GET /-/whoami"],
        "the couch login only"
    );
    let nerf = mock.nerf_dart();
    assert!(
        env.read_userconfig()
            .contains(&format!("{nerf}:_authToken=couch-token-13579"))
    );
}

/// With neither a terminal nor a browser nor a password, a web login nobody
/// can finish fails at once, naming the flags that work, instead of polling
/// for 5 minutes.
#[test]
fn a_web_login_nobody_can_finish_fails_at_once() {
    let mock = login_mock("never-issued-token", true);
    let env = TestEnv::new();
    env.write_userconfig(&format!("registry={}\n", mock.url()));
    let run = env
        .rtok()
        .arg("login")
        .env("CI", "true")
        .env_remove("BROWSER")
        .timeout(Duration::from_secs(60))
        .run();
    assert_error(&run, 4, "neither a terminal nor a browser");
    let hint = hint(&run);
    assert!(
        hint.contains("--auth-type legacy") && hint.contains("--password-stdin"),
        "{hint}"
    );
    let polls = mock
        .requests()
        .iter()
        .filter(|r| r.path_only() == "/done/session-1")
        .count();
    assert_eq!(polls, 0, "no poll loop");
}
