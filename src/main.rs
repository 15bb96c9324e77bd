//! The `rtok` binary: `main` parses the command line, runs the command on a single-threaded
//! runtime, and turns the outcome into output and an exit code.
#![warn(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use clap::Parser;

use rtok::output::Printer;
use rtok::{cli, commands, diagnostics};

fn main() -> ExitCode {
    install_panic_hook();
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        // Help and version go to stdout with 0; usage errors to stderr with 2.
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() { 2 } else { 0 });
        }
    };
    // Test hook: a deliberate panic whose message holds a "secret", so a
    // test can check the panic hook withholds it.
    #[cfg(feature = "test-hooks")]
    if let Ok(secret) = std::env::var("RTOK_TEST_PANIC") {
        panic!("deliberate test panic holding {secret}");
    }
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let printer = Printer::new(&cli.global, no_color);

    // One thread is enough: a command waits on the network, and bulk
    // revocation interleaves its requests on this one thread.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            printer.error(&format!("could not start the async runtime: {err}"), None);
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(commands::run(cli, &printer));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if diagnostics::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            printer.error(
                &diagnostics::message(&err),
                diagnostics::hint(&err).as_deref(),
            );
            ExitCode::from(diagnostics::exit_code(&err))
        }
    }
}

/// A panic prints one short line: no payload, no environment, nothing that
/// could hold a secret. `RUST_BACKTRACE` still works for debugging.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        // Never `eprintln!` here: with stderr gone it would panic inside
        // the panic hook, and the process would abort.
        use std::io::Write;
        let mut err = std::io::stderr().lock();
        let _ = writeln!(
            err,
            "error: rtok hit an internal error{place}; this is a bug, please report it (the details are withheld because they may contain secrets)"
        );
        if std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0") {
            let _ = writeln!(err, "{}", std::backtrace::Backtrace::force_capture());
        }
    }));
}
