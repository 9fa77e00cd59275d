//! Helpers shared by the conversation and chat platform tests: the buttons
//! of a reply; a demo organisation of 40 projects on a fresh store, and the
//! chat state over it. Each test binary uses part of them.
#![allow(dead_code)]

use std::sync::Arc;

use switchboard_bot::chat::ChatState;
use switchboard_bot::{Block, Conversation, Reply};
use switchboard_core::clock::Clock;
use switchboard_core::config::Config;
use switchboard_core::demo::{self, DemoOptions};
use switchboard_core::model::Role;
use switchboard_core::{Caller, Service};
use switchboard_store::SqliteStore;

pub struct Seeded {
    pub service: Service,
    /// The outbox, for the tests of what is sent on its own.
    pub store: SqliteStore,
    pub state: ChatState,
    pub dir: tempfile::TempDir,
}

pub async fn seeded(config: Config, clock: Arc<dyn Clock>) -> Seeded {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path(), 2).unwrap();
    let service = Service::new(Arc::new(store.clone()), Arc::new(store.clone()), Arc::new(config.clone()), clock)
        .with_mailboxes(Arc::new(store.clone()), Arc::new(store.clone()));
    let admin = Caller::new(demo::DEMO_ADMIN, Role::Admin, "demo");
    for c in demo::generate(&DemoOptions { projects: 40, now: service.now(), seed: 3 }, &config, 100) {
        service.import(&admin, &c.batch, &c.events).await.unwrap();
    }
    let conversation = Arc::new(Conversation::new(service.clone()).await.unwrap());
    let state = ChatState::new(service.clone(), conversation).unwrap();
    Seeded { service, store, state, dir }
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
