//! Row helpers: entities are stored as JSON in a `data` column beside the
//! columns queries filter on.

use rusqlite::types::Type;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub(crate) fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("entities serialize")
}

/// Reads JSON column `idx` into `T`, reporting corrupt data as a conversion error.
pub(crate) fn from_json<T: DeserializeOwned>(row: &rusqlite::Row<'_>, idx: usize) -> rusqlite::Result<T> {
    let text: String = row.get(idx)?;
    serde_json::from_str(&text).map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, Box::new(e)))
}

/// A plain string for a serde enum value (`"succeeded"`).
pub(crate) fn enum_str<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value).expect("enums serialize") {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}

/// Turns free text into an FTS5 query: every word must match as a prefix.
/// Returns `None` when the text has no words.
pub(crate) fn fts_query(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .take(16)
        .map(|w| format!("\"{}\"*", w.to_lowercase()))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// A `LIMIT` value: 0 means the default of 50.
pub(crate) fn limit(n: usize) -> i64 {
    if n == 0 { 50 } else { n.min(i64::MAX as usize) as i64 }
}

/// A stored identifier that no longer validates, as a conversion error.
pub(crate) fn id_error(i: usize, e: switchboard_core::ids::IdError) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
}

/// Gives back the claims on rows of a queue table (`inbox`, `outbox`) still
/// pending: due again at `now`.
pub(crate) fn release_claims(
    conn: &rusqlite::Connection,
    table: &'static str,
    ids: &[i64],
    now: i64,
) -> rusqlite::Result<()> {
    let mut release =
        conn.prepare_cached(&format!("UPDATE {table} SET next_attempt_at = ?2 WHERE id = ?1 AND status = 'pending'"))?;
    for id in ids {
        release.execute(rusqlite::params![id, now])?;
    }
    Ok(())
}

/// Rows per `status` of a queue table (`inbox`, `outbox`), every status
/// listed (zero when none), in `all`'s order.
pub(crate) fn status_counts<S: Copy>(
    conn: &rusqlite::Connection,
    table: &str,
    all: &[S],
    name: fn(S) -> &'static str,
) -> rusqlite::Result<Vec<(S, u64)>> {
    let mut st = conn.prepare_cached(&format!("SELECT status, COUNT(*) FROM {table} GROUP BY status"))?;
    let rows: Vec<(String, i64)> = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
    Ok(all.iter().map(|&s| (s, rows.iter().find(|(k, _)| k == name(s)).map(|(_, n)| *n as u64).unwrap_or(0))).collect())
}
