//! `rtok completions` and `rtok man`: generated from the command definitions.

use crate::support::*;

#[test]
fn completions_for_every_shell() {
    let env = TestEnv::new();
    for (shell, marker) in [
        ("bash", "complete -F _rtok"),
        ("zsh", "#compdef rtok"),
        ("fish", "complete -c rtok"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[rtok]"),
    ] {
        let run = env.rtok().args(["completions", shell]).run();
        run.success();
        assert!(run.stdout.contains(marker), "{}", run.describe(marker));
        assert!(
            run.stdout.contains("prune"),
            "{}",
            run.describe("subcommands")
        );
    }
}

#[test]
fn man_page() {
    let env = TestEnv::new();
    // No config is read for these: a broken one does not matter.
    env.write_userconfig("registry=not a url\n");
    let run = env.rtok().arg("man").run();
    run.success();
    assert!(
        run.stdout.starts_with(".ie \\n(.g .ds Aq"),
        "{}",
        run.describe("roff")
    );
    assert!(run.stdout.contains(".TH rtok 1"));
    assert!(run.stdout.contains("whoami"));
}
