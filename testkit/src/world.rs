//! One way to set up what a test runs against: a [`Service`] over a fresh
//! embedded store (graph, log, inbox and outbox in one SQLite file) with a
//! [`ManualClock`] unless asked otherwise, optionally filled with the demo
//! organisation and the standard users; a [`World::settle`] step that waits
//! for background work to finish instead of sleeping; and a panic
//! [`Watch`] so a background task's panic fails the test.

use std::sync::Arc;
use std::time::{Duration, Instant};

use switchboard_core::clock::{Clock, ManualClock, SystemClock};
use switchboard_core::config::Config;
use switchboard_core::demo::{self, DemoOptions};
use switchboard_core::inbox::{DeliveryStatus, Inbox};
use switchboard_core::model::{Millis, Role, User};
use switchboard_core::outbox::{MessageStatus, Outbox};
use switchboard_core::store::{EventLog, GraphBatch};
use switchboard_core::{Caller, Service};
use switchboard_store::SqliteStore;

use crate::panics::Watch;

/// The manual clock's start unless a test picks another: a fixed instant, so
/// what tests print and snapshot does not depend on the day they run.
pub const T0: Millis = 1_790_000_000_000;

/// The users [`Builder::users`] adds: one of every role, approvers twice
/// (for rules that need two approvals).
const USERS: [(&str, Role); 5] = [
    ("alice", Role::Admin),
    ("bob", Role::Approver),
    ("erin", Role::Approver),
    ("carol", Role::Editor),
    ("dave", Role::Viewer),
];

/// What a world is made of; see [`World::builder`].
pub struct Builder {
    config: Config,
    now: Millis,
    system_clock: bool,
    demo: Option<(usize, u64)>,
    users: bool,
    /// Opens the log sources the protocols' crates speak (the embedded ones
    /// are opened here).
    log_sources: Option<LogOpener>,
}

/// Log sources by name.
pub type LogSources = std::collections::BTreeMap<String, Arc<dyn switchboard_core::logs::LogSource>>;
type LogOpener = Box<dyn FnOnce(&Config, &Arc<dyn switchboard_core::logs::LogTable>) -> LogSources + Send>;

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("now", &self.now)
            .field("system_clock", &self.system_clock)
            .field("demo", &self.demo)
            .field("users", &self.users)
            .field("log_sources", &self.log_sources.is_some())
            .finish_non_exhaustive()
    }
}

impl Builder {
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Changes the configuration in place (the default one unless given).
    pub fn configure(mut self, change: impl FnOnce(&mut Config)) -> Self {
        change(&mut self.config);
        self
    }

    /// The manual clock's start.
    pub fn at(mut self, now: Millis) -> Self {
        self.now = now;
        self
    }

    /// The wall clock instead of the manual one, for tests that run real
    /// timers (HTTP retries, chat platform clients).
    pub fn system_clock(mut self) -> Self {
        self.system_clock = true;
        self
    }

    /// The service's log sources, opened by `open` from the config and the
    /// embedded table (`switchboard_logs::open` for Loki, ClickHouse…).
    pub fn log_sources(
        mut self,
        open: impl FnOnce(&Config, &Arc<dyn switchboard_core::logs::LogTable>) -> LogSources + Send + 'static,
    ) -> Self {
        self.log_sources = Some(Box::new(open));
        self
    }

    /// The demo organisation: `projects` projects from generator seed `seed`.
    pub fn demo(mut self, projects: usize, seed: u64) -> Self {
        self.demo = Some((projects, seed));
        self
    }

    /// alice (admin), bob and erin (approvers), carol (editor), dave (viewer).
    pub fn users(mut self) -> Self {
        self.users = true;
        self
    }

