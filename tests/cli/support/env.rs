//! The isolated environment every test runs `rtok` (and `npm`) in: a private
//! HOME, project directory and npmrc files, a scrubbed process environment, a
//! hang timeout, captured output and the secret-leak sweep.

use std::ffi::{OsStr, OsString};
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How long a command may run before it is killed and the test fails as hung.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Variables removed from every child's environment, on top of every name
/// that starts with `npm_` (any case; that covers all `npm_config_*` settings
/// and the `npm_package_*`/`npm_lifecycle_*` that `npm run` exports) and
/// every name that starts with `RTOK_` (rtok's own settings must come from
/// the test, not from the developer's shell).
const REMOVED_VARS: &[&str] = &[
    // Credentials that npm, CI set-ups or rtok could pick up.
    "NPM_TOKEN",
    "NPM_AUTH_TOKEN",
    "NPM_AUTH",
    "NPM_PASSWORD",
    "NPM_USERNAME",
    "NPM_EMAIL",
    "NPM_REGISTRY",
    "NPM_OTP",
    "NODE_AUTH_TOKEN",
    "YARN_NPM_AUTH_TOKEN",
    "YARN_NPM_AUTH_IDENT",
    "YARN_NPM_REGISTRY_SERVER",
    "GITHUB_TOKEN",
    "GH_TOKEN",
    // A proxy would send loopback traffic elsewhere or fail it.
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    // `npm login --auth-type=web` and friends must never open a browser.
    "BROWSER",
    // Could inject code or flags into npm's node.
    "NODE_OPTIONS",
    // Extra CA bundles change what TLS trusts.
    "NODE_EXTRA_CA_CERTS",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    // Without these every per-user directory derives from HOME, which is ours.
    "XDG_CONFIG_HOME",
    "XDG_CACHE_HOME",
    "XDG_DATA_HOME",
    "XDG_STATE_HOME",
    "XDG_RUNTIME_DIR",
    // The developer's keyring: keyring tests bring their own
    // (`PrivateKeyring`); every other run gets a bus address that leads
    // nowhere (see `TestEnv::command`).
    "DBUS_SESSION_BUS_ADDRESS",
    // NO_COLOR=1 must win so output can be compared as plain text.
    "FORCE_COLOR",
    "CLICOLOR_FORCE",
    "CLICOLOR",
];

/// Whether a parent-environment variable must not reach a child.
pub fn is_removed_var(name: &OsStr) -> bool {
    let Some(name) = name.to_str() else {
        // Not UTF-8: nothing we know of, and nothing rtok reads.
        return false;
    };
    let upper = name.to_ascii_uppercase();
    upper.starts_with("NPM_") || upper.starts_with("RTOK_") || REMOVED_VARS.contains(&name)
}

/// A throw-away world for one test: everything lives in one temporary
/// directory that is deleted when the `TestEnv` is dropped.
pub struct TestEnv {
    // Kept for its Drop, which deletes the whole tree.
    _tmp: tempfile::TempDir,
    /// The temporary directory everything below lives in.
    pub root: PathBuf,
    /// `HOME` of every child.
    pub home: PathBuf,
    /// Current directory of every child (unless changed per run).
    pub project: PathBuf,
    /// `home/.npmrc`: npm's default user config and rtok's.
    pub userconfig: PathBuf,
    /// `root/global/npmrc`, not created: pointing npm here keeps the
    /// machine's global npmrc out of the tests.
    pub globalconfig: PathBuf,
    /// Strings that must never appear in any child's output.
    secrets: Arc<Mutex<Vec<String>>>,
}

impl TestEnv {
    /// A fresh environment whose `project` holds a `package.json`, so npm
    /// takes it as the project root rather than walking further up.
    pub fn new() -> TestEnv {
        Self::build(true)
    }

    /// Like `new`, but `project` is an empty directory (no `package.json`).
    pub fn without_package_json() -> TestEnv {
        Self::build(false)
    }

