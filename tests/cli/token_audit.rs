//! `rtok token audit`: every code on npmjs-shaped tokens (each with a clean
//! counterpart that stays quiet), `--fail-on`, the policy flags and the
//! `[audit]` table of rtok's settings file, a real Verdaccio account, and
//! the list being refused.

use std::time::{Duration, SystemTime};

use crate::support::verdaccio::iso8601;
use crate::support::*;

const DAY: Duration = Duration::from_secs(86_400);

fn ago(days: u32) -> String {
    iso8601(SystemTime::now() - days * DAY)
}

fn ahead(days: u32) -> String {
    iso8601(SystemTime::now() + days * DAY)
}

/// A write token nothing is wrong with: a month to live, used yesterday,
/// one package, a CIDR range, two-factor kept.
fn clean(key: &str, name: &str) -> serde_json::Value {
    let mut token = granular_token(key, name);
    token["token"] = json!(format!("npm_{}...{}", &key[..4], &key[key.len() - 4..]));
    token["created"] = json!(ago(10));
    token["expiry"] = json!(ahead(30));
    token["accessed"] = json!(ago(1));
    token["cidr"] = json!(["10.0.0.0/8"]);
    token["permissions"] = json!([{"name": "package", "action": "write"}]);
    token["scopes"] = json!([{"type": "package", "name": "left-pad"}]);
    token["publish_policy"] = json!("stage_only");
    token
}

/// A token for each code, changed from `clean` in one way only, and a
/// clean one; the session token in use is listed too (a classic entry:
/// write, no expiry, no CIDR).
fn account(tokens: Vec<serde_json::Value>) -> (TokenRegistry, TestEnv) {
    const SESSION: &str = "npm_AuditSessionTokenAbCdEfGhIjKlMnOp1234";
    let extra = tokens
        .into_iter()
        .enumerate()
        .map(|(i, t)| (t, format!("npm_unusedSecret{i:04}AbCdEfGhIjKlMnOpQrSt")))
        .collect();
    let registry = TokenRegistry::start(SESSION, extra);
    let env = TestEnv::new();
    env.register_secret(SESSION);
    env.write_userconfig(&format!(
        "registry={}\n{}:_authToken={SESSION}\n",
        registry.url(),
        registry.nerf_dart()
    ));
    (registry, env)
}

fn every_code() -> Vec<serde_json::Value> {
    let with = |key: &str, name: &str, change: &dyn Fn(&mut serde_json::Value)| {
        let mut token = clean(key, name);
        change(&mut token);
        token
    };
    vec![
        clean("c1ea0000aaaa", "clean"),
        with("e1e10000aaaa", "expired", &|t| t["expiry"] = json!(ago(3))),
        with("00e10000aaaa", "forever", &|t| t["expiry"] = json!(null)),
        with("10a10000aaaa", "long", &|t| {
            t["created"] = json!(ago(200));
            t["expiry"] = json!(ahead(10));
        }),
        with("0a5e0000aaaa", "idle", &|t| t["accessed"] = json!(ago(120))),
        with("c0de0000aaaa", "anywhere", &|t| t["cidr"] = json!([])),
        with("b2fa0000aaaa", "bypass", &|t| t["bypass_2fa"] = json!(true)),
        with("a11a0000aaaa", "everything", &|t| {
            t["scopes"] = json!([{"type": "package", "name": "*"}])
        }),
        with("d1ec0000aaaa", "direct", &|t| {
            t["publish_policy"] = json!(null)
        }),
        with("d2fa0000aaaa", "direct-bypass", &|t| {
            t["publish_policy"] = json!(null);
            t["bypass_2fa"] = json!(true);
        }),
    ]
}

/// `name → [code]` of a `--json` run, and the whole report.
fn by_name(run: &Run) -> std::collections::BTreeMap<String, Vec<String>> {
    let report = run.json();
    let mut out = std::collections::BTreeMap::new();
    for f in report["findings"].as_array().expect("findings") {
        for field in ["code", "severity", "id", "key", "message"] {
            assert!(
                f[field].as_str().is_some_and(|s| !s.is_empty()),
                "{}",
                run.describe(&format!("`{field}` in {f}"))
            );
        }
        out.entry(f["name"].as_str().unwrap_or("(none)").to_string())
            .or_insert_with(Vec::new)
            .push(f["code"].as_str().unwrap_or_default().to_string());
    }
    out
}

