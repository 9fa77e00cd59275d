//! What the HTTP benchmarks share: serving a router as `serve` does (or
//! bare), a `serve` process of this binary measured from outside, a lean
//! kept-alive HTTP/1.1 sender, and a process's CPU time.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use switchboard_core::Service;

/// Serves `app` on `listener` as the benchmark was asked: behind the edge
/// (as `serve` does) or bare.
pub(crate) fn spawn_server(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    service: &Service,
    edge: bool,
) -> tokio::task::JoinHandle<std::io::Result<()>> {
    if edge {
        let (app, service) = (switchboard_portal::edge::wrap(app, &service.config().server), service.clone());
        tokio::spawn(
            async move { switchboard_portal::edge::serve(listener, app, &service, std::future::pending()).await },
        )
    } else {
        tokio::spawn(async move { axum::serve(listener, app).await })
    }
}

/// This binary as a child process, configured by its arguments alone: a
/// `SWITCHBOARD_*` variable of the caller's would override the config file
/// (a data directory, a secret, the log's format).
pub(crate) fn this_binary() -> anyhow::Result<tokio::process::Command> {
    let mut command = tokio::process::Command::new(std::env::current_exe()?);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("SWITCHBOARD_") {
            command.env_remove(name);
        }
    }
    Ok(command)
}

/// A config file for `serve` of this binary, and where it will listen.
pub(crate) struct ServeConfig {
    pub path: PathBuf,
    pub to: SocketAddr,
}

/// Writes `dir/switchboard.toml` for `serve` on a free loopback port and the
/// store in `data`, with `rest` (more TOML tables) after.
pub(crate) fn serve_config(dir: &Path, data: &Path, rest: &str) -> anyhow::Result<ServeConfig> {
    let to = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let path = dir.join("switchboard.toml");
    std::fs::write(&path, format!("[server]\nport = {}\n\n[store]\ndata_dir = {data:?}\n\n{rest}", to.port()))?;
    Ok(ServeConfig { path, to })
}

/// `switchboard serve` on `config`, its log level `rust_log` (or the
/// config's) and its log to `stderr`; returned once it answers `/healthz`.
/// Ends with the handle.
pub(crate) async fn start_serve(
    config: &ServeConfig,
    rust_log: Option<&str>,
    stderr: Stdio,
) -> anyhow::Result<tokio::process::Child> {
    let mut command = this_binary()?;
    command.args(["serve", "--config"]).arg(&config.path).env_remove("RUST_LOG");
    if let Some(level) = rust_log {
        command.env("RUST_LOG", level);
    }
    let mut server =
        command.stdout(Stdio::null()).stderr(stderr).kill_on_drop(true).spawn().context("cannot start serve")?;
    let to = config.to;
    tokio::select! {
        up = wait_up(to) => up?,
        ended = server.wait() => anyhow::bail!("serve ended before it answered ({})", ended?),
    }
    Ok(server)
}

async fn wait_up(to: SocketAddr) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if get_once(to, "/healthz").await.is_ok_and(|(status, _)| status == 200) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("serve did not answer on {to} within 60 s")
}

/// One `GET` on a connection of its own, read to its end (30 s at most):
/// the status and the body's text.
pub(crate) async fn get_once(to: SocketAddr, path: &str) -> anyhow::Result<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let read = async {
        let mut stream = tokio::net::TcpStream::connect(to).await?;
        stream.write_all(format!("GET {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n").as_bytes()).await?;
        let mut out = String::new();
        stream.read_to_string(&mut out).await?;
        anyhow::Ok(out)
    };
    let out = tokio::time::timeout(Duration::from_secs(30), read)
        .await
        .map_err(|_| anyhow::anyhow!("{path} on {to} did not answer within 30 s"))??;
    let status = out.get(9..12).and_then(|s| s.parse().ok()).with_context(|| format!("not HTTP from {path}: {out}"))?;
    let body = out.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_owned();
    Ok((status, body))
}

/// CPU time this process has used, user and system (Linux; 0 elsewhere).
pub(crate) fn process_cpu_seconds() -> f64 {
    cpu_seconds("/proc/self/stat")
}

