//! What `check_logs` says about a window of lines, without a model: counts
//! by level per time bucket, error signatures with which are new against the
//! baseline (the lines before the window), and buckets whose errors spike
//! over the baseline's rate.

use std::collections::{BTreeMap, HashMap};

use schemars::JsonSchema;
use serde::Serialize;

use super::signature::template;
use super::{Counted, Level, LogLine};
use crate::model::Millis;

/// One time bucket's counts by level.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct Bucket {
    pub start: Millis,
    pub counts: BTreeMap<Level, u64>,
}

/// A group of error lines with one template.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct Signature {
    pub template: String,
    /// The highest level among its lines.
    pub level: Level,
    pub count: u64,
    pub first_seen: Millis,
    pub last_seen: Millis,
    /// One line as it was written (the newest).
    pub sample: String,
    /// Not seen in the baseline window before.
    pub new: bool,
    /// How many times it was seen in the baseline window.
    pub baseline_count: u64,
}

/// Consecutive buckets whose errors ran well over the baseline's rate.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct Spike {
    pub start: Millis,
    pub end: Millis,
    /// Errors in those buckets.
    pub errors: u64,
    /// The most in one bucket.
    pub peak: u64,
    /// Errors a bucket had on average in the baseline.
    pub baseline: f64,
}