#[test]
fn every_code_finds_its_token_and_the_clean_one_is_quiet() {
    let (_registry, env) = account(every_code());
    let before = file_tree(&env.root);
    let run = env.rtok().args(["token", "audit", "--json"]).run();
    // `no-expiry` is an error: the default `--fail-on error` fails.
    run.failure(1);
    assert_eq!(file_tree(&env.root), before, "audit wrote nothing");
    let report = run.json();
    assert_eq!(report["tokens"], 11);
    let found = by_name(&run);
    let expect = |name: &str, codes: &[&str]| {
        assert_eq!(
            found.get(name).cloned().unwrap_or_default(),
            codes.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
            "{name}: {}",
            run.describe("its codes")
        );
    };
    expect("clean", &[]);
    expect("expired", &["expired-not-revoked"]);
    expect("forever", &["no-expiry"]);
    expect("long", &["long-lived"]);
    expect("idle", &["unused"]);
    expect("anywhere", &["write-without-cidr"]);
    expect("bypass", &["bypass-2fa"]);
    expect("everything", &["all-packages-write"]);
    // A write token that can publish directly; an error when it also skips
    // two-factor (npmjs refuses those from January 2027).
    expect("direct", &["direct-publish"]);
    expect("direct-bypass", &["direct-publish", "bypass-2fa"]);
    // The classic session entry: write, no expiry, no CIDR.
    expect("laptop session", &["no-expiry", "write-without-cidr"]);
    let findings = report["findings"].as_array().expect("findings");
    assert_eq!(findings[0]["severity"], "error", "errors first");
    let severity = |code: &str| {
        findings
            .iter()
            .find(|f| f["code"] == code)
            .map(|f| f["severity"].clone())
    };
    assert_eq!(severity("no-expiry"), Some(json!("error")));
    for code in [
        "expired-not-revoked",
        "long-lived",
        "unused",
        "write-without-cidr",
        "bypass-2fa",
        "all-packages-write",
    ] {
        assert_eq!(severity(code), Some(json!("warning")), "{code}");
    }
    let bypass = findings
        .iter()
        .find(|f| f["code"] == "bypass-2fa")
        .expect("bypass");
    assert_eq!(bypass["key"], "b2fa0000aaaa");
    assert_eq!(bypass["id"], "b2fa00");
    assert!(
        bypass["message"]
            .as_str()
            .expect("m")
            .contains("January 2027")
    );
    assert!(
        run.stderr
            .contains("error: 3 findings at or above `--fail-on error`"),
        "{}",
        run.describe("the failure")
    );

    let run = env.rtok().args(["token", "audit"]).run();
    run.failure(1);
    for needle in ["b2fa00", "bypass-2fa", "no-expiry", "severity"] {
        assert!(run.stdout.contains(needle), "{}", run.describe(needle));
    }
    assert!(
        run.stderr.contains("Audited 11 tokens on ")
            && run.stderr.contains("3 errors, 9 warnings."),
        "{}",
        run.describe("the summary")
    );
}

#[test]
fn read_only_tokens_get_at_most_warnings() {
    let mut read_only = clean("4ead0000aaaa", "reader");
    read_only["readonly"] = json!(true);
    read_only["permissions"] = json!([{"name": "package", "action": "read"}]);
    read_only["expiry"] = json!(null);
    read_only["cidr"] = json!([]);
    read_only["bypass_2fa"] = json!(true);
    read_only["scopes"] = json!([{"type": "package", "name": "*"}]);
    read_only["accessed"] = json!(null);
    read_only["created"] = json!(ago(300));
    let (_registry, env) = account(vec![read_only]);
    let run = env
        .rtok()
        .args(["token", "audit", "--json", "--fail-on", "never"])
        .run();
    run.success();
    assert_eq!(
        by_name(&run).get("reader").cloned(),
        Some(vec!["unused".to_string()])
    );
}

#[test]
fn fail_on_and_the_policy_flags() {
    let tokens = every_code()
        .into_iter()
        .filter(|t| t["name"] != "forever")
        .collect();
    let (_registry, env) = account(tokens);
    // The session's no-expiry is still an error.
    let audit = |args: &[&str]| {
        env.rtok()
            .args(["token", "audit", "--json"])
            .args(args)
            .run()
    };
    audit(&[]).failure(1);
    audit(&["--fail-on", "never"]).success();
    let run = audit(&["--fail-on", "warning"]);
    run.failure(1);
    assert!(run.stderr.contains("at or above `--fail-on warning`"));

    let relaxed = audit(&[
        "--unused-for",
        "400d",
        "--max-lifetime",
        "1y",
        "--fail-on",
        "never",
    ]);
    relaxed.success();
    let found = by_name(&relaxed);
    assert!(!found.contains_key("idle"), "{found:?}");
    assert!(!found.contains_key("long"), "{found:?}");
    let strict = audit(&["--unused-for", "12h", "--fail-on", "never"]);
    assert_eq!(
        by_name(&strict).get("clean").cloned(),
        Some(vec!["unused".to_string()]),
        "used a day ago is unused for 12h"
    );
    let run = audit(&["--unused-for", "a while"]);
    run.failure(2);
}

