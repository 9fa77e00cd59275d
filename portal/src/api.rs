//! REST API `/api/v1`: `POST /ops/{operation}` runs any operation with a JSON
//! body; readable GETs cover the common reads. Same policy as every surface.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use switchboard_core::Error;
use switchboard_core::ops::OpKind;

use crate::error::ApiError;
use crate::{ApiCaller, PortalState};

pub(crate) fn routes(state: &PortalState) -> Router<PortalState> {
    Router::new()
        .route("/ops/{operation}", post(run_op))
        .route("/operations", get(operations))
        .route("/openapi.json", get(|| async { Json(crate::openapi::document()) }))
        .route("/projects", get(find_projects))
        .route("/projects/{slug}", get(get_project))
        .route("/projects/{slug}/history", get(history))
        .route("/projects/{slug}/score", get(score))
        .route("/teams", get(list_teams))
        .route("/teams/{slug}", get(get_team))
        .route("/dependents", get(dependents))
        .route("/deployments", get(list_deployments))
        .route("/incidents", get(list_incidents))
        .route("/runs", get(list_runs))
        .route("/runs/{id}", get(get_run))
        .fallback(|| async { ApiError(Error::not_found("API route", "this path")) })
        .layer(axum::middleware::from_fn_with_state(Browsers::new(state), browsers))
}

/// Who may change things through the API from a browser: pages of this
/// portal (the same origin: what the `Origin` names is the `Host` asked)
/// and the configured CORS origins. Programs send no `Origin`; a page of
/// another site (another host, or another port of this one) always does,
/// and is refused, so no web page can use a visitor's access (the demo's
/// admin, a signed-in session).
#[derive(Clone)]
struct Browsers {
    origins: std::sync::Arc<Vec<String>>,
}

impl Browsers {
    fn new(state: &PortalState) -> Self {
        Self { origins: state.service.config().server.cors_origins.clone().into() }
    }

    fn allowed(&self, origin: &str, host: Option<&str>) -> bool {
        let authority = origin.split_once("://").map(|(_, a)| a).filter(|a| !a.contains('/'));
        self.origins.iter().any(|o| o == origin)
            || authority.zip(host).is_some_and(|(a, h)| a.eq_ignore_ascii_case(h.trim()))
    }
}

