//! Text search on a large result set: past the ranking limit, name matches
//! come first, in creation order, and filters still apply.

use switchboard_core::store::{GraphBatch, GraphStore, ProjectQuery};
use switchboard_store::SqliteStore;
use switchboard_testkit::conformance::project;

#[tokio::test]
async fn broad_searches_list_name_matches_first() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path(), 1).unwrap();
    let mut projects = Vec::new();
    // 2,100 projects mention "ledger" in their description only…
    for i in 0..2100 {
        projects.push(project(&format!("svc-{i:04}")).describe("Posts to the ledger").build());
    }
    // …and three have it in their name, one of them in another team.
    projects.push(project("ledger-api").team("books").build());
    projects.push(project("ledger-sync").build());
    projects.push(project("ledger-old").archived().build());
    store.import(&GraphBatch { projects, ..Default::default() }).await.unwrap();

    let q = |team: Option<&str>, limit| ProjectQuery {
        text: Some("ledger".into()),
        team: team.map(|t| t.parse().unwrap()),
        limit,
        ..Default::default()
    };
    let found = store.find_projects(&q(None, 5)).await.unwrap();
    let slugs: Vec<&str> = found.iter().map(|p| p.slug.as_str()).collect();
    assert_eq!(slugs, ["ledger-api", "ledger-sync", "svc-0000", "svc-0001", "svc-0002"]);
    let found = store.find_projects(&q(Some("books"), 5)).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(store.count_projects(&q(None, 5)).await.unwrap(), 2102);
}
