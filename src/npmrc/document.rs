//! A lossless `.npmrc` document: every line, comment, blank line, spacing and
//! line ending is kept, byte for byte, so an edit changes only the lines it
//! has to.

use super::{lossy, value};

/// The UTF-8 byte-order mark.
const BOM: &[u8] = "\u{feff}".as_bytes();

/// A parsed `.npmrc` file. `Document::parse(bytes).render() == bytes` for
/// any bytes, UTF-8 or not; [`Document::set`] and [`Document::remove`]
/// touch only the lines of the key they edit.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Document {
    bom: bool,
    lines: Vec<Line>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Line {
    /// The line as it is in the file, without its ending (and without the
    /// BOM on the first line). Not always UTF-8: a Latin-1 comment or a
    /// stray byte stays as it was; [`lossy::decode`] gives what npm reads.
    bytes: Vec<u8>,
    /// `"\n"`, `"\r\n"`, `"\r"`, or `""` for a last line without one.
    ending: &'static str,
    kind: LineKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum LineKind {
    /// Blank lines, comments, lines npm's ini ignores (one starting with `=`).
    Other,
    /// `[name]`: every key after it belongs to that section, which npm does
    /// not read as configuration.
    Section,
    Entry(Entry),
}

/// One `key = value` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The key as npm decodes it (quotes and escapes removed, `[]` dropped),
    /// before `${VAR}` expansion.
    pub key: String,
    /// The value as npm decodes it, before `${VAR}` expansion; `true` for a
    /// bare key without `=`.
    pub value: String,
    /// Written as `key[]=value`: one element of an array.
    pub array: bool,
    /// Where the value sits in the line's decoded text (without spacing or
    /// an inline comment), or `None` for a bare key.
    value_range: Option<(usize, usize)>,
}

/// A top-level entry and the 1-based line it is on.
#[derive(Debug, Clone, Copy)]
pub struct Located<'a> {
    pub line: usize,
    pub entry: &'a Entry,
}

impl Document {
    /// Parses a file's bytes (or text: `&str` and `String` are bytes too) as
    /// npm's ini dialect does. Never fails: a line npm would ignore is kept
    /// and ignored, and bytes that are not UTF-8 are kept as they are and
    /// read as npm reads them, each invalid sequence as U+FFFD.
    pub fn parse(bytes: impl AsRef<[u8]>) -> Document {
        let bytes = bytes.as_ref();
        let (bom, body) = match bytes.strip_prefix(BOM) {
            Some(rest) => (true, rest),
            None => (false, bytes),
        };
        let mut lines = Vec::new();
        let mut rest = body;
        while !rest.is_empty() {
            let end = rest
                .iter()
                .position(|&byte| byte == b'\r' || byte == b'\n')
                .unwrap_or(rest.len());
            let ending = match rest[end..] {
                [b'\r', b'\n', ..] => "\r\n",
                [b'\r', ..] => "\r",
                [b'\n', ..] => "\n",
                _ => "",
            };
            let line = &rest[..end];
            lines.push(Line {
                bytes: line.to_vec(),
                ending,
                kind: classify(&lossy::decode(line), bom && lines.is_empty()),
            });
            rest = &rest[end + ending.len()..];
        }
        Document { bom, lines }
    }

    /// The file's bytes: exactly what was parsed, plus any edits.
    pub fn render(&self) -> Vec<u8> {
        let mut out = Vec::new();
        if self.bom {
            out.extend_from_slice(BOM);
        }
        for line in &self.lines {
            out.extend_from_slice(&line.bytes);
            out.extend_from_slice(line.ending.as_bytes());
        }
        out
    }

