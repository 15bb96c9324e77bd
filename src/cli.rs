//! The command line: clap types only. Doc comments here are the help text.

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::secret::Secret;
use crate::tokens::{FailOn, Permission};

/// Manage npm registry credentials and access tokens, fast.
///
/// rtok reads and writes the same `.npmrc` files as npm and talks to any
/// registry that speaks the npm registry API (npmjs, Verdaccio, GitHub
/// Packages, Artifactory, Nexus).
#[derive(Debug, Parser)]
#[command(name = "rtok", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Options every command accepts, before or after the subcommand.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Registry base URL; overrides every config file
    #[arg(long, global = true, value_name = "URL")]
    pub registry: Option<String>,

    /// Use the registry configured as `@scope:registry`
    #[arg(long, global = true, value_name = "@SCOPE")]
    pub scope: Option<String>,

    /// User config file [default: ~/.npmrc, or NPM_CONFIG_USERCONFIG]
    #[arg(long, global = true, value_name = "PATH")]
    pub userconfig: Option<String>,

    /// One-time password for accounts with two-factor authentication
    #[arg(long, global = true, value_name = "CODE")]
    pub otp: Option<Secret>,

    /// Machine-readable JSON on stdout
    #[arg(long, global = true, conflicts_with = "parseable")]
    pub json: bool,

    /// Tab-separated lines on stdout, as npm's --parseable
    #[arg(long, global = true)]
    pub parseable: bool,

    /// When to use colour
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// Log each HTTP request and its status to stderr (secrets redacted)
    #[arg(short, long, global = true)]
    pub verbose: bool,

    /// Print only what was asked for (errors still go to stderr)
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Log in to a registry and store its token in the user config
    Login(LoginArgs),

    /// Revoke the session token and remove the registry's credentials from the file that held them
    Logout,

    /// Print the user name the registry knows the configured credential by
    Whoami,

    /// Check every registry this machine has credentials for: kind, expiry, state (exit 1 if any
    /// is not ok)
    Status(StatusArgs),

    /// Explain which credential npm uses in this folder and what is wrong with it (exit 1 on an
    /// error)
    Doctor,

    /// Print a shell completion script (source it from your shell's startup file)
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },

    /// Print rtok's man page (roff) on stdout
    Man,

    /// List, create and revoke access tokens
    #[command(subcommand_required = false, args_conflicts_with_subcommands = true)]
    Token {
        #[command(subcommand)]
        command: Option<TokenCommand>,
    },

    /// Trusted publishing: exchange the CI job's OIDC identity for a short-lived publish token
    Oidc {
        #[command(subcommand)]
        command: OidcCommand,
    },

    /// Find npm credentials written into files or git history; verify and revoke them
    /// (exit 1 when any are found)
    Scan(ScanArgs),

    /// Move tokens between the user config and the system keyring
    Keyring {
        #[command(subcommand)]
        command: KeyringCommand,
    },

    /// Run a command (npm, pnpm, yarn...) with the registry credentials in its environment only
    Exec(ExecArgs),

    /// Print `Bearer <token>` for a registry: pnpm's `tokenHelper` (in auth.ini)
    #[command(hide = true)]
    TokenHelper(TokenHelperArgs),
    /// Staged publishes awaiting approval: list, view, approve (one two-factor step for a
    /// batch), reject, download
    Stage {
        #[command(subcommand)]
        command: StageCommand,
    },

    /// Packages' trusted-publishing configurations: list, revoke, and sync a whole monorepo
    Trust {
        #[command(subcommand)]
        command: TrustCommand,
    },

    /// Write fresh tokens of the registries' providers (CodeArtifact, gcloud, az, gh) into the
    /// client files, for tools that only read files (cron, CI steps)
    Refresh(RefreshArgs),
}

#[derive(Debug, Subcommand)]
pub enum StageCommand {
    /// List the staged versions (every page), optionally of one package
    #[command(visible_alias = "ls")]
    List(StageListArgs),

    /// Show one staged version
    View(StageIdArg),

    /// Approve staged versions: publish them (exit 1 if any failed)
    ///
    /// One two-factor step serves the whole batch where the registry accepts it: the `--otp`
    /// code, or the code typed once, is reused and asked again only when refused. Versions of
    /// one workspace go in dependency order. With no ids on a terminal, pick from the list.
    Approve(StageApproveArgs),

