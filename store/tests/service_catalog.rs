//! `import_catalog` on Backstage's own example catalog (vendored with its
//! sources under core/tests/fixtures/backstage): Groups become teams with
//! their members, Users viewers matched by email, Components projects; a
//! second import changes nothing; a dry run changes nothing; bad entities
//! are skipped with their reason.

mod common;

use common::*;
use serde_json::{Value, json};
use switchboard_core::config::Config;
use switchboard_core::import::backstage;
use switchboard_core::model::Role;
use switchboard_core::store::GraphStore;

/// Every entity of the example catalog, as the CLI's reader gives them
/// (every file under the fixture directory; Locations left out).
fn catalog() -> Vec<Value> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/fixtures/backstage");
    let mut out = Vec::new();
    for (origin, text) in switchboard_testkit::fixtures::tree(&root).into_iter().filter(|(p, _)| p.ends_with(".yaml")) {
        let docs = backstage::documents(&text).unwrap();
        for mut d in docs.into_iter().filter(|d| d["kind"].is_string() && d["kind"] != "Location") {
            d["metadata"]["annotations"]["backstage.io/managed-by-location"] = json!(format!("file:{origin}"));
            out.push(d);
        }
    }
    out
}

fn names(v: &Value, key: &str, prefix: &str) -> Vec<String> {
    v[key].as_array().unwrap().iter().filter_map(|x| x.as_str()?.strip_prefix(prefix).map(str::to_owned)).collect()
}

#[tokio::test]
async fn the_backstage_example_catalog() {
    let h = Harness::new().await;
    let entities = catalog();
    let admin = admin();
    // A person who already signed in (through Slack, say) is matched by email.
    h.ok("set_user_email", json!({"user": "carol", "email": "janelle-dawe@example.com"})).await;

    let before = h.snapshot().await;
    let dry = h.run(&admin, "import_catalog", json!({"entities": entities, "dry_run": true})).await.unwrap().to_json();
    assert_eq!(dry["dry_run"], true);
    assert_eq!(h.snapshot().await, before, "a dry run changes nothing");

    let out = h.run(&admin, "import_catalog", json!({"entities": entities})).await.unwrap().to_json();
    assert_eq!(out["created"], dry["created"], "the dry run said what would happen");
    let projects = names(&out, "created", "project ");
    assert_eq!(projects.len(), 13, "{projects:?}");
    assert!(projects.contains(&"artist-lookup".into()) && projects.contains(&"wayback-search".into()));
    let teams = names(&out, "created", "team ");
    for t in ["team-a", "team-b", "team-c", "team-d", "acme-corp", "unowned"] {
        assert!(teams.contains(&t.to_owned()), "{t} in {teams:?}");
    }
    assert!(!names(&out, "created", "user ").contains(&"janelle.dawe".into()), "matched to carol by email");
    let skipped: Vec<&str> = out["skipped"].as_array().unwrap().iter().map(|s| s["reason"].as_str().unwrap()).collect();
    assert!(skipped.contains(&"kind API is not imported") && skipped.contains(&"kind System is not imported"));

    let lookup = h.store.get_project(&"artist-lookup".parse().unwrap()).await.unwrap().unwrap();
    assert_eq!((lookup.team.as_str(), lookup.project_type.as_str()), ("team-a", "api"));
    assert_eq!(lookup.description, "Artist Lookup");
    assert_eq!(lookup.links.len(), 7);
    assert_eq!(lookup.links[0].title, "Examples Users");
    let team_a = h.store.get_team(&"team-a".parse().unwrap()).await.unwrap().unwrap();
    let members: Vec<&str> = team_a.members.iter().map(|m| m.as_str()).collect();
    assert!(members.contains(&"carol") && members.contains(&"breanna.davison"), "{members:?}");
    let breanna = h.store.get_user(&"breanna.davison".parse().unwrap()).await.unwrap().unwrap();
    assert_eq!((breanna.role, breanna.email.as_deref()), (Role::Viewer, Some("breanna-davison@example.com")));
    assert_eq!(h.store.get_user(&"carol".parse().unwrap()).await.unwrap().unwrap().role, Role::Editor, "roles stay");
    let searcher = h.store.get_project(&"searcher".parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(searcher.team.as_str(), "unowned", "owned by a user, so the default team");
    let notes = out["notes"].to_string();
    assert!(notes.contains("owned by user:guest") && notes.contains("do not declare a `lifecycle` fact"), "{notes}");

    // Again: nothing to do.
    let events = h.snapshot().await["events"].clone();
    let again = h.run(&admin, "import_catalog", json!({"entities": entities})).await.unwrap().to_json();
    assert_eq!((again["created"].as_array().unwrap().len(), again["updated"].as_array().unwrap().len()), (0, 0));
    assert_eq!(h.snapshot().await["events"], events);

    // A changed entity updates its project.
    let mut changed = entities.clone();
    let lookup = changed.iter_mut().find(|e| e["metadata"]["name"] == "artist-lookup").unwrap();
    lookup["metadata"]["description"] = json!("Finds artists");
    lookup["spec"]["owner"] = json!("group:default/team-b");
    let out = h.run(&admin, "import_catalog", json!({"entities": changed})).await.unwrap().to_json();
    assert_eq!(out["updated"], json!(["project artist-lookup"]));
    let lookup = h.store.get_project(&"artist-lookup".parse().unwrap()).await.unwrap().unwrap();
    assert_eq!((lookup.team.as_str(), lookup.description.as_str()), ("team-b", "Finds artists"));
}

#[tokio::test]
async fn declared_facts_annotations_and_the_configured_types() {
    let mut config = Config::default();
    let api = config.project_types.get_mut(&"api".parse().unwrap()).unwrap();
    api.facts.insert("lifecycle".parse().unwrap(), toml::from_str("type = \"string\"").unwrap());
    let h = Harness::with_config(config).await;
    let entity = json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
        "metadata": {"name": "Orders_Service", "title": "Orders", "annotations": {
            "github.com/project-slug": "acme/orders", "pagerduty.com/service-id": "PORD1"}},
        "spec": {"type": "service", "lifecycle": "production", "owner": "group:default/checkout"}});
    let out = h.run(&admin(), "import_catalog", json!({"entities": [entity]})).await.unwrap().to_json();
    assert_eq!(out["created"], json!(["team checkout", "project orders-service"]));
    let p = h.store.get_project(&"orders-service".parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(p.name, "Orders");
    assert_eq!(p.facts[&"lifecycle".parse().unwrap()].value.to_string(), "production");
    assert_eq!(p.external_ids.github_repository.as_deref(), Some("acme/orders"));
    assert_eq!(p.external_ids.pagerduty_service.as_deref(), Some("PORD1"));

    // The same repository under another name is the same project.
    let renamed = json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
        "metadata": {"name": "orders", "title": "Orders", "annotations": {"github.com/project-slug": "acme/orders"}},
        "spec": {"type": "service", "lifecycle": "production", "owner": "checkout"}});
    let out = h.run(&admin(), "import_catalog", json!({"entities": [renamed]})).await.unwrap().to_json();
    assert_eq!(out["created"], json!([]), "{out}");
    assert!(h.store.get_project(&"orders".parse().unwrap()).await.unwrap().is_none());
}

