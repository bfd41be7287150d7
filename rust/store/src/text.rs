//! Which characters of outside text (server ids, client names, URLs, push
//! headers) cannot be shown as they are: the daemon escapes them in log
//! lines and refuses them in new identifiers, from this one list. And the
//! rules for a new account's server id, client name and server URL
//! (docs/protocol.md, "Account identifiers and URLs"), checked by
//! [`crate::Store::create_account`].

use crate::{Result, StoreError};

/// Longest server id or client name, in bytes: Package #0 carries the
/// server id's length in 8 bits.
pub const MAX_IDENTIFIER_LEN: usize = 255;
/// Longest server URL, in bytes.
pub const MAX_URL_LEN: usize = 2048;

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

fn invalid(field: &'static str, reason: &'static str) -> StoreError {
    StoreError::InvalidInput { field, reason }
}

/// A new server id or client name: 1 to 255 bytes, no hidden character
/// ([`is_hidden`]), no whitespace at either end. Ids are compared exactly
/// (case-sensitive, as Package #0 carries them); that a new id may not
/// equal an existing one ignoring ASCII case is the store's check, since
/// it needs the existing ones. Nothing is trimmed or folded: a stored id is
/// always the one the caller sent.
pub fn validate_identifier(field: &'static str, s: &str) -> Result<()> {
    if s.is_empty() {
        return Err(invalid(field, "empty"));
    }
    if s.len() > MAX_IDENTIFIER_LEN {
        return Err(invalid(field, "longer than 255 bytes"));
    }
    if s.chars().any(is_hidden) {
        return Err(invalid(
            field,
            "contains a control or invisible character (line break, NUL, tab, \
             bidirectional or zero-width mark)",
        ));
    }
    if s.starts_with(char::is_whitespace) || s.ends_with(char::is_whitespace) {
        return Err(invalid(field, "begins or ends with whitespace"));
    }
    Ok(())
}

/// What [`parse_server_url`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerUrl<'a> {
    /// `https` (else `http`).
    pub https: bool,
    /// The host: a name, an IPv4 address, or an IPv6 address without its
    /// brackets.
    pub host: &'a str,
    /// The port, when given.
    pub port: Option<u16>,
}

/// A DM server URL: `http://` or `https://` (lowercase), a host, an
/// optional port 1–65535, then an optional path, query and fragment.
/// Refused: no host (`http://`, `http://:80/`), user info (`user:pw@`: it
/// would be shown by `account_list` and in logs, and a password belongs in
/// the secrets), a host with characters other than letters, digits, `-`,
/// `_` and `.` or with an empty label, an IPv6 literal that does not parse,
/// a bad port, and whitespace or hidden characters anywhere.
pub fn parse_server_url(url: &str) -> Result<ServerUrl<'_>> {
    const F: &str = "server_url";
    let bad = |reason| Err(invalid(F, reason));
    if url.len() > MAX_URL_LEN {
        return bad("longer than 2048 bytes");
    }
    if url.chars().any(|c| c.is_whitespace() || is_hidden(c)) {
        return bad("contains whitespace or a control or invisible character");
    }
    let (https, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else {
        return bad("must start with http:// or https://");
    };
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    if authority.contains('@') {
        return bad("must not carry a user name or password (user@host)");
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let Some((addr, after)) = v6.split_once(']') else {
            return bad("IPv6 address without its closing ]");
        };
        if addr.parse::<std::net::Ipv6Addr>().is_err() {
            return bad("bracketed host is not an IPv6 address");
        }
        let port = match after {
            "" => None,
            p => match p.strip_prefix(':') {
                Some(p) => Some(p),
                None => return bad("unexpected text after the IPv6 address"),
            },
        };
        (addr, port)
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return bad("has no host");
    }
    let v6 = authority.starts_with('[');
    if !v6 {
        if host.len() > 253 {
            return bad("host longer than 253 bytes");
        }
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if !host.split('.').all(label_ok) {
            return bad("host must be a name or address (letters, digits, -, _, non-empty labels between dots)");
        }
    }
    let port = match port {
        None => None,
        Some(p) => {
            let ok = !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit());
            match p.parse::<u16>() {
                Ok(n) if ok && n != 0 => Some(n),
                _ => return bad("port must be a number from 1 to 65535"),
            }
        }
    };
    Ok(ServerUrl { https, host, port })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(r: Result<()>) -> &'static str {
        match r {
            Err(StoreError::InvalidInput { reason, .. }) => reason,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn identifiers() {
        for ok in [
            "dm.example.net",
            "DM Server 1",
            "a",
            "服务器",
            &"x".repeat(255),
        ] {
            validate_identifier("server_id", ok).unwrap();
        }
        assert_eq!(reason(validate_identifier("server_id", "")), "empty");
        assert_eq!(
            reason(validate_identifier("server_id", &"x".repeat(256))),
            "longer than 255 bytes"
        );
        for hidden in ["a\nb", "a\0", "a\r", "\tb", "a\u{202e}b", "a\u{200b}"] {
            assert!(reason(validate_identifier("client_name", hidden)).contains("control"));
        }
        for padded in [" a", "a ", "a\u{a0}", "\u{3000}a"] {
            assert_eq!(
                reason(validate_identifier("server_id", padded)),
                "begins or ends with whitespace"
            );
        }
    }

    #[test]
    fn server_urls() {
        let p = |u| parse_server_url(u).unwrap();
        assert_eq!(
            p("https://dm.example.net/dm"),
            ServerUrl {
                https: true,
                host: "dm.example.net",
                port: None
            }
        );
        assert_eq!(
            p("http://127.0.0.1:9/dm?x=1#f"),
            ServerUrl {
                https: false,
                host: "127.0.0.1",
                port: Some(9)
            }
        );
        assert_eq!(
            p("http://[::1]:8080"),
            ServerUrl {
                https: false,
                host: "::1",
                port: Some(8080)
            }
        );
        assert_eq!(p("https://h:65535").port, Some(65535));
        assert_eq!(p("https://dm_1.example").host, "dm_1.example");
        let bad = |u: &str| match parse_server_url(u) {
            Err(StoreError::InvalidInput { field, reason }) => {
                assert_eq!(field, "server_url");
                reason
            }
            other => panic!("{u}: {other:?}"),
        };
        assert_eq!(bad("http://"), "has no host");
        assert_eq!(bad("https:///dm"), "has no host");
        assert_eq!(bad("http://:80/dm"), "has no host");
        assert_eq!(bad("http://?q"), "has no host");
        assert!(bad("ftp://h/").contains("http://"));
        assert!(bad("HTTP://h/").contains("http://"));
        assert!(bad("http:/h").contains("http://"));
        assert!(bad("http://user:pw@h/").contains("user"));
        for port in [
            "0",
            "65536",
            "",
            "1a",
            "+80",
            "000080",
            "99999999999999999999",
        ] {
            assert!(bad(&format!("http://h:{port}/")).contains("port"), "{port}");
        }
        for host in ["a..b", ".a", "a b", "h%41", "h:1:2", "exa\u{feff}mple"] {
            let r = bad(&format!("http://{host}/"));
            assert!(
                r.contains("host") || r.contains("port") || r.contains("whitespace"),
                "{host}: {r}"
            );
        }
        assert!(bad("http://[::1/").contains("]"));
        assert!(bad("http://[zz]/").contains("IPv6"));
        assert!(bad("http://[::1]x/").contains("IPv6"));
        assert!(bad("http://h/a b").contains("whitespace"));
        assert!(bad("http://h/\n").contains("whitespace"));
        assert!(bad(&format!("http://h/{}", "a".repeat(2048))).contains("2048"));
    }

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
