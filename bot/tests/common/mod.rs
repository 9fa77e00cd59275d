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

/// The spans of this test process as a trace collector would get them (the
/// trace layer at 100 %, nothing filtered). One subscriber a process: nextest
/// runs each test in its own.
pub struct Spans {
    batch: Arc<switchboard_core::traces::Batch>,
    seen: std::sync::Mutex<Vec<opentelemetry_proto::tonic::trace::v1::Span>>,
}

pub fn capture_spans() -> Spans {
    use tracing_subscriber::layer::SubscriberExt;
    let batch = Arc::new(switchboard_core::traces::Batch::new(100_000, 100_000, std::time::Duration::from_millis(1)));
    let layer = switchboard_core::traces::SpanLayer::new(1.0, batch.clone());
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer))
        .expect("the test's own subscriber (run under nextest: a process a test)");
    switchboard_core::traces::turn_on();
    Spans { batch, seen: Default::default() }
}

impl Spans {
    /// The spans named `name` finished so far, with their `call` attribute.
    pub fn named(&self, name: &str) -> Vec<(opentelemetry_proto::tonic::trace::v1::Span, String)> {
        use prost::Message;
        let taken = self.batch.take();
        let request = switchboard_core::traces::otlp::Sender::new(&[]).request(&taken.spans);
        let decoded =
            opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest::decode(request.as_slice())
                .expect("OTLP protobuf");
        let mut seen = self.seen.lock().unwrap();
        seen.extend(decoded.resource_spans.into_iter().flat_map(|r| r.scope_spans).flat_map(|s| s.spans));
        let call = |s: &opentelemetry_proto::tonic::trace::v1::Span| {
            s.attributes.iter().find(|a| a.key == "call").map(|a| format!("{:?}", a.value)).unwrap_or_default()
        };
        seen.iter().filter(|s| s.name == name).map(|s| (s.clone(), call(s))).collect()
    }
}
