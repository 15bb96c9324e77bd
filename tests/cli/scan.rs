//! `rtok scan`: credentials found in generated trees and real git
//! repositories, lookalikes left alone, SARIF valid against the schema, and
//! `--verify` / `--revoke` against mock registries (a registry named only by
//! a scanned file never hears from rtok).

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::support::scan::{
    Git, configure_hostile, fake_token, marker_script, sarif_errors, write,
};
use crate::support::*;

/// The findings of a `--format json` run as (file, line, column, kind).
fn locations(run: &Run) -> Vec<(String, u64, u64, String)> {
    findings(run)
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap_or_default().to_string(),
                f["line"].as_u64().unwrap_or_default(),
                f["column"].as_u64().unwrap_or_default(),
                f["kind"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn findings(run: &Run) -> Vec<Value> {
    run.json()["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", run.describe("a findings array")))
        .clone()
}

fn mask(token: &str) -> String {
    format!("{}...{}", &token[..8], &token[token.len() - 4..])
}

#[test]
fn finds_tokens_and_config_literals_and_leaves_lookalikes_alone() {
    let env = TestEnv::new();
    let root = env.project.join("tree");
    let (t1, t2, t3, t4) = (fake_token(1), fake_token(2), fake_token(3), fake_token(4));
    let basic = "YWxpY2U6czNjcjN0LXBhc3N3b3Jk"; // alice:s3cr3t-password
    let uuid = "0f9c2a4e-8d7b-4c1a-9e6f-3b2d1a0c9e8f";
    for secret in [&t1, &t2, &t3, &t4, basic, uuid] {
        env.register_secret(secret);
    }
    write(
        &root,
        "src/config.js",
        format!("// config\nconst token = \"{t1}\";\n"),
    );
    write(
        &root,
        ".npmrc",
        format!(
            "registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken={t2}\n//npm.example.com/:_authToken=${{NPM_TOKEN}}\n//npm.example.com/:_auth=\"{basic}\"\n_authToken={uuid}\n"
        ),
    );
    write(
        &root,
        "deep/app/.yarnrc.yml",
        format!("npmRegistries:\n  \"https://npm.example.com\":\n    npmAuthToken: {t3}\n"),
    );
    write(
        &root,
        "Dockerfile",
        format!("RUN echo \"//registry.npmjs.org/:_authToken={t4}\" > .npmrc\n"),
    );
    // Lookalikes: one character short, one long, inside words, variables,
    // placeholders, masks, and a line marked to be ignored.
    let short = &t1[..t1.len() - 1];
    write(
        &root,
        "lookalikes.txt",
        format!(
            "{short}\n{t1}Z\n{t1}_x\nx{t1}\nMY_{t1}\nprocess.env.npm_token\nnpm_config_registry\n\
             npm_{}\n{} rtok:ignore\n//registry.npmjs.org/:_authToken=npm_abcd...wxyz\n\
             //registry.npmjs.org/:_authToken=$NPM_TOKEN\n_password=${{NPM_PASSWORD}}\n",
            "X".repeat(36),
            fake_token(9)
        ),
    );
    env.register_secret(&fake_token(9));
    // Bare keys count only in npmrc files.
    write(&root, "notes.ini", "_authToken=not-an-npmrc-file\n");

    let run = env.rtok().args(["scan", "tree", "--format", "json"]).run();
    run.failure(1);
    assert_eq!(
        locations(&run),
        vec![
            (".npmrc".into(), 2, 34, "npmrc-auth-token".into()),
            (".npmrc".into(), 4, 27, "npmrc-auth".into()),
            (".npmrc".into(), 5, 12, "npmrc-auth-token".into()),
            ("Dockerfile".into(), 1, 44, "npmrc-auth-token".into()),
            (
                "deep/app/.yarnrc.yml".into(),
                3,
                19,
                "yarnrc-auth-token".into()
            ),
            ("src/config.js".into(), 2, 16, "npm-token".into()),
        ]
        .into_iter()
        .map(|(f, l, c, k): (String, u64, u64, String)| (format!("tree/{f}"), l, c, k))
        .collect::<Vec<_>>()
    );
    let all = findings(&run);
    let first = &all[0];
    assert_eq!(first["registry"], "//registry.npmjs.org/");
    assert_eq!(first["masked"], mask(&t2));
    assert_eq!(first["commit"], Value::Null);
    assert_eq!(first["status"], Value::Null);
    assert_eq!(all[1]["registry"], "//npm.example.com/");
    assert_eq!(all[2]["registry"], Value::Null);
    assert_eq!(all[4]["registry"], "//npm.example.com/");
    let fingerprint = first["fingerprint"].as_str().unwrap_or_default();
    assert_eq!(fingerprint.len(), 12);
    assert!(fingerprint.chars().all(|c| c.is_ascii_hexdigit()));
    let prints: BTreeSet<&str> = all
        .iter()
        .filter_map(|f| f["fingerprint"].as_str())
        .collect();
    assert_eq!(prints.len(), 6, "six different secrets, six fingerprints");
    assert!(
        run.stderr
            .contains("found 6 npm credentials (6 distinct secrets) in 4 files"),
        "{}",
        run.stderr
    );
}

#[test]
fn one_secret_in_two_places_has_one_fingerprint() {
    let env = TestEnv::new();
    let token = fake_token(11);
    env.register_secret(&token);
    write(&env.project, "a/.env", format!("NPM_TOKEN={token}\n"));
    write(
        &env.project,
        "b/.npmrc",
        format!("//registry.npmjs.org/:_authToken={token}\n"),
    );
    let run = env.rtok().args(["scan", "--json"]).run();
    run.failure(1);
    let all = findings(&run);
    assert_eq!(all.len(), 2);
    assert_eq!(all[0]["kind"], "npm-token");
    assert_eq!(all[1]["kind"], "npmrc-auth-token");
    assert_eq!(all[0]["fingerprint"], all[1]["fingerprint"]);
    assert!(
        run.stderr.contains("(1 distinct secret) in 2 files"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_clean_tree_exits_0_without_any_npm_config() {
    let env = TestEnv::without_package_json();
    write(
        &env.project,
        "index.js",
        "console.log(process.env.npm_token)\n",
    );
    let run = env.rtok().arg("scan").run();
    run.success();
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains("No npm credentials found."),
        "{}",
        run.stderr
    );
    assert!(!env.userconfig.exists(), "scanning never writes a config");
    let json = env.rtok().args(["scan", "--format", "json"]).run();
    json.success();
    assert_eq!(json.json(), json!({"findings": []}));
}

#[test]
fn gitignored_folders_are_skipped_dotfiles_are_scanned_and_dot_git_is_not() {
    let env = TestEnv::new();
    let repo = env.project.join("repo");
    Git::init(&repo);
    let (ignored, dotfile, in_git, plain) = (
        fake_token(21),
        fake_token(22),
        fake_token(23),
        fake_token(24),
    );
    for secret in [&ignored, &dotfile, &in_git, &plain] {
        env.register_secret(secret);
    }
    write(&repo, ".gitignore", "node_modules/\n*.log\n");
    write(
        &repo,
        "node_modules/pkg/index.js",
        format!("x = '{ignored}'\n"),
    );
    write(&repo, "debug.log", format!("{ignored}\n"));
    write(
        &repo,
        ".config/.env.local",
        format!("NPM_TOKEN={dotfile}\n"),
    );
    write(&repo, ".git/description", format!("{in_git}\n"));
    write(&repo, "src/app.ts", format!("const t = '{plain}'\n"));
    let run = env.rtok().args(["scan", "repo", "--json"]).run();
    run.failure(1);
    let files: Vec<String> = locations(&run).into_iter().map(|l| l.0).collect();
    assert_eq!(files, vec!["repo/.config/.env.local", "repo/src/app.ts"]);

    // Outside a git repository, .gitignore means nothing (as for ripgrep).
    let loose = env.project.join("loose");
    write(&loose, ".gitignore", "node_modules/\n");
    write(&loose, "node_modules/x.js", format!("{ignored}\n"));
    let run = env.rtok().args(["scan", "loose", "--json"]).run();
    assert_eq!(locations(&run).len(), 1);
}

#[test]
fn binary_files_are_skipped_and_latin1_files_are_scanned() {
    let env = TestEnv::new();
    let (binary, latin) = (fake_token(31), fake_token(32));
    env.register_secret(&binary);
    env.register_secret(&latin);
    let mut elf = b"\x7fELF\x02\x01\x01\x00\x00\x00".to_vec();
    elf.extend_from_slice(binary.as_bytes());
    write(&env.project, "bin/tool", elf);
    // "Clé d'accès: <token>" in Latin-1: not UTF-8 at all.
    let mut text = b"# r\xe9glages\nCl\xe9 d'acc\xe8s: ".to_vec();
    text.extend_from_slice(latin.as_bytes());
    text.extend_from_slice(b"\n\xff\xfe fin\n");
    write(&env.project, "docs/notes-latin1.txt", text);
    let run = env.rtok().args(["scan", "--json"]).run();
    run.failure(1);
    assert_eq!(
        locations(&run),
        vec![(
            "docs/notes-latin1.txt".to_string(),
            2,
            14,
            "npm-token".to_string()
        )]
    );
    assert_eq!(findings(&run)[0]["masked"], mask(&latin));
}

#[test]
fn a_symlink_loop_and_an_unreadable_file_do_not_stop_the_scan() {
    let env = TestEnv::new();
    let token = fake_token(41);
    let hidden = fake_token(42);
    env.register_secret(&token);
    env.register_secret(&hidden);
    let tree = env.project.join("tree");
    write(&tree, "ok.env", format!("T={token}\n"));
    std::os::unix::fs::symlink("b", tree.join("a")).expect("symlink a -> b");
    std::os::unix::fs::symlink("a", tree.join("b")).expect("symlink b -> a");
    std::os::unix::fs::symlink(".", tree.join("self")).expect("symlink self -> .");
    let secret_file = write(&tree, "locked.env", format!("T={hidden}\n"));
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&secret_file, std::fs::Permissions::from_mode(0o000))
        .expect("chmod 000");

    // As root every file is readable, so read as an unprivileged user.
    let run = if is_root() {
        for dir in [&env.root, &env.project, &env.home, &tree] {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        env.command("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(env!("CARGO_BIN_EXE_rtok"))
            .args(["scan", "tree", "--json"])
            .run()
    } else {
        env.rtok().args(["scan", "tree", "--json"]).run()
    };
    run.failure(1);
    assert_eq!(
        locations(&run),
        vec![("tree/ok.env".to_string(), 1, 3, "npm-token".to_string())]
    );
    let warnings: Vec<&str> = run
        .stderr_lines()
        .into_iter()
        .filter(|l| l.starts_with("warning: "))
        .collect();
    assert_eq!(warnings.len(), 1, "{}", run.stderr);
    assert!(warnings[0].contains("tree/locked.env"), "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);

    // A symlink loop named on the command line cannot be scanned: usage.
    let run = env.rtok().args(["scan", "tree/a"]).run();
    assert_error(&run, 2, "cannot scan `tree/a`");
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

#[test]
fn a_missing_path_is_a_usage_error() {
    let env = TestEnv::new();
    write(&env.project, "fine.txt", "nothing here\n");
    let run = env.rtok().args(["scan", "fine.txt", "no/such/dir"]).run();
    assert_error(&run, 2, "cannot scan `no/such/dir`: no such file or folder");
}

#[test]
fn git_history_finds_committed_then_deleted_secrets_once_per_blob() {
    let env = TestEnv::new();
    let repo = env.project.join("repo");
    let git = Git::init(&repo);
    let (old, branch_only, moved) = (fake_token(51), fake_token(52), fake_token(53));
    for secret in [&old, &branch_only, &moved] {
        env.register_secret(secret);
    }
    write(&repo, "README.md", "# app\n");
    write(
        &repo,
        "config/.npmrc",
        format!("//registry.npmjs.org/:_authToken={old}\n"),
    );
    let added = git.commit_all("add config");
    std::fs::remove_file(repo.join("config/.npmrc")).expect("rm");
    git.commit_all("remove the leaked token");
    // The same content under two names is one blob: read once, one finding.
    write(&repo, "a.env", format!("T={moved}\n"));
    write(&repo, "b.env", format!("T={moved}\n"));
    let both = git.commit_all("two copies");
    git.run(&["checkout", "-q", "-b", "feature"]);
    write(&repo, "feature.js", format!("const t = '{branch_only}'\n"));
    let feature = git.commit_all("on a branch");
    git.run(&["checkout", "-q", "main"]);
    // Binary blobs in history are skipped too.
    write(
        &repo,
        "image.bin",
        [b"\x00\x01".as_slice(), old.as_bytes()].concat(),
    );
    git.commit_all("binary");

    let run = env
        .rtok()
        .args(["scan", "--git-history", "--format", "json"])
        .current_dir("repo")
        .run();
    run.failure(1);
    let all = findings(&run);
    let got: Vec<(String, String, String)> = all
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap_or_default().to_string(),
                f["commit"].as_str().unwrap_or_default().to_string(),
                f["kind"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(got.contains(&(
        "config/.npmrc".into(),
        added.clone(),
        "npmrc-auth-token".into()
    )));
    assert!(got.contains(&("feature.js".into(), feature, "npm-token".into())));
    assert!(
        got.iter()
            .any(|(file, commit, _)| (file == "a.env" || file == "b.env") && *commit == both),
        "{got:?}"
    );
    // Nothing is in the working tree any more except the two copies.
    let files = env.rtok().args(["scan", "repo", "--json"]).run();
    assert_eq!(locations(&files).len(), 2);

    // From outside the repository, paths are shown from where rtok runs.
    let outside = env
        .rtok()
        .args(["scan", "--git-history", "repo", "--json"])
        .run();
    let shown: BTreeSet<String> = locations(&outside).into_iter().map(|l| l.0).collect();
    assert!(shown.contains("repo/config/.npmrc"), "{shown:?}");
}

#[test]
fn staged_scans_only_what_is_staged() {
    let env = TestEnv::new();
    let repo = env.project.join("repo");
    let git = Git::init(&repo);
    let (committed, staged, unstaged) = (fake_token(61), fake_token(62), fake_token(63));
    for secret in [&committed, &staged, &unstaged] {
        env.register_secret(secret);
    }
    write(&repo, "old.env", format!("T={committed}\n"));
    git.commit_all("old");
    // Nothing staged: clean, even though a committed file holds a secret.
    let run = env
        .rtok()
        .args(["scan", "--staged"])
        .current_dir("repo")
        .run();
    run.success();

    write(&repo, "new.env", format!("T={staged}\n"));
    git.run(&["add", "new.env"]);
    // The working copy no longer holds it, but the index does.
    write(&repo, "new.env", "T=${NPM_TOKEN}\n");
    write(&repo, "untracked.env", format!("T={unstaged}\n"));
    let run = env
        .rtok()
        .args(["scan", "--staged", "--json"])
        .current_dir("repo")
        .run();
    run.failure(1);
    assert_eq!(
        locations(&run),
        vec![("new.env".to_string(), 1, 3, "npm-token".to_string())]
    );
    assert_eq!(findings(&run)[0]["commit"], Value::Null);
}

#[test]
fn staged_works_before_the_first_commit() {
    let env = TestEnv::new();
    let repo = env.project.join("fresh");
    let git = Git::init(&repo);
    let token = fake_token(64);
    env.register_secret(&token);
    write(
        &repo,
        ".npmrc",
        format!("//registry.npmjs.org/:_authToken={token}\n"),
    );
    git.run(&["add", ".npmrc"]);
    let run = env
        .rtok()
        .args(["scan", "--staged", "fresh", "--json"])
        .run();
    run.failure(1);
    assert_eq!(locations(&run)[0].0, "fresh/.npmrc");
}

/// Probe #8 (r10): a repository handed over as a tarball carries its own
/// `.git/config`. Whatever it names (a signature verifier with
/// `log.showSignature`, `core.fsmonitor`, filters and diff drivers for every
/// file, hooks, a pager, a promisor remote that is a command) never runs,
/// and the secrets are still found.
#[test]
fn git_modes_run_nothing_the_scanned_repository_configures() {
    let env = TestEnv::new();
    let repo = env.project.join("handed-over");
    let git = Git::init(&repo);
    let marker = env.project.join("PWNED");
    let program = marker_script(&env.project, &marker);
    let (committed, staged) = (fake_token(131), fake_token(132));
    for secret in [&committed, &staged] {
        env.register_secret(secret);
    }
    write(&repo, ".gitattributes", "* filter=evil diff=evil\n");
    write(
        &repo,
        "config/.npmrc",
        format!("//registry.npmjs.org/:_authToken={committed}\n"),
    );
    let first = git.commit_all("one");
    // A commit with a (fake) signature, which `log.showSignature` verifies.
    let tree = git.run(&["write-tree"]);
    let signed = git.run_with_input(
        &["hash-object", "-t", "commit", "-w", "--stdin"],
        format!(
            "tree {}\nparent {first}\nauthor a <a@b> 1700000000 +0000\n\
             committer a <a@b> 1700000000 +0000\n\
             gpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEz\n -----END PGP SIGNATURE-----\n\nsigned\n",
            tree.trim()
        )
        .as_bytes(),
    );
    git.run(&["update-ref", "refs/heads/signed", signed.trim()]);
    // Objects a partial clone lacks, in history and in the index: git
    // would fetch them from the promisor remote.
    write(&repo, "lost.txt", "lost in history\n");
    git.commit_all("two");
    git.remove_object(git.run(&["rev-parse", "HEAD:lost.txt"]).trim());
    write(&repo, "gone.txt", "lost from the index\n");
    write(&repo, "staged.env", format!("T={staged}\n"));
    git.run(&["add", "gone.txt", "staged.env"]);
    git.remove_object(git.run(&["rev-parse", ":gone.txt"]).trim());
    configure_hostile(&git, &program);
    assert!(!marker.exists(), "the set-up itself ran the program");

    let history = env
        .rtok()
        .args(["scan", "--git-history", "handed-over", "--json"])
        .run();
    assert!(
        !marker.exists(),
        "--git-history ran {}",
        std::fs::read_to_string(&marker).unwrap_or_default()
    );
    history.failure(1);
    assert_eq!(
        locations(&history),
        vec![(
            "handed-over/config/.npmrc".to_string(),
            1,
            34,
            "npmrc-auth-token".to_string()
        )]
    );
    assert_eq!(findings(&history)[0]["commit"], first.as_str());

    let index = env
        .rtok()
        .args(["scan", "--staged", "handed-over", "--json"])
        .run();
    assert!(
        !marker.exists(),
        "--staged ran {}",
        std::fs::read_to_string(&marker).unwrap_or_default()
    );
    index.failure(1);
    assert_eq!(
        locations(&index),
        vec![(
            "handed-over/staged.env".to_string(),
            1,
            3,
            "npm-token".to_string()
        )]
    );
}

/// `doctor` asks git whether a project's `.npmrc` is tracked: a cloned
/// project's config runs nothing then either.
#[test]
fn doctor_asks_git_without_running_what_the_project_configures() {
    let mock = MockRegistry::start(|req| match req.path_only() {
        "/-/whoami" => Reply::json(200, serde_json::json!({"username": "dev"})),
        _ => Reply::json(404, serde_json::json!({"error": "not found"})),
    });
    let env = TestEnv::new();
    let token = "literal-project-token-2468";
    env.register_secret(token);
    env.write_userconfig(&format!("registry={}\n", mock.url()));
    let git = Git::init(&env.project);
    let marker = env.root.join("PWNED");
    let program = marker_script(&env.root, &marker);
    {
        use std::os::unix::fs::PermissionsExt;
        let rc = write(
            &env.project,
            ".npmrc",
            format!("{}:_authToken={token}\n", mock.nerf_dart()),
        );
        std::fs::set_permissions(&rc, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    git.run(&["add", ".npmrc"]);
    configure_hostile(&git, &program);

    let run = env.rtok().args(["doctor", "--json"]).run();
    assert!(
        !marker.exists(),
        "doctor ran {}",
        std::fs::read_to_string(&marker).unwrap_or_default()
    );
    run.failure(1);
    assert!(
        run.json()["findings"]
            .as_array()
            .is_some_and(|all| all.iter().any(|f| f["code"] == "literal-token-in-git")),
        "{}",
        run.describe("a literal-token-in-git finding")
    );
}

#[test]
fn git_modes_outside_a_repository_are_usage_errors() {
    let env = TestEnv::new();
    write(&env.project, "plain/file.txt", "x\n");
    for flag in ["--git-history", "--staged"] {
        let run = env.rtok().args(["scan", flag, "plain"]).run();
        assert_error(&run, 2, "is not in a git repository");
    }
    let run = env.rtok().args(["scan", "--git-history", "--staged"]).run();
    run.failure(2);
}

#[test]
fn a_broken_repository_is_an_error_naming_it() {
    let env = TestEnv::new();
    let repo = env.project.join("broken");
    let git = Git::init(&repo);
    write(&repo, "f.txt", "hello\n");
    git.commit_all("one");
    // Corrupt every loose object: git can no longer read the history.
    for entry in walk_files(&repo.join(".git/objects")) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        std::fs::write(&entry, b"garbage").expect("corrupt");
    }
    let run = env.rtok().args(["scan", "--git-history", "broken"]).run();
    run.failure(1);
    let errors: Vec<&str> = run
        .stderr_lines()
        .into_iter()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 1, "{}", run.stderr);
    assert!(errors[0].contains("broken"), "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    // Probe #19: and a hint for what to do about it.
    assert!(
        run.stderr_lines()
            .iter()
            .any(|l| l.starts_with("hint: ") && l.contains("git fsck")),
        "{}",
        run.describe("a hint naming `git fsck`")
    );
}

fn walk_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk_files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn sarif_output_is_valid_sarif_2_1_0() {
    let env = TestEnv::new();
    let (a, b) = (fake_token(71), fake_token(72));
    env.register_secret(&a);
    env.register_secret(&b);
    write(
        &env.project,
        "dir with space/app.js",
        format!("const t = '{a}'\n"),
    );
    write(
        &env.project,
        ".npmrc",
        format!("//registry.npmjs.org/:_authToken={b}\n"),
    );
    let run = env.rtok().args(["scan", "--format", "sarif"]).run();
    run.failure(1);
    let log = run.json();
    let errors = sarif_errors(&log);
    assert!(errors.is_empty(), "not valid SARIF 2.1.0:\n{errors}");
    assert_eq!(log["version"], "2.1.0");
    let run0 = &log["runs"][0];
    let rules: Vec<&str> = run0["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert_eq!(
        rules,
        [
            "npm-token",
            "npmrc-auth-token",
            "npmrc-auth",
            "npmrc-password",
            "yarnrc-auth-token"
        ]
    );
    let results = run0["results"].as_array().expect("results");
    assert_eq!(results.len(), 2);
    let npmrc = &results[0];
    assert_eq!(npmrc["ruleId"], "npmrc-auth-token");
    assert_eq!(npmrc["ruleIndex"], 1);
    let location = &npmrc["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], ".npmrc");
    assert_eq!(location["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    assert_eq!(location["region"]["startLine"], 1);
    assert_eq!(location["region"]["startColumn"], 34);
    assert_eq!(location["region"]["endColumn"], 74);
    assert_eq!(
        results[1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "dir%20with%20space/app.js"
    );
    assert!(
        run0["originalUriBaseIds"]["%SRCROOT%"]["uri"]
            .as_str()
            .is_some_and(|u| u.starts_with("file:///") && u.ends_with("/project/")),
        "{}",
        run0["originalUriBaseIds"]
    );
    // An empty scan is a valid log too.
    let clean = TestEnv::new();
    let run = clean.rtok().args(["scan", "--format", "sarif"]).run();
    run.success();
    assert!(sarif_errors(&run.json()).is_empty());
}

/// Probe #19: a file name that is not UTF-8 is located exactly: JSON keeps
/// the readable `file` and adds its bytes, SARIF percent-encodes them, in
/// the files and in git history alike.
#[test]
fn names_that_are_not_utf8_are_located_exactly() {
    use std::os::unix::ffi::OsStrExt;
    let env = TestEnv::new();
    let token = fake_token(141);
    env.register_secret(&token);
    let repo = env.project.join("repo");
    let git = Git::init(&repo);
    let name = std::ffi::OsStr::from_bytes(b"bad\xffutf8.txt");
    std::fs::write(repo.join(name), format!("T={token}\n")).expect("write");
    // Other content: history reads each blob once.
    write(&repo, "good.txt", format!("G={token}\n"));
    let commit = git.commit_all("names");

    let bytes = |v: &Value| -> Option<Vec<u8>> {
        v.as_array().map(|a| {
            a.iter()
                .map(|b| u8::try_from(b.as_u64().expect("a byte")).expect("a byte"))
                .collect()
        })
    };
    for mode in [None, Some("--git-history")] {
        let mut args = vec!["scan", "repo", "--json"];
        args.extend(mode);
        let run = env.rtok().args(&args).run();
        run.failure(1);
        let found = findings(&run);
        assert_eq!(found.len(), 2, "{mode:?}: {}", run.stdout);
        assert_eq!(found[0]["file"], "repo/bad\u{FFFD}utf8.txt", "{mode:?}");
        assert_eq!(
            bytes(&found[0]["file_bytes"]).as_deref(),
            Some(&b"repo/bad\xffutf8.txt"[..]),
            "{mode:?}"
        );
        // A UTF-8 name is exact as text: no bytes.
        assert_eq!(found[1]["file"], "repo/good.txt", "{mode:?}");
        assert_eq!(found[1]["file_bytes"], Value::Null, "{mode:?}");
        if mode.is_some() {
            assert_eq!(found[0]["commit"], commit.as_str());
        }

        let mut args = vec!["scan", "repo", "--format", "sarif"];
        args.extend(mode);
        let run = env.rtok().args(&args).run();
        run.failure(1);
        let log = run.json();
        assert!(sarif_errors(&log).is_empty(), "{}", sarif_errors(&log));
        let uris: Vec<&str> = log["runs"][0]["results"]
            .as_array()
            .expect("results")
            .iter()
            .filter_map(|r| {
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str()
            })
            .collect();
        assert_eq!(uris, ["repo/bad%FFutf8.txt", "repo/good.txt"], "{mode:?}");
    }
}

#[test]
fn the_schema_check_is_real() {
    // A log missing `runs`, and a result with a line number of 0, fail.
    assert!(!sarif_errors(&json!({"version": "2.1.0"})).is_empty());
    let bad = json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}},
        "results": [{"message": {"text": "m"}, "locations": [{"physicalLocation":
        {"artifactLocation": {"uri": "a"}, "region": {"startLine": 0}}}]}]}]});
    assert!(!sarif_errors(&bad).is_empty());
}

/// A registry that knows `live` as user `alice`, answers 401 for anything
/// else, lists `listed` as the user's own token (key `key-listed`), and
/// accepts deletes.
fn registry(live: Vec<String>, listed: Option<String>) -> MockRegistry {
    MockRegistry::start(move |req| {
        let bearer = req.bearer().unwrap_or_default().to_string();
        match (req.method.as_str(), req.path_only()) {
            ("GET", "/-/whoami") if live.contains(&bearer) => {
                Reply::json(200, json!({"username": "alice"}))
            }
            ("GET", "/-/whoami")
                if req.header("authorization") == Some("Basic YWxpY2U6czNjcjN0LXBhc3N3b3Jk") =>
            {
                Reply::json(200, json!({"username": "alice"}))
            }
            ("GET", "/-/npm/v1/tokens") if bearer == "user-own-session-token" => {
                let objects = listed
                    .iter()
                    .map(|t| npm_token("key-listed", &mask(t)))
                    .collect();
                Reply::json(200, token_page(objects, None))
            }
            ("DELETE", _) if !bearer.is_empty() => Reply::json(200, json!({})),
            _ => Reply::json(401, json!({"error": "unauthorized"})),
        }
    })
}

#[test]
fn verify_asks_only_the_users_registries_once_per_secret() {
    let env = TestEnv::new();
    let mine = registry(vec![fake_token(81)], None);
    let theirs = MockRegistry::start(|_| Reply::json(200, json!({"username": "attacker"})));
    let (live, dead, foreign) = (fake_token(81), fake_token(82), fake_token(83));
    let basic = "YWxpY2U6czNjcjN0LXBhc3N3b3Jk";
    for secret in [&live, &dead, &foreign, basic, "user-own-session-token"] {
        env.register_secret(secret);
    }
    env.write_userconfig(&npmrc_for_mock(&mine.url(), "user-own-session-token"));
    let tree = env.project.join("leaks");
    // The live token twice (one request), on a line naming no registry
    // (so the configured one is asked) and on one naming the user's.
    write(&tree, "a.env", format!("T={live}\nD={dead}\n"));
    write(
        &tree,
        "b/.npmrc",
        format!(
            "{}:_authToken={live}\n{}:_auth={basic}\n",
            mine.nerf_dart(),
            mine.nerf_dart()
        ),
    );
    // A registry that only this scanned file names: never contacted.
    write(
        &tree,
        "c/.npmrc",
        format!(
            "{}:_authToken={foreign}\nregistry={}\n",
            theirs.nerf_dart(),
            theirs.url()
        ),
    );

    let run = env
        .rtok()
        .args(["scan", "leaks", "--verify", "--json"])
        .run();
    run.failure(1);
    assert!(
        theirs.requests().is_empty(),
        "the scanned file's registry was contacted"
    );
    let statuses: Vec<(String, String, Value)> = findings(&run)
        .iter()
        .map(|f| {
            (
                format!("{}:{}", f["file"].as_str().unwrap_or_default(), f["line"]),
                f["status"].as_str().unwrap_or_default().to_string(),
                f["user"].clone(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        vec![
            ("leaks/a.env:1".into(), "live".into(), json!("alice")),
            ("leaks/a.env:2".into(), "dead".into(), Value::Null),
            ("leaks/b/.npmrc:1".into(), "live".into(), json!("alice")),
            ("leaks/b/.npmrc:2".into(), "live".into(), json!("alice")),
            ("leaks/c/.npmrc:1".into(), "unknown".into(), Value::Null),
        ]
    );
    let whoamis: Vec<Request> = mine
        .requests()
        .into_iter()
        .filter(|r| r.path_only() == "/-/whoami")
        .collect();
    assert_eq!(
        whoamis.len(),
        3,
        "one per distinct secret: live, dead, basic"
    );
    assert!(
        mine.requests().iter().all(|r| r.method == "GET"),
        "verify revokes nothing"
    );
}

/// Issue 17: `_auth` is read as npm reads it (Node's base64, padding
/// optional), so a value without its `=` is checked with the credentials
/// npm would send, not reported as "not valid base64".
#[test]
fn verify_reads_an_unpadded_auth_as_npm_does() {
    let env = TestEnv::new();
    // `alice:pw` is `YWxpY2U6cHc=`; the file leaves out the padding.
    let (padded, unpadded) = ("YWxpY2U6cHc=", "YWxpY2U6cHc");
    let mock =
        MockRegistry::start(
            move |req| match (req.path_only(), req.header("authorization")) {
                ("/-/whoami", Some(auth)) if auth == format!("Basic {padded}") => {
                    Reply::json(200, json!({"username": "alice"}))
                }
                _ => Reply::json(401, json!({"error": "unauthorized"})),
            },
        );
    for secret in [unpadded, "user-own-session-token"] {
        env.register_secret(secret);
    }
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "user-own-session-token"));
    write(
        &env.project,
        "leaks/.npmrc",
        format!("{}:_auth={unpadded}\n", mock.nerf_dart()),
    );
    let run = env
        .rtok()
        .args(["scan", "leaks", "--verify", "--json"])
        .run();
    run.failure(1);
    let found = findings(&run);
    assert_eq!(found.len(), 1, "{}", run.describe("one finding"));
    assert_eq!(found[0]["kind"], "npmrc-auth");
    assert_eq!(found[0]["status"], "live", "{}", found[0]);
    assert_eq!(found[0]["user"], "alice");
}

#[test]
fn settings_in_scanned_files_are_not_the_users_configuration() {
    let env = TestEnv::new();
    let theirs = MockRegistry::start(|_| Reply::json(200, json!({"username": "attacker"})));
    let token = fake_token(91);
    env.register_secret(&token);
    // The project's own .npmrc (which npm would read here) is being scanned:
    // the registry it names is not trusted with the secrets found.
    write(
        &env.project,
        ".npmrc",
        format!("registry={}\n", theirs.url()),
    );
    write(&env.project, "leak.env", format!("T={token}\n"));
    let run = env.rtok().args(["scan", "--verify", "--json"]).run();
    run.failure(1);
    assert!(
        theirs.requests().is_empty(),
        "a registry named only by scanned files was contacted"
    );
    let all = findings(&run);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["status"], "unknown");
}

#[test]
fn revoke_without_a_terminal_needs_yes_and_sends_nothing() {
    let env = TestEnv::new();
    let mine = registry(vec![fake_token(101)], None);
    let token = fake_token(101);
    env.register_secret(&token);
    env.write_userconfig(&npmrc_for_mock(&mine.url(), "user-own-session-token"));
    env.register_secret("user-own-session-token");
    write(&env.project, "leak.env", format!("T={token}\n"));
    let run = env.rtok().args(["scan", "--revoke"]).run();
    assert_error(&run, 2, "no terminal to confirm");
    assert!(hint(&run).contains("--yes"));
    assert!(mine.requests().is_empty(), "nothing may be sent");
}

#[test]
fn revoke_uses_the_users_token_list_entry_or_else_the_secret_itself() {
    let env = TestEnv::new();
    let (own, other, dead) = (fake_token(111), fake_token(112), fake_token(113));
    let mine = registry(vec![own.clone(), other.clone()], Some(own.clone()));
    for secret in [&own, &other, &dead, "user-own-session-token"] {
        env.register_secret(secret);
    }
    env.write_userconfig(&npmrc_for_mock(&mine.url(), "user-own-session-token"));
    write(
        &env.project,
        "leaks/one.env",
        format!("A={own}\nB={other}\nC={dead}\n"),
    );
    write(&env.project, "leaks/two.env", format!("A={own}\n"));
    let run = env
        .rtok()
        .args(["scan", "leaks", "--revoke", "--yes", "--json", "--verbose"])
        .run();
    run.failure(1);
    let deletes: Vec<Request> = mine
        .requests()
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .collect();
    assert_eq!(
        deletes.len(),
        2,
        "each live secret once, the dead one not at all"
    );
    let by_entry = deletes
        .iter()
        .find(|r| r.path == "/-/npm/v1/tokens/token/key-listed")
        .expect("the user's own token revoked by its entry");
    assert_eq!(by_entry.bearer(), Some("user-own-session-token"));
    let itself = deletes
        .iter()
        .find(|r| r.path == format!("/-/user/token/{other}"))
        .expect("the other token revoked by itself");
    assert_eq!(itself.bearer(), Some(other.as_str()));

    let all = findings(&run);
    let revocation = |i: usize| all[i]["revocation"].clone();
    assert_eq!(revocation(0)["method"], "token-list");
    assert_eq!(revocation(0)["key"], "key-listed");
    assert_eq!(revocation(0)["revoked"], true);
    assert_eq!(revocation(1)["method"], "self");
    assert_eq!(revocation(1)["revoked"], true);
    assert_eq!(revocation(2), Value::Null, "a dead secret is not revoked");
    assert_eq!(
        revocation(3)["method"],
        "token-list",
        "the same secret elsewhere"
    );
    assert!(
        run.stderr.contains(&format!(
            "Revoked {} by your token list entry key-listed.",
            mask(&own)
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("/-/user/token/***"),
        "verbose logs hide the secret in the URL: {}",
        run.stderr
    );
}

#[test]
fn pre_commit_hook_definition_runs_staged() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml");
    let text = std::fs::read_to_string(&path).expect("read .pre-commit-hooks.yaml");
    assert!(text.contains("- id: rtok-scan"), "{text}");
    assert!(text.contains("entry: rtok scan --staged"), "{text}");
    assert!(text.contains("pass_filenames: false"), "{text}");
}

#[test]
fn revoke_on_a_terminal_asks_first_and_no_sends_nothing() {
    let env = TestEnv::new();
    let token = fake_token(121);
    let mine = registry(vec![token.clone()], None);
    env.write_userconfig(&npmrc_for_mock(&mine.url(), "user-own-session-token"));
    write(&env.project, "leak.env", format!("T={token}\n"));
    for (answer, deletes) in [("n", 0), ("y", 1)] {
        let mut command = raw_rtok(&env);
        command.args(["scan", "--revoke"]);
        let mut session =
            rexpect::session::spawn_command(command, Some(30_000)).expect("spawn rtok in a pty");
        let mut seen = session
            .exp_string("Revoke 1 live secret? [y/N] ")
            .expect("the question");
        session.send_line(answer).expect("answer");
        seen += &session.exp_eof().expect("rtok exits");
        assert!(!seen.contains(&token), "the secret was printed: {seen}");
        assert!(seen.contains(&mask(&token)), "{seen}");
        let sent = mine
            .requests()
            .into_iter()
            .filter(|r| r.method == "DELETE")
            .count();
        assert_eq!(sent, deletes, "answer {answer}: {seen}");
    }
}
