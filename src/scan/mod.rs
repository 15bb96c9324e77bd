//! `rtok scan`'s engine: find npm credentials in files (`walk`), in git
//! history or the index (`git`), with `detect`'s patterns, and render the
//! findings (`report`). It needs no configuration and never talks to a
//! registry: `--verify` and `--revoke` live with the command
//! (`commands/scan/verify.rs`).

pub(crate) mod detect;
pub(crate) mod git;
pub(crate) mod report;
pub(crate) mod walk;

use std::io::{self, Read};

use sha2::{Digest, Sha256};

use crate::secret::Secret;
use detect::{Detector, FileKind, Hit};

/// What a finding is. The `id` is the contract's name (JSON, SARIF rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Kind {
    NpmToken,
    NpmrcAuthToken,
    NpmrcAuth,
    NpmrcPassword,
    YarnrcAuthToken,
}

impl Kind {
    pub(crate) const ALL: [Kind; 5] = [
        Kind::NpmToken,
        Kind::NpmrcAuthToken,
        Kind::NpmrcAuth,
        Kind::NpmrcPassword,
        Kind::YarnrcAuthToken,
    ];

    pub(crate) fn id(self) -> &'static str {
        match self {
            Kind::NpmToken => "npm-token",
            Kind::NpmrcAuthToken => "npmrc-auth-token",
            Kind::NpmrcAuth => "npmrc-auth",
            Kind::NpmrcPassword => "npmrc-password",
            Kind::YarnrcAuthToken => "yarnrc-auth-token",
        }
    }

    /// A few words for messages: "an npm access token", ...
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Kind::NpmToken => "an npm access token",
            Kind::NpmrcAuthToken => "a literal `_authToken` in npmrc syntax",
            Kind::NpmrcAuth => "a literal `_auth` (base64 user:password) in npmrc syntax",
            Kind::NpmrcPassword => "a literal `_password` in npmrc syntax",
            Kind::YarnrcAuthToken => "a literal `npmAuthToken` in a .yarnrc.yml",
        }
    }

    /// Whether the secret is a bearer token (it can be checked with
    /// `whoami` as a token, and revoked); else it is a password.
    pub(crate) fn is_token(self) -> bool {
        !matches!(self, Kind::NpmrcAuth | Kind::NpmrcPassword)
    }
}

/// What `--verify` learned about a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Status {
    Live { user: String },
    Dead,
    Unknown { reason: String },
}

impl Status {
    pub(crate) fn id(&self) -> &'static str {
        match self {
            Status::Live { .. } => "live",
            Status::Dead => "dead",
            Status::Unknown { .. } => "unknown",
        }
    }
}

/// How `--revoke` went for a live secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Revocation {
    /// `token-list`: by the key of the user's own token list entry;
    /// `self`: `DELETE /-/user/token/<secret>`, authenticated by the
    /// secret; `none`: a password, which no endpoint revokes.
    pub method: &'static str,
    /// The token list entry's key, when revoked by it.
    pub key: Option<String>,
    pub result: Result<(), String>,
}

/// One credential found, where, and (after `verify`) what it is.
#[derive(Debug, Clone)]
pub(crate) struct Finding {
    /// The path as shown: relative to where the scan was asked from when
    /// the path given was relative; in history, the path in the commit.
    /// A name that is not UTF-8 (a Unix file name may hold any bytes)
    /// cannot be this text exactly: U+FFFD stands in for the bytes that
    /// are not, for people, and `file_bytes` holds the exact name.
    pub file: String,
    /// The exact bytes of the path when they are not UTF-8, else `None`
    /// (`file` is exact then): JSON's `file_bytes`, SARIF's URI.
    pub file_bytes: Option<Vec<u8>>,
    pub line: usize,
    pub column: usize,
    pub end_column: usize,
    pub kind: Kind,
    /// The nerf dart the line names (`//registry.npmjs.org/`).
    pub registry: Option<String>,
    pub secret: Secret,
    /// The user name written next to a `_password`, for checking it.
    pub username: Option<String>,
    /// The commit that holds the blob (`--git-history`).
    pub commit: Option<String>,
    pub status: Option<Status>,
    pub revocation: Option<Revocation>,
}

