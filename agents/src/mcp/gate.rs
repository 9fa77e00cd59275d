//! `/mcp`'s door: Bearer tokens, rate limits, and sessions bound to the
//! token that opened them. Sessions live in the store as well as in this
//! process, so a client's next request may reach any replica: the owner is
//! read from the store, and rmcp restores the session from what
//! [`StoredSessions`] kept.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::transport::streamable_http_server::session::SessionManager;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::session::store::{SessionState, SessionStore, SessionStoreError};
use serde_json::json;
use switchboard_core::{Error, Service};

/// rmcp's sessions kept through the service (store tickets).
pub(super) struct StoredSessions {
    pub service: Service,
}

#[async_trait::async_trait]
impl SessionStore for StoredSessions {
    async fn load(&self, id: &str) -> Result<Option<SessionState>, SessionStoreError> {
        let Some(state) = self.service.mcp_session(id).await? else { return Ok(None) };
        Ok(Some(serde_json::from_value(state)?))
    }

    async fn store(&self, id: &str, state: &SessionState) -> Result<(), SessionStoreError> {
        Ok(self.service.keep_mcp_session(id, &serde_json::to_value(state)?).await?)
    }

    async fn delete(&self, id: &str) -> Result<(), SessionStoreError> {
        Ok(self.service.drop_mcp_session(id).await?)
    }
}

/// What `/mcp`'s middleware shares: the service (tokens, limits, the
/// sessions' owners) and the sessions this process has seen of each token,
/// least recently used first.
#[derive(Clone)]
pub(super) struct Gate {
    service: Service,
    manager: Arc<LocalSessionManager>,
    sessions: Arc<std::sync::Mutex<HashMap<String, VecDeque<Arc<str>>>>>,
}

impl Gate {
    pub(super) fn new(service: Service, manager: Arc<LocalSessionManager>) -> Self {
        Self { service, manager, sessions: Arc::default() }
    }

    /// A request on session `id` by the token keyed `owner`: whether it is
    /// that token's (it then becomes the token's most recently used here).
    /// A session unknown to the store is left to rmcp, which refuses it.
    async fn owns(&self, owner: &str, id: &str) -> Result<bool, Error> {
        {
            let mut all = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(ids) = all.get_mut(owner)
                && let Some(i) = ids.iter().position(|s| &**s == id)
            {
                let s = ids.remove(i).expect("present");
                ids.push_back(s);
                return Ok(true);
            }
            if all.values().any(|ids| ids.iter().any(|s| &**s == id)) {
                return Ok(false);
            }
        }
        // Opened on another replica (or before this one restarted).
        match self.service.mcp_session_owner(id).await? {
            Some(o) if o == owner => {
                let mut all = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
                all.entry(owner.to_owned()).or_default().push_back(Arc::from(id));
                Ok(true)
            }
            Some(_) => Ok(false),
            None => Ok(true),
        }
    }

    /// A session just opened by the token keyed `owner`: kept as theirs in
    /// the store; returns the ones to close so the token keeps at most its
    /// cap here (closed and expired sessions leave the count first).
    async fn opened(&self, owner: &str, id: Arc<str>) -> Result<Vec<Arc<str>>, Error> {
        self.service.own_mcp_session(&id, owner).await?;
        let live: std::collections::HashSet<Arc<str>> = self.manager.sessions.read().await.keys().cloned().collect();
        let cap = self.service.config().limits.mcp_sessions_per_token as usize;
        let mut all = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        all.retain(|_, ids| {
            ids.retain(|s| live.contains(s));
            !ids.is_empty()
        });
        let ids = all.entry(owner.to_owned()).or_default();
        ids.push_back(id);
        let over = ids.len().saturating_sub(cap);
        Ok(ids.drain(..over).collect())
    }
}

/// Middleware for `/mcp`: a valid Bearer token is required, its caller
/// rides along in the request extensions; requests are rate limited per
/// token, refused tokens per address, and each token keeps at most
/// `limits.mcp_sessions_per_token` sessions open.
pub(super) async fn authenticate(State(gate): State<Gate>, mut req: Request, next: Next) -> Response {
    use switchboard_core::limits::{ClientAddr, Limit, Who};
    let address = req
        .extensions()
        .get::<ClientAddr>()
        .map(|c| c.0)
        .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    let limits = gate.service.limits();
    if let Err(limited) = limits.refusing(Who::Address(address)) {
        return refused(&limited);
    }
    let header = req.headers().get(axum::http::header::AUTHORIZATION).and_then(|h| h.to_str().ok());
    let Some(secret) = header.and_then(|h| h.strip_prefix("Bearer ")).map(|s| s.trim().to_owned()) else {
        if let Err(limited) = limits.check(Limit::BadCredentials, Who::Address(address)) {
            return refused(&limited);
        }
        return unauthorized(
            "The MCP endpoint needs `Authorization: Bearer <token>`; create one with `switchboard token create`.",
        );
    };
    let caller = match gate.service.authenticate(&secret, "mcp").await {
        Ok(caller) => caller,
        Err(e) => {
            if let Err(limited) = limits.check(Limit::BadCredentials, Who::Address(address)) {
                return refused(&limited);
            }
            return unauthorized(&e.to_string());
        }
    };
    if let Err(limited) = limits.check(Limit::Mcp, Who::Token(&secret)) {
        return refused(&limited);
    }
    let owner = gate.service.mcp_owner(&secret);
    let session = req.headers().get("mcp-session-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    if let Some(id) = &session {
        match gate.owns(&owner, id).await {
            Ok(true) => {}
            Ok(false) => {
                let message = "no such MCP session for this token";
                let body = axum::Json(json!({"error": {"code": "not_found", "message": message}}));
                return (axum::http::StatusCode::NOT_FOUND, body).into_response();
            }
            Err(e) => return failed(&e),
        }
    }
    req.extensions_mut().insert(caller);
    let response = next.run(req).await;
    if session.is_none()
        && let Some(id) = response.headers().get("mcp-session-id").and_then(|v| v.to_str().ok())
    {
        let closing = match gate.opened(&owner, Arc::from(id)).await {
            Ok(closing) => closing,
            Err(e) => return failed(&e),
        };
        for old in closing {
            tracing::info!(session = %old, "MCP session closed: its token opened more than limits.mcp_sessions_per_token");
            if let Err(e) = gate.manager.close_session(&old).await {
                tracing::warn!(error = %e, "cannot close an MCP session");
            }
            if let Err(e) = gate.service.drop_mcp_session(&old).await {
                tracing::warn!(error = %e, "cannot forget a closed MCP session");
            }
        }
    }
    response
}

fn failed(e: &Error) -> Response {
    let body = axum::Json(json!({"error": {"code": e.code(), "message": e.to_string()}}));
    (axum::http::StatusCode::INTERNAL_SERVER_ERROR, body).into_response()
}

fn refused(e: &Error) -> Response {
    let retry = match e {
        Error::RateLimited { retry_after_secs, .. } => *retry_after_secs,
        _ => 1,
    };
    let body = axum::Json(json!({"error": {"code": e.code(), "message": e.to_string()}}));
    (axum::http::StatusCode::TOO_MANY_REQUESTS, [(axum::http::header::RETRY_AFTER, retry.to_string())], body)
        .into_response()
}

fn unauthorized(message: &str) -> Response {
    let body = axum::Json(json!({"error": {"code": "unauthenticated", "message": message}}));
    (axum::http::StatusCode::UNAUTHORIZED, [(axum::http::header::WWW_AUTHENTICATE, "Bearer")], body).into_response()
}
