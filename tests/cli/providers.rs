//! Providers of short-lived tokens (`provider = "codeartifact" | "gcloud" |
//! "azure" | "gh"` in rtok's settings, or a `credential-command` printing
//! JSON with an expiry): each preset's exact command line, the token cached
//! in the keyring until 5 minutes before it expires, a rejected token
//! fetched again once, and a tool that fails, hangs, prints nothing or junk
//! giving one error and sending nothing. The tools are `FakeTools`, which
//! print what the real ones print.

use std::time::Duration;

use serde_json::json;

use crate::support::*;

const HOUR: Duration = Duration::from_secs(3600);

/// A mock registry whose `whoami` accepts exactly `tokens` (the user is
/// named after the token's position), and whose token list is empty.
fn accepting(tokens: &[&str]) -> MockRegistry {
    let tokens: Vec<String> = tokens.iter().map(|t| t.to_string()).collect();
    MockRegistry::start(move |req| {
        let known = req
            .bearer()
            .and_then(|b| tokens.iter().position(|t| t == b));
        match (known, req.path_only()) {
            (None, _) => Reply::json(401, json!({"error": "bad token"})),
            (Some(i), "/-/whoami") => Reply::json(200, json!({"username": format!("user{i}")})),
            (Some(_), _) => Reply::json(200, token_page(Vec::new(), None)),
        }
    })
}

fn settings_for(registry: &str, table: &str) -> String {
    format!("[registry.\"{registry}\"]\n{table}")
}

#[test]
fn each_preset_runs_its_tools_exact_command_line() {
    let cases: [(&str, &str, &str); 5] = [
        (
            "aws",
            "provider = \"codeartifact\"\ndomain = \"acme\"\ndomain-owner = \"123456789012\"\nregion = \"us-east-1\"\nduration = \"2h\"\n",
            "codeartifact get-authorization-token --domain acme --domain-owner 123456789012 --region us-east-1 --duration-seconds 7200 --output json",
        ),
        (
            "aws",
            "provider = \"codeartifact\"\ndomain = \"acme\"\n",
            "codeartifact get-authorization-token --domain acme --output json",
        ),
        (
            "gcloud",
            "provider = \"gcloud\"\n",
            "auth print-access-token",
        ),
        (
            "az",
            "provider = \"azure\"\n",
            "account get-access-token --resource 499b84ac-1321-427f-aa17-267ca6975798 --output json",
        ),
        ("gh", "provider = \"gh\"\n", "auth token"),
    ];
    for (tool, table, argv) in cases {
        let token = format!("{tool}-token-0123456789abcdef");
        let mock = accepting(&[&token]);
        let env = TestEnv::new();
        env.register_secret(&token);
        env.write_userconfig(&format!("registry={}\n", mock.url()));
        env.write_rtok_settings(&settings_for(&mock.url(), table));
        let tools = FakeTools::new(&env);
        match tool {
            "aws" => tools.aws(1, &token, 12 * HOUR),
            "gcloud" => tools.gcloud(1, &token),
            "az" => tools.az(1, &token, HOUR),
            _ => tools.gh(1, &token),
        }
        let run = tools.apply(env.rtok().arg("whoami")).run();
        run.success();
        assert_eq!(run.stdout.trim(), "user0", "{tool}");
        assert_eq!(tools.calls(tool), [argv], "{tool}");
        // The token went to the registry, and nowhere else.
        assert!(!env.userconfig.exists() || !env.read_userconfig().contains(&token));
        assert_no_file_contains(&env.home, &token);
    }
}

