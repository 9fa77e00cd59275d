//! The outgoing notification webhook: a bus subscriber turns domain events
//! into core's [`Notification`] (addressed to the project's team) and POSTs
//! each to the configured URL, signed with HMAC-SHA256.

use std::time::Duration;

use switchboard_core::Service;
use switchboard_core::follow::LogFollower;
use switchboard_core::notification::{Notification, SOURCE_KINDS, notification};
use tokio::sync::broadcast::error::RecvError;

use crate::signature::hmac_hex;

/// Attempts per notification.
const ATTEMPTS: u32 = 3;

/// How often the log is read for other processes' events.
const FOLLOW_EVERY: Duration = Duration::from_secs(2);
/// How long a sent notification's claim is kept (longer than any overlap).
const CLAIM_MS: i64 = 24 * 3600 * 1000;

/// Sends notifications while the process runs; `None` without a webhook URL.
/// Events come from this process's bus and, every two seconds, from the
/// log (other processes' events); each event's notification is claimed in
/// the store before it is sent, so several replicas send it once.
pub fn spawn(service: Service) -> Option<tokio::task::JoinHandle<()>> {
    let config = service.config().notifications.clone();
    let url = config.webhook_url.clone()?;
    let client = reqwest::Client::builder().timeout(Duration::from_secs(config.timeout_secs)).build().ok()?;
    let mut events = service.bus().subscribe();
    Some(tokio::spawn(async move {
        let mut follower = LogFollower::start(&service, "notifications", SOURCE_KINDS.to_vec(), 0).await;
        let mut tick = tokio::time::interval(FOLLOW_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let batch = tokio::select! {
                received = events.recv() => match received {
                    Ok(e) => vec![switchboard_core::event::Event::clone(&e)],
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "notifications missed bus events; reading them from the log");
                        continue;
                    }
                    Err(RecvError::Closed) => return,
                },
                _ = tick.tick() => match follower.unhandled(&service).await {
                    Ok(events) => events,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot read the operations log for notifications; trying again");
                        continue;
                    }
                },
            };
            let mut all_handled = true;
            for event in &batch {
                if follower.handled(event.id) {
                    continue;
                }
                if let Some(n) = notification(&service, event).await {
                    let until = event.occurred_at + CLAIM_MS;
                    match service.claim_once("notified", &event.id.to_string(), until).await {
                        Ok(true) => send(&client, &url, config.webhook_secret.as_deref(), &n).await,
                        Ok(false) => {}
                        // Not remembered: tried again from the log.
                        Err(e) => {
                            tracing::warn!(error = %e, "cannot claim a notification; trying again");
                            all_handled = false;
                            continue;
                        }
                    }
                }
                follower.remember(event.id);
            }
            if all_handled && let Err(e) = follower.advance(&service, &batch).await {
                tracing::warn!(error = %e, "cannot keep the notifications' place in the log");
            }
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
