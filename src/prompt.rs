//! Asking the user: only on a terminal, passwords never echoed, and a clear
//! error instead of a hang when there is no one to ask.
#![allow(clippy::print_stderr)]

use std::io::{self, BufRead, IsTerminal, Read, Write};

use anyhow::{Context, Result, bail};

use crate::cli::PasswordArgs;
use crate::failure::Failure;
use crate::output::Printer;
use crate::secret::Secret;

/// Prompts are allowed only when both stdin and stderr are terminals: a
/// prompt nobody sees, or an answer nobody can type, would hang a script.
pub(crate) fn interactive() -> bool {
    io::stdin().is_terminal() && io::stderr().is_terminal()
}

/// Reads a secret without echo from the terminal.
pub(crate) fn secret(prompt: &str) -> Result<Secret> {
    let value = rpassword::prompt_password(prompt).context("could not read from the terminal")?;
    Ok(Secret::new(value))
}

/// Reads one visible line (a user name) from the terminal.
pub(crate) fn line(prompt: &str) -> Result<String> {
    let mut err = io::stderr().lock();
    write!(err, "{prompt}")?;
    err.flush()?;
    let mut answer = String::new();
    let read = io::stdin()
        .lock()
        .read_line(&mut answer)
        .context("could not read from the terminal")?;
    if read == 0 {
        bail!(Failure::new("no answer (end of input)"));
    }
    Ok(answer.trim().to_string())
}

/// Reads a secret piped on stdin (`--password-stdin`): everything up to the
/// end, without one trailing line break.
pub(crate) fn secret_from_stdin(what: &str) -> Result<Secret> {
    let mut text = String::new();
    io::stdin()
        .lock()
        .read_to_string(&mut text)
        .with_context(|| format!("could not read the {what} from standard input"))?;
    let trimmed = text.strip_suffix('\n').unwrap_or(&text);
    let trimmed = trimmed.strip_suffix('\r').unwrap_or(trimmed);
    if trimmed.is_empty() {
        bail!(Failure::new(format!(
            "standard input was empty; expected the {what}"
        )));
    }
    Ok(Secret::new(trimmed))
}

/// The account password: `--password-stdin`, `--password`, or a no-echo
/// prompt on a terminal; without any of them, an error naming the flag.
pub(crate) fn password(args: &PasswordArgs, purpose: &str, printer: &Printer) -> Result<Secret> {
    if args.password_stdin {
        return secret_from_stdin("password");
    }
    if let Some(password) = &args.password {
        printer.warn(
            "`--password` is visible to other users of this machine; prefer `--password-stdin`",
        );
        return Ok(password.clone());
    }
    if interactive() {
        return secret("Password: ");
    }
    Err(Failure::auth(format!(
        "a password is needed to {purpose}, and there is no terminal to ask for it"
    ))
    .hint("pipe it in with `--password-stdin`")
    .into())
}

/// Asks for a one-time password: digits (spaces allowed and dropped) or a
/// 64-character hex recovery code, as npm accepts; up to three tries.
pub(crate) fn otp() -> Result<Secret> {
    eprintln!("This operation requires a one-time password.");
    for _ in 0..3 {
        let answer = secret("Enter OTP: ")?;
        if let Some(code) = normalize_otp(answer.expose()) {
            return Ok(Secret::new(code));
        }
        eprintln!("That is not a one-time password: enter the digits from your authenticator app.");
    }
    bail!(
        Failure::auth("no valid one-time password was entered").hint("pass it with `--otp <code>`")
    )
}

fn normalize_otp(text: &str) -> Option<String> {
    let text = text.trim();
    let digits: String = text.chars().filter(|c| *c != ' ').collect();
    if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
        return Some(digits);
    }
    (text.len() == 64 && text.chars().all(|c| c.is_ascii_hexdigit())).then(|| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn otp_codes_are_digits_or_recovery_codes() {
        assert_eq!(normalize_otp("123 456"), Some("123456".into()));
        assert_eq!(normalize_otp(" 12345678 "), Some("12345678".into()));
        let recovery = "a".repeat(64);
        assert_eq!(normalize_otp(&recovery), Some(recovery.clone()));
        assert_eq!(normalize_otp("12a456"), None);
        assert_eq!(normalize_otp(""), None);
    }
}
