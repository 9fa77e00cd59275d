//! Shared test harness: the test kit's world (a service over a fresh SQLite
//! store with a manual clock) with five users of every role.
#![allow(dead_code)]

use std::sync::Arc;

use serde_json::{Value, json};
use switchboard_core::clock::ManualClock;
use switchboard_core::config::Config;
use switchboard_core::model::Role;
use switchboard_core::ops::output::Output;
use switchboard_core::{Caller, Error, Service};
use switchboard_store::SqliteStore;
use switchboard_testkit::World;

pub const T0: i64 = 1_780_000_000_000;

pub struct Harness {
    pub service: Service,
    pub clock: Arc<ManualClock>,
    pub store: SqliteStore,
    pub world: World,
}

pub fn caller(name: &str, role: Role) -> Caller {
    Caller::new(name, role, "test")
}

pub fn admin() -> Caller {
    caller("alice", Role::Admin)
}

impl Harness {
    pub async fn new() -> Self {
        Self::with_config(Config::default()).await
    }

    pub async fn with_config(config: Config) -> Self {
        let world = World::builder().config(config).at(T0).users().build().await;
        Self { service: world.service.clone(), clock: world.clock.clone(), store: world.store.clone(), world }
    }

    /// A small org: team `payments` with `payments-api` (api) and `ledger` (consumer).
    pub async fn with_org() -> Self {
        let h = Self::new().await;
        h.ok("create_team", json!({"slug": "payments", "name": "Payments", "members": ["alice", "bob"]})).await;
        h.ok("create_team", json!({"slug": "checkout", "members": ["carol"]})).await;
        h.ok(
            "create_project",
            json!({"slug": "payments-api", "team": "payments", "project_type": "api",
                   "description": "Takes card payments",
                   "dependencies": [{"ecosystem": "other", "package": "redis", "version": "6.2.14"},
                                    {"ecosystem": "npm", "package": "left-pad", "version": "1.2.3"}],
                   "facts": {"tier": "1"},
                   "external_ids": {"github_repository": "acme/payments-api", "pagerduty_service": "PAY1"}}),
        )
        .await;
        h.ok(
            "create_project",
            json!({"slug": "ledger", "team": "payments", "project_type": "consumer",
                   "dependencies": [{"ecosystem": "npm", "package": "left-pad", "version": "1.3.0"}]}),
        )
        .await;
        h
    }

    /// As if a worker ran every automation here (for 90 s of the clock):
    /// approvals then make runs approved, not blocked.
    pub async fn executors(&self) {
        use switchboard_core::ops::OpKind::*;
        self.service.announce_executor("test-worker", &[Deploy, UpgradeDependency, ScaffoldProject]).await.unwrap();
    }

    pub async fn run(&self, who: &Caller, op: &str, args: Value) -> Result<Output, Error> {
        self.service.execute_json(who, op, args).await
    }

    pub async fn ok(&self, op: &str, args: Value) -> Value {
        self.run(&admin(), op, args.clone()).await.unwrap_or_else(|e| panic!("{op} {args}: {e}")).to_json()
    }

    /// The names of `project`'s environments, in order.
    pub async fn environments(&self, project: &str) -> Vec<String> {
        let p = self.ok("get_project", json!({ "project": project })).await;
        p["project"]["environments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap().to_owned())
            .collect()
    }

    pub async fn err(&self, who: &Caller, op: &str, args: Value) -> Error {
        match self.run(who, op, args.clone()).await {
            Ok(out) => panic!("{op} {args} should fail, got {}", out.to_json()),
            Err(e) => e,
        }
    }

    /// Everything observable about the stores, to prove a failed call changed nothing.
    pub async fn snapshot(&self) -> Value {
        use switchboard_core::event::EventQuery;
        use switchboard_core::store::{EventLog, GraphStore, ProjectQuery};
        let counts = self.store.counts().await.unwrap();
        let events = self.store.count().await.unwrap();
        let projects = self
            .store
            .find_projects(&ProjectQuery { include_archived: true, limit: 1000, ..Default::default() })
            .await
            .unwrap();
        let mut full = Vec::new();
        for p in &projects {
            full.push(self.store.get_project(&p.slug).await.unwrap());
        }
        let runs = self.store.list_runs(None, 1000).await.unwrap();
        let teams = self.store.list_teams().await.unwrap();
        let last = self.store.query(&EventQuery { limit: 1, ..Default::default() }).await.unwrap();
        let users = self.store.list_users().await.unwrap();
        let tokens = self.store.list_tokens(None).await.unwrap();
        json!({"counts": counts, "events": events, "projects": full, "runs": runs, "teams": teams, "last": last,
               "users": users, "tokens": tokens})
    }
}
