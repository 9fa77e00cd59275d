//! Turning an operation's output into a [`Reply`] people read: the answer
//! first, details after, a link to the portal page last.

use switchboard_core::messages::describe_event;
use switchboard_core::model::{Run, RunPlan, RunStatus};
use switchboard_core::ops::Effect;
use switchboard_core::ops::output::Output;
use switchboard_core::time::{format_date, format_duration, format_ms};

use crate::messages;
use crate::reply::{Button, ButtonStyle, Reply};

const ROWS: usize = 15;

/// The card of a run: what, who, status, what exactly it will do;
/// Approve/Deny while pending.
pub fn run_card(run: &Run, base_url: &str) -> Reply {
    let mut fields = vec![
        ("Requested by".into(), run.requested_by.to_string()),
        ("Requested".into(), format_ms(run.requested_at)),
        ("Expires".into(), format_ms(run.expires_at)),
        ("Run".into(), run.id.to_string()),
    ];
    if let Some(RunPlan::Deploy(d)) = &run.plan {
        fields.insert(0, ("Environment".into(), d.environment.to_string()));
        let mut version = messages::version_move(d.from.as_deref(), &d.to, &d.chosen);
        if d.older {
            version.push_str(messages::older());
        }
        fields.insert(1, ("Version".into(), version));
    }
    let mut r = Reply::text(format!("{} — {}", run.summary, run.status.as_str())).fields(fields);
    r = plan_blocks(r, run.plan.as_ref());
    for a in &run.approvals {
        let verb = match a.decision {
            switchboard_core::model::Decision::Approve => "approved",
            switchboard_core::model::Decision::Deny => "denied",
        };
        let reason = a.reason.as_ref().map(|r| format!(": {r}")).unwrap_or_default();
        r = r.push_text(format!("{} {verb} at {}{reason}", a.by, format_ms(a.at)));
    }
    if run.status == RunStatus::Pending {
        let waiting = match &run.needs {
            Some(n) => messages::pending_run_needs(
                run.requested_by.as_str(),
                n.approvals,
                n.team.as_ref().map(|t| t.as_str()),
                switchboard_core::policy::approvals(run),
            ),
            None => messages::pending_run(run.requested_by.as_str()),
        };
        let confirm = run.plan.as_ref().is_some_and(RunPlan::needs_confirmation);
        r = r.push_text(waiting).buttons(vec![
            Button {
                label: if confirm { "Approve…" } else { "Approve" }.into(),
                action: format!("approve_run:{}", run.id),
                style: ButtonStyle::Primary,
            },
            Button { label: "Deny…".into(), action: format!("deny_run:{}", run.id), style: ButtonStyle::Danger },
        ]);
    }
    r.link("Open in portal", format!("{base_url}/runs/{}", run.id))
}

/// The changes a deploy brings, or the projects an upgrade touches.
fn plan_blocks(r: Reply, plan: Option<&RunPlan>) -> Reply {
    match plan {
        Some(RunPlan::Deploy(d)) if !d.changes.is_empty() => {
            let rows = d
                .changes
                .iter()
                .take(ROWS)
                .map(|c| {
                    let n = c.number.map(|n| format!("#{n}")).unwrap_or_default();
                    vec![n, c.title.clone(), c.author.clone().unwrap_or_default()]
                })
                .collect();
            let listed = ROWS.min(d.changes.len());
            let more = d.changes.len() - listed + d.more_changes as usize;
            let r = r
                .push_text(messages::plan_changes(d.changes.len() + d.more_changes as usize))
                .table(&["change", "title", "by"], rows);
            if more > 0 { r.push_text(messages::and_more(more)) } else { r }
        }
        Some(RunPlan::Upgrade(u)) => {
            let rows = u
                .targets
                .iter()
                .take(ROWS)
                .map(|t| {
                    vec![
                        t.project.to_string(),
                        t.repository.clone().unwrap_or_else(|| messages::no_repository().into()),
                        format!("{} → {}", t.from, u.to),
                    ]
                })
                .collect();
            let total = u.targets.len() + u.more as usize;
            let mut r = r.push_text(messages::plan_targets(total)).table(&["project", "repository", "version"], rows);
            if u.already > 0 {
                r = r.push_text(messages::plan_already(u.already as usize, u.to.as_str()));
            }
            let more = total - ROWS.min(u.targets.len());
            if more > 0 { r.push_text(messages::and_more(more)) } else { r }
        }
        _ => r,
    }
}

