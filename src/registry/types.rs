//! The token objects the registry's token API sends, read tolerantly: npmjs's
//! classic and granular shapes and Verdaccio's all work.

use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// One token as the registry listed it. The object is kept as the text the
/// registry sent (so `--json` can reprint every field without building a
/// map for each of thousands of tokens), with the fields rtok reads parsed
/// once, under both the classic and the current names.
#[derive(Debug, Clone)]
pub struct TokenRecord {
    raw: Box<RawValue>,
    info: Info,
    id: Option<String>,
}

/// The fields rtok reads. A field of an unexpected type counts as absent
/// rather than failing the whole list.
#[derive(Debug, Clone, Default, Deserialize)]
struct Info {
    #[serde(default, deserialize_with = "lenient")]
    key: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    token: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    name: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    description: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    created: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    readonly: Option<bool>,
    #[serde(default, deserialize_with = "lenient")]
    cidr_whitelist: Option<Vec<String>>,
    #[serde(default, deserialize_with = "lenient")]
    cidr: Option<Vec<String>>,
    #[serde(default, deserialize_with = "lenient")]
    expiry: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    expires: Option<String>,
    /// `Some(None)`: sent as `null` (npmjs: never used); `None`: not sent.
    #[serde(default, deserialize_with = "present")]
    accessed: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    last_used: Option<Option<String>>,
    /// The registry sent its own `id`: rtok's short id must then replace it
    /// rather than be added beside it.
    #[serde(rename = "id", default, deserialize_with = "flag")]
    has_id: bool,
}

/// A string, or `None` when the field holds anything else.
fn lenient<'de, D: Deserializer<'de>, T: Lenient>(d: D) -> Result<Option<T>, D::Error> {
    T::read(d)
}

/// Present (a string, or `null` and other types as `Some(None)`), else `None`.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Ok(Some(String::read(d)?))
}

/// `true` when the field is there at all.
fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    serde::de::IgnoredAny::deserialize(d).map(|_| true)
}

/// Reading a field of the expected type, or `None` for any other JSON,
/// without building a `Value` for it (thousands of tokens are read).
trait Lenient: Sized {
    const WANT: Want;
    fn from_got(got: Got) -> Option<Self>;

    fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Self>, D::Error> {
        Ok(Self::from_got(d.deserialize_any(Visit(Self::WANT))?))
    }
}

impl Lenient for String {
    const WANT: Want = Want::Scalar;
    fn from_got(got: Got) -> Option<Self> {
        match got {
            Got::Str(s) => Some(s),
            _ => None,
        }
    }
}

impl Lenient for bool {
    const WANT: Want = Want::Scalar;
    fn from_got(got: Got) -> Option<Self> {
        match got {
            Got::Bool(b) => Some(b),
            _ => None,
        }
    }
}

impl Lenient for Vec<String> {
    const WANT: Want = Want::StringList;
    fn from_got(got: Got) -> Option<Self> {
        match got {
            Got::List(list) => Some(list),
            _ => None,
        }
    }
}

/// What a field should hold.
#[derive(Clone, Copy)]
enum Want {
    Scalar,
    StringList,
}

/// What a field held, as far as rtok cares.
enum Got {
    Str(String),
    Bool(bool),
    List(Vec<String>),
    Other,
}

/// Reads any JSON value into `Got`, skipping what is not wanted.
struct Visit(Want);