async fn browsers(
    State(b): State<Browsers>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Result<axum::response::Response, ApiError> {
    let method = req.method();
    if !matches!(*method, axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS) {
        refuse_foreign(&b, req.headers())?;
    }
    Ok(next.run(req).await)
}

fn refuse_foreign(b: &Browsers, headers: &axum::http::HeaderMap) -> Result<(), ApiError> {
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    let foreign = match header("origin") {
        Some(o) => !b.allowed(o, header("host")),
        None => header("sec-fetch-site") == Some("cross-site"),
    };
    if foreign {
        let reason = switchboard_core::error::DenyReason::CrossOrigin;
        return Err(ApiError(Error::Denied { operation: "this request".into(), reason }));
    }
    // Only JSON is taken: a form or `text/plain` body (all a page of
    // another site can send without asking first) is refused.
    let json = header("content-type")
        .and_then(|c| c.split(';').next())
        .is_some_and(|c| c.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        let e = Error::bad_input(None, "send the arguments as JSON, with `Content-Type: application/json`");
        return Err(ApiError(e));
    }
    Ok(())
}

/// Routes whose bodies are documents larger than the API's limit (SBOMs),
/// each with its own limit, behind the same sign-in gate.
pub(crate) fn uploads(state: PortalState) -> Router {
    let (sbom_limit, logs_limit) =
        (state.service.config().import.sbom_max_bytes, state.service.config().logs.ingest_max_bytes);
    let gated = |r: Router<PortalState>, limit: usize| {
        r.layer(axum::middleware::from_fn_with_state(state.clone(), crate::gate::require_sign_in))
            .with_state(state.clone())
            .layer(tower_http::limit::RequestBodyLimitLayer::new(limit))
    };
    gated(Router::new().route("/api/v1/projects/{slug}/sbom", post(import_sbom)), sbom_limit)
        .merge(gated(Router::new().route("/api/v1/logs", post(ingest_logs)), logs_limit))
}

/// One line of `POST /api/v1/logs`.
fn log_line(n: usize, v: &Value) -> Result<(String, switchboard_core::logs::LogLine), Error> {
    use switchboard_core::logs::{Level, LogLine};
    let at = |m: &str| Error::field(&format!("line {n}"), m.to_owned());
    let project = v["project"].as_str().ok_or_else(|| at("needs \"project\" (a project's slug)"))?;
    let ts = match &v["ts"] {
        Value::Number(ms) => ms.as_i64().ok_or_else(|| at("\"ts\" in epoch milliseconds is a whole number"))?,
        Value::String(t) => chrono::DateTime::parse_from_rfc3339(t)
            .map_err(|_| at("\"ts\" is an RFC 3339 time (2026-12-05T14:03:07Z) or epoch milliseconds"))?
            .timestamp_millis(),
        _ => return Err(at("needs \"ts\": an RFC 3339 time or epoch milliseconds")),
    };
    let level = match &v["level"] {
        Value::String(l) => Level::parse(l),
        Value::Number(n) => Level::from_severity_number(n.as_i64().unwrap_or(9)),
        _ => Level::Info,
    };
    let message = ["message", "msg", "body"]
        .iter()
        .find_map(|k| v[*k].as_str())
        .ok_or_else(|| at("needs \"message\" (or \"msg\", \"body\")"))?;
    let attributes = v["attributes"]
        .as_object()
        .map(|a| a.iter().map(|(k, x)| (k.clone(), x.as_str().map_or_else(|| x.to_string(), str::to_owned))).collect())
        .unwrap_or_default();
    Ok((project.to_owned(), LogLine { ts, level, message: message.to_owned(), attributes }))
}

/// `POST /api/v1/logs`: JSON lines, one log line each (`project`, `ts`,
/// `level`, `message`, `attributes`), into the embedded table. Editors and
/// up; a bad line refuses the whole body, naming it.
async fn ingest_logs(
    State(state): State<PortalState>,
    caller: ApiCaller,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let text = std::str::from_utf8(&body).map_err(|_| Error::bad_input(None, "the body is not UTF-8 text"))?;
    let mut lines = Vec::new();
    for (n, raw) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(raw)
            .map_err(|e| Error::field(&format!("line {}", n + 1), format!("not JSON: {e}")))?;
        lines.push(log_line(n + 1, &v)?);
    }
    let written = state.service.ingest_logs(&caller.0, lines).await?;
    Ok(Json(json!({"written": written})))
}

#[derive(serde::Deserialize)]
struct SbomQuery {
    name: Option<String>,
}

/// `POST /api/v1/projects/{slug}/sbom`: the body is the SBOM itself
/// (CycloneDX or SPDX JSON); `?name=` names where it came from.
async fn import_sbom(
    State(state): State<PortalState>,
    caller: ApiCaller,
    Path(slug): Path<String>,
    Query(q): Query<SbomQuery>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let sbom: Value = serde_json::from_slice(&body)
        .map_err(|e| Error::field("sbom", format!("the body is not valid JSON (CycloneDX or SPDX JSON): {e}")))?;
    execute(&state, &caller, "import_sbom", json!({"project": slug, "sbom": sbom, "name": q.name})).await
}

async fn execute(state: &PortalState, caller: &ApiCaller, name: &str, args: Value) -> Result<Json<Value>, ApiError> {
    let output = state.service.execute_json(&caller.0, name, args).await?;
    Ok(Json(output.to_json()))
}

async fn run_op(
    State(state): State<PortalState>,
    caller: ApiCaller,
    Path(operation): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    if OpKind::from_name(&operation).is_none() {
        return Err(Error::UnknownOperation { name: operation }.into());
    }
    let args: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(&body).map_err(|e| Error::bad_input(None, format!("the body is not valid JSON: {e}")))?
    };
    execute(&state, &caller, &operation, args).await
}