/// What asking to confirm an approval shows: the plan again, and a button
/// that approves with the confirmation.
pub fn confirm_card(run: &Run, base_url: &str) -> Reply {
    let env = match &run.plan {
        Some(RunPlan::Deploy(d)) => d.environment.to_string(),
        _ => String::new(),
    };
    Reply::text(messages::confirm_approval(&run.summary, &env))
        .buttons(vec![
            Button {
                label: messages::confirm_button(&env),
                action: format!("approve_confirmed:{}", run.id),
                style: ButtonStyle::Primary,
            },
            Button { label: "Deny…".into(), action: format!("deny_run:{}", run.id), style: ButtonStyle::Danger },
        ])
        .link("Open in portal", format!("{base_url}/runs/{}", run.id))
}

/// Reasons a denial can give in one click (the requester reads them).
pub const DENY_REASONS: [(&str, &str); 3] = [
    ("not-now", "Not now, ask again later"),
    ("wrong-version", "Wrong version"),
    ("needs-review", "Needs a review first"),
];

/// What a Deny click asks: why, in one click or in words.
pub fn deny_card(run: &Run) -> Reply {
    let mut buttons: Vec<Button> = DENY_REASONS
        .iter()
        .map(|(code, text)| Button {
            label: (*text).into(),
            action: format!("deny_because:{}:{code}", run.id),
            style: ButtonStyle::Danger,
        })
        .collect();
    buttons.push(Button {
        label: "Deny without a reason".into(),
        action: format!("deny_because:{}:none", run.id),
        style: ButtonStyle::Default,
    });
    Reply::text(messages::deny_why(&run.summary, run.requested_by.as_str(), &run.id.to_string())).buttons(buttons)
}

