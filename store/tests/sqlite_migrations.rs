//! Migrations run from empty and from every earlier version, keeping data.

use rusqlite::Connection;
use switchboard_store::SqliteStore;
use switchboard_store::sqlite::migrations::{LATEST, migrate_to};

fn version(c: &Connection) -> usize {
    c.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0)).unwrap() as usize
}

/// A database of its own brought to `version` (keep the directory while it is used).
fn at_version(version: usize) -> (tempfile::TempDir, Connection) {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Connection::open(dir.path().join("db")).unwrap();
    migrate_to(&mut c, version).unwrap();
    (dir, c)
}

#[test]
fn from_empty_to_latest() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Connection::open(dir.path().join("db")).unwrap();
    assert_eq!(migrate_to(&mut c, LATEST).unwrap(), 0);
    assert_eq!(version(&c), LATEST);
    assert_eq!(migrate_to(&mut c, LATEST).unwrap(), LATEST, "running again is a no-op");
}

#[tokio::test]
async fn from_each_earlier_version_keeps_data() {
    use switchboard_core::ids::ProjectSlug;
    use switchboard_core::store::{GraphStore, ProjectQuery};
    for start in 1..LATEST {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut c = Connection::open(dir.path().join(switchboard_store::sqlite::DB_FILE)).unwrap();
            migrate_to(&mut c, start).unwrap();
            c.execute(
                "INSERT INTO projects (slug, name, description, team, project_type, archived, score, data)
                 VALUES ('legacy', 'Legacy Ledger', 'old books', 'pay', 'api', 0, 10, ?1)",
                [serde_json::json!({
                    "slug": "legacy", "name": "Legacy Ledger", "description": "old books", "team": "pay",
                    "project_type": "api", "created_at": 1, "updated_at": 1
                })
                .to_string()],
            )
            .unwrap();
            if start >= 2 {
                // What version 2 wrote beside every project.
                c.execute(
                    "INSERT INTO project_search (rowid, slug, name, description, facts)
                     SELECT rowid, 'legacy', name, description, '' FROM projects WHERE slug = 'legacy'",
                    [],
                )
                .unwrap();
            }
            c.execute(
                "INSERT INTO dependencies (package, project, ecosystem, version, team, archived)
                 VALUES ('redis', 'legacy', 'other', '7.2.4', 'pay', 0)",
                [],
            )
            .unwrap();
            if (7..24).contains(&start) {
                // A delivery as versions 7 to 23 kept it, body in its row.
                c.execute(
                    "INSERT INTO inbox (source, delivery_id, event, received_at, body, status, next_attempt_at)
                     VALUES ('github', 'd-1', 'push', 5, X'7B7D', 'pending', 5)",
                    [],
                )
                .unwrap();
            } else if start >= 24 {
                // From version 24 on, the body in a table of its own.
                c.execute_batch(
                    "INSERT INTO inbox (source, delivery_id, event, received_at, status, next_attempt_at)
                     VALUES ('github', 'd-1', 'push', 5, 'pending', 5);
                     INSERT INTO inbox_bodies (id, body) SELECT id, X'7B7D' FROM inbox WHERE delivery_id = 'd-1';",
                )
                .unwrap();
            }
            if start >= 3 {
                // What version 3 kept beside every edge.
                c.execute(
                    "INSERT INTO package_versions (package, ecosystem, version, projects) VALUES ('redis', 'other', '7.2.4', 1)",
                    [],
                )
                .unwrap();
            }
        }
        let store = SqliteStore::open(dir.path(), 1).unwrap();
        let d = store
            .dependents(&switchboard_core::store::DependentsQuery {
                package: "redis".parse().unwrap(),
                version: None,
                ecosystem: None,
                limit: 10,
                direct_only: false,
            })
            .await
            .unwrap();
        assert_eq!((d.total, d.projects.len()), (1, 1), "edges from version {start} are counted after migrating");
        let p = store.get_project(&ProjectSlug::new("legacy").unwrap()).await.unwrap().unwrap();
        assert_eq!(p.name, "Legacy Ledger");
        let q = ProjectQuery { text: Some("ledger".into()), limit: 5, ..Default::default() };
        let hits = store.find_projects(&q).await.unwrap();
        assert_eq!(hits.len(), 1, "rows from version {start} are searchable after migrating");
        if start >= 7 {
            use switchboard_core::inbox::Inbox;
            let pending = store.due(10, 10).await.unwrap();
            assert_eq!(pending.len(), 1, "the delivery stored at version {start} is still due");
            assert_eq!((pending[0].delivery_id.as_str(), pending[0].body.as_slice()), ("d-1", &b"{}"[..]));
        }
    }
}

