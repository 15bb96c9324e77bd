//! How rtok writes config files: symlinks, owners and modes, parallel
//! writers, crashes, and files that are not regular files.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::*;

fn legacy_login_registry(token: String) -> MockRegistry {
    MockRegistry::start(move |req| match (req.method.as_str(), req.path_only()) {
        ("POST", "/-/v1/login") => Reply::text(404, "no web login"),
        ("PUT", _) => Reply::json(201, json!({"token": token})),
        ("GET", "/-/whoami") => Reply::json(200, json!({"username": "u"})),
        _ => Reply::json(404, json!({})),
    })
}

fn login(env: &TestEnv, registry: &str) -> RtokCmd {
    env.rtok()
        .args([
            "login",
            "--auth-type",
            "legacy",
            "--registry",
            registry,
            "--username",
            "u",
            "--password-stdin",
        ])
        .stdin("pw")
}

#[test]
fn a_symlinked_npmrc_stays_a_symlink_and_its_target_is_written() {
    let mock = legacy_login_registry("linked-token".into());
    let env = TestEnv::new();
    let dotfiles = env.root.join("dotfiles");
    std::fs::create_dir(&dotfiles).expect("mkdir");
    std::fs::write(dotfiles.join("npmrc"), "# managed by my dotfiles\n").expect("write");
    std::os::unix::fs::symlink(dotfiles.join("npmrc"), &env.userconfig).expect("symlink");

    login(&env, &mock.url()).run().success();
    let meta = std::fs::symlink_metadata(&env.userconfig).expect("meta");
    assert!(
        meta.file_type().is_symlink(),
        "the link was replaced by a file"
    );
    let text = std::fs::read_to_string(dotfiles.join("npmrc")).expect("read");
    assert!(
        text.starts_with("# managed by my dotfiles\n") && text.contains(":_authToken=linked-token"),
        "{text}"
    );
}

#[test]
fn twenty_parallel_logins_keep_all_twenty_credentials() {
    let registries: Vec<MockRegistry> = (0..20)
        .map(|i| legacy_login_registry(format!("token-{i:02}")))
        .collect();
    let env = TestEnv::new();
    env.write_userconfig("# shared by twenty logins\n");
    std::thread::scope(|scope| {
        let handles: Vec<_> = registries
            .iter()
            .map(|registry| {
                let env = &env;
                scope.spawn(move || login(env, &registry.url()).run())
            })
            .collect();
        for handle in handles {
            handle.join().expect("login thread").success();
        }
    });
    let text = env.read_userconfig();
    assert!(text.starts_with("# shared by twenty logins\n"));
    for (i, registry) in registries.iter().enumerate() {
        let line = format!("{}:_authToken=token-{i:02}", registry.nerf_dart());
        assert!(text.contains(&line), "lost {line}:\n{text}");
    }
    assert_eq!(text.lines().count(), 21);
}

/// Starts a login that pauses between writing the new content and giving
/// it the file's name, and returns once it is in that pause.
fn login_paused_before_rename(env: &TestEnv, registry: &str) -> std::process::Child {
    let marker = env.root.join("paused");
    let mut child = raw_rtok(env)
        .args([
            "login",
            "--auth-type",
            "legacy",
            "--registry",
            registry,
            "--username",
            "u",
            "--password-stdin",
        ])
        .env("HOME", &env.home)
        .env("NPM_CONFIG_GLOBALCONFIG", &env.globalconfig)
        .env("RTOK_TEST_PAUSE_BEFORE_RENAME", "20000")
        .env("RTOK_TEST_PAUSED_MARKER", &marker)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn rtok");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(b"pw").expect("write the password");
    }
    // The hook creates the marker when the pause starts.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !marker.exists() {
        assert!(Instant::now() < deadline, "rtok never reached the pause");
        assert!(
            child.try_wait().expect("poll").is_none(),
            "rtok exited before the pause"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

fn rtok_temporaries(folder: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(folder)
        .expect("list the folder")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains(".rtok-"))
        .collect()
}

#[test]
fn a_crash_between_write_and_rename_leaves_the_old_file() {
    require_test_hooks();
    let mock = legacy_login_registry("crash-token".into());
    let env = TestEnv::new();
    let original = "# precious\r\nkeep=me\r\n";
    env.write_userconfig(original);
    let mut child = login_paused_before_rename(&env, &mock.url());
    child.kill().expect("kill");
    child.wait().expect("reap");
    assert_eq!(
        env.read_userconfig(),
        original,
        "the old file must survive a crash"
    );
}

#[test]
fn a_killed_write_leaves_no_temporary_file_behind() {
    require_test_hooks();
    let mock = legacy_login_registry("killed-token".into());
    let env = TestEnv::new();
    env.write_userconfig("# mine\n");
    let mut child = login_paused_before_rename(&env, &mock.url());
    // The new content, token included, is complete at this point.
    child.kill().expect("kill");
    child.wait().expect("reap");
    assert_eq!(rtok_temporaries(&env.home), Vec::<String>::new());
    // The next write leaves nothing either.
    login(&env, &mock.url()).run().success();
    assert_eq!(rtok_temporaries(&env.home), Vec::<String>::new());
    assert!(env.read_userconfig().contains(":_authToken=killed-token"));
}

