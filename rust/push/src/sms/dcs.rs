//! TP-DCS (3GPP TS 23.038 §4): which alphabet the user data uses. A WAP
//! push is binary, so only uncompressed 8-bit data is accepted.

use std::fmt;

use super::SmsError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alphabet {
    Gsm7,
    EightBit,
    Ucs2,
    /// Compressed (§4 bit 5) or a reserved coding group.
    Other,
}

impl fmt::Display for Alphabet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Alphabet::Gsm7 => "GSM 7-bit text",
            Alphabet::EightBit => "8-bit data",
            Alphabet::Ucs2 => "UCS-2 text",
            Alphabet::Other => "compressed or reserved coding",
        })
    }
}

pub fn alphabet(dcs: u8) -> Alphabet {
    match dcs >> 4 {
        // 00xx general data coding, 01xx the same marked for automatic
        // deletion: bit 5 compression, bits 3..2 the alphabet.
        0b0000..=0b0111 if dcs & 0x20 != 0 => Alphabet::Other,
        0b0000..=0b0111 => match (dcs >> 2) & 0x03 {
            0b00 => Alphabet::Gsm7,
            0b01 => Alphabet::EightBit,
            0b10 => Alphabet::Ucs2,
            _ => Alphabet::Other,
        },
        // 1100, 1101 message waiting (7-bit), 1110 message waiting (UCS2).
        0b1100 | 0b1101 => Alphabet::Gsm7,
        0b1110 => Alphabet::Ucs2,
        // 1111 data coding/message class: bit 2 selects 8-bit data.
        0b1111 if dcs & 0x04 != 0 => Alphabet::EightBit,
        0b1111 => Alphabet::Gsm7,
        // 1000..1011 reserved.
        _ => Alphabet::Other,
    }
}

pub(crate) fn require_eight_bit(dcs: u8) -> Result<(), SmsError> {
    match alphabet(dcs) {
        Alphabet::EightBit => Ok(()),
        other => Err(SmsError::NotEightBit {
            dcs,
            alphabet: other,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coding_groups() {
        assert_eq!(alphabet(0x04), Alphabet::EightBit); // general, 8-bit, no class
        assert_eq!(alphabet(0xf5), Alphabet::EightBit); // 1111, 8-bit, class 1
        assert_eq!(alphabet(0x44), Alphabet::EightBit); // auto-deletion group, 8-bit
        assert_eq!(alphabet(0x00), Alphabet::Gsm7);
        assert_eq!(alphabet(0x08), Alphabet::Ucs2);
        assert_eq!(alphabet(0x24), Alphabet::Other); // compressed 8-bit
        assert_eq!(alphabet(0xf0), Alphabet::Gsm7);
        assert_eq!(alphabet(0x84), Alphabet::Other); // reserved group
        assert_eq!(alphabet(0xc0), Alphabet::Gsm7);
    }
}
