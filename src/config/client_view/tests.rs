//! Each client's precedence, against the table of clients-2026.md §1.5
//! (pnpm 11.29.0 and 12.26.0, reproduced) and §1.6 (yarn 4.18.1).

use std::collections::HashMap;
use std::fs;

use super::*;
use crate::config::Inputs;

const REGISTRY: &str = "https://r.example/";

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().to_path_buf();
        fs::create_dir_all(root.join("home")).expect("home");
        fs::create_dir_all(root.join("project/sub")).expect("project");
        fs::write(root.join("project/package.json"), "{}").expect("package.json");
        Fixture { _dir: dir, root }
    }

    fn write(&self, relative: &str, text: &str) -> PathBuf {
        let path = self.root.join(relative);
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(&path, text).expect("write");
        path
    }

    fn load(&self, env: &[(&str, &str)]) -> (Config, Clients) {
        let config = self.config(env);
        let clients = Clients::read(&config, &self.root.join("project/sub")).expect("clients");
        (config, clients)
    }

    fn config(&self, env: &[(&str, &str)]) -> Config {
        let mut map: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        map.insert("HOME".into(), self.root.join("home").display().to_string());
        map.insert(
            "NPM_CONFIG_GLOBALCONFIG".into(),
            self.root.join("none").display().to_string(),
        );
        Config::load(&Inputs {
            cli: Vec::new(),
            env: map,
            cwd: self.root.join("project/sub"),
        })
        .expect("config")
    }

    /// What `flavor` sends to the registry for `scope`: the token, `none`,
    /// or `unset $VAR`, and where it is written (`home/.npmrc:1`).
    fn sent(&self, env: &[(&str, &str)], flavor: Flavor, scope: Option<&str>) -> (String, String) {
        let (config, clients) = self.load(env);
        let registry = Url::parse(REGISTRY).expect("url");
        let npm = Credentials::from_config(&config, &registry);
        let view = clients.view(flavor, &npm, &registry, scope);
        self.describe(view.winner.as_ref())
    }

    fn describe(&self, credential: Option<&LayerCredential>) -> (String, String) {
        let Some(credential) = credential else {
            return ("none".into(), String::new());
        };
        let what = match &credential.found {
            Ok(found) => match &found.credential {
                Some(Credential::Bearer(token)) => token.expose().to_string(),
                Some(Credential::Basic { username, .. }) => {
                    format!("basic {}", username.clone().unwrap_or_default())
                }
                None => "certificate".into(),
            },
            Err(CredentialError::UnsetVariable { var, .. }) => format!("unset ${var}"),
            Err(err) => format!("error {err}"),
        };
        let place = match &credential.origin {
            Origin::File { path, line, .. } => format!(
                "{}:{line}",
                path.strip_prefix(&self.root)
                    .expect("in the fixture")
                    .display()
            ),
            other => other.to_string(),
        };
        (what, place)
    }
}

fn pair(what: &str, place: &str) -> (String, String) {
    (what.to_string(), place.to_string())
}

const AUTH_INI: &str = "home/.config/pnpm/auth.ini";

#[test]
fn pnpm_reads_auth_ini_above_the_user_npmrc_and_not_pnpm10s_rc() {
    let fx = Fixture::new();
    fx.write("home/.config/pnpm/rc", "//r.example/:_authToken=from-rc\n");
    assert_eq!(
        fx.sent(&[], Flavor::Pnpm, None),
        pair("none", ""),
        "rc only"
    );
    fx.write("home/.npmrc", "//r.example/:_authToken=from-npmrc\n");
    fx.write(
        AUTH_INI,
        "; comment\n//r.example/:_authToken=from-auth-ini\n",
    );
    assert_eq!(
        fx.sent(&[], Flavor::Pnpm, None),
        pair("from-auth-ini", "home/.config/pnpm/auth.ini:2")
    );
    // pnpm 10 and npm never read auth.ini.
    assert_eq!(
        fx.sent(&[], Flavor::Pnpm10, None),
        pair("from-npmrc", "home/.npmrc:1")
    );
    assert_eq!(
        fx.sent(&[], Flavor::Npm, None),
        pair("from-npmrc", "home/.npmrc:1")
    );
    // The one it hides is listed.
    let (config, clients) = fx.load(&[]);
    let registry = Url::parse(REGISTRY).expect("url");
    let npm = Credentials::from_config(&config, &registry);
    let view = clients.view(Flavor::Pnpm, &npm, &registry, None);
    let hidden: Vec<_> = view.hidden.iter().map(|c| fx.describe(Some(c))).collect();
    assert_eq!(hidden, [pair("from-npmrc", "home/.npmrc:1")]);
}

