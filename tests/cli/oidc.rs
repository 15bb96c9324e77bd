//! `rtok oidc token` and `rtok oidc check`: every identity provider, the
//! exchange, failures that name what did not match, and the bad inputs; the
//! identity token and the exchanged token never show but on `oidc token`'s
//! stdout.

use crate::support::*;

/// A token stored for the registry in the user config: the exchange must
/// never send it (the identity token is the exchange's only credential).
const STORED: &str = "stored-token-that-must-not-be-sent";

const REPO: &str = "acme/tool";

/// An env whose user config points at `reg` and holds `STORED` for it, and
/// whose package.json is named `name`.
fn env_for(reg: &OidcRegistry, name: &str) -> TestEnv {
    let env = TestEnv::new();
    env.write_userconfig(&npmrc_for_mock(&reg.url(), STORED));
    env.register_secret(STORED);
    std::fs::write(
        env.project.join("package.json"),
        json!({"name": name, "version": "1.0.0"}).to_string(),
    )
    .expect("write package.json");
    env
}

/// A registry that trusts `packages` when published from `acme/tool`.
fn trusting(packages: &[&str]) -> OidcRegistry {
    let publishers: Vec<(&str, serde_json::Value)> = packages
        .iter()
        .map(|p| (*p, json!({"repository": REPO})))
        .collect();
    OidcRegistry::start(&publishers)
}

/// An identity token from `acme/tool` for this registry, registered secret.
fn identity_for(env: &TestEnv, reg: &OidcRegistry) -> String {
    let identity = jwt(&github_claims(REPO, &reg.audience()));
    env.register_secret(&identity);
    identity
}

/// The token `reg` hands out for `package`, registered as a secret.
fn expect_token(env: &TestEnv, package: &str) -> String {
    let token = OidcRegistry::token_for(package);
    env.register_secret(&token);
    token
}

#[track_caller]
fn assert_exchanged(reg: &OidcRegistry, paths: &[&str], identities: &[&str]) {
    let exchanges = reg.exchanges();
    let seen: Vec<&str> = exchanges.iter().map(|r| r.path.as_str()).collect();
    let expected: Vec<String> = paths
        .iter()
        .map(|p| format!("/-/npm/v1/oidc/token/exchange/package/{p}"))
        .collect();
    assert_eq!(seen, expected, "exchange paths");
    for (request, identity) in exchanges.iter().zip(identities) {
        assert_eq!(request.method, "POST");
        assert_eq!(
            request.bearer(),
            Some(*identity),
            "the identity token is the bearer"
        );
    }
}

// ---- providers -----------------------------------------------------------

#[test]
fn npm_id_token_is_exchanged_and_only_the_token_is_printed() {
    let reg = trusting(&["rtok-oidc-demo"]);
    let env = env_for(&reg, "rtok-oidc-demo");
    let identity = identity_for(&env, &reg);
    let token = expect_token(&env, "rtok-oidc-demo");

    let run = env
        .rtok()
        .without_ci()
        .args(["oidc", "token"])
        .env("NPM_ID_TOKEN", &identity)
        .allow_secret(&token)
        .run();
    run.success();
    assert_eq!(
        run.stdout,
        format!("{token}\n"),
        "stdout is exactly the token"
    );
    assert!(
        !run.stderr.contains(&token),
        "{}",
        run.describe("no token on stderr")
    );
    assert_exchanged(&reg, &["rtok-oidc-demo"], &[&identity]);
}

#[test]
fn a_scoped_package_is_escaped_as_npm_does() {
    let reg = trusting(&["@acme/tool"]);
    let env = env_for(&reg, "unrelated-name");
    let identity = identity_for(&env, &reg);
    let token = expect_token(&env, "@acme/tool");
    let run = env
        .rtok()
        .without_ci()
        .args(["oidc", "token", "--package", "@acme/tool"])
        .env("NPM_ID_TOKEN", &identity)
        .allow_secret(&token)
        .run();
    run.success();
    assert_eq!(run.stdout.trim(), token);
    assert_exchanged(&reg, &["@acme%2ftool"], &[&identity]);
}

