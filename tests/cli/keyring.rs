//! `rtok keyring import|export` against a real, private Secret Service
//! (gnome-keyring on a D-Bus session bus of the test's own), checked from
//! outside with `secret-tool`. After every test no file under the test's
//! tree holds the token it moved into the keyring.

use crate::support::*;

const NERF: &str = "//127.0.0.1:4873/";

fn token(name: &str) -> String {
    format!("npm_{name}{:016x}", random_u64())
}

fn random_u64() -> u64 {
    crate::support::verdaccio::random_u64()
}

#[test]
fn import_moves_the_token_and_export_restores_the_file_byte_for_byte() {
    let env = TestEnv::new();
    let keyring = PrivateKeyring::start(&env);
    let secret = token("import");
    env.register_secret(&secret);
    let original = format!(
        "; my npm config\nregistry=http://127.0.0.1:4873/\n//other.example/:_authToken=${{OTHER_TOKEN}}\n{NERF}:_authToken={secret}\n# the end\n"
    );
    env.write_userconfig(&original);

    let run = keyring.apply(env.rtok().args(["keyring", "import"])).run();
    run.success();
    assert!(
        run.stdout.is_empty(),
        "{}",
        run.describe("nothing on stdout")
    );
    assert!(
        run.stderr.contains(&format!(
            "Moved the token for http://127.0.0.1:4873/ from {}:4 to the system keyring.",
            env.userconfig.display()
        )),
        "{}",
        run.describe("what moved")
    );
    assert!(
        run.stderr.contains("`rtok exec -- npm publish`"),
        "{}",
        run.describe("a hint naming rtok exec")
    );

    assert_eq!(
        keyring.secret_tool_lookup(NERF).as_deref(),
        Some(secret.as_str())
    );
    assert_eq!(
        env.read_userconfig(),
        original.replace(&format!("{NERF}:_authToken={secret}\n"), ""),
        "exactly the token line went"
    );
    let settings = std::fs::read_to_string(env.rtok_settings()).expect("settings written");
    assert_eq!(
        settings,
        "[registry.\"http://127.0.0.1:4873/\"]\nstorage = \"keyring\"\n"
    );
    assert_mode_600(&env.rtok_settings());
    assert_no_file_contains(&env.root, &secret);

    let run = keyring.apply(env.rtok().args(["keyring", "export"])).run();
    run.success();
    assert!(
        run.stderr
            .contains("Moved the token for http://127.0.0.1:4873/ from the system keyring"),
        "{}",
        run.describe("what moved back")
    );
    assert_eq!(env.read_userconfig(), original, "restored byte for byte");
    assert_mode_600(&env.userconfig);
    assert_eq!(keyring.secret_tool_lookup(NERF), None, "the item is gone");
    assert_eq!(
        std::fs::read_to_string(env.rtok_settings()).expect("settings"),
        "",
        "the record is gone"
    );
}

#[test]
fn import_all_moves_every_literal_token_and_leaves_references() {
    let env = TestEnv::new();
    let keyring = PrivateKeyring::start(&env);
    let first = token("first");
    let second = token("second");
    env.register_secret(&first);
    env.register_secret(&second);
    let original = format!(
        "registry=https://registry.npmjs.org/\n//ref.example/:_authToken=${{NPM_TOKEN}}\n//registry.npmjs.org/:_authToken={first}\n//r.example:8443/npm/:_authToken=\"{second}\"\n"
    );
    env.write_userconfig(&original);

    let run = keyring
        .apply(env.rtok().args(["keyring", "import", "--all", "--json"]))
        .env("NPM_TOKEN", "from-the-environment")
        .run();
    run.success();
    let moved = run.json();
    assert_eq!(
        moved["moved"]
            .as_array()
            .expect("moved array")
            .iter()
            .map(|m| m["registry"].as_str().unwrap_or_default())
            .collect::<Vec<_>>(),
        ["https://registry.npmjs.org/", "https://r.example:8443/npm/"]
    );
    assert_eq!(
        keyring
            .secret_tool_lookup("//registry.npmjs.org/")
            .as_deref(),
        Some(first.as_str())
    );
    assert_eq!(
        keyring
            .secret_tool_lookup("//r.example:8443/npm/")
            .as_deref(),
        Some(second.as_str())
    );
    assert_eq!(keyring.secret_tool_lookup("//ref.example/"), None);
    assert_eq!(
        env.read_userconfig(),
        "registry=https://registry.npmjs.org/\n//ref.example/:_authToken=${NPM_TOKEN}\n"
    );
    assert_no_file_contains(&env.root, &first);
    assert_no_file_contains(&env.root, &second);

    let run = keyring
        .apply(env.rtok().args(["keyring", "export", "--all"]))
        .run();
    run.success();
    // The quoted value comes back as npm writes it (no quotes needed).
    assert_eq!(
        env.read_userconfig(),
        original.replace(&format!("\"{second}\""), &second)
    );
    assert_eq!(keyring.secret_tool_lookup("//registry.npmjs.org/"), None);
    assert_eq!(keyring.secret_tool_lookup("//r.example:8443/npm/"), None);
}

