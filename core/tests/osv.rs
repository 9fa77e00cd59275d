//! Real OSV records (`core/osv/`, sources in its SOURCES.md) read and
//! matched with exact expected results, the version grammars' edge cases
//! included: pre-releases, Go's `v` and pseudo-versions, PEP 440 `~=`,
//! Maven qualifiers, unordered events, withdrawn records, GIT ranges.

use std::path::PathBuf;

use proptest::prelude::*;
use switchboard_core::advisory::matching::{Verdict, evaluate};
use switchboard_core::advisory::{Advisory, Severity, osv};
use switchboard_core::model::Ecosystem;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("osv")
}

fn record(id: &str) -> osv::Read {
    let text = std::fs::read_to_string(dir().join(format!("{id}.json"))).expect("vendored record");
    osv::read(serde_json::from_str(&text).expect("JSON")).unwrap_or_else(|r| panic!("{id}: {}", r.reason))
}

fn advisory(id: &str) -> Advisory {
    record(id).advisory
}

fn affected(id: &str, eco: Ecosystem, package: &str, version: &str) -> Option<String> {
    match evaluate(&advisory(id), eco, package, version) {
        Verdict::Affected { fixed } => Some(fixed.unwrap_or_else(|| "no fix".into())),
        Verdict::NotAffected => None,
        Verdict::CannotEvaluate(why) => panic!("{id} {package} {version}: cannot evaluate: {why}"),
    }
}

#[test]
fn every_vendored_record_reads() {
    let mut n = 0;
    for entry in std::fs::read_dir(dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let id = path.file_stem().unwrap().to_str().unwrap().to_owned();
            let read = record(&id);
            assert_eq!(read.advisory.id, id);
            // Go's vulndb leaves `modified` at year 1 in its repository (set when served).
            assert!(read.advisory.modified > 0 || id.starts_with("GO-"), "{id}");
            assert!(!read.advisory.affected.is_empty(), "{id}");
            n += 1;
        }
    }
    assert_eq!(n, 17);
}

#[test]
fn crates_io_semver_ranges() {
    // tokio: four introduced/fixed pairs; the first fix follows the installed line.
    let t = |v| affected("RUSTSEC-2025-0023", Ecosystem::Cargo, "tokio", v);
    assert_eq!(t("1.35.1").as_deref(), Some("1.38.2"));
    assert_eq!(t("1.38.0").as_deref(), Some("1.38.2"));
    assert_eq!(t("1.38.2"), None);
    assert_eq!(t("1.40.0").as_deref(), Some("1.42.1"));
    assert_eq!(t("1.44.2"), None);
    assert_eq!(t("0.2.4"), None);
    // sqlx: introduced at 0.0.0-0, so every release before 0.8.1.
    let s = |v| affected("RUSTSEC-2024-0363", Ecosystem::Cargo, "sqlx", v);
    assert_eq!(s("0.7.4").as_deref(), Some("0.8.1"));
    assert_eq!(s("0.8.2"), None);
    // tracing: a pre-release introduces it; 0.1.37 is before, 0.1.38-beta within.
    let tr = |v| affected("RUSTSEC-2023-0078", Ecosystem::Cargo, "tracing", v);
    assert_eq!(tr("0.1.37"), None);
    assert_eq!(tr("0.1.38-beta.1").as_deref(), Some("0.1.40"));
    assert_eq!(tr("0.1.40"), None);
    // A declared requirement with no lock file: judged by its lowest version.
    let a = advisory("RUSTSEC-2025-0023");
    assert_eq!(a.aliases, vec!["GHSA-rr8g-9fpq-6wmg"]);
    assert_eq!(a.severity, Severity::Unknown);
}

