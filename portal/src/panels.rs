//! The project page's extra panels: the operator text `project_panels.html`
//! (docs/configuration.md, `[texts]`) said with the project.

use serde_json::json;
use switchboard_core::config::Config;
use switchboard_core::model::{FactValue, Project};

/// A fact key as a label: `runbook_url` → "Runbook", `on_call_url` → "On call".
fn label(key: &str) -> String {
    let words = key.strip_suffix("_url").unwrap_or(key).replace('_', " ");
    let mut chars = words.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// The panels' HTML (escaped by the text's own rules), empty for none.
pub(crate) fn project_panels(config: &Config, p: &Project) -> String {
    let facts: serde_json::Map<String, serde_json::Value> =
        p.facts.iter().map(|(k, f)| (k.to_string(), json!(f.value))).collect();
    let web_facts: Vec<serde_json::Value> = p
        .facts
        .iter()
        .filter_map(|(k, f)| match &f.value {
            FactValue::Text(url) if url.starts_with("https://") || url.starts_with("http://") => {
                Some(json!({"key": k.as_str(), "label": label(k.as_str()), "url": url}))
            }
            _ => None,
        })
        .collect();
    let project = json!({
        "slug": p.slug, "name": p.name, "description": p.description, "team": p.team, "type": p.project_type,
        "score": p.score, "facts": facts,
        "links": p.links.iter().map(|l| json!({"title": l.title, "url": l.url})).collect::<Vec<_>>(),
        "environments": p.environments.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
        "github_repository": p.external_ids.github_repository, "pagerduty_service": p.external_ids.pagerduty_service,
        "web_facts": web_facts,
    });
    config.texts.render("project_panels.html", &json!({ "project": project }))
}
