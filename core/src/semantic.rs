//! Semantic search: the trait an embeddings endpoint implements
//! ([`Embedder`]), the one backends keep vectors behind ([`VectorStore`]),
//! the text each project, team and package is embedded from, and the
//! scoring — cosine similarity over unit vectors, scanned in memory over
//! 8-bit copies ([`VectorIndex`]) that are made again when the store's
//! generation for their kind moves (measured in docs/benchmarks.md).

use std::collections::HashMap;

use async_trait::async_trait;
use sha2::Digest;

use crate::model::{Project, ProjectSummary, Team};
use crate::store::StoreResult;

/// What a vector stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VectorKind {
    Project,
    Team,
    Package,
}

impl VectorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            VectorKind::Project => "project",
            VectorKind::Team => "team",
            VectorKind::Package => "package",
        }
    }
}

/// An embeddings endpoint that failed or answered something unusable.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EmbedError(pub String);

/// Turns texts into vectors: an OpenAI-compatible `/embeddings` endpoint.
#[async_trait]
pub trait Embedder: Send + Sync {
    /// The model's name, kept beside each vector: vectors of another model
    /// are never compared with this one's.
    fn model(&self) -> &str;
    /// One vector per text, in order, each of the model's dimensions.
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError>;
}

/// One stored vector.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredVector {
    pub kind: VectorKind,
    /// The project's or team's slug, the package's name.
    pub key: String,
    pub model: String,
    /// What it was made from ([`text_hash`]): a changed text or model is embedded again.
    pub hash: String,
    /// Of unit length ([`unit`]).
    pub vector: Vec<f32>,
}

/// Where vectors are kept: beside the graph, in every backend.
///
/// Contract (checked by the conformance suite): `put_vectors` upserts by
/// kind and key; every put or remove moves the kind's generation, in the
/// same transaction, so a process holding a copy knows it is stale.
#[async_trait]
pub trait VectorStore: Send + Sync {
    /// Every stored key of `kind` with the hash its vector was made from.
    async fn vector_hashes(&self, kind: VectorKind) -> StoreResult<HashMap<String, String>>;
    async fn put_vectors(&self, vectors: &[StoredVector]) -> StoreResult<()>;
    async fn remove_vectors(&self, kind: VectorKind, keys: &[String]) -> StoreResult<()>;
    /// A number that changes whenever `kind`'s vectors do (0 before any).
    async fn vector_generation(&self, kind: VectorKind) -> StoreResult<u64>;
    /// Every vector of `kind` made by `model`, by key.
    async fn load_vectors(&self, kind: VectorKind, model: &str) -> StoreResult<Vec<(String, Vec<f32>)>>;
}

/// `v` as 8-bit codes and the scale that makes them floats again
/// (the largest magnitude becomes ±127).
fn quantize(v: &[f32]) -> (Vec<i8>, f32) {
    let most = v.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    let scale = if most > 0.0 && most.is_finite() { most / 127.0 } else { 1.0 };
    (v.iter().map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8).collect(), scale)
}

/// One kind's vectors in memory as 8-bit codes with a scale each (a
/// quarter of the floats' memory), scanned whole for every search: at
/// 100,000 projects of 768 dimensions, 77 MB and a few milliseconds. The
/// similarities differ from the floats' by about 0.01 at most, which moves
/// only near-ties.
pub struct VectorIndex {
    pub model: String,
    pub generation: u64,
    dims: usize,
    keys: Vec<String>,
    codes: Vec<i8>,
    scales: Vec<f32>,
}

