//! Rendering findings: the contract's JSON, SARIF 2.1.0 for code-scanning
//! uploads, and the rows of the human table. The secret itself is never
//! rendered: only its mask and fingerprint.
//!
//! A file name that is not UTF-8 cannot be a JSON string exactly. JSON
//! keeps `file` as text (U+FFFD for the bytes that are not UTF-8, as
//! people see it) and adds `file_bytes`, the exact name as an array of
//! bytes (`null` when `file` is exact); SARIF's `artifactLocation.uri` is a
//! URI, whose percent-encoding of the raw bytes is exact, so SARIF needs
//! nothing more.

use std::path::{Path, PathBuf};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_encode};
use serde_json::{Value, json};

use super::{Finding, Kind, Status};

/// `{"findings": [...]}` as the contract gives it.
pub(crate) fn json(findings: &[Finding]) -> Value {
    json!({ "findings": findings.iter().map(finding_json).collect::<Vec<_>>() })
}

fn finding_json(finding: &Finding) -> Value {
    let (user, reason) = match &finding.status {
        Some(Status::Live { user }) => (Some(user.as_str()), None),
        Some(Status::Unknown { reason }) => (None, Some(reason.as_str())),
        _ => (None, None),
    };
    json!({
        "file": finding.file,
        "file_bytes": finding.file_bytes,
        "line": finding.line,
        "column": finding.column,
        "kind": finding.kind.id(),
        "registry": finding.registry,
        "masked": finding.masked(),
        "fingerprint": finding.fingerprint(),
        "commit": finding.commit,
        "status": finding.status.as_ref().map(Status::id),
        "user": user,
        "reason": reason,
        "revocation": finding.revocation.as_ref().map(|r| json!({
            "method": r.method,
            "key": r.key,
            "revoked": r.result.is_ok(),
            "error": r.result.as_ref().err(),
        })),
    })
}

/// A SARIF 2.1.0 log: one run, one rule per kind, one result per finding.
/// Relative paths are relative to `%SRCROOT%`, the folder rtok ran in, so
/// run it from the repository's top for GitHub code scanning.
pub(crate) fn sarif(findings: &[Finding], srcroot: &Path) -> Value {
    let rules: Vec<Value> = Kind::ALL.iter().map(|kind| rule(*kind)).collect();
    let results: Vec<Value> = findings.iter().map(result).collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "rtok",
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                }
            },
            "originalUriBaseIds": {
                "%SRCROOT%": { "uri": directory_uri(srcroot) }
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    })
}

fn rule(kind: Kind) -> Value {
    let help = "Revoke the credential (`rtok scan --revoke`, or `rtok token delete`), \
                then remove it from the file and from git history; refer to it as \
                `${NPM_TOKEN}` instead.";
    json!({
        "id": kind.id(),
        "name": rule_name(kind),
        "shortDescription": { "text": format!("Found {}", kind.describe()) },
        "fullDescription": {
            "text": format!("A file holds {}: anyone who can read the file can act as its owner on the registry.", kind.describe())
        },
        "help": { "text": help, "markdown": help },
        "defaultConfiguration": { "level": "error" },
        "properties": {
            "tags": ["security", "secret", "npm"],
            "precision": "high",
            "security-severity": "9.0",
        }
    })
}

fn rule_name(kind: Kind) -> &'static str {
    match kind {
        Kind::NpmToken => "NpmAccessToken",
        Kind::NpmrcAuthToken => "NpmrcAuthToken",
        Kind::NpmrcAuth => "NpmrcBasicAuth",
        Kind::NpmrcPassword => "NpmrcPassword",
        Kind::YarnrcAuthToken => "YarnrcAuthToken",
    }
}