#[test]
fn codeartifact_against_verdaccio_for_rtok_and_npm_through_exec() {
    let reg = shared();
    let user = reg.new_user("provider-ca");
    let env = TestEnv::new();
    env.register_secret(&user.token);
    env.write_userconfig(&format!("registry={}\n", reg.url));
    env.write_rtok_settings(&settings_for(
        &reg.url,
        "provider = \"codeartifact\"\ndomain = \"acme\"\nregion = \"eu-west-1\"\n",
    ));
    let before = env.read_userconfig();
    let tools = FakeTools::new(&env);
    tools.aws(1, &user.token, 12 * HOUR);

    let run = tools.apply(env.rtok().arg("whoami")).run();
    run.success();
    assert_eq!(run.stdout.trim(), user.name);

    // npm, run through `rtok exec`, gets the token in its environment only.
    let npm = crate::support::verdaccio::find_on_path("npm").expect("npm on PATH");
    let run = tools
        .apply(
            env.rtok()
                .args(["exec", "--"])
                .arg(&npm)
                .args(["whoami", "--registry", &reg.url]),
        )
        .env("npm_config_update_notifier", "false")
        .env("npm_config_cache", env.home.join(".npm-cache"))
        .run();
    run.success();
    assert_eq!(run.stdout.trim(), user.name);
    assert_eq!(env.read_userconfig(), before, "exec writes no file");
    assert_no_file_contains(&env.home, &user.token);
    assert_no_file_contains(&env.project, &user.token);
}

#[test]
fn the_token_is_cached_in_the_keyring_until_five_minutes_before_it_expires() {
    let mock = accepting(&["gho_cached_token_one", "ca-short-lived-token"]);
    let env = TestEnv::new();
    env.register_secret("gho_cached_token_one");
    env.register_secret("ca-short-lived-token");
    let keyring = PrivateKeyring::start(&env);
    env.write_userconfig(&format!("registry={}\n", mock.url()));
    env.write_rtok_settings(&settings_for(&mock.url(), "provider = \"gh\"\n"));
    let tools = FakeTools::new(&env);
    tools.gh(1, "gho_cached_token_one");
    for command in [
        &["whoami"][..],
        &["whoami"],
        &["status"],
        &["token", "list"],
    ] {
        let run = keyring.apply(tools.apply(env.rtok().args(command))).run();
        run.success();
    }
    assert_eq!(tools.calls("gh").len(), 1, "one run for four commands");
    // Kept as rtok's cache item, never as the registry's stored token.
    assert_eq!(keyring.secret_tool_lookup(&mock.nerf_dart()), None);
    let cached = keyring
        .secret_tool_lookup(&format!("provider-cache:{}", mock.nerf_dart()))
        .expect("a cache item");
    assert!(cached.contains("gho_cached_token_one"));

    // A token with less than 5 minutes left is fetched again every time.
    env.write_rtok_settings(&settings_for(
        &mock.url(),
        "provider = \"codeartifact\"\ndomain = \"acme\"\n",
    ));
    tools.aws(1, "ca-short-lived-token", Duration::from_secs(240));
    for _ in 0..2 {
        let run = keyring.apply(tools.apply(env.rtok().arg("whoami"))).run();
        run.success();
        assert_eq!(run.stdout.trim(), "user1");
    }
    assert_eq!(tools.calls("aws").len(), 2, "no reuse within the margin");
    assert_no_file_contains(&env.home, "gho_cached_token_one");
}

#[test]
fn without_a_keyring_the_token_stays_in_memory_and_verbose_says_so_once() {
    let mock = accepting(&["gho_memory_only_token"]);
    let env = TestEnv::new();
    env.register_secret("gho_memory_only_token");
    env.write_userconfig(&format!("registry={}\n", mock.url()));
    env.write_rtok_settings(&settings_for(&mock.url(), "provider = \"gh\"\n"));
    let tools = FakeTools::new(&env);
    tools.gh(1, "gho_memory_only_token");
    let run = tools.apply(env.rtok().args(["status", "-v"])).run();
    run.success();
    let notes = run
        .stderr_lines()
        .into_iter()
        .filter(|l| l.contains("kept in memory for this run only"))
        .count();
    assert_eq!(notes, 1, "{}", run.describe("one note"));
    // One run for the whoami and the token list of one status.
    assert_eq!(tools.calls("gh").len(), 1);
    let quiet = tools.apply(env.rtok().arg("whoami")).run();
    quiet.success();
    assert!(
        !quiet.stderr.contains("memory"),
        "{}",
        quiet.describe("silent")
    );
}

