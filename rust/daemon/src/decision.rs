//! What a verified Package #0 means, decided from facts alone: no store,
//! no log, no event. The policy of docs/design.md ("Flow") is this one
//! function and its table test; `intake` gathers the facts and carries the
//! decision out, `report` says what happened.
//!
//! A default-nonce push is decided twice: first without an admission
//! ([`Decision::Admit`]: take the account's resync claim and ask the store),
//! then with the answer.

use dmnonce_control::PushOutcome;
use dmnonce_proto::{DefaultNonce, Verdict};
use dmnonce_store::{FallbackVerdict, PendingId, Policy, SyncState, UnixTime};

/// What is known about the account a push names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountFacts {
    /// Whether the default-nonce fallback is allowed.
    pub policy: Policy,
    /// Its sync state.
    pub state: SyncState,
}

/// Whether a default-nonce push may start a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Not asked yet.
    NotAsked,
    /// A session runs or waits for the account: its claim is taken.
    Busy,
    /// The store's answer (replay cache, rate limit and policy, checked and
    /// recorded in one transaction).
    Store(FallbackVerdict),
}

/// Everything the decision depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    /// The account; `None` when no account has the push's server id.
    pub account: Option<AccountFacts>,
    /// How the Package #0 verified (with the readings only when
    /// [`tries_default_nonce`] said so).
    pub verdict: Verdict,
    /// The admission of a default-nonce push.
    pub admission: Admission,
}

/// What the daemon does with a push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Verified with a stored nonce: the DM client gets an `alert`.
    Alert {
        /// The server signed with our stored nonce, so an account marked
        /// `needs-resync` is in step again.
        mark_in_sync: bool,
    },
    /// Verified with the default nonce: claim the account, ask the store,
    /// decide again with the [`Admission`].
    Admit,
    /// Admitted: run the resync session for this pending work item.
    StartResync {
        /// The work item the store recorded with the admission.
        pending: PendingId,
        /// The reading that verified.
        reading: DefaultNonce,
    },
    /// Nothing to do; why.
    Drop(Dropped),
}

/// Why a push was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dropped {
    /// No account has the push's server id.
    UnknownAccount,
    /// Failed with every nonce tried.
    Rejected,
    /// Failed with the stored nonces, and the policy forbids the default
    /// nonce, which was therefore not tried.
    PolicyDenied,
    /// Verified with the default nonce, but the store refused it by policy
    /// (changed since the account was read; the store audited it).
    PolicyDeniedAtAdmission,
    /// A resync session runs or waits for the account already.
    Busy,
    /// A default-nonce Package #0 seen before.
    Replay,
    /// Too many default-nonce fallbacks for the account lately.
    RateLimited {
        /// When the next one is allowed.
        retry_after: UnixTime,
    },
}

impl Dropped {
    /// The outcome the caller sees.
    pub fn outcome(self) -> PushOutcome {
        match self {
            Dropped::UnknownAccount => PushOutcome::UnknownAccount,
            Dropped::Rejected => PushOutcome::Rejected,
            Dropped::PolicyDenied | Dropped::PolicyDeniedAtAdmission => PushOutcome::PolicyDenied,
            Dropped::Busy => PushOutcome::Busy,
            Dropped::Replay => PushOutcome::Replay,
            Dropped::RateLimited { .. } => PushOutcome::RateLimited,
        }
    }
}

/// Whether the default-nonce readings are tried for an account with this
/// policy (the verification and the `verify` request both ask here).
pub fn tries_default_nonce(policy: Policy) -> bool {
    policy == Policy::Allow
}

