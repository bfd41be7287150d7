//! The User Data Header (TS 23.040 §9.2.3.24): concatenation (IEI 0x00,
//! 0x08) and application port addressing (IEI 0x04, 0x05). Other IEs are
//! kept but not interpreted.

use super::SmsError;
use crate::reader::Reader;

pub const IEI_CONCAT_8BIT_REF: u8 = 0x00;
pub const IEI_PORTS_8BIT: u8 = 0x04;
pub const IEI_PORTS_16BIT: u8 = 0x05;
pub const IEI_CONCAT_16BIT_REF: u8 = 0x08;

/// Application port addressing (§9.2.3.24.3, §9.2.3.24.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ports {
    /// IEI 0x05: 16-bit ports; WAP push uses destination 2948.
    Wide { dst: u16, src: u16 },
    /// IEI 0x04: 8-bit ports, which cannot name 2948.
    Narrow { dst: u8, src: u8 },
}

/// Concatenated short message (§9.2.3.24.1, §9.2.3.24.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Concat {
    pub reference: u16,
    /// Carried by IEI 0x08 (16-bit reference) rather than 0x00.
    pub wide_reference: bool,
    /// Total parts, as sent (validated by the reassembler).
    pub total: u8,
    /// This part's number, 1-based, as sent.
    pub seq: u8,
}

/// One information element, raw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InformationElement {
    pub iei: u8,
    pub data: Vec<u8>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserDataHeader {
    pub ports: Option<Ports>,
    pub concat: Option<Concat>,
    /// Every IE in order, the interpreted ones included.
    pub elements: Vec<InformationElement>,
}

impl UserDataHeader {
    /// Parses the IEs of a header (the octets after UDHL). A repeated IE
    /// overrides the earlier one: §9.2.3.24 says the last occurrence of a
    /// non-repeatable IE is used.
    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, SmsError> {
        const FIELD: &str = "user data header";
        let mut r = Reader::new(bytes);
        let mut udh = UserDataHeader::default();
        while !r.is_empty() {
            let iei = r.u8(FIELD)?;
            let len = r.u8(FIELD)?;
            let data = r.take(usize::from(len), FIELD)?;
            let bad = || SmsError::MalformedIe { iei, len };
            match iei {
                IEI_CONCAT_8BIT_REF => {
                    let [reference, total, seq] = <[u8; 3]>::try_from(data).map_err(|_| bad())?;
                    udh.concat = Some(Concat {
                        reference: u16::from(reference),
                        wide_reference: false,
                        total,
                        seq,
                    });
                }
                IEI_CONCAT_16BIT_REF => {
                    let [hi, lo, total, seq] = <[u8; 4]>::try_from(data).map_err(|_| bad())?;
                    udh.concat = Some(Concat {
                        reference: u16::from_be_bytes([hi, lo]),
                        wide_reference: true,
                        total,
                        seq,
                    });
                }
                IEI_PORTS_8BIT => {
                    let [dst, src] = <[u8; 2]>::try_from(data).map_err(|_| bad())?;
                    udh.ports = Some(Ports::Narrow { dst, src });
                }
                IEI_PORTS_16BIT => {
                    let [d0, d1, s0, s1] = <[u8; 4]>::try_from(data).map_err(|_| bad())?;
                    udh.ports = Some(Ports::Wide {
                        dst: u16::from_be_bytes([d0, d1]),
                        src: u16::from_be_bytes([s0, s1]),
                    });
                }
                _ => {}
            }
            udh.elements.push(InformationElement {
                iei,
                data: data.to_vec(),
            });
        }
        Ok(udh)
    }

