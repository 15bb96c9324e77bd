//! How URLs and text from elsewhere are shown and escaped: userinfo dropped,
//! secrets redacted, one line, URL components encoded; and which hosts count
//! as this machine. A leaf: every layer may use it.

use url::Url;

use crate::secret::Secret;

/// A URL as logs and messages show it: no user name or password.
pub(crate) fn display_url(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.to_string()
}

/// `display_url` for text that may not parse (a proxy setting).
pub(crate) fn display_url_str(text: &str) -> String {
    Url::parse(text)
        .map(|u| display_url(&u))
        .unwrap_or_else(|_| "<invalid>".into())
}

/// Whether the URL's host is this machine (`127.0.0.1`, `::1`, `localhost`).
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name == "localhost" || name.ends_with(".localhost"),
        None => false,
    }
}

/// Replaces every occurrence of any of `secrets` in `text` with `***`.
///
/// Used on text that came from elsewhere (a registry's error body, a
/// notice) before it is shown, in case the other side echoed a credential.
pub(crate) fn redact(text: &str, secrets: &[&Secret]) -> String {
    let mut out = text.to_string();
    for secret in secrets {
        let value = secret.expose();
        // Very short values (an empty password, a 1-char OTP) would turn
        // ordinary text into asterisks without protecting anything.
        if value.len() >= 4 {
            out = out.replace(value, "***");
        }
    }
    out
}

/// `text` on one line of at most `limit` characters: whitespace and control
/// characters collapsed to single spaces, `...` where it was cut.
pub(crate) fn one_line(text: &str, limit: usize) -> String {
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect();
    let joined = words.join(" ");
    if joined.chars().count() > limit {
        let cut: String = joined.chars().take(limit).collect();
        format!("{cut}...")
    } else {
        joined
    }
}

/// `encodeURIComponent`: everything but `A-Z a-z 0-9 - _ . ! ~ * ' ( )`.
pub(crate) fn encode_component(text: &str) -> String {
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'!')
        .remove(b'~')
        .remove(b'*')
        .remove(b'\'')
        .remove(b'(')
        .remove(b')');
    utf8_percent_encode(text, COMPONENT).to_string()
}

/// `text` with everything that could drive a terminal written visibly, so a
/// hostile registry, project file, file name or command cannot clear the
/// screen, retitle the window, fake rows or reverse text: C0 characters and
/// DEL in caret notation (`^[`, `^M`, `^J`, `^?`), C1 characters as
/// `\u{9b}`, bidi controls and other invisible format characters (Unicode
/// `Cf`, such as U+202E RIGHT-TO-LEFT OVERRIDE) as `<U+202E>`. Everything
/// else is kept, and the result is unchanged by a second pass.
pub fn visible(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() || is_format(c)) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\u{0}'..='\u{1f}' => {
                out.push('^');
                out.push(char::from(c as u8 + 0x40));
            }
            '\u{7f}' => out.push_str("^?"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c if is_format(c) => out.push_str(&format!("<U+{:04X}>", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Invisible format characters (Unicode general category `Cf`) that can
/// reorder or hide text: the bidi embeddings, overrides, isolates and marks,
/// the Arabic letter mark, invisible operators, the byte order mark,
/// interlinear annotations and tag characters. The zero-width joiners
/// (U+200C, U+200D), which scripts and emoji need, stay.
fn is_format(c: char) -> bool {
    matches!(
        c,
        '\u{ad}'
            | '\u{600}'..='\u{605}'
            | '\u{61c}'
            | '\u{6dd}'
            | '\u{70f}'
            | '\u{890}'..='\u{891}'
            | '\u{8e2}'
            | '\u{180e}'
            | '\u{200b}'
            | '\u{200e}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206f}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}'
            | '\u{110bd}'
            | '\u{110cd}'
            | '\u{13430}'..='\u{1343f}'
            | '\u{1bca0}'..='\u{1bca3}'
            | '\u{1d173}'..='\u{1d17a}'
            | '\u{e0001}'
            | '\u{e0020}'..='\u{e007f}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_are_encoded_like_javascript() {
        assert_eq!(encode_component("a b/c+d=="), "a%20b%2Fc%2Bd%3D%3D");
        assert_eq!(encode_component("abc-_.!~*'()"), "abc-_.!~*'()");
    }

    #[test]
    fn display_url_drops_userinfo() {
        let url = Url::parse("https://user:pass@r.example/npm/").expect("url");
        assert_eq!(display_url(&url), "https://r.example/npm/");
        assert_eq!(display_url_str("not a url"), "<invalid>");
    }

    #[test]
    fn loopback_hosts() {
        for (url, expected) in [
            ("http://127.0.0.1:4873/", true),
            ("http://[::1]/", true),
            ("http://localhost:1/", true),
            ("http://registry.example/", false),
            ("http://10.0.0.1/", false),
        ] {
            assert_eq!(
                is_loopback(&Url::parse(url).expect("url")),
                expected,
                "{url}"
            );
        }
    }

    #[test]
    fn redact_replaces_every_occurrence() {
        let a = Secret::new("tok-123456");
        let b = Secret::new("pw");
        assert_eq!(
            redact("bad token tok-123456 (tok-123456) pw", &[&a, &b]),
            "bad token *** (***) pw"
        );
    }

    #[test]
    fn one_line_collapses_and_cuts() {
        assert_eq!(one_line("a\n\tb\x1b[2Jc", 100), "a b [2Jc");
        assert_eq!(one_line(&"word ".repeat(10), 9), "word word...");
    }

    #[test]
    fn control_and_format_characters_are_shown_not_obeyed() {
        assert_eq!(visible("plain name"), "plain name");
        assert!(matches!(visible("plain"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(visible("\u{1b}[2Jwiped"), "^[[2Jwiped");
        assert_eq!(visible("\u{1b}]0;title\u{7}"), "^[]0;title^G");
        assert_eq!(visible("a\rb\u{8}c\nd\te"), "a^Mb^Hc^Jd^Ie");
        assert_eq!(visible("del\u{7f}"), "del^?");
        assert_eq!(visible("csi\u{9b}2J"), "csi\\u{9b}2J");
        assert_eq!(visible("\u{202e}gnp.exe"), "<U+202E>gnp.exe");
        assert_eq!(
            visible("a\u{2066}b\u{2069}\u{200f}\u{61c}\u{feff}"),
            "a<U+2066>b<U+2069><U+200F><U+061C><U+FEFF>"
        );
        assert_eq!(visible("café ✓ 👩\u{200d}💻"), "café ✓ 👩\u{200d}💻");
        // A second pass changes nothing: no double escaping.
        let once = visible("\u{1b}[2J\u{202e}x\\u{9b}").into_owned();
        assert_eq!(visible(&once), once);
    }
}
