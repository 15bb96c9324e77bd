//! What rtok does to the terminal: a stderr that is gone is not a crash, and
//! text from elsewhere (a registry, a file name, a credential command) is
//! shown with its control characters made visible, never obeyed.

use std::process::Stdio;
use std::time::{Duration, SystemTime};

use crate::support::*;

/// `rtok <args>` with stderr a pipe whose reader is already closed (as in
/// `rtok ... 2>&1 | head -1` once `head` is done), and stdout discarded.
fn exit_code_with_stderr_closed(env: &TestEnv, args: &[&str], vars: &[(&str, &str)]) -> i32 {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let mut command = raw_rtok(env);
    command
        .args(args)
        .current_dir(&env.project)
        .env("HOME", &env.home)
        .env("NO_COLOR", "1")
        .env("NPM_CONFIG_GLOBALCONFIG", &env.globalconfig)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(writer);
    for (name, value) in vars {
        command.env(name, value);
    }
    let status = command.status().expect("run rtok");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), None, "rtok died of a signal: {status:?}");
    status.code().expect("an exit code")
}

fn in_days(days: u64) -> String {
    humantime::format_rfc3339_millis(SystemTime::now() + Duration::from_secs(days * 86_400))
        .to_string()
}

#[test]
fn a_closed_stderr_does_not_abort_whoami_with_a_warning() {
    let mock = MockRegistry::start(|_| Reply::json(200, json!({"username": "u"})));
    let env = TestEnv::new();
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "tok"));
    // Others can read the token: whoami warns about it on stderr.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&env.userconfig, std::fs::Permissions::from_mode(0o644))
        .expect("chmod");
    assert!(env.rtok().arg("whoami").run().stderr.contains("warning:"));
    assert_eq!(exit_code_with_stderr_closed(&env, &["whoami"], &[]), 0);
}

#[test]
fn a_closed_stderr_does_not_abort_token_list_with_an_expiry_warning() {
    let mut token = npm_token("d05404aaaaaaaaaaaaaaaaaaaaaaaaaa", "npm_abcd...wxyz");
    token["expiry"] = json!(in_days(3));
    let page = token_page(vec![token], None);
    let mock = MockRegistry::start(move |_| Reply::json(200, page.clone()));
    let env = TestEnv::new();
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "tok"));
    assert!(
        env.rtok()
            .args(["token", "list"])
            .run()
            .stderr
            .contains("warning: token d05404")
    );
    assert_eq!(
        exit_code_with_stderr_closed(&env, &["token", "list"], &[]),
        0
    );
}

#[test]
fn a_closed_stderr_does_not_abort_the_panic_hook() {
    require_test_hooks();
    let env = TestEnv::new();
    let code = exit_code_with_stderr_closed(&env, &["whoami"], &[("RTOK_TEST_PANIC", "x")]);
    assert_eq!(code, 101, "a panic exits 101, never an abort");
}

/// The probe's hostile registry: ESC, BEL and U+202E in a new token's key
/// and CIDR list, in a listed token's key and name (with a tab and a newline
/// that would forge a `--parseable` row), one expiring soon.
fn hostile_registry() -> MockRegistry {
    let soon = in_days(2);
    MockRegistry::start(move |req| match (req.method.as_str(), req.path_only()) {
        ("POST", "/-/npm/v1/tokens") => Reply::json(
            200,
            json!({
                "token": format!("npm_{}", "A".repeat(36)),
                "key": "\u{1b}]0;PWNED\u{7}\u{1b}[2J\u{202e}key",
                "readonly": false,
                "cidr_whitelist": ["\u{1b}[5mBLINK\u{202e}"],
                "created": "2026-11-01T00:00:00.000Z",
                "expiry": "\u{1b}[2J2030-01-01T00:00:00.000Z",
            }),
        ),
        ("GET", "/-/npm/v1/tokens") => Reply::json(
            200,
            token_page(
                vec![
                    json!({
                        "key": "\u{1b}[2J\u{1b}]0;T\u{7}xyzabc",
                        "token": "npm_abcd...wxyz",
                        "name": "ci\nfakekey\tnpm_x...y\tfakeid\u{202e}",
                        "readonly": false,
                        "created": "2026-11-01T00:00:00.000Z",
                        "expiry": soon,
                    }),
                    json!({
                        "key": "bbbbbb222222",
                        "token": "npm_efgh...wxyz",
                        "name": "\u{202e}gnp.exe",
                        "readonly": true,
                        "created": "2026-11-01T00:00:00.000Z",
                    }),
                ],
                None,
            ),
        ),
        _ => Reply::json(200, json!({"username": "u"})),
    })
}