    /// Reject staged versions: delete them and their tarballs from the registry
    Reject(StageRejectArgs),

    /// Download a staged version's tarball
    Download(StageDownloadArgs),
}

#[derive(Debug, Clone, Args)]
pub struct StageListArgs {
    /// Only this package's staged versions
    #[arg(value_name = "PACKAGE")]
    pub package: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct StageIdArg {
    /// The stage id (a UUID, as `rtok stage list` shows)
    #[arg(value_name = "ID")]
    pub id: String,
}

#[derive(Debug, Clone, Args)]
pub struct StageApproveArgs {
    /// Stage ids (UUIDs); none on a terminal: pick from the list
    #[arg(value_name = "ID", conflicts_with = "all")]
    pub ids: Vec<String>,

    /// Every staged version (of `--package`, when given)
    #[arg(long)]
    pub all: bool,

    /// Only this package's staged versions
    #[arg(long, value_name = "PACKAGE", requires = "all")]
    pub package: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct StageRejectArgs {
    /// Stage ids (UUIDs)
    #[arg(value_name = "ID", required = true)]
    pub ids: Vec<String>,

    /// Do not ask for confirmation
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Debug, Clone, Args)]
pub struct StageDownloadArgs {
    /// The stage id (a UUID)
    #[arg(value_name = "ID")]
    pub id: String,

    /// Where to write the tarball [default: `<name>-<version>-<id>.tgz` here, as npm names it]
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum TrustCommand {
    /// List packages' trusted-publishing configurations
    #[command(visible_alias = "ls")]
    List(TrustListArgs),

    /// Revoke a package's trusted-publishing configuration
    Revoke(TrustRevokeArgs),

    /// Make packages' trusted-publishing configurations what flags or a manifest say
    ///
    /// Reads each package's configuration, prints the plan (create; replace, which is revoke
    /// and create since a package holds one; unchanged), and after a confirmation applies it,
    /// a package every 2 s or so, reusing one two-factor code. Without provider flags it reads
    /// `--manifest` (default ./trust.toml):
    ///
    ///   [defaults]                 # applies to every package below
    ///   github = "acme/tools"      # or gitlab = "group/project" with file = "..."
    ///   workflow = "release.yml"
    ///   environment = "npm"        # optional
    ///   allow = ["stage-publish"]  # "publish", "stage-publish"
    ///
    ///   [package."@acme/cli"]      # a name or a glob over the workspace packages
    ///   allow = ["publish", "stage-publish"]
    #[command(verbatim_doc_comment)]
    Sync(TrustSyncArgs),
}

#[derive(Debug, Clone, Args)]
pub struct TrustListArgs {
    /// Packages [default: the `name` in ./package.json]
    #[arg(value_name = "PACKAGE")]
    pub packages: Vec<String>,

    /// Every workspace package of ./package.json `workspaces` or ./pnpm-workspace.yaml
    #[arg(long)]
    pub workspaces: bool,
}

#[derive(Debug, Clone, Args)]
pub struct TrustRevokeArgs {
    /// The package
    #[arg(value_name = "PACKAGE")]
    pub package: String,

    /// The configuration's id (as `rtok trust list` shows)
    #[arg(long, value_name = "ID")]
    pub id: String,
}

#[derive(Debug, Clone, Args)]
pub struct TrustSyncArgs {
    /// Packages to configure [default with provider flags: the `name` in ./package.json]
    #[arg(value_name = "PACKAGE")]
    pub packages: Vec<String>,

    /// Every workspace package (of ./package.json `workspaces` or ./pnpm-workspace.yaml)
    #[arg(long)]
    pub workspaces: bool,

    /// GitHub Actions: the repository, OWNER/REPO
    #[arg(long, value_name = "OWNER/REPO", conflicts_with_all = ["gitlab", "manifest"], requires = "workflow")]
    pub github: Option<String>,

    /// GitHub Actions: the workflow file name (e.g. `release.yml`)
    #[arg(long, value_name = "FILE", requires = "github")]
    pub workflow: Option<String>,

