//! `rtok exec -- CMD`: the real npm and pnpm against the real Verdaccio with
//! the token only in a real (private) keyring; exit codes, signals, the
//! variables CMD gets, and credential commands.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::support::verdaccio::find_on_path;
use crate::support::*;

/// The pinned pnpm (test-registry/package.json), installed with Verdaccio.
fn pnpm_path() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("test-registry/node_modules/.bin/pnpm");
    assert!(
        path.is_file(),
        "{} is missing: run `npm ci --prefix test-registry` (scripts/test does this)",
        path.display()
    );
    path
}

fn npm_path() -> PathBuf {
    find_on_path("npm").expect("npm is on PATH (it comes with Node.js)")
}

/// An executable `sh` script under the test's root.
fn script(env: &TestEnv, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = env.root.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write script");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

/// Moves `user`'s token from the userconfig into `keyring` with rtok.
fn token_into_keyring(env: &TestEnv, keyring: &PrivateKeyring, reg: &Verdaccio, user: &User) {
    env.write_userconfig(&reg.npmrc_for(user));
    keyring
        .apply(env.rtok().args(["keyring", "import"]))
        .run()
        .success();
    assert!(!env.read_userconfig().contains(&user.token));
    assert_eq!(
        keyring.secret_tool_lookup(&reg.nerf_dart()).as_deref(),
        Some(user.token.as_str())
    );
}

/// npm settings that keep it quiet and inside the test's tree.
fn quiet_npm(cmd: RtokCmd) -> RtokCmd {
    cmd.env("npm_config_update_notifier", "false")
        .env("npm_config_fund", "false")
        .env("npm_config_audit", "false")
        .env("npm_config_loglevel", "warn")
}

#[test]
fn npm_whoami_with_the_token_only_in_the_keyring() {
    let reg = shared();
    let user = reg.new_user("exec-npm");
    let env = TestEnv::new();
    env.register_secret(&user.token);
    let keyring = PrivateKeyring::start(&env);
    token_into_keyring(&env, &keyring, reg, &user);

    // npm alone cannot log in any more...
    let run = quiet_npm(
        env.command(npm_path())
            .args(["whoami", "--registry", &reg.url]),
    )
    .run();
    assert_ne!(run.code, 0, "{}", run.describe("npm to fail without rtok"));

    // ...but through rtok it is the user.
    let run = quiet_npm(keyring.apply(env.rtok().args([
        "exec",
        "--",
        &npm_path().display().to_string(),
        "whoami",
        "--registry",
        &reg.url,
    ])))
    .run();
    run.success();
    assert_eq!(run.stdout.trim(), user.name);
    assert!(
        !run.stderr.contains("rtok") && !run.stderr.contains("error"),
        "{}",
        run.describe("nothing of rtok's on stderr")
    );
    assert_no_file_contains(&env.root, &user.token);
}

#[test]
fn pnpm_publish_with_the_token_only_in_the_keyring() {
    let reg = shared();
    let user = reg.new_user("exec-pnpm");
    let env = TestEnv::new();
    env.register_secret(&user.token);
    let keyring = PrivateKeyring::start(&env);
    token_into_keyring(&env, &keyring, reg, &user);

    let name = format!(
        "rtok-exec-pnpm-{}-{:x}",
        std::process::id(),
        crate::support::verdaccio::random_u64()
    );
    let package = env.root.join("package");
    std::fs::create_dir(&package).expect("mkdir package");
    std::fs::write(
        package.join("package.json"),
        format!("{{\"name\": \"{name}\", \"version\": \"1.0.0\", \"main\": \"index.js\"}}\n"),
    )
    .expect("package.json");
    std::fs::write(package.join("index.js"), "module.exports = 1;\n").expect("index.js");

    let pnpm = pnpm_path().display().to_string();
    let publish = ["publish", "--no-git-checks", "--registry", &reg.url];
    let quiet = |cmd: RtokCmd| {
        cmd.current_dir(&package)
            .env("npm_config_update_notifier", "false")
            .env("XDG_DATA_HOME", env.root.join("xdg-data"))
            .env("XDG_CACHE_HOME", env.root.join("xdg-cache"))
    };

    // pnpm alone has no token any more: the registry refuses it.
    let run = quiet(env.command(&pnpm).args(publish)).run();
    assert_ne!(run.code, 0, "{}", run.describe("pnpm to fail without rtok"));

    let run = quiet(keyring.apply(env.rtok().args(["exec", "--", &pnpm]).args(publish))).run();
    run.success();

    let mut response = http_agent()
        .get(&format!("{}{name}", reg.url))
        .header("authorization", &format!("Bearer {}", user.token))
        .call()
        .expect("GET the package");
    assert_eq!(response.status(), 200, "the package was published");
    let document: serde_json::Value = response.body_mut().read_json().expect("JSON");
    assert_eq!(document["dist-tags"]["latest"], "1.0.0");
    assert_no_file_contains(&env.root, &user.token);
}

#[test]
fn the_exit_code_is_the_commands() {
    let env = TestEnv::new();
    env.write_userconfig("registry=http://127.0.0.1:9/\n//127.0.0.1:9/:_authToken=npm_exitcodes\n");

    let run = env.rtok().args(["exec", "--", "sh", "-c", "exit 3"]).run();
    run.failure(3);
    assert!(
        run.stderr.is_empty(),
        "{}",
        run.describe("nothing on stderr")
    );

    // Killed by a signal: rtok itself exits normally, with 128 + N.
    let run = env
        .rtok()
        .args(["exec", "--", "sh", "-c", "kill -KILL $$"])
        .run();
    run.failure(137);
    assert_eq!(
        run.signal,
        None,
        "{}",
        run.describe("rtok to exit, not be killed")
    );

    let run = env
        .rtok()
        .args(["exec", "--", "rtok-no-such-command", "x"])
        .run();
    assert_error(&run, 127, "command not found: `rtok-no-such-command`");
    // Probe #19: the error had no `hint:` line.
    assert!(hint(&run).contains("without a shell"), "{}", run.stderr);

    let run = env.rtok().args(["exec", "--", "true"]).run();
    run.success();
    assert!(
        run.stdout.is_empty() && run.stderr.is_empty(),
        "{}",
        run.describe("silence")
    );
}

#[test]
fn without_a_credential_the_command_is_not_run() {
    let env = TestEnv::new();
    env.write_userconfig("registry=http://127.0.0.1:9/\n");
    let marker = env.root.join("ran");
    let run = env.rtok().args(["exec", "--", "touch"]).arg(&marker).run();
    assert_error(&run, 4, "not logged in to http://127.0.0.1:9/");
    assert!(hint(&run).contains("rtok login --registry http://127.0.0.1:9/"));
    assert!(!marker.exists(), "the command ran");
}

/// The variables of `env` printed by a command run through `rtok exec`.
fn child_environment(run: &Run) -> Vec<(String, String)> {
    run.stdout_lines()
        .into_iter()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn value<'a>(vars: &'a [(String, String)], name: &str) -> Option<&'a str> {
    vars.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn the_command_gets_every_credential_and_only_it() {
    let env = TestEnv::new();
    let keyring = PrivateKeyring::start(&env);
    let configured = "npm_configured0123456789";
    let scoped = "npm_scoped0123456789";
    let in_keyring = "npm_inkeyring0123456789";
    let from_command = "npm_fromcommand0123456789";
    for secret in [configured, scoped, in_keyring, from_command] {
        env.register_secret(secret);
    }
    env.write_userconfig(&format!(
        "registry=http://127.0.0.1:9/\n//127.0.0.1:9/:_authToken={configured}\n\
         @acme:registry=https://acme.example/npm/\n//acme.example/npm/:_authToken={scoped}\n\
         @basic:registry=https://basic.example/\n//basic.example/:_auth=dTpw\n"
    ));
    keyring.secret_tool_store("//kr.example/", in_keyring);
    // The helper gets its token from the environment, so no file holds it.
    let helper = script(
        &env,
        "token-helper",
        "echo \"$RTOK_REGISTRY\" > \"$0.registry\"; printf '%s\\n' \"$HELPER_TOKEN\"",
    );
    env.write_rtok_settings(&format!(
        "[registry.\"https://kr.example/\"]\nstorage = \"keyring\"\n\n\
             [registry.\"https://cmd.example/\"]\ncredential-command = [\"{}\"]\n",
        helper.display()
    ));

    let run = keyring
        .apply(env.rtok().args(["exec", "--", "env"]))
        .env("HELPER_TOKEN", from_command)
        .run_allowing(&[configured, scoped, in_keyring, from_command]);
    run.success();
    let vars = child_environment(&run);
    assert_eq!(
        value(&vars, "npm_config_//127.0.0.1:9/:_authToken"),
        Some(configured)
    );
    assert_eq!(value(&vars, "NODE_AUTH_TOKEN"), Some(configured));
    assert_eq!(value(&vars, "YARN_NPM_AUTH_TOKEN"), Some(configured));
    assert_eq!(
        value(&vars, "npm_config_//acme.example/npm/:_authToken"),
        Some(scoped)
    );
    assert_eq!(
        value(&vars, "npm_config_//basic.example/:_auth"),
        Some("dTpw")
    );
    assert_eq!(
        value(&vars, "npm_config_//kr.example/:_authToken"),
        Some(in_keyring)
    );
    assert_eq!(
        value(&vars, "npm_config_//cmd.example/:_authToken"),
        Some(from_command)
    );
    assert_eq!(
        std::fs::read_to_string(helper.with_extension("registry")).expect("helper ran"),
        "https://cmd.example/\n",
        "RTOK_REGISTRY names the registry"
    );
    let injected: Vec<&str> = vars
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| k.starts_with("npm_config_") || k.ends_with("AUTH_TOKEN"))
        .collect();
    assert_eq!(injected.len(), 7, "{injected:?}");
    assert_eq!(value(&vars, "HELPER_TOKEN"), Some(from_command));
    // Only the command's environment got them.
    assert_no_file_contains(&env.root, in_keyring);
    assert_no_file_contains(&env.root, from_command);
}

