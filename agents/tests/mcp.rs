//! The MCP server through rmcp's own client over streamable HTTP: tools
//! filtered by the token's role, reads, automations as pending runs,
//! refusals, and every call in the event log.

use std::sync::Arc;

use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::{Value, json};
use switchboard_core::config::Config;
use switchboard_core::event::{EventKind, EventQuery};
use switchboard_core::model::Role;
use switchboard_core::{Caller, Service};
use switchboard_testkit::World;

struct Server {
    url: String,
    service: Service,
    kit: Arc<World>,
}

impl Server {
    /// A second replica: `/mcp` of another process on the same store.
    async fn replica(&self) -> Server {
        let service = self.kit.replica();
        let url = listen(switchboard_agents::mcp::router(service.clone(), vec![])).await;
        Server { url, service, kit: self.kit.clone() }
    }
}

async fn listen(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://127.0.0.1:{}/mcp", listener.local_addr().unwrap().port());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

async fn server() -> Server {
    server_with(Config::default()).await
}

async fn server_with(config: Config) -> Server {
    // The test's HTTP clients (reqwest, rmcp's) need the TLS provider the binary installs.
    switchboard_agents::install_tls_provider();
    let kit = World::builder().config(config.clone()).demo(12, 1).system_clock().build().await;
    let service = kit.service.clone();
    let url = listen(switchboard_agents::mcp::router(service.clone(), vec![])).await;
    Server { url, service, kit: Arc::new(kit) }
}

async fn token(s: &Server, user: &str) -> String {
    let admin = Caller::new("cli", Role::Admin, "cli");
    s.service.create_token(&admin, &user.parse().unwrap(), None, None).await.unwrap().secret
}

async fn client(s: &Server, secret: &str) -> rmcp::service::RunningService<rmcp::RoleClient, ()> {
    let config = StreamableHttpClientTransportConfig::with_uri(s.url.clone()).auth_header(secret.to_owned());
    ().serve(StreamableHttpClientTransport::from_config(config)).await.expect("client connects")
}

fn call(name: &str, args: Value) -> CallToolRequestParams {
    let mut p = CallToolRequestParams::new(name.to_owned());
    p.arguments = args.as_object().cloned();
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tools_follow_the_tokens_role() {
    let s = server().await;
    let viewer = client(&s, &token(&s, "dave").await).await;
    let admin = client(&s, &token(&s, "alice").await).await;
    let names = |tools: Vec<rmcp::model::Tool>| tools.into_iter().map(|t| t.name.to_string()).collect::<Vec<_>>();
    let seen_by_viewer = names(viewer.list_all_tools().await.unwrap());
    let seen_by_admin = names(admin.list_all_tools().await.unwrap());
    assert_eq!(seen_by_admin.len(), switchboard_core::ops::OpKind::ALL.len());
    assert!(seen_by_viewer.contains(&"get_project".to_owned()) && seen_by_viewer.contains(&"dependents".to_owned()));
    assert!(!seen_by_viewer.contains(&"set_fact".to_owned()) && !seen_by_viewer.contains(&"deploy".to_owned()));
    let tools = admin.list_all_tools().await.unwrap();
    let deploy = tools.iter().find(|t| t.name == "deploy").unwrap();
    assert!(deploy.description.as_deref().unwrap().ends_with("creates a pending run a person must approve."));
    assert_eq!(deploy.input_schema["type"], "object");
    assert!(deploy.input_schema["properties"]["environment"].is_object());
    viewer.cancel().await.unwrap();
    admin.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_automations_and_refusals() {
    let s = server().await;
    let carol = client(&s, &token(&s, "carol").await).await;
    let r = carol.call_tool(call("dependents", json!({"package": "redis"}))).await.unwrap();
    assert_ne!(r.is_error, Some(true));
    let out = r.structured_content.unwrap();
    assert!(out["total"].as_u64().unwrap() > 0);

    // An automation is only ever a pending run, with where to approve it.
    let r = carol.call_tool(call("deploy", json!({"project": "orders", "environment": "staging"}))).await.unwrap();
    let run = r.structured_content.unwrap();
    assert_eq!(run["status"], "pending");
    assert!(run["approval_url"].as_str().unwrap().ends_with(&format!("/runs/{}", run["id"].as_str().unwrap())));
    // carol (editor) cannot approve it through MCP either.
    let r = carol.call_tool(call("approve_run", json!({"run": run["id"]}))).await.unwrap();
    assert_eq!(r.is_error, Some(true));
    assert!(format!("{:?}", r.content).contains("needs the approver role"));
    // Bad arguments come back as a readable tool error.
    let r = carol.call_tool(call("get_project", json!({"project": 7}))).await.unwrap();
    assert_eq!(r.is_error, Some(true));
    assert!(format!("{:?}", r.content).contains("Invalid input in `project`"));
    carol.cancel().await.unwrap();

    let calls =
        s.service.log().query(&EventQuery { kinds: vec![EventKind::McpCall], ..Default::default() }).await.unwrap();
    assert_eq!(calls.len(), 4, "every call is recorded");
    let outcomes: Vec<&str> = calls.iter().rev().map(|e| e.payload["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["ok", "ok", "denied", "bad_input"]);
    assert!(calls.iter().all(|e| e.actor == "carol" && e.source == "mcp"));
    assert_eq!(calls.last().unwrap().payload["arguments"], json!({"package": "redis"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthenticated_calls_are_refused() {
    let s = server().await;
    switchboard_agents::install_tls_provider();
    let http = reqwest::Client::new();
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
    for auth in [None, Some("Bearer sb_forged"), Some("Basic dXNlcg==")] {
        let mut req = http.post(&s.url).header("accept", "application/json, text/event-stream").json(&body);
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 401, "{auth:?}");
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["error"]["code"], "unauthenticated");
    }
    let secret = token(&s, "dave").await;
    s.service
        .revoke_token(
            &Caller::new("cli", Role::Admin, "cli"),
            &s.service.list_tokens(&Caller::new("cli", Role::Admin, "cli"), None).await.unwrap()[0].id,
        )
        .await
        .unwrap();
    let config = StreamableHttpClientTransportConfig::with_uri(s.url.clone()).auth_header(secret);
    assert!(
        ().serve(StreamableHttpClientTransport::from_config(config)).await.is_err(),
        "a revoked token cannot connect"
    );
}

/// A raw JSON-RPC POST to `/mcp`: status, the session id it opened, the body.
async fn post(s: &Server, secret: &str, session: Option<&str>, body: Value) -> (u16, Option<String>, String) {
    let mut req = reqwest::Client::new()
        .post(&s.url)
        .bearer_auth(secret)
        .header("accept", "application/json, text/event-stream")
        .json(&body);
    if let Some(id) = session {
        req = req.header("mcp-session-id", id);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let id = resp.headers().get("mcp-session-id").map(|v| v.to_str().unwrap().to_owned());
    (status, id, resp.text().await.unwrap_or_default())
}

fn initialize() -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-03-26", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}}})
}

/// One viewer token opened 2,000 sessions in seconds: now each token keeps
/// at most its cap, the least recently used closing first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_keeps_at_most_its_cap_of_sessions() {
    let mut config = Config::default();
    config.limits.mcp_sessions_per_token = 3;
    let s = server_with(config).await;
    let secret = token(&s, "dave").await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        let (status, id, body) = post(&s, &secret, None, initialize()).await;
        assert_eq!(status, 200, "{body}");
        ids.push(id.expect("a session id"));
    }
    let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"});
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let mut open = Vec::new();
    for id in &ids {
        let _ = post(&s, &secret, Some(id), initialized.clone()).await;
        let (status, _, body) = post(&s, &secret, Some(id), list.clone()).await;
        open.push(status == 200 && body.contains("get_project"));
    }
    assert_eq!(open, [false, false, true, true, true], "the two oldest were closed");
    // Another token has sessions of its own, and cannot use this token's.
    let other = token(&s, "carol").await;
    assert_eq!(post(&s, &other, None, initialize()).await.0, 200);
    let (status, _, body) = post(&s, &other, Some(&ids[4]), list.clone()).await;
    assert_eq!(status, 404, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_and_refused_tokens_are_rate_limited() {
    let mut config = Config::default();
    config.limits.mcp_per_minute = 3;
    config.limits.bad_credentials_per_minute = 2;
    let s = server_with(config).await;
    let secret = token(&s, "dave").await;
    for _ in 0..3 {
        assert_eq!(post(&s, &secret, None, initialize()).await.0, 200);
    }
    let resp = reqwest::Client::new()
        .post(&s.url)
        .bearer_auth(&secret)
        .header("accept", "application/json, text/event-stream")
        .json(&initialize())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    let retry: u64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert!(resp.text().await.unwrap().contains("rate_limited"));
    // Guessed tokens: 401 twice, then 429.
    let mut statuses = Vec::new();
    for i in 0..3 {
        statuses.push(post(&s, &format!("sb_guess{i}"), None, initialize()).await.0);
    }
    assert_eq!(statuses, [401, 401, 429]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_rules_refuse_tool_calls_with_their_reason() {
    // The policy of tests/fixtures/approval-rules.toml on the demo organisation:
    // payments (alice, bob, carol), checkout (dave, erin, frank).
    let rules = include_str!("../../tests/fixtures/approval-rules.toml");
    let s = server_with(Config::parse(rules, "approval-rules.toml", &[]).unwrap()).await;
    let (frank, carol) = (client(&s, &token(&s, "frank").await).await, client(&s, &token(&s, "carol").await).await);
    let bob = client(&s, &token(&s, "bob").await).await;
    let erin = client(&s, &token(&s, "erin").await).await;
    let deploy =
        |project: &str, environment: &str| call("deploy", json!({"project": project, "environment": environment}));
    let production = frank.call_tool(deploy("orders", "production")).await.unwrap().structured_content.unwrap();
    let frozen = carol.call_tool(deploy("payments-api", "staging")).await.unwrap().structured_content.unwrap();
    assert_eq!(production["needs"], json!({"approvals": 2, "team": "checkout"}));

    let refused = [
        (&bob, call("approve_run", json!({"run": production["id"]})), "needs an approver from team checkout"),
        (&bob, call("approve_run", json!({"run": frozen["id"]})), "during the freeze"),
        (&carol, deploy("orders", "staging"), "editors change only their own teams"),
        (&carol, call("set_fact", json!({"project": "orders", "key": "tier", "value": "2"})), "their own teams"),
    ];
    for (who, request, said) in refused {
        let r = who.call_tool(request).await.unwrap();
        assert_eq!(r.is_error, Some(true));
        assert!(format!("{:?}", r.content).contains(said), "{said}: {:?}", r.content);
    }
    // Production asks for a confirmation: refused without it, counted with it.
    let r = erin.call_tool(call("approve_run", json!({"run": production["id"]}))).await.unwrap();
    assert_eq!(r.is_error, Some(true));
    assert!(format!("{:?}", r.content).contains("asks for a confirmation"), "{:?}", r.content);
    let r = erin.call_tool(call("approve_run", json!({"run": production["id"], "confirm": true}))).await.unwrap();
    assert_ne!(r.is_error, Some(true), "{:?}", r.content);
    assert_eq!(r.structured_content.unwrap()["status"], "pending", "one of two approvals");
    for c in [frank, carol, bob, erin] {
        c.cancel().await.unwrap();
    }
}

/// A session opened on one replica is used on another: rmcp restores it
/// from the store; another token still cannot use it there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_opened_on_one_replica_answers_on_another() {
    let a = server().await;
    let b = a.replica().await;
    let secret = token(&a, "dave").await;
    let (status, id, body) = post(&a, &secret, None, initialize()).await;
    assert_eq!(status, 200, "{body}");
    let id = id.expect("a session id");
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let _ = post(&a, &secret, Some(&id), initialized).await;

    let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"});
    let (status, _, body) = post(&b, &secret, Some(&id), list.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("get_project"), "{body}");
    let call = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                      "params": {"name": "get_team", "arguments": {"team": "payments"}}});
    let (status, _, body) = post(&b, &secret, Some(&id), call).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Payments"), "{body}");

    let other = token(&a, "carol").await;
    let (status, _, body) = post(&b, &other, Some(&id), list.clone()).await;
    assert_eq!(status, 404, "another token cannot use it: {body}");
    let (status, _, _) = post(&b, &secret, Some("no-such-session"), list).await;
    assert_eq!(status, 404, "an unknown session is refused");
}
