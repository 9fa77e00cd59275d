//! What Switchboard's tests share, kept out of the crates the release binary
//! is built from:
//! - [`chat`]: stateful fakes of Slack's Web API (with Socket Mode) and
//!   Discord's REST API and gateway on loopback;
//! - [`llm`]: a scripted OpenAI-compatible model server;
//! - [`receiver`]: an HTTP endpoint that records what is posted to it;
//! - [`conformance`]: what every storage backend must do;
//! - [`fixtures`]: vendored fixture trees read as a repository import reads them;
//! - [`World`]: a service over a fresh embedded store with a manual clock,
//!   a [`World::settle`] step instead of sleeps, and a check that fails the
//!   test when a background task panicked;
//! - [`snapshot`]: the bot's wording compared with files under `tests/snapshots`.
//!
//! The GitHub simulator is not here: the demo and the benchmarks use it, so
//! it stays in `switchboard-automations`.

pub mod chat;
pub mod conformance;
pub mod dependency_track;
pub mod embeddings;
pub mod fixtures;
pub mod llm;
pub mod panics;
pub mod receiver;
pub mod snapshot;
mod world;

pub use world::{Builder, T0, World};