#[test]
fn a_stale_temporary_file_of_rtok_is_removed_by_the_next_write() {
    // What an rtok killed on a system without O_TMPFILE left, an hour ago.
    let mock = legacy_login_registry("stale-token".into());
    let env = TestEnv::new();
    env.write_userconfig("# mine\n");
    let stale = env.home.join(".npmrc.rtok-AbC123.tmp");
    let fresh = env.home.join(".npmrc.rtok-DeF456.tmp");
    let other = env.home.join(".bashrc.rtok-GhI789.tmp");
    for path in [&stale, &fresh, &other] {
        std::fs::write(path, "//old/:_authToken=leftover\n").expect("write");
    }
    let hour_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
    for path in [&stale, &other] {
        std::fs::File::options()
            .write(true)
            .open(path)
            .and_then(|f| f.set_modified(hour_ago))
            .expect("age the file");
    }
    login(&env, &mock.url()).run().success();
    assert!(!stale.exists(), "the stale temporary file stayed");
    assert!(fresh.exists(), "a fresh one may be another writer's");
    assert!(other.exists(), "only the written file's temporaries go");
}

#[test]
fn a_rewritten_file_keeps_its_owner_and_group() {
    // `sudo rtok login` with HOME kept: the user's file stays the user's.
    let mock = legacy_login_registry("owner-token".into());
    let env = TestEnv::new();
    env.write_userconfig("; my file\n");
    use std::os::unix::fs::MetadataExt;
    if std::fs::metadata(&env.home).expect("meta").uid() != 0 {
        eprintln!("skipped: only root can give a file to another user");
        return;
    }
    std::os::unix::fs::chown(&env.userconfig, Some(65534), Some(65534)).expect("chown");
    login(&env, &mock.url()).run().success();
    let meta = std::fs::metadata(&env.userconfig).expect("meta");
    assert_eq!((meta.uid(), meta.gid()), (65534, 65534));
    assert!(env.read_userconfig().contains(":_authToken=owner-token"));
}

#[test]
fn a_shared_global_npmrc_keeps_its_mode_after_logout_removes_its_token() {
    let mock = MockRegistry::start(|req| match req.method.as_str() {
        "GET" => Reply::json(200, json!({"username": "u"})),
        _ => Reply::json(200, json!({})),
    });
    let env = TestEnv::new();
    let global = &env.globalconfig;
    std::fs::create_dir_all(global.parent().expect("folder")).expect("mkdir");
    std::fs::write(
        global,
        format!(
            "; site-wide settings\nregistry={}\nstrict-ssl=true\n{}:_authToken=global-token\n",
            mock.url(),
            mock.nerf_dart()
        ),
    )
    .expect("write");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(global, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    env.rtok().arg("logout").run().success();
    let text = std::fs::read_to_string(global).expect("read");
    assert!(!text.contains("_authToken"), "{text}");
    let mode = std::fs::metadata(global)
        .expect("meta")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o644, "other users lost the shared file");
}

#[test]
fn a_file_without_a_secret_keeps_its_mode_when_rtok_settings_are_written() {
    // rtok's settings never hold a secret: a 0644 config.toml stays 0644.
    let env = TestEnv::new();
    env.write_rtok_settings(
        "# mine\n[registry.\"https://a.example/\"]\ncredential-command = [\"x\"]\n",
    );
    let path = env.rtok_settings();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let keyring = PrivateKeyring::start(&env);
    env.register_secret("settings-mode-token");
    env.write_userconfig("//127.0.0.1:9/:_authToken=settings-mode-token\n");
    keyring
        .apply(
            env.rtok()
                .args(["keyring", "import", "--registry", "http://127.0.0.1:9/"]),
        )
        .run()
        .success();
    assert!(
        std::fs::read_to_string(&path)
            .expect("read")
            .contains("storage = \"keyring\"")
    );
    let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
    assert_eq!(mode & 0o777, 0o644);
}

#[test]
fn a_world_readable_file_becomes_private_on_write() {
    let mock = legacy_login_registry("mode-token".into());
    let env = TestEnv::new();
    env.write_userconfig("a=1\n");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&env.userconfig, std::fs::Permissions::from_mode(0o644))
        .expect("chmod");
    login(&env, &mock.url()).run().success();
    let mode = std::fs::metadata(&env.userconfig)
        .expect("meta")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn a_fifo_or_a_device_as_the_user_config_is_refused_not_read() {
    let env = TestEnv::new();
    let fifo = env.root.join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("run mkfifo");
    assert!(made.success());
    for (path, kind) in [
        (fifo.as_path(), "a FIFO"),
        (std::path::Path::new("/dev/zero"), "a device"),
    ] {
        for args in [&["whoami"][..], &["logout"][..]] {
            let run = env
                .rtok()
                .args(args)
                .arg("--userconfig")
                .arg(path)
                .arg("--registry")
                .arg("http://127.0.0.1:9/")
                .run();
            run.failure(1);
            let lines = run.stderr_lines();
            assert_eq!(lines.len(), 2, "{}", run.stderr);
            assert!(
                lines[0].starts_with("error: ")
                    && lines[0].contains(&path.display().to_string())
                    && lines[0].contains(&format!("is {kind}, not a regular file")),
                "{}",
                run.stderr
            );
            assert!(lines[1].starts_with("hint: ") && lines[1].contains("--userconfig"));
        }
    }
}

