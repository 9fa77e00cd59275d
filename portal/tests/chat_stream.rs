//! The web chat's streamed answers: server-sent events with the tools
//! called, the words as they come and the finished reply, for the person
//! who asked only, once — also when the stream reaches another replica.

mod common;

use common::*;

/// The data-stream URL of a streamed chat turn.
fn stream_url(html: &str) -> String {
    let start =
        html.find(r#"data-stream=""#).unwrap_or_else(|| panic!("no stream in {html}")) + r#"data-stream=""#.len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_chat_streams_answers_as_server_sent_events() {
    use switchboard_testkit::llm::{FakeLlm, Step};
    let answer = "payments-api belongs to the payments team, whose members you can see on its page.";
    let fake = FakeLlm::start(vec![
        Step::call("get_project", serde_json::json!({"project": "payments-api"})),
        Step::text(answer),
    ])
    .await
    .unwrap();
    let mut config = Config::default();
    config.llm.base_url = Some(fake.url.clone());
    config.llm.model = "scripted".into();
    let p = portal_with(config).await;
    let token = "0123456789abcdef0123456789abcdef";
    let jar = |who: &str| format!("sb_csrf={token}; sb_chat=00000000000000000000000000000001; sb_as={who}");
    let body = format!("csrf={token}&stream=1&text={}", enc("who looks after payments-api?"));
    let (status, html, _) = p.send(Mode::Demo, form("/chat/messages", &jar("dave"), &body, true)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("who looks after payments-api?") && html.contains("Thinking"), "{html}");
    let url = stream_url(&html);

    // Someone else cannot read dave's answer.
    let get = |who: &str| Request::get(url.as_str()).header("cookie", jar(who)).body(Body::empty()).unwrap();
    let (status, _, _) = p.send(Mode::Demo, get("carol")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, events, headers) = p.send(Mode::Demo, get("dave")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers.get("content-type").unwrap(), "text/event-stream");
    assert!(events.contains("event: tool\ndata: get_project\n"), "{events}");
    let deltas: String = events.split("\n\n").filter_map(|e| e.strip_prefix("event: delta\ndata: ")).collect();
    assert_eq!(deltas, answer, "the words arrive in pieces that add up to the answer");
    let reply = events.split("\n\n").find_map(|e| e.strip_prefix("event: reply\ndata: ")).expect("a reply event");
    assert!(reply.starts_with("<div class=\"reply\">") && reply.contains(answer), "{reply}");
    // Opened once; the turn is in the thread's history.
    let (status, _, _) = p.send(Mode::Demo, get("dave")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, page, _) =
        p.send(Mode::Demo, Request::get("/chat").header("cookie", jar("dave")).body(Body::empty()).unwrap()).await;
    assert!(page.contains(answer), "{page}");

    // Without a model the router answers through the same stream: one reply event.
    let p = portal().await;
    let body = format!("csrf={token}&stream=1&text={}", enc("who owns payments-api?"));
    let (_, html, _) = p.send(Mode::Demo, form("/chat/messages", &jar("dave"), &body, true)).await;
    let url = stream_url(&html);
    let (_, events, _) = p.send(Mode::Demo, get_as(&url, &jar("dave"))).await;
    assert!(!events.contains("event: delta"), "{events}");
    assert!(events.contains("event: reply\ndata: <div class=\"reply\">"), "{events}");
    assert!(events.contains("payments-api is owned by Payments"), "{events}");
}

/// Behind several replicas the stream may be opened on another one than the
/// one writing the answer: that replica sends the finished reply from the store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_stream_opened_on_another_replica_gets_its_reply() {
    let p = portal().await;
    let other =
        switchboard_portal::edge::wrap(switchboard_portal::router(p.replica().await), &p.service.config().server);
    let token = "0123456789abcdef0123456789abcdef";
    let jar = |who: &str| format!("sb_csrf={token}; sb_chat=00000000000000000000000000000002; sb_as={who}");
    let body = format!("csrf={token}&stream=1&text={}", enc("who owns payments-api?"));
    let (_, html, _) = p.send(Mode::Demo, form("/chat/messages", &jar("dave"), &body, true)).await;
    let url = stream_url(&html);
    let open = |who: &str| {
        let other = other.clone();
        let req = get_as(&url, &jar(who));
        async move {
            let resp = other.oneshot(req).await.unwrap();
            let status = resp.status();
            (status, String::from_utf8(resp.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap())
        }
    };
    // The answer is written before the stream is opened (a slow network).
    let id = url.rsplit('/').next().unwrap().to_owned();
    let dave = "dave".parse().unwrap();
    for _ in 0..200 {
        match p.service.chat_reply(&id, &dave).await.unwrap() {
            Some(r) if r.html.is_some() => break,
            _ => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
        }
    }
    let (status, _) = open("carol").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "someone else's stream is not found on any replica");
    let (status, events) = open("dave").await;
    assert_eq!(status, StatusCode::OK);
    assert!(events.contains("event: reply\ndata: <div class=\"reply\">"), "{events}");
    assert!(events.contains("payments-api is owned by Payments"), "{events}");
    let (status, _) = open("dave").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "delivered once");
}

fn get_as(url: &str, cookies: &str) -> Request<Body> {
    Request::get(url).header("cookie", cookies).body(Body::empty()).unwrap()
}
