//! `rtok refresh`: providers' fresh tokens written into the client files
//! (only the registry's own lines, every other byte kept), the expiry
//! recorded in rtok's settings (never the token), nothing done while the
//! written token lasts longer than `--min-remaining`, nothing written when
//! a provider fails; npm itself then reads the token.

use std::time::Duration;

use crate::support::*;

const HOUR: Duration = Duration::from_secs(3600);

/// A user config with comments, blank lines, CRLF, an old token for the
/// registry and another registry's token, which must all stay.
fn busy_npmrc(registry: &str, nerf: &str) -> String {
    format!(
        "; my settings\r\nregistry={registry}\r\n\r\n# the company registry\r\n{nerf}:_authToken=old-expired-token\r\n//other.example/:_authToken=other-registry-token\r\n@acme:registry=https://other.example/\r\n"
    )
}

#[test]
fn refresh_writes_only_the_registrys_line_and_then_leaves_it_alone() {
    let mock = MockRegistry::start(|_| Reply::json(200, json!({"username": "x"})));
    let env = TestEnv::new();
    env.register_secret("codeartifact-fresh-token-0123");
    env.register_secret("other-registry-token");
    let nerf = mock.nerf_dart();
    let npmrc = busy_npmrc(&mock.url(), &nerf);
    env.write_userconfig(&npmrc);
    let settings = format!(
        "# company\n[registry.\"{}\"]\nprovider = \"codeartifact\"   # AWS\ndomain = \"acme\"\n",
        mock.url()
    );
    env.write_rtok_settings(&settings);
    let tools = FakeTools::new(&env);
    tools.aws(1, "codeartifact-fresh-token-0123", 12 * HOUR);

    let run = tools.apply(env.rtok().arg("refresh")).run();
    run.success();
    assert!(
        run.stderr.contains("Wrote a fresh token for") && run.stderr.contains("(codeartifact)"),
        "{}",
        run.describe("what was written")
    );
    assert_eq!(
        env.read_userconfig(),
        npmrc.replace("old-expired-token", "codeartifact-fresh-token-0123"),
        "only the registry's token changed"
    );
    let text = std::fs::read_to_string(env.rtok_settings()).expect("settings");
    assert!(text.starts_with(&settings), "{text}");
    assert!(text.contains("refreshed-expires = \""), "{text}");
    assert!(text.contains("refreshed-fingerprint = \""), "{text}");
    assert!(
        !text.contains("codeartifact-fresh-token"),
        "no token in settings"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&env.userconfig)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // Again: the token lasts 12 hours, more than 15 minutes: nothing runs,
    // nothing changes, byte for byte.
    let written = std::fs::read(&env.userconfig).expect("read");
    let recorded = std::fs::read(env.rtok_settings()).expect("read");
    let run = tools
        .apply(env.rtok().args(["refresh", "--for", "npm"]))
        .run();
    run.success();
    assert!(
        run.stderr.contains("left alone"),
        "{}",
        run.describe("left alone")
    );
    assert_eq!(tools.calls("aws").len(), 1);
    assert_eq!(std::fs::read(&env.userconfig).expect("read"), written);
    assert_eq!(std::fs::read(env.rtok_settings()).expect("read"), recorded);

    // Asked for more than is left: fetched and written again.
    tools.aws(2, "codeartifact-second-token-456", 12 * HOUR);
    env.register_secret("codeartifact-second-token-456");
    let run = tools
        .apply(
            env.rtok()
                .args(["refresh", "--min-remaining", "13h", "--json"]),
        )
        .run();
    run.success();
    let rows = run.json();
    assert_eq!(rows["refreshed"][0]["action"], "written");
    assert_eq!(rows["refreshed"][0]["provider"], "codeartifact");
    assert_eq!(tools.calls("aws").len(), 2);
    assert_eq!(
        env.read_userconfig(),
        npmrc.replace("old-expired-token", "codeartifact-second-token-456")
    );
}

#[test]
fn a_token_close_to_expiry_is_refreshed_and_one_replaced_by_hand_is_rewritten() {
    let mock = MockRegistry::start(|_| Reply::json(200, json!({"username": "x"})));
    let env = TestEnv::new();
    for t in [
        "gh-token-first-0123",
        "gh-token-second-456",
        "typed-by-hand-789",
    ] {
        env.register_secret(t);
    }
    env.write_userconfig(&format!("registry={}\n", mock.url()));
    env.write_rtok_settings(&format!(
        "[registry.\"{}\"]\nprovider = \"azure\"\n",
        mock.url()
    ));
    let tools = FakeTools::new(&env);
    tools.az(1, "gh-token-first-0123", Duration::from_secs(600));
    tools.az(2, "gh-token-second-456", HOUR);
    tools.apply(env.rtok().arg("refresh")).run().success();
    // 10 minutes left, less than the default 15: refreshed.
    tools.apply(env.rtok().arg("refresh")).run().success();
    assert_eq!(tools.calls("az").len(), 2);
    let line = format!("{}:_authToken=gh-token-second-456", mock.nerf_dart());
    assert!(env.read_userconfig().contains(&line));

    // Someone replaced the line: it is no longer the token refresh wrote.
    env.write_userconfig(&format!(
        "registry={}\n{}:_authToken=typed-by-hand-789\n",
        mock.url(),
        mock.nerf_dart()
    ));
    tools.apply(env.rtok().arg("refresh")).run().success();
    assert!(env.read_userconfig().contains(&line), "rewritten");
}

