//! `switchboard bench-vectors`: semantic search on the store a config names
//! (the embedded store by default, or the Bolt graph) with N vectors of D
//! dimensions: vectors stored a second, the time to read them all into the
//! in-memory index and its memory (what a search pays once after a change),
//! and per search the generation check and the scan (p50/p99), as JSON. The
//! vectors are pseudo-random unit vectors: a scan costs the same whatever
//! they mean.

use std::path::PathBuf;
use std::time::Instant;

use serde_json::json;
use switchboard_core::config::Config;
use switchboard_core::semantic::{StoredVector, VectorIndex, VectorKind, unit};

use crate::samples::Samples;

pub(crate) struct Options {
    pub count: usize,
    pub dims: usize,
    pub samples: usize,
    pub config: Config,
    pub data_dir: Option<PathBuf>,
}

/// A deterministic unit vector for `seed`.
fn vector(seed: u64, dims: usize) -> Vec<f32> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    unit(
        (0..dims)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 40) as f32 / (1u64 << 24) as f32 - 0.5
            })
            .collect(),
    )
}

pub(crate) async fn run(o: Options) -> anyhow::Result<()> {
    anyhow::ensure!(o.count > 0 && o.dims > 0 && o.samples > 0, "--count, --dims and --samples must be at least 1");
    let dir = crate::samples::StoreDir::new(o.data_dir.as_ref(), "bench-vectors");
    println!("{}", serde_json::to_string_pretty(&measure(&o, &dir.path).await?)?);
    Ok(())
}

async fn measure(o: &Options, dir: &std::path::Path) -> anyhow::Result<serde_json::Value> {
    std::fs::create_dir_all(dir)?;
    let opened = crate::app::open(&o.config, dir).await?;
    let store = opened.vectors;
    let model = "bench";
    let t = Instant::now();
    for start in (0..o.count).step_by(1000) {
        let rows: Vec<StoredVector> = (start..(start + 1000).min(o.count))
            .map(|i| StoredVector {
                kind: VectorKind::Project,
                key: format!("project-{i:07}"),
                model: model.into(),
                hash: "bench".into(),
                vector: vector(i as u64, o.dims),
            })
            .collect();
        store.put_vectors(&rows).await?;
        if start % 20_000 == 0 {
            eprintln!("vectors: {start} of {}", o.count);
        }
    }
    let put_per_second = o.count as f64 / t.elapsed().as_secs_f64();
    // What a search does after a change: read the generation, read every vector, build the 8-bit index.
    let t = Instant::now();
    let generation = store.vector_generation(VectorKind::Project).await?;
    let loaded = store.load_vectors(VectorKind::Project, model).await?;
    let index = VectorIndex::build(model, generation, loaded);
    let load_ms = t.elapsed().as_secs_f64() * 1e3;
    anyhow::ensure!(index.len() == o.count, "read {} of {} vectors", index.len(), o.count);
    // What every search does: read the generation (unchanged), then scan the index.
    let (mut checks, mut scans) = (Vec::with_capacity(o.samples), Vec::with_capacity(o.samples));
    for s in 0..o.samples {
        let q = vector(1_000_000_007 + s as u64, o.dims);
        let t = Instant::now();
        anyhow::ensure!(store.vector_generation(VectorKind::Project).await? == generation);
        checks.push(t.elapsed());
        let t = Instant::now();
        let near = index.nearest(&q, 20);
        scans.push(t.elapsed());
        anyhow::ensure!(near.len() == 20.min(o.count), "the scan found {} of {}", near.len(), o.count);
    }
    let backend = format!("{:?}", o.config.store.graph).to_lowercase();
    Ok(json!({
        "backend": backend,
        "vectors": o.count,
        "dims": o.dims,
        "stored_per_second": put_per_second.round(),
        "index_read_ms": load_ms.round(),
        "index_memory_mib": (index.bytes() as f64 / 1048576.0 * 10.0).round() / 10.0,
        "generation_check": Samples(checks).json(),
        "nearest_20_in_memory": Samples(scans).json(),
    }))
}
