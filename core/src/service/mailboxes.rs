//! The webhook inbox and the chat outbox as operations: what arrived and
//! what was sent, and the two admin actions on them — replaying a
//! delivery, retrying a message — each with its event, so the audit log
//! says who did it.

use std::collections::BTreeMap;

use super::read::limit;
use super::{Call, Done};
use crate::error::{Error, Result};
use crate::event::{EventData, payload};
use crate::inbox::{DeliveryStatus, Inbox};
use crate::ops::inputs::{ListDeliveries, ListMessages, ReplayDelivery, RetryMessage};
use crate::ops::output::{DeliveryList, MessageList, Output, RetriedMessage};
use crate::outbox::{MessageStatus, Outbox};

fn inbox<'a>(call: &'a Call<'_>) -> Result<&'a dyn Inbox> {
    call.ctx.inbox.as_deref().ok_or_else(|| Error::conflict("this process keeps no webhook inbox; ask the server"))
}

fn outbox<'a>(call: &'a Call<'_>) -> Result<&'a dyn Outbox> {
    call.ctx.outbox.as_deref().ok_or_else(|| Error::conflict("this process keeps no chat outbox; ask the server"))
}

/// The counts per status, every status named (zero when none).
fn every_status<S: Copy>(
    counted: Vec<(S, u64)>,
    all: &[S],
    name: fn(S) -> &'static str,
) -> BTreeMap<&'static str, u64> {
    let mut counts: BTreeMap<&'static str, u64> = all.iter().map(|s| (name(*s), 0)).collect();
    for (s, n) in counted {
        counts.insert(name(s), n);
    }
    counts
}

pub(super) async fn list_deliveries(call: &Call<'_>, i: ListDeliveries) -> Result<Done> {
    let limit = limit(i.limit, 50, 500, "limit")?;
    let inbox = inbox(call)?;
    let counts = every_status(inbox.inbox_counts().await?, &DeliveryStatus::ALL, DeliveryStatus::as_str);
    let deliveries = inbox.list_deliveries(i.status, limit).await?;
    Ok(Done::read(Output::Deliveries(DeliveryList { counts, deliveries })))
}

pub(super) async fn replay_delivery(call: &Call<'_>, i: ReplayDelivery) -> Result<Done> {
    let inbox = inbox(call)?;
    let found = inbox.get_delivery(i.delivery).await?;
    let Some(d) = found.filter(|d| matches!(d.status, DeliveryStatus::Dead | DeliveryStatus::Unmapped)) else {
        return Err(Error::not_found("dead or unmapped delivery", i.delivery));
    };
    if !inbox.replay(d.id, call.now).await? {
        return Err(Error::not_found("dead or unmapped delivery", i.delivery));
    }
    let replayed = inbox.get_delivery(d.id).await?.unwrap_or(d);
    let event = call.event(EventData::DeliveryReplayed(payload::DeliveryReplayed {
        delivery: replayed.id,
        source: replayed.source.clone(),
        event: replayed.event.clone(),
    }));
    Ok(Done { output: Output::Delivery(Box::new(replayed)), events: vec![event] })
}

pub(super) async fn list_messages(call: &Call<'_>, i: ListMessages) -> Result<Done> {
    let limit = limit(i.limit, 50, 500, "limit")?;
    let outbox = outbox(call)?;
    let counts = every_status(outbox.outbox_counts().await?, &MessageStatus::ALL, MessageStatus::as_str);
    let messages = outbox.list_messages(i.status, limit).await?;
    Ok(Done::read(Output::Messages(MessageList { counts, messages })))
}

pub(super) async fn retry_message(call: &Call<'_>, i: RetryMessage) -> Result<Done> {
    let outbox = outbox(call)?;
    let found = outbox.message(i.message).await?;
    let Some(m) = found.filter(|m| m.status == MessageStatus::Dead) else {
        return Err(Error::not_found("dead chat message", i.message));
    };
    if !outbox.retry_message(m.id, call.now).await? {
        return Err(Error::not_found("dead chat message", i.message));
    }
    let event = call.event(EventData::MessageRetried(payload::MessageRetried {
        message: m.id,
        platform: m.platform,
        channel: m.channel.clone(),
    }));
    let retried =
        RetriedMessage { message: m.id, platform: m.platform, channel: m.channel, status: MessageStatus::Pending };
    Ok(Done { output: Output::MessageRetried(retried), events: vec![event] })
}

impl super::Service {
    /// Sets the queue gauges (`switchboard_queue_items`,
    /// `switchboard_queue_oldest_pending_seconds`): the inbox's deliveries
    /// and the outbox's messages by status, every status named, how long the
    /// oldest waiting one has waited, and the runs waiting for a decision —
    /// read when metrics are scraped.
    pub async fn measure_queues(&self) -> Result<()> {
        let age =
            |oldest: Option<crate::model::Millis>| oldest.map_or(0.0, |t| (self.now() - t).max(0) as f64 / 1000.0);
        if let Some(inbox) = &self.ctx.inbox {
            for (status, n) in every_status(inbox.inbox_counts().await?, &DeliveryStatus::ALL, DeliveryStatus::as_str) {
                crate::metrics::queue_items("inbox", status, n);
            }
            crate::metrics::queue_oldest("inbox", age(inbox.oldest_pending_delivery().await?));
        }
        if let Some(outbox) = &self.ctx.outbox {
            for (status, n) in every_status(outbox.outbox_counts().await?, &MessageStatus::ALL, MessageStatus::as_str) {
                crate::metrics::queue_items("outbox", status, n);
            }
            crate::metrics::queue_oldest("outbox", age(outbox.oldest_pending_message().await?));
        }
        // The runs waiting for a decision are few; the graph's counts would also count every project.
        let pending = self.ctx.graph.list_runs(Some(crate::model::RunStatus::Pending), 100_000).await?;
        crate::metrics::queue_items("runs", "pending", pending.len() as u64);
        Ok(())
    }

    /// Deletes processed and unmapped webhook deliveries older than
    /// `webhooks.retention_days` (nothing when it is 0, or in a process
    /// without an inbox); returns how many went.
    pub async fn prune_inbox(&self) -> Result<u64> {
        let Some(inbox) = &self.ctx.inbox else { return Ok(0) };
        Ok(crate::inbox::prune(inbox.as_ref(), self.ctx.config.webhooks.retention_days, self.now()).await?)
    }
}
