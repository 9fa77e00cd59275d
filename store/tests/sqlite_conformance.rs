//! The conformance suite on the embedded SQLite backend.

use std::sync::Arc;

use switchboard_store::SqliteStore;
use switchboard_testkit::conformance::Backend;

fn sqlite() -> Backend {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path(), 2).unwrap();
    Backend {
        graph: Arc::new(store.clone()),
        log: Arc::new(store.clone()),
        inbox: Arc::new(store.clone()),
        outbox: Arc::new(store.clone()),
        vectors: Arc::new(store.clone()),
        queue: Arc::new(store),
        guard: Box::new(dir),
    }
}

switchboard_testkit::conformance_suite!(sqlite());