    pub async fn build(self) -> World {
        let watch = Watch::new();
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = SqliteStore::open(dir.path(), 2).expect("a fresh embedded store");
        let manual = Arc::new(ManualClock::new(self.now));
        let clock: Arc<dyn Clock> = if self.system_clock { Arc::new(SystemClock) } else { manual.clone() };
        let service = Service::new(
            Arc::new(store.clone()),
            Arc::new(store.clone()),
            Arc::new(self.config.clone()),
            clock.clone(),
        )
        .with_mailboxes(Arc::new(store.clone()), Arc::new(store.clone()));
        let table: Arc<dyn switchboard_core::logs::LogTable> = Arc::new(store.clone());
        let sources = match self.log_sources {
            Some(open) => open(&self.config, &table),
            None => switchboard_core::logs::open_embedded(&self.config.log_sources, &table),
        };
        let service = service.with_logs(Some(table), sources);
        let world = World { service, store, clock: manual, time: clock, dir, watch };
        if self.users {
            let users = USERS
                .into_iter()
                .map(|(n, role)| User {
                    display_name: n.to_uppercase(),
                    email: Some(format!("{n}@example.com")),
                    ..User::new(n.parse().expect("a user name"), role)
                })
                .collect();
            world.service.import(&world.demo_admin(), &GraphBatch { users, ..Default::default() }, &[]).await.unwrap();
        }
        if let Some((projects, seed)) = self.demo {
            let options = DemoOptions { projects, now: world.service.now(), seed };
            for chunk in demo::generate(&options, &self.config, 100) {
                world.service.import(&world.demo_admin(), &chunk.batch, &chunk.events).await.unwrap();
            }
        }
        world
    }
}

/// A service over a fresh store; see the module docs.
pub struct World {
    pub service: Service,
    /// The store behind every port (graph, log, inbox, outbox, run queue).
    pub store: SqliteStore,
    /// The manual clock (moving it does nothing under [`Builder::system_clock`]).
    pub clock: Arc<ManualClock>,
    /// The clock the service reads: the manual one or the wall clock.
    time: Arc<dyn Clock>,
    dir: tempfile::TempDir,
    watch: Watch,
}

impl World {
    pub fn builder() -> Builder {
        Builder { config: Config::default(), now: T0, system_clock: false, demo: None, users: false, log_sources: None }
    }

    /// An empty store, the default configuration, the manual clock at [`T0`].
    pub async fn new() -> Self {
        Self::builder().build().await
    }

    /// The directory the store lives in (another process or replica opens it too).
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// The demo's administrator, who imported the demo organisation.
    pub fn demo_admin(&self) -> Caller {
        Caller::new(demo::DEMO_ADMIN, Role::Admin, "demo")
    }

    /// Someone with `role`, as a test names them.
    pub fn caller(&self, name: &str, role: Role) -> Caller {
        Caller::new(name, role, "test")
    }

    /// A second service on the same store, as another replica or process
    /// sharing the database would have (its own bus, same clock).
    pub fn replica(&self) -> Service {
        let store = SqliteStore::open(self.dir.path(), 2).expect("the store opens again");
        let config = Arc::new(self.service.config().clone());
        Service::new(Arc::new(store.clone()), Arc::new(store.clone()), config, self.time.clone())
            .with_mailboxes(Arc::new(store.clone()), Arc::new(store))
    }

    /// For a test that makes a background task panic on purpose.
    pub fn allow_panics(&mut self) {
        self.watch.allow();
    }

    /// Waits until background work is done: no chat message or webhook
    /// delivery is waiting and nothing (log, outbox, inbox) has changed for
    /// 100 ms. Panics after 20 s with what is still outstanding, so a test
    /// never passes on a sleep that happened to be long enough.
    pub async fn settle(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut last = None;
        let mut quiet_since = Instant::now();
        loop {
            let now = self.state().await;
            let busy = now.waiting() > 0;
            if last.as_ref() != Some(&now) {
                quiet_since = Instant::now();
            } else if !busy && quiet_since.elapsed() >= Duration::from_millis(100) {
                return;
            }
            assert!(Instant::now() < deadline, "the world did not settle in 20 s: {now:?}");
            last = Some(now);
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    async fn state(&self) -> Settled {
        Settled {
            events: self.store.count().await.expect("event count"),
            outbox: self.store.outbox_counts().await.expect("outbox counts"),
            inbox: self.store.inbox_counts().await.expect("inbox counts"),
        }
    }
}

/// What [`World::settle`] compares from one look to the next.
#[derive(Debug, PartialEq)]
struct Settled {
    events: u64,
    outbox: Vec<(MessageStatus, u64)>,
    inbox: Vec<(DeliveryStatus, u64)>,
}

impl Settled {
    /// Chat messages and webhook deliveries still waiting.
    fn waiting(&self) -> u64 {
        let outbox = self.outbox.iter().filter(|(s, _)| *s == MessageStatus::Pending).map(|(_, n)| n);
        let inbox = self.inbox.iter().filter(|(s, _)| *s == DeliveryStatus::Pending).map(|(_, n)| n);
        outbox.chain(inbox).sum()
    }
}
