//! `EventLog` on SQLite: an append-only table plus a subject index for
//! history questions.

use async_trait::async_trait;
use rusqlite::types::Value;
use rusqlite::{Connection, params, params_from_iter};
use switchboard_core::event::{Event, EventKind, EventQuery};
use switchboard_core::ids::ProjectSlug;
use switchboard_core::store::{EventLog, StoreResult};

use super::SqliteStore;
use super::rows::to_json;

/// An event ready to bind: serialized by the caller, so the one writer thread
/// spends its time inserting, not formatting JSON.
pub(crate) struct EventRow {
    id: String,
    occurred_at: i64,
    kind: &'static str,
    project: Option<String>,
    actor: String,
    source: String,
    subjects_json: String,
    payload: String,
    subjects: Vec<String>,
}

impl From<&Event> for EventRow {
    fn from(e: &Event) -> Self {
        Self {
            id: e.id.to_string(),
            occurred_at: e.occurred_at,
            kind: e.kind.as_str(),
            project: e.project.as_ref().map(|p| p.to_string()),
            actor: e.actor.clone(),
            source: e.source.clone(),
            subjects_json: to_json(&e.subjects),
            payload: to_json(&e.payload),
            subjects: e.subjects.clone(),
        }
    }
}

pub(crate) fn append(conn: &Connection, rows: &[EventRow]) -> rusqlite::Result<()> {
    let mut ins = conn.prepare_cached(
        "INSERT OR IGNORE INTO events (id, occurred_at, kind, project, actor, source, subjects, payload)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    let mut sub = conn.prepare_cached(
        "INSERT OR IGNORE INTO event_subjects (subject, project, occurred_at, event) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for e in rows {
        let added = ins.execute(params![
            e.id,
            e.occurred_at,
            e.kind,
            e.project,
            e.actor,
            e.source,
            e.subjects_json,
            e.payload
        ])?;
        if added == 1 {
            // The index's key cannot hold NULL: events about no project are kept under ''.
            let project = e.project.as_deref().unwrap_or("");
            for s in &e.subjects {
                sub.execute(params![s, project, e.occurred_at, e.id])?;
            }
        }
    }
    Ok(())
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Event> {
    let bad = |i: usize, e: String| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into());
    let id: String = r.get(0)?;
    let kind: String = r.get(2)?;
    let project: Option<String> = r.get(3)?;
    let subjects: String = r.get(6)?;
    let payload: String = r.get(7)?;
    Ok(Event {
        id: uuid::Uuid::parse_str(&id).map_err(|e| bad(0, e.to_string()))?,
        occurred_at: r.get(1)?,
        kind: EventKind::parse(&kind).ok_or_else(|| bad(2, format!("unknown event kind {kind}")))?,
        project: project.map(|p| ProjectSlug::new(p).map_err(|e| bad(3, e.to_string()))).transpose()?,
        actor: r.get(4)?,
        source: r.get(5)?,
        subjects: serde_json::from_str(&subjects).map_err(|e| bad(6, e.to_string()))?,
        payload: serde_json::from_str(&payload).map_err(|e| bad(7, e.to_string()))?,
    })
}

fn query(conn: &Connection, q: &EventQuery) -> rusqlite::Result<Vec<Event>> {
    let mut conds = Vec::new();
    let mut args: Vec<Value> = Vec::new();
    let mut from = String::from("events e");
    if let Some(s) = &q.subject {
        // Drive the query from the subject index, which is ordered by time per project.
        from = String::from("event_subjects x JOIN events e ON e.id = x.event");
        args.push(Value::Text(s.to_lowercase()));
        conds.push(format!("x.subject = ?{}", args.len()));
        if let Some(p) = &q.project {
            args.push(Value::Text(p.to_string()));
            conds.push(format!("x.project = ?{}", args.len()));
        }
    } else if let Some(p) = &q.project {
        args.push(Value::Text(p.to_string()));
        conds.push(format!("e.project = ?{}", args.len()));
    }
    if !q.kinds.is_empty() {
        let start = args.len() + 1;
        for k in &q.kinds {
            args.push(Value::Text(k.as_str().into()));
        }
        let marks: Vec<String> = (start..=args.len()).map(|i| format!("?{i}")).collect();
        conds.push(format!("e.kind IN ({})", marks.join(", ")));
    }
    if let Some(s) = q.since {
        args.push(Value::Integer(s));
        conds.push(format!("e.occurred_at >= ?{}", args.len()));
    }
    if let Some(u) = q.until {
        args.push(Value::Integer(u));
        conds.push(format!("e.occurred_at < ?{}", args.len()));
    }
    let filter = if conds.is_empty() { String::new() } else { format!("WHERE {}", conds.join(" AND ")) };
    args.push(Value::Integer(if q.limit == 0 { 100 } else { q.limit as i64 }));
    let sql = format!(
        "SELECT e.id, e.occurred_at, e.kind, e.project, e.actor, e.source, e.subjects, e.payload FROM {from} {filter}
         ORDER BY e.occurred_at DESC, e.id DESC LIMIT ?{}",
        args.len()
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params_from_iter(args.iter()), row)?;
    rows.collect()
}

#[async_trait]
impl EventLog for SqliteStore {
    async fn append(&self, events: &[Event]) -> StoreResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        let rows: Vec<EventRow> = events.iter().map(EventRow::from).collect();
        self.write(move |c| append(c, &rows)).await
    }

    async fn query(&self, q: &EventQuery) -> StoreResult<Vec<Event>> {
        let q = q.clone();
        self.read(move |c| query(c, &q)).await
    }

    async fn count(&self) -> StoreResult<u64> {
        self.read(|c| c.query_row("SELECT count(*) FROM events", [], |r| r.get::<_, i64>(0)).map(|n| n as u64)).await
    }
}
