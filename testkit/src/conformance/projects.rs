//! Conformance: projects, search, dependents, teams and users.

use switchboard_core::event::EventQuery;
use switchboard_core::ids::*;
use switchboard_core::model::*;
use switchboard_core::store::*;

use super::*;

pub async fn missing_entities(b: &Backend) {
    let g = &b.graph;
    assert!(g.get_project(&slug("nope")).await.unwrap().is_none());
    assert!(g.get_team(&TeamSlug::new("nope").unwrap()).await.unwrap().is_none());
    assert!(g.get_user(&UserName::new("nobody").unwrap()).await.unwrap().is_none());
    assert!(g.get_run(&RunId::new()).await.unwrap().is_none());
    assert!(g.project_by_external_id("github_repository", "a/b").await.unwrap().is_none());
    assert!(g.project_by_external_id("unknown_kind", "x").await.unwrap().is_none());
    assert!(g.deployment_by_external_id(&slug("nope"), "1").await.unwrap().is_none());
    assert!(g.incident_by_external_id(&slug("nope"), "1").await.unwrap().is_none());
    assert!(g.build_by_external_id(&slug("nope"), "1").await.unwrap().is_none());
    assert!(g.list_builds(&slug("nope"), 10).await.unwrap().is_empty());
    assert!(g.current_deployments(&slug("nope")).await.unwrap().is_empty());
    let d = g
        .dependents(&DependentsQuery {
            package: PackageName::new("nothing").unwrap(),
            version: None,
            ecosystem: None,
            limit: 10,
            direct_only: false,
        })
        .await
        .unwrap();
    assert_eq!(d.total, 0);
    assert!(b.log.query(&EventQuery { project: Some(slug("nope")), ..Default::default() }).await.unwrap().is_empty());
}

pub async fn project_round_trip(b: &Backend) {
    let long = "ü".repeat(5000) + " 支付 🚀";
    let mut p = project("zurich-free")
        .describe(&long)
        .uses(Ecosystem::Npm, "@types/node", "20.1.0")
        .uses(Ecosystem::Cargo, "serde", "1.0.0")
        .uses(Ecosystem::Go, "github.com/gin-gonic/gin", "v1.9.1")
        .fact("tier", FactValue::Text("1".into()))
        .fact("replicas", FactValue::Integer(-3))
        .fact("slo", FactValue::Decimal(99.95))
        .fact("public", FactValue::Bool(false))
        .build();
    p.links = vec![Link { title: "Dashboards — prod".into(), url: "https://example.com/d?x=1&y=2".into() }];
    p.external_ids = ExternalIds {
        github_repository: Some("acme/zurich".into()),
        pagerduty_service: Some("PABC123".into()),
        ..Default::default()
    };
    b.graph.put_project(&p).await.unwrap();
    assert_eq!(b.graph.get_project(&p.slug).await.unwrap().unwrap(), p);

    // What an edge read from a lock file or an SBOM carries comes back too.
    let serde = p.dependencies.iter_mut().find(|d| d.package.as_str() == "serde").unwrap();
    serde.requirement = Some("^1".into());
    serde.source = Some("services/api/Cargo.lock".into());
    let node = p.dependencies.iter_mut().find(|d| d.package.as_str() == "@types/node").unwrap();
    node.transitive = true;
    node.scope = DependencyScope::Dev;
    node.source = Some("sbom:web.cdx.json".into());
    b.graph.put_project(&p).await.unwrap();
    assert_eq!(b.graph.get_project(&p.slug).await.unwrap().unwrap(), p);
}

pub async fn project_upsert_replaces(b: &Backend) {
    let p = project("orders")
        .uses(Ecosystem::Npm, "a", "1")
        .uses(Ecosystem::Npm, "b", "1")
        .fact("x", FactValue::Integer(1))
        .build();
    b.graph.put_project(&p).await.unwrap();
    let mut p2 = project("orders").uses(Ecosystem::Npm, "b", "2").build();
    p2.name = "Orders v2".into();
    b.graph.put_project(&p2).await.unwrap();
    assert_eq!(b.graph.get_project(&p2.slug).await.unwrap().unwrap(), p2);
    let d = b
        .graph
        .dependents(&DependentsQuery {
            package: PackageName::new("a").unwrap(),
            version: None,
            ecosystem: None,
            limit: 10,
            direct_only: false,
        })
        .await
        .unwrap();
    assert_eq!(d.total, 0, "old dependency edges are gone");
    let q = ProjectQuery { fact: Some((FactKey::new("x").unwrap(), "1".into())), limit: 10, ..Default::default() };
    assert!(b.graph.find_projects(&q).await.unwrap().is_empty(), "old facts are gone");
}

