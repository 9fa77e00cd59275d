//! Panics in background tasks fail the test. Tokio catches a spawned task's
//! panic and the test would go on (and often pass) without the work it did;
//! a [`Watch`] sees every panic of the process from when it was made, and
//! panics itself when dropped if any was caught (by tokio or anyone else)
//! while the test itself did not fail. A task on a current-thread runtime
//! runs on the test's own thread, so no thread is exempt.
//!
//! Exact under `cargo nextest` (one test a process). Under plain `cargo test`
//! tests share a process, so a panic in a concurrent test's runtime can be
//! reported by another test's watch too.

use std::sync::{Mutex, OnceLock};

/// Every panic so far: the thread it happened on and what it said.
fn seen() -> &'static Mutex<Vec<(String, String)>> {
    static SEEN: OnceLock<Mutex<Vec<(String, String)>>> = OnceLock::new();
    SEEN.get_or_init(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let thread = std::thread::current().name().unwrap_or("unnamed").to_owned();
            let message = match (info.payload().downcast_ref::<&str>(), info.payload().downcast_ref::<String>()) {
                (Some(s), _) => (*s).to_owned(),
                (_, Some(s)) => s.clone(),
                _ => "a panic without a message".to_owned(),
            };
            let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
            if let Some(seen) = SEEN.get() {
                seen.lock().unwrap_or_else(|e| e.into_inner()).push((thread, format!("{message}{at}")));
            }
            previous(info);
        }));
        Mutex::new(Vec::new())
    })
}

/// Watches for panics from its creation; see the module docs.
#[derive(Debug)]
pub struct Watch {
    from: usize,
    allowed: bool,
}

impl Watch {
    pub fn new() -> Self {
        let from = seen().lock().unwrap_or_else(|e| e.into_inner()).len();
        Self { from, allowed: false }
    }

    /// For a test that makes a task panic on purpose.
    pub fn allow(&mut self) {
        self.allowed = true;
    }

    /// The panics since this watch was made.
    pub fn panics(&self) -> Vec<String> {
        let seen = seen().lock().unwrap_or_else(|e| e.into_inner());
        seen.iter().skip(self.from).map(|(thread, message)| format!("{message} (thread {thread})")).collect()
    }
}

impl Default for Watch {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if self.allowed || std::thread::panicking() {
            return;
        }
        let panics = self.panics();
        assert!(panics.is_empty(), "a background task panicked during the test:\n{}", panics.join("\n"));
    }
}
