//! `import_sbom` through the service: an SBOM's components replace only the
//! dependencies earlier SBOMs gave the project; edges from other sources
//! stay; the same SBOM again changes nothing; bad input changes nothing.

mod common;

use common::*;
use serde_json::{Value, json};
use switchboard_core::model::{Ecosystem, Role};
use switchboard_core::store::{EventLog, GraphStore};

fn cyclonedx(components: &[(&str, &str)]) -> Value {
    let components: Vec<Value> = components
        .iter()
        .map(|(purl, version)| json!({"type": "library", "name": purl, "version": version, "purl": format!("pkg:{purl}@{version}")}))
        .collect();
    json!({"bomFormat": "CycloneDX", "specVersion": "1.5", "metadata": {"component": {"name": "payments-api"}}, "components": components})
}

#[tokio::test]
async fn an_sbom_replaces_only_what_sboms_gave() {
    let h = Harness::with_org().await;
    let carol = caller("carol", Role::Editor);
    // payments-api has redis 6.2.14 and left-pad 1.2.3 from set_dependencies.
    let sbom = cyclonedx(&[("npm/left-pad", "1.2.3"), ("npm/lodash", "4.17.21"), ("pypi/Requests", "2.31.0")]);
    let args = json!({"project": "payments-api", "name": "web.cdx.json", "sbom": sbom});
    let out = h.run(&carol, "import_sbom", args.clone()).await.unwrap().to_json();
    assert_eq!(out["format"], "CycloneDX 1.5");
    assert_eq!(out["subject"], "payments-api");
    assert_eq!((out["components"].as_u64(), out["imported"].as_u64()), (Some(3), Some(2)));
    assert_eq!(out["kept"], json!(["left-pad"]), "left-pad stays the edge set_dependencies made");
    let added: Vec<&str> =
        out["changes"]["added"].as_array().unwrap().iter().map(|d| d["package"].as_str().unwrap()).collect();
    assert_eq!(added, ["lodash", "requests"]);

    let p = h.store.get_project(&"payments-api".parse().unwrap()).await.unwrap().unwrap();
    let lodash = p.dependencies.iter().find(|d| d.package.as_str() == "lodash").unwrap();
    assert_eq!((lodash.ecosystem, lodash.source.as_deref()), (Ecosystem::Npm, Some("sbom:web.cdx.json")));
    let left_pad = p.dependencies.iter().find(|d| d.package.as_str() == "left-pad").unwrap();
    assert_eq!(left_pad.source, None);
    assert_eq!(p.dependencies.len(), 4);

    // The same SBOM again: nothing to do, nothing recorded.
    let events = h.store.count().await.unwrap();
    let again = h.run(&carol, "import_sbom", args).await.unwrap().to_json();
    assert_eq!((again["unchanged"].as_u64(), again["changes"]["added"].as_array().unwrap().len()), (Some(2), 0));
    assert_eq!(h.store.count().await.unwrap(), events, "an unchanged import writes no event");

    // A newer SBOM: lodash moves, requests is gone; the other sources' edges stay.
    let newer = json!({"project": "payments-api", "sbom": cyclonedx(&[("npm/lodash", "4.17.22")])});
    let out = h.run(&carol, "import_sbom", newer).await.unwrap().to_json();
    assert_eq!(out["changes"]["changed"][0]["to"], "4.17.22");
    assert_eq!(out["changes"]["removed"][0]["package"], "requests");
    let p = h.store.get_project(&"payments-api".parse().unwrap()).await.unwrap().unwrap();
    let names: Vec<&str> = p.dependencies.iter().map(|d| d.package.as_str()).collect();
    assert_eq!(names, ["left-pad", "lodash", "redis"]);
    assert_eq!(p.dependencies.iter().find(|d| d.package.as_str() == "lodash").unwrap().source.as_deref(), Some("sbom"));

    // The history tells when it changed, as for any dependency change.
    let history = h.ok("project_history", json!({"project": "payments-api", "subject": "lodash"})).await;
    assert!(history.to_string().contains("4.17.22"), "{history}");
}

#[tokio::test]
async fn bad_sboms_change_nothing() {
    let h = Harness::with_org().await;
    let before = h.snapshot().await;
    let carol = caller("carol", Role::Editor);
    for (args, says) in [
        (json!({"project": "payments-api", "sbom": {"name": "not an sbom"}}), "expected a CycloneDX document"),
        (json!({"project": "payments-api", "sbom": "<bom/>"}), "XML and tag-value are not read"),
        (json!({"project": "payments-api", "sbom": {"spdxVersion": "SPDX-3.0"}}), "SPDX-3.0 is not read"),
        (json!({"project": "nope", "sbom": cyclonedx(&[("npm/a", "1")])}), "No project named"),
        (json!({"project": "payments-api", "sbom": cyclonedx(&[]), "name": "a\u{7}b"}), "control characters"),
        (json!({"project": "payments-api"}), "sbom"),
    ] {
        let e = h.err(&carol, "import_sbom", args.clone()).await;
        assert!(e.to_string().contains(says), "{args}: {e}");
    }
    let dave = caller("dave", Role::Viewer);
    let e = h.err(&dave, "import_sbom", json!({"project": "payments-api", "sbom": cyclonedx(&[("npm/a", "1")])})).await;
    assert!(e.to_string().contains("needs the editor role"), "{e}");
    assert_eq!(h.snapshot().await, before);
}