    /// Builds a header from ports and concatenation, in that order (the
    /// order Android and most SMSCs use).
    pub fn new(ports: Option<Ports>, concat: Option<Concat>) -> Self {
        let mut elements = Vec::new();
        match ports {
            Some(Ports::Wide { dst, src }) => {
                let [d0, d1] = dst.to_be_bytes();
                let [s0, s1] = src.to_be_bytes();
                elements.push(InformationElement {
                    iei: IEI_PORTS_16BIT,
                    data: vec![d0, d1, s0, s1],
                });
            }
            Some(Ports::Narrow { dst, src }) => {
                elements.push(InformationElement {
                    iei: IEI_PORTS_8BIT,
                    data: vec![dst, src],
                });
            }
            None => {}
        }
        if let Some(c) = concat {
            let data = if c.wide_reference {
                let [hi, lo] = c.reference.to_be_bytes();
                (IEI_CONCAT_16BIT_REF, vec![hi, lo, c.total, c.seq])
            } else {
                (IEI_CONCAT_8BIT_REF, vec![c.reference as u8, c.total, c.seq])
            };
            elements.push(InformationElement {
                iei: data.0,
                data: data.1,
            });
        }
        UserDataHeader {
            ports,
            concat,
            elements,
        }
    }

    /// UDHL then the IEs.
    pub(crate) fn encode(&self) -> Result<Vec<u8>, SmsError> {
        let mut out = vec![0];
        for ie in &self.elements {
            let len = u8::try_from(ie.data.len()).map_err(|_| SmsError::UserDataTooLong {
                octets: ie.data.len(),
            })?;
            out.push(ie.iei);
            out.push(len);
            out.extend_from_slice(&ie.data);
        }
        out[0] = u8::try_from(out.len() - 1)
            .map_err(|_| SmsError::UserDataTooLong { octets: out.len() })?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_and_8bit_concat() {
        let ies = [
            0x05, 0x04, 0x0b, 0x84, 0x23, 0xf0, // 16-bit ports: dst 2948, src 9200
            0x00, 0x03, 0x2a, 0x02, 0x01, // concat: ref 42, 2 parts, part 1
        ];
        let udh = UserDataHeader::decode(&ies).unwrap();
        assert_eq!(
            udh.ports,
            Some(Ports::Wide {
                dst: 2948,
                src: 9200
            })
        );
        assert_eq!(
            udh.concat,
            Some(Concat {
                reference: 42,
                wide_reference: false,
                total: 2,
                seq: 1
            })
        );
        let encoded = UserDataHeader::new(udh.ports, udh.concat).encode().unwrap();
        assert_eq!(encoded[0], 11); // UDHL
        assert_eq!(&encoded[1..], &ies);
    }

    #[test]
    fn wide_reference_unknown_ies_and_last_occurrence_wins() {
        let ies = [
            0x08, 0x04, 0x12, 0x34, 0x03, 0x02, // concat 16-bit ref 0x1234, 3 parts, part 2
            0x24, 0x01, 0x01, // IEI 0x24 (national language single shift): skipped
            0x04, 0x02, 0x10, 0x20, // 8-bit ports dst 0x10, src 0x20
            0x04, 0x02, 0x11, 0x21, // repeated: the last one counts
        ];
        let udh = UserDataHeader::decode(&ies).unwrap();
        assert_eq!(
            udh.concat,
            Some(Concat {
                reference: 0x1234,
                wide_reference: true,
                total: 3,
                seq: 2
            })
        );
        assert_eq!(
            udh.ports,
            Some(Ports::Narrow {
                dst: 0x11,
                src: 0x21
            })
        );
        assert_eq!(udh.elements.len(), 4);
    }

    #[test]
    fn malformed_ies_are_typed_errors() {
        // Concat IE with 2 octets instead of 3.
        assert_eq!(
            UserDataHeader::decode(&[0x00, 0x02, 0x01, 0x02]),
            Err(SmsError::MalformedIe { iei: 0, len: 2 })
        );
        // IE length running past the header.
        assert!(matches!(
            UserDataHeader::decode(&[0x05, 0x04, 0x0b]),
            Err(SmsError::Truncated { .. })
        ));
        // A lone IEI without its length.
        assert!(matches!(
            UserDataHeader::decode(&[0x05]),
            Err(SmsError::Truncated { .. })
        ));
    }
}