#[test]
fn defaults_come_from_rtoks_settings_file() {
    let (registry, env) = account(every_code());
    let config_dir = env.home.join(".config/rtok");
    std::fs::create_dir_all(&config_dir).expect("mkdir");
    let file = config_dir.join("config.toml");
    std::fs::write(
        &file,
        "# rtok settings\nstorage = \"file\"\n\n[audit]\nunused-for = \"400d\"\nmax-lifetime = \"365d\"\nfail-on = \"never\"\n",
    )
    .expect("write the settings");
    let run = env.rtok().args(["token", "audit", "--json"]).run();
    run.success();
    let found = by_name(&run);
    assert!(
        !found.contains_key("idle") && !found.contains_key("long"),
        "{found:?}"
    );
    assert!(found.contains_key("forever"));
    // Flags win over the file.
    let run = env
        .rtok()
        .args([
            "token",
            "audit",
            "--json",
            "--fail-on",
            "error",
            "--unused-for",
            "90d",
        ])
        .run();
    run.failure(1);
    assert!(by_name(&run).contains_key("idle"));

    // $XDG_CONFIG_HOME, then $RTOK_CONFIG, take precedence.
    let xdg = env.root.join("xdg");
    std::fs::create_dir_all(xdg.join("rtok")).expect("mkdir");
    std::fs::write(
        xdg.join("rtok/config.toml"),
        "[audit]\nfail-on = \"warning\"\n",
    )
    .expect("write");
    let run = env
        .rtok()
        .args(["token", "audit", "--json"])
        .env("XDG_CONFIG_HOME", &xdg)
        .run();
    run.failure(1);
    assert!(
        run.stderr.contains("`--fail-on warning`"),
        "{}",
        run.describe("xdg")
    );
    let elsewhere = env.root.join("elsewhere.toml");
    std::fs::write(
        &elsewhere,
        "[audit]\nfail-on = \"never\"\nunused_for = \"1d\"\n",
    )
    .expect("write");
    let run = env
        .rtok()
        .args(["token", "audit", "--json"])
        .env("XDG_CONFIG_HOME", &xdg)
        .env("RTOK_CONFIG", &elsewhere)
        .run();
    run.success();
    assert!(
        run.stderr
            .contains("`audit.unused_for` is not a setting rtok knows"),
        "{}",
        run.describe("a warning about the typo")
    );

    // A broken file: one error naming it, and the registry is not asked.
    std::fs::write(&file, "[audit]\nunused-for = 90\n").expect("write");
    let asked = registry.mock.requests().len();
    let run = env.rtok().args(["token", "audit"]).run();
    assert_error(
        &run,
        1,
        &format!("{}: `audit.unused-for` must be a string", file.display()),
    );
    std::fs::write(&file, "[audit\n").expect("write");
    let run = env.rtok().args(["token", "audit"]).run();
    assert_error(&run, 1, &format!("{}:1 is not valid TOML", file.display()));
    assert_eq!(
        registry.mock.requests().len(),
        asked,
        "nothing asked of the registry"
    );
}

#[test]
fn a_real_account_on_verdaccio() {
    let reg = shared();
    let user = reg.new_user("audit");
    let env = TestEnv::new();
    env.register_secret(&user.token);
    env.register_secret(&user.password);
    env.write_userconfig(&reg.npmrc_for(&user));
    let create = |args: &[&str]| {
        env.rtok()
            .args(["token", "create", "--password-stdin"])
            .args(args)
            .stdin(user.password.clone())
            .run()
            .success()
            .clone()
    };
    create(&[]);
    create(&["--read-only", "--cidr", "10.0.0.0/8"]);
    let run = env.rtok().args(["token", "audit", "--json"]).run();
    run.failure(1);
    let report = run.json();
    assert_eq!(report["tokens"], 2);
    let codes: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["code"].as_str())
        .collect();
    // Verdaccio lists no expiry: the write token never expires; the
    // read-only one with a CIDR range has nothing to report.
    assert_eq!(codes, ["no-expiry", "write-without-cidr"]);
}

#[test]
fn a_refused_list_and_no_credential_are_one_line_errors() {
    let mock = MockRegistry::start(|_| {
        Reply::json(403, json!({"error": "granular tokens cannot list tokens"}))
    });
    let env = TestEnv::new();
    env.register_secret("granular-ci-token-1234");
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "granular-ci-token-1234"));
    let before = file_tree(&env.root);
    let run = env.rtok().args(["token", "audit"]).run();
    assert_error(&run, 1, "403 Forbidden");
    assert_eq!(file_tree(&env.root), before, "nothing written");
    let html = MockRegistry::start(|_| {
        Reply::bytes(
            200,
            "text/html",
            b"<html><body>Sign in</body></html>".to_vec(),
        )
    });
    env.write_userconfig(&npmrc_for_mock(&html.url(), "granular-ci-token-1234"));
    let run = env.rtok().args(["token", "audit"]).run();
    assert_error(&run, 1, "not JSON");
    env.write_userconfig(&format!("registry={}\n", mock.url()));
    let run = env.rtok().args(["token", "audit"]).run();
    assert_error(&run, 4, "not logged in");
}