/// How the analysis is tuned (`[logs]`).
#[derive(Clone, Copy, Debug)]
pub struct Tuning {
    pub buckets: usize,
    /// A bucket spikes at this many times the baseline's errors per bucket …
    pub spike_factor: f64,
    /// … and at least this many errors.
    pub spike_min: u64,
    /// At most this many signatures are reported (the most frequent, new first).
    pub signatures: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct Analysis {
    pub bucket_ms: Millis,
    pub buckets: Vec<Bucket>,
    pub counts: BTreeMap<Level, u64>,
    pub signatures: Vec<Signature>,
    /// Signatures beyond the reported ones.
    pub more_signatures: usize,
    pub spikes: Vec<Spike>,
}

/// The width of each of `buckets` equal parts of `[since, until)`.
pub fn bucket_ms(since: Millis, until: Millis, buckets: usize) -> Millis {
    let n = buckets.max(1) as i64;
    ((until - since).max(1) + n - 1) / n
}

/// Analyses `lines` of the window `[since, until)` against `baseline` lines
/// of the `baseline_ms` before it. With `counted` (the window's lines
/// counted by the source, [`super::LogSource::count`]) the counts and spikes
/// come from it and `lines` — then the error lines only — give the
/// signatures; without, `lines` are counted here.
pub fn analyse(
    counted: Option<&[Counted]>,
    lines: &[LogLine],
    baseline: &[LogLine],
    since: Millis,
    until: Millis,
    baseline_ms: Millis,
    t: Tuning,
) -> Analysis {
    let n = t.buckets.max(1);
    let bucket_ms = bucket_ms(since, until, n);
    let mut buckets: Vec<Bucket> =
        (0..n).map(|k| Bucket { start: since + k as i64 * bucket_ms, counts: BTreeMap::new() }).collect();
    let mut counts: BTreeMap<Level, u64> = BTreeMap::new();
    let mut add = |bucket: i64, level: Level, lines: u64| {
        *counts.entry(level).or_default() += lines;
        *buckets[bucket.clamp(0, n as i64 - 1) as usize].counts.entry(level).or_default() += lines;
    };
    match counted {
        Some(counted) => counted.iter().for_each(|c| add(c.bucket, c.level, c.lines)),
        None => lines.iter().for_each(|l| add((l.ts - since) / bucket_ms, l.level, 1)),
    }
    let mut groups: HashMap<String, Signature> = HashMap::new();
    for l in lines {
        if !l.level.is_error() {
            continue;
        }
        let g = groups.entry(template(&l.message)).or_insert_with_key(|k| Signature {
            template: k.clone(),
            level: l.level,
            count: 0,
            first_seen: l.ts,
            last_seen: l.ts,
            sample: String::new(),
            new: true,
            baseline_count: 0,
        });
        g.count += 1;
        g.level = g.level.max(l.level);
        g.first_seen = g.first_seen.min(l.ts);
        if l.ts >= g.last_seen || g.sample.is_empty() {
            g.last_seen = l.ts;
            g.sample = l.message.lines().next().unwrap_or_default().chars().take(500).collect();
        }
    }
    let mut baseline_errors = 0u64;
    for l in baseline.iter().filter(|l| l.level.is_error()) {
        baseline_errors += 1;
        if let Some(g) = groups.get_mut(&template(&l.message)) {
            g.new = false;
            g.baseline_count += 1;
        }
    }
    let per_bucket = if baseline_ms > 0 { baseline_errors as f64 * bucket_ms as f64 / baseline_ms as f64 } else { 0.0 };
    let mut spikes: Vec<Spike> = Vec::new();
    let mut open = false;
    for b in &buckets {
        let errors: u64 = b.counts.iter().filter(|(l, _)| l.is_error()).map(|(_, n)| n).sum();
        if !(errors >= t.spike_min && errors as f64 > t.spike_factor * per_bucket.max(0.5)) {
            open = false;
            continue;
        }
        match spikes.last_mut() {
            Some(s) if open => {
                s.end = b.start + bucket_ms;
                s.errors += errors;
                s.peak = s.peak.max(errors);
            }
            _ => spikes.push(Spike {
                start: b.start,
                end: b.start + bucket_ms,
                errors,
                peak: errors,
                baseline: (per_bucket * 100.0).round() / 100.0,
            }),
        }
        open = true;
    }
    let mut signatures: Vec<Signature> = groups.into_values().collect();
    signatures.sort_by(|a, b| b.new.cmp(&a.new).then(b.count.cmp(&a.count)).then(a.template.cmp(&b.template)));
    let more_signatures = signatures.len().saturating_sub(t.signatures);
    signatures.truncate(t.signatures);
    Analysis { bucket_ms, buckets, counts, signatures, more_signatures, spikes }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(ts: Millis, level: Level, message: &str) -> LogLine {
        LogLine { ts, level, message: message.into(), attributes: BTreeMap::new() }
    }

    #[test]
    fn a_new_signature_and_a_spike_after_a_quiet_baseline() {
        let t = Tuning { buckets: 6, spike_factor: 3.0, spike_min: 5, signatures: 10 };
        let hour = 3_600_000;
        // Baseline: an hour with a known, steady error every ten minutes.
        let baseline: Vec<LogLine> =
            (0..6).map(|k| line(k * 600_000, Level::Error, &format!("cache miss for key {k}"))).collect();
        // The window: the same steady error, then a burst of a new one in the fifth bucket.
        let mut lines: Vec<LogLine> =
            (0..6).map(|k| line(hour + k * 600_000, Level::Error, &format!("cache miss for key {}", k + 9))).collect();
        lines.extend((0..30).map(|k| {
            line(
                hour + 4 * 600_000 + k * 1000,
                Level::Error,
                &format!("TimeoutError: upstream 10.0.0.{k}:443 after {k}ms"),
            )
        }));
        lines.extend((0..100).map(|k| line(hour + k * 30_000, Level::Info, "GET /health 200")));
        lines.sort_by_key(|l| l.ts);
        let a = analyse(None, &lines, &baseline, hour, 2 * hour, hour, t);
        assert_eq!(a.bucket_ms, 600_000);
        assert_eq!(a.counts[&Level::Error], 36);
        assert_eq!(a.counts[&Level::Info], 100);
        let first = &a.signatures[0];
        assert_eq!(
            (first.template.as_str(), first.count, first.new),
            ("TimeoutError: upstream <ip> after <num>", 30, true)
        );
        let known = &a.signatures[1];
        assert_eq!((known.count, known.new, known.baseline_count), (6, false, 6));
        assert_eq!(a.spikes.len(), 1, "{:?}", a.spikes);
        assert_eq!((a.spikes[0].start, a.spikes[0].errors), (hour + 4 * 600_000, 31));
        assert_eq!(a.spikes[0].baseline, 1.0);
    }

    #[test]
    fn nothing_to_say_about_an_empty_window() {
        let t = Tuning { buckets: 4, spike_factor: 3.0, spike_min: 5, signatures: 10 };
        let a = analyse(None, &[], &[], 0, 1000, 1000, t);
        assert!(a.signatures.is_empty() && a.spikes.is_empty() && a.counts.is_empty());
        assert_eq!(a.buckets.len(), 4);
    }
}