#[test]
fn with_no_usable_keyring_nothing_is_written() {
    let env = TestEnv::new();
    let secret = token("nokeyring");
    env.register_secret(&secret);
    let original = format!("registry=http://127.0.0.1:4873/\n{NERF}:_authToken={secret}\n");
    env.write_userconfig(&original);
    let empty_runtime = env.root.join("runtime");
    std::fs::create_dir(&empty_runtime).expect("runtime dir");

    // No bus at all: the variable unset, and no socket where clients look
    // without it.
    let run = env
        .rtok()
        .args(["keyring", "import"])
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("XDG_RUNTIME_DIR", &empty_runtime)
        .run();
    assert_error(
        &run,
        1,
        "the system keyring is not usable: no D-Bus session bus: `DBUS_SESSION_BUS_ADDRESS` is not set",
    );
    assert!(hint(&run).contains("`--storage file`"), "{}", run.stderr);

    // A bus whose address leads nowhere.
    let run = env.rtok().args(["keyring", "import"]).run();
    assert_error(&run, 1, "cannot be reached (there is no bus socket)");

    // A bus without a Secret Service.
    let bare = PrivateKeyring::bus_only(&env);
    let run = bare.apply(env.rtok().args(["keyring", "import"])).run();
    assert_error(&run, 1, "the D-Bus session bus has no Secret Service");
    assert!(hint(&run).contains("`--storage file`"), "{}", run.stderr);
    drop(bare);

    // A locked keyring: no prompt, an error.
    let keyring = PrivateKeyring::start(&env);
    keyring.lock();
    let run = keyring.apply(env.rtok().args(["keyring", "import"])).run();
    assert_error(&run, 1, "the system keyring is not usable: it is locked");
    assert!(hint(&run).contains("`--storage file`"), "{}", run.stderr);
    let run = keyring
        .apply(env.rtok().args(["keyring", "export", "--all"]))
        .run();
    run.success();

    assert_eq!(
        env.read_userconfig(),
        original,
        "the user config is untouched"
    );
    assert!(!env.rtok_settings().exists(), "no settings were written");
    assert_eq!(keyring.secret_tool_lookup(NERF), None);
}

#[test]
fn import_moves_only_literal_tokens_of_the_user_config() {
    let env = TestEnv::new();
    let keyring = PrivateKeyring::start(&env);
    env.write_userconfig(&format!(
        "registry=http://127.0.0.1:4873/\n{NERF}:_authToken=${{NPM_TOKEN}}\n"
    ));
    let run = keyring
        .apply(env.rtok().args(["keyring", "import"]))
        .env("NPM_TOKEN", "npm_fromthevariable")
        .run();
    assert_error(&run, 1, "refers to a variable (`${NPM_TOKEN}`)");

    let run = keyring
        .apply(env.rtok().args(["keyring", "import"]))
        .env("npm_config_//127.0.0.1:4873/:_authToken", "npm_fromtheenv")
        .env("NPM_TOKEN", "x")
        .run();
    assert_error(&run, 1, "comes from environment variable");

    env.write_userconfig("registry=http://127.0.0.1:4873/\n");
    let run = keyring.apply(env.rtok().args(["keyring", "import"])).run();
    assert_error(&run, 1, "there is no token for http://127.0.0.1:4873/");
    assert_eq!(keyring.secret_tool_lookup(NERF), None);
    assert!(!env.rtok_settings().exists());

    let run = keyring
        .apply(env.rtok().args(["keyring", "import", "--all"]))
        .run();
    run.success();
    assert!(run.stderr.contains("Nothing to import"), "{}", run.stderr);
}

