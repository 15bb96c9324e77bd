//! rtok as npm users get it: the launcher package and this platform's binary
//! package made by `scripts/package-npm`, installed by the real npm from the
//! tarballs (offline, scripts ignored) and run globally and through
//! `npm exec`; what the packages declare; the launcher's error without its
//! binary, and its pass-through of arguments, stdin, exit codes and signals
//! (checked with a stand-in binary, a shell script).

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::support::*;

/// The two tarballs `scripts/package-npm` printed.
struct Tarballs {
    launcher: PathBuf,
    platform: PathBuf,
}

/// The packages around the test build of rtok (stripped of its debug info,
/// as the release binary is, so packing takes seconds), made once per test
/// process in cargo's temporary directory for tests.
fn real_packages() -> &'static Tarballs {
    static PACKED: OnceLock<Tarballs> = OnceLock::new();
    PACKED.get_or_init(|| {
        let dir = fresh_dir("npm-real");
        let binary = dir.join("rtok");
        let status = Command::new("strip")
            .arg("-o")
            .arg(&binary)
            .arg(env!("CARGO_BIN_EXE_rtok"))
            .status()
            .unwrap_or_else(|e| {
                panic!("could not run `strip`: {e}: install binutils (Debian: apt-get install binutils)")
            });
        assert!(status.success(), "strip {}: {status}", env!("CARGO_BIN_EXE_rtok"));
        package_npm(&binary, &dir.join("out"))
    })
}

/// A stand-in for the binary: `args` prints each argument as `<arg>`,
/// `stdin` copies stdin to stdout, `exit N` exits N, `signal SIG` kills
/// itself with SIG, `wait` says `ready` and waits to be sent SIGTERM.
const STAND_IN: &str = r#"#!/bin/sh
case "$1" in
    args) shift; for a in "$@"; do printf '<%s>\n' "$a"; done ;;
    stdin) cat ;;
    exit) exit "$2" ;;
    signal) kill -"$2" $$ ;;
    wait)
        trap 'echo got-term; kill "$sleeper"; exit 7' TERM
        sleep 60 &
        sleeper=$!
        echo ready
        wait "$sleeper"
        ;;
esac
"#;

/// The packages around `STAND_IN`, made once per test process.
fn stand_in_packages() -> &'static Tarballs {
    static PACKED: OnceLock<Tarballs> = OnceLock::new();
    PACKED.get_or_init(|| {
        let dir = fresh_dir("npm-stand-in");
        let binary = dir.join("rtok");
        std::fs::write(&binary, STAND_IN).expect("write the stand-in binary");
        package_npm(&binary, &dir.join("out"))
    })
}

/// `<cargo's test tmp dir>/<name>`, emptied (what the last run left there
/// goes now, so runs do not pile up tarballs).
fn fresh_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    dir
}

/// Runs `scripts/package-npm --binary <binary> --out <out>`; its two paths.
fn package_npm(binary: &Path, out: &Path) -> Tarballs {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/package-npm");
    let output = Command::new(&script)
        .arg("--binary")
        .arg(binary)
        .arg("--out")
        .arg(out)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "could not run {}: {e} (it needs Node.js 20+ and npm 11)",
                script.display()
            )
        });
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "scripts/package-npm failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    let paths: Vec<PathBuf> = stdout.lines().map(PathBuf::from).collect();
    assert_eq!(
        paths.len(),
        2,
        "two tarball paths on stdout, got:\n{stdout}"
    );
    for path in &paths {
        assert!(path.is_file(), "{} is not a file", path.display());
        assert!(
            path.starts_with(out),
            "{} is not under --out",
            path.display()
        );
    }
    Tarballs {
        launcher: paths[0].clone(),
        platform: paths[1].clone(),
    }
}

