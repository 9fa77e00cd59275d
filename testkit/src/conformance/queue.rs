//! Conformance: the run queue (claims, leases, resuming, backoff).

use switchboard_core::model::{Run, RunStatus, RunStep, StepStatus};

use super::*;

fn run(status: RunStatus) -> Run {
    // Ids are time-ordered: each run is newer than the last.
    std::thread::sleep(std::time::Duration::from_millis(2));
    Run {
        id: RunId::new(),
        operation: switchboard_core::ops::OpKind::Deploy,
        arguments: json!({"project": "api", "environment": "staging"}),
        summary: "Deploy api to staging".into(),
        requested_by: UserName::new("carol").unwrap(),
        requested_at: T0,
        expires_at: T0 + 1_000_000,
        status,
        approvals: vec![],
        steps: vec![],
        project: Some(slug("api")),
        needs: None,
        plan: None,
    }
}

pub async fn run_queue(b: &Backend) {
    let q = &b.queue;
    const LEASE: i64 = 30_000;
    let deploy = ["deploy".to_owned()];
    let deploy = &deploy[..];
    b.graph.put_run(&run(RunStatus::Pending)).await.unwrap();
    assert!(q.claim_run("w1", deploy, T0, LEASE).await.unwrap().is_none(), "a pending run waits for approval");
    let first = run(RunStatus::Approved);
    let second = run(RunStatus::Approved);
    b.graph.put_run(&first).await.unwrap();
    b.graph.put_run(&second).await.unwrap();

    // Oldest first, one worker each.
    assert_eq!(q.claim_run("w1", deploy, T0, LEASE).await.unwrap().map(|r| r.id), Some(first.id));
    assert_eq!(q.claim_run("w2", deploy, T0, LEASE).await.unwrap().map(|r| r.id), Some(second.id));
    assert!(q.claim_run("w3", deploy, T0, LEASE).await.unwrap().is_none());
    // A run no worker here can do waits for one that can.
    let mut upgrade = run(RunStatus::Approved);
    upgrade.operation = switchboard_core::ops::OpKind::UpgradeDependency;
    b.graph.put_run(&upgrade).await.unwrap();
    assert!(q.claim_run("w3", deploy, T0, LEASE).await.unwrap().is_none());
    let other = ["upgrade_dependency".to_owned()];
    assert_eq!(q.claim_run("w9", &other, T0, LEASE).await.unwrap().map(|r| r.id), Some(upgrade.id));
    assert_eq!(q.lease_of(&first.id).await.unwrap(), Some(("w1".into(), T0 + LEASE)));
    assert!(!q.renew_lease(&first.id, "w2", T0 + 2 * LEASE).await.unwrap(), "not w2's lease");
    assert!(q.renew_lease(&first.id, "w1", T0 + LEASE + 10).await.unwrap());

    // w1 records a completed step and keeps its lease.
    let mut progressed = first.clone();
    progressed.status = RunStatus::Running;
    progressed.steps.push(RunStep {
        name: "open pull request".into(),
        status: StepStatus::Done,
        detail: None,
        at: T0 + 5,
        data: Some(serde_json::json!({"pull_request": 7})),
    });
    assert!(q.save_leased(&progressed, "w1", None).await.unwrap());
    assert_eq!(q.lease_of(&first.id).await.unwrap().map(|l| l.0), Some("w1".into()));
    // Changing the run elsewhere (an operation) leaves the lease alone.
    b.graph.put_run(&progressed).await.unwrap();
    assert_eq!(q.lease_of(&first.id).await.unwrap().map(|l| l.0), Some("w1".into()));

    // w1 goes quiet; its lease lapses and w3 resumes the run from its steps.
    let resumed = q.claim_run("w3", deploy, T0 + LEASE + 11, LEASE).await.unwrap().unwrap();
    assert_eq!((resumed.id, resumed.status, resumed.steps.len()), (first.id, RunStatus::Running, 1));
    let mut stale = progressed.clone();
    stale.steps.push(RunStep { name: "late".into(), status: StepStatus::Done, detail: None, at: T0 + 6, data: None });
    assert!(!q.save_leased(&stale, "w1", None).await.unwrap(), "w1 lost its lease: nothing written");
    assert_eq!(b.graph.get_run(&first.id).await.unwrap().unwrap().steps.len(), 1);

    // A failed step: the run waits for its backoff, unleased.
    assert!(q.renew_lease(&second.id, "w2", T0 + 10 * LEASE).await.unwrap(), "w2 keeps the second run");
    let now = T0 + LEASE + 20;
    assert!(q.save_leased(&resumed, "w3", Some(now + 1_000)).await.unwrap());
    assert_eq!(q.lease_of(&first.id).await.unwrap(), None);
    assert!(q.claim_run("w4", deploy, now + 999, LEASE).await.unwrap().is_none(), "not before its backoff");
    let again = q.claim_run("w4", deploy, now + 1_000, LEASE).await.unwrap().unwrap();
    assert_eq!(again.id, first.id);

    // Finished runs leave the queue.
    let mut done = again.clone();
    done.status = RunStatus::Succeeded;
    assert!(q.save_leased(&done, "w4", None).await.unwrap());
    assert_eq!(q.lease_of(&first.id).await.unwrap(), None);
    let mut failed = second.clone();
    failed.status = RunStatus::Failed;
    assert!(q.save_leased(&failed, "w2", None).await.unwrap());
    assert!(q.claim_run("w5", deploy, T0 + 10 * LEASE, LEASE).await.unwrap().is_none());
    assert_eq!(b.graph.get_run(&second.id).await.unwrap().unwrap().status, RunStatus::Failed);
}