pub fn render(output: &Output, base_url: &str) -> Reply {
    match output {
        Output::ProjectDetail(d) => {
            let p = &d.project;
            let team_name = d.team.as_ref().map(|t| t.name.clone()).unwrap_or_else(|| p.team.to_string());
            let members =
                d.team.as_ref().map(|t| t.members.iter().map(|m| m.to_string()).collect::<Vec<_>>().join(", "));
            let mut fields = vec![
                ("Type".into(), p.project_type.to_string()),
                ("Score".into(), format!("{}/100", d.score.score)),
                ("Open incidents".into(), d.open_incidents.len().to_string()),
            ];
            if let Some(m) = members.filter(|m| !m.is_empty()) {
                fields.insert(0, ("Team members".into(), m));
            }
            if let Some(i) = &d.last_import {
                fields.push(("Repository read".into(), format!("{} ({})", format_ms(i.at), i.outcome)));
            }
            let envs = d
                .environments
                .iter()
                .map(|e| {
                    let (v, when) = e
                        .current
                        .as_ref()
                        .map(|c| (c.version.clone(), format_ms(c.started_at)))
                        .unwrap_or(("—".into(), String::new()));
                    vec![e.name.to_string(), v, when]
                })
                .collect();
            Reply::text(messages::owner(p.slug.as_str(), &team_name, p.team.as_str()))
                .push_text(p.description.clone())
                .fields(fields)
                .table(&["environment", "version", "deployed"], envs)
                .link("Open in portal", format!("{base_url}/projects/{}", p.slug))
        }
        Output::Project(p) => {
            Reply::text(format!("Saved project {}{}.", p.slug, if p.archived { " (archived)" } else { "" }))
                .link("Open in portal", format!("{base_url}/projects/{}", p.slug))
        }
        Output::Projects(list) => {
            if list.projects.is_empty() {
                return Reply::text(messages::no_matches("that search"));
            }
            let rows = list
                .projects
                .iter()
                .take(ROWS)
                .map(|p| vec![p.slug.to_string(), p.team.to_string(), p.project_type.to_string(), p.score.to_string()])
                .collect();
            Reply::text(format!("{} project(s):", list.projects.len()))
                .table(&["project", "team", "type", "score"], rows)
                .push_text(messages::shown(ROWS.min(list.projects.len()), list.projects.len() as u64))
        }
        Output::Dependents(d) => {
            let deps = &d.dependents;
            if deps.total == 0 {
                return Reply::text(messages::no_dependents(d.package.as_str(), d.direct_only));
            }
            let versions =
                deps.versions.iter().map(|v| format!("{} ({})", v.version, v.projects)).collect::<Vec<_>>().join(", ");
            let direct: u64 = deps.versions.iter().map(|v| v.direct).sum();
            let through = !d.direct_only && direct < deps.total;
            let rows = deps
                .projects
                .iter()
                .take(ROWS)
                .map(|r| {
                    let mut row = vec![r.project.to_string(), r.team.to_string(), r.version.to_string()];
                    if through {
                        row.push(if r.transitive { "through another package" } else { "direct" }.into());
                    }
                    row
                })
                .collect();
            let headers: &[&str] =
                if through { &["project", "team", "version", "how"] } else { &["project", "team", "version"] };
            Reply::text(messages::dependents(d.package.as_str(), deps.total, direct, d.direct_only, &versions))
                .table(headers, rows)
                .push_text(messages::shown(ROWS.min(deps.projects.len()), deps.total))
                .link("Open in portal", format!("{base_url}/packages/{}", d.package))
        }
        Output::History(h) => {
            let mut r = match (&h.subject, &h.first) {
                (Some(s), Some(first)) => Reply::text(messages::history_first(
                    h.project.as_str(),
                    s,
                    &format_date(first.occurred_at),
                    &describe_event(first),
                )),
                (Some(s), None) => Reply::text(messages::history_none(h.project.as_str(), s)),
                (None, _) => Reply::text(format!("Recent history of {}:", h.project)),
            };
            let rows = h
                .events
                .iter()
                .take(ROWS)
                .map(|e| vec![format_ms(e.occurred_at), describe_event(e), e.actor.clone()])
                .collect();
            r = r.table(&["when", "what", "who"], rows);
            r.link("Open in portal", format!("{base_url}/projects/{}", h.project))
        }
        Output::Deployments(list) => {
            if list.deployments.is_empty() {
                return Reply::text(messages::no_matches("those deployments"));
            }
            let rows = list
                .deployments
                .iter()
                .take(ROWS)
                .map(|d| {
                    vec![
                        d.project.to_string(),
                        d.environment.to_string(),
                        d.version.clone(),
                        d.status.as_str().into(),
                        format_ms(d.started_at),
                    ]
                })
                .collect();
            Reply::text("Deployments, newest first:")
                .table(&["project", "environment", "version", "status", "when"], rows)
        }
        Output::Deployment(d) => {
            Reply::text(format!("Recorded: {} {} to {} ({}).", d.project, d.version, d.environment, d.status.as_str()))
        }
        Output::Incidents(list) => {
            if list.incidents.is_empty() {
                return Reply::text(messages::no_matches("those incidents"));
            }
            let rows = list
                .incidents
                .iter()
                .take(ROWS)
                .map(|i| {
                    vec![
                        i.project.to_string(),
                        i.severity.clone().unwrap_or_default(),
                        i.status.as_str().into(),
                        i.title.clone(),
                        format_ms(i.opened_at),
                    ]
                })
                .collect();
            Reply::text("Incidents, newest first:").table(&["project", "severity", "status", "title", "opened"], rows)
        }
        Output::Incident(i) => {
            Reply::text(format!("Recorded incident on {}: {} ({}).", i.project, i.title, i.status.as_str()))
        }
        Output::Build(b) => Reply::text(format!("Recorded a {} build of {}.", b.status.as_str(), b.project)),
        Output::Change(c) => Reply::text(format!("Recorded a merged change of {}: {}.", c.project, c.title)),
        Output::Score(s) => {
            let fields = s
                .components
                .iter()
                .map(|c| (c.name.to_owned(), format!("{:.0}% — {}", c.value * 100.0, c.detail)))
                .collect();
            Reply::text(format!("{} scores {}/100.", s.project, s.score))
                .fields(fields)
                .link("Open in portal", format!("{base_url}/projects/{}", s.project))
        }
        Output::CiHealth(h) => {
            let ms = |v: Option<i64>| v.map(format_duration).unwrap_or_else(|| "—".into());
            let mut fields = vec![
                ("Builds".into(), format!("{} since {}", h.builds, format_date(h.since))),
                ("Failure rate".into(), format!("{:.0}% ({} failed)", h.failure_rate * 100.0, h.failures)),
                ("Duration p50 / p95".into(), format!("{} / {}", ms(h.duration_p50_ms), ms(h.duration_p95_ms))),
                ("Last green".into(), h.last_green_at.map(format_ms).unwrap_or_else(|| "never in this window".into())),
            ];
            if !h.flaky.is_empty() {
                let shas: Vec<String> = h.flaky.iter().take(5).map(|f| f.sha.to_string()).collect();
                fields.push(("Flaky commits".into(), format!("{} ({})", h.flaky.len(), shas.join(", "))));
            }
            if !h.anomalies.is_empty() {
                let worst = h.anomalies.iter().max_by_key(|a| a.duration_ms).expect("not empty");
                fields.push((
                    "Slow builds".into(),
                    format!(
                        "{} (worst {} against a usual {})",
                        h.anomalies.len(),
                        format_duration(worst.duration_ms),
                        format_duration(worst.usual_ms)
                    ),
                ));
            }
            Reply::text(messages::ci_health(h.project.as_str(), h.builds, h.failure_rate))
                .fields(fields)
                .link("Open in portal", format!("{base_url}/projects/{}", h.project))
        }
        Output::Dora(d) => {
            let ms = |v: Option<i64>| v.map(format_duration).unwrap_or_else(|| "—".into());
            let fields = vec![
                (
                    "Deployment frequency".into(),
                    format!("{:.2} a day ({} deployments)", d.deployments_per_day, d.deployments),
                ),
                ("Lead time (p50)".into(), ms(d.lead_time_p50_ms)),
                ("Change failure rate".into(), format!("{:.0}%", d.change_failure_rate * 100.0)),
                ("Time to restore (p50)".into(), ms(d.time_to_restore_p50_ms)),
            ];
            Reply::text(messages::dora(&d.scope, d.environment.as_str(), &format_date(d.since))).fields(fields)
        }
        Output::TeamDetail(t) => {
            let members =
                t.members.iter().map(|u| (u.display_name.clone(), format!("{} ({})", u.name, u.role))).collect();
            let rows = t
                .projects
                .iter()
                .take(ROWS)
                .map(|p| vec![p.slug.to_string(), p.project_type.to_string(), p.score.to_string()])
                .collect();
            Reply::text(format!("{} (team {}) owns {} project(s).", t.team.name, t.team.slug, t.projects.len()))
                .fields(members)
                .table(&["project", "type", "score"], rows)
                .link("Open in portal", format!("{base_url}/teams/{}", t.team.slug))
        }
        Output::Team(t) => Reply::text(format!("Saved team {} ({}).", t.name, t.slug))
            .link("Open in portal", format!("{base_url}/teams/{}", t.slug)),
        Output::Teams(list) => {
            let rows = list
                .teams
                .iter()
                .map(|t| vec![t.team.slug.to_string(), t.team.name.clone(), t.project_count.to_string()])
                .collect();
            Reply::text(format!("{} team(s):", list.teams.len())).table(&["team", "name", "projects"], rows)
        }
        Output::Runs(list) => {
            if list.runs.is_empty() {
                return Reply::text("No runs match. Nothing is waiting for approval.");
            }
            let mut r = Reply::text(format!("{} run(s):", list.runs.len()));
            for run in list.runs.iter().take(5) {
                let card = run_card(run, base_url);
                r.blocks.extend(card.blocks);
            }
            r.push_text(messages::shown(5.min(list.runs.len()), list.runs.len() as u64))
        }
        Output::Run(run) => run_card(run, base_url),
        Output::Fact(f) => match &f.fact {
            Some(fact) => Reply::text(format!("{} of {} is now {} (score {}).", f.key, f.project, fact.value, f.score)),
            None => Reply::text(format!("Removed {} from {} (score {}).", f.key, f.project, f.score)),
        },
        Output::Dependencies(c) => {
            let mut lines: Vec<String> =
                c.changed.iter().map(|x| format!("{} {} → {}", x.package, x.from, x.to)).collect();
            lines.extend(c.added.iter().map(|d| format!("added {} {}", d.package, d.version)));
            lines.extend(c.removed.iter().map(|d| format!("removed {} {}", d.package, d.version)));
            if lines.is_empty() {
                Reply::text(format!("{}'s dependencies were already like that.", c.project))
            } else {
                Reply::text(format!("Updated {}: {}.", c.project, lines.join("; ")))
            }
        }
        Output::Dependency(d) => {
            let lines: Vec<String> = d
                .edges
                .iter()
                .map(|e| {
                    messages::dependency_edge(
                        d.project.as_str(),
                        &format!("{} {} ({})", e.package, e.version, e.ecosystem),
                        e.transitive,
                        e.scope.as_str(),
                        e.requirement.as_deref(),
                        e.source.as_deref(),
                    )
                })
                .collect();
            let text = if lines.is_empty() {
                messages::dependency_none(d.project.as_str(), d.package.as_str())
            } else {
                lines.join("\n")
            };
            Reply::text(text).link("Open in portal", format!("{base_url}/projects/{}", d.project))
        }
        Output::ManifestsImported(r) => {
            let c = &r.changes;
            let mut reply = Reply::text(messages::manifests_imported(
                r.project.as_str(),
                r.files.len(),
                (r.direct, r.transitive),
                (c.added.len(), c.changed.len(), c.removed.len()),
            ));
            reply = with_changes(reply, c, false);
            with_skipped(reply, &r.skipped).link("Open in portal", format!("{base_url}/projects/{}", r.project))
        }
        Output::CatalogImported(r) => {
            let mut reply = Reply::text(messages::catalog_imported(
                r.dry_run,
                r.entities,
                (r.created.len(), r.updated.len(), r.unchanged.len(), r.skipped.len()),
            ));
            let listed = |lines: &[String]| lines.iter().take(15).cloned().collect::<Vec<_>>().join(", ");
            if !r.created.is_empty() {
                reply = reply.push_text(format!(
                    "{}: {}",
                    messages::catalog_heading(r.dry_run, "created"),
                    listed(&r.created)
                ));
            }
            if !r.updated.is_empty() {
                reply = reply.push_text(format!(
                    "{}: {}",
                    messages::catalog_heading(r.dry_run, "updated"),
                    listed(&r.updated)
                ));
            }
            let lines: Vec<String> =
                r.skipped.iter().chain(&r.notes).take(10).map(|s| format!("{}: {}", s.what, s.reason)).collect();
            if !lines.is_empty() {
                reply = reply.push_text(lines.join("\n"));
            }
            reply
        }
        Output::SbomImported(r) => {
            let c = &r.changes;
            let what = r.subject.as_deref().map(|s| format!(" of {s}")).unwrap_or_default();
            let mut reply = Reply::text(messages::sbom_imported(
                r.project.as_str(),
                &format!("{}{what}", r.format),
                r.components,
                (c.added.len(), c.changed.len(), c.removed.len(), r.unchanged),
            ));
            reply = with_changes(reply, c, true);
            if !r.kept.is_empty() {
                let names: Vec<&str> = r.kept.iter().take(10).map(|p| p.as_str()).collect();
                reply = reply.push_text(messages::sbom_kept(r.kept.len(), &names.join(", ")));
            }
            with_skipped(reply, &r.skipped).link("Open in portal", format!("{base_url}/projects/{}", r.project))
        }
        Output::Accounts(list) => {
            let rows = list
                .users
                .iter()
                .map(|a| {
                    let state = if a.user.disabled { "disabled" } else { "active" };
                    vec![
                        a.user.name.to_string(),
                        a.user.role.to_string(),
                        a.user.email.clone().unwrap_or_default(),
                        a.sign_in.clone(),
                        a.active_tokens.to_string(),
                        state.into(),
                    ]
                })
                .collect();
            Reply::text(format!("{} account(s):", list.users.len()))
                .table(&["user", "role", "email", "signs in with", "tokens", "state"], rows)
                .link("Manage in the portal", format!("{base_url}/admin/users"))
        }
        Output::Account(change) => {
            let u = &change.account.user;
            let state = if u.disabled { "disabled" } else { "active" };
            let mut r = Reply::text(messages::account(u.name.as_str(), u.role.as_str(), state));
            if let Some(email) = &u.email {
                r = r.fields(vec![("Email".into(), email.clone())]);
            }
            let ended = messages::access_ended(change.sessions_ended, change.tokens_revoked, change.tokens_capped);
            if !ended.is_empty() {
                r = r.push_text(ended);
            }
            r.link("Manage in the portal", format!("{base_url}/admin/users"))
        }
        Output::Imports(list) => crate::mailboxes::imports(list, base_url),
        Output::Logs(r) => crate::logs::report(r, base_url),
        Output::Investigation(r) => crate::logs::investigation(r, base_url),
        Output::Comparison(c) => comparison(c, base_url),
        Output::Deliveries(list) => crate::mailboxes::deliveries(list, base_url),
        Output::Delivery(d) => crate::mailboxes::replayed(d, base_url),
        Output::Messages(list) => crate::mailboxes::messages(list, base_url),
        Output::MessageRetried(m) => crate::mailboxes::retried(m, base_url),
        Output::Vulnerabilities(list) => crate::security::vulnerabilities(list, base_url),
        Output::Affected(r) => crate::security::affected(r, base_url),
        Output::AdvisoriesImported(r) => crate::security::imported(r, base_url),
    }
}

