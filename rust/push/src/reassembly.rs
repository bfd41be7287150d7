//! Sans-IO reassembly of concatenated SMS (TS 23.040 §9.2.3.24.1) into
//! WDP datagrams for the WAP push port. The caller passes each decoded
//! SMS-DELIVER and the current time (any monotonic clock, as a Duration
//! since an epoch of its choosing); nothing here reads a clock.
//!
//! Bounds: at most `max_pending_messages` incomplete messages, each of at
//! most `max_parts` parts of at most 140 octets. When the table is full
//! the oldest incomplete message is dropped to make room (reported in the
//! outcome): refusing instead would let a flood of bogus first parts
//! block every genuine push until the timeout.

use std::collections::HashMap;
use std::time::Duration;

use crate::sms::{Address, Ports, SmsDeliver, MAX_USER_DATA, WAP_PUSH_PORT};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_pending_messages: usize,
    /// Largest accepted total part count (1..=255).
    pub max_parts: u8,
    /// How long an incomplete message is kept after its first part.
    pub timeout: Duration,
}

impl Default for Limits {
    /// 16 pending messages of up to 16 parts (about 2 KiB each; a
    /// Package #0 push is one or two parts), 5 minutes.
    fn default() -> Self {
        Limits {
            max_pending_messages: 16,
            max_parts: 16,
            timeout: Duration::from_secs(300),
        }
    }
}

/// A complete WDP datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datagram {
    pub originator: Address,
    pub src_port: u16,
    pub dst_port: u16,
    /// For port 2948, a connectionless WSP push PDU.
    pub payload: Vec<u8>,
}

/// An incomplete message that was dropped (timed out or evicted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Abandoned {
    pub originator: Address,
    pub reference: u16,
    pub received: u8,
    pub total: u8,
}

/// What happened to an accepted part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The datagram is complete (a single-part message completes at once).
    Complete(Datagram),
    /// Held; `evicted` names the message dropped to make room for it.
    Stored {
        received: u8,
        total: u8,
        evicted: Option<Abandoned>,
    },
    /// The same part again, byte for byte: dropped.
    Duplicate { seq: u8 },
    /// The same part number with different content: the first copy is
    /// kept, this one dropped.
    ConflictingDuplicate { seq: u8 },
}

/// Why a part was not taken. TS 23.040 §9.2.3.24.1 says a receiver
/// "shall ignore" a concatenation IE with a zero total, a zero part number
/// or one beyond the total and treat the message as a single one; a WDP
/// fragment read as a whole datagram would be garbage, so we refuse it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FragmentRefusal {
    #[error("SMS has no user data header, so no WDP port: not a WAP push")]
    NoUserDataHeader,
    #[error("SMS has no application port addressing: not a WAP push")]
    NoPortAddressing,
    #[error("SMS uses 8-bit ports ({dst} <- {src}); WAP push needs 16-bit port 2948")]
    EightBitPorts { dst: u8, src: u8 },
    #[error("SMS is for port {dst}, not the WAP push port 2948")]
    WrongPort { dst: u16 },
    #[error("concatenation IE with a total of 0 parts")]
    ZeroTotal,
    #[error("concatenation part number 0 (parts count from 1) of {total}")]
    PartNumberZero { total: u8 },
    #[error("concatenation part {seq} beyond the total of {total}")]
    PartBeyondTotal { seq: u8, total: u8 },
    #[error("message of {total} parts exceeds the limit of {max}")]
    TooManyParts { total: u8, max: u8 },
    #[error("part of {octets} octets exceeds the 140 an SMS can carry")]
    PartTooLarge { octets: usize },
    #[error("the pending-message limit is 0; nothing can be held")]
    NoRoom,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    originator: Address,
    reference: u16,
    wide_reference: bool,
    dst_port: u16,
    src_port: u16,
    total: u8,
}

struct Pending {
    first_seen: Duration,
    /// Arrival order, to break ties between equal `first_seen` times.
    order: u64,
    parts: Vec<Option<Vec<u8>>>,
    received: u8,
}

pub struct Reassembler {
    limits: Limits,
    pending: HashMap<Key, Pending>,
    next_order: u64,
}

