//! The real registry: the pinned Verdaccio in `test-registry/`, started on a
//! free loopback port, shared by the whole test process or dedicated to one
//! test, and its users.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long Verdaccio may take to print its port and then to answer a ping.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running Verdaccio.
pub struct Verdaccio {
    /// `http://127.0.0.1:PORT/`
    pub url: String,
    pub port: u16,
    /// From spawning node to the first successful `GET /-/ping`.
    pub startup: Duration,
    child: Child,
    // Held open: start.js exits when its stdin closes, which is how the
    // shared instance dies with the test process.
    stdin: Option<ChildStdin>,
    // Everything Verdaccio printed after its port line, for messages.
    output: Arc<Mutex<String>>,
    // Where Verdaccio keeps its config, users and packages.
    state_dir: PathBuf,
    // The state directory of a dedicated instance, deleted after it stops.
    // The shared instance's shell deletes its own (see `shared`).
    owned_state: Option<tempfile::TempDir>,
}

/// A registry user created for a test.
#[derive(Debug, Clone)]
pub struct User {
    pub name: String,
    pub password: String,
    /// The bearer token Verdaccio returned when the user was created.
    pub token: String,
}

static SHARED: OnceLock<Verdaccio> = OnceLock::new();

/// The Verdaccio this test process shares, started on first use. Tests keep
/// out of each other's way by using their own users (`new_user`). It is
/// never dropped: when the test process exits its end of start.js's stdin
/// closes, Verdaccio exits, and the shell around it deletes its state.
pub fn shared() -> &'static Verdaccio {
    SHARED.get_or_init(|| {
        // Checked before the state directory exists, so a missing
        // prerequisite leaves nothing behind.
        test_registry_dir();
        find_node();
        let state = tempfile::Builder::new()
            .prefix("rtok-verdaccio-shared-")
            .tempdir()
            .expect("create the shared Verdaccio's state directory")
            // Owned by the shell below from now on.
            .keep();
        Verdaccio::launch(state, None)
    })
}

impl Verdaccio {
    /// A Verdaccio for one test (for tests that need an empty registry or
    /// stop it). Dropping it stops it, also when the test panicked.
    pub fn start() -> Verdaccio {
        let state = tempfile::Builder::new()
            .prefix("rtok-verdaccio-")
            .tempdir()
            .expect("create a Verdaccio state directory");
        Verdaccio::launch(state.path().to_owned(), Some(state))
    }