#[test]
fn npm_reads_the_refreshed_token_from_the_file() {
    let reg = shared();
    let user = reg.new_user("refresh-npm");
    let env = TestEnv::new();
    env.register_secret(&user.token);
    env.write_userconfig(&format!("registry={}\n", reg.url));
    env.write_rtok_settings(&format!(
        "[registry.\"{}\"]\nprovider = \"gcloud\"\n",
        reg.url
    ));
    let tools = FakeTools::new(&env);
    tools.gcloud(1, &user.token);
    tools
        .apply(env.rtok().args(["refresh", "--all", "--for", "npm,pnpm"]))
        .run()
        .success();
    let run = env.npm().args(["whoami", "--registry", &reg.url]).run();
    run.success();
    assert_eq!(run.stdout.trim(), user.name);
}

#[test]
fn refresh_needs_a_provider_and_a_failing_one_writes_nothing() {
    let mock = MockRegistry::start(|_| Reply::json(200, json!({"username": "x"})));
    let env = TestEnv::new();
    let npmrc = format!("registry={}\n", mock.url());
    env.write_userconfig(&npmrc);
    let run = env.rtok().arg("refresh").run();
    assert_error(&run, 1, "has no provider");
    let run = env.rtok().args(["refresh", "--all"]).run();
    assert_error(&run, 1, "no registry in");

    // Two providers, the second failing: neither registry is written.
    env.write_rtok_settings(&format!(
        "[registry.\"{}\"]\nprovider = \"gh\"\n[registry.\"https://pkgs.example/npm/\"]\nprovider = \"gcloud\"\n",
        mock.url()
    ));
    env.register_secret("gho_would_be_written");
    let tools = FakeTools::new(&env);
    tools.gh(1, "gho_would_be_written");
    tools.queue(
        "gcloud",
        1,
        "",
        "ERROR: (gcloud.auth.print-access-token) You do not currently have an active account selected.\n",
        1,
    );
    let run = tools.apply(env.rtok().args(["refresh", "--all"])).run();
    assert_error(
        &run,
        1,
        "the `gcloud` provider (`gcloud auth print-access-token`)",
    );
    assert!(
        run.stderr
            .contains("You do not currently have an active account")
    );
    assert_eq!(env.read_userconfig(), npmrc);
    assert!(
        !std::fs::read_to_string(env.rtok_settings())
            .expect("settings")
            .contains("refreshed")
    );

    // `--for` takes only clients rtok knows.
    let run = env.rtok().args(["refresh", "--for", "bun"]).run();
    run.failure(2);
}

#[test]
fn doctor_finds_a_refreshed_token_that_expired_since() {
    let mock = MockRegistry::start(|_| Reply::json(401, json!({"error": "expired"})));
    let env = TestEnv::new();
    env.register_secret("gho_expired_in_the_file");
    let nerf = mock.nerf_dart();
    env.write_userconfig(&format!("registry={}\n", mock.url()));
    env.write_rtok_settings(&format!(
        "[registry.\"{}\"]\nprovider = \"gh\"\n",
        mock.url()
    ));
    let tools = FakeTools::new(&env);
    tools.gh(1, "gho_expired_in_the_file");
    tools.apply(env.rtok().arg("refresh")).run().success();
    // As if hours passed: the recorded expiry is in the past.
    let settings = std::fs::read_to_string(env.rtok_settings()).expect("settings");
    let start = settings.find("refreshed-expires = \"").expect("recorded") + 21;
    let end = start + settings[start..].find('"').expect("closing quote");
    env.write_rtok_settings(&format!(
        "{}2020-01-01T00:00:00.000Z{}",
        &settings[..start],
        &settings[end..]
    ));
    let run = tools.apply(env.rtok().args(["doctor", "--json"])).run();
    let findings = run.json()["findings"].clone();
    let stale = findings
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["code"] == "stale-provider-token")
        .unwrap_or_else(|| panic!("{}", run.describe("stale-provider-token")));
    assert_eq!(stale["severity"], "error");
    assert!(
        stale["hint"]
            .as_str()
            .is_some_and(|h| h.contains("rtok refresh"))
    );
    assert_eq!(stale["source"], env.userconfig.display().to_string());
    let _ = nerf;
}

