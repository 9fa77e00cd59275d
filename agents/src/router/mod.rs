//! The intent router: chat text → an operation call, with no LLM and no
//! network. Pure: it reads only the text and a catalog of names, so it is
//! fast (microseconds) and tested on its own. It never guesses a required
//! argument: it asks. Typos in names are corrected only for reads; for
//! writes and automations it asks "did you mean …".

mod catalog;
mod command;
mod intents;
pub mod text;
pub mod time;

use serde_json::{Value, json};
use switchboard_core::ops::OpKind;

pub use catalog::{Catalog, Names, Resolved, distance};

use crate::messages;

/// What the router made of a message.
#[derive(Clone, Debug, PartialEq)]
pub enum Routed {
    /// Run this operation with these arguments (still subject to policy).
    /// `unapplied`: words of the message that would change the answer but
    /// that the call does not carry (the reply names them).
    Call { operation: OpKind, arguments: Value, unapplied: Vec<String> },
    /// Answer with this text instead: help, a question for a missing
    /// argument, or "I could not tell".
    Reply { text: String },
    /// Ask which one was meant: each choice is the message again with one
    /// of the close names in it (surfaces show them as buttons).
    Choose { text: String, choices: Vec<String> },
}

impl Routed {
    pub(crate) fn call(operation: OpKind, arguments: Value) -> Self {
        Self::Call { operation, arguments, unapplied: Vec::new() }
    }

    pub(crate) fn reply(text: impl Into<String>) -> Self {
        Self::Reply { text: text.into() }
    }

    /// `{"operation": NAME, "arguments": {...}}` (with `"unapplied": [...]`
    /// when words were not applied), or `{"operation": null, "reply": "..."}`
    /// (with `"choices": [...]` when it asks which one).
    pub fn to_json(&self) -> Value {
        match self {
            Self::Call { operation, arguments, unapplied } if unapplied.is_empty() => {
                json!({"operation": operation.name(), "arguments": arguments})
            }
            Self::Call { operation, arguments, unapplied } => {
                json!({"operation": operation.name(), "arguments": arguments, "unapplied": unapplied})
            }
            Self::Reply { text } => json!({"operation": null, "reply": text}),
            Self::Choose { text, choices } => json!({"operation": null, "reply": text, "choices": choices}),
        }
    }

    /// The text of a reply or question.
    pub fn reply_text(&self) -> Option<&str> {
        match self {
            Self::Reply { text } | Self::Choose { text, .. } => Some(text),
            Self::Call { .. } => None,
        }
    }
}

/// Routes one message.
pub fn route(message: &str, catalog: &Catalog) -> Routed {
    if message.trim().is_empty() {
        return Routed::reply(messages::empty());
    }
    if message.chars().count() > text::MAX_CHARS {
        return Routed::reply(messages::too_long(text::MAX_CHARS));
    }
    let cleaned = text::clean(message);
    if cleaned.words.is_empty() {
        return Routed::reply(messages::only_code());
    }
    if let Some(kind) = command_op(&cleaned) {
        return command::operation(kind, &cleaned);
    }
    intents::route(&cleaned, catalog)
}

/// `get_project …` is command syntax; a plain word such as `deploy` is
/// command syntax only with `key=value` or JSON arguments.
fn command_op(cleaned: &text::Cleaned) -> Option<OpKind> {
    let kind = OpKind::from_name(cleaned.words.first()?)?;
    (kind.name().contains('_') || cleaned.text.contains(['=', '{', '['])).then_some(kind)
}

/// Whether the router answers this message itself even when a language
/// model is configured: command syntax (`/sb …`, `get_project …`), `help`,
/// decisions typed as words (`approve RUN`, `deny RUN because …`: the terminal's
/// buttons; a model may not decide on runs), and messages it declines to
/// read (empty, too long, only code).
pub fn is_direct(message: &str) -> bool {
    if message.trim().is_empty() || message.chars().count() > text::MAX_CHARS {
        return true;
    }
    let cleaned = text::clean(message);
    let decision = matches!(cleaned.words.first().map(String::as_str), Some("approve" | "deny"))
        && cleaned.words.get(1).is_some_and(|w| w.parse::<switchboard_core::ids::RunId>().is_ok());
    cleaned.words.is_empty()
        || cleaned.command
        || cleaned.words == ["help"]
        || decision
        || command_op(&cleaned).is_some()
}
