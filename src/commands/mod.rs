//! The commands. Each takes a `Session` (settings resolved once) and does
//! one job: arguments → settings → registry client → output.

pub mod exec;
pub mod keyring;
pub mod login;
pub mod logout;
pub mod otp;
pub mod prune;
pub mod revoke;
pub mod rotate;
pub mod status;
pub mod token_create;
pub mod token_delete;
pub mod token_list;
pub mod web;
pub mod whoami;

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::CommandFactory;
use url::Url;

use crate::cli::{Cli, Command, GlobalArgs, ListArgs, PasswordArgs, TokenCommand};
use crate::config::credentials::{Credentials, Found};
use crate::config::network::Network;
use crate::config::{Config, DEFAULT_REGISTRY, Inputs};
use crate::failure::Failure;
use crate::output::Printer;
use crate::prompt;
use crate::registry::{ClientConfig, Event, Observer, Registry, display_url};
use crate::secret::Secret;

/// Runs the command the user asked for.
pub async fn run(cli: Cli, printer: &Printer) -> Result<()> {
    // Shell integration needs no configuration.
    match &cli.command {
        Command::Completions { shell } => return completions(*shell, printer),
        Command::Man => return man(printer),
        _ => {}
    }
    let session = Session::load(&cli.global, printer)?;
    match cli.command {
        Command::Login(args) => login::run(&session, &args).await,
        Command::Logout => logout::run(&session).await,
        Command::Whoami => whoami::run(&session).await,
        Command::Status => status::run(&session).await,
        Command::Token { command } => {
            match command.unwrap_or(TokenCommand::List(ListArgs::default())) {
                TokenCommand::List(args) => token_list::run(&session, &args).await,
                TokenCommand::Create(args) => token_create::run(&session, &args).await,
                TokenCommand::Delete(args) => token_delete::run(&session, &args).await,
                TokenCommand::Rotate(args) => rotate::run(&session, &args).await,
                TokenCommand::Prune(args) => prune::run(&session, &args).await,
            }
        }
        Command::Keyring { command } => keyring::run(&session, &command),
        Command::Exec(args) => exec::run(&session, &args),
        Command::Completions { .. } | Command::Man => unreachable!("handled above"),
    }
}

fn completions(shell: clap_complete::Shell, printer: &Printer) -> Result<()> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "rtok", &mut script);
    printer.data(String::from_utf8_lossy(&script).trim_end())?;
    Ok(())
}

fn man(printer: &Printer) -> Result<()> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut page)?;
    printer.data(String::from_utf8_lossy(&page).trim_end())?;
    Ok(())
}

/// What every registry command needs: the loaded configuration and the
/// registry it talks to.
pub struct Session<'a> {
    pub global: &'a GlobalArgs,
    pub printer: &'a Printer,
    pub config: Config,
    pub registry: Url,
    /// The `@scope`, normalised to start with `@`, when `--scope` was given.
    pub scope: Option<String>,
    /// Every credential in the config, collected once.
    credentials: Credentials,
}

impl<'a> Session<'a> {
    /// Loads the configuration (each file once) and picks the registry:
    /// `--registry`, else `@scope:registry` for `--scope`, else `registry`,
    /// else npm's default.
    pub fn load(global: &'a GlobalArgs, printer: &'a Printer) -> Result<Session<'a>> {
        let env: HashMap<String, String> = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        let mut cli = Vec::new();
        if let Some(registry) = &global.registry {
            cli.push((
                "registry".to_string(),
                registry.clone(),
                "--registry".to_string(),
            ));
        }
        if let Some(userconfig) = &global.userconfig {
            cli.push((
                "userconfig".to_string(),
                userconfig.clone(),
                "--userconfig".to_string(),
            ));
        }
        let cwd = std::env::current_dir().context("could not read the current folder")?;
        let config = Config::load(&Inputs { cli, env, cwd })?;
        for warning in &config.warnings {
            printer.warn(warning);
        }

