//! Stateful fakes of the Slack Web API and Discord's REST API on loopback,
//! for tests and benchmarks: they record every call and answer the way the
//! platforms do, so Switchboard's Slack and Discord clients run unchanged against them.
//! Slack channels whose id starts with `CMISSING` do not exist.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{Method, Uri};
use axum::response::IntoResponse;
use axum::routing::{any, get, post};
use serde_json::{Value, json};
use tokio::sync::Notify;

/// One call a fake received.
#[derive(Clone, Debug)]
pub struct Call {
    pub method: String,
    pub path: String,
    pub body: Value,
}

#[derive(Default)]
struct Log {
    calls: Mutex<Vec<Call>>,
    arrived: Notify,
    /// Slack user id → email (`users.info`).
    emails: Mutex<HashMap<String, String>>,
    counter: Mutex<u64>,
    /// Calls still to fail with a 503, as an outage would.
    failures: Mutex<u32>,
    /// Calls still to answer 429, and the `Retry-After` (seconds) they give.
    limited: Mutex<(u32, u64)>,
    /// Slack: messages with blocks still to refuse as `invalid_blocks`.
    refused_blocks: Mutex<u32>,
    /// Waiting for a Slack message in the thread of this `ts`.
    threads: Mutex<HashMap<String, tokio::sync::oneshot::Sender<Call>>>,
    /// Socket Mode: the URL `apps.connections.open` gives, the open
    /// connection's outbox, connections so far, acknowledgements received.
    socket_url: Mutex<String>,
    socket: Mutex<Option<tokio::sync::mpsc::UnboundedSender<Value>>>,
    connections: Mutex<usize>,
    acks: Mutex<Vec<Value>>,
    /// Close frames a client sent (Slack's socket and Discord's gateway): it
    /// said goodbye instead of dropping the connection.
    closed: Mutex<usize>,
    /// Discord's gateway: what clients receive after READY, and IDENTIFYs seen.
    gateway: Mutex<Option<tokio::sync::mpsc::UnboundedSender<Value>>>,
    identified: Mutex<Vec<Value>>,
    /// Discord's gateway: RESUMEs seen.
    resumed: Mutex<Vec<Value>>,
}

impl Log {
    fn push(&self, call: Call) {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).push(call);
        self.arrived.notify_waiters();
    }

    /// True when this call should fail (an outage is on).
    fn failing(&self) -> bool {
        let mut f = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let fail = *f > 0;
        *f = f.saturating_sub(1);
        fail
    }

    /// `Retry-After` seconds when this call should be refused with 429.
    fn limiting(&self) -> Option<u64> {
        let mut l = self.limited.lock().unwrap_or_else(|e| e.into_inner());
        let limited = (l.0 > 0).then_some(l.1);
        l.0 = l.0.saturating_sub(1);
        limited
    }

    fn next(&self) -> u64 {
        let mut c = self.counter.lock().unwrap_or_else(|e| e.into_inner());
        *c += 1;
        *c
    }
}

/// A running fake; its calls so far, and a wait for more.
#[derive(Clone)]
pub struct Fake {
    pub url: String,
    log: Arc<Log>,
}

impl Fake {
    pub fn calls(&self) -> Vec<Call> {
        self.log.calls.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Waits (up to `secs`) until `n` calls whose path contains `path` have arrived.
    pub async fn wait_for(&self, path: &str, n: usize, secs: u64) -> Vec<Call> {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
        loop {
            let arrived = self.log.arrived.notified();
            let found: Vec<Call> = self.calls().into_iter().filter(|c| c.path.contains(path)).collect();
            if found.len() >= n || tokio::time::Instant::now() >= deadline {
                return found;
            }
            let _ = tokio::time::timeout_at(deadline, arrived).await;
        }
    }

    /// The next `n` calls fail with 503 Service Unavailable.
    pub fn fail_next(&self, n: u32) {
        *self.log.failures.lock().unwrap_or_else(|e| e.into_inner()) = n;
    }

    /// Slack: the next `n` messages that carry blocks are refused as
    /// `invalid_blocks` (Slack's answer to Block Kit it will not take).
    pub fn refuse_blocks_next(&self, n: u32) {
        *self.log.refused_blocks.lock().unwrap_or_else(|e| e.into_inner()) = n;
    }

    /// The next `n` calls answer 429 Too Many Requests with `Retry-After: secs`.
    pub fn rate_limit_next(&self, n: u32, secs: u64) {
        *self.log.limited.lock().unwrap_or_else(|e| e.into_inner()) = (n, secs);
    }

    /// Slack: the next message posted in the thread of `thread_ts` (for
    /// benchmarks: no scan of every call).
    pub fn reply_in(&self, thread_ts: &str) -> tokio::sync::oneshot::Receiver<Call> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.log.threads.lock().unwrap_or_else(|e| e.into_inner()).insert(thread_ts.to_owned(), tx);
        rx
    }