/// The decision for a push.
pub fn decide(facts: &Facts) -> Decision {
    let Some(account) = facts.account else {
        return Decision::Drop(Dropped::UnknownAccount);
    };
    match facts.verdict {
        Verdict::Stored { .. } => Decision::Alert {
            mark_in_sync: account.state == SyncState::NeedsResync,
        },
        Verdict::Rejected | Verdict::Default(_) if !tries_default_nonce(account.policy) => {
            // A default verdict cannot come from a deny account's
            // verification; refusing it here keeps that true by construction.
            Decision::Drop(Dropped::PolicyDenied)
        }
        Verdict::Rejected => Decision::Drop(Dropped::Rejected),
        Verdict::Default(reading) => match facts.admission {
            Admission::NotAsked => Decision::Admit,
            Admission::Busy => Decision::Drop(Dropped::Busy),
            Admission::Store(FallbackVerdict::Fresh { pending }) => {
                Decision::StartResync { pending, reading }
            }
            Admission::Store(FallbackVerdict::Replay) => Decision::Drop(Dropped::Replay),
            Admission::Store(FallbackVerdict::RateLimited { retry_after }) => {
                Decision::Drop(Dropped::RateLimited { retry_after })
            }
            Admission::Store(FallbackVerdict::PolicyDenied) => {
                Decision::Drop(Dropped::PolicyDeniedAtAdmission)
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: Verdict = Verdict::Default(DefaultNonce::Text);
    const STORED: Verdict = Verdict::Stored { index: 0 };

    fn account(policy: Policy, state: SyncState) -> Option<AccountFacts> {
        Some(AccountFacts { policy, state })
    }

    fn decided(account: Option<AccountFacts>, verdict: Verdict, admission: Admission) -> Decision {
        decide(&Facts {
            account,
            verdict,
            admission,
        })
    }

    #[test]
    fn the_whole_table() {
        use Admission::{Busy, NotAsked, Store};
        use Policy::{Allow, Deny};
        use SyncState::{InSync, NeedsResync, Resyncing};
        let pending = PendingId(7);
        let drop = Decision::Drop;
        let table: &[(Option<AccountFacts>, Verdict, Admission, Decision)] = &[
            (None, STORED, NotAsked, drop(Dropped::UnknownAccount)),
            (None, TEXT, NotAsked, drop(Dropped::UnknownAccount)),
            (
                account(Allow, InSync),
                STORED,
                NotAsked,
                Decision::Alert {
                    mark_in_sync: false,
                },
            ),
            (
                account(Deny, NeedsResync),
                Verdict::Stored { index: 1 },
                NotAsked,
                Decision::Alert { mark_in_sync: true },
            ),
            (
                account(Allow, Resyncing),
                STORED,
                NotAsked,
                Decision::Alert {
                    mark_in_sync: false,
                },
            ),
            (
                account(Allow, InSync),
                Verdict::Rejected,
                NotAsked,
                drop(Dropped::Rejected),
            ),
            (
                account(Deny, InSync),
                Verdict::Rejected,
                NotAsked,
                drop(Dropped::PolicyDenied),
            ),
            (
                account(Deny, InSync),
                TEXT,
                NotAsked,
                drop(Dropped::PolicyDenied),
            ),
            (account(Allow, InSync), TEXT, NotAsked, Decision::Admit),
            (account(Allow, InSync), TEXT, Busy, drop(Dropped::Busy)),
            (
                account(Allow, NeedsResync),
                Verdict::Default(DefaultNonce::Zero),
                Store(FallbackVerdict::Fresh { pending }),
                Decision::StartResync {
                    pending,
                    reading: DefaultNonce::Zero,
                },
            ),
            (
                account(Allow, InSync),
                TEXT,
                Store(FallbackVerdict::Replay),
                drop(Dropped::Replay),
            ),
            (
                account(Allow, InSync),
                TEXT,
                Store(FallbackVerdict::RateLimited {
                    retry_after: UnixTime(30),
                }),
                drop(Dropped::RateLimited {
                    retry_after: UnixTime(30),
                }),
            ),
            (
                account(Allow, InSync),
                TEXT,
                Store(FallbackVerdict::PolicyDenied),
                drop(Dropped::PolicyDeniedAtAdmission),
            ),
        ];
        for (i, (account, verdict, admission, want)) in table.iter().enumerate() {
            assert_eq!(
                decided(*account, *verdict, *admission),
                *want,
                "row {i}: {account:?} {verdict:?} {admission:?}"
            );
        }
    }

    #[test]
    fn every_drop_has_its_own_outcome_except_the_two_policy_refusals() {
        let all = [
            Dropped::UnknownAccount,
            Dropped::Rejected,
            Dropped::PolicyDenied,
            Dropped::Busy,
            Dropped::Replay,
            Dropped::RateLimited {
                retry_after: UnixTime(1),
            },
        ];
        let outcomes: std::collections::BTreeSet<_> =
            all.iter().map(|d| d.outcome().as_str()).collect();
        assert_eq!(outcomes.len(), all.len());
        assert_eq!(
            Dropped::PolicyDeniedAtAdmission.outcome(),
            Dropped::PolicyDenied.outcome()
        );
    }
}
