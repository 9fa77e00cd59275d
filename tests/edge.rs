//! The attacks an outside test ran on `serve`, over real TCP against the
//! built binary: idle connections, slow headers (slowloris), stalled bodies
//! on every receiver, more connections than allowed, another site's Host.
//! Each asserts what the server does (closes, refuses, answers 408/421),
//! never how fast; scripts/attack prints the latencies.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

mod common;

use common::*;

/// A `serve` with short read timeouts and small connection caps.
fn server() -> (Server, tempfile::TempDir, SocketAddr) {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = dir.path().join("switchboard.toml");
    let data = dir.path().join("data");
    std::fs::write(
        &config,
        format!(
            "[server]\nport = {port}\nrequire_login = false\nheader_read_timeout_secs = 1\nbody_read_timeout_secs = 1\nrequest_timeout_secs = 3\nmax_connections = 40\nmax_connections_per_client = 6\n\n[store]\ndata_dir = {data:?}\n\n[webhooks]\ngithub_secret = \"edge-secret\"\npagerduty_secrets = [\"edge-secret\"]\n\n[slack]\nsigning_secret = \"edge-secret\"\n\n[limits]\nbad_credentials_per_minute = 3\n\n[discord]\npublic_key = \"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a\"\n"
        ),
    )
    .unwrap();
    let (server, _) = start(&["serve", "--config", config.to_str().unwrap()], port);
    (server, dir, format!("127.0.0.1:{port}").parse().unwrap())
}

/// Reads until the server closes the connection (or 15 s pass, which fails
/// the test: the server should have ended it long before).
async fn until_closed(stream: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(15), stream.read_to_end(&mut got)).await;
    assert!(read.is_ok(), "the server kept the connection open; it said {:?}", String::from_utf8_lossy(&got));
    String::from_utf8_lossy(&got).into_owned()
}

/// A connection from another loopback address (127.0.0.N): another client.
async fn connect_from(n: u8, to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(format!("127.0.0.{n}:0").parse().unwrap()).unwrap();
    socket.connect(to).await.unwrap()
}

async fn health(from: u8, to: SocketAddr) -> String {
    let mut s = connect_from(from, to).await;
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").await.unwrap();
    until_closed(&mut s).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_slow_header_connections_are_closed() {
    let (_server, _dir, addr) = server();
    // Connected, then silent.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    let said = until_closed(&mut idle).await;
    assert!(said.is_empty() || said.starts_with("HTTP/1.1 408"), "{said}");
    // Slowloris: headers a line at a time, never finished.
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n").await.unwrap();
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(400)).await;
        if slow.write_all(b"X-Slow: 1\r\n").await.is_err() {
            break;
        }
    }
    let said = until_closed(&mut slow).await;
    assert!(!said.contains("200 OK"), "the request was never finished: {said}");
    // A kept-alive connection that goes quiet after an answer is closed too.
    let mut kept = TcpStream::connect(addr).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").await.unwrap();
    let said = until_closed(&mut kept).await;
    assert!(said.starts_with("HTTP/1.1 200"), "{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_bodies_are_cut_on_every_receiver() {
    let (_server, _dir, addr) = server();
    for path in
        ["/hooks/github", "/hooks/pagerduty", "/slack/events", "/discord/interactions", "/api/v1/ops/list_teams"]
    {
        let mut s = TcpStream::connect(addr).await.unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{{\"a\":"
        );
        s.write_all(head.as_bytes()).await.unwrap();
        let said = until_closed(&mut s).await;
        let status = said.get(9..12).unwrap_or_default();
        assert!(matches!(status, "408" | "400"), "{path}: {said}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_caps_are_closed_and_others_still_served() {
    let (_server, _dir, addr) = server();
    // One client holds its six connections (each sends a partial header so it stays busy).
    let mut held = Vec::new();
    for _ in 0..6 {
        let mut s = connect_from(2, addr).await;
        s.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();
        held.push(s);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut seventh = connect_from(2, addr).await;
    let _ = seventh.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").await;
    let said = until_closed(&mut seventh).await;
    assert!(said.is_empty(), "the seventh connection of one client is closed unanswered: {said}");
    // Another client is answered meanwhile.
    assert!(health(3, addr).await.starts_with("HTTP/1.1 200"));
    drop(held);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_sites_host_is_refused_over_the_wire() {
    let (_server, _dir, addr) = server();
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /api/v1/teams HTTP/1.1\r\nHost: rebind.attacker.example\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let said = until_closed(&mut s).await;
    assert!(said.starts_with("HTTP/1.1 421"), "{said}");
    assert!(said.contains("content-security-policy"), "{said}");
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 10.1.2.3:8080\r\nConnection: close\r\n\r\n").await.unwrap();
    assert!(until_closed(&mut s).await.starts_with("HTTP/1.1 200"), "probes answer any host");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_heads_past_64_kib_are_refused_before_the_body() {
    let (_server, _dir, addr) = server();
    // The PagerDuty flood's head: 30,000 empty signature entries (120 KB).
    let mut s = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /hooks/pagerduty HTTP/1.1\r\nHost: 127.0.0.1\r\nX-PagerDuty-Signature: {}\r\nContent-Length: 1000000\r\n\r\n",
        vec!["v1="; 30_000].join(",")
    );
    let _ = s.write_all(head.as_bytes()).await;
    let said = until_closed(&mut s).await;
    assert!(said.is_empty() || said.starts_with("HTTP/1.1 431"), "{said}");
    // A client that keeps sending them is closed before it is read from;
    // others are still served.
    for _ in 0..4 {
        let mut s = connect_from(7, addr).await;
        let _ = s.write_all(head.as_bytes()).await;
        until_closed(&mut s).await;
    }
    // The server counts a refused head when its connection has ended, which
    // the client may see first: give the count a moment to land.
    let mut said = health(7, addr).await;
    for _ in 0..20 {
        if said.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        said = health(7, addr).await;
    }
    assert_eq!(said, "", "closed without an answer");
    assert!(health(8, addr).await.starts_with("HTTP/1.1 200"));
    // A large but ordinary head (a 20 KB cookie) is still served.
    let mut s = TcpStream::connect(addr).await.unwrap();
    let cookie = format!(
        "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: big={}\r\nConnection: close\r\n\r\n",
        "x".repeat(20_000)
    );
    s.write_all(cookie.as_bytes()).await.unwrap();
    assert!(until_closed(&mut s).await.starts_with("HTTP/1.1 200"));
}

/// Listening beyond the machine without saying under which name it is
/// reached, only loopback names are answered: `serve` says so at start.
#[test]
fn a_public_bind_without_base_url_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = dir.path().join("switchboard.toml");
    let data = dir.path().join("data");
    std::fs::write(&config, format!("[server]\nbind = \"0.0.0.0\"\nport = {port}\n\n[store]\ndata_dir = {data:?}\n"))
        .unwrap();
    let (server, _) = start(&["serve", "--config", config.to_str().unwrap()], port);
    // The log is written by a thread of its own: the line may follow "is up".
    let said = server.said_by_now("server.base_url is not set");
    assert!(said.contains("server.base_url is not set while listening beyond this machine"), "{said}");
}
