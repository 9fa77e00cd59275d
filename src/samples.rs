//! Latency samples as the benchmarks print them, and the store directory
//! a benchmark works in.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::json;

pub(crate) struct Samples(pub Vec<Duration>);

impl Samples {
    /// `{"samples", "p50_ms", "p99_ms", "max_ms"}`, microsecond-rounded.
    pub(crate) fn json(mut self) -> serde_json::Value {
        self.0.sort();
        let at = |q: f64| {
            let i = ((self.0.len() as f64 - 1.0) * q).round() as usize;
            self.0.get(i).map(|d| (d.as_secs_f64() * 1e6).round() / 1e3).unwrap_or(0.0)
        };
        json!({"samples": self.0.len(), "p50_ms": at(0.5), "p99_ms": at(0.99), "max_ms": at(1.0)})
    }
}

/// The directory a benchmark keeps its store in: the one given (kept), or a
/// temporary one of this process, removed when this is dropped (also when
/// the benchmark fails).
pub(crate) struct StoreDir {
    pub path: PathBuf,
    temporary: bool,
}

impl StoreDir {
    /// `given`, or `switchboard-{name}-{pid}` in the temporary directory.
    pub(crate) fn new(given: Option<&PathBuf>, name: &str) -> Self {
        match given {
            Some(d) => Self { path: d.clone(), temporary: false },
            None => Self {
                path: std::env::temp_dir().join(format!("switchboard-{name}-{}", std::process::id())),
                temporary: true,
            },
        }
    }
}

impl Drop for StoreDir {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}
