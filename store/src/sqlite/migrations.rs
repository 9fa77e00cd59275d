//! Versioned schema migrations, tracked in `PRAGMA user_version`. Each entry
//! moves the schema from version `i` to `i + 1`; never edit a shipped one.

use rusqlite::Connection;

pub const MIGRATIONS: &[&str] = &[
    // 1: the graph, runs and the event log.
    r#"
    CREATE TABLE users (name TEXT PRIMARY KEY, data TEXT NOT NULL);
    CREATE TABLE teams (slug TEXT PRIMARY KEY, data TEXT NOT NULL);
    CREATE TABLE projects (
        slug TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        description TEXT NOT NULL,
        team TEXT NOT NULL,
        project_type TEXT NOT NULL,
        archived INTEGER NOT NULL,
        score INTEGER NOT NULL,
        github_repository TEXT,
        pagerduty_service TEXT,
        data TEXT NOT NULL
    );
    CREATE INDEX projects_team ON projects(team, slug);
    CREATE INDEX projects_github ON projects(github_repository) WHERE github_repository IS NOT NULL;
    CREATE INDEX projects_pagerduty ON projects(pagerduty_service) WHERE pagerduty_service IS NOT NULL;
    CREATE TABLE dependencies (
        package TEXT NOT NULL,
        project TEXT NOT NULL,
        ecosystem TEXT NOT NULL,
        version TEXT NOT NULL,
        team TEXT NOT NULL,
        archived INTEGER NOT NULL,
        PRIMARY KEY (package, project, ecosystem)
    ) WITHOUT ROWID;
    CREATE INDEX dependencies_project ON dependencies(project);
    CREATE TABLE facts (
        project TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (project, key)
    ) WITHOUT ROWID;
    CREATE INDEX facts_key_value ON facts(key, value);
    CREATE TABLE deployments (
        id TEXT PRIMARY KEY,
        project TEXT NOT NULL,
        environment TEXT NOT NULL,
        status TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        external_id TEXT,
        data TEXT NOT NULL
    );
    CREATE INDEX deployments_project ON deployments(project, started_at);
    CREATE INDEX deployments_project_status ON deployments(project, status, environment, started_at);
    CREATE INDEX deployments_time ON deployments(started_at);
    CREATE INDEX deployments_external ON deployments(project, external_id) WHERE external_id IS NOT NULL;
    CREATE TABLE incidents (
        id TEXT PRIMARY KEY,
        project TEXT NOT NULL,
        status TEXT NOT NULL,
        opened_at INTEGER NOT NULL,
        external_id TEXT,
        data TEXT NOT NULL
    );
    CREATE INDEX incidents_project ON incidents(project, opened_at);
    CREATE INDEX incidents_time ON incidents(opened_at);
    CREATE INDEX incidents_status ON incidents(status, opened_at);
    CREATE INDEX incidents_external ON incidents(project, external_id) WHERE external_id IS NOT NULL;
    CREATE TABLE builds (
        id TEXT PRIMARY KEY,
        project TEXT NOT NULL,
        status TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        external_id TEXT,
        data TEXT NOT NULL
    );
    CREATE INDEX builds_project ON builds(project, started_at);
    CREATE INDEX builds_project_status ON builds(project, status, started_at);
    CREATE INDEX builds_external ON builds(project, external_id) WHERE external_id IS NOT NULL;
    CREATE TABLE runs (id TEXT PRIMARY KEY, status TEXT NOT NULL, data TEXT NOT NULL);
    CREATE INDEX runs_status ON runs(status, id);
    CREATE TABLE events (
        id TEXT PRIMARY KEY,
        occurred_at INTEGER NOT NULL,
        kind TEXT NOT NULL,
        project TEXT,
        actor TEXT NOT NULL,
        source TEXT NOT NULL,
        subjects TEXT NOT NULL,
        payload TEXT NOT NULL
    );
    CREATE INDEX events_time ON events(occurred_at, id);
    CREATE INDEX events_project ON events(project, occurred_at, id);
    CREATE TABLE event_subjects (
        subject TEXT NOT NULL,
        project TEXT,
        occurred_at INTEGER NOT NULL,
        event TEXT NOT NULL,
        PRIMARY KEY (subject, project, occurred_at, event)
    ) WITHOUT ROWID;
    "#,
    // 2: full-text search over projects, filled from what is already stored.
    r#"
    CREATE VIRTUAL TABLE project_search USING fts5(
        slug, name, description, facts,
        tokenize = "unicode61 remove_diacritics 2 tokenchars '_'",
        prefix = '2 3'
    );
    INSERT INTO project_search(rowid, slug, name, description, facts)
        SELECT p.rowid, replace(p.slug, '-', ' '), p.name, p.description,
               coalesce((SELECT group_concat(f.value, ' ') FROM facts f WHERE f.project = p.slug), '')
        FROM projects p;
    "#,
    // 3: per-version counts of dependents, so "who uses react" does not count
    // tens of thousands of edges on every question; and edges by version.
    r#"
    CREATE TABLE package_versions (
        package TEXT NOT NULL,
        ecosystem TEXT NOT NULL,
        version TEXT NOT NULL,
        projects INTEGER NOT NULL,
        PRIMARY KEY (package, ecosystem, version)
    ) WITHOUT ROWID;
    INSERT INTO package_versions (package, ecosystem, version, projects)
        SELECT package, ecosystem, version, count(*) FROM dependencies WHERE archived = 0
        GROUP BY package, ecosystem, version;
    CREATE INDEX dependencies_version ON dependencies(package, version, project);
    "#,
    // 4: API tokens, stored by the SHA-256 of their secret.
    r#"
    CREATE TABLE tokens (
        id TEXT PRIMARY KEY,
        hash TEXT NOT NULL UNIQUE,
        user TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        data TEXT NOT NULL
    );
    CREATE INDEX tokens_user ON tokens(user, created_at);
    "#,
    // 5: portal passwords (apart from users, which the API shows) and sessions.
    r#"
    CREATE TABLE credentials (user TEXT PRIMARY KEY, password_hash TEXT NOT NULL);
    CREATE TABLE sessions (hash TEXT PRIMARY KEY, user TEXT NOT NULL, expires_at INTEGER NOT NULL, data TEXT NOT NULL);
    CREATE INDEX sessions_expiry ON sessions(expires_at);
    "#,
    // 6: conversation history, a bounded number of messages per thread.
    r#"
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        thread TEXT NOT NULL,
        at INTEGER NOT NULL,
        author TEXT NOT NULL,
        text TEXT NOT NULL
    );
    CREATE INDEX messages_thread ON messages(thread, id);
    "#,
    // 7: the webhook inbox: deliveries stored before they are acknowledged.
    r#"
    CREATE TABLE inbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        source TEXT NOT NULL,
        delivery_id TEXT NOT NULL,
        event TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        body BLOB NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        next_attempt_at INTEGER NOT NULL,
        finished_at INTEGER,
        summary TEXT,
        UNIQUE (source, delivery_id)
    );
    CREATE INDEX inbox_due ON inbox(status, next_attempt_at);
    "#,
    // 8: the chat outbox: messages to Slack and Discord, stored before they are sent.
    r#"
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL UNIQUE,
        platform TEXT NOT NULL,
        channel TEXT NOT NULL,
        reply_to TEXT,
        body TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        next_attempt_at INTEGER NOT NULL,
        sent_at INTEGER,
        remote_id TEXT
    );
    CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
    "#,
    // 9: outbox messages that edit an earlier one (a decided approval request).
    r#"
    ALTER TABLE outbox ADD COLUMN edit INTEGER NOT NULL DEFAULT 0;
    "#,
    // 10: the run queue: leases, and when a run is due again after a failed step.
    r#"
    ALTER TABLE runs ADD COLUMN lease_owner TEXT;
    ALTER TABLE runs ADD COLUMN lease_until INTEGER;
    ALTER TABLE runs ADD COLUMN next_attempt_at INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX runs_queue ON runs(status, next_attempt_at);
    "#,
    // 11: events about no project were left out of the subject index (its
    // key cannot hold NULL); they are indexed under '' from now on.
    r#"
    INSERT OR IGNORE INTO event_subjects (subject, project, occurred_at, event)
        SELECT lower(s.value), '', e.occurred_at, e.id FROM events e, json_each(e.subjects) s
        WHERE e.project IS NULL;
    "#,
    // 12: chat retention deletes messages by age.
    r#"
    CREATE INDEX messages_at ON messages(at);
    "#,
    // 13: one-time tickets (chat link codes) that any process can take.
    r#"
    CREATE TABLE tickets (
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (kind, key)
    );
    CREATE INDEX tickets_expiry ON tickets(expires_at);
    "#,
    // 14: what is known of a dependency edge beyond its version (declared
    // requirement, transitive, scope, source file), as JSON; NULL when nothing.
    r#"
    ALTER TABLE dependencies ADD COLUMN detail TEXT;
    "#,
    // 15: direct or transitive, as a column `dependents` filters on, and
    // each version's count of direct users beside its count of all users.
    r#"
    ALTER TABLE dependencies ADD COLUMN transitive INTEGER NOT NULL DEFAULT 0;
    UPDATE dependencies SET transitive = 1 WHERE detail LIKE '%"transitive":true%';
    ALTER TABLE package_versions ADD COLUMN direct INTEGER NOT NULL DEFAULT 0;
    UPDATE package_versions SET direct = (
        SELECT count(*) FROM dependencies d
        WHERE d.package = package_versions.package AND d.ecosystem = package_versions.ecosystem
          AND d.version = package_versions.version AND d.archived = 0 AND d.transitive = 0);
    "#,
    // 16: GitHub's repository id, which survives renames and transfers.
    r#"
    ALTER TABLE projects ADD COLUMN github_repository_id TEXT;
    CREATE INDEX projects_github_id ON projects(github_repository_id) WHERE github_repository_id IS NOT NULL;
    "#,
    // 17: the embedded log table (`[[log_sources]] kind = "embedded"`).
    r#"
    CREATE TABLE log_lines (
        project TEXT NOT NULL,
        ts INTEGER NOT NULL,
        level INTEGER NOT NULL,
        message TEXT NOT NULL,
        attributes TEXT
    );
    CREATE INDEX log_lines_project_ts ON log_lines(project, ts);
    CREATE INDEX log_lines_ts ON log_lines(ts);
    "#,
    // 18: a chat reply's blocks, so the web chat shows earlier turns as they were.
    r#"
    ALTER TABLE messages ADD COLUMN reply TEXT;
    "#,
    // 19: vectors for semantic search (`[embeddings]`), scanned by kind.
    r#"
    CREATE TABLE vectors (
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        model TEXT NOT NULL,
        hash TEXT NOT NULL,
        dims INTEGER NOT NULL,
        vector BLOB NOT NULL
    );
    CREATE UNIQUE INDEX vectors_kind_key ON vectors(kind, key);
    CREATE TABLE vector_generations (kind TEXT PRIMARY KEY, generation INTEGER NOT NULL) WITHOUT ROWID;
    "#,
    // 20: the level in the log lines' index, so a window is counted by level
    // from the index alone (`count_logs`); it replaces the narrower one.
    r#"
    CREATE INDEX log_lines_project_ts_level ON log_lines(project, ts, level);
    DROP INDEX log_lines_project_ts;
    "#,
    // 21: security advisories (OSV), the names they go by, the packages they
    // affect, and the vulnerabilities they make of dependency edges.
    r#"
    CREATE TABLE advisories (id TEXT PRIMARY KEY, data TEXT NOT NULL) WITHOUT ROWID;
    CREATE TABLE advisory_names (name TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (name, id)) WITHOUT ROWID;
    CREATE INDEX advisory_names_id ON advisory_names(id);
    CREATE TABLE advisory_packages (
        ecosystem TEXT NOT NULL,
        package TEXT NOT NULL,
        id TEXT NOT NULL,
        PRIMARY KEY (ecosystem, package, id)
    ) WITHOUT ROWID;
    CREATE INDEX advisory_packages_id ON advisory_packages(id);
    CREATE TABLE vulnerabilities (
        project TEXT NOT NULL,
        advisory TEXT NOT NULL,
        ecosystem TEXT NOT NULL,
        package TEXT NOT NULL,
        version TEXT NOT NULL,
        team TEXT NOT NULL,
        severity INTEGER NOT NULL,
        found_at INTEGER NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (project, advisory, ecosystem, package, version)
    ) WITHOUT ROWID;
    CREATE INDEX vulnerabilities_advisory ON vulnerabilities(advisory);
    CREATE INDEX vulnerabilities_team ON vulnerabilities(team);
    CREATE INDEX vulnerabilities_severity ON vulnerabilities(severity, project);
    "#,
    // 22: the advisories that share a name (id or alias) with another — the
    // only ones whose matches merging can fold, so the organisation's counts
    // are grouped in SQL and only their rows are read; and the team's counts
    // by severity from an index alone. And the advisories counted from the
    // ids alone (`count_advisories`, asked by every `vulnerabilities`, a
    // project's page included): 60 ms over 200,000 records' JSON, 1 ms so.
    r#"
    CREATE TABLE advisory_aliased (id TEXT PRIMARY KEY) WITHOUT ROWID;
    INSERT OR IGNORE INTO advisory_aliased (id)
        SELECT DISTINCT n1.id FROM advisory_names n1
        JOIN advisory_names n2 ON n2.name = n1.name AND n2.id <> n1.id;
    CREATE INDEX vulnerabilities_team_severity ON vulnerabilities(team, severity, project);
    DROP INDEX vulnerabilities_team;
    CREATE INDEX advisories_ids ON advisories(id);
    "#,
    // 23: a digest of each project's edges as last written (with its team and
    // archived mark), so writing a project whose edges did not change (a
    // fact set, a deployment recorded) reads none of them. And a project's
    // edges read from one index alone: through the old one each edge was a
    // lookup on a page of its own (the table is ordered by package).
    r#"
    ALTER TABLE projects ADD COLUMN edges_digest INTEGER;
    CREATE INDEX dependencies_of_project ON dependencies(project, ecosystem, package, version, detail, transitive);
    DROP INDEX dependencies_project;
    "#,
    // 24: a delivery's body in a table of its own. In the inbox row it sat
    // before the status, so claiming and finishing a delivery rewrote its
    // 7 KB body (and its overflow pages) into the write-ahead log twice more.
    r#"
    CREATE TABLE inbox_bodies (id INTEGER PRIMARY KEY, body BLOB NOT NULL);
    INSERT INTO inbox_bodies (id, body) SELECT id, body FROM inbox;
    ALTER TABLE inbox DROP COLUMN body;
    "#,
    // 25: the vulnerabilities' severity and team indexes ordered by advisory
    // after severity, not by project. An advisory's matches share its
    // severity, so the rows one match writes sit together instead of each on
    // a page of its own: matching 200,000 advisories wrote every such page
    // again for each row, and the two indexes were a quarter of the time.
    // Lists narrowed by severity or team are still sorted by project after.
    r#"
    CREATE INDEX vulnerabilities_by_severity ON vulnerabilities(severity, advisory);
    CREATE INDEX vulnerabilities_by_team ON vulnerabilities(team, severity, advisory);
    DROP INDEX vulnerabilities_severity;
    DROP INDEX vulnerabilities_team_severity;
    "#,
];

/// The schema version this build writes.
pub const LATEST: usize = MIGRATIONS.len();

/// Brings the database up to [`LATEST`], one transaction per step.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<usize> {
    migrate_to(conn, LATEST)
}

/// Brings the database up to `target` (tests use it to build old versions).
pub fn migrate_to(conn: &mut Connection, target: usize) -> rusqlite::Result<usize> {
    let current: usize = conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))? as usize;
    if current > LATEST {
        return Err(rusqlite::Error::InvalidParameterName(format!(
            "the database is at schema version {current}, newer than this build knows ({LATEST}); upgrade Switchboard"
        )));
    }
    for (v, sql) in MIGRATIONS.iter().enumerate().take(target).skip(current) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (v + 1) as i64)?;
        tx.commit()?;
    }
    Ok(current)
}
