//! `rtok stage` against the stage mock (`support::stage_mock`), and the real
//! npm against the same mock, so the mock speaks what npm speaks.

use crate::support::*;

fn env_for(registry: &StageRegistry) -> TestEnv {
    let env = TestEnv::new();
    env.register_secret(STAGE_TOKEN);
    env.write_userconfig(&registry.npmrc());
    env
}

/// `n` staged versions of `pkg-<i>`.
fn many(n: usize) -> Vec<serde_json::Value> {
    (1..=n)
        .map(|i| staged_item(i, &format!("pkg-{i}"), "1.0.0"))
        .collect()
}

fn approvals(registry: &StageRegistry) -> Vec<Request> {
    registry
        .mock
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/approve"))
        .collect()
}

#[test]
fn list_follows_every_page_and_prints_one_json_array() {
    let registry = StageRegistry::start(&[], many(150), TwoFactor::Off);
    let env = env_for(&registry);
    let run = env.rtok().args(["stage", "list", "--json"]).run();
    run.success();
    let items = run.json();
    let items = items.as_array().expect("one array");
    assert_eq!(items.len(), 150);
    assert_eq!(items[149]["id"], stage_id(150));
    assert_eq!(items[0]["actor"], "octocat", "every field kept");
    let pages: Vec<String> = registry
        .mock
        .requests()
        .iter()
        .filter(|r| r.path_only() == "/-/stage")
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(
        pages,
        ["/-/stage?page=0&perPage=100", "/-/stage?page=1&perPage=100"]
    );
    assert_eq!(
        registry.mock.requests()[0].header("npm-command"),
        Some("stage")
    );
}

#[test]
fn list_of_one_package_asks_the_registry_for_it() {
    let staged = vec![
        staged_item(1, "@acme/cli", "1.0.0"),
        staged_item(2, "@acme/core", "2.0.0"),
    ];
    let registry = StageRegistry::start(&[], staged, TwoFactor::Off);
    let env = env_for(&registry);
    let run = env.rtok().args(["stage", "list", "@acme/core"]).run();
    run.success();
    assert!(run.stdout.contains("@acme/core") && !run.stdout.contains("@acme/cli"));
    assert!(
        registry.mock.requests()[0]
            .path
            .ends_with("&package=%40acme%2Fcore"),
        "{:?}",
        registry.mock.requests()[0].path
    );
    let empty = StageRegistry::start(&[], vec![], TwoFactor::Off);
    let env = env_for(&empty);
    let run = env.rtok().args(["stage", "list", "--json"]).run();
    run.success();
    assert_eq!(run.json(), json!([]));
}

#[test]
fn view_prints_each_field() {
    let mut item = staged_item(7, "@acme/cli", "1.2.3");
    item["status"] = json!("pending");
    let registry = StageRegistry::start(&[], vec![item], TwoFactor::Off);
    let env = env_for(&registry);
    let run = env.rtok().args(["stage", "view", &stage_id(7)]).run();
    run.success();
    for line in [
        "package name: @acme/cli",
        "version: 1.2.3",
        "staged by: octocat (user)",
        "status: pending",
    ] {
        assert!(run.stdout.contains(line), "{}", run.describe(line));
    }
    let run = env
        .rtok()
        .args(["stage", "view", &stage_id(7), "--json"])
        .run();
    run.success();
    assert_eq!(run.json()["packageName"], "@acme/cli");
}

#[test]
fn ids_that_are_not_uuids_are_refused_before_any_request() {
    let registry = StageRegistry::start(&[], many(1), TwoFactor::Off);
    let env = env_for(&registry);
    for args in [
        vec!["stage", "view", "1234"],
        vec!["stage", "approve", &stage_id(1), "../../-/npm/v1/tokens"],
        vec!["stage", "reject", "--yes", "not-a-uuid"],
        vec!["stage", "download", "x"],
    ] {
        let run = env.rtok().args(&args).run();
        assert_error(&run, 2, "is not a stage id");
    }
    assert!(registry.mock.requests().is_empty(), "nothing was sent");
}

