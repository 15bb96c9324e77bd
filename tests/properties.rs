//! Property tests for the parts of rtok that must hold for every input, not
//! just the examples in the unit tests: the lossless `.npmrc` parser and
//! editor (on any bytes, UTF-8 or not), value encoding, short token ids and
//! nerf darts.
//!
//! Each property runs proptest's default 256 cases (`PROPTEST_CASES`
//! overrides it; all pass at 20,000); the whole file takes a few seconds. A
//! failing case is shrunk, and its seed saved in
//! `tests/properties.proptest-regressions`, which is worth committing so
//! that every run tries it first. The cases these properties found are unit
//! tests beside the code they fixed (`src/npmrc/`).

use std::collections::{BTreeSet, HashSet};

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use rtok::npmrc::nerf::host_and_port;
use rtok::npmrc::{Document, credential_prefixes, nerf_dart, value};
use rtok::tokens::short_ids;
use url::Url;

// ---------------------------------------------------------------------------
// Generators

/// Pieces that mean something to npm's ini dialect, plus some that mean
/// nothing; concatenated at random they make lines of every shape: entries,
/// comments, sections, bare keys, arrays, quotes, escapes and every line
/// ending, valid or broken.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "=", " = ", "\n", "\r\n", "\r", "\n\r", "[", "]", "[]", ";", "#", "\"", "'",
            "\\", "\\;", "\\#", "\\\\", " ", "\t", "\u{feff}", "\u{a0}", "${", "}", "?",
            "//", "/", ":", ":_authToken", ":_auth", "registry", "__proto__", "ca",
            "@scope", "é", "😀", "\u{2028}", "\u{85}", "true", "null", "123", "0",
        ])
        .prop_map(String::from),
        2 => "[a-z0-9.-]{1,8}",
        1 => any::<char>().prop_map(String::from),
    ]
}

/// Text made of [`piece`]s, sometimes after a byte-order mark.
fn soup() -> impl Strategy<Value = String> {
    (
        prop::bool::weighted(0.1),
        prop::collection::vec(piece(), 0..40),
    )
        .prop_map(|(bom, pieces)| {
            let text = pieces.concat();
            if bom { format!("\u{feff}{text}") } else { text }
        })
}

/// A plausible `.npmrc` line, without its ending.
fn line() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        "[a-z][a-z-]{0,10}",
        // Unclosed: a key to npm, until a value ends with `]`.
        "\\[[a-z ]{1,4}",
        nerf_key(),
        "@[a-z]{1,6}:registry",
        "\"[a-z/:_]{1,10}\"",
        "'[a-z]{1,6}'",
    ];
    let value = prop_oneof![
        "[A-Za-z0-9_=+/.-]{0,16}",
        "\"[A-Za-z0-9 ;#=\\\\]{0,10}\"",
        "'[A-Za-z0-9 ;#=]{0,10}'",
        "\\$\\{[A-Z_]{1,8}\\??\\}",
        soup(),
    ];
    let space = prop::sample::select(vec!["", " ", "  ", "\t"]);
    let comment = prop::option::of("[;#][ a-z]{0,10}");
    prop_oneof![
        6 => (
            key.clone(),
            prop::bool::weighted(0.1),
            space.clone(),
            space.clone(),
            value,
            space,
            comment
        )
            .prop_map(|(key, array, before, after, value, trailing, comment)| {
                format!(
                    "{key}{}{before}={after}{value}{trailing}{}",
                    if array { "[]" } else { "" },
                    comment.unwrap_or_default()
                )
            }),
        1 => key,
        1 => "[;#][ a-z]{0,12}",
        1 => "[ \t]{0,3}",
        1 => "\\[[a-z.]{0,8}\\][ \t]{0,2}",
        1 => soup(),
    ]
}

/// A plausible `.npmrc` file: lines with mixed endings, the last one
/// sometimes without one, sometimes after a byte-order mark.
fn structured() -> impl Strategy<Value = String> {
    let ending = prop::sample::select(vec!["\n", "\n", "\n", "\r\n", "\r\n", "\r"]);
    (
        prop::bool::weighted(0.1),
        prop::collection::vec((line(), ending), 0..12),
        prop::bool::ANY,
    )
        .prop_map(|(bom, lines, final_newline)| {
            let mut text = String::from(if bom { "\u{feff}" } else { "" });
            let count = lines.len();
            for (index, (line, ending)) in lines.into_iter().enumerate() {
                text.push_str(&line);
                if index + 1 < count || final_newline {
                    text.push_str(ending);
                }
            }
            text
        })
}