    /// The entries npm reads as configuration (those before any `[section]`),
    /// in file order.
    pub fn entries(&self) -> impl Iterator<Item = Located<'_>> {
        self.lines
            .iter()
            .enumerate()
            .take_while(|(_, line)| line.kind != LineKind::Section)
            .filter_map(located)
    }

    /// Entries that sit below a `[section]` header and that npm therefore
    /// ignores; worth a warning when one of them looks like a credential.
    pub fn entries_in_sections(&self) -> impl Iterator<Item = Located<'_>> {
        self.lines
            .iter()
            .enumerate()
            .skip_while(|(_, line)| line.kind != LineKind::Section)
            .filter_map(located)
    }

    /// Sets `key` to `value`. `is_key` says whether an existing entry's key
    /// (as decoded, before expansion) names the same setting, so a caller can
    /// match `//${HOST}/:_authToken` by what it expands to.
    ///
    /// The last matching line (the one npm uses) gets the new value in place,
    /// keeping its key text, spacing and inline comment where npm allows it
    /// (see [`rewrite_entry`]); earlier duplicates, which npm ignores, are
    /// removed. Without a match, `key=value` is added
    /// after the last top-level entry (never inside a `[section]`, where npm
    /// would not see it).
    pub fn set(&mut self, key: &str, value: &str, is_key: &dyn Fn(&str) -> bool) {
        let encoded = value::encode(value);
        let matches = self.matching_lines(is_key);
        if let Some((&last, earlier)) = matches.split_last() {
            let line = &mut self.lines[last];
            let LineKind::Entry(entry) = &line.kind else {
                unreachable!("matching_lines returns entries only")
            };
            let after_bom = self.bom && last == 0;
            line.bytes = rewrite_entry(&line.bytes, entry, value, &encoded, after_bom);
            line.kind = classify(&lossy::decode(&line.bytes), after_bom);
            for &index in earlier.iter().rev() {
                self.remove_line(index);
            }
            return;
        }

        let text = format!("{}={}", encode_key(key), encoded);
        let mut ending = self.dominant_ending();
        let position = self.insertion_point();
        if position > 0 && self.lines[position - 1].ending.is_empty() {
            // Appending to a file whose last line has no line break: the old
            // last line gets one and the new last line goes without, so the
            // file keeps its style (and a later remove restores it exactly).
            self.lines[position - 1].ending = ending;
            ending = "";
        }
        let kind = classify(&text, self.bom && position == 0);
        let bytes = text.into_bytes();
        self.lines.insert(
            position,
            Line {
                bytes,
                ending,
                kind,
            },
        );
    }

    /// Removes every top-level entry whose key `is_key` accepts; returns how
    /// many lines went.
    pub fn remove(&mut self, is_key: &dyn Fn(&str) -> bool) -> usize {
        let matches = self.matching_lines(is_key);
        for &index in matches.iter().rev() {
            self.remove_line(index);
        }
        matches.len()
    }

    /// Removes every line from the first `[section]` header on: what npm
    /// does not read as configuration. Returns how many lines went.
    pub fn remove_sections(&mut self) -> usize {
        let Some(first) = self
            .lines
            .iter()
            .position(|line| line.kind == LineKind::Section)
        else {
            return 0;
        };
        let removed = self.lines.len() - first;
        self.lines.truncate(first);
        removed
    }

    /// Removes one line and keeps what the rest of the file means.
    fn remove_line(&mut self, index: usize) {
        let removed = self.lines.remove(index);
        if index == self.lines.len() && index > 0 && removed.ending.is_empty() {
            // The file ended without a line break; keep it that way.
            self.lines[index - 1].ending = "";
        }
        if index == 0
            && self.bom
            && self
                .lines
                .first()
                .is_some_and(|line| line.kind == LineKind::Section)
        {
            // npm reads `\u{feff}[name]` as a key, not a section header (see
            // `classify`): had the mark stayed, the keys of that section
            // would have become configuration.
            self.bom = false;
        }
    }

    /// Indexes of top-level, non-array entries whose key `is_key` accepts.
    fn matching_lines(&self, is_key: &dyn Fn(&str) -> bool) -> Vec<usize> {
        self.entries()
            .filter(|located| !located.entry.array && is_key(&located.entry.key))
            .map(|located| located.line - 1)
            .collect()
    }

    /// Where a new top-level key goes: after the last top-level entry, else
    /// before the first section, else at the end.
    fn insertion_point(&self) -> usize {
        if let Some(last) = self.entries().last() {
            return last.line;
        }
        self.lines
            .iter()
            .position(|line| line.kind == LineKind::Section)
            .unwrap_or(self.lines.len())
    }

    /// CRLF if the file already uses it, else LF.
    fn dominant_ending(&self) -> &'static str {
        let crlf = self.lines.iter().filter(|l| l.ending == "\r\n").count();
        let lf = self.lines.iter().filter(|l| l.ending == "\n").count();
        if crlf > lf { "\r\n" } else { "\n" }
    }
}

/// The entry on the line at `index` (0-based), if the line is one.
fn located((index, line): (usize, &Line)) -> Option<Located<'_>> {
    match &line.kind {
        LineKind::Entry(entry) => Some(Located {
            line: index + 1,
            entry,
        }),
        _ => None,
    }
}