#[test]
fn the_configured_registry_can_live_in_the_keyring() {
    let env = TestEnv::new();
    let keyring = PrivateKeyring::start(&env);
    env.write_userconfig("registry=https://only-stored.example/\n");
    let secret = "npm_onlystored0123456789";
    env.register_secret(secret);
    keyring.secret_tool_store("//only-stored.example/", &format!("{secret}\n"));
    env.write_rtok_settings("[registry.\"https://only-stored.example\"]\nstorage = \"keyring\"\n");
    let run = keyring
        .apply(
            env.rtok()
                .args(["exec", "--", "sh", "-c", "printf %s \"$NODE_AUTH_TOKEN\""]),
        )
        .run_allowing(&[secret]);
    run.success();
    assert_eq!(run.stdout, secret, "the keyring item, trimmed");

    // An empty item is an error naming it; the command does not run.
    keyring.secret_tool_store("//only-stored.example/", " ");
    let marker = env.root.join("ran");
    let run = keyring
        .apply(env.rtok().args(["exec", "--", "touch"]).arg(&marker))
        .run();
    assert_error(
        &run,
        1,
        "the keyring item for `//only-stored.example/` (service `rtok`) is empty",
    );
    assert!(hint(&run).contains("`--storage file`"));

    // Recorded, but no item at all: not logged in.
    let out = std::process::Command::new("secret-tool")
        .args([
            "clear",
            "service",
            "rtok",
            "username",
            "//only-stored.example/",
        ])
        .env("DBUS_SESSION_BUS_ADDRESS", &keyring.address)
        .output()
        .expect("secret-tool clear");
    assert!(out.status.success());
    let run = keyring
        .apply(env.rtok().args(["exec", "--", "touch"]).arg(&marker))
        .run();
    assert_error(
        &run,
        4,
        "records its token in the system keyring, but the keyring has no item",
    );

    // No keyring at all.
    let run = env.rtok().args(["exec", "--", "touch"]).arg(&marker).run();
    assert_error(&run, 1, "the system keyring is not usable");
    assert!(hint(&run).contains("`--storage file`"));
    assert!(!marker.exists(), "the command ran");
}

