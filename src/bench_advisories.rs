//! `switchboard bench-advisories`: advisories matched against the generated
//! organisation on the embedded store. Prints as JSON: the organisation's
//! size (projects, dependency edges with transitive ones); the full
//! computation — every advisory imported from nothing and every edge matched
//! (wall time, records a second, matches found, peak memory); an incremental
//! update after one advisory changes (any advisory, and one about a package
//! the organisation uses), and after one project's dependencies change
//! (`set_dependencies`, with and without advisories to match: the difference
//! is what matching costs), p50/p99; and the `vulnerabilities` question of
//! the whole organisation (every match read, aliases merged).
//!
//! The advisories are synthetic OSV records shaped like the real ones: most
//! name packages nobody here uses (as in OSV, where the organisation's
//! packages are a sliver of the ecosystems), the rest the organisation's
//! direct, internal and transitive packages with a `fixed` version that
//! leaves some of their users affected.

use std::time::Instant;

use serde_json::{Value, json};
use switchboard_core::config::Config;
use switchboard_core::model::Role;
use switchboard_core::{Caller, Service};

use crate::bench_campaign::peak_rss_mib;
use crate::samples::Samples;

/// Records an `import_advisories` call takes.
const BATCH: usize = 5_000;
/// Share of advisories about packages the organisation uses, in thousandths.
const ORG_SHARE: u64 = 20;

pub(crate) struct Options {
    pub projects: usize,
    pub advisories: usize,
    pub samples: usize,
}

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

const ECOSYSTEMS: [(&str, &str); 4] =
    [("crates.io", "dep-"), ("npm", "npm-dep-"), ("PyPI", "py-dep-"), ("Go", "github.com/deps/mod-")];
const VECTORS: [&str; 4] = [
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N",
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
    "CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:L/I:N/A:N",
];

