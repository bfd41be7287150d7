//! Who may run a resync session now: one session per account (its claim),
//! at most `http.max_sessions` at once (the slots), the others waiting in
//! arrival order. A waiting job is also a pending work item in the store,
//! so this queue need not survive a restart. No I/O here; `resync` runs
//! the jobs.

use std::collections::{BTreeSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use dmnonce_proto::DefaultNonce;
use dmnonce_store::{PendingId, SecretSlot};

/// A poisoned lock still guards consistent data here: every critical
/// section is one insert, remove or counter step.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The claims and the slots of the daemon's resync sessions.
pub(crate) struct Sessions {
    claims: Arc<Mutex<BTreeSet<String>>>,
    slots: Mutex<Slots>,
    max_running: usize,
}

#[derive(Default)]
struct Slots {
    running: usize,
    waiting: VecDeque<Job>,
}

impl Sessions {
    /// At most `max_running` sessions at once.
    pub(crate) fn new(max_running: usize) -> Self {
        Sessions {
            claims: Arc::default(),
            slots: Mutex::default(),
            max_running,
        }
    }

    /// Claims the account for a resync session; `None` if one runs or waits
    /// already. The claim goes with the session's [`Job`] and is released
    /// when that is dropped, however the session ends.
    pub(crate) fn claim(&self, server_id: &str) -> Option<SessionClaim> {
        lock(&self.claims)
            .insert(server_id.to_owned())
            .then(|| SessionClaim {
                claims: self.claims.clone(),
                server_id: server_id.to_owned(),
            })
    }

    /// Whether a session runs or waits for the account.
    pub(crate) fn claimed(&self, server_id: &str) -> bool {
        lock(&self.claims).contains(server_id)
    }

    /// Takes a slot for `job` and hands the job back to be started; with
    /// none free the job waits its turn (`None`). Its account stays claimed
    /// meanwhile, so it waits at most once.
    pub(crate) fn admit(&self, job: Job) -> Option<Job> {
        let mut slots = lock(&self.slots);
        if slots.running < self.max_running {
            slots.running += 1;
            Some(job)
        } else {
            slots.waiting.push_back(job);
            None
        }
    }

    /// A session ended (or never started): its slot goes to the job that
    /// waited longest, handed back to be started. None when `stopping`: the
    /// waiting jobs stay pending in the store and the next start resumes
    /// them.
    pub(crate) fn ended(&self, stopping: bool) -> Option<Job> {
        let mut slots = lock(&self.slots);
        slots.running = slots.running.saturating_sub(1);
        if stopping {
            return None;
        }
        let next = slots.waiting.pop_front()?;
        slots.running += 1;
        Some(next)
    }

    /// Sessions waiting for a slot.
    pub(crate) fn waiting(&self) -> usize {
        lock(&self.slots).waiting.len()
    }
}

/// An account's claim on its one resync session (see [`Sessions::claim`]).
/// It holds the set of claims, not the daemon's shared state, so a job
/// waiting in the queue makes no reference cycle.
pub(crate) struct SessionClaim {
    claims: Arc<Mutex<BTreeSet<String>>>,
    server_id: String,
}

impl std::fmt::Debug for SessionClaim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SessionClaim")
            .field(&self.server_id)
            .finish()
    }
}

impl Drop for SessionClaim {
    fn drop(&mut self) {
        lock(&self.claims).remove(&self.server_id);
    }
}

/// A resync session to run. It holds its account's session claim, so the
/// claim ends with the job however the session ends (run, failed to
/// start, or left waiting at shutdown).
#[derive(Debug)]
pub struct Job {
    claim: SessionClaim,
    /// Its pending work item.
    pub pending: PendingId,
    /// Session id from the Package #0.
    pub session_id: u16,
    /// The default-nonce reading that verified the Package #0.
    pub reading: DefaultNonce,
    /// The stored server secret that verified it: the one the server holds,
    /// so the session checks the server's credentials with it.
    pub server_secret: SecretSlot,
}

impl Job {
    pub(crate) fn new(
        claim: SessionClaim,
        pending: PendingId,
        session_id: u16,
        reading: DefaultNonce,
        server_secret: SecretSlot,
    ) -> Self {
        Job {
            claim,
            pending,
            session_id,
            reading,
            server_secret,
        }
    }

    /// The account.
    pub fn server_id(&self) -> &str {
        &self.claim.server_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(s: &Sessions, id: &str) -> Job {
        let claim = s.claim(id).expect("unclaimed");
        Job::new(
            claim,
            PendingId(1),
            1,
            DefaultNonce::Text,
            SecretSlot::Current,
        )
    }

    #[test]
    fn a_claim_ends_with_its_job_wherever_the_job_goes() {
        let s = Sessions::new(1);
        let first = job(&s, "a");
        assert!(s.claim("a").is_none(), "one session per account");
        let running = s.admit(first).expect("a free slot");
        assert!(s.admit(job(&s, "b")).is_none(), "b waits");
        assert_eq!(s.waiting(), 1);
        drop(running);
        assert!(!s.claimed("a"), "released when the job is dropped");
        let next = s.ended(false).expect("b gets the slot");
        assert_eq!(next.server_id(), "b");
        assert!(s.claimed("b"));
        // At shutdown the waiting jobs are not started, and dropping them
        // releases their claims.
        assert!(s.admit(job(&s, "c")).is_none());
        assert!(s.ended(true).is_none());
        drop(next);
        assert!(s.claimed("c"), "c still waits in the queue");
    }
}
