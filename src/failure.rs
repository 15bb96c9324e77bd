//! User-facing failures: one message, an optional hint, an exit code. A
//! leaf: any layer may fail this way; `diagnostics` (beside `main`) decides
//! what an error of any kind means for the user.

/// Exit codes: 0 success, 1 an operation failed, 2 bad usage (clap), 4
/// authentication needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Failed = 1,
    Usage = 2,
    NeedsAuth = 4,
}

/// A failure rtok itself detects (as opposed to one the registry reports).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    pub message: String,
    pub hint: Option<String>,
    pub exit: Exit,
}

impl Failure {
    pub fn new(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            hint: None,
            exit: Exit::Failed,
        }
    }

    /// Bad usage that clap cannot see, such as a path that does not exist
    /// (exit code 2).
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure {
            exit: Exit::Usage,
            ..Failure::new(message)
        }
    }

    /// A failure that means "authenticate first" (exit code 4).
    pub fn auth(message: impl Into<String>) -> Failure {
        Failure {
            exit: Exit::NeedsAuth,
            ..Failure::new(message)
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Failure {
        self.hint = Some(hint.into());
        self
    }
}

/// The whole chain on one line: `outer: inner: root`.
pub fn message(err: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in err.chain() {
        let text = cause.to_string();
        // thiserror's `transparent` and `#[from]` can repeat a message.
        if parts.last().is_some_and(|last| last.ends_with(&text)) {
            continue;
        }
        parts.push(text);
    }
    parts.join(": ").replace(['\n', '\r'], " ")
}

/// Whether the error is stdout having been closed (`rtok token ls | head`):
/// not worth a message.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
