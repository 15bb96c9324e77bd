//! A registry's `credential-command` (rtok's settings): a program such as
//! `gh auth token`, `op read op://...` or `pass show npm` whose standard
//! output is the token. Run without a shell, stdin closed, with
//! `RTOK_REGISTRY=<registry URL>` in its environment and a 30 s limit. Its
//! stdout is never shown; the first line of its stderr may be.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
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
    #[error("the credential command `{command}` for {registry} was not found")]
    NotFound { command: String, registry: String },
    #[error("the credential command `{command}` for {registry} could not be started: {reason}")]
    NotStarted {
        command: String,
        registry: String,
        reason: String,
    },
    #[error("the credential command `{command}` for {registry} {status}{}", stderr_suffix(.stderr))]
    Failed {
        command: String,
        registry: String,
        /// `exited with status 1`, `was killed by signal 9`.
        status: String,
        /// The first line of its stderr, if it printed one.
        stderr: Option<String>,
    },
    #[error(
        "the credential command `{command}` for {registry} did not finish within {limit} and was stopped"
    )]
    TimedOut {
        command: String,
        registry: String,
        /// `30 s`, or `500 ms` for a limit under a second.
        limit: String,
    },
    #[error("the credential command `{command}` for {registry} printed no token")]
    Empty { command: String, registry: String },
    #[error(
        "the credential command `{command}` for {registry} printed something that is not a token (not one line of text)"
    )]
    NotAToken { command: String, registry: String },
}

fn stderr_suffix(stderr: &Option<String>) -> String {
    stderr
        .as_ref()
        .map(|line| format!(": {line}"))
        .unwrap_or_default()
}

impl CommandError {
    pub(crate) fn hint(&self) -> String {
        let command = match self {
            CommandError::NotFound { command, .. }
            | CommandError::NotStarted { command, .. }
            | CommandError::Failed { command, .. }
            | CommandError::TimedOut { command, .. }
            | CommandError::Empty { command, .. }
            | CommandError::NotAToken { command, .. } => command,
        };
        format!(
            "run `{command}` yourself to see what is wrong, or change `credential-command` in rtok's config.toml"
        )
    }
}

/// Runs `argv` for `registry` and returns its trimmed stdout as the token.
pub(crate) fn run(argv: &[String], registry: &Url) -> Result<Secret, CommandError> {
    run_with_timeout(argv, registry, timeout())
}

/// [`run`] with another limit.
pub(crate) fn run_with_timeout(
    argv: &[String],
    registry: &Url,
    limit: Duration,
) -> Result<Secret, CommandError> {
    let command = shown(argv);
    let registry_shown = display_url(registry);
    let not_started = |reason: String| CommandError::NotStarted {
        command: command.clone(),
        registry: registry_shown.clone(),
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
    // (`sh -c 'sleep 100'` leaves the sleep behind otherwise).
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut builder, 0);
    let mut child = builder.spawn().map_err(|err| match err.kind() {
        std::io::ErrorKind::NotFound => CommandError::NotFound {
            command: command.clone(),
            registry: registry_shown.clone(),
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
            limit: if limit < Duration::from_secs(1) {
                format!("{} ms", limit.as_millis())
            } else {
                format!("{} s", limit.as_secs())
            },
        });
    };
    if !status.success() {
        let err = stderr
            .recv_timeout(Duration::from_millis(100))
            .unwrap_or_default();
        let first = String::from_utf8_lossy(&err)
            .lines()
            .map(str::trim)
            .find(|line| !line.is_empty())
            .map(|line| line.chars().take(300).collect::<String>());
        return Err(CommandError::Failed {
            command,
            registry: registry_shown,
            status: describe_status(status),
            stderr: first,
        });
    }
    let text = String::from_utf8(out).unwrap_or_default();
    let token = text.trim();
    if token.is_empty() {
        return Err(CommandError::Empty {
            command,
            registry: registry_shown,
        });
    }
    if token.contains(['\n', '\r']) || token.len() as u64 >= MAX_OUTPUT {
        return Err(CommandError::NotAToken {
            command,
            registry: registry_shown,
        });
    }
    Ok(Secret::new(token))
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

/// Reads a pipe to EOF (at most `MAX_OUTPUT` bytes) on its own thread.
fn read_in_background(pipe: Option<impl Read + Send + 'static>) -> mpsc::Receiver<Vec<u8>> {
    let (sender, receiver) = mpsc::channel();
    if let Some(pipe) = pipe {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.take(MAX_OUTPUT).read_to_end(&mut bytes);
            let _ = sender.send(bytes);
        });
    }
    receiver
}

/// Waits for the command to exit and its stdout to close, until
/// `deadline`. A command that exited while something it started still holds
/// its stdout open gets a moment, then is taken as having printed nothing.
fn collect(
    child: &mut Child,
    stdout: &mpsc::Receiver<Vec<u8>>,
    deadline: Instant,
) -> Option<(std::process::ExitStatus, Vec<u8>)> {
    const GRACE: Duration = Duration::from_millis(200);
    let mut out = None;
    let mut exited: Option<(std::process::ExitStatus, Instant)> = None;
    let mut pause = Duration::from_micros(200);
    loop {
        let now = Instant::now();
        if now >= deadline {
            return None;
        }
        let wait = pause.min(deadline - now);
        if out.is_none() {
            match stdout.recv_timeout(wait) {
                Ok(bytes) => out = Some(bytes),
                Err(mpsc::RecvTimeoutError::Disconnected) => out = Some(Vec::new()),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
        } else {
            std::thread::sleep(wait);
        }
        if exited.is_none() {
            match child.try_wait() {
                Ok(Some(status)) => exited = Some((status, Instant::now())),
                Ok(None) => {}
                Err(_) => return None,
            }
        }
        match (&out, exited) {
            (Some(_), Some((status, _))) => return Some((status, out.unwrap_or_default())),
            (None, Some((status, at))) if at.elapsed() >= GRACE => {
                return Some((status, Vec::new()));
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
        let err = run(&["rtok-no-such-program".to_string()], &registry()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the credential command `rtok-no-such-program` for https://npm.pkg.github.com/ was not found"
        );
        assert!(err.hint().contains("`rtok-no-such-program`"));
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
