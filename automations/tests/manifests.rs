//! Version changes in real-shaped manifests, asserted byte for byte: only the
//! version moves; operators, comments, spacing and other entries stay.

use switchboard_automations::manifests::{Edit, Manifest, set_version};

fn changed(kind: Manifest, before: &str, package: &str, from: Option<&str>, to: &str) -> String {
    match set_version(kind, before, package, from, to) {
        Edit::Changed(after) => after,
        other => panic!("{package}: {other:?}"),
    }
}

#[test]
fn cargo_toml_inline_tables_and_dependency_tables() {
    let before = r#"[package]
name = "orders"
version = "1.2.3"  # the crate's own version is not a dependency

[dependencies]
serde = { version = "1.0.200", features = ["derive"] } # keep me
redis = "0.25.3"
tokio = "1"

[dev-dependencies.redis]
version = "=0.25.3"
default-features = false

[target.'cfg(unix)'.dependencies]
redis = { version = "^0.25.3" }
"#;
    let after = changed(Manifest::Cargo, before, "redis", Some("0.25.3"), "0.27.0");
    assert_eq!(
        after,
        before
            .replace("redis = \"0.25.3\"", "redis = \"0.27.0\"")
            .replace("version = \"=0.25.3\"", "version = \"=0.27.0\"")
            .replace("version = \"^0.25.3\"", "version = \"^0.27.0\"")
    );
    assert!(after.contains("version = \"1.2.3\"  # the crate's own"), "the package's version is not touched");
    assert_eq!(set_version(Manifest::Cargo, &after, "redis", None, "0.27.0"), Edit::AlreadyAt);
    assert_eq!(
        set_version(Manifest::Cargo, before, "redis", Some("0.24.0"), "0.27.0"),
        Edit::OtherVersion("0.25.3".into())
    );
    assert_eq!(set_version(Manifest::Cargo, before, "left-pad", None, "1.3.0"), Edit::NotFound);
}

#[test]
fn package_json_keeps_its_ranges_and_layout() {
    let before = "{\n  \"name\": \"checkout-web\",\n  \"version\": \"1.2.3\",\n  \"dependencies\": {\n    \"left-pad\": \"^1.2.3\",\n    \"react\":   \"~18.2.0\"\n  },\n  \"devDependencies\": {\n    \"left-pad-cli\": \"1.2.3\"\n  }\n}\n";
    let after = changed(Manifest::PackageJson, before, "left-pad", Some("1.2.3"), "1.3.0");
    assert_eq!(after, before.replace("\"left-pad\": \"^1.2.3\"", "\"left-pad\": \"^1.3.0\""));
    let react = changed(Manifest::PackageJson, before, "react", None, "18.3.1");
    assert_eq!(react, before.replace("\"~18.2.0\"", "\"~18.3.1\""), "spacing kept");
    assert_eq!(set_version(Manifest::PackageJson, before, "lodash", None, "4.17.21"), Edit::NotFound);
    assert_eq!(set_version(Manifest::PackageJson, "{not json", "react", None, "1.0.0"), Edit::NotFound);
}

#[test]
fn requirements_txt_with_extras_markers_and_comments() {
    let before = "# pinned\nRequests[security]==2.31.0 ; python_version >= \"3.8\"  # http\nrequests-mock==1.11.0\nDjango>=4.2.1\n-r base.txt\n";
    let after = changed(Manifest::Requirements, before, "requests", Some("2.31.0"), "2.32.3");
    assert_eq!(after, before.replace("==2.31.0", "==2.32.3"));
    let django = changed(Manifest::Requirements, before, "django", None, "5.0.6");
    assert_eq!(django, before.replace(">=4.2.1", ">=5.0.6"));
    assert_eq!(Manifest::of("services/api/requirements-dev.txt"), Some(Manifest::Requirements));
}

#[test]
fn pyproject_pep621_and_poetry() {
    let before = "[project]\nname = \"events\"\ndependencies = [\n    \"requests==2.31.0\",\n    \"pydantic>=2.6\",\n]\n\n[tool.poetry.dependencies]\npython = \"^3.11\"\nRequests = \"^2.31.0\"\n";
    let after = changed(Manifest::Pyproject, before, "requests", Some("2.31.0"), "2.32.3");
    assert_eq!(after, before.replace("requests==2.31.0", "requests==2.32.3").replace("\"^2.31.0\"", "\"^2.32.3\""));
}

#[test]
fn go_mod_single_and_block_requires() {
    let before = "module github.com/acme/orders\n\ngo 1.22\n\nrequire github.com/redis/go-redis/v9 v9.5.1\n\nrequire (\n\tgithub.com/gin-gonic/gin v1.9.1\n\tgolang.org/x/net v0.22.0 // indirect\n)\n";
    let after = changed(Manifest::GoMod, before, "github.com/gin-gonic/gin", Some("1.9.1"), "1.10.0");
    assert_eq!(after, before.replace("gin v1.9.1", "gin v1.10.0"));
    let redis = changed(Manifest::GoMod, before, "github.com/redis/go-redis/v9", None, "v9.6.0");
    assert_eq!(redis, before.replace("v9 v9.5.1", "v9 v9.6.0"));
    let net = changed(Manifest::GoMod, before, "golang.org/x/net", None, "0.25.0");
    assert_eq!(net, before.replace("v0.22.0 // indirect", "v0.25.0 // indirect"));
    assert_eq!(Manifest::of("go.mod"), Some(Manifest::GoMod));
    assert_eq!(Manifest::of("README.md"), None);
}