#[test]
fn pnpm_auth_json_beats_everything_and_the_project_npmrc_beats_auth_ini() {
    let fx = Fixture::new();
    fx.write("home/.npmrc", "//r.example/:_authToken=from-npmrc\n");
    fx.write(AUTH_INI, "//r.example/:_authToken=from-auth-ini\n");
    fx.write("project/.npmrc", "//r.example/:_authToken=from-project\n");
    assert_eq!(
        fx.sent(&[], Flavor::Pnpm, None),
        pair("from-project", "project/.npmrc:1")
    );
    let json = r#"{"https://r.example/": {"@": {"authToken": "from-json"}}}"#;
    assert_eq!(
        fx.sent(
            &[
                ("pnpm_config__auth", json),
                ("npm_config_//r.example/:_authToken", "from-env")
            ],
            Flavor::Pnpm,
            None
        ),
        pair("from-json", "environment variable `pnpm_config__auth`")
    );
    // A malformed JSON value stops pnpm: an error, not a guess.
    let fx2 = Fixture::new();
    let (config, _) = fx2.load(&[]);
    let mut env = config.env().clone();
    env.insert("pnpm_config__auth".into(), "{not json".into());
    assert!(env_auth_layer(&env).is_err());
}

#[test]
fn pnpm_environment_credentials_and_which_prefix_wins() {
    let fx = Fixture::new();
    fx.write(AUTH_INI, "//r.example/:_authToken=from-auth-ini\n");
    assert_eq!(
        fx.sent(
            &[("npm_config_//r.example/:_authToken", "from-npm-env")],
            Flavor::Pnpm,
            None
        ),
        pair(
            "from-npm-env",
            "environment variable `npm_config_//r.example/:_authToken`"
        )
    );
    assert_eq!(
        fx.sent(
            &[
                ("npm_config_//r.example/:_authToken", "from-npm-env"),
                ("PNPM_CONFIG_//r.example/:_authToken", "from-pnpm-env")
            ],
            Flavor::Pnpm,
            None
        ),
        pair(
            "from-pnpm-env",
            "environment variable `PNPM_CONFIG_//r.example/:_authToken`"
        )
    );
    // pnpm 10 takes no credential from the environment.
    assert_eq!(
        fx.sent(
            &[("npm_config_//r.example/:_authToken", "from-npm-env")],
            Flavor::Pnpm10,
            None
        ),
        pair("none", "")
    );
}

#[test]
fn an_unset_variable_in_auth_ini_is_an_empty_token_that_still_hides_the_npmrc() {
    let fx = Fixture::new();
    fx.write("home/.npmrc", "//r.example/:_authToken=real\n");
    fx.write(AUTH_INI, "//r.example/:_authToken=${RTOK_UNSET}\n");
    assert_eq!(
        fx.sent(&[], Flavor::Pnpm, None),
        pair("unset $RTOK_UNSET", "home/.config/pnpm/auth.ini:1")
    );
    // Set, it is the token; pnpm's defaults work too.
    assert_eq!(
        fx.sent(&[("RTOK_UNSET", "now-set")], Flavor::Pnpm, None).0,
        "now-set"
    );
    fx.write(
        AUTH_INI,
        "//r.example/:_authToken=${RTOK_UNSET:-fallback}\n",
    );
    assert_eq!(fx.sent(&[], Flavor::Pnpm, None).0, "fallback");
}

#[test]
fn a_reference_in_the_project_npmrc_is_dropped_not_expanded() {
    let fx = Fixture::new();
    fx.write("project/.npmrc", "//r.example/:_authToken=${RTOK_TOKEN}\n");
    let env = [("RTOK_TOKEN", "would-be-sent")];
    assert_eq!(fx.sent(&env, Flavor::Pnpm, None), pair("none", ""));
    assert_eq!(fx.sent(&env, Flavor::Pnpm10, None), pair("none", ""));
    // npm expands it.
    assert_eq!(fx.sent(&env, Flavor::Npm, None).0, "would-be-sent");
    // Dropped, it hides nothing: the user file's token is sent.
    fx.write("home/.npmrc", "//r.example/:_authToken=user\n");
    assert_eq!(fx.sent(&env, Flavor::Pnpm, None).0, "user");
}

