//! A deterministic, realistic demo organisation: teams, people, projects of
//! every type with dependencies in several ecosystems, facts, and 90 days of
//! deployments, incidents, CI builds and dependency upgrades, so every question
//! has a real answer. Pure: it only builds values; the caller imports them.

use std::collections::BTreeMap;

use crate::config::Config;
use crate::event::{Event, EventData, new_event_id, payload};
use crate::ids::*;
use crate::model::*;
use crate::ops::output::VersionChange;
use crate::score;
use crate::store::{GraphBatch, ScoreInputs};

use crate::demo_org::{PACKAGES, PEOPLE, PURPOSES, TEAMS};

/// The demo's admin account; demo mode acts as this user.
pub const DEMO_ADMIN: &str = "demo-admin";

/// A small deterministic generator (SplitMix64): same seed, same org.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

fn language(project_type: &str, team: &str, rng: &mut Rng) -> (&'static str, Ecosystem) {
    match (project_type, team) {
        ("frontend", _) => ("typescript", Ecosystem::Npm),
        (_, "data") => ("python", Ecosystem::Pypi),
        (_, "platform") => ("go", Ecosystem::Go),
        _ => *rng.pick(&[("rust", Ecosystem::Cargo), ("typescript", Ecosystem::Npm), ("python", Ecosystem::Pypi)]),
    }
}

/// Options for [`generate`].
#[derive(Clone, Debug)]
pub struct DemoOptions {
    /// Number of projects; the first 60 are the hand-named ones.
    pub projects: usize,
    /// "Now" for the generated history.
    pub now: Millis,
    pub seed: u64,
}

/// One slice of the org, small enough to import in one go.
pub struct DemoChunk {
    pub batch: GraphBatch,
    pub events: Vec<Event>,
}

fn ev(data: EventData, at: Millis, actor: &str, project: &ProjectSlug) -> Event {
    let mut e = Event::of(&data, at, actor, "demo").project(project);
    e.id = new_event_id(at);
    e
}

fn slug_of(i: usize) -> (ProjectSlug, usize, &'static str) {
    let team = i % TEAMS.len();
    let (t, _, names) = &TEAMS[team];
    if i < 60 {
        let (name, ty) = names[i / TEAMS.len()].split_once(':').expect("name:type");
        (ProjectSlug::new(name).expect("valid"), team, ty)
    } else {
        let (base, ty) = names[(i / TEAMS.len()) % 10].split_once(':').expect("name:type");
        (ProjectSlug::new(format!("{t}-{base}-{i}")).expect("valid"), team, ty)
    }
}

/// Generates the org in chunks of `chunk` projects; the first chunk also holds
/// users and teams.
pub fn generate(opts: &DemoOptions, config: &Config, chunk: usize) -> impl Iterator<Item = DemoChunk> {
    let opts = opts.clone();
    let config = config.clone();
    let chunk = chunk.max(1);
    (0..opts.projects.div_ceil(chunk)).map(move |c| {
        let mut batch = GraphBatch::default();
        let mut events = Vec::new();
        if c == 0 {
            people_and_teams(&opts, &mut batch, &mut events);
        }
        for i in c * chunk..((c + 1) * chunk).min(opts.projects) {
            project(i, &opts, &config, &mut batch, &mut events);
        }
        DemoChunk { batch, events }
    })
}

fn people_and_teams(opts: &DemoOptions, batch: &mut GraphBatch, events: &mut Vec<Event>) {
    let created = opts.now - 400 * DAY_MS;
    batch.users.push(User {
        display_name: "Demo Admin".into(),
        email: Some("demo-admin@example.com".into()),
        ..User::new(UserName::new(DEMO_ADMIN).expect("valid"), Role::Admin)
    });
    for (name, display, role) in PEOPLE {
        batch.users.push(User {
            display_name: display.into(),
            email: Some(format!("{name}@example.com")),
            chat_identities: vec![ChatIdentity {
                platform: ChatPlatform::Slack,
                id: format!("U{}", name.to_uppercase()),
            }],
            ..User::new(UserName::new(name).expect("valid"), role)
        });
    }
    for (i, (slug, name, _)) in TEAMS.iter().enumerate() {
        let members = (0..3).map(|k| UserName::new(PEOPLE[(i * 3 + k) % PEOPLE.len()].0).expect("valid")).collect();
        let slug = TeamSlug::new(*slug).expect("valid");
        batch.teams.push(Team {
            slug: slug.clone(),
            name: (*name).into(),
            members,
            channels: vec![ChatChannel {
                platform: ChatPlatform::Slack,
                id: format!("C0{}", i + 1),
                name: Some(format!("#team-{slug}")),
            }],
            created_at: created,
            updated_at: created,
        });
        let team = EventData::TeamCreated(payload::TeamCreated { team: slug.clone(), name: name.to_string() });
        let mut e = Event::of(&team, created, "alice", "demo").subject(slug.as_str());
        e.id = new_event_id(created);
        events.push(e);
    }
}

