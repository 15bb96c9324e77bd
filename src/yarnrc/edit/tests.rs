//! The editor on a corpus of realistic files: exact bytes after each edit,
//! and the original bytes again after set-then-remove.

use super::*;
use crate::secret::Secret;

const REGISTRY: &str = "https://npm.example/npm/";

fn token(text: &str) -> Secret {
    Secret::new(text)
}

fn set_registry(text: &str, registry: &str, value: &Secret) -> Result<String, Error> {
    edit(
        text,
        &Change::SetRegistryToken {
            registry,
            token: NewValue::Literal(value),
        },
    )
}

fn remove_registry(text: &str, registry: &str) -> Result<String, Error> {
    edit(text, &Change::RemoveRegistryToken { registry })
}

fn set_scope(text: &str, scope: &str, value: &Secret) -> Result<String, Error> {
    edit(
        text,
        &Change::SetScopeToken {
            scope,
            registry: REGISTRY,
            token: NewValue::Literal(value),
        },
    )
}

/// Sets the registry's token, checks the bytes, removes it, checks that
/// the original is back.
fn registry_round_trip(original: &str, expected: &str) {
    let new = token("npm_new");
    let after = set_registry(original, REGISTRY, &new).expect("set");
    assert_eq!(after, expected, "after set");
    let back = remove_registry(&after, REGISTRY).expect("remove");
    assert_eq!(back, original, "after set and remove");
}

#[test]
fn an_empty_or_missing_file_gets_a_registry_entry() {
    registry_round_trip(
        "",
        "npmRegistries:\n  \"https://npm.example/npm\":\n    npmAuthToken: npm_new\n",
    );
}

#[test]
fn a_file_with_only_other_settings_keeps_them() {
    registry_round_trip(
        "nodeLinker: node-modules\n",
        "nodeLinker: node-modules\nnpmRegistries:\n  \"https://npm.example/npm\":\n    npmAuthToken: npm_new\n",
    );
    // Without a final line break, the file still ends without one.
    registry_round_trip(
        "nodeLinker: node-modules",
        "nodeLinker: node-modules\nnpmRegistries:\n  \"https://npm.example/npm\":\n    npmAuthToken: npm_new",
    );
    // Comments at the end stay at the end.
    registry_round_trip(
        "# settings\nnodeLinker: node-modules\n\n# end\n",
        "# settings\nnodeLinker: node-modules\nnpmRegistries:\n  \"https://npm.example/npm\":\n    npmAuthToken: npm_new\n\n# end\n",
    );
    registry_round_trip(
        "# only a comment\n",
        "# only a comment\nnpmRegistries:\n  \"https://npm.example/npm\":\n    npmAuthToken: npm_new\n",
    );
}

#[test]
fn the_docs_yarn_written_file_has_its_token_replaced_in_place() {
    let original = "npmRegistries:\n  \"http://127.0.0.1:48731\":\n    npmAuthToken: npm_old\n\nnpmScopes:\n  foo:\n    npmAlwaysAuth: true\n    npmAuthToken: npm_foo\n";
    let new = token("npm_new");
    let after = set_registry(original, "http://127.0.0.1:48731/", &new).expect("set");
    assert_eq!(after, original.replace("npm_old", "npm_new"));

    // Removing the token empties the entry and the map: both go.
    let removed = remove_registry(&after, "http://127.0.0.1:48731").expect("remove");
    assert_eq!(
        removed,
        "\nnpmScopes:\n  foo:\n    npmAlwaysAuth: true\n    npmAuthToken: npm_foo\n"
    );

    let after = set_scope(original, "@foo", &new).expect("set scope");
    assert_eq!(
        after,
        "npmRegistries:\n  \"http://127.0.0.1:48731\":\n    npmAuthToken: npm_old\n\nnpmScopes:\n  foo:\n    npmAlwaysAuth: true\n    npmAuthToken: npm_new\n    npmRegistryServer: \"https://npm.example/npm/\"\n"
    );
}

