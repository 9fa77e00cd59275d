//! Advisories and their matches: upsert by id telling what changed, lookup
//! by id or any alias whatever its case, by affected package, and matches
//! replaced per project or per advisory, listed worst first with filters.

use std::collections::BTreeMap;

use switchboard_core::advisory::{Advisory, MatchQuery, MatchScope, MatchStatus, Severity, VulnerabilityMatch, osv};
use switchboard_core::ids::*;
use switchboard_core::model::Ecosystem;

use super::{Backend, T0, slug};

/// A vendored real OSV record (`core/osv/`).
pub fn osv_record(id: &str) -> Advisory {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/osv").join(format!("{id}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    osv::read(serde_json::from_str(&text).unwrap()).unwrap().advisory
}

fn found(project: &str, team: &str, advisory: &Advisory, package: &str, version: &str) -> VulnerabilityMatch {
    VulnerabilityMatch {
        project: slug(project),
        team: TeamSlug::new(team).unwrap(),
        advisory: advisory.id.clone(),
        aliases: advisory.aliases.clone(),
        summary: advisory.summary.clone(),
        ecosystem: advisory.affected[0].ecosystem,
        package: PackageName::new(package).unwrap(),
        version: Version::new(version).unwrap(),
        fixed: Some("9.9.9".into()),
        transitive: false,
        severity: advisory.severity,
        score: advisory.score,
        status: MatchStatus::Affected,
        reason: None,
        found_at: T0,
    }
}

fn ids(advisories: &[Advisory]) -> Vec<&str> {
    advisories.iter().map(|a| a.id.as_str()).collect()
}