/// A project read and written without its dependencies (a fact set, a score
/// moved): the stored edges and their counts stay; a team or archived mark
/// changed that way still reaches the edges; the new fact is searchable.
pub async fn project_fields_alone(b: &Backend) {
    let g = &b.graph;
    let whole = project("ledger")
        .team("t")
        .uses(Ecosystem::Npm, "left-pad", "1.3.0")
        .uses(Ecosystem::Cargo, "serde", "1.0.0")
        .fact("tier", FactValue::Text("1".into()))
        .build();
    g.put_project(&whole).await.unwrap();
    assert!(g.get_project_fields(&slug("nope")).await.unwrap().is_none());
    let mut fields = g.get_project_fields(&whole.slug).await.unwrap().unwrap();
    assert!(fields.dependencies.is_empty());
    assert_eq!(Project { dependencies: whole.dependencies.clone(), ..fields.clone() }, whole);

    fields.facts.insert(
        FactKey::new("runbook").unwrap(),
        Fact { key: FactKey::new("runbook").unwrap(), value: FactValue::Text("quasar".into()), updated_at: 5 },
    );
    fields.score = 42;
    g.put_project_fields(&fields).await.unwrap();
    let read = g.get_project(&whole.slug).await.unwrap().unwrap();
    assert_eq!(read, Project { dependencies: whole.dependencies.clone(), ..fields.clone() }, "edges kept");
    let found = g.find_projects(&ProjectQuery { text: Some("quasar".into()), limit: 5, ..Default::default() }).await;
    assert_eq!(slugs(&found.unwrap()), ["ledger"]);

    let users = |package: &str| {
        let q = users_of(package);
        async move { g.dependents(&q).await.unwrap() }
    };
    assert_eq!(users("left-pad").await.total, 1);
    fields.team = TeamSlug::new("u").unwrap();
    g.put_project_fields(&fields).await.unwrap();
    let d = users("left-pad").await;
    assert_eq!((d.total, d.projects[0].team.as_str()), (1, "u"), "the edges follow the team");
    fields.archived = true;
    g.put_project_fields(&fields).await.unwrap();
    assert_eq!(users("serde").await.total, 0, "an archived project's edges are not counted");
    assert_eq!(g.get_project(&whole.slug).await.unwrap().unwrap().dependencies, whole.dependencies);

    // Not stored yet: stored without dependencies, whatever it carries.
    let new = project("fresh").uses(Ecosystem::Npm, "left-pad", "1.3.0").build();
    g.put_project_fields(&new).await.unwrap();
    assert!(g.get_project(&new.slug).await.unwrap().unwrap().dependencies.is_empty());
}

fn slugs(v: &[ProjectSummary]) -> Vec<&str> {
    v.iter().map(|p| p.slug.as_str()).collect()
}

