//! OpenTelemetry traces over OTLP/HTTP (protobuf), when `[traces] endpoint`
//! or the standard `OTEL_EXPORTER_OTLP_*ENDPOINT` variables name a collector:
//! a span per request and per operation, child spans for store and outside
//! calls, the caller's `traceparent` joined (core/src/traces). Batches go
//! out from a thread of their own. Off otherwise, at no cost.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use switchboard_core::config::TracesConfig;
use switchboard_core::traces::otlp::{Batch, Sender};

/// The running exporter, stopped (its last batch sent) by [`flush`].
static EXPORTER: Mutex<Option<(Arc<Batch>, std::thread::JoinHandle<()>)>> = Mutex::new(None);

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Whether spans are exported: an endpoint in the config or the environment.
pub fn wanted(config: &TracesConfig) -> bool {
    config.endpoint.is_some()
        || env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_some()
        || env("OTEL_EXPORTER_OTLP_ENDPOINT").is_some()
}

/// A number from an `OTEL_*` variable, or `default` when it is unset.
fn number<T: std::str::FromStr>(name: &str, default: T, what: &str) -> anyhow::Result<T> {
    match env(name) {
        Some(v) => v.trim().parse().ok().with_context(|| format!("{name}={v:?} is not {what}")),
        None => Ok(default),
    }
}

/// Where and how spans are sent, from the config and the standard variables.
struct Settings {
    url: String,
    headers: Vec<(String, String)>,
    ratio: f64,
    resource: Vec<(String, String)>,
    delay: Duration,
    max_queue: usize,
    batch: usize,
    timeout: Duration,
}

/// `k1=v1,k2=v2` with percent-encoded values, as `OTEL_EXPORTER_OTLP_HEADERS`
/// and `OTEL_RESOURCE_ATTRIBUTES` are written.
fn pairs(name: &str) -> anyhow::Result<Vec<(String, String)>> {
    let Some(v) = env(name) else {
        return Ok(Vec::new());
    };
    v.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').with_context(|| format!("{name}: {p:?} is not key=value"))?;
            let v = unpercent(v.trim())
                .with_context(|| format!("{name}: the value of {k:?} is not percent-encoded UTF-8"))?;
            Ok((k.trim().to_owned(), v))
        })
        .collect()
}

fn unpercent(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        out.push(match b {
            b'%' => {
                let hex = [bytes.next()?, bytes.next()?];
                u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?
            }
            b => b,
        });
    }
    String::from_utf8(out).ok()
}

impl Settings {
    fn read(config: &TracesConfig) -> anyhow::Result<Self> {
        // As OpenTelemetry's SDKs: the program's endpoint, else the traces
        // variable as it is, else the general one with the signal's path.
        let url = match (&config.endpoint, env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")) {
            (Some(e), _) => format!("{}/v1/traces", e.trim_end_matches('/')),
            (None, Some(e)) => e.trim().to_owned(),
            (None, None) => {
                let e = env("OTEL_EXPORTER_OTLP_ENDPOINT").context("no OTLP endpoint")?;
                format!("{}/v1/traces", e.trim().trim_end_matches('/'))
            }
        };
        reqwest::Url::parse(&url).with_context(|| format!("the OTLP endpoint {url:?} is not a URL"))?;
        let mut headers = pairs("OTEL_EXPORTER_OTLP_HEADERS")?;
        headers.extend(pairs("OTEL_EXPORTER_OTLP_TRACES_HEADERS")?);
        headers.extend(config.headers.iter().map(|(k, v)| (k.clone(), v.clone())));
        let ratio = match env("OTEL_TRACES_SAMPLER_ARG") {
            Some(v) => v
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|r| (0.0..=1.0).contains(r))
                .with_context(|| format!("OTEL_TRACES_SAMPLER_ARG={v:?} is not a ratio between 0.0 and 1.0"))?,
            None => config.sample_ratio,
        };
        let mut resource: Vec<(String, String)> =
            pairs("OTEL_RESOURCE_ATTRIBUTES")?.into_iter().filter(|(k, _)| k != "service.name").collect();
        let service = env("OTEL_SERVICE_NAME").unwrap_or_else(|| config.service_name.clone());
        resource.insert(0, ("service.name".into(), service));
        resource.extend([
            ("telemetry.sdk.name".into(), "switchboard".into()),
            ("telemetry.sdk.language".into(), "rust".into()),
            ("telemetry.sdk.version".into(), env!("CARGO_PKG_VERSION").into()),
        ]);
        let max_queue: usize = number("OTEL_BSP_MAX_QUEUE_SIZE", 2048, "a number of spans")?;
        let general = number("OTEL_EXPORTER_OTLP_TIMEOUT", 10_000, "milliseconds")?;
        let timeout = number("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", general, "milliseconds")?;
        Ok(Self {
            url,
            headers,
            ratio,
            resource,
            delay: Duration::from_millis(number("OTEL_BSP_SCHEDULE_DELAY", 5_000, "milliseconds")?),
            max_queue,
            batch: number("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 512, "a number of spans")?,
            timeout: Duration::from_millis(timeout),
        })
    }
}

