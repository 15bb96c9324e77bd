//! `npm stage`'s endpoints (npm 11.19.1 `lib/commands/stage/*.js`): the
//! queue of staged versions waiting for a human's approval, and what the
//! registry lists about each one.

use reqwest::Method;
use serde::Serialize;
use serde_json::{Map, Value};

use super::error::{self, Endpoint, Problem};
use super::transport::Call;
use super::{MAX_PAGES, Registry, RegistryError};
use crate::display::encode_component;
use crate::secret::Secret;

/// npm asks for pages of this size (`perPage=100`).
pub(crate) const PER_PAGE: usize = 100;

/// One staged version as the registry lists it: every field it sent, in
/// order (so `--json` reprints them all, as `npm stage list --json` does),
/// read through getters that tolerate odd types.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub(crate) struct StageItem {
    fields: Map<String, Value>,
}

impl StageItem {
    /// A listed object; `None` unless its `id` is a UUID (without one the
    /// item cannot be approved, rejected or viewed).
    pub(crate) fn from_value(value: Value) -> Option<StageItem> {
        match value {
            Value::Object(fields)
                if fields
                    .get("id")
                    .and_then(Value::as_str)
                    .is_some_and(is_stage_id) =>
            {
                Some(StageItem { fields })
            }
            _ => None,
        }
    }

    pub(crate) fn text(&self, field: &str) -> Option<&str> {
        self.fields
            .get(field)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    pub(crate) fn id(&self) -> &str {
        self.text("id").unwrap_or_default()
    }

    pub(crate) fn package(&self) -> &str {
        self.text("packageName").unwrap_or_default()
    }

    pub(crate) fn version(&self) -> &str {
        self.text("version").unwrap_or_default()
    }

    pub(crate) fn tag(&self) -> Option<&str> {
        self.text("tag")
    }

    pub(crate) fn created(&self) -> Option<&str> {
        self.text("createdAt")
    }

    /// `octocat (user)`: who staged it.
    pub(crate) fn staged_by(&self) -> Option<String> {
        let actor = self.text("actor")?;
        Some(match self.text("actorType") {
            Some(kind) => format!("{actor} ({kind})"),
            None => actor.to_string(),
        })
    }

    pub(crate) fn shasum(&self) -> Option<&str> {
        self.text("shasum")
    }

    /// Every field, for `view` (the ones above and any the registry adds,
    /// such as npm 12's `status`).
    pub(crate) fn fields(&self) -> &Map<String, Value> {
        &self.fields
    }

    /// `name minus @, / → -`-`version`-`id`.tgz: the file name
    /// `npm stage download` writes.
    pub(crate) fn tarball_name(&self) -> String {
        let name = self.package().trim_start_matches('@').replace('/', "-");
        format!("{name}-{}-{}.tgz", self.version(), self.id())
    }
}

/// npm's `validate-uuid`: `8-4-4-4-12` hex digits, any case.
pub(crate) fn is_stage_id(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.chars().all(|c| c.is_ascii_hexdigit()))
}

impl Registry {
    /// `GET /-/stage?page=N&perPage=100[&package=NAME]`, page after page
    /// until `total` items came or a page is short (as npm reads it).
    pub(crate) async fn list_stage(
        &self,
        package: Option<&str>,
    ) -> Result<Vec<StageItem>, RegistryError> {
        let mut items = Vec::new();
        for page in 0..MAX_PAGES {
            let mut url = self.http.url("/-/stage");
            let mut query = format!("page={page}&perPage={PER_PAGE}");
            if let Some(package) = package {
                query.push_str(&format!("&package={}", encode_component(package)));
            }
            url.set_query(Some(&query));
            let reply = self
                .http
                .send(Call::new(Method::GET, url, Endpoint::Stage))
                .await?;
            let value = reply.json()?;
            let Some(listed) = value.get("items").and_then(Value::as_array) else {
                return Err(reply.invalid(format!(
                    "{} but the reply has no `items` list",
                    error::status_text(reply.status)
                )));
            };
            let count = listed.len();
            for item in listed {
                items.push(
                    StageItem::from_value(item.clone())
                        .ok_or_else(|| reply.invalid("a staged item has no UUID `id`"))?,
                );
            }
            let total = value
                .get("total")
                .and_then(Value::as_u64)
                .map_or(usize::MAX, |t| usize::try_from(t).unwrap_or(usize::MAX));
            if count == 0 || count < PER_PAGE || items.len() >= total {
                return Ok(items);
            }
        }
        let url = self.http.url("/-/stage");
        Err(RegistryError::failed(
            self.http.request("GET", &url, Endpoint::Stage),
            Problem::TooManyPages { limit: MAX_PAGES },
        ))
    }

