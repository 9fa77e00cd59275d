//! `[metrics]`: Prometheus metrics (`/metrics`, docs/production.md).

use serde::{Deserialize, Serialize};

/// Where Prometheus reads this process's metrics.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Serve `/metrics` at all. Default: `true`.
    pub enabled: bool,
    /// `ADDR:PORT` to serve `/metrics` on a listener of its own (e.g.
    /// `0.0.0.0:9464` for a scraper in the cluster); the main listener then
    /// does not answer it. Default: unset — `/metrics` on the main
    /// listener, answered only to clients on this machine (loopback).
    pub listen: Option<String>,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self { enabled: true, listen: None }
    }
}

impl MetricsConfig {
    pub(super) fn validate(&self) -> Result<(), (String, String)> {
        if let Some(listen) = &self.listen
            && listen.parse::<std::net::SocketAddr>().is_err()
        {
            return Err((
                "metrics.listen".into(),
                format!("{listen:?} is not ADDR:PORT; try \"127.0.0.1:9464\" or \"0.0.0.0:9464\""),
            ));
        }
        Ok(())
    }
}
