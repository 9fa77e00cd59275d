//! Changing what the portal shows from its own pages: a project's details,
//! a new team, a team's name and members — each through its operation,
//! CSRF-checked, refused with why (changing nothing), and on the audit page.

mod common;

use common::*;

const TOKEN: &str = "0123456789abcdef0123456789abcdef";

async fn project(p: &Portal) -> switchboard_core::model::Project {
    p.service.graph().get_project(&"orders".parse().unwrap()).await.unwrap().unwrap()
}

#[tokio::test]
async fn a_projects_details_are_edited_from_its_page() {
    let p = portal().await;
    let (_, html) = p.page("/projects/orders").await;
    assert!(html.contains(r#"<form class="filters" method="post" action="/projects/orders/details">"#), "{html}");
    let before = project(&p).await;
    assert!(html.contains(&format!(r#"<option value="{}" selected>"#, before.team)), "the owner is chosen");
    let other = p.service.graph().list_teams().await.unwrap().into_iter().find(|t| t.slug != before.team).unwrap();
    let jar = format!("sb_csrf={TOKEN}; sb_as=frank");
    let body = |name: &str, team: &str| {
        format!(
            "csrf={TOKEN}&name={}&description={}&team={team}&project_type={}",
            enc(name),
            enc("Takes orders, keeps them"),
            before.project_type
        )
    };
    let (status, _, headers) = p
        .send(Mode::Demo, form("/projects/orders/details", &jar, &body("Orders service", other.slug.as_str()), false))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/projects/orders");
    let after = project(&p).await;
    assert_eq!((after.name.as_str(), after.description.as_str()), ("Orders service", "Takes orders, keeps them"));
    assert_eq!(after.team, other.slug);
    let (_, audit) = p.page("/audit?person=frank&kind=project_updated").await;
    assert!(audit.contains(r#"href="/projects/orders""#), "{audit}");

    // A team that does not exist is refused with why; nothing changes.
    let (status, html, _) =
        p.send(Mode::Demo, form("/projects/orders/details", &jar, &body("Renamed", "no-such-team"), false)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
    assert!(html.contains("no-such-team"), "{html}");
    assert_eq!(project(&p).await, after);
    // Without the page's token nothing changes.
    let (status, _, _) = p
        .send(Mode::Demo, form("/projects/orders/details", "sb_as=frank", &body("Renamed", other.slug.as_str()), false))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A viewer is not offered the form, and may not.
    let as_dave = Request::get("/projects/orders").header("cookie", "sb_as=dave").body(Body::empty()).unwrap();
    let (_, html, _) = p.send(Mode::Demo, as_dave).await;
    assert!(html.contains("<h1>") && !html.contains("edit-details"), "{html}");
    let viewer = format!("sb_csrf={TOKEN}; sb_as=dave");
    let (status, _, _) = p
        .send(Mode::Demo, form("/projects/orders/details", &viewer, &body("Renamed", other.slug.as_str()), false))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(project(&p).await, after);
}

#[tokio::test]
async fn teams_are_created_and_edited_from_their_pages() {
    let p = portal().await;
    let (_, html) = p.page("/teams").await;
    assert!(html.contains(r#"<form class="filters" method="post" action="/teams" id="new-team">"#), "{html}");
    let jar = format!("sb_csrf={TOKEN}; sb_as=alice");
    let create = |slug: &str| {
        form("/teams", &jar, &format!("csrf={TOKEN}&slug={slug}&name=Search&members=dave%2C+frank"), false)
    };
    let (status, html, headers) = p.send(Mode::Demo, create("search")).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    assert_eq!(headers["location"], "/teams/search");
    let team = p.service.graph().get_team(&"search".parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(team.name, "Search");
    assert_eq!(team.members.iter().map(|m| m.as_str()).collect::<Vec<_>>(), ["dave", "frank"]);
    // The same slug again is refused with why.
    let (status, html, _) = p.send(Mode::Demo, create("search")).await;
    assert!(status.is_client_error(), "{status}: {html}");
    assert!(html.contains("search"), "{html}");

    // Renamed, one member added and one removed, from the team's page.
    let (_, html) = p.page("/teams/search").await;
    assert!(html.contains(r#"<form class="filters" method="post" action="/teams/search">"#), "{html}");
    let edit = format!("csrf={TOKEN}&name=Search+%26+Discovery&add=erin&remove=dave");
    let (status, _, _) = p.send(Mode::Demo, form("/teams/search", &jar, &edit, false)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let team = p.service.graph().get_team(&"search".parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(team.name, "Search & Discovery");
    let mut members: Vec<&str> = team.members.iter().map(|m| m.as_str()).collect();
    members.sort();
    assert_eq!(members, ["erin", "frank"]);
    // Someone who does not exist is refused; nothing changes.
    let bad = format!("csrf={TOKEN}&name=Search&add=nobody-here");
    let (status, html, _) = p.send(Mode::Demo, form("/teams/search", &jar, &bad, false)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
    assert_eq!(p.service.graph().get_team(&"search".parse().unwrap()).await.unwrap().unwrap(), team);
    // Without the token, nothing.
    let (status, _, _) = p.send(Mode::Demo, form("/teams/search", "sb_as=alice", &bad, false)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