impl<'de> serde::de::Visitor<'de> for Visit {
    type Value = Got;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_str<E>(self, v: &str) -> Result<Got, E> {
        Ok(Got::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Got, E> {
        Ok(Got::Str(v))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Got, E> {
        Ok(Got::Bool(v))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Got, E> {
        Ok(Got::Other)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Got, E> {
        Ok(Got::Other)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Got, E> {
        Ok(Got::Other)
    }
    fn visit_unit<E>(self) -> Result<Got, E> {
        Ok(Got::Other)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Got, A::Error> {
        let mut list = Vec::new();
        while let Some(Element(item)) = seq.next_element()? {
            if let (Want::StringList, Got::Str(s)) = (self.0, item) {
                list.push(s);
            }
        }
        Ok(match self.0 {
            Want::StringList => Got::List(list),
            Want::Scalar => Got::Other,
        })
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Got, A::Error> {
        while map
            .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
            .is_some()
        {}
        Ok(Got::Other)
    }
}

/// One element of a list, read as a scalar.
struct Element(Got);

impl<'de> Deserialize<'de> for Element {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Visit(Want::Scalar)).map(Element)
    }
}

impl TokenRecord {
    /// Reads one listed object; `None` unless it is an object with a string
    /// `key`, without which a token cannot be identified or revoked.
    pub fn from_raw(raw: &RawValue) -> Option<TokenRecord> {
        if !raw.get().trim_start().starts_with('{') {
            return None;
        }
        let info: Info = serde_json::from_str(raw.get()).ok()?;
        info.key.as_ref()?;
        Some(TokenRecord {
            raw: raw.to_owned(),
            info,
            id: None,
        })
    }

    /// Wraps an object built in memory (tests, and callers holding a `Value`).
    pub fn from_value(value: Value) -> Option<TokenRecord> {
        let raw = RawValue::from_string(value.to_string()).ok()?;
        TokenRecord::from_raw(&raw)
    }

    /// The token's id on the registry (a hex hash or a UUID).
    pub fn key(&self) -> &str {
        self.info.key.as_deref().unwrap_or_default()
    }

    /// The token as the registry shows it in a list: masked
    /// (`npm_aBcD...7890`, `abcde...vwxyz`) or truncated (`a1b2c3`).
    pub fn mask(&self) -> &str {
        self.info.token.as_deref().unwrap_or_default()
    }

    pub fn name(&self) -> Option<&str> {
        non_empty(&self.info.name)
    }

    pub fn description(&self) -> Option<&str> {
        non_empty(&self.info.description)
    }

    pub fn created(&self) -> Option<&str> {
        non_empty(&self.info.created)
    }

    pub fn readonly(&self) -> bool {
        self.info.readonly.unwrap_or(false)
    }

    /// `cidr_whitelist` (classic) or `cidr` (current npmjs, Verdaccio).
    pub fn cidr(&self) -> Vec<&str> {
        self.info
            .cidr_whitelist
            .as_ref()
            .or(self.info.cidr.as_ref())
            .map(|list| list.iter().map(String::as_str).collect())
            .unwrap_or_default()
    }

    /// `expires` (classic) or `expiry` (current npmjs).
    pub fn expiry(&self) -> Option<&str> {
        non_empty(&self.info.expiry).or_else(|| non_empty(&self.info.expires))
    }

    /// When the token was last used (`accessed` on npmjs).
    pub fn last_used(&self) -> Option<&str> {
        let accessed = self.info.accessed.as_ref().and_then(Option::as_deref);
        let last_used = self.info.last_used.as_ref().and_then(Option::as_deref);
        accessed.or(last_used).filter(|s| !s.is_empty())
    }

    /// Whether the registry reports last use at all (npmjs sends `accessed`,
    /// `null` for a token never used; Verdaccio sends nothing).
    pub fn reports_last_use(&self) -> bool {
        self.info.accessed.is_some() || self.info.last_used.is_some()
    }

    /// Reported as never used (`accessed: null`).
    pub fn never_used(&self) -> bool {
        self.reports_last_use() && self.last_used().is_none()
    }

    /// Granular permissions, `name:action` each (`package:read`).
    pub fn permissions(&self) -> Vec<String> {
        pairs(&self.objects("permissions"), "name", "action")
    }

    /// Granular scopes, `type:name` each (`org:acme`).
    pub fn scopes(&self) -> Vec<String> {
        pairs(&self.objects("scopes"), "type", "name")
    }

    /// The raw granular entries (`scopes` or `permissions`) as objects, read
    /// from the text on demand (only `token rotate` needs them).
    pub fn objects(&self, list: &str) -> Vec<Map<String, Value>> {
        let value: Value = serde_json::from_str(self.raw.get()).unwrap_or_default();
        value
            .get(list)
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i.as_object().cloned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The short id, as `token list` shows it (set by `ids::assign`).
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    pub fn set_id(&mut self, id: &str) {
        self.id = Some(id.to_string());
    }

    /// The object as the registry sent it, plus `id` when one was assigned.
    pub fn to_value(&self) -> Value {
        let mut value: Value = serde_json::from_str(self.raw.get()).unwrap_or_default();
        if let (Some(id), Some(object)) = (&self.id, value.as_object_mut()) {
            object.insert("id".into(), Value::String(id.clone()));
        }
        value
    }

    /// Appends the object, pretty-printed at nesting `level`, with `id` as
    /// its last member: what `to_value` would print, without building it.
    pub fn write_pretty(&self, level: usize, out: &mut String) {
        if self.info.has_id {
            // Rare: let the map replace the registry's own `id`.
            let text = serde_json::to_string(&self.to_value()).unwrap_or_default();
            crate::json::write_pretty(&text, level, None, out);
            return;
        }
        let id = self
            .id
            .as_ref()
            .map(|id| Value::String(id.clone()).to_string());
        let extra = id.as_deref().map(|id| ("\"id\"", id));
        crate::json::write_pretty(self.raw.get(), level, extra, out);
    }
}

/// A list of tokens as `--json` prints it: an array, two-space indents.
pub fn write_pretty_list(tokens: &[TokenRecord]) -> String {
    if tokens.is_empty() {
        return "[]".to_string();
    }
    // Pretty-printing adds indentation: room for half as much again.
    let mut out =
        String::with_capacity(tokens.iter().map(|t| t.raw.get().len() * 3 / 2 + 64).sum());
    out.push('[');
    for (index, token) in tokens.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        out.push_str("\n  ");
        token.write_pretty(1, &mut out);
    }
    out.push_str("\n]");
    out
}

fn non_empty(field: &Option<String>) -> Option<&str> {
    field.as_deref().filter(|s| !s.is_empty())
}

fn pairs(items: &[Map<String, Value>], first: &str, second: &str) -> Vec<String> {
    items
        .iter()
        .map(|item| {
            let a = item.get(first).and_then(Value::as_str).unwrap_or_default();
            let b = item.get(second).and_then(Value::as_str).unwrap_or_default();
            format!("{a}:{b}")
        })
        .collect()
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
        assert_eq!(current.permissions(), vec!["package:read"]);
        assert_eq!(current.scopes(), vec!["org:acme"]);
        assert!(!current.readonly());

        let never = TokenRecord::from_value(json!({"key": "k", "accessed": null})).expect("record");
        assert!(never.reports_last_use() && never.never_used());
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
    fn the_pretty_list_is_what_serde_would_print() {
        let mut tokens: Vec<TokenRecord> = [
            json!({"user": "bob", "token": "NDRhZ...zNzA5", "key": "281f", "cidr": ["10.0.0.0/8"], "readonly": true, "created": "2026-11-29T08:26:51.005Z"}),
            json!({"key": "9e0c", "token": "x", "id": "registry-own-id", "scopes": []}),
        ]
        .into_iter()
        .map(|v| TokenRecord::from_value(v).expect("record"))
        .collect();
        tokens[0].set_id("281f58");
        tokens[1].set_id("9e0c00");
        let expected: Vec<Value> = tokens.iter().map(TokenRecord::to_value).collect();
        assert_eq!(
            write_pretty_list(&tokens),
            serde_json::to_string_pretty(&expected).expect("pretty")
        );
        assert_eq!(expected[1]["id"], "9e0c00");
        assert_eq!(write_pretty_list(&[]), "[]");
    }
}
