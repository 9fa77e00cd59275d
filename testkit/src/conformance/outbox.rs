//! Conformance: the chat outbox.

use switchboard_core::outbox::{Attempt, CLAIM_MS, MessageStatus, NewMessage};

use super::*;

fn message(key: &str, at: Millis) -> NewMessage {
    NewMessage {
        key: key.into(),
        platform: ChatPlatform::Slack,
        channel: "C024BE91L".into(),
        reply_to: None,
        edit: false,
        body: format!("{{\"blocks\": [{{\"type\": \"text\", \"text\": \"{key}\"}}]}}"),
        created_at: at,
        not_before: None,
    }
}

pub async fn outbox_lifecycle(b: &Backend) {
    let o = &b.outbox;
    assert!(o.due_messages(T0 + 10, 10).await.unwrap().is_empty());
    assert_eq!(o.oldest_pending_message().await.unwrap(), None);
    assert!(o.enqueue(&message("incident:1:slack:C024BE91L", T0)).await.unwrap());
    let mut reply = message("run:r1:approved:slack:C024BE91L", T0 + 1);
    reply.platform = ChatPlatform::Discord;
    reply.reply_to = Some("incident:1:slack:C024BE91L".into());
    reply.edit = true;
    assert!(o.enqueue(&reply).await.unwrap());
    assert_eq!(o.oldest_pending_message().await.unwrap(), Some(T0));
    // The same key again: nothing changes, even with another body.
    let mut again = message("incident:1:slack:C024BE91L", T0 + 2);
    again.body = "{}".into();
    assert!(!o.enqueue(&again).await.unwrap());
    let first = o.get_message("incident:1:slack:C024BE91L").await.unwrap().unwrap();
    assert!(first.body.contains("incident:1"), "{first:?}");
    assert_eq!(
        (first.status, first.attempts, first.next_attempt_at, first.remote_id),
        (MessageStatus::Pending, 0, T0, None)
    );
    let second = o.get_message("run:r1:approved:slack:C024BE91L").await.unwrap().unwrap();
    assert_eq!(
        (second.platform, second.reply_to.as_deref(), second.edit),
        (ChatPlatform::Discord, Some("incident:1:slack:C024BE91L"), true)
    );
    assert!(!first.edit);
    assert!(o.get_message("nothing").await.unwrap().is_none());
    let by_number = o.message(first.id).await.unwrap().expect("by its number too");
    assert_eq!((by_number.key.as_str(), &by_number.body), (first.key.as_str(), &first.body));
    assert!(o.message(first.id.max(second.id) + 1000).await.unwrap().is_none());

    // Due: pending and due, oldest first, limited.
    let due: Vec<i64> = o.due_messages(T0 + 10, 1).await.unwrap().into_iter().map(|m| m.id).collect();
    assert_eq!(due, [first.id]);
    let retry = Attempt {
        status: MessageStatus::Pending,
        attempts: 1,
        error: Some("429 Too Many Requests".into()),
        next_attempt_at: T0 + 100,
        sent_at: None,
        remote_id: None,
    };
    o.record_attempt(first.id, &retry).await.unwrap();
    let due: Vec<i64> = o.due_messages(T0 + 10, 10).await.unwrap().into_iter().map(|m| m.id).collect();
    assert_eq!(due, [second.id], "not due before its next attempt");
    // Handed out is claimed: the second message is not due again until its claim lapses.
    let due = o.due_messages(T0 + 100, 10).await.unwrap();
    assert_eq!((due.len(), due[0].id, due[0].attempts), (1, first.id, 1), "{due:?}");
    assert!(o.due_messages(T0 + 100, 10).await.unwrap().is_empty(), "nothing is handed out twice");
    let lapsed: Vec<i64> = o.due_messages(T0 + 10 + CLAIM_MS, 10).await.unwrap().into_iter().map(|m| m.id).collect();
    assert_eq!(lapsed, [second.id], "a courier that died leaves its claims to lapse");
    // A courier that stops gives back what it took and did not send.
    let now = T0 + 20 + CLAIM_MS;
    assert!(o.due_messages(now, 10).await.unwrap().is_empty(), "claimed again just above");
    o.release_messages(&[second.id], now).await.unwrap();
    let released: Vec<i64> = o.due_messages(now, 10).await.unwrap().into_iter().map(|m| m.id).collect();
    assert_eq!(released, [second.id], "released: due at once");

    let sent = Attempt {
        status: MessageStatus::Sent,
        attempts: 2,
        error: None,
        next_attempt_at: T0 + 100,
        sent_at: Some(T0 + 101),
        remote_id: Some("1515449522.000016".into()),
    };
    o.record_attempt(first.id, &sent).await.unwrap();
    let stored = o.get_message("incident:1:slack:C024BE91L").await.unwrap().unwrap();
    assert_eq!(
        (stored.status, stored.sent_at, stored.remote_id.as_deref()),
        (MessageStatus::Sent, Some(T0 + 101), Some("1515449522.000016"))
    );
    o.record_attempt(second.id, &Attempt { status: MessageStatus::Dead, attempts: 8, ..retry }).await.unwrap();
    assert!(o.due_messages(T0 + 1_000_000, 10).await.unwrap().is_empty());

    let all: Vec<i64> = o.list_messages(None, 10).await.unwrap().into_iter().map(|m| m.id).collect();
    assert_eq!(all, [second.id, first.id], "newest first");
    assert_eq!(o.list_messages(Some(MessageStatus::Dead), 10).await.unwrap()[0].id, second.id);
    let counts = o.outbox_counts().await.unwrap();
    assert_eq!(counts, [(MessageStatus::Pending, 0), (MessageStatus::Sent, 1), (MessageStatus::Dead, 1)]);
    assert_eq!(o.oldest_pending_message().await.unwrap(), None, "nothing waits");

    // A dead message can be tried again, once; a sent one cannot.
    assert!(o.retry_message(second.id, T0 + 500).await.unwrap());
    let again = o.get_message("run:r1:approved:slack:C024BE91L").await.unwrap().unwrap();
    assert_eq!((again.status, again.attempts, again.next_attempt_at), (MessageStatus::Pending, 0, T0 + 500));
    assert!(!o.retry_message(second.id, T0 + 500).await.unwrap());
    assert!(!o.retry_message(first.id, T0 + 500).await.unwrap());
    assert!(!o.retry_message(9_999_999, T0).await.unwrap());

    // Held for quiet hours: stored now, not due before its time.
    let mut held = message("vulnerability_found:9:slack:C024BE91L", T0 + 600);
    held.not_before = Some(T0 + 5_000_000);
    assert!(o.enqueue(&held).await.unwrap());
    let stored = o.get_message(&held.key).await.unwrap().unwrap();
    assert_eq!((stored.created_at, stored.next_attempt_at), (T0 + 600, T0 + 5_000_000));
    let due = |at| async move { o.due_messages(at, 10).await.unwrap().into_iter().map(|m| m.key).collect::<Vec<_>>() };
    assert!(!due(T0 + 4_999_999).await.contains(&held.key), "not before its time");
    assert!(due(T0 + 5_000_000).await.contains(&held.key), "due when its time comes");
}
