//! The in-process event bus: every event appended through the service is
//! published here for subscribers (live pages, notifications, rules).

use std::sync::Arc;

use tokio::sync::broadcast;

use crate::event::Event;

#[derive(Clone, Debug)]
pub struct EventBus {
    tx: broadcast::Sender<Arc<Event>>,
}

impl EventBus {
    /// `capacity` events are kept for slow subscribers; a subscriber that falls
    /// further behind is told how many it missed.
    pub fn new(capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(capacity.max(16));
        Self { tx }
    }

    pub fn publish(&self, events: &[Event]) {
        for e in events {
            // No subscribers is fine: nobody is listening yet.
            let _ = self.tx.send(Arc::new(e.clone()));
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new(1024)
    }
}