pub async fn advisories_and_matches(b: &Backend) {
    let g = &b.graph;
    let redis = osv_record("GO-2025-3540");
    let grpc = osv_record("GO-2026-4762");
    let maven = osv_record("GHSA-77rv-6vfw-x4gc");
    assert_eq!(g.count_advisories().await.unwrap(), 0);
    assert!(!g.any_advisories().await.unwrap());
    assert!(g.find_advisories("CVE-2025-29923").await.unwrap().is_empty());

    let changed = g.put_advisories(&[redis.clone(), grpc.clone(), maven.clone()]).await.unwrap();
    assert_eq!(changed.len(), 3);
    assert_eq!(g.count_advisories().await.unwrap(), 3);
    assert!(g.any_advisories().await.unwrap());
    assert!(g.put_advisories(&[redis.clone(), grpc.clone()]).await.unwrap().is_empty(), "unchanged records");
    let mut newer = grpc.clone();
    newer.summary = "changed upstream".into();
    newer.aliases.push("CVE-2099-0001".into());
    assert_eq!(g.put_advisories(&[newer.clone()]).await.unwrap(), vec![grpc.id.clone()]);
    assert_eq!(g.count_advisories().await.unwrap(), 3);

    // By id or alias, any case; an alias dropped by an update no longer finds it.
    assert_eq!(ids(&g.find_advisories("cve-2025-29923").await.unwrap()), ["GO-2025-3540"]);
    assert_eq!(ids(&g.find_advisories("GHSA-92CP-5422-2MW7").await.unwrap()), ["GO-2025-3540"]);
    assert_eq!(g.find_advisories("CVE-2099-0001").await.unwrap()[0].summary, "changed upstream");
    assert_eq!(g.find_advisories("go-2025-3540").await.unwrap()[0], redis);
    assert!(g.find_advisories("CVE-1999-0000").await.unwrap().is_empty());

    // By affected package, each advisory once, by id.
    let go_redis = (Ecosystem::Go, "github.com/redis/go-redis/v9".to_owned());
    let grpc_pkg = (Ecosystem::Go, "google.golang.org/grpc".to_owned());
    let both = g.advisories_for_packages(&[grpc_pkg.clone(), go_redis.clone(), go_redis.clone()]).await.unwrap();
    assert_eq!(ids(&both), ["GO-2025-3540", "GO-2026-4762"]);
    assert!(g.advisories_for_packages(&[(Ecosystem::Npm, "google.golang.org/grpc".into())]).await.unwrap().is_empty());
    assert!(g.advisories_for_packages(&[]).await.unwrap().is_empty());

    // Matches, replaced per project and per advisory.
    let checkout = vec![
        found("checkout", "payments", &redis, "github.com/redis/go-redis/v9", "v9.5.1"),
        found("checkout", "payments", &newer, "google.golang.org/grpc", "v1.63.2"),
    ];
    g.replace_matches(&MatchScope::Project(slug("checkout")), &checkout).await.unwrap();
    let billing =
        vec![found("billing", "ledger", &maven, "org.springframework.security.oauth:spring-security-oauth", "2.0.16")];
    g.replace_matches(&MatchScope::Project(slug("billing")), &billing).await.unwrap();

    let all = g.list_matches(&MatchQuery::default()).await.unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[0], billing[0], "critical first, the record round-trips");
    assert!(all[1..].iter().all(|m| m.project.as_str() == "checkout"));
    let by = |q: MatchQuery| async move { g.list_matches(&q).await.unwrap() };
    assert_eq!(by(MatchQuery { project: Some(slug("checkout")), ..Default::default() }).await.len(), 2);
    assert_eq!(by(MatchQuery { team: Some(TeamSlug::new("ledger").unwrap()), ..Default::default() }).await, billing);
    assert_eq!(
        by(MatchQuery { advisories: vec![redis.id.clone(), "GO-0000-0000".into()], ..Default::default() }).await,
        vec![checkout[0].clone()]
    );
    let pkg = PackageName::new("google.golang.org/grpc").unwrap();
    assert_eq!(by(MatchQuery { package: Some(pkg), ..Default::default() }).await, vec![checkout[1].clone()]);
    let critical = by(MatchQuery { min_severity: Some(Severity::Critical), ..Default::default() }).await;
    assert_eq!(critical, billing);
    assert_eq!(by(MatchQuery { found_since: Some(T0 + 1), ..Default::default() }).await.len(), 0);
    assert_eq!(by(MatchQuery { limit: 1, ..Default::default() }).await.len(), 1);

    // Counted without listing: by team and severity, projects, and (at
    // least) the rows of advisories known by one another's names, in order.
    let counts = g.count_matches(&MatchQuery::default()).await.unwrap();
    let mut expected: BTreeMap<(TeamSlug, Severity), u64> = BTreeMap::new();
    for m in &all {
        *expected.entry((m.team.clone(), m.severity)).or_default() += 1;
    }
    assert_eq!((counts.by_team, counts.projects), (expected, 2));
    assert!(counts.aliased.iter().all(|m| all.contains(m)));
    let ledger = MatchQuery { team: Some(TeamSlug::new("ledger").unwrap()), limit: 1, ..Default::default() };
    let ledger = g.count_matches(&ledger).await.unwrap();
    assert_eq!((ledger.projects, ledger.by_team.values().sum::<u64>()), (1, 1), "the limit is not a filter");

    // A project's recomputation replaces only its own matches.
    g.replace_matches(&MatchScope::Project(slug("checkout")), &checkout[..1]).await.unwrap();
    assert_eq!(g.list_matches(&MatchQuery::default()).await.unwrap().len(), 2);
    // An advisory's recomputation replaces only its own, in every project.
    let moved = found("orders", "payments", &redis, "github.com/redis/go-redis/v9", "v9.4.0");
    g.replace_matches(&MatchScope::Advisory(redis.id.clone()), std::slice::from_ref(&moved)).await.unwrap();
    let left = g.list_matches(&MatchQuery::default()).await.unwrap();
    assert_eq!(left, vec![billing[0].clone(), moved.clone()]);
    // Recomputed again: a row whose fix moved is rewritten, an unchanged one kept.
    let mut refixed = moved.clone();
    refixed.fixed = Some("v9.4.1".into());
    g.replace_matches(&MatchScope::Advisory(redis.id.clone()), std::slice::from_ref(&refixed)).await.unwrap();
    g.replace_matches(&MatchScope::Project(slug("billing")), &billing).await.unwrap();
    assert_eq!(g.list_matches(&MatchQuery::default()).await.unwrap(), vec![billing[0].clone(), refixed]);
    g.replace_matches(&MatchScope::Advisory(maven.id.clone()), &[]).await.unwrap();
    assert_eq!(g.list_matches(&MatchQuery::default()).await.unwrap().len(), 1);

    // Which advisories have matches, as a bulk import asks.
    let asked = [maven.id.clone(), redis.id.clone(), grpc.id.clone(), "GO-0000-0000".into()];
    let with = g.advisories_with_matches(&asked).await.unwrap();
    assert_eq!(with.into_iter().collect::<Vec<_>>(), std::slice::from_ref(&redis.id));
    assert!(g.advisories_with_matches(&[]).await.unwrap().is_empty());

    // GitHub's record of the same CVE matching the same edge: both rows are
    // among those merging may fold, worst first.
    let mut twin = redis.clone();
    twin.id = "GHSA-92cp-5422-2mw7".into();
    twin.aliases = vec!["CVE-2025-29923".into(), "GO-2025-3540".into()];
    g.put_advisories(std::slice::from_ref(&twin)).await.unwrap();
    let again = found("orders", "payments", &twin, "github.com/redis/go-redis/v9", "v9.4.0");
    g.replace_matches(&MatchScope::Advisory(twin.id.clone()), std::slice::from_ref(&again)).await.unwrap();
    let orders = MatchQuery { project: Some(slug("orders")), ..Default::default() };
    let counts = g.count_matches(&orders).await.unwrap();
    assert_eq!(counts.by_team.values().sum::<u64>(), 2);
    assert_eq!(counts.aliased, g.list_matches(&orders).await.unwrap());
}