#[tokio::test]
async fn bad_entities_are_skipped_and_only_admins_import() {
    let h = Harness::new().await;
    let entities = json!([
        {"kind": "Component", "metadata": {"name": "ok"}, "spec": {"type": "service", "owner": "team-x"}},
        {"kind": "Component", "metadata": {"name": "templated", "description": {"$text": "./README.md"}}, "spec": {"owner": "team-x"}},
        {"kind": "Component", "metadata": {"title": "no name"}},
        {"apiVersion": "backstage.io/v1alpha1"},
        "not an object"
    ]);
    let out = h.run(&admin(), "import_catalog", json!({"entities": entities})).await.unwrap().to_json();
    assert_eq!(out["created"], json!(["team team-x", "project ok"]));
    let reasons = out["skipped"].to_string();
    assert!(reasons.contains("metadata.description uses the placeholder $text"), "{reasons}");
    assert!(reasons.contains("it has no kind or metadata.name"), "{reasons}");

    let before = h.snapshot().await;
    let e = h.err(&caller("carol", Role::Editor), "import_catalog", json!({"entities": entities})).await;
    assert!(e.to_string().contains("needs the admin role"), "{e}");
    let e = h.err(&admin(), "import_catalog", json!({"entities": "all.yaml"})).await;
    assert!(e.to_string().contains("entities"), "{e}");
    let many: Vec<Value> = (0..20_001).map(|_| json!({})).collect();
    let e = h.err(&admin(), "import_catalog", json!({"entities": many})).await;
    assert!(e.to_string().contains("at most 20000 entities"), "{e}");
    assert_eq!(h.snapshot().await, before);
}