    fn build(package_json: bool) -> TestEnv {
        let tmp = tempfile::Builder::new()
            .prefix("rtok-test-")
            .tempdir()
            .expect("create the test's temporary directory");
        // Canonical so paths compare equal to what children report (on some
        // systems the temp dir is behind a symlink).
        let root = tmp
            .path()
            .canonicalize()
            .expect("canonicalize the temporary directory");
        let home = root.join("home");
        let project = root.join("project");
        std::fs::create_dir(&home).expect("create home/");
        std::fs::create_dir(&project).expect("create project/");
        if package_json {
            std::fs::write(
                project.join("package.json"),
                "{\n  \"name\": \"rtok-test-project\",\n  \"version\": \"1.0.0\",\n  \"private\": true\n}\n",
            )
            .expect("write project/package.json");
        }
        TestEnv {
            userconfig: home.join(".npmrc"),
            globalconfig: root.join("global").join("npmrc"),
            home,
            project,
            root,
            _tmp: tmp,
            secrets: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// The `rtok` binary under test, isolated.
    pub fn rtok(&self) -> RtokCmd {
        self.command(env!("CARGO_BIN_EXE_rtok"))
    }

    /// Any program, with the same isolation, output capture, timeout and leak
    /// sweep as `rtok()` (the self-tests use it; so can tests that need
    /// `sh`).
    pub fn command(&self, program: impl AsRef<OsStr>) -> RtokCmd {
        RtokCmd {
            program: program.as_ref().to_owned(),
            args: Vec::new(),
            env: vec![
                (OsString::from("HOME"), Some(self.home.clone().into())),
                (OsString::from("NO_COLOR"), Some(OsString::from("1"))),
                (
                    OsString::from("NPM_CONFIG_GLOBALCONFIG"),
                    Some(self.globalconfig.clone().into()),
                ),
                // Without it D-Bus clients fall back to the login session's
                // bus (/run/user/UID/bus), which may hold a real keyring.
                (
                    OsString::from("DBUS_SESSION_BUS_ADDRESS"),
                    Some(format!("unix:path={}/no-session-bus", self.root.display()).into()),
                ),
            ],
            cwd: self.project.clone(),
            stdin: Vec::new(),
            allowed: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
            secrets: Arc::clone(&self.secrets),
        }
    }

    /// Replaces `home/.npmrc` with `contents`.
    pub fn write_userconfig(&self, contents: &str) {
        std::fs::write(&self.userconfig, contents)
            .unwrap_or_else(|e| panic!("write {}: {e}", self.userconfig.display()));
        // Private, as a user config holding a token should be (rtok warns
        // about one others can read; tests of that warning chmod it back).
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&self.userconfig, std::fs::Permissions::from_mode(0o600))
            .unwrap_or_else(|e| panic!("chmod {}: {e}", self.userconfig.display()));
    }

    /// rtok's own settings file as children find it (`~/.config`: they never
    /// get `XDG_CONFIG_HOME` or `RTOK_CONFIG` unless a test passes them).
    pub fn rtok_settings(&self) -> PathBuf {
        self.home.join(".config/rtok/config.toml")
    }

    /// Replaces rtok's settings file with `text`.
    pub fn write_rtok_settings(&self, text: &str) {
        let path = self.rtok_settings();
        std::fs::create_dir_all(path.parent().expect("a folder"))
            .unwrap_or_else(|e| panic!("create the folder of {}: {e}", path.display()));
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }

    /// The current `home/.npmrc`; panics if it does not exist (check
    /// `env.userconfig.exists()` first when absence is expected).
    pub fn read_userconfig(&self) -> String {
        std::fs::read_to_string(&self.userconfig)
            .unwrap_or_else(|e| panic!("read {}: {e}", self.userconfig.display()))
    }

    /// From now on, any run through this env whose stdout or stderr contains
    /// `secret` fails the test, unless that run calls `allow_secret(secret)`.
    pub fn register_secret(&self, secret: &str) {
        // An empty string is in every output; it can only be a test bug.
        assert!(!secret.is_empty(), "register_secret(\"\"): empty secret");
        let mut secrets = self.secrets.lock().expect("secrets lock poisoned");
        if !secrets.iter().any(|s| s == secret) {
            secrets.push(secret.to_owned());
        }
    }
}

impl Default for TestEnv {
    fn default() -> Self {
        Self::new()
    }
}

/// A command to run in a `TestEnv`: a builder, consumed by `run`.
#[must_use = "a command does nothing until .run()"]
pub struct RtokCmd {
    program: OsString,
    args: Vec<OsString>,
    // In order; `None` removes. Applied after the parent environment has
    // been scrubbed, so these always win.
    env: Vec<(OsString, Option<OsString>)>,
    cwd: PathBuf,
    stdin: Vec<u8>,
    allowed: Vec<String>,
    timeout: Duration,
    secrets: Arc<Mutex<Vec<String>>>,
}

impl RtokCmd {
    pub fn arg(mut self, a: impl AsRef<OsStr>) -> Self {
        self.args.push(a.as_ref().to_owned());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.env
            .push((key.as_ref().to_owned(), Some(value.as_ref().to_owned())));
        self
    }

    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Self {
        self.env.push((key.as_ref().to_owned(), None));
        self
    }

    /// The child's working directory; a relative path is taken relative to
    /// the env's `project` directory.
    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.cwd = self.cwd.join(dir);
        self
    }

