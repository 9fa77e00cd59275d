//! Storage backends for Switchboard and the conformance suite every backend
//! passes. `sqlite` is the embedded default: one file, no server.

pub mod conformance;
pub mod sqlite;

pub use sqlite::{DB_FILE, SqliteStore};
