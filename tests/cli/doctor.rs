//! `rtok doctor`: every finding code, each with the condition that causes
//! it and the clean case that stays quiet; real Verdaccio accounts for
//! logins and rejected tokens (and real npm agreeing about which credential
//! wins), real git repositories for tracked tokens, mocks for npmjs's token
//! fields; bad input; and nothing written anywhere.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::support::scan::Git;
use crate::support::verdaccio::iso8601;
use crate::support::*;

const DAY: Duration = Duration::from_secs(86_400);

/// `(code, severity)` of every finding of a `doctor --json` run.
fn codes(run: &Run) -> Vec<(String, String)> {
    let report = run.json();
    report["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", run.describe("a findings array")))
        .iter()
        .map(|f| {
            for field in ["code", "severity", "message", "hint"] {
                assert!(
                    f[field].as_str().is_some_and(|s| !s.is_empty()),
                    "{}",
                    run.describe(&format!("a `{field}` in every finding: {f}"))
                );
            }
            (
                f["code"].as_str().unwrap_or_default().to_string(),
                f["severity"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn pair(code: &str, severity: &str) -> (String, String) {
    (code.to_string(), severity.to_string())
}

/// The finding with this code; panics when there is none.
fn finding(run: &Run, code: &str) -> serde_json::Value {
    run.json()["findings"]
        .as_array()
        .and_then(|all| all.iter().find(|f| f["code"] == code).cloned())
        .unwrap_or_else(|| panic!("{}", run.describe(&format!("a `{code}` finding"))))
}

fn doctor(env: &TestEnv) -> Run {
    env.rtok().args(["doctor", "--json"]).run()
}

/// Writes the project's package.json.
fn package_json(env: &TestEnv, text: &str) {
    std::fs::write(env.project.join("package.json"), text).expect("write package.json");
}

/// Writes the project's .npmrc (private, like the user's).
fn project_npmrc(env: &TestEnv, text: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = env.project.join(".npmrc");
    std::fs::write(&path, text).expect("write the project .npmrc");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    path
}

/// An npmjs-format token made from `tag`.
fn npmjs_token(tag: &str) -> String {
    let body: String = format!("{tag}AbCdEfGhIjKlMnOpQrStUvWxYz0123456789")
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(36)
        .collect();
    format!("npm_{body}")
}

/// A mock npmjs account whose token in use is listed as `entry`.
fn npmjs_account(tag: &str, entry: serde_json::Value) -> (TokenRegistry, TestEnv, String) {
    let secret = npmjs_token(tag);
    let mut entry = entry;
    entry["token"] = json!(npmjs_mask(&secret));
    let registry =
        TokenRegistry::start(&npmjs_token("othersession"), vec![(entry, secret.clone())]);
    let env = TestEnv::new();
    env.register_secret(&secret);
    env.write_userconfig(&format!(
        "registry={}\n{}:_authToken={secret}\n",
        registry.url(),
        registry.nerf_dart()
    ));
    (registry, env, secret)
}

/// A granular write token for the `@acme` scope, expiring in 30 days,
/// limited to a CIDR range: nothing for doctor to say.
fn good_granular() -> serde_json::Value {
    let mut entry = granular_token("acme-key-0001", "acme-publish");
    entry["expiry"] = json!(iso8601(SystemTime::now() + 30 * DAY));
    entry["permissions"] = json!([{"name": "package", "action": "write"}]);
    entry["scopes"] = json!([{"type": "scope", "name": "@acme"}]);
    entry
}

#[test]
fn a_clean_login_on_a_real_account_is_quiet() {
    let reg = shared();
    let user = reg.new_user("doctor-clean");
    let env = TestEnv::new();
    env.register_secret(&user.token);
    env.write_userconfig(&reg.npmrc_for(&user));
    package_json(&env, r#"{"name": "@acme/tool", "version": "1.0.0"}"#);
    let run = doctor(&env);
    run.success();
    assert_eq!(codes(&run), vec![]);
    let registries = run.json()["registries"].clone();
    let entry = &registries[0];
    assert_eq!(entry["registry"], json!(reg.url));
    assert_eq!(entry["serves"], json!(["registry", "@acme"]));
    assert_eq!(entry["publishes"], "@acme/tool");
    assert_eq!(entry["kind"], "session");
    assert_eq!(entry["user"], json!(user.name));
    assert_eq!(entry["state"], "ok");
    assert_eq!(entry["hidden"], json!([]));

    let run = env.rtok().arg("doctor").run();
    run.success();
    assert!(
        run.stdout
            .contains(&format!("session token of {}", user.name)),
        "{}",
        run.describe("the credential in use")
    );
    assert!(
        run.stderr.contains("No problems found."),
        "{}",
        run.describe("quiet")
    );
}

#[test]
fn a_clean_setup_answers_in_one_round_trip() {
    // Both requests (whoami and the token list) must be in flight together.
    let gate = Arc::new(Gate::new(2, 2, Duration::from_secs(5)));
    let entry = good_granular();
    let secret = npmjs_token("oneroundtrip");
    let mut listed = entry.clone();
    listed["token"] = json!(npmjs_mask(&secret));
    let page = token_page(vec![listed], None);
    let handler_gate = Arc::clone(&gate);
    let mock = MockRegistry::start(move |req| {
        handler_gate.pass();
        match req.path_only() {
            "/-/whoami" => Reply::json(200, json!({"username": "fast"})),
            _ => Reply::json(200, page.clone()),
        }
    });
    let env = TestEnv::new();
    env.register_secret(&secret);
    env.write_userconfig(&npmrc_for_mock(&mock.url(), &secret));
    package_json(&env, r#"{"name": "@acme/tool"}"#);
    let run = doctor(&env);
    run.success();
    assert_eq!(codes(&run), vec![]);
    assert_eq!(run.json()["registries"][0]["kind"], "granular");
    assert_eq!(
        mock.requests().len(),
        2,
        "whoami and the token list, nothing more"
    );
    assert_eq!(gate.widest(), 2, "sent at once");
    assert_eq!(gate.shortfalls(), 0);
}

#[test]
fn unset_variable() {
    let reg = shared();
    let user = reg.new_user("doctor-unset");
    let env = TestEnv::new();
    env.register_secret(&user.token);
    env.write_userconfig(&format!(
        "registry={}\n{}:_authToken=${{RTOK_DOCTOR_TOKEN}}\n",
        reg.url,
        reg.nerf_dart()
    ));
    let run = doctor(&env);
    run.failure(1);
    assert_eq!(codes(&run), vec![pair("unset-variable", "error")]);
    let found = finding(&run, "unset-variable");
    assert!(
        found["message"]
            .as_str()
            .expect("message")
            .contains("RTOK_DOCTOR_TOKEN")
    );
    assert_eq!(
        found["source"],
        format!("{}:2 ($RTOK_DOCTOR_TOKEN)", env.userconfig.display())
    );
    assert!(
        run.stderr.contains("error: 1 error found: unset-variable"),
        "{}",
        run.describe("the error line")
    );
    // On GitHub Actions the hint names the workflow's `secrets`.
    let run = env
        .rtok()
        .args(["doctor", "--json"])
        .env("GITHUB_ACTIONS", "true")
        .run();
    assert!(
        finding(&run, "unset-variable")["hint"]
            .as_str()
            .expect("hint")
            .contains("secrets.RTOK_DOCTOR_TOKEN"),
        "{}",
        run.describe("a workflow hint")
    );

    let run = env
        .rtok()
        .args(["doctor", "--json"])
        .env("RTOK_DOCTOR_TOKEN", &user.token)
        .run();
    run.success();
    assert_eq!(codes(&run), vec![]);
    assert_eq!(run.json()["registries"][0]["variable"], "RTOK_DOCTOR_TOKEN");
}

#[test]
fn placeholder_token() {
    let mock = MockRegistry::start(|_| Reply::json(200, json!({"username": "ci"})));
    let env = TestEnv::new();
    // What actions/setup-node writes, and the value it sets without a secret.
    env.write_userconfig(&format!(
        "registry={}\n{}:_authToken=${{NODE_AUTH_TOKEN}}\n",
        mock.url(),
        mock.nerf_dart()
    ));
    let run = env
        .rtok()
        .args(["doctor", "--json"])
        .env("NODE_AUTH_TOKEN", "XXXXX-XXXXX-XXXXX-XXXXX")
        .run();
    run.failure(1);
    assert_eq!(codes(&run), vec![pair("placeholder-token", "error")]);
    let message = finding(&run, "placeholder-token")["message"].clone();
    assert!(
        message.as_str().expect("message").contains("E404"),
        "{message}"
    );
    assert!(mock.requests().is_empty(), "the placeholder is never sent");

    env.register_secret("a-real-ci-token-1234");
    let run = env
        .rtok()
        .args(["doctor", "--json"])
        .env("NODE_AUTH_TOKEN", "a-real-ci-token-1234")
        .run();
    run.success();
    assert_eq!(codes(&run), vec![]);
}

#[test]
fn rejected_on_a_real_registry() {
    let reg = shared();
    let env = TestEnv::new();
    let revoked = "an-expired-ci-token-that-verdaccio-never-issued";
    env.register_secret(revoked);
    env.write_userconfig(&format!(
        "registry={}\n{}:_authToken={revoked}\n",
        reg.url,
        reg.nerf_dart()
    ));
    package_json(&env, r#"{"name": "rtok-doctor-pkg"}"#);
    let run = doctor(&env);
    run.failure(1);
    assert_eq!(codes(&run), vec![pair("rejected", "error")]);
    let message = finding(&run, "rejected")["message"]
        .as_str()
        .expect("message")
        .to_string();
    assert!(
        message.contains("`E404 Not Found - PUT`") && message.contains("missing package"),
        "{message}"
    );
    assert!(
        finding(&run, "rejected")["hint"]
            .as_str()
            .expect("hint")
            .contains("rtok login --registry"),
        "{}",
        run.describe("a login hint")
    );
    assert_eq!(run.json()["registries"][0]["state"], "rejected");
}

#[test]
fn ip_restricted() {
    let refuse = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let flag = Arc::clone(&refuse);
    let mock = MockRegistry::start(move |req| match req.path_only() {
        "/-/whoami" if flag.load(std::sync::atomic::Ordering::SeqCst) => {
            Reply::json(403, json!({"error": "IP address not allowed"}))
        }
        "/-/whoami" => Reply::json(200, json!({"username": "office"})),
        _ => Reply::json(404, json!({"error": "not found"})),
    });
    let env = TestEnv::new();
    env.register_secret("cidr-limited-token-1234");
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "cidr-limited-token-1234"));
    let run = doctor(&env);
    // A warning: exit 0.
    run.success();
    assert_eq!(codes(&run), vec![pair("ip-restricted", "warning")]);
    assert!(
        finding(&run, "ip-restricted")["message"]
            .as_str()
            .expect("message")
            .contains("403 Forbidden"),
        "{}",
        run.describe("the status in the message")
    );

    // npmjs answers a CIDR-limited token from elsewhere with a bare 403.
    let bare = MockRegistry::start(|_| Reply::empty(403));
    let npmjs = npmjs_token("cidrlimited");
    env.register_secret(&npmjs);
    env.write_userconfig(&npmrc_for_mock(&bare.url(), &npmjs));
    let run = doctor(&env);
    run.success();
    assert_eq!(codes(&run), vec![pair("ip-restricted", "warning")]);

    env.write_userconfig(&npmrc_for_mock(&mock.url(), "cidr-limited-token-1234"));
    refuse.store(false, std::sync::atomic::Ordering::SeqCst);
    let run = doctor(&env);
    run.success();
    assert_eq!(codes(&run), vec![]);
}

#[test]
fn a_refused_token_list_is_no_finding() {
    // npmjs refuses the list to granular tokens: doctor cannot read the
    // entry, so it says nothing about expiry or scope, and nothing is wrong.
    let mock = MockRegistry::start(|req| match req.path_only() {
        "/-/whoami" => Reply::json(200, json!({"username": "gat"})),
        _ => Reply::json(403, json!({"error": "forbidden"})),
    });
    let env = TestEnv::new();
    let token = npmjs_token("refusedlistdoctor");
    env.register_secret(&token);
    env.write_userconfig(&npmrc_for_mock(&mock.url(), &token));
    package_json(&env, r#"{"name": "@acme/tool"}"#);
    let run = doctor(&env);
    run.success();
    assert_eq!(codes(&run), vec![]);
    assert_eq!(run.json()["registries"][0]["kind"], "granular");
    assert_eq!(run.json()["registries"][0]["expires"], json!(null));
}

#[test]
fn a_revoked_token_on_verdaccio_is_rejected_not_ip_restricted() {
    // Verdaccio answers a revoked token's whoami with 403 "unauthorized
    // access": a rejection, whatever the status code.
    let reg = shared();
    let user = reg.new_user("doctor-revoked");
    let env = TestEnv::new();
    env.register_secret(&user.token);
    env.register_secret(&user.password);
    env.write_userconfig(&reg.npmrc_for(&user));
    let created = env
        .rtok()
        .args(["token", "create", "--json", "--password-stdin"])
        .stdin(user.password.clone())
        .run();
    created.success();
    let token = created.json()["token"].as_str().expect("token").to_string();
    let key = created.json()["key"].as_str().expect("key").to_string();
    env.register_secret(&token);
    env.rtok().args(["token", "delete", &key]).run().success();
    env.write_userconfig(&format!(
        "registry={}\n{}:_authToken={token}\n",
        reg.url,
        reg.nerf_dart()
    ));
    let run = doctor(&env);
    run.failure(1);
    assert_eq!(codes(&run), vec![pair("rejected", "error")]);
    assert!(
        finding(&run, "rejected")["message"]
            .as_str()
            .expect("message")
            .contains("403 Forbidden"),
        "{}",
        run.describe("the 403 named")
    );
}

#[test]
fn shadowed_credential_on_a_real_registry_and_npm_agrees() {
    let reg = shared();
    let user = reg.new_user("doctor-shadow");
    let env = TestEnv::new();
    env.register_secret(&user.token);
    env.write_userconfig(&reg.npmrc_for(&user));
    let stale = "stale-project-token-from-last-year";
    env.register_secret(stale);
    let project_rc = project_npmrc(&env, &format!("{}:_authToken={stale}\n", reg.nerf_dart()));

    let run = doctor(&env);
    run.failure(1);
    assert_eq!(
        codes(&run),
        vec![
            pair("rejected", "error"),
            pair("shadowed-credential", "error")
        ]
    );
    let shadow = finding(&run, "shadowed-credential");
    assert_eq!(shadow["source"], format!("{}:1", project_rc.display()));
    let message = shadow["message"].as_str().expect("message");
    assert!(
        message.contains(&format!("{}:2", env.userconfig.display()))
            && message.contains(&format!("(user {})", user.name)),
        "{message}"
    );
    assert!(
        shadow["hint"]
            .as_str()
            .expect("hint")
            .contains(&format!("remove line 1 of {}", project_rc.display())),
        "{shadow}"
    );
    let hidden = &run.json()["registries"][0]["hidden"][0];
    assert_eq!(hidden["state"], "ok");
    assert_eq!(hidden["user"], json!(user.name));
    // npm itself uses the project's token, as doctor says.
    let npm = env.npm().args(["whoami", "--registry", &reg.url]).run();
    assert_ne!(
        npm.code,
        0,
        "{}",
        npm.describe("npm to fail with the stale token")
    );

    // Two working credentials: only a warning.
    let other = reg.new_user("doctor-shadow-other");
    env.register_secret(&other.token);
    project_npmrc(
        &env,
        &format!("{}:_authToken={}\n", reg.nerf_dart(), other.token),
    );
    let run = doctor(&env);
    run.success();
    assert_eq!(codes(&run), vec![pair("shadowed-credential", "warning")]);

    // Nothing hidden: quiet.
    std::fs::remove_file(&project_rc).expect("remove the project .npmrc");
    let run = doctor(&env);
    run.success();
    assert_eq!(codes(&run), vec![]);
}

#[test]
fn expired_and_expiring() {
    for (days_left, expected) in [
        (-2i64, vec![pair("expired", "error")]),
        (3, vec![pair("expiring", "warning")]),
        (30, vec![]),
    ] {
        let at = if days_left < 0 {
            SystemTime::now() - (-days_left) as u32 * DAY
        } else {
            SystemTime::now() + days_left as u32 * DAY + Duration::from_secs(3600)
        };
        let mut entry = good_granular();
        entry["expiry"] = json!(iso8601(at));
        let (_registry, env, _) = npmjs_account("expiry", entry);
        let run = doctor(&env);
        assert_eq!(
            codes(&run),
            expected,
            "{}",
            run.describe(&format!("{days_left} days"))
        );
        if days_left < 0 {
            run.failure(1);
            let message = finding(&run, "expired")["message"]
                .as_str()
                .expect("m")
                .to_string();
            assert!(message.contains("E404"), "{message}");
            assert!(
                finding(&run, "expired")["hint"]
                    .as_str()
                    .expect("hint")
                    .contains("rtok token rotate acme-k"),
                "{}",
                run.describe("the rotate hint names the short id")
            );
        } else {
            run.success();
        }
    }
}

#[test]
fn read_only_publish_token() {
    let mut entry = good_granular();
    entry["readonly"] = json!(true);
    entry["permissions"] = json!([{"name": "package", "action": "read"}]);
    let (_registry, env, _) = npmjs_account("readonly", entry);
    package_json(&env, r#"{"name": "@acme/tool"}"#);
    let run = doctor(&env);
    run.success();
    assert_eq!(codes(&run), vec![pair("read-only", "warning")]);
    // A private package is never published: a read-only token is right.
    package_json(&env, r#"{"name": "@acme/tool", "private": true}"#);
    let run = doctor(&env);
    assert_eq!(codes(&run), vec![]);

    let (_registry, env, _) = npmjs_account("writer", good_granular());
    package_json(&env, r#"{"name": "@acme/tool"}"#);
    assert_eq!(codes(&doctor(&env)), vec![]);
}

#[test]
fn package_not_covered() {
    let (_registry, env, _) = npmjs_account("coverage", good_granular());
    package_json(&env, r#"{"name": "@other/tool"}"#);
    let run = doctor(&env);
    run.success();
    assert_eq!(codes(&run), vec![pair("package-not-covered", "warning")]);
    assert!(
        finding(&run, "package-not-covered")["message"]
            .as_str()
            .expect("m")
            .contains("scope @acme"),
        "{}",
        run.describe("what it covers")
    );
    for covered in [r#"{"name": "@acme/tool"}"#, r#"{"name": "@acme/other"}"#] {
        package_json(&env, covered);
        assert_eq!(codes(&doctor(&env)), vec![], "{covered}");
    }
}

#[test]
fn literal_token_in_git() {
    let mock = MockRegistry::start(|req| match req.path_only() {
        "/-/whoami" => Reply::json(200, json!({"username": "dev"})),
        _ => Reply::json(404, json!({"error": "not found"})),
    });
    let env = TestEnv::new();
    let token = "literal-project-token-9876";
    env.register_secret(token);
    env.write_userconfig(&format!("registry={}\n", mock.url()));
    let git = Git::init(&env.project);
    let rc = project_npmrc(
        &env,
        &format!(
            "# project settings\n{}:_authToken={token}\n",
            mock.nerf_dart()
        ),
    );

    // Not tracked (yet): quiet.
    let run = doctor(&env);
    run.success();
    assert_eq!(codes(&run), vec![]);

    git.run(&["add", ".npmrc"]);
    let run = doctor(&env);
    run.failure(1);
    assert_eq!(codes(&run), vec![pair("literal-token-in-git", "error")]);
    let found = finding(&run, "literal-token-in-git");
    assert_eq!(found["source"], format!("{}:2", rc.display()));
    assert_eq!(found["registry"], json!(mock.url()));

    // A reference is not a secret, tracked or not.
    project_npmrc(
        &env,
        &format!("{}:_authToken=${{NPM_TOKEN}}\n", mock.nerf_dart()),
    );
    git.commit_all("use a variable");
    let run = env
        .rtok()
        .args(["doctor", "--json"])
        .env("NPM_TOKEN", token)
        .run();
    run.success();
    assert_eq!(codes(&run), vec![]);
}

#[test]
fn readable_by_others() {
    use std::os::unix::fs::PermissionsExt;
    let mock = MockRegistry::start(|_| Reply::json(200, json!({"username": "u"})));
    let env = TestEnv::new();
    env.register_secret("readable-token-1234");
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "readable-token-1234"));
    let chmod = |mode| {
        std::fs::set_permissions(&env.userconfig, std::fs::Permissions::from_mode(mode))
            .expect("chmod")
    };
    chmod(0o644);
    let run = doctor(&env);
    run.success();
    assert_eq!(codes(&run), vec![pair("readable-by-others", "warning")]);
    assert_eq!(
        finding(&run, "readable-by-others")["hint"],
        format!("run `chmod 600 {}`", env.userconfig.display())
    );
    chmod(0o600);
    assert_eq!(codes(&doctor(&env)), vec![]);
    // A file that only refers to a variable holds no secret.
    env.write_userconfig(&format!(
        "registry={}\n{}:_authToken=${{RTOK_READABLE}}\n",
        mock.url(),
        mock.nerf_dart()
    ));
    chmod(0o644);
    let run = env
        .rtok()
        .args(["doctor", "--json"])
        .env("RTOK_READABLE", "readable-token-1234")
        .run();
    assert_eq!(codes(&run), vec![]);
}

#[test]
fn plain_http() {
    // A plain-HTTP forward proxy stands in for the network, so a
    // non-loopback host can be named without DNS.
    let proxy = MockRegistry::start(|req| match req.path_only() {
        "http://registry.example.test/-/whoami" => Reply::json(200, json!({"username": "u"})),
        _ => Reply::json(404, json!({"error": "not found"})),
    });
    let env = TestEnv::new();
    env.register_secret("plain-http-token-1234");
    env.write_userconfig(&format!(
        "registry=http://registry.example.test/\n//registry.example.test/:_authToken=plain-http-token-1234\nproxy={}\n",
        proxy.url()
    ));
    let run = doctor(&env);
    run.success();
    assert_eq!(codes(&run), vec![pair("plain-http", "warning")]);
    assert_eq!(
        finding(&run, "plain-http")["registry"],
        "http://registry.example.test/"
    );
    // A loopback registry over plain HTTP (a local Verdaccio) is fine:
    // every other test here is one.
    let local = MockRegistry::start(|_| Reply::json(200, json!({"username": "u"})));
    env.write_userconfig(&npmrc_for_mock(&local.url(), "plain-http-token-1234"));
    assert_eq!(codes(&doctor(&env)), vec![]);
}

#[test]
fn no_credential_is_a_note_for_each_registry_that_matters() {
    let public = MockRegistry::start(|_| Reply::json(401, json!({"error": "no"})));
    let scoped = MockRegistry::start(|_| Reply::json(200, json!({"username": "acme-bot"})));
    let env = TestEnv::new();
    env.write_userconfig(&format!(
        "registry={}\n@acme:registry={}\n",
        public.url(),
        scoped.url()
    ));
    package_json(&env, r#"{"name": "@acme/tool"}"#);
    let run = doctor(&env);
    run.success();
    assert_eq!(
        codes(&run),
        vec![pair("no-credential", "info"), pair("no-credential", "info")]
    );
    let report = run.json();
    let scope_entry = &report["registries"][1];
    assert_eq!(scope_entry["registry"], json!(scoped.url()));
    assert_eq!(scope_entry["serves"], json!(["@acme"]));
    assert_eq!(scope_entry["publishes"], "@acme/tool");
    let hints: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["hint"].as_str())
        .collect();
    assert!(
        hints.contains(&"run `rtok login --scope @acme`"),
        "{hints:?}"
    );
    assert!(
        public.requests().is_empty() && scoped.requests().is_empty(),
        "nothing to ask"
    );

    env.register_secret("acme-bot-token-1234");
    env.write_userconfig(&format!(
        "registry={}\n@acme:registry={}\n{}:_authToken=acme-bot-token-1234\n",
        public.url(),
        scoped.url(),
        scoped.nerf_dart()
    ));
    let run = doctor(&env);
    assert_eq!(codes(&run), vec![pair("no-credential", "info")]);
    assert_eq!(
        finding(&run, "no-credential")["registry"],
        json!(public.url())
    );
}

fn tree(env: &TestEnv) -> BTreeMap<PathBuf, Vec<u8>> {
    file_tree(&env.root)
}

#[test]
fn bad_input_is_a_warning_or_one_error_and_nothing_is_written() {
    let html = MockRegistry::start(|_| {
        Reply::bytes(
            200,
            "text/html",
            b"<html><body>Captive portal</body></html>".to_vec(),
        )
    });
    let env = TestEnv::new();
    env.register_secret("bad-input-token-1234");
    env.write_userconfig(&format!(
        "{}fetch-retries=0\n",
        npmrc_for_mock(&html.url(), "bad-input-token-1234")
    ));
    package_json(&env, "{ \"name\": \"broken\", ");
    let before = tree(&env);
    let run = env.rtok().arg("doctor").run();
    run.failure(1);
    let lines = run.stderr_lines();
    assert!(
        lines[0].starts_with("warning: ") && lines[0].contains("package.json is not JSON"),
        "{}",
        run.describe("a warning about package.json")
    );
    let errors: Vec<&&str> = lines.iter().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "{}", run.describe("one error line"));
    assert!(
        errors[0].contains("could not check") && errors[0].contains("not JSON"),
        "{}",
        run.describe("the HTML answer named")
    );
    assert!(!run.stderr.contains("panicked"));
    assert!(
        run.stdout.contains("error"),
        "{}",
        run.describe("the registry's state")
    );

    // No name: the package is not checked, and that is fine.
    package_json(&env, r#"{"version": "1.0.0"}"#);
    let mock = MockRegistry::start(|_| Reply::json(200, json!({"username": "u"})));
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "bad-input-token-1234"));
    let before_second = tree(&env);
    let run = doctor(&env);
    run.success();
    assert_eq!(codes(&run), vec![]);
    assert_eq!(run.json()["registries"][0]["publishes"], json!(null));
    assert_eq!(tree(&env), before_second, "doctor wrote nothing");
    assert_ne!(before, before_second);

    // A folder outside any git repository, without package.json.
    let bare = TestEnv::without_package_json();
    bare.register_secret("bad-input-token-1234");
    bare.write_userconfig(&npmrc_for_mock(&mock.url(), "bad-input-token-1234"));
    let before = tree(&bare);
    let run = doctor(&bare);
    run.success();
    assert_eq!(codes(&run), vec![]);
    assert_eq!(tree(&bare), before, "doctor wrote nothing");
}

#[test]
fn no_output_holds_a_secret_in_any_format() {
    // Every secret doctor handles in one run (the winner, a hidden one, a
    // basic password, a literal tracked token) is registered: the leak sweep
    // fails the run if any of them is printed, in any format.
    let reg = shared();
    let user = reg.new_user("doctor-leaks");
    let env = TestEnv::new();
    env.register_secret(&user.token);
    env.register_secret(&user.password);
    env.register_secret("a-stale-leaky-project-token");
    env.write_userconfig(&reg.npmrc_for(&user));
    let git = Git::init(&env.project);
    project_npmrc(
        &env,
        &format!(
            "{}:_authToken=a-stale-leaky-project-token\n",
            reg.nerf_dart()
        ),
    );
    git.run(&["add", ".npmrc"]);
    for format in [
        &[][..],
        &["--json"][..],
        &["--parseable"][..],
        &["--verbose"][..],
    ] {
        let run = env.rtok().arg("doctor").args(format).run();
        run.failure(1);
    }
}

#[test]
fn a_credential_npm_cannot_read_is_a_note_pointing_at_exec() {
    let mock = MockRegistry::start(|req| match req.path_only() {
        "/-/whoami" => Reply::json(200, json!({"username": "helped"})),
        _ => Reply::json(200, token_page(Vec::new(), None)),
    });
    let env = TestEnv::new();
    env.write_userconfig(&format!("registry={}\n", mock.url()));
    let helper = env.root.join("token-helper");
    std::fs::write(
        &helper,
        "#!/bin/sh\nprintf doctor-helper-token-0123456789\n",
    )
    .expect("helper");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    env.register_secret("doctor-helper-token-0123456789");
    env.write_rtok_settings(&format!(
        "[registry.\"{}\"]\ncredential-command = [\"{}\"]\n",
        mock.url(),
        helper.display()
    ));
    let run = doctor(&env);
    run.success();
    assert_eq!(codes(&run), vec![pair("stored-credential", "info")]);
    let note = finding(&run, "stored-credential");
    assert!(
        note["hint"]
            .as_str()
            .is_some_and(|h| h.contains("rtok exec --"))
    );

    // The clean case without a stored credential has no such note.
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "doctor-file-token-0123456789"));
    env.register_secret("doctor-file-token-0123456789");
    std::fs::remove_file(env.rtok_settings()).expect("rm settings");
    let run = doctor(&env);
    run.success();
    assert!(!codes(&run).contains(&pair("stored-credential", "info")));
}

/// Probe #18 (r18): `${NPM_TOKEN` with no closing brace is a malformed
/// reference: `whoami`, `status` and `doctor` send nothing carrying it,
/// `status` shows a row in state `error` saying so, `doctor` a
/// `malformed-reference` error naming the line.
#[test]
fn malformed_reference_is_named_and_never_sent() {
    let mock = MockRegistry::start(|_| Reply::json(401, json!({"error": "no"})));
    let env = TestEnv::new();
    env.write_userconfig(&format!(
        "registry={}\n{}:_authToken=${{NPM_TOKEN\n",
        mock.url(),
        mock.nerf_dart()
    ));
    let whoami = env.rtok().arg("whoami").run();
    assert_ne!(whoami.code, 0, "{}", whoami.describe("a failure"));
    assert!(
        whoami.stderr.contains("malformed") && whoami.stderr.contains("hint: "),
        "{}",
        whoami.describe("the malformed reference named, with a hint")
    );

    let status = env
        .rtok()
        .args(["status", "--json"])
        .env("NPM_TOKEN", "set-but-not-referenced")
        .run();
    status.failure(1);
    let row = &status.json()[0];
    assert_eq!(row["state"], "error");
    assert!(
        row["error"].as_str().expect("error").contains("malformed"),
        "{row}"
    );

    let run = doctor(&env);
    run.failure(1);
    assert_eq!(codes(&run), vec![pair("malformed-reference", "error")]);
    let hint = finding(&run, "malformed-reference")["hint"]
        .as_str()
        .expect("hint")
        .to_string();
    assert!(
        hint.contains(&format!("{}:2", env.userconfig.display())),
        "{hint}"
    );

    let carried: Vec<String> = mock
        .requests()
        .iter()
        .filter_map(|r| r.header("authorization").map(str::to_string))
        .filter(|auth| auth.contains("${NPM_TOKEN"))
        .collect();
    assert!(carried.is_empty(), "sent: {carried:?}");
}

/// Issue 17: a credential for a plain-HTTP registry on another machine is
/// reported (`plain-http`) and sent nowhere; its row says it was not
/// checked, and doctor exits 0 (no finding is an error).
#[test]
fn plain_http_elsewhere_is_reported_and_not_sent() {
    // Were anything sent, it would go through this proxy (the name
    // resolves nowhere): it must receive nothing.
    let proxy = MockRegistry::start(|_| Reply::json(200, json!({"username": "u"})));
    let env = TestEnv::new();
    env.register_secret("plain-http-token-5678");
    env.write_userconfig(&format!(
        "registry=http://registry.invalid/\n//registry.invalid/:_authToken=plain-http-token-5678\nproxy={}\nfetch-retries=0\n",
        proxy.url()
    ));
    let run = env.rtok().args(["doctor", "--json", "-v"]).run();
    run.success();
    assert_eq!(codes(&run), vec![pair("plain-http", "warning")]);
    let registry = &run.json()["registries"][0];
    assert_eq!(registry["state"], "unchecked");
    assert!(
        registry["error"]
            .as_str()
            .expect("why")
            .contains("not checked"),
        "{registry}"
    );
    assert!(
        !run.stderr.contains("registry.invalid/-/"),
        "{}",
        run.describe("no request in the -v log")
    );
    assert!(proxy.requests().is_empty(), "{:?}", proxy.requests().len());
}

/// Issue 17: whenever doctor exits 1, an `error` finding says why: a
/// registry that cannot be reached is `unreachable`, one that answers
/// nonsense `check-failed`.
#[test]
fn an_unchecked_registry_is_an_error_finding() {
    let env = TestEnv::new();
    env.register_secret("unreachable-token-1234");
    env.write_userconfig(&format!(
        "{}fetch-retries=0\n",
        npmrc_for_mock("http://127.0.0.1:9/", "unreachable-token-1234")
    ));
    let run = doctor(&env);
    run.failure(1);
    assert_eq!(codes(&run), vec![pair("unreachable", "error")]);

    let broken = MockRegistry::start(|_| Reply::json(500, json!({"error": "boom"})));
    env.write_userconfig(&format!(
        "{}fetch-retries=0\n",
        npmrc_for_mock(&broken.url(), "unreachable-token-1234")
    ));
    let run = doctor(&env);
    run.failure(1);
    assert_eq!(codes(&run), vec![pair("check-failed", "error")]);
}

#[test]
fn a_publish_token_that_publishes_directly() {
    let mut entry = good_granular();
    entry["publish_policy"] = json!(null);
    let (_registry, env, _) = npmjs_account("direct", entry.clone());
    package_json(&env, r#"{"name": "@acme/tool"}"#);
    let run = doctor(&env);
    run.success();
    assert_eq!(codes(&run), vec![pair("direct-publish", "warning")]);
    assert!(
        finding(&run, "direct-publish")["hint"]
            .as_str()
            .expect("hint")
            .contains("--stage-only"),
        "{}",
        run.describe("the hint")
    );
    entry["bypass_2fa"] = json!(true);
    let (_registry, env, _) = npmjs_account("directbypass", entry.clone());
    package_json(&env, r#"{"name": "@acme/tool"}"#);
    let run = doctor(&env);
    run.failure(1);
    assert_eq!(codes(&run), vec![pair("direct-publish", "error")]);
    entry["publish_policy"] = json!("stage_only");
    let (_registry, env, _) = npmjs_account("stageonly", entry);
    package_json(&env, r#"{"name": "@acme/tool"}"#);
    assert_eq!(codes(&doctor(&env)), vec![]);
}