#[test]
fn a_refreshed_files_token_stands_for_its_provider_in_rtok() {
    // The registry takes only the second token: the one refresh wrote has
    // been revoked (or has expired) since.
    let mock = MockRegistry::start(|req| match req.bearer() {
        Some("gho_second_token") => Reply::json(200, json!({"username": "renewed"})),
        _ => Reply::json(401, json!({"error": "bad token"})),
    });
    let env = TestEnv::new();
    env.register_secret("gho_first_token");
    env.register_secret("gho_second_token");
    let keyring = PrivateKeyring::start(&env);
    env.write_userconfig(&format!("registry={}\n", mock.url()));
    env.write_rtok_settings(&format!(
        "[registry.\"{}\"]\nprovider = \"gh\"\n",
        mock.url()
    ));
    let tools = FakeTools::new(&env);
    tools.gh(1, "gho_first_token");
    tools.gh(2, "gho_second_token");
    keyring
        .apply(tools.apply(env.rtok().arg("refresh")))
        .run()
        .success();
    // rtok itself: the file's token is the provider's, so the 401 renews it.
    let run = keyring.apply(tools.apply(env.rtok().arg("whoami"))).run();
    run.success();
    assert_eq!(run.stdout.trim(), "renewed");
    assert_eq!(tools.calls("gh").len(), 2);
    // A token the user wrote by hand is theirs: never renewed.
    env.write_userconfig(&format!(
        "registry={}\n{}:_authToken=gho_first_token\n# mine\n",
        mock.url(),
        mock.nerf_dart()
    ));
    std::fs::write(
        env.rtok_settings(),
        format!("[registry.\"{}\"]\nprovider = \"gh\"\n", mock.url()),
    )
    .expect("settings");
    let run = keyring.apply(tools.apply(env.rtok().arg("whoami"))).run();
    run.failure(4);
    assert_eq!(tools.calls("gh").len(), 2);
}

#[test]
fn refresh_for_every_client_writes_each_file_and_a_second_run_changes_nothing() {
    use crate::support::clients::Client;
    let mock = MockRegistry::start(|_| Reply::json(200, json!({"username": "x"})));
    let env = TestEnv::new();
    env.register_secret("codeartifact-every-client-token");
    let url = mock.url();
    let nerf = mock.nerf_dart();
    let npmrc = busy_npmrc(&url, &nerf);
    let auth_ini =
        format!("; pnpm, mine\r\n{nerf}:_authToken=old-expired-token\r\nstrict-ssl=true\r\n");
    let yarnrc = format!(
        "# yarn, mine\nnpmRegistries:\n  \"{}\":   # the company registry\n    npmAuthToken: old-expired-token\n    npmAlwaysAuth: true\n",
        url.trim_end_matches('/')
    );
    env.write_userconfig(&npmrc);
    env.write_client_credentials(Client::Pnpm11, &auth_ini);
    env.write_client_credentials(Client::Yarn4, &yarnrc);
    env.write_rtok_settings(&format!(
        "[registry.\"{url}\"]\nprovider = \"codeartifact\"\ndomain = \"acme\"\n"
    ));
    let tools = FakeTools::new(&env);
    tools.aws(1, "codeartifact-every-client-token", 12 * HOUR);

    let run = tools
        .apply(env.rtok().args(["refresh", "--for", "npm,pnpm,yarn"]))
        .run();
    run.success();
    let fresh = |text: &str| text.replace("old-expired-token", "codeartifact-every-client-token");
    assert_eq!(env.read_userconfig(), fresh(&npmrc));
    let read = |path: &std::path::Path| std::fs::read_to_string(path).expect("read");
    assert_eq!(read(&env.pnpm_auth_ini()), fresh(&auth_ini));
    assert_eq!(read(&env.yarnrc_yml()), fresh(&yarnrc));

    // The token lasts 12 hours: a second run fetches nothing and writes nothing.
    let before: Vec<Vec<u8>> = [
        env.userconfig.clone(),
        env.pnpm_auth_ini(),
        env.yarnrc_yml(),
        env.rtok_settings(),
    ]
    .iter()
    .map(|p| std::fs::read(p).expect("read"))
    .collect();
    let run = tools
        .apply(env.rtok().args(["refresh", "--for", "npm,pnpm,yarn"]))
        .run();
    run.success();
    assert!(
        run.stderr.contains("left alone"),
        "{}",
        run.describe("left alone")
    );
    let after: Vec<Vec<u8>> = [
        env.userconfig.clone(),
        env.pnpm_auth_ini(),
        env.yarnrc_yml(),
        env.rtok_settings(),
    ]
    .iter()
    .map(|p| std::fs::read(p).expect("read"))
    .collect();
    assert_eq!(before, after, "byte for byte");
}
