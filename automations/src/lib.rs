//! Switchboard learns what happens from webhooks. The receivers check each
//! delivery's signature and store it in the durable inbox before answering
//! 202; the processor maps stored deliveries through the rules into
//! operations, with retries and a dead-letter list.

pub mod engine;
pub mod events;
pub mod follow;
pub mod github;
pub mod manifests;
pub mod messages;
pub mod notify;
pub mod process;
pub mod receive;
pub mod refresh;
pub mod repositories;
pub mod rules;
pub mod signature;

pub use process::{Failure, Mapped, Mapper, Processor};
pub use receive::{Hooks, router};
pub use rules::{RuleSet, RulesMapper};