    /// GitLab CI/CD: the project, GROUP/PROJECT
    #[arg(
        long,
        value_name = "GROUP/PROJECT",
        conflicts_with = "manifest",
        requires = "file"
    )]
    pub gitlab: Option<String>,

    /// GitLab CI/CD: the CI file name (e.g. `.gitlab-ci.yml`)
    #[arg(long, value_name = "FILE", requires = "gitlab")]
    pub file: Option<String>,

    /// The CI environment the publisher must run in
    #[arg(long, value_name = "ENV")]
    pub environment: Option<String>,

    /// What the publisher may do: `publish`, `stage-publish` (repeatable; at least one)
    #[arg(long, value_name = "ACTION")]
    pub allow: Vec<String>,

    /// The trust manifest (TOML) [default: ./trust.toml when no provider flag is given]
    #[arg(long, value_name = "FILE")]
    pub manifest: Option<std::path::PathBuf>,

    /// Print the plan, change nothing
    #[arg(long, short = 'n')]
    pub dry_run: bool,

    /// Do not ask for confirmation
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// Pause between packages (npm advises about 2 s)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, hide = true, default_value = "2s")]
    pub pace: std::time::Duration,
}

#[derive(Debug, Clone, Args)]
pub struct RefreshArgs {
    /// Every registry with a provider, not only the configured one (`--registry`/`--scope`)
    #[arg(long, conflicts_with_all = ["registry", "scope"])]
    pub all: bool,

    #[command(flatten)]
    pub clients: ClientsArg,

    /// Leave a written token alone while it has more than this left (e.g. `30m`)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "15m")]
    pub min_remaining: std::time::Duration,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// List your tokens: id, token (masked), name, created, read-only, CIDR whitelist
    #[command(visible_alias = "ls")]
    List(ListArgs),

    /// Create a token and print it once
    Create(CreateArgs),

    /// Revoke tokens by short id, unique key prefix, or the token value itself
    #[command(visible_aliases = ["revoke", "rm", "remove"])]
    Delete(DeleteArgs),

    /// Replace a token with a new one with the same restrictions, then revoke the old one
    Rotate(RotateArgs),

    /// Revoke the tokens that match filters (expired, old, unused, by name...)
    Prune(PruneArgs),

    /// Judge every listed token against a policy: expiry, lifetime, last use, CIDR, 2FA, scope
    Audit(AuditArgs),
}

#[derive(Debug, Clone, Default, Args)]
pub struct StatusArgs {
    /// Count credentials expiring within this long as failures (e.g. `14d`), for scheduled CI
    /// jobs [default: warn about those expiring within 7 days]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub expiring_within: Option<std::time::Duration>,
}

#[derive(Debug, Clone, Default, Args)]
pub struct AuditArgs {
    /// Tokens not used (or, never used, created) for longer than this are `unused`
    /// [default: `[audit] unused-for` in rtok's config.toml, else 90d]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub unused_for: Option<std::time::Duration>,

    /// Write tokens living longer than this are `long-lived`
    /// [default: `[audit] max-lifetime`, else 90d]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub max_lifetime: Option<std::time::Duration>,

    /// Exit 1 when a finding is at least this severe [default: `[audit] fail-on`, else error]
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<FailOn>,
}

#[derive(Debug, Clone, Default, Args)]
pub struct ListArgs {
    /// Order the list
    #[arg(long, value_enum, value_name = "FIELD")]
    pub sort: Option<SortField>,