fn result(finding: &Finding) -> Value {
    let index = Kind::ALL
        .iter()
        .position(|k| *k == finding.kind)
        .unwrap_or_default();
    let mut text = format!(
        "{} ({}, fingerprint {})",
        capitalise(finding.kind.describe()),
        finding.masked(),
        finding.fingerprint()
    );
    if let Some(registry) = &finding.registry {
        text.push_str(&format!(" for {registry}"));
    }
    if let Some(commit) = &finding.commit {
        text.push_str(&format!(", in commit {commit}"));
    }
    if let Some(status) = &finding.status {
        text.push_str(&format!(": {}", status_text(status)));
    }
    let path = os_path(finding.path_bytes());
    let mut location = json!({ "uri": file_uri(&path) });
    if !path.is_absolute() {
        location["uriBaseId"] = json!("%SRCROOT%");
    }
    json!({
        "ruleId": finding.kind.id(),
        "ruleIndex": index,
        "level": "error",
        "message": { "text": text },
        "locations": [{
            "physicalLocation": {
                "artifactLocation": location,
                "region": {
                    "startLine": finding.line,
                    "startColumn": finding.column,
                    "endColumn": finding.end_column,
                }
            }
        }],
        "partialFingerprints": { "rtokSecret/v1": finding.fingerprint() },
        "properties": {
            "masked": finding.masked(),
            "fingerprint": finding.fingerprint(),
            "registry": finding.registry,
            "commit": finding.commit,
            "status": finding.status.as_ref().map(Status::id),
        }
    })
}

/// What a status means, in words (the table and SARIF messages).
pub(crate) fn status_text(status: &Status) -> String {
    match status {
        Status::Live { user } => format!("live (user {user})"),
        Status::Dead => "dead (the registry rejects it)".to_string(),
        Status::Unknown { reason } => format!("unknown ({reason})"),
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Characters a URI path segment may hold as they are (RFC 3986 unreserved).
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A path as a URI reference: relative stays relative, `/`-separated, each
/// segment's bytes percent-encoded (exact for any name, UTF-8 or not);
/// absolute becomes `file:///...`.
fn file_uri(path: &Path) -> String {
    let absolute = path.is_absolute();
    let encoded: Vec<String> = path
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(part) => {
                Some(percent_encode(part.as_encoded_bytes(), PATH_SEGMENT).to_string())
            }
            std::path::Component::ParentDir => Some("..".to_string()),
            _ => None,
        })
        .collect();
    let joined = encoded.join("/");
    if absolute {
        format!("file:///{joined}")
    } else {
        joined
    }
}

/// A finding's path bytes as a path again.
#[cfg(unix)]
fn os_path(bytes: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
}

/// A finding's path bytes as a path again (elsewhere names are Unicode:
/// the bytes are UTF-8, or WTF-8 for a name that is not valid UTF-16).
#[cfg(not(unix))]
fn os_path(bytes: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
}

fn directory_uri(dir: &Path) -> String {
    let uri = file_uri(dir);
    if uri.ends_with('/') {
        uri
    } else {
        format!("{uri}/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_uri_references() {
        let uri = |path: &str| file_uri(Path::new(path));
        assert_eq!(uri("config/.npmrc"), "config/.npmrc");
        assert_eq!(uri("a b/ü#?.txt"), "a%20b/%C3%BC%23%3F.txt");
        assert_eq!(uri("/tmp/x/.npmrc"), "file:///tmp/x/.npmrc");
        assert_eq!(uri("../up/f"), "../up/f");
        assert_eq!(directory_uri(Path::new("/work/repo")), "file:///work/repo/");
        assert_eq!(directory_uri(Path::new("/")), "file:///");
    }

    #[cfg(unix)]
    #[test]
    fn names_that_are_not_utf8_are_percent_encoded_byte_for_byte() {
        assert_eq!(
            file_uri(&os_path(b"dir/bad\xffutf8.txt")),
            "dir/bad%FFutf8.txt"
        );
        assert_eq!(
            directory_uri(&os_path(b"/srv/r\xe9po")),
            "file:///srv/r%E9po/"
        );
    }
}
