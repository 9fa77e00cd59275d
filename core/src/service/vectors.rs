//! Semantic search kept current: what projects, teams and packages are
//! embedded from, embedded again when it changes (a full pass at start, then
//! the operations log followed), and the nearest of them to a question.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::{Context, Service};
use crate::error::{Error, Result};
use crate::event::{Event, EventData, EventKind};
use crate::ids::{ProjectSlug, TeamSlug};
use crate::model::ProjectSummary;
use crate::semantic::{
    Embedder, StoredVector, VectorIndex, VectorKind, VectorStore, package_text, project_text, team_text, text_hash,
    unit,
};
use crate::store::ProjectQuery;

/// The events after which something is embedded again.
pub const INDEX_KINDS: [EventKind; 8] = [
    EventKind::ProjectCreated,
    EventKind::ProjectUpdated,
    EventKind::ProjectArchived,
    EventKind::FactSet,
    EventKind::FactRemoved,
    EventKind::DependenciesChanged,
    EventKind::TeamCreated,
    EventKind::TeamUpdated,
];

/// "Every one" as a list limit (what the service's other full passes ask for).
const ALL: usize = 10_000_000;

/// What one indexing pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IndexStats {
    pub embedded: usize,
    pub unchanged: usize,
    pub removed: usize,
}

impl IndexStats {
    fn add(&mut self, o: IndexStats) {
        self.embedded += o.embedded;
        self.unchanged += o.unchanged;
        self.removed += o.removed;
    }
}

/// Progress of a pass, for a terminal or a log line.
#[derive(Clone, Copy, Debug)]
pub struct IndexProgress {
    pub kind: VectorKind,
    pub done: usize,
    pub total: usize,
}

impl Service {
    /// The service with semantic search: `embedder` makes vectors, `vectors`
    /// keeps them. Call before the service is shared.
    pub fn with_semantic(mut self, embedder: Arc<dyn Embedder>, vectors: Arc<dyn VectorStore>) -> Self {
        let ctx = Arc::get_mut(&mut self.ctx).expect("semantic search is set before the service is shared");
        ctx.embedder = Some(embedder);
        ctx.vectors = Some(vectors);
        self
    }

    /// Whether an embeddings endpoint is configured.
    pub fn semantic(&self) -> bool {
        self.ctx.embedder.is_some() && self.ctx.vectors.is_some()
    }

    /// Embeds every project, team and package whose text changed since its
    /// vector was made (or whose model did), and forgets those gone.
    pub async fn index_vectors(&self, progress: &mut (dyn FnMut(IndexProgress) + Send)) -> Result<IndexStats> {
        let mut stats = IndexStats::default();
        let q = ProjectQuery { limit: ALL, ..Default::default() };
        let summaries = self.ctx.graph.find_projects(&q).await?;
        let slugs: Vec<ProjectSlug> = summaries.iter().map(|p| p.slug.clone()).collect();
        stats.add(self.index_projects(&slugs, true, progress).await?.0);
        let teams: Vec<TeamSlug> = self.ctx.graph.list_teams().await?.into_iter().map(|t| t.slug).collect();
        stats.add(self.index_teams(&teams, true, progress).await?);
        stats.add(self.index_packages(progress).await?);
        Ok(stats)
    }

    /// Embeds again what `events` changed.
    pub async fn index_vectors_after(&self, events: &[Event]) -> Result<IndexStats> {
        let (mut projects, mut teams, mut packages) = (BTreeSet::new(), BTreeSet::new(), false);
        for e in events {
            match e.data() {
                Ok(EventData::TeamCreated(t)) => {
                    teams.insert(t.team);
                }
                Ok(EventData::TeamUpdated(t)) => {
                    teams.insert(t.team().clone());
                }
                Ok(EventData::DependenciesChanged(_)) => packages = true,
                _ => {}
            }
            if let Some(p) = &e.project
                && INDEX_KINDS.contains(&e.kind)
            {
                projects.insert(p.clone());
            }
        }
        let mut stats = IndexStats::default();
        let mut quiet = |_: IndexProgress| {};
        let projects: Vec<ProjectSlug> = projects.into_iter().collect();
        let (done, owners) = self.index_projects(&projects, false, &mut quiet).await?;
        stats.add(done);
        // A team is described by its projects: theirs changing changes it.
        teams.extend(owners);
        stats.add(self.index_teams(&teams.into_iter().collect::<Vec<_>>(), false, &mut quiet).await?);
        if packages {
            stats.add(self.index_packages(&mut quiet).await?);
        }
        Ok(stats)
    }

