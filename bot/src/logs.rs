//! What `check_logs` found, as a chat reply: one sentence that says whether
//! anything stands out, the signatures (new ones first), the spikes, and the
//! link to the source.

use switchboard_core::logs::Level;
use switchboard_core::ops::output::{Investigation, LogReport};
use switchboard_core::time::{format_duration, format_ms};

use crate::reply::{Button, ButtonStyle, Reply};

pub fn report(r: &LogReport, base_url: &str) -> Reply {
    let window = format_duration(r.until - r.since);
    let new: Vec<_> = r.analysis.signatures.iter().filter(|s| s.new).collect();
    let mut said = if r.scanned == 0 {
        format!("No log lines for {} in the last {window} (source {}, selector {}).", r.project, r.source, r.selector)
    } else if r.errors == 0 {
        format!("{}: {} lines in the last {window}, no errors.", r.project, r.scanned)
    } else {
        format!(
            "{}: {} lines in the last {window}, {} errors in {} signature(s){}{}.",
            r.project,
            r.scanned,
            r.errors,
            r.analysis.signatures.len() + r.analysis.more_signatures,
            if new.is_empty() { String::new() } else { format!(", {} of them new", new.len()) },
            match r.analysis.spikes.len() {
                0 => String::new(),
                n => format!(", {n} spike(s)"),
            }
        )
    };
    if r.truncated && r.counted_by_source {
        said.push_str(
            " (more error lines than [logs] max_lines: signatures are from the newest; counts cover every line)",
        );
    } else if r.truncated {
        said.push_str(" (the window held more lines than [logs] max_lines: the newest were read)");
    }
    let mut reply = Reply::text(said);
    if !r.analysis.signatures.is_empty() {
        let rows = r
            .analysis
            .signatures
            .iter()
            .map(|s| {
                vec![
                    if s.new { "new".into() } else { format!("seen {}×", s.baseline_count) },
                    s.count.to_string(),
                    s.template.clone(),
                    format_ms(s.first_seen),
                ]
            })
            .collect();
        reply = reply.table(&["", "count", "signature", "first seen"], rows);
    }
    for s in &r.analysis.spikes {
        reply = reply.push_text(format!(
            "Spike from {} to {}: {} errors, at most {} in {} (about {} usual).",
            format_ms(s.start),
            format_ms(s.end),
            s.errors,
            s.peak,
            format_duration(r.analysis.bucket_ms),
            s.baseline
        ));
    }
    if let Some(top) = new.first() {
        reply = reply.push_text(format!("Newest new error, as written: {}", top.sample));
    }
    let warn = r.analysis.counts.get(&Level::Warn).copied().unwrap_or(0);
    if warn > 0 && r.errors == 0 {
        reply = reply.push_text(format!("{warn} warnings."));
    }
    reply = reply.link("Open the project", format!("{base_url}/projects/{}", r.project));
    match &r.link {
        Some(link) => reply.link(format!("Open in {}", r.source), link.clone()),
        None => reply,
    }
}

/// An investigation: the answer in a sentence, who to call, the suspects
/// with why (a Roll back button for a suspect deployment), the timeline.
pub fn investigation(r: &Investigation, base_url: &str) -> Reply {
    let about = match &r.incident {
        Some(i) => format!(
            "{} ({}, {}, opened {})",
            i.title,
            i.status.as_str(),
            i.severity.as_deref().unwrap_or("no severity"),
            format_ms(i.opened_at)
        ),
        None => format!("{} since {}", r.project, format_ms(r.start)),
    };
    let mut reply = Reply::text(format!("Investigation of {about}. {}", r.summary));
    let mut fields = vec![("Owner".to_owned(), r.team_name.clone().unwrap_or_else(|| r.team.to_string()))];
    if let Some(o) = &r.oncall {
        fields.push(("On call".into(), o.clone()));
    }
    if !r.team_incidents.is_empty() {
        fields.push(("Team's other incidents".into(), r.team_incidents.len().to_string()));
    }
    reply = reply.fields(fields);
    if !r.suspects.is_empty() {
        let rows = r.suspects.iter().enumerate().map(|(n, s)| vec![(n + 1).to_string(), s.reason.clone()]).collect();
        reply = reply.table(&["#", "suspect, and why"], rows);
    }
    if let Some(e) = &r.logs_error {
        reply = reply.push_text(format!("The logs could not be read: {e}"));
    }
    // The last dozen things that happened up to an hour after the start.
    let near: Vec<&switchboard_core::ops::output::TimelineEntry> =
        r.timeline.iter().filter(|t| t.at >= r.start - 6 * 3_600_000).collect();
    let recent: Vec<Vec<String>> =
        near[near.len().saturating_sub(12)..].iter().map(|t| vec![format_ms(t.at), t.text.clone()]).collect();
    if !recent.is_empty() {
        reply = reply.table(&["when", "what happened"], recent);
    }
    let buttons: Vec<Button> = r
        .suspects
        .iter()
        .filter_map(|s| s.rollback.as_ref())
        .take(1)
        .map(|rb| Button {
            label: format!("Roll back {} to {}", rb.environment, rb.version),
            action: format!("rollback:{}:{}", r.project, rb.environment),
            style: ButtonStyle::Danger,
        })
        .collect();
    if !buttons.is_empty() {
        reply = reply.buttons(buttons);
    }
    reply.link("Open the project", format!("{base_url}/projects/{}", r.project))
}
