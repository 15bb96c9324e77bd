//! Making text from elsewhere safe to print on a terminal: control
//! characters are shown, not obeyed (`ESC` as `^[`, CR as `^M`), so a
//! hostile registry cannot clear the screen, retitle the window or fake
//! table rows through a user or token name. JSON output keeps the exact
//! strings (JSON escapes them).

use std::borrow::Cow;

/// `text` with every control character written visibly: C0 characters and
/// DEL in caret notation (`^[`, `^M`, `^J`, `^?`), C1 characters as
/// `\u{9b}`. Everything else is kept.
pub fn visible(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
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
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        assert_eq!(visible("plain name"), "plain name");
        assert!(matches!(visible("plain"), Cow::Borrowed(_)));
        assert_eq!(visible("\u{1b}[2Jwiped"), "^[[2Jwiped");
        assert_eq!(visible("\u{1b}]0;title\u{7}"), "^[]0;title^G");
        assert_eq!(visible("a\rb\u{8}c\nd\te"), "a^Mb^Hc^Jd^Ie");
        assert_eq!(visible("del\u{7f}"), "del^?");
        assert_eq!(visible("csi\u{9b}2J"), "csi\\u{9b}2J");
        assert_eq!(visible("café ✓"), "café ✓");
    }
}
