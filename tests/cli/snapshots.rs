//! The whole human output of every command, as snapshots: tables on and off
//! a terminal, status, and every error with its hint. Runs against mocks so
//! the text is the same on every run; ports and temporary paths are
//! filtered (see `support::snapshot`). Update with `INSTA_UPDATE=always
//! scripts/test snapshots::` and review the diff.

use insta::assert_snapshot;

use crate::support::*;

/// The token this machine uses on the stateful mock (listed as
/// `session-key-0001`, "laptop session").
const SESSION: &str = "npm_SessionTokenForSnapshotsAbCdEfGhIj1234";

/// An account on the stateful mock: the session token in use, a read-only
/// CIDR token and a granular token with expiry and last use.
fn account() -> (TokenRegistry, TestEnv) {
    let mut readonly = npm_token("9f3a11c0ffee0000", "npm_ReadOnly...beef");
    readonly["readonly"] = json!(true);
    readonly["cidr_whitelist"] = json!(["10.0.0.0/8"]);
    let mut granular = granular_token("c1c1c1c1-uuid", "ci-publish");
    granular["accessed"] = json!("2026-10-31T12:00:00.000Z");
    granular["token"] = json!("npm_Granular...9876");
    let registry = TokenRegistry::start(
        SESSION,
        vec![
            (
                readonly,
                "npm_ReadOnlyTokenSecretValueAbCdEfGhIjbeef".into(),
            ),
            (
                granular,
                "npm_GranularTokenSecretValueAbCdEfGhIj9876".into(),
            ),
        ],
    );
    let env = TestEnv::new();
    env.register_secret(SESSION);
    env.write_userconfig(&format!(
        "registry={}\n{}:_authToken={SESSION}\n",
        registry.url(),
        registry.nerf_dart()
    ));
    (registry, env)
}

#[test]
fn help() {
    let env = TestEnv::new();
    let _settings = snapshot_settings(&env).bind_to_scope();
    assert_snapshot!("help", transcript(&env.rtok().arg("--help").run()));
    assert_snapshot!(
        "token_help",
        transcript(&env.rtok().args(["token", "--help"]).run())
    );
}

#[test]
fn whoami_and_token_list() {
    let (_registry, env) = account();
    let _settings = snapshot_settings(&env).bind_to_scope();
    assert_snapshot!("whoami", transcript(&env.rtok().arg("whoami").run()));
    assert_snapshot!(
        "token_list",
        transcript(&env.rtok().args(["token", "list"]).run())
    );
    assert_snapshot!(
        "token_list_parseable",
        transcript(&env.rtok().args(["token", "list", "--parseable"]).run())
    );
    assert_snapshot!(
        "token_list_sorted_read_only",
        transcript(
            &env.rtok()
                .args(["token", "ls", "--filter", "read-only", "--sort", "name"])
                .run()
        )
    );
}

#[test]
fn token_list_on_a_terminal() {
    let (_registry, env) = account();
    let _settings = snapshot_settings(&env).bind_to_scope();
    let mut command = raw_rtok(&env);
    command.args(["token", "list"]);
    let mut session =
        rexpect::session::spawn_command(command, Some(30_000)).expect("spawn rtok in a pty");
    let text = session.exp_eof().expect("rtok exits");
    assert_snapshot!("token_list_terminal", terminal_text(&text));
}

#[test]
fn an_empty_token_list() {
    let mock = MockRegistry::start(|_| Reply::json(200, token_page(Vec::new(), None)));
    let env = TestEnv::new();
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "empty-list-token"));
    let _settings = snapshot_settings(&env).bind_to_scope();
    assert_snapshot!(
        "token_list_empty",
        transcript(&env.rtok().args(["token", "list"]).run())
    );
}

