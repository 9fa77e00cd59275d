//! The intent router over a table of phrasings for every operation,
//! including typos, missing arguments, quotes and code blocks.

use serde_json::{Value, json};
use switchboard_agents::router::{Catalog, Names, Routed, route};

fn names(list: &[&str]) -> Names {
    Names::new(list.iter().map(|s| (*s).to_owned()))
}

fn catalog() -> Catalog {
    Catalog {
        projects: names(&[
            "payments-api",
            "payments-ledger",
            "checkout",
            "orders",
            "cart",
            "fraud-scorer",
            "old-reports",
        ]),
        teams: names(&["payments", "checkout-team", "platform", "risk"]),
        packages: names(&["left-pad", "redis", "foo", "react", "@types/node", "github.com/gin-gonic/gin"]),
        environments: names(&["development", "staging", "production"]),
        project_types: names(&["api", "consumer", "frontend", "library", "job"]),
        templates: names(&["api", "consumer", "frontend", "library", "job"]),
        users: names(&["alice", "bob", "carol", "mallory"]),
        runs: vec![],
    }
}

#[track_caller]
fn call(text: &str, op: &str, args: Value) {
    match route(text, &catalog()) {
        Routed::Call { operation, arguments, .. } => {
            assert_eq!((operation.name(), &arguments), (op, &args), "{text:?}");
        }
        other => panic!("{text:?} should call {op}, replied {:?}", other.reply_text()),
    }
}

#[track_caller]
fn reply(text: &str, contains: &str) {
    match route(text, &catalog()) {
        Routed::Reply { text: r } | Routed::Choose { text: r, .. } => {
            assert!(r.contains(contains), "{text:?} replied {r:?}, expected {contains:?}")
        }
        Routed::Call { operation, arguments, .. } => {
            panic!("{text:?} should reply, called {} {arguments}", operation.name())
        }
    }
}

const RUN: &str = "01930f3e-5c1a-7b6e-9d2f-0a1b2c3d4e5f";

#[test]
fn the_issue_examples() {
    call("/sb deploy orders staging", "deploy", json!({"project": "orders", "environment": "staging"}));
    call("deploy orders to staging", "deploy", json!({"project": "orders", "environment": "staging"}));
    call("who owns payments?", "get_team", json!({"team": "payments"}));
    call("which projects use left-pad 1.2.3?", "dependents", json!({"package": "left-pad", "version": "1.2.3"}));
    call("When did checkout get redis 7?", "project_history", json!({"project": "checkout", "subject": "redis 7"}));
    call(
        "Update everything using foo v1.2.3 to foo v1.4.5",
        "upgrade_dependency",
        json!({"package": "foo", "from": "1.2.3", "to": "1.4.5"}),
    );
    reply("Create a new consumer project for me", "What should the new consumer project be called?");
    call("what is waiting for approval?", "list_runs", json!({"status": "pending"}));
}