    /// Embeds `slugs` again where their text changed; also says which teams
    /// own them (read anyway), whose texts list their projects.
    async fn index_projects(
        &self,
        slugs: &[ProjectSlug],
        all: bool,
        progress: &mut (dyn FnMut(IndexProgress) + Send),
    ) -> Result<(IndexStats, BTreeSet<TeamSlug>)> {
        let max = self.ctx.config.embeddings.max_chars as usize;
        let team_names: BTreeMap<TeamSlug, String> =
            self.ctx.graph.list_teams().await?.into_iter().map(|t| (t.slug, t.name)).collect();
        let (mut texts, mut gone, mut owners) = (Vec::with_capacity(slugs.len()), Vec::new(), BTreeSet::new());
        for slug in slugs {
            match self.ctx.graph.get_project(slug).await? {
                Some(p) if !p.archived => {
                    let team = team_names.get(&p.team).map_or(p.team.as_str(), String::as_str);
                    texts.push((slug.to_string(), project_text(&p, team, max)));
                    owners.insert(p.team);
                }
                Some(p) => {
                    gone.push(slug.to_string());
                    owners.insert(p.team);
                }
                None => gone.push(slug.to_string()),
            }
        }
        Ok((self.sync(VectorKind::Project, texts, all, gone, progress).await?, owners))
    }

    async fn index_teams(
        &self,
        slugs: &[TeamSlug],
        all: bool,
        progress: &mut (dyn FnMut(IndexProgress) + Send),
    ) -> Result<IndexStats> {
        let max = self.ctx.config.embeddings.max_chars as usize;
        let mut texts = Vec::with_capacity(slugs.len());
        let mut gone = Vec::new();
        for slug in slugs {
            let Some(team) = self.ctx.graph.get_team(slug).await? else {
                gone.push(slug.to_string());
                continue;
            };
            // The first hundred projects say what a team does well enough.
            let q = ProjectQuery { team: Some(slug.clone()), limit: 100, ..Default::default() };
            let projects: Vec<ProjectSummary> = self.ctx.graph.find_projects(&q).await?;
            texts.push((slug.to_string(), team_text(&team, &projects, max)));
        }
        self.sync(VectorKind::Team, texts, all, gone, progress).await
    }

    async fn index_packages(&self, progress: &mut (dyn FnMut(IndexProgress) + Send)) -> Result<IndexStats> {
        let names = self.ctx.graph.packages("", ALL).await?;
        let texts = names.iter().map(|n| (n.to_string(), package_text(n.as_str()))).collect();
        self.sync(VectorKind::Package, texts, true, Vec::new(), progress).await
    }

    /// Embeds each text whose hash differs from its stored vector's, in
    /// batches; removes `gone`, and with `all` every stored key not in `texts`.
    async fn sync(
        &self,
        kind: VectorKind,
        texts: Vec<(String, String)>,
        all: bool,
        mut gone: Vec<String>,
        progress: &mut (dyn FnMut(IndexProgress) + Send),
    ) -> Result<IndexStats> {
        let (Some(embedder), Some(vectors)) = (&self.ctx.embedder, &self.ctx.vectors) else {
            return Ok(IndexStats::default());
        };
        let model = embedder.model().to_owned();
        let stored = vectors.vector_hashes(kind).await?;
        if all {
            let wanted: BTreeSet<&str> = texts.iter().map(|(k, _)| k.as_str()).collect();
            gone.extend(stored.keys().filter(|k| !wanted.contains(k.as_str())).cloned());
        }
        gone.retain(|k| stored.contains_key(k));
        let mut stats = IndexStats { removed: gone.len(), ..Default::default() };
        if !gone.is_empty() {
            vectors.remove_vectors(kind, &gone).await?;
        }
        let wanted = texts.len();
        let todo: Vec<(String, String, String)> = texts
            .into_iter()
            .filter_map(|(key, text)| {
                let hash = text_hash(&model, &text);
                (stored.get(&key) != Some(&hash)).then_some((key, text, hash))
            })
            .collect();
        stats.unchanged = wanted - todo.len();
        let total = todo.len();
        // A slow endpoint (a small model on a CPU) may not embed a whole
        // batch in `timeout_secs`: batches start small and grow to what half
        // the timeout fits at the speed seen; a failed one is halved and
        // tried again.
        let (most, budget) =
            (self.ctx.config.embeddings.batch_size as usize, self.ctx.config.embeddings.timeout_secs as f64 / 2.0);
        let mut size = most.min(4);
        let mut at = 0;
        while at < todo.len() {
            let batch = &todo[at..(at + size).min(todo.len())];
            let inputs: Vec<String> = batch.iter().map(|(_, t, _)| t.clone()).collect();
            let started = std::time::Instant::now();
            let made = match embedder.embed(&inputs).await {
                Ok(made) => {
                    let each = started.elapsed().as_secs_f64() / batch.len() as f64;
                    size = ((budget / each.max(1e-6)) as usize).clamp(1, most);
                    made
                }
                Err(e) if batch.len() > 1 => {
                    size = batch.len() / 2;
                    tracing::info!(error = %e, batch = size, "the embeddings endpoint failed a batch; sending smaller ones");
                    continue;
                }
                Err(e) => {
                    return Err(Error::Unavailable {
                        message: format!("the embeddings endpoint failed while indexing {}s: {e}", kind.as_str()),
                    });
                }
            };
            at += batch.len();
            if made.len() != batch.len() {
                return Err(Error::Unavailable {
                    message: format!("the embeddings endpoint gave {} vectors for {} texts", made.len(), batch.len()),
                });
            }
            let rows: Vec<StoredVector> = batch
                .iter()
                .zip(made)
                .map(|((key, _, hash), v)| StoredVector {
                    kind,
                    key: key.clone(),
                    model: model.clone(),
                    hash: hash.clone(),
                    vector: unit(v),
                })
                .collect();
            vectors.put_vectors(&rows).await?;
            stats.embedded += rows.len();
            progress(IndexProgress { kind, done: stats.embedded, total });
        }
        Ok(stats)
    }
}