#[test]
fn token_create_delete_rotate_prune() {
    let (registry, env) = account();
    let _settings = snapshot_settings(&env).bind_to_scope();
    let run = env
        .rtok()
        .args([
            "token",
            "create",
            "--read-only",
            "--cidr",
            "10.0.0.0/8",
            "--password-stdin",
        ])
        .stdin(PASSWORD)
        .run();
    assert_snapshot!("token_create", transcript(&run));
    let run = env
        .rtok()
        .args(["token", "delete", "created-key-0001"])
        .run();
    assert_snapshot!("token_delete", transcript(&run));
    let run = env
        .rtok()
        .args(["token", "rotate", "9f3a11", "--password-stdin"])
        .stdin(PASSWORD)
        .run();
    assert_snapshot!("token_rotate", transcript(&run));
    let run = env
        .rtok()
        .args(["token", "prune", "--name", "ci-*", "--dry-run"])
        .run();
    assert_snapshot!("token_prune_dry_run", transcript(&run));
    let run = env
        .rtok()
        .args(["token", "prune", "--publish", "--dry-run"])
        .run();
    assert_snapshot!("token_prune_keeps_current", transcript(&run));
    registry.fail_deletes_of("c1c1c1c1-uuid");
    let run = env
        .rtok()
        .args(["token", "delete", "created-key-0002", "c1c1c1"])
        .run();
    assert_snapshot!("token_delete_partial_failure", transcript(&run));
}

#[test]
fn status() {
    let good = MockRegistry::start(|_| Reply::json(200, json!({"username": "alice"})));
    let bad = MockRegistry::start(|_| {
        Reply::json(401, json!({"error": "token revoked"})).header("www-authenticate", "Bearer")
    });
    let env = TestEnv::new();
    env.write_userconfig(&format!(
        "registry={}\n{}:_authToken=npm_GoodTokenForStatusSnapshotsAbCdEf1234\n\
         @bad:registry={}\n{}:_authToken=npm_RevokedTokenForStatusSnapshotsAbCd5678\n\
         //ci.example/:_authToken=${{RTOK_SNAPSHOT_UNSET}}\n",
        good.url(),
        good.nerf_dart(),
        bad.url(),
        bad.nerf_dart(),
    ));
    let _settings = snapshot_settings(&env).bind_to_scope();
    assert_snapshot!("status", transcript(&env.rtok().arg("status").run()));
}

/// A registry with a couch login for `someone` / `right-password`.
fn login_registry() -> MockRegistry {
    MockRegistry::start(|req| match (req.method.as_str(), req.path_only()) {
        ("POST", "/-/v1/login") => Reply::text(404, "Cannot POST /-/v1/login"),
        ("PUT", _) if req.json()["password"] == "right-password" => Reply::json(
            201,
            json!({"ok": true, "token": "snapshot-login-token-0001"}),
        ),
        ("PUT", _) => {
            Reply::json(401, json!({"error": "bad password"})).header("www-authenticate", "Basic")
        }
        ("GET", "/-/whoami") => Reply::json(200, json!({"username": "someone"})),
        ("DELETE", _) => Reply::json(200, json!({})),
        _ => Reply::json(404, json!({"error": "not found"})),
    })
}

#[test]
fn login_and_logout() {
    let mock = login_registry();
    let env = TestEnv::new();
    env.register_secret("snapshot-login-token-0001");
    env.write_userconfig(&format!("registry={}\n", mock.url()));
    let _settings = snapshot_settings(&env).bind_to_scope();
    let login = |password: &str| {
        env.rtok()
            .args(["login", "--username", "someone", "--password-stdin"])
            .stdin(password)
            .run()
    };
    assert_snapshot!("login_wrong_password", transcript(&login("wrong-password")));
    assert_snapshot!("login", transcript(&login("right-password")));
    assert_snapshot!("logout", transcript(&env.rtok().arg("logout").run()));
    assert_snapshot!(
        "logout_not_logged_in",
        transcript(&env.rtok().arg("logout").run())
    );
}

