//! The JSON objects the registry's token API sends, read tolerantly: npmjs's
//! classic and granular shapes and Verdaccio's all work.

use serde_json::{Map, Value};

/// One token as the registry listed it. Every field the registry sent is
/// kept (for `--json`); the accessors read both the classic and the current
/// field names.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRecord {
    fields: Map<String, Value>,
}

impl TokenRecord {
    /// Wraps a listed object; `None` when it has no string `key`, without
    /// which it cannot be identified or revoked.
    pub fn from_value(value: Value) -> Option<TokenRecord> {
        match value {
            Value::Object(fields) if fields.get("key").is_some_and(Value::is_string) => {
                Some(TokenRecord { fields })
            }
            _ => None,
        }
    }

    /// The token's id on the registry (a hex hash or a UUID).
    pub fn key(&self) -> &str {
        self.fields
            .get("key")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// The token as the registry shows it in a list: masked
    /// (`npm_aBcD...7890`, `abcde...vwxyz`) or truncated (`a1b2c3`).
    pub fn mask(&self) -> &str {
        self.str("token").unwrap_or_default()
    }

    pub fn name(&self) -> Option<&str> {
        self.str("name")
    }

    pub fn description(&self) -> Option<&str> {
        self.str("description")
    }

    pub fn created(&self) -> Option<&str> {
        self.str("created")
    }

    pub fn readonly(&self) -> bool {
        self.fields
            .get("readonly")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// `cidr_whitelist` (classic) or `cidr` (current npmjs, Verdaccio).
    pub fn cidr(&self) -> Vec<&str> {
        ["cidr_whitelist", "cidr"]
            .iter()
            .find_map(|name| self.fields.get(*name).and_then(Value::as_array))
            .map(|list| list.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }

    /// `expires` (classic) or `expiry` (current npmjs).
    pub fn expiry(&self) -> Option<&str> {
        self.str("expiry").or_else(|| self.str("expires"))
    }

    /// When the token was last used (`accessed` on npmjs).
    pub fn last_used(&self) -> Option<&str> {
        self.str("accessed").or_else(|| self.str("last_used"))
    }

    /// Whether the registry reports last use at all (npmjs sends `accessed`,
    /// `null` for a token never used; Verdaccio sends nothing).
    pub fn reports_last_use(&self) -> bool {
        self.fields.contains_key("accessed") || self.fields.contains_key("last_used")
    }

    /// Granular permissions, `name:action` each (`package:read`).
    pub fn permissions(&self) -> Vec<String> {
        self.pairs("permissions", "name", "action")
    }

    /// Granular scopes, `type:name` each (`org:acme`).
    pub fn scopes(&self) -> Vec<String> {
        self.pairs("scopes", "type", "name")
    }

    /// The short id, as `token list` shows it (set by `ids::assign`).
    pub fn id(&self) -> Option<&str> {
        self.str("id")
    }

    pub fn set_id(&mut self, id: &str) {
        self.fields
            .insert("id".into(), Value::String(id.to_string()));
    }

    /// The raw granular entries (`scopes` or `permissions`) as objects.
    pub fn objects(&self, list: &str) -> Vec<&Map<String, Value>> {
        self.fields
            .get(list)
            .and_then(Value::as_array)
            .map(|items| items.iter().filter_map(Value::as_object).collect())
            .unwrap_or_default()
    }

    pub fn fields(&self) -> &Map<String, Value> {
        &self.fields
    }

    pub fn into_value(self) -> Value {
        Value::Object(self.fields)
    }

    fn str(&self, name: &str) -> Option<&str> {
        self.fields
            .get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    fn pairs(&self, list: &str, first: &str, second: &str) -> Vec<String> {
        let Some(items) = self.fields.get(list).and_then(Value::as_array) else {
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|item| match item {
                Value::String(s) => Some(s.clone()),
                Value::Object(o) => {
                    let a = o.get(first).and_then(Value::as_str).unwrap_or_default();
                    let b = o.get(second).and_then(Value::as_str).unwrap_or_default();
                    Some(format!("{a}:{b}"))
                }
                _ => None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn classic_and_current_field_names() {
        let classic = TokenRecord::from_value(json!({
            "key": "a1b2", "token": "a1b2c3", "cidr_whitelist": ["10.0.0.0/8"],
            "readonly": true, "created": "2024-01-02T00:00:00Z", "expires": "2025-01-01"
        }))
        .expect("record");
        assert_eq!(classic.cidr(), vec!["10.0.0.0/8"]);
        assert!(classic.readonly());
        assert_eq!(classic.expiry(), Some("2025-01-01"));

        let current = TokenRecord::from_value(json!({
            "key": "uuid", "token": "npm_aBcD...7890", "cidr": ["1.2.3.4/32"], "name": "ci",
            "expiry": "2026-01-01T00:00:00Z", "accessed": "2025-12-01T00:00:00Z",
            "permissions": [{"name": "package", "action": "read"}],
            "scopes": [{"type": "org", "name": "acme"}]
        }))
        .expect("record");
        assert_eq!(current.cidr(), vec!["1.2.3.4/32"]);
        assert_eq!(current.name(), Some("ci"));
        assert_eq!(current.last_used(), Some("2025-12-01T00:00:00Z"));
        assert_eq!(current.permissions(), vec!["package:read"]);
        assert_eq!(current.scopes(), vec!["org:acme"]);
        assert!(!current.readonly());
    }

    #[test]
    fn objects_without_a_key_are_refused() {
        assert!(TokenRecord::from_value(json!({"token": "x"})).is_none());
        assert!(TokenRecord::from_value(json!({"key": 5})).is_none());
        assert!(TokenRecord::from_value(json!("key")).is_none());
    }
}
