//! What `rtok exec` hands a child process for the npm family (npm, pnpm 10,
//! 11 and 12, yarn 1): a user config that holds no secret, and the
//! variables that carry the secrets (clients-2026.md §1.3, §1.7, §1.11).
//!
//! - The user config is the user's own `.npmrc`, every line kept, with each
//!   credential line of a registry rtok hands over replaced by
//!   `//<nerf>:_authToken=${RTOK_TOKEN_n}` (`_auth` for a basic credential),
//!   and every other secret the file spells out moved the same way into a
//!   variable of its own. Every client of the family expands `${VAR}` in the
//!   user file, and `RTOK_TOKEN_n` is a name every shell passes on (dash
//!   drops `npm_config_//host/:_authToken`, whose name holds `/` and `:`).
//! - `pnpm_config__auth` is pnpm's (>= 11.10) own JSON channel, read above
//!   every file: `{"<registry URL>": {"@": {"authToken": "…"}}}`, where `@`
//!   also makes the URL pnpm's default registry and `@scope` routes that
//!   scope to it, so each entry says what npm's configuration says.
//!
//! The file is written by `private_file` into a private folder; `exec`
//! decides and runs.

use url::Url;

use super::credential::{Credential, Found};
use crate::npmrc::Document;
use crate::npmrc::expand;
use crate::npmrc::keys::{credential_target, is_literal_secret, is_secret_key};
use crate::secret::Secret;

/// The prefix of the variables that carry the secrets of the child's user
/// config: `RTOK_TOKEN_1`, `RTOK_TOKEN_2`, …
pub(crate) const VARIABLE_PREFIX: &str = "RTOK_TOKEN_";

/// One registry's credential handed to the child.
#[derive(Debug, Clone)]
pub(crate) struct Handed {
    /// The registry's URL as rtok knows it (the configured one, a scope's,
    /// one of rtok's settings).
    pub url: Url,
    /// The nerf dart the credential is keyed by (`//host/path/`).
    pub nerf: String,
    pub value: HandedValue,
    /// What npm's configuration routes to this registry: the default
    /// registry, scopes.
    pub routes: Vec<Route>,
}

#[derive(Debug, Clone)]
pub(crate) enum HandedValue {
    Token(Secret),
    /// `_auth`: base64 of `user:password`.
    Basic(Secret),
    /// A client certificate alone: the clients read `certfile`/`keyfile`.
    Nothing,
}

/// What npm's configuration sends to a registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    /// It is the default registry (`registry=`).
    Default,
    /// `@scope:registry=` names it (the scope with its `@`).
    Scope(String),
}

impl Handed {
    /// One credential to put in a child's environment, from what the
    /// resolver found.
    pub(crate) fn from_found(found: Found, url: &Url, routes: Vec<Route>) -> Handed {
        let value = match found.credential {
            Some(Credential::Bearer(token)) => HandedValue::Token(token),
            Some(Credential::Basic { encoded, .. }) => HandedValue::Basic(encoded),
            None => HandedValue::Nothing,
        };
        Handed {
            url: url.clone(),
            nerf: found.nerf.to_string(),
            value,
            routes,
        }
    }
}

/// The child's user config and the variables its `${…}` references name.
#[derive(Debug)]
pub(crate) struct Userconfig {
    pub bytes: Vec<u8>,
    /// `RTOK_TOKEN_n` and its value, in order.
    pub variables: Vec<(String, Secret)>,
}

