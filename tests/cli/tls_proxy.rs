//! HTTPS registries with a private CA, client certificates, proxies, and
//! credential hygiene over plain HTTP.

use crate::support::*;

fn whoami_handler(path: &str, auth: Option<&str>) -> (u16, String) {
    match (path, auth) {
        ("/-/whoami", Some("Bearer tls-token")) => (200, r#"{"username":"tls-user"}"#.into()),
        _ => (401, r#"{"error":"no"}"#.into()),
    }
}

fn tls_env(registry: &TlsRegistry, extra: &str) -> TestEnv {
    let env = TestEnv::new();
    env.register_secret("tls-token");
    env.write_userconfig(&format!(
        "registry={}\n//127.0.0.1:{}/:_authToken=tls-token\nfetch-retries=0\n{extra}",
        registry.url(),
        registry.port()
    ));
    env
}

#[test]
fn cafile_trusts_a_private_ca() {
    let ca = TestCa::new("rtok test CA");
    let registry = TlsRegistry::start(&ca.server(), None, whoami_handler);
    let env = TestEnv::new();
    let cafile = ca.write(&env.root);
    let env = tls_env(&registry, &format!("cafile={}\n", cafile.display()));
    let run = env.rtok().arg("whoami").run();
    run.success();
    assert_eq!(run.stdout.trim(), "tls-user");
}

#[test]
fn node_extra_ca_certs_is_honoured_as_node_does() {
    let ca = TestCa::new("rtok node CA");
    let registry = TlsRegistry::start(&ca.server(), None, whoami_handler);
    let env = tls_env(&registry, "");
    let cafile = ca.write(&env.root);
    let run = env
        .rtok()
        .arg("whoami")
        .env("NODE_EXTRA_CA_CERTS", &cafile)
        .run();
    run.success();
    assert_eq!(run.stdout.trim(), "tls-user");
    let run = env
        .rtok()
        .arg("whoami")
        .env("NODE_EXTRA_CA_CERTS", env.root.join("missing.pem"))
        .run();
    assert!(
        run.stderr.contains("warning: ignoring NODE_EXTRA_CA_CERTS"),
        "{}",
        run.describe("a warning")
    );
    assert_error(&run, 1, "certificate");
}

#[test]
fn inline_ca_trusts_a_private_ca() {
    let ca = TestCa::new("rtok inline CA");
    let registry = TlsRegistry::start(&ca.server(), None, whoami_handler);
    // As npm users write it: one line, JSON-quoted, `\n` escapes.
    let quoted = serde_json::Value::String(ca.pem.clone()).to_string();
    let env = tls_env(&registry, &format!("ca={quoted}\n"));
    let run = env.rtok().arg("whoami").run();
    run.success();
    assert_eq!(run.stdout.trim(), "tls-user");
}

#[test]
fn a_certificate_from_an_unknown_ca_is_refused() {
    let ca = TestCa::new("nobody trusts me");
    let registry = TlsRegistry::start(&ca.server(), None, whoami_handler);
    let env = tls_env(&registry, "");
    let run = env.rtok().arg("whoami").run();
    assert_error(
        &run,
        1,
        "TLS failed: invalid peer certificate: UnknownIssuer",
    );
    assert!(
        hint(&run).contains("cafile"),
        "{}",
        run.describe("a TLS hint")
    );
    assert!(
        registry.requests.lock().expect("lock").is_empty(),
        "no request got through"
    );
}

#[test]
fn strict_ssl_false_is_honoured_with_a_warning() {
    let ca = TestCa::new("unknown but tolerated");
    let registry = TlsRegistry::start(&ca.server(), None, whoami_handler);
    let env = tls_env(&registry, "strict-ssl=false\n");
    let run = env.rtok().arg("whoami").run();
    run.success();
    assert_eq!(run.stdout.trim(), "tls-user");
    assert!(
        run.stderr.contains("warning: `strict-ssl` is false"),
        "{}",
        run.describe("a warning")
    );
}

#[test]
fn client_certificates_come_from_the_nerf_dart() {
    let ca = TestCa::new("mtls CA");
    let registry = TlsRegistry::start(&ca.server(), Some(&ca), whoami_handler);
    let env = TestEnv::new();
    let cafile = ca.write(&env.root);
    let (cert, key) = ca.client().write(&env.root, "client");
    let base = format!("cafile={}\n", cafile.display());

    let without = tls_env(&registry, &base);
    assert_error(&without.rtok().arg("whoami").run(), 1, "TLS failed");

    let with = tls_env(
        &registry,
        &format!(
            "{base}//127.0.0.1:{port}/:certfile={}\n//127.0.0.1:{port}/:keyfile={}\n",
            cert.display(),
            key.display(),
            port = registry.port()
        ),
    );
    let run = with.rtok().arg("whoami").run();
    run.success();
    assert!(
        registry
            .requests
            .lock()
            .expect("lock")
            .iter()
            .any(|(_, cert)| *cert)
    );
}

#[test]
fn https_goes_through_a_connect_proxy_unless_noproxy() {
    let ca = TestCa::new("proxy CA");
    let registry = TlsRegistry::start(&ca.server(), None, whoami_handler);
    let proxy = ConnectProxy::start();
    let env = TestEnv::new();
    let cafile = ca.write(&env.root);
    let base = format!("cafile={}\n", cafile.display());

    let env = tls_env(&registry, &format!("{base}https-proxy={}\n", proxy.url()));
    env.rtok().arg("whoami").run().success();
    assert_eq!(
        *proxy.targets.lock().expect("lock"),
        [format!("CONNECT 127.0.0.1:{}", registry.port())]
    );

    // The environment variable works too, and noproxy bypasses it.
    let env = tls_env(&registry, &format!("{base}noproxy=127.0.0.1\n"));
    env.rtok()
        .arg("whoami")
        .env("HTTPS_PROXY", proxy.url())
        .run()
        .success();
    assert_eq!(
        proxy.targets.lock().expect("lock").len(),
        1,
        "noproxy was ignored"
    );
    let env = tls_env(&registry, &base);
    env.rtok()
        .arg("whoami")
        .env("HTTPS_PROXY", proxy.url())
        .run()
        .success();
    assert_eq!(proxy.targets.lock().expect("lock").len(), 2);
}

#[test]
fn credentials_over_plain_http_to_another_host_get_a_warning() {
    // A plain-HTTP forward proxy (the mock) stands in for the network, so a
    // non-loopback host name can be used without DNS.
    let proxy = MockRegistry::start(|_| Reply::json(200, json!({"username": "u"})));
    let env = TestEnv::new();
    env.register_secret("plain-token");
    env.write_userconfig(&format!(
        "registry=http://registry.example.test/\n//registry.example.test/:_authToken=plain-token\nproxy={}\n",
        proxy.url()
    ));
    let run = env.rtok().arg("whoami").run();
    run.success();
    let warnings: Vec<&str> = run
        .stderr_lines()
        .into_iter()
        .filter(|l| l.starts_with("warning:"))
        .collect();
    assert_eq!(warnings.len(), 1, "{}", run.describe("one warning"));
    assert!(
        warnings[0].contains("plain HTTP to registry.example.test"),
        "{}",
        warnings[0]
    );
    let request = &proxy.requests()[0];
    assert_eq!(
        request.path, "http://registry.example.test/-/whoami",
        "absolute-form through the proxy"
    );

    // Loopback registries (a local Verdaccio) get no warning.
    let local = MockRegistry::start(|_| Reply::json(200, json!({"username": "u"})));
    let env = TestEnv::new();
    env.write_userconfig(&npmrc_for_mock(&local.url(), "tok"));
    let run = env.rtok().arg("whoami").run();
    run.success();
    assert!(
        run.stderr.is_empty(),
        "{}",
        run.describe("no warning for loopback")
    );
}

#[test]
fn a_readable_config_holding_a_token_gets_a_chmod_hint() {
    let local = MockRegistry::start(|_| Reply::json(200, json!({"username": "u"})));
    let env = TestEnv::new();
    env.write_userconfig(&npmrc_for_mock(&local.url(), "tok"));
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&env.userconfig, std::fs::Permissions::from_mode(0o644))
        .expect("chmod");
    let run = env.rtok().arg("whoami").run();
    run.success();
    assert!(
        run.stderr
            .contains(&format!("run `chmod 600 {}`", env.userconfig.display())),
        "{}",
        run.describe("the chmod hint")
    );
}
