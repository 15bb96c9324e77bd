//! `npm trust`'s endpoints (npm 11.19.1 `lib/commands/trust/*.js`): a
//! package's trusted-publishing configuration (one per package), listed,
//! created and revoked; and what a configuration allows.

use reqwest::Method;
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::error::{Endpoint, status_text};
use super::transport::Call;
use super::{Registry, RegistryError};
use crate::display::encode_component;
use crate::oidc::package::escape;
use crate::secret::Secret;

/// What a trusted publisher may do, as the registry names it in
/// `permissions` and as npm labels it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Allow {
    /// `createPackage`: `npm publish` (npm's `--allow-publish`).
    Publish,
    /// `createStagedPackage`: `npm stage publish` (`--allow-stage-publish`).
    StagePublish,
}

impl Allow {
    pub(crate) fn registry_name(self) -> &'static str {
        match self {
            Allow::Publish => "createPackage",
            Allow::StagePublish => "createStagedPackage",
        }
    }

    fn from_registry(name: &str) -> Option<Allow> {
        match name {
            "createPackage" => Some(Allow::Publish),
            "createStagedPackage" => Some(Allow::StagePublish),
            _ => None,
        }
    }

    /// `publish`, `stage-publish`: as rtok's flags and manifests take it.
    pub(crate) fn parse(text: &str) -> Option<Allow> {
        match text {
            "publish" => Some(Allow::Publish),
            "stage-publish" | "staged-publish" => Some(Allow::StagePublish),
            _ => None,
        }
    }

    /// `publish`, `stage publish`: npm's output labels.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Allow::Publish => "publish",
            Allow::StagePublish => "stage publish",
        }
    }
}

/// Where the trusted publisher runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub(crate) enum Provider {
    Github {
        repository: String,
        workflow: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        environment: Option<String>,
    },
    Gitlab {
        project: String,
        file: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        environment: Option<String>,
    },
}

impl Provider {
    /// A GitHub Actions publisher, checked as npm checks it before any
    /// request: `owner/repo` exactly, a bare `.yml`/`.yaml` file name.
    pub(crate) fn github(
        repository: &str,
        workflow: &str,
        environment: Option<&str>,
    ) -> Result<Provider, String> {
        let parts: Vec<&str> = repository.split('/').collect();
        if parts.len() != 2 || parts.iter().any(|p| p.trim().is_empty()) {
            return Err(format!(
                "`{repository}` is not a GitHub repository: give it as OWNER/REPO"
            ));
        }
        check_file(workflow)?;
        Ok(Provider::Github {
            repository: repository.to_string(),
            workflow: workflow.to_string(),
            environment: environment.filter(|e| !e.is_empty()).map(str::to_string),
        })
    }

    /// A GitLab CI/CD publisher: a project path of at least two segments,
    /// a bare `.yml`/`.yaml` file name.
    pub(crate) fn gitlab(
        project: &str,
        file: &str,
        environment: Option<&str>,
    ) -> Result<Provider, String> {
        let parts: Vec<&str> = project.split('/').collect();
        if parts.len() < 2 || parts.iter().any(|p| p.trim().is_empty()) {
            return Err(format!(
                "`{project}` is not a GitLab project: give it as GROUP/PROJECT"
            ));
        }
        check_file(file)?;
        Ok(Provider::Gitlab {
            project: project.to_string(),
            file: file.to_string(),
            environment: environment.filter(|e| !e.is_empty()).map(str::to_string),
        })
    }

    fn kind(&self) -> &'static str {
        match self {
            Provider::Github { .. } => "github",
            Provider::Gitlab { .. } => "gitlab",
        }
    }

    /// The `claims` object npm sends for this publisher.
    fn claims(&self) -> Value {
        let (mut claims, environment) = match self {
            Provider::Github {
                repository,
                workflow,
                environment,
            } => (
                json!({"repository": repository, "workflow_ref": {"file": workflow}}),
                environment,
            ),
            Provider::Gitlab {
                project,
                file,
                environment,
            } => (
                json!({"project_path": project, "ci_config_ref_uri": {"file": file}}),
                environment,
            ),
        };
        if let (Some(environment), Some(map)) = (environment, claims.as_object_mut()) {
            map.insert("environment".into(), json!(environment));
        }
        claims
    }
}

