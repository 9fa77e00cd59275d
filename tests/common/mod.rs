//! What the end-to-end tests of the built binary share: running it, and
//! starting a server from it that is killed (by its own PID) when dropped.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

pub fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).env_remove("RUST_LOG").output().expect("the binary runs")
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A demo server we started; killed (by its own PID) when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
    /// Everything the server wrote to stderr so far.
    pub stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Server {
    /// What the server has written to stderr, once `until` is in it (or 10 s passed).
    pub fn said_by_now(&self, until: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let said = self.stderr.lock().unwrap().clone();
            if said.contains(until) || Instant::now() > deadline {
                return said;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the binary with `args` and waits until it says it is up on `port`.
pub fn start(args: &[&str], port: u16) -> (Server, String) {
    start_with(args, port, &[])
}

pub fn start_with(args: &[&str], port: u16, env: &[(&str, &str)]) -> (Server, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .envs(env.iter().copied())
        .env_remove("RUST_LOG")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Read stderr until the server says it is up; keep what it said.
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let kept = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let keep = kept.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Ok(mut k) = keep.lock() {
                k.push_str(&line);
                k.push('\n');
            }
            let _ = tx.send(line);
        }
    });
    let base = format!("http://127.0.0.1:{port}");
    let mut said = String::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(line) => {
                said.push_str(&line);
                said.push('\n');
                if line.contains("Switchboard is up") {
                    break;
                }
            }
            Err(_) => {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!("demo exited with {status}: {said}");
                }
            }
        }
        assert!(Instant::now() < deadline, "demo did not come up: {said}");
    }
    (Server { child, base, stderr: kept }, said)
}

pub fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.into())
}

/// `[store.neo4j]` for a fresh database on the ArcadeDB server scripts/test
/// starts, made over its HTTP API.
pub fn graph_settings(name: &str) -> String {
    let port = env("SWITCHBOARD_TEST_ARCADEDB_HTTP_PORT", "12480");
    let password = env("SWITCHBOARD_TEST_BOLT_PASSWORD", "switchboard-test");
    let made = Command::new("curl")
        .args(["-fsS", "-u", &format!("root:{password}"), "-H", "content-type: application/json"])
        .args(["-d", &format!("{{\"command\": \"create database {name}\"}}")])
        .arg(format!("http://127.0.0.1:{port}/api/v1/server"))
        .output()
        .expect("curl runs");
    assert!(made.status.success(), "ArcadeDB (scripts/arcadedb start): {}", text(&made.stderr));
    format!(
        "[store.neo4j]\nuri = \"bolt://127.0.0.1:{}\"\nuser = \"root\"\npassword = {password:?}\ndatabase = {name:?}\nfulltext = \"arcadedb\"\narcadedb_http_url = \"http://127.0.0.1:{port}\"\n",
        env("SWITCHBOARD_TEST_BOLT_PORT", "17687")
    )
}

/// A store the demo seeded (its default size), removed when dropped.
pub fn seeded() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["demo", "--seed-only", "--data-dir", dir.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    dir
}

/// `switchboard chat` on `data` as `who`, typing `input`.
pub fn chat(data: &str, who: &str, input: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(BIN)
        .args(["chat", "--data-dir", data, "--as", who])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}
