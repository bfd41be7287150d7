//! Peer-supplied text (server URLs, failure reasons, status text) made
//! safe for where it is shown: the terminal and XML.

/// Characters that would move the cursor, recolour the terminal or
/// reorder what is shown (controls, C1, bidirectional and invisible
/// formatting characters), as `\u{…}`.
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
            | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{00ad}')
}

/// For the terminal.
pub fn terminal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if hidden(c) {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// For XML text and attribute values: markup escaped, and what XML 1.0
/// cannot hold or a reader should not see shown as `\u{…}`.
pub fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in terminal(s).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup_and_terminal_controls() {
        let peer = "<a href='x'>&\u{1b}[31m\u{202e}evil\n";
        let t = super::terminal(peer);
        assert!(!t.contains('\u{1b}') && !t.contains('\u{202e}') && !t.contains('\n'));
        assert!(t.contains("\\u{1b}[31m"), "{t}");
        let x = super::xml(peer);
        assert_eq!(
            x,
            "&lt;a href=&apos;x&apos;&gt;&amp;\\u{1b}[31m\\u{202e}evil\\u{a}"
        );
    }
}
