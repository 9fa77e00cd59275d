//! The header's one search: projects, teams, people, packages and runs as
//! one types (htmx asks for the results only) and as a page.

mod common;

use common::*;

async fn typed(p: &Portal, q: &str) -> String {
    let req = Request::get(format!("/search?q={q}")).header("hx-request", "true").body(Body::empty()).unwrap();
    let (status, html, _) = p.send(Mode::Demo, req).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("<html"), "a fragment, not a page: {html}");
    html
}

#[tokio::test]
async fn one_search_finds_every_kind_as_you_type() {
    let p = portal().await;
    // Every page carries the box, wired to search as one types.
    let (_, home) = p.page("/").await;
    assert!(
        home.contains(r#"<form action="/search" method="get" role="search" class="search" id="search">"#),
        "{home}"
    );
    assert!(home.contains(r#"hx-get="/search""#) && home.contains(r##"hx-target="#search-results""##));

    let hits = typed(&p, "pay").await;
    for found in [r#"href="/projects/payments-api""#, r#"href="/teams/payments""#, r#"href="/search?q=pay""#] {
        assert!(hits.contains(found), "{found}: {hits}");
    }
    assert!(hits.contains(">Projects<") && hits.contains(">Teams<"), "{hits}");
    // A person, by name: their team's page.
    let hits = typed(&p, "carol").await;
    assert!(hits.contains(">People<") && hits.contains(r#"href="/teams/"#), "{hits}");
    // A package by its first letters.
    let hits = typed(&p, "redi").await;
    assert!(hits.contains(r#"href="/packages/redis""#), "{hits}");
    // A run by its words.
    let carol = Caller::new("carol", Role::Editor, "test");
    let args = json!({"project": "orders", "environment": "staging", "version": "7.7.7"});
    let run = p.service.execute_json(&carol, "deploy", args).await.unwrap().to_json();
    let hits = typed(&p, "orders%207.7.7").await;
    assert!(hits.contains(&format!(r#"href="/runs/{}""#, run["id"].as_str().unwrap())), "{hits}");
    // One letter searches nothing yet; nothing found says so.
    assert_eq!(typed(&p, "p").await.trim(), "");
    assert!(typed(&p, "zzqx").await.contains("Nothing matches"));

    // Enter opens the page with more of each.
    let (status, page) = p.page("/search?q=pay").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<h1>Search</h1>") && page.contains(r#"href="/projects/payments-api""#), "{page}");
    let (_, page) = p.page("/search?q=zzqx").await;
    assert!(page.contains(r#"id="no-results""#), "{page}");
}