fn check_file(file: &str) -> Result<(), String> {
    let bare = !file.contains('/') && !file.contains('\\') && !file.is_empty();
    if bare && (file.ends_with(".yml") || file.ends_with(".yaml")) {
        Ok(())
    } else {
        Err(format!(
            "`{file}` is not a workflow file name: give the bare file name ending in .yml or .yaml (no folder)"
        ))
    }
}

/// The configuration rtok wants a package to have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Trust {
    pub provider: Provider,
    /// Sorted, no duplicates, at least one.
    pub allow: Vec<Allow>,
}

impl Trust {
    pub(crate) fn new(provider: Provider, mut allow: Vec<Allow>) -> Trust {
        allow.sort();
        allow.dedup();
        Trust { provider, allow }
    }

    /// The body of `POST /-/package/<name>/trust`, as npm sends it: an
    /// array of one configuration.
    pub(crate) fn body(&self) -> Value {
        json!([{
            "type": self.provider.kind(),
            "claims": self.provider.claims(),
            "permissions": self.allow.iter().map(|a| a.registry_name()).collect::<Vec<_>>(),
        }])
    }

    /// Whether `listed` is this configuration: same type, the same claims
    /// (environment included) and the same permissions.
    pub(crate) fn matches(&self, listed: &TrustConfig) -> bool {
        listed.kind() == Some(self.provider.kind())
            && listed.fields.get("claims") == Some(&self.provider.claims())
            && listed.allows() == self.allow
    }
}

/// A configuration as the registry lists it: every field it sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub(crate) struct TrustConfig {
    fields: Map<String, Value>,
}

impl TrustConfig {
    fn from_value(value: Value) -> Option<TrustConfig> {
        match value {
            Value::Object(fields) => Some(TrustConfig { fields }),
            _ => None,
        }
    }

    pub(crate) fn id(&self) -> Option<&str> {
        self.fields.get("id").and_then(Value::as_str)
    }

    pub(crate) fn kind(&self) -> Option<&str> {
        self.fields.get("type").and_then(Value::as_str)
    }

    fn claim(&self, path: &[&str]) -> Option<&str> {
        let mut value = self.fields.get("claims")?;
        for step in path {
            value = value.get(step)?;
        }
        value.as_str()
    }

    /// The repository (GitHub) or project (GitLab).
    pub(crate) fn source(&self) -> Option<&str> {
        self.claim(&["repository"])
            .or_else(|| self.claim(&["project_path"]))
    }

    /// The workflow (GitHub) or CI file (GitLab).
    pub(crate) fn file(&self) -> Option<&str> {
        self.claim(&["workflow_ref", "file"])
            .or_else(|| self.claim(&["ci_config_ref_uri", "file"]))
    }

    pub(crate) fn environment(&self) -> Option<&str> {
        self.claim(&["environment"])
    }

    /// What it allows, sorted. A configuration without `permissions` is
    /// from before 2026-05-20 and allows publish only.
    pub(crate) fn allows(&self) -> Vec<Allow> {
        let Some(list) = self.fields.get("permissions").and_then(Value::as_array) else {
            return vec![Allow::Publish];
        };
        let mut allows: Vec<Allow> = list
            .iter()
            .filter_map(Value::as_str)
            .filter_map(Allow::from_registry)
            .collect();
        allows.sort();
        allows.dedup();
        allows
    }

    /// `publish, stage publish`.
    pub(crate) fn allows_label(&self) -> String {
        let labels: Vec<&str> = self.allows().iter().map(|a| a.label()).collect();
        if labels.is_empty() {
            "nothing".into()
        } else {
            labels.join(", ")
        }
    }
}

/// The configurations of an answer: an array of them, or one object.
fn configs(value: Value) -> Option<Vec<TrustConfig>> {
    match value {
        Value::Array(items) => items.into_iter().map(TrustConfig::from_value).collect(),
        Value::Object(_) => TrustConfig::from_value(value).map(|c| vec![c]),
        _ => None,
    }
}

impl Registry {
    fn trust_path(package: &str) -> String {
        format!("/-/package/{}/trust", escape(package))
    }

