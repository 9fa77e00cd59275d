//! `switchboard advisories import` on the built binary: the demo ships its
//! advisory sample (so "are we affected by CVE-2025-29923?" answers out of
//! the box); real OSV records from a zip, a directory and a file import,
//! again change nothing, and bad files are refused by name while the rest
//! import.

mod common;

use std::io::Write;

use common::*;
use serde_json::Value;

fn osv(id: &str) -> Vec<u8> {
    std::fs::read(format!("{}/core/osv/{id}.json", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn the_demo_answers_and_files_zips_and_directories_import() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let seeded = run(&["demo", "--seed-only", "--data-dir", data, "--projects", "40"]);
    assert!(seeded.status.success(), "{}", text(&seeded.stderr));
    assert!(
        text(&seeded.stderr).contains("Imported the advisory sample: 17 record(s) read"),
        "{}",
        text(&seeded.stderr)
    );
    let out = run(&["op", "affected_by", "--json", r#"{"advisory":"cve-2025-29923"}"#, "--data-dir", data]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["advisories"][0]["id"], "GO-2025-3540");
    assert!(report["projects"].as_u64().unwrap() > 0, "the demo uses go-redis/v9: {report}");

    // A zip (as OSV publishes), a directory with a broken file, one file.
    let zip_path = dir.path().join("Go-all.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for id in ["GO-2024-2978", "GO-2023-1737"] {
        zip.start_file(format!("{id}.json"), stored).unwrap();
        zip.write_all(&osv(id)).unwrap();
    }
    zip.finish().unwrap();
    let records = dir.path().join("records");
    std::fs::create_dir_all(records.join("nested")).unwrap();
    std::fs::write(records.join("nested/broken.json"), "{not json").unwrap();
    std::fs::write(records.join("GHSA-77rv-6vfw-x4gc.json"), osv("GHSA-77rv-6vfw-x4gc")).unwrap();
    let mut withdrawn: Value = serde_json::from_slice(&osv("GO-2025-3540")).unwrap();
    withdrawn["withdrawn"] = "2026-12-01T00:00:00Z".into();
    withdrawn["modified"] = "2026-12-01T00:00:00Z".into();
    let single = dir.path().join("GO-2025-3540.json");
    std::fs::write(&single, serde_json::to_vec(&withdrawn).unwrap()).unwrap();
    let (zip_s, records_s, single_s) =
        (zip_path.to_str().unwrap(), records.to_str().unwrap(), single.to_str().unwrap());

    let out = run(&["advisories", "import", zip_s, records_s, single_s, "--data-dir", data]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    // The zip's two and the sample's GHSA were imported with the demo: only the withdrawal changes.
    assert_eq!(
        (v["read"].as_u64(), v["changed"].as_u64(), v["unchanged"].as_u64()),
        (Some(4), Some(1), Some(3)),
        "{v}"
    );
    assert_eq!(v["refused"], 1);
    assert!(v["refusals"][0]["reason"].as_str().unwrap().contains("broken.json: not JSON"), "{v}");
    assert_eq!(v["fixed"], report["affected"].as_array().unwrap().len(), "the withdrawal closes every finding: {v}");
    assert!(text(&out.stderr).contains("4 record(s) read"), "{}", text(&out.stderr));

    // Again: nothing changes. A missing path is named, and fails the command.
    let again = run(&["advisories", "import", zip_s, "--data-dir", data]);
    let v: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!((v["changed"].as_u64(), v["found"].as_u64(), v["fixed"].as_u64()), (Some(0), Some(0), Some(0)));
    let missing = run(&["advisories", "import", "/no/such/osv.zip", "--data-dir", data]);
    assert!(!missing.status.success());
    assert!(text(&missing.stderr).contains("/no/such/osv.zip: no such file or directory"), "{}", text(&missing.stderr));
}