#[test]
fn comments_crlf_quotes_and_flow_maps_stay() {
    let original = concat!(
        "# yarn settings\r\n",
        "nodeLinker: node-modules # inline\r\n",
        "\r\n",
        "npmRegistries:\r\n",
        "  # the company registry\r\n",
        "  '//npm.example/npm/':   # no scheme\r\n",
        "    npmAlwaysAuth: true\r\n",
        "    # token below\r\n",
        "    npmAuthToken: 'old-token'  # rotated monthly\r\n",
        "  \"https://other.example\": {npmAuthToken: \"other\", npmAlwaysAuth: true}\r\n",
        "\r\n",
        "# scopes\r\n",
        "npmScopes:\r\n",
        "  corp: {npmRegistryServer: \"https://npm.example/npm\"}\r\n",
    );
    let new = token("npm_new");
    let after = set_registry(original, REGISTRY, &new).expect("set");
    assert_eq!(after, original.replace("'old-token'", "'npm_new'"));

    // A token in a flow map is replaced in place too, in its own quotes.
    let after = set_registry(original, "https://other.example/", &new).expect("set flow");
    assert_eq!(
        after,
        original.replace("{npmAuthToken: \"other\"", "{npmAuthToken: \"npm_new\"")
    );

    // A new scope goes after the last one, with the file's line endings.
    let after = set_scope(original, "@tools", &new).expect("set scope");
    assert_eq!(
        after,
        format!(
            "{original}  tools:\r\n    npmRegistryServer: \"https://npm.example/npm/\"\r\n    npmAuthToken: npm_new\r\n"
        )
    );
    let back = edit(&after, &Change::RemoveScope { scope: "tools" }).expect("remove scope");
    assert_eq!(back, original);

    // Removing the token keeps the entry's other setting and every
    // comment but the token line's own.
    let removed = remove_registry(original, REGISTRY).expect("remove");
    assert_eq!(
        removed,
        original.replace("    npmAuthToken: 'old-token'  # rotated monthly\r\n", "")
    );
}

#[test]
fn a_new_token_goes_into_an_entry_that_names_the_registry() {
    let original =
        "npmRegistries:\n  //npm.example/npm:\n    npmAlwaysAuth: true\nnodeLinker: pnp\n";
    registry_round_trip(
        original,
        "npmRegistries:\n  //npm.example/npm:\n    npmAlwaysAuth: true\n    npmAuthToken: npm_new\nnodeLinker: pnp\n",
    );
    // The exact URL wins over the one without scheme, as in yarn.
    let both = "npmRegistries:\n  //npm.example/npm:\n    npmAuthToken: bare\n  \"https://npm.example/npm/\":\n    npmAuthToken: exact\n";
    let after = set_registry(both, REGISTRY, &token("npm_new")).expect("set");
    assert_eq!(after, both.replace("exact", "npm_new"));
    // Another scheme is another registry.
    let http = "npmRegistries:\n  \"http://npm.example/npm\":\n    npmAuthToken: plain\n";
    let after = set_registry(http, REGISTRY, &token("npm_new")).expect("set");
    assert_eq!(
        after,
        format!("{http}  \"https://npm.example/npm\":\n    npmAuthToken: npm_new\n")
    );
}

#[test]
fn indentation_follows_the_file() {
    registry_round_trip(
        "npmScopes:\n    corp:\n        npmRegistryServer: https://c.example\n",
        "npmScopes:\n    corp:\n        npmRegistryServer: https://c.example\nnpmRegistries:\n    \"https://npm.example/npm\":\n        npmAuthToken: npm_new\n",
    );
}

#[test]
fn a_key_with_nothing_after_it_gets_its_value() {
    let original = "npmRegistries:\n  \"https://npm.example/npm\":\n    npmAuthToken:   # paste here\nnodeLinker: pnp\n";
    let after = set_registry(original, REGISTRY, &token("npm_new")).expect("set");
    assert_eq!(
        after,
        "npmRegistries:\n  \"https://npm.example/npm\":\n    npmAuthToken: npm_new   # paste here\nnodeLinker: pnp\n"
    );
    let original = "npmRegistries:\nnodeLinker: pnp\n";
    let after = set_registry(original, REGISTRY, &token("npm_new")).expect("set");
    assert_eq!(
        after,
        "npmRegistries:\n  \"https://npm.example/npm\":\n    npmAuthToken: npm_new\nnodeLinker: pnp\n"
    );
}