/// Errors that need only a config (or a registry that fails in one way).
#[test]
fn errors_and_their_hints() {
    let env = TestEnv::new();
    let _settings = snapshot_settings(&env).bind_to_scope();
    let case = |name: &str, npmrc: &str, args: &[&str]| {
        env.write_userconfig(npmrc);
        let run = env.rtok().args(args).run();
        assert_snapshot!(name, transcript(&run));
    };
    case(
        "error_not_logged_in",
        "registry=http://127.0.0.1:9/\n",
        &["whoami"],
    );
    case(
        "error_unset_variable",
        "registry=https://r.example/\n//r.example/:_authToken=${RTOK_SNAPSHOT_UNSET}\n",
        &["whoami"],
    );
    case(
        "error_registry_not_a_url",
        "registry=not a url\n",
        &["whoami"],
    );
    case(
        "error_bad_fetch_timeout",
        "registry=https://r.example/\n//r.example/:_authToken=t\nfetch-timeout=soon\n",
        &["whoami"],
    );
    case(
        "error_connection_refused",
        "registry=http://127.0.0.1:9/\n//127.0.0.1:9/:_authToken=t\nfetch-retries=0\n",
        &["whoami"],
    );
    case(
        "error_invalid_cidr",
        "registry=https://r.example/\n//r.example/:_authToken=t\n",
        &["token", "create", "--cidr", "10.0.0.0/33"],
    );
    case(
        "error_prune_without_a_terminal",
        "registry=https://r.example/\n//r.example/:_authToken=t\n",
        &["token", "prune", "--expired"],
    );
    case(
        "error_delete_without_ids",
        "registry=https://r.example/\n//r.example/:_authToken=t\n",
        &["token", "delete"],
    );
}

/// Errors the registry causes.
#[test]
fn registry_errors_and_their_hints() {
    let env = TestEnv::new();
    let _settings = snapshot_settings(&env).bind_to_scope();
    let case = |name: &str, args: &[&str], reply: Reply| {
        let mock = MockRegistry::start(move |_| reply.clone());
        env.write_userconfig(&format!(
            "{}fetch-retries=1\n",
            npmrc_for_mock(&mock.url(), "snapshot-token-1234")
        ));
        let run = env.rtok().args(args).stdin("pw").run();
        assert_snapshot!(name, transcript(&run));
    };
    case(
        "error_rejected_token",
        &["token", "list"],
        Reply::json(401, json!({"error": "bad token"})).header("www-authenticate", "Bearer"),
    );
    case(
        "error_no_token_api",
        &["token", "list"],
        Reply::json(404, json!({"error": "not found"})),
    );
    case(
        "error_server_error",
        &["whoami"],
        Reply::json(503, json!({"error": "down for maintenance"})),
    );
    case(
        "error_not_json",
        &["whoami"],
        Reply::bytes(
            200,
            "text/html",
            b"<html><body><h1>Proxy login</h1></body></html>".to_vec(),
        ),
    );
    case(
        "error_otp_without_a_terminal",
        &["token", "create", "--password-stdin"],
        Reply::json(401, json!({"error": "otp required"})).header("www-authenticate", "OTP"),
    );
}

#[test]
fn token_ids_that_do_not_resolve() {
    let objects = vec![npm_token("abcdef0011", "m1"), npm_token("abcdef0022", "m2")];
    let body = token_page(objects, None);
    let mock = MockRegistry::start(move |_| Reply::json(200, body.clone()));
    let env = TestEnv::new();
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "ids-token-1234"));
    let _settings = snapshot_settings(&env).bind_to_scope();
    let run = env.rtok().args(["token", "delete", "zzzzzz"]).run();
    assert_snapshot!("error_unknown_id", transcript(&run));
    let run = env.rtok().args(["token", "delete", "abcdef"]).run();
    assert_snapshot!("error_ambiguous_id", transcript(&run));
    let run = env
        .rtok()
        .args(["token", "rotate", "current", "--password-stdin"])
        .stdin("pw")
        .run();
    assert_snapshot!("error_rotate_current_unlisted", transcript(&run));
}

