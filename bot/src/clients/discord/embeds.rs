//! A [`Reply`] as a Discord message: one embed (text as its description,
//! fields as embed fields, tables in a code block) and components (action
//! rows of buttons: actions as `custom_id`, links as link buttons).

use serde_json::{Value, json};

use crate::reply::{Block, ButtonStyle, Reply};

const DESCRIPTION: usize = 4096;
const FIELD_VALUE: usize = 1024;
const FIELDS: usize = 25;
const BUTTONS_PER_ROW: usize = 5;
const ROWS: usize = 5;

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// `{content, embeds, components}` for `reply`; `with_buttons = false`
/// leaves the action buttons out (a decided message).
pub fn message(reply: &Reply, with_buttons: bool) -> Value {
    let mut description = Vec::new();
    let mut fields = Vec::new();
    let mut buttons = Vec::new();
    for b in &reply.blocks {
        match b {
            Block::Text { text } => description.push(text.clone()),
            Block::Fields { fields: f } => {
                for (k, v) in f {
                    fields.push(json!({"name": clip(k, 256), "value": clip(if v.is_empty() { "—" } else { v }, FIELD_VALUE), "inline": true}));
                }
            }
            Block::Table { .. } => {
                description.push(format!("```\n{}\n```", Reply { blocks: vec![b.clone()] }.to_text()))
            }
            Block::Link { title, url } => {
                buttons.push(json!({"type": 2, "style": 5, "label": clip(title, 80), "url": url}))
            }
            Block::Buttons { buttons: bs } if with_buttons => {
                for b in bs {
                    let style = match b.style {
                        ButtonStyle::Primary => 1,
                        ButtonStyle::Danger => 4,
                        ButtonStyle::Default => 2,
                    };
                    buttons.push(json!({"type": 2, "style": style, "label": clip(&b.label, 80), "custom_id": clip(&b.action, 100)}));
                }
            }
            Block::Buttons { .. } => {}
        }
    }
    fields.truncate(FIELDS);
    let mut embed = json!({"description": clip(&description.join("\n\n"), DESCRIPTION)});
    if !fields.is_empty() {
        embed["fields"] = Value::Array(fields);
    }
    let components: Vec<Value> =
        buttons.chunks(BUTTONS_PER_ROW).take(ROWS).map(|row| json!({"type": 1, "components": row})).collect();
    json!({"embeds": [embed], "components": components, "allowed_mentions": {"parse": []}})
}
