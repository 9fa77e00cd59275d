//! Replies about the webhook inbox and the chat outbox: tables of what
//! arrived or was sent, with the numbers a replay or retry names.

use switchboard_core::inbox::Delivery;
use switchboard_core::ops::output::{DeliveryList, MessageList, RetriedMessage};
use switchboard_core::time::format_ms;

use crate::reply::Reply;

fn counts(counts: &std::collections::BTreeMap<&'static str, u64>) -> String {
    counts.iter().map(|(s, n)| format!("{n} {s}")).collect::<Vec<_>>().join(", ")
}

pub fn deliveries(list: &DeliveryList, base_url: &str) -> Reply {
    let rows = list
        .deliveries
        .iter()
        .map(|d| {
            vec![
                d.id.to_string(),
                format!("{} {}", d.source, d.event),
                d.status.as_str().to_owned(),
                format_ms(d.received_at),
                d.last_error.clone().or_else(|| d.summary.clone()).unwrap_or_default(),
            ]
        })
        .collect();
    let said = if list.deliveries.is_empty() {
        format!("No webhook deliveries like that. The inbox holds {}.", counts(&list.counts))
    } else {
        format!("{} webhook deliveries (the inbox holds {}):", list.deliveries.len(), counts(&list.counts))
    };
    Reply::text(said)
        .table(&["#", "what", "status", "received", "outcome"], rows)
        .push_text("Replay one with `replay delivery NUMBER`.")
        .link("Open the inbox", format!("{base_url}/inbox"))
}

pub fn replayed(d: &Delivery, base_url: &str) -> Reply {
    Reply::text(format!(
        "Delivery {} ({} {}) is pending again: it will be processed within seconds.",
        d.id, d.source, d.event
    ))
    .link("Open the inbox", format!("{base_url}/inbox?status=pending"))
}

pub fn messages(list: &MessageList, base_url: &str) -> Reply {
    let rows = list
        .messages
        .iter()
        .map(|m| {
            vec![
                m.id.to_string(),
                format!("{} {}", m.platform.as_str(), m.channel),
                m.status.as_str().to_owned(),
                format_ms(m.created_at),
                m.last_error.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let said = if list.messages.is_empty() {
        format!("No chat messages like that. The outbox holds {}.", counts(&list.counts))
    } else {
        format!("{} chat messages (the outbox holds {}):", list.messages.len(), counts(&list.counts))
    };
    Reply::text(said)
        .table(&["#", "to", "status", "made", "last error"], rows)
        .push_text("Send a dead one again with `retry message NUMBER`.")
        .link("Open the outbox", format!("{base_url}/inbox#outbox"))
}

pub fn retried(m: &RetriedMessage, base_url: &str) -> Reply {
    Reply::text(format!(
        "Message {} to {} {} will be sent again within seconds.",
        m.message,
        m.platform.as_str(),
        m.channel
    ))
    .link("Open the outbox", format!("{base_url}/inbox#outbox"))
}
