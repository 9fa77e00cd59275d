//! Switchboard's core: the domain model, every operation and the one way to
//! run them (`Service::execute`), the policy, the score, the config, and the
//! storage traits backends implement. No I/O beyond those traits.

pub mod advisory;
pub mod bus;
pub mod campaign;
pub mod clock;
pub mod config;
pub mod cpu;
pub mod demo;
pub mod demo_advisories;
pub mod demo_logs;
mod demo_org;
pub mod error;
pub mod event;
pub mod follow;
pub mod health;
pub mod ids;
pub mod import;
pub mod inbox;
pub mod limits;
pub mod logs;
pub mod messages;
pub mod metrics;
pub mod model;
pub mod notification;
pub mod ops;
pub mod outbox;
pub mod policy;
pub mod queue;
pub mod schedule;
pub mod score;
pub mod semantic;
pub mod service;
pub mod store;
pub mod texts;
pub mod time;
pub mod traces;

pub use error::{Error, Result};
pub use policy::Caller;
pub use service::Service;
