//! `token audit`'s policy: the limits tokens are judged against, their
//! defaults, and the `[audit]` table of rtok's own settings file that can
//! change those defaults (`unused-for`, `max-lifetime`, `fail-on`).

use std::time::Duration;

use crate::severity::Severity;

const DAY: u64 = 24 * 3600;

/// The finding severity at which `token audit` exits 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Never,
}

impl FailOn {
    /// Whether a finding of `severity` fails the run.
    pub(crate) fn fails(self, severity: Severity) -> bool {
        match self {
            FailOn::Error => severity >= Severity::Error,
            FailOn::Warning => severity >= Severity::Warning,
            FailOn::Never => false,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            FailOn::Error => "error",
            FailOn::Warning => "warning",
            FailOn::Never => "never",
        }
    }

    fn parse(text: &str) -> Option<FailOn> {
        match text {
            "error" => Some(FailOn::Error),
            "warning" => Some(FailOn::Warning),
            "never" => Some(FailOn::Never),
            _ => None,
        }
    }
}

/// The limits a token is judged against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Policy {
    /// `unused`: no use (or, never used, no creation) for longer than this.
    pub unused_for: Duration,
    /// `long-lived`: a write token living longer than this.
    pub max_lifetime: Duration,
    pub fail_on: FailOn,
}

impl Default for Policy {
    /// 90 days each (npmjs's longest write-token lifetime); fail on errors.
    fn default() -> Policy {
        Policy {
            unused_for: Duration::from_secs(90 * DAY),
            max_lifetime: Duration::from_secs(90 * DAY),
            fail_on: FailOn::Error,
        }
    }
}

/// What an `[audit]` table sets; `None` leaves the default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct AuditTable {
    pub unused_for: Option<Duration>,
    pub max_lifetime: Option<Duration>,
    pub fail_on: Option<FailOn>,
    /// Keys of `[audit]` rtok does not know (probably typos), to warn about.
    pub unknown: Vec<String>,
}

impl AuditTable {
    /// The policy: this table over the defaults.
    pub(crate) fn over(&self, base: Policy) -> Policy {
        Policy {
            unused_for: self.unused_for.unwrap_or(base.unused_for),
            max_lifetime: self.max_lifetime.unwrap_or(base.max_lifetime),
            fail_on: self.fail_on.unwrap_or(base.fail_on),
        }
    }
}

/// Reads the `[audit]` table of a settings file's text (other tables are
/// for other parts of rtok and are not looked at). The error is one line:
/// where (line) and what is wrong.
#[cfg(test)]
pub(crate) fn from_toml(text: &str) -> Result<AuditTable, String> {
    let document: toml_edit::DocumentMut = text.parse().map_err(|err: toml_edit::TomlError| {
        let message = err.message().trim().replace('\n', " ");
        match err.span() {
            Some(span) => format!("line {}: {message}", line_of(text, span.start)),
            None => message,
        }
    })?;
    match document.get("audit") {
        Some(item) => from_table(item),
        None => Ok(AuditTable::default()),
    }
}

/// Reads an `[audit]` table (as rtok's settings file holds it).
pub(crate) fn from_table(item: &toml_edit::Item) -> Result<AuditTable, String> {
    let mut table = AuditTable::default();
    let Some(audit) = item.as_table_like() else {
        return Err("`audit` is not a table (write it as `[audit]`)".into());
    };
    for (key, value) in audit.iter() {
        let text = || {
            value
                .as_str()
                .ok_or_else(|| format!("`audit.{key}` must be a string"))
        };
        match key {
            "unused-for" => table.unused_for = Some(duration(key, text()?)?),
            "max-lifetime" => table.max_lifetime = Some(duration(key, text()?)?),
            "fail-on" => {
                let wanted = text()?;
                table.fail_on = Some(FailOn::parse(wanted).ok_or_else(|| {
                    format!(
                        "`audit.fail-on` is `{wanted}`; it must be \"error\", \"warning\" or \"never\""
                    )
                })?);
            }
            other => table.unknown.push(other.to_string()),
        }
    }
    Ok(table)
}

fn duration(key: &str, text: &str) -> Result<Duration, String> {
    crate::time::parse_duration(text).map_err(|err| format!("`audit.{key}`: {err}"))
}

/// The 1-based line of byte offset `at`.
#[cfg(test)]
fn line_of(text: &str, at: usize) -> usize {
    text.as_bytes()[..at.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(n: u64) -> Duration {
        Duration::from_secs(n * DAY)
    }

    #[test]
    fn defaults_are_ninety_days_and_errors() {
        let policy = Policy::default();
        assert_eq!(policy.unused_for, days(90));
        assert_eq!(policy.max_lifetime, days(90));
        assert_eq!(policy.fail_on, FailOn::Error);
        assert!(FailOn::Error.fails(Severity::Error));
        assert!(!FailOn::Error.fails(Severity::Warning));
        assert!(FailOn::Warning.fails(Severity::Warning));
        assert!(!FailOn::Warning.fails(Severity::Info));
        assert!(!FailOn::Never.fails(Severity::Error));
    }

    #[test]
    fn the_audit_table_changes_the_defaults() {
        let text = "storage = \"keyring\"\n\n[audit]\n# ours\nunused-for = \"30d\"\nmax-lifetime = \"1y\"\nfail-on = \"warning\"\n\n[registry.\"https://r/\"]\nstorage = \"keyring\"\n";
        let table = from_toml(text).expect("parse");
        assert_eq!(table.unused_for, Some(days(30)));
        assert_eq!(table.fail_on, Some(FailOn::Warning));
        let policy = table.over(Policy::default());
        assert_eq!(policy.unused_for, days(30));
        assert!(policy.max_lifetime > days(364));
        assert!(table.unknown.is_empty());
        let partial = from_toml("[audit]\nunused-for = \"10d\"\n")
            .expect("parse")
            .over(Policy::default());
        assert_eq!(partial.max_lifetime, days(90));
        assert_eq!(from_toml("").expect("empty"), AuditTable::default());
        assert_eq!(
            from_toml("audit = { fail-on = \"never\" }\n")
                .expect("inline")
                .fail_on,
            Some(FailOn::Never)
        );
    }

    #[test]
    fn mistakes_are_one_line_errors() {
        for (text, needle) in [
            ("[audit\nunused-for = 1", "line 1"),
            ("a = 1\n[audit]\nunused-for = 30\n", "must be a string"),
            ("[audit]\nunused-for = \"soon\"\n", "`audit.unused-for`"),
            (
                "[audit]\nfail-on = \"always\"\n",
                "\"error\", \"warning\" or \"never\"",
            ),
            ("audit = 5\n", "not a table"),
            ("x = 1\nx = 2\n", "line 2"),
        ] {
            let err = from_toml(text).expect_err(text);
            assert!(err.contains(needle), "{text:?}: {err}");
            assert!(!err.contains('\n'), "{err}");
        }
        let table = from_toml("[audit]\nunused_for = \"1d\"\n").expect("parse");
        assert_eq!(table.unknown, vec!["unused_for".to_string()]);
    }
}
