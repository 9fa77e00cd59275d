//! The operations as tools for models: the same names, descriptions and
//! (compacted) input schemas for the MCP server and the LLM agent.

use serde_json::{Value, json};
use switchboard_core::Caller;
use switchboard_core::config::PolicyConfig;
use switchboard_core::ops::{Effect, OpKind};
use switchboard_core::policy::required_role;

/// What a model reads about a tool: automations say they only ask.
pub fn description(kind: OpKind) -> String {
    let spec = kind.spec();
    match spec.effect {
        Effect::Automation => {
            spec.description.replace("needs an approval.", "creates a pending run a person must approve.")
        }
        _ => spec.description.to_owned(),
    }
}

/// Operations `caller`'s role allows, in registry order.
pub fn allowed(caller: &Caller, policy: &PolicyConfig) -> impl Iterator<Item = OpKind> {
    let role = caller.role;
    let policy = policy.clone();
    OpKind::ALL.into_iter().filter(move |k| required_role(*k, &policy) <= role)
}

/// Whether the LLM agent may call `kind`. Decisions on runs are people's:
/// the agent never approves, denies or cancels, whatever the caller's role. Merged
/// changes come from GitHub, never from a conversation.
pub fn agent_may_call(kind: OpKind) -> bool {
    !matches!(kind, OpKind::ApproveRun | OpKind::DenyRun | OpKind::CancelRun | OpKind::RecordChange)
}

/// The agent's tools in the chat completions format.
pub fn function_tools(caller: &Caller, policy: &PolicyConfig) -> Vec<Value> {
    allowed(caller, policy)
        .filter(|k| agent_may_call(*k))
        .map(|k| {
            json!({"type": "function", "function": {
                "name": k.name(),
                "description": description(k),
                "parameters": agent_schema(k),
            }})
        })
        .collect()
}

/// Fields only integrations set (webhooks, CI): ids in other systems,
/// timestamps, commit shas, links. A person in chat does not say them, so
/// the agent's schemas leave them out (the operations still accept them).
const INTEGRATION_FIELDS: [&str; 10] = [
    "external_id",
    "external_ids",
    "url",
    "sha",
    "started_at",
    "finished_at",
    "opened_at",
    "resolved_at",
    "actor",
    "duration_ms",
];

/// How times are described in the full schemas.
const TIME_HELP: &str = switchboard_core::time::DESCRIPTION;

/// Longest enum listed in full; longer ones become a string with examples.
const MAX_ENUM: usize = 8;

/// The compact schema of `kind` trimmed further for a model in chat: no
/// integration-only fields, no prose on `limit`, long enums shortened. Keeps
/// the whole catalog within the agent's token budget (see the benchmark).
pub fn agent_schema(kind: OpKind) -> Value {
    let mut schema = kind.compact_input_schema();
    let required: Vec<String> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    if let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        props.retain(|name, _| required.contains(name) || !INTEGRATION_FIELDS.contains(&name.as_str()));
        if let Some(limit) = props.get_mut("limit").and_then(Value::as_object_mut) {
            limit.remove("description");
        }
        for prop in props.values_mut() {
            if prop["description"] == TIME_HELP {
                prop["description"] = json!("time: 30d, today, a date");
            }
        }
    }
    shorten_enums(&mut schema);
    schema
}

fn shorten_enums(v: &mut Value) {
    match v {
        Value::Object(map) => {
            let long = map.get("enum").and_then(Value::as_array).filter(|e| e.len() > MAX_ENUM).cloned();
            if let Some(values) = long {
                map.remove("enum");
                let examples: Vec<&str> = values.iter().take(3).filter_map(Value::as_str).collect();
                map.insert("description".into(), json!(format!("e.g. {}", examples.join(", "))));
            }
            map.values_mut().for_each(shorten_enums);
        }
        Value::Array(items) => items.iter_mut().for_each(shorten_enums),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_core::model::Role;

    #[test]
    fn agent_schemas_drop_integration_fields_but_never_required_ones() {
        let s = agent_schema(OpKind::RecordDeployment);
        let props = s["properties"].as_object().unwrap();
        assert!(props.contains_key("version") && props.contains_key("environment"));
        assert!(!props.contains_key("external_id") && !props.contains_key("sha"), "{s}");
        let s = agent_schema(OpKind::ProjectHistory);
        assert!(s["properties"]["kinds"]["items"].get("enum").is_none(), "{s}");
        assert!(s["properties"]["kinds"]["items"]["description"].as_str().unwrap().starts_with("e.g. "));
        // Short enums stay whole.
        assert!(agent_schema(OpKind::ListIncidents)["properties"]["status"]["enum"].is_array());
    }

    #[test]
    fn time_fields_are_described_briefly_to_the_agent() {
        let tools =
            serde_json::to_string(&function_tools(&Caller::new("ada", Role::Admin, "test"), &PolicyConfig::default()))
                .unwrap();
        assert!(!tools.contains(TIME_HELP), "the long time help reached the agent's tools");
        assert!(tools.contains("time: 30d, today, a date"));
    }

    #[test]
    fn the_agent_never_gets_decisions_on_runs() {
        let admin = Caller::new("ada", Role::Admin, "test");
        let names: Vec<String> = function_tools(&admin, &PolicyConfig::default())
            .iter()
            .map(|t| t["function"]["name"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(names.len(), OpKind::ALL.len() - 4);
        assert!(!names.iter().any(|n| n.ends_with("_run") && n != "get_run"), "{names:?}");
        assert!(!names.iter().any(|n| n == "record_change"), "merged changes come from GitHub");
    }
}