#[test]
fn a_batch_approval_reuses_one_code() {
    let registry = StageRegistry::start(
        &[],
        many(3),
        TwoFactor::Classic {
            codes: vec!["123456".into()],
            once: false,
        },
    );
    let env = env_for(&registry);
    let run = env
        .rtok()
        .args(["stage", "approve", "--all", "--otp", "123456"])
        .run();
    run.success();
    assert_eq!(
        registry.published(),
        ["pkg-1@1.0.0", "pkg-2@1.0.0", "pkg-3@1.0.0"]
    );
    let sent: Vec<Option<String>> = approvals(&registry)
        .iter()
        .map(|r| r.header("npm-otp").map(str::to_string))
        .collect();
    assert_eq!(
        sent,
        vec![Some("123456".to_string()); 3],
        "one code, three calls, no retries"
    );
    assert!(
        run.stdout.contains("approved pkg-2@1.0.0"),
        "{}",
        run.describe("each outcome")
    );
}

#[test]
fn a_code_good_once_fails_the_rest_without_a_terminal_and_stops_sending_it() {
    let registry = StageRegistry::start(
        &[],
        many(3),
        TwoFactor::Classic {
            codes: vec!["111111".into()],
            once: true,
        },
    );
    let env = env_for(&registry);
    let run = env
        .rtok()
        .args(["stage", "approve", "--all", "--otp", "111111", "--json"])
        .run();
    run.failure(1);
    assert_eq!(registry.published(), ["pkg-1@1.0.0"]);
    // The refused code went once; the third approval was not sent at all.
    assert_eq!(approvals(&registry).len(), 2);
    let outcomes = run.json();
    let ok: Vec<bool> = outcomes
        .as_array()
        .expect("array")
        .iter()
        .map(|o| o["ok"].as_bool().expect("ok"))
        .collect();
    assert_eq!(ok, [true, false, false]);
    assert!(
        outcomes[1]["error"]
            .as_str()
            .expect("error")
            .contains("refused the one-time password"),
        "{outcomes}"
    );
}

#[test]
fn a_failure_does_not_stop_the_rest_and_exits_1() {
    let registry = StageRegistry::start(&[], many(3), TwoFactor::Off);
    registry.fail_approval_of(&stage_id(2));
    let env = env_for(&registry);
    let unknown = stage_id(99);
    let run = env
        .rtok()
        .args([
            "stage",
            "approve",
            &stage_id(1),
            &stage_id(2),
            &unknown,
            &stage_id(3),
        ])
        .run();
    run.failure(1);
    assert!(
        run.stderr.contains("error: 2 of 4 approvals failed"),
        "{}",
        run.describe("the count")
    );
    assert_eq!(registry.published(), ["pkg-1@1.0.0", "pkg-3@1.0.0"]);
    assert!(
        run.stdout.contains("failed pkg-2@1.0.0"),
        "{}",
        run.describe("the failure named")
    );
    assert!(
        run.stdout.contains(&format!("failed {unknown}")),
        "{}",
        run.describe("the unknown id")
    );
    assert!(
        !run.stderr.contains("approving"),
        "no progress line off a terminal"
    );
}

#[test]
fn approvals_follow_workspace_dependencies() {
    let staged = vec![
        staged_item(1, "@acme/cli", "1.0.0"),
        staged_item(2, "@acme/utils", "1.0.0"),
        staged_item(3, "@acme/core", "1.0.0"),
    ];
    let registry = StageRegistry::start(&[], staged, TwoFactor::Off);
    let env = env_for(&registry);
    workspace(
        &env,
        &[
            ("cli", "@acme/cli", &["@acme/core", "left-pad"]),
            ("core", "@acme/core", &["@acme/utils"]),
            ("utils", "@acme/utils", &[]),
        ],
    );
    let run = env.rtok().args(["stage", "approve", "--all"]).run();
    run.success();
    assert_eq!(
        registry.published(),
        ["@acme/utils@1.0.0", "@acme/core@1.0.0", "@acme/cli@1.0.0"]
    );
}

