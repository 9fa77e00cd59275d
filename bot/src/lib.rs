//! Switchboard's conversation core, independent of any chat platform: a turn
//! of text becomes an operation (through the intent router) executed through
//! `core::Service`, and the result a platform-neutral [`Reply`] that each
//! surface renders: terminal text, the web chat, Slack Block Kit, Discord embeds.

pub mod answer;
pub mod chat;
pub mod clients;
pub mod conversation;
pub mod courier;
pub mod discord;
pub mod logs;
pub mod mailboxes;
pub mod messages;
pub mod reply;
pub mod security;
pub mod send;
pub mod slack;

pub use conversation::{Conversation, Turn};
pub use reply::{Block, Button, ButtonStyle, Reply};