/// The clock the health snapshots read (`RTOK_TEST_NOW`, a test hook).
const NOW: &str = "2026-11-01T00:00:00.000Z";

/// An npmjs granular token in use, expiring in three days, and a rejected
/// one elsewhere; on GitHub Actions.
#[test]
fn status_with_expiry_on_github_actions() {
    require_test_hooks();
    const GRANULAR: &str = "npm_GranularInUseForStatusSnapshotsAbCd1234";
    let mut entry = granular_token("9a9a9a9a-uuid", "ci-publish");
    entry["token"] = json!(npmjs_mask(GRANULAR));
    entry["expiry"] = json!("2026-11-04T00:00:00.000Z");
    entry["accessed"] = json!("2026-10-31T12:00:00.000Z");
    let registry = TokenRegistry::start(SESSION, vec![(entry, GRANULAR.into())]);
    let bad = MockRegistry::start(|_| {
        Reply::json(401, json!({"error": "token revoked"})).header("www-authenticate", "Bearer")
    });
    let env = TestEnv::new();
    env.register_secret(GRANULAR);
    env.write_userconfig(&format!(
        "registry={}\n{}:_authToken={GRANULAR}\n@bad:registry={}\n{}:_authToken=npm_RevokedTokenForStatusSnapshotsAbCd5678\n",
        registry.url(),
        registry.nerf_dart(),
        bad.url(),
        bad.nerf_dart(),
    ));
    let _settings = snapshot_settings(&env).bind_to_scope();
    let run = env
        .rtok()
        .args(["status", "--expiring-within", "14d"])
        .env("RTOK_TEST_NOW", NOW)
        .env("GITHUB_ACTIONS", "true")
        .run();
    assert_snapshot!("status_expiring_github_actions", transcript(&run));
}

/// A project that pnpm and yarn also work in: pnpm's auth.ini holds a
/// stale token that hides the working `.npmrc` one, and yarn has none.
#[test]
fn doctor_clients() {
    require_test_hooks();
    let (registry, env) = account();
    std::fs::write(
        env.project.join("package.json"),
        "{\"name\": \"tool\", \"version\": \"1.0.0\", \"packageManager\": \"yarn@4.18.1\"}\n",
    )
    .expect("package.json");
    std::fs::write(
        env.project.join("pnpm-lock.yaml"),
        "lockfileVersion: '9.0'\n",
    )
    .expect("pnpm-lock.yaml");
    let stale = "npm_StaleAuthIniTokenForSnapshotsAbCdEf01";
    env.register_secret(stale);
    env.write_client_credentials(
        Client::Pnpm11,
        &format!("{}:_authToken={stale}\n", registry.nerf_dart()),
    );
    env.write_client_credentials(
        Client::Yarn4,
        &format!("npmRegistryServer: \"{}\"\n", registry.url()),
    );
    let _settings = snapshot_settings(&env).bind_to_scope();
    let run = env.rtok().arg("doctor").env("RTOK_TEST_NOW", NOW).run();
    assert_snapshot!("doctor_clients", transcript(&run));
    let run = env.rtok().arg("status").env("RTOK_TEST_NOW", NOW).run();
    assert_snapshot!("status_clients", transcript(&run));
}