#[test]
fn all_of_one_package() {
    let staged = vec![
        staged_item(1, "a", "1.0.0"),
        staged_item(2, "b", "1.0.0"),
        staged_item(3, "a", "1.1.0"),
    ];
    let registry = StageRegistry::start(&[], staged, TwoFactor::Off);
    let env = env_for(&registry);
    env.rtok()
        .args(["stage", "approve", "--all", "--package", "a"])
        .run()
        .success();
    assert_eq!(registry.published(), ["a@1.0.0", "a@1.1.0"]);
    assert_eq!(registry.staged_ids(), [stage_id(2)]);
}

#[test]
fn approve_without_ids_or_a_terminal_is_a_usage_error() {
    let registry = StageRegistry::start(&[], many(1), TwoFactor::Off);
    let env = env_for(&registry);
    let run = env.rtok().args(["stage", "approve"]).run();
    assert_error(&run, 2, "needs stage ids or `--all`");
    assert!(registry.mock.requests().is_empty());
}

#[test]
fn reject_asks_first_and_without_a_terminal_needs_yes() {
    let registry = StageRegistry::start(&[], many(2), TwoFactor::Off);
    let env = env_for(&registry);
    let run = env.rtok().args(["stage", "reject", &stage_id(1)]).run();
    assert_error(&run, 2, "no terminal to ask on; nothing was sent");
    assert!(registry.mock.requests().is_empty());
    let run = env
        .rtok()
        .args(["stage", "reject", "--yes", &stage_id(1)])
        .run();
    run.success();
    assert_eq!(registry.rejected(), [stage_id(1)]);
    assert_eq!(registry.staged_ids(), [stage_id(2)]);
}

#[test]
fn download_writes_the_tarball() {
    let registry = StageRegistry::start(
        &[],
        vec![staged_item(5, "@acme/cli", "1.2.3")],
        TwoFactor::Off,
    );
    let env = env_for(&registry);
    let run = env
        .rtok()
        .args(["stage", "download", &stage_id(5), "-o", "out.tgz"])
        .run();
    run.success();
    let written = std::fs::read_to_string(env.project.join("out.tgz")).expect("the file");
    assert_eq!(written, format!("tarball of {}", stage_id(5)));
    // Without -o: npm's file name.
    let run = env.rtok().args(["stage", "download", &stage_id(5)]).run();
    run.success();
    let name = format!("acme-cli-1.2.3-{}.tgz", stage_id(5));
    assert!(env.project.join(&name).is_file(), "{}", run.describe(&name));
}

#[test]
fn approving_on_a_terminal_asks_again_only_when_the_code_is_refused() {
    let registry = StageRegistry::start(
        &[],
        many(3),
        TwoFactor::Classic {
            codes: vec!["111111".into(), "222222".into()],
            once: true,
        },
    );
    let env = env_for(&registry);
    let mut command = raw_rtok(&env);
    command
        .args(["stage", "approve", &stage_id(1), &stage_id(2)])
        .current_dir(&env.project);
    let mut session =
        rexpect::session::spawn_command(command, Some(30_000)).expect("spawn rtok in a pty");
    session.exp_string("Enter OTP:").expect("asked once");
    session.send_line("111111").expect("type the code");
    session
        .exp_string("refused the one-time password")
        .expect("told the code was refused");
    session.exp_string("Enter OTP:").expect("asked again");
    session.send_line("222222").expect("type the next code");
    session.exp_eof().expect("rtok exits");
    assert_eq!(registry.published(), ["pkg-1@1.0.0", "pkg-2@1.0.0"]);
}