#[test]
fn newer_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Connection::open(dir.path().join("db")).unwrap();
    c.pragma_update(None, "user_version", 99).unwrap();
    let err = migrate_to(&mut c, LATEST).unwrap_err().to_string();
    assert!(err.contains("newer than this build"), "{err}");
}

#[test]
fn events_about_no_project_are_indexed_by_subject_on_upgrade() {
    let (_dir, mut c) = at_version(10);
    c.execute(
        "INSERT INTO events (id, occurred_at, kind, project, actor, source, subjects, payload)
         VALUES ('0190a1b2-0000-7000-8000-000000000001', 5, 'schedule_fired', NULL, 'scheduler', 'schedule',
                 '[\"schedule:nightly\"]', '{}')",
        [],
    )
    .unwrap();
    migrate_to(&mut c, LATEST).unwrap();
    let indexed: (String, String) = c
        .query_row(
            "SELECT subject, project FROM event_subjects WHERE event = '0190a1b2-0000-7000-8000-000000000001'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(indexed, ("schedule:nightly".to_owned(), String::new()));
}

#[test]
fn vulnerabilities_are_indexed_by_severity_and_team_then_advisory_on_upgrade() {
    let (_dir, mut c) = at_version(24);
    c.execute(
        "INSERT INTO vulnerabilities (project, advisory, ecosystem, package, version, team, severity, found_at, data)
         VALUES ('checkout', 'GHSA-1', 'npm', 'lodash', '4.17.20', 'pay', 4, 5, '{}')",
        [],
    )
    .unwrap();
    migrate_to(&mut c, LATEST).unwrap();
    let plan = |sql: &str| -> String {
        let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let rows = stmt.query_map([], |r| r.get::<_, String>(3)).unwrap();
        rows.map(Result::unwrap).collect::<Vec<_>>().join("; ")
    };
    let by_team = "SELECT team, severity, COUNT(*) FROM vulnerabilities WHERE team = 'pay' GROUP BY team, severity";
    assert!(plan(by_team).contains("COVERING INDEX vulnerabilities_by_team"), "{}", plan(by_team));
    let critical = "SELECT project FROM vulnerabilities WHERE severity >= 4";
    assert!(plan(critical).contains("vulnerabilities_by_severity"), "{}", plan(critical));
    let kept: (String, i64) = c
        .query_row("SELECT team, COUNT(*) FROM vulnerabilities WHERE severity >= 4", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    assert_eq!(kept, ("pay".to_owned(), 1), "the row stored at version 24 is found through the new indexes");
}

#[test]
fn advisories_known_by_one_anothers_names_are_marked_on_upgrade() {
    let (_dir, mut c) = at_version(21);
    // The Go record and GitHub's of one CVE, and a record nobody else names.
    c.execute_batch(
        "INSERT INTO advisory_names (name, id) VALUES
           ('GO-2025-3540', 'GO-2025-3540'), ('CVE-2025-29923', 'GO-2025-3540'),
           ('GHSA-92CP-5422-2MW7', 'GHSA-92cp-5422-2mw7'), ('CVE-2025-29923', 'GHSA-92cp-5422-2mw7'),
           ('RUSTSEC-2025-0023', 'RUSTSEC-2025-0023'), ('GHSA-RR8G-9FPQ-6WMG', 'RUSTSEC-2025-0023');",
    )
    .unwrap();
    migrate_to(&mut c, LATEST).unwrap();
    let mut stmt = c.prepare("SELECT id FROM advisory_aliased ORDER BY id").unwrap();
    let marked: Vec<String> = stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    assert_eq!(marked, ["GHSA-92cp-5422-2mw7", "GO-2025-3540"]);
}
