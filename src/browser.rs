//! Opening a URL in the user's browser, when there is one.

use std::process::{Command, Stdio};

/// Tries to open `url`: `BROWSER` if set (a `:`-separated list of commands,
/// `%s` standing for the URL), else the desktop's opener when a display is
/// available. Returns whether a browser was started. In CI or over SSH
/// without a display nothing is started: the URL printed is the way in.
///
/// Only an http(s) URL is opened, as its serialization (control characters
/// and spaces percent-encoded): it starts with its scheme, so no browser or
/// opener can read it as an option, and it cannot name a local file or
/// another program's scheme.
pub(crate) fn open(url: &str) -> bool {
    let Some(url) = web_url(url) else {
        return false;
    };
    let url = url.as_str();
    if let Ok(browsers) = std::env::var("BROWSER") {
        return browsers
            .split(':')
            .map(str::trim)
            .filter(|command| !command.is_empty())
            .any(|command| spawn_browser(command, url));
    }
    if std::env::var_os("CI").is_some() {
        return false;
    }
    let opener = if cfg!(target_os = "macos") {
        Some("open")
    } else if cfg!(windows) {
        None
    } else if std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some()
    {
        Some("xdg-open")
    } else {
        None
    };
    opener.is_some_and(|opener| spawn(opener, &[url]))
}

fn web_url(text: &str) -> Option<url::Url> {
    url::Url::parse(text)
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https"))
}

fn spawn_browser(command: &str, url: &str) -> bool {
    if command.contains("%s") {
        let mut parts = command
            .split_whitespace()
            .map(|part| part.replace("%s", url));
        let Some(program) = parts.next() else {
            return false;
        };
        let args: Vec<String> = parts.collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        spawn(&program, &args)
    } else {
        spawn(command, &[url])
    }
}

fn spawn(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_urls_are_opened_and_never_as_an_option() {
        assert!(web_url("--remote-debugging-port=9222").is_none());
        assert!(web_url("file:///etc/passwd").is_none());
        assert!(web_url("javascript:alert(1)").is_none());
        let url = web_url("https://r.example/auth?x=\u{1b}]0;PWNED\u{7}").expect("a web URL");
        assert!(url.as_str().starts_with("https://"));
        assert!(!url.as_str().chars().any(char::is_control), "{url}");
    }
}