/// The entry line `bytes`, which holds `entry`, with its value changed to
/// `value` (`encoded` is `value::encode(value)`), changing as little of the
/// line as npm allows: the bytes around the value (key, spacing, comment)
/// are kept as they are, UTF-8 or not. The first of these that npm reads
/// as the same key set to `value`:
///
/// - the encoded value in place of the old one, spacing and any inline
///   comment kept;
/// - the value unquoted in its place: npm reads quotes only around the whole
///   rest of a line (`k = "a=b" # note` is `"a=b"`, quotes included), but a
///   value with `=`, such as a base64 `_auth`, needs none after the key's `=`;
/// - the encoded value, without the comment (outer spaces and line breaks
///   need the quotes);
/// - else the line written anew, `key=value` as ini writes it: the key text
///   as it was can turn the line into something else (`[a = b]` is a
///   section header).
fn rewrite_entry(
    bytes: &[u8],
    entry: &Entry,
    value: &str,
    encoded: &str,
    after_bom: bool,
) -> Vec<u8> {
    let text = lossy::decode(bytes);
    let at = |offset| lossy::byte_offset(bytes, offset);
    let encoded = encoded.as_bytes();
    let candidates = match entry.value_range {
        Some((start, end)) => {
            let (before, after) = (&bytes[..at(start)], &bytes[at(end)..]);
            let plain = value::escape_comments(value);
            vec![
                [before, encoded, after].concat(),
                [before, plain.as_bytes(), after].concat(),
                [before, encoded].concat(),
            ]
        }
        None => {
            let key = &bytes[..at(value::trim_end_js(&text).len())];
            vec![[key, b"=", encoded].concat()]
        }
    };
    let reads_back = |line: &Vec<u8>| {
        !line.iter().any(|&byte| byte == b'\r' || byte == b'\n')
            && matches!(
                classify(&lossy::decode(line), after_bom),
                LineKind::Entry(read) if !read.array && read.key == entry.key && read.value == value
            )
    };
    candidates
        .into_iter()
        .find(reads_back)
        .unwrap_or_else(|| [encode_key(&entry.key).as_bytes(), b"=", encoded].concat())
}

/// Keys are written as ini writes them, with the same rules as values: a
/// nerf dart may hold a `;` (`https://r.example/a;b/`), which unescaped
/// would start an inline comment and cut the key short. A key with `=`
/// cannot be written at all (npm splits a line at its first `=`, quoted or
/// not); it is JSON-quoted as ini does.
fn encode_key(key: &str) -> String {
    value::encode(key)
}