/// This machine as the platform packages name it, and as the launcher
/// describes it in its error.
fn this_platform() -> (&'static str, &'static str) {
    let musl = std::fs::read_to_string("/usr/bin/ldd").is_ok_and(|ldd| ldd.contains("musl"));
    match (std::env::consts::OS, std::env::consts::ARCH, musl) {
        ("linux", "x86_64", false) => ("linux-x64-gnu", "linux x64 glibc"),
        ("linux", "x86_64", true) => ("linux-x64-musl", "linux x64 musl"),
        ("linux", "aarch64", false) => ("linux-arm64-gnu", "linux arm64 glibc"),
        ("macos", "x86_64", _) => ("darwin-x64", "darwin x64"),
        ("macos", "aarch64", _) => ("darwin-arm64", "darwin arm64"),
        other => panic!("no rtok npm package for {other:?}"),
    }
}

/// `npm install -g --prefix <root>/global --ignore-scripts --offline` of
/// `tarballs` (plus `extra` flags); the prefix. Offline: the launcher's
/// optional dependencies for other platforms are not fetched, and nothing
/// reaches the network.
fn install_global(env: &TestEnv, tarballs: &[&Path], extra: &[&str]) -> PathBuf {
    let prefix = env.root.join("global");
    env.npm()
        .args(["install", "--global", "--prefix"])
        .arg(&prefix)
        .args(["--ignore-scripts", "--offline"])
        .args(extra)
        .args(tarballs)
        .run()
        .success();
    prefix
}

/// A package.json inside a tarball, parsed.
fn packed_manifest(tarball: &Path) -> serde_json::Value {
    let output = Command::new("tar")
        .arg("-xzOf")
        .arg(tarball)
        .arg("package/package.json")
        .output()
        .unwrap_or_else(|e| panic!("could not run tar: {e}"));
    assert!(
        output.status.success(),
        "tar -xzOf {}: {}",
        tarball.display(),
        output.status
    );
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("package.json of {} is not JSON: {e}", tarball.display()))
}