/// A plausible `.npmrc` file with at least one top-level entry, for the
/// properties about editing one.
fn with_entries() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => structured(),
        1 => ("[a-z]{1,4}[ ]?=[ ]?[a-z0-9=]{0,6}", structured()).prop_map(|(entry, rest)| {
            format!("{entry}\n{}", rest.trim_start_matches('\u{feff}'))
        }),
    ]
}

/// Any text at all, weighted towards text that looks like an `.npmrc`.
fn npmrc_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => structured(),
        2 => soup(),
        1 => any::<String>(),
    ]
}

/// Bytes that are not UTF-8, or only part of a character: what a Latin-1
/// editor, a cut-off write or a stray byte leaves in a file.
fn bad_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => prop::sample::select(vec![
            &b"\xe9"[..], b"\xff", b"\xfe", b"\x80", b"\xbf", b"\xc3", b"\xe2\x82",
            b"\xf0\x9f\x98", b"\xef\xbb", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf8\x88\x80",
        ])
        .prop_map(<[u8]>::to_vec),
        1 => prop::collection::vec(any::<u8>(), 1..4),
    ]
}

/// `text` with a few [`bad_bytes`] put in at random byte positions (some
/// inside a character, which breaks that one too).
fn with_bad_bytes(text: impl Strategy<Value = String>) -> impl Strategy<Value = Vec<u8>> {
    (
        text,
        prop::collection::vec((any::<prop::sample::Index>(), bad_bytes()), 1..4),
    )
        .prop_map(|(text, inserts)| {
            let mut bytes = text.into_bytes();
            for (index, bad) in inserts {
                let at = index.index(bytes.len() + 1);
                bytes.splice(at..at, bad);
            }
            bytes
        })
}

/// Any bytes at all, weighted towards an `.npmrc`, about half of them with
/// bytes that are not UTF-8.
fn npmrc_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        2 => npmrc_text().prop_map(String::into_bytes),
        2 => with_bad_bytes(npmrc_text()),
        1 => any::<Vec<u8>>(),
    ]
}

/// [`with_entries`], sometimes with bytes that are not UTF-8.
fn with_entries_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => with_entries().prop_map(String::into_bytes),
        1 => with_bad_bytes(with_entries()),
    ]
}

/// Values: arbitrary strings and strings of the characters that need care.
fn any_value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        soup(),
        "[A-Za-z0-9_=+/.-]{0,40}",
        "npm_[A-Za-z0-9]{36}",
        "[a-z]{0,4}\\]",
    ]
}

fn host() -> impl Strategy<Value = Host> {
    prop_oneof![
        // Domain names; the last label starts with a letter so that the
        // URL parser does not read the host as an IPv4 number.
        (
            prop::collection::vec("[a-zA-Z0-9]{1,8}", 0..3),
            "[a-zA-Z][a-zA-Z0-9]{0,8}",
        )
            .prop_map(|(mut labels, last)| {
                labels.push(last);
                let written = labels.join(".");
                Host {
                    normal: written.to_ascii_lowercase(),
                    written,
                }
            }),
        any::<[u8; 4]>().prop_map(|[a, b, c, d]| {
            let written = format!("{a}.{b}.{c}.{d}");
            Host {
                normal: written.clone(),
                written,
            }
        }),
        prop::sample::select(vec![
            ("[::1]", "[::1]"),
            ("[2001:DB8::0:1]", "[2001:db8::1]"),
            ("[fe80:0:0:0:0:0:0:a]", "[fe80::a]"),
        ])
        .prop_map(|(written, normal)| Host {
            written: written.into(),
            normal: normal.into(),
        }),
    ]
}

#[derive(Debug, Clone)]
struct Host {
    /// As it appears in the generated URL.
    written: String,
    /// As npm writes it in a nerf dart (lower case, IPv6 compressed).
    normal: String,
}

