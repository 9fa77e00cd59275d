//! Vectors for semantic search as `(:Vector {vid, kind, key, model, hash,
//! dims, data})` nodes, `data` the vector's little-endian `f32` bytes in
//! base64 (one string per row crosses Bolt faster than a list of floats and
//! reads the same on every server), and a `(:VectorGeneration {kind, n})`
//! moved in the transaction of every change. The service scans an
//! in-memory copy, read again when the generation moves — portable Cypher
//! only: Neo4j's own vector index (`CREATE VECTOR INDEX`) is refused by the
//! ArcadeDB server the tests run on, so it is not used (docs/scaling.md).

use std::collections::HashMap;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use switchboard_core::semantic::{StoredVector, VectorKind, VectorStore, from_bytes, to_bytes};
use switchboard_core::store::StoreResult;

use crate::{Neo4jGraph, corrupt};

fn vid(kind: VectorKind, key: &str) -> String {
    format!("{}:{key}", kind.as_str())
}

#[async_trait]
impl VectorStore for Neo4jGraph {
    async fn vector_hashes(&self, kind: VectorKind) -> StoreResult<HashMap<String, String>> {
        let q = crate::bolt::query("MATCH (v:Vector) WHERE v.kind = $kind RETURN v.key AS key, v.hash AS hash")
            .param("kind", kind.as_str());
        let rows = self.rows(q).await?;
        rows.iter()
            .map(|r| Ok((r.get::<String>("key").map_err(corrupt)?, r.get::<String>("hash").map_err(corrupt)?)))
            .collect()
    }

    async fn put_vectors(&self, vectors: &[StoredVector]) -> StoreResult<()> {
        if vectors.is_empty() {
            return Ok(());
        }
        let rows: Vec<HashMap<String, crate::bolt::Value>> = vectors
            .iter()
            .map(|v| {
                HashMap::from([
                    ("vid".to_owned(), vid(v.kind, &v.key).into()),
                    ("kind".to_owned(), v.kind.as_str().into()),
                    ("key".to_owned(), v.key.clone().into()),
                    ("model".to_owned(), v.model.clone().into()),
                    ("hash".to_owned(), v.hash.clone().into()),
                    ("dims".to_owned(), (v.vector.len() as i64).into()),
                    ("data".to_owned(), STANDARD.encode(to_bytes(&v.vector)).into()),
                ])
            })
            .collect();
        let q = crate::bolt::query(
            "UNWIND $rows AS r MERGE (v:Vector {vid: r.vid}) \
             SET v.kind = r.kind, v.key = r.key, v.model = r.model, v.hash = r.hash, v.dims = r.dims, v.data = r.data",
        )
        .param("rows", rows);
        let kinds: std::collections::HashSet<VectorKind> = vectors.iter().map(|v| v.kind).collect();
        let mut statements = vec![q];
        statements.extend(kinds.into_iter().map(bump));
        self.transaction(statements).await.map(drop)
    }

    async fn remove_vectors(&self, kind: VectorKind, keys: &[String]) -> StoreResult<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let vids: Vec<String> = keys.iter().map(|k| vid(kind, k)).collect();
        let q = crate::bolt::query("UNWIND $vids AS id MATCH (v:Vector {vid: id}) DELETE v").param("vids", vids);
        self.transaction(vec![q, bump(kind)]).await.map(drop)
    }

    async fn vector_generation(&self, kind: VectorKind) -> StoreResult<u64> {
        let q =
            crate::bolt::query("MATCH (g:VectorGeneration {kind: $kind}) RETURN g.n AS n").param("kind", kind.as_str());
        let rows = self.rows(q).await?;
        Ok(rows.first().map(|r| r.get::<i64>("n")).transpose().map_err(corrupt)?.unwrap_or(0) as u64)
    }

    async fn load_vectors(&self, kind: VectorKind, model: &str) -> StoreResult<Vec<(String, Vec<f32>)>> {
        // One query, its rows decoded as they stream in (paging with ORDER BY
        // read the whole kind again for every page on ArcadeDB: 25 s at 100,000).
        let q = crate::bolt::query(
            "MATCH (v:Vector) WHERE v.kind = $kind AND v.model = $model RETURN v.key AS key, v.data AS data",
        )
        .param("kind", kind.as_str())
        .param("model", model);
        let mut out = Vec::new();
        self.each_row(q, |r| {
            let key: String = r.get("key").map_err(corrupt)?;
            let data: String = r.get("data").map_err(corrupt)?;
            let bytes = STANDARD.decode(data).map_err(corrupt)?;
            let vector = from_bytes(&bytes).ok_or_else(|| corrupt(format!("vector {key} is not whole floats")))?;
            out.push((key, vector));
            Ok(())
        })
        .await?;
        Ok(out)
    }
}

/// The statement that moves `kind`'s generation, run in the transaction that changed its vectors.
fn bump(kind: VectorKind) -> crate::bolt::Query {
    crate::bolt::query("MERGE (g:VectorGeneration {kind: $kind}) SET g.n = coalesce(g.n, 0) + 1")
        .param("kind", kind.as_str())
}
