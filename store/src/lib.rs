//! Storage backends for Switchboard (every backend passes the conformance
//! suite in `switchboard-testkit`). `sqlite` is the embedded default: one file, no server.

pub mod sqlite;

pub use sqlite::{DB_FILE, SqliteStore};