    /// `GET /-/package/<name>/trust`: the package's configurations (none, or
    /// one: a package holds one at a time).
    pub(crate) async fn list_trust(
        &self,
        package: &str,
        otp: Option<&Secret>,
    ) -> Result<Vec<TrustConfig>, RegistryError> {
        let url = self.http.url(&Self::trust_path(package));
        let mut call = Call::new(Method::GET, url, Endpoint::Trust);
        call.otp = otp;
        let reply = self.http.send(call).await?;
        if reply.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Vec::new());
        }
        configs(reply.json()?).ok_or_else(|| {
            reply.invalid(format!(
                "{} but the reply is not a list of trust configurations",
                status_text(reply.status)
            ))
        })
    }

    /// `POST /-/package/<name>/trust` with one configuration; the
    /// registry's configurations back.
    pub(crate) async fn create_trust(
        &self,
        package: &str,
        trust: &Trust,
        otp: Option<&Secret>,
    ) -> Result<Vec<TrustConfig>, RegistryError> {
        let url = self.http.url(&Self::trust_path(package));
        let mut call = Call::new(Method::POST, url, Endpoint::Trust).json_body(&trust.body());
        call.otp = otp;
        let reply = self.http.send(call).await?;
        if reply.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Vec::new());
        }
        Ok(reply.json().ok().and_then(configs).unwrap_or_default())
    }

    /// `DELETE /-/package/<name>/trust/<id>`. A 404 on a retry counts as
    /// done.
    pub(crate) async fn revoke_trust(
        &self,
        package: &str,
        id: &str,
        otp: Option<&Secret>,
    ) -> Result<(), RegistryError> {
        let path = format!("{}/{}", Self::trust_path(package), encode_component(id));
        let mut call = Call::new(Method::DELETE, self.http.url(&path), Endpoint::Trust);
        call.otp = otp;
        call.gone_after_retry_is_success = true;
        self.http.send(call).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_what_npm_sends() {
        let trust = Trust::new(
            Provider::github("acme/tools", "release.yml", Some("npm")).expect("github"),
            vec![Allow::StagePublish, Allow::Publish, Allow::StagePublish],
        );
        assert_eq!(
            trust.body(),
            json!([{"type": "github",
                "claims": {"repository": "acme/tools", "workflow_ref": {"file": "release.yml"}, "environment": "npm"},
                "permissions": ["createPackage", "createStagedPackage"]}])
        );
        let gitlab = Trust::new(
            Provider::gitlab("group/sub/p", "ci.yaml", None).expect("gitlab"),
            vec![Allow::StagePublish],
        );
        assert_eq!(
            gitlab.body(),
            json!([{"type": "gitlab",
                "claims": {"project_path": "group/sub/p", "ci_config_ref_uri": {"file": "ci.yaml"}},
                "permissions": ["createStagedPackage"]}])
        );
    }

    #[test]
    fn validation_matches_npm() {
        assert!(Provider::github("acme", "r.yml", None).is_err());
        assert!(Provider::github("a/b/c", "r.yml", None).is_err());
        assert!(Provider::github("a/b", ".github/workflows/r.yml", None).is_err());
        assert!(Provider::github("a/b", "r.json", None).is_err());
        assert!(Provider::gitlab("p", "r.yml", None).is_err());
        assert!(Provider::gitlab("g/p", "r.yaml", None).is_ok());
    }

    #[test]
    fn listed_configs_match_and_old_ones_allow_publish() {
        let trust = Trust::new(
            Provider::github("acme/tools", "release.yml", None).expect("github"),
            vec![Allow::StagePublish],
        );
        let listed = |v: Value| configs(v).expect("configs").remove(0);
        let same = listed(json!([{"id": "t1", "type": "github",
            "claims": {"repository": "acme/tools", "workflow_ref": {"file": "release.yml"}},
            "permissions": ["createStagedPackage"]}]));
        assert!(trust.matches(&same));
        assert_eq!(same.allows_label(), "stage publish");
        let old = listed(json!({"id": "t0", "type": "github",
            "claims": {"repository": "acme/tools", "workflow_ref": {"file": "release.yml"}}}));
        assert_eq!(old.allows(), vec![Allow::Publish]);
        assert!(!trust.matches(&old));
        assert_eq!(old.source(), Some("acme/tools"));
        assert_eq!(old.file(), Some("release.yml"));
    }
}