/// A path segment and how it appears in a nerf dart: characters the URL
/// standard keeps as they are, plus a few it percent-encodes.
fn segment() -> impl Strategy<Value = (String, String)> {
    prop_oneof![
        5 => "[A-Za-z0-9_~!$&'()*+,;:@-]{1,10}".prop_map(|s| (s.clone(), s)),
        1 => Just(("a b".to_string(), "a%20b".to_string())),
        1 => Just(("é".to_string(), "%C3%A9".to_string())),
        1 => Just(("%41".to_string(), "%41".to_string())),
        1 => Just(("v1.0".to_string(), "v1.0".to_string())),
        1 => Just(("...".to_string(), "...".to_string())),
    ]
}

#[derive(Debug, Clone)]
struct Registry {
    scheme: &'static str,
    host: Host,
    port: Option<u16>,
    /// (written, as in a nerf dart)
    segments: Vec<(String, String)>,
}

impl Registry {
    /// `scheme://host[:port]` and the segments joined by `/`, with no
    /// trailing slash.
    fn base(&self) -> String {
        let mut url = format!("{}://{}", self.scheme, self.host.written);
        if let Some(port) = self.port {
            url.push_str(&format!(":{port}"));
        }
        for (written, _) in &self.segments {
            url.push('/');
            url.push_str(written);
        }
        url
    }

    /// The nerf dart of the registry with every segment kept (as for its
    /// URL with a trailing slash), built without the URL parser.
    fn expected_dart(&self, keep: usize) -> String {
        let default_port = if self.scheme == "https" { 443 } else { 80 };
        let port = match self.port {
            Some(port) if port != default_port => format!(":{port}"),
            _ => String::new(),
        };
        let mut dart = format!("//{}{port}/", self.host.normal);
        for (_, normal) in &self.segments[..keep] {
            dart.push_str(normal);
            dart.push('/');
        }
        dart
    }
}

fn registry() -> impl Strategy<Value = Registry> {
    (
        prop::sample::select(vec!["http", "https"]),
        host(),
        prop::option::of(prop_oneof![Just(80u16), Just(443u16), any::<u16>()]),
        prop::collection::vec(segment(), 0..4),
    )
        .prop_map(|(scheme, host, port, segments)| Registry {
            scheme,
            host,
            port,
            segments,
        })
}

/// Credential keys as rtok writes them: `<nerf dart>:<credential>`.
fn nerf_key() -> impl Strategy<Value = String> {
    (
        registry(),
        prop::sample::select(vec![
            "_authToken",
            "_auth",
            "username",
            "_password",
            "email",
            "certfile",
            "keyfile",
        ]),
    )
        .prop_map(|(registry, credential)| {
            let url = Url::parse(&format!("{}/", registry.base())).expect("generated URL");
            format!("{}:{credential}", nerf_dart(&url))
        })
}

/// Keys npm's ini can write and read back. A key with `=` cannot be written
/// at all (npm splits a line at its first `=`, quotes or not), one ending in
/// `[]` is read as an array, and `__proto__` is ignored; an empty key makes a
/// line starting with `=`, which npm drops.
fn expressible_key(key: &str) -> bool {
    let array = key.len() > 2 && key.ends_with("[]");
    !(key.is_empty() || key.contains('=') || array || key == "__proto__")
}

/// Keys for `set`: the ones rtok writes (nerf darts, names, scoped
/// registries) and arbitrary ones that npm's ini can express.
fn any_key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => nerf_key(),
        1 => "[a-z][a-z-]{0,12}",
        1 => "@[a-z]{1,8}:registry",
        2 => soup().prop_filter("key npm cannot write", |k| expressible_key(k)),
        1 => any::<String>().prop_filter("key npm cannot write", |k| expressible_key(k)),
    ]
}

// ---------------------------------------------------------------------------
// Helpers

fn same(key: &str) -> impl Fn(&str) -> bool + '_ {
    move |k| k == key
}

/// The UTF-8 byte-order mark.
const BOM: &[u8] = b"\xef\xbb\xbf";

/// The file split into lines, each with its ending, as the parser sees them
/// (`\r\n`, `\r` and `\n` all end a line).
fn lines_of(bytes: &[u8]) -> Vec<&[u8]> {
    let body = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let mut lines = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let end = rest
            .iter()
            .position(|&b| b == b'\r' || b == b'\n')
            .unwrap_or(rest.len());
        let ending = if rest[end..].starts_with(b"\r\n") {
            2
        } else if end < rest.len() {
            1
        } else {
            0
        };
        lines.push(&rest[..end + ending]);
        rest = &rest[end + ending..];
    }
    lines
}