#[test]
fn export_needs_a_record_and_an_item() {
    let env = TestEnv::new();
    let keyring = PrivateKeyring::start(&env);
    env.write_userconfig("registry=http://127.0.0.1:4873/\n");
    let run = keyring.apply(env.rtok().args(["keyring", "export"])).run();
    assert_error(
        &run,
        1,
        "records no keyring token for http://127.0.0.1:4873/",
    );

    // Recorded, but the item is gone (deleted in a keyring manager).
    env.write_rtok_settings("[registry.\"http://127.0.0.1:4873/\"]\nstorage = \"keyring\"\n");
    let run = keyring.apply(env.rtok().args(["keyring", "export"])).run();
    assert_error(
        &run,
        1,
        "the system keyring has no item for http://127.0.0.1:4873/",
    );
    assert_eq!(env.read_userconfig(), "registry=http://127.0.0.1:4873/\n");
}

#[test]
fn a_bad_settings_file_is_one_error_naming_it() {
    let env = TestEnv::new();
    let keyring = PrivateKeyring::start(&env);
    let secret = token("badsettings");
    env.register_secret(&secret);
    let original = format!("registry=http://127.0.0.1:4873/\n{NERF}:_authToken={secret}\n");
    env.write_userconfig(&original);
    let settings = env.root.join("elsewhere/rtok.toml");
    std::fs::create_dir_all(settings.parent().expect("folder")).expect("mkdir");
    for (text, needle) in [
        ("storage = \"keyring\n", "is not valid TOML"),
        (
            "[registry.npmjs]\nstorage = \"keyring\"\n",
            "`npmjs` is not a registry URL",
        ),
        ("storage = 1\n", "`storage` must be"),
    ] {
        std::fs::write(&settings, text).expect("settings");
        let run = keyring
            .apply(env.rtok().args(["keyring", "import"]))
            .env("RTOK_CONFIG", &settings)
            .run();
        assert_error(&run, 1, needle);
        assert!(
            run.stderr.contains(&settings.display().to_string()),
            "{}",
            run.describe("the file named")
        );
        assert_eq!(std::fs::read_to_string(&settings).expect("read"), text);
        assert_eq!(env.read_userconfig(), original);
        assert_eq!(keyring.secret_tool_lookup(NERF), None);
    }
}

#[test]
fn the_harness_stops_what_it_started() {
    let env = TestEnv::new();
    let keyring = PrivateKeyring::start(&env);
    let pids = keyring.pids();
    assert_eq!(pids.len(), 2);
    drop(keyring);
    for pid in pids {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        // Gone, or at most a zombie some other process has not reaped.
        assert!(
            status.is_empty() || status.contains("State:\tZ"),
            "process {pid} is still running"
        );
    }
}

#[track_caller]
fn assert_mode_600(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600, "{}", path.display());
}

#[test]
fn two_imports_at_once_move_the_token_once_and_lose_nothing() {
    // Probe #3: two concurrent imports destroyed the token (6 of 6 tries).
    // The store moves it under one lock and re-reads under it, so one run
    // moves it and the other finds it already moved.
    let env = TestEnv::new();
    let keyring = PrivateKeyring::start(&env);
    for round in 0..5 {
        let secret = token(&format!("race{round}"));
        env.register_secret(&secret);
        env.write_userconfig(&format!("; keep me\n{NERF}:_authToken={secret}\n"));
        let runs: Vec<Run> = std::thread::scope(|scope| {
            let started: Vec<_> = (0..2)
                .map(|_| {
                    let cmd = keyring.apply(env.rtok().args([
                        "keyring",
                        "import",
                        "--registry",
                        "http://127.0.0.1:4873/",
                    ]));
                    scope.spawn(move || cmd.run())
                })
                .collect();
            started
                .into_iter()
                .map(|h| h.join().expect("the run's thread"))
                .collect()
        });
        for run in &runs {
            run.success();
        }
        let moved = runs
            .iter()
            .filter(|r| r.stderr.contains("Moved the token"))
            .count();
        assert_eq!(moved, 1, "round {round}: exactly one run moved it");
        assert_eq!(
            keyring.secret_tool_lookup(NERF).as_deref(),
            Some(secret.as_str()),
            "round {round}: the token is in the keyring"
        );
        assert_eq!(env.read_userconfig(), "; keep me\n");
        let settings = std::fs::read_to_string(env.rtok_settings()).expect("settings");
        assert!(
            settings.contains("storage = \"keyring\""),
            "round {round}: recorded: {settings}"
        );
        // Back to the file for the next round.
        keyring
            .apply(
                env.rtok()
                    .args(["keyring", "export", "--registry", "http://127.0.0.1:4873/"]),
            )
            .run()
            .success();
    }
}

