//! The fault-injection suite: every way a registry can misbehave ends in
//! one error line and exit 1 (4 for authentication), never a panic or a
//! hang, and the config file as it was.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::support::*;

/// Runs `args` against a mock answering every request with `reply()` and
/// checks the contract; returns the run for extra checks.
fn assert_fault(
    args: &[&str],
    extra_config: &str,
    needle: &str,
    reply: impl Fn(&Request) -> Reply + Send + Sync + 'static,
) -> Run {
    let mock = MockRegistry::start(reply);
    let env = TestEnv::new();
    env.register_secret("fault-token");
    let config = format!(
        "{}{extra_config}",
        npmrc_for_mock(&mock.url(), "fault-token")
    );
    env.write_userconfig(&config);
    let run = env
        .rtok()
        .args(args)
        .stdin("pw")
        .timeout(Duration::from_secs(30))
        .run();
    assert_error(&run, 1, needle);
    assert_eq!(env.read_userconfig(), config, "the config file changed");
    run
}

fn token_list_reply() -> Reply {
    Reply::json(
        200,
        token_page(vec![npm_token("abcdef123456", "abcdef")], None),
    )
}

#[test]
fn connection_reset_mid_body() {
    for args in [&["token", "list"][..], &["logout"][..], &["whoami"][..]] {
        // logout's whoami is best effort; the reset then hits the revocation.
        assert_fault(args, "", "connection broke", |_| {
            Reply::json(200, json!({"objects": [], "padding": "x".repeat(4000)})).reset_after(20)
        });
    }
}

#[test]
fn a_slow_body_times_out() {
    let run = assert_fault(
        &["token", "list"],
        "fetch-timeout=500\nfetch-retries=0\n",
        "no complete answer within 500 ms",
        |_| {
            Reply::json(200, json!({"objects": [], "padding": "x".repeat(2000)}))
                .slow_body(10, Duration::from_millis(200))
        },
    );
    assert!(run.elapsed < Duration::from_secs(20), "it must not hang");
    assert!(hint(&run).contains("fetch-timeout"));
}

#[test]
fn server_error_sequences_recover_or_fail_cleanly() {
    // 500, 502, then 503: three failures exhaust one try and two retries.
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    assert_fault(
        &["token", "list"],
        "",
        "503 Service Unavailable",
        move |_| match counter.fetch_add(1, Ordering::SeqCst) {
            0 => Reply::json(500, json!({"error": "boom"})),
            1 => Reply::text(502, "bad gateway"),
            _ => Reply::text(503, "unavailable"),
        },
    );
    assert_eq!(calls.load(Ordering::SeqCst), 3);

    // 429 then 502 then success: recovered, honouring Retry-After.
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let mock = MockRegistry::start(move |_| match counter.fetch_add(1, Ordering::SeqCst) {
        0 => Reply::json(429, json!({"error": "slow down"})).header("retry-after", "1"),
        1 => Reply::text(502, "bad gateway"),
        _ => token_list_reply(),
    });
    let env = TestEnv::new();
    env.write_userconfig(
        &npmrc_for_mock(&mock.url(), "tok")
            .replace("fetch-retry-maxtimeout=50", "fetch-retry-maxtimeout=3000"),
    );
    let run = env.rtok().args(["-v", "token", "list", "--json"]).run();
    run.success();
    assert!(
        run.stderr.contains("Too Many Requests; retrying in 1.0s"),
        "{}",
        run.describe("Retry-After honoured")
    );
    assert_eq!(run.json()[0]["key"], "abcdef123456");
}

#[test]
fn retry_after_is_capped() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let mock = MockRegistry::start(move |_| match counter.fetch_add(1, Ordering::SeqCst) {
        0 => Reply::json(503, json!({})).header("retry-after", "3600"),
        _ => token_list_reply(),
    });
    let env = TestEnv::new();
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "tok"));
    let run = env.rtok().args(["-v", "token", "list"]).run();
    run.success();
    // fetch-retry-maxtimeout=50 in the mock config caps the hour.
    assert!(
        run.stderr.contains("retrying in 0.1s") || run.stderr.contains("retrying in 0.0s"),
        "{}",
        run.describe("a capped wait")
    );
}

#[test]
fn a_post_is_never_retried() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    assert_fault(
        &["token", "create", "--password-stdin"],
        "",
        "503",
        move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
            Reply::text(503, "try later")
        },
    );
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "a create may have happened: never send it twice"
    );
}

#[test]
fn a_delete_that_answers_404_on_retry_counts_as_done() {
    let deletes = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&deletes);
    let mock = MockRegistry::start(move |req| match req.method.as_str() {
        "GET" => token_list_reply(),
        _ => match counter.fetch_add(1, Ordering::SeqCst) {
            // The first attempt "got through" but its answer was lost.
            0 => Reply::json(200, json!({"padding": "x".repeat(1000)})).reset_after(5),
            _ => Reply::json(404, json!({"error": "no such token"})),
        },
    });
    let env = TestEnv::new();
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "tok"));
    let run = env.rtok().args(["token", "delete", "abcdef"]).run();
    run.success();
    assert_eq!(deletes.load(Ordering::SeqCst), 2);
    // A first-attempt 404 is still an error.
    let mock = MockRegistry::start(|req| match req.method.as_str() {
        "GET" => token_list_reply(),
        _ => Reply::json(404, json!({"error": "no such token"})),
    });
    let env = TestEnv::new();
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "tok"));
    assert_error(
        &env.rtok().args(["token", "delete", "abcdef"]).run(),
        1,
        "404 Not Found",
    );
}

