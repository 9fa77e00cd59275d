//! Replies about the webhook inbox and the chat outbox: tables of what
//! arrived or was sent, with the numbers a replay or retry names.

use switchboard_core::inbox::Delivery;
use switchboard_core::ops::output::{DeliveryList, ImportList, MessageList, RetriedMessage};
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

/// GitHub repository imports: what was queued, then the latest import of each repository.
pub fn imports(list: &ImportList, base_url: &str) -> Reply {
    let recorded: u64 = list.counts.values().sum();
    let tally = list.counts.iter().filter(|(_, n)| **n > 0).map(|(o, n)| format!("{n} {o}")).collect::<Vec<_>>();
    let mut said = match &list.queued {
        Some(what) => format!(
            "Importing the repositories of {what}: the refresher lists them and imports each in the background \
             (a project each, its owner, facts and dependencies). Ask `how did the GitHub import go?` in a minute."
        ),
        None if recorded == 0 => {
            "No GitHub repository has been imported yet. An admin can say `import our GitHub org`.".into()
        }
        None => format!("{recorded} repositories imported: {}.", tally.join(", ")),
    };
    if list.queued.is_some() && recorded > 0 {
        said.push_str(&format!(" So far: {}.", tally.join(", ")));
    }
    let rows = list
        .imports
        .iter()
        .map(|i| {
            vec![
                i.repository.clone(),
                i.project.clone().unwrap_or_default(),
                i.outcome.clone(),
                format_ms(i.at),
                i.summary.clone(),
            ]
        })
        .collect::<Vec<_>>();
    let mut reply = Reply::text(said);
    if !rows.is_empty() && list.queued.is_none() {
        reply = reply.table(&["repository", "project", "outcome", "when", "what happened"], rows);
    }
    reply.link("Open the imports", format!("{base_url}/imports"))
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
