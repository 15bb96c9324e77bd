//! A registry's `credential-command` (rtok's settings): a program such as
//! `gh auth token`, `op read op://...` or `pass show npm` whose standard
//! output is the token; and the tools of provider presets (`provider/`
//! reads their output). Run without a shell, stdin closed, with
//! `RTOK_REGISTRY=<registry URL>` in its environment and a 30 s limit. Its
//! stdout is never shown; the first line of its stderr may be.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use url::Url;

use crate::display::display_url;
use crate::secret::Secret;

/// How long a credential command may run before it is killed.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(30);

/// More than any token; a command printing more is not printing a token.
const MAX_OUTPUT: u64 = 64 * 1024;

/// Why a credential command gave no token. Each message names the command
/// as written in the settings (never its output).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum CommandError {
    #[error("{} for {registry} was not found", who(.command, .provider))]
    NotFound {
        command: String,
        registry: String,
        provider: Option<&'static str>,
    },
    #[error("{} for {registry} could not be started: {reason}", who(.command, .provider))]
    NotStarted {
        command: String,
        registry: String,
        provider: Option<&'static str>,
        reason: String,
    },
    #[error("{} for {registry} {status}{}", who(.command, .provider), stderr_suffix(.stderr))]
    Failed {
        command: String,
        registry: String,
        provider: Option<&'static str>,
        /// `exited with status 1`, `was killed by signal 9`.
        status: String,
        /// The first line of its stderr, if it printed one.
        stderr: Option<String>,
    },
    #[error(
        "{} for {registry} did not finish within {limit} and was stopped", who(.command, .provider)
    )]
    TimedOut {
        command: String,
        registry: String,
        provider: Option<&'static str>,
        /// `30 s`, or `500 ms` for a limit under a second.
        limit: String,
    },
    #[error("{} for {registry} printed no token", who(.command, .provider))]
    Empty {
        command: String,
        registry: String,
        provider: Option<&'static str>,
    },
    #[error(
        "{} for {registry} printed something that is not a token ({why})", who(.command, .provider)
    )]
    NotAToken {
        command: String,
        registry: String,
        provider: Option<&'static str>,
        /// `not one line of text`, `not text`, `it holds whitespace`.
        why: &'static str,
    },
}

/// The command as messages name it: `the credential command `...``, or
/// `the codeartifact provider (`aws ...`)`.
fn who(command: &str, provider: &Option<&'static str>) -> String {
    match provider {
        None => format!("the credential command `{command}`"),
        Some(name) => format!("the `{name}` provider (`{command}`)"),
    }
}

fn stderr_suffix(stderr: &Option<String>) -> String {
    stderr
        .as_ref()
        .map(|line| format!(": {line}"))
        .unwrap_or_default()
}

impl CommandError {
    pub(crate) fn hint(&self) -> String {
        let (command, provider) = match self {
            CommandError::NotFound {
                command, provider, ..
            }
            | CommandError::NotStarted {
                command, provider, ..
            }
            | CommandError::Failed {
                command, provider, ..
            }
            | CommandError::TimedOut {
                command, provider, ..
            }
            | CommandError::Empty {
                command, provider, ..
            }
            | CommandError::NotAToken {
                command, provider, ..
            } => (command, provider),
        };
        match (self, provider) {
            (CommandError::NotFound { .. }, Some(_)) => format!(
                "install `{}` and sign in with it, or change `provider` in rtok's config.toml",
                command.split(' ').next().unwrap_or(command)
            ),
            (_, Some(_)) => format!(
                "run `{command}` yourself to see what is wrong (signed in? right account?), or change `provider` in rtok's config.toml"
            ),
            (_, None) => format!(
                "run `{command}` yourself to see what is wrong, or change `credential-command` in rtok's config.toml"
            ),
        }
    }

    /// Output that is no token: what the parsers of `provider/` report.
    pub(crate) fn not_a_token(
        argv: &[String],
        registry: &Url,
        provider: Option<&'static str>,
        why: &'static str,
    ) -> CommandError {
        CommandError::NotAToken {
            command: shown(argv),
            registry: display_url(registry),
            provider,
            why,
        }
    }
}

/// Runs `argv` for `registry` and returns its trimmed stdout as the token.
#[cfg(test)]
pub(crate) fn run(argv: &[String], registry: &Url) -> Result<Secret, CommandError> {
    run_with_timeout(argv, registry, timeout())
}

/// [`run`] with another limit.
#[cfg(test)]
pub(crate) fn run_with_timeout(
    argv: &[String],
    registry: &Url,
    limit: Duration,
) -> Result<Secret, CommandError> {
    let text = output_with_timeout(argv, registry, None, limit)?;
    bare_token(&text).map_err(|why| CommandError::not_a_token(argv, registry, None, why))
}

