//! Logs on the built binary: the demo's generated logs answer "check the
//! logs for refunds" and its investigation in the terminal chat.

mod common;

use common::*;

/// The demo's logs answer the question on a fresh install: refunds' new
/// error after its deployment, as a signature marked new, with its spike.
#[test]
fn the_demo_logs_answer_check_the_logs() {
    let dir = seeded();
    let input = "check the logs for refunds, spot any issues?\ncheck the logs for orders\ninvestigate refunds\nexit\n";
    let out = chat(dir.path().to_str().unwrap(), "carol", input);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(said.contains("1 of them new") && said.contains("spike(s)"), "{said}");
    assert!(said.contains("TimeoutError: upstream card-vault did not answer within <num> ms"), "{said}");
    assert!(said.contains("Spike from "), "{said}");
    let orders = said.split("orders:").nth(1).unwrap_or_default();
    let orders = orders.split("Investigation of").next().unwrap_or_default();
    assert!(!orders.contains("new,") && !orders.contains("card-vault"), "orders has only its known error: {said}");
    // The Investigate button's question: the deployment first, with the new error and a rollback.
    assert!(said.contains("Most likely: the deployment of"), "{said}");
    assert!(said.contains("to production by frank") && said.contains("appeared in the logs"), "{said}");
    assert!(said.contains("[Roll back production to "), "{said}");
}

#[cfg(feature = "bench")]
#[test]
fn bench_logs_prints_its_json() {
    let out = run(&["bench-logs", "--lines", "20000", "--samples", "2"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["lines"], 20_000);
    let day = v["embedded"]["day"]["lines_scanned"].as_u64().unwrap();
    let hour = v["embedded"]["one_hour"]["lines_scanned"].as_u64().unwrap();
    assert!(day > 19_900 && (800..=900).contains(&hour), "{v}");
    assert_eq!(v["embedded"]["one_hour"]["latency"]["samples"], 2);
    let bad = run(&["bench-logs", "--lines", "10"]);
    assert!(!bad.status.success() && text(&bad.stderr).contains("--lines must be at least 1000"));
}

#[cfg(all(feature = "bench", feature = "server-tests"))]
#[test]
fn bench_logs_runs_on_clickhouse() {
    let url = std::env::var("SWITCHBOARD_TEST_CLICKHOUSE_URL").unwrap_or_else(|_| "http://127.0.0.1:18123".into());
    let out = run(&["bench-logs", "--lines", "20000", "--samples", "2", "--clickhouse", &url]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["clickhouse"]["day"]["lines_scanned"], 20_000, "{v}");
}
