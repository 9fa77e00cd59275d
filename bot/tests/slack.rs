//! Slack over HTTP against a stateful fake of the Web API: the published
//! fixtures, signed with a test secret, through the real router; replies,
//! updates and ephemeral messages as Switchboard's Slack client sends them.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use switchboard_bot::chat::ChatState;
use switchboard_bot::slack::verify::sign;
use switchboard_core::config::Config;
use switchboard_core::model::{ChatPlatform, Role};
use switchboard_core::{Caller, Service};
use switchboard_testkit::chat as fakes;
use tower::ServiceExt;

mod common;

const SECRET: &str = "slack-test-signing-secret";

struct World {
    service: Service,
    state: ChatState,
    slack: fakes::Fake,
    world: switchboard_testkit::World,
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/fixtures/slack/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn edited(name: &str, edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(&fixture(name)).unwrap();
    edit(&mut v);
    serde_json::to_vec(&v).unwrap()
}

async fn world() -> World {
    world_with(|_| {}).await
}

async fn world_with(edit: impl FnOnce(&mut Config)) -> World {
    let slack = fakes::slack().await.unwrap();
    let mut config = Config::default();
    config.slack.signing_secret = Some(SECRET.into());
    config.slack.bot_token = Some("xoxb-test-token".into());
    config.slack.api_url = format!("{}/api/", slack.url);
    edit(&mut config);
    let s = common::seeded(config, true).await;
    s.deliver();
    World { service: s.service, state: s.state, slack, world: s.world }
}

impl World {
    async fn post_at(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
        at: i64,
        secret: &str,
    ) -> (StatusCode, String) {
        let ts = at.to_string();
        let req = Request::post(path)
            .header("content-type", content_type)
            .header("x-slack-request-timestamp", &ts)
            .header("x-slack-signature", sign(secret, &ts, &body))
            .body(Body::from(body))
            .unwrap();
        let resp = switchboard_bot::slack::router(self.state.clone()).oneshot(req).await.unwrap();
        let status = resp.status();
        (status, String::from_utf8(resp.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap())
    }

    async fn post(&self, path: &str, content_type: &str, body: Vec<u8>) -> (StatusCode, String) {
        self.post_at(path, content_type, body, self.service.now() / 1000, SECRET).await
    }

    async fn event(&self, body: Vec<u8>) -> (StatusCode, String) {
        self.post("/slack/events", "application/json", body).await
    }

    async fn command(&self, user: &str, text: &str) -> Value {
        let body = format!(
            "token=x&team_id=T1&channel_id=C0DEPLOY&channel_name=ops&user_id={user}&user_name=someone&command=%2Fsb&text={}&response_url=https%3A%2F%2Fexample.invalid%2Fr&trigger_id=1.2.3",
            text.replace(' ', "+")
        );
        let (status, answer) =
            self.post("/slack/commands", "application/x-www-form-urlencoded", body.into_bytes()).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        serde_json::from_str(&answer).unwrap()
    }

    async fn click(&self, user: &str, action: &str) -> StatusCode {
        self.click_on(user, action, false).await
    }

    /// A click on a message only `user` saw when `ephemeral` (Slack then
    /// sends the container, not the message).
    async fn click_on(&self, user: &str, action: &str, ephemeral: bool) -> StatusCode {
        let payload = edited("block_actions.json", |v| {
            if ephemeral {
                v.as_object_mut().unwrap().remove("message");
                v["container"]["is_ephemeral"] = json!(true);
            }
            v["user"]["id"] = json!(user);
            v["actions"][0]["action_id"] = json!(action);
            // Each click its own: Slack's retries of one repeat its action_ts.
            static CLICKS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            let n = CLICKS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            v["actions"][0]["action_ts"] = json!(format!("{}.{}.{n}", user, action.len()));
        });
        let body = format!("payload={}", urlencode(&String::from_utf8(payload).unwrap()));
        self.post("/slack/interactions", "application/x-www-form-urlencoded", body.into_bytes()).await.0
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Every action id on buttons in a Block Kit message.
fn actions(blocks: &Value) -> Vec<String> {
    blocks
        .as_array()
        .into_iter()
        .flatten()
        .filter(|b| b["type"] == "actions")
        .flat_map(|b| b["elements"].as_array().cloned().unwrap_or_default())
        .filter_map(|e| e["action_id"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_to_slack_are_traced() {
    let spans = common::capture_spans();
    let w = world().await;
    let mention = edited("app_mention.json", |v| v["event"]["text"] = json!("<@U0LAN0Z89> who owns payments-api?"));
    assert_eq!(w.event(mention).await.0, StatusCode::OK);
    assert_eq!(w.slack.wait_for("chat.postMessage", 1, 10).await.len(), 1);
    // The span closes after the answer is read.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let traced = loop {
        let traced = spans.named("slack");
        if traced.iter().any(|(_, call)| call.contains("chat.postMessage")) || std::time::Instant::now() > deadline {
            break traced;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    let posted = traced.iter().find(|(_, call)| call.contains("chat.postMessage"));
    assert_eq!(posted.map(|(s, _)| s.kind), Some(3), "a client span for chat.postMessage: {traced:?}");
}

/// Slack refuses a reply's blocks: the reply is sent again as one text
/// section, so the words still arrive; a call without the bot token is
/// refused by the fake as Slack refuses it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_blocks_are_sent_again_as_text() {
    let w = world().await;
    w.slack.refuse_blocks_next(1);
    let mention = edited("app_mention.json", |v| v["event"]["text"] = json!("<@U0LAN0Z89> who owns payments-api?"));
    assert_eq!(w.event(mention).await.0, StatusCode::OK);
    let sent = w.slack.wait_for("chat.postMessage", 2, 10).await;
    assert_eq!(sent.len(), 2, "{:?}", w.slack.calls());
    assert_ne!(sent[0].body["blocks"], sent[1].body["blocks"], "the second is not the refused blocks again");
    let text = sent[1].body["blocks"].as_array().unwrap();
    assert_eq!(text.len(), 1, "{text:?}");
    assert!(text[0]["text"]["text"].as_str().unwrap().contains("payments-api"), "{text:?}");

    let bare =
        reqwest::Client::new().post(format!("{}/api/chat.postMessage", w.slack.url)).json(&json!({"channel": "C1"}));
    let answer: Value = bare.send().await.unwrap().json().await.unwrap();
    assert_eq!(answer, json!({"ok": false, "error": "not_authed"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn url_verification_and_mentions_answered_in_their_thread() {
    let w = world().await;
    let (status, body) = w.event(fixture("url_verification.json")).await;
    assert_eq!(status, StatusCode::OK);
    let challenge: Value = serde_json::from_slice(&fixture("url_verification.json")).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["challenge"], challenge["challenge"]);

    // A mention from someone Slack knows as erin@example.com: linked by email, answered in the thread.
    w.slack.set_email("U061F7AUR", "erin@example.com");
    let mention = edited("app_mention.json", |v| v["event"]["text"] = json!("<@U0LAN0Z89> who owns payments-api?"));
    assert_eq!(w.event(mention.clone()).await.0, StatusCode::OK);
    let posted = w.slack.wait_for("chat.postMessage", 1, 10).await;
    assert_eq!(posted.len(), 1, "{:?}", w.slack.calls());
    let m = &posted[0].body;
    assert_eq!((m["channel"].as_str(), m["thread_ts"].as_str()), (Some("C123ABC456"), Some("1515449522.000016")));
    assert!(m["text"].as_str().unwrap().contains("payments-api is owned by Payments"), "{m}");
    assert!(m["blocks"].as_array().is_some_and(|b| !b.is_empty()), "Block Kit: {m}");
    let erin = w.service.graph().get_user(&"erin".parse().unwrap()).await.unwrap().unwrap();
    assert!(erin.chat_identities.iter().any(|i| i.platform == ChatPlatform::Slack && i.id == "U061F7AUR"));

    // Slack retries the same event: answered once.
    assert_eq!(w.event(mention).await.0, StatusCode::OK);
    // A direct message is a turn too.
    assert_eq!(w.event(edited("message.im.json", |v| v["event"]["text"] = json!("help"))).await.0, StatusCode::OK);
    let posted = w.slack.wait_for("chat.postMessage", 2, 10).await;
    assert_eq!(posted.len(), 2);
    assert_eq!(posted[1].body["channel"], "D024BE91L");
    w.world.settle().await;
    assert_eq!(w.slack.wait_for("chat.postMessage", 3, 0).await.len(), 2, "the retried event was not answered again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slash_command_then_approval_buttons_by_role() {
    let w = world().await;
    let help = w.command("UCAROL", "").await;
    assert_eq!(help["response_type"], "in_channel");
    assert!(
        help["text"].as_str().unwrap().to_lowercase().contains("help")
            || !help["blocks"].as_array().unwrap().is_empty()
    );

    // carol (editor) requests a deployment: a pending run with Approve / Deny.
    let answer = w.command("UCAROL", "deploy payments-api to staging").await;
    let ids = actions(&answer["blocks"]);
    let approve = ids.iter().find(|a| a.starts_with("approve_run:")).unwrap_or_else(|| panic!("{answer}")).clone();
    let run = approve.trim_start_matches("approve_run:").to_owned();
    let status = |w: &World| {
        let (service, run) = (w.service.clone(), run.clone());
        async move {
            let out = service.execute_json(&Caller::new("ada", Role::Admin, "t"), "get_run", json!({"run": run})).await;
            out.unwrap().to_json()["status"].as_str().unwrap().to_owned()
        }
    };

    // dave is a viewer: a message only he sees, nothing decided.
    assert_eq!(w.click("UDAVE", &approve).await, StatusCode::OK);
    let ephemeral = w.slack.wait_for("chat.postEphemeral", 1, 10).await;
    assert_eq!(ephemeral.len(), 1, "{:?}", w.slack.calls());
    assert_eq!(ephemeral[0].body["user"], "UDAVE");
    assert!(ephemeral[0].body["text"].as_str().unwrap().contains("approver"), "{}", ephemeral[0].body);
    assert_eq!(status(&w).await, "pending");
    assert!(w.slack.wait_for("chat.update", 1, 0).await.is_empty());

    // bob approves: the original message is updated with the decision.
    assert_eq!(w.click("UBOB", &approve).await, StatusCode::OK);
    let updated = w.slack.wait_for("chat.update", 1, 10).await;
    assert_eq!(updated.len(), 1, "{:?}", w.slack.calls());
    let u = &updated[0].body;
    assert_eq!((u["channel"].as_str(), u["ts"].as_str()), (Some("CBR2V3XEX"), Some("1548261231.000200")));
    assert!(u["text"].as_str().unwrap().contains("approved"), "{u}");
    assert!(actions(&u["blocks"]).iter().all(|a| !a.starts_with("approve_run")), "no buttons left: {u}");
    assert_eq!(status(&w).await, "blocked", "approved, and no process here runs deploys");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_signatures_and_stale_requests_are_refused() {
    let w = world().await;
    let now = w.service.now() / 1000;
    let body = fixture("app_mention.json");
    for (at, secret, why) in
        [(now - 301, SECRET, "stale"), (now + 301, SECRET, "from the future"), (now, "wrong", "bad signature")]
    {
        let (status, answer) = w.post_at("/slack/events", "application/json", body.clone(), at, secret).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{why}: {answer}");
    }
    let req = Request::post("/slack/commands").body(Body::from("text=help")).unwrap();
    let resp = switchboard_bot::slack::router(w.state.clone()).oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "no signature headers");
    let (status, _) = w.post("/slack/events", "application/json", b"{not json".to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    w.world.settle().await;
    assert!(w.slack.calls().is_empty(), "nothing was sent: {:?}", w.slack.calls());
}

/// Forged requests from one address get 429 past the limit; Slack's own,
/// correctly signed, are answered whatever came before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_forged_requests_are_rate_limited() {
    let w = world_with(|c| c.limits.bad_credentials_per_minute = 2).await;
    let now = w.service.now() / 1000;
    let body = fixture("app_mention.json");
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(w.post_at("/slack/events", "application/json", body.clone(), now, "forged").await.0.as_u16());
    }
    assert_eq!(statuses, [401, 401, 429, 429]);
    for _ in 0..3 {
        let (status, answer) = w.post("/slack/events", "application/json", body.clone()).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_codes_link_a_slack_account() {
    let w = world().await;
    let answer = w.command("UNEWPERSON", "link").await;
    assert_eq!(answer["response_type"], "ephemeral");
    let text = answer["text"].as_str().unwrap();
    let code = text.split("code is ").nth(1).unwrap().split('.').next().unwrap().to_owned();
    let before = w.service.chat_caller(ChatPlatform::Slack, "UNEWPERSON", None).await.unwrap();
    assert_eq!((before.user.as_str(), before.role), ("slack-UNEWPERSON", Role::Viewer));
    let mallory = Caller::new("mallory", Role::Viewer, "portal");
    assert!(w.service.redeem_link_code(&mallory, "WRONG123").await.is_err());
    w.service.redeem_link_code(&mallory, &code).await.unwrap();
    let after = w.service.chat_caller(ChatPlatform::Slack, "UNEWPERSON", None).await.unwrap();
    assert_eq!(after.user.as_str(), "mallory");
    assert!(w.service.redeem_link_code(&mallory, &code).await.is_err(), "a code works once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn investigate_on_a_notification_answers_in_its_thread() {
    let w = world().await;
    assert_eq!(w.click("UDAVE", "investigate:payments-api").await, StatusCode::OK);
    let posted = w.slack.wait_for("chat.postMessage", 1, 10).await;
    assert_eq!(posted.len(), 1, "{:?}", w.slack.calls());
    let m = &posted[0].body;
    assert_eq!((m["channel"].as_str(), m["thread_ts"].as_str()), (Some("CBR2V3XEX"), Some("1548261231.000200")));
    assert!(m["text"].as_str().unwrap().contains("Investigation of payments-api"), "{m}");
    assert!(w.slack.wait_for("chat.update", 1, 0).await.is_empty(), "the notification stays as it was");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_mode_carries_events_commands_and_clicks() {
    let w = world_with(|c| {
        c.slack.socket_mode = true;
        c.slack.app_token = Some("xapp-test-token".into());
    })
    .await;
    let task = switchboard_bot::slack::socket::spawn(w.state.clone()).expect("socket mode is on");

    // A mention, in its Events API envelope: acknowledged, answered in the thread.
    let mention = serde_json::from_slice::<Value>(&edited("app_mention.json", |v| {
        v["event"]["text"] = json!("<@U0LAN0Z89> who owns payments-api?")
    }))
    .unwrap();
    assert!(w.slack.socket_send(json!({"envelope_id": "env-1", "type": "events_api", "payload": mention})).await);
    assert_eq!(w.slack.socket_ack("env-1", 10).await, Some(json!({"envelope_id": "env-1"})));
    let posted = w.slack.wait_for("chat.postMessage", 1, 10).await;
    assert_eq!(posted.len(), 1, "{:?}", w.slack.calls());
    assert_eq!(posted[0].body["thread_ts"], "1515449522.000016");
    assert!(posted[0].body["text"].as_str().unwrap().contains("payments-api is owned by Payments"));

    // A slash command: the answer rides on the acknowledgement.
    let command = json!({"user_id": "UCAROL", "channel_id": "C0DEPLOY", "command": "/sb", "text": "deploy payments-api to staging", "trigger_id": "1.2.3"});
    assert!(w.slack.socket_send(json!({"envelope_id": "env-2", "type": "slash_commands", "payload": command, "accepts_response_payload": true})).await);
    let ack = w.slack.socket_ack("env-2", 10).await.expect("acknowledged");
    let approve = actions(&ack["payload"]["blocks"]).into_iter().find(|a| a.starts_with("approve_run:"));
    let approve = approve.unwrap_or_else(|| panic!("{ack}"));

    // A viewer's click, in an interactive envelope: refused to them alone.
    let click = serde_json::from_slice::<Value>(&edited("block_actions.json", |v| {
        v["user"]["id"] = json!("UDAVE");
        v["actions"][0]["action_id"] = json!(approve);
    }))
    .unwrap();
    assert!(w.slack.socket_send(json!({"envelope_id": "env-3", "type": "interactive", "payload": click})).await);
    assert_eq!(w.slack.socket_ack("env-3", 10).await, Some(json!({"envelope_id": "env-3"})));
    let ephemeral = w.slack.wait_for("chat.postEphemeral", 1, 10).await;
    assert_eq!((ephemeral.len(), ephemeral[0].body["user"].as_str()), (1, Some("UDAVE")));

    // Slack asks to reconnect: a new connection through apps.connections.open.
    assert!(w.slack.socket_send(json!({"type": "disconnect", "reason": "refresh_requested"})).await);
    for _ in 0..100 {
        if w.slack.socket_connections() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(w.slack.socket_connections(), 2);
    assert_eq!(w.slack.wait_for("apps.connections.open", 2, 5).await.len(), 2);
    task.abort();
}

async fn submit(w: &World, payload: Vec<u8>) -> Value {
    let body = format!("payload={}", urlencode(&String::from_utf8(payload).unwrap()));
    let (status, answer) = w.post("/slack/interactions", "application/x-www-form-urlencoded", body.into_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    serde_json::from_str(&answer).unwrap()
}

fn form(user: &str, name: &str, template: &str) -> Vec<u8> {
    edited("view_submission.json", |v| {
        v["user"]["id"] = json!(user);
        v["view"]["callback_id"] = json!("scaffold_project");
        v["view"]["private_metadata"] = json!("C0DEPLOY");
        v["view"]["state"]["values"] = json!({
            "name": {"value": {"type": "plain_text_input", "value": name}},
            "template": {"value": {"type": "static_select", "selected_option": {"text": {"type": "plain_text", "text": template}, "value": template}}},
        });
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_new_project_form_requests_scaffold_project() {
    let w = world().await;
    let answer = w.command("UCAROL", "new").await;
    assert_eq!(answer["response_type"], "ephemeral");
    assert!(answer["text"].as_str().unwrap().contains("form"), "{answer}");
    let opened = w.slack.wait_for("views.open", 1, 5).await;
    assert_eq!(opened.len(), 1, "{:?}", w.slack.calls());
    let view = &opened[0].body["view"];
    assert_eq!(
        (opened[0].body["trigger_id"].as_str(), view["callback_id"].as_str()),
        (Some("1.2.3"), Some("scaffold_project"))
    );
    assert_eq!(view["private_metadata"], "C0DEPLOY");
    assert!(view.to_string().contains(r#""value":"consumer""#), "templates to pick from: {view}");

    // The published payload is another app's form: refused on the form.
    let other = submit(&w, fixture("view_submission.json")).await;
    assert_eq!(other["response_action"], "errors", "{other}");
    // A name that is not a slug: the error sits next to the name.
    let bad = submit(&w, form("UCAROL", "Not A Slug", "consumer")).await;
    assert_eq!(bad["response_action"], "errors");
    assert!(bad["errors"]["name"].as_str().is_some_and(|e| !e.is_empty()), "{bad}");
    // A viewer may not request it.
    let viewer = submit(&w, form("UDAVE", "billing-events", "consumer")).await;
    assert_eq!(viewer["response_action"], "errors", "{viewer}");
    assert!(w.slack.wait_for("chat.postMessage", 1, 0).await.is_empty());

    // carol (editor): the form closes and the request is posted where she typed /sb new.
    let done = submit(&w, form("UCAROL", "billing-events", "consumer")).await;
    assert_eq!(done, json!({"response_action": "clear"}));
    let posted = w.slack.wait_for("chat.postMessage", 1, 10).await;
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0].body["channel"], "C0DEPLOY");
    assert!(actions(&posted[0].body["blocks"]).iter().any(|a| a.starts_with("approve_run:")), "{}", posted[0].body);
}

/// The policy of `tests/fixtures/approval-rules.toml` on the demo
/// organisation: payments (alice, bob, carol), checkout (dave, erin, frank).
fn approval_rules(config: &mut Config) {
    let rules = include_str!("../../tests/fixtures/approval-rules.toml");
    config.policy = Config::parse(rules, "approval-rules.toml", &[]).unwrap().policy;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_rules_refuse_clicks_and_commands_with_their_reason() {
    let w = world_with(approval_rules).await;
    let approve_of = |answer: &Value| {
        let ids = actions(&answer["blocks"]);
        ids.into_iter().find(|a| a.starts_with("approve_run:")).unwrap_or_else(|| panic!("{answer}"))
    };
    let production = approve_of(&w.command("UFRANK", "deploy orders to production").await);
    let frozen = approve_of(&w.command("UCAROL", "deploy payments-api to staging").await);

    // bob is not in checkout; payments is frozen. Each click: a message only
    // bob sees, saying why; nothing decided, the cards left as they were.
    assert_eq!(w.click("UBOB", &production).await, StatusCode::OK);
    assert_eq!(w.click("UBOB", &frozen).await, StatusCode::OK);
    let refused = w.slack.wait_for("chat.postEphemeral", 2, 10).await;
    let texts: Vec<&str> = refused.iter().map(|c| c.body["text"].as_str().unwrap()).collect();
    // (Clicks are answered as they finish, in either order.)
    assert!(texts.iter().any(|t| t.contains("needs an approver from team checkout")), "{texts:?}");
    assert!(texts.iter().any(|t| t.contains("during the freeze \"payments freeze\"")), "{texts:?}");
    assert!(w.slack.wait_for("chat.update", 1, 0).await.is_empty());
    // carol (payments' editor) asks to deploy checkout's project.
    let answer = w.command("UCAROL", "deploy orders to staging").await;
    assert!(answer.to_string().contains("editors change only their own teams"), "{answer}");

    // erin (checkout) approves: production asks her, only her, to confirm.
    assert_eq!(w.click("UERIN", &production).await, StatusCode::OK);
    let asked = w.slack.wait_for("chat.postEphemeral", 3, 10).await;
    let confirm = &asked[2].body;
    assert!(confirm.to_string().contains("This goes to production: approve it?"), "{confirm}");
    let confirmed = production.replace("approve_run:", "approve_confirmed:");
    assert!(actions(&confirm["blocks"]).contains(&confirmed), "{confirm}");
    assert!(w.slack.wait_for("chat.update", 1, 0).await.is_empty(), "nothing decided yet");
    // Confirmed: her approval counts, and the channel reads the card, with
    // its buttons for the second approver.
    let posted = w.slack.calls().iter().filter(|c| c.path.contains("chat.postMessage")).count();
    assert_eq!(w.click_on("UERIN", &confirmed, true).await, StatusCode::OK);
    let sent = w.slack.wait_for("chat.postMessage", posted + 1, 10).await;
    let u = &sent[posted].body;
    assert!(u.to_string().contains("1 so far"), "{u}");
    assert!(actions(&u["blocks"]).contains(&production), "{u}");
}

/// At a stop the Socket Mode connection says goodbye (a Close frame) and is
/// not opened again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_mode_closes_cleanly_at_a_stop() {
    let w = world_with(|c| {
        c.slack.socket_mode = true;
        c.slack.app_token = Some("xapp-test-token".into());
    })
    .await;
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let task = switchboard_bot::slack::socket::spawn_until(w.state.clone(), stopping).expect("socket mode is on");
    // Connected: an envelope goes through and is acknowledged.
    let command =
        json!({"command": "/sb", "text": "help", "user_id": "U0DAVE", "channel_id": "C0PAY", "team_id": "T1"});
    assert!(w.slack.socket_send(json!({"envelope_id": "env-9", "type": "slash_commands", "payload": command})).await);
    assert!(w.slack.socket_ack("env-9", 10).await.is_some());
    assert_eq!(w.slack.closed_by_client(), 0);
    stop.send(true).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(5), task).await.expect("ended at the stop").unwrap();
    for _ in 0..100 {
        if w.slack.closed_by_client() == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(w.slack.closed_by_client(), 1, "a Close frame, not a dropped connection");
    assert_eq!(w.slack.socket_connections(), 1, "not opened again");
}
