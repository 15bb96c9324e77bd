//! One login, rotate and logout for every client (issue 18): rtok writes
//! npm's `.npmrc`, pnpm 11/12's `auth.ini` and yarn berry's `.yarnrc.yml`,
//! and the real clients authenticate (or stop authenticating) from what it
//! wrote. Every other byte of each file survives.

use std::os::unix::fs::PermissionsExt;

use crate::support::clients::{Client, yarnrc_for};
use crate::support::stateful::{PASSWORD, TokenRegistry};
use crate::support::*;

/// The three files, each with a comment and an unrelated setting rtok must
/// keep byte for byte.
struct Files {
    npmrc: String,
    auth_ini: String,
    yarnrc: String,
}

fn files_for(registry: &str) -> Files {
    let host = registry
        .split_once("://")
        .map_or(registry, |(_, rest)| rest)
        .split(['/', ':'])
        .next()
        .unwrap_or_default()
        .to_string();
    Files {
        npmrc: format!("; npm: mine\nregistry={registry}\nfund=false\n"),
        auth_ini: "; pnpm: mine\nstrict-ssl=true\n".to_string(),
        yarnrc: format!(
            "# yarn: mine\nnpmRegistryServer: \"{}\"\nunsafeHttpWhitelist:\n  - \"{host}\" # loopback\nenableTelemetry: false\n",
            registry.trim_end_matches('/')
        ),
    }
}

fn write_files(env: &TestEnv, files: &Files) {
    env.write_userconfig(&files.npmrc);
    env.write_client_credentials(Client::Pnpm11, &files.auth_ini);
    env.write_client_credentials(Client::Yarn4, &files.yarnrc);
}

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

/// `name`'s whoami through each client that has one, as the user sees it.
fn whoami_everywhere(env: &TestEnv) -> Vec<(String, Run)> {
    vec![
        ("npm".to_string(), env.npm().arg("whoami").run()),
        (
            "pnpm 11".to_string(),
            env.client(Client::Pnpm11).arg("whoami").run(),
        ),
        (
            "pnpm 12".to_string(),
            env.client(Client::Pnpm12).arg("whoami").run(),
        ),
        (
            "yarn 4".to_string(),
            env.client(Client::Yarn4).args(["npm", "whoami"]).run(),
        ),
    ]
}

fn assert_everyone_is(env: &TestEnv, user: &str) {
    for (client, run) in whoami_everywhere(env) {
        assert_eq!(run.code, 0, "{}", run.describe(&format!("{client} whoami")));
        assert!(
            run.stdout
                .lines()
                .any(|l| l.trim() == user || l.ends_with(&format!(" {user}"))),
            "{}",
            run.describe(&format!("{client} names {user}"))
        );
    }
}

fn assert_nobody_is_logged_in(env: &TestEnv) {
    for (client, run) in whoami_everywhere(env) {
        assert_ne!(
            run.code,
            0,
            "{}",
            run.describe(&format!("{client} is logged out"))
        );
    }
}

fn login_for_all(env: &TestEnv, user: &crate::support::verdaccio::User) -> Run {
    legacy_login_for_all(env, &user.name, &user.password)
}

/// `rtok login --for npm,pnpm,yarn` with a user name and password.
fn legacy_login_for_all(env: &TestEnv, name: &str, password: &str) -> Run {
    env.rtok()
        .args([
            "login",
            "--for",
            "npm,pnpm,yarn",
            "--auth-type",
            "legacy",
            "--username",
            name,
            "--password-stdin",
        ])
        .stdin(format!("{password}\n"))
        .run()
}

/// The token rtok wrote to the user `.npmrc`.
fn npmrc_token(env: &TestEnv, nerf: &str) -> String {
    let text = env.read_userconfig();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{nerf}:_authToken=")))
        .unwrap_or_else(|| panic!("no token line in {text}"))
        // npm's ini quotes a value with `=` in it.
        .trim_matches('"')
        .to_string()
}

