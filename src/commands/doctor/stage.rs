//! `doctor`'s finding about staged publishing: the credential that would
//! publish is a write token that publishes directly, on a registry that
//! lists publish policies (npmjs). npmjs refuses bypass-2FA tokens with
//! direct-publish access from January 2027 (`E_STAGE_REQUIRED`); a
//! stage-only token or trusted publishing replaces them.

use super::report::Finding;
use super::{Examined, Winner};
use crate::display::display_url;
use crate::tokens::health::Severity;
use crate::tokens::judge;

const NPMJS_HOST: &str = "registry.npmjs.org";

/// `direct-publish`, when the publish credential is such a token.
pub(super) fn direct_publish(ex: &Examined) -> Option<Finding> {
    let package = ex.target.publishes.as_deref()?;
    let Winner::Checked(found, checked) = &ex.winner else {
        return None;
    };
    let token = checked.entry()?;
    // npmjs itself, or a registry that lists publish policies as it does.
    let npmjs = ex.target.url.host_str() == Some(NPMJS_HOST) || token.lists_publish_policy();
    if !npmjs || !judge::publishes_directly(token) {
        return None;
    }
    let bypass = token.bypass_2fa();
    let message = if bypass {
        format!(
            "the token that would publish {package} publishes directly and skips two-factor authentication: npmjs stops accepting these in January 2027 (`E_STAGE_REQUIRED`)"
        )
    } else {
        format!(
            "the token that would publish {package} publishes directly; a stage-only token publishes only what a human approves"
        )
    };
    Some(Finding {
        code: "direct-publish",
        severity: if bypass {
            Severity::Error
        } else {
            Severity::Warning
        },
        registry: Some(display_url(&ex.target.url)),
        source: Some(found.origin.to_string()),
        message,
        hint: "create a stage-only token (`rtok token create --stage-only`), publish with `npm stage publish` and approve with `rtok stage approve`; or set up trusted publishing (`rtok trust sync`)".into(),
    })
}