#[test]
fn credential_commands_that_fail_stop_the_command() {
    let env = TestEnv::new();
    env.write_userconfig("registry=https://cmd.example/\n");
    let marker = env.root.join("ran");

    // One that works gives the configured registry its token.
    let secret = "npm_fromhelper0123456789";
    env.register_secret(secret);
    let helper = script(&env, "works", "printf '  %s  \\n' \"$HELPER_TOKEN\"");
    env.write_rtok_settings(&format!(
        "[registry.\"https://cmd.example/\"]\ncredential-command = [\"{}\"]\n",
        helper.display()
    ));
    let run = env
        .rtok()
        .args(["exec", "--", "sh", "-c", "printf %s \"$NODE_AUTH_TOKEN\""])
        .env("HELPER_TOKEN", secret)
        .run_allowing(&[secret]);
    run.success();
    assert_eq!(run.stdout, secret, "stdout trimmed");

    let cases = [
        ("prints-nothing", "exit 0", "printed no token"),
        (
            "exits-1",
            "echo npm_notshown; echo 'not logged in to op' >&2; exit 1",
            "exited with status 1: not logged in to op",
        ),
        (
            "never-ends",
            "sleep 30",
            "did not finish within 500 ms and was stopped",
        ),
    ];
    for (name, body, needle) in cases {
        let helper = script(&env, name, body);
        env.write_rtok_settings(&format!(
            "[registry.\"https://cmd.example/\"]\ncredential-command = [\"{}\", \"--flag\"]\n",
            helper.display()
        ));
        let started = Instant::now();
        let run = env
            .rtok()
            .args(["exec", "--", "touch"])
            .arg(&marker)
            .env("RTOK_CREDENTIAL_COMMAND_TIMEOUT_MS", "500")
            .run();
        assert_error(&run, 1, needle);
        assert!(
            run.stderr
                .contains(&format!("`{} --flag`", helper.display())),
            "{}",
            run.describe("the command named")
        );
        assert!(
            !run.stderr.contains("npm_notshown"),
            "{}",
            run.describe("stdout never shown")
        );
        assert!(!marker.exists(), "{name}: the command ran");
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{name} took too long"
        );
    }

    env.write_rtok_settings(
        "[registry.\"https://cmd.example/\"]\ncredential-command = [\"rtok-no-such-helper\"]\n",
    );
    let run = env.rtok().args(["exec", "--", "touch"]).arg(&marker).run();
    assert_error(
        &run,
        1,
        "the credential command `rtok-no-such-helper` for https://cmd.example/ was not found",
    );
    assert!(!marker.exists());
}

