//! Vectors for semantic search: upsert by kind and key, hashes, removal,
//! a generation that moves with every change, and loading one model's
//! vectors of a kind whole (more than a page of them).

use switchboard_core::semantic::{StoredVector, VectorIndex, VectorKind, unit};

use super::Backend;

fn v(kind: VectorKind, key: &str, model: &str, x: Vec<f32>) -> StoredVector {
    StoredVector { kind, key: key.into(), model: model.into(), hash: format!("h-{key}-{model}"), vector: unit(x) }
}

pub async fn vectors_nearest(b: &Backend) {
    let s = &b.vectors;
    assert!(s.vector_hashes(VectorKind::Project).await.unwrap().is_empty());
    assert!(s.load_vectors(VectorKind::Project, "m").await.unwrap().is_empty());
    let g0 = s.vector_generation(VectorKind::Project).await.unwrap();
    // More rows than a page, so a backend that pages through them pages.
    let mut rows: Vec<StoredVector> = (0..5200)
        .map(|i| {
            let a = i as f32 / 5200.0;
            v(VectorKind::Project, &format!("p{i:04}"), "m", vec![a, 1.0 - a, 0.2])
        })
        .collect();
    rows.push(v(VectorKind::Team, "payments", "m", vec![1.0, 0.0, 0.0]));
    // Another model's vector: never loaded with this one's.
    rows.push(v(VectorKind::Project, "other-model", "m2", vec![1.0, 0.0, 0.0]));
    for chunk in rows.chunks(1000) {
        s.put_vectors(chunk).await.unwrap();
    }
    let g1 = s.vector_generation(VectorKind::Project).await.unwrap();
    assert!(g1 != g0, "writing vectors moves the generation");

    let loaded = s.load_vectors(VectorKind::Project, "m").await.unwrap();
    assert_eq!(loaded.len(), 5200);
    let p7 = loaded.iter().find(|(k, _)| k == "p0007").expect("p0007 is loaded");
    assert_eq!(p7.1, unit(vec![7.0 / 5200.0, 1.0 - 7.0 / 5200.0, 0.2]), "floats come back as they went in");
    // What the service searches: the nearest of the loaded vectors.
    let q = unit(vec![1.0, 0.0, 0.0]);
    let near = VectorIndex::build("m", g1, loaded).nearest(&q, 3);
    assert_eq!(near.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["p5199", "p5198", "p5197"], "{near:?}");
    let teams = s.load_vectors(VectorKind::Team, "m").await.unwrap();
    assert_eq!(teams.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["payments"]);
    assert_eq!(s.load_vectors(VectorKind::Project, "m2").await.unwrap().len(), 1);

    let hashes = s.vector_hashes(VectorKind::Project).await.unwrap();
    assert_eq!(hashes.len(), 5201);
    assert_eq!(hashes["p0007"], "h-p0007-m");
    // Upsert by kind and key: a new vector and hash replace the old ones.
    let replaced = StoredVector { hash: "new".into(), ..v(VectorKind::Project, "p0000", "m", vec![1.0, 0.0, 0.0]) };
    s.put_vectors(&[replaced]).await.unwrap();
    let g2 = s.vector_generation(VectorKind::Project).await.unwrap();
    assert!(g2 != g1);
    let hashes = s.vector_hashes(VectorKind::Project).await.unwrap();
    assert_eq!((hashes.len(), hashes["p0000"].as_str()), (5201, "new"));
    let loaded = s.load_vectors(VectorKind::Project, "m").await.unwrap();
    assert_eq!(VectorIndex::build("m", g2, loaded).nearest(&q, 1)[0].0, "p0000");

    s.remove_vectors(VectorKind::Project, &["p0000".into(), "p5199".into(), "missing".into()]).await.unwrap();
    let g3 = s.vector_generation(VectorKind::Project).await.unwrap();
    assert!(g3 != g2, "removing vectors moves the generation");
    assert_eq!(s.vector_hashes(VectorKind::Project).await.unwrap().len(), 5199);
    // Removing projects leaves the team of the same name, and the teams' generation, alone.
    let teams_before = s.vector_generation(VectorKind::Team).await.unwrap();
    s.remove_vectors(VectorKind::Project, &["payments".into()]).await.unwrap();
    assert_eq!(s.vector_hashes(VectorKind::Team).await.unwrap().len(), 1);
    assert_eq!(s.vector_generation(VectorKind::Team).await.unwrap(), teams_before);
}
