//! OpenTelemetry traces over OTLP/HTTP (protobuf), when `[traces] endpoint`
//! or the standard `OTEL_EXPORTER_OTLP_*ENDPOINT` variables name a collector:
//! a span per request and per operation, child spans for store and outside
//! calls, the caller's `traceparent` joined. Off otherwise, at no cost.

use std::sync::Mutex;

use anyhow::Context as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use switchboard_core::config::TracesConfig;

/// The provider exporting this process's spans; shut down (its last batch
/// sent) by [`flush`].
static PROVIDER: Mutex<Option<SdkTracerProvider>> = Mutex::new(None);

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Whether spans are exported: an endpoint in the config or the environment.
pub fn wanted(config: &TracesConfig) -> bool {
    config.endpoint.is_some()
        || env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_some()
        || env("OTEL_EXPORTER_OTLP_ENDPOINT").is_some()
}

/// The share of new traces kept: `OTEL_TRACES_SAMPLER_ARG` when set, else the config's.
fn ratio(config: &TracesConfig) -> anyhow::Result<f64> {
    match env("OTEL_TRACES_SAMPLER_ARG") {
        Some(v) => v
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|r| (0.0..=1.0).contains(r))
            .with_context(|| format!("OTEL_TRACES_SAMPLER_ARG={v:?} is not a ratio between 0.0 and 1.0")),
        None => Ok(config.sample_ratio),
    }
}

/// The tracing layer that turns spans into OpenTelemetry spans and exports
/// them in batches from a thread of its own; `None` when traces are off.
pub fn layer<S>(config: &TracesConfig) -> anyhow::Result<Option<impl tracing_subscriber::Layer<S> + use<S>>>
where
    S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
{
    if !wanted(config) {
        return Ok(None);
    }
    let mut exporter =
        opentelemetry_otlp::SpanExporter::builder().with_http().with_protocol(opentelemetry_otlp::Protocol::HttpBinary);
    if let Some(endpoint) = &config.endpoint {
        exporter = exporter.with_endpoint(format!("{}/v1/traces", endpoint.trim_end_matches('/')));
    }
    if !config.headers.is_empty() {
        exporter = exporter.with_headers(config.headers.clone().into_iter().collect());
    }
    let exporter = exporter.build().context("cannot make the OTLP span exporter")?;
    let mut resource = opentelemetry_sdk::Resource::builder();
    if env("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name(config.service_name.clone());
    }
    let sampler = Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(ratio(config)?)));
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_sampler(sampler)
        .with_resource(resource.build())
        .build();
    let tracer = provider.tracer("switchboard");
    opentelemetry::global::set_text_map_propagator(opentelemetry_sdk::propagation::TraceContextPropagator::new());
    *PROVIDER.lock().unwrap_or_else(|e| e.into_inner()) = Some(provider);
    switchboard_core::traces::turn_on();
    Ok(Some(tracing_opentelemetry::layer().with_tracer(tracer)))
}

/// Sends the spans still batched and stops the exporter.
pub fn flush() {
    if let Some(provider) = PROVIDER.lock().unwrap_or_else(|e| e.into_inner()).take()
        && let Err(e) = provider.shutdown()
    {
        eprintln!("warning: the last spans were not sent: {e}");
    }
}
