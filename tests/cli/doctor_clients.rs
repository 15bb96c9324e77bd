//! `rtok doctor` across clients: which clients the folder uses, what each
//! sends by its own precedence, and the findings that come of it, each
//! shown to be true with the real client (pnpm 11 and 12, yarn 4, npm)
//! against Verdaccio; broken client files; nothing written.

use crate::support::*;

fn doctor(env: &TestEnv) -> Run {
    env.rtok().args(["doctor", "--json"]).run()
}

fn package_json(env: &TestEnv, text: &str) {
    std::fs::write(env.project.join("package.json"), text).expect("write package.json");
}

/// The findings with this code.
fn findings(run: &Run, code: &str) -> Vec<serde_json::Value> {
    run.json()["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", run.describe("a findings array")))
        .iter()
        .filter(|f| f["code"] == code)
        .cloned()
        .collect()
}

/// The one finding with this code.
fn finding(run: &Run, code: &str) -> serde_json::Value {
    let all = findings(run, code);
    assert_eq!(all.len(), 1, "{}", run.describe(&format!("one `{code}`")));
    all[0].clone()
}

/// What `client` sends to the configured registry, per doctor's JSON.
fn sent_by(run: &Run, client: &str) -> serde_json::Value {
    let report = run.json();
    report["registries"][0]["clients"]
        .as_array()
        .and_then(|all| all.iter().find(|c| c["client"] == client).cloned())
        .unwrap_or_else(|| panic!("{}", run.describe(&format!("a `{client}` entry"))))
}

