//! Conformance: API tokens, passwords, sessions and conversation history.

use switchboard_core::ids::*;
use switchboard_core::model::*;

use super::*;

pub async fn tokens(b: &Backend) {
    let token = |id: &str, user: &str, at: Millis| ApiToken {
        id: id.to_owned(),
        user: UserName::new(user).unwrap(),
        role: Role::Editor,
        hash: format!("{id}-hash"),
        created_at: at,
        expires_at: Some(at + 1000),
        revoked_at: None,
    };
    assert!(b.graph.get_token("tok_none").await.unwrap().is_none());
    assert!(b.graph.token_by_hash("nothing").await.unwrap().is_none());
    b.graph.put_token(&token("tok_a", "carol", T0)).await.unwrap();
    b.graph.put_token(&token("tok_b", "carol", T0 + 1)).await.unwrap();
    b.graph.put_token(&token("tok_c", "dave", T0 + 2)).await.unwrap();
    assert_eq!(b.graph.token_by_hash("tok_b-hash").await.unwrap().unwrap().id, "tok_b");
    let carol = UserName::new("carol").unwrap();
    let ids: Vec<String> = b.graph.list_tokens(Some(&carol)).await.unwrap().into_iter().map(|t| t.id).collect();
    assert_eq!(ids, ["tok_b", "tok_a"], "newest first");
    assert_eq!(b.graph.list_tokens(None).await.unwrap().len(), 3);
    let mut revoked = token("tok_a", "carol", T0);
    revoked.revoked_at = Some(T0 + 5);
    b.graph.put_token(&revoked).await.unwrap();
    assert_eq!(b.graph.get_token("tok_a").await.unwrap().unwrap(), revoked);
}

pub async fn credentials_and_sessions(b: &Backend) {
    let carol = UserName::new("carol").unwrap();
    assert!(b.graph.password_hash(&carol).await.unwrap().is_none());
    b.graph.set_password_hash(&carol, "$argon2id$one").await.unwrap();
    b.graph.set_password_hash(&carol, "$argon2id$two").await.unwrap();
    assert_eq!(b.graph.password_hash(&carol).await.unwrap().as_deref(), Some("$argon2id$two"));
    let s = Session { hash: "h1".into(), user: carol.clone(), created_at: T0, expires_at: T0 + 10, generation: 2 };
    assert!(b.graph.session_by_hash("h1").await.unwrap().is_none());
    b.graph.put_session(&s).await.unwrap();
    assert_eq!(b.graph.session_by_hash("h1").await.unwrap(), Some(s));
    b.graph.delete_session("h1").await.unwrap();
    b.graph.delete_session("h1").await.unwrap();
    assert!(b.graph.session_by_hash("h1").await.unwrap().is_none());
}

