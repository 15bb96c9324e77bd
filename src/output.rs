//! Everything rtok prints goes through the `Printer`: data on stdout, and
//! status, warnings, verbose logs and errors on stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{self, IsTerminal, Write};

use comfy_table::{ContentArrangement, Table, presets};

use crate::cli::{ColorChoice, GlobalArgs};

/// How data is written to stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Parseable,
}

/// Decides once what goes where and in which colours.
#[derive(Debug, Clone)]
pub struct Printer {
    pub format: Format,
    pub quiet: bool,
    pub verbose: bool,
    stdout_color: bool,
    stderr_color: bool,
    stdout_terminal: bool,
}

const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";
const CYAN: &str = "\x1b[36m";
const DIM: &str = "\x1b[2m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

impl Printer {
    pub fn new(global: &GlobalArgs, env_no_color: bool) -> Printer {
        let stdout_terminal = io::stdout().is_terminal();
        let stderr_terminal = io::stderr().is_terminal();
        let decide = |terminal: bool| match global.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => terminal && !env_no_color,
        };
        Printer {
            format: if global.json {
                Format::Json
            } else if global.parseable {
                Format::Parseable
            } else {
                Format::Human
            },
            quiet: global.quiet,
            verbose: global.verbose,
            stdout_color: decide(stdout_terminal),
            stderr_color: decide(stderr_terminal),
            stdout_terminal,
        }
    }

    /// One line of data on stdout.
    pub fn data(&self, text: &str) -> io::Result<()> {
        let mut out = io::stdout().lock();
        writeln!(out, "{text}")?;
        out.flush()
    }

    /// A JSON value on stdout, pretty-printed with two spaces (as npm).
    pub fn json(&self, value: &serde_json::Value) -> io::Result<()> {
        let text = serde_json::to_string_pretty(value).map_err(io::Error::other)?;
        self.data(&text)
    }

    /// A status line on stderr, unless `--quiet`.
    pub fn status(&self, text: &str) {
        if !self.quiet {
            eprintln!("{text}");
        }
    }

    /// A warning on stderr (shown even with `--quiet`: it may matter).
    pub fn warn(&self, text: &str) {
        eprintln!("{}: {text}", self.paint_err("warning", YELLOW));
    }

    /// A `--verbose` log line on stderr.
    pub fn verbose(&self, text: &str) {
        if self.verbose {
            eprintln!("{}", self.paint_err(text, DIM));
        }
    }

    /// `error: <message>` and, if there is one, `hint: <hint>`.
    pub fn error(&self, message: &str, hint: Option<&str>) {
        let mut err = io::stderr().lock();
        let _ = writeln!(err, "{}: {message}", self.paint_err("error", RED));
        if let Some(hint) = hint {
            let _ = writeln!(err, "{}: {hint}", self.paint_err("hint", CYAN));
        }
    }

    /// A table in rtok's style: rounded lines and the terminal's width on a
    /// terminal, plain ASCII when stdout is a pipe or file.
    pub fn table(&self, header: &[&str]) -> Table {
        let mut table = Table::new();
        if self.stdout_terminal {
            table.load_preset(presets::UTF8_FULL_CONDENSED);
            table.set_content_arrangement(ContentArrangement::Dynamic);
        } else {
            table.load_preset(presets::ASCII_FULL_CONDENSED);
            table.set_content_arrangement(ContentArrangement::Disabled);
        }
        if !self.stdout_color {
            table.force_no_tty();
        } else {
            table.enforce_styling();
        }
        let header: Vec<comfy_table::Cell> = header
            .iter()
            .map(|h| {
                let cell = comfy_table::Cell::new(h);
                if self.stdout_color {
                    cell.add_attribute(comfy_table::Attribute::Bold)
                } else {
                    cell
                }
            })
            .collect();
        table.set_header(header);
        table
    }

    fn paint_err(&self, text: &str, color: &str) -> String {
        if self.stderr_color {
            format!("{BOLD}{color}{text}{RESET}")
        } else {
            text.to_string()
        }
    }
}
