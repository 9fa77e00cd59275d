//! The dependency refresh queue: one ticket per repository in the store, so
//! a burst of pushes is one refresh whichever replica received them, and
//! each refresh is taken once across replicas.

use std::collections::BTreeMap;

use serde_json::json;

use super::{Call, Done, Service};
use crate::error::{Error, Result};
use crate::model::Millis;
use crate::ops::inputs::{ImportGithub, ListImports};
use crate::ops::output::{ImportList, Output, RepositoryImport};

const KIND: &str = "dependency-refresh";
/// A refresh nobody takes (no GitHub App in any process) is forgotten after a day.
const KEEP_MS: Millis = 24 * 3600 * 1000;
/// The latest import of each repository, kept this long.
const IMPORTS: &str = "repository-import";
const IMPORTS_KEEP_MS: Millis = 30 * 24 * 3600 * 1000;
/// The queue key that asks for every repository of every installation (or,
/// `*:ID`, of one).
pub const EVERY_REPOSITORY: &str = "*";
const OUTCOMES: [&str; 4] = ["created", "updated", "unchanged", "skipped"];

impl Service {
    /// Queues (or moves back to `due_at`) the refresh of `repository`.
    pub async fn queue_refresh(&self, repository: &str, due_at: Millis) -> Result<()> {
        let ticket = json!({"repository": repository, "due_at": due_at});
        Ok(self.ctx.graph.put_ticket(KIND, repository, &ticket, self.now() + KEEP_MS).await?)
    }

    /// Repositories whose refresh is due now (at most `limit`).
    pub async fn due_refreshes(&self, limit: usize) -> Result<Vec<String>> {
        let now = self.now();
        let queued = self.ctx.graph.list_tickets(KIND, now, limit).await?;
        Ok(queued
            .into_iter()
            .filter(|(_, t)| t["due_at"].as_i64().is_none_or(|due| due <= now))
            .map(|(r, _)| r)
            .collect())
    }

    /// Takes the refresh of `repository`: true for exactly one caller.
    pub async fn take_refresh(&self, repository: &str) -> Result<bool> {
        Ok(self.ctx.graph.take_ticket(KIND, repository, self.now()).await?.is_some())
    }

    /// Keeps `import` as the latest import of its repository.
    pub async fn record_import(&self, import: &RepositoryImport) -> Result<()> {
        let value = serde_json::to_value(import).map_err(|e| Error::internal("record an import", e))?;
        Ok(self.ctx.graph.put_ticket(IMPORTS, &import.repository, &value, self.now() + IMPORTS_KEEP_MS).await?)
    }
}

/// `import_github`: queues every repository of the App's installations (or
/// one's) for the refresher, which lists them and imports each.
pub(super) async fn import_github(call: &Call<'_>, i: ImportGithub) -> Result<Done> {
    if !call.ctx.config.github.configured() {
        return Err(Error::bad_input(
            None,
            "importing GitHub repositories needs a GitHub App: set [github] app_id and private_key (docs/onboarding.md)",
        ));
    }
    let key = match i.installation {
        Some(id) => format!("{EVERY_REPOSITORY}:{id}"),
        None => EVERY_REPOSITORY.to_owned(),
    };
    let ticket = json!({"repository": key, "due_at": call.now, "requested_by": call.caller.user});
    call.ctx.graph.put_ticket(KIND, &key, &ticket, call.now + KEEP_MS).await?;
    let mut list = imports(call, None, 20).await?;
    list.queued = Some(match i.installation {
        Some(id) => format!("installation {id}"),
        None => "every installation".to_owned(),
    });
    Ok(Done { output: Output::Imports(list), events: vec![] })
}

/// The latest import of `repository`, if one is kept.
pub(super) async fn latest_import(call: &Call<'_>, repository: &str) -> Result<Option<RepositoryImport>> {
    let kept = call.ctx.graph.get_ticket(IMPORTS, repository, call.now).await?;
    Ok(kept.and_then(|v| serde_json::from_value(v).ok()))
}

/// `list_imports`: the latest import of each repository, newest first.
pub(super) async fn list_imports(call: &Call<'_>, i: ListImports) -> Result<Done> {
    let limit = super::read::limit(i.limit, 50, 1000, "limit")?;
    if let Some(o) = &i.outcome
        && !OUTCOMES.contains(&o.as_str())
    {
        return Err(Error::field("outcome", format!("{o:?} is not one of {}", OUTCOMES.join(", "))));
    }
    Ok(Done::read(Output::Imports(imports(call, i.outcome.as_deref(), limit).await?)))
}

async fn imports(call: &Call<'_>, outcome: Option<&str>, limit: usize) -> Result<ImportList> {
    let all = call.ctx.graph.list_tickets(IMPORTS, call.now, 100_000).await?;
    let mut counts: BTreeMap<String, u64> = OUTCOMES.iter().map(|o| ((*o).to_owned(), 0)).collect();
    let mut imports: Vec<RepositoryImport> =
        all.into_iter().filter_map(|(_, v)| serde_json::from_value::<RepositoryImport>(v).ok()).collect();
    for i in &imports {
        *counts.entry(i.outcome.clone()).or_default() += 1;
    }
    imports.retain(|i| outcome.is_none_or(|o| i.outcome == o));
    imports.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| a.repository.cmp(&b.repository)));
    imports.truncate(limit);
    Ok(ImportList { queued: None, counts, imports })
}