pub async fn find_projects_filters(b: &Backend) {
    put_all(
        b,
        vec![
            project("b-api")
                .team("pay")
                .uses(Ecosystem::Npm, "left-pad", "1.2.3")
                .fact("tier", FactValue::Text("1".into()))
                .build(),
            project("a-api").team("pay").uses(Ecosystem::Npm, "left-pad", "1.3.0").build(),
            project("c-worker").team("ops").kind("consumer").uses(Ecosystem::Npm, "left-pad", "1.2.3").build(),
            project("d-old").team("pay").archived().build(),
        ],
    )
    .await;
    let find = |q: ProjectQuery| async move { b.graph.find_projects(&q).await.unwrap() };
    let all = find(ProjectQuery { limit: 100, ..Default::default() }).await;
    assert_eq!(slugs(&all), ["a-api", "b-api", "c-worker"], "ordered by slug, archived hidden");
    let with = find(ProjectQuery { include_archived: true, limit: 100, ..Default::default() }).await;
    assert_eq!(with.len(), 4);
    assert!(with.iter().any(|p| p.archived));
    let pay = find(ProjectQuery { team: Some(TeamSlug::new("pay").unwrap()), limit: 100, ..Default::default() }).await;
    assert_eq!(slugs(&pay), ["a-api", "b-api"]);
    let consumers = find(ProjectQuery {
        project_type: Some(ProjectType::new("consumer").unwrap()),
        limit: 100,
        ..Default::default()
    })
    .await;
    assert_eq!(slugs(&consumers), ["c-worker"]);
    let uses = find(ProjectQuery {
        uses: Some((PackageName::new("left-pad").unwrap(), Some(Version::new("1.2.3").unwrap()))),
        limit: 100,
        ..Default::default()
    })
    .await;
    assert_eq!(slugs(&uses), ["b-api", "c-worker"]);
    let any = find(ProjectQuery {
        uses: Some((PackageName::new("left-pad").unwrap(), None)),
        limit: 2,
        ..Default::default()
    })
    .await;
    assert_eq!(slugs(&any), ["a-api", "b-api"], "limit applies after ordering");
    let page = |offset, limit| find(ProjectQuery { include_archived: true, limit, offset, ..Default::default() });
    assert_eq!(slugs(&page(1, 2).await), ["b-api", "c-worker"], "a page skips the ones before it");
    assert_eq!(slugs(&page(3, 2).await), ["d-old"], "the last page is short");
    assert!(page(9, 2).await.is_empty(), "past the end: nothing");
    let api = |offset| find(ProjectQuery { text: Some("api".into()), limit: 1, offset, ..Default::default() });
    let (first, second) = (api(0).await, api(1).await);
    assert_eq!((first.len(), second.len()), (1, 1));
    assert_ne!(first[0].slug, second[0].slug, "a search's second page is its next match");
    let fact = find(ProjectQuery {
        fact: Some((FactKey::new("tier").unwrap(), "1".into())),
        limit: 100,
        ..Default::default()
    })
    .await;
    assert_eq!(slugs(&fact), ["b-api"]);
    let zero = find(ProjectQuery { limit: 0, ..Default::default() }).await;
    assert_eq!(zero.len(), 3, "limit 0 means the default");
    let count = |q: ProjectQuery| async move { b.graph.count_projects(&q).await.unwrap() };
    assert_eq!(count(ProjectQuery { limit: 1, ..Default::default() }).await, 3, "counts ignore the limit");
    assert_eq!(
        count(ProjectQuery { team: Some(TeamSlug::new("pay").unwrap()), include_archived: true, ..Default::default() })
            .await,
        3
    );
    assert_eq!(
        count(ProjectQuery { uses: Some((PackageName::new("left-pad").unwrap(), None)), ..Default::default() }).await,
        3
    );
    assert_eq!(count(ProjectQuery { text: Some("worker".into()), ..Default::default() }).await, 1);
}

pub async fn text_search(b: &Backend) {
    put_all(
        b,
        vec![
            project("ledger").describe("Double-entry bookkeeping for Payments").build(),
            project("fraud-scorer").describe("Scores card payments in Zürich").build(),
            project("cart")
                .describe("Shopping cart")
                .fact("oncall", FactValue::Text("payments-primary".into()))
                .fact("last_commit", FactValue::Text("6dcb09b5b57875f334f61aebed695e2e4193db5e".into()))
                .fact("release", FactValue::Text("beta2".into()))
                .build(),
        ],
    )
    .await;
    let search = |t: &str| {
        let q = ProjectQuery { text: Some(t.into()), limit: 10, ..Default::default() };
        async move { b.graph.find_projects(&q).await.unwrap() }
    };
    let mut hits = slugs(&search("PAYMENTS").await).into_iter().map(str::to_owned).collect::<Vec<_>>();
    hits.sort();
    assert_eq!(hits, ["cart", "fraud-scorer", "ledger"], "case-insensitive, facts searched");
    assert_eq!(slugs(&search("book").await), ["ledger"], "word prefix");
    assert_eq!(slugs(&search("fraud").await), ["fraud-scorer"], "slug words");
    assert_eq!(slugs(&search("card payments").await), ["fraud-scorer"], "all words must match");
    assert_eq!(slugs(&search("zurich").await), ["fraud-scorer"], "diacritics ignored");
    assert!(
        search("\"*) OR (").await.is_empty() || search("\"*) OR (").await.len() <= 3,
        "query syntax is not interpreted"
    );
    assert!(search("nothing-like-this").await.is_empty());
    assert!(search("6dcb09b5b57875f334f61aebed695e2e4193db5e").await.is_empty(), "commit ids are not searched");
    assert_eq!(slugs(&search("beta2").await), ["cart"], "short words with digits are");
}