#[test]
fn go_versions_with_prefix_and_pseudo_versions() {
    let g = |id, pkg, v| affected(id, Ecosystem::Go, pkg, v);
    assert_eq!(g("GO-2024-2978", "google.golang.org/grpc", "v1.64.0").as_deref(), Some("v1.64.1"));
    assert_eq!(g("GO-2024-2978", "google.golang.org/grpc", "v1.63.2"), None);
    assert_eq!(g("GO-2026-4762", "google.golang.org/grpc", "v1.63.2").as_deref(), Some("v1.79.3"));
    // gin: introduced by a pseudo-version, fixed exactly at 1.9.1.
    assert_eq!(g("GO-2023-1737", "github.com/gin-gonic/gin", "v1.9.0").as_deref(), Some("v1.9.1"));
    assert_eq!(g("GO-2023-1737", "github.com/gin-gonic/gin", "v1.9.1"), None);
    assert_eq!(g("GO-2023-1737", "github.com/gin-gonic/gin", "v1.3.0"), None);
    assert_eq!(
        g("GO-2023-1737", "github.com/gin-gonic/gin", "v1.3.1-0.20190401000000-aaaaaaaaaaaa").as_deref(),
        Some("v1.9.1")
    );
    // go-redis/v9: overlapping entries are a union; 9.5.5 fixes one range but not the other.
    let r = |v| g("GO-2025-3540", "github.com/redis/go-redis/v9", v);
    assert_eq!(r("v9.5.1").as_deref(), Some("v9.6.3"));
    assert_eq!(r("v9.4.0").as_deref(), Some("v9.6.3"));
    assert_eq!(r("v9.7.0-beta.2").as_deref(), Some("v9.7.3"));
    assert_eq!(r("v9.7.3"), None);
    assert_eq!(advisory("GO-2025-3540").cve(), Some("CVE-2025-29923"));
    // The standard library, a second range introduced at 1.22.0-0.
    assert_eq!(g("GO-2024-2963", "stdlib", "go1.22.4").as_deref(), Some("1.22.5"));
    assert_eq!(g("GO-2024-2963", "stdlib", "1.21.12"), None);
}

#[test]
fn pypi_pep440_and_git_ranges() {
    let p = |v| affected("PYSEC-2023-74", Ecosystem::Pypi, "requests", v);
    assert_eq!(p("2.30.0").as_deref(), Some("2.31.0"));
    assert_eq!(p("2.31.0"), None);
    assert_eq!(p("2.31"), None);
    assert_eq!(p("2.31.0rc1").as_deref(), Some("2.31.0"));
    assert_eq!(p("2.2.1"), None);
    let read = record("PYSEC-2023-74");
    assert!(read.notes.iter().any(|n| n.contains("range type GIT")), "{:?}", read.notes);
    assert!(read.advisory.aliases.contains(&"CVE-2023-32681".to_owned()));
    // Listed versions only, and a capitalised name matched by its PEP 503 form.
    let gradio = |v| affected("GHSA-9v2f-6vcg-3hgv", Ecosystem::Pypi, "Gradio", v);
    assert_eq!(gradio("4.36.1").as_deref(), Some("no fix"));
    assert_eq!(gradio("4.37.0"), None);
    let a = advisory("GHSA-9v2f-6vcg-3hgv");
    assert_eq!((a.severity, a.score), (Severity::Critical, Some(9.8)));
}

#[test]
fn npm_maven_and_rubygems_ecosystem_rules() {
    // jquery: introduced at the pre-release 2.1.1-0.
    let j = |v| affected("GHSA-mhpp-875w-9cpv", Ecosystem::Npm, "jquery", v);
    assert_eq!(j("2.1.0"), None);
    assert_eq!(j("2.1.1-beta1").as_deref(), Some("3.0.0"));
    assert_eq!(j("2.2.4").as_deref(), Some("3.0.0"));
    assert_eq!(j("3.0.0"), None);
    // Maven: three pairs out of order; qualifiers.
    let x = |v| affected("GHSA-76mp-659p-rw65", Ecosystem::Maven, "org.xwiki.commons:xwiki-commons-core", v);
    assert_eq!(x("12.10.1").as_deref(), Some("12.10.2"));
    assert_eq!(x("12.10.2-rc-1").as_deref(), Some("12.10.2"));
    assert_eq!(x("12.10.2"), None);
    assert_eq!(x("12.7"), None);
    assert_eq!(x("11.10.12").as_deref(), Some("11.10.13"));
    let o = |v| {
        affected("GHSA-77rv-6vfw-x4gc", Ecosystem::Maven, "org.springframework.security.oauth:spring-security-oauth", v)
    };
    assert_eq!(o("2.0.16.RELEASE").as_deref(), Some("2.0.17"));
    assert_eq!(o("2.0.17.RELEASE"), None);
    assert_eq!(advisory("GHSA-77rv-6vfw-x4gc").severity, Severity::Critical);
    // RubyGems: events not in order.
    let pa = |v| affected("GHSA-9qj7-jvg4-qr2x", Ecosystem::Gem, "passenger", v);
    assert_eq!(pa("3.0.20").as_deref(), Some("3.0.21"));
    assert_eq!(pa("3.0.21"), None);
    assert_eq!(pa("4.0.2").as_deref(), Some("4.0.5"));
    assert_eq!(pa("4.0.5"), None);
}

