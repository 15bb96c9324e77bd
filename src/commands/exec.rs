//! `rtok exec -- CMD [ARG]...`: runs CMD with the registry credentials in
//! its environment only, in the forms each client reads
//! (`config::child_config` and `config::child_yarn` know which):
//!
//! - a temporary user config (`NPM_CONFIG_USERCONFIG`): the user's own
//!   `.npmrc` with every credential replaced by `${RTOK_TOKEN_n}`, so it
//!   holds no secret, in a private folder (0700, the file 0600) removed
//!   when CMD ends, also when a signal ends it; the values travel in
//!   `RTOK_TOKEN_n`, names every `sh` passes on to a `package.json` script
//!   (Debian's dash drops `npm_config_//host/:_authToken`);
//! - `npm_config_//<nerf>:_authToken` (`_auth` for basic credentials), which
//!   npm and pnpm 11+ read above `auth.ini`, and `pnpm_config__auth`, which
//!   pnpm 11.10+ reads above everything;
//! - `NODE_AUTH_TOKEN` and `YARN_NPM_AUTH_TOKEN` for the configured
//!   registry (setup-node's convention) when every line of the clients'
//!   files that refers to them gives them to that registry; no host scopes
//!   those two, so a project file could otherwise send the token anywhere;
//! - for yarn berry, which reads no `.npmrc`: `YARN_NPM_REGISTRY_SERVER`
//!   beside `YARN_NPM_AUTH_TOKEN`, or the variable a `.yarnrc.yml` entry
//!   refers to; an entry yarn prefers that no variable can override gets
//!   one note on stderr naming its file and line.
//!
//! Nothing of rtok's is printed on success; rtok exits with CMD's code
//! (128 + N when a signal N killed it, 127 when it is not found), and on
//! Unix forwards to it every signal another process sends rtok that rtok
//! can catch (see `platform::FORWARDED`), so none leaves CMD running on its
//! own, then removes the temporary user config.
//!
//! Why spawn and wait rather than exec(2): the exit code is rtok's own to
//! give (a signal death becomes 128 + N for any caller, not only shells),
//! what other processes send rtok reaches CMD, and rtok is still there to
//! remove the temporary user config.

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, ExitStatus};

use anyhow::Result;
use url::Url;

use super::connect;
use crate::cli::ExecArgs;
use crate::config::child_config::{self, Handed, HandedValue, Route};
use crate::config::child_yarn;
use crate::display::display_url;
use crate::failure::Failure;
use crate::npmrc::nerf_dart;
use crate::oidc::{self, workspaces};
use crate::output::{Printer, visible};
use crate::secret::Secret;
use crate::settings::Settings;

/// The names the parent may have given a user config file that a client
/// reads (npm's in any case, pnpm 11's own): each the child gets points at
/// the temporary one, so there is one answer.
const USERCONFIG_NAMES: [&str; 4] = [
    "pnpm_config_userconfig",
    "PNPM_CONFIG_USERCONFIG",
    "pnpm_config_npmrc_auth_file",
    "PNPM_CONFIG_NPMRC_AUTH_FILE",
];