#[test]
fn json_prints_the_registry_s_whole_answer() {
    let reg = trusting(&["rtok-oidc-demo"]);
    let env = env_for(&reg, "rtok-oidc-demo");
    let identity = identity_for(&env, &reg);
    let token = expect_token(&env, "rtok-oidc-demo");
    let run = env
        .rtok()
        .without_ci()
        .args(["oidc", "token", "--json"])
        .env("NPM_ID_TOKEN", &identity)
        .allow_secret(&token)
        .run();
    run.success();
    assert_eq!(
        run.json(),
        json!({"token": token, "expires": "2030-01-01T01:00:00.000Z"})
    );
}

#[test]
fn github_actions_identity_is_requested_for_the_registry_s_audience() {
    let reg = trusting(&["rtok-oidc-demo"]);
    let env = env_for(&reg, "rtok-oidc-demo");
    let github = GitHubIdentity::start(github_claims(REPO, "ignored"));
    env.register_secret(&github.request_token);
    let identity = github.token_for(&reg.audience());
    env.register_secret(&identity);
    let token = expect_token(&env, "rtok-oidc-demo");

    let run = github
        .job_env(env.rtok().without_ci())
        .args(["-v", "oidc", "token"])
        .allow_secret(&token)
        .run();
    run.success();
    assert_eq!(run.stdout, format!("{token}\n"));
    assert!(
        !run.stderr.contains(&token),
        "{}",
        run.describe("no token on stderr")
    );
    assert!(
        run.stderr.contains("http GET ") && run.stderr.contains("_apis/idtoken"),
        "{}",
        run.describe("a verbose line for the identity request")
    );

    let asked = github.mock.requests();
    assert_eq!(asked.len(), 1, "one identity request");
    assert_eq!(asked[0].bearer(), Some(github.request_token.as_str()));
    assert_eq!(
        asked[0].query_param("api-version"),
        Some("2.0"),
        "the URL's own query is kept"
    );
    assert_eq!(
        asked[0]
            .query_param("audience")
            .map(percent_decode)
            .as_deref(),
        Some("npm:127.0.0.1")
    );
    assert_exchanged(&reg, &["rtok-oidc-demo"], &[&identity]);
}

#[test]
fn npm_id_token_wins_over_github() {
    let reg = trusting(&["rtok-oidc-demo"]);
    let env = env_for(&reg, "rtok-oidc-demo");
    let github = GitHubIdentity::start(github_claims(REPO, "ignored"));
    let identity = identity_for(&env, &reg);
    let token = expect_token(&env, "rtok-oidc-demo");
    let run = github
        .job_env(env.rtok().without_ci())
        .args(["oidc", "token"])
        .env("NPM_ID_TOKEN", &identity)
        .allow_secret(&token)
        .run();
    run.success();
    assert!(github.mock.requests().is_empty(), "GitHub is not asked");
    assert_exchanged(&reg, &["rtok-oidc-demo"], &[&identity]);
}

#[test]
fn github_without_id_token_permission_names_what_is_missing() {
    let reg = trusting(&["rtok-oidc-demo"]);
    let env = env_for(&reg, "rtok-oidc-demo");
    let run = env
        .rtok()
        .without_ci()
        .args(["oidc", "token"])
        .env("GITHUB_ACTIONS", "true")
        .run();
    assert_error(
        &run,
        4,
        "`ACTIONS_ID_TOKEN_REQUEST_URL` and `ACTIONS_ID_TOKEN_REQUEST_TOKEN` are not set",
    );
    assert!(
        hint(&run).contains("permissions: id-token: write"),
        "{}",
        run.describe("the permission")
    );

    let run = env
        .rtok()
        .without_ci()
        .args(["oidc", "token"])
        .env("GITHUB_ACTIONS", "true")
        .env(
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            "http://127.0.0.1:9/_apis/idtoken",
        )
        .run();
    assert_error(&run, 4, "`ACTIONS_ID_TOKEN_REQUEST_TOKEN` is not set");
    assert!(reg.mock.requests().is_empty(), "nothing was sent");
}