impl Finding {
    /// A finding at `path` (its bytes as shown).
    pub(crate) fn new(path: Vec<u8>, commit: Option<String>, hit: Hit) -> Finding {
        let (file, file_bytes) = match String::from_utf8(path) {
            Ok(text) => (text, None),
            Err(err) => {
                let bytes = err.into_bytes();
                (String::from_utf8_lossy(&bytes).into_owned(), Some(bytes))
            }
        };
        Finding {
            file,
            file_bytes,
            line: hit.line,
            column: hit.column,
            end_column: hit.end_column,
            kind: hit.kind,
            registry: hit.registry,
            secret: Secret::new(hit.secret),
            username: hit.username,
            commit,
            status: None,
            revocation: None,
        }
    }

    /// The path's exact bytes.
    pub(crate) fn path_bytes(&self) -> &[u8] {
        self.file_bytes.as_deref().unwrap_or(self.file.as_bytes())
    }

    pub(crate) fn masked(&self) -> String {
        crate::mask::mask_found(self.secret.expose())
    }

    pub(crate) fn fingerprint(&self) -> String {
        fingerprint(self.secret.expose())
    }
}

/// A short, stable name for a secret: the first 12 hex digits of SHA-256
/// over a fixed prefix and the secret. Two findings of one secret share it
/// (within a run and across runs); it cannot be turned back into a token.
pub(crate) fn fingerprint(secret: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"rtok-scan-v1\0");
    hasher.update(secret.as_bytes());
    let digest = hasher.finalize();
    digest[..6].iter().map(|b| format!("{b:02x}")).collect()
}

/// Bytes looked at to decide whether content is binary: a NUL among them
/// means binary (git's rule, which ripgrep's default resembles).
const BINARY_PROBE: usize = 8000;

/// Content up to this size is read whole; larger content is scanned in
/// chunks so a 2 GB file does not need 2 GB of memory.
pub(crate) const WHOLE_LIMIT: u64 = 64 * 1024 * 1024;

/// A chunk of large content; a line longer than this is cut there.
const CHUNK: usize = 8 * 1024 * 1024;

/// Whether `bytes` (the start of some content) look binary.
pub(crate) fn is_binary(bytes: &[u8]) -> bool {
    memchr::memchr(0, &bytes[..bytes.len().min(BINARY_PROBE)]).is_some()
}

/// Scans content held in memory: nothing when it is binary.
pub(crate) fn scan_bytes(detector: &Detector, bytes: &[u8], file: FileKind) -> Vec<Hit> {
    if is_binary(bytes) {
        return Vec::new();
    }
    detector.detect(bytes, file, 1)
}

/// Scans content from a reader in chunks that end at a line break (or at
/// `CHUNK` bytes on an endless line), so memory stays bounded. Returns
/// `None` when the content is binary.
pub(crate) fn scan_reader(
    detector: &Detector,
    mut reader: impl Read,
    file: FileKind,
) -> io::Result<Option<Vec<Hit>>> {
    let mut hits = Vec::new();
    let mut buffer: Vec<u8> = Vec::with_capacity(CHUNK);
    let mut line = 1;
    let mut first = true;
    loop {
        let before = buffer.len();
        buffer.resize(before + CHUNK, 0);
        let read = read_full(&mut reader, &mut buffer[before..])?;
        buffer.truncate(before + read);
        let end_of_input = read == 0 || buffer.len() < before + CHUNK;
        if first {
            if is_binary(&buffer) {
                return Ok(None);
            }
            first = false;
        }
        let cut = if end_of_input {
            buffer.len()
        } else {
            match memchr::memrchr(b'\n', &buffer) {
                Some(nl) => nl + 1,
                None if buffer.len() >= CHUNK => buffer.len(),
                None => continue,
            }
        };
        let (done, _) = buffer.split_at(cut);
        hits.extend(detector.detect(done, file, line));
        line += memchr::memchr_iter(b'\n', done).count();
        buffer.drain(..cut);
        if end_of_input {
            return Ok(Some(hits));
        }
    }
}

