//! `switchboard advisories dependency-track` against a fake Dependency-Track
//! answering with real findings (testkit/fixtures/dependency-track): every
//! project's dependencies go up as CycloneDX BOMs with the API key; open
//! findings come back as advisories matched like any other (a CVE and its
//! GHSA one advisory, triaged and suppressed findings left out), their counts
//! as facts; a finding suppressed later is fixed at the next sync. A wrong
//! key or no configuration is a clear error that changes nothing.

mod common;

use std::process::{Command, Output};

use common::*;
use serde_json::{Value, json};
use switchboard_testkit::dependency_track::FakeDependencyTrack;

const KEY: &str = "odt_Kx3Jm2Yw8Fz1Qe7Tn4Vb6Lr9Pa0Hc5S";

async fn sync(config: &str, data: &str, key: &str) -> Output {
    let (config, data, key) = (config.to_owned(), data.to_owned(), key.to_owned());
    tokio::task::spawn_blocking(move || {
        Command::new(BIN)
            .args(["advisories", "dependency-track", "--config", &config, "--data-dir", &data])
            .env("SWITCHBOARD_DEPENDENCY_TRACK_API_KEY", key)
            .env_remove("RUST_LOG")
            .output()
            .expect("the binary runs")
    })
    .await
    .unwrap()
}

fn op(data: &str, name: &str, args: Value) -> Value {
    let out = run(&["op", name, "--json", &args.to_string(), "--data-dir", data]);
    assert!(out.status.success(), "{name} {args}: {}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn deps(list: &[(&str, &str, &str)]) -> Value {
    list.iter().map(|(e, p, v)| json!({"ecosystem": e, "package": p, "version": v})).collect()
}

/// (advisory, package, version) of a project's findings.
fn findings(data: &str, project: &str) -> Vec<(String, String, String)> {
    let list = op(data, "vulnerabilities", json!({"project": project, "limit": 1000}));
    let mut out: Vec<(String, String, String)> = list["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let s = |k: &str| m[k].as_str().unwrap().to_owned();
            (s("advisory"), s("package"), s("version"))
        })
        .collect();
    out.sort();
    out
}

