//! Upgrade campaigns' state: each repository's outcome is a
//! `campaign_updated` event (the worker records what it opened or skipped;
//! pull request webhooks record merges, closes and checks), and a
//! campaign's summary folds them — the run page and the chat thread show it.

use serde::{Deserialize, Serialize};

use crate::event::payload::CampaignUpdated;
use crate::event::{Event, EventData, EventKind, EventQuery};
use crate::ids::ProjectSlug;
use crate::ids::RunId;
use crate::ops::OpKind;
use crate::{Result, Service};

/// Where one repository of a campaign stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemState {
    Opened,
    ChecksPassed,
    ChecksFailing,
    Merged,
    Closed,
    Conflict,
    Skipped,
    Failed,
}

impl ItemState {
    pub const ALL: [ItemState; 8] = [
        Self::Opened,
        Self::ChecksPassed,
        Self::ChecksFailing,
        Self::Merged,
        Self::Closed,
        Self::Conflict,
        Self::Skipped,
        Self::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Opened => "opened",
            Self::ChecksPassed => "checks passed",
            Self::ChecksFailing => "checks failing",
            Self::Merged => "merged",
            Self::Closed => "closed",
            Self::Conflict => "conflict",
            Self::Skipped => "skipped",
            Self::Failed => "failed",
        }
    }

    /// Merged and closed pull requests stay so, whatever arrives after.
    fn is_final(self) -> bool {
        matches!(self, Self::Merged | Self::Closed)
    }
}

/// One repository's outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub repository: String,
    pub project: Option<ProjectSlug>,
    pub state: ItemState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Why it was skipped, failed or conflicted; what changed otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Item {
    pub fn new(repository: &str, project: Option<ProjectSlug>, state: ItemState) -> Self {
        Self { repository: repository.to_owned(), project, state, number: None, url: None, reason: None }
    }

    pub fn because(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    pub fn pull(mut self, number: u64, url: Option<String>) -> Self {
        self.number = Some(number);
        self.url = url;
        self
    }
}

/// A campaign as it stands: every repository's latest outcome.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// By repository name.
    pub items: Vec<Item>,
}

impl Summary {
    pub fn count(&self, state: ItemState) -> usize {
        self.items.iter().filter(|i| i.state == state).count()
    }

    /// "3 opened, 1 merged, 2 skipped", leaving out states nobody is in.
    pub fn counts_line(&self) -> String {
        let parts: Vec<String> = ItemState::ALL
            .iter()
            .filter_map(|s| match self.count(*s) {
                0 => None,
                n => Some(format!("{n} {}", s.as_str())),
            })
            .collect();
        if parts.is_empty() { "nothing yet".to_owned() } else { parts.join(", ") }
    }
}

/// The subject a campaign's events carry, for [`summary`].
pub fn run_subject(run: &RunId) -> String {
    format!("run:{run}")
}

/// The subject naming one pull request (`owner/name#12`), lowercased.
pub fn pull_subject(repository: &str, number: u64) -> String {
    format!("{}#{number}", repository.to_ascii_lowercase())
}

impl Service {
    /// Records `item` of campaign `run` as a `campaign_updated` event by the
    /// engine (`source`: `engine`, or `github` for a webhook), about the
    /// item's project.
    pub async fn record_campaign_item(&self, run: &RunId, item: &Item, source: &str) -> Result<()> {
        let caller = crate::policy::engine_caller();
        let data = EventData::CampaignUpdated(CampaignUpdated {
            run: *run,
            operation: OpKind::UpgradeDependency,
            item: item.clone(),
        });
        let mut e = Event::of(&data, self.now(), caller.user.as_str(), source);
        e.project = item.project.clone();
        e.subjects = vec![run_subject(run)];
        if let Some(n) = item.number {
            e.subjects.push(pull_subject(&item.repository, n));
        }
        self.record(&[e]).await
    }

    /// The campaign of `run`: each repository's latest outcome (a merged or
    /// closed pull request stays so).
    pub async fn campaign_summary(&self, run: &RunId) -> Result<Summary> {
        let q = EventQuery {
            kinds: vec![EventKind::CampaignUpdated],
            subject: Some(run_subject(run)),
            limit: 1_000_000,
            ..Default::default()
        };
        let mut events = self.log().query(&q).await?;
        events.sort_by_key(|e| (e.occurred_at, e.id));
        // Keyed by repository, then project (projects without a repository are skipped by name).
        let mut by_repo: std::collections::BTreeMap<(String, Option<ProjectSlug>), Item> = Default::default();
        for e in events {
            let Ok(EventData::CampaignUpdated(CampaignUpdated { item, .. })) = e.data() else { continue };
            let key = (item.repository.clone(), item.project.clone());
            match by_repo.get(&key) {
                Some(old) if old.state.is_final() && !item.state.is_final() => {}
                _ => {
                    by_repo.insert(key, item);
                }
            }
        }
        Ok(Summary { items: by_repo.into_values().collect() })
    }

    /// The campaign run a pull request belongs to, from the events that
    /// named it (`owner/name#12`).
    pub async fn campaign_of_pull(&self, repository: &str, number: u64) -> Result<Option<(RunId, Item)>> {
        let q = EventQuery {
            kinds: vec![EventKind::CampaignUpdated],
            subject: Some(pull_subject(repository, number)),
            limit: 1,
            ..Default::default()
        };
        let found = self.log().query(&q).await?.into_iter().next();
        Ok(found.and_then(|e| match e.data() {
            Ok(EventData::CampaignUpdated(c)) => Some((c.run, c.item)),
            _ => None,
        }))
    }
}
