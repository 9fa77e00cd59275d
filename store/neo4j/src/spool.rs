//! The webhook inbox and the chat outbox in Cypher, so that every
//! Switchboard process on the same graph shares them: a delivery received
//! by one replica can be processed by another, and a chat message can be
//! edited by any replica, not only the one that sent it.
//!
//! Numeric ids are time-ordered and made by each process (epoch
//! milliseconds × 1,000 plus a per-process sequence): no shared counter for
//! every replica to queue on. A unique constraint catches the rare clash
//! between two processes, and the record is stored again under a new id.
//! They stay below 2^53, so JavaScript clients read them exactly.
//! Uniqueness of the news itself (the delivery's source and id, the
//! message's key) is a unique constraint too, so two replicas storing the
//! same news at once leave one record: the loser's next try finds it.
//! Claims (`due`, `due_messages`) take each record's write lock before
//! checking it again, as in the run queue.
//!
//! Deliveries are stored with group commit: a transaction on the server
//! costs milliseconds whatever it holds, so deliveries that arrive while one
//! is being stored wait and go together in the next (one `UNWIND`), and a
//! flood of webhooks is a few transactions a second of many deliveries each
//! instead of one transaction for every delivery.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::bolt::{Row, query};
use async_trait::async_trait;
use base64::Engine as _;
use switchboard_core::inbox::{self, Accepted, Delivery, DeliveryStatus, Inbox, NewDelivery, Outcome};
use switchboard_core::model::{ChatPlatform, Millis};
use switchboard_core::outbox::{self, Attempt, MessageStatus, NewMessage, OutMessage, Outbox};
use switchboard_core::store::{StoreError, StoreResult};
use tokio::sync::oneshot;

use crate::graph::count;
use crate::{Neo4jGraph, corrupt, limit, map};

/// Tries at storing a new record under fresh ids.
const ID_ATTEMPTS: u32 = 8;

/// A new id: the time in milliseconds, then three digits of a per-process
/// sequence that starts at a random point (so two processes rarely agree).
fn new_id() -> i64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEQUENCE: std::sync::OnceLock<AtomicU64> = std::sync::OnceLock::new();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let seq = SEQUENCE.get_or_init(|| AtomicU64::new(u64::from(now.subsec_nanos()) ^ u64::from(std::process::id())));
    let n = seq.fetch_add(1, Ordering::Relaxed) % 1_000;
    now.as_millis() as i64 * 1_000 + n as i64
}

/// Whether a failed create may succeed when tried again: it clashed with a
/// record already stored (its id or its key), or with a concurrent change
/// (a transient error: ArcadeDB reports two writers on one index page so).
fn clashed(e: &StoreError) -> bool {
    let e = e.to_string();
    ["ConstraintValidationFailed", "ConcurrentModification", "TransientError"].iter().any(|c| e.contains(c))
}

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A delivery's columns, of a node matched as `x`.
const DELIVERY: &str = "x.id AS id, x.source AS source, x.delivery_id AS delivery_id, x.event AS event,
    x.received_at AS received_at, x.body AS body, x.status AS status, x.attempts AS attempts,
    x.last_error AS last_error, x.next_attempt_at AS next_attempt_at, x.finished_at AS finished_at,
    x.summary AS summary";

/// A message's columns, of a node matched as `x`.
const MESSAGE: &str = "x.id AS id, x.key AS key, x.platform AS platform, x.channel AS channel,
    x.reply_to AS reply_to, x.edit AS edit, x.body AS body, x.created_at AS created_at, x.status AS status,
    x.attempts AS attempts, x.last_error AS last_error, x.next_attempt_at AS next_attempt_at,
    x.sent_at AS sent_at, x.remote_id AS remote_id";