/// An agent's answer: the model's words, then what its tools did that the
/// person must see — run cards with their buttons, proposals to confirm, refusals.
pub fn render_agent(answer: &switchboard_agents::llm::Answer, proposals: &[String], base_url: &str) -> Reply {
    use switchboard_agents::llm::Action;
    let mut reply = Reply::default().push_text(answer.text.trim());
    let mut proposal_ids = proposals.iter();
    for action in &answer.actions {
        match action {
            Action::Done { output, operation, .. } if operation.effect() == Effect::Automation => {
                if let Output::Run(run) = &**output {
                    reply.blocks.extend(run_card(run, base_url).blocks);
                }
            }
            Action::Done { .. } => {}
            Action::Proposed { operation, arguments } => {
                let Some(id) = proposal_ids.next() else { continue };
                reply = reply.push_text(messages::proposal(operation.name(), &arguments.to_string())).buttons(vec![
                    Button { label: "Confirm".into(), action: format!("confirm:{id}"), style: ButtonStyle::Primary },
                    Button { label: "Cancel".into(), action: format!("cancel:{id}"), style: ButtonStyle::Default },
                ]);
            }
            Action::Failed { tool, error } => reply = reply.push_text(messages::tool_failed(tool, error)),
        }
    }
    if answer.out_of_steps {
        reply = reply.push_text(messages::out_of_steps(answer.steps));
    }
    reply
}

