//! A registry client for a command: the shared settings, the command's name
//! for the `npm-command` header, and the client's events turned into
//! `--verbose` lines, notices and warnings.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use url::Url;

use crate::output::Printer;
use crate::registry::{ClientConfig, Event, Observer, Registry, RegistryError};
use crate::settings::Settings;

/// A client for the configured registry.
pub(super) fn client(
    settings: &Settings,
    printer: &Printer,
    command: &'static str,
) -> Result<Registry, RegistryError> {
    client_for(settings, printer, &settings.registry, command)
}

/// A client for `registry` (another registry of the config, as `status`
/// checks them all), with the same credentials and network settings.
pub(super) fn client_for(
    settings: &Settings,
    printer: &Printer,
    registry: &Url,
    command: &'static str,
) -> Result<Registry, RegistryError> {
    client_with(
        settings,
        printer,
        registry,
        settings.credentials.clone(),
        command,
    )
}

/// A client for `registry` that sends `credentials` (another client's
/// credential alone, as `status` and `doctor` check it) with the same
/// network settings.
pub(super) fn client_with(
    settings: &Settings,
    printer: &Printer,
    registry: &Url,
    credentials: crate::config::credentials::Credentials,
    command: &'static str,
) -> Result<Registry, RegistryError> {
    // Once per run, however many registries are asked.
    static WARNED_STRICT_SSL: AtomicBool = AtomicBool::new(false);
    if !settings.network.strict_ssl
        && registry.scheme() == "https"
        && !WARNED_STRICT_SSL.swap(true, Ordering::Relaxed)
    {
        printer.warn("`strict-ssl` is false: the registry's TLS certificate is not checked");
    }
    Registry::new(ClientConfig {
        registry: registry.clone(),
        credentials,
        network: settings.network.clone(),
        command,
        observer: Some(observer(printer)),
    })
}

/// Turns client events into `--verbose` lines, notices and warnings.
fn observer(printer: &Printer) -> Observer {
    let printer = printer.clone();
    Arc::new(move |event: &Event<'_>| match event {
        Event::Response {
            method,
            url,
            status,
            elapsed,
            attempt,
        } => {
            let attempt = if *attempt > 1 {
                format!(" (attempt {attempt})")
            } else {
                String::new()
            };
            printer.verbose(&format!(
                "http {method} {url} {status} {}ms{attempt}",
                elapsed.as_millis()
            ));
        }
        Event::Retry {
            method,
            url,
            reason,
            wait,
        } => {
            printer.verbose(&format!(
                "http {method} {url}: {reason}; retrying in {:.1}s",
                wait.as_secs_f64()
            ));
        }
        Event::Notice(text) => printer.status(&format!("notice: {}", crate::output::visible(text))),
        Event::Warning(text) => printer.warn(text),
    })
}
