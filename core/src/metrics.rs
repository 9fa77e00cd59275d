//! What the process counts for Prometheus (`/metrics`, docs/production.md):
//! every metric's name and labels in one place, through the `metrics`
//! facade (a no-op until the binary installs a recorder). Label values
//! come from small fixed sets — never a project, a person or a path.

use std::time::Duration;

use crate::error::Error;

/// The surfaces an operation is counted under; any other is `other`.
const SURFACES: [&str; 16] = [
    "api",
    "portal",
    "web",
    "chat",
    "cli",
    "demo",
    "slack",
    "discord",
    "mcp",
    "agent",
    "webhook",
    "engine",
    "scheduler",
    "schedule",
    "oidc",
    "bench",
];

/// `surface` as a label value.
pub fn surface(surface: &str) -> &'static str {
    SURFACES.iter().find(|s| **s == surface).copied().unwrap_or("other")
}

/// How an operation ended, as a label value.
pub fn outcome(result: Result<(), &Error>) -> &'static str {
    match result {
        Ok(()) => "ok",
        Err(Error::Denied { .. } | Error::Unauthenticated { .. } | Error::RateLimited { .. }) => "denied",
        Err(
            Error::BadInput { .. } | Error::UnknownOperation { .. } | Error::NotFound { .. } | Error::Conflict { .. },
        ) => "bad_input",
        Err(Error::Unavailable { .. }) => "unavailable",
        Err(Error::Internal { .. }) => "internal",
    }
}

/// An operation ran (`switchboard_operations_total`,
/// `switchboard_operation_duration_seconds`).
pub fn operation(name: &'static str, caller_surface: &str, outcome: &'static str, took: Duration) {
    let surface = surface(caller_surface);
    ::metrics::counter!("switchboard_operations_total", "operation" => name, "surface" => surface, "outcome" => outcome)
        .increment(1);
    ::metrics::histogram!("switchboard_operation_duration_seconds", "operation" => name).record(took.as_secs_f64());
}

/// A webhook delivery was answered (`switchboard_webhook_deliveries_total`):
/// `source` github, pagerduty or generic; `result` accepted, duplicate, or
/// the refusal's code (`bad_signature`, `malformed_json`, `rate_limited`,
/// `too_large`…).
pub fn webhook(source: &'static str, result: &'static str) {
    ::metrics::counter!("switchboard_webhook_deliveries_total", "source" => source, "result" => result).increment(1);
}

/// A chat message was delivered or not (`switchboard_chat_messages_total`):
/// `platform` slack, discord or web; `result` sent, retrying or failed.
pub fn chat_message(platform: &'static str, result: &'static str) {
    ::metrics::counter!("switchboard_chat_messages_total", "platform" => platform, "result" => result).increment(1);
}

/// A language model call (`switchboard_llm_calls_total` by result ok or
/// failed, `switchboard_llm_call_duration_seconds`,
/// `switchboard_llm_tokens_total`: prompt and completion together, as the
/// server reports them or estimated).
pub fn llm_call(result: &'static str, took: Duration, tokens: u64) {
    ::metrics::counter!("switchboard_llm_calls_total", "result" => result).increment(1);
    ::metrics::histogram!("switchboard_llm_call_duration_seconds").record(took.as_secs_f64());
    ::metrics::counter!("switchboard_llm_tokens_total").increment(tokens);
}

/// The language model's breaker (`switchboard_llm_breaker_open`, 1 when open).
pub fn llm_breaker(open: bool) {
    ::metrics::gauge!("switchboard_llm_breaker_open").set(if open { 1.0 } else { 0.0 });
}

/// A call to GitHub's API (`switchboard_github_calls_total`): `result` ok
/// (below 400), error (a 4xx/5xx or no answer) or rate_limited.
pub fn github_call(result: &'static str) {
    ::metrics::counter!("switchboard_github_calls_total", "result" => result).increment(1);
}

/// A pause GitHub's rate limit asked for (`switchboard_github_rate_limit_wait_seconds_total`).
pub fn github_rate_limit_wait(wait: Duration) {
    ::metrics::counter!("switchboard_github_rate_limit_wait_seconds_total").increment(wait.as_secs());
}

/// How long the oldest item still waiting in a queue has waited, 0 when none
/// waits (`switchboard_queue_oldest_pending_seconds`): `queue` inbox or outbox.
pub fn queue_oldest(queue: &'static str, seconds: f64) {
    ::metrics::gauge!("switchboard_queue_oldest_pending_seconds", "queue" => queue).set(seconds);
}

/// How many items a queue holds in a state, set when scraped
/// (`switchboard_queue_items`): `queue` inbox, outbox or runs.
pub fn queue_items(queue: &'static str, status: &'static str, items: u64) {
    ::metrics::gauge!("switchboard_queue_items", "queue" => queue, "status" => status).set(items as f64);
}

/// A store call (`switchboard_store_call_duration_seconds`): `backend`
/// sqlite, bolt or clickhouse; `call` read, write, query or transaction.
pub fn store_call(backend: &'static str, call: &'static str, took: Duration) {
    ::metrics::histogram!("switchboard_store_call_duration_seconds", "backend" => backend, "call" => call)
        .record(took.as_secs_f64());
}

/// A store call's span (debug: only a trace exporter asks for it).
pub fn store_span(backend: &'static str, call: &'static str) -> tracing::Span {
    tracing::debug_span!("store", backend, call)
}

/// `work` timed as a store call and, for traces, in a span of its own
/// (debug: only a trace exporter asks for it) — inside a request or an
/// operation only: a store call outside any is a queue's poll, once a
/// second, and would be a trace of its own with nothing in it.
pub async fn timed_store_call<R>(
    backend: &'static str,
    call: &'static str,
    work: impl std::future::Future<Output = R>,
) -> R {
    use tracing::Instrument;
    let started = std::time::Instant::now();
    // The current span is looked up only with traces on: every store call
    // passes here, and with them off the span is the log's alone.
    let outside = crate::traces::on() && tracing::Span::current().is_none();
    let span = if outside { tracing::Span::none() } else { store_span(backend, call) };
    let result = work.instrument(span).await;
    store_call(backend, call, started.elapsed());
    result
}
