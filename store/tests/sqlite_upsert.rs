//! A project written again is changed in place (only the edges and facts
//! that differ): after hundreds of random rewrites — versions moved, edges
//! added and dropped, made transitive, projects archived and restored,
//! teams changed, facts set and removed — what is stored is exactly the
//! last project written, and the per-version dependent counts equal a
//! recount from the edges.

use switchboard_core::ids::{FactKey, PackageName, TeamSlug, Version};
use switchboard_core::model::{Dependency, Ecosystem, Fact, FactValue, Project};
use switchboard_core::store::{GraphStore, ProjectQuery};
use switchboard_store::SqliteStore;
use switchboard_testkit::conformance::project;

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Fact values: words found nowhere else in a project.
const WORDS: [&str; 5] = ["amber", "birch", "cedar", "dune", "ember"];

fn edit(p: &mut Project, rng: &mut Rng) {
    let ecosystems = [Ecosystem::Npm, Ecosystem::Cargo];
    match rng.below(8) {
        0..=3 => {
            // Rewrite some edges: a new version, a new edge, one dropped, made transitive.
            for _ in 0..rng.below(4) + 1 {
                let name = format!("pkg-{}", rng.below(12));
                let eco = ecosystems[rng.below(2) as usize];
                let version = format!("1.{}.0", rng.below(3));
                p.dependencies.retain(|d| !(d.package.as_str() == name && d.ecosystem == eco));
                if rng.below(4) > 0 {
                    let mut d = Dependency::new(eco, PackageName::new(name).unwrap(), Version::new(version).unwrap());
                    d.transitive = rng.below(3) == 0;
                    if rng.below(4) == 0 {
                        d.requirement = Some("^1".into());
                    }
                    p.dependencies.push(d);
                }
            }
            p.dependencies.sort();
        }
        4 => p.archived = !p.archived,
        5 => p.team = TeamSlug::new(format!("team-{}", rng.below(3))).unwrap(),
        _ => {
            let key = FactKey::new(format!("fact_{}", rng.below(4))).unwrap();
            if rng.below(3) == 0 {
                p.facts.remove(&key);
            } else {
                let value = FactValue::Text(WORDS[rng.below(WORDS.len() as u64) as usize].into());
                p.facts.insert(key.clone(), Fact { key, value, updated_at: 1 });
            }
        }
    }
}

#[tokio::test]
async fn rewritten_projects_are_stored_exactly_and_counts_match_a_recount() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path(), 1).unwrap();
    let mut projects: Vec<Project> = (0..12).map(|i| project(&format!("svc-{i}")).build()).collect();
    let mut rng = Rng(0x5eed_cafe);
    for step in 0..600 {
        let i = rng.below(projects.len() as u64) as usize;
        edit(&mut projects[i], &mut rng);
        store.put_project(&projects[i]).await.unwrap();
        if step % 100 != 99 {
            continue;
        }
        for p in &projects {
            let stored = store.get_project(&p.slug).await.unwrap().unwrap();
            assert_eq!(&stored, p, "step {step}: {} as stored", p.slug);
        }
        let db = rusqlite::Connection::open(dir.path().join(switchboard_store::sqlite::DB_FILE)).unwrap();
        let rows = |sql: &str| -> Vec<(String, String, String, i64, i64)> {
            let mut stmt = db.prepare(sql).unwrap();
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap()
        };
        let kept = rows("SELECT package, ecosystem, version, projects, direct FROM package_versions ORDER BY 1, 2, 3");
        let recount = rows(
            "SELECT package, ecosystem, version, count(*), sum(transitive = 0) FROM dependencies
             WHERE archived = 0 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
        );
        assert_eq!(kept, recount, "step {step}: per-version counts");
        // Each edge carries its project's team and archived mark.
        let stale: i64 = db
            .query_row(
                "SELECT count(*) FROM dependencies d JOIN projects p ON p.slug = d.project
                 WHERE d.team != p.team OR d.archived != p.archived",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(stale, 0, "step {step}: edges out of step with their project");
    }
    // Search sees the facts as they are now, not as they were.
    for word in WORDS {
        let q = ProjectQuery { text: Some(word.into()), include_archived: true, limit: 50, ..Default::default() };
        let mut found: Vec<String> =
            store.find_projects(&q).await.unwrap().into_iter().map(|p| p.slug.to_string()).collect();
        found.sort();
        let mut expected: Vec<String> = projects
            .iter()
            .filter(|p| p.facts.values().any(|f| f.value == FactValue::Text(word.into())))
            .map(|p| p.slug.to_string())
            .collect();
        expected.sort();
        assert_eq!(found, expected, "projects found by {word}");
    }
}
