//! The commands, dispatched. Each takes what it needs explicitly
//! (`run(&Settings, &Args, &Printer)` or narrower) and does one job:
//! settings → registry client → report.

mod batch;
mod check;
mod connect;
mod copies;
mod doctor;
mod exec;
mod keyring;
mod login;
mod logout;
mod oidc;
mod otp;
mod refresh;
mod scan;
mod shell;
mod stage;
mod status;
mod token;
mod token_helper;
mod trust;
mod web;
mod whoami;

use anyhow::{Context, Result};

use crate::cli::{Cli, Command};
use crate::locate::process_env;
use crate::output::Printer;
use crate::settings::Settings;

/// Runs the command the user asked for.
pub async fn run(cli: Cli, printer: &Printer) -> Result<()> {
    // Shell integration needs no configuration.
    let command = match cli.command {
        Command::Completions { shell } => return shell::completions(shell, printer),
        Command::Man => return shell::man(printer),
        // Scanning resolves settings only if it has something to verify.
        Command::Scan(args) => return scan::run(&cli.global, &args, printer).await,
        command => command,
    };
    let cwd = std::env::current_dir().context("could not read the current folder")?;
    let settings = Settings::resolve(&cli.global, process_env(), cwd)?;
    let notes = printer.clone();
    settings
        .credentials
        .set_notes(std::sync::Arc::new(move |note: &str| notes.verbose(note)));
    // doctor reports a config file open to others as a finding instead.
    let config_warnings: Vec<&String> = match command {
        Command::Doctor => settings.config.warnings_without_exposed().collect(),
        _ => settings.config.warnings.iter().collect(),
    };
    for warning in config_warnings.into_iter().chain(&settings.rtok.warnings) {
        printer.warn(warning);
    }
    match command {
        Command::Login(args) => login::run(&settings, &args, printer).await,
        Command::Logout => logout::run(&settings, printer).await,
        Command::Whoami => whoami::run(&settings, printer).await,
        Command::Status(args) => status::run(&settings, &args, printer).await,
        Command::Doctor => doctor::run(&settings, printer).await,
        Command::Token { command } => token::run(&settings, command, printer).await,
        Command::Oidc { command } => oidc::run(&settings, command, printer).await,
        Command::Keyring { command } => keyring::run(&settings, &command, printer),
        Command::Exec(args) => exec::run(&settings, &args, printer).await,
        Command::Stage { command } => stage::run(&settings, command, printer).await,
        Command::Trust { command } => trust::run(&settings, command, printer).await,
        Command::TokenHelper(args) => token_helper::run(&settings, &args, printer),
        Command::Refresh(args) => refresh::run(&settings, &args, printer),
        Command::Completions { .. } | Command::Man | Command::Scan(_) => Ok(()),
    }
}
