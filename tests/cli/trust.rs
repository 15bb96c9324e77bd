//! `rtok trust` against the stage mock, and the real npm against the same
//! mock: what rtok creates, npm lists, and what npm creates, rtok finds
//! unchanged.

use crate::stage::workspace;
use crate::support::*;

const PACKAGES: [&str; 3] = ["@acme/cli", "@acme/core", "@acme/utils"];

fn setup(two_factor: TwoFactor) -> (StageRegistry, TestEnv) {
    let registry = StageRegistry::start(&PACKAGES, vec![], two_factor);
    let env = TestEnv::new();
    env.register_secret(STAGE_TOKEN);
    env.write_userconfig(&registry.npmrc());
    workspace(
        &env,
        &[
            ("cli", "@acme/cli", &["@acme/core"]),
            ("core", "@acme/core", &[]),
            ("utils", "@acme/utils", &[]),
        ],
    );
    (registry, env)
}

const SYNC_FLAGS: [&str; 8] = [
    "--github",
    "acme/tools",
    "--workflow",
    "release.yml",
    "--allow",
    "stage-publish",
    "--pace",
    "0s",
];

fn github_config(permissions: &[&str]) -> serde_json::Value {
    json!({"type": "github",
        "claims": {"repository": "acme/tools", "workflow_ref": {"file": "release.yml"}},
        "permissions": permissions})
}