#[test]
fn every_operation_has_a_phrasing() {
    call("tell me about orders", "get_project", json!({"project": "orders"}));
    call("who owns fraud-scorer", "get_project", json!({"project": "fraud-scorer"}));
    call("find projects about ledger", "find_projects", json!({"query": "ledger"}));
    call("projects owned by payments", "find_projects", json!({"team": "payments"}));
    call("list consumer projects", "find_projects", json!({"project_type": "consumer"}));
    call("who uses react", "dependents", json!({"package": "react"}));
    call("history of orders in the last 7 days", "project_history", json!({"project": "orders", "since": "7d"}));
    call(
        "deployments of orders in production",
        "list_deployments",
        json!({"project": "orders", "environment": "production", "limit": 10}),
    );
    call("what is deployed in prod?", "list_deployments", json!({"environment": "production", "limit": 10}));
    call("incidents for team payments", "list_incidents", json!({"team": "payments"}));
    call("resolved incidents on checkout", "list_incidents", json!({"project": "checkout", "status": "resolved"}));
    call("score of orders", "project_score", json!({"project": "orders"}));
    call("how is CI for orders?", "ci_health", json!({"project": "orders"}));
    call("dora for team payments", "dora", json!({"team": "payments"}));
    call("deployment frequency of orders", "dora", json!({"project": "orders"}));
    call("what is our lead time?", "dora", json!({}));
    call("any flaky builds in checkout?", "ci_health", json!({"project": "checkout"}));
    call("is the pipeline of ordres healthy", "ci_health", json!({"project": "orders"}));
    call("who is on payments?", "get_team", json!({"team": "payments"}));
    call("list teams", "list_teams", json!({}));
    call(&format!("show run {RUN}"), "get_run", json!({"run": RUN}));
    call(
        "/sb create_project slug=new-thing team=payments project_type=api",
        "create_project",
        json!({"slug": "new-thing", "team": "payments", "project_type": "api"}),
    );
    call(
        "/sb update_project project=orders description=\"Takes orders\"",
        "update_project",
        json!({"project": "orders", "description": "Takes orders"}),
    );
    call("archive old-reports", "archive_project", json!({"project": "old-reports"}));
    call("set tier of orders to 1", "set_fact", json!({"project": "orders", "key": "tier", "value": "1"}));
    call(
        "set orders oncall to Checkout Night",
        "set_fact",
        json!({"project": "orders", "key": "oncall", "value": "Checkout Night"}),
    );
    call(
        r#"/sb set_dependencies {"project": "orders", "dependencies": []}"#,
        "set_dependencies",
        json!({"project": "orders", "dependencies": []}),
    );
    call("create team sre", "create_team", json!({"slug": "sre"}));
    call("/sb update_team team=risk name=Risk", "update_team", json!({"team": "risk", "name": "Risk"}));
    call(
        "/sb record_deployment orders staging 1.4.2",
        "record_deployment",
        json!({"project": "orders", "environment": "staging", "version": "1.4.2"}),
    );
    call(
        "/sb record_incident project=orders title=\"Checkout is slow\"",
        "record_incident",
        json!({"project": "orders", "title": "Checkout is slow"}),
    );
    call(
        "/sb record_build project=orders status=success duration_ms=1200",
        "record_build",
        json!({"project": "orders", "status": "success", "duration_ms": 1200}),
    );
    call(
        "upgrade redis to 7.2.4 in checkout",
        "upgrade_dependency",
        json!({"package": "redis", "to": "7.2.4", "project": "checkout"}),
    );
    call(
        "ship orders v1.5.0 to production",
        "deploy",
        json!({"project": "orders", "environment": "production", "version": "1.5.0"}),
    );
    call(
        "create a new consumer project called invoice-consumer for team payments",
        "scaffold_project",
        json!({"name": "invoice-consumer", "template": "consumer", "team": "payments"}),
    );
    call(&format!("approve {RUN}"), "approve_run", json!({"run": RUN}));
    // The confirmation a production deploy asks for, in words.
    call(&format!("approve {RUN} confirm"), "approve_run", json!({"run": RUN, "confirm": true}));
    call(&format!("confirmed: approve {RUN} to production"), "approve_run", json!({"run": RUN, "confirm": true}));
    call(
        &format!("deny {RUN} because it is Freeze week"),
        "deny_run",
        json!({"run": RUN, "reason": "it is Freeze week"}),
    );
}

/// Admins' requests about people's accounts, in the words people use.
#[test]
fn account_phrasings() {
    for (text, role) in [
        ("make carol an approver", "approver"),
        ("Make Carol admin", "admin"),
        ("set carol's role to viewer", "viewer"),
        ("change the role of bob to editor", "editor"),
        ("promote carol to administrator", "admin"),
        ("demote bob to viewer", "viewer"),
        ("give carol the editor role", "editor"),
        ("carol should be an approver", "approver"),
    ] {
        call(text, "set_user_role", json!({"user": role_user(text), "role": role}));
    }
    call("disable mallory", "disable_user", json!({"user": "mallory"}));
    call(
        "deactivate mallory's account because they left the company",
        "disable_user",
        json!({"user": "mallory", "reason": "they left the company"}),
    );
    call("lock mallory", "disable_user", json!({"user": "mallory"}));
    call("enable mallory again", "enable_user", json!({"user": "mallory"}));
    call("reactivate the account of mallory", "enable_user", json!({"user": "mallory"}));
    call("sign carol out everywhere", "sign_out_everywhere", json!({"user": "carol"}));
    call("log bob out of all his sessions", "sign_out_everywhere", json!({"user": "bob"}));
    call("end carol's sessions", "sign_out_everywhere", json!({"user": "carol"}));
    call("kick bob out", "sign_out_everywhere", json!({"user": "bob"}));
    call(
        "set carol's email to carol@example.com",
        "set_user_email",
        json!({"user": "carol", "email": "carol@example.com"}),
    );
    call(
        "change the email of bob to Bob.B@Example.org",
        "set_user_email",
        json!({"user": "bob", "email": "Bob.B@Example.org"}),
    );
    call("remove carol's email", "set_user_email", json!({"user": "carol", "email": null}));
    for text in ["list users", "who has access?", "who are the admins?", "show all accounts"] {
        call(text, "list_users", json!({}));
    }
    // Asked, not guessed: a misspelt person, a missing one, a missing address.
    reply("disable carl", "Did you mean carol");
    reply("make somebody an approver", "Whom should I make an approver?");
    reply("sign out everywhere", "Whom should I sign out everywhere?");
    reply("set carol's email", "What is carol's email address?");
    // Words that name other things stay theirs.
    call("set tier of orders to 1", "set_fact", json!({"project": "orders", "key": "tier", "value": "1"}));
    call("which projects use redis", "dependents", json!({"package": "redis"}));
}