#[track_caller]
fn assert_nothing_raw(what: &str, run: &Run) {
    for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        for raw in ['\u{1b}', '\u{7}', '\u{202e}'] {
            assert!(
                !text.contains(raw),
                "{what}: {stream} holds a raw {raw:?}:\n{text}"
            );
        }
    }
}

#[test]
fn text_from_a_registry_is_made_visible_everywhere() {
    let mock = hostile_registry();
    let env = TestEnv::new();
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "tok-esc-secret-value"));

    let run = env
        .rtok()
        .args(["token", "create", "--password-stdin"])
        .stdin("pw")
        .allow_secret(&format!("npm_{}", "A".repeat(36)))
        .run();
    run.success();
    assert!(
        run.stderr.contains("^[]0;PWNED^G^[[2J<U+202E>key"),
        "{}",
        run.stderr
    );
    assert_nothing_raw("token create", &run);

    let run = env.rtok().args(["token", "list"]).run();
    run.success();
    assert!(
        run.stderr.contains("warning: token ^[[2J^[]"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("<U+202E>gnp.exe"), "{}", run.stdout);
    assert_nothing_raw("token list", &run);

    let run = env.rtok().args(["token", "list", "--parseable"]).run();
    run.success();
    assert_nothing_raw("token list --parseable", &run);
    // A header and one row per token: the name's tab and newline forge none.
    let rows: Vec<Vec<&str>> = run
        .stdout
        .lines()
        .map(|l| l.split('\t').collect())
        .collect();
    assert_eq!(rows.len(), 3, "{}", run.stdout);
    assert!(
        rows.iter().all(|r| r.len() == rows[0].len()),
        "{}",
        run.stdout
    );
    assert_eq!(rows[1][3], "ci^Jfakekey^Inpm_x...y^Ifakeid<U+202E>");

    let run = env
        .rtok()
        .args([
            "token",
            "prune",
            "--older-than",
            "1d",
            "--dry-run",
            "--parseable",
        ])
        .run();
    run.success();
    assert!(
        run.stdout.contains("xyzabc"),
        "{}",
        run.describe("both tokens")
    );
    assert_eq!(run.stdout.lines().count(), 2, "{}", run.stdout);
    assert_nothing_raw("token prune --parseable", &run);
}

#[test]
fn text_from_a_project_file_or_a_command_is_made_visible_in_errors() {
    let env = TestEnv::new();
    std::fs::write(
        env.project.join(".npmrc"),
        "fetch-timeout=\u{1b}[2J\u{1b}[31mRED\u{202e}\n",
    )
    .expect("write");
    let run = env.rtok().arg("whoami").run();
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("^[[2J^[[31mRED<U+202E>"),
        "{}",
        run.stderr
    );
    assert_nothing_raw("a project value in an error", &run);
    std::fs::remove_file(env.project.join(".npmrc")).expect("rm");

    env.write_rtok_settings(
        "[registry.\"http://127.0.0.1:9/\"]\ncredential-command = [\"sh\", \"-c\", \"printf '\\\\033]0;PWNED\\\\007\\\\033[2Jbad\\\\342\\\\200\\\\256' >&2; exit 1\"]\n",
    );
    let run = env
        .rtok()
        .args(["whoami", "--registry", "http://127.0.0.1:9/"])
        .run();
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("^[]0;PWNED^G^[[2Jbad<U+202E>"),
        "{}",
        run.stderr
    );
    assert_nothing_raw("a credential command's stderr", &run);
}
