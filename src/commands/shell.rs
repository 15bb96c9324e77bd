//! `rtok completions` and `rtok man`: shell integration, generated from the
//! command-line definition itself.

use anyhow::Result;
use clap::CommandFactory;

use crate::cli::Cli;
use crate::output::Printer;

pub(super) fn completions(shell: clap_complete::Shell, printer: &Printer) -> Result<()> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "rtok", &mut script);
    printer.data(String::from_utf8_lossy(&script).trim_end())?;
    Ok(())
}

pub(super) fn man(printer: &Printer) -> Result<()> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut page)?;
    printer.data(String::from_utf8_lossy(&page).trim_end())?;
    Ok(())
}