fn delivery(r: &Row) -> StoreResult<Delivery> {
    let status: String = r.get("status").map_err(corrupt)?;
    let body: String = r.get("body").map_err(corrupt)?;
    Ok(Delivery {
        id: r.get("id").map_err(corrupt)?,
        source: r.get("source").map_err(corrupt)?,
        delivery_id: r.get("delivery_id").map_err(corrupt)?,
        event: r.get("event").map_err(corrupt)?,
        received_at: r.get("received_at").map_err(corrupt)?,
        body: B64.decode(body).map_err(corrupt)?,
        status: DeliveryStatus::parse(&status).ok_or_else(|| corrupt(format!("delivery status {status:?}")))?,
        attempts: r.get::<i64>("attempts").map_err(corrupt)?.clamp(0, u32::MAX.into()) as u32,
        last_error: r.get("last_error").map_err(corrupt)?,
        next_attempt_at: r.get("next_attempt_at").map_err(corrupt)?,
        finished_at: r.get("finished_at").map_err(corrupt)?,
        summary: r.get("summary").map_err(corrupt)?,
    })
}

fn message(r: &Row) -> StoreResult<OutMessage> {
    let status: String = r.get("status").map_err(corrupt)?;
    let platform: String = r.get("platform").map_err(corrupt)?;
    Ok(OutMessage {
        id: r.get("id").map_err(corrupt)?,
        key: r.get("key").map_err(corrupt)?,
        platform: ChatPlatform::parse(&platform).ok_or_else(|| corrupt(format!("chat platform {platform:?}")))?,
        channel: r.get("channel").map_err(corrupt)?,
        reply_to: r.get("reply_to").map_err(corrupt)?,
        edit: r.get("edit").map_err(corrupt)?,
        body: r.get("body").map_err(corrupt)?,
        created_at: r.get("created_at").map_err(corrupt)?,
        status: MessageStatus::parse(&status).ok_or_else(|| corrupt(format!("message status {status:?}")))?,
        attempts: r.get::<i64>("attempts").map_err(corrupt)?.clamp(0, u32::MAX.into()) as u32,
        last_error: r.get("last_error").map_err(corrupt)?,
        next_attempt_at: r.get("next_attempt_at").map_err(corrupt)?,
        sent_at: r.get("sent_at").map_err(corrupt)?,
        remote_id: r.get("remote_id").map_err(corrupt)?,
    })
}

impl Neo4jGraph {
    /// Stores a new record with `create` (given a fresh id; it returns no
    /// row when the record was already there), under another id after a clash.
    async fn create_with_fresh_id(&self, create: impl Fn(i64) -> crate::bolt::Query) -> StoreResult<Vec<Row>> {
        let mut attempt = 1;
        loop {
            match self.transaction_once(vec![create(new_id())]).await {
                Err(e) if attempt < ID_ATTEMPTS && clashed(&e) => {
                    attempt += 1;
                    // A few milliseconds, growing, and different per process.
                    let jitter = u64::from(std::process::id() % 7) + (new_id() % 5) as u64;
                    tokio::time::sleep(std::time::Duration::from_millis(u64::from(attempt) * 4 + jitter)).await;
                }
                done => return done,
            }
        }
    }

    /// Claims up to `n` pending `label` nodes due at `now` until `now +
    /// claim_ms`, returning `columns` (of `x`) with the due time they had.
    /// `label` and `columns` are constants of this module.
    async fn claim_due(
        &self,
        label: &str,
        columns: &str,
        now: Millis,
        claim_ms: Millis,
        n: usize,
    ) -> StoreResult<Vec<Row>> {
        // The record as it was when due, as the embedded store hands it out.
        const DUE: &str = "x.next_attempt_at AS next_attempt_at";
        assert!(columns.contains(DUE), "claimed columns name the due time as {DUE}");
        let columns = columns.replace(DUE, "due_at AS next_attempt_at");
        self.transaction(vec![
            query(&format!(
                "MATCH (x:{label}) WHERE x.status = 'pending' AND x.next_attempt_at <= $now
                 WITH x ORDER BY x.next_attempt_at, x.id LIMIT $limit
                 SET x.locked = $now
                 WITH x WHERE x.status = 'pending' AND x.next_attempt_at <= $now
                 WITH x, x.next_attempt_at AS due_at
                 SET x.next_attempt_at = $claimed
                 RETURN {columns} ORDER BY due_at, x.id"
            ))
            .param("now", now)
            .param("claimed", now + claim_ms)
            .param("limit", limit(n)),
        ])
        .await
    }
}

/// The `t` of a `min(…) AS t` row: none when nothing matched (null).
fn oldest(rows: &[Row]) -> StoreResult<Option<Millis>> {
    match rows.first() {
        Some(r) => r.get::<Option<i64>>("t").map_err(corrupt),
        None => Ok(None),
    }
}