#[test]
fn a_rejected_github_request_token_is_exit_4() {
    let reg = trusting(&["rtok-oidc-demo"]);
    let env = env_for(&reg, "rtok-oidc-demo");
    let github = GitHubIdentity::start(github_claims(REPO, "ignored"));
    let wrong = "ghs_wrong_request_token_value";
    env.register_secret(wrong);
    let run = env
        .rtok()
        .without_ci()
        .args(["oidc", "token"])
        .env("GITHUB_ACTIONS", "true")
        .env("ACTIONS_ID_TOKEN_REQUEST_URL", github.request_url())
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", wrong)
        .run();
    assert_error(
        &run,
        4,
        "could not get an OIDC identity token from GitHub Actions",
    );
    assert!(run.stderr.contains("401"), "{}", run.describe("the status"));
    assert!(
        reg.exchanges().is_empty(),
        "no exchange without an identity"
    );
}

#[test]
fn buildkite_agent_gives_the_identity() {
    let reg = trusting(&["rtok-oidc-demo"]);
    let env = env_for(&reg, "rtok-oidc-demo");
    let identity = identity_for(&env, &reg);
    let token = expect_token(&env, "rtok-oidc-demo");
    let bin = fake_buildkite_agent(&env.root, &format!("printf '%s\\n' '{identity}'"));

    let run = env
        .rtok()
        .without_ci()
        .args(["oidc", "token"])
        .env("BUILDKITE", "true")
        .env("PATH", path_with(&bin))
        .allow_secret(&token)
        .run();
    run.success();
    assert_eq!(run.stdout, format!("{token}\n"));
    assert_eq!(
        std::fs::read_to_string(env.root.join("agent-args")).expect("agent ran"),
        "oidc request-token --audience npm:127.0.0.1\n"
    );
    assert_exchanged(&reg, &["rtok-oidc-demo"], &[&identity]);
}

#[test]
fn buildkite_failures_name_the_agent() {
    let reg = trusting(&["rtok-oidc-demo"]);
    let env = env_for(&reg, "rtok-oidc-demo");

    // No agent on PATH.
    let empty = env.root.join("empty-bin");
    std::fs::create_dir(&empty).expect("mkdir");
    let run = env
        .rtok()
        .without_ci()
        .args(["oidc", "token"])
        .env("BUILDKITE", "true")
        .env("PATH", &empty)
        .run();
    assert_error(&run, 4, "`buildkite-agent` is not on PATH");

    // An agent that refuses: its stderr is shown.
    let bin = fake_buildkite_agent(
        &env.root,
        "echo 'fatal: this pipeline may not request OIDC tokens' >&2\nexit 3",
    );
    let run = env
        .rtok()
        .without_ci()
        .args(["oidc", "token"])
        .env("BUILDKITE", "true")
        .env("PATH", path_with(&bin))
        .run();
    assert_error(
        &run,
        4,
        "exited with 3: fatal: this pipeline may not request OIDC tokens",
    );
    assert!(reg.mock.requests().is_empty(), "nothing was sent");
}

#[test]
fn no_identity_at_all_is_exit_4_with_every_way_to_get_one() {
    let reg = trusting(&["rtok-oidc-demo"]);
    let env = env_for(&reg, "rtok-oidc-demo");
    let run = env.rtok().without_ci().args(["oidc", "token"]).run();
    assert_error(&run, 4, "no OIDC identity");
    let hint = hint(&run);
    for piece in [
        "id-token: write",
        "id_tokens",
        "NPM_ID_TOKEN",
        "npm:127.0.0.1",
    ] {
        assert!(
            hint.contains(piece),
            "{}",
            run.describe(&format!("the hint to name {piece}"))
        );
    }
    assert!(reg.mock.requests().is_empty());
}

// ---- --github-env --------------------------------------------------------

#[test]
fn github_env_prints_only_the_mask_and_appends_the_variable() {
    let reg = trusting(&["rtok-oidc-demo"]);
    let env = env_for(&reg, "rtok-oidc-demo");
    let identity = identity_for(&env, &reg);
    let token = expect_token(&env, "rtok-oidc-demo");
    let file = env.root.join("github-env");
    // An earlier step left a line without its newline.
    std::fs::write(&file, "EARLIER=1").expect("write GITHUB_ENV");

    let run = env
        .rtok()
        .without_ci()
        .args(["oidc", "token", "--github-env", "NODE_AUTH_TOKEN"])
        .env("NPM_ID_TOKEN", &identity)
        .env("GITHUB_ENV", &file)
        .allow_secret(&token)
        .run();
    run.success();
    assert_eq!(run.stdout, format!("::add-mask::{token}\n"));
    assert!(
        !run.stderr.contains(&token),
        "{}",
        run.describe("no token on stderr")
    );
    assert_eq!(
        std::fs::read_to_string(&file).expect("read GITHUB_ENV"),
        format!("EARLIER=1\nNODE_AUTH_TOKEN={token}\n")
    );
    assert!(
        !env.read_userconfig().contains(&token),
        "the token is in no config file"
    );
}

