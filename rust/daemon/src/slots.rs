//! Connection slots of the control socket: a bound on all connections and a
//! smaller one per peer uid, so that one local client — a runaway agent, a
//! script in a loop — cannot take every slot and lock the others out.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// Why a connection got no slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoSlot {
    /// Every slot is taken.
    Full,
    /// This uid holds its whole share.
    UidShare,
}

/// The slot table; cheap to clone (shared).
#[derive(Clone)]
pub struct Slots {
    inner: Arc<Mutex<Table>>,
    max_total: usize,
    max_per_uid: usize,
}

/// Connections held, by peer uid (uids holding none are absent).
#[derive(Default)]
struct Table {
    by_uid: HashMap<u32, usize>,
}

impl Table {
    fn total(&self) -> usize {
        self.by_uid.values().sum()
    }
}

/// A taken slot; dropping it gives the slot back.
pub struct Slot {
    slots: Slots,
    uid: u32,
}

impl Slots {
    /// `max_per_uid` is capped at `max_total`.
    pub fn new(max_total: usize, max_per_uid: usize) -> Slots {
        Slots {
            inner: Arc::default(),
            max_total,
            max_per_uid: max_per_uid.min(max_total),
        }
    }

    fn table(&self) -> std::sync::MutexGuard<'_, Table> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes a slot for a peer with this uid.
    pub fn take(&self, uid: u32) -> Result<Slot, NoSlot> {
        let mut t = self.table();
        if t.total() >= self.max_total {
            return Err(NoSlot::Full);
        }
        let held = t.by_uid.entry(uid).or_insert(0);
        if *held >= self.max_per_uid {
            return Err(NoSlot::UidShare);
        }
        *held += 1;
        Ok(Slot {
            slots: self.clone(),
            uid,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut t = self.slots.table();
        if let Some(n) = t.by_uid.get_mut(&self.uid) {
            *n -= 1;
            if *n == 0 {
                t.by_uid.remove(&self.uid);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_uid_cannot_take_the_slots_of_the_others() {
        let slots = Slots::new(4, 3);
        let a: Vec<Slot> = (0..3).map(|_| slots.take(1000).unwrap()).collect();
        assert_eq!(slots.take(1000).err(), Some(NoSlot::UidShare));
        let b = slots.take(0).unwrap();
        assert_eq!(slots.take(0).err(), Some(NoSlot::Full));
        drop(b);
        let _b = slots.take(0).unwrap();
        drop(a);
        assert!(slots.take(1000).is_ok());
    }

    #[test]
    fn the_share_is_capped_by_the_total() {
        let slots = Slots::new(2, 24);
        let _a = slots.take(7).unwrap();
        let _b = slots.take(7).unwrap();
        assert_eq!(slots.take(7).err(), Some(NoSlot::Full));
    }

    #[test]
    fn released_slots_leave_no_trace() {
        let slots = Slots::new(3, 1);
        for uid in 0..100 {
            drop(slots.take(uid).unwrap());
        }
        assert!(slots.table().by_uid.is_empty());
        assert_eq!(slots.table().total(), 0);
    }
}