/// Two environments side by side, what the behind one lacks, and a Promote
/// button when the environment before is ahead.
fn comparison(c: &switchboard_core::ops::output::EnvironmentComparison, base_url: &str) -> Reply {
    let rows = c
        .environments
        .iter()
        .map(|e| {
            vec![
                e.environment.to_string(),
                e.version.clone().unwrap_or_else(|| "—".into()),
                e.deployed_at.map(format_ms).unwrap_or_default(),
            ]
        })
        .collect();
    let mut reply = Reply::text(&c.summary).table(&["environment", "version", "deployed"], rows);
    if !c.changes.is_empty() {
        let lines: Vec<String> = c
            .changes
            .iter()
            .take(10)
            .map(|ch| match ch.number {
                Some(n) => format!("#{n} {} ({})", ch.title, format_date(ch.merged_at)),
                None => format!("{} ({})", ch.title, format_date(ch.merged_at)),
            })
            .collect();
        let more = c.changes.len().saturating_sub(10);
        let tail = if more > 0 { format!("\n… and {more} more") } else { String::new() };
        reply = reply.push_text(format!("Merged in between:\n{}{tail}", lines.join("\n")));
    }
    if c.ahead.as_ref() == Some(&c.from) {
        reply = reply.buttons(vec![Button {
            label: format!("Promote to {}", c.to),
            action: format!("promote:{}:{}:{}", c.project, c.from, c.to),
            style: ButtonStyle::Primary,
        }]);
    }
    reply.link("Open in portal", format!("{base_url}/projects/{}", c.project))
}