/// `line` without the whitespace JavaScript's `trimEnd` removes. That
/// whitespace is always valid UTF-8, so whole characters come off the end.
fn trim_end_js(line: &[u8]) -> &[u8] {
    let mut end = line.len();
    while let Some(c) = String::from_utf8_lossy(&line[..end]).chars().last() {
        if !((c.is_whitespace() && c != '\u{85}') || c == '\u{feff}') {
            break;
        }
        end -= c.len_utf8();
    }
    &line[..end]
}

/// The ending of one line from [`lines_of`] (or of a whole file): `\r\n`,
/// `\r`, `\n` or none.
fn line_ending(line: &[u8]) -> &[u8] {
    match line {
        [.., b'\r', b'\n'] => b"\r\n",
        [.., b'\r'] => b"\r",
        [.., b'\n'] => b"\n",
        _ => b"",
    }
}

/// The bytes as text, for failure messages.
fn shown(bytes: &[u8]) -> String {
    format!("{:?}", String::from_utf8_lossy(bytes))
}

/// The value npm reads for `key`: that of the last top-level, non-array
/// entry.
fn read(doc: &Document, key: &str) -> Option<String> {
    doc.entries()
        .filter(|l| !l.entry.array && l.entry.key == key)
        .last()
        .map(|l| l.entry.value.clone())
}

fn has_key(doc: &Document, key: &str) -> bool {
    read(doc, key).is_some()
}

/// Everything npm reads from a document: key, value and array flag of each
/// entry, top-level ones first, then those in sections.
fn summary(doc: &Document) -> Vec<(String, String, bool)> {
    doc.entries()
        .chain(doc.entries_in_sections())
        .map(|l| (l.entry.key.clone(), l.entry.value.clone(), l.entry.array))
        .collect()
}

/// The document in memory says what its rendering says when read again.
/// Not `==`, nor line numbers: an edit can leave two lines whose endings
/// then read as one (a `\r` line, then an empty `\n` line once the line
/// between them is removed: `\r\n`), or a U+FEFF at the start of the file
/// that a new parse takes for a byte-order mark. npm reads the same either
/// way, since it ignores blank lines and trims the mark.
fn agrees_with_its_rendering(doc: &Document) -> bool {
    summary(&Document::parse(doc.render())) == summary(doc)
}

// ---------------------------------------------------------------------------
// The `.npmrc` parser and editor

