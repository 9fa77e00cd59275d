//! Following the operations log from a cursor kept in the store, so what
//! reacts to events (chat messages, the notification webhook) hears of the
//! events every process makes — workers, the CLI, other replicas — and not
//! only its own process's bus.

use std::collections::{HashSet, VecDeque};

use crate::event::{Event, EventKind, EventQuery};
use crate::model::Millis;
use crate::service::Service;
use crate::store::StoreResult;

/// How far behind its cursor the log is read again: event ids are made per
/// process, and events from other processes commit out of time order.
pub const OVERLAP_MS: Millis = 2 * 60 * 1000;
/// The furthest back a follower resumes: after a longer stop, what happened
/// more than a day ago is no longer news to announce.
const MAX_BEHIND_MS: Millis = 24 * 3600 * 1000;
/// Event ids remembered as handled, so reading the overlap again is cheap.
const REMEMBERED: usize = 20_000;
/// Events read per query.
const PAGE: usize = 5000;

/// A reader of the log's events of some kinds, from where it last was.
pub struct LogFollower {
    /// Its cursor's key in the store; `None` for one kept in memory only.
    name: Option<&'static str>,
    kinds: Vec<EventKind>,
    cursor: Millis,
    seen: HashSet<uuid::Uuid>,
    order: VecDeque<uuid::Uuid>,
}

impl LogFollower {
    /// The follower called `name` (its cursor's key in the store), of
    /// `kinds`; the first time (no cursor stored) it starts `look_back` ago.
    pub async fn start(service: &Service, name: &'static str, kinds: Vec<EventKind>, look_back: Millis) -> Self {
        let now = service.now();
        let cursor = match service.store().get_ticket("cursor", name, now).await {
            Ok(Some(v)) => v.as_i64().unwrap_or(now - look_back),
            Ok(None) => now - look_back,
            Err(e) => {
                tracing::warn!(error = %e, follower = name, "cannot read a place in the log; starting from now");
                now - look_back
            }
        };
        let cursor = cursor.max(now - MAX_BEHIND_MS);
        Self { name: Some(name), kinds, cursor, seen: HashSet::new(), order: VecDeque::new() }
    }

    /// A follower from now on, its cursor kept in memory only (a live page
    /// that hears of every process's events while it is open).
    pub fn from_now(service: &Service, kinds: Vec<EventKind>) -> Self {
        Self { name: None, kinds, cursor: service.now(), seen: HashSet::new(), order: VecDeque::new() }
    }

    /// Whether the event `id` was handled already.
    pub fn handled(&self, id: uuid::Uuid) -> bool {
        self.seen.contains(&id)
    }

    /// Remembers that the event `id` was handled (the latest few thousand).
    pub fn remember(&mut self, id: uuid::Uuid) {
        if !self.seen.insert(id) {
            return;
        }
        self.order.push_back(id);
        if self.order.len() > REMEMBERED
            && let Some(old) = self.order.pop_front()
        {
            self.seen.remove(&old);
        }
    }

    /// The events since the cursor (less the overlap) not handled yet, oldest first.
    pub async fn unhandled(&self, service: &Service) -> StoreResult<Vec<Event>> {
        let (since, mut until) = (self.cursor - OVERLAP_MS, service.now() + 1);
        let mut out = Vec::new();
        loop {
            let q = EventQuery {
                kinds: self.kinds.clone(),
                since: Some(since),
                until: Some(until),
                limit: PAGE,
                ..Default::default()
            };
            let page = service.log().query(&q).await?;
            let full = page.len() == PAGE;
            let oldest = page.iter().map(|e| e.occurred_at).min();
            out.extend(page.into_iter().filter(|e| !self.handled(e.id)));
            match oldest {
                // Newest first, a page at a time; the page's oldest instant is read again.
                Some(at) if full && at > since && out.len() < 200_000 => until = at + 1,
                _ => break,
            }
        }
        out.sort_by_key(|e| (e.occurred_at, e.id));
        out.dedup_by_key(|e| e.id);
        Ok(out)
    }

    /// Moves the cursor to the newest of `events` (handled) and stores it.
    pub async fn advance(&mut self, service: &Service, events: &[Event]) -> StoreResult<()> {
        let newest = events.iter().map(|e| e.occurred_at).max().unwrap_or(self.cursor);
        if newest > self.cursor {
            self.cursor = newest;
            if let Some(name) = self.name {
                service.store().put_ticket("cursor", name, &serde_json::json!(newest), Millis::MAX).await?;
            }
        }
        Ok(())
    }
}

/// Moves the named followers' places in the log to now: what the log holds
/// so far is history, not news (a generated demo organisation), so nobody
/// is notified of it.
pub async fn start_after_history(service: &Service, names: &[&str]) -> crate::store::StoreResult<()> {
    let now = service.now();
    for name in names {
        service.store().put_ticket("cursor", name, &serde_json::json!(now), Millis::MAX).await?;
    }
    Ok(())
}
