//! The vulnerability pages on the demo organisation with the advisory
//! sample imported: the exposure by severity and team, an advisory's page
//! by any of its names, and the Fix button requesting the campaigns (CSRF-
//! checked, decided by core's policy). Bad filters are a 400.

mod common;

use common::*;
use serde_json::json;
use switchboard_core::Caller;
use switchboard_core::model::Role;

async fn with_advisories() -> Portal {
    let p = portal().await;
    let admin = Caller::new("alice", Role::Admin, "test");
    let records = switchboard_core::demo_advisories::sample();
    let out =
        p.service.execute_json(&admin, "import_advisories", json!({ "records": records })).await.unwrap().to_json();
    assert!(out["found"].as_u64().unwrap() > 0, "the demo's packages meet the sample: {out}");
    p
}

#[tokio::test]
async fn the_organisation_s_exposure_by_severity_and_team() {
    let p = portal().await;
    let (status, html) = p.page("/vulnerabilities").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("No advisories are known yet") && html.contains("advisories import"), "{html}");

    let p = with_advisories().await;
    let admin = Caller::new("alice", Role::Admin, "test");
    let all = p.service.execute_json(&admin, "vulnerabilities", json!({"limit": 1000})).await.unwrap().to_json();
    let (status, html) = p.page("/vulnerabilities").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"id="by-team""#) && html.contains(r#"id="vulnerabilities""#), "{html}");
    assert!(html.contains(&format!("{} vulnerable dependenc", all["total"])), "{html}");
    let first = &all["vulnerabilities"][0];
    assert!(html.contains(&format!(r#"href="/advisories/{}""#, first["advisory"].as_str().unwrap())));
    // A team's own view, and a severity filter that is not one.
    let team = first["team"].as_str().unwrap();
    let (status, html) = p.page(&format!("/vulnerabilities?team={team}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&format!("of team {team}")), "{html}");
    let (status, _) = p.page("/vulnerabilities?severity=apocalyptic").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = p.page("/vulnerabilities?team=Not%20A%20Team").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // The affected project's page lists its own findings; a clean one has no panel.
    let project = first["project"].as_str().unwrap();
    let own = p.service.execute_json(&admin, "vulnerabilities", json!({"project": project})).await.unwrap().to_json();
    let (status, html) = p.page(&format!("/projects/{project}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"id="project-vulnerabilities""#), "{html}");
    assert!(html.contains(&format!("{} known vulnerable dependenc", own["total"])), "{html}");
    for m in own["vulnerabilities"].as_array().unwrap() {
        assert!(html.contains(&format!(r#"href="/advisories/{}""#, m["advisory"].as_str().unwrap())), "{m}");
    }
    let clean =
        p.service.execute_json(&admin, "find_projects", json!({"limit": 500})).await.unwrap().to_json()["projects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["slug"].as_str().unwrap().to_owned())
            .find(|slug| all["vulnerabilities"].as_array().unwrap().iter().all(|m| m["project"] != slug.as_str()))
            .expect("a demo project without findings");
    let (status, html) = p.page(&format!("/projects/{clean}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains(r#"id="project-vulnerabilities""#), "{clean}");
}

#[tokio::test]
async fn an_advisory_page_and_its_fix_button() {
    let p = with_advisories().await;
    let admin = Caller::new("alice", Role::Admin, "test");
    let report =
        p.service.execute_json(&admin, "affected_by", json!({"advisory": "CVE-2025-29923"})).await.unwrap().to_json();
    let (status, html) = p.page("/advisories/cve-2025-29923").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("CVE-2025-29923 (GO-2025-3540)") && html.contains("GHSA-92cp-5422-2mw7"), "{html}");
    for m in report["affected"].as_array().unwrap() {
        assert!(html.contains(m["project"].as_str().unwrap()), "{m} is listed");
    }
    let (status, _) = p.page("/advisories/CVE-1999-0001").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let declared = report["affected"].as_array().unwrap().iter().any(|m| !m["transitive"].as_bool().unwrap());
    assert!(declared, "the demo declares go-redis somewhere: {report}");
    assert!(html.contains(r#"action="/advisories/GO-2025-3540/fix""#), "{html}");
    // A viewer is told why instead of being offered a button that refuses them.
    let (status, html) = p.page_as("dave", "/advisories/GO-2025-3540").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("/fix\"") && html.contains(r#"id="fix-denied""#), "{html}");
    assert!(html.contains("Not allowed: fix_advisory needs the editor role, and you have viewer"), "{html}");
    let token = "0123456789abcdef0123456789abcdef";
    let fix = |who: &str, csrf: &str| {
        form("/advisories/GO-2025-3540/fix", &format!("sb_csrf={token}; sb_as={who}"), &format!("csrf={csrf}"), false)
    };
    let (status, _, _) = p.send(Mode::Demo, fix("carol", "forged")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, html, _) = p.send(Mode::Demo, fix("dave", token)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a viewer cannot request a fix: {html}");
    let (status, _, headers) = p.send(Mode::Demo, fix("carol", token)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let to = headers["location"].to_str().unwrap();
    assert!(to.starts_with("/runs/") || to == "/advisories/GO-2025-3540", "{to}");
    // The page now follows the campaigns instead of offering the button.
    let (_, html) = p.page("/advisories/GO-2025-3540").await;
    assert!(html.contains(r#"id="campaigns""#) && html.contains("pending"), "{html}");
    assert!(!html.contains("/fix\""), "{html}");

    // As the engine opens the campaign's pull requests and they merge, the page follows them.
    use switchboard_core::campaign::{Item, ItemState};
    let report =
        p.service.execute_json(&admin, "affected_by", json!({"advisory": "CVE-2025-29923"})).await.unwrap().to_json();
    let run: switchboard_core::ids::RunId = report["runs"][0]["id"].as_str().unwrap().parse().unwrap();
    let opened = Item::new("acme/cart", None, ItemState::Opened).pull(7, None);
    p.service.record_campaign_item(&run, &opened, "engine").await.unwrap();
    p.service
        .record_campaign_item(&run, &Item::new("acme/orders", None, ItemState::Opened).pull(8, None), "engine")
        .await
        .unwrap();
    p.service
        .record_campaign_item(&run, &Item::new("acme/cart", None, ItemState::Merged).pull(7, None), "github")
        .await
        .unwrap();
    let (_, html) = p.page("/advisories/GO-2025-3540").await;
    assert!(html.contains("pull requests: 1 opened, 1 merged"), "{html}");
}
