//! Conformance: the event log, and many writers at once.

use serde_json::json;
use switchboard_core::event::{EventKind, EventQuery};
use switchboard_core::ids::*;
use switchboard_core::model::*;
use switchboard_core::store::*;

use super::*;

pub async fn events_order_and_filters(b: &Backend) {
    // Same timestamp for two events: ties break by id, newest id first.
    let mut events = vec![
        event(EventKind::ProjectCreated, T0, Some("api")),
        event(EventKind::FactSet, T0 + 1, Some("api")),
        event(EventKind::FactSet, T0 + 1, Some("api")),
        event(EventKind::DeploymentRecorded, T0 + 2, Some("web")),
        event(EventKind::TeamCreated, T0 + 3, None),
    ];
    events[4].payload = json!({"text": "naïve 漢字 \u{1F600}", "nested": {"a": [1, 2.5, null]}});
    b.log.append(&events).await.unwrap();
    let q = |q: EventQuery| async move { b.log.query(&q).await.unwrap() };
    let all = q(EventQuery::default()).await;
    assert_eq!(all.len(), 5);
    assert_eq!(all[0], events[4], "payload and fields round-trip");
    let mut tie = [events[1].id, events[2].id];
    tie.sort();
    assert_eq!([all[2].id, all[3].id], [tie[1], tie[0]]);
    assert_eq!(q(EventQuery { project: Some(slug("api")), ..Default::default() }).await.len(), 3);
    assert_eq!(
        q(EventQuery { kinds: vec![EventKind::FactSet, EventKind::TeamCreated], ..Default::default() }).await.len(),
        3
    );
    assert_eq!(
        q(EventQuery { since: Some(T0 + 1), until: Some(T0 + 3), ..Default::default() }).await.len(),
        3,
        "since inclusive, until exclusive"
    );
    assert_eq!(q(EventQuery { limit: 2, ..Default::default() }).await.len(), 2);
    assert_eq!(b.log.count().await.unwrap(), 5);
}

pub async fn events_subjects(b: &Backend) {
    let e1 = event(EventKind::DependenciesChanged, T0, Some("checkout")).subject("redis").subject("Serde");
    let e2 = event(EventKind::DependenciesChanged, T0 + 5, Some("checkout")).subject("redis");
    let e3 = event(EventKind::DependenciesChanged, T0 + 6, Some("cart")).subject("redis");
    b.log.append(&[e1.clone(), e2.clone(), e3]).await.unwrap();
    let got = b
        .log
        .query(&EventQuery { project: Some(slug("checkout")), subject: Some("redis".into()), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(got.iter().map(|e| e.id).collect::<Vec<_>>(), [e2.id, e1.id]);
    let got = b.log.query(&EventQuery { subject: Some("serde".into()), ..Default::default() }).await.unwrap();
    assert_eq!(got.len(), 1, "subjects are lowercase");
    assert_eq!(got[0].subjects, ["redis", "serde"]);
    let got = b
        .log
        .query(&EventQuery { subject: Some("redis".into()), since: Some(T0 + 1), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(got.len(), 2);

    // Events about no project (a schedule's firings) are found by subject too.
    let free = event(EventKind::ScheduleFired, T0 + 7, None).subject("schedule:nightly");
    b.log.append(std::slice::from_ref(&free)).await.unwrap();
    let got =
        b.log.query(&EventQuery { subject: Some("schedule:nightly".into()), ..Default::default() }).await.unwrap();
    assert_eq!(got.iter().map(|e| e.id).collect::<Vec<_>>(), [free.id]);
    assert_eq!(got[0].project, None);
}

pub async fn events_idempotent(b: &Backend) {
    let e = event(EventKind::FactSet, T0, Some("api")).subject("tier");
    b.log.append(std::slice::from_ref(&e)).await.unwrap();
    b.log.append(&[e.clone(), e.clone()]).await.unwrap();
    assert_eq!(b.log.count().await.unwrap(), 1);
    assert_eq!(b.log.query(&EventQuery { subject: Some("tier".into()), ..Default::default() }).await.unwrap().len(), 1);
    b.log.append(&[]).await.unwrap();
}

pub async fn concurrent_writers(b: &Backend) {
    let mut tasks = Vec::new();
    for w in 0..8 {
        let graph = b.graph.clone();
        let log = b.log.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..25 {
                let p = project(&format!("w{w}-p{i}")).uses(Ecosystem::Cargo, "tokio", "1").build();
                graph.put_project(&p).await.unwrap();
                log.append(&[event(EventKind::ProjectCreated, T0 + i, Some(p.slug.as_str()))]).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let d = b
        .graph
        .dependents(&DependentsQuery {
            package: PackageName::new("tokio").unwrap(),
            version: None,
            ecosystem: None,
            limit: 1,
            direct_only: false,
        })
        .await
        .unwrap();
    assert_eq!(d.total, 200);
    assert_eq!(b.log.count().await.unwrap(), 200);
}
