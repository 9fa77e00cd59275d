//! Advisories through the service: real OSV records imported, matched
//! against projects' dependencies with exact results, kept current when
//! dependencies or advisories change (as events in the log), read by any
//! alias, fixed through upgrade campaigns, and bad input refused whole.

mod common;

use common::*;
use serde_json::{Value, json};
use switchboard_core::Error;
use switchboard_core::event::{EventKind, EventQuery};
use switchboard_core::model::Role;
use switchboard_core::store::EventLog;

fn record(id: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/osv").join(format!("{id}.json"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

async fn org() -> Harness {
    let h = Harness::with_org().await;
    h.ok(
        "create_project",
        json!({"slug": "sessions", "team": "checkout", "project_type": "api", "dependencies": [
            {"ecosystem": "cargo", "package": "tokio", "version": "1.38.0"},
            {"ecosystem": "go", "package": "github.com/redis/go-redis/v9", "version": "v9.5.1"},
            {"ecosystem": "pypi", "package": "requests", "version": "2.30.0"},
            {"ecosystem": "npm", "package": "jquery", "version": "^2.2.0"}]}),
    )
    .await;
    h.ok(
        "create_project",
        json!({"slug": "cart", "team": "checkout", "project_type": "api", "dependencies": [
            {"ecosystem": "cargo", "package": "tokio", "version": "1.44.2"},
            {"ecosystem": "go", "package": "github.com/redis/go-redis/v9", "version": "v9.4.0", "transitive": true}]}),
    )
    .await;
    h
}

async fn kinds(h: &Harness, kind: EventKind) -> Vec<switchboard_core::event::Event> {
    h.store.query(&EventQuery { kinds: vec![kind], limit: 100, ..Default::default() }).await.unwrap()
}

#[tokio::test]
async fn imported_advisories_match_the_graph_and_follow_its_changes() {
    let h = org().await;
    let mut withdrawn = record("GO-2025-3408");
    withdrawn["affected"][0]["package"]["name"] = json!("github.com/redis/go-redis/v9");
    let out = h
        .ok(
            "import_advisories",
            json!({"records": [record("RUSTSEC-2025-0023"), record("GO-2025-3540"), record("PYSEC-2023-74"),
                record("GHSA-mhpp-875w-9cpv"), withdrawn, {"id": "BROKEN-1", "modified": "not a time"}]}),
        )
        .await;
    assert_eq!((out["read"].as_u64(), out["changed"].as_u64(), out["unchanged"].as_u64()), (Some(6), Some(5), Some(0)));
    assert_eq!(out["refused"][0]["id"], "BROKEN-1");
    assert!(out["refused"][0]["reason"].as_str().unwrap().contains("RFC 3339"));
    assert!(out["notes"].as_array().unwrap().iter().any(|n| n["note"].as_str().unwrap().contains("GIT")));
    // sessions: tokio, go-redis, requests, and jquery by its requirement's floor; cart: go-redis (transitive).
    assert_eq!(out["found"], 5, "{out}");

    let v = h.ok("vulnerabilities", json!({"project": "sessions"})).await;
    let found: Vec<(String, String, Value)> = v["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["package"].as_str().unwrap().into(), m["version"].as_str().unwrap().into(), m["fixed"].clone()))
        .collect();
    let mut found = found;
    found.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        found,
        vec![
            ("github.com/redis/go-redis/v9".into(), "v9.5.1".into(), json!("v9.6.3")),
            ("jquery".into(), "^2.2.0".into(), json!("3.0.0")),
            ("requests".into(), "2.30.0".into(), json!("2.31.0")),
            ("tokio".into(), "1.38.0".into(), json!("1.38.2")),
        ]
    );
    let jquery = v["vulnerabilities"].as_array().unwrap().iter().find(|m| m["package"] == "jquery").unwrap();
    assert!(jquery["reason"].as_str().unwrap().contains("lowest ^2.2.0 allows"), "{jquery}");

    // By any alias, any case; transitive uses are told apart.
    let a = h.ok("affected_by", json!({"advisory": "cve-2025-29923"})).await;
    assert_eq!(a["projects"], 2);
    let rows: Vec<(&str, bool)> = a["affected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["project"].as_str().unwrap(), m["transitive"].as_bool().unwrap()))
        .collect();
    assert_eq!(rows, vec![("cart", true), ("sessions", false)]);
    let unknown = h.err(&admin(), "affected_by", json!({"advisory": "CVE-1999-0001"})).await;
    assert!(matches!(unknown, Error::NotFound { .. }) && unknown.to_string().contains("advisories import"));

    // Upgrading tokio past the fix closes it, with why, in the project's history.
    h.ok(
        "set_dependencies",
        json!({"project": "sessions", "ecosystem": "cargo",
               "dependencies": [{"ecosystem": "cargo", "package": "tokio", "version": "1.38.2"}]}),
    )
    .await;
    let fixed = kinds(&h, EventKind::VulnerabilityFixed).await;
    assert_eq!(fixed.len(), 1);
    assert_eq!(fixed[0].project.as_ref().unwrap().as_str(), "sessions");
    assert_eq!(fixed[0].payload["reason"], "upgraded to 1.38.2");
    let history = h.ok("project_history", json!({"project": "sessions", "subject": "RUSTSEC-2025-0023"})).await;
    let said: Vec<&str> = history["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(said, vec!["vulnerability_fixed", "vulnerability_found"], "{history}");
    // Moving within the affected range is not a new finding.
    h.ok(
        "set_dependencies",
        json!({"project": "sessions", "ecosystem": "pypi",
               "dependencies": [{"ecosystem": "pypi", "package": "requests", "version": "2.30.1"}]}),
    )
    .await;
    assert_eq!(kinds(&h, EventKind::VulnerabilityFound).await.len(), 5);
    assert_eq!(kinds(&h, EventKind::VulnerabilityFixed).await.len(), 1);

    // The same records again change nothing; a record withdrawn upstream closes its matches.
    let again = h.ok("import_advisories", json!({"records": [record("GO-2025-3540")]})).await;
    assert_eq!((again["changed"].as_u64(), again["found"].as_u64()), (Some(0), Some(0)));
    let mut gone = record("GO-2025-3540");
    gone["withdrawn"] = json!("2026-12-01T00:00:00Z");
    gone["modified"] = json!("2026-12-01T00:00:00Z");
    let out = h.ok("import_advisories", json!({"records": [gone]})).await;
    assert_eq!(out["fixed"], 2);
    let reasons: Vec<Value> =
        kinds(&h, EventKind::VulnerabilityFixed).await.iter().map(|e| e.payload["reason"].clone()).collect();
    assert_eq!(reasons.iter().filter(|r| *r == "advisory withdrawn").count(), 2);
    let totals = h.ok("vulnerabilities", json!({})).await;
    assert_eq!(totals["total"], 2, "{totals}");
}

#[tokio::test]
async fn an_advisory_is_fixed_through_approved_upgrade_campaigns() {
    let h = org().await;
    h.executors().await;
    h.ok("import_advisories", json!({"records": [record("RUSTSEC-2025-0023"), record("GO-2025-3540")]})).await;
    // A viewer may read but not request.
    let denied = h.err(&caller("dave", Role::Viewer), "fix_advisory", json!({"advisory": "RUSTSEC-2025-0023"})).await;
    assert!(matches!(denied, Error::Denied { .. }));
    let out = h
        .run(&caller("carol", Role::Editor), "fix_advisory", json!({"advisory": "RUSTSEC-2025-0023"}))
        .await
        .unwrap()
        .to_json();
    let runs = out["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "{out}");
    assert_eq!(runs[0]["status"], "pending");
    assert_eq!(runs[0]["arguments"], json!({"package": "tokio", "from": "1.38.0", "to": "1.38.2", "project": null}));
    // The advisory names its campaign.
    let a = h.ok("affected_by", json!({"advisory": "GHSA-rr8g-9fpq-6wmg"})).await;
    assert_eq!(a["runs"].as_array().unwrap().len(), 1);
    // Only a transitive use of go-redis outside sessions, and sessions declares it: one campaign.
    let out = h.ok("fix_advisory", json!({"advisory": "CVE-2025-29923"})).await;
    assert_eq!(out["runs"][0]["arguments"]["to"], "v9.6.3");
}

#[tokio::test]
async fn bad_advisory_input_is_refused_and_changes_nothing() {
    let h = org().await;
    let before = h.snapshot().await;
    let many: Vec<Value> = (0..5_001).map(|i| json!({"id": format!("X-{i}")})).collect();
    let e = h.err(&admin(), "import_advisories", json!({"records": many})).await;
    assert!(e.to_string().contains("at most 5000"), "{e}");
    let e = h.err(&admin(), "affected_by", json!({"advisory": "two words"})).await;
    assert!(matches!(e, Error::BadInput { field: Some(ref f), .. } if f == "advisory"), "{e:?}");
    let e = h.err(&admin(), "vulnerabilities", json!({"severity": "apocalyptic"})).await;
    assert!(matches!(e, Error::BadInput { field: Some(ref f), .. } if f == "severity"), "{e:?}");
    let e = h.err(&caller("carol", Role::Editor), "import_advisories", json!({"records": []})).await;
    assert!(matches!(e, Error::Denied { .. }));
    // Nothing matched, nothing to fix.
    let e = h.err(&admin(), "fix_advisory", json!({"advisory": "CVE-2025-29923"})).await;
    assert!(matches!(e, Error::NotFound { .. }));
    assert_eq!(h.snapshot().await, before);
}

#[tokio::test]
async fn the_score_counts_open_vulnerabilities_once_an_operator_weighs_them() {
    // Off by default: importing advisories moves no score.
    let h = org().await;
    let before = h.ok("project_score", json!({"project": "sessions"})).await;
    h.ok("import_advisories", json!({"records": [record("GHSA-77rv-6vfw-x4gc"), record("RUSTSEC-2025-0023")]})).await;
    assert_eq!(h.ok("project_score", json!({"project": "sessions"})).await, before);

    let mut config = switchboard_core::config::Config::default();
    config.score.weights.vulnerabilities = 20;
    let h = Harness::with_config(config).await;
    h.ok("create_team", json!({"slug": "checkout", "members": ["carol"]})).await;
    h.ok(
        "create_project",
        json!({"slug": "billing", "team": "checkout", "project_type": "api", "dependencies": [
            {"ecosystem": "maven", "package": "org.springframework.security.oauth:spring-security-oauth", "version": "2.0.16.RELEASE"}]}),
    )
    .await;
    let clean = h.ok("project_score", json!({"project": "billing"})).await;
    let part = |s: &Value| s["components"].as_array().unwrap().iter().find(|c| c["name"] == "vulnerabilities").cloned();
    assert_eq!(part(&clean).unwrap()["value"], 1.0);
    h.ok("import_advisories", json!({"records": [record("GHSA-77rv-6vfw-x4gc")]})).await;
    let exposed = h.ok("project_score", json!({"project": "billing"})).await;
    let p = part(&exposed).unwrap();
    assert_eq!((p["value"].as_f64(), p["detail"].as_str()), (Some(0.0), Some("open vulnerabilities: 1 critical")));
    assert!(exposed["score"].as_u64() < clean["score"].as_u64());
    // The change was recorded as it happened.
    let moved = kinds(&h, EventKind::ScoreChanged).await;
    assert!(moved.iter().any(|e| e.project.as_ref().is_some_and(|p| p.as_str() == "billing")), "{moved:?}");
}

#[tokio::test]
async fn records_that_alias_one_another_are_one_vulnerability_to_a_user() {
    // The Go database's record and GitHub's for the same CVE, both naming go-redis.
    let h = org().await;
    let go = record("GO-2025-3540");
    let mut github = go.clone();
    github["id"] = json!("GHSA-92cp-5422-2mw7");
    github["aliases"] = json!(["CVE-2025-29923", "GO-2025-3540"]);
    let out = h.ok("import_advisories", json!({"records": [go, github]})).await;
    assert_eq!(out["found"], 4, "two records × sessions and cart, as stored: {out}");

    let v = h.ok("vulnerabilities", json!({})).await;
    assert_eq!((v["total"].as_u64(), v["projects"].as_u64()), (Some(2), Some(2)), "{v}");
    let by_team: u64 = v["by_team"]["checkout"].as_object().unwrap().values().map(|n| n.as_u64().unwrap()).sum();
    let by_severity: u64 = v["by_severity"].as_object().unwrap().values().map(|n| n.as_u64().unwrap()).sum();
    assert_eq!((by_team, by_severity), (2, 2), "folded rows leave every count: {v}");
    let first = h.ok("vulnerabilities", json!({"limit": 1})).await;
    assert_eq!((first["total"].as_u64(), first["truncated"].as_bool()), (Some(2), Some(true)), "{first}");
    for m in v["vulnerabilities"].as_array().unwrap() {
        let mut names: Vec<&str> = std::iter::once(&m["advisory"])
            .chain(m["aliases"].as_array().unwrap())
            .map(|n| n.as_str().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["CVE-2025-29923", "GHSA-92cp-5422-2mw7", "GO-2025-3540"], "{m}");
    }
    let a = h.ok("affected_by", json!({"advisory": "CVE-2025-29923"})).await;
    assert_eq!(a["affected"].as_array().unwrap().len(), 2, "{a}");
}