impl VectorIndex {
    /// The index of `rows` (unit vectors); rows of another length than the
    /// first are left out (a model's vectors all have one length).
    pub fn build(model: &str, generation: u64, rows: Vec<(String, Vec<f32>)>) -> Self {
        let dims = rows.first().map_or(0, |(_, v)| v.len());
        let mut index = Self {
            model: model.to_owned(),
            generation,
            dims,
            keys: Vec::with_capacity(rows.len()),
            codes: Vec::with_capacity(rows.len() * dims),
            scales: Vec::with_capacity(rows.len()),
        };
        for (key, v) in rows.into_iter().filter(|(_, v)| v.len() == dims) {
            let (codes, scale) = quantize(&v);
            index.codes.extend(codes);
            index.scales.push(scale);
            index.keys.push(key);
        }
        index
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Memory held by the codes, scales and keys.
    pub fn bytes(&self) -> usize {
        self.codes.len() + self.scales.len() * 4 + self.keys.iter().map(|k| k.len() + 24).sum::<usize>()
    }

    /// The `limit` keys nearest to `query` (unit length), best first, with
    /// their cosine similarity; none for a query of another length.
    pub fn nearest(&self, query: &[f32], limit: usize) -> Vec<(String, f32)> {
        if query.len() != self.dims || self.dims == 0 {
            return Vec::new();
        }
        // The query in 8 bits too: integer sums the compiler vectorises
        // (floats it may not reorder), exact until 2^31 — 133,000 dimensions.
        let (query, scale) = quantize(query);
        let mut best = Best::new(limit);
        for (i, codes) in self.codes.chunks_exact(self.dims).enumerate() {
            let s: i32 = codes.iter().zip(&query).map(|(c, q)| i32::from(*c) * i32::from(*q)).sum();
            best.offer(s as f32 * scale * self.scales[i], || self.keys[i].clone());
        }
        best.finish()
    }
}

/// What a text and a model make: a changed either means embedding again.
pub fn text_hash(model: &str, text: &str) -> String {
    let mut h = sha2::Sha256::new();
    h.update(model.as_bytes());
    h.update([0]);
    h.update(text.as_bytes());
    h.finalize().iter().take(12).map(|b| format!("{b:02x}")).collect()
}

/// `v` scaled to unit length (a zero vector stays zero: it matches nothing).
pub fn unit(mut v: Vec<f32>) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 && norm.is_finite() {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}

/// The best `limit` keys by score seen so far: offered one at a time, so
/// a scan never holds more than about twice `limit` of them.
pub struct Best {
    limit: usize,
    items: Vec<(f32, String)>,
    floor: f32,
}

impl Best {
    pub fn new(limit: usize) -> Self {
        Self { limit: limit.max(1), items: Vec::new(), floor: f32::NEG_INFINITY }
    }

    /// Offers `key` (made only when it is kept) with `score`.
    pub fn offer(&mut self, score: f32, key: impl FnOnce() -> String) {
        if score.is_nan() || (self.items.len() >= self.limit && score <= self.floor) {
            return;
        }
        self.items.push((score, key()));
        if self.items.len() >= self.limit * 2 {
            self.settle();
            self.floor = self.items.last().map_or(f32::NEG_INFINITY, |b| b.0);
        }
    }

    fn settle(&mut self) {
        self.items.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        self.items.truncate(self.limit);
    }

