//! Conversations with a language model configured (the scripted fake on
//! loopback): proposals confirmed by the person who asked, automations as
//! run cards with approval buttons, history sent as memory, commands that
//! bypass the model, and the fall back to the router when the model fails.

mod common;

use serde_json::json;
use switchboard_bot::Conversation;
use switchboard_core::config::{Config, LlmConfig};
use switchboard_core::model::Role;
use switchboard_core::{Caller, Service};
use switchboard_testkit::World;
use switchboard_testkit::llm::{FakeLlm, Step};

struct Chat {
    chat: Conversation,
    service: Service,
    fake: FakeLlm,
    kit: switchboard_testkit::World,
}

impl Chat {
    /// The chat of a second replica: another process on the same store.
    async fn replica(&self) -> Conversation {
        Conversation::new(self.kit.replica()).await.unwrap()
    }
}

async fn world(steps: Vec<Step>, tune: impl FnOnce(&mut LlmConfig)) -> Chat {
    world_with(steps, |c| tune(&mut c.llm)).await
}

async fn world_with(steps: Vec<Step>, tune: impl FnOnce(&mut Config)) -> Chat {
    let fake = FakeLlm::start(steps).await.unwrap();
    let mut config = Config {
        llm: LlmConfig {
            base_url: Some(fake.url.clone()),
            model: "scripted".into(),
            max_retries: 0,
            ..LlmConfig::default()
        },
        ..Config::default()
    };
    tune(&mut config);
    let kit = World::builder().config(config.clone()).demo(12, 1).system_clock().build().await;
    let service = kit.service.clone();
    let chat = Conversation::new(service.clone()).await.unwrap();
    assert!(chat.has_llm());
    Chat { chat, service, fake, kit }
}

fn who(name: &str, role: Role) -> Caller {
    Caller::new(name, role, "test")
}