#[test]
fn sync_over_a_workspace_plans_applies_and_the_second_run_sends_no_write() {
    let (registry, env) = setup(TwoFactor::Off);
    registry.set_trust("@acme/core", github_config(&["createPackage"]));
    registry.set_trust("@acme/utils", github_config(&["createStagedPackage"]));

    let dry = env
        .rtok()
        .args(["trust", "sync", "--workspaces", "--dry-run", "--json"])
        .args(SYNC_FLAGS)
        .run();
    dry.success();
    let plan = dry.json();
    let actions: Vec<(&str, &str)> = plan
        .as_array()
        .expect("one array")
        .iter()
        .map(|s| {
            (
                s["package"].as_str().unwrap(),
                s["action"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("@acme/cli", "create"),
            ("@acme/core", "replace"),
            ("@acme/utils", "unchanged")
        ]
    );
    assert!(registry.writes().is_empty(), "a dry run sends nothing");

    let run = env
        .rtok()
        .args(["trust", "sync", "--workspaces", "--yes"])
        .args(SYNC_FLAGS)
        .run();
    run.success();
    assert_eq!(
        registry.writes(),
        [
            "POST /-/package/@acme%2fcli/trust",
            "DELETE /-/package/@acme%2fcore/trust/trust-0001",
            "POST /-/package/@acme%2fcore/trust",
        ]
    );
    let body = registry
        .mock
        .requests()
        .into_iter()
        .find(|r| r.method == "POST")
        .expect("a create")
        .json();
    assert_eq!(
        body,
        json!([{"type": "github",
            "claims": {"repository": "acme/tools", "workflow_ref": {"file": "release.yml"}},
            "permissions": ["createStagedPackage"]}])
    );
    for package in PACKAGES {
        assert_eq!(
            registry.trust_of(package)[0]["permissions"],
            json!(["createStagedPackage"])
        );
    }

    let writes = registry.writes().len();
    let again = env
        .rtok()
        .args(["trust", "sync", "--workspaces", "--yes"])
        .args(SYNC_FLAGS)
        .run();
    again.success();
    assert_eq!(
        registry.writes().len(),
        writes,
        "the second run sends no write"
    );
    assert!(
        again.stderr.contains("already configured"),
        "{}",
        again.describe("said so")
    );
}

#[test]
fn sync_from_the_default_manifest_with_a_glob_and_one_code() {
    let (registry, env) = setup(TwoFactor::Classic {
        codes: vec!["123456".into()],
        once: false,
    });
    std::fs::write(
        env.project.join("trust.toml"),
        r#"[defaults]
github = "acme/tools"
workflow = "release.yml"
environment = "npm"
allow = ["stage-publish"]

[package."@acme/c*"]
allow = ["publish", "stage-publish"]

[package."@acme/utils"]
"#,
    )
    .expect("manifest");
    let run = env
        .rtok()
        .args(["trust", "sync", "--yes", "--pace", "0s", "--otp", "123456"])
        .run();
    run.success();
    let cli = &registry.trust_of("@acme/cli")[0];
    assert_eq!(
        cli["permissions"],
        json!(["createPackage", "createStagedPackage"])
    );
    assert_eq!(cli["claims"]["environment"], "npm");
    assert_eq!(
        registry.trust_of("@acme/utils")[0]["permissions"],
        json!(["createStagedPackage"])
    );
    let codes: Vec<Option<String>> = registry
        .mock
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .map(|r| r.header("npm-otp").map(str::to_string))
        .collect();
    assert_eq!(codes, vec![Some("123456".to_string()); 3]);
}

#[test]
fn a_malformed_manifest_names_file_and_line_and_sends_nothing() {
    let (registry, env) = setup(TwoFactor::Off);
    std::fs::write(
        env.project.join("trust.toml"),
        "[defaults]\ngithub = \"acme/tools\"\nworkflow = \"release.yml\"\nallow = [\"deploy\"]\n",
    )
    .expect("manifest");
    let run = env.rtok().args(["trust", "sync", "--yes"]).run();
    assert_error(&run, 1, "trust.toml:4: `allow` holds \"deploy\"");
    assert_eq!(
        run.stderr
            .lines()
            .filter(|l| l.starts_with("error:"))
            .count(),
        1
    );
    std::fs::write(env.project.join("bad.toml"), "[defaults\n").expect("manifest");
    let run = env
        .rtok()
        .args(["trust", "sync", "--yes", "--manifest", "bad.toml"])
        .run();
    assert_error(&run, 1, "bad.toml:1: not valid TOML");
    assert!(registry.mock.requests().is_empty(), "nothing was sent");
}

#[test]
fn unknown_packages_and_bad_flags() {
    let (registry, env) = setup(TwoFactor::Off);
    let run = env.rtok().args(["trust", "list", "@acme/nope"]).run();
    assert_error(&run, 1, "404");
    assert!(
        hint(&run).contains("does not exist"),
        "{}",
        run.describe("the hint")
    );
    let before = registry.mock.requests().len();
    for (args, needle) in [
        (
            vec![
                "--github",
                "acme",
                "--workflow",
                "r.yml",
                "--allow",
                "publish",
            ],
            "OWNER/REPO",
        ),
        (
            vec![
                "--github",
                "a/b",
                "--workflow",
                ".github/workflows/r.yml",
                "--allow",
                "publish",
            ],
            "bare file name",
        ),
        (
            vec!["--github", "a/b", "--workflow", "r.yml"],
            "at least one `--allow`",
        ),
        (
            vec![
                "--github",
                "a/b",
                "--workflow",
                "r.yml",
                "--allow",
                "deploy",
            ],
            "`--allow deploy`",
        ),
    ] {
        let run = env
            .rtok()
            .args(["trust", "sync", "--yes", "x"])
            .args(&args)
            .run();
        assert_error(&run, 2, needle);
    }
    let run = env
        .rtok()
        .args(["trust", "sync", "--workspaces"])
        .args(SYNC_FLAGS)
        .run();
    assert_error(&run, 2, "no terminal to ask on; nothing was sent");
    assert_eq!(registry.mock.requests().len(), before, "nothing sent");
}

#[test]
fn list_shows_configured_and_unconfigured_packages() {
    let (registry, env) = setup(TwoFactor::Off);
    registry.set_trust("@acme/core", github_config(&["createStagedPackage"]));
    let run = env
        .rtok()
        .args(["trust", "list", "--workspaces", "--json"])
        .run();
    run.success();
    let listed = run.json();
    assert_eq!(listed.as_array().expect("one array").len(), 1);
    assert_eq!(listed[0]["package"], "@acme/core");
    assert_eq!(listed[0]["id"], "trust-0001");
    let run = env.rtok().args(["trust", "list", "--workspaces"]).run();
    run.success();
    assert!(
        run.stdout.contains("stage publish"),
        "{}",
        run.describe("the label")
    );
    assert!(
        run.stdout.contains("(none)"),
        "{}",
        run.describe("the unconfigured")
    );
}

#[test]
fn revoke_removes_the_configuration() {
    let (registry, env) = setup(TwoFactor::Off);
    registry.set_trust("@acme/core", github_config(&["createPackage"]));
    env.rtok()
        .args(["trust", "revoke", "@acme/core", "--id", "trust-0001"])
        .run()
        .success();
    assert!(registry.trust_of("@acme/core").is_empty());
    let run = env
        .rtok()
        .args(["trust", "revoke", "@acme/core", "--id", "trust-0001"])
        .run();
    assert_error(&run, 1, "404");
}

#[test]
fn a_429_is_waited_out_and_the_create_goes_again() {
    let (registry, env) = setup(TwoFactor::Off);
    registry.rate_limit_next(1);
    env.rtok()
        .args(["trust", "sync", "@acme/cli", "--yes"])
        .args(SYNC_FLAGS)
        .run()
        .success();
    let posts = registry
        .writes()
        .iter()
        .filter(|w| w.starts_with("POST"))
        .count();
    assert_eq!(posts, 2, "refused once with Retry-After, then sent again");
    assert_eq!(registry.trust_of("@acme/cli").len(), 1);
}

#[test]
fn npm_lists_what_rtok_created_and_rtok_finds_what_npm_created_unchanged() {
    let (registry, env) = setup(TwoFactor::Off);
    env.rtok()
        .args(["trust", "sync", "@acme/cli", "--yes"])
        .args(SYNC_FLAGS)
        .run()
        .success();
    let npm = env
        .npm()
        .args([
            "trust",
            "list",
            "@acme/cli",
            "--json",
            "--registry",
            &registry.url(),
        ])
        .run();
    npm.success();
    // npm prints one object per configuration, concatenated.
    let objects: Vec<serde_json::Value> = serde_json::Deserializer::from_str(&npm.stdout)
        .into_iter()
        .collect::<Result<_, _>>()
        .expect("npm's JSON objects");
    assert_eq!(objects.len(), 1, "{}", npm.stdout);
    assert_eq!(objects[0]["id"], "trust-0001");

    env.npm()
        .args([
            "trust",
            "github",
            "@acme/core",
            "--file",
            "release.yml",
            "--repo",
            "acme/tools",
            "--allow-stage-publish",
            "--yes",
            "--registry",
            &registry.url(),
        ])
        .run()
        .success();
    assert_eq!(registry.trust_of("@acme/core").len(), 1, "npm created one");
    let writes = registry.writes().len();
    let run = env
        .rtok()
        .args(["trust", "sync", "@acme/core", "--yes", "--json"])
        .args(SYNC_FLAGS)
        .run();
    run.success();
    assert_eq!(run.json()[0]["action"], "unchanged");
    assert_eq!(registry.writes().len(), writes);
}

#[test]
fn oidc_check_shows_what_each_trust_configuration_allows() {
    let mock = MockRegistry::start(|req| {
        let path = req.path_only();
        if path.starts_with("/-/npm/v1/oidc/token/exchange/package/") {
            return Reply::json(
                201,
                json!({"token": "npm_oidcExchangedTokenForTheCheck0001"}),
            );
        }
        match path {
            "/-/package/staged-only/trust" => Reply::json(
                200,
                json!([{"id": "t1", "type": "github",
                    "claims": {"repository": "acme/tools", "workflow_ref": {"file": "release.yml"}},
                    "permissions": ["createStagedPackage"]}]),
            ),
            "/-/package/both/trust" => Reply::json(
                200,
                json!([{"id": "t2", "type": "github",
                    "claims": {"repository": "acme/tools", "workflow_ref": {"file": "release.yml"}},
                    "permissions": ["createPackage", "createStagedPackage"]}]),
            ),
            "/-/package/old/trust" => Reply::json(
                200,
                json!([{"id": "t3", "type": "github",
                    "claims": {"repository": "acme/tools", "workflow_ref": {"file": "release.yml"}}}]),
            ),
            _ => Reply::json(404, json!({"error": "not found"})),
        }
    });
    let env = TestEnv::new();
    env.register_secret("npm_oidcExchangedTokenForTheCheck0001");
    env.register_secret("stored-token-for-trust");
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "stored-token-for-trust"));
    let identity = jwt(&github_claims("acme/tools", "npm:127.0.0.1"));
    env.register_secret(&identity);
    let run = env
        .rtok()
        .without_ci()
        .args([
            "oidc",
            "check",
            "--package",
            "staged-only",
            "--package",
            "both",
            "--package",
            "old",
            "--json",
        ])
        .env("NPM_ID_TOKEN", &identity)
        .run();
    run.success();
    let allows: Vec<String> = run
        .json()
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["allows"].as_str().unwrap_or("-").to_string())
        .collect();
    assert_eq!(
        allows,
        ["stage publish", "publish, stage publish", "publish"]
    );
}
