//! The kit's own promises: a background task's panic fails the test, and
//! settling waits for background work rather than a guessed time.

use std::panic::AssertUnwindSafe;

use serde_json::json;
use switchboard_core::model::Role;
use switchboard_testkit::World;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_in_a_background_task_fails_the_test() {
    let world = World::new().await;
    let task = tokio::spawn(async { panic!("the courier fell over") });
    assert!(task.await.unwrap_err().is_panic(), "tokio caught it, and the test would go on");
    let failed = std::panic::catch_unwind(AssertUnwindSafe(|| drop(world))).unwrap_err();
    let message = failed.downcast_ref::<String>().unwrap();
    assert!(message.contains("a background task panicked") && message.contains("the courier fell over"), "{message}");

    let mut allowed = World::new().await;
    allowed.allow_panics();
    let _ = tokio::spawn(async { panic!("on purpose") }).await;
    drop(allowed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settle_waits_for_background_writes() {
    let world = World::builder().users().build().await;
    let service = world.service.clone();
    let alice = world.caller("alice", Role::Admin);
    let writer = tokio::spawn(async move {
        for i in 0..5 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            let team = json!({"slug": format!("team-{i}"), "name": format!("Team {i}")});
            service.execute_json(&alice, "create_team", team).await.unwrap();
        }
    });
    world.settle().await;
    assert!(writer.is_finished(), "settled while a write was still coming");
    assert_eq!(world.service.graph().list_teams().await.unwrap().len(), 5);
}
