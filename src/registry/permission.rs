//! `Permission`: a granular token's access level, as `token create` takes it
//! and as `rotate` reads it back from a listed token.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Permission {
    ReadOnly,
    ReadWrite,
    /// Publish only by staging (`npm stage publish`), which a human then
    /// approves; npmjs lists such a token with `publish_policy: stage_only`.
    /// Packages and scopes only: organisations have no such level.
    ReadWriteStageOnly,
    NoAccess,
}

impl Permission {
    /// The level a listed token's `permissions[].action` stands for
    /// (`read`, `write`, `none`).
    pub fn from_action(action: &str) -> Option<Permission> {
        match action {
            "read" => Some(Permission::ReadOnly),
            "write" => Some(Permission::ReadWrite),
            "none" => Some(Permission::NoAccess),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_are_sent_as_npm_names_them() {
        assert_eq!(
            serde_json::to_value(Permission::ReadWrite).expect("json"),
            "read-write"
        );
        assert_eq!(
            serde_json::to_value(Permission::ReadWriteStageOnly).expect("json"),
            "read-write-stage-only"
        );
        assert_eq!(Permission::from_action("none"), Some(Permission::NoAccess));
        assert_eq!(Permission::from_action("admin"), None);
    }
}