/// CPU time process `pid` has used, user and system (Linux; 0 elsewhere).
pub(crate) fn cpu_seconds_of(pid: u32) -> f64 {
    cpu_seconds(&format!("/proc/{pid}/stat"))
}

/// CPU time this process's threads have used, by thread name (threads of
/// one name summed; Linux; empty elsewhere): which thread a flood's CPU
/// went to — the runtime's workers, the store's writer, the log's or the
/// span exporter's thread.
#[cfg(feature = "bench")]
pub(crate) fn thread_cpu_seconds() -> std::collections::BTreeMap<String, f64> {
    let mut by_name = std::collections::BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return by_name;
    };
    for task in tasks.flatten() {
        let name = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        let seconds = cpu_seconds(&task.path().join("stat").to_string_lossy());
        *by_name.entry(name.trim().to_owned()).or_insert(0.0) += seconds;
    }
    by_name
}

/// What each thread name used between two [`thread_cpu_seconds`], in
/// milliseconds, by name; names that used nothing left out.
#[cfg(feature = "bench")]
pub(crate) fn thread_cpu_since(before: &std::collections::BTreeMap<String, f64>) -> serde_json::Value {
    thread_cpu_seconds()
        .into_iter()
        .map(|(name, s)| {
            let ms = ((s - before.get(&name).copied().unwrap_or(0.0)) * 1e3).round();
            (name, ms)
        })
        .filter(|(_, ms)| *ms > 0.0)
        .map(|(name, ms)| (name, serde_json::json!(ms)))
        .collect()
}

fn cpu_seconds(path: &str) -> f64 {
    let stat = std::fs::read_to_string(path).unwrap_or_default();
    // The fields after the command name (which may hold spaces) are space-separated.
    let fields: Vec<&str> =
        stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the file, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

/// One kept-alive HTTP/1.1 connection that sends a request and reads the
/// status and `Content-Length` body of the answer; nothing else.
pub(crate) struct RawHttp {
    stream: tokio::net::TcpStream,
    buf: Vec<u8>,
}

impl RawHttp {
    pub(crate) async fn connect(addr: &str) -> anyhow::Result<Self> {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Self { stream, buf: Vec::with_capacity(4096) })
    }

    /// Sends a GitHub `push` delivery to `/hooks/github` with its id and
    /// signature header; returns the answer's status code.
    pub(crate) async fn push(
        &mut self,
        addr: &str,
        delivery: &str,
        signature: &str,
        body: &[u8],
    ) -> anyhow::Result<u16> {
        let head = format!(
            "POST /hooks/github HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             X-GitHub-Event: push\r\nX-GitHub-Delivery: {delivery}\r\n\
             X-Hub-Signature-256: {signature}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        self.round_trip(head.as_bytes(), body).await
    }

    /// Sends head + body; returns the answer's status code.
    pub(crate) async fn round_trip(&mut self, head: &[u8], body: &[u8]) -> anyhow::Result<u16> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut request = Vec::with_capacity(head.len() + body.len());
        request.extend_from_slice(head);
        request.extend_from_slice(body);
        self.stream.write_all(&request).await?;
        self.buf.clear();
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = std::str::from_utf8(&self.buf[..end])?;
                let status: u16 =
                    head.get(9..12).and_then(|s| s.parse().ok()).ok_or_else(|| anyhow::anyhow!("not HTTP: {head}"))?;
                let length: usize = head
                    .lines()
                    .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("content-length")))
                    .and_then(|(_, v)| v.trim().parse().ok())
                    .unwrap_or(0);
                while self.buf.len() < end + 4 + length {
                    let mut chunk = [0u8; 4096];
                    let n = self.stream.read(&mut chunk).await?;
                    anyhow::ensure!(n > 0, "the connection closed mid-answer");
                    self.buf.extend_from_slice(&chunk[..n]);
                }
                return Ok(status);
            }
            let mut chunk = [0u8; 4096];
            let n = self.stream.read(&mut chunk).await?;
            anyhow::ensure!(n > 0, "the connection closed before answering");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}
