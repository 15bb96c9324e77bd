//! The keyring and credential commands as sources every command uses:
//! `login --storage keyring`, then whoami, status, logout and rotate with
//! the token only in a real (private) gnome-keyring; with no keyring,
//! nothing is asked of the registry and nothing is written.

use crate::support::*;

fn legacy_login(env: &TestEnv, user: &User) -> RtokCmd {
    env.rtok()
        .args([
            "login",
            "--auth-type",
            "legacy",
            "--storage",
            "keyring",
            "--username",
            &user.name,
            "--password-stdin",
        ])
        .stdin(user.password.clone())
}

#[test]
fn login_to_the_keyring_then_every_command_uses_it_and_logout_clears_it() {
    let reg = shared();
    let user = reg.new_user("kr-login");
    let env = TestEnv::new();
    let keyring = PrivateKeyring::start(&env);
    env.register_secret(&user.token);
    // An old literal token for the registry, a reference for another one,
    // and lines that must stay byte for byte.
    let original = format!(
        "# mine\r\nregistry={}\r\n{}:_authToken={}\r\n//other.example/:_authToken=${{OTHER}}\r\nsave-exact=true\r\n",
        reg.url,
        reg.nerf_dart(),
        user.token
    );
    env.write_userconfig(&original);

    let run = keyring.apply(legacy_login(&env, &user)).run();
    run.success();
    assert!(
        run.stderr.contains("the token is in the system keyring"),
        "{}",
        run.describe("where the token went")
    );
    let token = keyring
        .secret_tool_lookup(&reg.nerf_dart())
        .expect("the keyring holds the new token");
    env.register_secret(&token);
    assert_ne!(token, user.token, "a fresh login token");
    assert_eq!(
        env.read_userconfig(),
        format!(
            "# mine\r\nregistry={}\r\n//other.example/:_authToken=${{OTHER}}\r\nsave-exact=true\r\n",
            reg.url
        ),
        "only the literal token line went"
    );
    let settings = std::fs::read_to_string(env.rtok_settings()).expect("rtok's settings");
    assert!(
        settings.contains(&format!("[registry.\"{}\"]", reg.url))
            && settings.contains("storage = \"keyring\""),
        "{settings}"
    );
    assert_no_file_contains(&env.root, &token);

    // Every command finds it: whoami, and status names the storage.
    let run = keyring.apply(env.rtok().arg("whoami")).run();
    run.success();
    assert_eq!(run.stdout.trim(), user.name);
    let run = keyring.apply(env.rtok().args(["status", "--json"])).run();
    let rows = run.json();
    let row = rows
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["registry"] == json!(reg.url))
        .unwrap_or_else(|| panic!("{}", run.describe("a row for the registry")));
    assert_eq!(row["source"], "keyring");
    assert_eq!(row["storage"], "keyring");
    assert_eq!(row["user"], json!(user.name));

    // Logout revokes it and clears the item and the record.
    let run = keyring.apply(env.rtok().arg("logout")).run();
    run.success();
    assert!(
        run.stderr
            .contains("removed the token from the system keyring"),
        "{}",
        run.describe("the logout note")
    );
    assert_eq!(keyring.secret_tool_lookup(&reg.nerf_dart()), None);
    let settings = std::fs::read_to_string(env.rtok_settings()).expect("rtok's settings");
    assert!(!settings.contains("keyring"), "{settings}");
    let run = keyring.apply(env.rtok().arg("whoami")).run();
    assert_error(&run, 4, "not logged in");
    assert_no_file_contains(&env.root, &token);
}

#[test]
fn the_storage_setting_makes_keyring_the_default() {
    let reg = shared();
    let user = reg.new_user("kr-default");
    let env = TestEnv::new();
    let keyring = PrivateKeyring::start(&env);
    env.write_userconfig(&format!("registry={}\n", reg.url));
    env.write_rtok_settings("# my rtok settings\nstorage = \"keyring\"\n");
    keyring
        .apply(
            env.rtok()
                .args(["login", "--auth-type", "legacy", "--username", &user.name])
                .arg("--password-stdin")
                .stdin(user.password.clone()),
        )
        .run()
        .success();
    let token = keyring
        .secret_tool_lookup(&reg.nerf_dart())
        .expect("in the keyring");
    env.register_secret(&token);
    assert_eq!(env.read_userconfig(), format!("registry={}\n", reg.url));
    let settings = std::fs::read_to_string(env.rtok_settings()).expect("settings");
    assert!(
        settings.starts_with("# my rtok settings\nstorage = \"keyring\"\n"),
        "the comment and setting kept: {settings}"
    );
    assert_no_file_contains(&env.root, &token);
}