#[test]
fn web_two_factor_opens_each_challenge_once() {
    let registry = StageRegistry::start(&[], many(2), TwoFactor::Web);
    let env = env_for(&registry);
    let log = env.root.join("browser.log");
    let script = env.root.join("browser.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho \"$1\" >> '{}'\n", log.display()),
    )
    .expect("browser script");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let mut command = raw_rtok(&env);
    command
        .args(["stage", "approve", "--all"])
        .current_dir(&env.project)
        .env("BROWSER", &script);
    let mut session =
        rexpect::session::spawn_command(command, Some(30_000)).expect("spawn rtok in a pty");
    session.exp_eof().expect("rtok exits");
    assert_eq!(registry.published(), ["pkg-1@1.0.0", "pkg-2@1.0.0"]);
    let opened = std::fs::read_to_string(&log).expect("the browser ran");
    assert_eq!(
        opened.lines().count(),
        2,
        "one page per challenge: {opened}"
    );
    assert!(opened.lines().all(|l| l.contains("/-/auth/")), "{opened}");
}

/// Workspace packages under `packages/<dir>` with their dependencies.
pub fn workspace(env: &TestEnv, members: &[(&str, &str, &[&str])]) {
    std::fs::write(
        env.project.join("package.json"),
        json!({"name": "root", "private": true, "workspaces": ["packages/*"]}).to_string(),
    )
    .expect("root manifest");
    for (dir, name, deps) in members {
        let folder = env.project.join("packages").join(dir);
        std::fs::create_dir_all(&folder).expect("package folder");
        let deps: serde_json::Map<String, serde_json::Value> =
            deps.iter().map(|d| (d.to_string(), json!("*"))).collect();
        std::fs::write(
            folder.join("package.json"),
            json!({"name": name, "version": "1.0.0", "dependencies": deps}).to_string(),
        )
        .expect("member manifest");
    }
}

#[test]
fn npm_reads_the_same_stage_list_from_the_mock() {
    let registry = StageRegistry::start(&[], many(3), TwoFactor::Off);
    let env = env_for(&registry);
    let npm = env
        .npm()
        .args(["stage", "list", "--json", "--registry", &registry.url()])
        .run();
    npm.success();
    let rtok = env.rtok().args(["stage", "list", "--json"]).run();
    rtok.success();
    assert_eq!(npm.json(), rtok.json(), "npm and rtok list the same items");
    // npm approves with the same call rtok makes.
    env.npm()
        .args([
            "stage",
            "approve",
            &stage_id(2),
            "--registry",
            &registry.url(),
        ])
        .run()
        .success();
    assert_eq!(registry.published(), ["pkg-2@1.0.0"]);
}

/// Types `keys` at the terminal.
fn press(session: &mut rexpect::session::PtySession, keys: &str) {
    session.send(keys).expect("type at the terminal");
    session.flush().expect("type at the terminal");
}

#[test]
fn without_ids_on_a_terminal_the_user_picks_what_to_approve() {
    let registry = StageRegistry::start(&[], many(3), TwoFactor::Off);
    let env = env_for(&registry);
    let mut command = raw_rtok(&env);
    command.args(["stage", "approve"]);
    let mut session =
        rexpect::session::spawn_command(command, Some(30_000)).expect("spawn rtok in a pty");
    session
        .exp_string("Pick the versions to approve")
        .expect("the list");
    session
        .exp_string("pkg-3@1.0.0")
        .expect("the last one listed");
    press(&mut session, "\u{1b}[B"); // down
    press(&mut session, " "); // pick the second
    press(&mut session, "\r"); // confirm
    let rest = session.exp_eof().expect("rtok exits");
    assert!(rest.contains("approved pkg-2@1.0.0"), "{rest}");
    assert_eq!(registry.published(), ["pkg-2@1.0.0"]);
}

#[test]
fn reject_on_a_terminal_asks_and_a_no_sends_nothing() {
    let registry = StageRegistry::start(&[], many(2), TwoFactor::Off);
    let env = env_for(&registry);
    for (answer, rejected) in [("n", 0), ("y", 1)] {
        let mut command = raw_rtok(&env);
        command.args(["stage", "reject", &stage_id(1)]);
        let mut session =
            rexpect::session::spawn_command(command, Some(30_000)).expect("spawn rtok in a pty");
        session
            .exp_string("Reject 1 staged version? [y/N] ")
            .expect("the question");
        session.send_line(answer).expect("answer");
        session.exp_eof().expect("rtok exits");
        assert_eq!(registry.rejected().len(), rejected, "after {answer}");
    }
}
