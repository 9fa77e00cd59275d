//! A [`Reply`] as Slack Block Kit: sections for text (mrkdwn), section
//! fields, tables as preformatted text, links as buttons to the portal,
//! buttons whose `action_id` is the action a click sends back.

use serde_json::{Value, json};

use crate::reply::{Block, ButtonStyle, Reply};

/// Slack's limit on one section's text.
const SECTION_TEXT: usize = 3000;

/// Escapes what Slack's mrkdwn treats as markup.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn clip(s: String) -> String {
    if s.chars().count() <= SECTION_TEXT {
        return s;
    }
    let mut out: String = s.chars().take(SECTION_TEXT - 1).collect();
    out.push('…');
    out
}

/// Block Kit JSON for `reply`.
pub fn blocks_json(reply: &Reply) -> Value {
    let mut out = Vec::new();
    let mut links = Vec::new();
    for b in &reply.blocks {
        match b {
            Block::Text { text } => {
                out.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": clip(escape(text))}}))
            }
            Block::Fields { fields } => {
                for chunk in fields.chunks(10) {
                    let fields: Vec<Value> = chunk
                        .iter()
                        .map(|(k, v)| json!({"type": "mrkdwn", "text": clip(format!("*{}*\n{}", escape(k), escape(v)))}))
                        .collect();
                    out.push(json!({"type": "section", "fields": fields}));
                }
            }
            Block::Table { .. } => {
                let text = Reply { blocks: vec![b.clone()] }.to_text();
                out.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": clip(format!("```{}```", escape(&text)))}}));
            }
            Block::Link { title, url } => links.push(json!({
                "type": "button", "text": {"type": "plain_text", "text": title}, "url": url, "action_id": format!("link:{}", links.len()),
            })),
            Block::Buttons { buttons } => {
                let elements: Vec<Value> = buttons
                    .iter()
                    .map(|b| {
                        let mut e = json!({
                            "type": "button", "text": {"type": "plain_text", "text": b.label},
                            "action_id": b.action, "value": b.action,
                        });
                        match b.style {
                            ButtonStyle::Primary => e["style"] = json!("primary"),
                            ButtonStyle::Danger => e["style"] = json!("danger"),
                            ButtonStyle::Default => {}
                        }
                        e
                    })
                    .collect();
                out.push(json!({"type": "actions", "elements": elements}));
            }
        }
    }
    if !links.is_empty() {
        out.push(json!({"type": "actions", "elements": links}));
    }
    Value::Array(out)
}

/// The reply as one mrkdwn section: what is sent when Slack refuses the
/// blocks (`invalid_blocks`), so the words still arrive.
pub fn text_only(reply: &Reply) -> Value {
    json!([{"type": "section", "text": {"type": "mrkdwn", "text": clip(escape(&reply.to_text()))}}])
}

/// The notification text Slack shows where blocks cannot be (push, previews).
pub fn fallback_text(reply: &Reply) -> String {
    reply.to_text().chars().take(SECTION_TEXT).collect()
}
