//! `/api`: the REST API's reference, rendered on the server from the same
//! OpenAPI document `/api/v1/openapi.json` serves — every path and
//! operation with its parameters, body fields (name, type, required, what
//! it means), an example and the answers it can give. No script, no CDN.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use serde_json::Value;

use crate::views::banner;
use crate::{PageCaller, PortalState};

pub(crate) struct Field {
    name: String,
    kind: String,
    required: bool,
    about: String,
}

pub(crate) struct Endpoint {
    /// An anchor for links (`op-deploy`, `get-api-v1-projects`).
    anchor: String,
    method: String,
    path: String,
    summary: String,
    description: String,
    /// `read`, `write` or `automation` for operations.
    effect: String,
    params: Vec<Field>,
    body: Vec<Field>,
    example: String,
    /// Status and what it means.
    responses: Vec<(String, String)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "api_reference.html")]
pub(crate) struct ApiReference {
    banner: Option<String>,
    version: String,
    endpoints: Vec<Endpoint>,
}

/// A schema's type in a word or two: `string`, `integer or null`,
/// `array of Dependency`, `one of: a, b`.
fn kind(schema: &Value) -> String {
    if let Some(r) = schema["$ref"].as_str() {
        return r.rsplit('/').next().unwrap_or(r).to_owned();
    }
    if let Some(values) = schema["enum"].as_array() {
        let words: Vec<String> =
            values.iter().map(|v| v.as_str().map(str::to_owned).unwrap_or(v.to_string())).collect();
        return format!("one of: {}", words.join(", "));
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(options) = schema[key].as_array() {
            return options.iter().map(kind).collect::<Vec<_>>().join(" or ");
        }
    }
    match &schema["type"] {
        Value::String(t) if t == "array" => format!("array of {}", kind(&schema["items"])),
        Value::String(t) => t.clone(),
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" or "),
        _ if schema.is_object() && schema["properties"].is_object() => "object".into(),
        _ => "any".into(),
    }
}

fn fields(schema: &Value) -> Vec<Field> {
    let required: Vec<&str> =
        schema["required"].as_array().map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    let Some(props) = schema["properties"].as_object() else { return Vec::new() };
    props
        .iter()
        .map(|(name, s)| Field {
            name: name.clone(),
            kind: kind(s),
            required: required.contains(&name.as_str()),
            about: s["description"].as_str().unwrap_or_default().to_owned(),
        })
        .collect()
}

pub(crate) fn endpoints(doc: &Value) -> Vec<Endpoint> {
    let mut out = Vec::new();
    let Some(paths) = doc["paths"].as_object() else { return out };
    for (path, methods) in paths {
        let Some(methods) = methods.as_object() else { continue };
        for (method, op) in methods {
            let id = op["operationId"].as_str().map(str::to_owned);
            let anchor = match &id {
                Some(id) => format!("op-{id}"),
                None => format!("{method}-{}", path.trim_matches('/').replace(['/', '{', '}'], "-")),
            };
            let params = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| Field {
                    name: format!(
                        "{} ({})",
                        p["name"].as_str().unwrap_or_default(),
                        p["in"].as_str().unwrap_or_default()
                    ),
                    kind: kind(&p["schema"]),
                    required: p["required"].as_bool() == Some(true),
                    about: p["description"].as_str().unwrap_or_default().to_owned(),
                })
                .collect();
            let body = &op["requestBody"]["content"]["application/json"];
            let example = match &body["example"] {
                Value::Null => String::new(),
                e => serde_json::to_string_pretty(e).unwrap_or_default(),
            };
            let mut responses: Vec<(String, String)> = op["responses"]
                .as_object()
                .map(|r| {
                    r.iter()
                        .map(|(s, v)| (s.clone(), v["description"].as_str().unwrap_or_default().to_owned()))
                        .collect()
                })
                .unwrap_or_default();
            responses.sort();
            out.push(Endpoint {
                anchor,
                method: method.to_uppercase(),
                path: path.clone(),
                summary: op["summary"].as_str().unwrap_or_default().to_owned(),
                description: op["description"].as_str().unwrap_or_default().to_owned(),
                effect: op["tags"][0].as_str().unwrap_or_default().to_owned(),
                params,
                body: fields(&body["schema"]),
                example,
                responses,
            });
        }
    }
    // The resource routes first, then the operations by name.
    out.sort_by(|a, b| (a.method == "POST", &a.path).cmp(&(b.method == "POST", &b.path)));
    out
}

pub(crate) async fn page(State(state): State<PortalState>, PageCaller(caller): PageCaller) -> ApiReference {
    let doc = crate::openapi::document();
    ApiReference {
        banner: banner(&state.mode, &caller),
        version: doc["info"]["version"].as_str().unwrap_or_default().to_owned(),
        endpoints: endpoints(&doc),
    }
}
