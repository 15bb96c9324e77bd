//! Tests of the test support itself: if these fail, no command test's result
//! means anything.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::*;

// ---------------------------------------------------------------- helpers

/// Runs `f`, expecting it to panic, and returns the panic message.
fn panic_message(f: impl FnOnce()) -> String {
    let err = catch_unwind(AssertUnwindSafe(f)).expect_err("expected a panic");
    err.downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "(non-string panic)".to_owned())
}

fn process_exists(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

// ---------------------------------------------------------------- env

#[test]
fn commands_run_isolated_in_the_test_env() {
    let env = TestEnv::new();
    assert!(env.project.join("package.json").is_file());
    assert!(env.home.is_dir());
    assert_eq!(env.userconfig, env.home.join(".npmrc"));
    assert!(!env.globalconfig.exists());

    let run = env.command("env").run();
    run.success();
    let vars: Vec<(&str, &str)> = run
        .stdout_lines()
        .into_iter()
        .filter_map(|l| l.split_once('='))
        .collect();
    let get = |name: &str| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
    assert_eq!(get("HOME"), env.home.to_str());
    assert_eq!(get("NO_COLOR"), Some("1"));
    assert_eq!(get("NPM_CONFIG_GLOBALCONFIG"), env.globalconfig.to_str());
    assert!(get("PATH").is_some(), "PATH is kept");
    for (name, _) in &vars {
        let upper = name.to_ascii_uppercase();
        let allowed = upper == "NPM_CONFIG_GLOBALCONFIG";
        assert!(
            allowed || !(upper.starts_with("NPM_") || upper.ends_with("_PROXY")),
            "{name} reached the child"
        );
    }

    // The parent's environment cannot be changed safely in a multi-threaded
    // test binary, so the filter itself is checked directly.
    use crate::support::env::is_removed_var;
    for name in [
        "npm_config_registry",
        "NPM_CONFIG_USERCONFIG",
        "Npm_Config__authToken",
        "NPM_TOKEN",
        "NODE_AUTH_TOKEN",
        "HTTPS_PROXY",
        "https_proxy",
        "NO_PROXY",
        "BROWSER",
        "NODE_OPTIONS",
        "RTOK_REGISTRY",
    ] {
        assert!(is_removed_var(name.as_ref()), "{name} must be removed");
    }
    for name in ["PATH", "LANG", "TERM", "USER"] {
        assert!(!is_removed_var(name.as_ref()), "{name} must be kept");
    }

    // The working directory is the project; relative dirs are under it.
    assert_eq!(
        env.command("pwd").run().stdout.trim(),
        env.project.to_str().expect("utf-8 path")
    );
    std::fs::create_dir(env.project.join("sub")).expect("create project/sub");
    let sub = env.command("pwd").current_dir("sub").run();
    assert_eq!(
        sub.stdout.trim(),
        env.project.join("sub").to_str().expect("utf-8 path")
    );

    // stdin: the given bytes, or closed at once (never the terminal).
    assert_eq!(env.command("cat").stdin("typed\n").run().stdout, "typed\n");
    let t = Instant::now();
    assert_eq!(env.command("cat").run().stdout, "");
    assert!(t.elapsed() < Duration::from_secs(5));

    // Explicit settings win over the scrubbing, and env_remove works.
    let run = env
        .command("sh")
        .args(["-c", "echo \"$npm_config_registry|${NO_COLOR-unset}\""])
        .env("npm_config_registry", "http://x/")
        .env_remove("NO_COLOR")
        .run();
    assert_eq!(run.stdout, "http://x/|unset\n");

    let bare = TestEnv::without_package_json();
    assert!(!bare.project.join("package.json").exists());
}

#[test]
fn userconfig_round_trips() {
    let env = TestEnv::new();
    env.write_userconfig("registry=http://127.0.0.1:1/\n");
    assert_eq!(env.read_userconfig(), "registry=http://127.0.0.1:1/\n");
    assert_eq!(
        std::fs::read_to_string(env.home.join(".npmrc")).expect("read home/.npmrc"),
        "registry=http://127.0.0.1:1/\n"
    );
}

#[test]
fn run_reports_code_json_and_lines() {
    let env = TestEnv::new();
    let run = env
        .command("sh")
        .args(["-c", r#"echo '{"a":1}'; echo e1 >&2; echo e2 >&2; exit 3"#])
        .run();
    run.failure(3);
    assert_eq!(run.json(), json!({ "a": 1 }));
    assert_eq!(run.stderr_lines(), ["e1", "e2"]);

    let msg = panic_message(|| {
        run.success();
    });
    assert!(msg.contains("expected success"), "{msg}");
    assert!(msg.contains("exit code 3") && msg.contains("e2"), "{msg}");

    // A lot of output on both streams does not deadlock the capture.
    let big = env
        .command("sh")
        .args([
            "-c",
            "yes out | head -c 1000000; yes err | head -c 1000000 >&2",
        ])
        .run();
    big.success();
    assert_eq!((big.stdout.len(), big.stderr.len()), (1_000_000, 1_000_000));
}

#[test]
fn rtok_binary_runs() {
    let env = TestEnv::new();
    env.rtok().arg("--version").run().success();
}

#[test]
fn leak_sweep_panics_when_a_secret_appears() {
    let env = TestEnv::new();
    let secret = "tok-SECRET-1234567890";
    env.register_secret(secret);

    let msg = panic_message(|| {
        env.command("sh")
            .args(["-c", "echo \"your token is $0\" >&2", secret])
            .run();
    });
    assert!(msg.contains("secret tok-… leaked into stderr"), "{msg}");
    assert!(
        !msg.contains(secret),
        "the message must not repeat the secret: {msg}"
    );
    assert!(msg.contains("<secret tok-…>"), "{msg}");

    let msg = panic_message(|| {
        env.command("echo").arg(secret).run();
    });
    assert!(msg.contains("leaked into stdout"), "{msg}");
    assert!(!msg.contains(secret), "command line is masked too: {msg}");

    // Allowed for one run: fine; the next run is checked again.
    let run = env.command("echo").arg(secret).allow_secret(secret).run();
    assert_eq!(run.stdout.trim(), secret);
    env.command("echo").arg("nothing secret").run().success();
}

#[test]
fn hung_child_is_killed_at_the_timeout() {
    let env = TestEnv::new();
    let t = Instant::now();
    // `exec` so the shell's pid (printed first) is the sleeping process.
    let msg = panic_message(|| {
        env.command("sh")
            .args(["-c", "echo started $$; exec sleep 30"])
            .timeout(Duration::from_millis(500))
            .run();
    });
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    assert!(msg.contains("hung"), "{msg}");
    assert!(
        msg.contains("sh -c"),
        "the message names the command: {msg}"
    );
    let pid: u32 = msg
        .split("--- stdout ---\nstarted ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("output so far is in the message: {msg}"));
    assert!(!process_exists(pid), "the hung child {pid} was killed");
}

// ---------------------------------------------------------------- mock

/// A minimal HTTP/1.1 client on one connection, so the tests control
/// exactly what goes over the wire (keep-alive, chunking, resets).
struct RawClient {
    reader: BufReader<TcpStream>,
}

struct RawResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl RawResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl RawClient {
    fn connect(mock: &MockRegistry) -> RawClient {
        let stream = TcpStream::connect(("127.0.0.1", mock.port())).expect("connect to the mock");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("set a read timeout");
        RawClient {
            reader: BufReader::new(stream),
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.reader
            .get_mut()
            .write_all(bytes)
            .expect("send to the mock");
    }

    /// Status line and headers only.
    fn read_head(&mut self) -> RawResponse {
        let mut line = String::new();
        self.reader
            .read_line(&mut line)
            .expect("read the status line");
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {line:?}"));
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).expect("read a header");
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (n, v) = line.split_once(':').expect("header has a colon");
            headers.push((n.trim().to_owned(), v.trim().to_owned()));
        }
        RawResponse {
            status,
            headers,
            body: Vec::new(),
        }
    }

    /// A whole response, body by content-length.
    fn read_response(&mut self) -> RawResponse {
        let mut resp = self.read_head();
        let len: usize = resp
            .header("content-length")
            .expect("mock sends content-length")
            .parse()
            .expect("numeric content-length");
        resp.body = vec![0; len];
        self.reader
            .read_exact(&mut resp.body)
            .expect("read the body");
        resp
    }

    /// Whether the server has closed the connection (EOF on the next read).
    fn at_eof(&mut self) -> bool {
        let mut byte = [0u8; 1];
        matches!(self.reader.read(&mut byte), Ok(0))
    }
}

#[test]
fn mock_records_requests_and_serves_keep_alive() {
    let mock = MockRegistry::start(|req| match req.path_only() {
        "/a" => Reply::json(200, json!({ "path": "a" })),
        "/b" => Reply::json(201, json!({ "got": req.json() })).header("x-extra", "yes"),
        _ => Reply::text(404, "nope"),
    });
    assert_eq!(mock.url(), format!("http://127.0.0.1:{}/", mock.port()));

    let mut client = RawClient::connect(&mock);
    client.send(b"GET /a?page=2&x=y HTTP/1.1\r\nHost: h\r\nX-Test: Yes\r\n\r\n");
    let a = client.read_response();
    assert_eq!(a.status, 200);
    assert_eq!(a.header("content-type"), Some("application/json"));
    assert_eq!(a.body, br#"{"path":"a"}"#);

    let body = br#"{"name":"n"}"#;
    client.send(
        format!(
            "POST /b HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    client.send(body);
    let b = client.read_response();
    assert_eq!(b.status, 201);
    assert_eq!(b.header("x-extra"), Some("yes"));
    assert_eq!(b.body, br#"{"got":{"name":"n"}}"#);

    // The same connection still works, and `Connection: close` ends it.
    client.send(b"GET /missing HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
    let c = client.read_response();
    assert_eq!(c.status, 404);
    assert_eq!(c.header("connection"), Some("close"));
    assert!(
        client.at_eof(),
        "the mock must close after Connection: close"
    );

    // A second connection gets its own number.
    let mut other = RawClient::connect(&mock);
    other.send(b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_eq!(other.read_response().status, 200);

    let reqs = mock.requests();
    let seen: Vec<(&str, &str, usize)> = reqs
        .iter()
        .map(|r| (r.method.as_str(), r.path.as_str(), r.connection))
        .collect();
    assert_eq!(
        seen,
        [
            ("GET", "/a?page=2&x=y", 0),
            ("POST", "/b", 0),
            ("GET", "/missing", 0),
            ("GET", "/a", 1),
        ]
    );
    assert_eq!(reqs[0].path_only(), "/a");
    assert_eq!(reqs[0].query_param("page"), Some("2"));
    assert_eq!(reqs[0].header("X-TEST"), Some("Yes"));
    assert!(reqs[0].headers.iter().any(|(n, _)| n == "x-test"));
    assert_eq!(reqs[1].json(), json!({ "name": "n" }));
    assert_eq!(reqs[1].version, "HTTP/1.1");
}

#[test]
fn mock_reads_chunked_request_bodies_and_answers_handler_panics() {
    let mock = MockRegistry::start(|req| {
        if req.path == "/panic" {
            panic!("deliberate handler panic");
        }
        Reply::bytes(200, "application/octet-stream", req.body.clone())
    });
    let mut client = RawClient::connect(&mock);
    client.send(
        b"PUT /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n\
          5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n",
    );
    let resp = client.read_response();
    assert_eq!(resp.body, b"hello world");
    assert_eq!(mock.requests()[0].body, b"hello world");

    let mut client = RawClient::connect(&mock);
    client.send(b"GET /panic HTTP/1.1\r\nHost: h\r\n\r\n");
    let resp = client.read_response();
    assert_eq!(resp.status, 500);
    assert!(String::from_utf8_lossy(&resp.body).contains("deliberate handler panic"));
}

#[test]
fn mock_faults_reset_raw_delay_and_slow_body() {
    let mock = MockRegistry::start(|req| match req.path.as_str() {
        "/reset" => Reply::text(200, &"x".repeat(100)).reset_after(5),
        "/raw" => Reply::raw(b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n{not json".to_vec()),
        "/delay" => Reply::text(200, "late").delay(Duration::from_millis(300)),
        "/slow" => Reply::text(200, "0123456789").slow_body(2, Duration::from_millis(50)),
        "/redirect" => Reply::empty(302).header("location", "http://127.0.0.2:1/elsewhere"),
        _ => Reply::text(404, ""),
    });

    // reset_after: the full length is announced, 5 bytes come, then RST.
    let mut client = RawClient::connect(&mock);
    client.send(b"GET /reset HTTP/1.1\r\nHost: h\r\n\r\n");
    let head = client.read_head();
    assert_eq!(head.header("content-length"), Some("100"));
    let mut got = Vec::new();
    let end = client.reader.read_to_end(&mut got);
    assert_eq!(got, b"xxxxx");
    let err = end.expect_err("a reset, not a clean EOF");
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset, "{err}");

    // raw: the bytes verbatim, then close.
    let mut client = RawClient::connect(&mock);
    client.send(b"GET /raw HTTP/1.1\r\nHost: h\r\n\r\n");
    let mut got = Vec::new();
    client
        .reader
        .read_to_end(&mut got)
        .expect("read the raw reply to EOF");
    assert_eq!(got, b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n{not json");

    // delay: nothing before the delay has passed.
    let mut client = RawClient::connect(&mock);
    let t = Instant::now();
    client.send(b"GET /delay HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_eq!(client.read_response().body, b"late");
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );

    // slow_body: 5 chunks, 4 pauses of 50 ms.
    let t = Instant::now();
    client.send(b"GET /slow HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_eq!(client.read_response().body, b"0123456789");
    assert!(
        t.elapsed() >= Duration::from_millis(200),
        "{:?}",
        t.elapsed()
    );

    // An empty reply with a location header: a cross-origin redirect.
    client.send(b"GET /redirect HTTP/1.1\r\nHost: h\r\n\r\n");
    let resp = client.read_response();
    assert_eq!(resp.status, 302);
    assert_eq!(
        resp.header("location"),
        Some("http://127.0.0.2:1/elsewhere")
    );
    assert_eq!(resp.header("content-length"), Some("0"));
}

#[test]
fn mock_drop_is_prompt_with_idle_and_busy_connections() {
    let mock = MockRegistry::start(|_| Reply::text(200, "slow").delay(Duration::from_secs(30)));
    // One idle keep-alive connection, one waiting on a 30 s reply.
    let mut idle = RawClient::connect(&mock);
    let mut busy = RawClient::connect(&mock);
    busy.send(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    // Let the mock accept both and read the request.
    let t = Instant::now();
    while mock.requests().is_empty() && t.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(mock.requests().len(), 1);

    let port = mock.port();
    let t = Instant::now();
    drop(mock);
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "dropping the mock took {:?}",
        t.elapsed()
    );
    assert!(idle.at_eof(), "an idle connection is closed on drop");
    assert!(busy.at_eof(), "a busy connection is closed on drop");
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the port no longer accepts connections"
    );
}

#[test]
fn token_object_helpers_have_npm_fields() {
    let legacy = npm_token("abc123", "a1b2c3");
    for field in [
        "key",
        "token",
        "cidr_whitelist",
        "readonly",
        "created",
        "updated",
    ] {
        assert!(legacy.get(field).is_some(), "npm_token lacks {field}");
    }
    let granular = granular_token("def456", "ci");
    for field in [
        "name",
        "description",
        "key",
        "token",
        "expiry",
        "cidr",
        "bypass_2fa",
        "readonly",
        "revoked",
        "created",
        "updated",
        "accessed",
        "permissions",
        "scopes",
    ] {
        assert!(
            granular.get(field).is_some(),
            "granular_token lacks {field}"
        );
    }
    assert_eq!(granular["name"], "ci");
    let page = token_page(vec![legacy], Some("http://x/-/npm/v1/tokens?page=1"));
    assert_eq!(page["objects"].as_array().map(Vec::len), Some(1));
}

// ---------------------------------------------------------------- verdaccio

#[test]
fn shared_verdaccio_creates_users_whose_tokens_work() {
    let reg = shared();
    eprintln!("shared Verdaccio started in {:?}", reg.startup);
    assert_eq!(reg.url, format!("http://127.0.0.1:{}/", reg.port));

    let alice = reg.new_user("selftest");
    let bob = reg.new_user("selftest");
    assert_ne!(alice.name, bob.name);
    assert_ne!(alice.password, bob.password);
    assert_eq!(
        reg.whoami(&alice.token).as_deref(),
        Some(alice.name.as_str())
    );
    assert_eq!(reg.whoami(&bob.token).as_deref(), Some(bob.name.as_str()));
    assert_eq!(reg.whoami("not-a-token"), None);

    // Tests create users in parallel; Verdaccio must take that.
    let users: Vec<User> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..6)
            .map(|_| s.spawn(|| reg.new_user("parallel")))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a parallel new_user panicked"))
            .collect()
    });
    for user in &users {
        assert_eq!(reg.whoami(&user.token).as_deref(), Some(user.name.as_str()));
    }

    // The same name again is refused, and create_user says so: 409 with
    // the user's own password, 401 with another.
    let msg = panic_message(|| {
        reg.create_user(&alice.name, &alice.password);
    });
    assert!(msg.contains("answered 409"), "{msg}");
    let msg = panic_message(|| {
        reg.create_user(&alice.name, "another-password");
    });
    assert!(msg.contains("answered 401"), "{msg}");
}

#[test]
fn dedicated_verdaccio_stops_on_drop_even_after_a_panic() {
    let mut pid_port = None;
    let msg = panic_message(|| {
        let reg = Verdaccio::start();
        eprintln!("dedicated Verdaccio started in {:?}", reg.startup);
        let user = reg.new_user("dedicated");
        assert_eq!(reg.whoami(&user.token).as_deref(), Some(user.name.as_str()));
        pid_port = Some((reg.pid(), reg.port));
        panic!("test failed while the registry ran");
    });
    assert!(msg.contains("test failed while"), "{msg}");
    let (pid, port) = pid_port.expect("the registry started");
    assert!(!process_exists(pid), "Verdaccio {pid} still runs");
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
}

#[test]
fn iso8601_dates() {
    use crate::support::verdaccio::{iso8601, now_iso8601};
    use std::time::UNIX_EPOCH;
    assert_eq!(iso8601(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
    // A leap day, to exercise the calendar arithmetic.
    let leap = UNIX_EPOCH + Duration::from_millis(1_709_210_096_789);
    assert_eq!(iso8601(leap), "2024-02-29T12:34:56.789Z");
    assert_eq!(
        iso8601(UNIX_EPOCH + Duration::from_secs(951_782_400)),
        "2000-02-29T00:00:00.000Z"
    );
    let now = now_iso8601();
    assert_eq!(now.len(), "2024-01-01T00:00:00.000Z".len(), "{now}");
    assert!(now.starts_with("20") && now.ends_with('Z'), "{now}");
}

// ---------------------------------------------------------------- npm

#[test]
fn npm_uses_the_isolated_config_and_sees_a_verdaccio_login() {
    let env = TestEnv::new();
    let run = env
        .npm()
        .args(["config", "get", "userconfig", "globalconfig", "cache"])
        .run();
    run.success();
    let cache = env.home.join(".npm-cache");
    let expected = [
        format!("userconfig={}", env.userconfig.display()),
        format!("globalconfig={}", env.globalconfig.display()),
        format!("cache={}", cache.display()),
    ];
    assert_eq!(
        run.stdout_lines(),
        expected,
        "{}",
        run.describe("npm paths")
    );

    let reg = shared();
    let user = reg.new_user("npmself");
    env.register_secret(&user.token);
    env.write_userconfig(&reg.npmrc_for(&user));
    let run = env.npm().arg("whoami").run();
    run.success();
    assert_eq!(run.stdout.trim(), user.name);
}

// ---------------------------------------------------------------- clients

/// The `.npmrc` line that gives `user`'s token for `reg`, as pnpm's and
/// npm's login write it, without a `registry=` line.
fn token_line(reg: &Verdaccio, user: &User) -> String {
    format!("{}:_authToken={}\n", reg.nerf_dart(), user.token)
}

#[test]
fn each_client_is_installed_at_its_pinned_version() {
    let env = TestEnv::new();
    for client in Client::ALL {
        let run = env.client(client).arg("--version").run();
        eprintln!("{} --version: {:?}", client.name(), run.elapsed);
        run.success();
        assert_eq!(
            run.stdout.trim(),
            client.pinned_version(),
            "{}",
            run.describe(client.name())
        );
        // pnpm 11 warns on stderr when it runs on a Node.js older than 22.
        assert!(
            !run.stderr.contains("requires at least Node.js"),
            "{}",
            run.describe(client.name())
        );
    }
}

#[test]
fn pnpm10_whoami_reads_the_user_npmrc() {
    let reg = shared();
    let user = reg.new_user("pnpm10self");
    let env = TestEnv::new();
    env.register_secret(&user.token);
    env.write_userconfig(&reg.npmrc_for(&user));
    assert_eq!(Client::Pnpm10.credential_file(&env), env.userconfig);

    let run = env.client(Client::Pnpm10).arg("whoami").run();
    eprintln!("pnpm 10 whoami: {:?}", run.elapsed);
    run.success();
    assert_eq!(run.stdout.trim(), user.name, "{}", run.describe("pnpm 10"));
}

#[test]
fn pnpm11_and_12_whoami_read_auth_ini_over_the_npmrc() {
    let reg = shared();
    for client in [Client::Pnpm11, Client::Pnpm12] {
        let user = reg.new_user("pnpmself");
        let env = TestEnv::new();
        env.register_secret(&user.token);
        assert_eq!(client.credential_file(&env), env.pnpm_auth_ini());
        assert!(env.pnpm_auth_ini().starts_with(&env.root));

        // The token only in auth.ini, as `pnpm login` writes it; the
        // npmrc names the registry and holds no credential.
        env.write_client_credentials(client, &token_line(reg, &user));
        env.write_userconfig(&format!("registry={}\n", reg.url));
        let run = env.client(client).arg("whoami").run();
        eprintln!("{} whoami (auth.ini): {:?}", client.name(), run.elapsed);
        run.success();
        assert_eq!(
            run.stdout.trim(),
            user.name,
            "{}",
            run.describe(client.name())
        );

        // Another user's token in the npmrc loses to auth.ini
        // (clients-2026 §1.5: `~/.npmrc` + `auth.ini` → auth.ini).
        let other = reg.new_user("pnpmstale");
        env.register_secret(&other.token);
        env.write_userconfig(&reg.npmrc_for(&other));
        let run = env.client(client).arg("whoami").run();
        eprintln!(
            "{} whoami (auth.ini over npmrc): {:?}",
            client.name(),
            run.elapsed
        );
        run.success();
        assert_eq!(
            run.stdout.trim(),
            user.name,
            "{}",
            run.describe(client.name())
        );

        // Without auth.ini the npmrc's token is the one sent: the two files
        // really are both read, and the isolation reaches the client.
        std::fs::remove_file(env.pnpm_auth_ini()).expect("remove auth.ini");
        let run = env.client(client).arg("whoami").run();
        run.success();
        assert_eq!(
            run.stdout.trim(),
            other.name,
            "{}",
            run.describe(client.name())
        );
    }
}

#[test]
fn yarn4_npm_whoami_reads_the_home_yarnrc_only() {
    let reg = shared();
    let user = reg.new_user("yarn4self");
    let env = TestEnv::new();
    env.register_secret(&user.token);
    assert_eq!(Client::Yarn4.credential_file(&env), env.yarnrc_yml());

    // yarn 4 never reads .npmrc: a token there is not configured for it.
    env.write_userconfig(&reg.npmrc_for(&user));
    let run = env.client(Client::Yarn4).args(["npm", "whoami"]).run();
    assert_ne!(run.code, 0, "{}", run.describe("yarn 4 with only an npmrc"));
    assert!(run.stdout.contains("YN0033"), "{}", run.describe("yarn 4"));
    std::fs::remove_file(&env.userconfig).expect("remove the npmrc");

    env.write_client_credentials(Client::Yarn4, &yarnrc_for(&reg.url, &user.token));
    let run = env.client(Client::Yarn4).args(["npm", "whoami"]).run();
    eprintln!("yarn 4 npm whoami: {:?}", run.elapsed);
    run.success();
    let lines = run.stdout_lines();
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with(&format!(" {}", user.name))),
        "{}",
        run.describe("yarn 4 whoami")
    );

    // Plain http to a host not in unsafeHttpWhitelist is refused: the
    // whitelist line of `yarnrc_for` is needed.
    let without_whitelist: String = yarnrc_for(&reg.url, &user.token)
        .lines()
        .filter(|l| !l.starts_with("unsafeHttpWhitelist") && !l.starts_with("  - "))
        .map(|l| format!("{l}\n"))
        .collect();
    env.write_client_credentials(Client::Yarn4, &without_whitelist);
    let run = env.client(Client::Yarn4).args(["npm", "whoami"]).run();
    assert_ne!(run.code, 0, "{}", run.describe("yarn 4 over http"));
    assert!(run.stdout.contains("YN0081"), "{}", run.describe("yarn 4"));
}

#[test]
fn yarn1_reads_a_package_that_needs_the_npmrc_token() {
    let reg = shared();
    let user = reg.new_user("yarn1self");
    let env = TestEnv::new();
    env.register_secret(&user.token);
    env.write_userconfig(&reg.npmrc_for(&user));
    assert_eq!(Client::Yarn1.credential_file(&env), env.userconfig);

    // yarn 1 has no whoami, so the check is a read that the registry
    // refuses without a token (every package needs $authenticated). The
    // package is scoped: for an unscoped one yarn 1 sends the token only
    // with always-auth.
    let run = env.client(Client::Yarn1).arg("whoami").run();
    assert_ne!(run.code, 0, "{}", run.describe("yarn 1 whoami"));
    assert!(
        run.stderr.contains("Command \"whoami\" not found"),
        "{}",
        run.describe("yarn 1 whoami")
    );

    let name = format!(
        "@rtok-yarn1/p{}-{:x}",
        std::process::id(),
        crate::support::verdaccio::random_u64()
    );
    let package = env.root.join("package");
    std::fs::create_dir(&package).expect("mkdir package");
    std::fs::write(
        package.join("package.json"),
        format!("{{\"name\": \"{name}\", \"version\": \"1.2.3\"}}\n"),
    )
    .expect("package.json");
    env.npm()
        .current_dir(&package)
        .args(["publish", "--registry", &reg.url])
        .run()
        .success();

    let info = |env: &TestEnv| {
        env.client(Client::Yarn1)
            .args(["info", &name, "version", "--json", "--registry", &reg.url])
            .run()
    };
    let run = info(&env);
    eprintln!("yarn 1 info: {:?}", run.elapsed);
    run.success();
    let json = run.json();
    assert_eq!(json["data"], "1.2.3", "{}", run.describe("yarn 1 info"));

    // Without the token the same read is refused.
    env.write_userconfig(&format!("registry={}\n", reg.url));
    let run = info(&env);
    // yarn 1 info exits 0 even then; its JSON error line on stderr says it.
    assert!(
        !run.stdout.contains("1.2.3"),
        "{}",
        run.describe("no version")
    );
    let error = run
        .stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|j| j["type"] == "error");
    assert!(
        error.is_some(),
        "{}",
        run.describe("yarn 1 info without a token")
    );
    eprintln!("yarn 1 without a token: {}", run.stderr.trim());
}

#[test]
fn a_missing_or_stale_client_fails_naming_the_install_command() {
    use crate::support::clients::check_installed;
    let env = TestEnv::new();
    let node_modules = env.root.join("node_modules");
    let msg = panic_message(|| {
        check_installed(&node_modules, "pnpm11", "11.29.0", "pnpm 11");
    });
    assert!(msg.contains("pnpm 11 11.29.0 is not installed"), "{msg}");
    assert!(msg.contains("scripts/test"), "{msg}");
    assert!(msg.contains("npm ci --prefix test-registry"), "{msg}");

    std::fs::create_dir_all(node_modules.join("pnpm11")).expect("mkdir");
    std::fs::write(
        node_modules.join("pnpm11/package.json"),
        "{\"name\": \"pnpm\", \"version\": \"11.0.0\"}\n",
    )
    .expect("write package.json");
    let msg = panic_message(|| {
        check_installed(&node_modules, "pnpm11", "11.29.0", "pnpm 11");
    });
    assert!(msg.contains("but 11.0.0 is installed"), "{msg}");
    assert!(msg.contains("npm ci --prefix test-registry"), "{msg}");
    assert_eq!(
        check_installed(&node_modules, "pnpm11", "11.0.0", "pnpm 11"),
        node_modules.join("pnpm11")
    );
}
