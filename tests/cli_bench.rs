//! The benchmark commands end to end: each prints its JSON with the numbers
//! it promises, and refuses bad arguments with a clear message.

use serde_json::Value;

mod common;

use common::*;

/// Runs a benchmark command that must succeed and reads the JSON it prints.
fn json_of(args: &[&str]) -> Value {
    let out = run(args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Without the `bench` feature the command says how to get it.
#[cfg(not(feature = "bench"))]
#[test]
fn bench_says_how_to_build_it() {
    let out = run(&["bench", "--projects", "300", "--samples", "20"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("--features bench"), "{}", text(&out.stderr));
}

#[cfg(feature = "bench")]
#[test]
fn bench_prints_its_json() {
    let v = json_of(&["bench", "--projects", "300", "--samples", "20"]);
    assert_eq!(v["projects"], 300);
    for key in ["find_projects_text", "dependents", "get_project", "project_page"] {
        assert_eq!(v[key]["samples"], 20, "{key}");
        assert!(v[key]["p99_ms"].as_f64().unwrap() >= v[key]["p50_ms"].as_f64().unwrap());
    }
    assert!(v["event_append_per_second"]["single_events_64_writers"].as_f64().unwrap() > 0.0);
    assert_eq!(v["agent_turn"]["overhead"]["samples"], 20);
    assert_eq!(v["agent_turn"]["steps_per_turn"], 2);
    assert_eq!(v["webhooks"]["deliveries"], 1000);
    assert!(v["webhooks"]["accepted_per_second"].as_f64().unwrap() > 0.0);
    assert!(v["webhooks"]["processed_per_second"].as_f64().unwrap() > 0.0);
    assert_eq!(v["imports"]["sbom_10000_components"]["new_edges"]["samples"], 3);
    assert!(v["imports"]["manifests_and_lock_files"]["edges"].as_u64().unwrap() > 500);
    assert!(v["logs"]["signatures_per_second_one_core"].as_f64().unwrap() > 0.0);
    assert_eq!(v["logs"]["embedded"]["lines"], 100_000);
    assert!(v["logs"]["embedded"]["check_logs"]["day"]["lines_scanned"].as_u64().unwrap() >= 99_000);
    assert_eq!(v["logs"]["embedded"]["investigate"]["samples"], 20);
    let slack = &v["slack_mentions"]["saturated"];
    assert_eq!((slack["conversations"].as_u64(), slack["mentions"].as_u64()), (Some(200), Some(200)));
    assert_eq!(slack["mention_to_reply"]["samples"], 200);
    assert_eq!(v["slack_mentions"]["one_a_second_each"]["mention_to_reply"]["samples"], 1000);
    let agent = v["tool_catalog"]["agent"]["tools"].as_u64().unwrap();
    // No decisions on runs, and no record_change: those come from people and GitHub.
    assert_eq!(agent + 4, v["tool_catalog"]["mcp"]["tools"].as_u64().unwrap());
}

#[test]
fn bench_advisories_prints_its_json() {
    let v = json_of(&["bench-advisories", "--projects", "80", "--advisories", "3000", "--samples", "5"]);
    assert_eq!((v["projects"].as_u64(), v["advisories"].as_u64()), (Some(80), Some(3000)));
    assert!(v["dependency_edges"].as_u64().unwrap() > 1000, "{v}");
    assert!(v["advisories_about_packages_used_here"].as_u64().unwrap() > 0, "{v}");
    assert!(v["full"]["vulnerabilities_found"].as_u64().unwrap() > 0, "the synthetic advisories meet the org: {v}");
    assert!(v["full"]["seconds"].as_f64().is_some() && v["full"]["peak_rss_mib_after"].as_f64().is_some(), "{v}");
    for key in [
        "one_advisory_changes",
        "one_advisory_on_a_used_package_changes",
        "set_dependencies_without_advisories",
        "set_dependencies_with_advisories",
    ] {
        assert_eq!(v[key]["samples"], 5, "{key}");
    }
    let bad = run(&["bench-advisories", "--advisories", "0"]);
    assert!(!bad.status.success() && text(&bad.stderr).contains("at least 1"), "{}", text(&bad.stderr));
}

#[test]
fn bench_webhooks_prints_its_json() {
    let args = ["bench-webhooks", "--projects", "30", "--repos", "10", "--deliveries", "300", "--seconds", "1"];
    let v = json_of(&[&args[..], &["--rate", "200", "--concurrency", "8"]].concat());
    assert_eq!((v["projects"].as_u64(), v["repositories"].as_u64()), (Some(30), Some(10)), "{v}");
    assert_eq!(v["processing_concurrency"], 8, "{v}");
    // Every push is to a default branch of a known repository: all done, none dead.
    assert_eq!(v["drain"]["inbox"]["done"], 300, "{v}");
    assert!(v["drain"]["processed_per_second"].as_f64().unwrap() > 0.0, "{v}");
    for flood in ["flood_at_rate", "flood_full"] {
        let f = &v[flood];
        assert!(f["deliveries"].as_u64().unwrap() > 0, "{flood}: {v}");
        assert!(f["drained_seconds_after_flood"].as_f64().is_some(), "{flood} drained: {v}");
        assert_eq!((f["inbox"]["dead"].as_u64(), f["inbox"]["pending"].as_u64()), (Some(0), Some(0)), "{flood}: {v}");
    }
    assert_eq!(v["flood_at_rate"]["rate_asked"], 200, "{v}");
    let bad = run(&["bench-webhooks", "--repos", "50", "--projects", "10"]);
    assert!(!bad.status.success() && text(&bad.stderr).contains("cannot exceed"), "{}", text(&bad.stderr));
}

/// wrk is installed by `scripts/load-webhooks install`, which scripts/test runs.
#[test]
fn bench_receive_floods_a_serve_process_from_wrk() {
    let args = ["bench-receive", "--projects", "30", "--repos", "10", "--bodies", "40", "--seconds", "2"];
    let v = json_of(&[&args[..], &["--connections", "4", "--threads", "1"]].concat());
    assert!(v["load_generator"].as_str().unwrap().starts_with("wrk"), "{v}");
    assert_eq!((v["projects"].as_u64(), v["repositories"].as_u64()), (Some(30), Some(10)), "{v}");
    // Every request a new, correctly signed delivery: all accepted (202),
    // all stored, all processed after the flood.
    assert_eq!(v["errors"], 0, "{v}");
    let sent = v["deliveries"].as_f64().unwrap() as u64;
    assert!(sent > 0, "{v}");
    assert!(v["inbox"]["done"].as_u64().unwrap() >= sent, "{v}");
    assert_eq!((v["inbox"]["dead"].as_u64(), v["inbox"]["pending"].as_u64()), (Some(0), Some(0)), "{v}");
    assert!(v["drained_seconds_after_flood"].as_f64().is_some(), "{v}");
    assert!(v["latency_ms"]["p99"].as_f64().unwrap() >= v["latency_ms"]["p50"].as_f64().unwrap(), "{v}");
    assert!(v["server_cpu_us_per_delivery"].as_f64().unwrap() > 0.0, "{v}");

    // Receiving alone: every delivery stored, none processed.
    let v = json_of(&[&args[..], &["--connections", "4", "--threads", "1", "--processing", "off"]].concat());
    assert_eq!(v["errors"], 0, "{v}");
    assert!(v["inbox"]["pending"].as_u64().unwrap() >= v["deliveries"].as_f64().unwrap() as u64, "{v}");
    assert_eq!((v["inbox"]["done"].as_u64(), v["drained_seconds_after_flood"].as_f64()), (Some(0), None), "{v}");
    assert!(v["server_latency_ms"]["requests"].as_u64().unwrap() > 0, "{v}");

    let missing = run(&["bench-receive", "--wrk", "/nonexistent/wrk", "--projects", "5", "--repos", "2"]);
    assert!(!missing.status.success() && text(&missing.stderr).contains("install wrk"), "{}", text(&missing.stderr));
    let bad = run(&["bench-receive", "--connections", "1", "--threads", "2"]);
    assert!(!bad.status.success() && text(&bad.stderr).contains("at least --threads"), "{}", text(&bad.stderr));
}

/// Runs `bench-appends` with these store arguments and reads its JSON.
fn appends(store: &[&str]) -> Value {
    let mut args = vec!["bench-appends", "--writers", "8", "--events", "800"];
    args.extend_from_slice(store);
    let v = json_of(&args);
    assert_eq!(v["writers"], 8);
    assert_eq!(v["single_event_append"]["samples"], 800);
    assert!(v["single_events_per_second"].as_f64().unwrap() > 0.0);
    assert!(v["batches_of_1000_per_second"].as_f64().unwrap() > 0.0);
    v
}

#[test]
fn bench_appends_measures_the_embedded_log_and_keeps_what_it_appended() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let first = appends(&["--data-dir", data]);
    assert_eq!((first["log"].as_str(), first["events_before"].as_u64()), (Some("sqlite"), Some(0)));
    // 800 single events and a batch of 1,000.
    assert_eq!(appends(&["--data-dir", data])["events_before"], 1_800);
    let out = run(&["bench-appends", "--writers", "0"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("--writers must be at least 1"), "{}", text(&out.stderr));
    let out = run(&["bench-appends", "--writers", "10", "--events", "5"]);
    assert!(text(&out.stderr).contains("--events must be at least --writers"), "{}", text(&out.stderr));
}

#[cfg(feature = "server-tests")]
#[test]
fn bench_appends_measures_the_clickhouse_log_through_its_buffer() {
    let url = std::env::var("SWITCHBOARD_TEST_CLICKHOUSE_URL").unwrap_or_else(|_| "http://127.0.0.1:18123".into());
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sb_bench_appends_{}", std::process::id());
    let config = dir.path().join("switchboard.toml");
    let toml = format!("[store]\nlog = \"clickhouse\"\n\n[store.clickhouse]\nurl = {url:?}\ndatabase = {database:?}\n");
    std::fs::write(&config, toml).unwrap();
    let config = config.to_str().unwrap();
    let first = appends(&["--config", config]);
    assert_eq!((first["log"].as_str(), first["buffer_seconds"].as_u64()), (Some("clickhouse"), Some(1)));
    let before = first["events_before"].as_u64().unwrap();
    assert_eq!(appends(&["--config", config])["events_before"].as_u64(), Some(before + 1_800));
}