impl Reassembler {
    pub fn new(limits: Limits) -> Self {
        Reassembler {
            limits,
            pending: HashMap::new(),
            next_order: 0,
        }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Incomplete messages held.
    pub fn pending_messages(&self) -> usize {
        self.pending.len()
    }

    /// Payload octets held.
    pub fn pending_octets(&self) -> usize {
        self.pending
            .values()
            .flat_map(|p| p.parts.iter().flatten())
            .map(Vec::len)
            .sum()
    }

    /// Takes one SMS. Only WAP push datagrams (16-bit destination port
    /// 2948) are accepted; the ports must be in every part.
    pub fn push(&mut self, sms: &SmsDeliver, now: Duration) -> Result<Outcome, FragmentRefusal> {
        let udh = sms.udh.as_ref().ok_or(FragmentRefusal::NoUserDataHeader)?;
        let (dst_port, src_port) = match udh.ports {
            None => return Err(FragmentRefusal::NoPortAddressing),
            Some(Ports::Narrow { dst, src }) => {
                return Err(FragmentRefusal::EightBitPorts { dst, src })
            }
            Some(Ports::Wide { dst, src }) => (dst, src),
        };
        if dst_port != WAP_PUSH_PORT {
            return Err(FragmentRefusal::WrongPort { dst: dst_port });
        }
        if sms.payload.len() > MAX_USER_DATA {
            return Err(FragmentRefusal::PartTooLarge {
                octets: sms.payload.len(),
            });
        }
        let datagram = |payload: Vec<u8>| Datagram {
            originator: sms.originator.clone(),
            src_port,
            dst_port,
            payload,
        };
        let Some(concat) = udh.concat else {
            return Ok(Outcome::Complete(datagram(sms.payload.clone())));
        };
        let (total, seq) = (concat.total, concat.seq);
        if total == 0 {
            return Err(FragmentRefusal::ZeroTotal);
        }
        if seq == 0 {
            return Err(FragmentRefusal::PartNumberZero { total });
        }
        if seq > total {
            return Err(FragmentRefusal::PartBeyondTotal { seq, total });
        }
        if total == 1 {
            return Ok(Outcome::Complete(datagram(sms.payload.clone())));
        }
        if total > self.limits.max_parts {
            return Err(FragmentRefusal::TooManyParts {
                total,
                max: self.limits.max_parts,
            });
        }
        let key = Key {
            originator: sms.originator.clone(),
            reference: concat.reference,
            wide_reference: concat.wide_reference,
            dst_port,
            src_port,
            total,
        };
        // A stale message under the same key is over: its reference may
        // be reused by a new one.
        if self
            .pending
            .get(&key)
            .is_some_and(|p| self.is_stale(p, now))
        {
            self.pending.remove(&key);
        }
        let mut evicted = None;
        if !self.pending.contains_key(&key) {
            if self.limits.max_pending_messages == 0 {
                return Err(FragmentRefusal::NoRoom);
            }
            if self.pending.len() >= self.limits.max_pending_messages {
                evicted = self.evict_oldest();
            }
            let order = self.next_order;
            self.next_order += 1;
            self.pending.insert(
                key.clone(),
                Pending {
                    first_seen: now,
                    order,
                    parts: vec![None; usize::from(total)],
                    received: 0,
                },
            );
        }
        let Some(entry) = self.pending.get_mut(&key) else {
            return Err(FragmentRefusal::NoRoom);
        };
        let Some(slot) = entry.parts.get_mut(usize::from(seq - 1)) else {
            return Err(FragmentRefusal::PartBeyondTotal { seq, total });
        };
        match slot {
            Some(held) if *held == sms.payload => return Ok(Outcome::Duplicate { seq }),
            Some(_) => return Ok(Outcome::ConflictingDuplicate { seq }),
            None => *slot = Some(sms.payload.clone()),
        }
        entry.received += 1;
        if entry.received < total {
            return Ok(Outcome::Stored {
                received: entry.received,
                total,
                evicted,
            });
        }
        let parts = self
            .pending
            .remove(&key)
            .map(|p| p.parts)
            .unwrap_or_default();
        Ok(Outcome::Complete(datagram(
            parts.into_iter().flatten().flatten().collect(),
        )))
    }

    /// Drops every incomplete message whose first part is `timeout` old.
    pub fn expire(&mut self, now: Duration) -> Vec<Abandoned> {
        let stale: Vec<Key> = self
            .pending
            .iter()
            .filter(|(_, p)| self.is_stale(p, now))
            .map(|(k, _)| k.clone())
            .collect();
        let mut out: Vec<(u64, Abandoned)> = stale
            .into_iter()
            .filter_map(|k| {
                self.pending
                    .remove(&k)
                    .map(|p| (p.order, abandoned(&k, &p)))
            })
            .collect();
        out.sort_by_key(|(order, _)| *order);
        out.into_iter().map(|(_, a)| a).collect()
    }

    fn is_stale(&self, p: &Pending, now: Duration) -> bool {
        now.saturating_sub(p.first_seen) >= self.limits.timeout
    }

    fn evict_oldest(&mut self) -> Option<Abandoned> {
        let key = self
            .pending
            .iter()
            .min_by_key(|(_, p)| (p.first_seen, p.order))
            .map(|(k, _)| k.clone())?;
        self.pending.remove(&key).map(|p| abandoned(&key, &p))
    }
}

fn abandoned(key: &Key, p: &Pending) -> Abandoned {
    Abandoned {
        originator: key.originator.clone(),
        reference: key.reference,
        received: p.received,
        total: key.total,
    }
}

#[cfg(test)]
mod tests;