/// The child's user config made from the user's (`original`: its bytes,
/// empty when there is none). `env` looks up the variables of the process,
/// for a file that is itself the user config of an outer `rtok exec`.
pub(crate) fn userconfig(
    original: &[u8],
    handed: &[Handed],
    env: &dyn Fn(&str) -> Option<String>,
) -> Userconfig {
    let mut document = Document::parse(original);
    // npm reads nothing below a `[section]`; a secret there would only be
    // copied into the child's file.
    if document
        .entries_in_sections()
        .any(|located| is_literal_secret(&located.entry.key, &located.entry.value))
    {
        document.remove_sections();
    }
    let mut variables: Vec<(String, Secret)> = Vec::new();
    let next = |value: Secret, variables: &mut Vec<(String, Secret)>| {
        let name = format!("{VARIABLE_PREFIX}{}", variables.len() + 1);
        variables.push((name.clone(), value));
        format!("${{{name}}}")
    };

    let mut replaced: Vec<String> = Vec::new();
    for one in handed {
        let (field, secret) = match &one.value {
            HandedValue::Token(token) => ("_authToken", token),
            HandedValue::Basic(encoded) => ("_auth", encoded),
            HandedValue::Nothing => continue,
        };
        let nerf = one.nerf.as_str();
        let key = format!("{nerf}:{field}");
        // Every other credential field of the registry goes: npm would
        // otherwise weigh the file's stale `_authToken` against `_auth`.
        document.remove(&|k| k != key && credential_target(k) == Some(nerf));
        let reference = next(secret.clone(), &mut variables);
        document.set(&key, &reference, &|k| k == key);
        replaced.push(key);
    }

    // Any other secret the file spells out (a registry rtok does not hand
    // over, a legacy top-level `_authToken`), and values naming an outer
    // `rtok exec`'s variables, whose numbers this child reuses.
    let rest: Vec<(String, String)> = document
        .entries()
        .filter(|located| {
            let entry = located.entry;
            !replaced.contains(&entry.key)
                && (is_literal_secret(&entry.key, &entry.value)
                    || (is_secret_key(&entry.key) && names_own_variable(&entry.value)))
        })
        .map(|located| (located.entry.key.clone(), located.entry.value.clone()))
        .collect();
    for (key, value) in rest {
        let value = if names_own_variable(&value) {
            expand(&value, env).value
        } else {
            value
        };
        let reference = next(Secret::new(value), &mut variables);
        document.set(&key, &reference, &|k| k == key);
    }
    Userconfig {
        bytes: document.render(),
        variables,
    }
}

/// Whether a value refers to one of the `RTOK_TOKEN_n` variables.
fn names_own_variable(value: &str) -> bool {
    value.contains(&format!("${{{VARIABLE_PREFIX}"))
}

/// The value of `pnpm_config__auth` for the child: each bearer token under
/// its registry's URL and the routes npm's configuration gives that
/// registry, merged over the parent's own value (`parent`; a later entry
/// for the same registry and scope wins). `None` when there is nothing to
/// add, or when the parent's value is not a JSON object (pnpm stops on it
/// with its own error; rtok does not replace the user's setting).
pub(crate) fn pnpm_auth(handed: &[Handed], parent: Option<&str>) -> Option<Secret> {
    let mut root = match parent.filter(|text| !text.is_empty()) {
        Some(text) => match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => return None,
        },
        None => serde_json::Map::new(),
    };
    let mut added = false;
    for one in handed {
        let HandedValue::Token(token) = &one.value else {
            continue;
        };
        if !pnpm_accepts(&one.url) || one.routes.is_empty() {
            continue;
        }
        let entry = root
            .entry(one.url.as_str().to_string())
            .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
        let scopes = entry.as_object_mut()?;
        for route in &one.routes {
            let scope = match route {
                Route::Default => "@".to_string(),
                Route::Scope(scope) => scope.clone(),
            };
            scopes.insert(scope, serde_json::json!({ "authToken": token.expose() }));
            added = true;
        }
    }
    added.then(|| Secret::new(serde_json::Value::Object(root).to_string()))
}