    /// Slack Socket Mode: sends `envelope` on the open connection, waiting
    /// up to 10 s for Switchboard to connect; false when it never did.
    pub async fn socket_send(&self, envelope: Value) -> bool {
        for _ in 0..200 {
            if let Some(tx) = self.log.socket.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
                return tx.send(envelope).is_ok();
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        false
    }

    /// Slack Socket Mode: the acknowledgement of `envelope_id`, waiting up to `secs`.
    pub async fn socket_ack(&self, envelope_id: &str, secs: u64) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
        loop {
            let arrived = self.log.arrived.notified();
            let found = {
                let acks = self.log.acks.lock().unwrap_or_else(|e| e.into_inner());
                acks.iter().find(|a| a["envelope_id"] == envelope_id).cloned()
            };
            if found.is_some() || tokio::time::Instant::now() >= deadline {
                return found;
            }
            let _ = tokio::time::timeout_at(deadline, arrived).await;
        }
    }

    /// Close frames clients sent on Slack's socket and Discord's gateway.
    pub fn closed_by_client(&self) -> usize {
        *self.log.closed.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Slack Socket Mode: connections opened so far.
    pub fn socket_connections(&self) -> usize {
        *self.log.connections.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Discord's gateway: dispatches event `name` with `data` to the
    /// connected (identified) client, waiting up to 10 s for one; false when none came.
    pub async fn gateway_dispatch(&self, name: &str, data: Value) -> bool {
        for _ in 0..200 {
            if let Some(tx) = self.log.gateway.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
                return tx.send(json!({"op": 0, "t": name, "d": data})).is_ok();
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        false
    }

    /// Discord's gateway: the IDENTIFY payloads received so far.
    pub fn identified(&self) -> Vec<Value> {
        self.log.identified.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Discord's gateway: the RESUME payloads received so far.
    pub fn resumed(&self) -> Vec<Value> {
        self.log.resumed.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Discord's gateway: asks the connected client to reconnect (op 7, as
    /// Discord does before moving a session); false when none is connected.
    pub fn gateway_reconnect(&self) -> bool {
        let tx = self.log.gateway.lock().unwrap_or_else(|e| e.into_inner()).take();
        tx.is_some_and(|tx| tx.send(json!({"op": 7, "d": null})).is_ok())
    }

    /// Slack: the email `users.info` gives for `user`.
    pub fn set_email(&self, user: &str, email: &str) {
        self.log.emails.lock().unwrap_or_else(|e| e.into_inner()).insert(user.into(), email.into());
    }

    async fn serve(app: Router) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { url, log: Arc::default() })
    }
}

/// The Slack Web API at `{url}/api/`.
pub async fn slack() -> std::io::Result<Fake> {
    let log: Arc<Log> = Arc::default();
    let sockets = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    *log.socket_url.lock().unwrap_or_else(|e| e.into_inner()) =
        format!("ws://{}/link/?ticket=fake", sockets.local_addr()?);
    tokio::spawn(slack_sockets(sockets, log.clone()));
    let app = Router::new()
        .route("/api/users.info", get(slack_users_info))
        .route("/api/apps.connections.open", post(slack_connections_open))
        .route("/api/{method}", post(slack_method))
        .fallback(|State(log): State<Arc<Log>>, method: Method, uri: Uri| async move {
            log.push(Call { method: method.to_string(), path: uri.to_string(), body: Value::Null });
            (axum::http::StatusCode::NOT_FOUND, "no such Slack method")
        })
        .with_state(log.clone());
    let mut fake = Fake::serve(app).await?;
    fake.log = log;
    Ok(fake)
}

/// Slack's answer to a call without the token `prefix` names (`xoxb-` a
/// bot, `xapp-` an app-level token), as Slack answers it; `None` when it has one.
fn slack_unauthed(headers: &axum::http::HeaderMap, prefix: &str) -> Option<axum::response::Response> {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let ok = auth.strip_prefix("Bearer ").is_some_and(|t| t.starts_with(prefix));
    (!ok).then(|| axum::Json(json!({"ok": false, "error": "not_authed"})).into_response())
}

async fn slack_method(
    State(log): State<Arc<Log>>,
    Path(method): Path<String>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    if let Some(refused) = slack_unauthed(&headers, "xoxb-") {
        return refused;
    }
    // Slack reads a JSON body only when it says it is JSON.
    let json_body =
        headers.get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("application/json"));
    let body: Value = if json_body { serde_json::from_slice(&body).unwrap_or(Value::Null) } else { Value::Null };
    let channel = body["channel"].clone();
    let ts = body["ts"].as_str().map(str::to_owned).unwrap_or_else(|| format!("1700000000.{:06}", log.next()));
    let call = Call { method: "POST".into(), path: format!("/api/{method}"), body: body.clone() };
    if let Some(thread) = body["thread_ts"].as_str()
        && let Some(waiter) = log.threads.lock().unwrap_or_else(|e| e.into_inner()).remove(thread)
    {
        let _ = waiter.send(call.clone());
    }
    log.push(call);
    if log.failing() {
        return (axum::http::StatusCode::SERVICE_UNAVAILABLE, axum::Json(json!({"ok": false}))).into_response();
    }
    if let Some(secs) = log.limiting() {
        let limited = axum::Json(json!({"ok": false, "error": "ratelimited"}));
        return (axum::http::StatusCode::TOO_MANY_REQUESTS, [("retry-after", secs.to_string())], limited)
            .into_response();
    }
    if body["blocks"].is_array() {
        let mut refused = log.refused_blocks.lock().unwrap_or_else(|e| e.into_inner());
        if *refused > 0 {
            *refused -= 1;
            return axum::Json(json!({"ok": false, "error": "invalid_blocks"})).into_response();
        }
    }
    let message = json!({"ts": ts, "text": body["text"], "type": "message"});
    let missing = channel.as_str().is_some_and(|c| c.starts_with("CMISSING"));
    axum::Json(match method.as_str() {
        "chat.postMessage" if missing => json!({"ok": false, "error": "channel_not_found"}),
        "chat.postMessage" => json!({"ok": true, "channel": channel, "ts": ts, "message": message}),
        "chat.update" => json!({"ok": true, "channel": channel, "ts": ts, "message": {"text": body["text"]}}),
        "chat.postEphemeral" => json!({"ok": true, "message_ts": ts}),
        "views.open" => {
            let mut view = body["view"].clone();
            view["id"] = json!(format!("V{}", log.next()));
            view["team_id"] = json!("T0FAKE");
            view["hash"] = json!("1.fake");
            view["state"] = json!({"values": {}});
            json!({"ok": true, "view": view})
        }
        _ => json!({"ok": false, "error": "unknown_method"}),
    })
    .into_response()
}

async fn slack_connections_open(
    State(log): State<Arc<Log>>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    if let Some(refused) = slack_unauthed(&headers, "xapp-") {
        return refused;
    }
    log.push(Call { method: "POST".into(), path: "/api/apps.connections.open".into(), body: Value::Null });
    let url = log.socket_url.lock().unwrap_or_else(|e| e.into_inner()).clone();
    axum::Json(json!({"ok": true, "url": url})).into_response()
}

/// Socket Mode connections, one at a time: `hello`, then the envelopes the
/// test sends; acknowledgements are recorded.
async fn slack_sockets(listener: tokio::net::TcpListener, log: Arc<Log>) {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    while let Ok((stream, _)) = listener.accept().await {
        let Ok(mut socket) = tokio_tungstenite::accept_async(stream).await else { continue };
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Value>();
        *log.connections.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        let hello = json!({"type": "hello", "num_connections": 1, "debug_info": {"host": "fake"}});
        if socket.send(Message::text(hello.to_string())).await.is_err() {
            continue;
        }
        *log.socket.lock().unwrap_or_else(|e| e.into_inner()) = Some(tx);
        loop {
            tokio::select! {
                out = rx.recv() => {
                    let Some(envelope) = out else { break };
                    let disconnect = envelope["type"] == "disconnect";
                    if socket.send(Message::text(envelope.to_string())).await.is_err() || disconnect {
                        break;
                    }
                }
                incoming = socket.next() => match incoming {
                    Some(Ok(Message::Text(t))) => {
                        if let Ok(ack) = serde_json::from_str::<Value>(t.as_str()) {
                            log.acks.lock().unwrap_or_else(|e| e.into_inner()).push(ack);
                            log.arrived.notify_waiters();
                        }
                    }
                    Some(Ok(Message::Close(_))) => {
                        *log.closed.lock().unwrap_or_else(|e| e.into_inner()) += 1;
                        break;
                    }
                    Some(Ok(_)) => {}
                    _ => break,
                },
            }
        }
        *log.socket.lock().unwrap_or_else(|e| e.into_inner()) = None;
        let _ = socket.close(None).await;
    }
}

async fn slack_users_info(
    State(log): State<Arc<Log>>,
    headers: axum::http::HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> axum::response::Response {
    if let Some(refused) = slack_unauthed(&headers, "xoxb-") {
        return refused;
    }
    let user = q.get("user").cloned().unwrap_or_default();
    log.push(Call { method: "GET".into(), path: "/api/users.info".into(), body: json!({"user": user}) });
    let email = log.emails.lock().unwrap_or_else(|e| e.into_inner()).get(&user).cloned();
    axum::Json(match email {
        Some(e) => json!({"ok": true, "user": {"id": user, "profile": {"email": e}}}),
        None => json!({"ok": true, "user": {"id": user, "profile": {}}}),
    })
    .into_response()
}

/// Discord's REST API (`discord.api_proxy` points at `url`) and its gateway.
pub async fn discord() -> std::io::Result<Fake> {
    let log: Arc<Log> = Arc::default();
    let gateway = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    *log.socket_url.lock().unwrap_or_else(|e| e.into_inner()) = format!("ws://{}", gateway.local_addr()?);
    tokio::spawn(discord_gateway(gateway, log.clone()));
    let app = Router::new().route("/{*path}", any(discord_call)).with_state(log.clone());
    let mut fake = Fake::serve(app).await?;
    fake.log = log;
    Ok(fake)
}

async fn discord_call(State(log): State<Arc<Log>>, method: Method, uri: Uri, body: Bytes) -> axum::response::Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let path = uri.path().to_owned();
    log.push(Call { method: method.to_string(), path: path.clone(), body: body.clone() });
    if log.failing() {
        let outage = json!({"message": "Service Unavailable", "code": 0});
        return (axum::http::StatusCode::SERVICE_UNAVAILABLE, axum::Json(outage)).into_response();
    }
    let id = (1_100_000_000_000_000_000u64 + log.next()).to_string();
    if path.ends_with("/gateway") || path.ends_with("/gateway/bot") {
        let url = log.socket_url.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let limit = json!({"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1});
        return axum::Json(json!({"url": url, "shards": 1, "session_start_limit": limit})).into_response();
    }
    if path.ends_with("/users/@me") {
        return axum::Json(discord_bot_user()).into_response();
    }
    if path.ends_with("/commands") {
        let commands: Vec<Value> = body
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                let mut c = c.clone();
                c["id"] = json!(id);
                c["application_id"] = json!("1");
                c["version"] = json!(id);
                c["default_member_permissions"] = Value::Null;
                c
            })
            .collect();
        return axum::Json(Value::Array(commands)).into_response();
    }
    let channel = path.split('/').skip_while(|p| *p != "channels").nth(1).unwrap_or("1").to_owned();
    axum::Json(json!({
        "id": id, "channel_id": channel, "type": 0, "content": body["content"].as_str().unwrap_or_default(),
        "author": {"id": "1", "username": "switchboard", "discriminator": "0", "avatar": null, "bot": true},
        "timestamp": "2026-11-22T00:00:00.000000+00:00", "edited_timestamp": null, "tts": false,
        "mention_everyone": false, "mentions": [], "mention_roles": [], "attachments": [],
        "embeds": or_empty(&body["embeds"]), "components": or_empty(&body["components"]), "pinned": false, "flags": 0,
        "message_reference": match body["message_reference"]["message_id"].as_str() {
            Some(m) => json!({"message_id": m, "channel_id": channel}),
            None => Value::Null,
        },
    }))
    .into_response()
}

/// The fake application's bot user.
pub const DISCORD_BOT_ID: &str = "1000000000000000001";

fn discord_bot_user() -> Value {
    json!({"id": DISCORD_BOT_ID, "username": "switchboard", "discriminator": "0", "global_name": null,
           "avatar": null, "bot": true, "verified": true, "mfa_enabled": false, "flags": 0})
}

/// Discord's gateway, one session at a time: HELLO; READY after IDENTIFY;
/// heartbeats acknowledged; then the dispatches the test sends.
async fn discord_gateway(listener: tokio::net::TcpListener, log: Arc<Log>) {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    while let Ok((stream, _)) = listener.accept().await {
        let Ok(mut socket) = tokio_tungstenite::accept_async(stream).await else { continue };
        let hello = json!({"op": 10, "d": {"heartbeat_interval": 41250}, "s": null, "t": null});
        if socket.send(Message::text(hello.to_string())).await.is_err() {
            continue;
        }
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Value>();
        let mut seq = 0u64;
        loop {
            tokio::select! {
                out = rx.recv() => {
                    let Some(mut event) = out else { break };
                    if event["op"] == 0 {
                        seq += 1;
                        event["s"] = json!(seq);
                    }
                    if socket.send(Message::text(event.to_string())).await.is_err() {
                        break;
                    }
                }
                incoming = socket.next() => {
                    let frame = match incoming {
                        Some(Ok(Message::Text(t))) => serde_json::from_str::<Value>(t.as_str()).unwrap_or(Value::Null),
                        Some(Ok(Message::Close(_))) => {
                            *log.closed.lock().unwrap_or_else(|e| e.into_inner()) += 1;
                            break;
                        }
                        Some(Ok(_)) => continue,
                        _ => break,
                    };
                    match frame["op"].as_u64() {
                        Some(1) => {
                            let ack = json!({"op": 11, "d": null, "s": null, "t": null});
                            if socket.send(Message::text(ack.to_string())).await.is_err() {
                                break;
                            }
                        }
                        Some(2) => {
                            log.identified.lock().unwrap_or_else(|e| e.into_inner()).push(frame["d"].clone());
                            seq += 1;
                            let url = log.socket_url.lock().unwrap_or_else(|e| e.into_inner()).clone();
                            let ready = json!({"op": 0, "t": "READY", "s": seq, "d": {
                                "v": 10, "user": discord_bot_user(), "guilds": [], "session_id": "fake-session",
                                "resume_gateway_url": url, "shard": [0, 1], "application": {"id": "1", "flags": 0},
                            }});
                            if socket.send(Message::text(ready.to_string())).await.is_err() {
                                break;
                            }
                            *log.gateway.lock().unwrap_or_else(|e| e.into_inner()) = Some(tx.clone());
                        }
                        Some(6) => {
                            log.resumed.lock().unwrap_or_else(|e| e.into_inner()).push(frame["d"].clone());
                            seq = frame["d"]["seq"].as_u64().unwrap_or(seq) + 1;
                            let resumed = json!({"op": 0, "t": "RESUMED", "s": seq, "d": null});
                            if socket.send(Message::text(resumed.to_string())).await.is_err() {
                                break;
                            }
                            *log.gateway.lock().unwrap_or_else(|e| e.into_inner()) = Some(tx.clone());
                        }
                        _ => {}
                    }
                }
            }
        }
        // Only this connection's sender: a client that already reconnected keeps its own.
        let mut current = log.gateway.lock().unwrap_or_else(|e| e.into_inner());
        if current.as_ref().is_some_and(|c| c.same_channel(&tx)) {
            *current = None;
        }
    }
}

fn or_empty(v: &Value) -> Value {
    if v.is_array() { v.clone() } else { json!([]) }
}