#[test]
fn github_env_problems_stop_before_the_exchange() {
    let reg = trusting(&["rtok-oidc-demo"]);
    let env = env_for(&reg, "rtok-oidc-demo");
    let identity = identity_for(&env, &reg);

    let run = env
        .rtok()
        .without_ci()
        .args(["oidc", "token", "--github-env", "NODE_AUTH_TOKEN"])
        .env("NPM_ID_TOKEN", &identity)
        .run();
    assert_error(&run, 1, "`$GITHUB_ENV`");

    let file = env.root.join("github-env");
    let run = env
        .rtok()
        .without_ci()
        .args(["oidc", "token", "--github-env", "BAD=NAME"])
        .env("NPM_ID_TOKEN", &identity)
        .env("GITHUB_ENV", &file)
        .run();
    assert_error(&run, 1, "not a variable name");
    assert!(!file.exists(), "nothing written");
    assert!(reg.mock.requests().is_empty(), "nothing exchanged");
}

// ---- failures that explain themselves ------------------------------------

#[test]
fn a_publisher_that_does_not_match_shows_the_claims() {
    // The publisher wants the `release` environment; the workflow has none.
    let reg = OidcRegistry::start(&[(
        "rtok-oidc-demo",
        json!({"repository": REPO, "environment": "release"}),
    )]);
    let env = env_for(&reg, "rtok-oidc-demo");
    let identity = identity_for(&env, &reg);
    let run = env
        .rtok()
        .without_ci()
        .args(["-v", "oidc", "token"])
        .env("NPM_ID_TOKEN", &identity)
        .run();
    assert_error(&run, 1, "trusted publishing refused `rtok-oidc-demo`");
    let error = run
        .stderr_lines()
        .into_iter()
        .find(|l| l.starts_with("error:"))
        .expect("error");
    for piece in [
        "403",
        "no trusted publisher matches the identity token",
        "repository=acme/tool",
        "workflow_ref=acme/tool/.github/workflows/release.yml@refs/heads/main",
        "ref=refs/heads/main",
        "environment=(none)",
        "sub=repo:acme/tool:ref:refs/heads/main",
        "aud=npm:127.0.0.1",
    ] {
        assert!(
            error.contains(piece),
            "{}",
            run.describe(&format!("the error to hold {piece}"))
        );
    }
    assert!(
        hint(&run).contains("environment"),
        "{}",
        run.describe("a hint")
    );
}

/// Probe #6 (r08): an identity token issued for registry.npmjs.org is never
/// sent to the registry the project configures, which could replay it.
/// (Replaces a test that checked the registry's own "audience mismatch"
/// answer: nothing reaches the registry now.)
#[test]
fn an_identity_token_for_another_audience_is_refused_before_sending() {
    let reg = trusting(&["rtok-oidc-demo"]);
    let env = env_for(&reg, "rtok-oidc-demo");
    for aud in [
        json!("npm:registry.npmjs.org"),
        json!(["npm:registry.npmjs.org", "other"]),
    ] {
        let mut claims = github_claims(REPO, "placeholder");
        claims["aud"] = aud;
        let identity = jwt(&claims);
        env.register_secret(&identity);
        let run = env
            .rtok()
            .without_ci()
            .args(["oidc", "token"])
            .env("NPM_ID_TOKEN", &identity)
            .run();
        assert_error(&run, 4, "npm:registry.npmjs.org");
        assert!(
            run.stderr.contains("expects `npm:127.0.0.1`"),
            "{}",
            run.describe("the expected audience named")
        );
        assert!(hint(&run).contains("npm:127.0.0.1"));
        assert!(reg.mock.requests().is_empty(), "nothing was sent");
    }

    // `oidc check` refuses the same way, once.
    let identity = jwt(&github_claims(REPO, "npm:registry.npmjs.org"));
    env.register_secret(&identity);
    let run = env
        .rtok()
        .without_ci()
        .args(["oidc", "check"])
        .env("NPM_ID_TOKEN", &identity)
        .run();
    assert_error(&run, 4, "expects `npm:127.0.0.1`");
    assert!(reg.mock.requests().is_empty(), "nothing was sent");

    // `exec --oidc` neither sends it nor runs the command.
    let marker = env.root.join("ran");
    let run = env
        .rtok()
        .without_ci()
        .env("NPM_ID_TOKEN", &identity)
        .args(["exec", "--oidc", "--", "touch"])
        .arg(&marker)
        .run();
    assert_error(&run, 4, "expects `npm:127.0.0.1`");
    assert!(!marker.exists(), "the command did not run");
    assert!(reg.mock.requests().is_empty(), "nothing was sent");
}