/// What a line is to npm. `after_bom`: the line is the first one and the
/// file starts with a byte-order mark, which npm reads as part of the line
/// (Node keeps U+FEFF when it reads a file as UTF-8). Trimming drops the
/// mark, but the section pattern, anchored at the start of the line, sees
/// it: npm 11 reads `\u{feff}[x]` as the key `[x]`, so the lines after it
/// are configuration, not a section's. (npm also reads `\u{feff}=x` as an
/// empty key, which nothing uses; it stays ignored here.)
fn classify(text: &str, after_bom: bool) -> LineKind {
    let trimmed = value::trim_js(text);
    if trimmed.is_empty() || trimmed.starts_with([';', '#']) {
        return LineKind::Other;
    }
    // `[name]` with only whitespace after it (the whole line, untrimmed at
    // the start, as npm's regex anchors it).
    if !after_bom
        && let Some(inner) = text.strip_prefix('[')
        && let Some(close) = inner.find(']')
        && value::trim_js(&inner[close + 1..]).is_empty()
    {
        return LineKind::Section;
    }
    let (raw_key, raw_value) = match text.find('=') {
        Some(0) => return LineKind::Other,
        Some(eq) => (&text[..eq], Some((eq + 1, &text[eq + 1..]))),
        None => (text, None),
    };
    let decoded_key = value::decode(raw_key);
    let (key, array) = match decoded_key.strip_suffix("[]") {
        Some(stripped) if decoded_key.len() > 2 => (stripped.to_string(), true),
        _ => (decoded_key, false),
    };
    if key == "__proto__" {
        return LineKind::Other;
    }
    let (value, value_range) = match raw_value {
        Some((offset, raw)) => {
            let (start, end) = value::value_span(raw);
            (value::decode(raw), Some((offset + start, offset + end)))
        }
        None => ("true".to_string(), None),
    };
    LineKind::Entry(Entry {
        key,
        value,
        array,
        value_range,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(doc: &Document) -> Vec<(usize, String, String)> {
        doc.entries()
            .map(|l| (l.line, l.entry.key.clone(), l.entry.value.clone()))
            .collect()
    }

    /// The rendering of a document parsed from text, as text.
    fn rendered(doc: &Document) -> String {
        String::from_utf8(doc.render()).expect("a UTF-8 document renders as UTF-8")
    }

    fn same(key: &'static str) -> impl Fn(&str) -> bool {
        move |k| k == key
    }

    const SAMPLE: &str = "; user config\n\
        registry = https://registry.example.com/ # the company mirror\n\
        \n\
        # tokens\n\
        //registry.example.com/:_authToken=${NPM_TOKEN}\n\
        @acme:registry=\"https://npm.acme.test/\"\n\
        ca[]=first\n\
        ca[]=second\n\
        always-auth\n\
        =orphan\n\
        [section]\n\
        //hidden.example/:_authToken=abc\n";

    #[test]
    fn round_trips_byte_for_byte() {
        for text in [
            SAMPLE,
            "",
            "\n",
            "a=b",
            "a=b\r\nc=d\r\n",
            "a=b\rc=d\r",
            "\u{feff}a=b\n",
            "  \t\n;;\n#\n[x]\n=\n",
            "weird = \"unterminated\n",
        ] {
            assert_eq!(rendered(&Document::parse(text)), text);
        }
    }

    #[test]
    fn a_section_header_after_a_bom_is_a_key() {
        // Seen with npm 11: Node keeps the byte-order mark, npm's section
        // pattern then fails, and `[x]` is a key set to `true`; the keys
        // under it are read as configuration.
        let doc = Document::parse("\u{feff}[x]\r\n//r/:_authToken=tok\r\n[y]\r\nz=1\r\n");
        assert_eq!(
            pairs(&doc),
            vec![
                (1, "[x]".into(), "true".into()),
                (2, "//r/:_authToken".into(), "tok".into())
            ]
        );
        assert_eq!(doc.entries_in_sections().count(), 1);
        // Without the mark, it is a section header.
        let doc = Document::parse("[x]\n//r/:_authToken=tok\n");
        assert_eq!(pairs(&doc), vec![]);

        // Removing the first line would put a header right after the mark
        // and make its keys configuration: the mark goes instead.
        let mut doc = Document::parse("\u{feff}a=1\n[y]\nhidden=1\n");
        doc.remove(&same("a"));
        assert_eq!(rendered(&doc), "[y]\nhidden=1\n");
        assert_eq!(pairs(&doc), vec![]);
        // Before anything else, the mark stays.
        let mut doc = Document::parse("\u{feff}a=1\nb=2\n");
        doc.remove(&same("a"));
        assert_eq!(rendered(&doc), "\u{feff}b=2\n");
    }

    #[test]
    fn reads_entries_as_npm_does() {
        let doc = Document::parse(SAMPLE);
        assert_eq!(
            pairs(&doc),
            vec![
                (2, "registry".into(), "https://registry.example.com/".into()),
                (
                    5,
                    "//registry.example.com/:_authToken".into(),
                    "${NPM_TOKEN}".into()
                ),
                (6, "@acme:registry".into(), "https://npm.acme.test/".into()),
                (7, "ca".into(), "first".into()),
                (8, "ca".into(), "second".into()),
                (9, "always-auth".into(), "true".into()),
            ]
        );
        assert!(
            doc.entries()
                .filter(|l| l.entry.key == "ca")
                .all(|l| l.entry.array)
        );
        let hidden: Vec<_> = doc.entries_in_sections().map(|l| l.line).collect();
        assert_eq!(hidden, vec![12]);
    }

    #[test]
    fn crlf_and_bom() {
        let doc = Document::parse("\u{feff}key=value\r\nother = x\r\n");
        assert_eq!(
            pairs(&doc),
            vec![
                (1, "key".into(), "value".into()),
                (2, "other".into(), "x".into())
            ]
        );
    }

    #[test]
    fn a_value_may_contain_equals() {
        let doc = Document::parse("//r/:_auth=dXNlcjpwYXNz==\n");
        assert_eq!(
            doc.entries().next().map(|l| l.entry.value.clone()),
            Some("dXNlcjpwYXNz==".into())
        );
    }

    #[test]
    fn keys_with_colons_and_quotes() {
        let doc = Document::parse("\"//r.example/:_authToken\" = 'quoted'\n");
        assert_eq!(
            pairs(&doc),
            vec![(1, "//r.example/:_authToken".into(), "quoted".into())]
        );
    }

    #[test]
    fn set_replaces_the_value_in_place() {
        let mut doc = Document::parse(SAMPLE);
        doc.set("registry", "https://other.example/", &same("registry"));
        let expected = SAMPLE.replace(
            "registry = https://registry.example.com/ # the company mirror",
            "registry = https://other.example/ # the company mirror",
        );
        assert_eq!(rendered(&doc), expected);
    }

    #[test]
    fn set_adds_a_missing_key_before_any_section() {
        let mut doc = Document::parse(SAMPLE);
        doc.set(
            "//new.example/:_authToken",
            "tok=",
            &same("//new.example/:_authToken"),
        );
        let expected = SAMPLE.replace(
            "always-auth\n",
            "always-auth\n//new.example/:_authToken=\"tok=\"\n",
        );
        assert_eq!(rendered(&doc), expected);
    }

    #[test]
    fn set_keeps_crlf_and_the_missing_final_newline() {
        let mut doc = Document::parse("a=1\r\nb=2");
        doc.set("c", "3", &same("c"));
        assert_eq!(rendered(&doc), "a=1\r\nb=2\r\nc=3");
        doc.remove(&same("c"));
        assert_eq!(rendered(&doc), "a=1\r\nb=2");
        let mut doc = Document::parse("");
        doc.set("c", "3", &same("c"));
        assert_eq!(rendered(&doc), "c=3\n");
    }

    #[test]
    fn set_removes_shadowed_duplicates() {
        let mut doc = Document::parse("k=1\n# keep\nk=2\n");
        doc.set("k", "3", &same("k"));
        assert_eq!(rendered(&doc), "# keep\nk=3\n");
    }

    #[test]
    fn set_before_an_inline_comment_reads_back_as_set() {
        // Found by the property tests: a quoted value before an inline
        // comment is read with its quotes, so `"a=b"` went to the registry.
        let mut doc = Document::parse("//r/:_auth = old # note\n");
        doc.set("//r/:_auth", "dXNlcjpwYXNz==", &same("//r/:_auth"));
        assert_eq!(rendered(&doc), "//r/:_auth = dXNlcjpwYXNz== # note\n");

        for (line, value, expected) in [
            ("k=old#note\n", "=", "k==#note\n"),
            ("k = old ; note\n", "a;b=c", "k = a\\;b=c ; note\n"),
            // Only quotes can hold these, and quotes cannot take a comment.
            ("k = old ; note\n", " padded ", "k = \" padded \"\n"),
            ("k=old;note\r\n", "two\nlines", "k=\"two\\nlines\"\r\n"),
            ("k=old#note", "trailing\\", "k=trailing\\"),
            // Without a comment after it, the quoted form stays.
            ("k = old  \n", "a=b", "k = \"a=b\"  \n"),
        ] {
            let mut doc = Document::parse(line);
            doc.set("k", value, &same("k"));
            assert_eq!(rendered(&doc), expected, "{line:?} <- {value:?}");
            let read: Vec<_> = doc.entries().map(|l| l.entry.value.clone()).collect();
            assert_eq!(read, vec![value.to_string()], "{line:?} <- {value:?}");
        }
    }

    #[test]
    fn set_never_turns_a_line_into_a_section_header() {
        // Found by the fuzzer: a key written starting with `[` and a value
        // ending with `]` made `[a = b]`, a section header to npm, which
        // hid every key after it.
        for (line, key, value, expected) in [
            ("[a = old\nz=1\n", "[a", "b]", "\"[a\"=b]\nz=1\n"),
            ("[x\nz=1\n", "[x", "y]", "\"[x\"=y]\nz=1\n"),
        ] {
            let mut doc = Document::parse(line);
            doc.set(key, value, &same(key));
            assert_eq!(rendered(&doc), expected);
            assert_eq!(
                pairs(&doc),
                vec![(1, key.into(), value.into()), (2, "z".into(), "1".into())]
            );
        }
    }

    #[test]
    fn set_on_a_bare_key_adds_the_value() {
        let mut doc = Document::parse("flag\n");
        doc.set("flag", "false", &same("flag"));
        assert_eq!(rendered(&doc), "flag=false\n");
        // NEL is part of the key to npm: it must not be trimmed off.
        let mut doc = Document::parse("flag\u{85} \n");
        doc.set("flag\u{85}", "false", &same("flag\u{85}"));
        assert_eq!(rendered(&doc), "flag\u{85}=false\n");
    }

    #[test]
    fn remove_drops_only_that_key() {
        let mut doc = Document::parse(SAMPLE);
        let removed = doc.remove(&same("//registry.example.com/:_authToken"));
        assert_eq!(removed, 1);
        assert_eq!(
            rendered(&doc),
            SAMPLE.replace("//registry.example.com/:_authToken=${NPM_TOKEN}\n", "")
        );
        // Keys inside a section are not configuration and are never touched.
        assert_eq!(doc.remove(&same("//hidden.example/:_authToken")), 0);
    }

    #[test]
    fn new_keys_read_back_as_written() {
        // Found by the property tests: these keys were written bare and
        // read back as other keys (cut at the `;`, unquoted, trimmed), so
        // a later set added a second line and remove missed the first.
        for key in [
            "//r.example/a;b/:_authToken",
            "//r.example/#x/:_authToken",
            "'",
            " padded ",
            ";starts-like-a-comment",
            "#hash",
            "[bracket",
            r"back\\slash",
        ] {
            let mut doc = Document::parse(SAMPLE);
            doc.set(key, "tok", &same(key));
            let found: Vec<_> = doc
                .entries()
                .filter(|l| l.entry.key == key)
                .map(|l| l.entry.value.clone())
                .collect();
            assert_eq!(
                found,
                vec!["tok".to_string()],
                "{key:?}: {}",
                rendered(&doc)
            );
            assert_eq!(doc.remove(&same(key)), 1, "{key:?}");
            assert_eq!(rendered(&doc), SAMPLE, "{key:?}");
        }
        let key = "//r.example/a;b/:_authToken";
        let mut doc = Document::default();
        doc.set(key, "tok", &same(key));
        assert_eq!(rendered(&doc), "//r.example/a\\;b/:_authToken=tok\n");
    }

    #[test]
    fn set_then_remove_restores_the_file() {
        let mut doc = Document::parse(SAMPLE);
        doc.set("new", "value", &same("new"));
        doc.remove(&same("new"));
        assert_eq!(rendered(&doc), SAMPLE);
    }

    // Files that are not UTF-8: npm reads them as UTF-8 with U+FFFD in
    // place of each invalid sequence, and an edit keeps every byte it does
    // not have to change.

    /// A user file with a Latin-1 comment and stray bytes in values, keys
    /// and comments, with CRLF endings.
    const LATIN1: &[u8] = b"# caf\xe9 cr\xe8me\r\n\
        registry=https://r.example/\r\n\
        email=a\xffb\r\n\
        //r.example/:_authToken=old ; \xfe note\r\n\
        k\xff=1\r\n\
        flag\xe9 \r\n\
        [s\xe9ction]\r\n\
        hidden=\xff\r\n";

    #[test]
    fn any_bytes_round_trip() {
        for bytes in [
            LATIN1,
            b"\xff",
            b"a=\xe2\x82",
            b"\xef\xbb",
            b"\xef\xbb\xbf\xff=1\r\n",
            b"\xef\xbb\xbf\xef\xbb\xbf",
            b"\r\xff\n\xc3\r\n\x80",
            b"\x00\x01=\x7f\n",
        ] {
            assert_eq!(Document::parse(bytes).render(), bytes, "{bytes:?}");
        }
    }

    #[test]
    fn invalid_bytes_read_as_npm_reads_them() {
        let doc = Document::parse(LATIN1);
        assert_eq!(
            pairs(&doc),
            vec![
                (2, "registry".into(), "https://r.example/".into()),
                (3, "email".into(), "a\u{fffd}b".into()),
                (4, "//r.example/:_authToken".into(), "old".into()),
                (5, "k\u{fffd}".into(), "1".into()),
                (6, "flag\u{fffd}".into(), "true".into()),
            ]
        );
        let hidden: Vec<_> = doc
            .entries_in_sections()
            .map(|l| (l.line, l.entry.value.clone()))
            .collect();
        assert_eq!(hidden, vec![(8, "\u{fffd}".to_string())]);
        // The same as reading the text npm decodes.
        let text = String::from_utf8_lossy(LATIN1);
        assert_eq!(pairs(&Document::parse(text.as_bytes())), pairs(&doc));
    }

    /// `LATIN1` with `old` line replaced by `new` line.
    fn latin1_with(old: &[u8], new: &[u8]) -> Vec<u8> {
        let at = LATIN1
            .windows(old.len())
            .position(|w| w == old)
            .expect("the line is there");
        [&LATIN1[..at], new, &LATIN1[at + old.len()..]].concat()
    }

    #[test]
    fn set_keeps_every_other_byte() {
        let key = "//r.example/:_authToken";
        let mut doc = Document::parse(LATIN1);
        doc.set(key, "new", &same(key));
        // The comment after the value keeps its stray byte too.
        assert_eq!(
            doc.render(),
            latin1_with(b":_authToken=old ; \xfe", b":_authToken=new ; \xfe")
        );

        // A key with an invalid byte is matched as npm reads it, and keeps
        // its bytes.
        let mut doc = Document::parse(LATIN1);
        doc.set("k\u{fffd}", "2", &same("k\u{fffd}"));
        assert_eq!(doc.render(), latin1_with(b"k\xff=1", b"k\xff=2"));
        let mut doc = Document::parse(LATIN1);
        doc.set("flag\u{fffd}", "false", &same("flag\u{fffd}"));
        assert_eq!(
            doc.render(),
            latin1_with(b"flag\xe9 \r", b"flag\xe9=false\r")
        );

        // A value with an invalid byte is replaced whole.
        let mut doc = Document::parse(LATIN1);
        doc.set("email", "a@b.example", &same("email"));
        assert_eq!(doc.render(), latin1_with(b"a\xffb", b"a@b.example"));

        // A new key goes after the last top-level entry, with CRLF.
        let mut doc = Document::parse(LATIN1);
        doc.set("//n/:_authToken", "t", &same("//n/:_authToken"));
        assert_eq!(
            doc.render(),
            latin1_with(b"flag\xe9 \r\n", b"flag\xe9 \r\n//n/:_authToken=t\r\n")
        );
        doc.remove(&same("//n/:_authToken"));
        assert_eq!(doc.render(), LATIN1);
    }

    #[test]
    fn remove_keeps_every_other_byte() {
        let mut doc = Document::parse(LATIN1);
        assert_eq!(doc.remove(&same("email")), 1);
        assert_eq!(doc.render(), latin1_with(b"email=a\xffb\r\n", b""));
        assert_eq!(doc.remove(&same("k\u{fffd}")), 1);
        let expected: &[u8] = b"# caf\xe9 cr\xe8me\r\n\
            registry=https://r.example/\r\n\
            //r.example/:_authToken=old ; \xfe note\r\n\
            flag\xe9 \r\n\
            [s\xe9ction]\r\n\
            hidden=\xff\r\n";
        assert_eq!(doc.render(), expected);
    }

    #[test]
    fn a_bom_before_invalid_bytes_stays() {
        let bytes = b"\xef\xbb\xbf# \xe9\nregistry=https://r.example/\n";
        let mut doc = Document::parse(bytes);
        doc.set("registry", "https://s.example/", &same("registry"));
        assert_eq!(
            doc.render(),
            b"\xef\xbb\xbf# \xe9\nregistry=https://s.example/\n"
        );
        // A BOM and an invalid first key: the key is read after the mark.
        let mut doc = Document::parse(b"\xef\xbb\xbf\xff=1\n");
        assert_eq!(pairs(&doc), vec![(1, "\u{fffd}".into(), "1".into())]);
        doc.set("\u{fffd}", "2", &same("\u{fffd}"));
        assert_eq!(doc.render(), b"\xef\xbb\xbf\xff=2\n");
    }

    #[test]
    fn a_truncated_sequence_at_the_end_of_a_line_stays() {
        // `\xe2\x82` starts a three-byte character the line break cuts
        // short: one U+FFFD to npm, and the break is still a break.
        let bytes = b"a=x\xe2\x82\nb=1";
        let mut doc = Document::parse(bytes);
        assert_eq!(
            pairs(&doc),
            vec![
                (1, "a".into(), "x\u{fffd}".into()),
                (2, "b".into(), "1".into())
            ]
        );
        doc.set("b", "2", &same("b"));
        assert_eq!(doc.render(), b"a=x\xe2\x82\nb=2");
    }
}
