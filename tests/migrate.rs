//! `switchboard migrate --to clickhouse` on the built binary: the demo's
//! operations log copied from the embedded store to a real ClickHouse
//! server (scripts/test starts it), counts checked, a second run adding
//! nothing, and the server then reading its history from ClickHouse.
#![cfg(feature = "server-tests")]

use std::process::Command;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

fn run(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN).args(args).env_remove("RUST_LOG").output().expect("the binary runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_operations_log_moves_to_clickhouse_and_is_read_from_there() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (ok, _, err) = run(&["demo", "--seed-only", "--data-dir", data.to_str().unwrap(), "--projects", "30"]);
    assert!(ok, "{err}");
    let url = std::env::var("SWITCHBOARD_TEST_CLICKHOUSE_URL").unwrap_or_else(|_| "http://127.0.0.1:18123".into());
    let database = format!("sb_migrate_{}", std::process::id());
    let config = dir.path().join("switchboard.toml");
    let toml = format!(
        "[store]\ndata_dir = {:?}\n\n[store.clickhouse]\nurl = {url:?}\ndatabase = {database:?}\n",
        data.to_str().unwrap()
    );
    std::fs::write(&config, toml).unwrap();

    let (ok, out, err) = run(&["migrate", "--to", "clickhouse", "--config", config.to_str().unwrap()]);
    assert!(ok, "start ClickHouse with scripts/clickhouse start: {err}");
    let counts: Value = serde_json::from_str(out.trim()).unwrap();
    let total = counts["source_events"].as_u64().unwrap();
    assert!(total > 1000, "{counts}");
    assert_eq!(counts["target_events"], total);
    assert_eq!(counts["new"], total);
    assert!(err.contains(&format!("{total} / {total} events")), "progress: {err}");

    let (ok, out, err) = run(&["migrate", "--to", "clickhouse", "--config", config.to_str().unwrap()]);
    assert!(ok, "{err}");
    let again: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!((again["new"].as_u64(), again["target_events"].as_u64()), (Some(0), Some(total)), "nothing twice");

    // The same store, now with its log on ClickHouse: the history is there.
    let switched = format!(
        "{}\n",
        std::fs::read_to_string(&config).unwrap().replace("[store]\n", "[store]\nlog = \"clickhouse\"\n")
    );
    std::fs::write(&config, switched).unwrap();
    let args = r#"{"project": "payments-api", "limit": 5}"#;
    let (ok, out, err) = run(&[
        "op",
        "project_history",
        "--json",
        args,
        "--data-dir",
        data.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let history: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(history["events"].as_array().unwrap().len(), 5, "{history}");

    let (ok, _, err) = run(&["migrate", "--to", "neo4j", "--config", config.to_str().unwrap()]);
    assert!(!ok && err.contains("can move to clickhouse"), "{err}");
}
