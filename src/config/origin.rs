//! `Origin`: where a setting or a credential came from, rendered in one
//! place for status tables, errors, hints and `--verbose`.

use std::fmt;
use std::path::PathBuf;

/// Where a layer of npm settings comes from, highest priority first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum LayerKind {
    Cli,
    Env,
    Project,
    User,
    Global,
}

impl LayerKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            LayerKind::Cli => "command line",
            LayerKind::Env => "environment",
            LayerKind::Project => "project",
            LayerKind::User => "user",
            LayerKind::Global => "global",
        }
    }
}

/// Where one setting or credential was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    /// A command-line flag (`--registry`).
    Cli { flag: String },
    /// An environment variable (`npm_config_//host/:_authToken`).
    Env { var: String },
    /// A line of an `.npmrc` file; `variable` is the `${VAR}` its value
    /// names, if it names one (the secret then lives in that variable).
    File {
        layer: LayerKind,
        path: PathBuf,
        line: usize,
        variable: Option<String>,
    },
    /// The system keyring (rtok's settings record it for the registry).
    Keyring,
    /// A `credential-command` from rtok's settings.
    Command { argv: Vec<String> },
    /// A provider preset from rtok's settings (`provider = "gcloud"`).
    Provider {
        name: &'static str,
        argv: Vec<String>,
    },
    /// A trusted-publishing token exchanged for a CI identity.
    #[allow(dead_code)] // until `exec --oidc` lands (issue 12)
    Oidc { package: String },
}

impl Origin {
    /// Where rtok found the credential, as `status --json` names it:
    /// `file` (an `.npmrc` line, whether it holds the secret or a `${VAR}`
    /// reference: `variable` names the indirection), `env` (an
    /// `NPM_CONFIG_*` variable), `keyring`, `command` or `oidc` (`cli` for
    /// a flag).
    pub(crate) fn storage(&self) -> &'static str {
        match self {
            Origin::File { .. } => "file",
            Origin::Env { .. } => "env",
            Origin::Cli { .. } => "cli",
            Origin::Keyring => "keyring",
            Origin::Command { .. } => "command",
            Origin::Provider { .. } => "provider",
            Origin::Oidc { .. } => "oidc",
        }
    }

    /// Whether the credential comes from a provider rtok runs (a preset or
    /// a `credential-command`): one that can be fetched again after the
    /// registry rejected it.
    pub(crate) fn is_provider(&self) -> bool {
        matches!(self, Origin::Provider { .. } | Origin::Command { .. })
    }

    /// The environment variable behind the credential, if any.
    pub(crate) fn variable(&self) -> Option<&str> {
        match self {
            Origin::File { variable, .. } => variable.as_deref(),
            Origin::Env { var } => Some(var),
            _ => None,
        }
    }

    /// Where it is, without the variable a file line refers to (for
    /// messages that name the variable themselves).
    pub(crate) fn place(&self) -> String {
        match self {
            Origin::File { path, line, .. } => format!("{}:{line}", path.display()),
            other => other.to_string(),
        }
    }
}

/// `/home/u/.npmrc:2 ($NPM_TOKEN)`, `environment variable `NPM_CONFIG_…``,
/// `keyring`, `command: gh auth token`.
impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Cli { flag } => write!(f, "`{flag}`"),
            Origin::Env { var } => write!(f, "environment variable `{var}`"),
            Origin::File {
                path,
                line,
                variable,
                ..
            } => {
                write!(f, "{}:{line}", path.display())?;
                match variable {
                    Some(var) => write!(f, " (${var})"),
                    None => Ok(()),
                }
            }
            Origin::Keyring => f.write_str("keyring"),
            Origin::Command { argv } => write!(f, "command: {}", argv.join(" ")),
            Origin::Provider { name, .. } => write!(f, "provider: {name}"),
            Origin::Oidc { package } => write!(f, "OIDC exchange for {package}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_render_in_one_place() {
        let file = Origin::File {
            layer: LayerKind::User,
            path: "/home/u/.npmrc".into(),
            line: 2,
            variable: Some("NPM_TOKEN".into()),
        };
        assert_eq!(file.to_string(), "/home/u/.npmrc:2 ($NPM_TOKEN)");
        // Found in a file; the variable is the indirection.
        assert_eq!(file.storage(), "file");
        assert_eq!(file.variable(), Some("NPM_TOKEN"));
        let literal = Origin::File {
            layer: LayerKind::Project,
            path: "/p/.npmrc".into(),
            line: 1,
            variable: None,
        };
        assert_eq!(literal.to_string(), "/p/.npmrc:1");
        assert_eq!(literal.storage(), "file");
        let env = Origin::Env {
            var: "npm_config_//r/:_authToken".into(),
        };
        assert_eq!(
            env.to_string(),
            "environment variable `npm_config_//r/:_authToken`"
        );
        assert_eq!(env.variable(), Some("npm_config_//r/:_authToken"));
        assert_eq!(Origin::Keyring.to_string(), "keyring");
        let command = Origin::Command {
            argv: vec!["gh".into(), "auth".into(), "token".into()],
        };
        assert_eq!(command.to_string(), "command: gh auth token");
        assert_eq!(command.storage(), "command");
    }
}