#[test]
fn truncated_json() {
    assert_fault(&["token", "list"], "", "not JSON", |_| {
        Reply::bytes(
            200,
            "application/json",
            br#"{"objects": [{"key": "abc", "tok"#.to_vec(),
        )
    });
}

#[test]
fn a_content_length_that_lies() {
    // The registry promises more than it sends and keeps the connection
    // open: `fetch-timeout` ends the wait.
    let run = assert_fault(
        &["token", "list"],
        "fetch-timeout=1500\nfetch-retries=0\n",
        "no complete answer within 1.5 s",
        |_| {
            Reply::bytes(200, "application/json", br#"{"objects": []}"#.to_vec())
                .header("content-length", "5000")
        },
    );
    assert!(run.elapsed < Duration::from_secs(20));
}

#[test]
fn a_redirect_loop() {
    assert_fault(&["token", "list"], "", "redirect", |req| {
        Reply::empty(302).header(
            "location",
            &format!("/{}", req.path_only().trim_start_matches('/')),
        )
    });
}

#[test]
fn a_ten_mebibyte_body() {
    let huge = format!(
        "{{\"objects\": [], \"junk\": \"{}\"}}",
        "x".repeat(10 * 1024 * 1024)
    );
    assert_fault(&["token", "list"], "", "larger than", move |_| {
        Reply::bytes(200, "application/json", huge.clone().into_bytes())
    });
    // Also when the registry does not say how long the body is up front.
    let huge = "x".repeat(10 * 1024 * 1024);
    assert_fault(&["whoami"], "", "larger than", move |_| {
        Reply::bytes(200, "application/json", huge.clone().into_bytes())
            .slow_body(1024 * 1024, Duration::from_millis(1))
    });
}

#[test]
fn non_utf8_bytes() {
    let run = assert_fault(&["token", "list"], "", "not JSON", |_| {
        Reply::bytes(
            200,
            "application/json",
            vec![0xff, 0xfe, b'{', 0x80, 0x81, b'}'],
        )
    });
    assert!(!run.stderr.contains('\u{0}'));
    assert_fault(&["whoami"], "", "500 Internal Server Error", |_| {
        Reply::bytes(500, "text/plain", vec![0xc3, 0x28, 0xa0, 0xa1])
    });
}

#[test]
fn an_endless_pagination_stops_at_the_page_cap() {
    let mock = MockRegistry::start(|req| {
        let host = req.header("host").unwrap_or_default().to_string();
        let page: usize = req
            .query_param("page")
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        Reply::json(
            200,
            token_page(
                vec![],
                Some(&format!("http://{host}/-/npm/v1/tokens?page={}", page + 1)),
            ),
        )
    });
    let env = TestEnv::new();
    env.write_userconfig(&npmrc_for_mock(&mock.url(), "tok"));
    let run = env
        .rtok()
        .args(["token", "list"])
        .timeout(Duration::from_secs(60))
        .run();
    assert_error(&run, 1, "more than 1000 pages");
}

#[test]
fn an_error_object_instead_of_a_list() {
    assert_fault(&["token", "list"], "", "no `objects` list", |_| {
        Reply::json(
            200,
            json!({"error": "this is not the token list you are looking for"}),
        )
    });
}

#[test]
fn a_failed_login_or_logout_keeps_the_file() {
    assert_fault(
        &[
            "login",
            "--auth-type",
            "legacy",
            "--username",
            "u",
            "--password-stdin",
        ],
        "",
        "connection broke",
        |_| Reply::json(201, json!({"token": "never-arrives"})).reset_after(3),
    );
    assert_fault(
        &["logout"],
        "fetch-retries=0\n",
        "could not revoke",
        |req| match req.method.as_str() {
            "GET" => Reply::json(200, json!({"username": "u"})),
            _ => Reply::text(500, "the server exploded"),
        },
    );
}

#[test]
fn a_panic_prints_one_line_without_secrets() {
    require_test_hooks();
    let env = TestEnv::new();
    env.register_secret("panic-secret-value");
    let run = env
        .rtok()
        .arg("whoami")
        .env("RTOK_TEST_PANIC", "panic-secret-value")
        .env_remove("RUST_BACKTRACE")
        .run();
    assert_ne!(run.code, 0);
    let lines = run.stderr_lines();
    assert_eq!(lines.len(), 1, "{}", run.describe("one line"));
    assert!(
        lines[0].starts_with("error: rtok hit an internal error"),
        "{}",
        run.describe("the short message")
    );
}
