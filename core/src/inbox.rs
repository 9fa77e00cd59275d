//! The webhook inbox: every accepted delivery is stored durably before it is
//! acknowledged, then processed from here (with retries) into operations.
//! A redelivery (same source and delivery id) is recognised and ignored; a
//! delivery that keeps failing becomes a dead letter until someone replays it.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::model::Millis;
use crate::store::StoreResult;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting to be processed (first time, or again after a failure).
    Pending,
    /// Processed: its operations ran.
    Done,
    /// Correctly signed but no rule maps it (kept, not lost).
    Unmapped,
    /// Failed every attempt; waits for a replay.
    Dead,
}

impl DeliveryStatus {
    pub const ALL: [Self; 4] = [Self::Pending, Self::Done, Self::Unmapped, Self::Dead];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Done => "done",
            Self::Unmapped => "unmapped",
            Self::Dead => "dead",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A delivery as received, before it is stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewDelivery {
    /// `github`, `pagerduty` or a configured generic source.
    pub source: String,
    /// The sender's id for the delivery (`X-GitHub-Delivery`, PagerDuty's event id…).
    pub delivery_id: String,
    /// The event name (`push`, `incident.triggered`…).
    pub event: String,
    pub received_at: Millis,
    /// The raw body, exactly as signed.
    pub body: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Delivery {
    pub id: i64,
    pub source: String,
    pub delivery_id: String,
    pub event: String,
    pub received_at: Millis,
    #[serde(skip)]
    pub body: Vec<u8>,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub next_attempt_at: Millis,
    pub finished_at: Option<Millis>,
    /// What processing did, in a line (`set_fact orders.last_commit; …`).
    pub summary: Option<String>,
}

/// Whether [`Inbox::accept`] stored something new.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accepted {
    New(i64),
    /// Already stored under this id: a redelivery, nothing changed.
    Duplicate(i64),
}

/// The result of one processing attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub error: Option<String>,
    /// When a pending delivery is tried again.
    pub next_attempt_at: Millis,
    pub finished_at: Option<Millis>,
    pub summary: Option<String>,
}

/// How long a delivery handed out by [`Inbox::due`] stays with its taker.
pub const CLAIM_MS: Millis = 120_000;

#[async_trait]
pub trait Inbox: Send + Sync {
    /// Stores the delivery durably (committed when this returns) unless its
    /// `(source, delivery_id)` is already there.
    async fn accept(&self, delivery: &NewDelivery) -> StoreResult<Accepted>;
    /// Pending deliveries due at `now`, oldest first, now claimed: none of
    /// them is due again before `now + CLAIM_MS` unless [`Inbox::finish`]
    /// says so. With several processes on one shared inbox, each delivery
    /// goes to one of them; one that dies mid-batch leaves its claims to lapse.
    async fn due(&self, now: Millis, limit: usize) -> StoreResult<Vec<Delivery>>;
    /// Records an attempt's outcome.
    async fn finish(&self, id: i64, outcome: &Outcome) -> StoreResult<()>;
    /// Newest first, optionally of one status (bodies included).
    async fn list_deliveries(&self, status: Option<DeliveryStatus>, limit: usize) -> StoreResult<Vec<Delivery>>;
    async fn get_delivery(&self, id: i64) -> StoreResult<Option<Delivery>>;
    /// Makes a dead or unmapped delivery pending again, due at `now`, with
    /// its attempts reset; false when there is no such delivery.
    async fn replay(&self, id: i64, now: Millis) -> StoreResult<bool>;
    /// Deliveries per status.
    async fn inbox_counts(&self) -> StoreResult<Vec<(DeliveryStatus, u64)>>;
    /// When the oldest delivery still waiting to be processed arrived, if any.
    async fn oldest_pending_delivery(&self) -> StoreResult<Option<Millis>>;
    /// Gives back the claims on deliveries handed out by [`Inbox::due`] but
    /// not processed (the process is stopping): those still pending are due
    /// again at `now`, for the next process to take at once.
    async fn release(&self, ids: &[i64], now: Millis) -> StoreResult<()>;
    /// Deletes `done` and `unmapped` deliveries (bodies included) finished
    /// before `before`, a slice at a time so no write holds the store long;
    /// pending deliveries and dead letters stay. Returns how many went.
    async fn prune_deliveries(&self, before: Millis) -> StoreResult<u64>;
}

/// Deliveries deleted a write, by [`Inbox::prune_deliveries`].
pub const PRUNE_SLICE: usize = 5_000;

/// Deletes what `[webhooks] retention_days` no longer keeps (nothing when it
/// is 0); returns how many deliveries went.
pub async fn prune(inbox: &dyn Inbox, retention_days: u32, now: Millis) -> StoreResult<u64> {
    if retention_days == 0 {
        return Ok(0);
    }
    inbox.prune_deliveries(now - i64::from(retention_days) * crate::model::DAY_MS).await
}
