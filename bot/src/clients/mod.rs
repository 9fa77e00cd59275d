//! The chat platforms' clients: what Switchboard calls on Slack's and
//! Discord's APIs, and how a reply looks on each. They know nothing of the
//! handlers that receive from the platforms (`crate::slack`, `crate::discord`).

pub mod discord;
pub mod slack;
