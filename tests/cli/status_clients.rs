//! `rtok status` across clients: a row per credential in pnpm's `auth.ini`
//! and yarn's home `.yarnrc.yml`, each checked against the registry it is
//! configured for, with the real clients agreeing about which token their
//! file gives; broken client files are one-line errors and nothing is
//! written.

use crate::support::*;

/// The row whose source starts with `path:`.
fn row_from<'a>(rows: &'a [serde_json::Value], path: &std::path::Path) -> &'a serde_json::Value {
    let prefix = format!("{}:", path.display());
    rows.iter()
        .find(|r| r["source"].as_str().is_some_and(|s| s.starts_with(&prefix)))
        .unwrap_or_else(|| panic!("no row from {}: {rows:?}", path.display()))
}

#[test]
fn a_row_per_credential_in_auth_ini_and_the_home_yarnrc_each_checked() {
    let reg = shared();
    let npm_user = reg.new_user("stnpm");
    let pnpm_user = reg.new_user("stpnpm");
    let yarn_user = reg.new_user("styarn");
    let env = TestEnv::new();
    for user in [&npm_user, &pnpm_user, &yarn_user] {
        env.register_secret(&user.token);
    }
    let revoked = "npm_RevokedYarnScopeTokenAbCdEfGhIj0001";
    env.register_secret(revoked);
    env.write_userconfig(&reg.npmrc_for(&npm_user));
    env.write_client_credentials(
        Client::Pnpm11,
        &format!(
            "; written by pnpm login\n{}:_authToken={}\n",
            reg.nerf_dart(),
            pnpm_user.token
        ),
    );
    env.write_client_credentials(
        Client::Yarn4,
        &format!(
            "{}npmScopes:\n  corp:\n    npmRegistryServer: \"{}\"\n    npmAuthToken: {revoked}\n",
            yarnrc_for(&reg.url, &yarn_user.token),
            reg.url.trim_end_matches('/')
        ),
    );
    let before = file_tree(&env.root);

    let run = env.rtok().args(["status", "--json"]).run();
    run.failure(1);
    let rows = run.json();
    let rows = rows.as_array().expect("an array").clone();
    assert_eq!(rows.len(), 4, "{}", run.describe("four rows"));

    let npm = row_from(&rows, &env.userconfig);
    assert_eq!(npm["client"], "npm");
    assert_eq!(npm["user"], json!(npm_user.name));

    let pnpm = row_from(&rows, &env.pnpm_auth_ini());
    assert_eq!(pnpm["client"], "pnpm");
    assert_eq!(
        pnpm["source"],
        format!("{}:2", env.pnpm_auth_ini().display())
    );
    assert_eq!(pnpm["registry"], json!(reg.url));
    assert_eq!(pnpm["state"], "ok");
    assert_eq!(pnpm["user"], json!(pnpm_user.name));
    assert_eq!(pnpm["storage"], "file");

    let yarn: Vec<&serde_json::Value> = rows.iter().filter(|r| r["client"] == "yarn").collect();
    assert_eq!(yarn.len(), 2, "{rows:?}");
    assert_eq!(
        yarn[0]["source"],
        format!("{}:6", env.yarnrc_yml().display())
    );
    assert_eq!(yarn[0]["user"], json!(yarn_user.name));
    assert_eq!(yarn[0]["state"], "ok");
    assert_eq!(
        yarn[1]["source"],
        format!("{}:10", env.yarnrc_yml().display())
    );
    assert_eq!(yarn[1]["state"], "rejected");
    // The order: npm's files, then pnpm's, then yarn's.
    let clients: Vec<&str> = rows
        .iter()
        .map(|r| r["client"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(clients, ["npm", "pnpm", "yarn", "yarn"]);

    // The human table names the client of each row.
    let human = env.rtok().arg("status").run();
    human.failure(1);
    let line = human
        .stdout_lines()
        .into_iter()
        .find(|l| l.contains("auth.ini"))
        .map(str::to_string)
        .unwrap_or_else(|| panic!("{}", human.describe("an auth.ini row")));
    assert!(line.contains("| pnpm "), "{line}");
    assert_eq!(file_tree(&env.root), before, "status writes nothing");

    // The real clients send what the rows say their files give.
    let run = env.client(Client::Pnpm11).arg("whoami").run();
    run.success();
    assert_eq!(
        run.stdout.trim(),
        pnpm_user.name,
        "{}",
        run.describe("pnpm 11")
    );
    let run = env.client(Client::Yarn4).args(["npm", "whoami"]).run();
    run.success();
    assert!(
        run.stdout_lines()
            .iter()
            .any(|l| l.ends_with(&format!(" {}", yarn_user.name))),
        "{}",
        run.describe("yarn 4 npm whoami")
    );
}

#[test]
fn only_a_client_file_is_enough_and_an_unset_variable_is_a_row() {
    let reg = shared();
    let user = reg.new_user("stonly");
    let env = TestEnv::new();
    env.register_secret(&user.token);
    env.write_userconfig(&format!("registry={}\n", reg.url));
    env.write_client_credentials(
        Client::Pnpm11,
        &format!(
            "{nerf}:_authToken={}\n//other.example/:_authToken=${{RTOK_STATUS_UNSET}}\n",
            user.token,
            nerf = reg.nerf_dart()
        ),
    );
    let run = env.rtok().args(["status", "--json"]).run();
    run.failure(1);
    let rows = run.json();
    let rows = rows.as_array().expect("an array");
    assert_eq!(rows.len(), 2, "{}", run.describe("two rows"));
    assert_eq!(rows[0]["user"], json!(user.name));
    assert_eq!(rows[1]["registry"], "https://other.example/");
    assert_eq!(rows[1]["state"], "unset-variable");
    assert_eq!(rows[1]["variable"], "RTOK_STATUS_UNSET");
    assert_eq!(rows[1]["client"], "pnpm");
}

#[test]
fn broken_client_files_are_one_line_errors_and_nothing_is_written() {
    let reg = shared();
    let user = reg.new_user("stbroken");
    let env = TestEnv::new();
    env.register_secret(&user.token);
    env.write_userconfig(&reg.npmrc_for(&user));

    env.write_client_credentials(
        Client::Yarn4,
        &format!("npmAuthToken: {}\nnpmScopes: [\n", user.token),
    );
    let before = file_tree(&env.root);
    let run = env.rtok().arg("status").run();
    assert_error(&run, 1, &format!("{}: line ", env.yarnrc_yml().display()));
    assert!(
        run.stderr.contains("invalid YAML"),
        "{}",
        run.describe("why")
    );
    assert_eq!(file_tree(&env.root), before, "nothing written");
    std::fs::remove_file(env.yarnrc_yml()).expect("remove the yarnrc");

    std::fs::create_dir_all(env.pnpm_auth_ini()).expect("auth.ini as a folder");
    let before = file_tree(&env.root);
    let run = env.rtok().arg("status").run();
    assert_error(&run, 1, &env.pnpm_auth_ini().display().to_string());
    assert_eq!(file_tree(&env.root), before, "nothing written");
}
