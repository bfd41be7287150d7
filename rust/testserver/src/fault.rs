//! Fault injection for the field test: after the server sends a given
//! package of the next session, the link goes down for a while (a real one
//! through `--fault-hook`, or emulated: `/dm` connections are closed
//! unanswered) or the server "crashes" (exits at once, state as persisted).

use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::http::AfterWrite;
use crate::timeline::now_ms;

/// What happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultAction {
    /// The link is down for this many milliseconds.
    Outage {
        /// Duration.
        ms: u64,
    },
    /// The process exits (status 3) right after the answer is sent.
    Crash,
}

/// A fault waiting for its package.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Armed {
    /// Fires after the server sends Pkg#`after_pkg` (2, 4, ...).
    pub after_pkg: u32,
    /// What then.
    pub action: FaultAction,
}

/// The armed fault and the emulated link state.
#[derive(Default)]
pub struct Faults {
    armed: Mutex<Option<Armed>>,
    link_down_until_ms: Arc<AtomicU64>,
}

impl Faults {
    /// Arms one fault (replacing any armed one).
    pub fn arm(&self, fault: Armed) {
        *self.armed.lock().unwrap_or_else(|p| p.into_inner()) = Some(fault);
    }

    /// The armed fault if it fires after Pkg#`pkg_out`; disarms it.
    pub fn take_for(&self, pkg_out: u32) -> Option<FaultAction> {
        let mut armed = self.armed.lock().unwrap_or_else(|p| p.into_inner());
        match *armed {
            Some(a) if a.after_pkg == pkg_out => armed.take().map(|a| a.action),
            _ => None,
        }
    }

    /// Whether the emulated link is down now.
    pub fn link_down(&self) -> bool {
        now_ms() < self.link_down_until_ms.load(Ordering::SeqCst)
    }

    /// The action to run once the answer is on the wire.
    pub fn after_write(&self, action: FaultAction, hook: Option<String>) -> AfterWrite {
        let until = self.link_down_until_ms.clone();
        Box::new(move || match action {
            FaultAction::Crash => {
                log::warn!("fault injection: server crashes now (state as last persisted)");
                std::process::exit(3);
            }
            FaultAction::Outage { ms } => match hook {
                Some(cmd) => {
                    log::warn!("fault injection: link down for {ms} ms (--fault-hook)");
                    let st = Command::new("sh")
                        .arg("-c")
                        .arg(&cmd)
                        .env("DMNONCE_FAULT", "outage")
                        .env("DMNONCE_OUTAGE_MS", ms.to_string())
                        .status();
                    if !st.is_ok_and(|s| s.success()) {
                        log::warn!("fault hook failed; emulating the outage instead");
                        until.store(now_ms() + ms, Ordering::SeqCst);
                    }
                }
                None => {
                    log::warn!("fault injection: link down for {ms} ms (emulated: /dm connections dropped)");
                    until.store(now_ms() + ms, Ordering::SeqCst);
                }
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_fires_once_for_its_package_only() {
        let f = Faults::default();
        f.arm(Armed {
            after_pkg: 2,
            action: FaultAction::Outage { ms: 50 },
        });
        assert_eq!(f.take_for(4), None);
        assert_eq!(f.take_for(2), Some(FaultAction::Outage { ms: 50 }));
        assert_eq!(f.take_for(2), None);
    }

    #[test]
    fn emulated_outage_ends_by_itself() {
        let f = Faults::default();
        (f.after_write(FaultAction::Outage { ms: 80 }, None))();
        assert!(f.link_down());
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert!(!f.link_down());
    }
}