#[test]
fn anchors_and_aliases_elsewhere_stay() {
    let original = "defaults: &defaults\n  npmAlwaysAuth: true\nnpmRegistries:\n  \"https://a.example\": *defaults\n";
    registry_round_trip(
        original,
        &format!("{original}  \"https://npm.example/npm\":\n    npmAuthToken: npm_new\n"),
    );
    assert_eq!(
        set_registry(original, "https://a.example", &token("t")),
        Err(Error::Unsupported {
            line: 4,
            what: "a setting that should be a map"
        })
    );
}

#[test]
fn a_byte_order_mark_stays() {
    registry_round_trip(
        "\u{feff}nodeLinker: pnp\n",
        "\u{feff}nodeLinker: pnp\nnpmRegistries:\n  \"https://npm.example/npm\":\n    npmAuthToken: npm_new\n",
    );
}

#[test]
fn a_scope_keeps_its_route_and_round_trips() {
    let original = "npmScopes:\n  corp:\n    npmRegistryServer: \"https://npm.example/npm\"\n";
    let after = set_scope(original, "corp", &token("npm_new")).expect("set");
    assert_eq!(after, format!("{original}    npmAuthToken: npm_new\n"));
    let back = edit(&after, &Change::RemoveScopeToken { scope: "@corp" }).expect("remove");
    assert_eq!(back, original);

    // A new scope, removed whole, leaves the file as it was.
    let original = "nodeLinker: pnp\n";
    let after = set_scope(original, "@corp", &token("npm_new")).expect("set");
    assert_eq!(
        after,
        "nodeLinker: pnp\nnpmScopes:\n  corp:\n    npmRegistryServer: \"https://npm.example/npm/\"\n    npmAuthToken: npm_new\n"
    );
    let back = edit(&after, &Change::RemoveScope { scope: "corp" }).expect("remove");
    assert_eq!(back, original);
}

#[test]
fn a_reference_is_never_replaced_by_a_literal() {
    let original =
        "npmRegistries:\n  \"https://npm.example/npm\":\n    npmAuthToken: \"${NPM_TOKEN}\"\n";
    let secret = token("npm_secret_value");
    let error = set_registry(original, REGISTRY, &secret).expect_err("refused");
    assert_eq!(error, Error::KeepsReference { line: 3 });
    assert!(!error.to_string().contains("npm_secret_value"));
    // A reference with a default may replace it.
    let after = edit(
        original,
        &Change::SetRegistryToken {
            registry: REGISTRY,
            token: NewValue::Reference("${NPM_TOKEN:-}"),
        },
    )
    .expect("reference");
    assert_eq!(after, original.replace("${NPM_TOKEN}", "${NPM_TOKEN:-}"));
}

#[test]
fn a_reference_without_a_default_is_never_written() {
    for (reference, error) in [
        ("${NPM_TOKEN}", Error::ReferenceWithoutDefault),
        ("${A:-${B}}", Error::ReferenceWithoutDefault),
        ("${NPM_TOKEN", Error::MalformedReference),
    ] {
        let result = edit(
            "",
            &Change::SetRegistryToken {
                registry: REGISTRY,
                token: NewValue::Reference(reference),
            },
        );
        assert_eq!(result, Err(error), "{reference}");
    }
}

#[test]
fn literal_tokens_are_quoted_and_escaped_as_needed() {
    let after = set_registry("", REGISTRY, &token("0123")).expect("digits");
    assert!(after.ends_with("npmAuthToken: \"0123\"\n"), "{after}");
    let after = set_registry("", REGISTRY, &token("a$b")).expect("dollar");
    assert!(after.ends_with("npmAuthToken: \"a\\\\$b\"\n"), "{after}");
    let read = super::super::Yarnrc::parse(&after).expect("parses");
    assert_eq!(read.entries()[0].value, Value::Literal(token("a$b")));
}

#[test]
fn what_the_editor_cannot_do_is_refused_not_guessed() {
    let flow = "npmRegistries: {\"https://npm.example/npm\": {npmAlwaysAuth: true}}\n";
    assert_eq!(
        set_registry(flow, REGISTRY, &token("t")),
        Err(Error::Unsupported {
            line: 1,
            what: "a flow-style map"
        })
    );
    let folded = "npmAuthToken: x\nnpmRegistries:\n  \"https://npm.example/npm\":\n    npmAuthToken: first\n      second\n";
    assert!(matches!(
        set_registry(folded, REGISTRY, &token("t")),
        Err(Error::Unsupported { line: 4, .. })
    ));
    assert!(matches!(
        set_registry("a: [\n", REGISTRY, &token("t")),
        Err(Error::Invalid { .. })
    ));
    assert_eq!(
        set_registry("- a\n", REGISTRY, &token("t")),
        Err(Error::NotAMap { line: 1 })
    );
}

