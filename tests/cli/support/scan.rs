//! Support for the `rtok scan` tests: token-shaped fake secrets, file trees,
//! real `git` repositories (isolated from the machine's git config), and the
//! vendored SARIF 2.1.0 schema.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A token of npm's shape (`npm_` + 36 base62 characters), different for
/// every `seed`, that no registry ever issued.
pub fn fake_token(seed: u64) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    let mut token = String::from("npm_");
    for _ in 0..36 {
        // xorshift64*: plenty for distinct, varied characters.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        let value = state.wrapping_mul(0x2545_F491_4F6C_DD1D);
        token.push(ALPHABET[(value >> 58) as usize % ALPHABET.len()] as char);
    }
    token
}

/// Writes `contents` to `root/rel`, creating folders.
pub fn write(root: &Path, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let path = root.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .unwrap_or_else(|e| panic!("create {}: {e}", parent.display()));
    }
    std::fs::write(&path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    path
}

/// A real git repository in a folder, driven by the real `git`.
pub struct Git {
    pub dir: PathBuf,
}

impl Git {
    /// `git init` in `dir` (created if needed), with a fixed identity and
    /// none of the machine's or user's git configuration.
    pub fn init(dir: &Path) -> Git {
        std::fs::create_dir_all(dir).expect("create the repository folder");
        let git = Git {
            dir: dir.to_path_buf(),
        };
        git.run(&["init", "-q", "-b", "main"]);
        git
    }

    /// Runs git in the repository; panics with its stderr if it fails.
    pub fn run(&self, args: &[&str]) -> String {
        let output = Command::new("git")
            .arg("-C")
            .arg(&self.dir)
            .args([
                "-c",
                "user.name=rtok tests",
                "-c",
                "user.email=tests@rtok.invalid",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
            .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
            .output()
            .unwrap_or_else(|e| panic!("could not run git (install it: apt-get install git): {e}"));
        assert!(
            output.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Runs git with `input` on its stdin; returns its stdout.
    pub fn run_with_input(&self, args: &[&str], input: &[u8]) -> String {
        use std::io::Write;
        let mut child = Command::new("git")
            .arg("-C")
            .arg(&self.dir)
            .args(args)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("could not run git: {e}"));
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input)
            .expect("write git's stdin");
        let output = child.wait_with_output().expect("wait for git");
        assert!(
            output.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Deletes the loose object `hash`, as a partial clone lacks it.
    pub fn remove_object(&self, hash: &str) {
        let path = self
            .dir
            .join(".git/objects")
            .join(&hash[..2])
            .join(&hash[2..]);
        std::fs::remove_file(&path).unwrap_or_else(|e| panic!("remove {}: {e}", path.display()));
    }

    /// Stages everything and commits; returns the new commit's hash.
    pub fn commit_all(&self, message: &str) -> String {
        self.run(&["add", "-A"]);
        self.run(&["commit", "-q", "--allow-empty", "-m", message]);
        self.run(&["rev-parse", "HEAD"]).trim().to_string()
    }
}

/// A script that appends a line to `marker` each time it runs (and fails):
/// whatever a hostile repository makes git run.
pub fn marker_script(dir: &Path, marker: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let script = dir.join("evil.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"ran: $0 $*\" >> '{}'\nexit 1\n",
            marker.display()
        ),
    )
    .expect("write the marker script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    script
}

/// Writes into `git`'s own `.git/config` every setting known to make git
/// run `program` while it reads the repository: what a repository handed
/// over as a tarball can carry. Call it last: git would obey it from then on.
pub fn configure_hostile(git: &Git, program: &Path) {
    let program = program.to_str().expect("a UTF-8 path");
    let ext = format!("ext::{program} %S");
    let settings: [(&str, &str); 22] = [
        ("log.showSignature", "true"),
        ("gpg.program", program),
        ("gpg.openpgp.program", program),
        ("gpg.ssh.program", program),
        ("gpg.x509.program", program),
        ("core.fsmonitor", program),
        ("core.hooksPath", "hooks"),
        ("core.pager", program),
        ("core.sshCommand", program),
        ("core.askPass", program),
        ("credential.helper", program),
        ("diff.external", program),
        ("diff.evil.command", program),
        ("diff.evil.textconv", program),
        ("filter.evil.clean", program),
        ("filter.evil.smudge", program),
        ("filter.evil.process", program),
        // A partial clone fetches a missing object from its promisor
        // remote: here a command, the `ext` transport allowed.
        ("core.repositoryformatversion", "1"),
        ("extensions.partialClone", "origin"),
        ("remote.origin.promisor", "true"),
        ("remote.origin.url", &ext),
        ("protocol.allow", "always"),
    ];
    for (key, value) in settings {
        git.run(&["config", key, value]);
    }
    git.run(&["config", "protocol.ext.allow", "always"]);
    // Every hook the repository could name, pointing at the program.
    for hook in [
        "post-index-change",
        "post-checkout",
        "pre-commit",
        "reference-transaction",
    ] {
        let path = git.dir.join("hooks").join(hook);
        std::fs::create_dir_all(git.dir.join("hooks")).expect("create hooks");
        std::fs::copy(program, &path).expect("copy the hook");
    }
}

/// The SARIF 2.1.0 schema from `tests/data/sarif/` (see its README),
/// compiled with format checks on.
pub fn sarif_validator() -> jsonschema::Validator {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sarif/sarif-schema-2.1.0.json");
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let mut schema: serde_json::Value = serde_json::from_str(&text).expect("the schema is JSON");
    // The schema's language pattern is not a valid regular expression (an
    // unmatched `]`, see the README): with format checks on, the validator
    // checks the schema's own patterns too, so it is corrected here. rtok
    // writes no `language`, which is all it constrains.
    let fixed = fix_pattern(
        &mut schema,
        "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$",
        "^[a-zA-Z]{2}(-[a-zA-Z]{2})?$",
    );
    assert_eq!(fixed, 2, "run.language and toolComponent.language");
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF schema compiles")
}

/// Every schema error of `value`, one per line (empty when valid).
pub fn sarif_errors(value: &serde_json::Value) -> String {
    let validator = sarif_validator();
    validator
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Replaces every `"pattern": from` in `value`; returns how many.
fn fix_pattern(value: &mut serde_json::Value, from: &str, to: &str) -> usize {
    match value {
        serde_json::Value::Object(map) => {
            let mut count = 0;
            for (key, child) in map.iter_mut() {
                if key == "pattern" && child == from {
                    *child = serde_json::json!(to);
                    count += 1;
                } else {
                    count += fix_pattern(child, from, to);
                }
            }
            count
        }
        serde_json::Value::Array(items) => items.iter_mut().map(|v| fix_pattern(v, from, to)).sum(),
        _ => 0,
    }
}