#[test]
fn a_rejected_provider_token_is_fetched_again_and_the_request_sent_once_more() {
    let mock = accepting(&["ya29.second-token"]);
    let env = TestEnv::new();
    env.register_secret("ya29.first-token");
    env.register_secret("ya29.second-token");
    let keyring = PrivateKeyring::start(&env);
    env.write_userconfig(&format!("registry={}\n", mock.url()));
    env.write_rtok_settings(&settings_for(&mock.url(), "provider = \"gcloud\"\n"));
    let tools = FakeTools::new(&env);
    // gcloud prints an expired token without complaint, then a fresh one.
    tools.gcloud(1, "ya29.first-token");
    tools.gcloud(2, "ya29.second-token");
    // `-v` names the retry; no token appears in any output (registered).
    let run = keyring
        .apply(tools.apply(env.rtok().args(["whoami", "-v"])))
        .run();
    run.success();
    assert_eq!(run.stdout.trim(), "user0");
    assert!(
        run.stderr
            .contains("rejected the provider's token; fetched a new one"),
        "{}",
        run.describe("the retry in -v")
    );
    assert_eq!(tools.calls("gcloud").len(), 2);
    let sent: Vec<Option<String>> = mock
        .requests()
        .iter()
        .map(|r| r.bearer().map(str::to_string))
        .collect();
    assert_eq!(
        sent,
        [
            Some("ya29.first-token".to_string()),
            Some("ya29.second-token".to_string())
        ]
    );
    // The new token replaced the cached one: the next run needs no tool.
    keyring
        .apply(tools.apply(env.rtok().arg("whoami")))
        .run()
        .success();
    assert_eq!(tools.calls("gcloud").len(), 2);
}

#[test]
fn a_token_rejected_again_is_retried_only_once() {
    let mock = accepting(&[]);
    let env = TestEnv::new();
    env.register_secret("gho_never_accepted");
    env.write_userconfig(&format!("registry={}\n", mock.url()));
    env.write_rtok_settings(&settings_for(&mock.url(), "provider = \"gh\"\n"));
    let tools = FakeTools::new(&env);
    tools.gh(1, "gho_never_accepted");
    let run = tools.apply(env.rtok().arg("whoami")).run();
    run.failure(4);
    assert_eq!(tools.calls("gh").len(), 2, "the provider ran once more");
    assert_eq!(mock.requests().len(), 2, "the request was sent once more");
}

/// The ways a tool can fail: each is one error naming the provider, exit 1,
/// nothing sent, nothing written; its stderr shown, its stdout never.
#[test]
fn a_failing_hanging_silent_or_junk_provider_is_one_error_and_sends_nothing() {
    let stdout_secret = "stdout-secret-never-shown-0123456789";
    let cases: [(&str, &str, &str, i32, &str); 5] = [
        (
            "fails",
            stdout_secret,
            "\nAn error occurred (ExpiredTokenException) when calling the GetAuthorizationToken operation: The security token included in the request is expired\n",
            255,
            "exited with status 255: An error occurred (ExpiredTokenException)",
        ),
        ("hangs", "", "", 0, "did not finish within 500 ms"),
        ("silent", "", "", 0, "printed no token"),
        (
            "html",
            "<!DOCTYPE html><html><body>Sign in stdout-secret-never-shown-0123456789</body></html>\n",
            "",
            0,
            "(it looks like HTML)",
        ),
        (
            "no-field",
            "{\"expiration\": \"2030-01-01T00:00:00+00:00\", \"note\": \"stdout-secret-never-shown-0123456789\"}\n",
            "",
            0,
            "(JSON without `authorizationToken`)",
        ),
    ];
    for (name, stdout, stderr, code, needle) in cases {
        let mock = accepting(&[]);
        let env = TestEnv::new();
        env.register_secret(stdout_secret);
        let npmrc = format!("registry={}\n# keep me\n", mock.url());
        env.write_userconfig(&npmrc);
        env.write_rtok_settings(&settings_for(
            &mock.url(),
            "provider = \"codeartifact\"\ndomain = \"acme\"\n",
        ));
        let tools = FakeTools::new(&env);
        tools.queue("aws", 1, stdout, stderr, code);
        if name == "hangs" {
            tools.hang("aws", 1, 30);
        }
        for command in [&["whoami"][..], &["refresh"]] {
            let run = tools
                .apply(env.rtok().args(command))
                .env("RTOK_CREDENTIAL_COMMAND_TIMEOUT_MS", "500")
                .run();
            assert_error(&run, 1, "the `codeartifact` provider (`aws codeartifact");
            assert!(
                run.stderr.contains(needle),
                "{name}: {}",
                run.describe(needle)
            );
            assert!(!run.stderr.contains(stdout_secret), "{name}");
            assert!(
                hint(&run).contains("aws codeartifact get-authorization-token"),
                "{name}"
            );
        }
        assert!(mock.requests().is_empty(), "{name}: nothing was sent");
        assert_eq!(env.read_userconfig(), npmrc, "{name}: nothing written");
        assert_no_file_contains(&env.root.join("home"), stdout_secret);
    }
}

