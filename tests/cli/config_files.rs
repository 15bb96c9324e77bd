//! How rtok writes config files: symlinks, modes, parallel writers, crashes.

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

#[test]
fn a_crash_between_write_and_rename_leaves_the_old_file() {
    require_test_hooks();
    let mock = legacy_login_registry("crash-token".into());
    let env = TestEnv::new();
    let original = "# precious\r\nkeep=me\r\n";
    env.write_userconfig(original);
    let mut child = raw_rtok(&env)
        .args([
            "login",
            "--auth-type",
            "legacy",
            "--registry",
            &mock.url(),
            "--username",
            "u",
            "--password-stdin",
        ])
        .env("RTOK_TEST_PAUSE_BEFORE_RENAME", "20000")
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
    // Wait until the new file is written next to the old one, then kill.
    let deadline = Instant::now() + Duration::from_secs(20);
    let temporary = loop {
        let found = std::fs::read_dir(&env.home)
            .expect("list home")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(".npmrc.rtok-"))
            });
        // Created empty first, then written: wait for the content.
        if let Some(path) =
            found.filter(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains("crash-token")))
        {
            break path;
        }
        assert!(
            Instant::now() < deadline,
            "rtok never wrote its temporary file"
        );
        assert!(
            child.try_wait().expect("poll").is_none(),
            "rtok exited before the pause"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(temporary.exists());
    child.kill().expect("kill");
    child.wait().expect("reap");
    assert_eq!(
        env.read_userconfig(),
        original,
        "the old file must survive a crash"
    );
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