    /// The id of the process Verdaccio was started as (for the shared
    /// instance, the `sh` that runs node and then cleans up).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Starts start.js with `state_dir`. With `owned` the caller keeps the
    /// directory; without, a shell runs node and deletes the directory once
    /// node exits.
    fn launch(state_dir: PathBuf, owned: Option<tempfile::TempDir>) -> Verdaccio {
        let registry_dir = test_registry_dir();
        let node = find_node();
        // Verdaccio's htpasswd plugin only locks a file that exists: while
        // there is none, concurrent sign-ups race and some get a 403 "bad
        // username/password". An empty file from the start avoids that.
        std::fs::write(state_dir.join("htpasswd"), "")
            .unwrap_or_else(|e| panic!("create {}/htpasswd: {e}", state_dir.display()));
        let start_js = registry_dir.join("start.js");
        let mut cmd = if owned.is_some() {
            let mut cmd = Command::new(&node);
            cmd.arg(&start_js).arg(&state_dir);
            cmd
        } else {
            let mut cmd = Command::new("sh");
            // node inherits the shell's stdin (our pipe), so it still exits
            // when the test process does; then the shell cleans up.
            cmd.arg("-c")
                .arg(r#""$0" "$1" "$2" "$3"; rm -rf "$2""#)
                .arg(&node)
                .arg(&start_js)
                .arg(&state_dir);
            cmd
        };
        cmd.arg("0")
            .current_dir(&registry_dir)
            // Verdaccio needs no npm settings; keep the developer's out.
            .env_remove("NODE_OPTIONS")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());

        let started = Instant::now();
        let mut child = cmd.spawn().unwrap_or_else(|e| {
            if owned.is_none() {
                let _ = std::fs::remove_dir_all(&state_dir);
            }
            panic!("could not start {}: {e}", start_js.display())
        });
        let stdin = child.stdin.take();
        let output = Arc::new(Mutex::new(String::new()));

        // stderr: collected for messages, drained so Verdaccio never blocks.
        let stderr = child.stderr.take().expect("Verdaccio stderr is piped");
        let sink = Arc::clone(&output);
        thread::spawn(move || drain_lines(stderr, &sink));

        // stdout: the first line is {"port":N}; the rest is log, drained.
        let stdout = child.stdout.take().expect("Verdaccio stdout is piped");
        let (port_tx, port_rx) = mpsc::channel();
        let sink = Arc::clone(&output);
        thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            for line in lines.by_ref() {
                let Ok(line) = line else { return };
                let port = serde_json::from_str::<serde_json::Value>(&line)
                    .ok()
                    .and_then(|v| v["port"].as_u64())
                    .and_then(|p| u16::try_from(p).ok());
                match port {
                    Some(port) => {
                        let _ = port_tx.send(port);
                        break;
                    }
                    None => push_line(&sink, &line),
                }
            }
            // Dropping port_tx here (EOF before a port) fails the wait
            // below at once instead of after the timeout.
            drop(port_tx);
            for line in lines.map_while(Result::ok) {
                push_line(&sink, &line);
            }
        });

        let mut verdaccio = Verdaccio {
            url: String::new(),
            port: 0,
            startup: Duration::ZERO,
            child,
            stdin,
            output,
            state_dir,
            owned_state: owned,
        };
        let port = match port_rx.recv_timeout(START_TIMEOUT) {
            Ok(port) => port,
            Err(mpsc::RecvTimeoutError::Timeout) => verdaccio.fail(&format!(
                "Verdaccio did not print its port within {START_TIMEOUT:?}"
            )),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                // Give stderr a moment to be collected for the message.
                let _ = verdaccio.child.wait();
                thread::sleep(Duration::from_millis(100));
                verdaccio.fail("Verdaccio exited before printing its port")
            }
        };
        verdaccio.port = port;
        verdaccio.url = format!("http://127.0.0.1:{port}/");

        // Listening is not quite serving: wait for a ping to answer.
        let agent = http_agent();
        let ping = format!("{}-/ping", verdaccio.url);
        loop {
            match agent.get(&ping).call() {
                Ok(resp) if resp.status() == 200 => break,
                _ if started.elapsed() > START_TIMEOUT => verdaccio.fail(&format!(
                    "Verdaccio on port {port} did not answer GET /-/ping within {START_TIMEOUT:?}"
                )),
                _ => thread::sleep(Duration::from_millis(20)),
            }
        }
        verdaccio.startup = started.elapsed();
        verdaccio
    }

    /// Stops the instance and panics with `why` and what it printed.
    fn fail(&mut self, why: &str) -> ! {
        self.stop();
        // The shell that would delete the shared state was just killed.
        if self.owned_state.is_none() {
            let _ = std::fs::remove_dir_all(&self.state_dir);
        }
        let output = self.output.lock().expect("Verdaccio output lock").clone();
        panic!("{why}\n--- Verdaccio output ---\n{output}--- end ---");
    }

    fn stop(&mut self) {
        // Closing stdin alone would do, but not promptly if the server
        // waits on open connections; kill to be sure.
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Creates a user the way `npm adduser` does and returns its token.
    /// Panics if the registry does not answer 201 with a token (a 409 means
    /// the name is taken).
    pub fn create_user(&self, name: &str, password: &str) -> String {
        let url = format!("{}-/user/org.couchdb.user:{name}", self.url);
        let body = serde_json::json!({
            "_id": format!("org.couchdb.user:{name}"),
            "name": name,
            "password": password,
            "type": "user",
            "roles": [],
            "date": now_iso8601(),
        });
        let mut resp = http_agent()
            .put(&url)
            .header("content-type", "application/json")
            .send_json(&body)
            .unwrap_or_else(|e| panic!("PUT {url}: {e}"));
        let status = resp.status().as_u16();
        let text = resp
            .body_mut()
            .read_to_string()
            .unwrap_or_else(|e| panic!("PUT {url}: read the body: {e}"));
        if status != 201 {
            panic!("creating user {name:?}: PUT {url} answered {status}: {text}");
        }
        let v: serde_json::Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("creating user {name:?}: body is not JSON ({e}): {text}"));
        v["token"]
            .as_str()
            .unwrap_or_else(|| panic!("creating user {name:?}: no token in {text}"))
            .to_owned()
    }

    /// A new user with a name no other test in this process (or any other
    /// process sharing the registry) uses: `<prefix>-<pid>-<n>`.
    pub fn new_user(&self, prefix: &str) -> User {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let name = format!("{prefix}-{}-{n}", std::process::id());
        let password = format!("pw-{:016x}", random_u64());
        let token = self.create_user(&name, &password);
        User {
            name,
            password,
            token,
        }
    }

    /// `GET /-/whoami` with `token`: the username, or `None` if the registry
    /// does not accept the token.
    pub fn whoami(&self, token: &str) -> Option<String> {
        let url = format!("{}-/whoami", self.url);
        let mut resp = http_agent()
            .get(&url)
            .header("authorization", &format!("Bearer {token}"))
            .call()
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        if resp.status() != 200 {
            return None;
        }
        let v: serde_json::Value = resp
            .body_mut()
            .read_json()
            .unwrap_or_else(|e| panic!("GET {url}: body is not JSON: {e}"));
        v["username"].as_str().map(str::to_owned)
    }

    /// The "nerf dart" npmrc keys are scoped by: `//127.0.0.1:PORT/`.
    pub fn nerf_dart(&self) -> String {
        format!("//127.0.0.1:{}/", self.port)
    }

    /// An npmrc that points at this registry and logs in as `user`.
    pub fn npmrc_for(&self, user: &User) -> String {
        format!(
            "registry={}\n{}:_authToken={}\n",
            self.url,
            self.nerf_dart(),
            user.token
        )
    }
}