#[test]
fn one_login_serves_npm_pnpm_and_yarn_and_keeps_every_other_byte() {
    let reg = shared();
    let user = reg.new_user("every");
    let env = TestEnv::new();
    env.register_secret(&user.password);
    let files = files_for(&reg.url);
    write_files(&env, &files);

    let run = login_for_all(&env, &user);
    run.success();
    let token = npmrc_token(&env, &reg.nerf_dart());
    env.register_secret(&token);
    assert_eq!(
        run.stderr_lines(),
        vec![
            format!("Logged in as {} on {}.", user.name, reg.url).as_str(),
            format!("  npm: {}", env.userconfig.display()).as_str(),
            format!("  pnpm: {}", env.pnpm_auth_ini().display()).as_str(),
            format!("  yarn: {}", env.yarnrc_yml().display()).as_str(),
        ]
    );

    // Each file: the user's bytes, then the registry's token.
    let nerf = reg.nerf_dart();
    // As npm writes a value with `=` in it: quoted.
    let written = if token.contains('=') {
        format!("\"{token}\"")
    } else {
        token.clone()
    };
    assert_eq!(
        env.read_userconfig(),
        format!("{}{nerf}:_authToken={written}\n", files.npmrc)
    );
    assert_eq!(
        read(&env.pnpm_auth_ini()),
        format!("{}{nerf}:_authToken={written}\n", files.auth_ini)
    );
    // Quoted when YAML would not read the token back as itself plain (a
    // Verdaccio token may end in `=`).
    let plain = token
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | '+' | '='));
    let scalar = if plain {
        token.clone()
    } else {
        format!("\"{token}\"")
    };
    assert_eq!(
        read(&env.yarnrc_yml()),
        format!(
            "{}npmRegistries:\n  \"{}\":\n    npmAuthToken: {scalar}\n",
            files.yarnrc,
            reg.url.trim_end_matches('/')
        )
    );
    for path in [
        env.userconfig.clone(),
        env.pnpm_auth_ini(),
        env.yarnrc_yml(),
    ] {
        assert_eq!(mode(&path), 0o600, "{}", path.display());
    }

    // The real clients are the user, and each can publish.
    assert_everyone_is(&env, &user.name);
    let publish = |client: Client, args: &[&str], tag: &str| {
        let name = format!(
            "@rtok-every/{tag}-{:x}",
            crate::support::verdaccio::random_u64()
        );
        let package = env.root.join(tag);
        std::fs::create_dir(&package).expect("mkdir");
        std::fs::write(
            package.join("package.json"),
            format!("{{\"name\": \"{name}\", \"version\": \"1.0.0\"}}\n"),
        )
        .expect("package.json");
        if client == Client::Yarn4 {
            // yarn publishes only a project it has installed.
            let run = env
                .client(client)
                .current_dir(&package)
                .arg("install")
                .run();
            assert_eq!(run.code, 0, "{}", run.describe("yarn install"));
        }
        let run = env.client(client).current_dir(&package).args(args).run();
        assert_eq!(
            run.code,
            0,
            "{}",
            run.describe(&format!("{} publish", client.name()))
        );
        let seen = env.npm().args(["view", &name, "version"]).run();
        assert_eq!(
            seen.stdout.trim(),
            "1.0.0",
            "{}",
            seen.describe("published")
        );
    };
    publish(Client::Pnpm11, &["publish", "--no-git-checks"], "pnpm11");
    publish(Client::Pnpm12, &["publish", "--no-git-checks"], "pnpm12");
    publish(Client::Yarn4, &["npm", "publish"], "yarn4");
}

#[test]
fn logout_revokes_once_and_logs_every_client_out() {
    let reg = shared();
    let user = reg.new_user("everyout");
    let env = TestEnv::new();
    env.register_secret(&user.password);
    let files = files_for(&reg.url);
    write_files(&env, &files);
    login_for_all(&env, &user).success();
    let token = npmrc_token(&env, &reg.nerf_dart());
    env.register_secret(&token);

    let run = env.rtok().args(["logout", "--json"]).run();
    run.success();
    let json = run.json();
    assert_eq!(json["revoked"], true);
    let clients: Vec<&str> = json["removed"]
        .as_array()
        .expect("removed")
        .iter()
        .filter_map(|r| r["client"].as_str())
        .collect();
    assert_eq!(clients, vec!["pnpm", "yarn"]);
    // Verdaccio answers a revoke but keeps the token working
    // (verdaccio-notes.md); that it is revoked once is the mock's test.
    // Every file is back to the user's own bytes.
    assert_eq!(env.read_userconfig(), files.npmrc);
    assert_eq!(read(&env.pnpm_auth_ini()), files.auth_ini);
    assert_eq!(read(&env.yarnrc_yml()), files.yarnrc);
    assert_nobody_is_logged_in(&env);
}

