//! The MCP server: the operations as tools for outside AI agents, over
//! streamable HTTP at `/mcp` (Bearer tokens) and over stdio. Tools are
//! filtered by the caller's role; an automation tool returns the pending run
//! and the portal page where it can be approved; every call is recorded in
//! the event log.

use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::SessionManager;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::{Value, json};
use switchboard_core::ops::{Effect, OpKind};
use switchboard_core::{Caller, Error, Service};

/// The MCP server for one caller source: HTTP requests carry their caller
/// (set by [`authenticate`]); stdio uses `default_caller`.
#[derive(Clone)]
pub struct McpServer {
    service: Service,
    default_caller: Option<Caller>,
}

impl McpServer {
    pub fn new(service: Service, default_caller: Option<Caller>) -> Self {
        Self { service, default_caller }
    }

    fn caller(&self, ctx: &RequestContext<RoleServer>) -> Result<Caller, McpError> {
        let from_http =
            ctx.extensions.get::<axum::http::request::Parts>().and_then(|p| p.extensions.get::<Caller>()).cloned();
        from_http
            .or_else(|| self.default_caller.clone())
            .ok_or_else(|| McpError::invalid_request("not authenticated", None))
    }

    /// The tools a caller may use: every operation their role allows.
    pub fn tools_for(&self, caller: &Caller) -> Vec<Tool> {
        crate::tools::allowed(caller, &self.service.config().policy)
            .map(|k| {
                let mut schema = k.compact_input_schema();
                let object = schema.as_object_mut().map(std::mem::take).unwrap_or_default();
                Tool::new(k.name(), crate::tools::description(k), Arc::new(object))
            })
            .collect()
    }
}

fn text_result(text: String, structured: Option<Value>, error: bool) -> CallToolResponse {
    let mut r = if error {
        CallToolResult::error(vec![ContentBlock::text(text)])
    } else {
        CallToolResult::success(vec![ContentBlock::text(text)])
    };
    r.structured_content = structured;
    r.into()
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        let mut info = ServerConfig::new(ServerCapabilities::builder().enable_tools().build());
        info.server_info = Implementation::new("switchboard", env!("CARGO_PKG_VERSION"));
        info.instructions = Some(
            "Switchboard's operations over the project graph and operations log. Automations only create pending runs for a person to approve.".into(),
        );
        info
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let caller = self.caller(&ctx)?;
        Ok(ListToolsResult::with_all_items(self.tools_for(&caller)))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let caller = self.caller(&ctx)?;
        let args = request.arguments.map(Value::Object).unwrap_or_else(|| json!({}));
        let tool = request.name.to_string();
        let result = self.service.execute_json(&caller, &tool, args.clone()).await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(e) => e.code(),
        };
        if let Err(e) = self.service.record_agent_call(&caller, &tool, &args, outcome).await {
            tracing::error!(error = %e, "cannot record an MCP call");
        }
        Ok(match result {
            Ok(output) => {
                let mut value = output.to_json();
                if OpKind::from_name(&tool).is_some_and(|k| k.effect() == Effect::Automation)
                    && let Some(id) = value["id"].as_str()
                {
                    let link = format!("{}/runs/{id}", self.service.config().server.base_url());
                    value["approval_url"] = json!(link);
                }
                text_result(value.to_string(), Some(value), false)
            }
            // The calling agent reads the message: bad input, denial, not found.
            Err(e @ Error::UnknownOperation { .. }) => text_result(e.to_string(), None, true),
            Err(e) => {
                text_result(e.to_string(), Some(json!({"error": {"code": e.code(), "message": e.to_string()}})), true)
            }
        })
    }
}

/// What `/mcp`'s middleware shares: the service (tokens, limits) and the
/// open sessions of each token, least recently used first.
#[derive(Clone)]
pub struct Gate {
    service: Service,
    manager: Arc<LocalSessionManager>,
    sessions: Arc<std::sync::Mutex<HashMap<u64, VecDeque<Arc<str>>>>>,
    hasher: std::collections::hash_map::RandomState,
}

