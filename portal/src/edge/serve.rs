//! The accept loop: HTTP/1.1 connections with a time limit on request
//! headers (which also ends idle kept-alive connections), a cap on open
//! connections overall and per client address (more are closed at once),
//! clients past `limits.bad_credentials_per_minute` closed before anything
//! is read from them (a request head too large to read counts as a bad
//! credential), and a graceful stop that lets requests in flight finish.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use switchboard_core::Service;
use switchboard_core::config::{ServerConfig, canonical};
use switchboard_core::limits::{Limit, Who};
use tower::ServiceExt;

/// The largest request head (request line and headers) read.
const MAX_HEAD: usize = 64 * 1024;

/// Open connections, overall and per client address.
#[derive(Default)]
struct Open {
    total: usize,
    per_client: HashMap<IpAddr, usize>,
}

/// A slot in [`Open`], given back when the connection ends.
struct Slot {
    open: Arc<Mutex<Open>>,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.total -= 1;
        if let Some(n) = open.per_client.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.per_client.remove(&self.ip);
            }
        }
    }
}

/// A slot for a connection from `ip`, unless a cap is reached. A trusted
/// proxy carries many clients, so only the overall cap holds it.
fn take_slot(open: &Arc<Mutex<Open>>, ip: IpAddr, server: &ServerConfig, proxy: bool) -> Option<Slot> {
    let mut o = open.lock().unwrap_or_else(|e| e.into_inner());
    let mine = o.per_client.get(&ip).copied().unwrap_or(0);
    if o.total >= server.max_connections || (!proxy && mine >= server.max_connections_per_client) {
        return None;
    }
    o.total += 1;
    *o.per_client.entry(ip).or_default() += 1;
    Some(Slot { open: open.clone(), ip })
}

/// Serves `app` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: super::Edged,
    service: &Service,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let server = &service.config().server;
    // How long a stop waits for requests in flight (streams are cut after it).
    let drain = Duration::from_secs(server.shutdown_grace_secs);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(server.header_read_timeout_secs))
        .keep_alive(true)
        // Request heads past 64 KiB are answered 431 before anything reads
        // them further (hyper's default allows about 400 KiB; a browser's
        // cookies stay far below, and a 120 KB signature header is an attack).
        .max_buf_size(MAX_HEAD);
    let open = Arc::new(Mutex::new(Open::default()));
    let proxies = server.proxies();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut refused_logged = std::time::Instant::now() - Duration::from_secs(60);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait, then go on.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let ip = canonical(peer.ip());
        let proxy = proxies.iter().any(|p| p.contains(ip));
        // A client still paying for its bad signatures, tokens or heads is
        // not read from at all (a proxy carries others: its requests are
        // judged one by one, by the address it forwards).
        if !proxy && service.limits().refusing(Who::Address(ip)).is_err() {
            drop(stream);
            continue;
        }
        let Some(slot) = take_slot(&open, ip, server, proxy) else {
            if refused_logged.elapsed() > Duration::from_secs(10) {
                tracing::warn!(client = %peer.ip(), "connection refused: over server.max_connections or max_connections_per_client");
                refused_logged = std::time::Instant::now();
            }
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let handler = app.clone().map_request(move |req: axum::http::Request<hyper::body::Incoming>| {
            let mut req = req.map(axum::body::Body::new);
            req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            req
        });
        let connection = http
            .serve_connection(TokioIo::new(stream), hyper_util::service::TowerToHyperService::new(handler))
            .with_upgrades();
        let mut stopped = stopped.clone();
        let switchboard = service.clone();
        tokio::spawn(async move {
            let _slot = slot;
            tokio::pin!(connection);
            let stopping = tokio::select! {
                ended = connection.as_mut() => {
                    if ended.is_err_and(|e| e.is_parse_too_large()) && !proxy {
                        let _ = switchboard.limits().check(Limit::BadCredentials, Who::Address(ip));
                    }
                    false
                }
                _ = stopped.wait_for(|s| *s) => true,
            };
            if stopping {
                connection.as_mut().graceful_shutdown();
                let _ = tokio::time::timeout(drain, connection).await;
            }
        });
    }
    drop(listener);
    let _ = stop.send(true);
    // Wait (a while) for the connections to finish what they are doing.
    let deadline = tokio::time::Instant::now() + drain;
    while open.lock().unwrap_or_else(|e| e.into_inner()).total > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_capped_overall_and_per_client_and_given_back() {
        let server = ServerConfig { max_connections: 3, max_connections_per_client: 2, ..Default::default() };
        let open = Arc::new(Mutex::new(Open::default()));
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let a1 = take_slot(&open, a, &server, false).unwrap();
        let _a2 = take_slot(&open, a, &server, false).unwrap();
        assert!(take_slot(&open, a, &server, false).is_none(), "per client");
        let _b1 = take_slot(&open, b, &server, false).unwrap();
        assert!(take_slot(&open, b, &server, false).is_none(), "overall");
        drop(a1);
        let b2 = take_slot(&open, b, &server, false);
        assert!(b2.is_some(), "a closed connection frees its slot");
        drop(b2);
        let _p1 = take_slot(&open, a, &server, true).unwrap();
        assert!(take_slot(&open, a, &server, true).is_none(), "a proxy is held to the overall cap only");
    }
}