    /// Bytes written to the child's stdin, which is then closed. Without
    /// this the child's stdin is closed from the start (reads see EOF).
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = bytes.into();
        self
    }

    /// This run may print `secret` (e.g. `token create` shows the new token).
    pub fn allow_secret(mut self, secret: &str) -> Self {
        self.allowed.push(secret.to_owned());
        self
    }

    /// How long the run may take before the child is killed and the test
    /// fails as hung (default `DEFAULT_TIMEOUT`).
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }

    /// This command run by `program` with `args` in front of it (`rtok exec
    /// --`, `sh -c`), keeping its environment, folder and checks:
    /// `env.client(c).through(rtok, ["exec", "--"])`.
    pub fn through<I, S>(mut self, program: impl AsRef<OsStr>, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut front: Vec<OsString> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
        front.push(std::mem::replace(
            &mut self.program,
            program.as_ref().to_owned(),
        ));
        front.append(&mut self.args);
        self.args = front;
        self
    }

    /// The command line, shell-like, for messages.
    fn display(&self) -> String {
        let program = Path::new(&self.program);
        // The full path of the test binary is noise; its name says enough.
        let name = program
            .file_name()
            .unwrap_or(program.as_os_str())
            .to_string_lossy();
        let mut line = name.into_owned();
        for a in &self.args {
            line.push(' ');
            line.push_str(&shell_quote(&a.to_string_lossy()));
        }
        line
    }

    /// Runs the command to completion and returns what it did. Panics if it
    /// cannot start, if it outlives its timeout, or if its output contains a
    /// registered secret this run did not allow. A non-zero exit is not a
    /// panic here: check it with `Run::success`/`Run::failure`.
    pub fn run(self) -> Run {
        let command_line = self.display();
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args).current_dir(&self.cwd);
        for (name, _) in std::env::vars_os() {
            if is_removed_var(&name) {
                cmd.env_remove(name);
            }
        }
        for (key, value) in &self.env {
            match value {
                Some(v) => cmd.env(key, v),
                None => cmd.env_remove(key),
            };
        }
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());

        let started = Instant::now();
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("could not start `{command_line}`: {e}"));

        // Feed stdin on its own thread: a child that prints a lot before
        // reading would otherwise deadlock against us.
        let mut stdin = child.stdin.take().expect("child stdin is piped");
        let input = self.stdin;
        let feeder = thread::spawn(move || {
            // A child that exits without reading all of it is fine.
            let _ = stdin.write_all(&input);
            // Dropping stdin closes the pipe: the child sees EOF.
        });
        let out = Capture::start(child.stdout.take().expect("child stdout is piped"));
        let err = Capture::start(child.stderr.take().expect("child stderr is piped"));

        let secrets = self.secrets.lock().expect("secrets lock poisoned").clone();
        // Messages show the command line, which may carry a token.
        let command_line = mask_secrets(&command_line, &secrets);
        let status = match wait_or_kill(&mut child, started + self.timeout, &out, &err) {
            Outcome::Finished(status) => status,
            Outcome::Hung { exited } => {
                // Readers are not joined: a grandchild may still hold the
                // pipes open, and the test must fail now, not when it exits.
                let stdout = mask_secrets(&out.snapshot(), &secrets);
                let stderr = mask_secrets(&err.snapshot(), &secrets);
                let what = match exited {
                    None => "killed it".to_owned(),
                    Some(status) => format!(
                        "it had exited ({status}) but something it started still holds its stdout/stderr open"
                    ),
                };
                panic!(
                    "`{command_line}` hung: still running after the {:?} timeout, {what}\n{}",
                    self.timeout,
                    format_output(&stdout, &stderr)
                );
            }
        };
        let _ = feeder.join();
        let stdout = out.finish();
        let stderr = err.finish();

        let (code, signal) = match (status.code(), status.signal()) {
            (Some(code), _) => (code, None),
            // Killed by a signal: report it the way shells do.
            (None, Some(sig)) => (128 + sig, Some(sig)),
            (None, None) => (-1, None),
        };
        let run = Run {
            command: command_line,
            code,
            signal,
            stdout,
            stderr,
            elapsed: started.elapsed(),
        };
        leak_sweep(&run, &secrets, &self.allowed);
        run
    }
}

enum Outcome {
    Finished(std::process::ExitStatus),
    /// The deadline passed; `exited` is set if the child itself had exited.
    Hung {
        exited: Option<std::process::ExitStatus>,
    },
}

