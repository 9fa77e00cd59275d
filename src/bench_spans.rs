//! What tracing costs a request, apart from everything else a request does:
//! the spans of a webhook delivery (the edge's `request`, joined; a `store`
//! call under it, polled twice), made on one thread under whatever
//! subscriber `bench` installed (`--traces on|off`). The whole run is a few
//! milliseconds, so its CPU is steadier than a flood's.

use std::time::Instant;

use serde_json::{Value, json};

use crate::bench_http::process_cpu_seconds;

pub(crate) fn request_spans(requests: usize) -> Value {
    let cpu = process_cpu_seconds();
    let started = Instant::now();
    for _ in 0..requests {
        let request = switchboard_core::traces::joined(
            |_| None,
            || switchboard_portal::edge::request_span("POST", "/hooks/github", "bench-1"),
        );
        let _in_request = request.enter();
        let store = switchboard_core::metrics::store_span("sqlite", "write");
        for _poll in 0..2 {
            let _in_store = store.enter();
        }
    }
    let wall = started.elapsed().as_secs_f64();
    let cpu = process_cpu_seconds() - cpu;
    json!({
        "requests": requests,
        "cpu_ns_per_request": (cpu * 1e9 / requests as f64).round(),
        "wall_ns_per_request": (wall * 1e9 / requests as f64).round(),
    })
}
