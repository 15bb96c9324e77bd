//! `rtok token-helper <registry>`: what it prints, and the real pnpm 11 and
//! 12 running it as the `tokenHelper` of `auth.ini` against Verdaccio with
//! the token only in a private keyring.

use crate::support::*;

/// `//<nerf>:tokenHelper=<rtok> token-helper <registry>`, the line the
/// store writes into `auth.ini` (written by hand here).
fn helper_line(reg: &Verdaccio) -> String {
    format!(
        "{}:tokenHelper={} token-helper {}\n",
        reg.nerf_dart(),
        env!("CARGO_BIN_EXE_rtok"),
        reg.url
    )
}

#[test]
fn prints_the_scheme_and_the_token_from_any_source() {
    let env = TestEnv::new();
    let keyring = PrivateKeyring::start(&env);
    let in_file = "npm_helperfile0123456789";
    let in_keyring = "npm_helperkeyring0123456789";
    env.register_secret(in_file);
    env.register_secret(in_keyring);
    env.write_userconfig(&format!(
        "registry=https://file.example/\n//file.example/:_authToken={in_file}\n//basic.example/:_auth=dTpw\n"
    ));
    keyring.secret_tool_store("//kr.example/npm/", in_keyring);
    env.write_rtok_settings("[registry.\"https://kr.example/npm/\"]\nstorage = \"keyring\"\n");

    let helper = |registry: &str| {
        keyring
            .apply(env.rtok().args(["token-helper", registry]))
            .allow_secret(in_file)
            .allow_secret(in_keyring)
            .run()
    };
    let run = helper("https://file.example/");
    run.success();
    assert_eq!(run.stdout, format!("Bearer {in_file}\n"));
    assert!(run.stderr.is_empty(), "{}", run.describe("silence"));

    let run = helper("https://kr.example/npm/");
    run.success();
    assert_eq!(run.stdout, format!("Bearer {in_keyring}\n"));

    let run = helper("https://basic.example/");
    run.success();
    assert_eq!(run.stdout, "Basic dTpw\n");

    // Not the configured registry: the argument decides.
    let run = helper("https://none.example/");
    assert_error(
        &run,
        4,
        "no credential for https://none.example/ in the config files, the environment or rtok's settings",
    );
    assert!(run.stdout.is_empty());
    assert_eq!(run.stderr_lines().len(), 1, "{}", run.describe("one line"));

    let run = helper("not a url");
    assert_ne!(run.code, 0);
    assert!(run.stdout.is_empty());
    assert_eq!(run.stderr_lines().len(), 1, "{}", run.describe("one line"));
}

#[test]
fn pnpm_11_and_12_run_it_from_auth_ini_with_the_token_in_the_keyring() {
    let reg = shared();
    for client in [Client::Pnpm11, Client::Pnpm12] {
        let env = TestEnv::new();
        let user = reg.new_user("token-helper");
        env.register_secret(&user.token);
        let keyring = PrivateKeyring::start(&env);
        env.write_userconfig(&reg.npmrc_for(&user));
        keyring
            .apply(env.rtok().args(["keyring", "import"]))
            .run()
            .success();
        assert!(!env.read_userconfig().contains(&user.token));

        // Without the helper line pnpm has no token.
        let run = keyring.apply(env.client(client).arg("whoami")).run();
        assert_ne!(run.code, 0, "{}", run.describe("no credential"));

        env.write_client_credentials(client, &helper_line(reg));
        let run = keyring.apply(env.client(client).arg("whoami")).run();
        run.success();
        assert_eq!(
            run.stdout.trim(),
            user.name,
            "{}",
            run.describe(client.name())
        );
        assert_no_file_contains(&env.root, &user.token);

        // The keyring without the item: the helper fails, and pnpm says so.
        keyring.secret_tool_store(&reg.nerf_dart(), " ");
        let run = keyring.apply(env.client(client).arg("whoami")).run();
        assert_ne!(run.code, 0, "{}", run.describe("helper failure"));
    }
}