#[test]
fn an_unknown_package_is_a_404_with_a_hint() {
    let reg = trusting(&["something-else"]);
    let env = env_for(&reg, "rtok-oidc-demo");
    let identity = identity_for(&env, &reg);
    let run = env
        .rtok()
        .without_ci()
        .args(["oidc", "token"])
        .env("NPM_ID_TOKEN", &identity)
        .run();
    assert_error(&run, 1, "404");
    assert!(run.stderr.contains("package not found"));
    assert!(
        hint(&run).contains("must already exist"),
        "{}",
        run.describe("the hint")
    );
}

// ---- oidc check ----------------------------------------------------------

#[test]
fn check_one_package_prints_a_row_and_no_token() {
    let reg = trusting(&["rtok-oidc-demo"]);
    let env = env_for(&reg, "rtok-oidc-demo");
    let identity = identity_for(&env, &reg);
    expect_token(&env, "rtok-oidc-demo");

    let run = env
        .rtok()
        .without_ci()
        .args(["oidc", "check"])
        .env("NPM_ID_TOKEN", &identity)
        .run();
    run.success();
    let row = run
        .stdout_lines()
        .into_iter()
        .find(|l| l.contains("rtok-oidc-demo"))
        .unwrap_or_else(|| panic!("{}", run.describe("a row for the package")));
    assert!(row.contains("| ok"), "{}", run.describe("an ok row"));

    let run = env
        .rtok()
        .without_ci()
        .args(["oidc", "check", "--json"])
        .env("NPM_ID_TOKEN", &identity)
        .run();
    run.success();
    assert_eq!(
        run.json(),
        json!([{"package": "rtok-oidc-demo", "ok": true, "error": null}])
    );
}