/// Reads until `buf` is full or the input ends.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    Ok(filled)
}

/// Sorts findings for output and drops exact repeats (the same file reached
/// through two of the given paths). Two names that differ only in bytes
/// that are not UTF-8 are two files, though their `file` text is the same.
pub(crate) fn sort(findings: &mut Vec<Finding>) {
    findings.sort_by(|a, b| {
        (&a.file, &a.file_bytes, a.line, a.column, &a.commit).cmp(&(
            &b.file,
            &b.file_bytes,
            b.line,
            b.column,
            &b.commit,
        ))
    });
    findings.dedup_by(|a, b| {
        a.file_bytes == b.file_bytes
            && a.file == b.file
            && a.line == b.line
            && a.column == b.column
            && a.commit == b.commit
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_that_is_not_utf8_keeps_its_bytes() {
        let detector = Detector::new().expect("patterns");
        let hit = || {
            detector
                .detect(
                    b"npm_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8\n",
                    FileKind::Other,
                    1,
                )
                .remove(0)
        };
        let exact = Finding::new(b"dir/ok.txt".to_vec(), None, hit());
        assert_eq!(
            (exact.file.as_str(), exact.file_bytes.as_deref()),
            ("dir/ok.txt", None)
        );
        assert_eq!(exact.path_bytes(), b"dir/ok.txt");
        let bad = Finding::new(b"bad\xffutf8.txt".to_vec(), None, hit());
        assert_eq!(bad.file, "bad\u{FFFD}utf8.txt");
        assert_eq!(bad.path_bytes(), b"bad\xffutf8.txt");
        // Same text, different bytes: two files, both kept.
        let other = Finding::new(b"bad\xfeutf8.txt".to_vec(), None, hit());
        let mut all = vec![bad.clone(), other, bad];
        sort(&mut all);
        assert_eq!(all.len(), 2);
    }

    #[test]
    fn fingerprints_are_short_stable_and_distinct() {
        let a = fingerprint("npm_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8");
        assert_eq!(a.len(), 12);
        assert_eq!(a, fingerprint("npm_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"));
        assert_ne!(a, fingerprint("npm_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R9"));
    }

    #[test]
    fn chunked_scanning_finds_what_whole_scanning_finds() {
        let detector = Detector::new().expect("patterns");
        let token = "npm_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8";
        let mut text = Vec::new();
        for i in 0..400_000 {
            text.extend_from_slice(format!("line {i} of filler text\n").as_bytes());
            if i % 100_000 == 7 {
                text.extend_from_slice(format!("token {token}\n").as_bytes());
            }
        }
        assert!(text.len() > CHUNK, "the test needs more than one chunk");
        let whole = detector.detect(&text, FileKind::Other, 1);
        let chunked = scan_reader(&detector, &text[..], FileKind::Other)
            .expect("read")
            .expect("text");
        assert_eq!(whole.len(), 4);
        assert_eq!(whole, chunked);
    }

    #[test]
    fn binary_content_is_skipped() {
        let detector = Detector::new().expect("patterns");
        let mut bytes = b"\x00\x01ELF npm_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8".to_vec();
        assert!(scan_bytes(&detector, &bytes, FileKind::Other).is_empty());
        assert!(
            scan_reader(&detector, &bytes[..], FileKind::Other)
                .expect("read")
                .is_none()
        );
        bytes.remove(0);
        bytes.remove(0);
        assert_eq!(scan_bytes(&detector, &bytes, FileKind::Other).len(), 1);
    }
}
