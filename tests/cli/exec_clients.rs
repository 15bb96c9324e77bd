//! `rtok exec` with every real client against the pinned Verdaccio, the
//! token only in a private keyring: npm from a `package.json` script under
//! the machine's `sh` (dash on Debian), pnpm 10, 11 and 12 (also with a
//! stale `auth.ini`), yarn 4 (`yarn npm whoami`, `yarn npm publish`, and the
//! `.yarnrc.yml` layouts it can and cannot serve) and yarn 1; the temporary
//! user config holds no secret and is gone after the command, also after
//! SIGTERM to rtok.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::*;

fn rtok_path() -> &'static str {
    env!("CARGO_BIN_EXE_rtok")
}

/// `cmd` run as `rtok exec -- cmd`, with the keyring and a private
/// temporary folder (`TMPDIR`) inside the test's tree.
fn through_exec(env: &TestEnv, keyring: &PrivateKeyring, cmd: RtokCmd) -> RtokCmd {
    let tmp = exec_tmp(env);
    std::fs::create_dir_all(&tmp).expect("mkdir tmp");
    keyring
        .apply(cmd.through(rtok_path(), ["exec", "--"]))
        .env("TMPDIR", tmp)
}

/// Where rtok exec makes its private folder in these tests.
fn exec_tmp(env: &TestEnv) -> PathBuf {
    env.root.join("tmp")
}

/// Asserts rtok left no folder of its own in the temporary folder (the
/// clients keep their caches there).
fn assert_cleaned_up(env: &TestEnv) {
    let left: Vec<_> = std::fs::read_dir(exec_tmp(env))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with("rtok-exec-"))
                })
                .collect()
        })
        .unwrap_or_default();
    assert!(left.is_empty(), "rtok exec left {left:?}");
}

/// A user whose token only the keyring holds; the user config names the
/// registry (and keeps `extra`, a comment and a setting, say).
fn user_in_keyring(env: &TestEnv, reg: &Verdaccio, prefix: &str) -> (PrivateKeyring, User) {
    let user = reg.new_user(prefix);
    env.register_secret(&user.token);
    let keyring = PrivateKeyring::start(env);
    env.write_userconfig(&reg.npmrc_for(&user));
    keyring
        .apply(env.rtok().args(["keyring", "import"]))
        .run()
        .success();
    assert!(!env.read_userconfig().contains(&user.token));
    (keyring, user)
}

/// The home `.yarnrc.yml` a loopback registry needs (yarn 4 refuses plain
/// http elsewhere), plus `extra`.
fn write_yarnrc(env: &TestEnv, extra: &str) {
    env.write_client_credentials(
        Client::Yarn4,
        &format!("unsafeHttpWhitelist:\n  - \"127.0.0.1\"\n{extra}"),
    );
}

/// The user name in `yarn npm whoami`'s output (`➤ YN0000: <name>`).
fn yarn_user(run: &Run) -> Option<String> {
    run.stdout_lines()
        .iter()
        .find_map(|l| l.strip_prefix("➤ YN0000: ").map(str::to_string))
}