async fn operations() -> Json<Value> {
    let ops: Vec<Value> = OpKind::ALL
        .iter()
        .map(|k| {
            let s = k.spec();
            json!({"name": s.name, "effect": s.effect, "description": s.description,
                   "example": serde_json::from_str::<Value>(s.example).unwrap_or(Value::Null),
                   "input_schema": k.input_schema()})
        })
        .collect();
    Json(json!({"operations": ops}))
}

/// Query strings are flat text; numbers (`limit`) are converted, the rest
/// stays text for the operation to validate.
fn query_args(q: Vec<(String, String)>, renames: &[(&str, &str)]) -> Value {
    let mut args = serde_json::Map::new();
    for (k, v) in q {
        let key = renames.iter().find(|(from, _)| *from == k).map(|(_, to)| (*to).to_owned()).unwrap_or(k);
        let value = match key.as_str() {
            "limit" => v.parse::<u64>().map(Value::from).unwrap_or(Value::String(v)),
            "kinds" => Value::Array(v.split(',').map(|s| Value::String(s.trim().to_owned())).collect()),
            "direct_only" => match v.as_str() {
                "true" | "1" | "yes" => Value::Bool(true),
                "false" | "0" | "no" => Value::Bool(false),
                _ => Value::String(v),
            },
            _ => Value::String(v),
        };
        args.insert(key, value);
    }
    Value::Object(args)
}

async fn find_projects(
    State(s): State<PortalState>,
    c: ApiCaller,
    Query(q): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, ApiError> {
    let mut args = query_args(q, &[("q", "query"), ("type", "project_type")]);
    // `uses=pkg` or `uses=pkg@1.2.3`
    if let Some(Value::String(u)) = args.as_object_mut().and_then(|a| a.remove("uses")) {
        let (package, version) = match u.rsplit_once('@').filter(|(p, _)| !p.is_empty()) {
            Some((p, v)) => (p.to_owned(), Some(v.to_owned())),
            None => (u, None),
        };
        args["uses"] = json!({"package": package, "version": version});
    }
    execute(&s, &c, "find_projects", args).await
}

async fn get_project(
    State(s): State<PortalState>,
    c: ApiCaller,
    Path(slug): Path<String>,
) -> Result<Json<Value>, ApiError> {
    execute(&s, &c, "get_project", json!({"project": slug})).await
}

async fn history(
    State(s): State<PortalState>,
    c: ApiCaller,
    Path(slug): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, ApiError> {
    let mut args = query_args(q, &[]);
    args["project"] = json!(slug);
    execute(&s, &c, "project_history", args).await
}

async fn score(State(s): State<PortalState>, c: ApiCaller, Path(slug): Path<String>) -> Result<Json<Value>, ApiError> {
    execute(&s, &c, "project_score", json!({"project": slug})).await
}

async fn list_teams(State(s): State<PortalState>, c: ApiCaller) -> Result<Json<Value>, ApiError> {
    execute(&s, &c, "list_teams", json!({})).await
}

async fn get_team(
    State(s): State<PortalState>,
    c: ApiCaller,
    Path(slug): Path<String>,
) -> Result<Json<Value>, ApiError> {
    execute(&s, &c, "get_team", json!({"team": slug})).await
}

macro_rules! query_get {
    ($name:ident, $op:literal) => {
        async fn $name(
            State(s): State<PortalState>,
            c: ApiCaller,
            Query(q): Query<Vec<(String, String)>>,
        ) -> Result<Json<Value>, ApiError> {
            execute(&s, &c, $op, query_args(q, &[])).await
        }
    };
}

query_get!(dependents, "dependents");
query_get!(list_deployments, "list_deployments");
query_get!(list_incidents, "list_incidents");
query_get!(list_runs, "list_runs");

async fn get_run(State(s): State<PortalState>, c: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    execute(&s, &c, "get_run", json!({"run": id})).await
}
