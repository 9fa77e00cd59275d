//! Messages Switchboard sends on its own, through the durable outbox to
//! fakes of Slack and Discord: incident notifications with context and
//! buttons, approval requests, run progress in the request's thread, and
//! retries through an outage with nothing lost or sent twice.

use std::sync::Arc;

use serde_json::{Value, json};
use switchboard_bot::courier::{Courier, backoff_ms};
use switchboard_core::clock::ManualClock;
use switchboard_core::config::Config;
use switchboard_core::demo;
use switchboard_core::event::payload::Progress;
use switchboard_core::model::Role;
use switchboard_core::outbox::{MessageStatus, Outbox};
use switchboard_core::{Caller, Service};
use switchboard_testkit::chat as fakes;

mod common;

const DISCORD_CHANNEL: &str = "900000000000000001";

struct World {
    service: Service,
    clock: Arc<ManualClock>,
    outbox: Arc<dyn Outbox>,
    courier: Courier,
    slack: fakes::Fake,
    discord: fakes::Fake,
    /// The store, for a run moved as a worker would.
    store: switchboard_store::SqliteStore,
    world: switchboard_testkit::World,
}

async fn world() -> World {
    world_with(|_| {}).await
}

async fn world_with(configure: impl FnOnce(&mut Config)) -> World {
    let (slack, discord) = (fakes::slack().await.unwrap(), fakes::discord().await.unwrap());
    let mut config = Config::default();
    configure(&mut config);
    config.slack.signing_secret = Some("s".into());
    config.slack.bot_token = Some("xoxb-test".into());
    config.slack.api_url = format!("{}/api/", slack.url);
    config.discord.bot_token = Some("discord-test".into());
    config.discord.application_id = Some(1);
    config.discord.api_proxy = Some(discord.url.clone());
    let s = common::seeded(config, false).await;
    let clock = s.world.clock.clone();
    let admin = Caller::new(demo::DEMO_ADMIN, Role::Admin, "demo");
    let channels = json!({"team": "payments", "channels": [
        {"platform": "slack", "id": "C0PAY"}, {"platform": "discord", "id": DISCORD_CHANNEL}, {"platform": "web", "id": "w"}]});
    s.service.execute_json(&admin, "update_team", channels).await.unwrap();
    // The demo's own history is old news: only what happens from here on is sent.
    clock.advance(2 * 3600 * 1000);
    // A worker runs the automations these tests follow (their progress is
    // recorded as its engine would).
    use switchboard_core::ops::OpKind::{Deploy, ScaffoldProject, UpgradeDependency};
    s.service.announce_executor("w1", &[Deploy, UpgradeDependency, ScaffoldProject]).await.unwrap();
    let store = s.store.clone();
    let outbox: Arc<dyn Outbox> = Arc::new(s.store);
    let courier = Courier::new(&s.state, outbox.clone());
    World { service: s.service, clock, outbox, courier, slack, discord, store, world: s.world }
}

impl World {
    async fn op(&self, who: (&str, Role), op: &str, args: Value) -> Value {
        let caller = Caller::new(who.0, who.1, "test");
        self.service.execute_json(&caller, op, args).await.unwrap_or_else(|e| panic!("{op}: {e}")).to_json()
    }
}