#[test]
fn npm_run_in_a_dash_script_reads_the_temporary_userconfig() {
    let sh = std::fs::canonicalize("/bin/sh").expect("/bin/sh");
    eprintln!("/bin/sh is {}", sh.display());
    let reg = shared();
    let env = TestEnv::new();
    let (keyring, user) = user_in_keyring(&env, reg, "exec-dash");
    let kept = format!(
        "; my settings stay\n{}save-exact=true\n",
        env.read_userconfig()
    );
    env.write_userconfig(&kept);
    std::fs::write(
        env.project.join("package.json"),
        r#"{"name": "dash-release", "version": "1.0.0", "private": true,
  "scripts": {"release": "npm whoami && echo \"routes: $(env | grep -c '^npm_config_//')\" && echo \"path: $NPM_CONFIG_USERCONFIG\" && stat -c 'mode: %a' \"$NPM_CONFIG_USERCONFIG\" \"$(dirname \"$NPM_CONFIG_USERCONFIG\")\" && cat \"$NPM_CONFIG_USERCONFIG\""}}
"#,
    )
    .expect("package.json");

    // Without rtok the script's npm has no credential.
    let run = env.npm().args(["run", "release", "--silent"]).run();
    assert_ne!(run.code, 0, "{}", run.describe("npm whoami to fail"));

    let run = through_exec(
        &env,
        &keyring,
        env.npm().args(["run", "release", "--silent"]),
    )
    .run();
    run.success();
    let lines = run.stdout_lines();
    assert_eq!(lines[0], user.name, "{}", run.describe("whoami"));
    if sh.ends_with("dash") {
        // dash dropped the `npm_config_//…` variables: the file did it.
        assert_eq!(lines[1], "routes: 0", "{}", run.describe("dash"));
    }
    let path = PathBuf::from(lines[2].strip_prefix("path: ").expect("path line"));
    assert!(path.starts_with(exec_tmp(&env)), "{}", path.display());
    assert_eq!(&lines[3..5], ["mode: 600", "mode: 700"]);
    let file = lines[5..].join("\n");
    assert_eq!(
        file,
        format!(
            "; my settings stay\nregistry={}\nsave-exact=true\n{}:_authToken=${{RTOK_TOKEN_1}}",
            reg.url,
            reg.nerf_dart()
        ),
        "every line kept, the token a reference"
    );
    assert!(!path.exists(), "{} outlived the command", path.display());
    assert_cleaned_up(&env);
    assert_eq!(env.read_userconfig(), kept, "the user's file untouched");
    assert_no_file_contains(&env.root, &user.token);
}

#[test]
fn pnpm_10_11_and_12_get_the_keyring_token_even_over_a_stale_auth_ini() {
    let reg = shared();
    let env = TestEnv::new();
    let (keyring, user) = user_in_keyring(&env, reg, "exec-pnpm");
    let stale = reg.new_user("exec-pnpm-stale");
    env.register_secret(&stale.token);

    let run = through_exec(&env, &keyring, env.client(Client::Pnpm10).arg("whoami")).run();
    run.success();
    assert_eq!(run.stdout.trim(), user.name, "{}", run.describe("pnpm 10"));

    for client in [Client::Pnpm11, Client::Pnpm12] {
        // What `pnpm login` as another user left: read above ~/.npmrc.
        env.write_client_credentials(
            client,
            &format!("{}:_authToken={}\n", reg.nerf_dart(), stale.token),
        );
        let run = env.client(client).arg("whoami").run();
        run.success();
        assert_eq!(run.stdout.trim(), stale.name, "{}", run.describe("stale"));

        let run = through_exec(&env, &keyring, env.client(client).arg("whoami")).run();
        run.success();
        assert_eq!(
            run.stdout.trim(),
            user.name,
            "{}",
            run.describe(client.name())
        );

        // Through `sh -c` (dash drops `npm_config_//…`): pnpm_config__auth.
        let run = through_exec(
            &env,
            &keyring,
            env.client(client)
                .arg("whoami")
                .through("sh", ["-c", "\"$@\"", "sh"]),
        )
        .run();
        run.success();
        assert_eq!(
            run.stdout.trim(),
            user.name,
            "{}",
            run.describe(&format!("{} under sh", client.name()))
        );
    }
    assert_cleaned_up(&env);
}

#[test]
fn yarn_1_reads_a_scoped_package_that_needs_the_token() {
    let reg = shared();
    let env = TestEnv::new();
    let user = reg.new_user("exec-yarn1");
    env.register_secret(&user.token);
    env.write_userconfig(&reg.npmrc_for(&user));
    let name = format!(
        "@rtok-exec/y1-{}-{:x}",
        std::process::id(),
        crate::support::verdaccio::random_u64()
    );
    let package = env.root.join("package");
    std::fs::create_dir(&package).expect("mkdir");
    std::fs::write(
        package.join("package.json"),
        format!("{{\"name\": \"{name}\", \"version\": \"2.0.0\"}}\n"),
    )
    .expect("package.json");
    env.npm()
        .current_dir(&package)
        .args(["publish", "--registry", &reg.url])
        .run()
        .success();
    let keyring = PrivateKeyring::start(&env);
    keyring
        .apply(env.rtok().args(["keyring", "import"]))
        .run()
        .success();

    let info = || {
        env.client(Client::Yarn1)
            .args(["info", &name, "version", "--json"])
    };
    let run = info().run();
    assert!(!run.stdout.contains("2.0.0"), "{}", run.describe("refused"));
    let run = through_exec(&env, &keyring, info()).run();
    run.success();
    assert_eq!(run.json()["data"], "2.0.0", "{}", run.describe("yarn 1"));
    assert_cleaned_up(&env);
}