#[test]
fn removing_what_is_not_there_changes_nothing() {
    for text in [
        "",
        "nodeLinker: pnp",
        "npmRegistries:\n  //other:\n    npmAuthToken: x\n",
    ] {
        assert_eq!(remove_registry(text, REGISTRY).expect("remove"), text);
        assert_eq!(
            edit(text, &Change::RemoveScope { scope: "corp" }).expect("remove"),
            text
        );
    }
}

#[test]
fn the_check_refuses_a_result_that_changed_anything_else() {
    let original = "nodeLinker: pnp\nnpmAuthToken: top\n";
    let intended = vec![Logical::Set(
        vec![
            "npmRegistries".into(),
            "https://r".into(),
            "npmAuthToken".into(),
        ],
        "t".into(),
    )];
    let good = "nodeLinker: pnp\nnpmAuthToken: top\nnpmRegistries:\n  \"https://r\":\n    npmAuthToken: t\n";
    assert_eq!(verify(original, good, &intended), Ok(()));
    for bad in [
        // another setting changed
        "nodeLinker: node-modules\nnpmAuthToken: top\nnpmRegistries:\n  \"https://r\":\n    npmAuthToken: t\n",
        // the value read back as a number, not the string written
        "nodeLinker: pnp\nnpmAuthToken: top\nnpmRegistries:\n  \"https://r\":\n    npmAuthToken: 1\n",
        // the new entry landed under the wrong parent
        "nodeLinker: pnp\nnpmAuthToken:\n  npmRegistries:\n    \"https://r\":\n      npmAuthToken: t\n",
        // a key moved
        "npmAuthToken: top\nnodeLinker: pnp\nnpmRegistries:\n  \"https://r\":\n    npmAuthToken: t\n",
    ] {
        assert_eq!(
            verify(original, bad, &intended),
            Err(Error::Unverified),
            "{bad}"
        );
    }
}

#[test]
fn odd_files_give_an_answer_never_a_panic() {
    let files = [
        "---\n",
        "---\nnpmScopes:\n...\n",
        "{}\n",
        "npmRegistries: {}\n",
        "npmRegistries: []\n",
        "npmRegistries: ~\n",
        "npmScopes:\n  corp:\n",
        "npmScopes:\n  corp: ~\n",
        "npmRegistries:\n  \"https://npm.example/npm\": |\n    text\n",
        "npmRegistries:\n  ? \"https://npm.example/npm\"\n  : npmAuthToken: x\n",
        "npmRegistries:\n  \"https://npm.example/npm\":\n    npmAuthToken: >-\n      folded\n",
        "npmRegistries:\n  \"https://npm.example/npm\":\n    npmAuthToken: \"two\n      lines\"\n",
        "a: é\u{2028}b\nnpmAuthToken: ü\r",
        "npmScopes:\n  corp: {npmAuthToken: x}\n",
        "npmScopes: {corp: {npmRegistryServer: \"https://npm.example/npm\", npmAuthToken:}}\n",
        "a: 1\n---\nb: 2\n",
        "\t- x",
    ];
    let new = token("npm_new");
    for text in files {
        for change in [
            Change::SetRegistryToken {
                registry: REGISTRY,
                token: NewValue::Literal(&new),
            },
            Change::RemoveRegistryToken { registry: REGISTRY },
            Change::SetScopeToken {
                scope: "corp",
                registry: REGISTRY,
                token: NewValue::Literal(&new),
            },
            Change::RemoveScopeToken { scope: "corp" },
            Change::RemoveScope { scope: "corp" },
        ] {
            if let Ok(after) = edit(text, &change)
                && after != text
            {
                // Whatever was written reads back as valid yarn settings.
                if let Err(error) = super::super::Yarnrc::parse(&after) {
                    panic!("{text:?} {change:?} gave {after:?}: {error}");
                }
            }
        }
    }
}
