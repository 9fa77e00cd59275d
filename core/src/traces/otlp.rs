//! OTLP's protobuf (opentelemetry-proto's `trace/v1` and
//! `collector/trace/v1`), written by hand: a finished span is encoded once,
//! into the [`Batch`] the exporter sends, and never held as an object.

use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// A value of an attribute (`AnyValue`); a string is written as it is
/// formatted, never held.
pub enum Value<'a> {
    Str(&'a str),
    Debug(&'a dyn std::fmt::Debug),
    Bool(bool),
    Int(i64),
    Double(f64),
}

fn varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

fn tag(buf: &mut Vec<u8>, field: u32, wire: u8) {
    varint(buf, (u64::from(field) << 3) | u64::from(wire));
}

pub(super) fn bytes(buf: &mut Vec<u8>, field: u32, data: &[u8]) {
    tag(buf, field, 2);
    varint(buf, data.len() as u64);
    buf.extend_from_slice(data);
}

pub(super) fn uint(buf: &mut Vec<u8>, field: u32, v: u64) {
    tag(buf, field, 0);
    varint(buf, v);
}

pub(super) fn fixed64(buf: &mut Vec<u8>, field: u32, v: u64) {
    tag(buf, field, 1);
    buf.extend_from_slice(&v.to_le_bytes());
}

pub(super) fn fixed32(buf: &mut Vec<u8>, field: u32, v: u32) {
    tag(buf, field, 5);
    buf.extend_from_slice(&v.to_le_bytes());
}

/// A message field whose length is known once `body` has written it.
pub(super) fn message(buf: &mut Vec<u8>, field: u32, body: impl FnOnce(&mut Vec<u8>)) {
    tag(buf, field, 2);
    let start = buf.len();
    body(buf);
    let len = buf.len() - start;
    let mut prefix = Vec::with_capacity(4);
    varint(&mut prefix, len as u64);
    buf.splice(start..start, prefix);
}

/// A `KeyValue` in field `field` of the message being written.
pub(super) fn attribute(buf: &mut Vec<u8>, field: u32, key: &str, value: &Value<'_>) {
    message(buf, field, |kv| {
        bytes(kv, 1, key.as_bytes());
        message(kv, 2, |any| match value {
            Value::Str(s) => bytes(any, 1, s.as_bytes()),
            Value::Debug(d) => message(any, 1, |s| {
                use std::io::Write;
                // Writing to a Vec cannot fail; a Debug impl that errs leaves what it wrote.
                let _ = write!(s, "{d:?}");
            }),
            Value::Bool(b) => uint(any, 2, u64::from(*b)),
            Value::Int(i) => uint(any, 3, *i as u64),
            Value::Double(d) => fixed64(any, 4, d.to_bits()),
        });
    });
}

/// Attributes already encoded as `KeyValue` fields, one value a key (a
/// key set again replaces its value).
pub(super) struct Attributes {
    field: u32,
    pub(super) bytes: Vec<u8>,
    /// Each key and where its `KeyValue` starts in `bytes`.
    keys: Vec<(&'static str, usize)>,
}

impl Attributes {
    /// Attributes for field `field` of a span (9) or an event (3).
    pub(super) fn new(field: u32, capacity: usize) -> Self {
        Self { field, bytes: Vec::with_capacity(capacity * 32), keys: Vec::with_capacity(capacity) }
    }

    pub(super) fn put(&mut self, key: &'static str, value: &Value<'_>) {
        if let Some(i) = self.keys.iter().position(|(k, _)| *k == key) {
            let start = self.keys[i].1;
            let end = self.keys.get(i + 1).map_or(self.bytes.len(), |k| k.1);
            self.bytes.drain(start..end);
            self.keys.remove(i);
            for k in &mut self.keys[i..] {
                k.1 -= end - start;
            }
        }
        self.keys.push((key, self.bytes.len()));
        attribute(&mut self.bytes, self.field, key, value);
    }
}

/// Spans waiting for the exporter, each already encoded as a `ScopeSpans.spans` field.
struct Pending {
    bytes: Vec<u8>,
    spans: usize,
    dropped: u64,
    closed: bool,
}

/// The queue between the spans and the exporter's thread: bounded (spans
/// past `max_spans` are dropped and counted, never waited for), taken whole
/// by the exporter every `delay` or as soon as `batch` spans wait.
pub struct Batch {
    pending: Mutex<Pending>,
    ready: Condvar,
    max_spans: usize,
    batch: usize,
    delay: Duration,
    /// The size of the last take: the next buffer is made that large by
    /// the exporter, outside the lock, so spans pushed meanwhile do not
    /// grow it a doubling at a time while they hold the lock.
    last_bytes: std::sync::atomic::AtomicUsize,
}

/// What the exporter took: the spans' bytes, how many, and how many were
/// dropped since the last take because the queue was full.
pub struct Taken {
    pub spans: Vec<u8>,
    pub count: usize,
    pub dropped: u64,
    /// The batch was closed: this is the last take.
    pub last: bool,
}

impl Batch {
    pub fn new(max_spans: usize, batch: usize, delay: Duration) -> Self {
        Self {
            pending: Mutex::new(Pending { bytes: Vec::new(), spans: 0, dropped: 0, closed: false }),
            ready: Condvar::new(),
            max_spans: max_spans.max(1),
            batch: batch.clamp(1, max_spans.max(1)),
            delay,
            last_bytes: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds one encoded span (a `ScopeSpans.spans` field).
    pub(super) fn push(&self, span: &[u8]) {
        let mut p = self.lock();
        if p.closed {
            return;
        }
        if p.spans >= self.max_spans {
            p.dropped += 1;
            return;
        }
        p.bytes.extend_from_slice(span);
        p.spans += 1;
        if p.spans == self.batch {
            self.ready.notify_one();
        }
    }

    /// Waits until a batch is full, the delay has passed or the batch is
    /// closed, and takes what waits.
    pub fn take(&self) -> Taken {
        let deadline = Instant::now() + self.delay;
        let fresh = Vec::with_capacity(self.last_bytes.load(std::sync::atomic::Ordering::Relaxed));
        let mut p = self.lock();
        while p.spans < self.batch && !p.closed {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            p = self.ready.wait_timeout(p, deadline - now).unwrap_or_else(|e| e.into_inner()).0;
        }
        let taken = Taken {
            spans: std::mem::replace(&mut p.bytes, fresh),
            count: std::mem::take(&mut p.spans),
            dropped: std::mem::take(&mut p.dropped),
            last: p.closed,
        };
        drop(p);
        self.last_bytes.store(taken.spans.len(), std::sync::atomic::Ordering::Relaxed);
        taken
    }

    /// No more spans are taken in; the exporter's next take is its last.
    pub fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_all();
    }
}

/// Who sends the spans: the `Resource` and the `InstrumentationScope`.
pub struct Sender {
    resource: Vec<u8>,
    scope: Vec<u8>,
}

impl Sender {
    /// `attributes` are the resource's (`service.name` among them).
    pub fn new(attributes: &[(String, String)]) -> Self {
        let mut resource = Vec::new();
        for (k, v) in attributes {
            attribute(&mut resource, 1, k, &Value::Str(v));
        }
        let mut scope = Vec::new();
        bytes(&mut scope, 1, b"switchboard");
        bytes(&mut scope, 2, env!("CARGO_PKG_VERSION").as_bytes());
        Self { resource, scope }
    }

    /// An `ExportTraceServiceRequest` of encoded spans, as POSTed to `/v1/traces`.
    pub fn request(&self, spans: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(spans.len() + self.resource.len() + self.scope.len() + 32);
        message(&mut out, 1, |rs| {
            bytes(rs, 1, &self.resource);
            message(rs, 2, |ss| {
                bytes(ss, 1, &self.scope);
                ss.extend_from_slice(spans);
            });
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_and_prefixed_lengths_are_protobuf_s() {
        let mut buf = Vec::new();
        varint(&mut buf, 300);
        assert_eq!(buf, [0xac, 0x02]);
        let mut buf = Vec::new();
        message(&mut buf, 2, |b| b.extend_from_slice(&[7; 200]));
        assert_eq!(&buf[..3], &[0x12, 0xc8, 0x01], "tag, then 200 as a varint");
        assert_eq!(buf.len(), 203);
        let mut neg = Vec::new();
        uint(&mut neg, 3, -1i64 as u64);
        assert_eq!(neg.len(), 11, "a negative int64 takes ten bytes");
    }

    #[test]
    fn a_key_set_again_replaces_its_value() {
        let mut attributes = Attributes::new(9, 2);
        attributes.put("a", &Value::Str("first"));
        attributes.put("b", &Value::Int(2));
        attributes.put("a", &Value::Debug(&"second"));
        let mut expected = Vec::new();
        attribute(&mut expected, 9, "b", &Value::Int(2));
        attribute(&mut expected, 9, "a", &Value::Str("\"second\""));
        assert_eq!(attributes.bytes, expected);
    }

    #[test]
    fn a_full_queue_drops_and_counts_and_a_closed_one_says_last() {
        let batch = Batch::new(2, 2, Duration::from_millis(1));
        for _ in 0..5 {
            batch.push(&[1, 2]);
        }
        let taken = batch.take();
        assert_eq!((taken.count, taken.dropped, taken.spans.len(), taken.last), (2, 3, 4, false));
        batch.push(&[1]);
        batch.close();
        batch.push(&[2]);
        let taken = batch.take();
        assert_eq!((taken.count, taken.dropped, taken.spans, taken.last), (1, 0, vec![1], true));
    }
}
