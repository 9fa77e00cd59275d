//! Conversations end to end on the embedded store: questions answered from the
//! graph, automations as pending runs, approvals decided by core's policy.

mod common;

use switchboard_bot::Conversation;
use switchboard_core::model::{Role, RunStatus};
use switchboard_core::store::GraphStore;
use switchboard_core::{Caller, Service};
use switchboard_store::SqliteStore;
use switchboard_testkit::{T0 as NOW, World};

async fn setup() -> (Conversation, SqliteStore, World) {
    let (c, store, world, _) = setup_with_service().await;
    (c, store, world)
}

async fn setup_with_service() -> (Conversation, SqliteStore, World, Service) {
    let world = World::builder().demo(60, 42).build().await;
    let service = world.service.clone();
    (Conversation::new(service.clone()).await.unwrap(), world.store.clone(), world, service)
}

fn who(name: &str, role: Role) -> Caller {
    Caller::new(name, role, "test")
}

#[tokio::test]
async fn questions_are_answered_from_the_graph() {
    let (c, _, _dir) = setup().await;
    let viewer = who("dave", Role::Viewer);
    let t = c.handle(&viewer, "t1", "who owns payments-api?").await;
    let text = t.reply.to_text();
    assert!(text.starts_with("payments-api is owned by Payments (team payments)."), "{text}");
    assert!(text.contains("http://127.0.0.1:8080/projects/payments-api"), "links to the portal");
    let text = c.handle(&viewer, "t1", "When did checkout get redis 7?").await.reply.to_text();
    assert!(text.starts_with("checkout got redis 7 on "), "{text}");
    assert!(text.contains("redis 6.2.14 → 7.2.4"), "{text}");
    let text = c.handle(&viewer, "t1", "which projects use redis 7.2.4?").await.reply.to_text();
    assert!(text.contains("project(s) use redis") && text.contains("checkout"), "{text}");
    assert_eq!(c.history("t1").await.len(), 3, "turns are remembered per thread");
    assert!(c.history("other").await.is_empty());
}

#[tokio::test]
async fn automations_wait_for_an_approver() {
    let (c, store, _dir) = setup().await;
    let carol = who("carol", Role::Editor);
    let t = c.handle(&carol, "t", "deploy orders to staging").await;
    let text = t.reply.to_text();
    assert!(
        text.starts_with("I've asked for approval: Deploy orders ")
            && text.contains("(what development runs) to staging."),
        "{text}"
    );
    let actions = common::buttons(&t.reply);
    assert_eq!(actions.len(), 2);
    assert!(actions[0].starts_with("approve_run:") && actions[1].starts_with("deny_run:"));
    let run_id = actions[0].split_once(':').unwrap().1.parse().unwrap();

    // A viewer's click is refused with the standard denial and changes nothing.
    let t = c.click(&who("dave", Role::Viewer), &actions[0]).await;
    assert_eq!(
        t.reply.to_text(),
        "Not allowed: approve_run needs the approver role, and you have viewer. Ask an admin for the role."
    );
    assert_eq!(store.get_run(&run_id).await.unwrap().unwrap().status, RunStatus::Pending);
    // The requester cannot approve their own run, even as an approver.
    let t = c.click(&who("carol", Role::Approver), &actions[0]).await;
    assert!(t.reply.to_text().contains("on a run you requested"), "{}", t.reply.to_text());
    // An approver can.
    let t = c.click(&who("bob", Role::Approver), &actions[0]).await;
    assert!(
        t.reply.to_text().starts_with("Deploy orders ") && t.reply.to_text().contains("to staging: approved by bob."),
        "{}",
        t.reply.to_text()
    );
    // No process here runs deploys (no engine): approved, and waiting for one.
    assert!(t.reply.to_text().contains("Waiting: No process runs deploy runs yet"), "{}", t.reply.to_text());
    assert_eq!(store.get_run(&run_id).await.unwrap().unwrap().status, RunStatus::Blocked);
    let t = c.click(&who("erin", Role::Approver), &actions[1]).await;
    assert!(t.reply.to_text().contains("is blocked, so there is nothing left to decide"), "{}", t.reply.to_text());
    let t = c.click(&who("bob", Role::Approver), "launch:everything").await;
    assert!(t.reply.to_text().contains("I don't know the button"));
}