fn fact(data: &str, project: &str, key: &str) -> Value {
    op(data, "get_project", json!({"project": project}))["project"]["facts"][key]["value"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn findings_come_back_as_advisories_and_facts() {
    let fake = FakeDependencyTrack::start(KEY).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data").to_str().unwrap().to_owned();
    let seeded = run(&["demo", "--seed-only", "--data-dir", &data, "--projects", "40"]);
    assert!(seeded.status.success(), "{}", text(&seeded.stderr));
    let config = dir.path().join("switchboard.toml");
    std::fs::write(&config, format!("[dependency_track]\nurl = \"{}/\"\nwait_secs = 30\n", fake.url)).unwrap();
    let config = config.to_str().unwrap().to_owned();

    // Two projects take packages the vendored findings are about.
    let listed = op(&data, "find_projects", json!({"limit": 2}));
    let slugs: Vec<String> =
        listed["projects"].as_array().unwrap().iter().map(|p| p["slug"].as_str().unwrap().to_owned()).collect();
    let (a, b) = (slugs[0].as_str(), slugs[1].as_str());
    let web = deps(&[
        ("npm", "qs", "6.7.0"),
        ("npm", "minimist", "1.2.5"),
        ("npm", "lodash", "4.17.19"),
        ("npm", "axios", "1.13.6"),
        ("npm", "left-pad", "1.3.0"),
    ]);
    op(&data, "set_dependencies", json!({"project": a, "dependencies": web}));
    let mixed = deps(&[
        ("npm", "qs", "6.5.2"),
        ("maven", "org.apache.logging.log4j:log4j-core", "2.14.1"),
        ("pypi", "urllib3", "1.26.16"),
    ]);
    op(&data, "set_dependencies", json!({"project": b, "dependencies": mixed}));

    // A wrong key: refused by name, nothing recorded.
    let out = sync(&config, &data, "not-the-key").await;
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("refused the API key (401)"), "{}", text(&out.stderr));
    assert!(findings(&data, a).is_empty());
    assert!(fake.uploads().is_empty());

    let out = sync(&config, &data, KEY).await;
    assert!(out.status.success(), "{}\n{}", text(&out.stderr), text(&out.stdout));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["errors"], json!([]), "{report}");
    assert_eq!(report["uploaded"], report["projects"], "{report}");
    assert_eq!(report["read"], report["projects"], "{report}");

    // The BOM: CycloneDX, the project by its slug and the configured version, purls as DT keys components.
    let uploads = fake.uploads();
    let up = uploads.iter().find(|u| u.project_name == a).expect("project a uploaded");
    assert_eq!((up.project_version.as_str(), up.auto_create), ("switchboard", true));
    assert_eq!((up.bom["bomFormat"].as_str(), up.bom["specVersion"].as_str()), (Some("CycloneDX"), Some("1.5")));
    let purls: Vec<&str> =
        up.bom["components"].as_array().unwrap().iter().map(|c| c["purl"].as_str().unwrap()).collect();
    assert!(purls.contains(&"pkg:npm/axios@1.13.6") && purls.contains(&"pkg:npm/qs@6.7.0"), "{purls:?}");
    let up = uploads.iter().find(|u| u.project_name == b).unwrap();
    assert!(up.bom.to_string().contains("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"), "{}", up.bom);

    // Open findings matched: axios's CVE reported by NVD and its GHSA by GitHub is one advisory;
    // lodash's NOT_AFFECTED CVE-2021-23337 and qs 6.7.0's FALSE_POSITIVE CVE-2022-24999 are left out.
    let owned = |v: &[(&str, &str, &str)]| -> Vec<(String, String, String)> {
        let mut v: Vec<_> = v.iter().map(|(x, y, z)| (x.to_string(), y.to_string(), z.to_string())).collect();
        v.sort();
        v
    };
    assert_eq!(
        findings(&data, a),
        owned(&[
            ("CVE-2020-28500", "lodash", "4.17.19"),
            ("CVE-2021-44906", "minimist", "1.2.5"),
            ("GHSA-3p68-rc4w-qgx5", "axios", "1.13.6"),
            ("GHSA-fvcv-3m26-pcqx", "axios", "1.13.6"),
        ])
    );
    assert_eq!(
        findings(&data, b),
        owned(&[
            ("CVE-2021-44228", "org.apache.logging.log4j:log4j-core", "2.14.1"),
            ("CVE-2022-24999", "qs", "6.5.2"),
            ("GHSA-g4mx-q9vg-27p4", "urllib3", "1.26.16"),
        ])
    );
    let by_cve = op(&data, "affected_by", json!({"advisory": "cve-2025-62718"}));
    assert_eq!(by_cve["advisories"][0]["id"], "GHSA-3p68-rc4w-qgx5", "{by_cve}");
    let minimist = op(&data, "affected_by", json!({"advisory": "CVE-2021-44906"}));
    assert_eq!(minimist["advisories"][0]["severity"], "critical", "{minimist}");

    // The counts as facts: open findings, and the critical one's policy violation.
    // (As Dependency-Track counts them: axios's two vulnerabilities are four findings, one per source.)
    assert_eq!(fact(&data, a, "dependency_track_findings"), json!(6));
    assert_eq!(fact(&data, a, "dependency_track_policy_violations"), json!(1));
    assert_eq!(fact(&data, b, "dependency_track_findings"), json!(3));

    // minimist's finding is suppressed in Dependency-Track: the next sync fixes it here.
    fake.suppress("pkg:npm/minimist@1.2.5", "CVE-2021-44906");
    let out = sync(&config, &data, KEY).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["fixed"], 1, "{report}");
    assert_eq!(report["found"], 0, "{report}");
    assert_eq!(report["advisories_changed"], 1, "only minimist's record changes: {report}");
    assert!(!findings(&data, a).iter().any(|f| f.1 == "minimist"));
    assert_eq!(fact(&data, a, "dependency_track_policy_violations"), json!(0));
    let history = op(&data, "project_history", json!({"project": a, "subject": "CVE-2021-44906"}));
    let kinds: Vec<&str> = history["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"vulnerability_fixed") && kinds.contains(&"vulnerability_found"), "{history}");
}

#[test]
fn without_a_configured_server_it_says_what_to_set() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let out = run(&["advisories", "dependency-track", "--data-dir", data]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("set [dependency_track] url"), "{}", text(&out.stderr));
    let config = dir.path().join("switchboard.toml");
    std::fs::write(&config, "[dependency_track]\nurl = \"https://dtrack.example.com\"\n").unwrap();
    let out = run(&["advisories", "dependency-track", "--config", config.to_str().unwrap(), "--data-dir", data]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("SWITCHBOARD_DEPENDENCY_TRACK_API_KEY"), "{}", text(&out.stderr));
}
