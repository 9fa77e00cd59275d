//! `[traces]`: OpenTelemetry traces over OTLP/HTTP (docs/production.md).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Where spans go, and how many. Off unless an endpoint is set here or in
/// the standard `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` / `OTEL_EXPORTER_OTLP_ENDPOINT`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TracesConfig {
    /// The collector's OTLP/HTTP address (`http://collector:4318`); spans
    /// are POSTed as protobuf to `/v1/traces` under it. Default: unset.
    pub endpoint: Option<String>,
    /// Headers sent with every export (an API key). Also
    /// `OTEL_EXPORTER_OTLP_HEADERS`. Default: none.
    pub headers: BTreeMap<String, String>,
    /// Share of new traces kept, 0.0 to 1.0; a request whose `traceparent`
    /// says sampled is always kept, one that says not is never. Also
    /// `OTEL_TRACES_SAMPLER_ARG`. Default: `1.0`.
    pub sample_ratio: f64,
    /// `service.name` on every span. Also `OTEL_SERVICE_NAME`. Default: `switchboard`.
    pub service_name: String,
}

impl Default for TracesConfig {
    fn default() -> Self {
        Self { endpoint: None, headers: BTreeMap::new(), sample_ratio: 1.0, service_name: "switchboard".into() }
    }
}

impl TracesConfig {
    pub(super) fn validate(&self) -> Result<(), (String, String)> {
        if !(0.0..=1.0).contains(&self.sample_ratio) {
            return Err(("traces.sample_ratio".into(), format!("{} is not between 0.0 and 1.0", self.sample_ratio)));
        }
        if let Some(e) = &self.endpoint
            && !(e.starts_with("http://") || e.starts_with("https://"))
        {
            return Err((
                "traces.endpoint".into(),
                format!("{e:?} is not an http(s) address; try \"http://127.0.0.1:4318\""),
            ));
        }
        if self.service_name.trim().is_empty() {
            return Err(("traces.service_name".into(), "is empty".into()));
        }
        Ok(())
    }
}