/// Runs `argv` for `registry` (a `credential-command`, or a provider's
/// tool, named by `provider`) and returns its stdout as text, trimmed and
/// not empty, for the caller to read the token from.
pub(crate) fn output(
    argv: &[String],
    registry: &Url,
    provider: Option<&'static str>,
) -> Result<String, CommandError> {
    output_with_timeout(argv, registry, provider, timeout())
}

/// Output that is one word of text: the token. Anything else is why not.
pub(crate) fn bare_token(text: &str) -> Result<Secret, &'static str> {
    let token = text.trim();
    if token.starts_with('<') {
        return Err("it looks like HTML");
    }
    if token.contains(['\n', '\r']) || token.len() as u64 >= MAX_OUTPUT {
        return Err("not one line of text");
    }
    // A token is one word: `tok with spaces` sent as `Bearer tok with
    // spaces` is a malformed header value at best.
    if token.contains(char::is_whitespace) {
        return Err("it holds whitespace");
    }
    Ok(Secret::new(token))
}

fn output_with_timeout(
    argv: &[String],
    registry: &Url,
    provider: Option<&'static str>,
    limit: Duration,
) -> Result<String, CommandError> {
    let command = shown(argv);
    let registry_shown = display_url(registry);
    let not_started = |reason: String| CommandError::NotStarted {
        command: command.clone(),
        registry: registry_shown.clone(),
        provider,
        reason,
    };
    let Some((program, args)) = argv.split_first() else {
        return Err(not_started("it is empty".into()));
    };
    let mut builder = Command::new(program);
    builder
        .args(args)
        .env("RTOK_REGISTRY", registry.as_str())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // Its own process group, so a timeout stops what it started too
    // (`sh -c 'sleep 100'` leaves the sleep behind otherwise). The
    // terminal's Ctrl-C then reaches rtok alone: `interrupt` passes it on.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut builder, 0);
    let spawned = interrupt::spawn_watched(&mut builder);
    let (mut child, _watch) = spawned.map_err(|err| match err.kind() {
        std::io::ErrorKind::NotFound => CommandError::NotFound {
            command: command.clone(),
            registry: registry_shown.clone(),
            provider,
        },
        _ => not_started(err.to_string()),
    })?;

    let stdout = read_in_background(child.stdout.take());
    let stderr = read_in_background(child.stderr.take());
    let Some((status, out)) = collect(&mut child, &stdout, Instant::now() + limit) else {
        stop(&mut child);
        return Err(CommandError::TimedOut {
            command,
            registry: registry_shown,
            provider,
            limit: if limit < Duration::from_secs(1) {
                format!("{} ms", limit.as_millis())
            } else {
                format!("{} s", limit.as_secs())
            },
        });
    };
    if !status.success() {
        stderr.wait(Duration::from_millis(100));
        let err = stderr.take();
        let first = String::from_utf8_lossy(&err)
            .lines()
            .map(str::trim)
            .find(|line| !line.is_empty())
            .map(|line| line.chars().take(300).collect::<String>());
        return Err(CommandError::Failed {
            command,
            registry: registry_shown,
            provider,
            status: describe_status(status),
            stderr: first,
        });
    }
    let Ok(text) = String::from_utf8(out) else {
        return Err(CommandError::NotAToken {
            command,
            registry: registry_shown,
            provider,
            why: "not text",
        });
    };
    let text = text.trim();
    if text.is_empty() {
        return Err(CommandError::Empty {
            command,
            registry: registry_shown,
            provider,
        });
    }
    Ok(text.to_string())
}