#[test]
fn rotate_gives_every_client_the_new_token_and_the_old_one_stops_working() {
    // Verdaccio 6.8 cannot create a token when asked with one: the mock.
    let session = "npm_SessionTokenForEveryClientAbCdEfGh0001";
    let registry = TokenRegistry::start(session, Vec::new());
    let env = TestEnv::new();
    env.register_secret(session);
    let url = registry.url();
    let nerf = registry.nerf_dart();
    let files = files_for(&url);
    env.write_userconfig(&format!("{}{nerf}:_authToken={session}\n", files.npmrc));
    env.write_client_credentials(
        Client::Pnpm11,
        &format!("{}{nerf}:_authToken={session}\n", files.auth_ini),
    );
    let yarnrc = yarnrc_for(&url, session);
    env.write_client_credentials(Client::Yarn4, &format!("# mine\n{yarnrc}"));
    assert_everyone_is(&env, "mockuser");

    let run = env
        .rtok()
        .args(["token", "rotate", "current", "--password-stdin", "--json"])
        .stdin(PASSWORD)
        .run();
    run.success();
    let new_token = run.json()["token"].as_str().expect("token").to_string();
    env.register_secret(&new_token);
    assert_eq!(
        env.read_userconfig(),
        format!("{}{nerf}:_authToken={new_token}\n", files.npmrc)
    );
    assert_eq!(
        read(&env.pnpm_auth_ini()),
        format!("{}{nerf}:_authToken={new_token}\n", files.auth_ini)
    );
    assert_eq!(
        read(&env.yarnrc_yml()),
        format!("# mine\n{}", yarnrc.replace(session, &new_token))
    );
    // The mock forgot the old token: every client works only with the new.
    assert_eq!(registry.keys().len(), 1);
    assert!(!registry.keys().contains(&"session-key-0001".to_string()));
    assert_everyone_is(&env, "mockuser");

    // One logout: the token is revoked once, and no client is logged in.
    let revokes = |registry: &TokenRegistry| {
        registry
            .mock
            .requests()
            .iter()
            .filter(|r| r.method == "DELETE" && r.path.starts_with("/-/user/token/"))
            .count()
    };
    env.rtok().arg("logout").run().success();
    assert_eq!(revokes(&registry), 1, "revoked once");
    assert!(registry.keys().is_empty(), "the token is gone");
    assert_eq!(env.read_userconfig(), files.npmrc);
    assert_eq!(read(&env.pnpm_auth_ini()), files.auth_ini);
    assert_nobody_is_logged_in(&env);
}

