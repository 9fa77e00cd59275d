//! One search for the header: projects, teams, people, packages and runs
//! by what is typed, as the person types (htmx asks for the results only)
//! and as a page (`/search?q=`, what Enter opens). Words only, read from
//! the stores: a keystroke never waits on an embeddings endpoint (the
//! projects page and `find_projects` search by meaning too).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use switchboard_core::store::ProjectQuery;

use crate::error::PageError;
use crate::views::banner;
use crate::{PageCaller, PortalState};

/// Shortest query searched as one types.
const MIN_CHARS: usize = 2;

#[derive(Deserialize)]
pub(crate) struct SearchQuery {
    q: Option<String>,
}

/// One thing found: where it goes, what it is called, a word about it.
pub(crate) struct Hit {
    href: String,
    label: String,
    note: String,
}

/// Hits of one kind.
pub(crate) struct Group {
    title: &'static str,
    hits: Vec<Hit>,
}

#[derive(Template, WebTemplate)]
#[template(path = "search_results.html")]
struct SearchResults {
    q: String,
    groups: Vec<Group>,
}

#[derive(Template, WebTemplate)]
#[template(path = "search.html")]
struct SearchPage {
    banner: Option<String>,
    q: String,
    groups: Vec<Group>,
}

pub(crate) async fn search(
    State(state): State<PortalState>,
    PageCaller(caller): PageCaller,
    headers: HeaderMap,
    Query(q): Query<SearchQuery>,
) -> Result<Response, PageError> {
    let q = q.q.unwrap_or_default().trim().chars().take(100).collect::<String>();
    let partial = headers.contains_key("hx-request");
    let per_group = if partial { 5 } else { 25 };
    let long_enough = q.chars().count() >= MIN_CHARS;
    let groups = if long_enough { find(&state, &q, per_group).await? } else { Vec::new() };
    Ok(if partial {
        // Too short to search: nothing under the box yet.
        let q = if long_enough { q } else { String::new() };
        SearchResults { q, groups }.into_response()
    } else {
        SearchPage { banner: banner(&state.mode, &caller), q, groups }.into_response()
    })
}

async fn find(state: &PortalState, q: &str, n: usize) -> Result<Vec<Group>, PageError> {
    let graph = state.service.graph();
    let lower = q.to_lowercase();
    let has = |s: &str| s.to_lowercase().contains(&lower);

    let query = ProjectQuery { text: Some(q.to_owned()), limit: n, ..Default::default() };
    let mut projects: Vec<Hit> = graph
        .find_projects(&query)
        .await?
        .into_iter()
        .map(|p| Hit {
            href: format!("/projects/{}", p.slug),
            label: p.slug.to_string(),
            note: format!("project · {}", p.team),
        })
        .collect();
    projects.truncate(n);

    let teams_all = graph.list_teams().await?;
    let teams = teams_all
        .iter()
        .filter(|t| has(t.slug.as_str()) || has(&t.name))
        .take(n)
        .map(|t| Hit { href: format!("/teams/{}", t.slug), label: t.name.clone(), note: format!("team · {}", t.slug) })
        .collect();

    // People: their team's page (where they are listed), or the users page.
    let people = graph
        .list_users()
        .await?
        .into_iter()
        .filter(|u| has(u.name.as_str()) || has(&u.display_name))
        .take(n)
        .map(|u| {
            let team = teams_all.iter().find(|t| t.members.contains(&u.name));
            Hit {
                href: team.map(|t| format!("/teams/{}", t.slug)).unwrap_or_else(|| "/admin/users".into()),
                label: u.display_name.clone(),
                note: match team {
                    Some(t) => format!("{} · {} · {}", u.name, u.role, t.name),
                    None => format!("{} · {}", u.name, u.role),
                },
            }
        })
        .collect();

    let packages = graph
        .packages(q, n)
        .await?
        .into_iter()
        .map(|p| Hit {
            href: format!("/packages/{}", crate::pages::urlencode_path(p.as_str())),
            label: p.to_string(),
            note: "package".into(),
        })
        .collect();

    let runs = graph
        .list_runs(None, 500)
        .await?
        .into_iter()
        .filter(|r| has(&r.summary) || r.id.to_string().starts_with(&lower))
        .take(n)
        .map(|r| Hit {
            href: format!("/runs/{}", r.id),
            label: r.summary,
            note: format!("run · {}", r.status.as_str()),
        })
        .collect();

    Ok([("Projects", projects), ("Teams", teams), ("People", people), ("Packages", packages), ("Runs", runs)]
        .into_iter()
        .filter(|(_, hits)| !hits.is_empty())
        .map(|(title, hits)| Group { title, hits })
        .collect())
}
