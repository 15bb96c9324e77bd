//! Short token ids, and matching what the user typed to listed tokens.

use crate::mask::mask_matches;
use crate::registry::TokenRecord;
use crate::secret::Secret;

/// The shortest id npm would print: at least `MIN_ID_LEN` characters.
pub(crate) const MIN_ID_LEN: usize = 6;

/// Gives each token its short id, exactly as npm's `generateTokenIds`
/// defines it: the shortest prefix of its key, at least `min_len` long and
/// shorter than the key, that no other token's key starts with; else the
/// whole key.
///
/// npm compares every pair (O(n²): seconds for 10,000 tokens). With the
/// keys sorted, the longest prefix a key shares with any other key is the
/// one it shares with a sorted neighbour, so this is O(n log n).
pub(crate) fn assign(tokens: &mut [TokenRecord], min_len: usize) {
    let keys: Vec<&str> = tokens.iter().map(TokenRecord::key).collect();
    let ids = short_ids(&keys, min_len);
    for (token, id) in tokens.iter_mut().zip(ids) {
        token.set_id(&id);
    }
}

/// Short ids for `keys` (see [`assign`]), in the same order.
pub fn short_ids(keys: &[&str], min_len: usize) -> Vec<String> {
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_unstable_by_key(|&i| keys[i]);
    let mut shared = vec![0usize; keys.len()];
    for pair in order.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let common = common_prefix_chars(keys[a], keys[b]);
        shared[a] = shared[a].max(common);
        shared[b] = shared[b].max(common);
    }
    keys.iter()
        .zip(shared)
        .map(|(key, shared)| {
            let wanted = min_len.max(shared + 1);
            if key.is_ascii() {
                return key[..wanted.min(key.len())].to_string();
            }
            if wanted < key.chars().count() {
                key.chars().take(wanted).collect()
            } else {
                key.to_string()
            }
        })
        .collect()
}

fn common_prefix_chars(a: &str, b: &str) -> usize {
    if a.is_ascii() && b.is_ascii() {
        // Keys are hex or UUIDs: bytes are characters.
        return a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    }
    a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count()
}

/// What a `token delete` argument resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resolved {
    /// The key of the one token it names.
    Key(String),
    Ambiguous(Vec<String>),
    Unknown,
}

/// Resolves what the user typed: a unique prefix of a key (short ids are
/// such prefixes), else a full token value matched against the masks the
/// registry listed (`npm_aBcD...7890`, Verdaccio's `abcde...vwxyz`, or a
/// classic truncated prefix). A token value resolves to its key, so it never
/// goes into a URL.
pub(crate) fn resolve(argument: &str, tokens: &[TokenRecord]) -> Resolved {
    if argument.is_empty() {
        return Resolved::Unknown;
    }
    let by_key: Vec<&TokenRecord> = tokens
        .iter()
        .filter(|t| t.key().starts_with(argument))
        .collect();
    match by_key.as_slice() {
        [one] => return Resolved::Key(one.key().to_string()),
        [] => {}
        many => return Resolved::Ambiguous(many.iter().map(|t| t.key().to_string()).collect()),
    }
    let by_value: Vec<&TokenRecord> = tokens
        .iter()
        .filter(|t| mask_matches(t.mask(), argument))
        .collect();
    match by_value.as_slice() {
        [one] => Resolved::Key(one.key().to_string()),
        [] => Resolved::Unknown,
        many => Resolved::Ambiguous(many.iter().map(|t| t.key().to_string()).collect()),
    }
}

/// The one listed token whose mask the full token `secret` fits, if exactly
/// one does (how rtok recognises the token this machine uses).
pub(crate) fn by_value<'a>(secret: &Secret, tokens: &'a [TokenRecord]) -> Option<&'a TokenRecord> {
    let mut matching = tokens.iter().filter(|t| secret.fits_mask(t.mask()));
    let first = matching.next()?;
    matching.next().is_none().then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// npm's own quadratic definition, to check the fast one against.
    fn npm_ids(keys: &[&str], min_len: usize) -> Vec<String> {
        keys.iter()
            .enumerate()
            .map(|(i, key)| {
                for len in min_len..key.len() {
                    let clash = keys.iter().enumerate().any(|(j, other)| {
                        j != i && other.get(..len.min(other.len())) == key.get(..len)
                    });
                    if !clash {
                        return key[..len].to_string();
                    }
                }
                key.to_string()
            })
            .collect()
    }

    #[test]
    fn matches_npm_on_tricky_sets() {
        let sets: Vec<Vec<&str>> = vec![
            vec![],
            vec!["a1b2c3d4e5f6a"],
            vec!["a1b2c3d4e5f6a", "a1b2c3d4e5f6b"],
            vec!["abcdef01", "abcdef02", "abcdzz"],
            vec!["abcdefgh", "abcdef"],
            vec!["short", "shorter"],
            vec!["same1234", "same1234"],
            vec!["281f586c823b772b952c4596d8acfde3", "281f5aaa", "9e0c"],
        ];
        for keys in sets {
            assert_eq!(short_ids(&keys, 6), npm_ids(&keys, 6), "{keys:?}");
        }
    }

    #[test]
    fn ids_are_unique_prefixes_of_at_least_six() {
        let keys = ["0123456789", "0123499999", "9876543210"];
        let ids = short_ids(&keys, 6);
        assert_eq!(ids, vec!["012345", "012349", "987654"]);
    }

    fn record(key: &str, mask: &str) -> TokenRecord {
        TokenRecord::from_value(json!({"key": key, "token": mask})).expect("record")
    }

    #[test]
    fn resolves_ids_prefixes_and_values() {
        let tokens = vec![
            record("aaaa1111", "npm_AbCd...7890"),
            record("aaaa2222", "NDRhZ...zNzA5"),
            record("bbbb3333", "a1b2c3"),
        ];
        assert_eq!(resolve("aaaa1", &tokens), Resolved::Key("aaaa1111".into()));
        assert_eq!(resolve("b", &tokens), Resolved::Key("bbbb3333".into()));
        assert_eq!(
            resolve("aaaa", &tokens),
            Resolved::Ambiguous(vec!["aaaa1111".into(), "aaaa2222".into()])
        );
        assert_eq!(
            resolve("npm_AbCdEfGhIjKlMnOp7890", &tokens),
            Resolved::Key("aaaa1111".into())
        );
        assert_eq!(
            resolve("NDRhZmiddlezNzA5", &tokens),
            Resolved::Key("aaaa2222".into())
        );
        assert_eq!(
            resolve("a1b2c3d4e5", &tokens),
            Resolved::Key("bbbb3333".into())
        );
        assert_eq!(resolve("npm_AbCd...7890", &tokens), Resolved::Unknown);
        assert_eq!(resolve("zzz", &tokens), Resolved::Unknown);
        assert_eq!(resolve("", &tokens), Resolved::Unknown);
    }
}