/// Counts per status, every status listed (zero when none), in `all`'s order.
fn status_counts<S: Copy>(rows: &[Row], all: &[S], name: fn(S) -> &'static str) -> StoreResult<Vec<(S, u64)>> {
    let mut found = std::collections::HashMap::new();
    for r in rows {
        let status: String = r.get("status").map_err(corrupt)?;
        let n: i64 = r.get("n").map_err(corrupt)?;
        found.insert(status, n.max(0) as u64);
    }
    Ok(all.iter().map(|s| (*s, found.get(name(*s)).copied().unwrap_or(0))).collect())
}

/// Most deliveries stored in one transaction.
const MOST_ACCEPTED_AT_ONCE: usize = 256;

/// Deliveries waiting to be stored, each with where its answer goes, and
/// whether a task is storing them (there is at most one per handle).
#[derive(Default)]
pub(crate) struct AcceptQueue {
    waiting: Mutex<Vec<(NewDelivery, oneshot::Sender<StoreResult<Accepted>>)>>,
    storing: AtomicBool,
}

/// The key of a delivery's source and id, unique in the graph.
fn delivery_key(d: &NewDelivery) -> String {
    format!("{}\n{}", d.source, d.delivery_id)
}

impl Neo4jGraph {
    /// Stores what waits, a batch at a time, until nothing does. Runs as its
    /// own task, so a caller that stops waiting does not stop the others'
    /// transaction.
    async fn store_accepted(self) {
        loop {
            let batch: Vec<_> = {
                let mut waiting = self.accepts.waiting.lock().unwrap_or_else(|e| e.into_inner());
                let n = waiting.len().min(MOST_ACCEPTED_AT_ONCE);
                waiting.drain(..n).collect()
            };
            if batch.is_empty() {
                self.accepts.storing.store(false, Ordering::Release);
                // A delivery that came after the batch was taken and saw this
                // task still storing is taken now, unless a new task has it.
                let more = !self.accepts.waiting.lock().unwrap_or_else(|e| e.into_inner()).is_empty();
                if more && !self.accepts.storing.swap(true, Ordering::AcqRel) {
                    continue;
                }
                return;
            }
            let (deliveries, answers): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
            for (accepted, answer) in self.accept_batch(&deliveries).await.into_iter().zip(answers) {
                let _ = answer.send(accepted);
            }
        }
    }

    /// Stores deliveries in one transaction, each answered as `accept` would
    /// one after another (the second of two with the same key is a
    /// duplicate of the first).
    async fn accept_batch(&self, deliveries: &[NewDelivery]) -> Vec<StoreResult<Accepted>> {
        if let [d] = deliveries {
            return vec![self.accept_one(d).await];
        }
        let keys: Vec<String> = deliveries.iter().map(delivery_key).collect();
        let mut first = HashMap::new();
        let mut rows = Vec::new();
        for (i, (d, key)) in deliveries.iter().zip(&keys).enumerate() {
            if first.insert(key.as_str(), i).is_none() {
                rows.push(map([
                    ("id", new_id().into()),
                    ("dkey", key.as_str().into()),
                    ("source", d.source.as_str().into()),
                    ("delivery_id", d.delivery_id.as_str().into()),
                    ("event", d.event.as_str().into()),
                    ("received_at", d.received_at.into()),
                    ("body", B64.encode(&d.body).into()),
                ]));
            }
        }
        let created = self
            .transaction_once(vec![
                query(
                    "UNWIND $rows AS r
                     OPTIONAL MATCH (e:Delivery {dkey: r.dkey}) WITH r, e WHERE e IS NULL
                     CREATE (x:Delivery {id: r.id, dkey: r.dkey, source: r.source, delivery_id: r.delivery_id,
                        event: r.event, received_at: r.received_at, body: r.body, status: 'pending', attempts: 0,
                        next_attempt_at: r.received_at})
                     RETURN x.dkey AS dkey, x.id AS id",
                )
                .param("rows", rows),
            ])
            .await;
        let created = match created {
            Ok(rows) => rows,
            // An id taken by another process, or a delivery another process
            // stored meanwhile: each is stored alone, which handles both.
            Err(e) if clashed(&e) => {
                let mut answers = Vec::with_capacity(deliveries.len());
                for d in deliveries {
                    answers.push(self.accept_one(d).await);
                }
                return answers;
            }
            Err(e) => return deliveries.iter().map(|_| Err(e.clone())).collect(),
        };
        match self.batch_answers(&keys, &first, &created).await {
            Ok(answers) => answers,
            Err(e) => deliveries.iter().map(|_| Err(e.clone())).collect(),
        }
    }

