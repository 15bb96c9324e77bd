//! Rendering findings: the contract's JSON, SARIF 2.1.0 for code-scanning
//! uploads, and the rows of the human table. The secret itself is never
//! rendered: only its mask and fingerprint.

use std::path::Path;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
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
    let mut location = json!({ "uri": file_uri(&finding.file) });
    if !Path::new(&finding.file).is_absolute() {
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
/// segment percent-encoded; absolute becomes `file:///...`.
fn file_uri(path: &str) -> String {
    let absolute = Path::new(path).is_absolute();
    let encoded: Vec<String> = Path::new(path)
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(part) => {
                Some(utf8_percent_encode(&part.to_string_lossy(), PATH_SEGMENT).to_string())
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

fn directory_uri(dir: &Path) -> String {
    let uri = file_uri(&dir.to_string_lossy());
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
        assert_eq!(file_uri("config/.npmrc"), "config/.npmrc");
        assert_eq!(file_uri("a b/ü#?.txt"), "a%20b/%C3%BC%23%3F.txt");
        assert_eq!(file_uri("/tmp/x/.npmrc"), "file:///tmp/x/.npmrc");
        assert_eq!(file_uri("../up/f"), "../up/f");
        assert_eq!(directory_uri(Path::new("/work/repo")), "file:///work/repo/");
        assert_eq!(directory_uri(Path::new("/")), "file:///");
    }
}
