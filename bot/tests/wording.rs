//! What the bot says, kept as snapshots (`tests/snapshots/*.txt`) so a change
//! of wording is a reviewed diff: answers to the common questions, the life
//! of an automation in chat (request, approval, refusal), and the notices
//! the courier posts. The world is the demo organisation on a manual clock,
//! so the text is the same on every run; run ids, which are new each time,
//! are shown as `<run>`.

mod common;

use switchboard_bot::{Conversation, messages};
use switchboard_core::model::Role;
use switchboard_testkit::{World, assert_snapshot};

async fn conversation() -> (World, Conversation) {
    let world = World::builder().demo(60, 42).build().await;
    world.service.announce_executor("test-worker", &switchboard_core::ops::OpKind::ALL).await.unwrap();
    let conversation = Conversation::new(world.service.clone()).await.unwrap();
    (world, conversation)
}

/// Run ids (UUIDs) are new on every run; anything else is deterministic.
fn stable(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some((at, len)) = find_uuid(rest) {
        out.push_str(&rest[..at]);
        out.push_str("<run>");
        rest = &rest[at + len..];
    }
    out.push_str(rest);
    out
}

fn find_uuid(s: &str) -> Option<(usize, usize)> {
    let bytes = s.as_bytes();
    (0..bytes.len().saturating_sub(35)).find_map(|i| {
        let candidate = &s.get(i..i + 36)?;
        let shape = candidate
            .char_indices()
            .all(|(k, c)| if [8, 13, 18, 23].contains(&k) { c == '-' } else { c.is_ascii_hexdigit() });
        (shape && (i == 0 || !bytes[i - 1].is_ascii_hexdigit())).then_some((i, 36))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_to_the_common_questions() {
    let (_world, c) = conversation().await;
    let dave = switchboard_core::Caller::new("dave", Role::Viewer, "test");
    let mut transcript = String::new();
    for question in [
        "help",
        "who owns payments-api?",
        "When did checkout get redis 7?",
        "which projects use redis 7.2.4?",
        "what changed recently in checkout?",
        "any open incidents?",
        "what is the score of orders?",
        "where did checkout's redis version come from?",
        "import an SBOM for orders",
        "tell me a joke",
    ] {
        let reply = c.handle(&dave, "wording", question).await.reply;
        transcript.push_str(&format!("> {question}\n{}\n\n", reply.to_text()));
    }
    assert_snapshot!("answers", stable(&transcript));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_automation_in_chat() {
    let (_world, c) = conversation().await;
    let carol = switchboard_core::Caller::new("carol", Role::Editor, "test");
    let dave = switchboard_core::Caller::new("dave", Role::Viewer, "test");
    let bob = switchboard_core::Caller::new("bob", Role::Approver, "test");
    let mut transcript = String::new();
    let asked = c.handle(&carol, "run", "deploy checkout 2.4.1 to production").await.reply;
    transcript.push_str(&format!("carol> deploy checkout 2.4.1 to production\n{}\n\n", asked.to_text()));
    let approve = common::buttons(&asked).into_iter().find(|a| a.starts_with("approve")).expect("an approve button");
    let refused = c.click(&dave, &approve).await.reply;
    transcript.push_str(&format!("dave clicks Approve\n{}\n\n", refused.to_text()));
    let confirm = c.click(&bob, &approve).await.reply;
    transcript.push_str(&format!("bob clicks Approve\n{}\n\n", confirm.to_text()));
    let confirmed = common::buttons(&confirm).into_iter().find(|a| a.starts_with("approve")).expect("a confirm button");
    let approved = c.click(&bob, &confirmed).await.reply;
    transcript.push_str(&format!("bob confirms\n{}\n\n", approved.to_text()));
    let upgrade = c.handle(&carol, "run", "upgrade redis from 6.2.14 to 7.2.4 everywhere").await.reply;
    transcript.push_str(&format!("carol> upgrade redis from 6.2.14 to 7.2.4 everywhere\n{}\n\n", upgrade.to_text()));
    let deny = common::buttons(&upgrade).into_iter().find(|a| a.starts_with("deny")).expect("a deny button");
    let why = c.click(&bob, &deny).await.reply;
    transcript.push_str(&format!("bob clicks Deny\n{}\n\n", why.to_text()));
    let reason = common::buttons(&why).into_iter().find(|a| a.ends_with(":needs-review")).expect("a reason");
    let denied = c.click(&bob, &reason).await.reply;
    transcript.push_str(&format!("bob picks \"Needs a review first\"\n{}\n", denied.to_text()));
    assert_snapshot!("automation", stable(&transcript));
}

#[test]
fn notices_the_courier_posts() {
    let lines = [
        messages::pending_run("carol"),
        messages::pending_run_needs("carol", 2, Some("payments"), 1),
        messages::run_created("Deploy checkout 2.4.1 to production"),
        messages::run_decided("Deploy checkout 2.4.1 to production", "approved", "bob"),
        messages::run_waiting("Deploy checkout 2.4.1 to production", "bob"),
        messages::run_blocked("no GitHub App is configured"),
        // The outcome is an operator text (`run_outcome.txt`), said here as built in.
        switchboard_core::texts::Texts::built_in().render(
            "run_outcome.txt",
            &serde_json::json!({"summary": "Deploy checkout 2.4.1 to production", "status": "succeeded", "by": null}),
        ),
        messages::llm_fallback("the model server did not answer in 30 s"),
        messages::proposal_not_yours("carol"),
        messages::access_ended(true, 2, 1),
    ];
    assert_snapshot!("notices", lines.join("\n\n"));
}