#[test]
fn the_user_file_moves_with_npm_config_userconfig() {
    let fx = Fixture::new();
    fx.write("home/.npmrc", "//r.example/:_authToken=home\n");
    let other = fx.write("elsewhere/rc", "//r.example/:_authToken=elsewhere\n");
    let other = other.display().to_string();
    assert_eq!(
        fx.sent(&[("NPM_CONFIG_USERCONFIG", &other)], Flavor::Pnpm, None),
        pair("elsewhere", "elsewhere/rc:1")
    );
    assert_eq!(
        fx.sent(
            &[("pnpm_config_npmrc_auth_file", &other)],
            Flavor::Pnpm,
            None
        ),
        pair("elsewhere", "elsewhere/rc:1")
    );
}

#[test]
fn scope_specific_tokens_are_pnpm_11s_alone() {
    let fx = Fixture::new();
    fx.write(
        "home/.npmrc",
        "//r.example/:_authToken=host\n//r.example/:@corp:_authToken=corp\n",
    );
    assert_eq!(fx.sent(&[], Flavor::Pnpm, Some("@corp")).0, "corp");
    assert_eq!(fx.sent(&[], Flavor::Pnpm, Some("@other")).0, "host");
    assert_eq!(fx.sent(&[], Flavor::Pnpm, None).0, "host");
    // pnpm 10 and npm send the host token for @corp.
    assert_eq!(fx.sent(&[], Flavor::Pnpm10, Some("@corp")).0, "host");
    assert_eq!(fx.sent(&[], Flavor::Npm, Some("@corp")).0, "host");
    assert_eq!(
        parse_key("//r.example/@corp/:_authToken"),
        Some(("//r.example/".into(), Some("@corp".into()), "_authToken"))
    );
    assert_eq!(
        parse_key("//r.example:8080/:@corp:_auth"),
        Some(("//r.example:8080/".into(), Some("@corp".into()), "_auth"))
    );
    assert_eq!(parse_key("@corp:registry"), None);
}

