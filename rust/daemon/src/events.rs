//! The event bus: every event goes to every subscriber that wants its kind,
//! through a bounded queue per subscriber. A subscriber whose queue is full
//! is cut off (its connection closes) rather than slowing the publisher or
//! the other subscribers.
//!
//! Cutting off also runs the subscriber's hook (the control server shuts
//! its socket down): its writer thread may be blocked writing to a peer
//! that does not read, and would otherwise hold the connection's slot until
//! its write timeout.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Mutex;

use dmnonce_control::{Event, EventKind};

/// Run when a subscriber is cut off for being too slow; must not block.
pub type OnCut = Box<dyn FnOnce() + Send>;

struct Subscriber {
    id: u64,
    kinds: Vec<EventKind>,
    queue: SyncSender<Event>,
    on_cut: Option<OnCut>,
}

/// Fan-out of events to subscribed connections.
pub struct EventBus {
    subscribers: Mutex<Vec<Subscriber>>,
    capacity: usize,
    next_id: AtomicU64,
    dropped: AtomicU64,
}

impl EventBus {
    /// A bus whose subscribers may fall `capacity` events behind.
    pub fn new(capacity: usize) -> EventBus {
        EventBus {
            subscribers: Mutex::new(Vec::new()),
            capacity: capacity.max(1),
            next_id: AtomicU64::new(1),
            dropped: AtomicU64::new(0),
        }
    }

    /// Registers a subscriber for `kinds` (all when empty).
    pub fn subscribe(&self, kinds: Vec<EventKind>) -> Receiver<Event> {
        self.subscribe_with(kinds, None)
    }

    /// [`EventBus::subscribe`], with `on_cut` run if it is cut off.
    pub fn subscribe_with(&self, kinds: Vec<EventKind>, on_cut: Option<OnCut>) -> Receiver<Event> {
        let (tx, rx) = sync_channel(self.capacity);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        lock(&self.subscribers).push(Subscriber {
            id,
            kinds,
            queue: tx,
            on_cut,
        });
        rx
    }

    /// Sends `event` to everyone interested; never blocks. Subscribers that
    /// are gone or too far behind are removed.
    pub fn publish(&self, event: Event) {
        let kind = event.kind();
        let mut subs = lock(&self.subscribers);
        subs.retain_mut(|s| {
            if !s.kinds.is_empty() && !s.kinds.contains(&kind) {
                return true;
            }
            match s.queue.try_send(event.clone()) {
                Ok(()) => true,
                Err(TrySendError::Full(_)) => {
                    self.dropped.fetch_add(1, Ordering::Relaxed);
                    log::warn!(
                        "events: subscriber {} is {} events behind; disconnecting it",
                        s.id,
                        self.capacity
                    );
                    if let Some(cut) = s.on_cut.take() {
                        cut();
                    }
                    false
                }
                Err(TrySendError::Disconnected(_)) => false,
            }
        });
    }

    /// Subscribers that receive events of `kind`.
    pub fn listeners_for(&self, kind: EventKind) -> usize {
        lock(&self.subscribers)
            .iter()
            .filter(|s| s.kinds.is_empty() || s.kinds.contains(&kind))
            .count()
    }

    /// Subscribers currently registered.
    pub fn subscriber_count(&self) -> usize {
        lock(&self.subscribers).len()
    }

    /// Subscribers cut off for being too slow, since start.
    pub fn dropped_slow(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn started(n: u16) -> Event {
        Event::ResyncStarted {
            server_id: "s".into(),
            session_id: n,
        }
    }

    #[test]
    fn slow_subscriber_is_cut_off_and_others_keep_receiving() {
        let bus = EventBus::new(2);
        let slow = bus.subscribe(vec![]);
        let fast = bus.subscribe(vec![]);
        for n in 0..5 {
            bus.publish(started(n));
            assert_eq!(fast.try_recv().unwrap(), started(n));
        }
        assert_eq!(bus.subscriber_count(), 1);
        assert_eq!(bus.dropped_slow(), 1);
        let cut = std::sync::Arc::new(AtomicU64::new(0));
        let seen = cut.clone();
        let hooked = bus.subscribe_with(
            vec![],
            Some(Box::new(move || {
                seen.fetch_add(1, Ordering::SeqCst);
            })),
        );
        for n in 0..3 {
            bus.publish(started(n));
            assert_eq!(fast.try_recv().unwrap(), started(n));
        }
        assert_eq!(cut.load(Ordering::SeqCst), 1, "the hook ran once");
        drop(hooked);
        // The slow one gets what was queued, then sees the disconnection.
        assert_eq!(slow.recv().unwrap(), started(0));
        assert_eq!(slow.recv().unwrap(), started(1));
        assert!(slow.recv().is_err());
    }

    #[test]
    fn kinds_filter_and_departed_subscribers_are_removed() {
        let bus = EventBus::new(4);
        let only_alerts = bus.subscribe(vec![EventKind::Alert]);
        bus.publish(started(1));
        assert!(only_alerts.try_recv().is_err());
        drop(only_alerts);
        bus.publish(Event::PushRejected {
            server_id: None,
            reason: "x".into(),
        });
        assert_eq!(bus.subscriber_count(), 1, "filtered kinds are not sent");
        bus.publish(Event::Alert {
            notification: dmnonce_control::NotificationInfo {
                version: 11,
                ui_mode: 0,
                initiator: 0,
                session_id: 1,
                server_id: "s".into(),
                vendor_hex: String::new(),
            },
            verdict: dmnonce_control::VerdictName::StoredNonce,
        });
        assert_eq!(bus.subscriber_count(), 0);
    }
}