/// The command as messages show it: words joined by spaces, quoted when
/// they would be ambiguous.
pub(crate) fn shown(argv: &[String]) -> String {
    argv.iter()
        .map(|word| {
            let plain = !word.is_empty()
                && word
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+%".contains(c));
            if plain {
                word.clone()
            } else {
                format!("'{}'", word.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The limit: 30 s; debug builds (the tests) may shorten it with
/// `RTOK_CREDENTIAL_COMMAND_TIMEOUT_MS`.
fn timeout() -> Duration {
    #[cfg(debug_assertions)]
    if let Some(ms) = std::env::var("RTOK_CREDENTIAL_COMMAND_TIMEOUT_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        return Duration::from_millis(ms);
    }
    TIMEOUT
}

/// A pipe read to EOF (at most `MAX_OUTPUT` bytes) on its own thread; what
/// has arrived so far can be taken at any time.
struct Reader {
    bytes: Arc<Mutex<Vec<u8>>>,
    done: mpsc::Receiver<()>,
}

impl Reader {
    /// Waits up to `timeout` for the end of the pipe; `true` once it came.
    fn wait(&self, timeout: Duration) -> bool {
        !matches!(
            self.done.recv_timeout(timeout),
            Err(mpsc::RecvTimeoutError::Timeout)
        )
    }

    /// What the pipe has given so far.
    fn take(&self) -> Vec<u8> {
        self.bytes
            .lock()
            .map(|mut bytes| std::mem::take(&mut *bytes))
            .unwrap_or_default()
    }
}

fn read_in_background(pipe: Option<impl Read + Send + 'static>) -> Reader {
    let bytes = Arc::new(Mutex::new(Vec::new()));
    let (sender, done) = mpsc::channel();
    if let Some(mut pipe) = pipe {
        let shared = Arc::clone(&bytes);
        std::thread::spawn(move || {
            let mut chunk = [0u8; 8192];
            let mut total = 0u64;
            while total < MAX_OUTPUT {
                match pipe.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => {
                        let n = n.min(usize::try_from(MAX_OUTPUT - total).unwrap_or(n));
                        total += n as u64;
                        if let Ok(mut bytes) = shared.lock() {
                            bytes.extend_from_slice(&chunk[..n]);
                        }
                    }
                    Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
            let _ = sender.send(());
        });
    }
    Reader { bytes, done }
}

/// Waits for the command to exit and its stdout to close, until
/// `deadline`. A command that exited while something it started still holds
/// its stdout open (a helper agent it left running) gets a moment, then what
/// it printed before it exited is its output.
fn collect(
    child: &mut Child,
    stdout: &Reader,
    deadline: Instant,
) -> Option<(std::process::ExitStatus, Vec<u8>)> {
    const GRACE: Duration = Duration::from_millis(200);
    let mut closed = false;
    let mut exited: Option<(std::process::ExitStatus, Instant)> = None;
    let mut pause = Duration::from_micros(200);
    loop {
        let now = Instant::now();
        if now >= deadline {
            return None;
        }
        let wait = pause.min(deadline - now);
        if closed {
            std::thread::sleep(wait);
        } else {
            closed = stdout.wait(wait);
        }
        if exited.is_none() {
            match child.try_wait() {
                Ok(Some(status)) => exited = Some((status, Instant::now())),
                Ok(None) => {}
                Err(_) => return None,
            }
        }
        match exited {
            Some((status, _)) if closed => return Some((status, stdout.take())),
            Some((status, at)) if at.elapsed() >= GRACE => {
                return Some((status, stdout.take()));
            }
            _ => {}
        }
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

/// Kills the command and everything in its process group.
fn stop(child: &mut Child) {
    #[cfg(unix)]
    if let Some(pid) = rustix::process::Pid::from_raw(child.id() as i32) {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// From now on, SIGINT, SIGTERM and SIGHUP that arrive while no credential
/// command runs are the caller's to handle (`rtok exec`, which forwards them
/// to its command), not a reason for rtok to end. Call it once the caller's
/// own handlers are installed.
pub(crate) fn leave_signals_to_caller() {
    #[cfg(unix)]
    interrupt::STAND_ASIDE.store(true, std::sync::atomic::Ordering::SeqCst);
}

#[cfg(unix)]
mod interrupt {
    //! Ctrl-C, SIGTERM or SIGHUP while a credential command runs: the
    //! command's process group (its own, see `run_with_timeout`) is killed,
    //! then rtok exits 128 + N, as the signal would have ended it. Without a
    //! command running, a signal ends rtok as it always did.

    use std::process::{Child, Command};
    use std::sync::atomic::AtomicBool;
    use std::sync::{Mutex, MutexGuard, OnceLock};

    use rustix::process::{Pid, Signal, kill_process_group};
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    use signal_hook::iterator::Signals;

    /// The process groups of the credential commands running now.
    static RUNNING: Mutex<Vec<Pid>> = Mutex::new(Vec::new());
    /// See [`super::leave_signals_to_caller`].
    pub(super) static STAND_ASIDE: AtomicBool = AtomicBool::new(false);
    static INSTALLED: OnceLock<()> = OnceLock::new();

    /// Removes its command from `RUNNING` when dropped.
    pub(super) struct Watch(Option<Pid>);

    impl Drop for Watch {
        fn drop(&mut self) {
            if let Some(pid) = self.0 {
                running().retain(|p| *p != pid);
            }
        }
    }

    fn running() -> MutexGuard<'static, Vec<Pid>> {
        RUNNING
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Spawns `command` (its own process group) with the handlers in
    /// place. The lock is held from before the spawn until its group is
    /// recorded, so a signal in between waits and then finds it.
    pub(super) fn spawn_watched(command: &mut Command) -> std::io::Result<(Child, Watch)> {
        install();
        let mut running = running();
        let child = command.spawn()?;
        let pid = Pid::from_raw(child.id() as i32);
        running.extend(pid);
        Ok((child, Watch(pid)))
    }

    /// The handlers, once per process, on a thread of their own. A handler
    /// that cannot be installed leaves things as they were before.
    fn install() {
        INSTALLED.get_or_init(|| {
            let Ok(mut signals) = Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
                return;
            };
            std::thread::spawn(move || {
                for signal in signals.forever() {
                    on_signal(signal);
                }
            });
        });
    }

    fn on_signal(signal: i32) {
        let running = running();
        if !running.is_empty() {
            for group in running.iter() {
                let _ = kill_process_group(*group, Signal::KILL);
            }
            std::process::exit(128 + signal);
        }
        drop(running);
        if !STAND_ASIDE.load(std::sync::atomic::Ordering::SeqCst) {
            // What the signal would have done had no handler been installed.
            let _ = signal_hook::low_level::emulate_default_handler(signal);
        }
    }
}

#[cfg(not(unix))]
mod interrupt {
    use std::process::{Child, Command};

    pub(super) struct Watch;

    /// Ctrl-C reaches every process of the console, the command included.
    pub(super) fn spawn_watched(command: &mut Command) -> std::io::Result<(Child, Watch)> {
        Ok((command.spawn()?, Watch))
    }
}

fn describe_status(status: std::process::ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("was killed by signal {signal}");
        }
    }
    match status.code() {
        Some(code) => format!("exited with status {code}"),
        None => "failed".into(),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn registry() -> Url {
        Url::parse("https://npm.pkg.github.com/").expect("url")
    }

    fn sh(script: &str) -> Vec<String> {
        vec!["sh".into(), "-c".into(), script.into()]
    }

    #[test]
    fn stdout_trimmed_is_the_token_and_the_registry_is_passed() {
        let token = run(&sh("printf ' tok-%s \\n' \"$RTOK_REGISTRY\""), &registry()).expect("run");
        assert_eq!(token.expose(), "tok-https://npm.pkg.github.com/");
        // stdin is closed, not inherited.
        let token = run(&sh("cat; echo done"), &registry()).expect("run");
        assert_eq!(token.expose(), "done");
    }

    #[test]
    fn failures_name_the_command_and_never_show_stdout() {
        let err = run(
            &sh("echo secret-out; echo 'bad login' >&2; exit 3"),
            &registry(),
        )
        .unwrap_err();
        let message = err.to_string();
        assert!(message.contains("`sh -c 'echo secret-out;"), "{message}");
        assert!(
            message.contains("exited with status 3: bad login"),
            "{message}"
        );
        assert_eq!(message.matches("secret-out").count(), 1, "{message}");

        let err = run(&sh("true"), &registry()).unwrap_err();
        assert!(matches!(err, CommandError::Empty { .. }), "{err}");
        let err = run(&sh("printf 'a\\nb\\n'"), &registry()).unwrap_err();
        assert!(matches!(err, CommandError::NotAToken { .. }), "{err}");
        assert!(err.to_string().ends_with("(not one line of text)"), "{err}");
        let err = run(&["rtok-no-such-program".to_string()], &registry()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the credential command `rtok-no-such-program` for https://npm.pkg.github.com/ was not found"
        );
        assert!(err.hint().contains("`rtok-no-such-program`"));
    }

    #[test]
    fn output_that_is_not_text_or_holds_whitespace_is_not_a_token() {
        let err = run(&sh("printf 'npm_\\377\\376tok\\n'"), &registry()).unwrap_err();
        assert!(matches!(err, CommandError::NotAToken { .. }), "{err}");
        assert!(err.to_string().ends_with("(not text)"), "{err}");
        for output in ["tok with spaces", "tok\\twith-tab"] {
            let err = run(&sh(&format!("printf '{output}\\n'")), &registry()).unwrap_err();
            assert!(
                err.to_string().ends_with("(it holds whitespace)"),
                "{output}: {err}"
            );
        }
    }

    #[test]
    fn a_command_that_never_ends_is_stopped_with_what_it_started() {
        let started = Instant::now();
        let err = run_with_timeout(
            &sh("sleep 30 & echo $! > /dev/null; sleep 30"),
            &registry(),
            Duration::from_millis(300),
        )
        .unwrap_err();
        assert!(matches!(err, CommandError::TimedOut { .. }), "{err}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}
