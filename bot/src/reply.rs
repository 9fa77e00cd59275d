//! A platform-neutral reply: text, key/value fields, tables, links to portal
//! pages and buttons. Surfaces render it their way; `to_text` is the terminal's.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ButtonStyle {
    Primary,
    Danger,
    Default,
}

/// A button; `action` is what a click sends back (`approve_run:<id>`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    pub label: String,
    pub action: String,
    pub style: ButtonStyle,
}

impl Button {
    /// What to type for the same effect where there are no buttons (the
    /// terminal, text-only clients): `approve RUN confirm`, `deny RUN because …`.
    pub fn said(&self) -> String {
        if let Some(run) = self.action.strip_prefix("approve_confirmed:") {
            return format!("approve {run} confirm");
        }
        if let Some((run, code)) = self.action.strip_prefix("deny_because:").and_then(|a| a.split_once(':')) {
            return match crate::messages::deny_reason(code) {
                Some(Some(reason)) => format!("deny {run} because {reason}"),
                _ => format!("deny {run}"),
            };
        }
        if let Some(advisory) = self.action.strip_prefix("fix_advisory:") {
            return format!("fix {advisory} everywhere");
        }
        self.action.replace(':', " ").replace("_run", "")
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block {
    Text { text: String },
    Fields { fields: Vec<(String, String)> },
    Table { headers: Vec<String>, rows: Vec<Vec<String>> },
    Link { title: String, url: String },
    Buttons { buttons: Vec<Button> },
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    pub blocks: Vec<Block>,
}

impl Reply {
    pub fn text(text: impl Into<String>) -> Self {
        Self { blocks: vec![Block::Text { text: text.into() }] }
    }

    /// Adds a paragraph; empty text adds nothing.
    pub fn push_text(mut self, text: impl Into<String>) -> Self {
        let text = text.into();
        if !text.is_empty() {
            self.blocks.push(Block::Text { text });
        }
        self
    }

    pub fn fields(mut self, fields: Vec<(String, String)>) -> Self {
        if !fields.is_empty() {
            self.blocks.push(Block::Fields { fields });
        }
        self
    }

    pub fn table(mut self, headers: &[&str], rows: Vec<Vec<String>>) -> Self {
        if !rows.is_empty() {
            self.blocks.push(Block::Table { headers: headers.iter().map(|h| (*h).to_owned()).collect(), rows });
        }
        self
    }

    pub fn link(mut self, title: impl Into<String>, url: impl Into<String>) -> Self {
        self.blocks.push(Block::Link { title: title.into(), url: url.into() });
        self
    }

    pub fn buttons(mut self, buttons: Vec<Button>) -> Self {
        self.blocks.push(Block::Buttons { buttons });
        self
    }

    /// Plain text for terminals: fields aligned, tables in columns, buttons
    /// as the words that do the same thing.
    pub fn to_text(&self) -> String {
        let mut out = Vec::new();
        for b in &self.blocks {
            match b {
                Block::Text { text } => out.push(text.clone()),
                Block::Fields { fields } => {
                    let w = fields.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(0);
                    out.push(fields.iter().map(|(k, v)| format!("  {k:<w$}  {v}")).collect::<Vec<_>>().join("\n"));
                }
                Block::Table { headers, rows } => {
                    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
                    for r in rows {
                        for (i, c) in r.iter().enumerate() {
                            if let Some(w) = widths.get_mut(i) {
                                *w = (*w).max(c.chars().count());
                            }
                        }
                    }
                    let line = |cells: &[String]| {
                        cells
                            .iter()
                            .enumerate()
                            .map(|(i, c)| format!("{c:<w$}", w = widths.get(i).copied().unwrap_or(0)))
                            .collect::<Vec<_>>()
                            .join("  ")
                            .trim_end()
                            .to_owned()
                    };
                    let mut t = vec![format!("  {}", line(headers))];
                    t.extend(rows.iter().map(|r| format!("  {}", line(r))));
                    out.push(t.join("\n"));
                }
                Block::Link { title, url } => out.push(format!("{title}: {url}")),
                Block::Buttons { buttons } => out.push(
                    buttons.iter().map(|b| format!("[{}: say `{}`]", b.label, b.said())).collect::<Vec<_>>().join("  "),
                ),
            }
        }
        out.join("\n")
    }
}