proptest! {
    // The edit properties skip documents with no entry to edit (about one
    // in ten); allow that at any PROPTEST_CASES.
    #![proptest_config(ProptestConfig {
        max_global_rejects: 1 << 20,
        ..ProptestConfig::default()
    })]

    /// Parsing keeps every byte: comments, spacing, quotes, every line
    /// ending (CRLF, lone CR, none at the end), a byte-order mark, and bytes
    /// that are not UTF-8.
    #[test]
    fn parse_then_render_is_identity(bytes in npmrc_bytes()) {
        prop_assert_eq!(Document::parse(&bytes).render(), bytes);
    }

    /// npm reads a file as UTF-8 with U+FFFD for each invalid sequence: the
    /// entries of any bytes are those of that text, on the same lines.
    #[test]
    fn bytes_read_as_npm_decodes_them(bytes in npmrc_bytes()) {
        let located = |doc: &Document| -> Vec<(usize, String, String, bool)> {
            doc.entries()
                .chain(doc.entries_in_sections())
                .map(|l| (l.line, l.entry.key.clone(), l.entry.value.clone(), l.entry.array))
                .collect()
        };
        let text = String::from_utf8_lossy(&bytes);
        prop_assert_eq!(
            located(&Document::parse(&bytes)),
            located(&Document::parse(text.as_bytes()))
        );
    }

    /// npm's ini reads line by line: every entry is on its own line, in
    /// order, and is what that line says when read alone.
    #[test]
    fn entries_are_read_line_by_line(bytes in npmrc_bytes()) {
        let doc = Document::parse(&bytes);
        let lines = lines_of(&bytes);
        let mut previous = 0;
        for located in doc.entries().chain(doc.entries_in_sections()) {
            prop_assert!(located.line > previous && located.line <= lines.len());
            previous = located.line;
            let mut line = lines[located.line - 1].to_vec();
            // A U+FEFF that starts the file, or the line, is part of the
            // line (npm sees it); read alone, one would be taken for a
            // byte-order mark, so give it one.
            if (located.line == 1 && bytes.starts_with(BOM)) || line.starts_with(BOM) {
                line.splice(0..0, BOM.iter().copied());
            }
            let alone: Vec<_> = Document::parse(&line)
                .entries()
                .map(|l| (l.entry.key.clone(), l.entry.value.clone(), l.entry.array))
                .collect();
            let entry = located.entry;
            prop_assert_eq!(alone, vec![(entry.key.clone(), entry.value.clone(), entry.array)]);
        }
    }

    /// `set` on a key that is not there, then `remove`, gives back the file
    /// byte for byte; in between, npm would read exactly the value set.
    #[test]
    fn set_then_remove_restores_the_file(
        bytes in npmrc_bytes(),
        key in any_key(),
        value in any_value(),
    ) {
        let mut doc = Document::parse(&bytes);
        prop_assume!(!has_key(&doc, &key));

        doc.set(&key, &value, &same(&key));
        let written = doc.render();
        prop_assert_eq!(read(&doc, &key), Some(value.clone()), "{}", shown(&written));
        // What is on disk says the same as what is in memory.
        prop_assert!(agrees_with_its_rendering(&doc));
        // Nothing else changed: the old lines are all still there, in
        // order, around the one new line.
        let before = lines_of(&bytes);
        let after = lines_of(&written);
        prop_assert_eq!(after.len(), before.len() + 1);

        prop_assert_eq!(doc.remove(&same(&key)), 1);
        prop_assert_eq!(doc.render(), bytes);
    }

    /// Setting a key that is there changes its last line only (and drops
    /// earlier duplicates, which npm ignores); npm then reads the new value.
    #[test]
    fn set_changes_only_that_line(
        bytes in with_entries_bytes(),
        pick in any::<prop::sample::Index>(),
        value in any_value(),
    ) {
        let mut doc = Document::parse(&bytes);
        let keys: Vec<String> = doc
            .entries()
            .filter(|l| !l.entry.array)
            .map(|l| l.entry.key.clone())
            .collect();
        prop_assume!(!keys.is_empty());
        let key = pick.get(&keys).clone();
        let matching: Vec<usize> = doc
            .entries()
            .filter(|l| !l.entry.array && l.entry.key == key)
            .map(|l| l.line - 1)
            .collect();
        let (&last, earlier) = matching.split_last().expect("the key is there");

        doc.set(&key, &value, &same(&key));
        let written = doc.render();
        prop_assert_eq!(read(&doc, &key), Some(value.clone()), "{}", shown(&written));
        prop_assert!(agrees_with_its_rendering(&doc));

        // The file is the lines before the key's last line (less the
        // duplicates), that line changed, and the lines after it, each
        // byte for byte. (Compared as bytes, not split into lines again: a
        // `\r` line and an empty `\n` line that a removed duplicate kept
        // apart would read as one `\r\n`.)
        let before = lines_of(&bytes);
        let head: Vec<u8> = before[..last]
            .iter()
            .enumerate()
            .filter(|(index, _)| !earlier.contains(index))
            .flat_map(|(_, line)| line.iter().copied())
            .collect();
        let tail = before[last + 1..].concat();
        let bom = if bytes.starts_with(BOM) { BOM } else { b"" };
        prop_assert!(
            written.len() >= bom.len() + head.len() + tail.len()
                && written.starts_with(&[bom, &head[..]].concat())
                && written.ends_with(&tail),
            "{} -> {}",
            shown(&bytes),
            shown(&written)
        );
        let new = &written[bom.len() + head.len()..written.len() - tail.len()];
        // The key as written, and the `=` if there was one, stay.
        let old_line = before[last];
        let prefix = match old_line.iter().position(|&b| b == b'=') {
            Some(eq) => &old_line[..=eq],
            // A bare key loses trailing spacing, as JS trims it.
            None => trim_end_js(old_line),
        };
        // (Or the line is written anew, when keeping the key text would
        // make it something else: `[a = b]` is a section. Only a line
        // starting with `[` can become one.)
        let fresh = format!("{}=", value::encode(&key));
        prop_assert!(
            new.starts_with(prefix)
                || (old_line.starts_with(b"[") && new.starts_with(fresh.as_bytes())),
            "{} -> {}",
            shown(old_line),
            shown(new)
        );
        // So does the line ending, and the line is one line.
        let ending = line_ending(old_line);
        prop_assert!(new.ends_with(ending));
        prop_assert!(!new[..new.len() - ending.len()].iter().any(|&b| b == b'\r' || b == b'\n'));
    }

    /// `remove` takes out every top-level line of the key and nothing else:
    /// every other line stays byte for byte.
    #[test]
    fn remove_leaves_no_trace_of_the_key(
        bytes in with_entries_bytes(),
        pick in any::<prop::sample::Index>(),
    ) {
        let mut doc = Document::parse(&bytes);
        let keys: Vec<String> = doc.entries().map(|l| l.entry.key.clone()).collect();
        prop_assume!(!keys.is_empty());
        let key = pick.get(&keys).clone();
        let others: Vec<(String, String, bool)> = doc
            .entries()
            .filter(|l| l.entry.array || l.entry.key != key)
            .map(|l| (l.entry.key.clone(), l.entry.value.clone(), l.entry.array))
            .collect();
        let removed: Vec<usize> = doc
            .entries()
            .filter(|l| !l.entry.array && l.entry.key == key)
            .map(|l| l.line - 1)
            .collect();
        // The file without those lines; one that ended without a line
        // break still does. (A byte-order mark may go too: see
        // `a_section_header_after_a_bom_is_a_key` in src/npmrc/document.rs.)
        let mut kept: Vec<&[u8]> = lines_of(&bytes)
            .into_iter()
            .enumerate()
            .filter(|(index, _)| !removed.contains(index))
            .map(|(_, line)| line)
            .collect();
        if let Some(last) = kept.last_mut()
            && line_ending(&bytes).is_empty()
        {
            *last = &last[..last.len() - line_ending(last).len()];
        }
        let expected = kept.concat();

        doc.remove(&same(&key));
        let written = doc.render();
        let body = written.strip_prefix(BOM).filter(|_| bytes.starts_with(BOM));
        prop_assert_eq!(body.unwrap_or(&written), &expected[..], "{}", shown(&bytes));
        prop_assert!(!has_key(&doc, &key));
        let left: Vec<(String, String, bool)> = doc
            .entries()
            .map(|l| (l.entry.key.clone(), l.entry.value.clone(), l.entry.array))
            .collect();
        prop_assert_eq!(left, others);
        prop_assert!(agrees_with_its_rendering(&doc));
    }

    /// What rtok writes, npm (and rtok) reads back unchanged.
    #[test]
    fn decode_inverts_encode(value in any_value()) {
        let encoded = value::encode(&value);
        prop_assert_eq!(value::decode(&encoded), value);
        // An encoded value is one line, so it cannot break the file.
        prop_assert!(!encoded.contains(['\r', '\n']));
    }

    /// The value span is where the value is: spacing and inline comments
    /// are outside it, so a plain word put in its place is what npm reads.
    #[test]
    fn value_span_holds_the_value(raw in soup(), word in "[A-Za-z0-9_.-]{1,12}") {
        let (start, end) = value::value_span(&raw);
        prop_assert!(start <= end && end <= raw.len());
        prop_assert!(raw.is_char_boundary(start) && raw.is_char_boundary(end));
        let replaced = format!("{}{word}{}", &raw[..start], &raw[end..]);
        prop_assert_eq!(value::decode(&replaced), word);
    }
}

