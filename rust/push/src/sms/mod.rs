//! SMS-DELIVER TPDUs (3GPP TS 23.040 §9.2.2.1) carrying WDP datagrams:
//! 8-bit data with a User Data Header for port addressing and
//! concatenation.

mod address;
mod dcs;
mod encode;
mod gsm7;
mod udh;

pub use address::{Address, NPI_ISDN, TON_ALPHANUMERIC, TON_INTERNATIONAL, TON_UNKNOWN};
pub use dcs::Alphabet;
pub use encode::{
    encode_wap_push, split_datagram, DeliverOptions, WAP_PUSH_PORT, WAP_PUSH_SOURCE_PORT,
};
pub use udh::{
    Concat, InformationElement, Ports, UserDataHeader, IEI_CONCAT_16BIT_REF, IEI_CONCAT_8BIT_REF,
    IEI_PORTS_16BIT, IEI_PORTS_8BIT,
};

use crate::reader::{Reader, Truncated};

/// TS 23.040 §9.2.3.16: at most 140 octets of 8-bit user data.
pub const MAX_USER_DATA: usize = 140;

/// TP-MTI (§9.2.3.1). 0b11 is reserved and "shall be treated as
/// SMS-DELIVER" by a receiving MS.
const MTI_DELIVER: u8 = 0b00;
const MTI_RESERVED: u8 = 0b11;
/// First-octet bits (§9.2.2.1).
const TP_MMS: u8 = 0x04;
const TP_UDHI: u8 = 0x40;

/// Whether the PDU starts with an SMSC address. Android's
/// `SMS_RECEIVED` `pdus` extra and AT `+CMT`/`+CMGR` in PDU mode
/// (TS 27.005 §3.1) include it; a bare TPDU (e.g. from a SIM dump or our
/// own encoder without it) does not. There is no reliable way to tell
/// from the bytes, so the caller says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmscField {
    Included,
    Absent,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmsError {
    #[error("SMS PDU truncated while reading the {field}")]
    Truncated { field: &'static str },
    #[error("TP-MTI {mti:#04b} is not SMS-DELIVER (is the SMSC flag right?)")]
    NotDeliver { mti: u8 },
    #[error("address of {semi_octets} semi-octets exceeds the 20 TS 23.040 allows")]
    AddressTooLong { semi_octets: u8 },
    #[error("address cannot be encoded (digit or character outside its alphabet, or too long)")]
    UnencodableAddress,
    #[error("TP-DCS 0x{dcs:02X} is {alphabet}, but a WAP push needs uncompressed 8-bit data")]
    NotEightBit { dcs: u8, alphabet: Alphabet },
    #[error("user data of {octets} octets exceeds the 140 an SMS can carry")]
    UserDataTooLong { octets: usize },
    #[error("user data header length {udhl} does not fit the user data length {udl}")]
    HeaderTooLong { udhl: u8, udl: u8 },
    #[error("information element 0x{iei:02X} has a wrong length ({len})")]
    MalformedIe { iei: u8, len: u8 },
    #[error("{count} octets after the user data")]
    TrailingOctets { count: usize },
    #[error("{parts} parts needed; a concatenated SMS has at most 255")]
    TooManyParts { parts: usize },
}

impl From<Truncated> for SmsError {
    fn from(t: Truncated) -> Self {
        SmsError::Truncated { field: t.0 }
    }
}

/// A decoded SMS-DELIVER with 8-bit user data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsDeliver {
    /// The SMSC address, when the PDU had one.
    pub smsc: Option<Address>,
    /// The first octet as sent (MTI, MMS, LP, SRI, UDHI, RP).
    pub first_octet: u8,
    pub originator: Address,
    /// TP-PID.
    pub pid: u8,
    /// TP-DCS (8-bit data).
    pub dcs: u8,
    /// TP-SCTS as its seven semi-octet-swapped octets.
    pub scts: [u8; 7],
    /// Present when TP-UDHI was set.
    pub udh: Option<UserDataHeader>,
    /// The user data after the header: a WDP datagram or fragment.
    pub payload: Vec<u8>,
}