#[test]
fn yarn_4_whoami_and_publish_with_no_yarnrc_entry() {
    let reg = shared();
    let env = TestEnv::new();
    let (keyring, user) = user_in_keyring(&env, reg, "exec-yarn4");
    write_yarnrc(&env, "");

    let run = env.client(Client::Yarn4).args(["npm", "whoami"]).run();
    assert_ne!(run.code, 0, "{}", run.describe("yarn 4 alone"));

    let run = through_exec(
        &env,
        &keyring,
        env.client(Client::Yarn4).args(["npm", "whoami"]),
    )
    .run();
    run.success();
    assert_eq!(
        yarn_user(&run),
        Some(user.name.clone()),
        "{}",
        run.describe("whoami")
    );
    assert!(run.stderr.is_empty(), "{}", run.describe("no note"));

    let name = format!(
        "rtok-exec-yarn4-{}-{:x}",
        std::process::id(),
        crate::support::verdaccio::random_u64()
    );
    let package = env.root.join("yarn-package");
    std::fs::create_dir(&package).expect("mkdir");
    std::fs::write(
        package.join("package.json"),
        format!("{{\"name\": \"{name}\", \"version\": \"1.0.0\"}}\n"),
    )
    .expect("package.json");
    std::fs::write(package.join("yarn.lock"), "").expect("yarn.lock");
    // A project with no dependency: the install only records the workspace.
    env.client(Client::Yarn4)
        .current_dir(&package)
        .arg("install")
        .run()
        .success();
    let run = through_exec(
        &env,
        &keyring,
        env.client(Client::Yarn4)
            .current_dir(&package)
            .args(["npm", "publish"]),
    )
    .run();
    run.success();
    assert_eq!(
        http_agent()
            .get(&format!("{}{name}", reg.url))
            .header("authorization", &format!("Bearer {}", user.token))
            .call()
            .expect("GET")
            .status(),
        200,
        "published"
    );
    assert_cleaned_up(&env);
    assert_no_file_contains(&env.root, &user.token);
}

#[test]
fn yarn_4_entries_exec_can_and_cannot_serve() {
    let reg = shared();
    let env = TestEnv::new();
    let (keyring, user) = user_in_keyring(&env, reg, "exec-yarnrc");
    let registry = reg.url.trim_end_matches('/');
    let whoami = || env.client(Client::Yarn4).args(["npm", "whoami"]);

    // An entry that refers to a variable: rtok sets it.
    write_yarnrc(
        &env,
        &format!("npmRegistries:\n  \"{registry}\":\n    npmAuthToken: \"${{MY_YARN_TOKEN:-}}\"\n"),
    );
    let run = whoami().run();
    assert_ne!(run.code, 0, "{}", run.describe("an empty token"));
    let run = through_exec(&env, &keyring, whoami()).run();
    run.success();
    assert_eq!(
        yarn_user(&run),
        Some(user.name.clone()),
        "{}",
        run.describe("reference")
    );

    // A literal token yarn prefers to every variable: exec says so, naming
    // the line; yarn goes on with that token.
    let stale = reg.new_user("exec-yarnrc-stale");
    env.register_secret(&stale.token);
    write_yarnrc(
        &env,
        &format!(
            "npmRegistries:\n  \"{registry}\":\n    npmAuthToken: \"{}\"\n",
            stale.token
        ),
    );
    let run = through_exec(&env, &keyring, whoami()).run();
    run.success();
    assert_eq!(
        yarn_user(&run),
        Some(stale.name.clone()),
        "{}",
        run.describe("literal")
    );
    let notes: Vec<&str> = run
        .stderr_lines()
        .into_iter()
        .filter(|l| l.contains("yarnrc"))
        .collect();
    assert_eq!(notes.len(), 1, "{}", run.describe("one note"));
    assert!(
        notes[0].contains(&format!(
            "{}:5: yarn sends this token to {}",
            env.yarnrc_yml().display(),
            reg.url
        )) && notes[0].contains("no variable can replace it"),
        "{}",
        notes[0]
    );

    // An entry without a token: yarn sends nothing, and exec says so.
    write_yarnrc(
        &env,
        &format!("npmRegistries:\n  \"{registry}\":\n    npmAlwaysAuth: true\n"),
    );
    let run = through_exec(&env, &keyring, whoami()).run();
    assert_ne!(run.code, 0, "{}", run.describe("no token"));
    assert!(
        run.stderr.contains(&format!(
            "{}:5: yarn sends nothing to {}: this `npmRegistries` entry has no token",
            env.yarnrc_yml().display(),
            reg.url
        )),
        "{}",
        run.describe("the note")
    );
    assert_cleaned_up(&env);
}

