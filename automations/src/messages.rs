//! Every sentence the receivers and the processor write, in one place.

pub fn missing_header(name: &str) -> String {
    format!("The {name} header is missing; send it as the sender documents.")
}

pub fn malformed_json(detail: &str) -> String {
    format!("The body is not valid JSON ({detail}); nothing was stored.")
}

pub fn store_unavailable() -> String {
    "The delivery could not be stored; nothing was accepted. Send it again (senders retry on 5xx).".into()
}

pub fn not_configured(source: &str) -> String {
    match source {
        "github" => "GitHub deliveries are not accepted: set webhooks.github_secret or SWITCHBOARD_GITHUB_WEBHOOK_SECRET.".into(),
        "pagerduty" => {
            "PagerDuty deliveries are not accepted: set webhooks.pagerduty_secrets or SWITCHBOARD_PAGERDUTY_WEBHOOK_SECRET."
                .into()
        }
        other => format!(
            "Deliveries from {other} are not accepted: set webhooks.generic.{other}.secret or SWITCHBOARD_WEBHOOK_SECRET_{}.",
            other.to_ascii_uppercase()
        ),
    }
}

pub fn unknown_event(sender: &str, event: &str) -> String {
    format!("{sender} has no event called {event:?}; nothing was stored.")
}

pub fn unknown_source(source: &str) -> String {
    format!("There is no webhook source called {source:?}; declare it under [webhooks.generic.{source}].")
}

pub fn pagerduty_envelope() -> String {
    "A PagerDuty v3 delivery needs event.id and event.event_type; nothing was stored.".into()
}

pub fn no_rule(source: &str, event: &str) -> String {
    format!("no rule maps {source} {event}")
}

pub fn unreadable_body(detail: &str) -> String {
    format!("the stored body is not JSON ({detail})")
}

pub fn busy() -> &'static str {
    "too many signature checks are waiting; send this delivery again in a moment"
}