impl SmsDeliver {
    pub fn decode(pdu: &[u8], smsc: SmscField) -> Result<Self, SmsError> {
        let mut r = Reader::new(pdu);
        let smsc = match smsc {
            SmscField::Included => Address::decode_smsc(&mut r)?,
            SmscField::Absent => None,
        };
        let first_octet = r.u8("first octet")?;
        let mti = first_octet & 0x03;
        if mti != MTI_DELIVER && mti != MTI_RESERVED {
            return Err(SmsError::NotDeliver { mti });
        }
        let originator = Address::decode_tp(&mut r)?;
        let pid = r.u8("TP-PID")?;
        let dcs = r.u8("TP-DCS")?;
        dcs::require_eight_bit(dcs)?;
        let scts = <[u8; 7]>::try_from(r.take(7, "TP-SCTS")?)
            .map_err(|_| SmsError::Truncated { field: "TP-SCTS" })?;
        let udl = r.u8("TP-UDL")?;
        if usize::from(udl) > MAX_USER_DATA {
            return Err(SmsError::UserDataTooLong {
                octets: usize::from(udl),
            });
        }
        let ud = r.take(usize::from(udl), "TP-UD")?;
        if !r.is_empty() {
            return Err(SmsError::TrailingOctets {
                count: r.remaining(),
            });
        }
        let (udh, payload) = if first_octet & TP_UDHI != 0 {
            let mut ur = Reader::new(ud);
            let udhl = ur.u8("UDHL")?;
            let ies = ur
                .take(usize::from(udhl), "user data header")
                .map_err(|_| SmsError::HeaderTooLong { udhl, udl })?;
            (Some(UserDataHeader::decode(ies)?), ur.rest().to_vec())
        } else {
            (None, ud.to_vec())
        };
        Ok(SmsDeliver {
            smsc,
            first_octet,
            originator,
            pid,
            dcs,
            scts,
            udh,
            payload,
        })
    }

    /// Encodes the TPDU, with the SMSC address in front when `smsc` is
    /// [`SmscField::Included`] (a missing address is written as length 0).
    /// TP-UDHI follows `udh`.
    pub fn encode(&self, smsc: SmscField) -> Result<Vec<u8>, SmsError> {
        dcs::require_eight_bit(self.dcs)?;
        let mut out = Vec::with_capacity(MAX_USER_DATA + 40);
        if smsc == SmscField::Included {
            Address::encode_smsc(self.smsc.as_ref(), &mut out)?;
        }
        let udhi = if self.udh.is_some() { TP_UDHI } else { 0 };
        out.push((self.first_octet & !TP_UDHI & !0x03) | MTI_DELIVER | udhi);
        self.originator.encode_tp(&mut out)?;
        out.push(self.pid);
        out.push(self.dcs);
        out.extend_from_slice(&self.scts);
        let mut ud = match &self.udh {
            Some(h) => h.encode()?,
            None => Vec::new(),
        };
        ud.extend_from_slice(&self.payload);
        let udl = u8::try_from(ud.len())
            .ok()
            .filter(|&l| usize::from(l) <= MAX_USER_DATA)
            .ok_or(SmsError::UserDataTooLong { octets: ud.len() })?;
        out.push(udl);
        out.extend_from_slice(&ud);
        Ok(out)
    }

    /// TP-MMS is 0 when the SMSC holds more messages for us (§9.2.3.2).
    pub fn more_messages_waiting(&self) -> bool {
        self.first_octet & TP_MMS == 0
    }

    /// TP-SCTS decoded (§9.2.3.11): (year within century, month, day, hour,
    /// minute, second, offset from UTC in quarter hours), or `None` when a
    /// semi-octet is not a decimal digit.
    pub fn service_centre_time(&self) -> Option<([u8; 6], i8)> {
        let digit = |b: u8| -> Option<u8> {
            let (lo, hi) = (b & 0x0f, b >> 4);
            (lo <= 9 && hi <= 9).then_some(lo * 10 + hi)
        };
        let mut fields = [0u8; 6];
        for (f, &b) in fields.iter_mut().zip(&self.scts[..6]) {
            *f = digit(b)?;
        }
        // Bit 3 of the seventh octet is the sign of the zone offset.
        let tz = self.scts[6];
        let quarters = i8::try_from(digit(tz & !0x08)?).ok()?;
        Some((fields, if tz & 0x08 != 0 { -quarters } else { quarters }))
    }
}

#[cfg(test)]
mod tests;