#[test]
fn withdrawn_records_are_kept_but_never_match() {
    for (id, eco, pkg, v) in [
        ("GHSA-35c4-f3rq-f9g3", Ecosystem::Gem, "activesupport", "4.2.1"),
        ("GO-2025-3408", Ecosystem::Go, "github.com/hashicorp/yamux", "v0.1.1"),
        ("RUSTSEC-2019-0031", Ecosystem::Cargo, "spin", "0.5.0"),
    ] {
        assert!(advisory(id).withdrawn.is_some(), "{id}");
        assert_eq!(evaluate(&advisory(id), eco, pkg, v), Verdict::NotAffected, "{id}");
    }
}

#[test]
fn bad_records_are_refused_with_their_id_and_why() {
    let refused = |v: serde_json::Value| osv::read(v).unwrap_err();
    let r = refused(serde_json::json!({"id": "X-1", "affected": []}));
    assert_eq!((r.id.as_deref(), r.reason.as_str()), (Some("X-1"), "it has no modified time"));
    let r = refused(serde_json::json!({"modified": "2024-01-01T00:00:00Z"}));
    assert_eq!(r.reason, "it has no id");
    let r = refused(serde_json::json!({"id": "X-2", "modified": "yesterday"}));
    assert!(r.reason.contains("not an RFC 3339 time"), "{}", r.reason);
    let r = refused(serde_json::json!({"id": "X-3", "modified": "2024-01-01T00:00:00Z", "affected": "all"}));
    assert!(r.reason.starts_with("not an OSV record"), "{}", r.reason);
    let r = refused(serde_json::json!({"id": "X-4", "modified": "2024-01-01T00:00:00Z",
        "affected": [{"package": {"ecosystem": "npm", "name": "a"}, "ranges": [{"type": "SEMVER", "events": [{"broken": "1"}]}]}]}));
    assert!(r.reason.contains("unknown event \"broken\""), "{}", r.reason);
    // An unknown ecosystem and range type are kept and reported, never guessed.
    let read = osv::read(serde_json::json!({"id": "X-5", "modified": "2024-01-01T00:00:00Z",
        "affected": [{"package": {"ecosystem": "Debian:12", "name": "openssl"}, "ranges": [{"type": "WEIRD", "events": [{"introduced": "0"}]}]}]}))
    .unwrap();
    assert_eq!(read.advisory.affected[0].osv_ecosystem, "Debian:12");
    assert_eq!(read.notes.len(), 2, "{:?}", read.notes);
    assert!(read.advisory.packages().is_empty());
}

#[test]
fn an_unparseable_installed_version_cannot_be_evaluated() {
    let verdict =
        evaluate(&advisory("RUSTSEC-2024-0363"), Ecosystem::Cargo, "sqlx", "git+https://example.invalid/sqlx");
    assert!(matches!(verdict, Verdict::CannotEvaluate(why) if why.contains("is not a version")));
}

proptest! {
    #[test]
    fn reading_never_panics(value in any_json()) {
        let _ = osv::read(value);
    }

    #[test]
    fn versions_order_totally(a in version_text(), b in version_text(), c in version_text()) {
        use switchboard_core::advisory::version::parse;
        for eco in [Ecosystem::Cargo, Ecosystem::Go, Ecosystem::Pypi, Ecosystem::Maven, Ecosystem::Gem] {
            let (Ok(x), Ok(y), Ok(z)) = (parse(eco, &a), parse(eco, &b), parse(eco, &c)) else { continue };
            prop_assert_eq!(x.cmp(&y), y.cmp(&x).reverse());
            if x <= y && y <= z {
                prop_assert!(x <= z, "{:?}: {} <= {} <= {}", eco, a, b, c);
            }
        }
    }
}

fn version_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof!["[0-9]{1,3}", "(alpha|beta|rc|sp|a|b|pre|dev|post|snapshot|ga|final)[0-9]?"],
        1..5,
    )
    .prop_flat_map(|parts| {
        let n = parts.len();
        (Just(parts), prop::collection::vec(prop_oneof![Just("."), Just("-")], n))
    })
    .prop_map(|(parts, seps)| {
        let mut s = String::new();
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                s.push_str(seps[i]);
            }
            s.push_str(p);
        }
        s
    })
}

fn any_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        "(id|modified|introduced|fixed|SEMVER|0|1\\.2\\.3|2024-01-01T00:00:00Z|npm|PyPI)"
            .prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map(
                "(id|modified|affected|package|ecosystem|name|ranges|type|events|versions|severity|score|withdrawn)",
                inner,
                0..5
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

#[test]
fn ecosystem_names_read_back_as_their_ecosystem() {
    for e in Ecosystem::ALL {
        assert_eq!(osv::ecosystem(osv::ecosystem_name(e)), e, "{e:?}");
    }
    assert_eq!(osv::ecosystem("Debian:12"), Ecosystem::Other);
}
