//! Tests of the test support itself: if these fail, no command test's result
//! means anything.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::*;

// ---------------------------------------------------------------- helpers

/// Runs `f`, expecting it to panic, and returns the panic message.
fn panic_message(f: impl FnOnce()) -> String {
    let err = catch_unwind(AssertUnwindSafe(f)).expect_err("expected a panic");
    err.downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "(non-string panic)".to_owned())
}

fn process_exists(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

// ---------------------------------------------------------------- env

#[test]
fn commands_run_isolated_in_the_test_env() {
    let env = TestEnv::new();
    assert!(env.project.join("package.json").is_file());
    assert!(env.home.is_dir());
    assert_eq!(env.userconfig, env.home.join(".npmrc"));
    assert!(!env.globalconfig.exists());

    let run = env.command("env").run();
    run.success();
    let vars: Vec<(&str, &str)> = run
        .stdout_lines()
        .into_iter()
        .filter_map(|l| l.split_once('='))
        .collect();
    let get = |name: &str| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
    assert_eq!(get("HOME"), env.home.to_str());
    assert_eq!(get("NO_COLOR"), Some("1"));
    assert_eq!(get("NPM_CONFIG_GLOBALCONFIG"), env.globalconfig.to_str());
    assert!(get("PATH").is_some(), "PATH is kept");
    for (name, _) in &vars {
        let upper = name.to_ascii_uppercase();
        let allowed = upper == "NPM_CONFIG_GLOBALCONFIG";
        assert!(
            allowed || !(upper.starts_with("NPM_") || upper.ends_with("_PROXY")),
            "{name} reached the child"
        );
    }

    // The parent's environment cannot be changed safely in a multi-threaded
    // test binary, so the filter itself is checked directly.
    use crate::support::env::is_removed_var;
    for name in [
        "npm_config_registry",
        "NPM_CONFIG_USERCONFIG",
        "Npm_Config__authToken",
        "NPM_TOKEN",
        "NODE_AUTH_TOKEN",
        "HTTPS_PROXY",
        "https_proxy",
        "NO_PROXY",
        "BROWSER",
        "NODE_OPTIONS",
        "RTOK_REGISTRY",
    ] {
        assert!(is_removed_var(name.as_ref()), "{name} must be removed");
    }
    for name in ["PATH", "LANG", "TERM", "USER"] {
        assert!(!is_removed_var(name.as_ref()), "{name} must be kept");
    }

    // The working directory is the project; relative dirs are under it.
    assert_eq!(
        env.command("pwd").run().stdout.trim(),
        env.project.to_str().expect("utf-8 path")
    );
    std::fs::create_dir(env.project.join("sub")).expect("create project/sub");
    let sub = env.command("pwd").current_dir("sub").run();
    assert_eq!(
        sub.stdout.trim(),
        env.project.join("sub").to_str().expect("utf-8 path")
    );

    // stdin: the given bytes, or closed at once (never the terminal).
    assert_eq!(env.command("cat").stdin("typed\n").run().stdout, "typed\n");
    let t = Instant::now();
    assert_eq!(env.command("cat").run().stdout, "");
    assert!(t.elapsed() < Duration::from_secs(5));

    // Explicit settings win over the scrubbing, and env_remove works.
    let run = env
        .command("sh")
        .args(["-c", "echo \"$npm_config_registry|${NO_COLOR-unset}\""])
        .env("npm_config_registry", "http://x/")
        .env_remove("NO_COLOR")
        .run();
    assert_eq!(run.stdout, "http://x/|unset\n");

    let bare = TestEnv::without_package_json();
    assert!(!bare.project.join("package.json").exists());
}

#[test]
fn userconfig_round_trips() {
    let env = TestEnv::new();
    env.write_userconfig("registry=http://127.0.0.1:1/\n");
    assert_eq!(env.read_userconfig(), "registry=http://127.0.0.1:1/\n");
    assert_eq!(
        std::fs::read_to_string(env.home.join(".npmrc")).expect("read home/.npmrc"),
        "registry=http://127.0.0.1:1/\n"
    );
}

#[test]
fn run_reports_code_json_and_lines() {
    let env = TestEnv::new();
    let run = env
        .command("sh")
        .args(["-c", r#"echo '{"a":1}'; echo e1 >&2; echo e2 >&2; exit 3"#])
        .run();
    run.failure(3);
    assert_eq!(run.json(), json!({ "a": 1 }));
    assert_eq!(run.stderr_lines(), ["e1", "e2"]);

    let msg = panic_message(|| {
        run.success();
    });
    assert!(msg.contains("expected success"), "{msg}");
    assert!(msg.contains("exit code 3") && msg.contains("e2"), "{msg}");

    // A lot of output on both streams does not deadlock the capture.
    let big = env
        .command("sh")
        .args([
            "-c",
            "yes out | head -c 1000000; yes err | head -c 1000000 >&2",
        ])
        .run();
    big.success();
    assert_eq!((big.stdout.len(), big.stderr.len()), (1_000_000, 1_000_000));
}

#[test]
fn rtok_binary_runs() {
    let env = TestEnv::new();
    env.rtok().arg("--version").run().success();
}

#[test]
fn leak_sweep_panics_when_a_secret_appears() {
    let env = TestEnv::new();
    let secret = "tok-SECRET-1234567890";
    env.register_secret(secret);

    let msg = panic_message(|| {
        env.command("sh")
            .args(["-c", "echo \"your token is $0\" >&2", secret])
            .run();
    });
    assert!(msg.contains("secret tok-… leaked into stderr"), "{msg}");
    assert!(
        !msg.contains(secret),
        "the message must not repeat the secret: {msg}"
    );
    assert!(msg.contains("<secret tok-…>"), "{msg}");

    let msg = panic_message(|| {
        env.command("echo").arg(secret).run();
    });
    assert!(msg.contains("leaked into stdout"), "{msg}");
    assert!(!msg.contains(secret), "command line is masked too: {msg}");

    // Allowed for one run: fine; the next run is checked again.
    let run = env.command("echo").arg(secret).allow_secret(secret).run();
    assert_eq!(run.stdout.trim(), secret);
    env.command("echo").arg("nothing secret").run().success();
}

#[test]
fn hung_child_is_killed_at_the_timeout() {
    let env = TestEnv::new();
    let t = Instant::now();
    // `exec` so the shell's pid (printed first) is the sleeping process.
    let msg = panic_message(|| {
        env.command("sh")
            .args(["-c", "echo started $$; exec sleep 30"])
            .timeout(Duration::from_millis(500))
            .run();
    });
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    assert!(msg.contains("hung"), "{msg}");
    assert!(
        msg.contains("sh -c"),
        "the message names the command: {msg}"
    );
    let pid: u32 = msg
        .split("--- stdout ---\nstarted ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("output so far is in the message: {msg}"));
    assert!(!process_exists(pid), "the hung child {pid} was killed");
}
