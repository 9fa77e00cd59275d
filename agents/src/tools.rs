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
        Effect::Automation => format!("{} It creates a pending run that a person must approve.", spec.description),
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
/// the agent never approves or denies, whatever the caller's role.
pub fn agent_may_call(kind: OpKind) -> bool {
    !matches!(kind, OpKind::ApproveRun | OpKind::DenyRun)
}

/// The agent's tools in the chat completions format.
pub fn function_tools(caller: &Caller, policy: &PolicyConfig) -> Vec<Value> {
    allowed(caller, policy)
        .filter(|k| agent_may_call(*k))
        .map(|k| {
            json!({"type": "function", "function": {
                "name": k.name(),
                "description": description(k),
                "parameters": k.compact_input_schema(),
            }})
        })
        .collect()
}
