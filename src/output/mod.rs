//! Everything rtok prints goes through the `Printer`: data on stdout, and
//! status, warnings, verbose logs and errors on stderr. A command hands its
//! result to [`Printer::emit`] as a [`Report`], which picks the human,
//! parseable or JSON form.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod table;

use std::io::{self, IsTerminal, Write};

/// Making text from elsewhere visible is a leaf's job (`display`), so low
/// layers use it too; re-exported here for the commands.
pub use crate::display::visible;
pub use table::Table;

use crate::cli::{ColorChoice, GlobalArgs};

/// How data is written to stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Parseable,
}

/// Which stream a table goes to: each is styled by its own terminal check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// A command's result in every output form. The JSON form is the
/// `Serialize` impl: a stable contract, so fields are only ever added.
pub trait Report: serde::Serialize {
    /// The human form: data on stdout, status lines on stderr.
    fn human(&self, printer: &Printer) -> io::Result<()>;

    /// The `--parseable` form (tab-separated, as npm's); the human form
    /// unless the command has one of its own.
    fn parseable(&self, printer: &Printer) -> io::Result<()> {
        self.human(printer)
    }
}

/// Decides once what goes where and in which colours.
#[derive(Debug, Clone)]
pub struct Printer {
    pub format: Format,
    pub quiet: bool,
    pub verbose: bool,
    stdout: Terminal,
    stderr: Terminal,
}

/// What one output stream is.
#[derive(Debug, Clone, Copy)]
struct Terminal {
    is_terminal: bool,
    color: bool,
}

const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";
const CYAN: &str = "\x1b[36m";
const DIM: &str = "\x1b[2m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

impl Printer {
    pub fn new(global: &GlobalArgs, env_no_color: bool) -> Printer {
        let terminal = |is_terminal: bool| Terminal {
            is_terminal,
            color: match global.color {
                ColorChoice::Always => true,
                ColorChoice::Never => false,
                ColorChoice::Auto => is_terminal && !env_no_color,
            },
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
            stdout: terminal(io::stdout().is_terminal()),
            stderr: terminal(io::stderr().is_terminal()),
        }
    }

    /// Prints `report` in the format the user asked for.
    pub fn emit<R: Report>(&self, report: &R) -> io::Result<()> {
        match self.format {
            Format::Json => self.json(report),
            Format::Parseable => report.parseable(self),
            Format::Human => report.human(self),
        }
    }

    /// One line of data on stdout.
    pub fn data(&self, text: &str) -> io::Result<()> {
        let mut out = io::stdout().lock();
        writeln!(out, "{text}")?;
        out.flush()
    }

    /// One `--parseable` row on stdout: the fields tab-separated, each made
    /// visible, so a tab or newline in a name cannot forge fields or rows.
    pub fn fields<S: AsRef<str>>(&self, fields: impl IntoIterator<Item = S>) -> io::Result<()> {
        let row: Vec<String> = fields
            .into_iter()
            .map(|f| visible(f.as_ref()).into_owned())
            .collect();
        self.data(&row.join("\t"))
    }

    /// A value as JSON on stdout, pretty-printed with two spaces (as npm).
    pub fn json(&self, value: &impl serde::Serialize) -> io::Result<()> {
        // stdout is line-buffered: without a buffer of its own, a long list
        // would cost a write(2) per line.
        let mut out = io::BufWriter::with_capacity(64 * 1024, io::stdout().lock());
        serde_json::to_writer_pretty(&mut out, value).map_err(io::Error::other)?;
        writeln!(out)?;
        out.flush()
    }

    /// A status line on stderr, unless `--quiet`.
    pub fn status(&self, text: &str) {
        if !self.quiet {
            stderr_line(&visible_lines(text));
        }
    }

    /// A table as a status line (rtok's own styling kept; its cells are
    /// already made visible).
    pub fn status_table(&self, table: &Table) {
        if !self.quiet {
            stderr_line(&table.to_string());
        }
    }

    /// A table as a notice (see [`Printer::notice`]).
    pub fn notice_table(&self, table: &Table) {
        stderr_line(&table.to_string());
    }

    /// Something the user must see even with `--quiet` (a preview before a
    /// question), on stderr.
    pub fn notice(&self, text: &str) {
        stderr_line(&visible_lines(text));
    }

    /// A warning on stderr (shown even with `--quiet`: it may matter).
    pub fn warn(&self, text: &str) {
        let text = visible_lines(text);
        stderr_line(&format!("{}: {text}", self.paint_err("warning", YELLOW)));
    }

    /// A `--verbose` log line on stderr.
    pub fn verbose(&self, text: &str) {
        if self.verbose {
            stderr_line(&self.paint_err(&visible_lines(text), DIM));
        }
    }

    /// `error: <message>` and, if there is one, `hint: <hint>`.
    pub fn error(&self, message: &str, hint: Option<&str>) {
        let mut err = io::stderr().lock();
        let message = visible_lines(message);
        let _ = writeln!(err, "{}: {message}", self.paint_err("error", RED));
        if let Some(hint) = hint {
            let hint = visible_lines(hint);
            let _ = writeln!(err, "{}: {hint}", self.paint_err("hint", CYAN));
        }
    }

    /// A table for stdout (`Stream::Stdout`) or stderr, in rtok's style:
    /// box lines and the terminal's width on a terminal, plain ASCII when
    /// that stream is a pipe or file; colour only where that stream has it.
    pub fn table(&self, stream: Stream, header: &[&str]) -> Table {
        let terminal = match stream {
            Stream::Stdout => self.stdout,
            Stream::Stderr => self.stderr,
        };
        Table::new(header, terminal.is_terminal, terminal.color)
    }

    fn paint_err(&self, text: &str, color: &str) -> String {
        if self.stderr.color {
            format!("{BOLD}{color}{text}{RESET}")
        } else {
            text.to_string()
        }
    }
}

/// One line on stderr. A stderr that is gone (`rtok ... 2>&1 | head -1`, a
/// closed pipe) is not an error: the line is dropped and rtok carries on, as
/// it does for a closed stdout, instead of panicking in `eprintln!`.
fn stderr_line(text: &str) {
    let _ = writeln!(io::stderr().lock(), "{text}");
}

/// A message made visible line by line: rtok's own line breaks stay, every
/// other control or format character is shown, not obeyed.
fn visible_lines(text: &str) -> String {
    text.split('\n')
        .map(|line| visible(line).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}