/// What a lock file adds in a large org: 20-80 packages another package
/// pulls in, from a pool shared across projects (so some are everywhere and
/// most are rare), each read from the ecosystem's lock file. Their own
/// random stream, so the rest of a project is what it was without them.
fn transitive(i: usize, seed: u64, eco: Ecosystem, direct: &[Dependency]) -> Vec<Dependency> {
    let mut rng = Rng(seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x7472_616e_7369_7469);
    let (prefix, lock) = match eco {
        Ecosystem::Cargo => ("dep-", "Cargo.lock"),
        Ecosystem::Npm => ("npm-dep-", "package-lock.json"),
        Ecosystem::Pypi => ("py-dep-", "poetry.lock"),
        _ => ("github.com/deps/mod-", "go.mod"),
    };
    let n = 20 + rng.below(61);
    let mut out: Vec<Dependency> = Vec::new();
    for _ in 0..n {
        // Skewed toward the low numbers: a few packages nearly everyone has.
        let k = rng.below(2000) * rng.below(2000) / 2000;
        let package = PackageName::new(format!("{prefix}{k}")).expect("valid");
        if out.iter().chain(direct).any(|d| d.package == package) {
            continue;
        }
        let version = Version::new(format!("{}.{}.{}", k % 4, k % 11, rng.below(3))).expect("valid");
        let mut d = Dependency::new(eco, package, version);
        d.transitive = true;
        d.source = Some(lock.to_owned());
        out.push(d);
    }
    out
}

