//! Operator texts: the built-in ones say what they always said; a file in
//! `texts.dir` rewords a notification and adds panels to the project page,
//! its values escaped.

mod common;

use common::*;
use switchboard_core::texts::Texts;

async fn set_fact(p: &Portal, key: &str, value: &str) {
    let admin = Caller::new("alice", Role::Admin, "test");
    p.service.execute_json(&admin, "set_fact", json!({"project": "orders", "key": key, "value": value})).await.unwrap();
}

#[tokio::test]
async fn the_built_in_panels_link_the_facts_that_are_web_addresses() {
    let p = portal().await;
    set_fact(&p, "runbook", "https://runbooks.example/orders").await;
    set_fact(&p, "oncall", "javascript:alert(1)").await;
    let (_, html) = p.page("/projects/orders").await;
    let panel = &html[html.find(r#"<section class="panel" id="panel-links">"#).expect("the links panel")..];
    let panel = &panel[..panel.find("</section>").unwrap()];
    let link = r#"<a href="https:&#x2f;&#x2f;runbooks.example&#x2f;orders" rel="noopener">Runbook</a>"#;
    assert!(panel.contains(link), "{panel}");
    assert!(!panel.contains("javascript:") && !panel.contains("Oncall"), "only web addresses are links: {panel}");
}

#[tokio::test]
async fn texts_from_a_directory_reword_notifications_and_add_panels() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("notification.txt"),
        "{% if kind == 'incident_triggered' %}PAGE {{ team }}/{{ project }}: {{ incident.title }}{% else %}{{ kind }} in {{ project }}{% endif %}",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("project_panels.html"),
        r#"<section class="panel" id="panel-owner"><h2>Owner</h2><p>{{ project.team }}: {{ project.facts.oncall }}</p></section>"#,
    )
    .unwrap();
    let mut config = Config::default();
    config.texts.dir = Some(dir.path().to_owned());
    config.texts.loaded = Arc::new(Texts::load(dir.path()).unwrap());
    let p = portal_with(config).await;
    let admin = Caller::new("alice", Role::Admin, "test");
    let incident = json!({"project": "orders", "title": "Checkout down", "external_id": "pd-texts-1"});
    p.service.execute_json(&admin, "record_incident", incident).await.unwrap();
    let (_, html) = p.page("/notifications").await;
    let team = p.service.graph().get_project(&"orders".parse().unwrap()).await.unwrap().unwrap().team;
    assert!(html.contains(&format!("PAGE {team}/orders: Checkout down")), "{html}");

    set_fact(&p, "oncall", "<script>alert(1)</script>").await;
    let (_, html) = p.page("/projects/orders").await;
    let expected = format!(r#"<p>{team}: &lt;script&gt;alert(1)&lt;&#x2f;script&gt;</p>"#);
    assert!(html.contains(r#"<section class="panel" id="panel-owner">"#) && html.contains(&expected), "{html}");
    assert!(!html.contains("<script>alert(1)"), "escaped");
}