#[test]
fn check_several_packages_with_one_failing_is_exit_1() {
    let reg = trusting(&["good-one", "@acme/good-two"]);
    let env = env_for(&reg, "unused");
    let github = GitHubIdentity::start(github_claims(REPO, "ignored"));
    env.register_secret(&github.request_token);
    let identity = github.token_for(&reg.audience());
    env.register_secret(&identity);
    for package in ["good-one", "@acme/good-two"] {
        expect_token(&env, package);
    }
    let args = [
        "oidc",
        "check",
        "--json",
        "--package",
        "good-one",
        "--package",
        "not-trusted",
        "--package",
        "@acme/good-two",
        "--package",
        "Bad Name",
    ];
    let run = github.job_env(env.rtok().without_ci()).args(args).run();
    run.failure(1);
    let rows = run.json();
    let rows = rows.as_array().expect("array");
    let summary: Vec<(&str, bool)> = rows
        .iter()
        .map(|r| {
            (
                r["package"].as_str().expect("package"),
                r["ok"].as_bool().expect("ok"),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("good-one", true),
            ("not-trusted", false),
            ("@acme/good-two", true),
            ("Bad Name", false)
        ]
    );
    let not_trusted = rows[1]["error"].as_str().expect("error");
    assert!(
        not_trusted.contains("404") && not_trusted.contains("package not found"),
        "{not_trusted}"
    );
    assert!(
        not_trusted.contains("repository=acme/tool"),
        "{not_trusted}"
    );
    assert!(
        rows[3]["error"]
            .as_str()
            .expect("error")
            .contains("not a valid npm package name")
    );
    assert!(
        run.stderr
            .contains("error: trusted publishing failed for 2 of 4 packages"),
        "{}",
        run.describe("the summary error")
    );
    // A fresh identity per package from GitHub; the invalid name asks nothing.
    assert_eq!(github.mock.requests().len(), 3);
    assert_exchanged(
        &reg,
        &["good-one", "not-trusted", "@acme%2fgood-two"],
        &[&identity, &identity, &identity],
    );

    // The human table has the same rows.
    let run = github
        .job_env(env.rtok().without_ci())
        .args(&args[..2])
        .args(&args[3..])
        .run();
    run.failure(1);
    let table: Vec<&str> = run
        .stdout_lines()
        .into_iter()
        .filter(|l| l.starts_with("| "))
        .collect();
    assert_eq!(table.len(), 5, "{}", run.describe("a header and four rows"));
    assert!(table[1].contains("good-one") && table[1].contains("| ok"));
    assert!(table[2].contains("not-trusted") && table[2].contains("| failed"));
}

#[test]
fn check_workspaces_from_package_json() {
    let reg = trusting(&["@acme/a", "b"]);
    let env = env_for(&reg, "root");
    let identity = identity_for(&env, &reg);
    for package in ["@acme/a", "b"] {
        expect_token(&env, package);
    }
    let write = |path: &str, manifest: serde_json::Value| {
        let file = env.project.join(path);
        std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
        std::fs::write(file, manifest.to_string()).expect("write");
    };
    write(
        "package.json",
        json!({"name": "root", "private": true, "workspaces": ["packages/*"]}),
    );
    write("packages/a/package.json", json!({"name": "@acme/a"}));
    write("packages/b/package.json", json!({"name": "b"}));
    write(
        "packages/internal/package.json",
        json!({"name": "internal", "private": true}),
    );

    let run = env
        .rtok()
        .without_ci()
        .args(["oidc", "check", "--workspaces", "--json"])
        .env("NPM_ID_TOKEN", &identity)
        .run();
    run.success();
    assert_eq!(
        run.json(),
        json!([
            {"package": "@acme/a", "ok": true, "error": null},
            {"package": "b", "ok": true, "error": null},
        ])
    );
    assert!(
        run.stderr
            .contains("private workspace package (never published): internal")
    );

    // The object form (`{"packages": [...]}`) lists the same folders.
    write(
        "package.json",
        json!({"name": "root", "private": true, "workspaces": {"packages": ["packages/a"]}}),
    );
    let run = env
        .rtok()
        .without_ci()
        .args(["oidc", "check", "--workspaces", "--json"])
        .env("NPM_ID_TOKEN", &identity)
        .run();
    run.success();
    assert_eq!(
        run.json(),
        json!([{"package": "@acme/a", "ok": true, "error": null}])
    );
}

#[test]
fn check_workspaces_from_pnpm_workspace_yaml_with_one_failing() {
    let reg = trusting(&["lib-one"]);
    let env = env_for(&reg, "root");
    let identity = identity_for(&env, &reg);
    expect_token(&env, "lib-one");
    std::fs::write(
        env.project.join("pnpm-workspace.yaml"),
        "# pnpm's list\npackages:\n  - 'libs/*'\n  - \"!libs/skipped\"\n",
    )
    .expect("write yaml");
    for (dir, name) in [
        ("libs/one", "lib-one"),
        ("libs/two", "lib-two"),
        ("libs/skipped", "skipped"),
    ] {
        let folder = env.project.join(dir);
        std::fs::create_dir_all(&folder).expect("mkdir");
        std::fs::write(
            folder.join("package.json"),
            json!({"name": name}).to_string(),
        )
        .expect("write");
    }
    let run = env
        .rtok()
        .without_ci()
        .args(["oidc", "check", "--workspaces", "--json"])
        .env("NPM_ID_TOKEN", &identity)
        .run();
    run.failure(1);
    let rows = run.json();
    assert_eq!(
        rows[0],
        json!({"package": "lib-one", "ok": true, "error": null})
    );
    assert_eq!(rows[1]["package"], "lib-two");
    assert_eq!(rows[1]["ok"], false);
    assert_eq!(rows.as_array().map(Vec::len), Some(2));
}

// ---- bad input -----------------------------------------------------------

#[test]
fn an_identity_token_that_is_not_a_jwt_is_refused_before_sending() {
    let reg = trusting(&["rtok-oidc-demo"]);
    let env = env_for(&reg, "rtok-oidc-demo");
    // The classic mistake: an npm token where the identity token belongs.
    let npm_token = "npm_ThisIsAnNpmTokenNotAnIdentity0123456";
    env.register_secret(npm_token);
    let run = env
        .rtok()
        .without_ci()
        .args(["oidc", "token"])
        .env("NPM_ID_TOKEN", npm_token)
        .run();
    assert_error(
        &run,
        4,
        "the OIDC identity token from `NPM_ID_TOKEN` is not a JWT",
    );
    assert!(hint(&run).contains("not an npm token"));
    assert!(reg.mock.requests().is_empty(), "nothing was sent");
}

#[test]
fn broken_exchange_answers_are_one_line_errors() {
    let env = TestEnv::new();
    let identity = jwt(&github_claims(REPO, "npm:127.0.0.1"));
    env.register_secret(&identity);
    let bare = "npm_BareTokenAsPlainTextBody0123456789";
    env.register_secret(bare);
    let cases: Vec<(Reply, i32, &str)> = vec![
        (
            Reply::json(201, json!({"ok": true})),
            1,
            "201 Created but the answer has no `token`",
        ),
        (Reply::json(200, json!({"token": ""})), 1, "no `token`"),
        (
            Reply::bytes(
                200,
                "text/html",
                b"<!DOCTYPE html><html><body><h1>Sign in to the corporate proxy</h1></body></html>"
                    .to_vec(),
            ),
            1,
            "Sign in to the corporate proxy",
        ),
        (
            Reply::bytes(
                502,
                "text/html",
                b"<html><body>502 Bad Gateway nginx</body></html>".to_vec(),
            ),
            1,
            "502",
        ),
        (
            Reply::bytes(
                401,
                "text/html",
                b"<html><body>Unauthorized</body></html>".to_vec(),
            ),
            4,
            "401",
        ),
        (Reply::text(200, bare), 1, "200 OK but the body is not JSON"),
    ];
    for (reply, code, needle) in cases {
        let mock = MockRegistry::start(move |_| reply.clone());
        env.write_userconfig(&npmrc_for_mock(&mock.url(), STORED));
        env.register_secret(STORED);
        let run = env
            .rtok()
            .without_ci()
            .args(["oidc", "token", "--package", "rtok-oidc-demo"])
            .env("NPM_ID_TOKEN", &identity)
            .run();
        assert_error(&run, code, needle);
    }
}

#[test]
fn an_invalid_package_name_is_refused_before_anything_is_asked() {
    let reg = trusting(&["rtok-oidc-demo"]);
    let github = GitHubIdentity::start(github_claims(REPO, "ignored"));
    let env = env_for(&reg, "has space");
    env.register_secret(&github.request_token);
    let run = github
        .job_env(env.rtok().without_ci())
        .args(["oidc", "token"])
        .run();
    assert_error(
        &run,
        1,
        "`has space` is not a valid npm package name: a package name can only contain URL-friendly characters",
    );
    let run = github
        .job_env(env.rtok().without_ci())
        .args(["oidc", "token", "--package", "../etc/passwd"])
        .run();
    assert_error(&run, 1, "not a valid npm package name");
    assert!(github.mock.requests().is_empty() && reg.mock.requests().is_empty());
}

#[test]
fn no_package_json_and_no_package_is_an_error() {
    let reg = trusting(&["rtok-oidc-demo"]);
    let env = TestEnv::without_package_json();
    env.write_userconfig(&npmrc_for_mock(&reg.url(), STORED));
    let run = env.rtok().without_ci().args(["oidc", "token"]).run();
    assert_error(&run, 1, "there is no package.json");
    assert!(hint(&run).contains("--package"));
}

#[test]
fn an_unparsable_pnpm_workspace_yaml_is_named() {
    let reg = trusting(&["rtok-oidc-demo"]);
    let env = env_for(&reg, "rtok-oidc-demo");
    let identity = identity_for(&env, &reg);
    std::fs::write(
        env.project.join("pnpm-workspace.yaml"),
        "packages:\n  - 'libs/*\n  - [\n",
    )
    .expect("write yaml");
    let run = env
        .rtok()
        .without_ci()
        .args(["oidc", "check", "--workspaces"])
        .env("NPM_ID_TOKEN", &identity)
        .run();
    assert_error(&run, 1, "pnpm-workspace.yaml is not valid YAML");
    assert!(reg.mock.requests().is_empty(), "nothing was sent");
}

// ---- exec --oidc: any client publishes with the exchanged token -----------

/// The pinned pnpm (test-registry/package.json).
fn pnpm() -> std::path::PathBuf {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("test-registry/node_modules/.bin/pnpm");
    assert!(
        path.is_file(),
        "{} is missing: run `npm ci --prefix test-registry` (scripts/test does this)",
        path.display()
    );
    path
}

/// `rtok exec --oidc -- <client> publish` from the project, outside any CI
/// as npm's ci-info sees it (so npm's own OIDC code stays out and the
/// exchange that happens is rtok's), with the identity in `NPM_ID_TOKEN`.
fn publish_through_rtok(env: &TestEnv, identity: &str, client: &[&str]) -> Run {
    std::fs::write(env.project.join("index.js"), "module.exports = 1;\n").expect("index.js");
    env.rtok()
        .without_ci()
        .env("NPM_ID_TOKEN", identity)
        .env("npm_config_update_notifier", "false")
        .env("npm_config_fund", "false")
        .env("npm_config_audit", "false")
        .env("npm_config_cache", env.root.join("npm-cache"))
        .env("npm_config_store_dir", env.root.join("pnpm-store"))
        .args(["exec", "--oidc", "--"])
        .args(client)
        .run()
}

#[track_caller]
fn assert_published_with_the_exchanged_token(reg: &OidcRegistry, token: &str) {
    let publishes = reg.publishes();
    assert_eq!(publishes.len(), 1, "one publish: {publishes:?}");
    assert_eq!(publishes[0].path_only(), "/rtok-oidc-demo");
    assert_eq!(
        publishes[0].bearer(),
        Some(token),
        "the exchanged token, not the one stored in the user config"
    );
}

#[test]
fn npm_publishes_through_exec_oidc_with_the_exchanged_token() {
    let reg = trusting(&["rtok-oidc-demo"]);
    let env = env_for(&reg, "rtok-oidc-demo");
    let identity = identity_for(&env, &reg);
    let token = expect_token(&env, "rtok-oidc-demo");
    let npm = crate::support::verdaccio::find_on_path("npm").expect("npm on PATH");
    let npm = npm.display().to_string();
    let run = publish_through_rtok(&env, &identity, &[&npm, "publish", "--ignore-scripts"]);
    run.success();
    assert_exchanged(&reg, &["rtok-oidc-demo"], &[&identity]);
    assert_published_with_the_exchanged_token(&reg, &token);
}

#[test]
fn pnpm_publishes_through_exec_oidc_with_the_exchanged_token() {
    let reg = trusting(&["rtok-oidc-demo"]);
    let env = env_for(&reg, "rtok-oidc-demo");
    let identity = identity_for(&env, &reg);
    let token = expect_token(&env, "rtok-oidc-demo");
    let pnpm = pnpm().display().to_string();
    let run = publish_through_rtok(
        &env,
        &identity,
        &[&pnpm, "publish", "--no-git-checks", "--ignore-scripts"],
    );
    run.success();
    assert_exchanged(&reg, &["rtok-oidc-demo"], &[&identity]);
    assert_published_with_the_exchanged_token(&reg, &token);
}

#[test]
fn a_failed_exchange_does_not_run_the_command() {
    let reg = trusting(&["someone-elses-package"]);
    let env = env_for(&reg, "rtok-oidc-demo");
    let identity = identity_for(&env, &reg);
    let marker = env.root.join("ran");
    let run = env
        .rtok()
        .without_ci()
        .env("NPM_ID_TOKEN", &identity)
        .args(["exec", "--oidc", "--", "touch"])
        .arg(&marker)
        .run();
    assert_error(&run, 1, "package not found");
    assert!(!marker.exists(), "the command did not run");
    assert!(reg.publishes().is_empty());
}