pub async fn conversation_history(b: &Backend) {
    let msg = |thread: &str, n: i64| ChatMessage {
        thread: thread.into(),
        at: T0 + n,
        author: "carol".into(),
        text: format!("message {n} ✓"),
        // Every other message keeps a reply's blocks.
        reply: (n % 2 == 0).then(|| format!(r#"{{"blocks":[{{"type":"text","text":"reply {n}"}}]}}"#)),
    };
    assert!(b.graph.thread_messages("t", 10).await.unwrap().is_empty());
    for n in 0..5 {
        b.graph.append_message(&msg("t", n), 3).await.unwrap();
    }
    b.graph.append_message(&msg("other", 9), 3).await.unwrap();
    let t = b.graph.thread_messages("t", 10).await.unwrap();
    assert_eq!(t.iter().map(|m| m.at - T0).collect::<Vec<_>>(), [2, 3, 4], "bounded to the newest 3, oldest first");
    assert_eq!(t[2], msg("t", 4));
    assert_eq!(b.graph.thread_messages("t", 2).await.unwrap().len(), 2);
    assert_eq!(b.graph.thread_messages("other", 10).await.unwrap().len(), 1);
    // Retention: everything older than a time goes, whatever its thread.
    assert_eq!(b.graph.prune_messages(T0 + 4).await.unwrap(), 2, "t's messages at 2 and 3");
    assert_eq!(b.graph.thread_messages("t", 10).await.unwrap().iter().map(|m| m.at - T0).collect::<Vec<_>>(), [4]);
    assert_eq!(b.graph.prune_messages(T0 + 4).await.unwrap(), 0);
    assert_eq!(b.graph.prune_messages(T0 + 100).await.unwrap(), 2);
    assert!(b.graph.thread_messages("other", 10).await.unwrap().is_empty());
    b.graph.append_message(&msg("t", 50), 3).await.unwrap();
    assert_eq!(b.graph.thread_messages("t", 10).await.unwrap().len(), 1, "a pruned thread takes new messages");
}

/// One-time tickets: taken once, not after they expire, by one of several takers.
pub async fn tickets(b: &Backend) {
    let g = &b.graph;
    let value = serde_json::json!({"platform": "slack", "id": "U1", "note": "naïve 漢字"});
    assert_eq!(g.take_ticket("link", "k1", T0).await.unwrap(), None, "nothing to take");
    g.put_ticket("link", "k1", &value, T0 + 1000).await.unwrap();
    g.put_ticket("other", "k1", &serde_json::json!(1), T0 + 1000).await.unwrap();
    assert_eq!(g.get_ticket("link", "k1", T0).await.unwrap(), Some(value.clone()), "read, not taken");
    assert_eq!(g.get_ticket("link", "k1", T0 + 1000).await.unwrap(), None, "expired");
    assert_eq!(g.take_ticket("link", "k1", T0).await.unwrap(), Some(value.clone()));
    assert_eq!(g.take_ticket("link", "k1", T0).await.unwrap(), None, "taken once");
    assert_eq!(g.take_ticket("other", "k1", T0).await.unwrap(), Some(serde_json::json!(1)), "kinds are apart");
    // Expired: not taken, and pruned.
    g.put_ticket("link", "old", &value, T0 + 10).await.unwrap();
    g.put_ticket("link", "new", &value, T0 + 10_000).await.unwrap();
    assert_eq!(g.take_ticket("link", "old", T0 + 10).await.unwrap(), None);
    // (At least that one: a store shared with other processes may hold more.)
    assert!(g.prune_tickets(T0 + 10).await.unwrap() >= 1);
    assert_eq!(g.get_ticket("link", "old", T0).await.unwrap(), None, "pruned, not only expired");
    assert!(g.get_ticket("link", "new", T0).await.unwrap().is_some(), "the live one stays");
    // Replaced under the same key.
    g.put_ticket("link", "new", &serde_json::json!("second"), T0 + 10_000).await.unwrap();
    // Several takers at once: exactly one gets it.
    let takers: Vec<_> = (0..8)
        .map(|_| {
            let g = g.clone();
            tokio::spawn(async move { g.take_ticket("link", "new", T0).await.unwrap() })
        })
        .collect();
    let mut got = Vec::new();
    for t in takers {
        got.extend(t.await.unwrap());
    }
    assert_eq!(got, vec![serde_json::json!("second")]);

    // Listed by kind, live ones only, by key.
    g.put_ticket("queue", "b/repo", &serde_json::json!({"n": 2}), T0 + 1000).await.unwrap();
    g.put_ticket("queue", "a/repo", &serde_json::json!({"n": 1}), T0 + 1000).await.unwrap();
    g.put_ticket("queue", "a/repo", &serde_json::json!({"n": 3}), T0 + 1000).await.unwrap();
    g.put_ticket("queue", "gone", &serde_json::json!({}), T0 + 5).await.unwrap();
    g.put_ticket("queued", "other-kind", &serde_json::json!({}), T0 + 1000).await.unwrap();
    let listed = g.list_tickets("queue", T0 + 10, 10).await.unwrap();
    assert_eq!(
        listed,
        [("a/repo".to_owned(), serde_json::json!({"n": 3})), ("b/repo".to_owned(), serde_json::json!({"n": 2}))],
        "merged by key, expired and other kinds left out"
    );
    assert_eq!(g.take_ticket("queue", "a/repo", T0 + 10).await.unwrap(), Some(serde_json::json!({"n": 3})));
    assert_eq!(g.list_tickets("queue", T0 + 10, 10).await.unwrap().len(), 1, "taken, gone from the list");

    // Claims: the first claimant holds it; after its expiry, the next.
    assert!(g.claim_ticket("slot", "nightly:1", "replica-a", T0 + 100, T0).await.unwrap());
    assert!(!g.claim_ticket("slot", "nightly:1", "replica-b", T0 + 100, T0 + 1).await.unwrap());
    assert!(g.claim_ticket("slot", "nightly:2", "replica-b", T0 + 100, T0 + 1).await.unwrap());
    assert!(g.claim_ticket("slot", "nightly:1", "replica-b", T0 + 200, T0 + 100).await.unwrap(), "expired");
    let claimants: Vec<_> = (0..8)
        .map(|n| {
            let g = g.clone();
            tokio::spawn(
                async move { g.claim_ticket("slot", "nightly:3", &format!("r{n}"), T0 + 100, T0).await.unwrap() },
            )
        })
        .collect();
    let mut winners = 0;
    for c in claimants {
        winners += usize::from(c.await.unwrap());
    }
    assert_eq!(winners, 1, "one claimant of eight");
}
