//! A run says exactly what it will do, worked out when it is requested:
//! a deploy's version now → the version to deploy and the changes
//! between; an upgrade's projects, repositories and versions.

mod common;

use common::{Harness, caller};
use serde_json::{Value, json};
use switchboard_core::model::Role;

const MINUTE: i64 = 60_000;

async fn deployed(h: &Harness, env: &str, version: &str) {
    let d = json!({"project": "ledger", "environment": env, "version": version, "status": "succeeded"});
    h.ok("record_deployment", d).await;
    h.clock.advance(MINUTE);
}

async fn merged(h: &Harness, number: u64, title: &str) {
    let c = json!({"project": "ledger", "title": title, "number": number, "author": "carol",
                   "url": format!("https://github.com/acme/ledger/pull/{number}"), "opened_at": "2h"});
    h.ok("record_change", c).await;
    h.clock.advance(MINUTE);
}

#[tokio::test]
async fn a_promotion_shows_the_version_now_the_version_next_and_the_changes_between() {
    let h = Harness::with_org().await;
    let envs = h.environments("ledger").await;
    let (first, second) = (envs[0].as_str(), envs[1].as_str());
    deployed(&h, second, "1.3.0").await;
    merged(&h, 41, "Retry ledger writes").await;
    merged(&h, 42, "Faster month-end close").await;
    deployed(&h, first, "1.4.0").await;
    // Merged after 1.4.0 went to the first environment: not in what is promoted.
    merged(&h, 43, "Not deployed anywhere yet").await;

    let carol = caller("carol", Role::Editor);
    let run = h.run(&carol, "deploy", json!({"project": "ledger", "environment": second})).await.unwrap().to_json();
    let plan = &run["plan"];
    assert_eq!(
        (&plan["kind"], &plan["environment"], &plan["from"], &plan["to"], &plan["chosen"], &plan["confirm"]),
        (
            &json!("deploy"),
            &json!(second),
            &json!("1.3.0"),
            &json!("1.4.0"),
            &json!(format!("what {first} runs")),
            &json!(false)
        ),
        "{plan}"
    );
    assert_eq!(plan["older"], false, "1.3.0 → 1.4.0 goes forward");
    let titles: Vec<&str> = plan["changes"].as_array().unwrap().iter().map(|c| c["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Faster month-end close", "Retry ledger writes"], "newest first, and only those in 1.4.0");
    assert_eq!(plan["changes"][0]["number"], 42);
    assert_eq!(plan["changes"][0]["url"], "https://github.com/acme/ledger/pull/42");
    // The plan is what was decided then: the same when read back later.
    deployed(&h, first, "1.5.0").await;
    let again = h.ok("get_run", json!({"run": run["id"]})).await;
    assert_eq!(again["plan"], *plan);
    assert_eq!(again["arguments"]["version"], "1.4.0");
}

#[tokio::test]
async fn a_rollback_lists_what_it_takes_out_and_production_asks_for_a_confirmation() {
    let h = Harness::with_org().await;
    deployed(&h, "production", "1.3.0").await;
    merged(&h, 7, "Risky refactor").await;
    deployed(&h, "production", "1.4.0").await;
    let carol = caller("carol", Role::Editor);
    let args = json!({"project": "ledger", "environment": "production", "rollback": true});
    let run = h.run(&carol, "deploy", args).await.unwrap().to_json();
    let plan = &run["plan"];
    assert_eq!((&plan["from"], &plan["to"], &plan["confirm"]), (&json!("1.4.0"), &json!("1.3.0"), &json!(true)));
    assert_eq!(plan["older"], true, "going back says so: {plan}");
    assert_eq!(plan["changes"][0]["title"], "Risky refactor", "{plan}");
    assert!(plan["chosen"].as_str().unwrap().contains("taken out"), "{plan}");
}

#[tokio::test]
async fn an_upgrade_lists_every_project_and_repository_it_touches() {
    let h = Harness::with_org().await;
    let carol = caller("carol", Role::Editor);
    let run = h.run(&carol, "upgrade_dependency", json!({"package": "left-pad", "to": "1.4.0"})).await.unwrap();
    let plan = run.to_json()["plan"].clone();
    assert_eq!(
        (&plan["kind"], &plan["package"], &plan["to"]),
        (&json!("upgrade"), &json!("left-pad"), &json!("1.4.0"))
    );
    let mut targets: Vec<(String, Value, String)> = plan["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (t["project"].as_str().unwrap().to_owned(), t["repository"].clone(), t["from"].as_str().unwrap().into())
        })
        .collect();
    targets.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        targets,
        [
            ("ledger".to_owned(), Value::Null, "1.3.0".to_owned()),
            ("payments-api".to_owned(), json!("acme/payments-api"), "1.2.3".to_owned()),
        ],
        "{plan}"
    );
    assert_eq!(plan["more"], 0);
    // Only those on `from`, when it is given.
    let args = json!({"package": "left-pad", "from": "1.2.3", "to": "1.4.0"});
    let plan = h.run(&carol, "upgrade_dependency", args).await.unwrap().to_json()["plan"].clone();
    assert_eq!(plan["targets"].as_array().unwrap().len(), 1, "{plan}");
    assert_eq!(plan["targets"][0]["project"], "payments-api");
}

#[tokio::test]
async fn who_may_not_approve_is_told_why_before_trying() {
    let h = Harness::with_org().await;
    h.executors().await;
    let carol = caller("carol", Role::Editor);
    let args = json!({"project": "ledger", "environment": "staging", "version": "1.4.0"});
    let run = h.run(&carol, "deploy", args).await.unwrap().to_json();
    let run = h.service.graph().get_run(&run["id"].as_str().unwrap().parse().unwrap()).await.unwrap().unwrap();
    let why = |who| {
        let (h, run) = (&h, &run);
        async move { h.service.why_not_approve(&who, run).await.unwrap() }
    };
    assert!(why(carol.clone()).await.unwrap().contains("role"), "an editor may not approve");
    let bob = caller("bob", Role::Approver);
    assert_eq!(why(bob.clone()).await, None);
    assert!(why(caller("carol", Role::Approver)).await.unwrap().contains("you requested"), "not one's own request");
}
