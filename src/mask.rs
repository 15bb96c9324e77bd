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
    let start: String = chars[..head].iter().collect();
    let end: String = chars[chars.len() - 4..].iter().collect();
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