#[test]
fn the_temporary_userconfig_goes_when_rtok_gets_sigterm() {
    let env = TestEnv::new();
    env.write_userconfig(
        "registry=http://127.0.0.1:9/\n//127.0.0.1:9/:_authToken=npm_sigterm0123456789\n",
    );
    let tmp = exec_tmp(&env);
    std::fs::create_dir_all(&tmp).expect("mkdir");
    let mut rtok = raw_rtok(&env)
        .env("TMPDIR", &tmp)
        .args([
            "exec",
            "--",
            "sh",
            "-c",
            "trap 'exit 41' TERM; echo \"$NPM_CONFIG_USERCONFIG\"; while :; do sleep 0.05; done",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start rtok exec");
    let mut stdout = BufReader::new(rtok.stdout.take().expect("stdout"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("read the path");
    let path = PathBuf::from(line.trim());
    let folder = path.parent().expect("a folder").to_path_buf();
    let mode = |p: &Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&folder), 0o700);
    assert!(folder.starts_with(&tmp));
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(!text.contains("npm_sigterm"), "{text}");

    let sent = std::process::Command::new("kill")
        .args(["-TERM", &rtok.id().to_string()])
        .status()
        .expect("kill");
    assert!(sent.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = rtok.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = rtok.kill();
            panic!("rtok exec did not exit after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(status.code(), Some(41), "the child's status: {status:?}");
    assert!(
        !path.exists() && !folder.exists(),
        "left {}",
        folder.display()
    );
    assert_cleaned_up(&env);
}

#[test]
fn the_child_gets_one_userconfig_and_pnpm_auth_with_every_route() {
    let env = TestEnv::new();
    let configured = "npm_routesconfigured0123456789";
    let scoped = "npm_routesscoped0123456789";
    env.register_secret(configured);
    env.register_secret(scoped);
    env.write_userconfig(&format!(
        "registry=http://127.0.0.1:9/\n//127.0.0.1:9/:_authToken={configured}\n\
         @acme:registry=https://acme.example/npm/\n@two:registry=https://acme.example/npm/\n\
         //acme.example/npm/:_authToken={scoped}\n"
    ));
    let tmp = exec_tmp(&env);
    std::fs::create_dir_all(&tmp).expect("mkdir");
    let run = env
        .rtok()
        .env("TMPDIR", &tmp)
        .env("npm_config_userconfig", &env.userconfig)
        .env(
            "pnpm_config__auth",
            r#"{"https://mine.example/":{"@me":{"authToken":"x"}}}"#,
        )
        .args(["exec", "--", "env"])
        .allow_secret(configured)
        .allow_secret(scoped)
        .run();
    run.success();
    let vars: Vec<(&str, &str)> = run
        .stdout_lines()
        .into_iter()
        .filter_map(|l| l.split_once('='))
        .collect();
    let value = |name: &str| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
    let path = value("NPM_CONFIG_USERCONFIG").expect("NPM_CONFIG_USERCONFIG");
    assert!(Path::new(path).starts_with(&tmp), "{path}");
    assert_eq!(value("npm_config_userconfig"), Some(path), "one answer");
    assert_eq!(value("RTOK_TOKEN_1"), Some(configured));
    assert_eq!(value("RTOK_TOKEN_2"), Some(scoped));
    assert_eq!(
        value("YARN_NPM_REGISTRY_SERVER"),
        Some("http://127.0.0.1:9")
    );
    let auth: serde_json::Value =
        serde_json::from_str(value("pnpm_config__auth").expect("pnpm_config__auth")).expect("JSON");
    assert_eq!(
        auth,
        json!({
            "https://mine.example/": {"@me": {"authToken": "x"}},
            "http://127.0.0.1:9/": {"@": {"authToken": configured}},
            "https://acme.example/npm/": {"@acme": {"authToken": scoped}, "@two": {"authToken": scoped}},
        })
    );
    assert!(!Path::new(path).exists());
    assert_cleaned_up(&env);
}

/// yarn sends its top-level token to its own registry and to every scope
/// without a credential of its own: `YARN_NPM_AUTH_TOKEN` stays unset when
/// either is another host, with a note naming the line.
#[test]
fn yarns_top_level_token_never_goes_to_another_host() {
    let env = TestEnv::new();
    let secret = "npm_yarntoplevel0123456789";
    env.register_secret(secret);
    env.write_userconfig(&format!(
        "registry=https://registry.example/\n//registry.example/:_authToken={secret}\n"
    ));
    let yarnrc = env.project.join(".yarnrc.yml");
    let print = |env: &TestEnv| {
        env.rtok()
            .args([
                "exec",
                "--",
                "sh",
                "-c",
                "printf '%s|%s' \"$YARN_NPM_AUTH_TOKEN\" \"$YARN_NPM_REGISTRY_SERVER\"",
            ])
            .allow_secret(secret)
            .run()
    };

    // No file names yarn's registry: the configured one becomes it.
    let run = print(&env);
    run.success();
    assert_eq!(run.stdout, format!("{secret}|https://registry.example"));

    // The project names the same registry (yarn's spelling): kept, and
    // yarn's registry is left to the file.
    std::fs::write(&yarnrc, "npmRegistryServer: \"https://registry.example\"\n").expect("yarnrc");
    let run = print(&env);
    run.success();
    assert_eq!(run.stdout, format!("{secret}|"));

    // Another registry: unset, with a note.
    std::fs::write(
        &yarnrc,
        "npmRegistryServer: \"https://elsewhere.example\"\n",
    )
    .expect("yarnrc");
    let run = print(&env);
    run.success();
    assert_eq!(run.stdout, "|");
    assert!(
        run.stderr.contains(&format!(
            "`YARN_NPM_AUTH_TOKEN` is left unset for the command: {}:1 gives yarn a registry other than https://registry.example/",
            yarnrc.display()
        )),
        "{}",
        run.describe("the note")
    );

    // A scope sent elsewhere without a token of its own: unset.
    std::fs::write(
        &yarnrc,
        "npmScopes:\n  corp:\n    npmRegistryServer: \"https://corp.example\"\n",
    )
    .expect("yarnrc");
    let run = print(&env);
    run.success();
    assert_eq!(run.stdout, "|");
    assert!(
        run.stderr
            .contains("sends `@corp` to https://corp.example without a token of its own"),
        "{}",
        run.describe("the scope note")
    );

    // ... but with one, the top-level token goes nowhere else.
    std::fs::write(
        &yarnrc,
        "npmScopes:\n  corp:\n    npmRegistryServer: \"https://corp.example\"\n    npmAuthToken: \"${CORP_TOKEN:-}\"\n",
    )
    .expect("yarnrc");
    let run = print(&env);
    run.success();
    assert_eq!(run.stdout, format!("{secret}|https://registry.example"));
}