/// Waits for the child to exit and for both output pipes to reach EOF,
/// killing the child if the deadline passes first.
fn wait_or_kill(child: &mut Child, deadline: Instant, out: &Capture, err: &Capture) -> Outcome {
    let mut status = None;
    let mut pause = Duration::from_millis(1);
    loop {
        if status.is_none() {
            status = child.try_wait().expect("wait for the child");
        }
        // Both conditions: a child that exited while something it started
        // still holds stdout open has not finished, as far as a test can
        // tell.
        if let Some(status) = status
            && out.is_done()
            && err.is_done()
        {
            return Outcome::Finished(status);
        }
        if Instant::now() >= deadline {
            if status.is_none() {
                let _ = child.kill();
                let _ = child.wait();
            }
            return Outcome::Hung { exited: status };
        }
        thread::sleep(pause);
        // Quick for the common fast command, cheap for the slow one.
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

/// One output pipe, read to EOF on its own thread into a buffer that can be
/// looked at before EOF (for the "hung" message).
struct Capture {
    buf: Arc<Mutex<Vec<u8>>>,
    reader: JoinHandle<()>,
}

impl Capture {
    fn start(mut pipe: impl Read + Send + 'static) -> Capture {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&buf);
        let reader = thread::spawn(move || {
            let mut chunk = [0u8; 8192];
            loop {
                match pipe.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => sink
                        .lock()
                        .expect("capture lock poisoned")
                        .extend_from_slice(&chunk[..n]),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
        });
        Capture { buf, reader }
    }

    fn is_done(&self) -> bool {
        self.reader.is_finished()
    }

    fn snapshot(&self) -> String {
        String::from_utf8_lossy(&self.buf.lock().expect("capture lock poisoned")).into_owned()
    }

    fn finish(self) -> String {
        self.reader.join().expect("output reader thread panicked");
        let bytes = std::mem::take(&mut *self.buf.lock().expect("capture lock poisoned"));
        // Lossy: a test about invalid UTF-8 output would look at the
        // replacement characters; every other test wants a String.
        String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }
}

/// What a finished command did.
#[derive(Debug, Clone)]
pub struct Run {
    /// The command line, for messages.
    pub command: String,
    /// The exit code; 128 + N when killed by signal N (see `signal`).
    pub code: i32,
    /// The signal that killed the child, if one did.
    pub signal: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// Wall-clock time from spawn to exit.
    pub elapsed: Duration,
}

impl Run {
    /// Asserts exit code 0.
    #[track_caller]
    pub fn success(&self) -> &Self {
        if self.code != 0 {
            panic!("{}", self.describe("expected success (exit 0)"));
        }
        self
    }

    /// Asserts this exit code.
    #[track_caller]
    pub fn failure(&self, code: i32) -> &Self {
        if self.code != code {
            panic!("{}", self.describe(&format!("expected exit code {code}")));
        }
        self
    }

    /// Stdout parsed as JSON.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "{}",
                self.describe(&format!("expected JSON on stdout ({e})"))
            )
        })
    }

    /// The `key` of every object in the JSON array on stdout, in order.
    #[track_caller]
    pub fn json_keys(&self) -> Vec<String> {
        self.json()
            .as_array()
            .unwrap_or_else(|| panic!("{}", self.describe("a JSON array on stdout")))
            .iter()
            .map(|o| o["key"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    pub fn stderr_lines(&self) -> Vec<&str> {
        self.stderr.lines().collect()
    }

    pub fn stdout_lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }

    /// A failure message: what was expected, then everything the run did.
    pub fn describe(&self, expected: &str) -> String {
        let mut msg = format!(
            "`{}`: {expected}, got exit code {}",
            self.command, self.code
        );
        if let Some(sig) = self.signal {
            let _ = write!(msg, " (killed by signal {sig})");
        }
        msg.push('\n');
        msg.push_str(&format_output(&self.stdout, &self.stderr));
        msg
    }
}

fn format_output(stdout: &str, stderr: &str) -> String {
    format!("--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}\n--- end ---")
}

/// The first four characters of a secret: enough to tell which one leaked,
/// too little to be one.
fn secret_hint(secret: &str) -> String {
    let head: String = secret.chars().take(4).collect();
    format!("{head}…")
}

fn mask_secrets(text: &str, secrets: &[String]) -> String {
    let mut text = text.to_owned();
    for s in secrets {
        text = text.replace(s.as_str(), &format!("<secret {}>", secret_hint(s)));
    }
    text
}

/// Panics if a registered secret that this run did not allow shows up in
/// its stdout or stderr. The message masks every secret, so the leak is not
/// repeated in the test log.
fn leak_sweep(run: &Run, secrets: &[String], allowed: &[String]) {
    let mut leaks = Vec::new();
    for secret in secrets {
        if allowed.contains(secret) {
            continue;
        }
        for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            if text.contains(secret.as_str()) {
                leaks.push(format!(
                    "secret {} leaked into {stream}",
                    secret_hint(secret)
                ));
            }
        }
    }
    if !leaks.is_empty() {
        panic!(
            "`{}`: {} (exit code {})\n{}",
            run.command,
            leaks.join(", "),
            run.code,
            format_output(
                &mask_secrets(&run.stdout, secrets),
                &mask_secrets(&run.stderr, secrets)
            )
        );
    }
}

/// Quotes an argument for display when it would be ambiguous bare.
fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+%".contains(c));
    if plain {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}
