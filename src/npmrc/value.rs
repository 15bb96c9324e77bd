//! npm's ini value and key syntax: decoding what a line says, encoding what we write.
//!
//! These follow the `unsafe`/`safe` functions of npm's `ini` 6 package, the
//! parser npm 11 uses for `.npmrc`, so that rtok reads every file the way npm
//! does and writes values npm reads back unchanged.

/// Decodes a key or value as npm's ini does (`unsafe` in `ini`):
///
/// - surrounding whitespace is trimmed;
/// - `"..."` is JSON-decoded (escapes work); if that fails the text is kept,
///   quotes and all;
/// - `'...'` loses its quotes, then JSON decoding is attempted on the inside
///   (so `'123'` is the number 123, written back as `123`);
/// - otherwise the value ends at the first unescaped `;` or `#` (an inline
///   comment), and `\;`, `\#`, `\\` stand for the character itself.
pub fn decode(raw: &str) -> String {
    let text = trim_js(raw);
    if is_quoted(text) {
        let inner = if text.starts_with('\'') {
            // A lone `'` counts as quoted too, and its inside is empty.
            text.get(1..text.len() - 1).unwrap_or("")
        } else {
            text
        };
        return match serde_json::from_str::<serde_json::Value>(inner) {
            Ok(serde_json::Value::String(s)) => s,
            Ok(serde_json::Value::Number(n)) => n.to_string(),
            Ok(serde_json::Value::Bool(b)) => b.to_string(),
            Ok(serde_json::Value::Null) => "null".to_string(),
            // An array or object, or text that is not JSON: keep the text.
            Ok(_) | Err(_) => inner.to_string(),
        };
    }
    let mut out = String::with_capacity(text.len());
    let mut escaped = false;
    for c in text.chars() {
        if escaped {
            if !matches!(c, '\\' | ';' | '#') {
                out.push('\\');
            }
            out.push(c);
            escaped = false;
        } else if c == ';' || c == '#' {
            break;
        } else if c == '\\' {
            escaped = true;
        } else {
            out.push(c);
        }
    }
    if escaped {
        out.push('\\');
    }
    trim_js(&out).to_string()
}

/// The byte range of `raw` that holds the value itself: surrounding
/// whitespace and any inline comment excluded. Replacing this range changes
/// the value and keeps the spacing and the comment around it.
pub fn value_span(raw: &str) -> (usize, usize) {
    let start = raw.len() - trim_start_js(raw).len();
    let trimmed = trim_js(raw);
    let end_of_trimmed = start + trimmed.len();
    if is_quoted(trimmed) {
        return (start, end_of_trimmed);
    }
    let mut escaped = false;
    for (offset, c) in trimmed.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == ';' || c == '#' {
            let value = trim_end_js(&trimmed[..offset]);
            return (start, start + value.len());
        }
    }
    (start, end_of_trimmed)
}

/// Encodes a value so that [`decode`] (and npm) reads back exactly `value`,
/// as `safe` in `ini` does: JSON-quoted when it contains `=` or a line
/// break, starts with `[`, looks quoted or has outer whitespace; otherwise
/// `;` and `#` are escaped so they are not taken for a comment.
///
/// Two cases `safe` gets wrong are quoted too: a lone `'` (`safe` writes it
/// bare, and it reads back as the empty string) and a backslash before `\`,
/// `;` or `#` (`safe` writes `a\\;` for `a\;`, which reads back as `a\`).
pub fn encode(value: &str) -> String {
    if value.contains(['=', '\r', '\n'])
        || value.starts_with('[')
        || is_quoted(value)
        || value != trim_js(value)
        || has_backslash_before_escape(value)
    {
        return serde_json::Value::String(value.to_string()).to_string();
    }
    escape_comments(value)
}

/// `value` with `;` and `#` escaped, unquoted: how a value is written when
/// it must not be quoted.
pub(crate) fn escape_comments(value: &str) -> String {
    value.replace(';', "\\;").replace('#', "\\#")
}

/// Whether `value` has a `\` right before a `\`, `;` or `#`, which
/// [`decode`] would read as an escape.
fn has_backslash_before_escape(value: &str) -> bool {
    value
        .as_bytes()
        .windows(2)
        .any(|pair| pair[0] == b'\\' && matches!(pair[1], b'\\' | b';' | b'#'))
}

/// As `ini`'s `isQuoted`: a single `"` or `'` counts as quoted.
fn is_quoted(text: &str) -> bool {
    (text.starts_with('"') && text.ends_with('"'))
        || (text.starts_with('\'') && text.ends_with('\''))
}