    /// Best first, ties by key.
    pub fn finish(mut self) -> Vec<(String, f32)> {
        self.settle();
        self.items.into_iter().map(|(s, k)| (k, s)).collect()
    }
}

/// Little-endian bytes of a vector, as the embedded store keeps it.
pub fn to_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// The vector [`to_bytes`] made; `None` for bytes that are not one.
pub fn from_bytes(b: &[u8]) -> Option<Vec<f32>> {
    b.len().is_multiple_of(4).then(|| b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
}

/// `s` cut to at most `max` characters.
fn cut(mut s: String, max: usize) -> String {
    if let Some((i, _)) = s.char_indices().nth(max) {
        s.truncate(i);
    }
    s
}

/// What a project is embedded from: its name, what it is, its team and description, then its facts.
pub fn project_text(p: &Project, team_name: &str, max: usize) -> String {
    let mut s = format!("{} ({}), a {} of team {}. {}", p.name, p.slug, p.project_type, team_name, p.description);
    for (k, f) in &p.facts {
        s.push_str(&format!(" {}: {}.", k.as_str().replace('_', " "), f.value));
    }
    cut(s, max)
}

/// What a team is embedded from: its name and the projects it owns, with what they are.
pub fn team_text(t: &Team, projects: &[ProjectSummary], max: usize) -> String {
    let mut s = format!("Team {} ({}). Owns:", t.name, t.slug);
    for p in projects {
        s.push_str(&format!(" {} — {};", p.name, p.description));
    }
    cut(s, max)
}

/// What a package is embedded from: its name, words apart.
pub fn package_text(name: &str) -> String {
    let words = name.trim_start_matches('@').replace(['-', '_', '/', '.', ':'], " ");
    format!("package {name} ({words})")
}

#[cfg(test)]
mod tests {
    use super::*;

    // The exact scan over floats the 8-bit index is checked against.
    /// The dot product of two vectors of one length (cosine similarity of unit vectors).
    fn dot(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    /// The `limit` best of `candidates` by cosine similarity to `query` (both
    /// unit length), best first; vectors of another length are skipped.
    fn top_k<'a>(
        candidates: impl Iterator<Item = (&'a str, &'a [f32])>,
        query: &[f32],
        limit: usize,
    ) -> Vec<(String, f32)> {
        let mut best = Best::new(limit);
        for (key, v) in candidates.filter(|(_, v)| v.len() == query.len()) {
            best.offer(dot(v, query), || key.to_owned());
        }
        best.finish()
    }

    #[test]
    fn top_k_is_exact_and_ordered() {
        let vs: Vec<(String, Vec<f32>)> = (0..100)
            .map(|i| {
                let a = i as f32 / 100.0;
                (format!("k{i:03}"), unit(vec![a, 1.0 - a, 0.1]))
            })
            .collect();
        let q = unit(vec![1.0, 0.0, 0.0]);
        let got = top_k(vs.iter().map(|(k, v)| (k.as_str(), v.as_slice())), &q, 3);
        let keys: Vec<&str> = got.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["k099", "k098", "k097"]);
        assert!(got[0].1 > got[1].1 && got[1].1 > got[2].1);
        // Another length is never compared.
        let short = [1.0f32, 0.0];
        assert!(top_k(vs.iter().map(|(k, v)| (k.as_str(), v.as_slice())), &short, 3).is_empty());
    }

    #[test]
    fn the_index_ranks_as_the_floats_do_within_a_hundredth() {
        let rows: Vec<(String, Vec<f32>)> = (0..200)
            .map(|i| {
                let a = i as f32 / 200.0;
                (format!("k{i:03}"), unit(vec![a, 1.0 - a, 0.3, -0.2 * a]))
            })
            .collect();
        let q = unit(vec![1.0, 0.1, 0.0, 0.0]);
        let exact = top_k(rows.iter().map(|(k, v)| (k.as_str(), v.as_slice())), &q, 5);
        let index = VectorIndex::build("m", 7, rows.clone());
        assert_eq!((index.len(), index.generation), (200, 7));
        let near = index.nearest(&q, 5);
        assert_eq!(near[0].0, exact[0].0);
        for ((k, s), (_, e)) in near.iter().zip(&exact) {
            let truth = dot(&rows.iter().find(|(r, _)| r == k).unwrap().1, &q);
            assert!((s - truth).abs() < 0.01 && (s - e).abs() < 0.02, "{k}: {s} vs {truth}");
        }
        assert!(index.nearest(&[1.0, 0.0], 5).is_empty(), "another length matches nothing");
        assert!(VectorIndex::build("m", 0, Vec::new()).nearest(&q, 5).is_empty());
    }

    #[test]
    fn bytes_round_trip_and_units() {
        let v = unit(vec![3.0, 4.0]);
        assert_eq!(v, vec![0.6, 0.8]);
        assert_eq!(from_bytes(&to_bytes(&v)), Some(v.clone()));
        assert_eq!(from_bytes(&[1, 2, 3]), None);
        assert_eq!(unit(vec![0.0, 0.0]), vec![0.0, 0.0]);
    }

    #[test]
    fn texts_are_cut_on_characters_and_hashes_follow_model_and_text() {
        assert_eq!(cut("héllo wörld".into(), 7), "héllo w");
        assert_ne!(text_hash("a", "x"), text_hash("b", "x"));
        assert_ne!(text_hash("a", "x"), text_hash("a", "y"));
        assert_eq!(package_text("@types/node"), "package @types/node (types node)");
    }
}
