//! Conformance: the webhook inbox.

use switchboard_core::inbox::{Accepted, CLAIM_MS, DeliveryStatus, NewDelivery, Outcome};

use super::*;

fn delivery(source: &str, id: &str, at: Millis) -> NewDelivery {
    NewDelivery {
        source: source.into(),
        delivery_id: id.into(),
        event: "push".into(),
        received_at: at,
        body: format!("{{\"n\": \"{id}\"}}").into_bytes(),
    }
}

pub async fn inbox_lifecycle(b: &Backend) {
    let i = &b.inbox;
    assert!(i.due(T0 + 10, 10).await.unwrap().is_empty());
    assert_eq!(i.oldest_pending_delivery().await.unwrap(), None);
    let Accepted::New(a) = i.accept(&delivery("github", "d-1", T0)).await.unwrap() else { panic!() };
    let Accepted::New(c) = i.accept(&delivery("github", "d-2", T0 + 1)).await.unwrap() else { panic!() };
    // The same delivery id from another source is another delivery; from the same source, a duplicate.
    assert!(matches!(i.accept(&delivery("pagerduty", "d-1", T0 + 2)).await.unwrap(), Accepted::New(_)));
    let mut again = delivery("github", "d-1", T0 + 3);
    again.body = b"different".to_vec();
    assert_eq!(i.accept(&again).await.unwrap(), Accepted::Duplicate(a));
    let stored = i.get_delivery(a).await.unwrap().unwrap();
    assert_eq!(stored.body, b"{\"n\": \"d-1\"}", "a duplicate changes nothing");
    assert_eq!((stored.status, stored.attempts, stored.next_attempt_at), (DeliveryStatus::Pending, 0, T0));

    // Due: pending and due, oldest first, limited.
    let due: Vec<i64> = i.due(T0 + 10, 2).await.unwrap().into_iter().map(|d| d.id).collect();
    assert_eq!(due, [a, c]);
    let retry = Outcome {
        status: DeliveryStatus::Pending,
        attempts: 1,
        error: Some("boom".into()),
        next_attempt_at: T0 + 100,
        finished_at: None,
        summary: None,
    };
    i.finish(a, &retry).await.unwrap();
    let due: Vec<i64> = i.due(T0 + 10, 10).await.unwrap().into_iter().map(|d| d.id).collect();
    assert!(!due.contains(&a), "not due before its next attempt");
    assert!(i.due(T0 + 100, 10).await.unwrap().iter().any(|d| d.id == a && d.attempts == 1));
    assert!(i.due(T0 + 100, 10).await.unwrap().is_empty(), "handed out is claimed: nothing twice");
    assert!(i.due(T0 + 100 + CLAIM_MS, 10).await.unwrap().iter().any(|d| d.id == a), "claims lapse");
    // A stopping process gives back what it took and did not process.
    let now = T0 + 200 + CLAIM_MS;
    assert!(i.due(now, 10).await.unwrap().is_empty(), "claimed again just above");
    i.release(&[a], now).await.unwrap();
    assert!(i.due(now, 10).await.unwrap().iter().any(|d| d.id == a), "released: due at once");

    let done = Outcome {
        status: DeliveryStatus::Done,
        attempts: 1,
        error: None,
        next_attempt_at: T0 + 5,
        finished_at: Some(T0 + 5),
        summary: Some("set_fact".into()),
    };
    i.finish(c, &done).await.unwrap();
    let dead = Outcome { status: DeliveryStatus::Dead, attempts: 8, finished_at: Some(T0 + 200), ..retry.clone() };
    i.finish(a, &dead).await.unwrap();
    assert_eq!(i.list_deliveries(Some(DeliveryStatus::Dead), 10).await.unwrap()[0].id, a);
    let all: Vec<i64> = i.list_deliveries(None, 10).await.unwrap().into_iter().map(|d| d.id).collect();
    assert_eq!(all.len(), 3);
    assert_eq!(all[2], a, "newest first");
    let counts = i.inbox_counts().await.unwrap();
    assert!(counts.contains(&(DeliveryStatus::Dead, 1)) && counts.contains(&(DeliveryStatus::Done, 1)));
    assert!(counts.contains(&(DeliveryStatus::Pending, 1)) && counts.contains(&(DeliveryStatus::Unmapped, 0)));
    assert_eq!(i.oldest_pending_delivery().await.unwrap(), Some(T0 + 2), "the one still pending");

    // Replay: dead (or unmapped) becomes pending again with attempts reset; done does not.
    assert!(i.replay(a, T0 + 300).await.unwrap());
    let replayed = i.get_delivery(a).await.unwrap().unwrap();
    assert_eq!((replayed.status, replayed.attempts, replayed.next_attempt_at), (DeliveryStatus::Pending, 0, T0 + 300));
    assert!(!i.replay(c, T0 + 300).await.unwrap());
    assert!(!i.replay(9_999_999, T0).await.unwrap());
    assert!(i.get_delivery(9_999_999).await.unwrap().is_none());
}

/// Retention deletes finished deliveries (done, unmapped) before its time,
/// bodies and all, and keeps pending ones and dead letters whatever their age.
pub async fn inbox_retention(b: &Backend) {
    let i = &b.inbox;
    let finished = |status, at| Outcome {
        status,
        attempts: 1,
        error: None,
        next_attempt_at: at,
        finished_at: Some(at),
        summary: None,
    };
    let mut ids = Vec::new();
    for (n, (status, at)) in [
        (DeliveryStatus::Done, T0 + 10),
        (DeliveryStatus::Unmapped, T0 + 20),
        (DeliveryStatus::Dead, T0 + 30),
        (DeliveryStatus::Pending, T0),
        (DeliveryStatus::Done, T0 + 1_000),
    ]
    .into_iter()
    .enumerate()
    {
        let Accepted::New(id) = i.accept(&delivery("github", &format!("r-{n}"), T0)).await.unwrap() else { panic!() };
        if status != DeliveryStatus::Pending {
            i.finish(id, &finished(status, at)).await.unwrap();
        }
        ids.push(id);
    }
    assert_eq!(i.prune_deliveries(T0 + 10).await.unwrap(), 0, "finished at the cut itself: kept");
    assert_eq!(i.prune_deliveries(T0 + 500).await.unwrap(), 2, "the old done and unmapped ones");
    assert!(i.get_delivery(ids[0]).await.unwrap().is_none() && i.get_delivery(ids[1]).await.unwrap().is_none());
    for &kept in &ids[2..] {
        assert!(i.get_delivery(kept).await.unwrap().is_some(), "dead, pending and the recent done one stay");
    }
    assert_eq!(i.prune_deliveries(T0 + 500).await.unwrap(), 0, "nothing twice");
    let counts = i.inbox_counts().await.unwrap();
    assert!(counts.contains(&(DeliveryStatus::Done, 1)) && counts.contains(&(DeliveryStatus::Unmapped, 0)));
    // Nothing when retention is off; the cut is the number of days back.
    assert_eq!(switchboard_core::inbox::prune(i.as_ref(), 0, T0 + 1_000 * 86_400_000).await.unwrap(), 0);
    assert_eq!(switchboard_core::inbox::prune(i.as_ref(), 3, T0 + 3 * 86_400_000 + 1_001).await.unwrap(), 1);
    assert!(i.get_delivery(ids[4]).await.unwrap().is_none());
    assert_eq!(i.list_deliveries(None, 10).await.unwrap().len(), 2);
}
