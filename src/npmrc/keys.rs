//! Which `.npmrc` keys hold a secret, and whether a document holds one:
//! format knowledge, so both the reader (`config/`, which warns about a
//! readable file) and the writer (`file::edit`, which picks the mode) ask
//! here.

use super::Document;

/// Fields under a nerf dart whose value is a secret.
pub(crate) const SECRET_FIELDS: [&str; 3] = ["_authToken", "_auth", "_password"];

/// Fields under a nerf dart whose value npm sends to that registry as its
/// credential: the secrets and the user name.
pub(crate) const AUTH_FIELDS: [&str; 4] = ["_authToken", "_auth", "_password", "username"];

/// The nerf dart a credential key gives its value to (`//host/path/` of
/// `//host/path/:_authToken`); `None` for any other key.
pub(crate) fn credential_target(key: &str) -> Option<&str> {
    key.rsplit_once(':')
        .filter(|(nerf, field)| nerf.starts_with("//") && AUTH_FIELDS.contains(field))
        .map(|(nerf, _)| nerf)
}

/// Top-level credential keys that npm stopped reading in version 9.
pub(crate) fn is_legacy_credential_key(key: &str) -> bool {
    matches!(
        key,
        "_authToken" | "_authtoken" | "-authtoken" | "_auth" | "_password"
    )
}

/// Whether `key` holds a secret value (token, `_auth`, password).
pub(crate) fn is_secret_key(key: &str) -> bool {
    match key.rsplit_once(':') {
        Some((_, field)) => SECRET_FIELDS.contains(&field),
        None => is_legacy_credential_key(key),
    }
}

/// Whether `document` holds a literal secret anywhere in the file (below a
/// `[section]` too: npm ignores it there, but it is on disk).
pub(crate) fn holds_secret(document: &Document) -> bool {
    let mut entries = document.entries().chain(document.entries_in_sections());
    entries.any(|located| is_literal_secret(&located.entry.key, &located.entry.value))
}

/// Whether `key=value` is a secret written out: a secret key with a value
/// that is not empty and not just a `${VAR}` reference.
pub(crate) fn is_literal_secret(key: &str, value: &str) -> bool {
    is_secret_key(key) && !value.trim().is_empty() && super::Reference::classify(value).is_literal()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_holds_a_secret_only_with_a_literal_value() {
        let holds = |text: &str| holds_secret(&Document::parse(text));
        assert!(holds("//r/:_authToken=abc\n"));
        assert!(holds("[section]\n//r/:_password=abc\n"));
        assert!(holds("_auth=dXNlcjpwdw==\n"));
        assert!(!holds("//r/:_authToken=${NPM_TOKEN}\n"));
        assert!(!holds("//r/:_authToken=\nregistry=https://r/\n"));
        assert!(!holds("//r/:username=alice\n; _authToken=old\n"));
    }

    #[test]
    fn only_credential_fields_under_a_nerf_dart_have_a_target() {
        assert_eq!(credential_target("//r/npm/:_authToken"), Some("//r/npm/"));
        assert_eq!(credential_target("//r:8/:username"), Some("//r:8/"));
        assert_eq!(credential_target("//r/:certfile"), None);
        assert_eq!(credential_target("@s:registry"), None);
        assert_eq!(credential_target("_authToken"), None);
    }
}
