//! What the token API sends and takes: listed tokens (read tolerantly:
//! npmjs's classic and granular shapes and Verdaccio's all work), the
//! request to create one, and the created token.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::Permission;
use crate::secret::Secret;

/// One token as the registry listed it: every field it sent, in order (so
/// `--json` reprints them all, as npm does), plus rtok's short `id` once
/// assigned. The getters read the fields rtok understands under both their
/// classic and current names; a field of an unexpected type reads as absent
/// rather than failing the whole list.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(transparent)]
pub(crate) struct TokenRecord {
    fields: Map<String, Value>,
}

impl TokenRecord {
    /// A listed object; `None` unless it has a string `key`, without which a
    /// token cannot be identified or revoked.
    pub(crate) fn from_fields(fields: Map<String, Value>) -> Option<TokenRecord> {
        fields.get("key")?.as_str()?;
        Some(TokenRecord { fields })
    }

    /// For tests: a record from a JSON value.
    #[cfg(test)]
    pub(crate) fn from_value(value: Value) -> Option<TokenRecord> {
        match value {
            Value::Object(fields) => TokenRecord::from_fields(fields),
            _ => None,
        }
    }

    fn text(&self, field: &str) -> Option<&str> {
        self.fields
            .get(field)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    fn list(&self, field: &str) -> Option<Vec<&str>> {
        let items = self.fields.get(field)?.as_array()?;
        Some(items.iter().filter_map(Value::as_str).collect())
    }

    /// The token's id on the registry (a hex hash or a UUID).
    pub(crate) fn key(&self) -> &str {
        self.fields
            .get("key")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// The token as the registry shows it in a list: masked
    /// (`npm_aBcD...7890`, `abcde...vwxyz`) or truncated (`a1b2c3`).
    pub(crate) fn mask(&self) -> &str {
        self.text("token").unwrap_or_default()
    }

    pub(crate) fn name(&self) -> Option<&str> {
        self.text("name")
    }

    pub(crate) fn description(&self) -> Option<&str> {
        self.text("description")
    }

    pub(crate) fn created(&self) -> Option<&str> {
        self.text("created")
    }

    pub(crate) fn readonly(&self) -> bool {
        self.fields
            .get("readonly")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// `cidr_whitelist` (classic) or `cidr` (current npmjs, Verdaccio).
    pub(crate) fn cidr(&self) -> Vec<&str> {
        self.list("cidr_whitelist")
            .or_else(|| self.list("cidr"))
            .unwrap_or_default()
    }

    /// `expiry` (current npmjs) or `expires` (classic).
    pub(crate) fn expiry(&self) -> Option<&str> {
        self.text("expiry").or_else(|| self.text("expires"))
    }

    /// When the token was last used (`accessed` on npmjs).
    pub(crate) fn last_used(&self) -> Option<&str> {
        self.text("accessed").or_else(|| self.text("last_used"))
    }

    /// Whether the registry reports last use at all (npmjs sends `accessed`,
    /// `null` for a token never used; Verdaccio sends nothing).
    pub(crate) fn reports_last_use(&self) -> bool {
        self.fields.contains_key("accessed") || self.fields.contains_key("last_used")
    }

    /// Reported as never used (`accessed: null`).
    pub(crate) fn never_used(&self) -> bool {
        self.reports_last_use() && self.last_used().is_none()
    }

    /// The granular entries of `list` (`scopes` or `permissions`) as
    /// `(first, second)` string pairs of the given fields.
    pub(crate) fn pairs(&self, list: &str, first: &str, second: &str) -> Vec<(&str, &str)> {
        let Some(items) = self.fields.get(list).and_then(Value::as_array) else {
            return Vec::new();
        };
        items
            .iter()
            .filter_map(Value::as_object)
            .map(|item| {
                let get = |f: &str| item.get(f).and_then(Value::as_str).unwrap_or_default();
                (get(first), get(second))
            })
            .collect()
    }

    /// Granular scopes: `(type, name)` each (`("org", "acme")`).
    pub(crate) fn scopes(&self) -> Vec<(&str, &str)> {
        self.pairs("scopes", "type", "name")
    }

    /// Granular permissions: `(name, action)` each (`("package", "write")`).
    pub(crate) fn permissions(&self) -> Vec<(&str, &str)> {
        self.pairs("permissions", "name", "action")
    }

    /// `bypass_2fa: true`: the token skips two-factor authentication.
    pub(crate) fn bypass_2fa(&self) -> bool {
        self.fields
            .get("bypass_2fa")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// `publish_policy` as npmjs lists it (`stage_only`, or absent for a
    /// token that publishes directly).
    pub(crate) fn publish_policy(&self) -> Option<&str> {
        self.text("publish_policy")
    }

    /// Whether the entry has a `publish_policy` field at all (even `null`):
    /// the registry speaks of publish policies.
    pub(crate) fn lists_publish_policy(&self) -> bool {
        self.fields.contains_key("publish_policy")
    }

    /// A stage-only token: it can stage a publish, never publish directly
    /// (`publish_policy: stage_only`; `stage-only` tolerated).
    pub(crate) fn stage_only(&self) -> bool {
        self.publish_policy().is_some_and(|p| {
            p.eq_ignore_ascii_case("stage_only") || p.eq_ignore_ascii_case("stage-only")
        })
    }

    /// Whether the registry lists the token as revoked (`revoked` set to a
    /// date or `true`; npmjs sends `null` for a live token).
    pub(crate) fn revoked(&self) -> bool {
        match self.fields.get("revoked") {
            None | Some(Value::Null) | Some(Value::Bool(false)) => false,
            Some(Value::String(text)) => !text.is_empty(),
            Some(_) => true,
        }
    }

    /// Whether the entry has a `scopes` list at all (a granular token; a
    /// classic token has none and covers every package).
    pub(crate) fn has_scopes(&self) -> bool {
        self.fields.get("scopes").is_some_and(Value::is_array)
    }

    /// npmjs's current shape: the entry has `expiry` or `permissions`
    /// (Verdaccio's and classic entries have neither).
    pub(crate) fn npmjs_shaped(&self) -> bool {
        self.fields.contains_key("expiry") || self.fields.contains_key("permissions")
    }

    /// The short id, as `token list` shows it (set by `tokens::assign_ids`).
    pub(crate) fn id(&self) -> Option<&str> {
        self.fields.get("id").and_then(Value::as_str)
    }

    /// Sets the short id; it replaces any `id` the registry sent, so `--json`
    /// shows the one the other commands accept.
    pub(crate) fn set_id(&mut self, id: &str) {
        self.fields
            .insert("id".into(), Value::String(id.to_string()));
    }
}

/// What to create: npm 11's body fields for `POST /-/npm/v1/tokens`, plus
/// `readonly` (which npm 11.19 drops) and the classic `cidr_whitelist` name
/// that Verdaccio and npmjs read.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct NewToken {
    pub name: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::secret::serialize_exposed_option"
    )]
    pub password: Option<Secret>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<String>,
    #[serde(skip_serializing_if = "is_false")]
    pub packages_all: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub orgs: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packages_and_scopes_permission: Option<Permission>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub orgs_permission: Option<Permission>,
    /// Days until it expires (npm sends an integer).
    #[serde(rename = "expires", skip_serializing_if = "Option::is_none")]
    pub expires_days: Option<u32>,
    #[serde(rename = "cidr_whitelist", skip_serializing_if = "Vec::is_empty")]
    pub cidr: Vec<String>,
    #[serde(skip_serializing_if = "is_false")]
    pub bypass_2fa: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub readonly: bool,
}

fn is_false(value: &bool) -> bool {
    !value
}

/// The created token: the secret itself (shown once), its key, and whatever
/// else the registry said about it.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct CreatedToken {
    #[serde(serialize_with = "crate::secret::serialize_exposed")]
    pub token: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

impl CreatedToken {
    pub(crate) fn readonly(&self) -> bool {
        self.rest
            .get("readonly")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// `cidr_whitelist` or `cidr`.
    pub(crate) fn cidr(&self) -> Vec<&str> {
        ["cidr_whitelist", "cidr"]
            .iter()
            .find_map(|f| self.rest.get(*f).and_then(Value::as_array))
            .map(|list| list.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }

    /// `publish_policy: stage_only` in the registry's answer.
    pub(crate) fn stage_only(&self) -> bool {
        self.rest
            .get("publish_policy")
            .and_then(Value::as_str)
            .is_some_and(|p| {
                p.eq_ignore_ascii_case("stage_only") || p.eq_ignore_ascii_case("stage-only")
            })
    }

    /// `expiry` or `expires`.
    pub(crate) fn expiry(&self) -> Option<&str> {
        ["expiry", "expires"]
            .iter()
            .find_map(|f| self.rest.get(*f).and_then(Value::as_str))
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
        assert!(!classic.reports_last_use());

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
        assert_eq!(current.permissions(), vec![("package", "read")]);
        assert_eq!(current.scopes(), vec![("org", "acme")]);
        assert!(!current.readonly());

        let never = TokenRecord::from_value(json!({"key": "k", "accessed": null})).expect("record");
        assert!(never.reports_last_use() && never.never_used());
    }

    #[test]
    fn granular_fields_and_the_npmjs_shape() {
        let granular = TokenRecord::from_value(json!({
            "key": "g", "expiry": null, "bypass_2fa": true, "revoked": null,
            "scopes": [{"type": "package", "name": "*"}]
        }))
        .expect("record");
        assert!(granular.bypass_2fa() && !granular.revoked());
        assert!(!granular.stage_only());
        let staged = TokenRecord::from_value(json!({"key": "s", "publish_policy": "stage_only"}))
            .expect("record");
        assert!(staged.stage_only() && staged.publish_policy() == Some("stage_only"));
        assert!(granular.has_scopes() && granular.npmjs_shaped());
        let classic = TokenRecord::from_value(json!({
            "key": "c", "token": "abcde...vwxyz", "readonly": false, "revoked": "2026-01-01"
        }))
        .expect("record");
        assert!(!classic.bypass_2fa() && classic.revoked());
        assert!(!classic.has_scopes() && !classic.npmjs_shaped());
        let odd = TokenRecord::from_value(json!({"key": "o", "scopes": "all", "revoked": false}))
            .expect("record");
        assert!(!odd.has_scopes() && !odd.revoked());
    }

    #[test]
    fn odd_field_types_count_as_absent() {
        let odd = TokenRecord::from_value(json!({
            "key": "k", "token": 5, "readonly": "yes", "cidr": null, "created": {"at": 1}, "name": ["x"]
        }))
        .expect("record");
        assert_eq!(odd.mask(), "");
        assert!(!odd.readonly());
        assert!(odd.cidr().is_empty());
        assert_eq!(odd.created(), None);
        assert_eq!(odd.name(), None);
    }

    #[test]
    fn objects_without_a_key_are_refused() {
        assert!(TokenRecord::from_value(json!({"token": "x"})).is_none());
        assert!(TokenRecord::from_value(json!({"key": 5})).is_none());
        assert!(TokenRecord::from_value(json!("key")).is_none());
        assert!(TokenRecord::from_value(json!(["key"])).is_none());
    }

    #[test]
    fn json_keeps_every_field_in_order_with_the_short_id() {
        let mut token = TokenRecord::from_value(
            json!({"key": "9e0c", "token": "x", "id": "registry-own-id", "scopes": []}),
        )
        .expect("record");
        token.set_id("9e0c00");
        assert_eq!(
            serde_json::to_string(&token).expect("json"),
            r#"{"key":"9e0c","token":"x","id":"9e0c00","scopes":[]}"#
        );
    }

    #[test]
    fn create_body_matches_npm_and_keeps_readonly() {
        let new = NewToken {
            password: Some(Secret::new("pw")),
            readonly: true,
            cidr: vec!["10.0.0.0/8".into()],
            expires_days: Some(30),
            packages_and_scopes_permission: Some(Permission::ReadWrite),
            ..NewToken::default()
        };
        assert_eq!(
            serde_json::to_value(&new).expect("json"),
            json!({"name": null, "password": "pw", "expires": 30, "cidr_whitelist": ["10.0.0.0/8"],
                   "readonly": true, "packages_and_scopes_permission": "read-write"})
        );
    }

    #[test]
    fn created_tokens_keep_every_field() {
        let created: CreatedToken = serde_json::from_value(
            json!({"token": "npm_new", "key": "k1", "readonly": true, "cidr": ["1.2.3.4/32"], "expiry": "2027-01-01"}),
        )
        .expect("created");
        assert_eq!(created.token.expose(), "npm_new");
        assert!(created.readonly());
        assert_eq!(created.cidr(), vec!["1.2.3.4/32"]);
        assert_eq!(created.expiry(), Some("2027-01-01"));
        let back = serde_json::to_value(&created).expect("json");
        assert_eq!(back["token"], "npm_new");
        assert_eq!(back["readonly"], true);
    }
}
