//! The home page answers "what needs me?" first: open incidents by
//! severity with age and owner, runs the reader may approve, runs stuck,
//! environments on a failed deploy; then counts and the activity with its
//! noise folded.

mod common;

use common::*;

fn as_user(who: &str) -> Request<Body> {
    Request::get("/").header("cookie", format!("sb_as={who}")).body(Body::empty()).unwrap()
}

#[tokio::test]
async fn the_home_page_leads_with_what_needs_attention() {
    let p = portal().await;
    let carol = Caller::new("carol", Role::Editor, "test");
    let args = json!({"project": "orders", "environment": "staging", "version": "9.9.9"});
    let run = p.service.execute_json(&carol, "deploy", args).await.unwrap().to_json();
    let failed = json!({"project": "cart", "environment": "production", "version": "3.1.0", "status": "failed"});
    p.service.execute_json(&Caller::new("alice", Role::Admin, "test"), "record_deployment", failed).await.unwrap();

    let (status, html, _) = p.send(Mode::Demo, as_user("bob")).await;
    assert_eq!(status, StatusCode::OK);
    // Attention before the organisation's counts, every counter a link.
    let attention = html.find(r#"id="attention""#).expect("the attention cards");
    assert!(attention < html.find(r#"id="count-projects""#).unwrap(), "{html}");
    for (href, id) in [
        ("/incidents", "attention-incidents"),
        ("/runs?status=pending", "attention-yours"),
        ("/deployments", "attention-deploys"),
        ("/inbox?status=dead", "attention-dead"),
    ] {
        assert!(html.contains(&format!(r#"href="{href}"><div class="n" id="{id}">"#)), "{id}: {html}");
    }
    // The demo's open incidents, most severe first, each with its owner and age.
    let table = &html[html.find(r#"id="home-incidents""#).expect("open incidents")..];
    let table = &table[..table.find("</table>").unwrap()];
    let rows: Vec<&str> = table.split("<tr>").skip(2).collect();
    assert!(!rows.is_empty(), "{table}");
    let severities: Vec<String> = rows
        .iter()
        .map(|r| r.split("s-failed\">").nth(1).map(|s| s[..s.find('<').unwrap()].to_owned()).unwrap_or_default())
        .collect();
    let mut sorted = severities.clone();
    sorted.sort_by_key(|s| if s.is_empty() { "~".to_owned() } else { s.to_ascii_lowercase() });
    assert_eq!(severities, sorted, "most severe first");
    assert!(rows.iter().all(|r| r.contains(r#"<a href="/teams/"#)), "each with its owning team: {table}");
    // bob (an approver) has carol's run to decide; the failed deploy is listed.
    let yours = &html[html.find(r#"id="home-yours""#).expect("runs waiting for bob")..];
    assert!(yours.contains(&format!(r#"href="/runs/{}""#, run["id"].as_str().unwrap())), "{yours}");
    let deploys = &html[html.find(r#"id="home-deploys""#).expect("failed deploys")..];
    assert!(deploys.contains(r#"<a href="/projects/cart">cart</a> 3.1.0 to production failed"#), "{deploys}");
    // The activity folds its noise.
    assert!(html.contains(r#"id="folded">Also: "#) && html.contains("green CI builds"), "{html}");

    // dave (a viewer) decides nothing: no run waits for him.
    let (_, html, _) = p.send(Mode::Demo, as_user("dave")).await;
    assert!(html.contains(r#"id="attention-yours">0<"#) && !html.contains(r#"id="home-yours""#), "{html}");
}
