//! Finding npm credentials in a file's bytes: `npm_` tokens anywhere, and
//! literal `_authToken` / `_auth` / `_password` / `npmAuthToken` values in
//! config syntax. Pure functions over bytes (any encoding); no I/O.

use std::collections::HashMap;

use memchr::memmem;
use regex::bytes::Regex;

use super::Kind;
use crate::npmrc::nerf::nerf_dart;

/// What kind of file the bytes came from: it decides which config syntax
/// counts. `npm_` tokens are found in every kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileKind {
    /// `.npmrc`, `npmrc`, `*.npmrc`, `.npmrc.*`, pnpm's `auth.ini`: bare
    /// `_authToken=` / `_auth=` / `_password=` keys count too.
    Npmrc,
    /// `.yarnrc.yml`: `npmAuthToken:` values.
    Yarnrc,
    /// Anything else: `npm_` tokens, and nerf-dart keyed credentials
    /// (`//host/:_authToken=...`, as in a Dockerfile's `echo`).
    Other,
}

impl FileKind {
    /// The kind for a file name (the last path component, as bytes).
    pub(crate) fn of(name: &[u8]) -> FileKind {
        if name == b".yarnrc.yml" || name == b".yarnrc.yaml" {
            FileKind::Yarnrc
        } else if name == b"npmrc"
            || name == b"auth.ini"
            || name.starts_with(b".npmrc")
            || name.ends_with(b".npmrc")
        {
            FileKind::Npmrc
        } else {
            FileKind::Other
        }
    }
}

/// One credential found in a buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hit {
    pub kind: Kind,
    /// 1-based line number.
    pub line: usize,
    /// 1-based column of the secret's first character (bytes that are not
    /// UTF-8 count one each, so Latin-1 text counts characters too).
    pub column: usize,
    /// 1-based column just past the secret.
    pub end_column: usize,
    /// The secret as written (quotes removed).
    pub secret: String,
    /// The nerf dart (`//host/path/`) the line names, if any.
    pub registry: Option<String>,
    /// For `_password`: the `username` written for the same registry in the
    /// same file, which a check of the password needs.
    pub username: Option<String>,
}

/// A token of this many characters after `npm_`, as npm issues them.
const TOKEN_BODY: usize = 36;

/// A token body made of fewer distinct characters than this is a
/// placeholder (`npm_XXXX...`, `npm_0000...`); 36 random base62 characters
/// use about 27.
const MIN_DISTINCT: usize = 10;

/// Literal values shorter than this are not worth reporting as secrets.
const MIN_VALUE: usize = 4;

/// Values longer than this are not a credential (a minified line).
const MAX_VALUE: usize = 1024;

/// Bytes that end an unquoted value: whitespace, quotes, shell and config
/// punctuation. No credential contains them.
fn ends_value(byte: u8) -> bool {
    byte.is_ascii_whitespace()
        || matches!(
            byte,
            b'"' | b'\''
                | b'`'
                | b';'
                | b'#'
                | b'\\'
                | b','
                | b'<'
                | b'>'
                | b'|'
                | b'&'
                | b')'
                | b']'
        )
}

