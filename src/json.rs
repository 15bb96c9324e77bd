//! Writing JSON that arrived as text without building it in memory first:
//! `token list --json` reprints thousands of registry objects, and parsing
//! each into a map only to print it again is most of the work.

/// Appends `raw` (one valid JSON value) to `out`, pretty-printed the way
/// `serde_json::to_string_pretty` prints (two spaces per level), starting at
/// nesting `level`. Strings and numbers are copied as they came. When
/// `extra` is given and `raw` is an object, `"<name>": <value>` (both
/// already JSON) is added as its last member.
pub fn write_pretty(raw: &str, level: usize, extra: Option<(&str, &str)>, out: &mut String) {
    let bytes = raw.as_bytes();
    let mut depth = level;
    // Whether the container just opened has had a member yet.
    let mut empty_container = false;
    let mut i = 0;
    // The outermost object is the one `extra` belongs to.
    let outer_depth = level + 1;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'"' => {
                let end = string_end(bytes, i);
                if empty_container {
                    newline(out, depth);
                    empty_container = false;
                }
                out.push_str(&raw[i..end]);
                i = end;
                continue;
            }
            b'{' | b'[' => {
                if empty_container {
                    newline(out, depth);
                }
                out.push(c as char);
                depth += 1;
                empty_container = true;
            }
            b'}' | b']' => {
                if c == b'}'
                    && depth == outer_depth
                    && let Some((name, value)) = extra
                {
                    if !empty_container {
                        out.push(',');
                    }
                    newline(out, depth);
                    out.push_str(name);
                    out.push_str(": ");
                    out.push_str(value);
                    empty_container = false;
                }
                depth -= 1;
                if !empty_container {
                    newline(out, depth);
                }
                empty_container = false;
                out.push(c as char);
            }
            b',' => {
                out.push(',');
                newline(out, depth);
            }
            b':' => out.push_str(": "),
            _ => {
                // A number, true, false or null: copy the token.
                if empty_container {
                    newline(out, depth);
                    empty_container = false;
                }
                let end = bytes[i..]
                    .iter()
                    .position(|b| matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))
                    .map_or(bytes.len(), |n| i + n);
                out.push_str(&raw[i..end]);
                i = end;
                continue;
            }
        }
        i += 1;
    }
}

/// The index just past the string starting at `start` (a `"`).
fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    loop {
        // Most of the text is plain string content: skip it in one search.
        match memchr::memchr2(b'"', b'\\', &bytes[i.min(bytes.len())..]) {
            Some(offset) if bytes[i + offset] == b'\\' => i += offset + 2,
            Some(offset) => return i + offset + 1,
            None => return bytes.len(),
        }
    }
}

fn newline(out: &mut String, depth: usize) {
    out.push('\n');
    for _ in 0..depth {
        out.push_str("  ");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn pretty(raw: &str, extra: Option<(&str, &str)>) -> String {
        let mut out = String::new();
        write_pretty(raw, 0, extra, &mut out);
        out
    }

    #[test]
    fn matches_serde_json_pretty() {
        for value in [
            json!({"key": "abc", "cidr": ["10.0.0.0/8", "1.2.3.4/32"], "readonly": true, "n": -1.5e3, "none": null}),
            json!({"empty_list": [], "empty_object": {}, "nested": {"a": [{"b": []}, 2]}}),
            json!([]),
            json!({}),
            json!("a \"quoted\" \\ string with , and } and ]"),
            json!([1, [2, [3]], {"x": {}}]),
        ] {
            let compact = value.to_string();
            assert_eq!(
                pretty(&compact, None),
                serde_json::to_string_pretty(&value).expect("pretty"),
                "{compact}"
            );
            // Whitespace in the input does not matter.
            let spaced = serde_json::to_string_pretty(&value).expect("pretty");
            assert_eq!(pretty(&spaced, None), spaced);
        }
    }

    #[test]
    fn adds_a_member_to_the_outer_object_only() {
        let out = pretty(
            r#"{"key":"k","scopes":[{"type":"org"}]}"#,
            Some(("\"id\"", "\"k1\"")),
        );
        let parsed: Value = serde_json::from_str(&out).expect("valid JSON");
        assert_eq!(
            parsed,
            json!({"key": "k", "scopes": [{"type": "org"}], "id": "k1"})
        );
        assert_eq!(out, serde_json::to_string_pretty(&parsed).expect("pretty"));
        let out = pretty("{}", Some(("\"id\"", "\"x\"")));
        assert_eq!(out, "{\n  \"id\": \"x\"\n}");
    }

    #[test]
    fn nests_at_the_given_level() {
        let mut out = String::new();
        write_pretty(r#"{"a":[1]}"#, 1, None, &mut out);
        assert_eq!(out, "{\n    \"a\": [\n      1\n    ]\n  }");
    }
}