/// A project whose stale `.npmrc` token hides a working login, a scope
/// registry without a credential, a user config others can read.
#[test]
fn doctor() {
    require_test_hooks();
    let (registry, env) = account();
    let scoped = MockRegistry::start(|_| Reply::json(401, json!({"error": "no"})));
    env.write_userconfig(&format!(
        "registry={}\n{}:_authToken={SESSION}\n@acme:registry={}\n",
        registry.url(),
        registry.nerf_dart(),
        scoped.url()
    ));
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&env.userconfig, std::fs::Permissions::from_mode(0o644))
        .expect("chmod");
    std::fs::write(
        env.project.join("package.json"),
        "{\"name\": \"@acme/tool\", \"version\": \"1.0.0\"}\n",
    )
    .expect("package.json");
    let stale = "npm_StaleProjectTokenForSnapshotsAbCdEf0001";
    env.register_secret(stale);
    let project_rc = env.project.join(".npmrc");
    std::fs::write(
        &project_rc,
        format!("{}:_authToken={stale}\n", registry.nerf_dart()),
    )
    .expect("project .npmrc");
    std::fs::set_permissions(&project_rc, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let _settings = snapshot_settings(&env).bind_to_scope();
    let doctor = || env.rtok().arg("doctor").env("RTOK_TEST_NOW", NOW).run();
    assert_snapshot!("doctor_findings", transcript(&doctor()));

    std::fs::remove_file(&project_rc).expect("remove the stale token");
    std::fs::set_permissions(&env.userconfig, std::fs::Permissions::from_mode(0o600))
        .expect("chmod");
    env.write_userconfig(&format!(
        "registry={}\n{}:_authToken={SESSION}\n",
        registry.url(),
        registry.nerf_dart()
    ));
    assert_snapshot!("doctor_clean", transcript(&doctor()));
}

/// One token per audit code, and a clean one.
#[test]
fn token_audit() {
    require_test_hooks();
    let token = |key: &str, name: &str, change: &dyn Fn(&mut serde_json::Value)| {
        let mut t = granular_token(key, name);
        t["token"] = json!(format!("npm_{}...{}", &key[..4], &key[key.len() - 4..]));
        t["created"] = json!("2026-10-01T00:00:00.000Z");
        t["expiry"] = json!("2026-12-01T00:00:00.000Z");
        t["accessed"] = json!("2026-10-30T00:00:00.000Z");
        t["cidr"] = json!(["10.0.0.0/8"]);
        t["permissions"] = json!([{"name": "package", "action": "write"}]);
        t["scopes"] = json!([{"type": "package", "name": "left-pad"}]);
        t["publish_policy"] = json!("stage_only");
        change(&mut t);
        (t, format!("npm_{key}UnusedSecretAbCdEfGhIjKlMnOpQr"))
    };
    let registry = TokenRegistry::start(
        SESSION,
        vec![
            token("c1ea0000aaaa", "clean", &|_| {}),
            token("e1e10000aaaa", "expired", &|t| {
                t["expiry"] = json!("2026-10-20T00:00:00.000Z")
            }),
            token("00e10000aaaa", "forever", &|t| t["expiry"] = json!(null)),
            token("10a10000aaaa", "long", &|t| {
                t["created"] = json!("2026-01-01T00:00:00.000Z")
            }),
            token("0a5e0000aaaa", "idle", &|t| {
                t["accessed"] = json!("2026-06-01T00:00:00.000Z")
            }),
            token("c0de0000aaaa", "anywhere", &|t| t["cidr"] = json!([])),
            token("b2fa0000aaaa", "bypass", &|t| t["bypass_2fa"] = json!(true)),
            token("a11a0000aaaa", "everything", &|t| {
                t["scopes"] = json!([{"type": "package", "name": "*"}])
            }),
            token("d1ec0000aaaa", "direct", &|t| {
                t["publish_policy"] = json!(null)
            }),
        ],
    );
    let env = TestEnv::new();
    env.register_secret(SESSION);
    env.write_userconfig(&format!(
        "registry={}\n{}:_authToken={SESSION}\n",
        registry.url(),
        registry.nerf_dart()
    ));
    let _settings = snapshot_settings(&env).bind_to_scope();
    let run = env
        .rtok()
        .args(["token", "audit"])
        .env("RTOK_TEST_NOW", NOW)
        .run();
    assert_snapshot!("token_audit", transcript(&run));
}