/// The file names inside a tarball.
fn packed_files(tarball: &Path) -> Vec<String> {
    let output = Command::new("tar")
        .arg("-tzf")
        .arg(tarball)
        .output()
        .unwrap_or_else(|e| panic!("could not run tar: {e}"));
    assert!(
        output.status.success(),
        "tar -tzf {}: {}",
        tarball.display(),
        output.status
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn global_install_from_the_tarballs_runs_rtok() {
    let packages = real_packages();
    let reg = shared();
    let user = reg.new_user("npmglobal");
    let env = TestEnv::new();
    env.register_secret(&user.token);
    env.register_secret(&user.password);
    env.write_userconfig(&reg.npmrc_for(&user));
    let prefix = install_global(&env, &[&packages.launcher, &packages.platform], &[]);

    // npm put this platform's package beside the launcher, and no other.
    let (key, _) = this_platform();
    let scope = prefix.join("lib/node_modules/@rtok");
    let mut installed: Vec<String> = std::fs::read_dir(&scope)
        .unwrap_or_else(|e| panic!("read {}: {e}", scope.display()))
        .map(|entry| {
            entry
                .expect("a directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    installed.sort();
    assert_eq!(installed, [format!("cli-{key}")]);

    let rtok = prefix.join("bin/rtok");
    let direct = env.rtok().arg("--version").run();
    direct.success();
    let shimmed = env.command(&rtok).arg("--version").run();
    shimmed.success();
    assert_eq!(shimmed.stdout, direct.stdout);
    assert_eq!(
        shimmed.stdout,
        format!("rtok {}\n", env!("CARGO_PKG_VERSION"))
    );

    let run = env.command(&rtok).arg("whoami").run();
    run.success();
    assert_eq!(run.stdout, format!("{}\n", user.name));
    assert!(
        run.stderr.is_empty(),
        "{}",
        run.describe("nothing on stderr")
    );

    // An error comes out as the binary says it, with its exit code.
    let anonymous = TestEnv::new();
    let run = anonymous
        .command(&rtok)
        .args(["--registry", &reg.url, "whoami"])
        .run();
    let direct = anonymous
        .rtok()
        .args(["--registry", &reg.url, "whoami"])
        .run();
    direct.failure(4);
    run.failure(4);
    assert_eq!(run.stderr, direct.stderr);
}

#[test]
fn npm_exec_runs_rtok_from_the_tarballs() {
    let packages = real_packages();
    let reg = shared();
    let user = reg.new_user("npmexec");
    let env = TestEnv::new();
    env.register_secret(&user.token);
    env.register_secret(&user.password);
    env.write_userconfig(&reg.npmrc_for(&user));
    let run = env
        .npm()
        .args(["exec", "--yes", "--offline", "--package"])
        .arg(&packages.launcher)
        .arg("--package")
        .arg(&packages.platform)
        .args(["--", "rtok", "whoami", "--json"])
        .run();
    run.success();
    assert_eq!(run.json(), json!(user.name));
}

#[test]
fn neither_package_declares_an_install_script() {
    let packages = real_packages();
    let version = env!("CARGO_PKG_VERSION");
    for tarball in [&packages.launcher, &packages.platform] {
        let manifest = packed_manifest(tarball);
        for script in ["preinstall", "install", "postinstall"] {
            assert!(
                manifest["scripts"].get(script).is_none(),
                "{} declares a `{script}` script: {manifest:#}",
                tarball.display()
            );
        }
        // npm runs `node-gyp rebuild` at install time for a package holding
        // a binding.gyp, script or not.
        let files = packed_files(tarball);
        assert!(
            !files.iter().any(|f| f.ends_with("binding.gyp")),
            "{} holds a binding.gyp: {files:?}",
            tarball.display()
        );
        assert_eq!(manifest["version"], version, "{}", tarball.display());
    }

    let launcher = packed_manifest(&packages.launcher);
    assert_eq!(launcher["name"], "rtok");
    assert_eq!(launcher["bin"], json!({"rtok": "bin/rtok.js"}));
    let platforms = [
        "linux-x64-gnu",
        "linux-x64-musl",
        "linux-arm64-gnu",
        "darwin-x64",
        "darwin-arm64",
        "win32-x64",
    ];
    let expected: serde_json::Map<String, serde_json::Value> = platforms
        .iter()
        .map(|p| (format!("@rtok/cli-{p}"), json!(version)))
        .collect();
    assert_eq!(
        launcher["optionalDependencies"],
        serde_json::Value::Object(expected)
    );
    assert!(launcher.get("dependencies").is_none(), "{launcher:#}");

    let (key, _) = this_platform();
    let platform = packed_manifest(&packages.platform);
    assert_eq!(platform["name"], format!("@rtok/cli-{key}"));
    let (os, cpu) = (key.split('-').next(), key.split('-').nth(1));
    assert_eq!(platform["os"], json!([os]));
    assert_eq!(platform["cpu"], json!([cpu]));
    let libc = match key {
        k if k.ends_with("-gnu") => json!(["glibc"]),
        k if k.ends_with("-musl") => json!(["musl"]),
        _ => serde_json::Value::Null,
    };
    assert_eq!(platform["libc"], libc);
    // No `bin`: only the launcher puts `rtok` on PATH.
    assert!(platform.get("bin").is_none(), "{platform:#}");
    assert!(
        packed_files(&packages.platform).contains(&"package/bin/rtok".to_owned()),
        "the binary is packed"
    );
}

#[test]
fn the_launcher_names_the_platform_when_its_binary_package_is_missing() {
    let packages = stand_in_packages();
    let env = TestEnv::new();
    // What `npm install -g rtok --omit=optional` leaves.
    let prefix = install_global(&env, &[&packages.launcher], &["--omit=optional"]);
    let (key, words) = this_platform();
    let run = env.command(prefix.join("bin/rtok")).arg("--version").run();
    assert_error(
        &run,
        1,
        &format!(
            "the rtok binary for this platform ({words}) is missing: the package @rtok/cli-{key} is not installed"
        ),
    );
    assert!(
        run.stderr
            .contains("hint: reinstall rtok with its optional dependencies")
    );
}

#[test]
fn the_launcher_passes_arguments_stdin_and_exit_codes_through() {
    let packages = stand_in_packages();
    let env = TestEnv::new();
    let prefix = install_global(&env, &[&packages.launcher, &packages.platform], &[]);
    let rtok = prefix.join("bin/rtok");

    let args = [
        "two words",
        "",
        "--",
        "-v",
        "naïve",
        "quote'\"",
        "$HOME",
        "*",
    ];
    let run = env.command(&rtok).arg("args").args(args).run();
    run.success();
    let expected: String = args.iter().map(|a| format!("<{a}>\n")).collect();
    assert_eq!(run.stdout, expected);

    let input = "line one\nline two, no newline at the end";
    let run = env.command(&rtok).arg("stdin").stdin(input).run();
    run.success();
    assert_eq!(run.stdout, input);

    for code in ["0", "1", "2", "4", "42"] {
        let run = env.command(&rtok).args(["exit", code]).run();
        assert_eq!(
            run.code.to_string(),
            code,
            "{}",
            run.describe(&format!("exit {code}"))
        );
        assert!(
            run.stderr.is_empty(),
            "{}",
            run.describe("nothing on stderr")
        );
    }
}

#[test]
fn a_binary_killed_by_a_signal_kills_the_launcher_with_it() {
    let packages = stand_in_packages();
    let env = TestEnv::new();
    let prefix = install_global(&env, &[&packages.launcher, &packages.platform], &[]);
    let rtok = prefix.join("bin/rtok");
    for (name, number) in [("TERM", 15), ("HUP", 1), ("KILL", 9)] {
        let run = env.command(&rtok).args(["signal", name]).run();
        assert_eq!(
            run.signal,
            Some(number),
            "{}",
            run.describe(&format!("killed by SIG{name}"))
        );
    }
}

#[test]
fn the_launcher_passes_sigterm_on_to_the_binary() {
    let packages = stand_in_packages();
    let env = TestEnv::new();
    let prefix = install_global(&env, &[&packages.launcher, &packages.platform], &[]);
    let mut child = Command::new(prefix.join("bin/rtok"))
        .arg("wait")
        .env("HOME", &env.home)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the launcher");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
    let mut line = String::new();
    stdout
        .read_line(&mut line)
        .expect("read the stand-in's first line");
    assert_eq!(line, "ready\n");

    // SIGTERM to the launcher only (not its process group), as `kill PID`
    // or a service manager sends it.
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -TERM {}: {status}", child.id());

    let deadline = Instant::now() + DEFAULT_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the launcher") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the launcher did not exit after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).expect("read the rest of stdout");
    // The stand-in saw the signal (its trap ran) and its exit code came back.
    assert_eq!(rest, "got-term\n");
    assert_eq!((status.code(), status.signal()), (Some(7), None));
}

#[test]
fn the_readme_installs_what_exists_today_first() {
    // Issue 17: the Install section sent new users to `npm install -g
    // rtok`, `cargo install rtok` and a releases page, none published yet
    // (404). The first command it shows must be one that works from a
    // clone; the published ways come after, marked as not available yet.
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("read README.md");
    let install = readme
        .split("\n## Install\n")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("an Install section");
    let first_command = install
        .lines()
        .skip_while(|line| !line.starts_with("```sh"))
        .nth(1)
        .expect("a command block");
    assert!(
        first_command.starts_with("git clone"),
        "the first install command is `{first_command}`"
    );
    let published = install
        .find("npm install -g rtok\n")
        .expect("the npm way is still described");
    let marked = install
        .find("not available yet")
        .expect("the published ways are marked");
    let from_clone = install
        .find("cargo install --path .")
        .expect("cargo install --path .");
    assert!(from_clone < marked && marked < published, "{install}");
}
