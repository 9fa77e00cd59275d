//! Processing the inbox: due deliveries go through the [`Mapper`] (the
//! rules), oldest first, `webhooks.processing_concurrency` at once — but
//! deliveries with the same [`order_key`] (one repository's, one PagerDuty
//! service's) one after another, in arrival order, so two deliveries about
//! one deployment are applied as they were sent. Running many at once is
//! what lets the store's writer commit many deliveries' writes together.
//! Success marks a delivery done, "no rule" marks it unmapped (kept), a
//! failure schedules a retry with exponential backoff, and the last allowed
//! failure makes it a dead letter. Work is idempotent per delivery (rules
//! key what they record by external ids), so a crash mid-way just means the
//! delivery is processed again.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;
use switchboard_core::inbox::{Delivery, DeliveryStatus, Outcome};
use switchboard_core::model::Millis;

use crate::messages;
use crate::receive::Hooks;

/// Longest wait between attempts.
const MAX_BACKOFF_SECS: u64 = 3600;
/// Deliveries claimed per read of the inbox.
const BATCH: usize = 256;
/// The processor also looks for due retries this often.
const TICK: Duration = Duration::from_secs(1);

/// What a delivery maps to, and running it.
#[async_trait]
pub trait Mapper: Send + Sync {
    /// Runs what `delivery` maps to.
    async fn apply(&self, delivery: &Delivery, payload: &Arc<Value>) -> Result<Mapped, Failure>;
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mapped {
    /// Operations ran; what they were, in a line.
    Ran(String),
    /// Nothing applies (no rule, or no such project); why.
    Unmapped(String),
}

/// A failed attempt: retried later unless `permanent` (then a dead letter at once).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub message: String,
    pub permanent: bool,
}

impl Failure {
    pub fn retry(message: impl Into<String>) -> Self {
        Self { message: message.into(), permanent: false }
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        Self { message: message.into(), permanent: true }
    }
}

#[derive(Clone)]
pub struct Processor {
    hooks: Hooks,
    mapper: Arc<dyn Mapper>,
    /// Turns true when the process is stopping: no further delivery is taken.
    stop: Option<tokio::sync::watch::Receiver<bool>>,
}

impl Processor {
    pub fn new(hooks: Hooks, mapper: Arc<dyn Mapper>) -> Self {
        Self { hooks, mapper, stop: None }
    }

    fn stopping(&self) -> bool {
        self.stop.as_ref().is_some_and(|s| *s.borrow())
    }

