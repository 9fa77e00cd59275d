//! SBOMs published by the CycloneDX and SPDX projects and by the tools that
//! write them (Trivy, cyclonedx-python, cyclonedx-node-npm, GitHub's
//! dependency graph) read into dependency edges. Sources: fixtures/sbom/SOURCES.md.

use serde_json::{Value, json};
use switchboard_core::import::sbom::{ParsedSbom, parse};
use switchboard_core::model::{DependencyScope, Ecosystem};

fn read(name: &str) -> ParsedSbom {
    let path = format!("{}/tests/fixtures/sbom/{name}", env!("CARGO_MANIFEST_DIR"));
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    parse(&doc, &format!("sbom:{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn version_of<'a>(sbom: &'a ParsedSbom, eco: Ecosystem, package: &str) -> Option<&'a str> {
    sbom.dependencies.iter().find(|d| d.ecosystem == eco && d.package.as_str() == package).map(|d| d.version.as_str())
}

#[test]
fn every_cyclonedx_version_from_1_2_to_1_6() {
    for (name, format, eco, at_least) in [
        ("cyclonedx-1.2-proton-bridge-v1.8.0.json", "CycloneDX 1.2", Ecosystem::Go, 150),
        ("cyclonedx-1.2-dropwizard-1.3.15.json", "CycloneDX 1.2", Ecosystem::Maven, 150),
        ("cyclonedx-1.3-laravel-7.12.0.json", "CycloneDX 1.3", Ecosystem::Composer, 50),
        ("cyclonedx-1.4-node-npm-demo-deps-from-git.json", "CycloneDX 1.4", Ecosystem::Npm, 20),
        ("cyclonedx-1.5-trivy-fluentd-multiple-lockfiles.json", "CycloneDX 1.5", Ecosystem::Gem, 40),
        ("cyclonedx-1.6-trivy-fluentd-multiple-lockfiles.json", "CycloneDX 1.6", Ecosystem::Gem, 40),
        ("cyclonedx-1.6-cyclonedx-python-pipenv-with-extras.json", "CycloneDX 1.6", Ecosystem::Pypi, 5),
    ] {
        let sbom = read(name);
        assert_eq!(sbom.format, format, "{name}");
        let of_eco = sbom.dependencies.iter().filter(|d| d.ecosystem == eco).count();
        assert!(of_eco >= at_least, "{name}: {of_eco} {eco} edges of {}: {:?}", sbom.dependencies.len(), sbom.skipped);
        assert!(sbom.dependencies.iter().all(|d| d.source.as_deref() == Some(&format!("sbom:{name}")[..])));
        assert!(sbom.components >= sbom.dependencies.len(), "{name}");
    }
}

#[test]
fn packages_are_named_as_their_ecosystems_name_them() {
    let dropwizard = read("cyclonedx-1.2-dropwizard-1.3.15.json");
    assert!(
        dropwizard.dependencies.iter().any(|d| d.package.as_str() == "com.fasterxml.jackson.core:jackson-databind"),
        "Maven group:artifact"
    );
    let npm = read("cyclonedx-1.4-node-npm-demo-deps-from-git.json");
    assert!(npm.dependencies.iter().any(|d| d.package.as_str().starts_with("@cyclonedx/")), "npm scopes decoded");
    let go = read("cyclonedx-1.2-proton-bridge-v1.8.0.json");
    assert!(
        go.dependencies.iter().any(|d| d.ecosystem == Ecosystem::Go && d.package.as_str().starts_with("github.com/"))
    );
    let trivy = read("cyclonedx-1.5-trivy-fluentd-multiple-lockfiles.json");
    let debs = trivy.dependencies.iter().filter(|d| d.package.as_str().starts_with("deb:debian/")).count();
    assert!(debs > 50, "an unknown purl type keeps its type: {debs}");
    assert!(
        trivy
            .dependencies
            .iter()
            .filter(|d| d.package.as_str().starts_with("deb:"))
            .all(|d| d.ecosystem == Ecosystem::Other)
    );
}

#[test]
fn the_sboms_own_subject_is_not_its_dependency_and_the_graph_says_what_is_direct() {
    let laravel = read("cyclonedx-1.3-laravel-7.12.0.json");
    assert_eq!(laravel.subject.as_deref(), Some("cyclonedx-php-composer-demo"));
    assert!(laravel.dependencies.iter().all(|d| d.package.as_str() != "cyclonedx/cyclonedx-php-composer-demo"));
    assert_eq!(version_of(&laravel, Ecosystem::Composer, "laravel/framework"), Some("v7.30.6"));
    let direct: Vec<&str> = laravel.dependencies.iter().filter(|d| !d.transitive).map(|d| d.package.as_str()).collect();
    assert_eq!(direct, ["laravel/laravel"], "the demo asks for laravel/laravel only");
    let framework = laravel.dependencies.iter().find(|d| d.package.as_str() == "laravel/framework").unwrap();
    assert!(framework.transitive, "the framework comes through laravel/laravel");
}

#[test]
fn github_dependency_graph_exports_and_the_spdx_example() {
    let osv = read("spdx-2.3-github-depgraph-google-osv-scanner.json");
    assert_eq!(osv.format, "SPDX-2.3");
    assert_eq!(osv.subject.as_deref(), Some("com.github.google/osv-scanner"));
    assert!(osv.dependencies.iter().filter(|d| d.ecosystem == Ecosystem::Gem).count() >= 80);
    assert!(osv.dependencies.iter().filter(|d| d.ecosystem == Ecosystem::Go).count() >= 40);
    assert!(osv.dependencies.iter().any(|d| d.package.as_str().starts_with("githubactions:")));
    // GitHub's export is flat: everything hangs off the repository.
    assert!(osv.dependencies.iter().all(|d| !d.transitive));

    let janus = read("spdx-2.3-github-depgraph-janusgraph.json");
    assert!(janus.dependencies.iter().filter(|d| d.ecosystem == Ecosystem::Maven).count() >= 150);
    let no_version = janus.skipped.iter().filter(|s| s.reason == "it has no version").count();
    assert!(no_version >= 80, "Maven packages GitHub lists without a version are skipped, saying so: {no_version}");

    let example = read("spdx-2.3-spdx-spec-example.json");
    assert_eq!(version_of(&example, Ecosystem::Maven, "org.apache.jena:apache-jena"), Some("3.12.0"));

    // The REST endpoint wraps the document.
    let path =
        format!("{}/tests/fixtures/sbom/spdx-2.3-github-depgraph-google-osv-scanner.json", env!("CARGO_MANIFEST_DIR"));
    let inner: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(parse(&json!({"sbom": inner}), "sbom").unwrap().dependencies.len(), osv.dependencies.len());
}

#[test]
fn dev_and_build_scopes_and_duplicates() {
    let doc = json!({
        "spdxVersion": "SPDX-2.3", "documentDescribes": ["SPDXRef-app"],
        "packages": [
            {"SPDXID": "SPDXRef-app", "name": "app", "versionInfo": "1.0.0"},
            {"SPDXID": "SPDXRef-a", "name": "a", "versionInfo": "1.0.0",
             "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": "pkg:npm/a@1.0.0"}]},
            {"SPDXID": "SPDXRef-jest", "name": "jest", "versionInfo": "29.0.0",
             "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": "pkg:npm/jest@29.0.0"}]},
            {"SPDXID": "SPDXRef-b", "name": "b", "versionInfo": "2.0.0",
             "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": "pkg:npm/b@2.0.0"}]},
            {"SPDXID": "SPDXRef-b-old", "name": "b", "versionInfo": "1.0.0",
             "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": "pkg:npm/b@1.0.0"}]}
        ],
        "relationships": [
            {"spdxElementId": "SPDXRef-app", "relationshipType": "DEPENDS_ON", "relatedSpdxElement": "SPDXRef-a"},
            {"spdxElementId": "SPDXRef-jest", "relationshipType": "DEV_DEPENDENCY_OF", "relatedSpdxElement": "SPDXRef-app"},
            {"spdxElementId": "SPDXRef-a", "relationshipType": "DEPENDS_ON", "relatedSpdxElement": "SPDXRef-b"},
            {"spdxElementId": "SPDXRef-a", "relationshipType": "DEPENDS_ON", "relatedSpdxElement": "SPDXRef-b-old"}
        ]
    });
    let sbom = parse(&doc, "sbom").unwrap();
    let by = |p: &str| sbom.dependencies.iter().find(|d| d.package.as_str() == p).unwrap();
    assert_eq!((by("a").transitive, by("a").scope), (false, DependencyScope::Runtime));
    assert_eq!((by("jest").transitive, by("jest").scope), (false, DependencyScope::Dev));
    assert_eq!((by("b").transitive, by("b").version.as_str()), (true, "2.0.0"));
    assert_eq!(sbom.dependencies.len(), 3);
    assert!(
        sbom.skipped.iter().any(|s| s.reason.contains("b is listed again at 1.0.0; 2.0.0 is kept")),
        "{:?}",
        sbom.skipped
    );
}

