//! Upgrade campaigns through the engine and the real GitHub App client
//! against the fake GitHub: 200 repositories in four ecosystems and six
//! manifest formats, changed byte for byte only in the version; a
//! repository already upgraded, a conflict and a secondary rate limit
//! mid-campaign; then the campaign followed through signed pull request
//! and check suite webhooks, the merge moving the graph's dependency.

mod common;

use std::sync::Arc;

use common::{fixture, manifest, world};
use serde_json::json;
use switchboard_automations::engine::Worked;
use switchboard_automations::github::{self, campaign::MARK};
use switchboard_core::campaign::ItemState;
use switchboard_core::model::RunStatus;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_campaign_over_200_repositories_changes_only_the_version() {
    let w = world(200).await;
    // Already upgraded in the repository (the graph has not heard yet).
    let (_, path, text) = manifest(7, "1.5.0");
    w.github.put_file("acme/svc-007", path, &text);
    // Someone else writes to the branch while the campaign does.
    w.github.conflict_on("acme/svc-013");
    // GitHub's secondary rate limit, mid-campaign.
    w.github.rate_limit_from(700, 3, 1);

    let run = w.approved_upgrade().await;
    let (done, worked) = w.engine.run_once().await.unwrap().unwrap();
    assert_eq!(worked, Worked::Succeeded, "{:?}", done.steps.last());
    assert_eq!(done.id, run.id);
    let names: Vec<&str> = done.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "plan",
            "repositories 1-50 of 200",
            "repositories 51-100 of 200",
            "repositories 101-150 of 200",
            "repositories 151-200 of 200"
        ]
    );
    assert_eq!(done.steps[0].detail.as_deref(), Some("200 projects use acme-telemetry 1.4.2"));
    assert_eq!(w.github.rate_limited_calls(), 3, "the rate limit was hit and waited out");

    // One pull request per repository that needed one, changing only the version.
    let pulls = w.github.all_pulls();
    assert_eq!(pulls.len(), 198);
    for i in 0..200 {
        let repo = format!("acme/svc-{i:03}");
        let (_, path, before) = manifest(i, if i == 7 { "1.5.0" } else { "1.4.2" });
        let prs = w.github.pulls(&repo);
        assert_eq!(w.github.file(&repo, "main", path).as_deref(), Some(before.as_str()), "{repo}: main untouched");
        if i == 7 || i == 13 {
            assert!(prs.is_empty(), "{repo}: no pull request");
            continue;
        }
        assert_eq!(prs.len(), 1, "{repo}");
        let pr = &prs[0];
        assert_eq!(pr.head, "switchboard/upgrade/acme-telemetry-1.5.0");
        assert_eq!(pr.base, "main");
        assert_eq!(pr.title, "Upgrade acme-telemetry to 1.5.0");
        assert!(pr.body.contains(&format!("{MARK} {}", run.id)), "{}", pr.body);
        assert!(pr.body.contains("Requested by carol and approved by bob"), "{}", pr.body);
        assert_eq!(pr.labels, ["dependencies"]);
        let (_, _, after) = manifest(i, "1.5.0");
        assert_eq!(w.github.file(&repo, &pr.head, path).as_deref(), Some(after.as_str()), "{repo}: byte for byte");
        assert_eq!(w.github.file(&repo, &pr.head, "README.md").as_deref(), Some("# svc\n"));
    }

    // The installation's token was minted once and reused.
    let tokens = w.github.calls().iter().filter(|c| c.path.ends_with("/access_tokens") && !c.rate_limited).count();
    assert_eq!(tokens, 1);

    let summary = w.service.campaign_summary(&run.id).await.unwrap();
    assert_eq!(summary.items.len(), 200);
    assert_eq!(summary.count(ItemState::Opened), 198);
    let skipped: Vec<_> = summary.items.iter().filter(|i| i.state == ItemState::Skipped).collect();
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0].repository, "acme/svc-007");
    assert_eq!(skipped[0].reason.as_deref(), Some("already on 1.5.0 (package.json)"));
    let conflict: Vec<_> = summary.items.iter().filter(|i| i.state == ItemState::Conflict).collect();
    assert_eq!(conflict.len(), 1);
    assert_eq!(conflict[0].repository, "acme/svc-013");
    assert_eq!(summary.counts_line(), "198 opened, 1 conflict, 1 skipped");

    // Asked again (a second approval of the same upgrade): nothing is opened twice.
    let again = w.approved_upgrade().await;
    let (_, worked) = w.engine.run_once().await.unwrap().unwrap();
    assert_eq!(worked, Worked::Succeeded);
    assert_eq!(w.github.all_pulls().len(), 198);
    let second = w.service.campaign_summary(&again.id).await.unwrap();
    assert_eq!(second.count(ItemState::Opened), 198);
    assert!(
        second
            .items
            .iter()
            .filter(|i| i.state == ItemState::Opened)
            .all(|i| i.reason.as_deref() == Some("already open"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_request_webhooks_move_the_campaign_and_the_graph() {
    let w = world(3).await;
    let run = w.approved_upgrade().await;
    let (_, worked) = w.engine.run_once().await.unwrap().unwrap();
    assert_eq!(worked, Worked::Succeeded);
    let pr = w.github.pulls("acme/svc-001").remove(0);

    // GitHub's published pull_request payload, for the campaign's pull request.
    let mut merged = fixture("pull_request.opened.json");
    merged["action"] = json!("closed");
    merged["number"] = json!(pr.number);
    merged["repository"]["full_name"] = json!("acme/svc-001");
    let p = &mut merged["pull_request"];
    p["number"] = json!(pr.number);
    p["body"] = json!(pr.body);
    p["head"]["ref"] = json!(pr.head);
    p["merged"] = json!(true);
    p["state"] = json!("closed");
    p["merged_at"] = json!("2026-09-22T10:00:00Z");
    p["merge_commit_sha"] = json!("4f1d2c3b4a5968778695a4b3c2d1e0f9a8b7c6d5");
    w.webhook("pull_request", &merged).await;

    let project = w.service.graph().get_project(&"svc-001".parse().unwrap()).await.unwrap().unwrap();
    let dep = project.dependencies.iter().find(|d| d.package.as_str() == "acme-telemetry").unwrap();
    assert_eq!(dep.version.as_str(), "1.5.0", "the merge moved the graph");

    // Checks failing on another pull request (GitHub's check_suite payload).
    let other = w.github.pulls("acme/svc-002").remove(0);
    let mut checks = fixture("check_suite.completed.json");
    checks["repository"]["full_name"] = json!("acme/svc-002");
    checks["check_suite"]["conclusion"] = json!("failure");
    checks["check_suite"]["head_branch"] = json!(other.head);
    checks["check_suite"]["pull_requests"][0]["number"] = json!(other.number);
    checks["check_suite"]["pull_requests"][0]["head"]["ref"] = json!(other.head);
    w.webhook("check_suite", &checks).await;

    let summary = w.service.campaign_summary(&run.id).await.unwrap();
    let state = |repo: &str| summary.items.iter().find(|i| i.repository == repo).map(|i| i.state);
    assert_eq!(state("acme/svc-001"), Some(ItemState::Merged));
    assert_eq!(state("acme/svc-002"), Some(ItemState::ChecksFailing));
    assert_eq!(state("acme/svc-000"), Some(ItemState::Opened));
    assert_eq!(summary.counts_line(), "1 opened, 1 checks failing, 1 merged");

    // A pull request Switchboard did not open is left to the rules alone.
    let mut foreign = fixture("pull_request.opened.json");
    foreign["repository"]["full_name"] = json!("acme/svc-000");
    foreign["pull_request"]["number"] = json!(999);
    foreign["pull_request"]["body"] = json!("a person's change");
    w.webhook("pull_request", &foreign).await;
    assert_eq!(w.service.campaign_summary(&run.id).await.unwrap(), summary);
    assert_eq!(w.service.graph().get_run(&run.id).await.unwrap().unwrap().status, RunStatus::Succeeded);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_rate_limit_ends_the_step_and_the_batch_resumes_without_duplicates() {
    let w = world(4).await;
    let run = w.approved_upgrade().await;
    // A secondary limit asking for longer than github.max_rate_limit_wait_secs (120 s).
    w.github.rate_limit_from(12, 1, 900);
    let (_, worked) = w.engine.run_once().await.unwrap().unwrap();
    let Worked::Retrying(_) = worked else { panic!("{worked:?}") };
    let opened_before = w.github.all_pulls().len();
    assert!(opened_before < 4);

    // Due again (the engine's backoff), the batch is worked again from what exists.
    let stored = w.service.graph().get_run(&run.id).await.unwrap().unwrap();
    let failed = stored.steps.last().unwrap();
    assert_eq!(failed.status, switchboard_core::model::StepStatus::Failed);
    assert!(failed.detail.as_deref().unwrap().contains("s wait; the step is tried again later"), "{failed:?}");
    let fresh = github::engine(&w.service, Arc::new(w.store.clone()), "w2").unwrap().unwrap();
    w.clock.advance(13 * 60 * 1000);
    let (_, worked) = fresh.run_once().await.unwrap().unwrap();
    assert_eq!(worked, Worked::Succeeded);
    let pulls = w.github.all_pulls();
    assert_eq!(pulls.len(), 4);
    let mut repos: Vec<_> = pulls.iter().map(|(r, _)| r.clone()).collect();
    repos.dedup();
    assert_eq!(repos.len(), 4, "one pull request per repository");
}