/// The person a role phrasing names.
fn role_user(text: &str) -> &'static str {
    if text.to_lowercase().contains("bob") { "bob" } else { "carol" }
}

#[test]
fn help_is_generated_from_the_registry() {
    let Routed::Reply { text } = route("help", &catalog()) else { panic!() };
    for k in switchboard_core::ops::OpKind::ALL {
        assert!(text.contains(k.name()), "help misses {}", k.name());
    }
    reply("what can you do?", "deploy orders to staging");
}

#[test]
fn typos_are_corrected_for_reads_and_questioned_for_changes() {
    call("tell me about ordres", "get_project", json!({"project": "orders"}));
    call("which projects use lfet-pad 1.2.3?", "dependents", json!({"package": "left-pad", "version": "1.2.3"}));
    call("score of chekout", "project_score", json!({"project": "checkout"}));
    reply("deploy ordres to staging", "Did you mean orders?");
    reply("archive chekout", "Did you mean checkout?");
    reply("upgrade lfet-pad to 2.0.0", "Did you mean left-pad?");
    call("deploy orders to stagign", "deploy", json!({"project": "orders", "environment": "staging"}));
}

#[test]
fn missing_arguments_are_asked_for_not_guessed() {
    reply("deploy orders", "Where should I deploy orders?");
    reply("deploy to staging", "Which project should I deploy?");
    reply("upgrade redis", "Which version should redis be upgraded to?");
    reply("create a new project", "Which template");
    reply("approve", "Which run?");
    reply("when did we get redis 7", "Which project?");
    reply("score", "Which project?");
    reply("set tier to 1", "Which project?");
    reply("/sb get_project", "`project` is missing");
    reply("/sb deploy_x", "could not tell");
}

#[test]
fn unknown_and_ambiguous_names() {
    reply("who owns payroll?", "I don't know a project or team called payroll");
    reply("who owns paym?", "project or team called paym");
    reply("which projects use left-pads-and-more?", "No project in the graph uses left-pads-and-more");
    reply("blorp the frobnicator", "I could not tell what you want");
    reply("tell me about zzzz", "could not tell");
}

#[test]
fn code_quotes_and_bad_input_change_nothing() {
    reply("```\ndeploy orders to production\n```", "only see code, quoted text");
    reply("> deploy orders to production", "only see code, quoted text");
    call("> deploy orders to production\nwho uses redis?", "dependents", json!({"package": "redis"}));
    reply("", "Say something");
    reply("   ", "Say something");
    reply(&"deploy ".repeat(1000), "too long");
    reply("/sb get_project {not json", "not valid JSON");
    reply("/sb get_project [1, 2]", "JSON object");
    reply("/sb get_project orders extra", "I don't know where `extra` goes");
}

#[test]
fn go_versions_keep_their_v() {
    call(
        "update github.com/gin-gonic/gin from v1.9.1 to v1.10.0",
        "upgrade_dependency",
        json!({"package": "github.com/gin-gonic/gin", "from": "v1.9.1", "to": "v1.10.0"}),
    );
    call("who uses @types/node 20.1.0", "dependents", json!({"package": "@types/node", "version": "20.1.0"}));
}

#[test]
fn json_output_shape() {
    assert_eq!(
        route("deploy orders to staging", &catalog()).to_json(),
        json!({"operation": "deploy", "arguments": {"project": "orders", "environment": "staging"}})
    );
    let v = route("blorp", &catalog()).to_json();
    assert!(v["operation"].is_null() && v["reply"].is_string());
}