/// The tracing layer that records spans, with the thread that exports them
/// started; `None` when traces are off.
pub fn layer(config: &TracesConfig) -> anyhow::Result<Option<switchboard_core::traces::SpanLayer>> {
    if !wanted(config) {
        return Ok(None);
    }
    let settings = Settings::read(config)?;
    let mut headers = reqwest::header::HeaderMap::new();
    for (k, v) in &settings.headers {
        let name = reqwest::header::HeaderName::from_bytes(k.as_bytes())
            .with_context(|| format!("the OTLP header name {k:?} is not valid"))?;
        let value = reqwest::header::HeaderValue::from_str(v)
            .with_context(|| format!("the OTLP header {k:?} has a value that cannot be sent"))?;
        headers.insert(name, value);
    }
    headers.insert(reqwest::header::CONTENT_TYPE, reqwest::header::HeaderValue::from_static("application/x-protobuf"));
    let client = reqwest::Client::builder()
        .default_headers(headers)
        .timeout(settings.timeout)
        .build()
        .context("cannot make the OTLP client")?;
    let batch = Arc::new(Batch::new(settings.max_queue, settings.batch, settings.delay));
    let sender = Sender::new(&settings.resource);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the span exporter's runtime")?;
    let (queue, url) = (batch.clone(), settings.url.clone());
    let thread = std::thread::Builder::new()
        .name("switchboard-traces".into())
        .spawn(move || export(&queue, &sender, &runtime, &client, &url))
        .context("cannot start the span exporter's thread")?;
    *EXPORTER.lock().unwrap_or_else(|e| e.into_inner()) = Some((batch.clone(), thread));
    switchboard_core::traces::turn_on();
    Ok(Some(switchboard_core::traces::SpanLayer::new(settings.ratio, batch)))
}

/// The exporter's loop: a batch at a time, until the batch is closed. Lost
/// spans (a full queue, a collector that fails) are reported at most once
/// a minute, with how many since the last report.
fn export(batch: &Batch, sender: &Sender, runtime: &tokio::runtime::Runtime, client: &reqwest::Client, url: &str) {
    let (mut lost, mut why) = (0u64, String::new());
    let mut reported: Option<std::time::Instant> = None;
    loop {
        let taken = batch.take();
        if taken.dropped > 0 {
            lost += taken.dropped;
            why = "more spans finished than were sent (sample fewer)".into();
        }
        if taken.count > 0 {
            // Made inside the runtime: the request's timeout is one of its timers.
            let sent = runtime.block_on(async { client.post(url).body(sender.request(&taken.spans)).send().await });
            let failure = match sent {
                Ok(r) if r.status().is_success() => None,
                Ok(r) => Some(format!("the collector at {url} answered {}", r.status())),
                Err(e) => Some(format!("the collector at {url} was not reached: {e}")),
            };
            if let Some(failure) = failure {
                lost += taken.count as u64;
                why = failure;
            }
        }
        if lost > 0 && reported.is_none_or(|t| t.elapsed() >= Duration::from_secs(60)) {
            tracing::warn!(spans_lost = lost, "traces not exported: {why}");
            (lost, reported) = (0, Some(std::time::Instant::now()));
        }
        if taken.last {
            return;
        }
    }
}

/// Sends the spans still batched and stops the exporter.
pub fn flush() {
    if let Some((batch, thread)) = EXPORTER.lock().unwrap_or_else(|e| e.into_inner()).take() {
        batch.close();
        if thread.join().is_err() {
            eprintln!("warning: the last spans were not sent: the exporter stopped");
        }
    }
}
