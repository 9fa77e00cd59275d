//! The demo's advisory sample: the real OSV records vendored in `core/osv/`
//! (their sources in its SOURCES.md), imported by `switchboard demo` so "are we
//! affected by CVE-2025-29923?" answers out of the box.

pub const SAMPLE: &[&str] = &[
    include_str!("../osv/GHSA-35c4-f3rq-f9g3.json"),
    include_str!("../osv/GHSA-76mp-659p-rw65.json"),
    include_str!("../osv/GHSA-77rv-6vfw-x4gc.json"),
    include_str!("../osv/GHSA-9qj7-jvg4-qr2x.json"),
    include_str!("../osv/GHSA-9v2f-6vcg-3hgv.json"),
    include_str!("../osv/GHSA-mhpp-875w-9cpv.json"),
    include_str!("../osv/GO-2023-1737.json"),
    include_str!("../osv/GO-2024-2963.json"),
    include_str!("../osv/GO-2024-2978.json"),
    include_str!("../osv/GO-2025-3408.json"),
    include_str!("../osv/GO-2025-3540.json"),
    include_str!("../osv/GO-2026-4762.json"),
    include_str!("../osv/PYSEC-2023-74.json"),
    include_str!("../osv/RUSTSEC-2019-0031.json"),
    include_str!("../osv/RUSTSEC-2023-0078.json"),
    include_str!("../osv/RUSTSEC-2024-0363.json"),
    include_str!("../osv/RUSTSEC-2025-0023.json"),
];

/// The sample as OSV JSON records.
pub fn sample() -> Vec<serde_json::Value> {
    SAMPLE.iter().map(|text| serde_json::from_str(text).expect("the vendored sample is JSON")).collect()
}