#[test]
fn the_mailboxes_are_asked_about_and_acted_on_by_number() {
    call("which webhooks failed?", "list_deliveries", json!({"status": "dead"}));
    call("show me the dead deliveries", "list_deliveries", json!({"status": "dead"}));
    call("any unmapped webhooks?", "list_deliveries", json!({"status": "unmapped"}));
    call("what's in the inbox?", "list_deliveries", json!({}));
    call("are webhooks pending?", "list_deliveries", json!({"status": "pending"}));
    call("replay delivery 42", "replay_delivery", json!({"delivery": 42}));
    call("Replay webhook #42 please", "replay_delivery", json!({"delivery": 42}));
    call("redeliver 7", "replay_delivery", json!({"delivery": 7}));
    call("retry the webhook delivery 9", "replay_delivery", json!({"delivery": 9}));
    reply("replay the webhook", "Which delivery?");

    call("which chat messages failed?", "list_messages", json!({"status": "dead"}));
    call("show the outbox", "list_messages", json!({}));
    call("any undelivered slack messages?", "list_messages", json!({"status": "dead"}));
    call("which notifications are stuck?", "list_messages", json!({"status": "dead"}));
    call("retry message 17", "retry_message", json!({"message": 17}));
    call("resend #17", "retry_message", json!({"message": 17}));
    call("send chat message 17 again", "retry_message", json!({"message": 17}));
    reply("retry the message", "Which message?");

    // Not about the mailboxes.
    call("deploy orders to staging", "deploy", json!({"project": "orders", "environment": "staging"}));
    call("what is waiting for approval?", "list_runs", json!({"status": "pending"}));
}

#[test]
fn blocked_runs_are_asked_about() {
    call("which runs are blocked?", "list_runs", json!({"status": "blocked"}));
    call("are any deploys stuck?", "list_runs", json!({"status": "blocked"}));
    call("what is waiting for approval?", "list_runs", json!({"status": "pending"}));
    call("which notifications are stuck?", "list_messages", json!({"status": "dead"}));
}

#[test]
fn where_a_dependency_comes_from() {
    for text in [
        "where did checkout's redis version come from?",
        "Where does redis in checkout come from",
        "where does checkout get redis from?",
        "which file does checkout get redis from",
        "what lock file gives checkout its redis?",
        "how does checkout use redis?",
        "is redis a direct dependency of checkout?",
        "does checkout depend on redis directly?",
    ] {
        call(text, "get_dependency", json!({"project": "checkout", "package": "redis"}));
    }
    reply("where did checkout's version come from?", "Which package?");
    reply("where does redis come from?", "In which project?");
    // Questions that only look alike keep their meaning.
    call("which projects use redis?", "dependents", json!({"package": "redis"}));
    call("when did checkout get redis 7?", "project_history", json!({"project": "checkout", "subject": "redis 7"}));
}

#[test]
fn sboms_are_sent_not_typed() {
    for text in
        ["import an SBOM for orders", "upload the CycloneDX file of orders", "can I add an spdx sbom to orders?"]
    {
        reply(text, "switchboard import sbom --project orders FILE");
        reply(text, "/api/v1/projects/orders/sbom");
    }
    reply("upload an sbom", "--project PROJECT");
    call(
        r#"/sb import_sbom {"project": "orders", "sbom": {"bomFormat": "CycloneDX", "components": []}}"#,
        "import_sbom",
        json!({"project": "orders", "sbom": {"bomFormat": "CycloneDX", "components": []}}),
    );
}

#[test]
fn catalogs_are_imported_from_their_files() {
    for text in
        ["import our backstage catalog", "can you load the catalog-info.yaml files?", "upload backstage entities"]
    {
        reply(text, "switchboard import backstage catalog/all.yaml --dry-run");
    }
    // Not every catalog is Backstage's.
    call("find projects about catalog", "find_projects", json!({"query": "catalog"}));
}

#[test]
fn lock_files_are_read_from_a_checkout() {
    for text in ["read the lock files of orders", "import the manifests of orders", "load orders' package-lock.json"] {
        reply(text, "switchboard import repo --project orders DIR");
    }
    call(
        "which lock file does orders get redis from?",
        "get_dependency",
        json!({"project": "orders", "package": "redis"}),
    );
}