pub(super) async fn run(settings: &Settings, args: &ExecArgs, printer: &Printer) -> Result<()> {
    let cwd = std::env::current_dir();
    // The configured registry's credential (the one `--oidc` replaces with
    // a fresh trusted-publishing token); every other stays as it is.
    let configured = if args.oidc {
        trusted_publishing(settings, printer, args.package.as_deref()).await?
    } else {
        configured_credential(settings)?
    };
    let mut injected = vec![configured];
    for (url, scopes) in scope_registries(settings) {
        let routes = scopes.into_iter().map(Route::Scope).collect();
        add_other(settings, printer, &url, routes, &mut injected);
    }
    for recorded in settings.rtok.registries() {
        add_other(settings, printer, &recorded.url, Vec::new(), &mut injected);
    }

    let mut host_free = host_free_variables(settings, printer, cwd.as_deref().ok());
    let yarn = match &cwd {
        Ok(cwd) => child_yarn::plan(&settings.config, cwd, &injected),
        Err(_) => child_yarn::YarnPlan::default(),
    };
    for note in &yarn.notes {
        printer.warn(&visible(note));
    }
    let yarn_top_level = host_free.contains(&"YARN_NPM_AUTH_TOKEN") && yarn.top_level_token;
    if !yarn.top_level_token && host_free.contains(&"YARN_NPM_AUTH_TOKEN") {
        host_free.retain(|name| *name != "YARN_NPM_AUTH_TOKEN");
        if let Some(note) = &yarn.top_level_note {
            printer.warn(&visible(note));
        }
    }

    // The user config the child reads, without a secret, in a private
    // folder removed below (its guard also removes it on an early return).
    let original = match settings.config.user_config_path() {
        Some(path) => crate::private_file::read_regular(path)?.unwrap_or_default(),
        None => Vec::new(),
    };
    let lookup = |name: &str| settings.config.env().get(name).cloned();
    let userconfig = child_config::userconfig(&original, &injected, &lookup);
    let folder = crate::private_file::private_temp_dir("rtok-exec-")?;
    let userconfig_path = folder.path().join("npmrc");
    crate::private_file::write_new_private(&userconfig_path, &userconfig.bytes)?;

    let mut command = Command::new(&args.command[0]);
    command.args(&args.command[1..]);
    for (name, value) in environment(&injected, &host_free) {
        command.env(name, value.expose());
    }
    for (name, value) in &userconfig.variables {
        command.env(name, value.expose());
    }
    for name in userconfig_names(settings) {
        command.env(name, &userconfig_path);
    }
    let parent_auth = lookup("pnpm_config__auth")
        .filter(|v| !v.is_empty())
        .or_else(|| lookup("PNPM_CONFIG__AUTH"));
    if let Some(value) = child_config::pnpm_auth(&injected, parent_auth.as_deref()) {
        command.env("pnpm_config__auth", value.expose());
    }
    for (name, value) in &yarn.variables {
        command.env(name, value.expose());
    }
    if yarn_top_level && let Some(server) = &yarn.registry_server {
        command.env("YARN_NPM_REGISTRY_SERVER", server);
    }
    let code = spawn_and_wait(printer, command, &args.command[0]);
    // CMD has ended (a signal rtok got was forwarded to it first): its user
    // config goes before rtok exits.
    if let Err(err) = folder.close() {
        printer.warn(&format!(
            "could not remove the command's temporary user config {}: {err}",
            userconfig_path.display()
        ));
    }
    std::process::exit(code)
}

/// `NPM_CONFIG_USERCONFIG`, and every other name of a user config file the
/// parent set (`npm_config_userconfig`, pnpm's own), for the temporary one.
fn userconfig_names(settings: &Settings) -> Vec<String> {
    let mut names = vec!["NPM_CONFIG_USERCONFIG".to_string()];
    for name in settings.config.env().keys() {
        let known = name.eq_ignore_ascii_case("NPM_CONFIG_USERCONFIG")
            || USERCONFIG_NAMES.contains(&name.as_str());
        if known && !names.contains(name) {
            names.push(name.clone());
        }
    }
    names.sort();
    names
}

/// The variables no host scopes that carry the configured registry's token.
const HOST_FREE: [&str; 2] = ["NODE_AUTH_TOKEN", "YARN_NPM_AUTH_TOKEN"];

/// Those of `HOST_FREE` that every line referring to them (in any `.npmrc`
/// layer or `.yarnrc.yml` CMD's clients read) gives to the configured
/// registry's own host; each of the others gets one note on stderr naming
/// the first line that gives it elsewhere.
fn host_free_variables(
    settings: &Settings,
    printer: &Printer,
    cwd: Option<&Path>,
) -> Vec<&'static str> {
    let Some(cwd) = cwd else {
        printer.warn(
            "`NODE_AUTH_TOKEN` and `YARN_NPM_AUTH_TOKEN` are left unset for the command: the current folder cannot be read",
        );
        return Vec::new();
    };
    let own = crate::npmrc::credential_prefixes(&settings.registry);
    let configured = nerf_dart(&settings.registry);
    let mut allowed = Vec::new();
    for name in HOST_FREE {
        let references = crate::config::references::find(&settings.config, cwd, name);
        let elsewhere = references
            .iter()
            .find(|r| !r.registry.as_ref().is_some_and(|nerf| own.contains(nerf)));
        let Some(reference) = elsewhere else {
            allowed.push(name);
            continue;
        };
        let place = format!("{}:{}", reference.file.display(), reference.line);
        let why = match &reference.registry {
            Some(other) => format!("would send it to {other}, not to {configured}"),
            None => "refers to it other than as a registry's credential".to_string(),
        };
        printer.warn(&visible(&format!(
            "`{name}` is left unset for the command: {place} {why}"
        )));
    }
    allowed
}

/// The variables for CMD: each credential under its nerf dart, and the
/// first (the configured registry's) token also under each name of
/// `host_free`.
fn environment(injected: &[Handed], host_free: &[&str]) -> Vec<(String, Secret)> {
    let mut vars = Vec::new();
    for (index, one) in injected.iter().enumerate() {
        match &one.value {
            HandedValue::Token(token) => {
                vars.push((format!("npm_config_{}:_authToken", one.nerf), token.clone()));
                if index == 0 {
                    for name in host_free {
                        vars.push((name.to_string(), token.clone()));
                    }
                }
            }
            HandedValue::Basic(encoded) => {
                vars.push((format!("npm_config_{}:_auth", one.nerf), encoded.clone()));
            }
            HandedValue::Nothing => {}
        }
    }
    vars
}

