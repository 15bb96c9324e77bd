//! Whole-output snapshots (`insta`): a run's command line, exit code, stdout
//! and stderr as one text, with what changes from run to run (ports,
//! temporary paths, timings) filtered out.

use super::env::{Run, TestEnv};

/// The run as a transcript: what was typed, how it ended, what it printed.
pub fn transcript(run: &Run) -> String {
    let command = run.command.replacen(env!("CARGO_BIN_EXE_rtok"), "rtok", 1);
    format!(
        "$ {command}\nexit code: {}\n--- stdout\n{}--- stderr\n{}",
        run.code, run.stdout, run.stderr
    )
}

/// A terminal session's text as a transcript body: rexpect hands over each
/// byte as a `char`, so the bytes are put back together as UTF-8; CR LF
/// becomes LF.
pub fn terminal_text(text: &str) -> String {
    let bytes: Vec<u8> = text.chars().map(|c| c as u32 as u8).collect();
    String::from_utf8_lossy(&bytes).replace("\r\n", "\n")
}

/// insta settings for `env`: its temporary folder, loopback ports and
/// millisecond timings replaced by placeholders. Bind them for the test:
/// `let _settings = snapshot_settings(&env).bind_to_scope();`
pub fn snapshot_settings(env: &TestEnv) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.add_filter(&regex_escape(&env.root.display().to_string()), "[TMP]");
    settings.add_filter(r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]");
    settings.add_filter(r" \d+ms\b", " [N]ms");
    settings
}

fn regex_escape(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