#[tokio::test]
async fn viewers_cannot_request_automations() {
    let (c, store, _dir) = setup().await;
    let t = c.handle(&who("dave", Role::Viewer), "t", "deploy orders to production").await;
    assert_eq!(
        t.reply.to_text(),
        "Not allowed: deploy needs the editor role, and you have viewer. Ask an admin for the role."
    );
    assert!(store.list_runs(None, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn new_names_resolve_at_once() {
    let (c, _, _dir) = setup().await;
    let admin = who("alice", Role::Admin);
    let t = c.handle(&admin, "t", "/sb create_project slug=fraud-radar team=payments project_type=api").await;
    assert!(t.reply.to_text().starts_with("Saved project fraud-radar."), "{}", t.reply.to_text());
    let t = c.handle(&admin, "t", "score of fraud-radar").await;
    assert!(t.reply.to_text().starts_with("fraud-radar scores "), "{}", t.reply.to_text());
}

#[tokio::test]
async fn history_is_stored_and_bounded() {
    let (c, _, _dir, service) = setup_with_service().await;
    let dave = who("dave", Role::Viewer);
    for i in 0..30 {
        c.handle(&dave, "web:abc", &format!("score of orders {i}")).await;
    }
    // A new conversation core (a restarted server) still has the thread.
    let again = Conversation::new(service).await.unwrap();
    let turns = again.history("web:abc").await;
    assert_eq!(turns.len(), switchboard_bot::conversation::HISTORY / 2, "bounded");
    let last = turns.last().unwrap();
    assert_eq!((last.speaker.as_str(), last.asked.as_str()), ("dave", "score of orders 29"));
    assert!(last.answered.starts_with("orders scores "), "{last:?}");
    // The answer's blocks are kept: its breakdown comes back as fields.
    let blocks = &last.reply.as_ref().expect("the blocks were kept").blocks;
    assert!(blocks.iter().any(|b| matches!(b, switchboard_bot::Block::Fields { .. })), "{blocks:?}");
}

#[tokio::test]
async fn names_created_elsewhere_resolve_without_a_restart() {
    let (c, _, _dir, service) = setup_with_service().await;
    let admin = who("alice", Role::Admin);
    service
        .execute_json(
            &admin,
            "create_project",
            serde_json::json!({"slug": "ledger-v2", "team": "payments", "project_type": "api"}),
        )
        .await
        .unwrap();
    let mut text = String::new();
    for _ in 0..50 {
        text = c.handle(&admin, "t", "score of ledger-v2").await.reply.to_text();
        if text.starts_with("ledger-v2 scores ") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(text.starts_with("ledger-v2 scores "), "{text}");
}

#[tokio::test]
async fn ci_health_is_answered_from_recorded_builds() {
    let (c, _, _dir) = setup().await;
    let t = c.handle(&who("dave", Role::Viewer), "ci", "how is CI for orders?").await;
    let text = t.reply.to_text();
    assert_eq!(t.operation, Some(switchboard_core::ops::OpKind::CiHealth));
    assert!(text.starts_with("CI for orders is "), "{text}");
    assert!(
        text.contains("Failure rate") && text.contains("Duration p50 / p95") && text.contains("Last green"),
        "{text}"
    );
    let t = c.handle(&who("dave", Role::Viewer), "ci", "how is CI?").await;
    assert!(t.reply.to_text().starts_with("Which project's CI?"), "{}", t.reply.to_text());
}

#[tokio::test]
async fn dora_metrics_for_a_team() {
    let (c, _, _dir) = setup().await;
    let t = c.handle(&who("dave", Role::Viewer), "dora", "dora for team payments").await;
    let text = t.reply.to_text();
    assert_eq!(t.operation, Some(switchboard_core::ops::OpKind::Dora));
    assert!(text.starts_with("DORA metrics for team payments, deployments to production since "), "{text}");
    for field in ["Deployment frequency", "Lead time (p50)", "Change failure rate", "Time to restore (p50)"] {
        assert!(text.contains(field), "{field}: {text}");
    }
    let refused = c.handle(&who("dave", Role::Viewer), "dora", "/sb dora project=orders team=payments").await;
    assert!(refused.reply.to_text().contains("not both"), "{}", refused.reply.to_text());
}

#[tokio::test]
async fn failed_webhooks_and_chat_messages_are_listed_and_done_again_in_chat() {
    use switchboard_core::inbox::{Accepted, DeliveryStatus, Inbox, NewDelivery, Outcome};
    use switchboard_core::model::ChatPlatform;
    use switchboard_core::outbox::{Attempt, MessageStatus, NewMessage, Outbox};
    let (c, store, _dir) = setup().await;
    let delivery = NewDelivery {
        source: "github".into(),
        delivery_id: "d-1".into(),
        event: "push".into(),
        received_at: NOW,
        body: b"{}".to_vec(),
    };
    let Accepted::New(id) = store.accept(&delivery).await.unwrap() else { panic!() };
    let failed = Outcome {
        status: DeliveryStatus::Dead,
        attempts: 8,
        error: Some("no project has github_repository acme/nope".into()),
        next_attempt_at: NOW,
        finished_at: Some(NOW),
        summary: None,
    };
    store.finish(id, &failed).await.unwrap();
    let message = NewMessage {
        key: "incident:1:slack:C0GONE".into(),
        platform: ChatPlatform::Slack,
        channel: "C0GONE".into(),
        reply_to: None,
        edit: false,
        body: "{}".into(),
        created_at: NOW,
        not_before: None,
    };
    assert!(store.enqueue(&message).await.unwrap());
    let m = store.get_message(&message.key).await.unwrap().unwrap();
    let dead = Attempt {
        status: MessageStatus::Dead,
        attempts: 10,
        error: Some("channel_not_found".into()),
        next_attempt_at: NOW,
        sent_at: None,
        remote_id: None,
    };
    store.record_attempt(m.id, &dead).await.unwrap();

    let carol = who("carol", Role::Editor);
    let text = c.handle(&carol, "t", "which webhooks failed?").await.reply.to_text();
    assert!(text.contains("no project has github_repository acme/nope") && text.contains("1 dead"), "{text}");
    let text = c.handle(&carol, "t", &format!("replay delivery {id}")).await.reply.to_text();
    assert!(text.contains(&format!("Delivery {id} (github push) is pending again")), "{text}");
    assert_eq!(store.get_delivery(id).await.unwrap().unwrap().status, DeliveryStatus::Pending);
    let text = c.handle(&carol, "t", &format!("replay delivery {id}")).await.reply.to_text();
    assert!(text.contains("No dead or unmapped delivery named"), "only dead or unmapped ones: {text}");

    let text = c.handle(&carol, "t", "which chat messages failed?").await.reply.to_text();
    assert!(text.contains("channel_not_found") && text.contains("C0GONE"), "{text}");
    let text = c.handle(&carol, "t", &format!("retry message {}", m.id)).await.reply.to_text();
    assert!(text.contains("will be sent again"), "{text}");
    assert_eq!(store.get_message(&message.key).await.unwrap().unwrap().status, MessageStatus::Pending);

    // Viewers may not look: what webhooks carry can be private.
    let text = c.handle(&who("dave", Role::Viewer), "t", "which webhooks failed?").await.reply.to_text();
    assert!(text.contains("list_deliveries needs the editor role"), "{text}");
}

/// With lock files read, `dependents` says who declares a package and who
/// gets it through another one; "directly" asks for the first only.
#[tokio::test]
async fn dependents_say_who_declares_and_who_gets_it_through_another_package() {
    let (c, _, world, service) = setup_with_service().await;
    let admin = Caller::new(switchboard_core::demo::DEMO_ADMIN, Role::Admin, "demo");
    let go = "module example.com/orders\n\nrequire (\n\tgithub.com/acme/queue v1.2.0\n\tgithub.com/acme/wire v0.4.1 // indirect\n)\n";
    let files = serde_json::json!([{"path": "go.mod", "text": go}]);
    service
        .execute_json(&admin, "import_manifests", serde_json::json!({"project": "orders", "files": files}))
        .await
        .unwrap();
    // The conversation learns the new package names from the bus.
    world.settle().await;
    let viewer = who("dave", Role::Viewer);
    let text = c.handle(&viewer, "t", "which projects use github.com/acme/wire?").await.reply.to_text();
    assert!(
        text.starts_with("1 project(s) use github.com/acme/wire (0 declare it, 1 through another package)"),
        "{text}"
    );
    assert!(text.contains("through another package"), "{text}");
    let text = c.handle(&viewer, "t", "which projects use github.com/acme/wire directly?").await.reply.to_text();
    assert_eq!(
        text,
        "No project declares github.com/acme/wire itself.\nfrom `dependents github.com/acme/wire direct_only=true`"
    );
    let text = c.handle(&viewer, "t", "which projects depend directly on github.com/acme/queue").await.reply.to_text();
    assert!(text.starts_with("1 project(s) declare github.com/acme/queue themselves: v1.2.0 (1)."), "{text}");
}

#[tokio::test]
async fn a_name_it_is_not_sure_of_is_asked_about_with_buttons_that_say_it_again() {
    let (c, _, _dir) = setup().await;
    let carol = who("carol", Role::Editor);
    // A change never guesses a misspelt name: it asks, and the button says the message again.
    let t = c.handle(&carol, "t", "deploy ordres to staging").await;
    assert!(
        t.reply.to_text().starts_with("I'm not sure which project you mean. Did you mean orders?"),
        "{}",
        t.reply.to_text()
    );
    let actions = common::buttons(&t.reply);
    assert_eq!(actions, ["say:deploy orders to staging"]);
    let t = c.click(&carol, &actions[0]).await;
    assert!(t.reply.to_text().starts_with("I've asked for approval: Deploy orders "), "{}", t.reply.to_text());
    // Words the answer could not use are named, not dropped.
    let text = c.handle(&carol, "t", "incidents of orders in production").await.reply.to_text();
    assert!(text.contains("I could not apply 'production' to this answer."), "{text}");
}

#[tokio::test]
async fn promote_and_compare_environments_from_chat() {
    let (c, store, _dir) = setup().await;
    let viewer = who("dave", Role::Viewer);
    let carol = who("carol", Role::Editor);
    let current = store.current_deployments(&"orders".parse().unwrap()).await.unwrap();
    let runs = |env: &str| current.iter().find(|d| d.environment.as_str() == env).map(|d| d.version.clone()).unwrap();
    let (dev, staging, production) = (runs("development"), runs("staging"), runs("production"));

    // The comparison: each environment's version, who is ahead, and a Promote button when staging is.
    let t = c.handle(&viewer, "t", "what differs between staging and production for orders?").await;
    let text = t.reply.to_text();
    assert!(text.contains(&staging) && text.contains(&production), "{text}");
    assert!(text.contains("from `compare_environments orders from=staging to=production`"), "{text}");

    // A promotion pins the version the source environment runs now.
    let t = c.handle(&carol, "t", "promote orders from development to staging").await;
    let text = t.reply.to_text();
    assert!(
        text.starts_with(&format!("I've asked for approval: Deploy orders {dev} (what development runs) to staging")),
        "{text}"
    );
    let run_id = common::buttons(&t.reply)[0].split_once(':').unwrap().1.parse().unwrap();
    let run = store.get_run(&run_id).await.unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Pending);
    assert_eq!(run.arguments["version"], dev.as_str(), "the version is pinned in the run: {}", run.arguments);
    assert_eq!(run.arguments["environment"], "staging");
}

#[tokio::test]
async fn a_new_run_is_named_by_a_fragment_of_its_id() {
    let (c, store, _dir) = setup().await;
    let t = c.handle(&who("carol", Role::Editor), "t", "deploy orders to staging").await;
    let id = common::buttons(&t.reply)[0].split_once(':').unwrap().1.to_owned();
    let fragment = &id[id.len() - 12..];
    let bob = who("bob", Role::Approver);
    // The run reaches the chat's names through the event bus, in the background.
    let mut text = String::new();
    for _ in 0..50 {
        text = c.handle(&bob, "t", &format!("approve {fragment}")).await.reply.to_text();
        if !text.contains("Which run?") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(text.contains("approved by bob"), "{text}");
    let run = store.get_run(&id.parse().unwrap()).await.unwrap().unwrap();
    assert_ne!(run.status, RunStatus::Pending);
}
