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
    Call { operation: OpKind, arguments: Value },
    /// Answer with this text instead: help, a question for a missing
    /// argument, "did you mean", or "I could not tell".
    Reply { text: String },
}

impl Routed {
    pub(crate) fn call(operation: OpKind, arguments: Value) -> Self {
        Self::Call { operation, arguments }
    }

    pub(crate) fn reply(text: impl Into<String>) -> Self {
        Self::Reply { text: text.into() }
    }

    /// `{"operation": NAME, "arguments": {...}}` or `{"operation": null, "reply": "..."}`.
    pub fn to_json(&self) -> Value {
        match self {
            Self::Call { operation, arguments } => json!({"operation": operation.name(), "arguments": arguments}),
            Self::Reply { text } => json!({"operation": null, "reply": text}),
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