    /// Each delivery's answer after a batch: new when this batch created
    /// its record (and it was the first with its key), a duplicate of the
    /// record found otherwise.
    async fn batch_answers(
        &self,
        keys: &[String],
        first: &HashMap<&str, usize>,
        created: &[Row],
    ) -> StoreResult<Vec<StoreResult<Accepted>>> {
        let mut ids = HashMap::new();
        for r in created {
            ids.insert(r.get::<String>("dkey").map_err(corrupt)?, (r.get::<i64>("id").map_err(corrupt)?, true));
        }
        let missing: Vec<&str> = first.keys().copied().filter(|k| !ids.contains_key(*k)).collect();
        if !missing.is_empty() {
            let found = self
                .rows(
                    query("UNWIND $keys AS k MATCH (x:Delivery {dkey: k}) RETURN x.dkey AS dkey, x.id AS id")
                        .param("keys", missing),
                )
                .await?;
            for r in &found {
                ids.insert(r.get::<String>("dkey").map_err(corrupt)?, (r.get::<i64>("id").map_err(corrupt)?, false));
            }
        }
        Ok(keys
            .iter()
            .enumerate()
            .map(|(i, key)| match ids.get(key) {
                Some(&(id, true)) if first[key.as_str()] == i => Ok(Accepted::New(id)),
                Some(&(id, _)) => Ok(Accepted::Duplicate(id)),
                None => Err(corrupt("a duplicate delivery vanished")),
            })
            .collect())
    }

    /// Stores one delivery in a transaction of its own, or finds it.
    async fn accept_one(&self, d: &NewDelivery) -> StoreResult<Accepted> {
        let dkey = delivery_key(d);
        let body = B64.encode(&d.body);
        let created = self
            .create_with_fresh_id(|id| {
                query(
                    "OPTIONAL MATCH (e:Delivery {dkey: $dkey}) WITH e WHERE e IS NULL
                     CREATE (x:Delivery {id: $id, dkey: $dkey, source: $source, delivery_id: $delivery_id,
                        event: $event, received_at: $received_at, body: $body, status: 'pending', attempts: 0,
                        next_attempt_at: $received_at})
                     RETURN x.id AS id",
                )
                .param("id", id)
                .param("dkey", dkey.as_str())
                .param("source", d.source.as_str())
                .param("delivery_id", d.delivery_id.as_str())
                .param("event", d.event.as_str())
                .param("received_at", d.received_at)
                .param("body", body.as_str())
            })
            .await?;
        if let Some(r) = created.first() {
            return Ok(Accepted::New(r.get("id").map_err(corrupt)?));
        }
        let rows = self.rows(query("MATCH (x:Delivery {dkey: $dkey}) RETURN x.id AS id").param("dkey", dkey)).await?;
        let r = rows.first().ok_or_else(|| corrupt("a duplicate delivery vanished"))?;
        Ok(Accepted::Duplicate(r.get("id").map_err(corrupt)?))
    }
}

#[async_trait]
impl Inbox for Neo4jGraph {
    async fn accept(&self, d: &NewDelivery) -> StoreResult<Accepted> {
        let (answer, answered) = oneshot::channel();
        self.accepts.waiting.lock().unwrap_or_else(|e| e.into_inner()).push((d.clone(), answer));
        if !self.accepts.storing.swap(true, Ordering::AcqRel) {
            tokio::spawn(self.clone().store_accepted());
        }
        match answered.await {
            Ok(accepted) => accepted,
            // The storing task ended without an answer (its runtime is
            // shutting down): this delivery is stored alone, or found.
            Err(_) => self.accept_one(d).await,
        }
    }

    async fn due(&self, now: Millis, n: usize) -> StoreResult<Vec<Delivery>> {
        self.claim_due("Delivery", DELIVERY, now, inbox::CLAIM_MS, n).await?.iter().map(delivery).collect()
    }

