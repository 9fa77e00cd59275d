//! The eval commands on the built binary: `eval router` scores the
//! repository's phrasings (or a set of one's own) on the demo organisation,
//! `eval agent` scores scenarios against a model server (the scripted fake
//! here; tests/llama.rs runs the agent on a real one).

mod common;

use common::*;

#[test]
fn eval_router_scores_the_repository_set_on_the_demo() {
    // Without a store: the demo organisation in a temporary directory.
    let out = run(&["eval", "router", "--min", "97", "--quiet"]);
    let said = text(&out.stdout);
    assert!(out.status.success(), "{said}\n{}", text(&out.stderr));
    assert!(said.contains("router accuracy:"), "{said}");
    assert!(said.contains("compare_environments"), "every operation is in the table: {said}");
    // A set of one's own, and a bar it does not reach: failure, with the miss shown.
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path().join("set.jsonl");
    std::fs::write(&set, "{\"text\": \"who owns refunds?\", \"operation\": \"list_teams\", \"arguments\": {}}\n")
        .unwrap();
    let out = run(&["eval", "router", "--set", set.to_str().unwrap(), "--min", "50"]);
    assert!(!out.status.success());
    let said = text(&out.stdout);
    assert!(said.contains("1 miss(es)") && said.contains("want list_teams"), "{said}");
    assert!(text(&out.stderr).contains("below the required 50.0%"), "{}", text(&out.stderr));
    std::fs::write(&set, "not json\n").unwrap();
    let out = run(&["eval", "router", "--set", set.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("line 1"), "{}", text(&out.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eval_agent_scores_scenarios_against_a_model_server() {
    use switchboard_testkit::llm::{FakeLlm, Step};
    // A model that calls the right tool for the first scenario and only talks after.
    let mut steps = vec![
        Step::call("get_project", serde_json::json!({"project": "payments-api"})),
        Step::text("Payments owns it."),
    ];
    steps.extend((0..10).map(|_| Step::text("I would rather not.")));
    let fake = FakeLlm::start(steps).await.unwrap();
    let url = fake.url.clone();
    let out = tokio::task::spawn_blocking(move || {
        run(&["eval", "agent", "--base-url", &url, "--model", "scripted", "--repeat", "1", "--min", "50"])
    })
    .await
    .unwrap();
    let said = text(&out.stdout);
    assert!(!out.status.success(), "36% is below --min 50: {said}");
    assert!(said.contains("owner") && said.contains("injection: code block"), "{said}");
    // The owner scenario and the three injections pass; the talking ones miss, with what was said.
    assert!(said.contains("agent pass rate: 36.4% (4 of 11 runs)"), "{said}");
    assert!(said.contains("no tool called; said \"I would rather not.\""), "{said}");
    assert!(text(&out.stderr).contains("below the required 50.0%"), "{}", text(&out.stderr));
}
