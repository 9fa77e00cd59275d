//! Vectors for semantic search, one row per project, team or package, the
//! vector as little-endian `f32` bytes, and a generation per kind moved by
//! every write. The service scans an in-memory copy, read again when the
//! generation moves: no extension to load, the same answer on every backend.

use std::collections::HashMap;

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};
use switchboard_core::semantic::{StoredVector, VectorKind, VectorStore, from_bytes, to_bytes};
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
        let kinds: std::collections::HashSet<VectorKind> = vectors.iter().map(|v| v.kind).collect();
        self.write(move |c| {
            let mut put = c.prepare_cached(
                "INSERT INTO vectors (kind, key, model, hash, dims, vector) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                 ON CONFLICT (kind, key) DO UPDATE SET model = excluded.model, hash = excluded.hash, \
                 dims = excluded.dims, vector = excluded.vector",
            )?;
            for r in &rows {
                put.execute(params![r.0, r.1, r.2, r.3, (r.4.len() / 4) as i64, r.4])?;
            }
            for kind in kinds {
                bump(c, kind)?;
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
            bump(c, kind)
        })
        .await
    }

    async fn vector_generation(&self, kind: VectorKind) -> StoreResult<u64> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached("SELECT generation FROM vector_generations WHERE kind = ?1")?;
            let n: Option<i64> = stmt.query_row(params![kind.as_str()], |r| r.get(0)).optional()?;
            Ok(n.unwrap_or(0) as u64)
        })
        .await
    }

    async fn load_vectors(&self, kind: VectorKind, model: &str) -> StoreResult<Vec<(String, Vec<f32>)>> {
        let model = model.to_owned();
        self.read(move |c| {
            let mut stmt = c.prepare_cached("SELECT key, vector FROM vectors WHERE kind = ?1 AND model = ?2")?;
            let mut rows = stmt.query(params![kind.as_str(), model])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                if let Some(v) = from_bytes(r.get_ref(1)?.as_blob()?) {
                    out.push((r.get(0)?, v));
                }
            }
            Ok(out)
        })
        .await
    }
}

/// Moves `kind`'s generation, in the write that changed its vectors.
fn bump(c: &rusqlite::Connection, kind: VectorKind) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO vector_generations (kind, generation) VALUES (?1, 1) \
         ON CONFLICT (kind) DO UPDATE SET generation = generation + 1",
    )?
    .execute(params![kind.as_str()])
    .map(drop)
}