fn is_word(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

/// The compiled patterns. Build once per scan and share between threads.
pub(crate) struct Detector {
    /// Where to look closer in an ordinary file: a token, or a nerf-dart
    /// credential key. Its literal prefixes let the regex engine skip
    /// through text at memchr speed.
    candidates: Regex,
    token: Regex,
    nerf_key: Regex,
    bare_key: Regex,
    yarn_key: Regex,
    username_key: Regex,
    ignore: memmem::Finder<'static>,
}

/// A secret's place in a line, before line and column are known.
struct LineHit {
    kind: Kind,
    start: usize,
    end: usize,
    registry: Option<String>,
}

impl Detector {
    pub(crate) fn new() -> Result<Detector, regex::Error> {
        Ok(Detector {
            candidates: Regex::new(r"(?-u)npm_[A-Za-z0-9]{36}|:_auth|:_password")?,
            token: Regex::new(r"(?-u)npm_[A-Za-z0-9]{36}")?,
            nerf_key: Regex::new(
                r#"(?-u)(//[^\s'"=;#,]*?):(_authToken|_auth|_password)[ \t]*=[ \t]*"#,
            )?,
            bare_key: Regex::new(r"(?-u)^[ \t]*(_authToken|_auth|_password)[ \t]*=[ \t]*")?,
            yarn_key: Regex::new(r#"(?-u)^[ \t]*["']?npmAuthToken["']?[ \t]*:[ \t]*"#)?,
            username_key: Regex::new(
                r#"(?-u)^[ \t]*(//[^\s'"=;#,]*?:)?username[ \t]*=[ \t]*["']?([^\s'";#]+)"#,
            )?,
            ignore: memmem::Finder::new(b"rtok:ignore"),
        })
    }

    /// Every credential in `bytes`, in order. `first_line` is the number of
    /// the buffer's first line (1 for a whole file; more for a later chunk).
    pub(crate) fn detect(&self, bytes: &[u8], file: FileKind, first_line: usize) -> Vec<Hit> {
        match file {
            FileKind::Other => self.detect_sparse(bytes, first_line),
            FileKind::Npmrc | FileKind::Yarnrc => self.detect_config(bytes, file, first_line),
        }
    }

    /// An ordinary file: jump from candidate to candidate, looking only at
    /// the lines that hold one. Line numbers are counted only up to hits.
    fn detect_sparse(&self, bytes: &[u8], first_line: usize) -> Vec<Hit> {
        let mut hits = Vec::new();
        let mut counted_to = 0;
        let mut line_number = first_line;
        let mut done_to = 0;
        for candidate in self.candidates.find_iter(bytes) {
            let at = candidate.start();
            if at < done_to {
                continue;
            }
            let start = memchr::memrchr(b'\n', &bytes[..at]).map_or(0, |nl| nl + 1);
            let end = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |nl| at + nl);
            done_to = end;
            let line = trim_cr(&bytes[start..end]);
            let mut found = Vec::new();
            self.scan_line(line, FileKind::Other, &mut found);
            if found.is_empty() {
                continue;
            }
            line_number += memchr::memchr_iter(b'\n', &bytes[counted_to..start]).count();
            counted_to = start;
            for hit in found {
                hits.push(finish(line, line_number, hit));
            }
        }
        hits
    }

    /// A config file (small): every line, with the context config syntax
    /// needs (a yarnrc key's parent registry, an npmrc password's user).
    fn detect_config(&self, bytes: &[u8], file: FileKind, first_line: usize) -> Vec<Hit> {
        let mut hits = Vec::new();
        let mut parents: Vec<(usize, Vec<u8>)> = Vec::new();
        let mut usernames: HashMap<String, String> = HashMap::new();
        for (index, raw) in bytes.split(|b| *b == b'\n').enumerate() {
            let line = trim_cr(raw);
            if file == FileKind::Npmrc
                && let Some(caps) = self.username_key.captures(line)
            {
                let prefix = caps.get(1).map_or(&b""[..], |m| m.as_bytes());
                let prefix = prefix.strip_suffix(b":").unwrap_or(prefix);
                usernames.insert(
                    String::from_utf8_lossy(prefix).into_owned(),
                    String::from_utf8_lossy(&caps[2]).into_owned(),
                );
            }
            let parent = if file == FileKind::Yarnrc {
                yaml_parent(line, &mut parents)
            } else {
                None
            };
            let mut found = Vec::new();
            self.scan_line(line, file, &mut found);
            for mut hit in found {
                if hit.kind == Kind::YarnrcAuthToken {
                    hit.registry = parent.clone();
                }
                hits.push(finish(line, first_line + index, hit));
            }
        }
        for hit in &mut hits {
            if hit.kind == Kind::NpmrcPassword {
                let key = hit.registry.clone().unwrap_or_default();
                hit.username = usernames.get(&key).cloned();
            }
        }
        hits
    }

    /// The credentials on one line (without its line break).
    fn scan_line(&self, line: &[u8], file: FileKind, out: &mut Vec<LineHit>) {
        if self.ignore.find(line).is_some() {
            return;
        }
        for caps in self.nerf_key.captures_iter(line) {
            let (Some(whole), Some(prefix), Some(field)) = (caps.get(0), caps.get(1), caps.get(2))
            else {
                continue;
            };
            if let Some((start, end)) = literal_value(line, whole.end()) {
                out.push(LineHit {
                    kind: field_kind(field.as_bytes()),
                    start,
                    end,
                    registry: Some(normalize_nerf(prefix.as_bytes())),
                });
            }
        }
        if file == FileKind::Npmrc
            && let Some(caps) = self.bare_key.captures(line)
            && let (Some(whole), Some(field)) = (caps.get(0), caps.get(1))
            && let Some((start, end)) = literal_value(line, whole.end())
        {
            out.push(LineHit {
                kind: field_kind(field.as_bytes()),
                start,
                end,
                registry: None,
            });
        }
        if file == FileKind::Yarnrc
            && let Some(whole) = self.yarn_key.find(line)
            && let Some((start, end)) = literal_value(line, whole.end())
        {
            out.push(LineHit {
                kind: Kind::YarnrcAuthToken,
                start,
                end,
                registry: None,
            });
        }
        let configured = out.len();
        for token in self.token.find_iter(line) {
            let (start, end) = (token.start(), token.end());
            let bounded = (start == 0 || !is_word(line[start - 1]))
                && (end == line.len() || !is_word(line[end]));
            // A token that is the value of a config key is one finding, of
            // the config's kind.
            let inside = out[..configured]
                .iter()
                .any(|hit| hit.start <= start && end <= hit.end);
            if bounded && !inside && !placeholder_token(&line[start + 4..end]) {
                out.push(LineHit {
                    kind: Kind::NpmToken,
                    start,
                    end,
                    registry: None,
                });
            }
        }
        out.sort_by_key(|hit| hit.start);
    }
}

fn finish(line: &[u8], line_number: usize, hit: LineHit) -> Hit {
    Hit {
        kind: hit.kind,
        line: line_number,
        column: columns(&line[..hit.start]) + 1,
        end_column: columns(&line[..hit.end]) + 1,
        secret: String::from_utf8_lossy(&line[hit.start..hit.end]).into_owned(),
        registry: hit.registry,
        username: None,
    }
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Characters in `bytes`: UTF-8 sequences count one, every other byte one.
fn columns(bytes: &[u8]) -> usize {
    bytes
        .utf8_chunks()
        .map(|chunk| chunk.valid().chars().count() + chunk.invalid().len())
        .sum()
}

fn field_kind(field: &[u8]) -> Kind {
    match field {
        b"_authToken" => Kind::NpmrcAuthToken,
        b"_auth" => Kind::NpmrcAuth,
        _ => Kind::NpmrcPassword,
    }
}

/// `//Host:443/path` as npm keys it: host lower-cased, trailing slash kept
/// as written.
fn normalize_nerf(prefix: &[u8]) -> String {
    let text = String::from_utf8_lossy(prefix);
    match url::Url::parse(&format!("https:{text}")) {
        Ok(url) if text.ends_with('/') => nerf_dart(&url),
        _ => text.into_owned(),
    }
}

/// The value that starts at `at` (after `key=` or `key:`), as byte offsets
/// into `line`, if it is a literal credential: not empty, not a `${VAR}` /
/// `$VAR` / `{{ template }}` reference, not a placeholder or a mask.
fn literal_value(line: &[u8], at: usize) -> Option<(usize, usize)> {
    let rest = &line[at..];
    let (start, end) = match rest.first() {
        Some(&quote @ (b'"' | b'\'')) => {
            let inner = &rest[1..];
            let len = memchr::memchr(quote, inner).unwrap_or_else(|| {
                inner
                    .iter()
                    .position(|b| ends_value(*b))
                    .unwrap_or(inner.len())
            });
            (at + 1, at + 1 + len)
        }
        _ => {
            let len = rest
                .iter()
                .position(|b| ends_value(*b))
                .unwrap_or(rest.len());
            (at, at + len)
        }
    };
    let value = line[start..end].trim_ascii();
    let offset = start + (line[start..end].len() - line[start..end].trim_ascii_start().len());
    if value.len() < MIN_VALUE || value.len() > MAX_VALUE || is_reference(value) {
        return None;
    }
    Some((offset, offset + value.len()))
}

/// A value that names a secret instead of holding one, or stands in for one.
fn is_reference(value: &[u8]) -> bool {
    let first = value[0];
    matches!(first, b'$' | b'{' | b'%' | b'<')
        || memmem::find(value, b"${").is_some()
        || memmem::find(value, b"$(").is_some()
        || memmem::find(value, b"{{").is_some()
        // A mask copied from `token list` (`npm_abcd...wxyz`, `abc…`).
        || memmem::find(value, b"...").is_some()
        || memmem::find(value, "…".as_bytes()).is_some()
        // setup-node's `XXXXX-XXXXX-XXXXX-XXXXX`, `***`, `xxxx`.
        || value
            .iter()
            .all(|b| matches!(b, b'X' | b'x' | b'*' | b'-' | b'.' | b'_' | b'0'))
}

/// `npm_XXXXXXXX...`: too few distinct characters to be a real token.
fn placeholder_token(body: &[u8]) -> bool {
    debug_assert_eq!(body.len(), TOKEN_BODY);
    let mut seen = [false; 256];
    let mut distinct = 0;
    for &b in body {
        if !seen[usize::from(b)] {
            seen[usize::from(b)] = true;
            distinct += 1;
        }
    }
    distinct < MIN_DISTINCT
}

/// Tracks the YAML mapping a `.yarnrc.yml` line sits in (by indentation)
/// and returns the registry its parent key names, if it names one
/// (`npmRegistries: "https://npm.example.com": npmAuthToken: ...`).
fn yaml_parent(line: &[u8], parents: &mut Vec<(usize, Vec<u8>)>) -> Option<String> {
    let body = line.trim_ascii_start();
    if body.is_empty() || body.starts_with(b"#") {
        return None;
    }
    let indent = line.len() - body.len();
    while parents.last().is_some_and(|(level, _)| *level >= indent) {
        parents.pop();
    }
    let parent = parents.last().and_then(|(_, key)| registry_key(key));
    // A key with nothing after its colon opens a mapping.
    let trimmed = body.trim_ascii_end();
    if let Some(key) = trimmed.strip_suffix(b":") {
        let key = key.trim_ascii();
        let key = key
            .strip_prefix(b"\"")
            .and_then(|k| k.strip_suffix(b"\""))
            .or_else(|| key.strip_prefix(b"'").and_then(|k| k.strip_suffix(b"'")))
            .unwrap_or(key);
        parents.push((indent, key.to_vec()));
    }
    parent
}

/// The nerf dart of a yarnrc registry key (`https://host/path`, `//host`).
fn registry_key(key: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(key);
    let url = if text.starts_with("//") {
        url::Url::parse(&format!("https:{text}")).ok()?
    } else if text.starts_with("http://") || text.starts_with("https://") {
        url::Url::parse(&text).ok()?
    } else {
        return None;
    };
    // yarn treats the key as the registry root, with or without a slash.
    let mut url = url;
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Some(nerf_dart(&url))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "npm_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8";

    fn detect(text: &[u8], file: FileKind) -> Vec<Hit> {
        Detector::new().expect("patterns").detect(text, file, 1)
    }

    fn kinds(hits: &[Hit]) -> Vec<(Kind, usize, usize, &str)> {
        hits.iter()
            .map(|h| (h.kind, h.line, h.column, h.secret.as_str()))
            .collect()
    }

    #[test]
    fn tokens_are_found_with_line_and_column() {
        let text = format!("a\nconst t = \"{TOKEN}\";\n\nx {TOKEN}\n");
        let hits = detect(text.as_bytes(), FileKind::Other);
        assert_eq!(
            kinds(&hits),
            vec![
                (Kind::NpmToken, 2, 12, TOKEN),
                (Kind::NpmToken, 4, 3, TOKEN)
            ]
        );
        assert_eq!(hits[0].end_column, 12 + 40);
    }

    #[test]
    fn lookalikes_are_not_tokens() {
        let short = &TOKEN[..TOKEN.len() - 1];
        let cases = [
            short.to_string(),
            format!("{TOKEN}x"),
            format!("{TOKEN}_suffix"),
            format!("x{TOKEN}"),
            format!("MY_{TOKEN}"),
            "process.env.npm_token".to_string(),
            "npm_config_registry=https://r/".to_string(),
            format!("npm_{}", "X".repeat(36)),
            format!("npm_{}", "abc".repeat(12)),
            format!("{TOKEN} rtok:ignore"),
        ];
        for case in &cases {
            assert_eq!(detect(case.as_bytes(), FileKind::Other), vec![], "{case}");
        }
    }

    #[test]
    fn npmrc_literals_are_found_and_references_are_not() {
        let text = format!(
            "registry=https://registry.npmjs.org/\n\
             //registry.npmjs.org/:_authToken={TOKEN}\n\
             //npm.example.com/:_authToken=${{NPM_TOKEN}}\n\
             //r.example.com:8443/npm/:_auth = \"dXNlcjpwYXNzd29yZA==\"\n\
             //r.example.com:8443/npm/:username=bob\n\
             //r.example.com:8443/npm/:_password=c2VjcmV0cGFzcw==\n\
             _authToken=legacy-uuid-0000-1111\n\
             //other/:_authToken=\n\
             //masked/:_authToken=npm_abcd...wxyz\n\
             //ph/:_authToken=XXXXX-XXXXX-XXXXX-XXXXX\n"
        );
        let hits = detect(text.as_bytes(), FileKind::Npmrc);
        assert_eq!(
            kinds(&hits),
            vec![
                (Kind::NpmrcAuthToken, 2, 34, TOKEN),
                (Kind::NpmrcAuth, 4, 36, "dXNlcjpwYXNzd29yZA=="),
                (Kind::NpmrcPassword, 6, 37, "c2VjcmV0cGFzcw=="),
                (Kind::NpmrcAuthToken, 7, 12, "legacy-uuid-0000-1111"),
            ]
        );
        assert_eq!(hits[0].registry.as_deref(), Some("//registry.npmjs.org/"));
        assert_eq!(
            hits[1].registry.as_deref(),
            Some("//r.example.com:8443/npm/")
        );
        assert_eq!(hits[2].username.as_deref(), Some("bob"));
        assert_eq!(hits[3].registry, None);
    }

    #[test]
    fn bare_keys_count_only_in_npmrc_files() {
        let text = b"_password = hunter2hunter2\n_authToken=abcdefgh\n";
        assert_eq!(detect(text, FileKind::Other), vec![]);
        assert_eq!(detect(text, FileKind::Npmrc).len(), 2);
    }

    #[test]
    fn nerf_keys_count_in_any_file() {
        let text = b"RUN echo \"//registry.npmjs.org/:_authToken=0123abcd-0123-abcd-0123-0123abcd0123\" > ~/.npmrc\nRUN echo //registry.npmjs.org/:_authToken=$NPM_TOKEN >> .npmrc\n";
        let hits = detect(text, FileKind::Other);
        assert_eq!(
            kinds(&hits),
            vec![(
                Kind::NpmrcAuthToken,
                1,
                44,
                "0123abcd-0123-abcd-0123-0123abcd0123"
            )]
        );
    }

    #[test]
    fn yarnrc_tokens_name_their_registry() {
        let text = format!(
            "npmAuthToken: \"{TOKEN}\"\n\
             npmRegistries:\n  \"https://npm.example.com/reg\":\n    npmAlwaysAuth: true\n    npmAuthToken: plain-token-value\n  //other.example:\n    npmAuthToken: \"${{OTHER}}\"\n\
             npmScopes:\n  acme:\n    npmAuthToken: scoped-token-1234\n"
        );
        let hits = detect(text.as_bytes(), FileKind::Yarnrc);
        assert_eq!(
            kinds(&hits),
            vec![
                (Kind::YarnrcAuthToken, 1, 16, TOKEN),
                (Kind::YarnrcAuthToken, 5, 19, "plain-token-value"),
                (Kind::YarnrcAuthToken, 10, 19, "scoped-token-1234"),
            ]
        );
        assert_eq!(hits[0].registry, None);
        assert_eq!(hits[1].registry.as_deref(), Some("//npm.example.com/reg/"));
        assert_eq!(hits[2].registry, None);
    }

    #[test]
    fn non_utf8_text_is_scanned_and_columns_count_characters() {
        // "café = " in Latin-1 (é is one byte, 0xE9), then a token.
        let mut text = b"caf\xe9 = ".to_vec();
        text.extend_from_slice(TOKEN.as_bytes());
        text.extend_from_slice(b"\r\n\xff\xfe\n");
        let hits = detect(&text, FileKind::Other);
        assert_eq!(kinds(&hits), vec![(Kind::NpmToken, 1, 8, TOKEN)]);
    }

    #[test]
    fn line_numbers_continue_from_the_first_line() {
        let text = format!("\n\n{TOKEN}\n");
        let hits = Detector::new()
            .expect("patterns")
            .detect(text.as_bytes(), FileKind::Other, 100);
        assert_eq!(hits[0].line, 102);
    }

    #[test]
    fn file_kinds_come_from_names() {
        assert_eq!(FileKind::of(b".npmrc"), FileKind::Npmrc);
        assert_eq!(FileKind::of(b"npmrc"), FileKind::Npmrc);
        assert_eq!(FileKind::of(b"ci.npmrc"), FileKind::Npmrc);
        assert_eq!(FileKind::of(b".npmrc.example"), FileKind::Npmrc);
        assert_eq!(FileKind::of(b".yarnrc.yml"), FileKind::Yarnrc);
        assert_eq!(FileKind::of(b"index.js"), FileKind::Other);
    }
}
