//! Splitting a WDP datagram (a WSP push) into SMS-DELIVER TPDUs, as an
//! SMSC would deliver it: 16-bit port addressing in every part (WAP-259
//! WDP §6.5 repeats the ports in each segment) and a concatenation IE when
//! the datagram does not fit one message. For tests, the test server and
//! the field test.

use super::udh::{Concat, Ports, UserDataHeader};
use super::{Address, SmsDeliver, SmsError, SmscField, MAX_USER_DATA};

/// WDP port of connectionless WSP push (WAP-259 Appendix B).
pub const WAP_PUSH_PORT: u16 = 2948;
/// The usual source port: connectionless WSP (9200).
pub const WAP_PUSH_SOURCE_PORT: u16 = 9200;

/// UDHL (1) + 16-bit ports IE (2 + 4).
const PORTS_HEADER: usize = 1 + 6;
/// Concatenation IE with an 8-bit (2 + 3) or 16-bit (2 + 4) reference.
const CONCAT_IE_NARROW: usize = 5;
const CONCAT_IE_WIDE: usize = 6;

/// How the delivered messages look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliverOptions {
    pub smsc: Option<Address>,
    pub originator: Address,
    /// TP-SCTS, seven semi-octet-swapped octets.
    pub scts: [u8; 7],
    /// Concatenation reference; only the low 8 bits are sent unless
    /// `wide_reference`.
    pub reference: u16,
    pub wide_reference: bool,
    pub src_port: u16,
    pub dst_port: u16,
    pub pid: u8,
    /// Must be an 8-bit data coding (0x04, 0xF5, ...).
    pub dcs: u8,
}

impl DeliverOptions {
    /// 8-bit data (DCS 0x04), ports 9200 → 2948, PID 0, an 8-bit reference,
    /// SCTS 2026-11-29 00:00:00 UTC.
    pub fn new(originator: Address, reference: u16) -> Self {
        DeliverOptions {
            smsc: None,
            originator,
            scts: [0x62, 0x11, 0x92, 0x00, 0x00, 0x00, 0x00],
            reference,
            wide_reference: false,
            src_port: WAP_PUSH_SOURCE_PORT,
            dst_port: WAP_PUSH_PORT,
            pid: 0,
            dcs: 0x04,
        }
    }
}

/// The SMS-DELIVERs carrying `datagram`: one without a concatenation IE
/// when it fits (133 octets), otherwise 128 (127 with a 16-bit reference)
/// octets per part.
pub fn split_datagram(datagram: &[u8], opts: &DeliverOptions) -> Result<Vec<SmsDeliver>, SmsError> {
    let ports = Some(Ports::Wide {
        dst: opts.dst_port,
        src: opts.src_port,
    });
    let message = |udh: UserDataHeader, payload: &[u8]| SmsDeliver {
        smsc: opts.smsc.clone(),
        first_octet: 0x04, // TP-MMS: no more messages waiting
        originator: opts.originator.clone(),
        pid: opts.pid,
        dcs: opts.dcs,
        scts: opts.scts,
        udh: Some(udh),
        payload: payload.to_vec(),
    };
    if datagram.len() <= MAX_USER_DATA - PORTS_HEADER {
        return Ok(vec![message(UserDataHeader::new(ports, None), datagram)]);
    }
    let concat_ie = if opts.wide_reference {
        CONCAT_IE_WIDE
    } else {
        CONCAT_IE_NARROW
    };
    let per_part = MAX_USER_DATA - PORTS_HEADER - concat_ie;
    let total = datagram.len().div_ceil(per_part);
    let total_u8 = u8::try_from(total).map_err(|_| SmsError::TooManyParts { parts: total })?;
    let reference = if opts.wide_reference {
        opts.reference
    } else {
        opts.reference & 0xff
    };
    Ok(datagram
        .chunks(per_part)
        .zip(1..=total_u8)
        .map(|(chunk, seq)| {
            let concat = Concat {
                reference,
                wide_reference: opts.wide_reference,
                total: total_u8,
                seq,
            };
            message(UserDataHeader::new(ports, Some(concat)), chunk)
        })
        .collect())
}

/// [`split_datagram`], then each message encoded as a PDU.
pub fn encode_wap_push(
    datagram: &[u8],
    opts: &DeliverOptions,
    smsc: SmscField,
) -> Result<Vec<Vec<u8>>, SmsError> {
    split_datagram(datagram, opts)?
        .iter()
        .map(|m| m.encode(smsc))
        .collect()
}