/// The `i`th advisory (the same every time it is made), `modified` at
/// `day` (another day: a changed record).
fn advisory(i: usize, day: u32) -> Value {
    let rng = &mut Rng(0x0a01_5eed ^ (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let (osv, prefix) = ECOSYSTEMS[i % ECOSYSTEMS.len()];
    let ours = rng.below(1000) < ORG_SHARE;
    let (name, fixed) = if ours {
        // The generator's transitive packages: `{prefix}{k}` at `{k%4}.{k%11}.{0..2}`, skewed to low k.
        let k = rng.below(2000) * rng.below(2000) / 2000;
        (format!("{prefix}{k}"), format!("{}.{}.{}", k % 4, k % 11, 1 + (day as u64 % 2)))
    } else {
        (format!("{prefix}elsewhere-{i}"), format!("{}.{}.0", 1 + rng.below(5), rng.below(20)))
    };
    let name = if osv == "Go" && !ours { format!("example.com/mod/elsewhere-{i}") } else { name };
    let version = |v: &str| if osv == "Go" { format!("v{v}") } else { v.to_owned() };
    json!({
        "schema_version": "1.6.0",
        "id": format!("BENCH-{i:07}"),
        "aliases": [format!("CVE-2099-{:07}", i)],
        "modified": format!("2026-{:02}-{:02}T00:00:00Z", 1 + day / 28 % 12, 1 + day % 28),
        "summary": format!("Synthetic advisory {i} for {name}"),
        "severity": [{"type": "CVSS_V3", "score": VECTORS[i % VECTORS.len()]}],
        "affected": [{
            "package": {"ecosystem": osv, "name": name},
            "ranges": [{"type": if osv == "Go" { "SEMVER" } else { "ECOSYSTEM" },
                        "events": [{"introduced": "0"}, {"fixed": version(&fixed)}]}],
        }],
    })
}

pub(crate) async fn run(o: Options) -> anyhow::Result<()> {
    anyhow::ensure!(
        o.projects > 0 && o.advisories > 0 && o.samples > 0,
        "--projects, --advisories and --samples must be at least 1"
    );
    let dir = std::env::temp_dir().join(format!("switchboard-bench-advisories-{}", std::process::id()));
    let result = measure(&o, &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    println!("{}", serde_json::to_string_pretty(&result?)?);
    Ok(())
}

async fn measure(o: &Options, dir: &std::path::Path) -> anyhow::Result<Value> {
    std::fs::create_dir_all(dir)?;
    let config = Config::default();
    let opened = crate::app::open(&config, dir).await?;
    let service = opened.service.clone();
    let t = Instant::now();
    crate::seed::seed(&service, o.projects, true).await?;
    let seed_s = t.elapsed().as_secs_f64();
    let files_after_org = files(dir);
    let counts = service.graph().counts().await?;
    let caller = Caller::new("bench", Role::Admin, "bench");
    let slugs = crate::seed::some_slugs(&service, 5000).await?;
    let mut rng = Rng(0x5eed_0a01);

    // One project's dependencies change, before any advisory is known.
    let before = dependency_changes(&service, &caller, &slugs, o.samples, &mut rng).await?;

    // Everything from nothing.
    let rss_before = peak_rss_mib();
    let t = Instant::now();
    let (mut found, mut changed) = (0, 0);
    for start in (0..o.advisories).step_by(BATCH) {
        let records: Vec<Value> = (start..(start + BATCH).min(o.advisories)).map(|i| advisory(i, 0)).collect();
        let out = service.execute_json(&caller, "import_advisories", json!({ "records": records })).await?.to_json();
        found += out["found"].as_u64().unwrap_or(0);
        changed += out["changed"].as_u64().unwrap_or(0);
        eprint!(
            "\radvisories: {}/{} imported, {found} vulnerabilities found",
            (start + BATCH).min(o.advisories),
            o.advisories
        );
    }
    eprintln!();
    let full_s = t.elapsed().as_secs_f64();
    anyhow::ensure!(changed as usize == o.advisories, "{changed} of {} advisories stored", o.advisories);

    // One advisory changes: any, and one about a package the organisation uses.
    let (mut any, mut ours) = (Vec::new(), Vec::new());
    let used: Vec<usize> = (0..o.advisories)
        .filter(|&i| !advisory(i, 0)["affected"][0]["package"]["name"].as_str().unwrap_or("").contains("elsewhere"))
        .collect();
    for s in 0..o.samples {
        for (list, pick) in [
            (&mut any, rng.below(o.advisories as u64) as usize),
            (&mut ours, used[rng.below(used.len() as u64) as usize]),
        ] {
            let mut r = advisory(pick, 1 + s as u32);
            // The fixed version moves: some users stop or start being affected.
            let fixed = r["affected"][0]["ranges"][0]["events"][1]["fixed"].as_str().unwrap_or("1.0.0").to_owned();
            let moved = if s % 2 == 0 { format!("{fixed}-1") } else { fixed };
            r["affected"][0]["ranges"][0]["events"][1]["fixed"] = json!(moved);
            let t = Instant::now();
            service.execute_json(&caller, "import_advisories", json!({ "records": [r] })).await?;
            list.push(t.elapsed());
        }
    }

    // One project's dependencies change, with every advisory to match.
    let after = dependency_changes(&service, &caller, &slugs, o.samples, &mut rng).await?;
    // The question a person asks of the whole organisation: every match read, aliases merged, counted.
    let (mut whole, mut matches) = (Vec::new(), 0);
    for _ in 0..o.samples.min(20) {
        let t = Instant::now();
        let out = service.execute_json(&caller, "vulnerabilities", json!({"limit": 10})).await?.to_json();
        whole.push(t.elapsed());
        matches = out["total"].as_u64().unwrap_or(0);
    }
    Ok(json!({
        "projects": counts.projects,
        "dependency_edges": counts.dependencies,
        "advisories": o.advisories,
        "advisories_about_packages_used_here": used.len(),
        "generate_org_s": (seed_s * 10.0).round() / 10.0,
        "store_mib_after_org": files_after_org,
        "store_mib_at_end": files(dir),
        "full": {
            "seconds": (full_s * 10.0).round() / 10.0,
            "advisories_per_second": (o.advisories as f64 / full_s).round(),
            "vulnerabilities_found": found,
            "matches_stored": matches,
            "peak_rss_mib_before": rss_before,
            "peak_rss_mib_after": peak_rss_mib(),
        },
        "one_advisory_changes": Samples(any).json(),
        "one_advisory_on_a_used_package_changes": Samples(ours).json(),
        "set_dependencies_without_advisories": Samples(before).json(),
        "set_dependencies_with_advisories": Samples(after).json(),
        "vulnerabilities_of_the_whole_org": Samples(whole).json(),
    }))
}

/// `set_dependencies` on random projects: one transitive package's version moves.
async fn dependency_changes(
    service: &Service,
    caller: &Caller,
    slugs: &[String],
    samples: usize,
    rng: &mut Rng,
) -> anyhow::Result<Vec<std::time::Duration>> {
    let mut out = Vec::with_capacity(samples);
    for _ in 0..samples {
        let slug = &slugs[rng.below(slugs.len() as u64) as usize];
        let project =
            service.graph().get_project(&slug.parse()?).await?.ok_or_else(|| anyhow::anyhow!("{slug} is gone"))?;
        let mut deps: Vec<Value> = project.dependencies.iter().map(serde_json::to_value).collect::<Result<_, _>>()?;
        if let Some(d) = deps.iter_mut().find(|d| d["transitive"] == true) {
            let v = d["version"].as_str().unwrap_or("0.0.0");
            // Patch 0 ↔ 1: across most synthetic advisories' `fixed`.
            d["version"] = json!(if v.ends_with(".0") {
                format!("{}1", &v[..v.len() - 1])
            } else {
                format!("{}0", &v[..v.len() - 1])
            });
        }
        let t = Instant::now();
        service.execute_json(caller, "set_dependencies", json!({"project": slug, "dependencies": deps})).await?;
        out.push(t.elapsed());
    }
    Ok(out)
}

/// The database file and its write-ahead log, in MiB.
fn files(dir: &std::path::Path) -> Value {
    let mib = |name: &str| {
        let bytes = std::fs::metadata(dir.join(name)).map(|m| m.len()).unwrap_or(0);
        (bytes as f64 / 1048576.0).round()
    };
    let db = switchboard_store::sqlite::DB_FILE;
    json!({"database": mib(db), "write_ahead_log": mib(&format!("{db}-wal"))})
}