#[test]
fn without_for_the_setting_decides_else_npm_and_the_clients_with_a_file() {
    let reg = shared();
    let user = reg.new_user("everydefault");
    let env = TestEnv::new();
    env.register_secret(&user.password);
    let files = files_for(&reg.url);
    env.write_userconfig(&files.npmrc);
    env.write_client_credentials(Client::Yarn4, &files.yarnrc);
    let login = |env: &TestEnv| {
        env.rtok()
            .args([
                "login",
                "--auth-type",
                "legacy",
                "--username",
                &user.name,
                "--password-stdin",
                "--json",
            ])
            .stdin(format!("{}\n", user.password))
            .run()
    };

    // No setting: npm, and yarn whose file exists; pnpm has none.
    let run = login(&env);
    run.success();
    let copies: Vec<String> = run.json()["copies"]
        .as_array()
        .expect("copies")
        .iter()
        .map(|c| c["client"].as_str().expect("client").to_string())
        .collect();
    assert_eq!(copies, vec!["npm", "yarn"]);
    env.register_secret(&npmrc_token(&env, &reg.nerf_dart()));
    assert!(!env.pnpm_auth_ini().exists(), "pnpm was not asked for");

    // The setting is exact: pnpm only, npm not implied.
    env.write_rtok_settings("clients = [\"pnpm\"]\n");
    let npmrc_before = env.read_userconfig();
    let run = login(&env);
    run.success();
    assert_eq!(run.json()["copies"][0]["client"], "pnpm");
    assert_eq!(run.json()["copies"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        env.read_userconfig(),
        npmrc_before,
        "npm's file is not written"
    );
    let ini = read(&env.pnpm_auth_ini());
    let token = ini
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{}:_authToken=", reg.nerf_dart())))
        .expect("pnpm's token")
        .to_string();
    env.register_secret(&token);
    let run = env.client(Client::Pnpm11).arg("whoami").run();
    assert_eq!(
        run.stdout.trim(),
        user.name,
        "{}",
        run.describe("pnpm 11 whoami")
    );
}

#[test]
fn a_broken_client_file_stops_the_login_before_anything_is_written() {
    let env = TestEnv::new();
    // Nothing listens here: the check comes before any request.
    let registry = "http://127.0.0.1:9/";
    let npmrc = format!("registry={registry}\n");
    env.write_userconfig(&npmrc);

    env.write_client_credentials(
        Client::Yarn4,
        "# mine\nnpmRegistries:\n  \"x\": [unclosed\n",
    );
    let yarnrc = read(&env.yarnrc_yml());
    let run = legacy_login_for_all(&env, "u", "pw");
    assert_error(
        &run,
        1,
        &format!("{}: line 4: invalid YAML", env.yarnrc_yml().display()),
    );
    assert_eq!(env.read_userconfig(), npmrc);
    assert_eq!(read(&env.yarnrc_yml()), yarnrc);
    assert!(!env.pnpm_auth_ini().exists());

    std::fs::remove_file(env.yarnrc_yml()).expect("rm");
    std::fs::create_dir_all(env.pnpm_auth_ini()).expect("auth.ini as a folder");
    let run = legacy_login_for_all(&env, "u", "pw");
    assert_error(&run, 1, &env.pnpm_auth_ini().display().to_string());
    assert_eq!(env.read_userconfig(), npmrc);
    assert!(!env.yarnrc_yml().exists());
}

#[test]
fn a_keyring_login_for_pnpm_names_rtok_as_its_token_helper_and_no_file_holds_the_token() {
    let reg = shared();
    let user = reg.new_user("everyhelper");
    let env = TestEnv::new();
    let keyring = PrivateKeyring::start(&env);
    env.register_secret(&user.password);
    let files = files_for(&reg.url);
    write_files(&env, &files);

    let run = keyring
        .apply(env.rtok().args([
            "login",
            "--storage",
            "keyring",
            "--for",
            "npm,pnpm,yarn",
            "--auth-type",
            "legacy",
            "--username",
            &user.name,
            "--password-stdin",
            "--json",
        ]))
        .stdin(format!("{}\n", user.password))
        .run();
    run.success();
    let token = keyring
        .secret_tool_lookup(&reg.nerf_dart())
        .expect("the token is in the keyring");
    env.register_secret(&token);
    let json = run.json();
    assert_eq!(json["copies"][0]["place"], "the system keyring");
    assert_eq!(json["copies"][2]["client"], "yarn");
    assert_eq!(json["copies"][2]["place"], serde_json::Value::Null);
    assert!(
        json["copies"][2]["note"]
            .as_str()
            .is_some_and(|n| n.contains("yarn reads no keyring")),
        "{json}"
    );

    // npm's and yarn's files are as they were; pnpm's names rtok.
    assert_eq!(env.read_userconfig(), files.npmrc);
    assert_eq!(read(&env.yarnrc_yml()), files.yarnrc);
    assert_eq!(
        read(&env.pnpm_auth_ini()),
        format!(
            "{}{}:tokenHelper={} token-helper {}\n",
            files.auth_ini,
            reg.nerf_dart(),
            env!("CARGO_BIN_EXE_rtok"),
            reg.url
        )
    );
    assert_no_file_contains(&env.root, &token);

    // pnpm 11 and 12 ask rtok, and rtok's status and doctor say so.
    for client in [Client::Pnpm11, Client::Pnpm12] {
        let run = keyring.apply(env.client(client).arg("whoami")).run();
        assert_eq!(
            run.stdout.trim(),
            user.name,
            "{}",
            run.describe(client.name())
        );
    }
    let run = keyring.apply(env.rtok().args(["status", "--json"])).run();
    run.success();
    let rows = run.json();
    let pnpm_row = rows
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["client"] == "pnpm")
        .unwrap_or_else(|| panic!("a pnpm row: {rows}"));
    assert_eq!(pnpm_row["user"], json!(user.name), "{pnpm_row}");

    // logout takes the helper line out with the keyring item.
    let run = keyring.apply(env.rtok().arg("logout")).run();
    run.success();
    assert_eq!(read(&env.pnpm_auth_ini()), files.auth_ini);
    assert_eq!(keyring.secret_tool_lookup(&reg.nerf_dart()), None);
}
