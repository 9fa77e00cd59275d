//! `switchboard migrate`, `export` and `import` on the built binary, against
//! the real servers scripts/test starts (ClickHouse, and ArcadeDB over
//! Bolt): the demo's log moved to ClickHouse, then its graph and log moved
//! to both, counts checked, second runs adding nothing, the binary then
//! answering from the new backends, and an export of those read back into
//! a fresh embedded store.
#![cfg(feature = "server-tests")]

use serde_json::Value;

mod common;

fn run(args: &[&str]) -> (bool, String, String) {
    let out = common::run(args);
    (out.status.success(), common::text(&out.stdout), common::text(&out.stderr))
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
    let total = counts["source"]["events"].as_u64().unwrap();
    assert!(total > 1000, "{counts}");
    assert_eq!(counts["target"]["events"], total);
    assert!(err.contains(&format!("100% {total}/{total}")), "progress: {err}");

    let (ok, out, err) = run(&["migrate", "--to", "clickhouse", "--config", config.to_str().unwrap()]);
    assert!(ok, "{err}");
    let again: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(again["target"]["events"].as_u64(), Some(total), "nothing twice");

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

    let (ok, _, err) = run(&["migrate", "--to", "mongodb", "--config", config.to_str().unwrap()]);
    assert!(!ok && err.contains("\"mongodb\" is not a backend to move to"), "{err}");
    let (ok, _, err) =
        run(&["migrate", "--from", "postgres://x", "--to", "clickhouse", "--config", config.to_str().unwrap()]);
    assert!(!ok && err.contains("name the embedded store as sqlite:PATH"), "{err}");
    let (ok, _, err) =
        run(&["migrate", "--from", "sqlite:/nonexistent", "--to", "clickhouse", "--config", config.to_str().unwrap()]);
    assert!(!ok && err.contains("there is no embedded store in /nonexistent"), "{err}");
}

fn op(config: &std::path::Path, data: &std::path::Path, name: &str, args: &str) -> Value {
    let (ok, out, err) =
        run(&["op", name, "--json", args, "--config", config.to_str().unwrap(), "--data-dir", data.to_str().unwrap()]);
    assert!(ok, "op {name}: {err}");
    serde_json::from_str(&out).unwrap()
}

#[test]
fn the_graph_and_the_log_move_to_neo4j_and_clickhouse_and_back_through_an_export() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (ok, _, err) = run(&["demo", "--seed-only", "--data-dir", data.to_str().unwrap(), "--projects", "40"]);
    assert!(ok, "{err}");
    let name = format!("sb_migrate_both_{}", std::process::id());
    let url = std::env::var("SWITCHBOARD_TEST_CLICKHOUSE_URL").unwrap_or_else(|_| "http://127.0.0.1:18123".into());
    let servers =
        format!("{}\n[store.clickhouse]\nurl = {url:?}\ndatabase = {name:?}\n", common::graph_settings(&name));
    let config = dir.path().join("switchboard.toml");
    std::fs::write(&config, format!("[store]\ndata_dir = {:?}\n\n{servers}", data.to_str().unwrap())).unwrap();
    let embedded = op(&config, &data, "find_projects", r#"{"query": "payments", "limit": 50}"#);
    let embedded_redis = op(&config, &data, "dependents", r#"{"package": "redis"}"#);

    let from = format!("sqlite:{}", data.to_str().unwrap());
    let (ok, out, err) =
        run(&["migrate", "--from", &from, "--to", "neo4j+clickhouse", "--config", config.to_str().unwrap()]);
    assert!(ok, "{err}");
    let moved: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(moved["source"], moved["target"], "every count matches");
    assert_eq!(moved["source"]["all_projects"], 40);
    assert!(err.contains("projects [##############################] 100% 40/40"), "a progress bar: {err}");
    let (ok, out, err) =
        run(&["migrate", "--from", &from, "--to", "clickhouse+neo4j", "--config", config.to_str().unwrap()]);
    assert!(ok, "{err}");
    let again: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(again["target"], moved["target"], "a second run adds nothing");

    // Switched over: the same answers, now from the servers (the embedded
    // store is moved away so nothing can be read from it by mistake).
    std::fs::rename(&data, dir.path().join("old")).unwrap();
    let switched = dir.path().join("switched.toml");
    let fresh = dir.path().join("fresh");
    std::fs::write(
        &switched,
        format!(
            "[store]\ndata_dir = {:?}\ngraph = \"neo4j\"\nlog = \"clickhouse\"\n\n{servers}",
            fresh.to_str().unwrap()
        ),
    )
    .unwrap();
    let mut from_servers = op(&switched, &fresh, "find_projects", r#"{"query": "payments", "limit": 50}"#);
    let sorted = |v: &mut Value| {
        let mut slugs: Vec<String> =
            v["projects"].as_array().unwrap().iter().map(|p| p["slug"].as_str().unwrap().to_owned()).collect();
        slugs.sort();
        slugs
    };
    let mut embedded = embedded;
    assert_eq!(
        sorted(&mut from_servers),
        sorted(&mut embedded),
        "the same search hits (ranking is each backend's own)"
    );
    assert_eq!(op(&switched, &fresh, "dependents", r#"{"package": "redis"}"#), embedded_redis);
    let history = op(&switched, &fresh, "project_history", r#"{"project": "payments-api", "limit": 5}"#);
    assert_eq!(history["events"].as_array().unwrap().len(), 5, "{history}");

    // Export from the servers, import into a fresh embedded store: the same counts.
    let export = dir.path().join("org.jsonl");
    let (ok, _, err) = run(&["export", "--config", switched.to_str().unwrap(), "--out", export.to_str().unwrap()]);
    assert!(ok, "{err}");
    let text = std::fs::read_to_string(&export).unwrap();
    let header: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(header["kind"], "header");
    assert_eq!(header["projects"], 40);
    let events = moved["source"]["events"].as_u64().unwrap();
    assert_eq!(text.lines().filter(|l| l.starts_with("{\"kind\":\"event\"")).count() as u64, events, "each event once");
    let back = dir.path().join("back.toml");
    let back_data = dir.path().join("back");
    std::fs::write(&back, format!("[store]\ndata_dir = {:?}\n", back_data.to_str().unwrap())).unwrap();
    let (ok, out, err) = run(&["import", "--config", back.to_str().unwrap(), "--in", export.to_str().unwrap()]);
    assert!(ok, "{err}");
    let imported: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!((imported["projects"].as_u64(), imported["events"].as_u64()), (Some(40), Some(events)));
    assert_eq!(op(&back, &back_data, "dependents", r#"{"package": "redis"}"#), embedded_redis);
    let (ok, out, err) = run(&[
        "migrate",
        "--from",
        &format!("sqlite:{}", back_data.to_str().unwrap()),
        "--to",
        "clickhouse",
        "--config",
        config.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let round: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(round["source"], moved["source"], "the round trip kept every count");

    // A damaged export is refused with its line number, and changes nothing.
    let broken = dir.path().join("broken.jsonl");
    std::fs::write(&broken, "{\"kind\":\"header\",\"format\":1,\"projects\":0,\"events\":0}\n{\"kind\":\"team\"}\n")
        .unwrap();
    let (ok, _, err) = run(&["import", "--config", back.to_str().unwrap(), "--in", broken.to_str().unwrap()]);
    assert!(!ok && err.contains("line 2 is not a Switchboard export record"), "{err}");
}
