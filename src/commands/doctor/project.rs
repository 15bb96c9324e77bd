//! The package of the current folder, as `doctor` needs it: the `name` (and
//! so the scope) and `private` of the nearest `package.json`.

use std::path::Path;

use serde_json::Value;

/// What `package.json` says about publishing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Package {
    /// `name`, when it is a non-empty string.
    pub name: Option<String>,
    /// `"private": true`: npm refuses to publish it.
    pub private: bool,
}

/// Reads `<root>/package.json`: `None` when there is none; an error (one
/// line, naming the file) when it cannot be read or is not a JSON object.
pub(super) fn read(root: &Path) -> Result<Option<Package>, String> {
    let path = root.join("package.json");
    let text = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(format!("could not read {}: {err}", path.display())),
    };
    let manifest: Value = serde_json::from_slice(&text)
        .map_err(|err| format!("{} is not JSON ({err})", path.display()))?;
    let Some(object) = manifest.as_object() else {
        return Err(format!("{} is not a JSON object", path.display()));
    };
    Ok(Some(Package {
        name: object
            .get("name")
            .and_then(Value::as_str)
            .filter(|name| !name.trim().is_empty())
            .map(str::to_string),
        private: object.get("private").and_then(Value::as_bool) == Some(true),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(text: &str) -> Result<Option<Package>, String> {
        let dir = tempfile::tempdir().expect("temp");
        std::fs::write(dir.path().join("package.json"), text).expect("write");
        read(dir.path())
    }

    #[test]
    fn names_scopes_and_private() {
        assert_eq!(
            with(r#"{"name": "@acme/tool", "private": true}"#),
            Ok(Some(Package {
                name: Some("@acme/tool".into()),
                private: true
            }))
        );
        assert_eq!(
            with(r#"{"version": "1.0.0", "private": "yes"}"#),
            Ok(Some(Package {
                name: None,
                private: false
            }))
        );
        assert_eq!(
            with(r#"{"name": 5}"#).expect("ok").expect("some").name,
            None
        );
    }

    #[test]
    fn broken_manifests_are_one_line_errors() {
        let err = with("{ not json").expect_err("broken");
        assert!(err.contains("package.json is not JSON"), "{err}");
        assert!(!err.contains('\n'));
        assert!(
            with("[1, 2]")
                .expect_err("array")
                .contains("not a JSON object")
        );
        let none = tempfile::tempdir().expect("temp");
        assert_eq!(read(none.path()), Ok(None));
    }
}