    async fn release(&self, ids: &[i64], now: Millis) -> StoreResult<()> {
        self.run(
            query("MATCH (x:Delivery) WHERE x.id IN $ids AND x.status = 'pending' SET x.next_attempt_at = $now")
                .param("ids", ids.to_vec())
                .param("now", now),
        )
        .await
    }

    async fn finish(&self, id: i64, o: &Outcome) -> StoreResult<()> {
        self.run(
            query(
                "MATCH (x:Delivery {id: $id})
                 SET x.status = $status, x.attempts = $attempts, x.last_error = $error,
                     x.next_attempt_at = $next, x.finished_at = $finished, x.summary = $summary",
            )
            .param("id", id)
            .param("status", o.status.as_str())
            .param("attempts", i64::from(o.attempts))
            .param("error", o.error.clone())
            .param("next", o.next_attempt_at)
            .param("finished", o.finished_at)
            .param("summary", o.summary.clone()),
        )
        .await
    }

    async fn list_deliveries(&self, status: Option<DeliveryStatus>, n: usize) -> StoreResult<Vec<Delivery>> {
        let q = match status {
            Some(s) => query(&format!(
                "MATCH (x:Delivery {{status: $status}}) RETURN {DELIVERY} ORDER BY x.id DESC LIMIT $limit"
            ))
            .param("status", s.as_str()),
            None => query(&format!("MATCH (x:Delivery) RETURN {DELIVERY} ORDER BY x.id DESC LIMIT $limit")),
        };
        self.rows(q.param("limit", limit(n))).await?.iter().map(delivery).collect()
    }

    async fn get_delivery(&self, id: i64) -> StoreResult<Option<Delivery>> {
        let rows =
            self.rows(query(&format!("MATCH (x:Delivery {{id: $id}}) RETURN {DELIVERY}")).param("id", id)).await?;
        rows.first().map(delivery).transpose()
    }

    async fn replay(&self, id: i64, now: Millis) -> StoreResult<bool> {
        let rows = self
            .transaction(vec![
                query(
                    "MATCH (x:Delivery {id: $id}) SET x.locked = $now
                     WITH x WHERE x.status IN ['dead', 'unmapped']
                     SET x.status = 'pending', x.attempts = 0, x.next_attempt_at = $now, x.finished_at = null
                     RETURN x.id AS id",
                )
                .param("id", id)
                .param("now", now),
            ])
            .await?;
        Ok(!rows.is_empty())
    }

    async fn oldest_pending_delivery(&self) -> StoreResult<Option<Millis>> {
        let q = query("MATCH (x:Delivery {status: 'pending'}) RETURN min(x.received_at) AS t");
        oldest(&self.rows(q).await?)
    }

    async fn inbox_counts(&self) -> StoreResult<Vec<(DeliveryStatus, u64)>> {
        let rows = self.rows(query("MATCH (x:Delivery) RETURN x.status AS status, count(x) AS n")).await?;
        status_counts(&rows, &DeliveryStatus::ALL, DeliveryStatus::as_str)
    }

    async fn prune_deliveries(&self, before: Millis) -> StoreResult<u64> {
        let mut pruned = 0;
        loop {
            let rows = self
                .rows(
                    query(
                        "MATCH (x:Delivery) WHERE x.status IN ['done', 'unmapped'] AND x.finished_at < $before
                         WITH x LIMIT $slice DELETE x RETURN count(*) AS n",
                    )
                    .param("before", before)
                    .param("slice", inbox::PRUNE_SLICE as i64),
                )
                .await?;
            let n = count(&rows)?;
            pruned += n;
            if n < inbox::PRUNE_SLICE as u64 {
                return Ok(pruned);
            }
        }
    }
}

