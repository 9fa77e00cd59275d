//! Vectors for semantic search: upsert by kind and key, hashes, removal,
//! and an exact nearest-first scan that compares one model's vectors only.

use switchboard_core::semantic::{StoredVector, VectorKind, unit};

use super::Backend;

fn v(kind: VectorKind, key: &str, model: &str, x: Vec<f32>) -> StoredVector {
    StoredVector { kind, key: key.into(), model: model.into(), hash: format!("h-{key}-{model}"), vector: unit(x) }
}

pub async fn vectors_nearest(b: &Backend) {
    let s = &b.vectors;
    assert!(s.vector_hashes(VectorKind::Project).await.unwrap().is_empty());
    assert!(s.nearest(VectorKind::Project, "m", &unit(vec![1.0, 0.0, 0.0]), 5).await.unwrap().is_empty());
    // Many rows, so a backend that pages through them pages.
    let mut rows: Vec<StoredVector> = (0..300)
        .map(|i| {
            let a = i as f32 / 300.0;
            v(VectorKind::Project, &format!("p{i:03}"), "m", vec![a, 1.0 - a, 0.2])
        })
        .collect();
    rows.push(v(VectorKind::Team, "payments", "m", vec![1.0, 0.0, 0.0]));
    // Another model's vector, nearer than any: never compared.
    rows.push(v(VectorKind::Project, "other-model", "m2", vec![1.0, 0.0, 0.0]));
    // Another length: never compared.
    rows.push(v(VectorKind::Project, "short", "m", vec![1.0, 0.0]));
    for chunk in rows.chunks(100) {
        s.put_vectors(chunk).await.unwrap();
    }
    let q = unit(vec![1.0, 0.0, 0.0]);
    let near = s.nearest(VectorKind::Project, "m", &q, 3).await.unwrap();
    let keys: Vec<&str> = near.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["p299", "p298", "p297"], "{near:?}");
    assert!(near[0].1 > near[1].1 && near[1].1 > near[2].1 && near[0].1 <= 1.0001);
    let teams = s.nearest(VectorKind::Team, "m", &q, 3).await.unwrap();
    assert_eq!(teams.len(), 1);
    assert_eq!(teams[0].0, "payments");
    assert!((teams[0].1 - 1.0).abs() < 1e-5);

    let hashes = s.vector_hashes(VectorKind::Project).await.unwrap();
    assert_eq!(hashes.len(), 302);
    assert_eq!(hashes["p007"], "h-p007-m");
    // Upsert by kind and key: a new vector and hash replace the old ones.
    s.put_vectors(&[StoredVector { hash: "new".into(), ..v(VectorKind::Project, "p000", "m", vec![1.0, 0.0, 0.0]) }])
        .await
        .unwrap();
    let hashes = s.vector_hashes(VectorKind::Project).await.unwrap();
    assert_eq!((hashes.len(), hashes["p000"].as_str()), (302, "new"));
    assert_eq!(s.nearest(VectorKind::Project, "m", &q, 1).await.unwrap()[0].0, "p000");

    s.remove_vectors(VectorKind::Project, &["p000".into(), "p299".into(), "missing".into()]).await.unwrap();
    let near = s.nearest(VectorKind::Project, "m", &q, 2).await.unwrap();
    assert_eq!(near.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["p298", "p297"]);
    assert_eq!(s.vector_hashes(VectorKind::Project).await.unwrap().len(), 300);
    // Removing projects leaves the team of the same name alone.
    s.remove_vectors(VectorKind::Project, &["payments".into()]).await.unwrap();
    assert_eq!(s.vector_hashes(VectorKind::Team).await.unwrap().len(), 1);
}
