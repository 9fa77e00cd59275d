//! The MCP server: the operations as tools for outside AI agents, over
//! streamable HTTP at `/mcp` (Bearer tokens) and over stdio. Tools are
//! filtered by the caller's role; an automation tool returns the pending run
//! and the portal page where it can be approved; every call is recorded in
//! the event log.

mod gate;

use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
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

/// `/mcp` as an axum router. `hosts` are the Host names it answers to
/// (loopback is always allowed).
pub fn router(service: Service, hosts: Vec<String>) -> axum::Router {
    let mut allowed = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
    let any = hosts.iter().any(|h| h == "*");
    allowed.extend(hosts);
    let config = StreamableHttpServerConfig::default().with_allowed_hosts(allowed);
    // `*` in server.allowed_hosts: any host name (the edge applies the same list).
    let config = if any { config.disable_allowed_hosts() } else { config };
    // Sessions are kept in the store too: a request on a session another
    // replica opened restores it here.
    let mut config = config;
    config.session_store = Some(Arc::new(gate::StoredSessions { service: service.clone() }));
    let for_factory = service.clone();
    let manager = Arc::new(LocalSessionManager::default());
    let mcp =
        StreamableHttpService::new(move || Ok(McpServer::new(for_factory.clone(), None)), manager.clone(), config);
    let gate = gate::Gate::new(service, manager);
    axum::Router::new().nest_service("/mcp", mcp).layer(axum::middleware::from_fn_with_state(gate, gate::authenticate))
}

/// Serves MCP over stdin/stdout as `caller` until the client hangs up.
pub async fn serve_stdio(service: Service, caller: Caller) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    use rmcp::ServiceExt;
    let running = McpServer::new(service, Some(caller)).serve(rmcp::transport::stdio()).await?;
    running.waiting().await?;
    Ok(())
}
