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