// ---------------------------------------------------------------------------
// Short token ids

/// npm's own definition (`generateTokenIds` in npm's `lib/commands/token.js`,
/// npm-reference.md §5.4), transcribed as it is written, quadratic search and
/// all: for each token, try prefixes of its key from `min_len` characters up
/// to one less than the whole key; the first that no *other* token's key
/// starts with is the id; if none is free, the id is the whole key. (JS's
/// `slice(0, n)` gives the whole string when it is shorter than `n`.)
fn npm_generate_token_ids(keys: &[&str], min_len: usize) -> Vec<String> {
    let slice = |s: &str, n: usize| -> String { s.chars().take(n).collect() };
    keys.iter()
        .enumerate()
        .map(|(index, key)| {
            let length = key.chars().count();
            for n in min_len..length {
                let taken = keys.iter().enumerate().any(|(other, other_key)| {
                    other != index && slice(other_key, n) == slice(key, n)
                });
                if !taken {
                    return slice(key, n);
                }
            }
            key.to_string()
        })
        .collect()
}

/// Sets of distinct token keys: registry-style (hex, UUIDs), keys sharing
/// long prefixes, and arbitrary ASCII.
fn key_set() -> impl Strategy<Value = Vec<String>> {
    let key = prop_oneof![
        "[0-9a-f]{32}",
        "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        "[ab]{0,10}",
        "[ -~]{0,12}",
    ];
    prop_oneof![
        prop::collection::btree_set(key, 0..24).prop_map(|set| set.into_iter().collect()),
        // Keys with a long common prefix, so ids must grow past six.
        (
            "[0-9a-f]{0,12}",
            prop::collection::btree_set("[0-9a-f]{0,4}", 1..12),
        )
            .prop_map(|(prefix, suffixes)| {
                suffixes
                    .into_iter()
                    .map(|s| format!("{prefix}{s}"))
                    .collect()
            }),
    ]
    .prop_shuffle()
}

