//! `/audit`: the operations log as an audit trail — who did what, through
//! which surface, when, about what — filtered by person, kind of event,
//! project and time, each row linking to what it is about. It reads the
//! log directly, as the home page does; it never writes.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use serde::Deserialize;
use switchboard_core::Error;
use switchboard_core::event::{EventKind, EventQuery};
use switchboard_core::time::{TimeArg, format_ms};

use crate::error::PageError;
use crate::views::banner;
use crate::{PageCaller, PortalState};

/// Events read from the log for one page, before the person filter.
const READ: usize = 5000;
/// Rows shown.
const SHOWN: usize = 200;

#[derive(Deserialize)]
pub(crate) struct AuditFilter {
    person: Option<String>,
    kind: Option<String>,
    project: Option<String>,
    since: Option<String>,
    until: Option<String>,
}

pub(crate) struct AuditRow {
    when: String,
    actor: String,
    source: String,
    kind: &'static str,
    text: String,
    /// Where the row's subject lives: its run, else its project.
    href: String,
    subject: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "audit.html")]
pub(crate) struct AuditPage {
    banner: Option<String>,
    person: String,
    kind: String,
    project: String,
    since: String,
    until: String,
    kinds: Vec<&'static str>,
    rows: Vec<AuditRow>,
    /// More events matched than are shown.
    more: bool,
}

fn time(field: &str, value: &Option<String>, now: i64) -> Result<Option<i64>, PageError> {
    match value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => TimeArg::parse(v).map(|t| Some(t.resolve(now))).map_err(|e| PageError(Error::field(field, e))),
    }
}

pub(crate) async fn page(
    State(state): State<PortalState>,
    PageCaller(caller): PageCaller,
    Query(f): Query<AuditFilter>,
) -> Result<AuditPage, PageError> {
    let now = state.service.now();
    let nonempty = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let kind = match nonempty(&f.kind) {
        Some(k) => Some(EventKind::parse(&k).ok_or_else(|| {
            PageError(Error::field("kind", format!("{k:?} is not a kind of event; pick one from the list")))
        })?),
        None => None,
    };
    let project = match nonempty(&f.project) {
        Some(p) => Some(
            p.parse().map_err(|e: switchboard_core::ids::IdError| PageError(Error::field("project", e.to_string())))?,
        ),
        None => None,
    };
    let q = EventQuery {
        project,
        kinds: kind.into_iter().collect(),
        since: time("since", &f.since, now)?,
        until: time("until", &f.until, now)?,
        limit: READ,
        ..Default::default()
    };
    let person = nonempty(&f.person).map(|p| p.to_lowercase());
    // Accounts' events (sign-ins with addresses, roles, tokens) only for
    // those core's policy lets list users.
    let accounts = state.may(&caller, switchboard_core::ops::OpKind::ListUsers);
    let mut rows = Vec::new();
    let mut more = false;
    for e in state.service.log().query(&q).await? {
        if person.as_deref().is_some_and(|p| !e.actor.to_lowercase().contains(p))
            || (!accounts && e.kind.is_about_accounts())
        {
            continue;
        }
        if rows.len() == SHOWN {
            more = true;
            break;
        }
        // Run events name their run in the payload; campaign updates in their subjects.
        let run = e.payload["run"]
            .as_str()
            .filter(|r| r.parse::<switchboard_core::ids::RunId>().is_ok())
            .map(str::to_owned)
            .or_else(|| e.subjects.iter().find_map(|s| s.strip_prefix("run:")).map(str::to_owned));
        let (href, subject) = match (&run, &e.project) {
            (Some(r), _) => (format!("/runs/{r}"), format!("run {}", &r[r.len().saturating_sub(12)..])),
            (None, Some(p)) => (format!("/projects/{p}"), p.to_string()),
            (None, None) => (String::new(), String::new()),
        };
        rows.push(AuditRow {
            when: format_ms(e.occurred_at),
            actor: e.actor.clone(),
            source: e.source.clone(),
            kind: e.kind.as_str(),
            text: crate::messages::describe(&e),
            href,
            subject,
        });
    }
    Ok(AuditPage {
        banner: banner(&state.mode, &caller),
        person: f.person.unwrap_or_default(),
        kind: f.kind.unwrap_or_default(),
        project: f.project.unwrap_or_default(),
        since: f.since.unwrap_or_default(),
        until: f.until.unwrap_or_default(),
        kinds: EventKind::ALL.iter().map(|k| k.as_str()).collect(),
        rows,
        more,
    })
}