async fn tier(s: &Service, project: &str) -> serde_json::Value {
    let p = s.execute_json(&who("x", Role::Viewer), "get_project", json!({"project": project})).await.unwrap();
    p.to_json()["project"]["facts"]["tier"]["value"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proposed_change_runs_only_when_its_asker_confirms() {
    let set = |v: &str| Step::call("set_fact", json!({"project": "orders", "key": "tier", "value": v}));
    let script = vec![set("3"), Step::text("Please confirm."), set("2"), Step::text("Please confirm.")];
    let w = world(script, |_| {}).await;
    let erin = who("erin", Role::Editor);
    let before = tier(&w.service, "orders").await;

    let turn = w.chat.handle(&erin, "t", "make orders tier 3").await;
    let text = turn.reply.to_text();
    assert!(text.starts_with("Please confirm."), "{text}");
    assert!(text.contains("I can make this change: set_fact"), "{text}");
    let actions = common::buttons(&turn.reply);
    assert_eq!(actions.len(), 2, "{actions:?}");
    let (confirm, cancel) = (&actions[0], &actions[1]);
    assert!(confirm.starts_with("confirm:") && cancel.starts_with("cancel:"));
    assert_eq!(tier(&w.service, "orders").await, before, "nothing changes before the click");

    // Someone else cannot confirm it; a forged id confirms nothing.
    let other = w.chat.click(&who("olga", Role::Admin), confirm).await;
    assert!(other.reply.to_text().contains("Only erin"), "{}", other.reply.to_text());
    let forged = w.chat.click(&erin, "confirm:0123456789ab").await;
    assert!(forged.reply.to_text().contains("expired or was already answered"));
    assert_eq!(tier(&w.service, "orders").await, before);

    // The asker confirms, the click reaching another replica: it runs once.
    let replica = w.replica().await;
    let done = replica.click(&erin, confirm).await;
    assert!(done.reply.to_text().contains("tier"), "{}", done.reply.to_text());
    assert_eq!(tier(&w.service, "orders").await, "3");
    let again = w.chat.click(&erin, confirm).await;
    assert!(again.reply.to_text().contains("expired or was already answered"));

    // Typed in a terminal instead of clicked: cancel.
    let turn = w.chat.handle(&erin, "t", "now tier 2").await;
    let id = common::buttons(&turn.reply)[1].trim_start_matches("cancel:").to_owned();
    let cancelled = w.chat.handle(&erin, "t", &format!("cancel {id}")).await;
    assert!(cancelled.reply.to_text().starts_with("Cancelled set_fact"), "{}", cancelled.reply.to_text());
    assert_eq!(tier(&w.service, "orders").await, "3");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_automation_becomes_a_run_card_an_approver_decides() {
    let script = vec![
        Step::call("deploy", json!({"project": "orders", "environment": "staging"})),
        Step::text("I asked for approval."),
    ];
    let w = world(script, |_| {}).await;
    let turn = w.chat.handle(&who("erin", Role::Editor), "t", "ship orders to staging please").await;
    let text = turn.reply.to_text();
    assert!(text.contains("I asked for approval.") && text.contains("pending"), "{text}");
    let actions = common::buttons(&turn.reply);
    assert!(actions[0].starts_with("approve_run:"), "{actions:?}");
    // Typed as words (the terminal's buttons), a decision goes to the router, never the model.
    let typed = format!("approve {}", actions[0].trim_start_matches("approve_run:"));
    let refused = w.chat.handle(&who("erin", Role::Editor), "t", &typed).await;
    assert!(
        refused.reply.to_text().contains("Not allowed: approve_run needs the approver role"),
        "{}",
        refused.reply.to_text()
    );
    assert_eq!(w.fake.requests().len(), 2, "the model was not asked");
    let refused = w.chat.click(&who("val", Role::Viewer), &actions[0]).await;
    assert!(refused.reply.to_text().starts_with("Not allowed"), "{}", refused.reply.to_text());
    let approved = w.chat.click(&who("avery", Role::Approver), &actions[0]).await;
    assert!(approved.reply.to_text().contains("approved by avery"), "{}", approved.reply.to_text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_thread_is_the_models_memory_and_commands_skip_the_model() {
    let w = world(vec![Step::text("Hello erin."), Step::text("You asked me to say hello.")], |_| {}).await;
    let erin = who("erin", Role::Editor);
    assert_eq!(w.chat.handle(&erin, "t", "say hello").await.reply.to_text(), "Hello erin.");
    let second = w.chat.handle(&erin, "t", "what did I ask?").await;
    assert_eq!(second.reply.to_text(), "You asked me to say hello.");
    let messages = w.fake.requests()[1]["messages"].as_array().unwrap().clone();
    let said: Vec<(&str, &str)> =
        messages[1..].iter().map(|m| (m["role"].as_str().unwrap(), m["content"].as_str().unwrap())).collect();
    assert_eq!(
        said,
        [("user", "say hello"), ("assistant", "Hello erin."), ("user", "what did I ask?")],
        "{messages:?}"
    );
    // Commands, help and unreadable messages go straight to the router.
    for text in ["/sb get_project project=orders", "help", "", "```rm -rf /```"] {
        w.chat.handle(&erin, "t", text).await;
    }
    assert_eq!(w.fake.requests().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_model_falls_back_to_the_router_and_says_so() {
    let fail = || Step::Status { status: 500, retry_after: None };
    let w = world(vec![fail(), fail()], |c| c.breaker_failures = 2).await;
    let erin = who("erin", Role::Editor);
    for _ in 0..3 {
        let turn = w.chat.handle(&erin, "t", "who owns payments-api?").await;
        let text = turn.reply.to_text();
        assert!(text.contains("is owned by"), "the router answered: {text}");
        assert!(text.contains("The language model is not available"), "{text}");
    }
    assert_eq!(w.fake.requests().len(), 2, "the third message did not wait on the model");
    let text = w.chat.handle(&erin, "t", "who owns payments-api?").await.reply.to_text();
    assert!(text.contains("tried again in"), "{text}");
}

/// Each person's model use is budgeted per hour; once spent, the built-in
/// commands answer and say when the model is theirs again, and others are
/// not affected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_budget_falls_back_to_the_router_and_says_when() {
    let steps = vec![Step::text("One."), Step::text("Two."), Step::text("For bob.")];
    let w = world_with(steps, |c| c.limits.llm_calls_per_hour = 2).await;
    let erin = who("erin", Role::Editor);
    for said in ["One.", "Two."] {
        assert_eq!(w.chat.handle(&erin, "t", "say something").await.reply.to_text(), said);
    }
    let text = w.chat.handle(&erin, "t", "who owns payments-api?").await.reply.to_text();
    assert!(text.contains("is owned by"), "the router answered: {text}");
    assert!(text.contains("language model budget") && text.contains("yours again in 60 min"), "{text}");
    assert_eq!(w.fake.requests().len(), 2, "no call past the budget");
    let bob = who("bob", Role::Editor);
    assert_eq!(w.chat.handle(&bob, "t2", "say something").await.reply.to_text(), "For bob.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prose_about_a_known_name_without_a_tool_is_answered_from_the_graph() {
    // The model invents an owner instead of looking one up.
    let w = world(vec![Step::text("payments-api is owned by ACME Corp's finance guild.")], |_| {}).await;
    let viewer = who("dave", Role::Viewer);
    let text = w.chat.handle(&viewer, "t", "who owns payments-api?").await.reply.to_text();
    assert!(!text.contains("ACME"), "the invented answer is not shown: {text}");
    assert!(text.contains("payments"), "the project's owning team, from the graph: {text}");
    assert!(text.contains("from `get_project payments-api`"), "the reply says what it stands on: {text}");
    assert!(text.contains("did not look this up"), "{text}");
    assert_eq!(w.fake.requests().len(), 1, "the model was asked once");

    // A question naming nothing the graph knows keeps the model's words.
    let w = world(vec![Step::text("Blameless reviews within a week work well.")], |_| {}).await;
    let text = w.chat.handle(&viewer, "t", "how should we run incident reviews?").await.reply.to_text();
    assert_eq!(text, "Blameless reviews within a week work well.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_from_tools_say_which_operations_they_stand_on() {
    let script =
        vec![Step::call("get_project", json!({"project": "orders"})), Step::text("orders belongs to checkout.")];
    let w = world(script, |_| {}).await;
    let text = w.chat.handle(&who("dave", Role::Viewer), "t", "who owns orders?").await.reply.to_text();
    assert!(text.starts_with("orders belongs to checkout."), "{text}");
    assert!(text.ends_with("from `get_project orders`"), "{text}");
}