    /// Processes every delivery due now; returns how many were attempted.
    /// Returns once every delivery it began is recorded.
    pub async fn run_once(&self) -> usize {
        let concurrency = self.hooks.service.config().webhooks.processing_concurrency.max(1);
        let permits = Arc::new(tokio::sync::Semaphore::new(concurrency));
        let mut running = tokio::task::JoinSet::new();
        // Per order key, the end of the newest delivery begun with that key:
        // the next one with the key starts after it.
        let mut tails: HashMap<String, tokio::sync::oneshot::Receiver<()>> = HashMap::new();
        let mut attempted = 0;
        let mut given_back = Vec::new();
        'read: loop {
            let now = self.hooks.service.now();
            let due = match self.hooks.inbox.due(now, BATCH).await {
                Ok(due) => due,
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the webhook inbox");
                    break;
                }
            };
            if due.is_empty() {
                break;
            }
            // Keys whose deliveries have all ended need no tail.
            tails.retain(|_, tail| matches!(tail.try_recv(), Err(tokio::sync::oneshot::error::TryRecvError::Empty)));
            let mut due = due.into_iter();
            while let Some(delivery) = due.next() {
                let permit = permits.clone().acquire_owned().await.expect("the semaphore is never closed");
                if self.stopping() {
                    // Stopping: what was claimed and not begun is given back at once.
                    given_back.extend(std::iter::once(delivery.id).chain(due.map(|d| d.id)));
                    break 'read;
                }
                let payload = serde_json::from_slice::<Value>(&delivery.body).map(Arc::new);
                let key = order_key(&delivery, payload.as_deref().ok());
                let (end, tail) = tokio::sync::oneshot::channel();
                let after = tails.insert(key, tail);
                let this = self.clone();
                running.spawn(async move {
                    if let Some(after) = after {
                        // Ended or dropped, either way the one before is over.
                        let _ = after.await;
                    }
                    let begun = !this.stopping();
                    if begun {
                        this.attempt(&delivery, payload).await;
                    }
                    let _ = end.send(());
                    drop(permit);
                    (!begun).then_some(delivery.id)
                });
            }
        }
        while let Some(done) = running.join_next().await {
            match done {
                Ok(Some(id)) => given_back.push(id),
                Ok(None) => attempted += 1,
                Err(e) => {
                    attempted += 1;
                    tracing::error!(error = %e, "a webhook delivery's processing panicked; it is due again when its claim lapses")
                }
            }
        }
        if !given_back.is_empty()
            && let Err(e) = self.hooks.inbox.release(&given_back, self.hooks.service.now()).await
        {
            tracing::warn!(error = %e, "cannot give back webhook deliveries; they are due again when their claim lapses");
        }
        attempted
    }

    /// Runs until `stop` turns true: a pass on every new delivery and every
    /// tick. The delivery being processed then is finished (and recorded);
    /// the others wait in the inbox for the next start.
    pub fn spawn(mut self, stop: tokio::sync::watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
        let mut stopped = stop.clone();
        self.stop = Some(stop);
        tokio::spawn(async move {
            while !self.stopping() {
                self.run_once().await;
                tokio::select! {
                    _ = self.hooks.wake.notified() => {}
                    _ = tokio::time::sleep(TICK) => {}
                    _ = stopped.changed() => {}
                }
            }
        })
    }

    async fn attempt(&self, d: &Delivery, payload: serde_json::Result<Arc<Value>>) {
        let result = match payload {
            Ok(payload) => self.mapper.apply(d, &payload).await,
            Err(e) => Err(Failure::permanent(messages::unreadable_body(&e.to_string()))),
        };
        let now = self.hooks.service.now();
        let attempts = d.attempts + 1;
        let outcome = match result {
            Ok(Mapped::Ran(summary)) => done(DeliveryStatus::Done, attempts, now, Some(summary), None),
            Ok(Mapped::Unmapped(why)) => done(DeliveryStatus::Unmapped, attempts, now, None, Some(why)),
            Err(Failure { message: error, permanent }) => {
                let max = self.hooks.service.config().webhooks.max_attempts;
                tracing::warn!(delivery = d.id, source = %d.source, event = %d.event, attempts, %error, "webhook delivery failed");
                if permanent || attempts >= max {
                    done(DeliveryStatus::Dead, attempts, now, None, Some(error))
                } else {
                    let base = self.hooks.service.config().webhooks.retry_base_secs;
                    Outcome {
                        status: DeliveryStatus::Pending,
                        attempts,
                        error: Some(error),
                        next_attempt_at: now + backoff_ms(base, attempts),
                        finished_at: None,
                        summary: None,
                    }
                }
            }
        };
        if let Err(e) = self.hooks.inbox.finish(d.id, &outcome).await {
            // Still pending in the store: it is simply processed again.
            tracing::error!(error = %e, delivery = d.id, "cannot record a webhook delivery's outcome");
        }
    }
}

/// What orders a delivery among others: deliveries with the same key are
/// processed one after another, in arrival order. GitHub's by repository
/// (else organisation), PagerDuty's by service (an incident's service, a
/// service event's own id); a delivery naming neither, and every generic
/// source's, by source — in order with all of that source's.
pub fn order_key(d: &Delivery, payload: Option<&Value>) -> String {
    const POINTERS: &[(&str, &[&str])] = &[
        ("github", &["/repository/full_name", "/organization/login"]),
        // An incident's service; a service's own events (`service.updated`) by its id.
        ("pagerduty", &["/event/data/service/id", "/event/data/incident/service/id", "/event/data/id"]),
    ];
    let found = POINTERS.iter().find(|(source, _)| *source == d.source).and_then(|(_, pointers)| {
        pointers.iter().find_map(|p| payload?.pointer(p)?.as_str().filter(|s| !s.is_empty()))
    });
    match found {
        Some(id) => format!("{}\u{1f}{}", d.source, id.to_ascii_lowercase()),
        None => d.source.clone(),
    }
}

fn done(status: DeliveryStatus, attempts: u32, now: Millis, summary: Option<String>, error: Option<String>) -> Outcome {
    Outcome { status, attempts, error, next_attempt_at: now, finished_at: Some(now), summary }
}

/// Wait before attempt `attempts + 1`: `base`, doubling, at most an hour.
pub fn backoff_ms(base_secs: u64, attempts: u32) -> Millis {
    let secs = base_secs.saturating_mul(1u64 << attempts.saturating_sub(1).min(20)).min(MAX_BACKOFF_SECS);
    (secs * 1000) as Millis
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(backoff_ms(10, 1), 10_000);
        assert_eq!(backoff_ms(10, 2), 20_000);
        assert_eq!(backoff_ms(10, 4), 80_000);
        assert_eq!(backoff_ms(10, 30), 3_600_000);
    }
}