/// pnpm refuses (for every command) a key that is not a plain http(s) URL.
fn pnpm_accepts(url: &Url) -> bool {
    matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some_and(|host| !host.is_empty())
        && url.username().is_empty()
        && url.password().is_none()
        && url.query().is_none()
        && url.fragment().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handed(url: &str, value: HandedValue, routes: Vec<Route>) -> Handed {
        let url = Url::parse(url).expect("url");
        Handed {
            nerf: crate::npmrc::nerf_dart(&url),
            url,
            value,
            routes,
        }
    }

    fn token(text: &str) -> HandedValue {
        HandedValue::Token(Secret::new(text))
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn every_line_is_kept_and_each_credential_becomes_a_reference() {
        let original = "; my settings\r\nregistry=https://r.example/\r\n//r.example/:_authToken=old\r\n//r.example/:username=me\r\n\r\nsave-exact=true\r\n//other.example/:_authToken=literal-other\r\n//env.example/:_authToken=${ENV_TOKEN}\r\n";
        let out = userconfig(
            original.as_bytes(),
            &[handed(
                "https://r.example/",
                token("new"),
                vec![Route::Default],
            )],
            &no_env,
        );
        let text = String::from_utf8(out.bytes).expect("utf8");
        assert_eq!(
            text,
            "; my settings\r\nregistry=https://r.example/\r\n//r.example/:_authToken=${RTOK_TOKEN_1}\r\n\r\nsave-exact=true\r\n//other.example/:_authToken=${RTOK_TOKEN_2}\r\n//env.example/:_authToken=${ENV_TOKEN}\r\n"
        );
        let vars: Vec<(&str, &str)> = out
            .variables
            .iter()
            .map(|(name, value)| (name.as_str(), value.expose()))
            .collect();
        assert_eq!(
            vars,
            [("RTOK_TOKEN_1", "new"), ("RTOK_TOKEN_2", "literal-other")]
        );
        assert!(!crate::npmrc::keys::holds_secret(&Document::parse(&text)));
    }

    #[test]
    fn a_registry_not_in_the_file_is_added_and_basic_goes_to_auth() {
        let out = userconfig(
            b"registry=https://r.example/",
            &[
                handed("https://r.example/", token("t"), vec![Route::Default]),
                handed(
                    "https://b.example/",
                    HandedValue::Basic(Secret::new("dTpw")),
                    vec![],
                ),
                handed("https://c.example/", HandedValue::Nothing, vec![]),
            ],
            &no_env,
        );
        assert_eq!(
            String::from_utf8(out.bytes).expect("utf8"),
            "registry=https://r.example/\n//r.example/:_authToken=${RTOK_TOKEN_1}\n//b.example/:_auth=${RTOK_TOKEN_2}"
        );
        assert_eq!(out.variables.len(), 2);
    }

    #[test]
    fn secrets_below_a_section_and_an_outer_execs_references_do_not_stay() {
        let out = userconfig(
            b"_authToken=legacy\n//o.example/:_password=${RTOK_TOKEN_1}\n[x]\n//s/:_authToken=hidden\n",
            &[],
            &|name| (name == "RTOK_TOKEN_1").then(|| "outer".to_string()),
        );
        assert_eq!(
            String::from_utf8(out.bytes).expect("utf8"),
            "_authToken=${RTOK_TOKEN_1}\n//o.example/:_password=${RTOK_TOKEN_2}\n"
        );
        assert_eq!(out.variables[0].1.expose(), "legacy");
        assert_eq!(out.variables[1].1.expose(), "outer");
    }

    #[test]
    fn pnpm_auth_names_each_route_and_keeps_the_parents_entries() {
        let value = pnpm_auth(
            &[
                handed("http://127.0.0.1:4873/", token("a"), vec![Route::Default]),
                handed(
                    "https://s.example/npm/",
                    token("b"),
                    vec![Route::Scope("@acme".into()), Route::Scope("@two".into())],
                ),
                handed("https://kr.example/", token("c"), vec![]),
                handed(
                    "https://basic.example/",
                    HandedValue::Basic(Secret::new("x")),
                    vec![Route::Scope("@b".into())],
                ),
            ],
            Some(r#"{"https://mine.example/":{"@me":{"authToken":"m"}}}"#),
        )
        .expect("a value");
        let json: serde_json::Value = serde_json::from_str(value.expose()).expect("json");
        assert_eq!(
            json,
            serde_json::json!({
                "https://mine.example/": {"@me": {"authToken": "m"}},
                "http://127.0.0.1:4873/": {"@": {"authToken": "a"}},
                "https://s.example/npm/": {"@acme": {"authToken": "b"}, "@two": {"authToken": "b"}},
            })
        );
        assert!(pnpm_auth(&[], None).is_none());
        assert!(
            pnpm_auth(
                &[handed("https://r/", token("a"), vec![Route::Default])],
                Some("not json")
            )
            .is_none()
        );
    }
}
