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