#[async_trait]
impl Outbox for Neo4jGraph {
    async fn enqueue(&self, m: &NewMessage) -> StoreResult<bool> {
        // A clash on the key means another process stored this very message:
        // the next try finds it and reports it was there.
        let created = self
            .create_with_fresh_id(|id| {
                query(
                    "OPTIONAL MATCH (e:OutMessage {key: $key}) WITH e WHERE e IS NULL
                     CREATE (x:OutMessage {id: $id, key: $key, platform: $platform, channel: $channel,
                        reply_to: $reply_to, edit: $edit, body: $body, created_at: $created_at, status: 'pending',
                        attempts: 0, next_attempt_at: $due})
                     RETURN x.id AS id",
                )
                .param("id", id)
                .param("key", m.key.as_str())
                .param("platform", m.platform.as_str())
                .param("channel", m.channel.as_str())
                .param("reply_to", m.reply_to.clone())
                .param("edit", m.edit)
                .param("body", m.body.as_str())
                .param("created_at", m.created_at)
                .param("due", m.not_before.unwrap_or(m.created_at))
            })
            .await?;
        Ok(!created.is_empty())
    }

    async fn due_messages(&self, now: Millis, n: usize) -> StoreResult<Vec<OutMessage>> {
        self.claim_due("OutMessage", MESSAGE, now, outbox::CLAIM_MS, n).await?.iter().map(message).collect()
    }

    async fn record_attempt(&self, id: i64, a: &Attempt) -> StoreResult<()> {
        self.run(
            query(
                "MATCH (x:OutMessage {id: $id})
                 SET x.status = $status, x.attempts = $attempts, x.last_error = $error,
                     x.next_attempt_at = $next, x.sent_at = $sent_at, x.remote_id = $remote_id",
            )
            .param("id", id)
            .param("status", a.status.as_str())
            .param("attempts", i64::from(a.attempts))
            .param("error", a.error.clone())
            .param("next", a.next_attempt_at)
            .param("sent_at", a.sent_at)
            .param("remote_id", a.remote_id.clone()),
        )
        .await
    }

    async fn get_message(&self, key: &str) -> StoreResult<Option<OutMessage>> {
        let rows =
            self.rows(query(&format!("MATCH (x:OutMessage {{key: $key}}) RETURN {MESSAGE}")).param("key", key)).await?;
        rows.first().map(message).transpose()
    }

    async fn message(&self, id: i64) -> StoreResult<Option<OutMessage>> {
        let rows =
            self.rows(query(&format!("MATCH (x:OutMessage {{id: $id}}) RETURN {MESSAGE}")).param("id", id)).await?;
        rows.first().map(message).transpose()
    }

    async fn list_messages(&self, status: Option<MessageStatus>, n: usize) -> StoreResult<Vec<OutMessage>> {
        let q = match status {
            Some(s) => query(&format!(
                "MATCH (x:OutMessage {{status: $status}}) RETURN {MESSAGE} ORDER BY x.id DESC LIMIT $limit"
            ))
            .param("status", s.as_str()),
            None => query(&format!("MATCH (x:OutMessage) RETURN {MESSAGE} ORDER BY x.id DESC LIMIT $limit")),
        };
        self.rows(q.param("limit", limit(n))).await?.iter().map(message).collect()
    }

    async fn release_messages(&self, ids: &[i64], now: Millis) -> StoreResult<()> {
        self.run(
            query("MATCH (x:OutMessage) WHERE x.id IN $ids AND x.status = 'pending' SET x.next_attempt_at = $now")
                .param("ids", ids.to_vec())
                .param("now", now),
        )
        .await
    }

    async fn oldest_pending_message(&self) -> StoreResult<Option<Millis>> {
        let q = query("MATCH (x:OutMessage {status: 'pending'}) RETURN min(x.created_at) AS t");
        oldest(&self.rows(q).await?)
    }

    async fn outbox_counts(&self) -> StoreResult<Vec<(MessageStatus, u64)>> {
        let rows = self.rows(query("MATCH (x:OutMessage) RETURN x.status AS status, count(x) AS n")).await?;
        status_counts(&rows, &MessageStatus::ALL, MessageStatus::as_str)
    }

    async fn retry_message(&self, id: i64, now: Millis) -> StoreResult<bool> {
        let rows = self
            .transaction(vec![
                query(
                    "MATCH (x:OutMessage {id: $id}) SET x.locked = $now
                     WITH x WHERE x.status = 'dead'
                     SET x.status = 'pending', x.attempts = 0, x.next_attempt_at = $now
                     RETURN x.id AS id",
                )
                .param("id", id)
                .param("now", now),
            ])
            .await?;
        Ok(!rows.is_empty())
    }
}