#[test]
fn stage_and_trust() {
    let registry = StageRegistry::start(
        &["@acme/cli", "@acme/core"],
        vec![
            staged_item(1, "@acme/cli", "1.2.0"),
            staged_item(2, "@acme/core", "1.1.0"),
        ],
        TwoFactor::Classic {
            codes: vec!["123456".into()],
            once: false,
        },
    );
    let env = TestEnv::new();
    env.register_secret(STAGE_TOKEN);
    env.write_userconfig(&registry.npmrc());
    crate::stage::workspace(
        &env,
        &[
            ("cli", "@acme/cli", &["@acme/core"]),
            ("core", "@acme/core", &[]),
        ],
    );
    let _settings = snapshot_settings(&env).bind_to_scope();
    assert_snapshot!(
        "token_create_stage_only",
        transcript(
            &env.rtok()
                .args([
                    "token",
                    "create",
                    "--stage-only",
                    "--name",
                    "release",
                    "--packages",
                    "@acme/cli",
                    "--expires",
                    "30",
                    "--password-stdin",
                ])
                .stdin("pw")
                .allow_secret(STAGE_CREATED_TOKEN)
                .run()
        )
    );
    assert_snapshot!(
        "stage_list",
        transcript(&env.rtok().args(["stage", "list"]).run())
    );
    assert_snapshot!(
        "stage_approve",
        transcript(
            &env.rtok()
                .args(["stage", "approve", "--all", "--otp", "123456"])
                .run()
        )
    );
    assert_snapshot!(
        "trust_sync_dry_run",
        transcript(
            &env.rtok()
                .args([
                    "trust",
                    "sync",
                    "--workspaces",
                    "--dry-run",
                    "--github",
                    "acme/tools",
                    "--workflow",
                    "release.yml",
                    "--allow",
                    "stage-publish",
                ])
                .run()
        )
    );
}

/// `rtok token-helper` without a credential, and the note `rtok exec`
/// prints for a `.yarnrc.yml` entry it cannot serve.
#[test]
fn token_helper_and_exec_notes() {
    let env = TestEnv::new();
    let _settings = snapshot_settings(&env).bind_to_scope();
    env.write_userconfig(
        "registry=http://127.0.0.1:9/\n//127.0.0.1:9/:_authToken=npm_snapshotexec\n",
    );
    env.register_secret("npm_snapshotexec");
    let run = env
        .rtok()
        .args(["token-helper", "https://none.example/"])
        .run();
    assert_snapshot!("token_helper_no_credential", transcript(&run));
    std::fs::write(
        env.home.join(".yarnrc.yml"),
        "npmRegistries:\n  \"http://127.0.0.1:9\":\n    npmAuthToken: \"npm_yarnliteral\"\n",
    )
    .expect("yarnrc");
    let run = env.rtok().args(["exec", "--", "true"]).run();
    assert_snapshot!("exec_yarn_literal_token", transcript(&run));
}

#[test]
fn refresh() {
    require_test_hooks();
    let registry = MockRegistry::start(|_| Reply::json(200, json!({"username": "x"})));
    let env = TestEnv::new();
    env.register_secret("gho_snapshot_refresh_token");
    env.write_userconfig(&format!("registry={}\n", registry.url()));
    env.write_rtok_settings(&format!(
        "[registry.\"{}\"]\nprovider = \"gh\"\n",
        registry.url()
    ));
    let tools = FakeTools::new(&env);
    tools.gh(1, "gho_snapshot_refresh_token");
    let _settings = snapshot_settings(&env).bind_to_scope();
    let refresh = || {
        tools
            .apply(env.rtok().arg("refresh"))
            .env("RTOK_TEST_NOW", NOW)
            .run()
    };
    assert_snapshot!("refresh_written", transcript(&refresh()));
    assert_snapshot!("refresh_left_alone", transcript(&refresh()));
}
