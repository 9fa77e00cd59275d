//! Events as Switchboard wrote them before payloads were typed (captured
//! from a demo store worked through the CLI, worker and MCP; the shapes the
//! capture did not reach are written as their producers write them) read
//! back as their typed payloads and encode to the very same JSON; runs of
//! that time read back with their operation typed. Kinds added since have
//! their own file, as the code that added them writes them.

use std::collections::BTreeSet;

use switchboard_core::event::{Event, EventData, EventKind};

fn fixture() -> Vec<Event> {
    let files = [
        include_str!("fixtures/events-2026-12.jsonl"),
        include_str!("fixtures/events-2026-12-05.jsonl"),
        include_str!("fixtures/events-2026-12-06.jsonl"),
    ];
    files
        .concat()
        .lines()
        .enumerate()
        .map(|(n, line)| serde_json::from_str(line).unwrap_or_else(|e| panic!("line {}: {e}", n + 1)))
        .collect()
}

#[test]
fn every_stored_payload_reads_as_its_type_and_writes_back_unchanged() {
    for event in fixture() {
        let data = event.data().unwrap_or_else(|e| panic!("{} {}: {e}", event.kind, event.payload));
        assert_eq!(data.kind(), event.kind);
        let again = data.encode();
        assert_eq!(
            serde_json::to_string(&again).unwrap(),
            serde_json::to_string(&event.payload).unwrap(),
            "{} changed on the way through its type",
            event.kind
        );
        let rebuilt = Event::of(&data, event.occurred_at, &event.actor, &event.source);
        assert_eq!(rebuilt.payload, event.payload);
    }
}

#[test]
fn the_fixture_has_every_kind() {
    let kinds: BTreeSet<EventKind> = fixture().iter().map(|e| e.kind).collect();
    let missing: Vec<&str> = EventKind::ALL.iter().filter(|k| !kinds.contains(k)).map(|k| k.as_str()).collect();
    assert!(missing.is_empty(), "no stored example of {missing:?}");
}

#[test]
fn a_payload_no_version_wrote_is_an_error_not_a_guess() {
    let mut event = fixture().into_iter().find(|e| e.kind == EventKind::RunFailed).unwrap();
    event.payload = serde_json::json!({"run": "not a run id", "reason": 3});
    assert!(event.data().is_err());
    event.payload = serde_json::json!([]);
    assert!(event.data().is_err());
}

#[test]
fn run_events_say_their_run_and_operation() {
    let events = fixture();
    for event in events.iter().filter(|e| e.kind.as_str().starts_with("run_")) {
        let data = event.data().unwrap();
        assert!(data.run().is_some(), "{}", event.kind);
        if event.kind != EventKind::RunExpired {
            assert!(data.operation().is_some(), "{}", event.kind);
        }
    }
    let fired = events.iter().find(|e| e.kind == EventKind::ScheduleFired).unwrap();
    assert!(matches!(fired.data().unwrap(), EventData::ScheduleFired(s) if s.schedule == "nightly-upgrade"));
}

#[test]
fn runs_stored_before_operations_were_typed_read_back_unchanged() {
    use switchboard_core::model::Run;
    use switchboard_core::ops::OpKind;
    let mut seen = BTreeSet::new();
    for line in include_str!("fixtures/runs-2026-12.jsonl").lines() {
        let stored: serde_json::Value = serde_json::from_str(line).unwrap();
        let run: Run = serde_json::from_value(stored.clone()).unwrap_or_else(|e| panic!("{e}: {line}"));
        seen.insert(run.operation);
        assert_eq!(serde_json::to_value(&run).unwrap(), stored);
        let asked = run.request().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(asked.operation(), run.operation);
        assert_eq!(asked.arguments(), run.arguments, "the request writes back the stored arguments");
    }
    assert_eq!(seen, BTreeSet::from([OpKind::UpgradeDependency, OpKind::Deploy, OpKind::ScaffoldProject]));
    let unknown = r#"{"operation": "launch_rockets"}"#;
    let e = serde_json::from_str::<OpKind>(
        &serde_json::from_str::<serde_json::Value>(unknown).unwrap()["operation"].to_string(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("unknown operation \"launch_rockets\""), "{e}");
}