impl Drop for Verdaccio {
    fn drop(&mut self) {
        self.stop();
    }
}

/// An HTTP client for talking to registries from tests: statuses are
/// values, not errors, and nothing waits forever.
pub fn http_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// `<crate>/test-registry`, checked to be installed.
fn test_registry_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("test-registry");
    if !dir.join("node_modules").join("verdaccio").is_dir() {
        panic!(
            "{} has no node_modules/verdaccio: run `npm ci --prefix test-registry` first (scripts/test does this)",
            dir.display()
        );
    }
    dir
}

/// Finds `name` on PATH.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// The `node` binary, checked to be 20 or newer (once per process).
fn find_node() -> PathBuf {
    static NODE: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let found = NODE.get_or_init(|| {
        let missing = "Node.js 20+ is needed for the integration tests: install it (apt install nodejs) and rerun";
        let node = find_on_path("node").ok_or_else(|| missing.to_owned())?;
        let out = Command::new(&node)
            .arg("--version")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("{missing} ({} --version: {e})", node.display()))?;
        let version = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        let major: u32 = version
            .trim_start_matches('v')
            .split('.')
            .next()
            .and_then(|m| m.parse().ok())
            .unwrap_or(0);
        if major < 20 {
            return Err(format!("{missing} (found {version:?} at {})", node.display()));
        }
        Ok(node)
    });
    match found {
        Ok(node) => node.clone(),
        Err(msg) => panic!("{msg}"),
    }
}

fn push_line(sink: &Mutex<String>, line: &str) {
    let mut out = sink.lock().expect("Verdaccio output lock");
    out.push_str(line);
    out.push('\n');
}

fn drain_lines(pipe: impl Read, sink: &Mutex<String>) {
    for line in BufReader::new(pipe).lines().map_while(Result::ok) {
        push_line(sink, &line);
    }
}

/// A different value each call, without a crate: std's hasher is keyed
/// randomly per process, and the clock and a counter vary per call.
pub fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_usize(CALLS.fetch_add(1, Ordering::SeqCst));
    h.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish()
}

/// The current UTC time as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn now_iso8601() -> String {
    iso8601(SystemTime::now())
}

/// `t` in UTC as `YYYY-MM-DDTHH:MM:SS.mmmZ`, the format npm registries use.
pub fn iso8601(t: SystemTime) -> String {
    let since_epoch = t
        .duration_since(UNIX_EPOCH)
        .expect("the time is after 1970");
    let secs = since_epoch.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since_epoch.subsec_millis()
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}