/// JavaScript's `trim` also removes U+FEFF (a byte-order mark), which is how
/// npm copes with a BOM at the start of a file, and keeps U+0085 (NEL),
/// which Unicode counts as white space but ECMAScript does not.
fn is_js_whitespace(c: char) -> bool {
    (c.is_whitespace() && c != '\u{85}') || c == '\u{feff}'
}

pub(crate) fn trim_js(text: &str) -> &str {
    text.trim_matches(is_js_whitespace)
}

fn trim_start_js(text: &str) -> &str {
    text.trim_start_matches(is_js_whitespace)
}

pub(crate) fn trim_end_js(text: &str) -> &str {
    text.trim_end_matches(is_js_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_values_are_trimmed() {
        assert_eq!(decode("  abc  "), "abc");
        assert_eq!(decode(""), "");
    }

    #[test]
    fn inline_comments_end_an_unquoted_value() {
        assert_eq!(decode("abc#def"), "abc");
        assert_eq!(decode("abc ; comment"), "abc");
        assert_eq!(decode(r"abc\#def\;g\\h"), r"abc#def;g\h");
        // Other escapes are kept as written.
        assert_eq!(decode(r"a\nb"), r"a\nb");
        assert_eq!(decode(r"trailing\"), r"trailing\");
    }

    #[test]
    fn double_quotes_are_json() {
        assert_eq!(decode(r#""a=b; #c""#), "a=b; #c");
        assert_eq!(decode(r#""line\nbreak""#), "line\nbreak");
        // Not valid JSON: kept as written, quotes included.
        assert_eq!(decode(r#""bad \q""#), r#""bad \q""#);
        assert_eq!(decode("\""), "\"");
        assert_eq!(decode("'"), "");
    }

    #[test]
    fn single_quotes_are_stripped_then_json_is_tried() {
        assert_eq!(decode("'abc'"), "abc");
        assert_eq!(decode("'123'"), "123");
        assert_eq!(decode("'a;b'"), "a;b");
        assert_eq!(decode(r#"'"x"'"#), "x");
    }

    #[test]
    fn a_value_may_contain_equals_signs() {
        assert_eq!(decode("dXNlcjpwYXNz=="), "dXNlcjpwYXNz==");
    }

    #[test]
    fn bom_is_whitespace() {
        assert_eq!(decode("\u{feff}key"), "key");
    }

    #[test]
    fn whitespace_is_javascripts() {
        // npm 11 reads `k=abc\u{85}` as "abc\u{85}": JS's trim keeps NEL.
        assert_eq!(decode("abc\u{85}"), "abc\u{85}");
        assert_eq!(decode("\u{a0}\u{2028}\u{3000}abc\t\u{b}\u{c}"), "abc");
        assert_eq!(decode(&encode("\u{85}x\u{85}")), "\u{85}x\u{85}");
    }

    #[test]
    fn encode_round_trips() {
        for value in [
            "plain",
            "with=equals==",
            "semi;colon",
            "hash#tag",
            "back\\slash",
            " outer space ",
            "[bracket",
            "\"quoted\"",
            "'single'",
            "multi\nline",
            "",
            "${NPM_TOKEN}",
        ] {
            assert_eq!(
                decode(&encode(value)),
                value,
                "{value:?} -> {:?}",
                encode(value)
            );
        }
        assert_eq!(encode("abc=="), r#""abc==""#);
        assert_eq!(encode("a;b"), r"a\;b");
    }

    #[test]
    fn encode_quotes_what_escaping_cannot_write() {
        // Found by the property tests: ini's `safe` writes these bare, and
        // they read back as something else.
        for value in ["'", "\"", r"\\", r"a\;b", r"a\#b", r"C:\\share", r"x\\"] {
            assert_eq!(
                decode(&encode(value)),
                value,
                "{value:?} -> {:?}",
                encode(value)
            );
        }
        assert_eq!(encode("'"), r#""'""#);
        assert_eq!(encode(r"a\;b"), r#""a\\;b""#);
        // A backslash before anything else still needs no quotes.
        assert_eq!(encode(r"C:\certs\ca.pem"), r"C:\certs\ca.pem");
        assert_eq!(encode(r"trailing\"), r"trailing\");
    }

    #[test]
    fn value_span_excludes_spacing_and_comments() {
        let raw = "  tok123  # my token";
        let (start, end) = value_span(raw);
        assert_eq!(&raw[start..end], "tok123");
        let raw = r#" "a;b"  "#;
        let (start, end) = value_span(raw);
        assert_eq!(&raw[start..end], r#""a;b""#);
        let raw = r"a\#b ; c";
        let (start, end) = value_span(raw);
        assert_eq!(&raw[start..end], r"a\#b");
    }
}
