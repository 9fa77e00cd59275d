//! The OpenAPI 3.1 document, generated from the operation registry so it
//! lists every operation with its JSON Schema.

use serde_json::{Value, json};
use switchboard_core::ops::{Effect, OpKind};

fn error_response(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

fn rate_limited() -> Value {
    let mut r =
        error_response("Too many requests: limits.api_per_minute, or too many refused tokens from this address");
    r["headers"] = json!({"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}});
    r
}

fn get(summary: &str, op: &str, params: &[(&str, &str, bool)]) -> Value {
    let parameters: Vec<Value> = params
        .iter()
        .map(|(name, place, required)| json!({"name": name, "in": place, "required": required, "schema": {"type": "string"}}))
        .collect();
    json!({"get": {
        "summary": summary,
        "description": format!("Runs the `{op}` operation."),
        "parameters": parameters,
        "responses": {
            "200": {"description": "The operation's output", "content": {"application/json": {"schema": {"type": "object"}}}},
            "400": error_response("Invalid input"),
            "401": error_response("A token is required, or the one sent is not valid"),
            "403": error_response("Not allowed"),
            "404": error_response("Not found"),
            "429": rate_limited()
        }
    }})
}

pub(crate) fn document() -> Value {
    let mut paths = serde_json::Map::new();
    for k in OpKind::ALL {
        let s = k.spec();
        let mut schema = k.input_schema();
        if let Some(o) = schema.as_object_mut() {
            o.remove("$schema");
        }
        let note = match s.effect {
            Effect::Automation => " Creates a pending run that someone with the approver role must approve.",
            _ => "",
        };
        paths.insert(
            format!("/api/v1/ops/{}", s.name),
            json!({"post": {
                "operationId": s.name,
                "summary": s.description,
                "description": format!("{}{note}", s.description),
                "tags": [s.effect.as_str()],
                "requestBody": {"required": true, "content": {"application/json": {
                    "schema": schema,
                    "example": serde_json::from_str::<Value>(s.example).unwrap_or(Value::Null)
                }}},
                "responses": {
                    "200": {"description": "The operation's output", "content": {"application/json": {"schema": {"type": "object"}}}},
                    "400": error_response("Invalid input: the message names the field"),
                    "401": error_response("A token is required, or the one sent is not valid"),
                    "403": error_response("The caller's role does not allow this operation, or the request came from a page of another site"),
                    "404": error_response("Unknown operation or missing entity"),
                    "409": error_response("Conflict with the current state"),
                    "429": rate_limited(),
                    "500": error_response("Internal error, with a reference")
                }
            }}),
        );
    }
    let p = |name: &'static str, place: &'static str, required: bool| (name, place, required);
    paths.insert(
        "/api/v1/projects".into(),
        get(
            "Search projects",
            "find_projects",
            &[
                p("q", "query", false),
                p("team", "query", false),
                p("type", "query", false),
                p("uses", "query", false),
                p("limit", "query", false),
            ],
        ),
    );
    paths.insert("/api/v1/projects/{slug}".into(), get("Show a project", "get_project", &[p("slug", "path", true)]));
    paths.insert(
        "/api/v1/projects/{slug}/history".into(),
        get(
            "A project's history",
            "project_history",
            &[
                p("slug", "path", true),
                p("subject", "query", false),
                p("since", "query", false),
                p("until", "query", false),
                p("kinds", "query", false),
                p("limit", "query", false),
            ],
        ),
    );
    paths.insert(
        "/api/v1/projects/{slug}/score".into(),
        get("A project's score", "project_score", &[p("slug", "path", true)]),
    );
    paths.insert("/api/v1/teams".into(), get("List teams", "list_teams", &[]));
    paths.insert("/api/v1/teams/{slug}".into(), get("Show a team", "get_team", &[p("slug", "path", true)]));
    paths.insert(
        "/api/v1/dependents".into(),
        get(
            "Who uses a package",
            "dependents",
            &[
                p("package", "query", true),
                p("version", "query", false),
                p("ecosystem", "query", false),
                p("limit", "query", false),
            ],
        ),
    );
    paths.insert(
        "/api/v1/deployments".into(),
        get(
            "List deployments",
            "list_deployments",
            &[
                p("project", "query", false),
                p("environment", "query", false),
                p("since", "query", false),
                p("limit", "query", false),
            ],
        ),
    );
    paths.insert(
        "/api/v1/incidents".into(),
        get(
            "List incidents",
            "list_incidents",
            &[
                p("project", "query", false),
                p("team", "query", false),
                p("status", "query", false),
                p("since", "query", false),
                p("limit", "query", false),
            ],
        ),
    );
    paths.insert(
        "/api/v1/runs".into(),
        get("List runs", "list_runs", &[p("status", "query", false), p("limit", "query", false)]),
    );
    paths.insert("/api/v1/runs/{id}".into(), get("Show a run", "get_run", &[p("id", "path", true)]));
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Switchboard API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Every Switchboard operation, with the same permissions as chat and the portal."
        },
        "paths": paths,
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                "description": "An API token from `switchboard token create` (sb_…)"}},
            "schemas": {"Error": {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
                "code": {"type": "string", "enum": ["bad_input", "unknown_operation", "not_found", "denied", "conflict", "unauthenticated", "rate_limited", "internal"]},
                "message": {"type": "string"},
                "field": {"type": ["string", "null"]}
            }}}
        }}}
    })
}
