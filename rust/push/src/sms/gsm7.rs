//! The GSM 7-bit default alphabet (3GPP TS 23.038 §6.2.1) and septet
//! packing (§6.1.2.1), needed only for alphanumeric originator addresses
//! (TS 23.040 §9.1.2.5, e.g. a sender shown as "Operator").

/// Basic character set, indexed by septet. 0x1B is the escape to the
/// extension table.
const BASIC: [char; 128] = [
    '@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å', //
    'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', '\u{1b}', 'Æ', 'æ', 'ß', 'É', //
    ' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/', //
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?', //
    '¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', //
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§', //
    '¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', //
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à', //
];

const ESCAPE: u8 = 0x1b;

/// Extension table (§6.2.1.1), reached through ESC.
const EXTENSION: [(u8, char); 10] = [
    (0x0a, '\u{0c}'),
    (0x14, '^'),
    (0x28, '{'),
    (0x29, '}'),
    (0x2f, '\\'),
    (0x3c, '['),
    (0x3d, '~'),
    (0x3e, ']'),
    (0x40, '|'),
    (0x65, '€'),
];

/// Unpacks `count` septets from `packed` (LSB first, §6.1.2.1.1).
pub(crate) fn unpack(packed: &[u8], count: usize) -> Vec<u8> {
    (0..count)
        .map(|i| {
            let bit = i * 7;
            let (byte, shift) = (bit / 8, bit % 8);
            let lo = u16::from(packed.get(byte).copied().unwrap_or(0));
            let hi = u16::from(packed.get(byte + 1).copied().unwrap_or(0));
            (((hi << 8 | lo) >> shift) & 0x7f) as u8
        })
        .collect()
}

pub(crate) fn pack(septets: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; (septets.len() * 7).div_ceil(8)];
    for (i, &s) in septets.iter().enumerate() {
        let bit = i * 7;
        let (byte, shift) = (bit / 8, bit % 8);
        let v = u16::from(s & 0x7f) << shift;
        if let Some(b) = out.get_mut(byte) {
            *b |= v as u8;
        }
        if let Some(b) = out.get_mut(byte + 1) {
            *b |= (v >> 8) as u8;
        }
    }
    out
}

/// Septets to text. An escape to an unassigned extension code shows the
/// basic character, as §6.2.1.1 asks of a receiver.
pub(crate) fn decode(septets: &[u8]) -> String {
    let mut text = String::new();
    let mut iter = septets.iter();
    while let Some(&s) = iter.next() {
        if s == ESCAPE {
            if let Some(&e) = iter.next() {
                let ext = EXTENSION
                    .iter()
                    .find(|(code, _)| *code == e)
                    .map(|(_, c)| *c);
                text.push(ext.unwrap_or(BASIC[usize::from(e & 0x7f)]));
            }
            continue;
        }
        text.push(BASIC[usize::from(s & 0x7f)]);
    }
    text
}

/// Text to septets; `None` when a character has no GSM 7-bit encoding.
pub(crate) fn encode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for c in text.chars() {
        if let Some(i) = BASIC
            .iter()
            .position(|&b| b == c)
            .filter(|&i| i != usize::from(ESCAPE))
        {
            out.push(i as u8);
        } else if let Some((code, _)) = EXTENSION.iter().find(|(_, e)| *e == c) {
            out.extend_from_slice(&[ESCAPE, *code]);
        } else {
            return None;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_hello_as_in_23038() {
        // "hello" → e8 32 9b fd 06 (the classic 7-bit packing example).
        let septets = encode("hello").unwrap();
        assert_eq!(pack(&septets), [0xe8, 0x32, 0x9b, 0xfd, 0x06]);
        assert_eq!(decode(&unpack(&[0xe8, 0x32, 0x9b, 0xfd, 0x06], 5)), "hello");
    }

    #[test]
    fn extension_characters_round_trip() {
        let septets = encode("a€[b]").unwrap();
        assert_eq!(decode(&unpack(&pack(&septets), septets.len())), "a€[b]");
        assert_eq!(encode("漢"), None);
    }
}
