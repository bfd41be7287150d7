//! TS 23.040 §9.1.2.5 addresses (TP-OA) and the SMSC address that Android
//! and AT+CMT prefix to a TPDU (TS 24.011 §8.2.5.1 RP-Originator Address,
//! TS 27.005 §3.1 `<pdu>`): type-of-address octet, then BCD semi-octets low
//! nibble first, or GSM 7-bit text for alphanumeric senders.

use std::fmt;

use super::gsm7;
use super::SmsError;
use crate::reader::Reader;

/// Type-of-number values (bits 6..4 of the type-of-address octet).
pub const TON_UNKNOWN: u8 = 0b000;
pub const TON_INTERNATIONAL: u8 = 0b001;
pub const TON_ALPHANUMERIC: u8 = 0b101;
/// Numbering plan 0b0001: ISDN/E.164.
pub const NPI_ISDN: u8 = 0b0001;

/// TP-OA is 2 to 12 octets: at most 20 semi-octets of value.
const MAX_SEMI_OCTETS: u8 = 20;
/// Semi-octets 0xA..=0xE (§9.1.2.3); 0xF pads an odd count.
const BCD_EXTRA: [char; 5] = ['*', '#', 'a', 'b', 'c'];

/// An originator or SMSC address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Address {
    /// Type of number, 0..=7.
    pub ton: u8,
    /// Numbering plan identification, 0..=15.
    pub npi: u8,
    /// Digits (with `*#abc`), or the decoded text when alphanumeric.
    pub value: String,
}

impl Address {
    pub fn international(digits: &str) -> Self {
        Address {
            ton: TON_INTERNATIONAL,
            npi: NPI_ISDN,
            value: digits.trim_start_matches('+').to_owned(),
        }
    }

    pub fn alphanumeric(text: &str) -> Self {
        Address {
            ton: TON_ALPHANUMERIC,
            npi: 0,
            value: text.to_owned(),
        }
    }

    fn type_octet(&self) -> u8 {
        0x80 | ((self.ton & 0x07) << 4) | (self.npi & 0x0f)
    }

    /// TP-OA: length in useful semi-octets, type, value.
    pub(crate) fn decode_tp(r: &mut Reader<'_>) -> Result<Self, SmsError> {
        const FIELD: &str = "originating address";
        let semi_octets = r.u8(FIELD)?;
        if semi_octets > MAX_SEMI_OCTETS {
            return Err(SmsError::AddressTooLong { semi_octets });
        }
        let toa = r.u8(FIELD)?;
        let octets = r.take(usize::from(semi_octets).div_ceil(2), FIELD)?;
        Ok(Self::from_parts(toa, octets, usize::from(semi_octets)))
    }

    /// SMSC address: length in octets (type octet included), 0 = none.
    pub(crate) fn decode_smsc(r: &mut Reader<'_>) -> Result<Option<Self>, SmsError> {
        const FIELD: &str = "SMSC address";
        let len = r.u8(FIELD)?;
        if len == 0 {
            return Ok(None);
        }
        if len > 1 + MAX_SEMI_OCTETS / 2 {
            return Err(SmsError::AddressTooLong {
                semi_octets: len.saturating_sub(1).saturating_mul(2),
            });
        }
        let toa = r.u8(FIELD)?;
        let octets = r.take(usize::from(len - 1), FIELD)?;
        Ok(Some(Self::from_parts(toa, octets, octets.len() * 2)))
    }

    fn from_parts(toa: u8, octets: &[u8], semi_octets: usize) -> Self {
        let ton = (toa >> 4) & 0x07;
        let npi = toa & 0x0f;
        let value = if ton == TON_ALPHANUMERIC {
            gsm7::decode(&gsm7::unpack(octets, semi_octets * 4 / 7))
        } else {
            octets
                .iter()
                .flat_map(|&b| [b & 0x0f, b >> 4])
                .take(semi_octets)
                .filter(|&n| n != 0x0f)
                .map(|n| match n {
                    0..=9 => char::from(b'0' + n),
                    _ => BCD_EXTRA[usize::from(n - 10).min(BCD_EXTRA.len() - 1)],
                })
                .collect()
        };
        Address { ton, npi, value }
    }

