//! Charts drawn on the server as SVG, each with its text alternative: a
//! title and description the SVG is labelled by, and the same numbers in a
//! table under it.

mod common;

use common::*;

/// The `<figure>` holding the chart `id`.
fn figure<'a>(html: &'a str, id: &str) -> &'a str {
    let at = html.find(&format!(r#"<svg class="chart" id="{id}""#)).unwrap_or_else(|| panic!("no chart {id}: {html}"));
    let start = html[..at].rfind("<figure").unwrap();
    let end = at + html[at..].find("</figure>").unwrap();
    &html[start..end]
}

fn table_rows(figure: &str) -> Vec<&str> {
    let body = &figure[figure.find("<tbody>").unwrap()..figure.find("</tbody>").unwrap()];
    body.split("<tr>").skip(1).collect()
}

#[tokio::test]
async fn the_project_page_charts_score_deployments_and_builds_with_their_numbers() {
    let p = portal().await;
    let admin = Caller::new("alice", Role::Admin, "test");
    let failed = json!({"project": "orders", "environment": "staging", "version": "6.6.6", "status": "failed"});
    p.service.execute_json(&admin, "record_deployment", failed).await.unwrap();
    let (_, html) = p.page("/projects/orders").await;

    // Deployments: a lane per environment, the failure marked by a cross as well as colour.
    let f = figure(&html, "deploy-timeline");
    assert!(f.contains(r#"role="img" aria-labelledby="deploy-timeline-t deploy-timeline-d""#), "{f}");
    assert!(f.contains(r#"<title id="deploy-timeline-t">Deployments over 30 days</title>"#), "{f}");
    let rows = table_rows(f);
    let failures = rows.iter().filter(|r| r.contains("<td>failed</td>")).count();
    assert!(rows.iter().any(|r| r.contains("<td>6.6.6</td>") && r.contains("<td>failed</td>")), "{f}");
    assert_eq!(f.matches(r##"stroke="#a32f2f" stroke-width="2.5""##).count(), failures, "a cross per failure");
    assert_eq!(f.matches("<circle").count() + failures, rows.len(), "a mark per deployment");
    let desc = &f[f.find(r#"<desc id="deploy-timeline-d">"#).unwrap()..];
    assert!(desc.contains(&format!("{failures} failed")), "{desc}");

    // CI builds: a bar per build with a duration; the table says which failed.
    let f = figure(&html, "build-durations");
    assert_eq!(f.matches("<rect").count(), table_rows(f).len(), "{f}");

    // The score says what it means in a word, by its band.
    let at = html.find(r#"id="score">"#).unwrap() + r#"id="score">"#.len();
    let score: u8 = html[at..].split_whitespace().next().unwrap().parse().unwrap();
    let level = match score {
        80.. => "good",
        60..=79 => "fair",
        40..=59 => "poor",
        _ => "at risk",
    };
    assert!(html.contains(&format!(r#"<span class="level" id="score-level">{level}</span>"#)), "{score}: {html}");
    let (_, list) = p.page("/projects").await;
    assert!(
        list.contains(r#"<span class="muted">good</span>"#) || list.contains(r#"<span class="muted">fair</span>"#),
        "{list}"
    );

    // The score: a step line over 90 days, the changes as rows, or a sentence when it held.
    if html.contains(r#"id="score-trend""#) {
        let f = figure(&html, "score-trend");
        assert_eq!(f.matches("<circle").count(), table_rows(f).len(), "{f}");
    } else {
        assert!(html.contains(r#"id="score-steady""#), "{html}");
    }
}

#[tokio::test]
async fn a_package_page_charts_its_versions() {
    let p = portal().await;
    let (_, html) = p.page("/packages/lodash").await;
    let f = figure(&html, "version-spread");
    let rows = table_rows(f);
    assert!(rows.len() >= 2, "{f}");
    assert_eq!(f.matches("<rect").count(), rows.len(), "a bar per version");
    // Largest first, and the description names it.
    let counts: Vec<u64> = rows
        .iter()
        .map(|r| {
            let cell = r.split("<td>").nth(2).unwrap();
            cell[..cell.find("</td>").unwrap()].parse().unwrap()
        })
        .collect();
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{counts:?}");
    let version = rows[0].split("<td>").nth(1).unwrap();
    let version = &version[..version.find("</td>").unwrap()];
    assert!(f.contains(&format!("the most common is {version} ({})", counts[0])), "{f}");
}

#[tokio::test]
async fn dora_gives_each_metric_its_band_or_says_why_it_is_empty() {
    let p = portal().await;
    let (_, html) = p.page("/dora?team=payments&since=30d").await;
    let table = &html[html.find(r#"id="dora""#).unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    for row in table.split("<tr>").skip(1) {
        let banded =
            ["elite", "high", "medium", "low"].iter().any(|b| row.contains(&format!(r#"class="badge band-{b}""#)));
        assert!(banded || row.contains("<td>— "), "a band, or why there is no value: {row}");
    }
    assert!(html.contains("2021 State of DevOps"), "the bands are explained");
    // A project that never deployed to production says so instead of a bare dash.
    let admin = Caller::new("alice", Role::Admin, "test");
    let new = json!({"slug": "quiet-service", "team": "payments", "project_type": "api"});
    p.service.execute_json(&admin, "create_project", new).await.unwrap();
    let (_, html) = p.page("/dora?project=quiet-service").await;
    assert!(html.contains("— no deployment to production in the window"), "{html}");
    assert!(html.contains("— no incident was resolved in the window"), "{html}");
}

/// The cells of a table row, as text.
fn cells(row: &str) -> Vec<&str> {
    row.split("<td>").skip(1).map(|c| &c[..c.find("</td>").unwrap()]).collect()
}

#[tokio::test]
async fn dora_draws_each_metric_period_by_period_against_its_bands() {
    let p = portal().await;
    let admin = Caller::new("alice", Role::Admin, "test");
    let new = json!({"slug": "trend-service", "team": "payments", "project_type": "api"});
    p.service.execute_json(&admin, "create_project", new).await.unwrap();
    for (ago, status) in [("20d", "succeeded"), ("10d", "failed"), ("3d", "succeeded"), ("2d", "succeeded")] {
        let d = json!({"project": "trend-service", "environment": "production", "version": ago, "status": status, "started_at": ago});
        p.service.execute_json(&admin, "record_deployment", d).await.unwrap();
    }
    let (_, html) = p.page("/dora?project=trend-service&since=30d").await;
    // Thirty days: five periods counted back from now by weeks, the oldest two days.
    let f = figure(&html, "dora-frequency");
    let rows: Vec<Vec<&str>> = table_rows(f).into_iter().map(cells).collect();
    let per_day: Vec<&str> = rows.iter().map(|r| r[1]).collect();
    assert_eq!(per_day, ["0 a day", "0 a day", "0.14 a day", "0 a day", "0.29 a day"], "{f}");
    // The scale's labels keep their decimals under one.
    assert!(f.contains(r#"text-anchor="end">0.29</text>"#), "{f}");
    // A band's edge near the values is drawn; one far above them does not flatten the line.
    assert!(f.contains("high: weekly") && !f.contains("elite: daily"), "{f}");
    // The failure rate only where something finished: the failed week is 100 %.
    let f = figure(&html, "dora-failure-rate");
    let rates: Vec<&str> = table_rows(f).into_iter().map(|r| cells(r)[1]).collect();
    assert_eq!(rates, ["—", "—", "0 %", "100 %", "0 %"], "{f}");
    // Nothing to restore: no chart, and the table says why.
    assert!(!html.contains(r#"id="dora-restore""#));
    assert!(html.contains("— no incident was resolved in the window"));
}

#[tokio::test]
async fn incidents_chart_a_week_by_week_count_with_time_to_acknowledge_and_resolve() {
    let p = portal().await;
    let admin = Caller::new("alice", Role::Admin, "test");
    p.service.execute_json(&admin, "create_team", json!({"slug": "night", "name": "Night"})).await.unwrap();
    let new = json!({"slug": "night-owl", "team": "night", "project_type": "api"});
    p.service.execute_json(&admin, "create_project", new).await.unwrap();
    let record = |status: &str| json!({"project": "night-owl", "title": "Owl is down", "status": status, "external_id": "pd-owl-1"});
    p.service.execute_json(&admin, "record_incident", record("triggered")).await.unwrap();
    p.clock.advance(15 * 60_000);
    p.service.execute_json(&admin, "record_incident", record("acknowledged")).await.unwrap();
    p.clock.advance(105 * 60_000);
    p.service.execute_json(&admin, "record_incident", record("resolved")).await.unwrap();

    let (_, html) = p.page("/incidents?team=night&status=all").await;
    let f = figure(&html, "incidents-opened");
    let counts: Vec<&str> = table_rows(f).into_iter().map(|r| cells(r)[1]).collect();
    assert_eq!(counts.len(), 12, "twelve weeks: {f}");
    assert_eq!(counts.iter().filter(|c| **c == "0").count(), 11);
    assert_eq!(counts[11], "1", "this week's: {f}");
    let f = figure(&html, "incidents-mtta-mttr");
    let week = cells(table_rows(f)[11]);
    assert_eq!(week[1..], ["0.25 h", "2 h"], "acknowledged after 15 minutes, resolved after two hours: {f}");
    assert!(f.contains("● MTTA p50") && f.contains("■ MTTR p50"), "told apart by shape: {f}");
}

#[tokio::test]
async fn a_team_page_charts_its_average_score() {
    let p = portal().await;
    let admin = Caller::new("alice", Role::Admin, "test");
    // A new project with nothing set moves the team's average down.
    let new = json!({"slug": "score-sink", "team": "payments", "project_type": "api"});
    p.service.execute_json(&admin, "create_project", new).await.unwrap();
    let (_, html) = p.page("/teams/payments").await;
    let projects = p
        .service
        .graph()
        .find_projects(&switchboard_core::store::ProjectQuery {
            team: Some("payments".parse().unwrap()),
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap();
    let average = projects.iter().map(|p| f64::from(p.score)).sum::<f64>() / projects.len() as f64;
    let f = figure(&html, "team-score-trend");
    assert!(f.contains(&format!(" to {average:.0} now")), "ends at today's average, {average}: {f}");
    assert_eq!(f.matches("<circle").count(), table_rows(f).len(), "{f}");
    // A team whose scores never moved says so.
    p.service.execute_json(&admin, "create_team", json!({"slug": "still", "name": "Still"})).await.unwrap();
    let (_, html) = p.page("/teams/still").await;
    assert!(html.contains(r#"id="team-score-steady""#), "{html}");
}

#[tokio::test]
async fn a_project_s_dependency_neighbourhood_is_a_graph_of_shared_packages() {
    let p = portal().await;
    let hx = |uri: &str| Request::get(uri).header("hx-request", "true").body(Body::empty()).unwrap();
    let (status, html, _) = p.send(Mode::Demo, hx("/projects/orders/neighbourhood")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.starts_with(r#"<section id="neighbourhood">"#), "the section alone: {html}");
    let f = figure(&html, "dependency-neighbourhood");
    let rows: Vec<Vec<&str>> = table_rows(f).into_iter().map(cells).collect();
    let packages: Vec<&str> = rows.iter().filter(|r| r[0] == "package").map(|r| r[1]).collect();
    let projects: Vec<&Vec<&str>> = rows.iter().filter(|r| r[0] == "project").collect();
    assert!(!packages.is_empty() && !projects.is_empty(), "{f}");
    assert!(projects.iter().all(|r| r[1] != "orders"), "the others: {f}");
    // Every neighbour really declares each package it is joined to.
    for r in &projects {
        let project = p.service.graph().get_project(&r[1].parse().unwrap()).await.unwrap().unwrap();
        for shared in r[2].trim_start_matches("shares ").split(", ") {
            assert!(packages.contains(&shared), "{shared}: {f}");
            assert!(
                project.dependencies.iter().any(|d| d.package.as_str() == shared && !d.transitive),
                "{}: {shared}",
                r[1]
            );
        }
    }
    // A node per package and project, and the project itself.
    assert_eq!(f.matches("<circle").count(), packages.len() + projects.len() + 1, "{f}");
    // Opened directly, a page of its own; the project page loads it as it scrolls into view.
    let (_, page) = p.page("/projects/orders/neighbourhood").await;
    assert!(page.contains("<html") && page.contains(r#"<a href="/projects/orders">← orders</a>"#), "{page}");
    let (_, project) = p.page("/projects/orders").await;
    assert!(project.contains(r#"hx-get="/projects/orders/neighbourhood" hx-trigger="revealed""#), "{project}");
    // No packages: a sentence; no project: 404.
    let admin = Caller::new("alice", Role::Admin, "test");
    let new = json!({"slug": "bare-service", "team": "payments", "project_type": "api"});
    p.service.execute_json(&admin, "create_project", new).await.unwrap();
    let (_, html, _) = p.send(Mode::Demo, hx("/projects/bare-service/neighbourhood")).await;
    assert!(html.contains(r#"id="neighbourhood-alone""#), "{html}");
    let (status, _) = p.page("/projects/no-such-project/neighbourhood").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn ci_health_draws_failure_rate_and_duration_period_by_period() {
    let p = portal().await;
    let admin = Caller::new("alice", Role::Admin, "test");
    let new = json!({"slug": "ci-trend", "team": "payments", "project_type": "api"});
    p.service.execute_json(&admin, "create_project", new).await.unwrap();
    for (status, ms) in [("success", 60_000), ("failure", 180_000), ("success", 90_000), ("failure", 30_000)] {
        let b = json!({"project": "ci-trend", "status": status, "duration_ms": ms});
        p.service.execute_json(&admin, "record_build", b).await.unwrap();
    }
    let (_, html) = p.page("/ci?project=ci-trend&since=7d").await;
    // A week: a period a day, today's builds in the last.
    let f = figure(&html, "ci-failure-rate");
    let rates: Vec<&str> = table_rows(f).into_iter().map(|r| cells(r)[1]).collect();
    assert_eq!(rates.len(), 7, "{f}");
    assert_eq!(rates[..6], ["—"; 6], "no builds: a gap, not 0 %");
    assert_eq!(rates[6], "50 %", "{f}");
    let f = figure(&html, "ci-duration");
    let last = cells(table_rows(f)[6])[1];
    assert_eq!(last, "1 min", "the median of 0.5, 1, 1.5 and 3 minutes (nearest rank, as the table's p50): {f}");
}
