//! What the portal tests share: a demo organisation behind the portal's
//! router in both modes, and request helpers. Each test binary uses part of it.
#![allow(dead_code, unused_imports)]

pub use std::sync::Arc;

pub use axum::Router;
pub use axum::body::Body;
pub use axum::http::{Request, StatusCode};
pub use http_body_util::BodyExt;
pub use serde_json::{Value, json};
pub use switchboard_core::clock::ManualClock;
pub use switchboard_core::config::Config;
pub use switchboard_core::demo::{self, DemoOptions};
pub use switchboard_core::model::Role;
pub use switchboard_core::{Caller, Service};
pub use switchboard_portal::{Mode, PortalState};
pub use switchboard_store::SqliteStore;
pub use switchboard_testkit::World;
pub use tower::ServiceExt;

pub const NOW: i64 = switchboard_testkit::T0;

pub struct Portal {
    pub service: Service,
    pub clock: Arc<ManualClock>,
    pub demo: PortalState,
    pub serve: PortalState,
    /// The store, for what a test puts in the inbox and the outbox.
    pub store: SqliteStore,
    pub world: World,
}

pub async fn portal() -> Portal {
    portal_with(Config::default()).await
}

pub async fn portal_with(config: Config) -> Portal {
    let world = World::builder().config(config).demo(60, 42).build().await;
    let service = world.service.clone();
    let demo = PortalState::new(service.clone(), Mode::Demo).await.unwrap();
    let serve = PortalState::new(service.clone(), Mode::Serve).await.unwrap();
    Portal { service, clock: world.clock.clone(), demo, serve, store: world.store.clone(), world }
}

impl Portal {
    /// The demo portal of a second replica: another process on the same store.
    pub async fn replica(&self) -> PortalState {
        PortalState::new(self.world.replica(), Mode::Demo).await.unwrap()
    }

    /// The portal as the binary serves it: behind the HTTP edge.
    pub fn router(&self, mode: Mode) -> switchboard_portal::edge::Edged {
        let state = match mode {
            Mode::Demo => self.demo.clone(),
            Mode::Serve => self.serve.clone(),
        };
        switchboard_portal::edge::wrap(switchboard_portal::router(state), &self.service.config().server)
    }

    pub async fn send(&self, mode: Mode, req: Request<Body>) -> (StatusCode, String, axum::http::HeaderMap) {
        let resp = self.router(mode).oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(body.to_vec()).unwrap(), headers)
    }

    pub async fn page(&self, uri: &str) -> (StatusCode, String) {
        let (s, b, _) = self.send(Mode::Demo, Request::get(uri).body(Body::empty()).unwrap()).await;
        (s, b)
    }

    /// A page as a demo person (`sb_as`): what someone of their role sees.
    pub async fn page_as(&self, who: &str, uri: &str) -> (StatusCode, String) {
        let req = Request::get(uri).header("cookie", format!("sb_as={who}")).body(Body::empty()).unwrap();
        let (s, b, _) = self.send(Mode::Demo, req).await;
        (s, b)
    }

    pub async fn api(&self, mode: Mode, method: &str, uri: &str, body: &str) -> (StatusCode, Value) {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", "application/json")
            .body(Body::from(body.to_owned()))
            .unwrap();
        let (s, b, h) = self.send(mode, req).await;
        assert!(h.get("content-type").unwrap().to_str().unwrap().starts_with("application/json"), "{uri}");
        (s, serde_json::from_str(&b).unwrap_or_else(|e| panic!("{uri}: {e}: {b}")))
    }
}

pub fn form(uri: &str, cookies: &str, body: &str, htmx: bool) -> Request<Body> {
    let mut req =
        Request::post(uri).header("content-type", "application/x-www-form-urlencoded").header("cookie", cookies);
    if htmx {
        req = req.header("hx-request", "true");
    }
    req.body(Body::from(body.to_owned())).unwrap()
}

pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }
        })
        .collect()
}
