//! How serious a finding is (`doctor`, `token audit`): a leaf, so the
//! settings that set `fail-on` and the judgements that grade findings share
//! it without depending on each other.

use serde::Serialize;

/// How serious a finding is; ordered, so `>=` compares with `--fail-on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}
