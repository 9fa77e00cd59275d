//! Discord over HTTP interactions against a stateful fake of the REST API:
//! the published payloads, signed with a key generated for the test, through
//! the real router; deferred answers, command registration and the
//! gateway session as Switchboard's Discord client sends them.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use ed25519_dalek::{Signer, SigningKey};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use switchboard_bot::chat::ChatState;
use switchboard_bot::discord::api::DiscordApi;
use switchboard_core::config::Config;
use switchboard_core::model::{ChatPlatform, Role};
use switchboard_core::{Caller, Service};
use switchboard_testkit::chat as fakes;
use tower::ServiceExt;

mod common;

struct World {
    service: Service,
    state: ChatState,
    key: SigningKey,
    discord: fakes::Fake,
    world: switchboard_testkit::World,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn fixture(name: &str) -> Value {
    serde_json::from_slice(
        &std::fs::read(format!("{}/tests/fixtures/discord/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap(),
    )
    .unwrap()
}

async fn world() -> World {
    world_with(|_| {}).await
}

async fn world_with(edit: impl FnOnce(&mut Config)) -> World {
    let discord = fakes::discord().await.unwrap();
    // A key made for this test: Discord publishes no fixed vector.
    let key = SigningKey::from_bytes(&[7u8; 32]);
    let mut config = Config::default();
    config.discord.public_key = Some(hex(key.verifying_key().as_bytes()));
    config.discord.bot_token = Some("discord-test-token".into());
    config.discord.application_id = Some(1);
    config.discord.api_proxy = Some(discord.url.clone());
    edit(&mut config);
    let s = common::seeded(config, true).await;
    s.deliver();
    World { service: s.service, state: s.state, key, discord, world: s.world }
}

impl World {
    async fn send(&self, body: Vec<u8>, signature: Option<String>) -> (StatusCode, Value) {
        self.send_at(body, signature, self.service.now() / 1000).await
    }

    async fn send_at(&self, body: Vec<u8>, signature: Option<String>, at: i64) -> (StatusCode, Value) {
        let ts = at.to_string();
        let mut req = Request::post("/discord/interactions").header("content-type", "application/json");
        if let Some(sig) = signature {
            req = req.header("x-signature-ed25519", sig).header("x-signature-timestamp", &ts);
        }
        let resp = switchboard_bot::discord::router(self.state.clone())
            .oneshot(req.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    fn sign(&self, body: &[u8]) -> String {
        self.sign_at(body, self.service.now() / 1000)
    }

    fn sign_at(&self, body: &[u8], at: i64) -> String {
        let ts = at.to_string();
        let mut message = ts.into_bytes();
        message.extend_from_slice(body);
        hex(&self.key.sign(&message).to_bytes())
    }

    /// Sends an interaction as Discord does: each with an id of its own.
    async fn interact(&self, interaction: &Value) -> Value {
        let mut interaction = interaction.clone();
        interaction["id"] = json!(uuid::Uuid::new_v4().as_u128().to_string());
        let body = serde_json::to_vec(&interaction).unwrap();
        let (status, answer) = self.send(body.clone(), Some(self.sign(&body))).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        answer
    }

    /// `/sb <sub> [options]` from Discord user `user`.
    async fn command(&self, user: &str, sub: &str, options: &[(&str, &str)]) -> Value {
        let mut i = fixture("application_command.json");
        i["member"]["user"]["id"] = json!(user);
        let options: Vec<Value> = options.iter().map(|(n, v)| json!({"type": 3, "name": n, "value": v})).collect();
        i["data"] =
            json!({"type": 1, "name": "sb", "id": "1", "options": [{"type": 1, "name": sub, "options": options}]});
        self.interact(&i).await
    }

    async fn click(&self, user: &str, action: &str) -> Value {
        let mut i = fixture("message_component.json");
        i["member"]["user"]["id"] = json!(user);
        i["data"]["custom_id"] = json!(action);
        self.interact(&i).await
    }
}

fn custom_ids(message: &Value) -> Vec<String> {
    message["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
        .filter_map(|c| c["custom_id"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_is_answered_and_unsigned_requests_refused() {
    let w = world().await;
    let ping = serde_json::to_vec(&fixture("ping.json")).unwrap();
    let (status, answer) = w.send(ping.clone(), Some(w.sign(&ping))).await;
    assert_eq!((status, answer), (StatusCode::OK, json!({"type": 1})));

    // Discord's routine checks send invalid signatures: every one is a 401.
    let mut flipped = w.sign(&ping);
    flipped.replace_range(0..2, if flipped.starts_with("00") { "01" } else { "00" });
    let other_key = hex(&SigningKey::from_bytes(&[9u8; 32]).sign(b"1700000000{}").to_bytes());
    for (why, sig) in [
        ("no headers", None),
        ("flipped", Some(flipped)),
        ("other key", Some(other_key)),
        ("not hex", Some("zz".into())),
    ] {
        let (status, answer) = w.send(ping.clone(), sig).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{why}: {answer}");
    }
    // A signature over a different body does not carry over.
    let sig = w.sign(&ping);
    let command = serde_json::to_vec(&fixture("application_command.json")).unwrap();
    assert_eq!(w.send(command, Some(sig)).await.0, StatusCode::UNAUTHORIZED);
    assert!(w.discord.calls().is_empty(), "{:?}", w.discord.calls());
}

/// A signed `/sb deploy` captured and sent again: refused when its timestamp
/// is outside the five-minute window, and refused as a replay inside it, so
/// one request makes one pending run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_and_replayed_interactions_are_refused() {
    let w = world_with(|c| c.chat.unknown_role = Role::Editor).await;
    let mut i = fixture("application_command.json");
    i["member"]["user"]["id"] = json!("4100");
    i["data"] = json!({"type": 1, "name": "sb", "id": "1", "options": [{"type": 1, "name": "deploy",
        "options": [{"type": 3, "name": "project", "value": "orders"}, {"type": 3, "name": "environment", "value": "staging"}]}]});
    let body = serde_json::to_vec(&i).unwrap();
    let now = w.service.now() / 1000;
    for (why, at) in [("six minutes old", now - 360), ("six minutes ahead", now + 360)] {
        let (status, answer) = w.send_at(body.clone(), Some(w.sign_at(&body, at)), at).await;
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("stale_signature")),
            "{why}"
        );
    }
    let (status, answer) = w.send_at(body.clone(), Some(w.sign_at(&body, now - 5)), now - 5).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    for _ in 0..2 {
        let (status, answer) = w.send_at(body.clone(), Some(w.sign_at(&body, now - 5)), now - 5).await;
        assert_eq!((status, answer["error"]["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("replayed")));
    }
    let runs = w.service.graph().list_runs(None, 10).await.unwrap();
    assert_eq!(runs.len(), 1, "one signed request, one run: {runs:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_are_answered_with_embeds() {
    let w = world().await;
    let answer = w.command("4001", "ask", &[("text", "who owns payments-api?")]).await;
    assert_eq!(answer["type"], 4, "{answer}");
    let embed = &answer["data"]["embeds"][0];
    assert!(embed["description"].as_str().unwrap().contains("payments-api is owned by Payments"), "{answer}");
    assert_eq!(answer["data"]["allowed_mentions"], json!({"parse": []}), "answers never ping anyone");

    let shown = w.command("4001", "project", &[("name", "payments-api")]).await;
    assert!(shown["data"]["embeds"][0]["fields"].as_array().is_some_and(|f| !f.is_empty()), "{shown}");
    let portal = shown["data"]["components"].to_string();
    assert!(portal.contains("/projects/payments-api"), "a link button to the portal: {shown}");

    // The published fixture is another application's command: a clear answer only the sender sees.
    let other = w.interact(&fixture("application_command.json")).await;
    assert_eq!(other["data"]["flags"], 64, "{other}");
    assert!(other["data"]["embeds"][0]["description"].as_str().unwrap().contains("register-commands"), "{other}");
    // A missing option is named.
    let missing = w.command("4001", "deploy", &[("project", "payments-api")]).await;
    assert!(missing["data"]["embeds"][0]["description"].as_str().unwrap().contains("environment"), "{missing}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_buttons_decided_by_the_linked_role() {
    let w = world().await;
    // Discord user 5001 links to bob (approver) through a code confirmed in the portal.
    let link = w.command("5001", "link", &[]).await;
    assert_eq!(link["data"]["flags"], 64, "the code is for its owner only: {link}");
    let text = link["data"]["embeds"][0]["description"].as_str().unwrap();
    let code = text.split("code is ").nth(1).unwrap().split('.').next().unwrap();
    w.service.redeem_link_code(&Caller::new("bob", Role::Approver, "portal"), code).await.unwrap();
    assert_eq!(w.service.chat_caller(ChatPlatform::Discord, "5001", None).await.unwrap().user.as_str(), "bob");

    let link = w.command("5002", "link", &[]).await;
    let text = link["data"]["embeds"][0]["description"].as_str().unwrap();
    let code = text.split("code is ").nth(1).unwrap().split('.').next().unwrap();
    w.service.redeem_link_code(&Caller::new("carol", Role::Editor, "portal"), code).await.unwrap();

    // An unknown person (a viewer) asks for a deployment: refused, nothing pending.
    let refused = w.command("6001", "deploy", &[("project", "payments-api"), ("environment", "staging")]).await;
    assert!(custom_ids(&refused["data"]).is_empty(), "{refused}");

    // carol (editor) requests it: a pending run with Approve / Deny.
    let asked = w.command("5002", "deploy", &[("project", "payments-api"), ("environment", "staging")]).await;
    assert_eq!(asked["type"], 4);
    let ids = custom_ids(&asked["data"]);
    let approve = ids.iter().find(|a| a.starts_with("approve_run:")).unwrap_or_else(|| panic!("{asked}")).clone();
    let run = approve.trim_start_matches("approve_run:").to_owned();
    let status = || async {
        let admin = Caller::new("ada", Role::Admin, "t");
        let out = w.service.execute_json(&admin, "get_run", json!({"run": run})).await.unwrap().to_json();
        out["status"].as_str().unwrap().to_owned()
    };

    // The viewer clicks Approve: a message only they see, nothing decided.
    let denied = w.click("6001", &approve).await;
    assert_eq!((denied["type"].as_u64(), denied["data"]["flags"].as_u64()), (Some(4), Some(64)), "{denied}");
    assert!(denied["data"]["embeds"][0]["description"].as_str().unwrap().contains("approver"), "{denied}");
    assert_eq!(status().await, "pending");

    // bob approves: the message is replaced, its buttons gone.
    let decided = w.click("5001", &approve).await;
    assert_eq!(decided["type"], 7, "{decided}");
    assert!(decided["data"]["embeds"][0]["description"].as_str().unwrap().contains("approved"), "{decided}");
    assert!(custom_ids(&decided["data"]).is_empty(), "{decided}");
    assert_eq!(status().await, "blocked", "approved, and no process here runs deploys");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_register_and_messages_post_through_the_rest_api() {
    let w = world().await;
    let api = DiscordApi::from_config(&w.service.config().discord).unwrap();
    let n = api.register(&switchboard_bot::discord::commands::definitions()).await.unwrap();
    assert_eq!(n, 1);
    let put = w.discord.wait_for("/applications/1/commands", 1, 5).await;
    assert_eq!(put.len(), 1);
    assert_eq!(put[0].method, "PUT");
    let subs: Vec<&str> =
        put[0].body[0]["options"].as_array().unwrap().iter().map(|o| o["name"].as_str().unwrap()).collect();
    assert_eq!(subs, ["ask", "project", "deploy", "link", "help"]);

    api.post(345626669114982402, &json!({"content": "hello"})).await.unwrap();
    let posted = w.discord.wait_for("/channels/345626669114982402/messages", 1, 5).await;
    assert_eq!((posted.len(), posted[0].method.as_str()), (1, "POST"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_to_discord_are_traced() {
    let spans = common::capture_spans();
    let w = world().await;
    let api = DiscordApi::from_config(&w.service.config().discord).unwrap();
    api.post(345626669114982402, &json!({"content": "hello"})).await.unwrap();
    let traced = spans.named("discord");
    assert_eq!(traced.len(), 1, "{traced:?}");
    assert!(traced[0].1.contains("create message"), "{traced:?}");
    assert_eq!(traced[0].0.kind, 3, "a client span");
}

fn message_create(
    id: u64,
    channel: &str,
    guild: bool,
    author: (&str, bool),
    content: &str,
    mentions_bot: bool,
) -> Value {
    let user = |id: &str, bot: bool| json!({"id": id, "username": format!("user{id}"), "discriminator": "0", "global_name": null, "avatar": null, "bot": bot});
    let mut m = json!({
        "id": id.to_string(), "channel_id": channel, "author": user(author.0, author.1), "content": content,
        "timestamp": "2026-11-26T05:00:00.000000+00:00", "edited_timestamp": null, "tts": false,
        "mention_everyone": false, "mentions": if mentions_bot { vec![user(fakes::DISCORD_BOT_ID, true)] } else { vec![] },
        "mention_roles": [], "attachments": [], "embeds": [], "pinned": false, "type": 0, "flags": 0,
    });
    if guild {
        m["guild_id"] = json!("290926798626357999");
    }
    m
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_answers_mentions_and_direct_messages() {
    let w = world_with(|c| c.discord.gateway = true).await;
    let task = switchboard_bot::discord::gateway::spawn(w.state.clone()).expect("gateway is on");
    let mention = format!("<@{}> who owns payments-api?", fakes::DISCORD_BOT_ID);
    assert!(
        w.discord
            .gateway_dispatch(
                "MESSAGE_CREATE",
                message_create(7001, "345626669114982402", true, ("4001", false), &mention, true)
            )
            .await
    );
    let sent = w.discord.wait_for("/channels/345626669114982402/messages", 1, 10).await;
    assert_eq!(sent.len(), 1, "{:?}", w.discord.calls());
    let m = &sent[0].body;
    assert_eq!(m["message_reference"]["message_id"], "7001", "a reply to the mention: {m}");
    assert!(m["embeds"][0]["description"].as_str().unwrap().contains("payments-api is owned by Payments"), "{m}");
    // GUILD_MESSAGES and DIRECT_MESSAGES only: no privileged intent.
    let identify = w.discord.identified();
    assert_eq!(identify[0]["intents"], (1 << 9) | (1 << 12), "{identify:?}");

    // Not mentioned, or written by a bot: no answer. A direct message: answered.
    let quiet = message_create(7002, "345626669114982402", true, ("4001", false), "who owns payments-api?", false);
    assert!(w.discord.gateway_dispatch("MESSAGE_CREATE", quiet).await);
    let bot = message_create(7003, "345626669114982402", true, ("999", true), &mention, true);
    assert!(w.discord.gateway_dispatch("MESSAGE_CREATE", bot).await);
    let dm = message_create(7004, "555000000000000001", false, ("4001", false), "link", false);
    assert!(w.discord.gateway_dispatch("MESSAGE_CREATE", dm).await);
    let sent = w.discord.wait_for("/channels/555000000000000001/messages", 1, 10).await;
    assert_eq!(sent.len(), 1, "{:?}", w.discord.calls());
    assert!(
        sent[0].body["embeds"][0]["description"].as_str().unwrap().contains("code is"),
        "a link code, in private: {}",
        sent[0].body
    );
    w.world.settle().await;
    assert_eq!(
        w.discord.wait_for("/channels/345626669114982402/messages", 2, 0).await.len(),
        1,
        "the others were not answered"
    );
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_answer_is_deferred_then_edited_in() {
    use switchboard_testkit::llm::{FakeLlm, Step};
    let answer = "payments-api is owned by the Payments team.";
    let llm = FakeLlm::start(vec![Step::Slow { ms: 3000, text: answer.into() }]).await.unwrap();
    let w = world_with(|c| {
        c.llm.base_url = Some(llm.url.clone());
        c.llm.model = "fake".into();
    })
    .await;
    // A question naming nothing the graph knows: the model's words are the answer.
    let deferred = w.command("4001", "ask", &[("text", "how should we run our incident reviews?")]).await;
    assert_eq!(deferred["type"], 5, "Discord is told to wait: {deferred}");
    let edits = w.discord.wait_for("/messages/@original", 1, 15).await;
    assert_eq!(edits.len(), 1, "{:?}", w.discord.calls());
    assert_eq!(edits[0].method, "PATCH");
    assert!(edits[0].path.contains("/webhooks/1/A_UNIQUE_TOKEN/"), "the interaction's own token: {}", edits[0].path);
    assert!(edits[0].body["embeds"][0]["description"].as_str().unwrap().contains(answer), "{}", edits[0].body);
}

/// Links Discord user `id` to `user`, as `/sb link` and the portal do.
async fn linked(w: &World, id: &str, user: &str, role: Role) {
    let link = w.command(id, "link", &[]).await;
    let text = link["data"]["embeds"][0]["description"].as_str().unwrap();
    let code = text.split("code is ").nth(1).unwrap().split('.').next().unwrap();
    w.service.redeem_link_code(&Caller::new(user, role, "portal"), code).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_rules_refuse_buttons_and_commands_with_their_reason() {
    // The policy of tests/fixtures/approval-rules.toml on the demo organisation:
    // payments (alice, bob, carol), checkout (dave, erin, frank).
    let w = world_with(|c| {
        let rules = include_str!("../../tests/fixtures/approval-rules.toml");
        c.policy = Config::parse(rules, "approval-rules.toml", &[]).unwrap().policy;
    })
    .await;
    for (id, user, role) in
        [("5001", "bob", Role::Approver), ("5002", "carol", Role::Editor), ("5003", "erin", Role::Approver)]
    {
        linked(&w, id, user, role).await;
    }
    linked(&w, "5004", "frank", Role::Editor).await;
    let approve_of = |asked: &Value| {
        let ids = custom_ids(&asked["data"]);
        ids.into_iter().find(|a| a.starts_with("approve_run:")).unwrap_or_else(|| panic!("{asked}"))
    };
    let production =
        approve_of(&w.command("5004", "deploy", &[("project", "orders"), ("environment", "production")]).await);
    let frozen =
        approve_of(&w.command("5002", "deploy", &[("project", "payments-api"), ("environment", "staging")]).await);

    // bob is not in checkout; payments is frozen: a message only he sees.
    for (action, said) in [(&production, "needs an approver from team checkout"), (&frozen, "payments freeze")] {
        let refused = w.click("5001", action).await;
        assert_eq!((refused["type"].as_u64(), refused["data"]["flags"].as_u64()), (Some(4), Some(64)), "{refused}");
        assert!(refused.to_string().contains(said), "{refused}");
    }
    // carol (payments' editor) asks to deploy checkout's project.
    let asked = w.command("5002", "deploy", &[("project", "orders"), ("environment", "staging")]).await;
    assert!(asked.to_string().contains("editors change only their own teams"), "{asked}");

    // erin (checkout) approves: production asks her, only her, to confirm first.
    let asked = w.click("5003", &production).await;
    assert_eq!((asked["type"].as_u64(), asked["data"]["flags"].as_u64()), (Some(4), Some(64)), "{asked}");
    assert!(asked.to_string().contains("This goes to production: approve it?"), "{asked}");
    let confirmed = production.replace("approve_run:", "approve_confirmed:");
    assert!(custom_ids(&asked["data"]).contains(&confirmed), "{asked}");
    // Confirmed: the message is updated and keeps its buttons for the second approver.
    let approved = w.click("5003", &confirmed).await;
    assert_eq!(approved["type"], 7, "{approved}");
    assert!(approved.to_string().contains("1 so far"), "{approved}");
    assert!(custom_ids(&approved["data"]).contains(&production), "{approved}");
}

/// Discord asks a session to reconnect (op 7): the client opens a new
/// connection and RESUMEs the session with the last sequence number it saw,
/// instead of identifying again, and answers what comes after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_resumes_its_session_when_discord_asks_to_reconnect() {
    let w = world_with(|c| c.discord.gateway = true).await;
    let task = switchboard_bot::discord::gateway::spawn(w.state.clone()).expect("gateway is on");
    let mention = format!("<@{}> help", fakes::DISCORD_BOT_ID);
    let first = message_create(7201, "345626669114982402", true, ("4001", false), &mention, true);
    assert!(w.discord.gateway_dispatch("MESSAGE_CREATE", first).await);
    assert_eq!(w.discord.wait_for("/channels/345626669114982402/messages", 1, 10).await.len(), 1);

    assert!(w.discord.gateway_reconnect(), "a session was connected");
    let later = message_create(7202, "345626669114982402", true, ("4001", false), &mention, true);
    assert!(w.discord.gateway_dispatch("MESSAGE_CREATE", later).await, "a new connection came");
    assert_eq!(w.discord.wait_for("/channels/345626669114982402/messages", 2, 10).await.len(), 2);
    let resumed = w.discord.resumed();
    assert_eq!(resumed.len(), 1, "{resumed:?}");
    // READY was event 1 and the first message event 2.
    assert_eq!((resumed[0]["session_id"].as_str(), resumed[0]["seq"].as_u64()), (Some("fake-session"), Some(2)));
    assert_eq!(resumed[0]["token"], "discord-test-token");
    assert_eq!(w.discord.identified().len(), 1, "resumed, not identified again");
    task.abort();
}

/// At a stop the gateway session is shut down: its connection closed with a
/// Close frame, and not started again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_closes_cleanly_at_a_stop() {
    let w = world_with(|c| c.discord.gateway = true).await;
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let task = switchboard_bot::discord::gateway::spawn_until(w.state.clone(), stopping).expect("gateway is on");
    // Identified: a mention is answered.
    let mention = format!("<@{}> help", fakes::DISCORD_BOT_ID);
    let created = message_create(7101, "345626669114982402", true, ("4001", false), &mention, true);
    assert!(w.discord.gateway_dispatch("MESSAGE_CREATE", created).await);
    assert_eq!(w.discord.wait_for("/channels/345626669114982402/messages", 1, 10).await.len(), 1);
    stop.send(true).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(10), task).await.expect("ended at the stop").unwrap();
    for _ in 0..100 {
        if w.discord.closed_by_client() == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(w.discord.closed_by_client(), 1, "a Close frame, not a dropped connection");
}