#[test]
fn what_is_not_an_sbom_says_what_is_expected() {
    let err = |v: Value| parse(&v, "sbom").unwrap_err();
    assert!(err(json!([1, 2])).contains("JSON object"));
    assert!(err(json!("<bom/>")).contains("XML and tag-value are not read"));
    assert!(err(json!({"name": "x"})).contains("expected a CycloneDX document"));
    assert!(
        err(json!({"bomFormat": "CycloneDX", "components": "many"})).contains("not a CycloneDX document this reads")
    );
    assert!(err(json!({"spdxVersion": "SPDX-3.0"})).contains("SPDX-3.0 is not read"));
    // One bad component is skipped; the rest import.
    let doc = json!({"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [
        {"type": "library", "name": "ok", "version": "1.0.0", "purl": "pkg:npm/ok@1.0.0"},
        {"type": "library", "name": 42},
        {"type": "library", "name": "bad-purl", "version": "1", "purl": "npm/bad@1"},
        {"type": "library", "name": "spaced", "version": "1 2"}
    ]});
    let sbom = parse(&doc, "sbom").unwrap();
    assert_eq!(sbom.dependencies.len(), 1);
    let reasons: Vec<&str> = sbom.skipped.iter().map(|s| s.what.as_str()).collect();
    assert_eq!(reasons, ["components[1]", "components[2]", "components[3] (spaced)"]);
}