#[test]
fn import_and_export_move_the_copy_of_every_client() {
    use crate::support::clients::Client;
    let env = TestEnv::new();
    let keyring = PrivateKeyring::start(&env);
    let secret = token("clients");
    env.register_secret(&secret);
    let npmrc = format!("; npm\nregistry=http://127.0.0.1:4873/\n{NERF}:_authToken={secret}\n");
    let auth_ini = format!("; pnpm\n{NERF}:_authToken={secret}\n");
    let yarnrc = format!(
        "# yarn\nnpmRegistries:\n  \"http://127.0.0.1:4873\":\n    npmAuthToken: {secret}\n"
    );
    env.write_userconfig(&npmrc);
    env.write_client_credentials(Client::Pnpm11, &auth_ini);
    env.write_client_credentials(Client::Yarn4, &yarnrc);

    let run = keyring.apply(env.rtok().args(["keyring", "import"])).run();
    run.success();
    assert!(
        run.stderr.contains(&format!(
            "Moved the token for http://127.0.0.1:4873/ from {}:3, {}:2, {}:4 to the system keyring.",
            env.userconfig.display(),
            env.pnpm_auth_ini().display(),
            env.yarnrc_yml().display()
        )),
        "{}",
        run.describe("every copy moved")
    );
    assert_eq!(
        keyring.secret_tool_lookup(NERF).as_deref(),
        Some(secret.as_str())
    );
    assert_eq!(
        env.read_userconfig(),
        "; npm\nregistry=http://127.0.0.1:4873/\n"
    );
    // pnpm keeps working natively: it asks this rtok for the token.
    assert_eq!(
        std::fs::read_to_string(env.pnpm_auth_ini()).expect("auth.ini"),
        format!(
            "; pnpm\n{NERF}:tokenHelper={} token-helper http://127.0.0.1:4873/\n",
            env!("CARGO_BIN_EXE_rtok")
        )
    );
    assert_eq!(
        std::fs::read_to_string(env.yarnrc_yml()).expect("yarnrc"),
        "# yarn\n"
    );
    assert_no_file_contains(&env.root, &secret);

    let run = keyring
        .apply(
            env.rtok()
                .args(["keyring", "export", "--for", "npm,pnpm,yarn"]),
        )
        .run();
    run.success();
    assert_eq!(env.read_userconfig(), npmrc);
    assert_eq!(
        std::fs::read_to_string(env.pnpm_auth_ini()).expect("auth.ini"),
        auth_ini
    );
    assert_eq!(
        std::fs::read_to_string(env.yarnrc_yml()).expect("yarnrc"),
        yarnrc
    );
    assert_eq!(keyring.secret_tool_lookup(NERF), None, "the item is gone");
}

#[test]
fn an_import_refuses_two_different_tokens_for_one_registry() {
    use crate::support::clients::Client;
    let env = TestEnv::new();
    let keyring = PrivateKeyring::start(&env);
    let (one, two) = (token("one"), token("two"));
    env.register_secret(&one);
    env.register_secret(&two);
    let npmrc = format!("registry=http://127.0.0.1:4873/\n{NERF}:_authToken={one}\n");
    let auth_ini = format!("{NERF}:_authToken={two}\n");
    env.write_userconfig(&npmrc);
    env.write_client_credentials(Client::Pnpm11, &auth_ini);
    let run = keyring.apply(env.rtok().args(["keyring", "import"])).run();
    assert_error(&run, 1, "hold different tokens for http://127.0.0.1:4873/");
    assert_eq!(env.read_userconfig(), npmrc);
    assert_eq!(
        std::fs::read_to_string(env.pnpm_auth_ini()).expect("auth.ini"),
        auth_ini
    );
    assert_eq!(keyring.secret_tool_lookup(NERF), None);
}
