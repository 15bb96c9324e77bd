//! A user `.npmrc` that is not UTF-8 (a Latin-1 comment, a stray byte):
//! `rtok login` and `rtok logout` edit it byte for byte, and npm still reads
//! what rtok wrote.

use crate::support::*;

#[test]
fn login_and_logout_keep_every_byte_of_a_file_that_is_not_utf8() {
    let reg = shared();
    let user = reg.new_user("bytes");
    let env = TestEnv::new();
    env.register_secret(&user.token);
    env.register_secret(&user.password);
    // Entries first, then a comment: the new line goes after the last entry.
    let head = [
        b"# caf\xe9, written by a Latin-1 editor\n".as_slice(),
        format!("registry={}\n", reg.url).as_bytes(),
        b"init-author-name=Ren\xe9 \xff\n",
    ]
    .concat();
    let tail = b"; end \xfe\n".as_slice();
    let original = [head.as_slice(), tail].concat();
    assert!(std::str::from_utf8(&original).is_err());
    std::fs::write(&env.userconfig, &original).expect("write the user config");

    let run = env
        .rtok()
        .args([
            "login",
            "--auth-type",
            "legacy",
            "--username",
            &user.name,
            "--password-stdin",
        ])
        .stdin(format!("{}\n", user.password))
        .run();
    run.success();

    // The original bytes, plus one line: the new token.
    let saved = std::fs::read(&env.userconfig).expect("read the user config");
    assert!(
        saved.starts_with(&head) && saved.ends_with(tail),
        "{:?}",
        String::from_utf8_lossy(&saved)
    );
    let added = &saved[head.len()..saved.len() - tail.len()];
    let line = std::str::from_utf8(added).expect("the new line is UTF-8");
    let token = line
        .strip_prefix(&format!("{}:_authToken=", reg.nerf_dart()))
        .and_then(|rest| rest.strip_suffix('\n'))
        .unwrap_or_else(|| panic!("not a token line: {line:?}"));
    assert!(!token.is_empty() && !token.contains(['\r', '\n']));
    env.register_secret(token);
    assert_eq!(reg.whoami(token).as_deref(), Some(user.name.as_str()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&env.userconfig)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // npm reads the file too, stray bytes and all.
    let npm = env.npm().arg("whoami").run();
    npm.success();
    assert_eq!(npm.stdout.trim(), user.name);

    // Logging out gives the original bytes back, exactly.
    let run = env.rtok().arg("logout").run();
    run.success();
    assert_eq!(
        std::fs::read(&env.userconfig).expect("read the user config"),
        original
    );
}

#[test]
fn a_rotate_rollback_restores_every_byte() {
    // The new token is saved, does not work, and the rollback puts the
    // file back as it was, stray bytes and all.
    let session = "npm_SessionTokenInUseAbCdEfGhIjKlMnOpQr0005";
    let registry = TokenRegistry::start(session, Vec::new());
    registry.refuse_new_tokens();
    let env = TestEnv::new();
    env.register_secret(session);
    let original = [
        b"# caf\xe9\n".as_slice(),
        npmrc_for_mock(&registry.url(), session).as_bytes(),
        b"init-author-name=Ren\xe9 \xff\n",
    ]
    .concat();
    std::fs::write(&env.userconfig, &original).expect("write the user config");
    let run = env
        .rtok()
        .args(["token", "rotate", "current", "--password-stdin"])
        .stdin(PASSWORD)
        .run();
    assert_error(&run, 1, "the new token does not work");
    assert!(
        run.stderr.contains("restored") && run.stderr.contains("rolled back"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read(&env.userconfig).expect("read the user config"),
        original
    );
    assert_eq!(registry.keys(), vec!["session-key-0001".to_string()]);
}