#[test]
fn dependents_directly_or_not() {
    call("which projects use redis directly?", "dependents", json!({"package": "redis", "direct_only": true}));
    call(
        "which projects depend directly on redis 7.2.4",
        "dependents",
        json!({"package": "redis", "version": "7.2.4", "direct_only": true}),
    );
    call("which projects use redis?", "dependents", json!({"package": "redis"}));
}

#[test]
fn the_github_organisation_is_imported_and_its_imports_asked_about() {
    for text in [
        "import our GitHub org",
        "Import all our repositories from GitHub",
        "please import the github organisation",
        "onboard every repo from github",
        "sync our GitHub repos",
    ] {
        call(text, "import_github", json!({}));
    }
    call("import the repositories of installation 42", "import_github", json!({"installation": 42}));
    call("how did the GitHub import go?", "list_imports", json!({}));
    call("show the github imports", "list_imports", json!({}));
    call("which repositories were skipped by the import?", "list_imports", json!({"outcome": "skipped"}));
    call("what did the github import create?", "list_imports", json!({"outcome": "created"}));
    // Other imports keep their meaning.
    reply("import our backstage catalog", "switchboard import backstage");
    reply("import an SBOM for orders", "switchboard import sbom --project orders FILE");
    call("which projects use redis?", "dependents", json!({"package": "redis"}));
}

#[test]
fn logs_are_checked_with_their_window_level_and_text() {
    call("check the logs for orders", "check_logs", json!({"project": "orders"}));
    call("Check the logs for orders, spot any issues?", "check_logs", json!({"project": "orders"}));
    call(
        "any errors in checkout logs in the last hour?",
        "check_logs",
        json!({"project": "checkout", "since": "1h", "level": "error"}),
    );
    call("show orders logs for the past 30 minutes", "check_logs", json!({"project": "orders", "since": "30m"}));
    call(
        "warnings in the orders logs since yesterday",
        "check_logs",
        json!({"project": "orders", "since": "yesterday", "level": "warn"}),
    );
    call(
        "orders logs mentioning timeout in the last 2h",
        "check_logs",
        json!({"project": "orders", "since": "2h", "query": "timeout"}),
    );
    call(
        r#"search checkout logs for "card declined""#,
        "check_logs",
        json!({"project": "checkout", "query": "card declined"}),
    );
    reply("check the logs", "Whose logs?");
    // Other logs keep their meaning.
    call("which webhooks failed?", "list_deliveries", json!({"status": "dead"}));
    call("history of orders", "project_history", json!({"project": "orders"}));
}

#[test]
fn incidents_are_investigated_and_rolled_back() {
    for text in [
        "investigate orders",
        "investigate the orders incident",
        "what broke orders?",
        "why is orders down?",
        "what caused the checkout outage",
    ] {
        let project = if text.contains("checkout") { "checkout" } else { "orders" };
        call(text, "investigate", json!({"project": project}));
    }
    reply("investigate", "Which project's trouble?");
    for text in ["roll back orders in production", "rollback orders prod", "revert orders in staging please"] {
        let env = if text.contains("staging") { "staging" } else { "production" };
        call(text, "deploy", json!({"project": "orders", "environment": env, "rollback": true}));
    }
    reply("roll back orders", "In which environment?");
    // Deploys and logs keep their meaning.
    call("deploy orders to staging", "deploy", json!({"project": "orders", "environment": "staging"}));
    call("check the logs for orders", "check_logs", json!({"project": "orders"}));
}

#[test]
fn runs_are_named_by_any_unique_fragment_of_their_id() {
    let mut cat = catalog();
    cat.runs = vec!["0193a1c0-8a6a-73ec-a4ed-e6a46b4cb242".into(), "0193a1c0-9f00-7000-8000-00000000abcd".into()];
    let one = |text: &str| route(text, &cat);
    let Routed::Call { operation, arguments, .. } = one("approve e6a46b4cb242") else {
        panic!("{:?}", one("approve e6a46b4cb242"))
    };
    assert_eq!(
        (operation.name(), &arguments),
        ("approve_run", &json!({"run": "0193a1c0-8a6a-73ec-a4ed-e6a46b4cb242"}))
    );
    let Routed::Call { operation, arguments, .. } = one("show run 9f00-7000") else { panic!() };
    assert_eq!((operation.name(), &arguments), ("get_run", &json!({"run": "0193a1c0-9f00-7000-8000-00000000abcd"})));
    // A fragment in both ids: both are listed, neither is picked.
    let text = one("cancel 0193a1c0").reply_text().unwrap_or_default().to_owned();
    assert!(text.contains("more than one run") && text.contains("8a6a") && text.contains("9f00"), "{text}");
    // Too short to name a run: asked for.
    assert!(one("approve 0193a").reply_text().is_some());
}

