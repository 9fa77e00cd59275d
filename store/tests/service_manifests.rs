//! `import_manifests` through the service: a repository's files replace the
//! project's hand-set and earlier manifest edges in one write; SBOM edges of
//! other packages stay; the same files again change nothing; bad paths are
//! refused and change nothing.

mod common;

use common::*;
use serde_json::json;
use switchboard_core::model::Role;
use switchboard_core::store::{EventLog, GraphStore};

fn files(go_mod: &str) -> serde_json::Value {
    json!([
        {"path": "go.mod", "text": go_mod},
        {"path": "web/package.json", "text": r#"{"name": "web", "dependencies": {"left-pad": "^1.3.0"}, "devDependencies": {"jest": "29.7.0"}}"#},
        {"path": "web/node_modules/jest/package.json", "text": r#"{"name": "jest", "dependencies": {"x": "1"}}"#},
        {"path": "README.md", "text": "not read"}
    ])
}

#[tokio::test]
async fn a_repositorys_files_become_its_dependencies() {
    let h = Harness::with_org().await;
    let carol = caller("carol", Role::Editor);
    // An SBOM edge of another package stays; set_dependencies' edges go.
    let sbom = json!({"bomFormat": "CycloneDX", "components": [{"type": "library", "name": "openssl", "version": "3.0.13", "purl": "pkg:deb/debian/openssl@3.0.13"}]});
    h.run(&carol, "import_sbom", json!({"project": "payments-api", "sbom": sbom})).await.unwrap();
    let go = "module example.com/pay\n\nrequire (\n\tgithub.com/redis/go-redis/v9 v9.5.1\n\tgolang.org/x/sys v0.20.0 // indirect\n)\n";
    let out = h
        .run(&carol, "import_manifests", json!({"project": "payments-api", "files": files(go)}))
        .await
        .unwrap()
        .to_json();
    assert_eq!(out["files"], json!(["go.mod", "web/package.json"]), "node_modules and other files are not read");
    assert_eq!((out["direct"].as_u64(), out["transitive"].as_u64()), (Some(3), Some(1)));
    let removed: Vec<&str> =
        out["changes"]["removed"].as_array().unwrap().iter().map(|d| d["package"].as_str().unwrap()).collect();
    assert_eq!(removed, ["redis"], "a hand-set edge the repository does not have goes");
    assert_eq!(out["changes"]["changed"][0]["package"], "left-pad", "one it has takes the repository's version");
    let p = h.store.get_project(&"payments-api".parse().unwrap()).await.unwrap().unwrap();
    let names: Vec<(&str, Option<&str>)> =
        p.dependencies.iter().map(|d| (d.package.as_str(), d.source.as_deref())).collect();
    assert_eq!(
        names,
        [
            ("jest", Some("web/package.json")),
            ("left-pad", Some("web/package.json")),
            ("github.com/redis/go-redis/v9", Some("go.mod")),
            ("golang.org/x/sys", Some("go.mod")),
            ("deb:debian/openssl", Some("sbom")),
        ]
    );
    let left_pad = p.dependencies.iter().find(|d| d.package.as_str() == "left-pad").unwrap();
    assert_eq!((left_pad.version.as_str(), left_pad.requirement.as_deref()), ("^1.3.0", None));

    // The same files: nothing. A push that moves a version: one change.
    let events = h.store.count().await.unwrap();
    h.run(&carol, "import_manifests", json!({"project": "payments-api", "files": files(go)})).await.unwrap();
    assert_eq!(h.store.count().await.unwrap(), events);
    let moved = go.replace("v9.5.1", "v9.6.0");
    let out = h
        .run(&carol, "import_manifests", json!({"project": "payments-api", "files": files(&moved)}))
        .await
        .unwrap()
        .to_json();
    assert_eq!(
        out["changes"]["changed"],
        json!([{"ecosystem": "go", "package": "github.com/redis/go-redis/v9", "from": "v9.5.1", "to": "v9.6.0"}])
    );
}

#[tokio::test]
async fn bad_files_are_refused_or_skipped() {
    let h = Harness::with_org().await;
    let carol = caller("carol", Role::Editor);
    let before = h.snapshot().await;
    for (path, says) in [("../etc/go.mod", "relative path"), ("/go.mod", "relative path"), ("", "relative path")] {
        let args = json!({"project": "payments-api", "files": [{"path": path, "text": "module x"}]});
        let e = h.err(&carol, "import_manifests", args).await;
        assert!(e.to_string().contains(says), "{path}: {e}");
    }
    let e =
        h.err(&caller("dave", Role::Viewer), "import_manifests", json!({"project": "payments-api", "files": []})).await;
    assert!(e.to_string().contains("needs the editor role"), "{e}");
    assert_eq!(h.snapshot().await, before);
    // A broken file is skipped with its message; the rest is read.
    let args = json!({"project": "ledger", "files": [
        {"path": "Cargo.toml", "text": "[dependencies\nserde = 1"},
        {"path": "go.mod", "text": "module x\nrequire github.com/a/b v1.0.0\n"}]});
    let out = h.run(&carol, "import_manifests", args).await.unwrap().to_json();
    assert_eq!(out["skipped"][0]["what"], "Cargo.toml");
    assert_eq!(out["changes"]["added"][0]["package"], "github.com/a/b");
}
