//! The `/sb` command: its definition for `discord register-commands`, and
//! what an invocation says as conversation text.

use serde_json::{Value, json};

/// What an invocation of `/sb` asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Said {
    Text(String),
    Link,
}

/// The application command, as Discord's bulk-overwrite endpoint takes it.
pub fn definitions() -> Value {
    let string =
        |name: &str, description: &str| json!({"type": 3, "name": name, "description": description, "required": true});
    json!([{
        "name": "sb",
        "type": 1,
        "description": "Ask Switchboard about projects, deployments and incidents, or request automations",
        "options": [
            {"type": 1, "name": "ask", "description": "Ask a question or give a command, as in chat",
             "options": [string("text", "e.g. who owns payments-api? / which projects use redis 7?")]},
            {"type": 1, "name": "project", "description": "Show a project",
             "options": [string("name", "the project's slug, e.g. payments-api")]},
            {"type": 1, "name": "deploy", "description": "Request a deployment (needs an approval)",
             "options": [string("project", "the project's slug"), string("environment", "e.g. staging")]},
            {"type": 1, "name": "link", "description": "Link this Discord account to your Switchboard user"},
            {"type": 1, "name": "help", "description": "What Switchboard can do"},
        ],
    }])
}

/// The conversation text for an invocation's `data`.
pub fn text_of(data: &Value) -> Result<Said, String> {
    let sub = &data["options"][0];
    let opt = |name: &str| {
        sub["options"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|o| o["name"] == name)
            .and_then(|o| o["value"].as_str())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("/sb {} needs {name}", sub["name"].as_str().unwrap_or("?")))
    };
    match (data["name"].as_str(), sub["name"].as_str()) {
        (Some("sb"), Some("ask")) => Ok(Said::Text(opt("text")?.to_owned())),
        (Some("sb"), Some("project")) => Ok(Said::Text(format!("project {}", opt("name")?))),
        (Some("sb"), Some("deploy")) => {
            Ok(Said::Text(format!("deploy {} to {}", opt("project")?, opt("environment")?)))
        }
        (Some("sb"), Some("link")) => Ok(Said::Link),
        (Some("sb"), Some("help") | None) => Ok(Said::Text("help".into())),
        (Some("sb"), Some(other)) => Err(format!("/sb {other} is not a subcommand; try /sb help")),
        (name, _) => Err(format!(
            "{} is not a Switchboard command; run `switchboard discord register-commands` to refresh them",
            name.unwrap_or("this")
        )),
    }
}