/// A yarn 4 home file that points at `reg` (and lets yarn use plain
/// http there) without a credential.
fn yarnrc_without_token(reg: &Verdaccio) -> String {
    yarnrc_for(&reg.url, "unused")
        .lines()
        .take_while(|l| !l.starts_with("npmRegistries"))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn a_stale_auth_ini_token_hides_the_working_npmrc_one_for_pnpm() {
    let reg = shared();
    let user = reg.new_user("dcpnpm");
    let env = TestEnv::new();
    env.register_secret(&user.token);
    let stale = "npm_StaleAuthIniTokenFromAnOldPnpmLogin01";
    env.register_secret(stale);
    env.write_userconfig(&reg.npmrc_for(&user));
    env.write_client_credentials(
        Client::Pnpm11,
        &format!("{}:_authToken={stale}\n", reg.nerf_dart()),
    );
    std::fs::write(
        env.project.join("pnpm-lock.yaml"),
        "lockfileVersion: '9.0'\n",
    )
    .expect("lockfile");
    let before = file_tree(&env.root);

    let run = doctor(&env);
    run.failure(1);
    let found = finding(&run, "shadowed-by-client-file");
    assert_eq!(found["severity"], "error", "{found}");
    assert_eq!(
        found["source"],
        format!("{}:1", env.pnpm_auth_ini().display())
    );
    let hint = found["hint"].as_str().expect("hint");
    assert!(hint.contains("--for pnpm"), "{hint}");
    assert!(hint.contains("line 1 of"), "{hint}");
    // It says it all: not also a disagreement.
    assert!(findings(&run, "client-disagreement").is_empty());
    let pnpm = sent_by(&run, "pnpm");
    assert_eq!(pnpm["flavor"], "pnpm 11+");
    assert_eq!(pnpm["state"], "rejected");
    assert_eq!(pnpm["hidden"][0]["user"], json!(user.name));
    let clients: Vec<&str> = run.json()["clients"]
        .as_array()
        .expect("clients")
        .iter()
        .map(|c| c["flavor"].as_str().unwrap_or_default())
        .collect::<Vec<_>>()
        .into_iter()
        .map(|s| if s == "npm" { "npm" } else { "pnpm" })
        .collect();
    assert_eq!(clients, ["npm", "pnpm"]);
    assert_eq!(file_tree(&env.root), before, "doctor writes nothing");

    // True: npm sends the .npmrc token, pnpm 11 and 12 the stale one.
    let run = env.npm().arg("whoami").run();
    run.success();
    assert_eq!(run.stdout.trim(), user.name);
    // (Verdaccio answers a token it does not know as anonymous: pnpm prints
    // no user.)
    for client in [Client::Pnpm11, Client::Pnpm12] {
        let run = env.client(client).arg("whoami").run();
        assert!(
            !run.stdout.contains(&user.name),
            "{}",
            run.describe(client.name())
        );
    }
    // Without the auth.ini line, pnpm sends the .npmrc token.
    std::fs::write(env.pnpm_auth_ini(), "").expect("empty auth.ini");
    let run = env.client(Client::Pnpm11).arg("whoami").run();
    run.success();
    assert_eq!(run.stdout.trim(), user.name, "{}", run.describe("pnpm 11"));
}

#[test]
fn another_users_token_in_auth_ini_is_a_warning_and_pnpm_really_sends_it() {
    let reg = shared();
    let npm_user = reg.new_user("dcnpm");
    let pnpm_user = reg.new_user("dcpnpmother");
    let env = TestEnv::new();
    env.register_secret(&npm_user.token);
    env.register_secret(&pnpm_user.token);
    env.write_userconfig(&reg.npmrc_for(&npm_user));
    env.write_client_credentials(
        Client::Pnpm11,
        &format!("{}:_authToken={}\n", reg.nerf_dart(), pnpm_user.token),
    );
    package_json(
        &env,
        r#"{"name": "tool", "packageManager": "pnpm@12.26.0"}"#,
    );
    let run = doctor(&env);
    run.success();
    let found = finding(&run, "shadowed-by-client-file");
    assert_eq!(found["severity"], "warning", "{found}");
    assert_eq!(sent_by(&run, "pnpm")["user"], json!(pnpm_user.name));
    assert_eq!(
        run.json()["clients"][1]["because"],
        "packageManager in package.json"
    );

    // Outside the project, so pnpm 12 does not fetch the pinned pnpm (and
    // not in HOME, whose .npmrc pnpm would read as the project's).
    let elsewhere = env.root.join("elsewhere");
    std::fs::create_dir_all(&elsewhere).expect("mkdir");
    let run = env
        .client(Client::Pnpm12)
        .arg("whoami")
        .current_dir(&elsewhere)
        .run();
    run.success();
    assert_eq!(
        run.stdout.trim(),
        pnpm_user.name,
        "{}",
        run.describe("pnpm 12")
    );
}

#[test]
fn npm_and_yarn_sending_different_tokens_is_a_disagreement() {
    let reg = shared();
    let npm_user = reg.new_user("dcdisnpm");
    let yarn_user = reg.new_user("dcdisyarn");
    let env = TestEnv::new();
    env.register_secret(&npm_user.token);
    env.register_secret(&yarn_user.token);
    env.write_userconfig(&reg.npmrc_for(&npm_user));
    env.write_client_credentials(Client::Yarn4, &yarnrc_for(&reg.url, &yarn_user.token));
    package_json(&env, r#"{"name": "tool", "packageManager": "yarn@4.18.1"}"#);

    let run = doctor(&env);
    run.success();
    let found = finding(&run, "client-disagreement");
    assert_eq!(found["severity"], "warning");
    assert_eq!(found["source"], format!("{}:6", env.yarnrc_yml().display()));
    assert!(
        found["hint"]
            .as_str()
            .is_some_and(|h| h.contains("--for npm,yarn")),
        "{found}"
    );
    let yarn = sent_by(&run, "yarn");
    assert_eq!(yarn["flavor"], "yarn berry");
    assert_eq!(yarn["user"], json!(yarn_user.name));
    // `rtok exec` could not replace yarn's own literal token either.
    let cannot = finding(&run, "yarn-exec-cannot-hand");
    assert_eq!(cannot["severity"], "warning");
    assert_eq!(
        cannot["source"],
        format!("{}:6", env.yarnrc_yml().display())
    );

    // True: each client sends its own.
    let run = env.npm().arg("whoami").run();
    assert_eq!(run.stdout.trim(), npm_user.name, "{}", run.describe("npm"));
    let run = env.client(Client::Yarn4).args(["npm", "whoami"]).run();
    run.success();
    assert!(
        run.stdout_lines()
            .iter()
            .any(|l| l.ends_with(&format!(" {}", yarn_user.name))),
        "{}",
        run.describe("yarn 4")
    );

    // The same token everywhere: no finding.
    env.write_client_credentials(Client::Yarn4, &yarnrc_for(&reg.url, &npm_user.token));
    let run = doctor(&env);
    run.success();
    assert!(findings(&run, "client-disagreement").is_empty());
    assert!(findings(&run, "yarn-exec-cannot-hand").is_empty());
}

#[test]
fn a_yarn_project_whose_token_is_only_in_the_npmrc_needs_a_yarnrc() {
    let reg = shared();
    let user = reg.new_user("dcneeds");
    let env = TestEnv::new();
    env.register_secret(&user.token);
    env.write_userconfig(&reg.npmrc_for(&user));
    env.write_client_credentials(Client::Yarn4, &yarnrc_without_token(reg));
    std::fs::write(env.project.join("yarn.lock"), "__metadata:\n  version: 8\n")
        .expect("yarn.lock");

    let run = doctor(&env);
    run.success();
    let found = finding(&run, "yarn-needs-yarnrc");
    assert_eq!(found["severity"], "warning");
    assert!(
        found["hint"]
            .as_str()
            .is_some_and(|h| h.contains("--for yarn")),
        "{found}"
    );
    assert_eq!(sent_by(&run, "yarn")["state"], serde_json::Value::Null);

    // True: yarn 4 sends nothing.
    let run = env.client(Client::Yarn4).args(["npm", "whoami"]).run();
    assert_ne!(run.code, 0, "{}", run.describe("yarn 4"));
    assert!(run.stdout.contains("YN0033"), "{}", run.describe("yarn 4"));
}

#[test]
fn an_unset_variable_in_a_yarnrc_is_an_error_that_stops_yarn() {
    let reg = shared();
    let user = reg.new_user("dcunset");
    let env = TestEnv::new();
    env.register_secret(&user.token);
    env.write_userconfig(&reg.npmrc_for(&user));
    env.write_client_credentials(Client::Yarn4, &yarnrc_without_token(reg));
    let project_rc = env.project.join(".yarnrc.yml");
    std::fs::write(
        &project_rc,
        "# the CI passes the token\nnpmAuthToken: ${RTOK_DOCTOR_UNSET}\n",
    )
    .expect("project .yarnrc.yml");

    let run = doctor(&env);
    run.failure(1);
    let found = finding(&run, "yarn-unset-variable");
    assert_eq!(found["severity"], "error");
    assert_eq!(found["source"], format!("{}:2", project_rc.display()));
    assert!(
        run.stderr.contains("yarn-unset-variable"),
        "{}",
        run.describe("the error line")
    );

    let run = env.client(Client::Yarn4).args(["npm", "whoami"]).run();
    assert_ne!(run.code, 0, "{}", run.describe("yarn 4"));
    assert!(
        format!("{}{}", run.stdout, run.stderr).contains("RTOK_DOCTOR_UNSET"),
        "{}",
        run.describe("yarn 4 names the variable")
    );

    // With a default, yarn goes on: no finding.
    std::fs::write(&project_rc, "npmAuthToken: ${RTOK_DOCTOR_UNSET:-}\n").expect("write");
    let run = doctor(&env);
    assert!(
        findings(&run, "yarn-unset-variable").is_empty(),
        "{}",
        run.describe("none")
    );
}

#[test]
fn a_scope_specific_token_in_the_npmrc_is_one_npm_ignores() {
    let reg = shared();
    let user = reg.new_user("dcscoped");
    let env = TestEnv::new();
    env.register_secret(&user.token);
    env.write_userconfig(&format!(
        "registry={}\n{}:@corp:_authToken={}\n",
        reg.url,
        reg.nerf_dart(),
        user.token
    ));
    let run = doctor(&env);
    let found = finding(&run, "npm-ignores-scoped-token");
    assert_eq!(found["severity"], "warning");
    assert_eq!(found["source"], format!("{}:2", env.userconfig.display()));
    // True: npm sends nothing for the registry.
    let run = env.npm().arg("whoami").run();
    assert_ne!(run.code, 0, "{}", run.describe("npm ignores the key"));
}

#[test]
fn broken_client_files_are_one_line_errors_and_nothing_is_written() {
    let reg = shared();
    let user = reg.new_user("dcbroken");
    let env = TestEnv::new();
    env.register_secret(&user.token);
    env.write_userconfig(&reg.npmrc_for(&user));
    let project_rc = env.project.join(".yarnrc.yml");
    std::fs::write(&project_rc, "npmRegistryServer: \"x\"\nnpmScopes: {\n").expect("write");
    let before = file_tree(&env.root);
    let run = env.rtok().arg("doctor").run();
    assert_error(&run, 1, &format!("{}: line ", project_rc.display()));
    assert_eq!(file_tree(&env.root), before);
    std::fs::remove_file(&project_rc).expect("rm");

    std::fs::create_dir_all(env.pnpm_auth_ini()).expect("auth.ini as a folder");
    let before = file_tree(&env.root);
    let run = env.rtok().arg("doctor").run();
    assert_error(&run, 1, &env.pnpm_auth_ini().display().to_string());
    assert_eq!(file_tree(&env.root), before);
}

#[test]
fn an_unset_variable_in_auth_ini_is_an_empty_token_that_hides_the_npmrc_one() {
    let reg = shared();
    let user = reg.new_user("dcempty");
    let env = TestEnv::new();
    env.register_secret(&user.token);
    env.write_userconfig(&reg.npmrc_for(&user));
    env.write_client_credentials(
        Client::Pnpm11,
        &format!("{}:_authToken=${{RTOK_PNPM_UNSET}}\n", reg.nerf_dart()),
    );
    std::fs::write(
        env.project.join("pnpm-lock.yaml"),
        "lockfileVersion: '9.0'\n",
    )
    .expect("lockfile");
    let run = doctor(&env);
    run.failure(1);
    let found = finding(&run, "shadowed-by-client-file");
    assert_eq!(found["severity"], "error", "{found}");
    let pnpm = sent_by(&run, "pnpm");
    assert_eq!(pnpm["state"], "unset-variable");
    assert_eq!(pnpm["variable"], "RTOK_PNPM_UNSET");

    // True: pnpm sends no token at all, though ~/.npmrc has a good one.
    let run = env.client(Client::Pnpm11).arg("whoami").run();
    assert_ne!(run.code, 0, "{}", run.describe("pnpm 11"));
    assert!(
        !run.stdout.contains(&user.name),
        "{}",
        run.describe("pnpm 11")
    );
    eprintln!(
        "pnpm 11 with an empty auth.ini token: {}",
        run.stderr.trim()
    );
}

/// The user the real yarn 4's `npm whoami` prints, if any.
fn yarn_whoami(env: &TestEnv, extra: &[(&str, &str)]) -> Option<String> {
    let mut command = env.client(Client::Yarn4).args(["npm", "whoami"]);
    for (name, value) in extra {
        command = command.env(name, value);
    }
    let run = command.run();
    if run.code != 0 {
        return None;
    }
    run.stdout_lines()
        .iter()
        .find(|l| l.starts_with("➤ YN0000: ") && !l.contains("Done"))
        .map(|l| l.trim_start_matches("➤ YN0000: ").trim().to_string())
}

#[test]
fn what_doctor_says_each_client_sends_is_what_the_real_client_sends() {
    let reg = shared();
    let users: Vec<User> = (0..4).map(|_| reg.new_user("dcreal")).collect();
    let env = TestEnv::new();
    for user in &users {
        env.register_secret(&user.token);
    }
    std::fs::write(
        env.project.join("pnpm-lock.yaml"),
        "lockfileVersion: '9.0'\n",
    )
    .expect("pnpm-lock.yaml");
    std::fs::write(env.project.join("yarn.lock"), "__metadata:\n  version: 8\n")
        .expect("yarn.lock");

    // pnpm: the project's literal token beats auth.ini (and npm reads it too).
    env.write_userconfig(&format!("registry={}\n", reg.url));
    env.write_client_credentials(
        Client::Pnpm11,
        &format!("{}:_authToken={}\n", reg.nerf_dart(), users[0].token),
    );
    let project_npmrc = env.project.join(".npmrc");
    std::fs::write(
        &project_npmrc,
        format!("{}:_authToken={}\n", reg.nerf_dart(), users[1].token),
    )
    .expect("project .npmrc");
    // yarn: the home file names the registry without a trailing slash, the
    // project's with one; they are one entry, and the nearer file wins.
    env.write_client_credentials(Client::Yarn4, &yarnrc_for(&reg.url, &users[2].token));
    std::fs::write(
        env.project.join(".yarnrc.yml"),
        format!(
            "npmRegistries:\n  \"{}/\":\n    npmAuthToken: {}\n",
            reg.url.trim_end_matches('/'),
            users[3].token
        ),
    )
    .expect("project .yarnrc.yml");

    let run = doctor(&env);
    assert_eq!(
        sent_by(&run, "pnpm")["user"],
        json!(users[1].name),
        "{}",
        run.describe("pnpm")
    );
    assert_eq!(
        sent_by(&run, "yarn")["user"],
        json!(users[3].name),
        "{}",
        run.describe("yarn")
    );
    let run = env.client(Client::Pnpm11).arg("whoami").run();
    assert_eq!(
        run.stdout.trim(),
        users[1].name,
        "{}",
        run.describe("pnpm 11")
    );
    assert_eq!(
        yarn_whoami(&env, &[]).as_deref(),
        Some(users[3].name.as_str())
    );

    // YARN_NPM_AUTH_TOKEN loses to a matching npmRegistries entry.
    std::fs::remove_file(env.project.join(".yarnrc.yml")).expect("rm");
    let with_env = env
        .rtok()
        .args(["doctor", "--json"])
        .env("YARN_NPM_AUTH_TOKEN", &users[0].token)
        .run();
    assert_eq!(
        sent_by(&with_env, "yarn")["user"],
        json!(users[2].name),
        "{}",
        with_env.describe("yarn with YARN_NPM_AUTH_TOKEN")
    );
    assert_eq!(
        yarn_whoami(&env, &[("YARN_NPM_AUTH_TOKEN", &users[0].token)]).as_deref(),
        Some(users[2].name.as_str())
    );
}
