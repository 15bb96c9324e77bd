//! Masks: how a token may be shown (its ends only), and whether a full
//! token fits the mask a registry lists it under.

/// `npm_aBcD...7890` for npm tokens, `abcd...wxyz` for others, `***` when
/// too short to show any of it safely.
pub fn mask(token: &str) -> String {
    let chars: Vec<char> = token.chars().collect();
    let head = if token.starts_with("npm_") { 8 } else { 4 };
    if chars.len() < head + 4 + 8 {
        return "***".to_string();
    }
    ends(&chars, head, 4)
}

/// How `rtok scan` shows a secret it found: as npmjs masks tokens in its
/// token list, the first 8 and the last 4 characters, whatever the prefix
/// (a finding's mask is matched by eye against that list). A secret under
/// 20 characters (a password, say) shows only its first quarter and no
/// end, so a mask never gives away most of a short secret.
pub fn mask_found(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() >= 20 {
        ends(&chars, 8, 4)
    } else {
        ends(&chars, chars.len() / 4, 0)
    }
}

/// The first `head` and last `tail` characters around `...`.
fn ends(chars: &[char], head: usize, tail: usize) -> String {
    let start: String = chars[..head].iter().collect();
    let end: String = chars[chars.len() - tail..].iter().collect();
    format!("{start}...{end}")
}

/// Text with an ellipsis is a mask itself, never a full token.
pub fn is_masked(value: &str) -> bool {
    value.contains("...") || value.contains('…')
}

/// Whether a full token `value` fits a listed `mask`. A mask with an
/// ellipsis (`...` or `…`) keeps the start and the end of the token
/// (npmjs: first 8 and last 4; Verdaccio: first 5 and last 5); one without
/// is a truncated prefix (old npmjs). The value must be longer than the
/// mask: the mask itself, copied from a list, is not the token.
pub fn mask_matches(mask: &str, value: &str) -> bool {
    let mask = mask.trim();
    if mask.is_empty() || is_masked(value) {
        return false;
    }
    let split = mask.split_once("...").or_else(|| mask.split_once('…'));
    match split {
        Some((start, end)) => {
            !(start.is_empty() && end.is_empty())
                && value.starts_with(start)
                && value.ends_with(end)
                && value.len() > start.len() + end.len()
        }
        None => value.len() > mask.len() && value.starts_with(mask),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_show_only_the_ends() {
        assert_eq!(
            mask("npm_aBcDefghijklmnopqrstuvwxyz7890"),
            "npm_aBcD...7890"
        );
        assert_eq!(mask("abcdefghijklmnopqrstuvwxyz"), "abcd...wxyz");
        assert_eq!(mask("short-token"), "***");
    }

    #[test]
    fn found_secrets_keep_npmjs_ends_when_long_and_a_quarter_when_short() {
        assert_eq!(
            mask_found("npm_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"),
            "npm_a1B2...q7R8"
        );
        // Not an npm token: still npmjs's first 8 and last 4.
        assert_eq!(mask_found("abcdefghijklmnopqrstuvwxyz"), "abcdefgh...wxyz");
        assert_eq!(mask_found("abcdefghijklmnopqrst"), "abcdefgh...qrst");
        assert_eq!(mask_found("hunter2hunter2"), "hun...");
        assert_eq!(mask_found("abcd"), "a...");
        assert_eq!(mask_found("abc"), "...");
        assert_eq!(mask_found(""), "...");
        // Characters, not bytes.
        assert_eq!(mask_found("pässwörd"), "pä...");
    }

    #[test]
    fn tokens_fit_their_listed_masks() {
        assert!(mask_matches("npm_aBcD...7890", "npm_aBcDxxxxxxxx7890"));
        assert!(!mask_matches("npm_aBcD...7890", "npm_aBcDxxxxxxxx7891"));
        assert!(mask_matches("abcde…vwxyz", "abcde123vwxyz"));
        assert!(mask_matches("a1b2c3", "a1b2c3d4"));
        assert!(!mask_matches("a1b2c3", "a1b2c3"));
        assert!(!mask_matches("...", "anything-at-all"));
        assert!(!mask_matches("", "x"));
        assert!(!mask_matches("npm_aBcD...7890", "npm_aBcD...7890"));
    }
}