        let scope = global.scope.as_deref().map(|s| {
            if s.starts_with('@') {
                s.to_string()
            } else {
                format!("@{s}")
            }
        });
        let scoped = scope
            .as_ref()
            .filter(|_| global.registry.is_none())
            .and_then(|scope| config.get(&format!("{scope}:registry")))
            .filter(|s| !s.value.is_empty());
        let (text, origin) =
            match scoped.or_else(|| config.get("registry").filter(|s| !s.value.is_empty())) {
                Some(setting) => (setting.value.clone(), Some(setting.origin.to_string())),
                None => (DEFAULT_REGISTRY.to_string(), None),
            };
        let registry = parse_registry(&text, origin.as_deref())?;
        let credentials = Credentials::from_config(&config, &registry);
        Ok(Session {
            global,
            printer,
            config,
            registry,
            scope,
            credentials,
        })
    }

    /// The registry URL as messages show it.
    pub fn registry_display(&self) -> String {
        display_url(&self.registry)
    }

    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The credential configured for the registry, or the "log in first"
    /// failure (exit code 4).
    pub fn require_credential(&self) -> Result<Found> {
        match self.credentials().for_url(&self.registry)? {
            Some(found) => Ok(found),
            None => Err(Failure::auth(format!(
                "not logged in to {}: no token or password for it in the config files or the environment",
                self.registry_display()
            ))
            .hint(format!("run `rtok login --registry {}`", self.registry_display()))
            .into()),
        }
    }

    /// The bearer token this machine uses for the registry, if it uses one.
    pub fn current_token(&self) -> Option<Secret> {
        self.credentials()
            .for_url(&self.registry)
            .ok()
            .flatten()
            .and_then(|found| found.token().cloned())
    }

    /// The one-time password from `--otp` or the `otp` setting.
    pub fn otp(&self) -> Option<Secret> {
        self.global
            .otp
            .clone()
            .or_else(|| self.config.value("otp").map(str::to_string))
            .filter(|otp| !otp.is_empty())
            .map(Secret::new)
    }

    /// The account password: `--password-stdin`, `--password`, or a no-echo
    /// prompt on a terminal; without any of them, an error naming the flag.
    pub fn password(&self, args: &PasswordArgs, purpose: &str) -> Result<Secret> {
        if args.password_stdin {
            return prompt::secret_from_stdin("password");
        }
        if let Some(password) = &args.password {
            self.printer.warn(
                "`--password` is visible to other users of this machine; prefer `--password-stdin`",
            );
            return Ok(Secret::new(password.clone()));
        }
        if prompt::interactive() {
            return prompt::secret("Password: ");
        }
        Err(Failure::auth(format!(
            "a password is needed to {purpose}, and there is no terminal to ask for it"
        ))
        .hint("pipe it in with `--password-stdin`")
        .into())
    }

    /// A registry client for `command` (sent as `npm-command`).
    pub fn client(&self, command: &'static str) -> Result<Registry> {
        let network = Network::from_config(&self.config)?;
        if !network.strict_ssl && self.registry.scheme() == "https" {
            self.printer
                .warn("`strict-ssl` is false: the registry's TLS certificate is not checked");
        }
        Ok(Registry::new(ClientConfig {
            registry: self.registry.clone(),
            credentials: self.credentials.clone(),
            network,
            command,
            observer: Some(observer(self.printer)),
        })?)
    }
}

fn parse_registry(text: &str, origin: Option<&str>) -> Result<Url> {
    let from = origin.map(|o| format!(" (from {o})")).unwrap_or_default();
    let url = Url::parse(text.trim()).map_err(|_| {
        Failure::new(format!("the registry `{text}`{from} is not a URL"))
            .hint("registries look like `https://registry.npmjs.org/`")
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(Failure::new(format!(
            "the registry `{}`{from} is not an http(s) URL",
            display_url(&url)
        ))
        .hint("registries look like `https://registry.npmjs.org/`")
        .into());
    }
    Ok(url)
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
        Event::Notice(text) => printer.status(&format!("notice: {text}")),
        Event::Warning(text) => printer.warn(text),
    })
}