impl Gate {
    fn token_key(&self, secret: &str) -> u64 {
        self.hasher.hash_one(secret)
    }

    /// A request on a session: it becomes the token's most recently used.
    /// False when another token opened it (a session is its opener's only).
    fn touch(&self, key: u64, id: &str) -> bool {
        let mut all = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(ids) = all.get_mut(&key)
            && let Some(i) = ids.iter().position(|s| &**s == id)
        {
            let s = ids.remove(i).expect("present");
            ids.push_back(s);
            return true;
        }
        !all.values().any(|ids| ids.iter().any(|s| &**s == id))
    }

    /// A session just opened by the token; returns the ones to close so the
    /// token keeps at most its cap (closed sessions and those that expired
    /// are dropped from the count first).
    async fn opened(&self, key: u64, id: Arc<str>) -> Vec<Arc<str>> {
        let live: std::collections::HashSet<Arc<str>> = self.manager.sessions.read().await.keys().cloned().collect();
        let cap = self.service.config().limits.mcp_sessions_per_token as usize;
        let mut all = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        all.retain(|_, ids| {
            ids.retain(|s| live.contains(s));
            !ids.is_empty()
        });
        let ids = all.entry(key).or_default();
        ids.push_back(id);
        let over = ids.len().saturating_sub(cap);
        ids.drain(..over).collect()
    }
}

/// Middleware for `/mcp`: a valid Bearer token is required, its caller
/// rides along in the request extensions; requests are rate limited per
/// token, refused tokens per address, and each token keeps at most
/// `limits.mcp_sessions_per_token` sessions open.
pub async fn authenticate(State(gate): State<Gate>, mut req: Request, next: Next) -> Response {
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
    let key = gate.token_key(&secret);
    let session = req.headers().get("mcp-session-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    if let Some(id) = &session
        && !gate.touch(key, id)
    {
        let body = axum::Json(json!({"error": {"code": "not_found", "message": "no such MCP session for this token"}}));
        return (axum::http::StatusCode::NOT_FOUND, body).into_response();
    }
    req.extensions_mut().insert(caller);
    let response = next.run(req).await;
    if session.is_none()
        && let Some(id) = response.headers().get("mcp-session-id").and_then(|v| v.to_str().ok())
    {
        for old in gate.opened(key, Arc::from(id)).await {
            tracing::info!(session = %old, "MCP session closed: its token opened more than limits.mcp_sessions_per_token");
            if let Err(e) = gate.manager.close_session(&old).await {
                tracing::warn!(error = %e, "cannot close an MCP session");
            }
        }
    }
    response
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

/// `/mcp` as an axum router. `hosts` are the Host names it answers to
/// (loopback is always allowed).
pub fn router(service: Service, hosts: Vec<String>) -> axum::Router {
    let mut allowed = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
    let any = hosts.iter().any(|h| h == "*");
    allowed.extend(hosts);
    let config = StreamableHttpServerConfig::default().with_allowed_hosts(allowed);
    // `*` in server.allowed_hosts: any host name (the edge applies the same list).
    let config = if any { config.disable_allowed_hosts() } else { config };
    let for_factory = service.clone();
    let manager = Arc::new(LocalSessionManager::default());
    let mcp =
        StreamableHttpService::new(move || Ok(McpServer::new(for_factory.clone(), None)), manager.clone(), config);
    let gate = Gate { service, manager, sessions: Arc::default(), hasher: Default::default() };
    axum::Router::new().nest_service("/mcp", mcp).layer(axum::middleware::from_fn_with_state(gate, authenticate))
}

/// Serves MCP over stdin/stdout as `caller` until the client hangs up.
pub async fn serve_stdio(service: Service, caller: Caller) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    use rmcp::ServiceExt;
    let running = McpServer::new(service, Some(caller)).serve(rmcp::transport::stdio()).await?;
    running.waiting().await?;
    Ok(())
}