#[test]
fn a_missing_tool_says_which_to_install() {
    let mock = accepting(&[]);
    let env = TestEnv::new();
    env.write_userconfig(&format!("registry={}\n", mock.url()));
    env.write_rtok_settings(&settings_for(&mock.url(), "provider = \"azure\"\n"));
    // PATH without any `az`.
    let run = env
        .rtok()
        .arg("whoami")
        .env("PATH", "/nonexistent-rtok-test-path")
        .run();
    assert_error(
        &run,
        1,
        "the `azure` provider (`az account get-access-token",
    );
    assert!(
        run.stderr.contains("was not found"),
        "{}",
        run.describe("not found")
    );
    assert!(hint(&run).contains("install `az`"), "{}", hint(&run));
}

#[test]
fn a_credential_command_may_print_json_with_an_expiry_and_is_then_cached() {
    let mock = accepting(&["json-command-token-0123"]);
    let env = TestEnv::new();
    env.register_secret("json-command-token-0123");
    let keyring = PrivateKeyring::start(&env);
    env.write_userconfig(&format!("registry={}\n", mock.url()));
    let tools = FakeTools::new(&env);
    tools.queue(
        "vault-helper",
        1,
        "{\"token\": \"json-command-token-0123\", \"expires_in\": 3600}\n",
        "",
        0,
    );
    env.write_rtok_settings(&settings_for(
        &mock.url(),
        &format!(
            "credential-command = [\"{}\"]\n",
            tools.bin.join("vault-helper").display()
        ),
    ));
    for _ in 0..3 {
        let run = keyring.apply(env.rtok().arg("whoami")).run();
        run.success();
        assert_eq!(run.stdout.trim(), "user0");
    }
    assert_eq!(tools.calls("vault-helper").len(), 1);
}

#[test]
fn login_on_a_provider_registry_says_no_login_is_needed() {
    let mock = accepting(&[]);
    let env = TestEnv::new();
    env.write_userconfig(&format!("registry={}\n", mock.url()));
    env.write_rtok_settings(&settings_for(&mock.url(), "provider = \"gh\"\n"));
    let run = env.rtok().args(["login", "--auth-type", "legacy"]).run();
    run.success();
    assert!(
        run.stderr.contains("No login needed") && run.stderr.contains("`gh` provider"),
        "{}",
        run.describe("no login needed")
    );
    assert!(mock.requests().is_empty());
    assert_eq!(env.read_userconfig(), format!("registry={}\n", mock.url()));
}