    /// Value octets and the count of useful semi-octets.
    fn encode_value(&self) -> Result<(Vec<u8>, usize), SmsError> {
        if self.ton == TON_ALPHANUMERIC {
            let septets = gsm7::encode(&self.value).ok_or(SmsError::UnencodableAddress)?;
            let packed = gsm7::pack(&septets);
            // The length counts semi-octets of packed data (§9.1.2.5).
            let semi = (septets.len() * 7).div_ceil(4);
            return Ok((packed, semi));
        }
        let mut nibbles = Vec::new();
        for c in self.value.chars() {
            let n = match c {
                '0'..='9' => c as u8 - b'0',
                _ => match BCD_EXTRA.iter().position(|&e| e == c) {
                    Some(i) => 10 + i as u8,
                    None => return Err(SmsError::UnencodableAddress),
                },
            };
            nibbles.push(n);
        }
        let semi = nibbles.len();
        let octets = nibbles
            .chunks(2)
            .map(|c| c[0] | (c.get(1).copied().unwrap_or(0x0f) << 4))
            .collect();
        Ok((octets, semi))
    }

    pub(crate) fn encode_tp(&self, out: &mut Vec<u8>) -> Result<(), SmsError> {
        let (octets, semi) = self.encode_value()?;
        let semi = u8::try_from(semi)
            .ok()
            .filter(|&s| s <= MAX_SEMI_OCTETS)
            .ok_or(SmsError::UnencodableAddress)?;
        out.push(semi);
        out.push(self.type_octet());
        out.extend_from_slice(&octets);
        Ok(())
    }

    pub(crate) fn encode_smsc(address: Option<&Self>, out: &mut Vec<u8>) -> Result<(), SmsError> {
        let Some(a) = address else {
            out.push(0);
            return Ok(());
        };
        let (octets, _) = a.encode_value()?;
        let len = u8::try_from(octets.len() + 1)
            .ok()
            .filter(|&l| l <= 1 + MAX_SEMI_OCTETS / 2)
            .ok_or(SmsError::UnencodableAddress)?;
        out.push(len);
        out.push(a.type_octet());
        out.extend_from_slice(&octets);
        Ok(())
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ton == TON_INTERNATIONAL {
            f.write_str("+")?;
        }
        f.write_str(&self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn international_number_with_odd_digit_count() {
        // 0x0B: 11 semi-octets; 0x91: international, ISDN;
        // 4412345678 9 → 44 21 43 65 87 F9.
        let bytes = [0x0b, 0x91, 0x44, 0x21, 0x43, 0x65, 0x87, 0xf9];
        let a = Address::decode_tp(&mut Reader::new(&bytes)).unwrap();
        assert_eq!(a, Address::international("44123456789"));
        assert_eq!(a.to_string(), "+44123456789");
        let mut out = Vec::new();
        a.encode_tp(&mut out).unwrap();
        assert_eq!(out, bytes);
    }

    #[test]
    fn alphanumeric_sender() {
        // "Operator": 8 septets → 7 octets → 14 semi-octets; type 0xD0
        // (alphanumeric, NPI 0).
        let a = Address::alphanumeric("Operator");
        let mut out = Vec::new();
        a.encode_tp(&mut out).unwrap();
        assert_eq!(&out[..2], &[0x0e, 0xd0]);
        assert_eq!(out.len(), 2 + 7);
        assert_eq!(Address::decode_tp(&mut Reader::new(&out)).unwrap(), a);
    }

    #[test]
    fn smsc_address_counts_octets() {
        // 07 91 44 77 58 10 06 50: +447785016005.
        let bytes = [0x07, 0x91, 0x44, 0x77, 0x58, 0x10, 0x06, 0x50];
        let a = Address::decode_smsc(&mut Reader::new(&bytes))
            .unwrap()
            .unwrap();
        assert_eq!(a.to_string(), "+447785016005");
        let mut out = Vec::new();
        Address::encode_smsc(Some(&a), &mut out).unwrap();
        assert_eq!(out, bytes);
        assert_eq!(
            Address::decode_smsc(&mut Reader::new(&[0x00])).unwrap(),
            None
        );
    }

    #[test]
    fn over_long_addresses_are_refused() {
        assert_eq!(
            Address::decode_tp(&mut Reader::new(&[21, 0x91])),
            Err(SmsError::AddressTooLong { semi_octets: 21 })
        );
        assert!(Address::decode_smsc(&mut Reader::new(&[12, 0x91])).is_err());
    }
}
