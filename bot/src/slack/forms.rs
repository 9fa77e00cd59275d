//! Modal forms: `/sb new` opens a form to create a project from a template
//! (name, template, team); its submission requests `scaffold_project` as the
//! person who submitted it. A refusal is shown on the form, next to the
//! field it is about; a request is posted, with its Approve / Deny buttons,
//! in the channel the command was typed in.

use serde_json::{Value, json};
use switchboard_core::Error;
use switchboard_core::model::ChatPlatform;
use switchboard_core::ops::OpKind;

use super::caller;
use crate::chat::ChatState;
use crate::messages;

/// The `callback_id` of the create-a-project form.
pub const SCAFFOLD: &str = "scaffold_project";

/// Words after `/sb` that open the form.
pub fn opens_form(text: &str) -> bool {
    matches!(text.trim().to_lowercase().as_str(), "new" | "new project" | "create" | "scaffold")
}

fn option(text: &str, value: &str) -> Value {
    json!({"text": {"type": "plain_text", "text": text.chars().take(75).collect::<String>()}, "value": value})
}

/// The form, remembering the channel it was opened from.
pub async fn scaffold_view(state: &ChatState, channel: &str) -> Result<Value, String> {
    let config = state.service.config();
    if config.templates.is_empty() {
        return Err(messages::no_templates().into());
    }
    let templates: Vec<Value> = config
        .templates
        .iter()
        .take(100)
        .map(|(name, t)| {
            let label =
                if t.description.is_empty() { name.to_string() } else { format!("{name} — {}", t.description) };
            option(&label, name.as_str())
        })
        .collect();
    let teams = state.service.graph().list_teams().await.map_err(|e| format!("cannot list teams: {e}"))?;
    let teams: Vec<Value> = teams.iter().take(100).map(|t| option(&t.name, t.slug.as_str())).collect();
    let input = |id: &str, label: &str, element: Value, optional: bool| {
        json!({"type": "input", "block_id": id, "optional": optional,
               "label": {"type": "plain_text", "text": label}, "element": element})
    };
    let mut blocks = vec![
        input(
            "name",
            "Name (the project's slug)",
            json!({"type": "plain_text_input", "action_id": "value", "placeholder": {"type": "plain_text", "text": "e.g. billing-events"}}),
            false,
        ),
        input(
            "template",
            "Template",
            json!({"type": "static_select", "action_id": "value", "options": templates}),
            false,
        ),
    ];
    if !teams.is_empty() {
        blocks.push(input(
            "team",
            "Owning team (default: yours)",
            json!({"type": "static_select", "action_id": "value", "options": teams}),
            true,
        ));
    }
    Ok(json!({
        "type": "modal",
        "callback_id": SCAFFOLD,
        "private_metadata": channel,
        "title": {"type": "plain_text", "text": "New project"},
        "submit": {"type": "plain_text", "text": "Request"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks,
    }))
}

/// The value a person entered or picked in block `id`.
fn value(view: &Value, id: &str) -> Option<String> {
    let v = &view["state"]["values"][id]["value"];
    v["value"]
        .as_str()
        .or(v["selected_option"]["value"].as_str())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The acknowledgement of a submitted form: `clear` when the request was
/// made, errors by field when not.
pub async fn submit(state: &ChatState, p: &Value) -> Value {
    let view = &p["view"];
    if view["callback_id"] != SCAFFOLD {
        return json!({"response_action": "errors", "errors": {"name": messages::unknown_form()}});
    }
    let Some(user) = p["user"]["id"].as_str() else {
        return json!({"response_action": "errors", "errors": {"name": "Slack did not say who submitted the form"}});
    };
    let mut args = json!({"name": value(view, "name").unwrap_or_default(), "template": value(view, "template").unwrap_or_default()});
    if let Some(team) = value(view, "team") {
        args["team"] = json!(team);
    }
    let caller = caller(state, user).await;
    let turn = state.conversation.run_operation(&caller, OpKind::ScaffoldProject, args).await;
    match turn {
        Ok(reply) => {
            let channel = view["private_metadata"].as_str().filter(|c| !c.is_empty()).unwrap_or(user).to_owned();
            let key = format!("slack:form:{}", view["id"].as_str().unwrap_or(user));
            state.send(key, ChatPlatform::Slack, &channel, &reply, |m| m).await;
            json!({"response_action": "clear"})
        }
        Err(e) => {
            let field = match &e {
                Error::BadInput { field: Some(f), .. } if ["name", "template", "team"].contains(&f.as_str()) => {
                    f.clone()
                }
                _ => "name".to_owned(),
            };
            json!({"response_action": "errors", "errors": {field: e.to_string()}})
        }
    }
}