/// rtok exec started directly (so the test can signal it), running a
/// shell that reports the signals it gets.
fn spawn_trapping(env: &TestEnv) -> (Child, BufReader<std::process::ChildStdout>) {
    env.write_userconfig("registry=http://127.0.0.1:9/\n//127.0.0.1:9/:_authToken=npm_signals\n");
    let mut child = raw_rtok(env)
        .args([
            "exec",
            "--",
            "sh",
            "-c",
            "trap 'echo got INT; exit 40' INT; trap 'echo got TERM; exit 41' TERM; \
             trap 'echo got HUP; exit 42' HUP; trap 'echo got USR1; exit 43' USR1; \
             trap 'echo got USR2; exit 44' USR2; trap 'echo got QUIT; exit 45' QUIT; \
             trap 'echo got ALRM; exit 46' ALRM; echo ready $$; \
             while :; do sleep 0.05; done",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start rtok exec");
    let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("read ready");
    let shell: u32 = line
        .trim()
        .strip_prefix("ready ")
        .and_then(|pid| pid.parse().ok())
        .unwrap_or_else(|| panic!("expected `ready <pid>`, got {line:?}"));
    assert_ne!(
        shell,
        child.id(),
        "CMD runs as a child of rtok, not in its place"
    );
    (child, stdout)
}

fn wait_with_timeout(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("rtok exec did not exit after the signal");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn signals_sent_to_rtok_reach_the_command() {
    let env = TestEnv::new();
    for (signal, expected) in [("INT", 40), ("TERM", 41), ("HUP", 42)] {
        let (mut child, mut stdout) = spawn_trapping(&env);
        let sent = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status()
            .expect("run kill");
        assert!(sent.success());
        let status = wait_with_timeout(&mut child);
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut rest).expect("read");
        assert_eq!(rest.trim(), format!("got {signal}"));
        assert_eq!(status.code(), Some(expected), "SIG{signal}: {status:?}");
    }
}

/// Probe #19: USR1, USR2, QUIT, ALRM from another process used to kill
/// rtok and leave CMD running with the credentials; they reach CMD now.
#[test]
fn every_catchable_signal_sent_to_rtok_reaches_the_command() {
    let env = TestEnv::new();
    for (signal, expected) in [("USR1", 43), ("USR2", 44), ("QUIT", 45), ("ALRM", 46)] {
        let (mut child, mut stdout) = spawn_trapping(&env);
        let sent = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status()
            .expect("run kill");
        assert!(sent.success());
        let status = wait_with_timeout(&mut child);
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut rest).expect("read");
        assert_eq!(rest.trim(), format!("got {signal}"));
        assert_eq!(status.code(), Some(expected), "SIG{signal}: {status:?}");
    }
}

/// Whether process `pid` is gone (a zombie nobody reaped yet counts).
fn gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z') || rest.starts_with('X')),
        Err(_) => true,
    }
}

