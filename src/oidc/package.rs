//! npm package names: the checks npm's `validate-npm-package-name` makes for
//! an existing package, and the escaped form the exchange path carries.

use crate::display::encode_component;

/// Why `name` cannot be an npm package's name, or `Ok`.
///
/// Trusted publishing only works for a package that already exists, so the
/// rules are validate-npm-package-name 13's errors (what makes a name
/// invalid even for old packages), not its warnings for new ones: an old
/// package may have capitals (`JSONStream`), a core module's name, `~'!()*`
/// or more than 214 characters. The first problem found is the one
/// reported.
pub(crate) fn validate(name: &str) -> Result<(), String> {
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
pub(crate) fn escape(name: &str) -> String {
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
            "a".repeat(300).as_str(),
            // Names npm still accepts for packages that exist.
            "JSONStream",
            "http",
            "wow!",
            "@Acme/tool",
        ] {
            assert_eq!(validate(name), Ok(()), "{name}");
        }
    }

    #[test]
    fn what_npm_refuses_even_for_old_packages_is_refused() {
        for (name, why) in [
            ("", "empty"),
            (".hidden", "period"),
            ("-dash", "hyphen"),
            ("_under", "underscore"),
            (" space", "spaces"),
            ("node_modules", "not a valid package name"),
            ("FAVICON.ICO", "not a valid package name"),
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