/// The configured registry's credential: npm's layers first, then rtok's
/// settings (credential command, keyring). None at all: exit 4, CMD not run.
fn configured_credential(settings: &Settings) -> Result<Handed> {
    match settings.credentials.for_url(&settings.registry)? {
        Some(found) => Ok(Handed::from_found(
            found,
            &settings.registry,
            configured_routes(settings),
        )),
        None => {
            let shown = settings.registry_display();
            Err(Failure::auth(format!(
                "not logged in to {shown}: no token or password for it in the config files, the environment or rtok's settings, so the command was not run"
            ))
            .hint(format!("run `rtok login --registry {shown}`"))
            .into())
        }
    }
}

/// `--oidc`: a trusted-publishing token for the package, exchanged for the
/// CI job's identity, as the configured registry's credential. A failed
/// exchange stops here (exit 1, 4 for a 401): CMD is not run.
async fn trusted_publishing(
    settings: &Settings,
    printer: &Printer,
    package: Option<&str>,
) -> Result<Handed> {
    let package = match package {
        Some(package) => package.to_string(),
        None => {
            let cwd = std::env::current_dir()
                .map_err(|err| anyhow::anyhow!("could not read the current folder: {err}"))?;
            workspaces::package_name(&cwd)?
        }
    };
    let registry = connect::client(settings, printer, "publish")?;
    let token = oidc::fresh_token(&registry, &package).await?;
    Ok(Handed {
        url: settings.registry.clone(),
        nerf: nerf_dart(&settings.registry),
        value: HandedValue::Token(token),
        routes: configured_routes(settings),
    })
}

/// Adds the credential for another registry (a scope's, or one rtok's
/// settings name) unless one for its nerf dart is there already; one that
/// cannot be had is a warning, not a reason to stop.
fn add_other(
    settings: &Settings,
    printer: &Printer,
    url: &Url,
    routes: Vec<Route>,
    injected: &mut Vec<Handed>,
) {
    if let Some(known) = injected.iter_mut().find(|i| i.nerf == nerf_dart(url)) {
        for route in routes {
            if !known.routes.contains(&route) {
                known.routes.push(route);
            }
        }
        return;
    }
    match settings.credentials.for_url(url) {
        Ok(Some(found)) if !injected.iter().any(|i| i.nerf == found.nerf.as_str()) => {
            injected.push(Handed::from_found(found, url, routes))
        }
        Ok(_) => {}
        Err(err) => printer.warn(&format!(
            "no credential for {} in the command's environment: {err}",
            display_url(url),
        )),
    }
}

/// What npm's configuration routes to the configured registry: the
/// default registry, or the scope of `--scope`.
fn configured_routes(settings: &Settings) -> Vec<Route> {
    match &settings.scope {
        Some(scope) => vec![Route::Scope(scope.clone())],
        None => vec![Route::Default],
    }
}

/// Every registry an `@scope:registry` of the configuration names, with
/// its scopes.
fn scope_registries(settings: &Settings) -> Vec<(Url, Vec<String>)> {
    let mut found: Vec<(Url, Vec<String>)> = Vec::new();
    for setting in settings.config.effective() {
        let Some(scope) = setting
            .key
            .strip_suffix(":registry")
            .filter(|scope| scope.starts_with('@'))
        else {
            continue;
        };
        let Some(url) = Url::parse(setting.value.trim())
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https"))
        else {
            continue;
        };
        match found.iter_mut().find(|(known, _)| *known == url) {
            Some((_, scopes)) => scopes.push(scope.to_string()),
            None => found.push((url, vec![scope.to_string()])),
        }
    }
    found.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
    found
}

/// Runs CMD and returns the code rtok exits with.
fn spawn_and_wait(printer: &Printer, command: Command, program: &OsString) -> i32 {
    match platform::spawn_and_wait(command) {
        Ok(status) => exit_code(status),
        Err(err) => {
            let name = program.to_string_lossy();
            let (message, hint, code) = match err.kind() {
                std::io::ErrorKind::NotFound => (
                    format!("command not found: `{name}`"),
                    "check the name, or give its path; `rtok exec` runs it without a shell, so shell functions and aliases are not found",
                    127,
                ),
                std::io::ErrorKind::PermissionDenied => (
                    format!("`{name}` cannot be run: permission denied"),
                    "make it executable (`chmod +x`), or run it through its interpreter (`rtok exec -- sh script`)",
                    126,
                ),
                _ => (
                    format!("could not run `{name}`: {err}"),
                    "check that it is a program this system can run",
                    126,
                ),
            };
            printer.error(&message, Some(hint));
            code
        }
    }
}

