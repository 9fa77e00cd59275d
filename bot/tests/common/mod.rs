//! Helpers shared by the conversation tests.

use switchboard_bot::{Block, Reply};

/// The actions of every button in a reply, in order.
pub fn buttons(reply: &Reply) -> Vec<String> {
    reply
        .blocks
        .iter()
        .filter_map(|b| match b {
            Block::Buttons { buttons } => Some(buttons.iter().map(|b| b.action.clone()).collect::<Vec<_>>()),
            _ => None,
        })
        .flatten()
        .collect()
}