/// The question an Investigate button asks, if `action` is one.
pub fn investigate_question(action: &str) -> Option<String> {
    let project = action.strip_prefix("investigate:")?;
    (!project.is_empty()).then(|| messages::investigate(project))
}

/// An import's version changes as a table (with what was added and removed
/// too when `all`; a lock file import adds hundreds, so it shows moves only).
fn with_changes(reply: Reply, c: &switchboard_core::ops::output::DependencyChanges, all: bool) -> Reply {
    let mut rows: Vec<Vec<String>> =
        c.changed.iter().take(20).map(|x| vec![x.package.to_string(), format!("{} → {}", x.from, x.to)]).collect();
    if all {
        rows.extend(c.added.iter().take(20).map(|d| vec![d.package.to_string(), format!("added {}", d.version)]));
        rows.extend(c.removed.iter().take(20).map(|d| vec![d.package.to_string(), format!("removed {}", d.version)]));
    }
    if rows.is_empty() { reply } else { reply.table(&["package", "change"], rows) }
}

/// What an import left out: how many, and the first few with why.
fn with_skipped(reply: Reply, skipped: &[switchboard_core::import::Skipped]) -> Reply {
    if skipped.is_empty() {
        return reply;
    }
    let first: Vec<String> = skipped.iter().take(5).map(|s| format!("{}: {}", s.what, s.reason)).collect();
    reply.push_text(messages::skipped(skipped.len(), &first.join("\n")))
}