#[test]
fn a_folder_as_the_user_config_is_an_error_with_a_hint() {
    let env = TestEnv::new();
    let folder = env.root.join("a-folder");
    std::fs::create_dir(&folder).expect("mkdir");
    let run = env
        .rtok()
        .args(["whoami", "--userconfig"])
        .arg(&folder)
        .run();
    run.failure(1);
    let lines = run.stderr_lines();
    assert_eq!(lines.len(), 2, "{}", run.stderr);
    assert!(
        lines[0].contains("is a folder, not a regular file"),
        "{}",
        run.stderr
    );
    assert!(lines[1].starts_with("hint: ") && lines[1].contains("--userconfig"));
}

#[test]
fn an_inline_registry_table_takes_keyring_logins_and_imports() {
    let mock = legacy_login_registry("inline-login-token".into());
    let env = TestEnv::new();
    let keyring = PrivateKeyring::start(&env);
    env.register_secret("inline-login-token");
    env.register_secret("inline-import-token");
    let settings = "storage = \"file\"   # mine\nregistry = { \"https://npm.example.com/\" = { credential-command = [\"gh\", \"auth\", \"token\"] } }\n";
    env.write_rtok_settings(settings);

    let run = keyring
        .apply(login(&env, &mock.url()).args(["--storage", "keyring"]))
        .run();
    run.success();
    assert_eq!(
        keyring.secret_tool_lookup(&mock.nerf_dart()).as_deref(),
        Some("inline-login-token")
    );
    env.write_userconfig("//127.0.0.1:9/:_authToken=inline-import-token\n");
    keyring
        .apply(
            env.rtok()
                .args(["keyring", "import", "--registry", "http://127.0.0.1:9/"]),
        )
        .run()
        .success();
    let text = std::fs::read_to_string(env.rtok_settings()).expect("read");
    assert!(text.starts_with("storage = \"file\"   # mine\n"), "{text}");
    assert!(
        text.contains(
            "\"https://npm.example.com/\" = { credential-command = [\"gh\", \"auth\", \"token\"] }"
        ),
        "{text}"
    );
    // Both records are read back: status sees both tokens in the keyring.
    let run = keyring
        .apply(
            env.rtok()
                .args(["keyring", "export", "--registry", "http://127.0.0.1:9/"]),
        )
        .run();
    run.success();
    assert!(env.read_userconfig().contains("inline-import-token"));
    let text = std::fs::read_to_string(env.rtok_settings()).expect("read");
    assert!(
        text.contains(&format!("\"{}\" = {{ storage = \"keyring\" }}", mock.url())),
        "{text}"
    );
    assert!(!text.contains("127.0.0.1:9/"), "{text}");
}

#[test]
fn a_keyring_round_trip_keeps_crlf_and_the_users_own_table() {
    let env = TestEnv::new();
    let keyring = PrivateKeyring::start(&env);
    env.register_secret("tok-r17-secret-1");
    for text in [
        "storage = \"file\"\r\n# crlf comment\r\n[registry.\"https://a.example/\"]\r\ncredential-command = [\"x\"]\r\n",
        "[registry.\"http://127.0.0.1:18161\"]\n# keep this note\nstorage = \"file\"   # was file\n",
        "# machine settings\n\n[registry.\"https://b.example/\"]\ncredential-command = [\"x\"]\n",
    ] {
        env.write_rtok_settings(text);
        env.write_userconfig("//127.0.0.1:18161/:_authToken=tok-r17-secret-1\n");
        for step in ["import", "export"] {
            keyring
                .apply(
                    env.rtok()
                        .args(["keyring", step, "--registry", "http://127.0.0.1:18161/"]),
                )
                .run()
                .success();
        }
        assert_eq!(
            std::fs::read_to_string(env.rtok_settings()).expect("read"),
            text
        );
        assert!(env.read_userconfig().contains("tok-r17-secret-1"));
    }
}

#[test]
fn dev_null_as_a_config_file_reads_as_empty() {
    // `NPM_CONFIG_GLOBALCONFIG=/dev/null` is how npm users and CI switch a
    // layer off; the null device is no regular file, but npm reads it as an
    // empty one, and so does rtok (other devices stay refused).
    let env = TestEnv::new();
    let run = env
        .rtok()
        .args(["whoami", "--registry", "http://127.0.0.1:9/"])
        .env("NPM_CONFIG_GLOBALCONFIG", "/dev/null")
        .env("NPM_CONFIG_USERCONFIG", "/dev/null")
        .run();
    assert_error(&run, 4, "not logged in");
}