proptest! {
    #[test]
    fn short_ids_are_npms_unique_prefixes(keys in key_set()) {
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        let ids = short_ids(&keys, 6);
        prop_assert_eq!(ids.len(), keys.len());
        for (index, (key, id)) in keys.iter().zip(&ids).enumerate() {
            prop_assert!(key.starts_with(id.as_str()), "{:?} is not a prefix of {:?}", id, key);
            prop_assert!(id.len() >= 6 || id == key, "{:?} is too short", id);
            if id != key {
                for (other, other_key) in keys.iter().enumerate() {
                    prop_assert!(
                        other == index || !other_key.starts_with(id.as_str()),
                        "{:?} (for {:?}) also starts {:?}", id, key, other_key
                    );
                }
                // And it is the shortest such prefix.
                if id.len() > 6 {
                    let shorter = &id[..id.len() - 1];
                    prop_assert!(
                        keys.iter()
                            .enumerate()
                            .any(|(other, k)| other != index && k.starts_with(shorter))
                    );
                }
            }
        }
        // Distinct keys get distinct ids, so an id names one token.
        let distinct: HashSet<&String> = ids.iter().collect();
        prop_assert_eq!(distinct.len(), ids.len());
        prop_assert_eq!(ids, npm_generate_token_ids(&keys, 6));
    }

    /// The fast version agrees with npm's for any minimum length, and for
    /// key lists with duplicates (which get their whole key).
    #[test]
    fn short_ids_match_npm_for_any_minimum(
        keys in prop::collection::vec("[abc]{0,8}", 0..16),
        min_len in 1usize..10,
    ) {
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        prop_assert_eq!(short_ids(&keys, min_len), npm_generate_token_ids(&keys, min_len));
    }
}

// ---------------------------------------------------------------------------
// Nerf darts

/// A last path segment: anything without a slash (a backslash is one too in
/// an http URL) that is not `.` or `..`, which the URL standard resolves.
fn last_segment() -> impl Strategy<Value = String> {
    "[^/\\\\\\x00-\\x1f\\x7f]{0,12}".prop_filter("a dot segment", |s| {
        // Trailing spaces go (the URL parser trims them); a query or
        // fragment is not part of the path.
        let path = s.trim_end_matches(' ');
        let path = path.split(['?', '#']).next().unwrap_or_default();
        let lower = path.to_ascii_lowercase().replace("%2e", ".");
        lower != "." && lower != ".."
    })
}