fn project(i: usize, opts: &DemoOptions, config: &Config, batch: &mut GraphBatch, events: &mut Vec<Event>) {
    let mut rng = Rng(opts.seed ^ (i as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
    let now = opts.now;
    let full = opts.projects <= 1000;
    let (slug, team_idx, ty) = slug_of(i);
    let (team, team_name, _) = TEAMS[team_idx];
    let team = TeamSlug::new(team).expect("valid");
    let actor = PEOPLE[(team_idx * 3 + i % 3) % PEOPLE.len()].0;
    let created_at = now - (120 + rng.below(600) as i64) * DAY_MS;
    let (lang, eco) = language(ty, team.as_str(), &mut rng);

    // Dependencies: some of the language's packages plus infrastructure.
    let mut deps: Vec<(usize, usize)> = Vec::new(); // (package index, version index)
    let candidates: Vec<usize> = (0..PACKAGES.len()).filter(|&p| PACKAGES[p].0 == eco).collect();
    for &p in &candidates {
        if rng.chance(0.7) {
            deps.push((p, rng.below(PACKAGES[p].2.len() as u64) as usize));
        }
    }
    for (p, (e, _, _)) in PACKAGES.iter().enumerate() {
        if *e == Ecosystem::Other && (ty == "api" || ty == "consumer") && rng.chance(0.5) {
            deps.push((p, rng.below(PACKAGES[p].2.len() as u64 - 1) as usize));
        }
    }
    if slug.as_str() == "checkout" {
        deps.retain(|(p, _)| PACKAGES[*p].1 != "redis");
        deps.push((PACKAGES.iter().position(|p| p.1 == "redis").expect("redis"), 0));
    }
    let dep = |(p, v): (usize, usize)| {
        Dependency::new(
            PACKAGES[p].0,
            PackageName::new(PACKAGES[p].1).expect("valid"),
            Version::new(PACKAGES[p].2[v]).expect("valid"),
        )
    };
    let initial: Vec<Dependency> = deps.iter().map(|d| dep(*d)).collect();
    let created = payload::ProjectCreated { name: slug.to_string(), team: team.clone(), project_type: ty.to_string() };
    events.push(ev(EventData::ProjectCreated(created), created_at, actor, &slug));
    let added = payload::DependenciesChanged { added: initial.clone(), ..Default::default() };
    let mut e = ev(EventData::DependenciesChanged(added), created_at, actor, &slug);
    for d in &initial {
        e = e.subject(d.package.as_str());
    }
    events.push(e);

    // Upgrades in the last 90 days (checkout always gets redis 7 on day 37).
    let upgrades = if full { rng.below(3) } else { 0 };
    for (n, slot) in deps.iter_mut().enumerate() {
        let (p, v) = *slot;
        let forced = slug.as_str() == "checkout" && PACKAGES[p].1 == "redis";
        if (forced || (n as u64) < upgrades) && v + 1 < PACKAGES[p].2.len() {
            let to = if forced { PACKAGES[p].2.len() - 1 } else { v + 1 };
            let at = if forced { now - 37 * DAY_MS } else { now - (1 + rng.below(89) as i64) * DAY_MS };
            let (from_d, to_d) = (dep((p, v)), dep((p, to)));
            let change = VersionChange {
                ecosystem: to_d.ecosystem,
                package: to_d.package.clone(),
                from: from_d.version.clone(),
                to: to_d.version.clone(),
            };
            let changed = payload::DependenciesChanged { changed: vec![change], ..Default::default() };
            events.push(ev(EventData::DependenciesChanged(changed), at, actor, &slug).subject(to_d.package.as_str()));
            slot.1 = to;
        }
    }
    let mut dependencies: Vec<Dependency> = deps.iter().map(|d| dep(*d)).collect();
    if i >= 60 {
        // Large orgs: internal libraries, a few very popular and a long tail.
        for _ in 0..5 {
            let k = rng.below(5000) * rng.below(5000) / 5000;
            let package = match eco {
                Ecosystem::Cargo => format!("acme-{k}"),
                Ecosystem::Npm => format!("@acme/lib-{k}"),
                Ecosystem::Pypi => format!("acme-lib-{k}"),
                _ => format!("github.com/acme/lib-{k}"),
            };
            let d = Dependency::new(
                eco,
                PackageName::new(package).expect("valid"),
                Version::new(format!("1.{}.{}", k % 7, rng.below(3))).expect("valid"),
            );
            if !dependencies.iter().any(|x| x.ecosystem == d.ecosystem && x.package == d.package) {
                dependencies.push(d);
            }
        }
        dependencies.extend(transitive(i, opts.seed, eco, &dependencies));
    }
    dependencies.sort();

    // Facts: most declared facts set, some left missing so scores vary.
    let mut facts = BTreeMap::new();
    let project_type = ProjectType::new(ty).expect("valid");
    if let Some(t) = config.project_types.get(&project_type) {
        for (key, decl) in &t.facts {
            // Repository facts come from GitHub, which the demo has not.
            if key.as_str().starts_with("repo_") {
                continue;
            }
            if !rng.chance(0.75) {
                continue;
            }
            let value = match key.as_str() {
                "language" => FactValue::Text(lang.into()),
                "oncall" => FactValue::Text(format!("{team}-primary")),
                "runbook" => FactValue::Text(format!("https://runbooks.example.com/{slug}")),
                "version" => FactValue::Text(format!("1.{}.{}", rng.below(20), rng.below(10))),
                "last_commit" => FactValue::Text(format!("{:07x}", rng.below(0xfff_ffff))),
                "queue" => FactValue::Text(format!("{slug}.events")),
                "schedule" => FactValue::Text(format!("{} {} * * *", rng.below(60), rng.below(24))),
                "license" => FactValue::Text("Apache-2.0".into()),
                _ => match &decl.fact_type {
                    FactType::Enum { values } => FactValue::Text(rng.pick(values).clone()),
                    FactType::Integer => FactValue::Integer(30 + rng.below(70) as i64),
                    FactType::Decimal => FactValue::Decimal(*rng.pick(&[99.0, 99.5, 99.9, 99.95])),
                    FactType::Bool => FactValue::Bool(rng.chance(0.6)),
                    FactType::Date => FactValue::Text(crate::time::format_date(now - rng.below(10) as i64 * DAY_MS)),
                    FactType::String => FactValue::Text(format!("{slug}-{key}")),
                },
            };
            let at = created_at + rng.below(30) as i64 * DAY_MS;
            events.push(
                ev(
                    EventData::FactSet(payload::FactSet { key: key.clone(), value: value.clone(), previous: None }),
                    at,
                    actor,
                    &slug,
                )
                .subject(key.as_str()),
            );
            facts.insert(key.clone(), Fact { key: key.clone(), value, updated_at: at });
        }
    }

    // Deployments: development often, staging less, production weekly.
    let envs = config.environments.clone();
    let mut last_deploy = None;
    let days = if full { 90 } else { 7 };
    let mut version = (1u32, rng.below(5) as u32, 0u32);
    for (k, env) in envs.iter().enumerate() {
        let every = [2, 4, 7].get(k).copied().unwrap_or(7) as i64;
        let mut day = days as i64 - rng.below(every as u64) as i64;
        while day > 0 {
            let at = now - day * DAY_MS + rng.below(8 * 3_600_000) as i64;
            version.2 += 1;
            let failed = rng.chance(0.06);
            let d = Deployment {
                id: new_event_id(at),
                project: slug.clone(),
                environment: env.clone(),
                version: format!("{}.{}.{}", version.0, version.1, version.2),
                status: if failed { DeploymentStatus::Failed } else { DeploymentStatus::Succeeded },
                sha: Some(
                    CommitSha::new(format!("{:016x}{:016x}{:08x}", rng.next(), rng.next(), rng.next() as u32))
                        .expect("hex"),
                ),
                actor: Some(actor.into()),
                url: None,
                external_id: None,
                started_at: at,
                finished_at: Some(at + (60 + rng.below(600) as i64) * 1000),
                run: None,
            };
            if !failed {
                last_deploy = Some(last_deploy.unwrap_or(0).max(at));
            }
            if full {
                events.push(
                    ev(
                        EventData::DeploymentRecorded(payload::DeploymentRecorded {
                            deployment: d.clone(),
                            previous_status: None,
                        }),
                        at,
                        actor,
                        &slug,
                    )
                    .subject(env.as_str()),
                );
            }
            batch.deployments.push(d);
            day -= every;
            if !full {
                break;
            }
        }
    }

    // CI builds on main.
    let mut last_green = None;
    let mut newest = None;
    let mut day = days as f64;
    let stale = rng.chance(0.1); // a few projects have not built lately
    while day > if stale { 40.0 } else { 0.0 } {
        let at = now - (day * DAY_MS as f64) as i64;
        let ok = !rng.chance(0.1);
        let duration = (180 + rng.below(540) as i64) * 1000;
        let b = Build {
            id: new_event_id(at),
            project: slug.clone(),
            status: if ok { BuildStatus::Success } else { BuildStatus::Failure },
            sha: Some(
                CommitSha::new(format!("{:016x}{:016x}{:08x}", rng.next(), rng.next(), rng.next() as u32))
                    .expect("hex"),
            ),
            branch: Some("main".into()),
            duration_ms: Some(duration),
            url: None,
            external_id: None,
            started_at: at,
            finished_at: Some(at + duration),
        };
        if ok {
            last_green = Some(last_green.unwrap_or(0).max(at));
        }
        // Oldest first: the last one built is the newest.
        newest = Some(score::NewestBuild { status: b.status, at: at + duration, branch: "main".into() });
        if full {
            let recorded = payload::BuildRecorded { build: b.clone(), anomaly: None };
            events.push(ev(EventData::BuildRecorded(recorded), at, actor, &slug).subject(b.status.as_str()));
        }
        batch.builds.push(b);
        day -= 1.0 + rng.below(20) as f64 / 10.0;
        if !full {
            break;
        }
    }

    // Incidents: most resolved within hours, a few still open.
    let mut incidents_in_window = 0;
    let count = if full { rng.below(3) } else { u64::from(rng.chance(0.1)) };
    for n in 0..count {
        let at = now - rng.below(days as u64 * 24) as i64 * 3_600_000 - 3_600_000;
        let open = n == 0 && rng.chance(0.15);
        let status = if open {
            *rng.pick(&[IncidentStatus::Triggered, IncidentStatus::Acknowledged])
        } else {
            IncidentStatus::Resolved
        };
        let title = rng.pick(&[
            "Error rate above SLO",
            "Latency p99 above 2s",
            "Queue lag growing",
            "Pods crash-looping after deploy",
            "Database connections exhausted",
            "Elevated 5xx from upstream",
        ]);
        let incident = Incident {
            id: new_event_id(at),
            project: slug.clone(),
            title: format!("{slug}: {title}"),
            status,
            severity: Some((*rng.pick(&["P1", "P2", "P3", "P3", "P4"])).into()),
            url: None,
            external_id: Some(format!("Q{:012X}", rng.below(1 << 40))),
            opened_at: at,
            resolved_at: (!open).then(|| at + (20 + rng.below(300) as i64) * 60_000),
        };
        incidents_in_window += 1;
        events.push(
            ev(
                EventData::IncidentRecorded(payload::IncidentRecorded {
                    incident: incident.clone(),
                    previous_status: None,
                }),
                at,
                "pagerduty",
                &slug,
            )
            .subject(incident.status.as_str()),
        );
        batch.incidents.push(incident);
    }

    let title: String = slug.as_str().split('-').map(|w| w[..1].to_uppercase() + &w[1..]).collect::<Vec<_>>().join(" ");
    let kind = config
        .project_types
        .get(&project_type)
        .map(|t| t.description.trim_end_matches('.').to_lowercase())
        .unwrap_or_default();
    // What the named projects do, so search by meaning has something to find;
    // the many generated beyond them say only what kind of project they are.
    let description = match PURPOSES.iter().find(|(s, _)| *s == slug.as_str()) {
        Some((_, purpose)) => {
            let kind: String = kind.chars().take(1).flat_map(char::to_uppercase).chain(kind.chars().skip(1)).collect();
            format!("{title}: {purpose}. {kind}, written in {lang} and owned by {team_name}.")
        }
        None => format!("{title}: {kind}, written in {lang} and owned by {team_name}."),
    };
    let mut project = Project {
        name: title,
        description,
        slug: slug.clone(),
        team,
        project_type,
        links: vec![Link { title: "Repository".into(), url: format!("https://github.com/acme/{slug}") }],
        facts,
        environments: envs.into_iter().map(|name| Environment { name, url: None }).collect(),
        dependencies,
        external_ids: ExternalIds {
            github_repository: Some(format!("acme/{slug}")),
            pagerduty_service: Some(format!("P{:06X}", i)),
            ..Default::default()
        },
        archived: false,
        score: 0,
        created_at,
        updated_at: now,
    };
    let inputs = ScoreInputs {
        incidents_in_window,
        last_green_build_at: last_green,
        last_successful_deploy_at: last_deploy,
        newest_build: newest,
        ..Default::default()
    };
    project.score = score::compute(config, &project, &inputs, now).score;
    batch.projects.push(project);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_named() {
        let cfg = Config::default();
        let opts = DemoOptions { projects: 60, now: 1_800_000_000_000, seed: 7 };
        let a: Vec<_> = generate(&opts, &cfg, 25).collect();
        let b: Vec<_> = generate(&opts, &cfg, 25).collect();
        assert_eq!(a.len(), 3);
        let pa: Vec<_> = a.iter().flat_map(|c| c.batch.projects.iter()).collect();
        let pb: Vec<_> = b.iter().flat_map(|c| c.batch.projects.iter()).collect();
        assert_eq!(pa, pb);
        assert_eq!(pa.len(), 60);
        assert_eq!(a[0].batch.teams.len(), 6);
        for name in ["payments-api", "checkout", "orders"] {
            assert!(pa.iter().any(|p| p.slug.as_str() == name), "{name}");
        }
        let checkout = pa.iter().find(|p| p.slug.as_str() == "checkout").unwrap();
        assert!(checkout.dependencies.iter().any(|d| d.package.as_str() == "redis" && d.version.as_str() == "7.2.4"));
    }

    #[test]
    fn large_orgs_have_unique_slugs() {
        let cfg = Config::default();
        let opts = DemoOptions { projects: 3000, now: 1_800_000_000_000, seed: 7 };
        let mut slugs: Vec<_> = generate(&opts, &cfg, 1000).flat_map(|c| c.batch.projects).map(|p| p.slug).collect();
        let n = slugs.len();
        slugs.sort();
        slugs.dedup();
        assert_eq!(slugs.len(), n);
    }
}