    /// Show only these tokens
    #[arg(long, value_enum, value_name = "KIND")]
    pub filter: Option<ListFilter>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SortField {
    Created,
    Expiry,
    Name,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFilter {
    Expired,
    ReadOnly,
    Publish,
}

/// How many revocations may be in flight at once.
#[derive(Debug, Clone, Args)]
pub struct JobsArgs {
    /// Revocations in flight at once
    #[arg(long, short = 'j', value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,
}

#[derive(Debug, Clone, Args)]
pub struct RotateArgs {
    /// The token to replace: a short id, a unique key prefix, or `current` (the one this machine uses)
    #[arg(value_name = "ID|current")]
    pub token: String,

    #[command(flatten)]
    pub password: PasswordArgs,

    #[command(flatten)]
    pub clients: ClientsArg,
}

#[derive(Debug, Clone, Args)]
#[command(group(clap::ArgGroup::new("selection").required(true).multiple(true)))]
pub struct PruneArgs {
    /// Tokens whose expiry date has passed
    #[arg(long, group = "selection")]
    pub expired: bool,

    /// Tokens created longer ago than this (e.g. `90d`, `12weeks`)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, group = "selection")]
    pub older_than: Option<std::time::Duration>,

    /// Tokens not used for this long (when the registry reports last use)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, group = "selection")]
    pub unused_for: Option<std::time::Duration>,

    /// Only read-only tokens
    #[arg(long, conflicts_with = "publish", group = "selection")]
    pub read_only: bool,

    /// Only publish (read-write) tokens
    #[arg(long, group = "selection")]
    pub publish: bool,

    /// Tokens whose name matches this glob (`*` and `?`)
    #[arg(long, value_name = "GLOB", group = "selection")]
    pub name: Option<String>,

    /// Also revoke the token this machine uses for the registry
    #[arg(long)]
    pub include_current: bool,

    /// Show what would be revoked, revoke nothing
    #[arg(long, short = 'n')]
    pub dry_run: bool,

    /// Do not ask for confirmation
    #[arg(long, short = 'y')]
    pub yes: bool,

    #[command(flatten)]
    pub jobs: JobsArgs,
}

fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    crate::time::parse_duration(text)
}

#[derive(Debug, Clone, Default, Args)]
pub struct PasswordArgs {
    /// Read the account password from standard input
    #[arg(long, conflicts_with = "password")]
    pub password_stdin: bool,

    /// The account password (visible to other users of this machine; prefer
    /// --password-stdin). Accepted for npm compatibility.
    #[arg(long, value_name = "PASSWORD", hide_env_values = true)]
    pub password: Option<Secret>,
}

#[derive(Debug, Clone, Default, Args)]
pub struct CreateArgs {
    /// Create a read-only token (sent as `readonly: true`)
    #[arg(long)]
    pub read_only: bool,

    /// Allow the token only from these IPv4 ranges (repeatable, or comma-separated)
    #[arg(long, value_name = "CIDR")]
    pub cidr: Vec<String>,

    #[command(flatten)]
    pub password: PasswordArgs,

    /// Name of a granular token
    #[arg(long)]
    pub name: Option<String>,

    /// Description of a granular token
    #[arg(long, value_name = "TEXT")]
    pub token_description: Option<String>,

    /// Days until the token expires
    #[arg(long, value_name = "DAYS")]
    pub expires: Option<u32>,

    /// Packages the token may access (repeatable)
    #[arg(long, value_name = "PACKAGE", num_args = 1..)]
    pub packages: Vec<String>,

    /// Let the token access all packages
    #[arg(long)]
    pub packages_all: bool,

    /// Scopes the token may access (repeatable)
    #[arg(long, value_name = "SCOPE", num_args = 1..)]
    pub scopes: Vec<String>,

    /// Organizations the token may access (repeatable)
    #[arg(long, value_name = "ORG", num_args = 1..)]
    pub orgs: Vec<String>,

    /// Permission on the packages and scopes (`read-write-stage-only`: publish only by staging)
    #[arg(long, value_enum, value_name = "PERMISSION")]
    pub packages_and_scopes_permission: Option<Permission>,

    /// A stage-only token: it can `npm stage publish` (a human then approves with `rtok stage
    /// approve`), move dist-tags and deprecate, but never publish directly. Same as
    /// `--packages-and-scopes-permission read-write-stage-only`
    #[arg(long, conflicts_with_all = ["read_only", "packages_and_scopes_permission"])]
    pub stage_only: bool,

    /// Permission on the organizations
    #[arg(long, value_enum, value_name = "PERMISSION")]
    pub orgs_permission: Option<Permission>,

    /// Let the token publish without two-factor authentication
    #[arg(long = "bypass-2fa")]
    pub bypass_2fa: bool,
}

#[derive(Debug, Clone, Args)]
pub struct LoginArgs {
    /// How to log in: in the browser (`web`), or with a user name and password (`legacy`)
    /// [default: the `auth-type` setting, else web]
    #[arg(long, value_enum, value_name = "TYPE")]
    pub auth_type: Option<AuthType>,

