//! Switchboard's conversation core, independent of any chat platform: a turn
//! of text becomes an operation (through the intent router) executed through
//! `core::Service`, and the result a platform-neutral [`Reply`] that each
//! surface renders (terminal text now; web chat, Slack and Discord later).

pub mod answer;
pub mod conversation;
pub mod messages;
pub mod reply;

pub use conversation::{Conversation, Turn};
pub use reply::{Block, Button, ButtonStyle, Reply};