proptest! {
    /// Userinfo, query and fragment are not part of the key.
    #[test]
    fn nerf_darts_ignore_userinfo_query_and_fragment(
        registry in registry(),
        slash in prop::bool::ANY,
        user in prop::option::of("[a-z]{1,6}(:[a-zA-Z0-9]{0,6})?"),
        query in prop::option::of("[a-z0-9=&/]{0,10}"),
        fragment in prop::option::of("[a-z0-9/]{0,10}"),
    ) {
        let plain = format!("{}{}", registry.base(), if slash { "/" } else { "" });
        let mut decorated = plain.clone();
        if let Some(user) = &user {
            let at = decorated.find("://").expect("scheme") + 3;
            decorated.insert_str(at, &format!("{user}@"));
        }
        if let Some(query) = &query {
            decorated.push('?');
            decorated.push_str(query);
        }
        if let Some(fragment) = &fragment {
            decorated.push('#');
            decorated.push_str(fragment);
        }
        let plain_url = Url::parse(&plain).expect("generated URL");
        let decorated_url = Url::parse(&decorated).expect("generated URL");
        let dart = nerf_dart(&plain_url);
        prop_assert_eq!(&nerf_dart(&decorated_url), &dart);
        prop_assert!(!dart.contains(['?', '#']));
    }

    /// A URL without a trailing slash names a file in its directory:
    /// `base/` and `base/anything` share a nerf dart.
    #[test]
    fn nerf_darts_drop_the_last_segment(registry in registry(), last in last_segment()) {
        let base = registry.base();
        let directory = Url::parse(&format!("{base}/")).expect("generated URL");
        let file = Url::parse(&format!("{base}/{last}")).expect("generated URL");
        prop_assert_eq!(nerf_dart(&file), nerf_dart(&directory));
    }

    /// With a trailing slash every segment stays; without one, all but the
    /// last. Host lower-cased, default port dropped, an explicit other port
    /// kept.
    #[test]
    fn trailing_slash_keeps_every_segment(registry in registry()) {
        let base = registry.base();
        let with_slash = Url::parse(&format!("{base}/")).expect("generated URL");
        let all = registry.segments.len();
        prop_assert_eq!(nerf_dart(&with_slash), registry.expected_dart(all));
        let without = Url::parse(&base).expect("generated URL");
        prop_assert_eq!(nerf_dart(&without), registry.expected_dart(all.saturating_sub(1)));
    }

    /// A credential saved under a registry's nerf dart is one npm tries for
    /// every request below that registry.
    #[test]
    fn requests_below_a_registry_find_its_credentials(
        registry in registry(),
        slash in prop::bool::ANY,
        package in prop::collection::vec("[a-z0-9@%-]{1,10}", 0..3),
    ) {
        let url = format!("{}{}", registry.base(), if slash { "/" } else { "" });
        let dart = nerf_dart(&Url::parse(&url).expect("generated URL"));
        let directory = Url::parse(&url).expect("generated URL").join(".").expect("join");
        let request = directory.join(&package.join("/")).expect("join");
        let prefixes = credential_prefixes(&request);
        prop_assert!(prefixes.contains(&dart), "{:?} not in {:?}", dart, prefixes);
        // Longest first, each a prefix of the one before.
        for pair in prefixes.windows(2) {
            prop_assert!(pair[0].starts_with(&pair[1]) && pair[0].len() > pair[1].len());
        }
        let host = format!("//{}", host_and_port(&request));
        prop_assert_eq!(prefixes.last(), Some(&host));
    }
}

#[test]
fn generators_reach_the_interesting_cases() {
    // Guard against a generator that silently stops producing what the
    // properties are about: sample it and look.
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut seen = BTreeSet::new();
    for _ in 0..400 {
        let text = npmrc_text()
            .new_tree(&mut runner)
            .expect("sample")
            .current();
        let doc = Document::parse(&text);
        for (needle, name) in [
            ("\r\n", "crlf"),
            ("\r", "cr"),
            ("\u{feff}", "bom"),
            ("[", "bracket"),
            ("\"", "quote"),
        ] {
            if text.contains(needle) {
                seen.insert(name);
            }
        }
        if doc.entries().next().is_some() {
            seen.insert("entry");
        }
        if doc.entries_in_sections().next().is_some() {
            seen.insert("section entry");
        }
        if doc.entries().any(|l| l.entry.array) {
            seen.insert("array");
        }
        let bytes = npmrc_bytes()
            .new_tree(&mut runner)
            .expect("sample")
            .current();
        if std::str::from_utf8(&bytes).is_err() {
            seen.insert("not UTF-8");
            let doc = Document::parse(&bytes);
            if doc.entries().any(|l| l.entry.value.contains('\u{fffd}')) {
                seen.insert("invalid byte in a value");
            }
        }
    }
    for wanted in [
        "crlf",
        "cr",
        "bom",
        "bracket",
        "quote",
        "entry",
        "section entry",
        "array",
        "not UTF-8",
        "invalid byte in a value",
    ] {
        assert!(seen.contains(wanted), "no {wanted} in 400 samples");
    }
}
