//! Helpers shared by the conversation and chat platform tests: the buttons
//! of a reply; a demo organisation of 40 projects on a fresh store, and the
//! chat state over it. Each test binary uses part of them.
#![allow(dead_code)]

use std::sync::Arc;

use switchboard_bot::chat::ChatState;
use switchboard_bot::{Block, Conversation, Reply};
use switchboard_core::Service;
use switchboard_core::config::Config;
use switchboard_store::SqliteStore;
use switchboard_testkit::World;

pub struct Seeded {
    pub service: Service,
    /// The outbox, for the tests of what is sent on its own.
    pub store: SqliteStore,
    pub state: ChatState,
    pub world: World,
}

/// The demo organisation of 40 projects; on the world's manual clock unless
/// `system_clock` (for tests whose platform clients run real timers).
pub async fn seeded(config: Config, system_clock: bool) -> Seeded {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut world = World::builder().config(config).demo(40, 3);
    if system_clock {
        world = world.system_clock();
    }
    let world = world.build().await;
    let service = world.service.clone();
    let conversation = Arc::new(Conversation::new(service.clone()).await.unwrap());
    let state = ChatState::new(service.clone(), conversation).unwrap();
    Seeded { service, store: world.store.clone(), state, world }
}

impl Seeded {
    /// Delivers what the chat handlers put in the outbox, as `serve`'s courier does.
    pub fn deliver(&self) {
        let outbox: Arc<dyn switchboard_core::outbox::Outbox> = Arc::new(self.store.clone());
        switchboard_bot::courier::Courier::new(&self.state, outbox).spawn_delivery();
    }
}

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