    /// User name for a legacy login (asked for on a terminal when missing)
    #[arg(long, value_name = "NAME")]
    pub username: Option<String>,

    #[command(flatten)]
    pub password: PasswordArgs,

    /// Where the token goes: the user config (`file`, which npm reads) or the
    /// system keyring (`keyring`; run npm through `rtok exec` then)
    /// [default: the `storage` setting of rtok's settings, else file]
    #[arg(long, value_enum, value_name = "WHERE")]
    pub storage: Option<StorageChoice>,

    #[command(flatten)]
    pub clients: ClientsArg,
}

/// `--for npm,pnpm,yarn`: the clients whose credential files a write is for.
#[derive(Debug, Clone, Args)]
pub struct ClientsArg {
    /// Write for these clients: npm (~/.npmrc), pnpm (pnpm 11+'s auth.ini),
    /// yarn (~/.yarnrc.yml), comma-separated
    /// [default: the `clients` setting of rtok's settings, else npm and every
    /// client whose credential file exists]
    #[arg(long = "for", value_name = "CLIENTS", value_delimiter = ',', value_parser = parse_client)]
    pub clients: Option<Vec<crate::client::Client>>,
}

fn parse_client(name: &str) -> Result<crate::client::Client, String> {
    crate::client::Client::parse(name.trim())
        .ok_or_else(|| format!("`{name}` is not a client rtok knows: npm, pnpm or yarn"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StorageChoice {
    File,
    Keyring,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthType {
    Web,
    Legacy,
}

#[derive(Debug, Clone, Args)]
pub struct DeleteArgs {
    /// Short ids (as `token list` shows), unique key prefixes, or token
    /// values; none on a terminal: pick from the list
    #[arg(value_name = "ID|TOKEN")]
    pub tokens: Vec<String>,

    #[command(flatten)]
    pub jobs: JobsArgs,
}

#[derive(Debug, Subcommand)]
pub enum OidcCommand {
    /// Exchange the CI's OIDC identity for a trusted-publishing token and print it
    ///
    /// The identity comes from `NPM_ID_TOKEN` (GitLab, CircleCI, any CI), else
    /// from GitHub Actions (the job needs `permissions: id-token: write`), else
    /// from `buildkite-agent` on Buildkite. `--json` prints the registry's
    /// whole answer.
    Token(OidcTokenArgs),

    /// Check that trusted publishing works for each package, printing one row each
    ///
    /// Tokens obtained are discarded, never printed. Exit 1 if any package fails.
    Check(OidcCheckArgs),
}

#[derive(Debug, Clone, Args)]
pub struct OidcTokenArgs {
    /// The package to publish [default: the `name` in ./package.json]
    #[arg(long, value_name = "NAME")]
    pub package: Option<String>,

    /// Print only `::add-mask::<token>` and append `NAME=<token>` to `$GITHUB_ENV`
    #[arg(long, value_name = "NAME", conflicts_with = "json")]
    pub github_env: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct OidcCheckArgs {
    /// A package to check (repeatable) [default: the `name` in ./package.json]
    #[arg(long, value_name = "NAME")]
    pub package: Vec<String>,

    /// Every workspace package of ./package.json `workspaces` or ./pnpm-workspace.yaml
    #[arg(long)]
    pub workspaces: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ScanArgs {
    /// Files and folders to scan [default: .]
    #[arg(value_name = "PATH")]
    pub paths: Vec<std::path::PathBuf>,

    /// Scan every blob of every commit reachable from any ref, instead of the files
    #[arg(long, conflicts_with = "staged")]
    pub git_history: bool,

    /// Scan only what is staged for the next commit (for pre-commit hooks)
    #[arg(long)]
    pub staged: bool,

    /// Ask the registry whether each secret is live (only registries in your own config)
    #[arg(long)]
    pub verify: bool,

    /// Revoke every live secret found (implies --verify); asks first on a terminal
    #[arg(long)]
    pub revoke: bool,

    /// Revoke without asking
    #[arg(long, short = 'y', requires = "revoke")]
    pub yes: bool,

    /// Output format [default: table, or json with --json]
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<ScanFormat>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScanFormat {
    Table,
    Json,
    Sarif,
}

#[derive(Debug, Subcommand)]
pub enum KeyringCommand {
    /// Move literal `_authToken` lines of the user config into the system keyring
    Import(KeyringArgs),

    /// Move tokens from the system keyring back into the user config
    Export(KeyringArgs),
}

#[derive(Debug, Clone, Args)]
pub struct KeyringArgs {
    /// Every registry, not only the configured one (`--registry`/`--scope`)
    #[arg(long, conflicts_with_all = ["registry", "scope"])]
    pub all: bool,

    #[command(flatten)]
    pub clients: ClientsArg,
}

#[derive(Debug, Clone, Args)]
#[command(
    after_help = "Examples:\n  rtok exec -- npm publish\n  rtok exec -- pnpm install --ignore-scripts"
)]
pub struct ExecArgs {
    /// Give CMD a fresh trusted-publishing token for the configured registry
    /// instead of its stored credential (exchanged for the CI job's OIDC
    /// identity; see `rtok oidc token`)
    #[arg(long)]
    pub oidc: bool,

    /// The package the trusted-publishing token is for [default: the `name`
    /// in ./package.json]
    #[arg(long, value_name = "NAME", requires = "oidc")]
    pub package: Option<String>,

    /// The command to run and its arguments (after `--`)
    #[arg(
        value_name = "CMD",
        required = true,
        num_args = 1..,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_parser = clap::value_parser!(std::ffi::OsString)
    )]
    pub command: Vec<std::ffi::OsString>,
}

/// `rtok token-helper <REGISTRY>`, as pnpm runs it.
#[derive(Debug, Clone, Args)]
pub struct TokenHelperArgs {
    /// The registry whose credential to print (`https://registry.example/`)
    #[arg(value_name = "REGISTRY")]
    pub url: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_options_work_after_the_subcommand() {
        let cli = Cli::try_parse_from(["rtok", "token", "ls", "--json", "--registry", "http://x/"])
            .expect("parse");
        assert!(cli.global.json);
        assert_eq!(cli.global.registry.as_deref(), Some("http://x/"));
        assert!(matches!(
            cli.command,
            Command::Token {
                command: Some(TokenCommand::List(_))
            }
        ));
    }

    #[test]
    fn token_alone_lists() {
        let cli = Cli::try_parse_from(["rtok", "token"]).expect("parse");
        assert!(matches!(cli.command, Command::Token { command: None }));
    }

    #[test]
    fn delete_aliases() {
        for alias in ["delete", "revoke", "rm", "remove"] {
            let cli = Cli::try_parse_from(["rtok", "token", alias, "abc123"]).expect("parse");
            assert!(matches!(
                cli.command,
                Command::Token {
                    command: Some(TokenCommand::Delete(_))
                }
            ));
        }
        // No ids parses: on a terminal the user picks from the list, and
        // without one it is a usage error (tests/cli/token_delete.rs).
        assert!(Cli::try_parse_from(["rtok", "token", "delete"]).is_ok());
    }

    #[test]
    fn exec_takes_the_rest_of_the_line() {
        let cli = Cli::try_parse_from([
            "rtok",
            "exec",
            "--registry",
            "http://x/",
            "--",
            "npm",
            "--json",
            "whoami",
        ])
        .expect("parse");
        assert_eq!(cli.global.registry.as_deref(), Some("http://x/"));
        let Command::Exec(args) = cli.command else {
            panic!("exec")
        };
        assert_eq!(args.command, ["npm", "--json", "whoami"]);
        assert!(Cli::try_parse_from(["rtok", "exec"]).is_err());
        assert!(
            Cli::try_parse_from([
                "rtok",
                "keyring",
                "import",
                "--all",
                "--registry",
                "http://x/"
            ])
            .is_err()
        );
    }

    #[test]
    fn cidr_repeats() {
        let cli = Cli::try_parse_from([
            "rtok",
            "token",
            "create",
            "--cidr",
            "10.0.0.0/8",
            "--cidr",
            "1.2.3.4/32",
        ])
        .expect("parse");
        let Command::Token {
            command: Some(TokenCommand::Create(args)),
        } = cli.command
        else {
            panic!("create")
        };
        assert_eq!(args.cidr.len(), 2);
    }
}