#[test]
fn status_shows_the_provider_with_its_expiry_and_a_failing_one_as_error() {
    let mock = accepting(&["az-status-token-0123"]);
    let env = TestEnv::new();
    env.register_secret("az-status-token-0123");
    env.write_userconfig(&format!("registry={}\n", mock.url()));
    env.write_rtok_settings(&settings_for(&mock.url(), "provider = \"azure\"\n"));
    let tools = FakeTools::new(&env);
    tools.az(1, "az-status-token-0123", 2 * HOUR);
    let run = tools.apply(env.rtok().args(["status", "--json"])).run();
    run.success();
    let row = &run.json()[0];
    assert_eq!(row["source"], "provider: azure");
    assert_eq!(row["storage"], "provider");
    assert_eq!(row["state"], "ok");
    assert_eq!(row["user"], "user0");
    assert!(
        row["expires"].as_str().is_some_and(|e| e.ends_with('Z')),
        "{row}"
    );

    // Expiring within `--expiring-within`.
    let run = tools
        .apply(
            env.rtok()
                .args(["status", "--json", "--expiring-within", "3h"]),
        )
        .run();
    run.failure(1);
    assert_eq!(run.json()[0]["state"], "expiring");

    // A provider that fails is a row in state `error` with its message.
    tools.queue(
        "az",
        3,
        "",
        "ERROR: Please run 'az login' to setup account.\n",
        1,
    );
    let run = tools.apply(env.rtok().args(["status", "--json"])).run();
    run.failure(1);
    let row = &run.json()[0];
    assert_eq!(row["state"], "error");
    assert!(
        row["error"]
            .as_str()
            .is_some_and(|e| e.contains("Please run 'az login'")),
        "{row}"
    );
}

#[test]
fn doctor_reports_a_failing_provider() {
    let mock = accepting(&[]);
    let env = TestEnv::new();
    env.write_userconfig(&format!("registry={}\n", mock.url()));
    env.write_rtok_settings(&settings_for(&mock.url(), "provider = \"gh\"\n"));
    let tools = FakeTools::new(&env);
    tools.queue("gh", 1, "", "no oauth token found for github.com\n", 1);
    let run = tools.apply(env.rtok().args(["doctor", "--json"])).run();
    run.failure(1);
    let findings = run.json()["findings"].clone();
    let codes: Vec<&str> = findings
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["code"].as_str())
        .collect();
    assert!(codes.contains(&"provider-failed"), "{codes:?}");
    assert!(!codes.contains(&"rejected"), "{codes:?}");
    let failed = findings
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["code"] == "provider-failed")
        .expect("provider-failed");
    assert_eq!(failed["severity"], "error");
    assert!(
        failed["message"]
            .as_str()
            .is_some_and(|m| m.contains("no oauth token found")),
        "{failed}"
    );
    assert!(
        failed["hint"]
            .as_str()
            .is_some_and(|h| h.contains("gh auth token")),
        "{failed}"
    );
}

#[test]
fn status_warns_of_a_provider_token_about_to_expire_in_minutes() {
    let mock = accepting(&["ca-ten-minutes-left"]);
    let env = TestEnv::new();
    env.register_secret("ca-ten-minutes-left");
    env.write_userconfig(&format!("registry={}\n", mock.url()));
    env.write_rtok_settings(&settings_for(
        &mock.url(),
        "provider = \"codeartifact\"\ndomain = \"acme\"\n",
    ));
    let tools = FakeTools::new(&env);
    tools.aws(1, "ca-ten-minutes-left", Duration::from_secs(600));
    let run = tools.apply(env.rtok().arg("status")).run();
    run.success();
    assert!(
        run.stdout.contains("expiring"),
        "{}",
        run.describe("expiring")
    );
    let warning = run
        .stderr_lines()
        .into_iter()
        .find(|l| l.starts_with("warning: "))
        .unwrap_or_else(|| panic!("{}", run.describe("a warning")))
        .to_string();
    assert!(
        warning.contains("in 10 min") || warning.contains("in 9 min"),
        "{warning}"
    );
    assert!(warning.contains("`rtok refresh`"), "{warning}");
}

#[test]
fn logout_leaves_a_provider_token_to_its_tool() {
    let mock = accepting(&["gho_logout_keeps_me"]);
    let env = TestEnv::new();
    env.register_secret("gho_logout_keeps_me");
    env.write_userconfig(&format!("registry={}\n", mock.url()));
    env.write_rtok_settings(&settings_for(&mock.url(), "provider = \"gh\"\n"));
    let tools = FakeTools::new(&env);
    tools.gh(1, "gho_logout_keeps_me");
    let run = tools.apply(env.rtok().arg("logout")).run();
    run.success();
    assert!(
        run.stderr.contains("sign out with that tool"),
        "{}",
        run.describe("note")
    );
    assert!(mock.requests().is_empty(), "nothing revoked");
}
