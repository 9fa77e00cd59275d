//! The outgoing notification webhook: a bus subscriber turns domain events
//! into core's [`Notification`] (addressed to the project's team) and POSTs
//! each to the configured URL, signed with HMAC-SHA256.

use std::time::Duration;

use switchboard_core::Service;
use switchboard_core::notification::{Notification, notification};
use tokio::sync::broadcast::error::RecvError;

use crate::signature::hmac_hex;

/// Attempts per notification.
const ATTEMPTS: u32 = 3;

/// Sends notifications while the process runs; `None` without a webhook URL.
pub fn spawn(service: Service) -> Option<tokio::task::JoinHandle<()>> {
    let config = service.config().notifications.clone();
    let url = config.webhook_url.clone()?;
    let client = reqwest::Client::builder().timeout(Duration::from_secs(config.timeout_secs)).build().ok()?;
    let mut events = service.bus().subscribe();
    Some(tokio::spawn(async move {
        loop {
            let event = match events.recv().await {
                Ok(e) => e,
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "notifications missed bus events");
                    continue;
                }
                Err(RecvError::Closed) => return,
            };
            let Some(n) = notification(&service, &event).await else { continue };
            send(&client, &url, config.webhook_secret.as_deref(), &n).await;
        }
    }))
}

async fn send(client: &reqwest::Client, url: &str, secret: Option<&str>, n: &Notification) {
    let body = serde_json::to_vec(n).expect("notifications serialize");
    for attempt in 1..=ATTEMPTS {
        let mut req = client.post(url).header("content-type", "application/json").body(body.clone());
        if let Some(secret) = secret {
            req = req.header("X-Switchboard-Signature-256", format!("sha256={}", hmac_hex(secret.as_bytes(), &body)));
        }
        match req.send().await {
            Ok(r) if r.status().is_success() => return,
            Ok(r) => tracing::warn!(status = %r.status(), attempt, kind = n.kind, "notification webhook refused"),
            Err(e) => tracing::warn!(error = %e, attempt, kind = n.kind, "notification webhook unreachable"),
        }
        tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt))).await;
    }
    tracing::error!(kind = n.kind, project = %n.project, "notification not delivered after {ATTEMPTS} attempts");
}
