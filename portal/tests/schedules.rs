//! The schedules pages: the list with each schedule's next time, Run now
//! (CSRF-checked, requested as the person, refused for viewers) and the
//! history of firings with their runs.

mod common;

use common::*;
use switchboard_core::schedule::ScheduleConfig;

async fn with_schedule() -> Portal {
    let config = Config {
        schedules: vec![ScheduleConfig {
            name: "nightly-staging".into(),
            cron: "0 2 * * *".into(),
            operation: "deploy".into(),
            arguments: json!({"project": "orders", "environment": "staging"}),
            description: "Staging gets main every night".into(),
        }],
        ..Default::default()
    };
    portal_with(config).await
}

#[tokio::test]
async fn schedules_are_listed_run_by_hand_and_their_history_kept() {
    let p = with_schedule().await;
    let (status, html) = p.page("/schedules").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("nightly-staging") && html.contains("0 2 * * *"), "{html}");
    assert!(
        html.contains("Staging gets main every night") && html.contains(r#"action="/schedules/nightly-staging/run""#)
    );
    // NOW is 2026-09-21T14:13:20Z: the next 02:00 is the 22nd.
    assert!(html.contains("2026-09-22 02:00"), "{html}");

    // A viewer is told why instead of being offered Run now.
    for uri in ["/schedules", "/schedules/nightly-staging"] {
        let (_, html) = p.page_as("dave", uri).await;
        assert!(
            !html.contains("/run\"") && html.contains("Not allowed: deploy needs the editor role, and you have viewer"),
            "{html}"
        );
    }
    let token = "0123456789abcdef0123456789abcdef";
    let run_now = |who: &str, csrf: &str| {
        form("/schedules/nightly-staging/run", &format!("sb_csrf={token}; sb_as={who}"), &format!("csrf={csrf}"), false)
    };
    let (status, _, _) = p.send(Mode::Demo, run_now("dave", token)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "dave is a viewer");
    let (status, _, _) = p.send(Mode::Demo, run_now("carol", "forged")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a forged CSRF token");
    let (status, _, headers) = p.send(Mode::Demo, run_now("carol", token)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = headers["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/runs/"), "{location}");
    let (_, html) = p.page(&location).await;
    assert!(html.contains("orders") && html.contains("staging"), "{html}");
    assert!(html.contains(r#"id="run-status">pending<"#), "waits for an approver: {html}");

    let (status, html) = p.page("/schedules/nightly-staging").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("by hand, by carol"), "{html}");
    assert_eq!(html.matches("<tr><td>").count(), 1, "one firing: {html}");
    let (status, _) = p.page("/schedules/weekly").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
