//! Readiness (`/readyz`, `switchboard healthcheck --ready`): each store this
//! process depends on, asked something cheap within a deadline, and what
//! its long-lived parts (the language model's breaker, chat connections)
//! report about themselves — shown, never failing readiness: a process
//! whose Slack socket is reconnecting still serves everything else.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;

/// How long one dependency may take to answer before it counts as down.
const DEADLINE: Duration = Duration::from_secs(3);

/// One check's result.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    /// A failed required check makes the process not ready.
    pub required: bool,
    /// What was found, or why it failed.
    pub detail: String,
    pub ms: u64,
}

/// What the process's parts report about themselves, by part.
#[derive(Default)]
pub struct Reported(pub(crate) Mutex<BTreeMap<&'static str, (bool, String)>>);

/// Whether every required check passed.
pub fn ready(checks: &[Check]) -> bool {
    checks.iter().all(|c| c.ok || !c.required)
}

pub(crate) async fn check(name: &'static str, ask: impl Future<Output = Result<String, String>>) -> Check {
    let started = Instant::now();
    let (ok, detail) = match tokio::time::timeout(DEADLINE, ask).await {
        Ok(Ok(found)) => (true, found),
        Ok(Err(e)) => (false, e),
        Err(_) => (false, format!("no answer within {} s", DEADLINE.as_secs())),
    };
    Check { name, ok, required: true, detail, ms: started.elapsed().as_millis() as u64 }
}
