//! Which characters of outside text (server ids, client names, URLs, push
//! headers) cannot be shown as they are: the daemon escapes them in log
//! lines and refuses them in new identifiers, from this one list.

/// A character that, printed as it is, would end a log line, move the
/// cursor, or render as nothing or reorder the text around it, so that two
/// different strings look alike or a forged line looks like ours:
///
/// - every Unicode control character (C0, DEL, C1: `\n`, `\r`, ESC, NUL…);
/// - the line and paragraph separators U+2028/U+2029 (new lines in many
///   viewers);
/// - the invisible formatting characters: soft hyphen, Arabic letter mark,
///   Mongolian vowel separator, zero-width space/joiners, the LRM/RLM
///   marks, word joiner and invisible operators, the byte order mark;
/// - the bidirectional embeddings, overrides and isolates (U+202A–U+202E,
///   U+2066–U+2069), which reorder what follows them.
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{061C}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{FEFF}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_characters() {
        for c in [
            '\0', '\n', '\r', '\t', '\u{1b}', '\u{7f}', '\u{85}', '\u{2028}', '\u{202e}',
            '\u{200b}', '\u{feff}', '\u{2066}',
        ] {
            assert!(is_hidden(c), "{:?}", c);
        }
        for c in ['a', 'Z', ' ', '.', '-', '~', 'é', 'ß', '中', '\u{2010}'] {
            assert!(!is_hidden(c), "{:?}", c);
        }
    }
}
