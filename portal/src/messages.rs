//! Every sentence the portal writes, in one place.

use switchboard_core::event::{Event, EventKind};

pub(crate) const DEMO_BANNER: &str =
    "Demo mode: you are acting as demo-admin (admin). Data is generated; nothing here is real.";
pub(crate) const ANONYMOUS_BANNER: &str = "You are browsing anonymously and can only read.";

/// One line saying what an event was.
pub(crate) fn describe(e: &Event) -> String {
    let p = &e.payload;
    let s = |v: &serde_json::Value| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string());
    match e.kind {
        EventKind::ProjectCreated => format!("project created ({} owned by {})", s(&p["project_type"]), s(&p["team"])),
        EventKind::ProjectUpdated => {
            let fields: Vec<&str> =
                p["changes"].as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
            format!("project updated: {}", fields.join(", "))
        }
        EventKind::ProjectArchived => "project archived".into(),
        EventKind::FactSet => format!("fact {} set to {}", s(&p["key"]), s(&p["value"])),
        EventKind::FactRemoved => format!("fact {} removed", s(&p["key"])),
        EventKind::DependenciesChanged => {
            let mut parts = Vec::new();
            for c in p["changed"].as_array().into_iter().flatten() {
                parts.push(format!("{} {} → {}", s(&c["package"]), s(&c["from"]), s(&c["to"])));
            }
            let added = p["added"].as_array().map(Vec::len).unwrap_or(0);
            let removed = p["removed"].as_array().map(Vec::len).unwrap_or(0);
            if added > 0 {
                let names: Vec<String> = p["added"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .take(4)
                    .map(|d| format!("{} {}", s(&d["package"]), s(&d["version"])))
                    .collect();
                let more = if added > 4 { format!(" and {} more", added - 4) } else { String::new() };
                parts.push(format!("added {}{more}", names.join(", ")));
            }
            if removed > 0 {
                parts.push(format!("removed {removed} dependenc{}", if removed == 1 { "y" } else { "ies" }));
            }
            format!("dependencies: {}", parts.join("; "))
        }
        EventKind::TeamCreated => format!("team {} created", s(&p["team"])),
        EventKind::TeamUpdated => format!("team {} updated", s(&p["team"])),
        EventKind::DeploymentRecorded => {
            let d = &p["deployment"];
            format!("deployed {} to {} ({})", s(&d["version"]), s(&d["environment"]), s(&d["status"]).replace('_', " "))
        }
        EventKind::IncidentRecorded => {
            let i = &p["incident"];
            let sev = i["severity"].as_str().map(|v| format!("{v} ")).unwrap_or_default();
            format!("{sev}incident {}: {}", s(&i["status"]), s(&i["title"]))
        }
        EventKind::BuildRecorded => {
            let b = &p["build"];
            let branch = b["branch"].as_str().map(|v| format!(" on {v}")).unwrap_or_default();
            format!("CI build {}{branch}", s(&b["status"]))
        }
        EventKind::RunRequested => format!("requested: {}", s(&p["summary"])),
        EventKind::RunApproved => format!("approved run {}", s(&p["run"])),
        EventKind::RunDenied => format!("denied run {}", s(&p["run"])),
        EventKind::RunExpired => format!("run {} expired", s(&p["run"])),
        EventKind::ScoreChanged => format!("score {} → {}", s(&p["from"]), s(&p["to"])),
    }
}