/// The keys of `kind` nearest in meaning to `text`, at least
/// `[embeddings] min_similarity` alike, best first; `Ok(None)` without an
/// embeddings endpoint, `Err` naming what failed when it did not answer.
pub(crate) async fn similar(
    ctx: &Context,
    kind: VectorKind,
    text: &str,
    limit: usize,
) -> Result<Option<Vec<(String, f32)>>> {
    let (Some(embedder), Some(vectors)) = (&ctx.embedder, &ctx.vectors) else {
        return Ok(None);
    };
    let made = embedder
        .embed(&[text.to_owned()])
        .await
        .map_err(|e| Error::Unavailable { message: format!("the embeddings endpoint failed: {e}") })?;
    let Some(query) = made.into_iter().next().map(unit) else {
        return Err(Error::Unavailable { message: "the embeddings endpoint gave no vector".into() });
    };
    let index = index(ctx, vectors.as_ref(), kind, embedder.model()).await?;
    let min = ctx.config.embeddings.min_similarity;
    let mut near = index.nearest(&query, limit);
    near.retain(|(_, s)| *s >= min);
    Ok(Some(near))
}

/// The in-memory index of `kind`'s vectors by `model`, read again from the
/// store when its generation moved (a change by any process).
async fn index(ctx: &Context, vectors: &dyn VectorStore, kind: VectorKind, model: &str) -> Result<Arc<VectorIndex>> {
    let generation = vectors.vector_generation(kind).await?;
    // Held while reading: searches that find it stale wait for one read, not each make their own.
    let mut cached = ctx.vector_index.lock().await;
    if let Some(index) = cached.get(&kind).filter(|i| i.generation == generation && i.model == model) {
        return Ok(index.clone());
    }
    let started = std::time::Instant::now();
    let rows = vectors.load_vectors(kind, model).await?;
    let index = Arc::new(VectorIndex::build(model, generation, rows));
    tracing::debug!(
        kind = kind.as_str(),
        vectors = index.len(),
        bytes = index.bytes(),
        ms = started.elapsed().as_millis() as u64,
        "semantic search index read"
    );
    cached.insert(kind, index.clone());
    Ok(index)
}

/// Follows the operations log and embeds again what changed, after one full
/// pass; runs until the process ends. Failures are logged and tried again.
pub async fn keep_current(service: Service) {
    let every = std::time::Duration::from_secs(service.config().embeddings.refresh_secs);
    let mut follower = crate::follow::LogFollower::from_now(&service, INDEX_KINDS.to_vec());
    loop {
        let started = std::time::Instant::now();
        let mut last = std::time::Instant::now();
        let mut report = |p: IndexProgress| {
            if last.elapsed().as_secs() >= 5 {
                last = std::time::Instant::now();
                tracing::info!(kind = p.kind.as_str(), done = p.done, total = p.total, "embedding for semantic search");
            }
        };
        match service.index_vectors(&mut report).await {
            Ok(s) => {
                tracing::info!(
                    embedded = s.embedded,
                    unchanged = s.unchanged,
                    removed = s.removed,
                    secs = started.elapsed().as_secs(),
                    "semantic search is current"
                );
                break;
            }
            Err(e) => {
                tracing::warn!(error = %e, "semantic search could not be brought up to date; trying again");
                tokio::time::sleep(every * 3).await;
            }
        }
    }
    loop {
        tokio::time::sleep(every).await;
        let events = match follower.unhandled(&service).await {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the log for semantic search");
                continue;
            }
        };
        if events.is_empty() {
            continue;
        }
        match service.index_vectors_after(&events).await {
            Ok(s) => {
                if s.embedded + s.removed > 0 {
                    tracing::debug!(embedded = s.embedded, removed = s.removed, "semantic search updated");
                }
                for e in &events {
                    follower.remember(e.id);
                }
                if let Err(e) = follower.advance(&service, &events).await {
                    tracing::warn!(error = %e, "cannot keep the place in the log for semantic search");
                }
            }
            Err(e) => tracing::warn!(error = %e, "semantic search could not be updated; trying again"),
        }
    }
}
