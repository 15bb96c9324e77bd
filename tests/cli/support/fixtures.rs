//! Small building blocks the command tests share: npmrc text for a mock,
//! and the shape every error must have.

use super::env::Run;

/// A userconfig that points at a mock registry with `token`, and retries
/// quickly so fault tests do not wait for npm's default back-off.
pub fn npmrc_for_mock(url: &str, token: &str) -> String {
    let nerf = url.trim_start_matches("http:");
    format!(
        "registry={url}\n{nerf}:_authToken={token}\nfetch-retry-mintimeout=10\nfetch-retry-maxtimeout=50\n"
    )
}

/// Asserts the error contract: exit `code`, nothing on stdout, stderr is one
/// `error:` line (containing `needle`) and at most one `hint:` line after
/// it, and no panic.
#[track_caller]
pub fn assert_error(run: &Run, code: i32, needle: &str) {
    run.failure(code);
    assert!(
        run.stdout.is_empty(),
        "{}",
        run.describe("nothing on stdout")
    );
    let lines: Vec<&str> = run
        .stderr_lines()
        .into_iter()
        .filter(|l| !l.starts_with("warning: ") && !l.starts_with("http "))
        .collect();
    assert!(!lines.is_empty(), "{}", run.describe("an error line"));
    assert!(
        lines[0].starts_with("error: "),
        "{}",
        run.describe("stderr to start with `error: `")
    );
    assert!(
        lines[0].contains(needle),
        "{}",
        run.describe(&format!("the error to mention `{needle}`"))
    );
    assert!(
        lines.len() <= 2,
        "{}",
        run.describe("one error line and at most one hint line")
    );
    if let Some(second) = lines.get(1) {
        assert!(
            second.starts_with("hint: "),
            "{}",
            run.describe("a `hint: ` line after the error")
        );
    }
    assert!(
        !run.stderr.contains("panicked"),
        "{}",
        run.describe("no panic")
    );
    assert!(
        !run.stderr.contains("internal error"),
        "{}",
        run.describe("no internal error")
    );
}

/// The `hint:` line of an error run.
#[track_caller]
pub fn hint(run: &Run) -> String {
    run.stderr_lines()
        .into_iter()
        .find(|l| l.starts_with("hint: "))
        .unwrap_or_else(|| panic!("{}", run.describe("a `hint:` line")))
        .to_string()
}

/// A `std::process::Command` for rtok with the same isolation as
/// `TestEnv::rtok()`, for tests that drive it through a pseudo-terminal or
/// need to signal it.
pub fn raw_rtok(env: &super::env::TestEnv) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_rtok"));
    for (name, _) in std::env::vars_os() {
        if super::env::is_removed_var(&name) {
            command.env_remove(&name);
        }
    }
    command
        .env("HOME", &env.home)
        .env("NO_COLOR", "1")
        .env("NPM_CONFIG_GLOBALCONFIG", &env.globalconfig)
        .current_dir(&env.project);
    command
}

/// Fails (never skips) a test that needs rtok's test hooks when the binary
/// was built without them.
#[track_caller]
pub fn require_test_hooks() {
    if !cfg!(feature = "test-hooks") {
        panic!(
            "this test needs rtok's test hooks: run `scripts/test` (or `cargo test --features test-hooks`)"
        );
    }
}

/// Every file under `root` and its bytes, to check that a command wrote
/// nothing (compare before and after).
pub fn file_tree(
    root: &std::path::Path,
) -> std::collections::BTreeMap<std::path::PathBuf, Vec<u8>> {
    fn walk(
        dir: &std::path::Path,
        out: &mut std::collections::BTreeMap<std::path::PathBuf, Vec<u8>>,
    ) {
        let entries =
            std::fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display()));
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                let bytes = std::fs::read(&path).unwrap_or_default();
                out.insert(path, bytes);
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    walk(root, &mut out);
    out
}