pub async fn external_ids(b: &Backend) {
    let mut p = project("repo-one").build();
    p.external_ids = ExternalIds {
        github_repository: Some("acme/repo-one".into()),
        github_repository_id: Some("708090".into()),
        pagerduty_service: Some("PX1".into()),
    };
    b.graph.put_project(&p).await.unwrap();
    assert_eq!(b.graph.project_by_external_id("github_repository_id", "708090").await.unwrap(), Some(p.slug.clone()));
    assert!(b.graph.project_by_external_id("github_repository_id", "708091").await.unwrap().is_none());
    assert_eq!(
        b.graph.project_by_external_id("github_repository", "acme/repo-one").await.unwrap(),
        Some(p.slug.clone())
    );
    assert_eq!(b.graph.project_by_external_id("pagerduty_service", "PX1").await.unwrap(), Some(p.slug.clone()));
    assert!(b.graph.project_by_external_id("github_repository", "acme/other").await.unwrap().is_none());
}

pub async fn dependents_counts(b: &Backend) {
    put_all(
        b,
        vec![
            project("p3").team("t").uses(Ecosystem::Other, "redis", "7.2.4").build(),
            project("p1").team("t").uses(Ecosystem::Other, "redis", "6.2.14").build(),
            project("p2")
                .team("u")
                .uses(Ecosystem::Other, "redis", "7.2.4")
                .uses(Ecosystem::Pypi, "redis", "5.0.4")
                .build(),
            project("p4").uses(Ecosystem::Other, "redis", "7.2.4").archived().build(),
        ],
    )
    .await;
    let q = |version: Option<&str>, eco: Option<Ecosystem>, limit: usize| DependentsQuery {
        package: PackageName::new("redis").unwrap(),
        version: version.map(|v| Version::new(v).unwrap()),
        ecosystem: eco,
        limit,
        direct_only: false,
    };
    let d = b.graph.dependents(&q(None, None, 10)).await.unwrap();
    assert_eq!(d.total, 4, "p4 is archived");
    assert_eq!(
        d.versions[0],
        VersionCount { ecosystem: Ecosystem::Other, version: Version::new("7.2.4").unwrap(), projects: 2, direct: 2 }
    );
    assert_eq!(d.versions.len(), 3);
    let names: Vec<_> = d.projects.iter().map(|r| (r.project.as_str(), r.version.as_str())).collect();
    assert_eq!(names, [("p1", "6.2.14"), ("p2", "7.2.4"), ("p2", "5.0.4"), ("p3", "7.2.4")]);
    assert_eq!(d.projects[0].team.as_str(), "t");
    let d = b.graph.dependents(&q(Some("7.2.4"), None, 1)).await.unwrap();
    assert_eq!((d.total, d.projects.len()), (2, 1));
    let d = b.graph.dependents(&q(None, Some(Ecosystem::Pypi), 10)).await.unwrap();
    assert_eq!(d.total, 1);

    // The counts follow every write: a new fact changes nothing, a project
    // archived (or brought back) leaves (or rejoins) them, a version moved
    // moves its count, and a version no one uses any more is not listed.
    let counts = |d: &Dependents| -> Vec<(String, u64)> {
        let mut v: Vec<_> =
            d.versions.iter().map(|c| (format!("{} {}", c.ecosystem.as_str(), c.version), c.projects)).collect();
        v.sort();
        v
    };
    let p3 = project("p3").team("t").uses(Ecosystem::Other, "redis", "7.2.4");
    put_all(b, vec![p3.clone().fact("tier", FactValue::Integer(1)).build()]).await;
    let d = b.graph.dependents(&q(None, None, 10)).await.unwrap();
    assert_eq!(counts(&d), [("other 6.2.14".into(), 1), ("other 7.2.4".into(), 2), ("pypi 5.0.4".into(), 1)]);
    put_all(b, vec![p3.clone().archived().build()]).await;
    let d = b.graph.dependents(&q(None, None, 10)).await.unwrap();
    assert_eq!((d.total, counts(&d)[1].clone()), (3, ("other 7.2.4".into(), 1)));
    put_all(b, vec![p3.build(), project("p1").team("t").uses(Ecosystem::Other, "redis", "7.2.4").build()]).await;
    let d = b.graph.dependents(&q(None, None, 10)).await.unwrap();
    assert_eq!(counts(&d), [("other 7.2.4".into(), 3), ("pypi 5.0.4".into(), 1)], "6.2.14 is no longer used");
    assert_eq!(d.total, 4);
    put_all(b, vec![project("p1").team("t").uses(Ecosystem::Other, "redis", "6.2.14").build()]).await;

    // Which packages are in use, as a bulk advisory import asks: by
    // ecosystem, and an archived project's packages are not.
    put_all(b, vec![project("p5").uses(Ecosystem::Npm, "retired", "1.0.0").archived().build()]).await;
    let package = |eco, name: &str| (eco, name.to_owned());
    let asked = [
        package(Ecosystem::Other, "redis"),
        package(Ecosystem::Pypi, "redis"),
        package(Ecosystem::Npm, "redis"),
        package(Ecosystem::Npm, "retired"),
    ];
    let in_use = b.graph.packages_in_use(&asked).await.unwrap();
    assert_eq!(in_use, [asked[0].clone(), asked[1].clone()].into_iter().collect());
    assert!(b.graph.packages_in_use(&[]).await.unwrap().is_empty());
}