/// Probe #14 (r16): Ctrl-C (SIGINT to rtok's whole process group) while a
/// credential command runs in a group of its own stops the command and all
/// it started, and rtok exits 130.
#[test]
fn a_credential_command_dies_with_rtok_on_ctrl_c() {
    use std::os::unix::process::CommandExt;
    let env = TestEnv::new();
    let pids = env.root.join("command-pids");
    let marker = format!("rtok-r16-{}", env.root.display());
    // The shell records its pid and its child's, then waits.
    let helper = script(
        &env,
        "slow-helper",
        &format!(
            "sleep 20 & echo \"$$ $!\" > '{}.tmp'; mv '{0}.tmp' '{0}'; wait # {marker}",
            pids.display()
        ),
    );
    env.write_rtok_settings(&format!(
        "[registry.\"http://127.0.0.1:9/\"]\ncredential-command = [\"{}\", \"{marker}\"]\n",
        helper.display()
    ));
    let mut rtok = raw_rtok(&env)
        .args(["whoami", "--registry", "http://127.0.0.1:9/"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("start rtok");
    let deadline = Instant::now() + Duration::from_secs(20);
    let recorded = loop {
        if let Ok(text) = std::fs::read_to_string(&pids) {
            break text;
        }
        if Instant::now() > deadline {
            let _ = rtok.kill();
            panic!("the credential command did not start");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let command_pids: Vec<u32> = recorded
        .split_whitespace()
        .map(|pid| pid.parse().expect("a pid"))
        .collect();
    assert_eq!(command_pids.len(), 2, "{recorded:?}");

    // What the terminal does on Ctrl-C: SIGINT to the foreground group.
    let sent = std::process::Command::new("kill")
        .args(["-INT", "--", &format!("-{}", rtok.id())])
        .status()
        .expect("run kill");
    assert!(sent.success());
    let status = wait_with_timeout(&mut rtok);
    assert_eq!(status.code(), Some(130), "{status:?}");

    let deadline = Instant::now() + Duration::from_secs(20);
    while !command_pids.iter().all(|pid| gone(*pid)) {
        if Instant::now() > deadline {
            for pid in &command_pids {
                let _ = std::process::Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
            panic!("the credential command outlived rtok: {command_pids:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let left = std::process::Command::new("pgrep")
        .args(["-f", &marker])
        .output()
        .expect("run pgrep");
    assert!(
        String::from_utf8_lossy(&left.stdout).trim().is_empty(),
        "still running: {}",
        String::from_utf8_lossy(&left.stdout)
    );
}

/// Probe #19: a credential command's output that is not text, or a "token"
/// with whitespace inside, is one error, and nothing is sent.
#[test]
fn a_credential_command_printing_no_single_word_sends_nothing() {
    let mock = MockRegistry::start(|_| Reply::json(200, json!({"username": "someone"})));
    let env = TestEnv::new();
    for (name, body, needle) in [
        (
            "spaces",
            "printf 'tok with spaces\\n'",
            "(it holds whitespace)",
        ),
        ("binary", "printf 'npm_\\377\\376\\n'", "(not text)"),
    ] {
        let helper = script(&env, name, body);
        env.write_rtok_settings(&format!(
            "[registry.\"{}\"]\ncredential-command = [\"{}\"]\n",
            mock.url(),
            helper.display()
        ));
        let run = env.rtok().args(["whoami", "--registry", &mock.url()]).run();
        assert_error(&run, 1, needle);
        assert!(mock.requests().is_empty(), "{name}: nothing was sent");
    }
}

/// Probe #2 (r07): the user's registry A, and a cloned project whose
/// `.npmrc` gives `${NODE_AUTH_TOKEN}` to host B. Through `rtok exec` the real
/// npm must not send A's token to B: the variable stays unset, and a note
/// names the line and the other host.
#[test]
fn a_project_that_sends_node_auth_token_elsewhere_does_not_get_it() {
    let user_registry = MockRegistry::start(|_| Reply::json(404, json!({"error": "not found"})));
    let other = MockRegistry::start(|_| Reply::json(404, json!({"error": "not found"})));
    let env = TestEnv::new();
    let secret = "USER-SECRET-TOKEN-1234567890";
    env.register_secret(secret);
    env.write_userconfig(&format!(
        "registry={}\n{}:_authToken={secret}\n",
        user_registry.url(),
        user_registry.nerf_dart()
    ));
    std::fs::write(
        env.project.join("package.json"),
        r#"{"name":"victim-app","version":"1.0.0"}"#,
    )
    .expect("package.json");
    std::fs::write(
        env.project.join(".npmrc"),
        format!(
            "@acme:registry={}\n{}:_authToken=${{NODE_AUTH_TOKEN}}\n",
            other.url(),
            other.nerf_dart()
        ),
    )
    .expect("project .npmrc");
    let npm = npm_path().display().to_string();
    let run = quiet_npm(env.rtok())
        .env("npm_config_cache", env.root.join("npm-cache"))
        .args(["exec", "--", &npm, "view", "@acme/widget", "version"])
        .arg("--fetch-retries=0")
        .run();
    let sent: Vec<String> = other
        .requests()
        .iter()
        .filter_map(|r| r.header("authorization").map(str::to_string))
        .collect();
    assert!(
        !sent.iter().any(|auth| auth.contains(secret)),
        "B received the user's token: {sent:?}"
    );
    let note = run
        .stderr_lines()
        .into_iter()
        .find(|l| l.contains("`NODE_AUTH_TOKEN` is left unset"))
        .unwrap_or_else(|| panic!("{}", run.describe("a note on NODE_AUTH_TOKEN")));
    assert!(
        note.contains(".npmrc:2") && note.contains(&other.nerf_dart()),
        "{note}"
    );

    // The same for yarn: the home .yarnrc.yml gives YARN_NPM_AUTH_TOKEN to B.
    std::fs::remove_file(env.project.join(".npmrc")).expect("rm");
    std::fs::write(
        env.home.join(".yarnrc.yml"),
        format!(
            "npmScopes:\n  acme:\n    npmRegistryServer: \"{}\"\n    npmAuthToken: \"${{YARN_NPM_AUTH_TOKEN}}\"\n",
            other.url()
        ),
    )
    .expect("yarnrc");
    let run = env
        .rtok()
        .args(["exec", "--", "env"])
        .run_allowing(&[secret]);
    run.success();
    let vars = child_environment(&run);
    assert_eq!(value(&vars, "YARN_NPM_AUTH_TOKEN"), None);
    assert_eq!(value(&vars, "NODE_AUTH_TOKEN"), Some(secret));
    assert!(
        run.stderr.contains("`YARN_NPM_AUTH_TOKEN` is left unset")
            && run.stderr.contains(".yarnrc.yml:4"),
        "{}",
        run.describe("the yarn note")
    );
}

/// A reference on a line that is no registry's credential names no host, so
/// the variable stays unset; setup-node's own layout (the reference names the
/// configured registry) still gets it.
#[test]
fn node_auth_token_is_set_only_for_references_to_the_configured_registry() {
    let env = TestEnv::new();
    let secret = "npm_setupnode0123456789";
    env.register_secret(secret);
    // The token in a variable npm reads (above the project's line, which
    // names the unset `${NODE_AUTH_TOKEN}`).
    env.write_userconfig("registry=https://registry.example/\n");
    let print = [
        "exec",
        "--",
        "sh",
        "-c",
        "printf '%s|' \"$NODE_AUTH_TOKEN\"",
    ];
    let token_var = "npm_config_//registry.example/:_authToken";

    std::fs::write(
        env.project.join(".npmrc"),
        "//registry.example/:_authToken=${NODE_AUTH_TOKEN}\n",
    )
    .expect("setup-node's .npmrc");
    let run = env
        .rtok()
        .env(token_var, secret)
        .args(print)
        .run_allowing(&[secret]);
    run.success();
    assert_eq!(run.stdout, format!("{secret}|"));
    assert!(
        !run.stderr.contains("left unset"),
        "{}",
        run.describe("no note")
    );

    std::fs::write(
        env.project.join(".npmrc"),
        "//registry.example/:_authToken=${NODE_AUTH_TOKEN}\n@x:registry=https://x.example/${NODE_AUTH_TOKEN}/\n",
    )
    .expect("a reference in a URL");
    let run = env.rtok().env(token_var, secret).args(print).run();
    run.success();
    assert_eq!(run.stdout, "|");
    assert!(
        run.stderr.contains("is left unset for the command: ")
            && run
                .stderr
                .contains(".npmrc:2 refers to it other than as a registry's credential"),
        "{}",
        run.describe("the note")
    );
}

/// A project `.yarnrc.yml` that gives `${NODE_AUTH_TOKEN}` to the configured
/// registry for one scope and, with the very same value on a later line, to
/// another host for a second scope: the variable stays unset and the note
/// names the second line and that host (a text search would name the first).
#[test]
fn the_yarn_note_names_the_exact_line_that_sends_the_token_elsewhere() {
    let env = TestEnv::new();
    let secret = "npm_yarnscopes0123456789";
    env.register_secret(secret);
    env.write_userconfig("registry=https://registry.example/\n");
    std::fs::write(
        env.project.join(".yarnrc.yml"),
        "npmScopes:\n  a:\n    npmRegistryServer: \"https://registry.example\"\n    npmAuthToken: \"${NODE_AUTH_TOKEN}\"\n  b:\n    npmRegistryServer: \"https://other.example\"\n    npmAuthToken: \"${NODE_AUTH_TOKEN}\"\n",
    )
    .expect("project .yarnrc.yml");
    let run = env
        .rtok()
        .env("npm_config_//registry.example/:_authToken", secret)
        .args([
            "exec",
            "--",
            "sh",
            "-c",
            "printf '%s|' \"$NODE_AUTH_TOKEN\"",
        ])
        .run();
    run.success();
    assert_eq!(run.stdout, "|");
    let note = run
        .stderr_lines()
        .into_iter()
        .find(|l| l.contains("`NODE_AUTH_TOKEN` is left unset"))
        .unwrap_or_else(|| panic!("{}", run.describe("a note on NODE_AUTH_TOKEN")));
    assert!(
        note.contains(".yarnrc.yml:7 would send it to //other.example/"),
        "{note}"
    );
}

impl RunAllowing for RtokCmd {
    fn run_allowing(self, secrets: &[&str]) -> Run {
        secrets
            .iter()
            .fold(self, |cmd, secret| cmd.allow_secret(secret))
            .run()
    }
}

trait RunAllowing {
    /// `run`, allowing these registered secrets in the output.
    fn run_allowing(self, secrets: &[&str]) -> Run;
}