fn texts(v: &Value) -> String {
    v.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incidents_approvals_and_progress_reach_both_platforms() {
    let w = world().await;
    let _tasks = w.courier.clone().spawn();
    let admin = ("ada", Role::Admin);
    w.op(
        admin,
        "record_change",
        json!({"project": "payments-api", "title": "Retry card captures twice", "author": "erin", "opened_at": "2h"}),
    )
    .await;
    w.op(
        admin,
        "record_incident",
        json!({"project": "payments-api", "title": "Card captures failing", "severity": "SEV2"}),
    )
    .await;

    let posted = w.slack.wait_for("chat.postMessage", 1, 10).await;
    assert_eq!(posted.len(), 1, "{:?}", w.slack.calls());
    let m = &posted[0].body;
    assert_eq!(m["channel"], "C0PAY");
    assert!(m["text"].as_str().unwrap().contains("Incident: Card captures failing"), "{m}");
    let blocks = texts(&m["blocks"]);
    assert!(blocks.contains("Retry card captures twice"), "the recent change is in the context: {blocks}");
    assert!(blocks.contains("investigate:payments-api") && blocks.contains("/projects/payments-api"), "{blocks}");
    let sent = w.discord.wait_for(&format!("/channels/{DISCORD_CHANNEL}/messages"), 1, 10).await;
    assert_eq!(sent.len(), 1, "{:?}", w.discord.calls());
    assert!(texts(&sent[0].body).contains("investigate:payments-api"), "{}", sent[0].body);

    // carol asks for a deployment: an approval request in both channels.
    let run =
        w.op(("carol", Role::Editor), "deploy", json!({"project": "payments-api", "environment": "staging"})).await;
    let run = run["id"].as_str().unwrap().to_owned();
    let posted = w.slack.wait_for("chat.postMessage", 2, 10).await;
    assert_eq!(posted.len(), 2);
    let request = &posted[1].body;
    assert!(texts(&request["blocks"]).contains(&format!("approve_run:{run}")), "{request}");
    assert!(request["text"].as_str().unwrap().contains("asked by carol"), "{request}");
    let sent = w.discord.wait_for("/messages", 2, 10).await;
    assert!(texts(&sent[1].body).contains(&format!("approve_run:{run}")));

    // bob approves in the portal: progress lands in the request's thread.
    w.op(("bob", Role::Approver), "approve_run", json!({"run": run})).await;
    let posted = w.slack.wait_for("chat.postMessage", 3, 10).await;
    assert_eq!(posted.len(), 3);
    let request_ts = w.outbox.get_message(&format!("approval:{run}:slack:C0PAY")).await.unwrap().unwrap().remote_id;
    assert!(request_ts.is_some());
    assert_eq!(posted[2].body["thread_ts"].as_str(), request_ts.as_deref(), "{}", posted[2].body);
    assert!(posted[2].body["text"].as_str().unwrap().contains("Approved by bob"));
    let sent = w.discord.wait_for("/messages", 3, 10).await;
    let request_id =
        w.outbox.get_message(&format!("approval:{run}:discord:{DISCORD_CHANNEL}")).await.unwrap().unwrap().remote_id;
    assert_eq!(sent[2].body["message_reference"]["message_id"].as_str(), request_id.as_deref());
    // The requests themselves now read as decided, their buttons gone.
    let updated = w.slack.wait_for("chat.update", 1, 10).await;
    assert_eq!(updated.len(), 1, "{:?}", w.slack.calls());
    assert_eq!(
        (updated[0].body["channel"].as_str(), updated[0].body["ts"].as_str()),
        (Some("C0PAY"), request_ts.as_deref())
    );
    assert!(updated[0].body["text"].as_str().unwrap().contains("approved by bob"), "{}", updated[0].body);
    assert!(!texts(&updated[0].body["blocks"]).contains("approve_run"), "{}", updated[0].body);
    let edited = w.discord.wait_for(&format!("/messages/{}", request_id.as_deref().unwrap()), 1, 10).await;
    assert_eq!((edited.len(), edited[0].method.as_str()), (1, "PATCH"), "{:?}", w.discord.calls());
    assert!(!texts(&edited[0].body["components"]).contains("approve_run"), "{}", edited[0].body);
    assert!(texts(&edited[0].body["embeds"]).contains("approved by bob"), "{}", edited[0].body);

    // Catching up over the same events finds nothing new to say.
    assert_eq!(w.courier.catch_up(w.service.now() - 3600 * 1000).await.unwrap(), 0);
    // (The last one is marked sent just after the fake took it.)
    w.world.settle().await;
    let counts = w.outbox.outbox_counts().await.unwrap();
    let all = w.outbox.list_messages(None, 20).await.unwrap();
    assert_eq!(counts, [(MessageStatus::Pending, 0), (MessageStatus::Sent, 8), (MessageStatus::Dead, 0)], "{all:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_is_retried_with_backoff_and_nothing_is_lost() {
    let w = world().await;
    w.slack.fail_next(2);
    w.op(("ada", Role::Admin), "record_incident", json!({"project": "payments-api", "title": "Latency"})).await;
    // Enqueued durably, then tried: Slack is down.
    assert_eq!(w.courier.catch_up(w.service.now() - 3600 * 1000).await.unwrap(), 2);
    assert_eq!(w.courier.deliver_due().await.unwrap(), 2);
    let key = |platform: &str, channel: &str| {
        let outbox = w.outbox.clone();
        let key = format!("incident_triggered:{{}}:{platform}:{channel}");
        async move {
            outbox.list_messages(None, 10).await.unwrap().into_iter().find(|m| {
                let (prefix, suffix) = key.split_once("{}").unwrap();
                m.key.starts_with(prefix) && m.key.ends_with(suffix)
            })
        }
    };
    let m = key("slack", "C0PAY").await.unwrap();
    assert_eq!((m.status, m.attempts), (MessageStatus::Pending, 1), "{m:?}");
    assert!(m.last_error.as_deref().unwrap_or_default().contains("chat.postMessage"), "{m:?}");
    assert_eq!(key("discord", DISCORD_CHANNEL).await.unwrap().status, MessageStatus::Sent, "Discord was up");

    // Not again before its backoff; then again, and down again; then delivered.
    assert_eq!(w.courier.deliver_due().await.unwrap(), 0);
    w.clock.advance(backoff_ms(1));
    assert_eq!(w.courier.deliver_due().await.unwrap(), 1);
    assert_eq!(key("slack", "C0PAY").await.unwrap().attempts, 2);
    w.clock.advance(backoff_ms(2));
    w.courier.deliver_due().await.unwrap();
    let m = key("slack", "C0PAY").await.unwrap();
    assert_eq!((m.status, m.attempts, m.remote_id.is_some()), (MessageStatus::Sent, 3, true), "{m:?}");
    let calls = w.slack.wait_for("chat.postMessage", 3, 0).await;
    assert_eq!(calls.len(), 3, "two failures, one success: {calls:?}");
    assert_eq!(w.discord.wait_for("/messages", 1, 0).await.len(), 1, "Discord's was sent once");
    assert_eq!((backoff_ms(1), backoff_ms(2), backoff_ms(30)), (5_000, 10_000, 600_000));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_is_retried_after_its_retry_after() {
    let w = world().await;
    w.slack.rate_limit_next(1, 1);
    w.op(("ada", Role::Admin), "record_incident", json!({"project": "payments-api", "title": "Slow"})).await;
    w.courier.catch_up(w.service.now() - 3600 * 1000).await.unwrap();
    let t = std::time::Instant::now();
    w.courier.deliver_due().await.unwrap();
    let calls = w.slack.wait_for("chat.postMessage", 2, 0).await;
    assert_eq!(calls.len(), 2, "refused once, then sent: {calls:?}");
    assert!(t.elapsed() >= std::time::Duration::from_secs(1), "waited the Retry-After: {:?}", t.elapsed());
    let sent = w.outbox.list_messages(Some(MessageStatus::Sent), 10).await.unwrap();
    assert!(sent.iter().any(|m| m.channel == "C0PAY" && m.attempts == 1), "one attempt of the outbox: {sent:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_that_does_not_exist_is_not_retried() {
    let w = world().await;
    let channels = json!({"team": "payments", "channels": [{"platform": "slack", "id": "CMISSING1"}]});
    w.op(("ada", Role::Admin), "update_team", channels).await;
    w.op(("ada", Role::Admin), "record_incident", json!({"project": "payments-api", "title": "Down"})).await;
    assert_eq!(w.courier.catch_up(w.service.now() - 3600 * 1000).await.unwrap(), 1);
    w.courier.deliver_due().await.unwrap();
    let dead = w.outbox.list_messages(Some(MessageStatus::Dead), 10).await.unwrap();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!((dead[0].attempts, dead[0].last_error.as_deref()), (1, Some("chat.postMessage: channel_not_found")));
    w.clock.advance(backoff_ms(9));
    assert_eq!(w.courier.deliver_due().await.unwrap(), 0, "never tried again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runs_progress_is_replied_in_its_requests_thread() {
    let w = world().await;
    let _tasks = w.courier.clone().spawn();
    let run =
        w.op(("carol", Role::Editor), "deploy", json!({"project": "payments-api", "environment": "staging"})).await;
    let id = run["id"].as_str().unwrap().to_owned();
    w.op(("bob", Role::Approver), "approve_run", json!({"run": id})).await;
    let run = w.service.graph().get_run(&id.parse().unwrap()).await.unwrap().unwrap();
    // What the run engine records as it works.
    w.service.record_run_progress(&run, Progress::Started).await.unwrap();
    let step = Progress::StepDone { step: "dispatch workflow".into(), detail: Some("deploy.yml on main".into()) };
    w.service.record_run_progress(&run, step).await.unwrap();
    w.service.record_run_progress(&run, Progress::Succeeded).await.unwrap();

    let posted = w.slack.wait_for("chat.postMessage", 5, 10).await;
    let request_ts = w.outbox.get_message(&format!("approval:{id}:slack:C0PAY")).await.unwrap().unwrap().remote_id;
    let replies: Vec<&str> = posted
        .iter()
        .filter(|c| c.body["thread_ts"].as_str() == request_ts.as_deref())
        .map(|c| c.body["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        replies,
        ["Approved by bob.", "Started.", "Done: dispatch workflow (deploy.yml on main).", "Succeeded."],
        "{posted:?}"
    );
    let updates = w.slack.wait_for("chat.update", 2, 10).await;
    assert_eq!(updates.len(), 2, "decided, then succeeded");
    assert!(updates[1].body["text"].as_str().unwrap().contains("staging: succeeded."), "{}", updates[1].body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_request_says_so_in_chat() {
    let w = world().await;
    let _tasks = w.courier.clone().spawn();
    let run =
        w.op(("carol", Role::Editor), "deploy", json!({"project": "payments-api", "environment": "staging"})).await;
    let id = run["id"].as_str().unwrap().to_owned();
    w.op(("carol", Role::Editor), "cancel_run", json!({"run": id, "reason": "wrong environment"})).await;
    let posted = w.slack.wait_for("chat.postMessage", 2, 10).await;
    assert_eq!(posted.len(), 2, "{:?}", w.slack.calls());
    assert_eq!(posted[1].body["text"], "Cancelled by carol. “wrong environment”");
    let updated = w.slack.wait_for("chat.update", 1, 10).await;
    assert!(updated[0].body["text"].as_str().unwrap().contains("cancelled by carol"), "{}", updated[0].body);
    assert!(!texts(&updated[0].body["blocks"]).contains("approve_run"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deployment_a_run_started_is_followed_in_its_thread() {
    let w = world().await;
    let _tasks = w.courier.clone().spawn();
    let args = json!({"project": "payments-api", "environment": "staging", "version": "1.4.0"});
    let run = w.op(("carol", Role::Editor), "deploy", args).await;
    let id = run["id"].as_str().unwrap().to_owned();
    w.op(("bob", Role::Approver), "approve_run", json!({"run": id})).await;
    let mut run = w.service.graph().get_run(&id.parse().unwrap()).await.unwrap().unwrap();
    run.status = switchboard_core::model::RunStatus::Succeeded;
    switchboard_core::store::GraphStore::put_run(&w.store, &run).await.unwrap();
    w.service.record_run_progress(&run, Progress::Succeeded).await.unwrap();
    // The dispatched workflow finished (as the run follower records GitHub's workflow_run).
    let workflow = Progress::Followed {
        step: "deploy workflow".into(),
        conclusion: "success".into(),
        url: Some("https://github.com/acme/payments-api/actions/runs/501".into()),
        workflow_run: 501,
        attempt: 1,
    };
    w.service.record_run_progress(&run, workflow).await.unwrap();
    // Someone else deploys the same project to the same environment meanwhile,
    // by hand: it names no run, so it stays out of the request's thread.
    let admin = ("ada", Role::Admin);
    let by_hand =
        json!({"project": "payments-api", "environment": "staging", "version": "1.3.9", "external_id": "gh-8"});
    w.op(admin, "record_deployment", by_hand).await;
    // GitHub reports the deployment the dispatched workflow made (as the webhook
    // rules record it), its workflow run's title carrying the run's id.
    let title = format!("Deploy 1.4.0 to staging ({id})");
    let started = json!({"project": "payments-api", "environment": "staging", "version": "1.4.0", "status": "in_progress", "external_id": "gh-9", "run": title});
    w.op(admin, "record_deployment", started).await;
    let finished = json!({"project": "payments-api", "environment": "staging", "version": "1.4.0", "status": "succeeded", "external_id": "gh-9"});
    w.op(admin, "record_deployment", finished).await;

    // The request, four replies in its thread, and the team told it happened.
    let posted = w.slack.wait_for("chat.postMessage", 6, 10).await;
    let request_ts = w.outbox.get_message(&format!("approval:{id}:slack:C0PAY")).await.unwrap().unwrap().remote_id;
    let told: Vec<&str> = posted
        .iter()
        .filter(|c| c.body["thread_ts"].is_null())
        .filter_map(|c| c.body["text"].as_str())
        .filter(|t| t.starts_with("Deployed "))
        .collect();
    assert_eq!(told.len(), 1, "only the run's deployment is news when it succeeds: {posted:?}");
    assert!(told[0].starts_with("Deployed 1.4.0 to staging\n"), "{told:?}");
    let in_thread: Vec<&str> = posted
        .iter()
        .filter(|c| c.body["thread_ts"].as_str() == request_ts.as_deref())
        .map(|c| c.body["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        in_thread,
        [
            "Approved by bob.",
            "Succeeded.",
            "The deploy workflow finished: success. https://github.com/acme/payments-api/actions/runs/501",
            "Deployment of 1.4.0 to staging: succeeded."
        ],
        "{posted:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_campaigns_summary_is_replied_then_kept_current() {
    use switchboard_core::campaign::{Item, ItemState};
    let w = world().await;
    let _tasks = w.courier.clone().spawn();
    let project = w.service.graph().get_project(&"payments-api".parse().unwrap()).await.unwrap().unwrap();
    let package = project.dependencies[0].package.to_string();
    let args = json!({"package": package, "to": "99.0.0", "project": "payments-api"});
    let id = w.op(("carol", Role::Editor), "upgrade_dependency", args).await["id"].as_str().unwrap().to_owned();
    w.op(("bob", Role::Approver), "approve_run", json!({"run": id})).await;
    let mut run = w.service.graph().get_run(&id.parse().unwrap()).await.unwrap().unwrap();
    // What the engine records: the pull request it opened, then the run's end.
    let opened = Item::new("acme/payments-api", Some(project.slug.clone()), ItemState::Opened)
        .pull(4, Some("https://github.com/acme/payments-api/pull/4".into()));
    w.service.record_campaign_item(&run.id, &opened, "engine").await.unwrap();
    run.status = switchboard_core::model::RunStatus::Succeeded;
    switchboard_core::store::GraphStore::put_run(&w.store, &run).await.unwrap();
    w.service.record_run_progress(&run, Progress::Succeeded).await.unwrap();

    let posted = w.slack.wait_for("chat.postMessage", 4, 10).await;
    let request_ts = w.outbox.get_message(&format!("approval:{id}:slack:C0PAY")).await.unwrap().unwrap().remote_id;
    let in_thread: Vec<&str> = posted
        .iter()
        .filter(|c| c.body["thread_ts"].as_str() == request_ts.as_deref())
        .map(|c| c.body["text"].as_str().unwrap().lines().next().unwrap())
        .collect();
    assert_eq!(in_thread, ["Approved by bob.", "Succeeded.", "Campaign: 1 opened."], "{posted:?}");

    // The pull request merges (a webhook): the summary message is edited, not repeated.
    let merged = Item { state: ItemState::Merged, ..opened };
    w.service.record_campaign_item(&run.id, &merged, "github").await.unwrap();
    let updates = w.slack.wait_for("chat.update", 3, 10).await;
    // Read once the edit is seen: the courier records where it posted after Slack answers.
    let summary_ts = w.outbox.get_message(&format!("campaign:{id}:slack:C0PAY")).await.unwrap().unwrap().remote_id;
    let last = updates.last().unwrap();
    assert_eq!(last.body["ts"].as_str(), summary_ts.as_deref(), "{updates:?}");
    assert!(last.body["text"].as_str().unwrap().starts_with("Campaign: 1 merged.\n"), "{}", last.body);
    w.world.settle().await;
    let edited_on_discord: Vec<_> = w.discord.calls().into_iter().filter(|c| c.method == "PATCH").collect();
    assert!(edited_on_discord.iter().any(|c| texts(&c.body).contains("Campaign: 1 merged.")), "{edited_on_discord:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scaffolded_project_is_announced_in_its_teams_channel() {
    let w = world().await;
    let _tasks = w.courier.clone().spawn();
    let template = w.service.config().templates.keys().next().unwrap().to_string();
    let args = json!({"name": "refunds-consumer", "template": template, "team": "payments"});
    let id = w.op(("carol", Role::Editor), "scaffold_project", args).await["id"].as_str().unwrap().to_owned();
    w.op(("bob", Role::Approver), "approve_run", json!({"run": id})).await;
    let mut run = w.service.graph().get_run(&id.parse().unwrap()).await.unwrap().unwrap();
    // The engine's last step created the project with its repository.
    let created = json!({"slug": "refunds-consumer", "team": "payments", "project_type": run.arguments["project_type"],
                         "external_ids": {"github_repository": "acme/refunds-consumer"}});
    w.op(("ada", Role::Admin), "create_project", created).await;
    run.status = switchboard_core::model::RunStatus::Succeeded;
    switchboard_core::store::GraphStore::put_run(&w.store, &run).await.unwrap();
    w.service.record_run_progress(&run, Progress::Succeeded).await.unwrap();

    let posted = w.slack.wait_for("chat.postMessage", 4, 10).await;
    let announced: Vec<_> = posted.iter().filter(|c| c.body["thread_ts"].is_null()).collect();
    let last = announced.last().unwrap();
    assert_eq!(last.body["channel"], "C0PAY");
    assert!(last.body["text"].as_str().unwrap().starts_with("New "), "{}", last.body);
    assert!(
        last.body["text"].as_str().unwrap().contains("project refunds-consumer, created from the"),
        "{}",
        last.body
    );
    assert!(texts(&last.body["blocks"]).contains("acme/refunds-consumer"), "{}", last.body);
    assert!(texts(&last.body["blocks"]).contains("/projects/refunds-consumer"), "{}", last.body);
}

/// A stopping process's courier sends nothing more and gives back the
/// messages it had taken, so the next process sends them at once (not after
/// their claim lapses), each once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_courier_gives_back_what_it_took() {
    let w = world().await;
    let now = w.service.now();
    for n in 0..3 {
        let body = serde_json::to_string(&switchboard_bot::reply::Reply::text(format!("message {n}"))).unwrap();
        let m = switchboard_core::outbox::NewMessage::new(
            format!("stop-test:{n}"),
            switchboard_core::model::ChatPlatform::Slack,
            "C0PAY".into(),
            body,
            now,
        );
        assert!(w.outbox.enqueue(&m).await.unwrap());
    }
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let courier = w.courier.clone().until(stopping);
    stop.send(true).unwrap();
    courier.deliver_due().await.unwrap();
    assert!(w.slack.calls().is_empty(), "nothing is sent once stopping");
    let due = w.outbox.due_messages(w.service.now(), 10).await.unwrap();
    assert_eq!(due.len(), 3, "all given back, due at once: {due:?}");
    w.outbox.release_messages(&due.iter().map(|m| m.id).collect::<Vec<_>>(), w.service.now()).await.unwrap();
    // The next process's courier sends each once.
    assert_eq!(w.courier.deliver_due().await.unwrap(), 3);
    assert_eq!(w.slack.calls().len(), 3);
    assert!(w.outbox.due_messages(w.service.now() + 10 * 60_000, 10).await.unwrap().is_empty());
}

/// New vulnerabilities in quiet hours (a team's evening in its own time
/// zone) wait in the outbox until the window ends, then are sent with their
/// Fix button; an incident in the same hours is sent at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vulnerabilities_found_in_quiet_hours_wait_for_the_morning() {
    // The clock stands at T0 + 2 h when the world is built; Kolkata is UTC+05:30 all year.
    const MINUTE: i64 = 60_000;
    let now = switchboard_testkit::T0 + 2 * 3600 * 1000;
    let local = (now / MINUTE + 330).rem_euclid(1440);
    let hhmm = |m: i64| format!("{:02}:{:02}", m.rem_euclid(1440) / 60, m.rem_euclid(60));
    let w = world_with(|c| {
        c.advisories.quiet_hours = Some(switchboard_core::config::QuietHours {
            from: hhmm(local - 60),
            until: hhmm(local + 120),
            timezone: "Asia/Kolkata".into(),
            urgent: "none".into(),
        });
        c.advisories.notify_min_severity = switchboard_core::advisory::Severity::Unknown;
    })
    .await;
    assert_eq!(w.service.now(), now);
    let ends = (now / MINUTE + 120) * MINUTE;
    let admin = ("ada", Role::Admin);
    let since = w.service.now();
    let records = switchboard_core::demo_advisories::sample();
    w.op(admin, "import_advisories", json!({ "records": records })).await;
    // payments-api (team payments, channel C0PAY) has affected crates and
    // takes a requests release PYSEC-2023-74 affects.
    let deps = json!({"project": "payments-api", "ecosystem": "pypi",
        "dependencies": [{"ecosystem": "pypi", "package": "requests", "version": "2.30.0"}]});
    w.op(admin, "set_dependencies", deps).await;
    let found = w.op(admin, "vulnerabilities", json!({"project": "payments-api"})).await;
    assert!(found["vulnerabilities"].to_string().contains("PYSEC-2023-74"), "{found}");
    w.op(admin, "record_incident", json!({"project": "payments-api", "title": "Checkout is slow", "severity": "SEV2"}))
        .await;

    assert!(w.courier.catch_up(since).await.unwrap() >= 2);
    w.courier.deliver_due().await.unwrap();
    let said: Vec<String> = w.slack.calls().iter().map(|c| c.body["text"].as_str().unwrap_or("").to_owned()).collect();
    assert_eq!(said.len(), 1, "only the incident, at once: {said:?}");
    assert!(said[0].contains("Checkout is slow"), "{said:?}");
    let held = w.outbox.list_messages(Some(MessageStatus::Pending), 100).await.unwrap();
    // (Other teams of the generated org have channels and findings too.)
    assert!(held.iter().filter(|m| m.channel == "C0PAY").count() >= 3, "{held:#?}");
    assert!(held.iter().all(|m| m.key.starts_with("vulnerability_found:")), "{held:#?}");
    assert!(held.iter().all(|m| m.next_attempt_at == ends), "held until the window ends: {held:#?}");

    w.clock.advance(ends - w.service.now() - 1);
    assert_eq!(w.courier.deliver_due().await.unwrap(), 0, "still quiet a millisecond before the end");
    w.clock.advance(1);
    let mut sent = 0;
    loop {
        match w.courier.deliver_due().await.unwrap() {
            0 => break,
            n => sent += n,
        }
    }
    assert_eq!(sent, held.len());
    let calls = w.slack.calls();
    let posted = texts(&calls.last().unwrap().body);
    assert!(posted.contains("fix_advisory:"), "the Fix button comes along: {posted}");
    assert_eq!(w.outbox.list_messages(Some(MessageStatus::Pending), 100).await.unwrap().len(), 0);
}