#[test]
fn login_to_a_keyring_that_is_not_there_asks_nothing_and_writes_nothing() {
    let mock = MockRegistry::start(|_| Reply::json(500, json!({"error": "must not be asked"})));
    let env = TestEnv::new();
    let original = format!("registry={}\n", mock.url());
    env.write_userconfig(&original);
    // No bus at all (TestEnv points every run at a bus that does not exist).
    let run = env
        .rtok()
        .args([
            "login",
            "--storage",
            "keyring",
            "--username",
            "u",
            "--password-stdin",
        ])
        .stdin("pw")
        .run();
    assert_error(&run, 1, "the system keyring is not usable");
    assert!(hint(&run).contains("`--storage file`"));
    // A bus without a Secret Service.
    let bus = PrivateKeyring::bus_only(&env);
    let run = bus
        .apply(
            env.rtok()
                .args([
                    "login",
                    "--storage",
                    "keyring",
                    "--username",
                    "u",
                    "--password-stdin",
                ])
                .stdin("pw"),
        )
        .run();
    assert_error(&run, 1, "no Secret Service");
    assert!(mock.requests().is_empty(), "nothing asked of the registry");
    assert_eq!(env.read_userconfig(), original);
    assert!(!env.rtok_settings().exists(), "no settings written");
}

#[test]
fn rotating_the_token_in_use_replaces_it_in_the_keyring() {
    const SESSION: &str = "npm_KeyringSessionTokenAbCdEfGhIjKlMnOp1234";
    let registry = TokenRegistry::start(SESSION, Vec::new());
    let env = TestEnv::new();
    let keyring = PrivateKeyring::start(&env);
    env.register_secret(SESSION);
    env.write_userconfig(&format!("registry={}\n", registry.url()));
    keyring.secret_tool_store(&registry.nerf_dart(), SESSION);
    env.write_rtok_settings(&format!(
        "[registry.\"{}\"]\nstorage = \"keyring\"\n",
        registry.url()
    ));

    let run = keyring
        .apply(
            env.rtok()
                .args(["token", "rotate", "current", "--password-stdin"])
                .stdin(PASSWORD),
        )
        // The stateful mock's first new token; rotate prints it once.
        .allow_secret("npm_Created0001TokenValueAbCdEfGhIjKlMnOpQr0001")
        .run();
    run.success();
    let new_token = run.stdout.trim().to_string();
    assert_eq!(new_token, "npm_Created0001TokenValueAbCdEfGhIjKlMnOpQr0001");
    env.register_secret(&new_token);
    assert!(
        run.stderr.contains("saved it to the system keyring"),
        "{}",
        run.describe("where the new token went")
    );
    assert_eq!(
        keyring.secret_tool_lookup(&registry.nerf_dart()).as_deref(),
        Some(new_token.as_str())
    );
    assert!(
        !registry.keys().contains(&"session-key-0001".to_string()),
        "the old token was revoked"
    );
    assert_eq!(
        env.read_userconfig(),
        format!("registry={}\n", registry.url())
    );
    assert_no_file_contains(&env.root, &new_token);
}

#[test]
fn status_names_a_credential_command() {
    let mock = MockRegistry::start(|req| match req.bearer() {
        Some("npm_FromTheCommandAbCdEfGhIjKlMnOpQrStUv1234") => {
            Reply::json(200, json!({"username": "commanded"}))
        }
        _ => Reply::json(401, json!({"error": "no"})),
    });
    let env = TestEnv::new();
    env.register_secret("npm_FromTheCommandAbCdEfGhIjKlMnOpQrStUv1234");
    env.write_userconfig(&format!("registry={}\n", mock.url()));
    let helper = env.root.join("token-helper");
    std::fs::write(
        &helper,
        "#!/bin/sh\nprintf npm_FromTheCommandAbCdEfGhIjKlMnOpQrStUv1234\n",
    )
    .expect("helper");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    env.write_rtok_settings(&format!(
        "[registry.\"{}\"]\ncredential-command = [\"{}\", \"--for\", \"npm\"]\n",
        mock.url(),
        helper.display()
    ));
    let run = env.rtok().args(["status", "--json"]).run();
    run.success();
    let row = &run.json()[0];
    assert_eq!(
        row["source"],
        format!("command: {} --for npm", helper.display())
    );
    assert_eq!(row["storage"], "command");
    assert_eq!(row["user"], "commanded");
}

#[test]
fn a_credential_command_that_leaves_a_helper_running_still_gives_its_token() {
    // Probe #19: a command that printed its token and exited, leaving a
    // background helper (an agent) holding its stdout, was reported as
    // "printed no token" after the grace period.
    let token = "npm_LeftAHelperRunningAbCdEfGhIjKlMnOpQr12";
    let mock = MockRegistry::start(move |req| match req.bearer() {
        Some(t) if t == token => Reply::json(200, json!({"username": "agented"})),
        _ => Reply::json(401, json!({"error": "no"})),
    });
    let env = TestEnv::new();
    env.register_secret(token);
    env.write_userconfig(&format!("registry={}\n", mock.url()));
    let marker = env.root.join("helper-pid");
    env.write_rtok_settings(&format!(
        "[registry.\"{}\"]\ncredential-command = [\"sh\", \"-c\", \"echo {token}; sleep 30 & echo $! > '{}'\"]\n",
        mock.url(),
        marker.display()
    ));
    let run = env.rtok().arg("whoami").run();
    // The helper is the test's to stop, by its id.
    if let Ok(pid) = std::fs::read_to_string(&marker) {
        let _ = std::process::Command::new("kill").arg(pid.trim()).status();
    }
    run.success();
    assert_eq!(run.stdout.trim(), "agented");
}
