//! Vectors for semantic search, one row per project, team or package, the
//! vector as little-endian `f32` bytes. `nearest` is an exact scan of one
//! kind's rows on a reader (measured in docs/benchmarks.md): no extension
//! to load, and the same answer as every other backend.

use std::collections::HashMap;

use async_trait::async_trait;
use rusqlite::params;
use switchboard_core::semantic::{Best, StoredVector, VectorKind, VectorStore, dot_bytes, to_bytes};
use switchboard_core::store::StoreResult;

use super::SqliteStore;

#[async_trait]
impl VectorStore for SqliteStore {
    async fn vector_hashes(&self, kind: VectorKind) -> StoreResult<HashMap<String, String>> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached("SELECT key, hash FROM vectors WHERE kind = ?1")?;
            let rows = stmt.query_map(params![kind.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect()
        })
        .await
    }

    async fn put_vectors(&self, vectors: &[StoredVector]) -> StoreResult<()> {
        let rows: Vec<(&'static str, String, String, String, Vec<u8>)> = vectors
            .iter()
            .map(|v| (v.kind.as_str(), v.key.clone(), v.model.clone(), v.hash.clone(), to_bytes(&v.vector)))
            .collect();
        self.write(move |c| {
            let mut put = c.prepare_cached(
                "INSERT INTO vectors (kind, key, model, hash, dims, vector) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                 ON CONFLICT (kind, key) DO UPDATE SET model = excluded.model, hash = excluded.hash, \
                 dims = excluded.dims, vector = excluded.vector",
            )?;
            for r in &rows {
                put.execute(params![r.0, r.1, r.2, r.3, (r.4.len() / 4) as i64, r.4])?;
            }
            Ok(())
        })
        .await
    }

    async fn remove_vectors(&self, kind: VectorKind, keys: &[String]) -> StoreResult<()> {
        let keys = keys.to_vec();
        self.write(move |c| {
            let mut del = c.prepare_cached("DELETE FROM vectors WHERE kind = ?1 AND key = ?2")?;
            for k in &keys {
                del.execute(params![kind.as_str(), k])?;
            }
            Ok(())
        })
        .await
    }

    async fn nearest(
        &self,
        kind: VectorKind,
        model: &str,
        vector: &[f32],
        limit: usize,
    ) -> StoreResult<Vec<(String, f32)>> {
        let (model, query) = (model.to_owned(), vector.to_vec());
        self.read(move |c| {
            let mut stmt =
                c.prepare_cached("SELECT key, vector FROM vectors WHERE kind = ?1 AND model = ?2 AND dims = ?3")?;
            let mut rows = stmt.query(params![kind.as_str(), model, query.len() as i64])?;
            // Scored from the row's bytes where they lie: no vector is copied.
            let mut best = Best::new(limit);
            while let Some(r) = rows.next()? {
                if let Some(score) = dot_bytes(r.get_ref(1)?.as_blob()?, &query) {
                    best.offer(score, || r.get(0).unwrap_or_default());
                }
            }
            Ok(best.finish())
        })
        .await
    }
}