#[test]
fn what_an_environment_runs() {
    call(
        "what's in production for cart",
        "list_deployments",
        json!({"project": "cart", "environment": "production", "limit": 10}),
    );
    call(
        "what is in stg for orders?",
        "list_deployments",
        json!({"project": "orders", "environment": "staging", "limit": 10}),
    );
}

#[test]
fn time_phrases_become_since_and_until() {
    call(
        "incidents for team payments yesterday",
        "list_incidents",
        json!({"team": "payments", "since": "yesterday", "until": "today"}),
    );
    call("what changed in orders in the last 2 hours", "project_history", json!({"project": "orders", "since": "2h"}));
    call(
        "deploys to staging since monday",
        "list_deployments",
        json!({"environment": "staging", "since": "monday", "limit": 10}),
    );
    call(
        "history of cart between 2026-11-01 and 2026-11-15",
        "project_history",
        json!({"project": "cart", "since": "2026-11-01", "until": "2026-11-15"}),
    );
}

#[test]
fn slack_and_discord_markup_reads_as_what_it_shows() {
    call("<@U024BE7LH> who owns <#C02|orders>?", "get_project", json!({"project": "orders"}));
    call("<@123456789> :fire: anything on fire? 🔥", "list_incidents", json!({"status": "open"}));
    call("which projects use `react`?", "dependents", json!({"package": "react"}));
}

#[test]
fn vulnerabilities_are_asked_about_by_any_advisory_name_and_fixed() {
    let cve = json!({"advisory": "CVE-2025-29923"});
    call("are we affected by CVE-2025-29923?", "affected_by", cve.clone());
    call("are we affected by cve-2025-29923", "affected_by", cve.clone());
    call("CVE-2025-29923?", "affected_by", cve.clone());
    call("who is exposed to CVE-2025-29923", "affected_by", cve.clone());
    call("which projects are vulnerable to CVE-2025-29923?", "affected_by", cve.clone());
    call("is CVE-2025-29923 fixed yet?", "affected_by", cve.clone());
    call("impact of GHSA-92CP-5422-2MW7", "affected_by", json!({"advisory": "GHSA-92cp-5422-2mw7"}));
    call("does rustsec-2025-0023 hit us?", "affected_by", json!({"advisory": "RUSTSEC-2025-0023"}));
    call("are we affected by GO-2025-3540", "affected_by", json!({"advisory": "GO-2025-3540"}));
    call("fix CVE-2025-29923 everywhere", "fix_advisory", cve.clone());
    call("please patch CVE-2025-29923", "fix_advisory", cve.clone());
    call("could you fix CVE-2025-29923?", "fix_advisory", cve.clone());
    call("open PRs for CVE-2025-29923", "fix_advisory", cve.clone());
    call("upgrade everything affected by CVE-2025-29923", "fix_advisory", cve);
    call(
        "remediate CVE-2021-23337 in left-pad",
        "fix_advisory",
        json!({"advisory": "CVE-2021-23337", "package": "left-pad"}),
    );
    call("which projects have critical vulnerabilities?", "vulnerabilities", json!({"severity": "critical"}));
    call("is checkout vulnerable?", "vulnerabilities", json!({"project": "checkout"}));
    call("any cves in orders", "vulnerabilities", json!({"project": "orders"}));
    call("security issues of team payments", "vulnerabilities", json!({"team": "payments"}));
    call(
        "high severity vulns for the platform team",
        "vulnerabilities",
        json!({"team": "platform", "severity": "high"}),
    );
    call("what vulnerabilities does redis have?", "vulnerabilities", json!({"package": "redis"}));
    call("new vulnerabilities in the last 7 days", "vulnerabilities", json!({"since": "7d"}));
    call("show our exposure", "vulnerabilities", json!({}));
    // A team named like the word stays a team question; a change stays a change.
    call("who is on payments?", "get_team", json!({"team": "payments"}));
    call("deploy orders to staging", "deploy", json!({"project": "orders", "environment": "staging"}));
}