pub async fn dependents_direct_and_transitive(b: &Backend) {
    let through = |mut p: Project| {
        for d in &mut p.dependencies {
            d.transitive = true;
        }
        p
    };
    put_all(
        b,
        vec![
            project("a").uses(Ecosystem::Npm, "redis", "4.6.7").build(),
            through(project("b").uses(Ecosystem::Npm, "redis", "4.6.7").build()),
            through(project("c").uses(Ecosystem::Npm, "redis", "3.1.2").build()),
        ],
    )
    .await;
    let q = |direct_only| DependentsQuery {
        package: PackageName::new("redis").unwrap(),
        version: None,
        ecosystem: None,
        limit: 10,
        direct_only,
    };
    let all = b.graph.dependents(&q(false)).await.unwrap();
    assert_eq!(all.total, 3);
    let v = |d: &Dependents, version: &str| d.versions.iter().find(|c| c.version.as_str() == version).cloned();
    assert_eq!(v(&all, "4.6.7").map(|c| (c.projects, c.direct)), Some((2, 1)));
    let rows: Vec<(&str, bool)> = all.projects.iter().map(|r| (r.project.as_str(), r.transitive)).collect();
    assert_eq!(rows, [("a", false), ("b", true), ("c", true)]);
    let direct = b.graph.dependents(&q(true)).await.unwrap();
    assert_eq!((direct.total, direct.projects.len()), (1, 1));
    assert!(v(&direct, "3.1.2").is_none(), "a version only used transitively is not listed");
    // Edges change kind: the counts follow.
    put_all(b, vec![project("b").uses(Ecosystem::Npm, "redis", "4.6.7").build()]).await;
    let direct = b.graph.dependents(&q(true)).await.unwrap();
    assert_eq!(v(&direct, "4.6.7").map(|c| (c.projects, c.direct)), Some((2, 2)));
    put_all(b, vec![through(project("a").uses(Ecosystem::Npm, "redis", "4.6.7").build())]).await;
    let all = b.graph.dependents(&q(false)).await.unwrap();
    assert_eq!(v(&all, "4.6.7").map(|c| (c.projects, c.direct)), Some((2, 1)));
}

pub async fn packages_prefix(b: &Backend) {
    put_all(
        b,
        vec![
            project("x")
                .uses(Ecosystem::Npm, "react", "18")
                .uses(Ecosystem::Npm, "redux", "5")
                .uses(Ecosystem::Npm, "lodash", "4")
                .build(),
        ],
    )
    .await;
    let names: Vec<String> = b.graph.packages("re", 10).await.unwrap().into_iter().map(String::from).collect();
    assert_eq!(names, ["react", "redux"]);
    assert_eq!(b.graph.packages("", 1).await.unwrap().len(), 1);
}

pub async fn teams_and_users(b: &Backend) {
    for t in ["zeta", "alpha"] {
        b.graph.put_team(&team(t)).await.unwrap();
    }
    let mut t = team("alpha");
    t.name = "Alpha Ω".into();
    b.graph.put_team(&t).await.unwrap();
    let teams = b.graph.list_teams().await.unwrap();
    assert_eq!(teams.iter().map(|t| t.slug.as_str()).collect::<Vec<_>>(), ["alpha", "zeta"]);
    assert_eq!(teams[0], t);
    let u = User {
        name: UserName::new("bob").unwrap(),
        display_name: "Bob Ø".into(),
        email: Some("bob@example.com".into()),
        role: Role::Approver,
        chat_identities: vec![ChatIdentity { platform: ChatPlatform::Discord, id: "123".into() }],
        disabled: true,
        session_generation: 3,
        oidc: Some(OidcSubject { issuer: "https://id.example.com".into(), subject: "u-1".into() }),
    };
    b.graph.put_user(&u).await.unwrap();
    assert_eq!(b.graph.get_user(&u.name).await.unwrap().unwrap(), u);
    assert_eq!(b.graph.list_users().await.unwrap(), vec![u]);
}