    /// `GET /-/stage/<id>`.
    pub(crate) async fn view_stage(&self, id: &str) -> Result<StageItem, RegistryError> {
        let url = self.http.url(&format!("/-/stage/{}", encode_component(id)));
        let reply = self
            .http
            .send(Call::new(Method::GET, url, Endpoint::Stage))
            .await?;
        let value = reply.json()?;
        StageItem::from_value(value)
            .ok_or_else(|| reply.invalid("the staged item has no UUID `id`"))
    }

    /// `POST /-/stage/<id>/approve` (no body): publishes the staged version.
    pub(crate) async fn approve_stage(
        &self,
        id: &str,
        otp: Option<&Secret>,
    ) -> Result<(), RegistryError> {
        let path = format!("/-/stage/{}/approve", encode_component(id));
        let mut call = Call::new(Method::POST, self.http.url(&path), Endpoint::Stage);
        call.otp = otp;
        self.http.send(call).await.map(|_| ())
    }

    /// `DELETE /-/stage/<id>`: drops the staged version and its tarball.
    pub(crate) async fn reject_stage(
        &self,
        id: &str,
        otp: Option<&Secret>,
    ) -> Result<(), RegistryError> {
        let path = format!("/-/stage/{}", encode_component(id));
        let mut call = Call::new(Method::DELETE, self.http.url(&path), Endpoint::Stage);
        call.otp = otp;
        self.http.send(call).await.map(|_| ())
    }

    /// `GET /-/stage/<id>/tarball`: the staged tarball's bytes.
    pub(crate) async fn download_stage(&self, id: &str) -> Result<Vec<u8>, RegistryError> {
        let path = format!("/-/stage/{}/tarball", encode_component(id));
        let reply = self
            .http
            .send(Call::new(
                Method::GET,
                self.http.url(&path),
                Endpoint::Stage,
            ))
            .await?;
        Ok(reply.body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn stage_ids_are_uuids_as_npm_checks_them() {
        assert!(is_stage_id("0a1b2c3d-4e5f-6789-abcd-ef0123456789"));
        assert!(is_stage_id("0A1B2C3D-4E5F-6789-ABCD-EF0123456789"));
        assert!(!is_stage_id("0a1b2c3d-4e5f-6789-abcd-ef012345678"));
        assert!(!is_stage_id("0a1b2c3d4e5f6789abcdef0123456789"));
        assert!(!is_stage_id("../../-/npm/v1/tokens"));
        assert!(!is_stage_id("0a1b2c3d-4e5f-6789-abcd-ef012345678g"));
        assert!(!is_stage_id(""));
    }

    #[test]
    fn items_read_as_npm_lists_them() {
        let item = StageItem::from_value(json!({
            "id": "0a1b2c3d-4e5f-6789-abcd-ef0123456789", "packageName": "@acme/cli",
            "version": "1.2.3", "tag": "latest", "createdAt": "2026-03-16T09:00:00.000Z",
            "actor": "octocat", "actorType": "user", "shasum": "abc", "status": "pending"
        }))
        .expect("item");
        assert_eq!(item.package(), "@acme/cli");
        assert_eq!(item.staged_by().as_deref(), Some("octocat (user)"));
        assert_eq!(
            item.tarball_name(),
            "acme-cli-1.2.3-0a1b2c3d-4e5f-6789-abcd-ef0123456789.tgz"
        );
        assert!(StageItem::from_value(json!({"id": "nope"})).is_none());
        assert!(StageItem::from_value(json!(["x"])).is_none());
    }
}
