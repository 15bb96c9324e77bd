//! npm package names: the checks npm's `validate-npm-package-name` makes for
//! a new package, and the escaped form the exchange path carries.

use crate::registry::encode_component;

/// Node's core modules: a new package may not take their names
/// (validate-npm-package-name's `builtin-modules.json`).
const CORE_MODULES: &[&str] = &[
    "_http_agent",
    "_http_client",
    "_http_common",
    "_http_incoming",
    "_http_outgoing",
    "_http_server",
    "_stream_duplex",
    "_stream_passthrough",
    "_stream_readable",
    "_stream_transform",
    "_stream_wrap",
    "_stream_writable",
    "_tls_common",
    "_tls_wrap",
    "assert",
    "assert/strict",
    "async_hooks",
    "buffer",
    "child_process",
    "cluster",
    "console",
    "constants",
    "crypto",
    "dgram",
    "diagnostics_channel",
    "dns",
    "dns/promises",
    "domain",
    "events",
    "fs",
    "fs/promises",
    "http",
    "http2",
    "https",
    "inspector",
    "inspector/promises",
    "module",
    "net",
    "os",
    "path",
    "path/posix",
    "path/win32",
    "perf_hooks",
    "process",
    "punycode",
    "querystring",
    "readline",
    "readline/promises",
    "repl",
    "stream",
    "stream/consumers",
    "stream/promises",
    "stream/web",
    "string_decoder",
    "sys",
    "timers",
    "timers/promises",
    "tls",
    "trace_events",
    "tty",
    "url",
    "util",
    "util/types",
    "v8",
    "vm",
    "wasi",
    "worker_threads",
    "zlib",
    "node:sea",
    "node:sqlite",
    "node:test",
    "node:test/reporters",
];

/// The longest name npm accepts for a new package.
const MAX_LENGTH: usize = 214;

/// Why `name` is not a valid name for a new npm package, or `Ok`.
///
/// The same rules, in the same order, as validate-npm-package-name 13
/// (what npm 11 runs): its errors and its warnings both, since a warning
/// there ("can no longer contain capital letters") is a refusal for a new
/// package. The first problem found is the one reported.
pub fn validate(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a package name cannot be empty".into());
    }
    if name.starts_with('.') {
        return Err("a package name cannot start with a period".into());
    }
    if name.starts_with('-') {
        return Err("a package name cannot start with a hyphen".into());
    }
    if name.starts_with('_') {
        return Err("a package name cannot start with an underscore".into());
    }
    if name.trim() != name {
        return Err("a package name cannot have leading or trailing spaces".into());
    }
    let lower = name.to_lowercase();
    if lower == "node_modules" || lower == "favicon.ico" {
        return Err(format!("`{lower}` is not a valid package name"));
    }
    if CORE_MODULES.contains(&lower.as_str()) {
        return Err(format!("`{name}` is the name of a Node.js core module"));
    }
    if name.chars().count() > MAX_LENGTH {
        return Err(format!(
            "a package name cannot be longer than {MAX_LENGTH} characters"
        ));
    }
    if lower != name {
        return Err("a package name cannot contain capital letters".into());
    }
    let last = name.rsplit('/').next().unwrap_or(name);
    if last.contains(['~', '\'', '!', '(', ')', '*']) {
        return Err("a package name cannot contain any of ~'!()*".into());
    }
    if !url_safe(name) {
        // A scoped name may hold one `/`: `@scope/name`, each part URL-safe.
        let scoped = name
            .strip_prefix('@')
            .and_then(|rest| rest.split_once('/'))
            .filter(|(scope, package)| {
                !scope.is_empty() && !package.is_empty() && !package.contains('/')
            });
        match scoped {
            Some((_, package)) if package.starts_with('.') => {
                return Err("a package name cannot start with a period".into());
            }
            Some((scope, package)) if url_safe(scope) && url_safe(package) => {}
            _ => {
                return Err(
                    "a package name can only contain URL-friendly characters (`@scope/` at most once, then letters, digits, `-`, `.`, `_`)"
                        .into(),
                );
            }
        }
    }
    Ok(())
}

/// The name as the exchange path carries it: a scoped name's `/` written
/// `%2f`, as npm-package-arg's `escapedName` has it (`@scope%2fname`). Valid
/// names need nothing more; any other character is percent-encoded, so that
/// even an unchecked name stays one path segment.
pub fn escape(name: &str) -> String {
    match name.strip_prefix('@').and_then(|rest| rest.split_once('/')) {
        Some((scope, package)) => format!(
            "@{}%2f{}",
            encode_component(scope),
            encode_component(package)
        ),
        None => encode_component(name),
    }
}

/// Whether `encodeURIComponent` leaves `text` as it is.
fn url_safe(text: &str) -> bool {
    encode_component(text) == text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_names_pass() {
        for name in [
            "rtok",
            "some-package",
            "a.b_c",
            "@acme/tool",
            "@acme/tool.js",
            "example.com",
            "a".repeat(214).as_str(),
        ] {
            assert_eq!(validate(name), Ok(()), "{name}");
        }
    }

    #[test]
    fn what_npm_refuses_for_a_new_package_is_refused() {
        for (name, why) in [
            ("", "empty"),
            (".hidden", "period"),
            ("-dash", "hyphen"),
            ("_under", "underscore"),
            (" space", "spaces"),
            ("node_modules", "not a valid package name"),
            ("FAVICON.ICO", "not a valid package name"),
            ("http", "core module"),
            ("fs/promises", "core module"),
            ("Capital", "capital letters"),
            ("@Acme/tool", "capital letters"),
            ("wow!", "~'!()*"),
            ("@acme/it's", "~'!()*"),
            ("with space", "URL-friendly"),
            ("a/b", "URL-friendly"),
            ("@acme/a/b", "URL-friendly"),
            ("@/tool", "URL-friendly"),
            ("@acme/", "URL-friendly"),
            ("@acme/.tool", "period"),
            ("caf\u{e9}", "URL-friendly"),
        ] {
            let err = validate(name).expect_err(name);
            assert!(err.contains(why), "{name:?}: {err}");
        }
        assert!(
            validate(&"a".repeat(215))
                .expect_err("long")
                .contains("longer than 214")
        );
    }

    #[test]
    fn escaping_matches_npm() {
        assert_eq!(escape("rtok"), "rtok");
        assert_eq!(escape("@acme/tool"), "@acme%2ftool");
        assert_eq!(escape("@acme/a.b_c-d"), "@acme%2fa.b_c-d");
        // Unchecked input cannot leave its path segment.
        assert_eq!(escape("a/../b?x#y"), "a%2F..%2Fb%3Fx%23y");
    }
}
