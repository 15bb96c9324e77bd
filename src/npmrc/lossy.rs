//! The text npm reads from an `.npmrc` file's bytes, and where a place in
//! that text is in the bytes, so an edit can splice the bytes themselves.
//!
//! npm reads a config file as UTF-8 (`readFile(file, 'utf8')`), and Node
//! puts one U+FFFD in place of each maximal invalid sequence, as the WHATWG
//! decoder does; `String::from_utf8_lossy` follows the same rule, so a key
//! or value holding a stray byte reads here exactly as it reads to npm.
//! Line breaks are ASCII and never part of a multi-byte sequence, so each
//! line decodes alone as it does within the whole file.

use std::borrow::Cow;

/// `bytes` as npm reads them: UTF-8, with U+FFFD for each invalid sequence.
pub(crate) fn decode(bytes: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

/// The offset in `bytes` of the character boundary `offset` of
/// `decode(bytes)`. A U+FFFD that replaced invalid bytes starts where they
/// start and ends where they end.
pub(crate) fn byte_offset(bytes: &[u8], offset: usize) -> usize {
    let (mut text_at, mut byte_at) = (0, 0);
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid().len();
        if offset <= text_at + valid {
            return byte_at + (offset - text_at);
        }
        text_at += valid;
        byte_at += valid;
        if !chunk.invalid().is_empty() {
            if offset < text_at + '\u{fffd}'.len_utf8() {
                // Inside the replacement character: not a boundary, and
                // no caller asks for one; its start is the nearest.
                return byte_at;
            }
            text_at += '\u{fffd}'.len_utf8();
            byte_at += chunk.invalid().len();
        }
    }
    byte_at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_as_node_does() {
        // Each checked against Node 20's `Buffer.toString('utf8')`: one
        // U+FFFD per maximal invalid sequence.
        for (bytes, text) in [
            (&b"a\xe9\x80b"[..], "a\u{fffd}b"),
            (b"a\xf0\x9f\x98\n", "a\u{fffd}\n"),
            (b"\xff\xfeA", "\u{fffd}\u{fffd}A"),
            (b"\xe2\x82(", "\u{fffd}("),
            (b"\xed\xa0\x80", "\u{fffd}\u{fffd}\u{fffd}"),
            (b"caf\xe9", "caf\u{fffd}"),
        ] {
            assert_eq!(decode(bytes), text, "{bytes:?}");
        }
    }

    #[test]
    fn offsets_map_back_to_the_bytes() {
        let bytes = b"k=\xffv\xe2\x82 # caf\xe9";
        let text = decode(bytes);
        assert_eq!(text, "k=\u{fffd}v\u{fffd} # caf\u{fffd}");
        let boundaries: Vec<usize> = text
            .char_indices()
            .map(|(at, _)| at)
            .chain([text.len()])
            .collect();
        let mapped: Vec<usize> = boundaries
            .iter()
            .map(|&at| byte_offset(bytes, at))
            .collect();
        assert_eq!(mapped, vec![0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13]);
        // Valid UTF-8 maps to itself.
        let valid = "é=😀";
        for (at, _) in valid.char_indices() {
            assert_eq!(byte_offset(valid.as_bytes(), at), at);
        }
        assert_eq!(byte_offset(b"", 0), 0);
    }
}