fn exit_code(status: ExitStatus) -> i32 {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return 128 + signal;
        }
    }
    status.code().unwrap_or(1)
}

#[cfg(unix)]
mod platform {
    //! Spawn, forward signals, wait.

    use std::process::{Command, ExitStatus};
    use std::sync::{Arc, Mutex};

    use rustix::process::{Pid, Signal, WaitId, WaitIdOptions, kill_process, waitid};
    use signal_hook::iterator::SignalsInfo;
    use signal_hook::iterator::exfiltrator::WithOrigin;
    use signal_hook::low_level::siginfo::Cause;

    /// Every signal rtok can catch whose default would end rtok (or that
    /// CMD may want: WINCH, CONT, URG), forwarded to CMD. Left out, each
    /// for its reason: KILL and STOP cannot be caught; SEGV, ILL, FPE, BUS,
    /// TRAP, SYS and ABRT report a fault of rtok itself (a handler that
    /// returns would run the faulting instruction again); CHLD is about
    /// rtok's own child; PIPE is ignored by Rust programs already, so it
    /// never kills rtok; TSTP, TTIN and TTOU stop rtok, not kill it, and
    /// catching them would break job control (Ctrl-Z would stop CMD and
    /// leave rtok running while the shell waits for it). Real-time signals
    /// are not forwarded (rustix has no safe way to name them here).
    const FORWARDED: &[Signal] = &[
        Signal::HUP,
        Signal::INT,
        Signal::QUIT,
        Signal::USR1,
        Signal::USR2,
        Signal::ALARM,
        Signal::TERM,
        Signal::CONT,
        Signal::URG,
        Signal::XCPU,
        Signal::XFSZ,
        Signal::VTALARM,
        Signal::PROF,
        Signal::WINCH,
        Signal::IO,
        #[cfg(any(target_os = "linux", target_os = "android"))]
        Signal::POWER,
    ];

    /// Spawns `command`, forwards the signals of `FORWARDED` that other
    /// processes send rtok (a signal the kernel sent, as the terminal does
    /// for Ctrl-C, reached the whole process group, CMD included), and
    /// waits for it.
    pub(super) fn spawn_and_wait(mut command: Command) -> std::io::Result<ExitStatus> {
        // Handlers first: a signal between spawning and installing them
        // would kill rtok and leave CMD running on its own. CMD starts with
        // default handlers and an empty signal mask (std resets both).
        let mut signals = SignalsInfo::<WithOrigin>::new(FORWARDED.iter().map(|s| s.as_raw()))?;
        // From here on these handlers decide; the credential commands' own
        // (which would end rtok on SIGINT) stand aside.
        crate::credential_command::leave_signals_to_caller();
        let mut child = command.spawn()?;
        let pid = Pid::from_raw(child.id() as i32);
        // Set once CMD has exited and before it is reaped, under the lock
        // the forwarder holds while it sends: no signal can reach another
        // process that got CMD's pid.
        let exited = Arc::new(Mutex::new(false));
        let forwarder_exited = Arc::clone(&exited);
        let handle = signals.handle();
        std::thread::spawn(move || {
            for origin in signals.forever() {
                if matches!(origin.cause, Cause::Kernel) {
                    continue;
                }
                let Some(signal) = Signal::from_named_raw(origin.signal) else {
                    continue;
                };
                // The lock is held while sending (see `exited`).
                if let (Ok(done), Some(pid)) = (forwarder_exited.lock(), pid)
                    && !*done
                {
                    let _ = kill_process(pid, signal);
                }
            }
        });
        if let Some(pid) = pid {
            // Waits without reaping, so the pid stays CMD's until the flag is set.
            while let Err(rustix::io::Errno::INTR) = waitid(
                WaitId::Pid(pid),
                WaitIdOptions::EXITED | WaitIdOptions::NOWAIT,
            ) {}
            if let Ok(mut done) = exited.lock() {
                *done = true;
            }
        }
        let status = child.wait();
        handle.close();
        status
    }
}

#[cfg(not(unix))]
mod platform {
    use std::process::{Command, ExitStatus};

    /// Ctrl-C reaches every process of the console, CMD included.
    pub(super) fn spawn_and_wait(mut command: Command) -> std::io::Result<ExitStatus> {
        command.spawn()?.wait()
    }
}