#[test]
fn pnpm_expands_as_env_replace_does() {
    let env: HashMap<String, String> = [("SET", "v"), ("EMPTY", "")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let value = |text: &str| pnpm_expand(text, &env);
    assert_eq!(value("a${SET}b").value, "avb");
    assert_eq!(value("${UNSET}").unset, ["UNSET"]);
    assert_eq!(value("${UNSET}").value, "");
    assert_eq!(value("${UNSET-d}").value, "d");
    assert_eq!(value("${EMPTY-d}").value, "");
    assert_eq!(value("${EMPTY:-d}").value, "d");
    assert_eq!(value("\\${SET}").value, "${SET}");
    assert_eq!(value("${SET").value, "${SET");
}

#[test]
fn yarn_berry_reads_only_yarnrc_files_nearer_first() {
    let fx = Fixture::new();
    fx.write("home/.npmrc", "//r.example/:_authToken=npmrc\n");
    assert_eq!(fx.sent(&[], Flavor::YarnBerry, None), pair("none", ""));
    fx.write(
        "home/.yarnrc.yml",
        "npmAuthToken: home-top\nnpmRegistries:\n  \"https://r.example\":\n    npmAuthToken: home-registry\n",
    );
    assert_eq!(
        fx.sent(&[], Flavor::YarnBerry, None),
        pair("home-registry", "home/.yarnrc.yml:4")
    );
    // A project file's entry for the same registry wins, spelled without
    // its scheme.
    fx.write(
        "project/.yarnrc.yml",
        "npmRegistries:\n  //r.example/:\n    npmAuthToken: project\n",
    );
    assert_eq!(
        fx.sent(&[], Flavor::YarnBerry, None),
        pair("home-registry", "home/.yarnrc.yml:4"),
        "the exact URL is looked up before the one without scheme"
    );
    fx.write(
        "project/.yarnrc.yml",
        "npmRegistries:\n  \"https://r.example/\":\n    npmAuthToken: project\n",
    );
    assert_eq!(
        fx.sent(&[], Flavor::YarnBerry, None),
        pair("project", "project/.yarnrc.yml:3")
    );
    // The scope's entry beats the registry's.
    fx.write(
        "project/sub/.yarnrc.yml",
        "npmScopes:\n  corp:\n    npmAuthToken: \"${CORP_TOKEN:-}\"\n",
    );
    assert_eq!(
        fx.sent(&[("CORP_TOKEN", "corp")], Flavor::YarnBerry, Some("@corp")),
        pair("corp", "project/sub/.yarnrc.yml:3")
    );
    // Empty, it does not count.
    assert_eq!(fx.sent(&[], Flavor::YarnBerry, Some("@corp")).0, "project");
}

#[test]
fn yarn_npm_auth_token_replaces_only_the_top_level_token() {
    let fx = Fixture::new();
    fx.write("home/.yarnrc.yml", "npmAuthToken: home-top\n");
    assert_eq!(
        fx.sent(&[("YARN_NPM_AUTH_TOKEN", "env")], Flavor::YarnBerry, None),
        pair("env", "environment variable `YARN_NPM_AUTH_TOKEN`")
    );
    fx.write(
        "home/.yarnrc.yml",
        "npmRegistries:\n  \"https://r.example\":\n    npmAuthToken: registry\n",
    );
    assert_eq!(
        fx.sent(&[("YARN_NPM_AUTH_TOKEN", "env")], Flavor::YarnBerry, None)
            .0,
        "registry"
    );
}

#[test]
fn an_unset_variable_in_a_yarnrc_is_found_and_stops_yarn() {
    let fx = Fixture::new();
    fx.write(
        "home/.yarnrc.yml",
        "npmRegistries:\n  \"https://r.example\":\n    npmAuthToken: ${RTOK_YARN_UNSET}\n",
    );
    assert_eq!(
        fx.sent(&[], Flavor::YarnBerry, None),
        pair("unset $RTOK_YARN_UNSET", "home/.yarnrc.yml:3")
    );
    let (_, clients) = fx.load(&[]);
    let missing = clients.yarn_missing_variables().expect("reads");
    assert_eq!(missing.len(), 1);
    assert_eq!(missing[0].1.line, 3);
    assert_eq!(missing[0].1.name, "RTOK_YARN_UNSET");
}

#[test]
fn yarn_1_reads_npms_files_but_not_its_environment_keys() {
    let fx = Fixture::new();
    fx.write("home/.npmrc", "//r.example/:_authToken=user\n");
    let env = [("npm_config_//r.example/:_authToken", "env")];
    assert_eq!(fx.sent(&env, Flavor::YarnClassic, None).0, "user");
    assert_eq!(fx.sent(&env, Flavor::Npm, None).0, "env");
}

#[test]
fn user_files_list_every_credential_with_its_line_and_registry() {
    let fx = Fixture::new();
    fx.write(
        AUTH_INI,
        "# pnpm login\n//r.example/:_authToken=one\n//r.example/:@corp:_authToken=two\nregistry=https://r.example/\n//other.example/npm/:_authToken=${RTOK_UNSET}\n",
    );
    fx.write(
        "home/.yarnrc.yml",
        "npmRegistryServer: \"https://y.example\"\nnpmAuthToken: top\nnpmRegistries:\n  //r.example:\n    npmAuthToken: reg\nnpmScopes:\n  corp:\n    npmRegistryServer: \"https://corp.example/npm\"\n    npmAuthIdent: \"u:p\"\n",
    );
    let (config, _) = fx.load(&[]);
    let rtok = Credentials::from_config(&config, &Url::parse(REGISTRY).expect("url"));
    let pnpm = user_file_credentials(&config, Client::Pnpm, &rtok).expect("auth.ini");
    let summary: Vec<_> = pnpm
        .iter()
        .map(|c| {
            (
                c.nerf.to_string(),
                c.scope.clone(),
                fx.describe(Some(&LayerCredential {
                    auth: c.auth,
                    origin: c.origin.clone(),
                    found: c.found.clone(),
                })),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "//r.example/".to_string(),
                None,
                pair("one", "home/.config/pnpm/auth.ini:2")
            ),
            (
                "//r.example/".to_string(),
                Some("@corp".to_string()),
                pair("two", "home/.config/pnpm/auth.ini:3")
            ),
            (
                "//other.example/npm/".to_string(),
                None,
                pair("unset $RTOK_UNSET", "home/.config/pnpm/auth.ini:5")
            ),
        ]
    );
    let yarn = user_file_credentials(&config, Client::Yarn, &rtok).expect("yarnrc");
    let summary: Vec<_> = yarn
        .iter()
        .map(|c| {
            (
                c.registry.as_ref().map(Url::to_string),
                c.scope.clone(),
                c.origin.place(),
            )
        })
        .collect();
    let home = fx.root.join("home/.yarnrc.yml").display().to_string();
    assert_eq!(
        summary,
        [
            (Some("https://y.example/".into()), None, format!("{home}:2")),
            (Some("https://r.example/".into()), None, format!("{home}:5")),
            (
                Some("https://corp.example/npm".into()),
                Some("@corp".into()),
                format!("{home}:9")
            ),
        ]
    );
    assert!(matches!(
        yarn[2].found.as_ref().map(|f| f.kind),
        Ok(AuthKind::Auth)
    ));
}

#[test]
fn broken_client_files_are_errors_naming_the_file_and_line() {
    let fx = Fixture::new();
    fx.write("home/.yarnrc.yml", "npmAuthToken: x\nnpmScopes: [\n");
    let mut map = HashMap::new();
    map.insert(
        "HOME".to_string(),
        fx.root.join("home").display().to_string(),
    );
    let cwd = fx.root.join("project");
    let config = Config::load(&Inputs {
        cli: Vec::new(),
        env: map,
        cwd: cwd.clone(),
    })
    .expect("config");
    let err = Clients::read(&config, &cwd).expect_err("invalid YAML");
    let message = format!("{err:#}");
    assert!(message.contains(".yarnrc.yml: line "), "{message}");
    assert!(!message.contains('\n'), "{message}");

    fs::remove_file(fx.root.join("home/.yarnrc.yml")).expect("rm");
    fs::create_dir_all(fx.root.join(AUTH_INI)).expect("auth.ini as a folder");
    let err = Clients::read(&config, &cwd).expect_err("a folder");
    let message = format!("{err:#}");
    assert!(message.contains("auth.ini"), "{message}");
}

#[test]
fn pnpm_reads_auth_from_the_global_config_yaml_below_the_environment() {
    let fx = Fixture::new();
    fx.write("home/.npmrc", "//r.example/:_authToken=from-npmrc\n");
    fx.write(AUTH_INI, "//r.example/:_authToken=from-auth-ini\n");
    fx.write("project/.npmrc", "//r.example/:_authToken=from-project\n");
    fx.write(
        "home/.config/pnpm/config.yaml",
        "# pnpm's settings\nstoreDir: /tmp/store\n_auth:\n  \"https://r.example/\":\n    \"@\":\n      authToken: from-yaml\n",
    );
    assert_eq!(
        fx.sent(&[], Flavor::Pnpm, None),
        pair("from-yaml", "home/.config/pnpm/config.yaml:6")
    );
    let json = r#"{"https://r.example/": {"@": {"authToken": "from-json"}}}"#;
    assert_eq!(
        fx.sent(&[("pnpm_config__auth", json)], Flavor::Pnpm, None)
            .0,
        "from-json"
    );
    // npmrcAuthFile moves the user file.
    fx.write(
        "home/.config/pnpm/config.yaml",
        "npmrcAuthFile: ~/other.npmrc\n",
    );
    fx.write("home/other.npmrc", "//r.example/:_authToken=from-other\n");
    fs::remove_file(fx.root.join(AUTH_INI)).expect("rm auth.ini");
    fs::remove_file(fx.root.join("project/.npmrc")).expect("rm project");
    assert_eq!(
        fx.sent(&[], Flavor::Pnpm, None),
        pair("from-other", "home/other.npmrc:1")
    );
    // Not YAML: an error naming the file and line.
    fx.write("home/.config/pnpm/config.yaml", "_auth: [\n");
    let err = Clients::read(&fx.config(&[]), &fx.root.join("project")).expect_err("invalid");
    assert!(err.to_string().contains("config.yaml: line "), "{err}");
}

#[test]
fn rtok_s_token_helper_in_auth_ini_sends_what_rtok_resolves_above_its_token() {
    let fx = Fixture::new();
    let nerf = NerfDart::from_url(&Url::parse(REGISTRY).expect("url"));
    fx.write("home/.npmrc", &format!("{nerf}:_authToken=from-npmrc\n"));
    fx.write(
        AUTH_INI,
        &format!(
            "{nerf}:_authToken=stale\n{nerf}:tokenHelper=/usr/local/bin/rtok token-helper {REGISTRY}\n"
        ),
    );
    // The helper prints what rtok resolves (here ~/.npmrc's token), and
    // pnpm puts it above the auth.ini token beside it.
    let (token, place) = fx.sent(&[], Flavor::Pnpm, None);
    assert_eq!(token, "from-npmrc");
    assert!(place.ends_with("auth.ini:2"), "{place}");
    // pnpm 10 never runs a helper with arguments.
    assert_eq!(fx.sent(&[], Flavor::Pnpm10, None).0, "from-npmrc");
    // Another program's helper is not run: the token beside it is named.
    fx.write(
        AUTH_INI,
        &format!("{nerf}:_authToken=stale\n{nerf}:tokenHelper=/opt/vault-helper\n"),
    );
    assert_eq!(fx.sent(&[], Flavor::Pnpm, None).0, "stale");
}
