//! Portal pages where people act on what the system holds: replaying a
//! webhook delivery, retrying a chat message, linking a chat account,
//! cancelling a run — each CSRF-checked and decided by core's policy.

mod common;

use common::*;
use switchboard_core::inbox::Inbox;
use switchboard_core::model::ChatPlatform;
use switchboard_core::outbox::Outbox;

#[tokio::test]
async fn inbox_page_shows_dead_letters_and_replays_them() {
    use switchboard_core::inbox::{Accepted, DeliveryStatus, NewDelivery, Outcome};
    let p = portal().await;
    let inbox = p.store.clone();
    let delivery = NewDelivery {
        source: "github".into(),
        delivery_id: "72d3162e-cc78-11e3-81ab-4c9367dc0958".into(),
        event: "deployment_status".into(),
        received_at: NOW,
        body: b"{}".to_vec(),
    };
    let Accepted::New(id) = inbox.accept(&delivery).await.unwrap() else { panic!() };
    let dead = Outcome {
        status: DeliveryStatus::Dead,
        attempts: 1,
        error: Some("rule \"github deployment status: deployment\": unknown environment moon".into()),
        next_attempt_at: NOW,
        finished_at: Some(NOW),
        summary: None,
    };
    inbox.finish(id, &dead).await.unwrap();

    let (status, html) = p.page("/inbox?status=dead").await;
    assert!(html.contains("deleted 14 days after they finished"), "the retention is said: {html}");
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("dead: 1") && html.contains("unknown environment moon"), "{html}");
    assert!(html.contains(&format!(r#"action="/inbox/{id}/replay""#)));
    let (status, _) = p.page("/inbox?status=sideways").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let token = "0123456789abcdef0123456789abcdef";
    let jar = |who: &str| format!("sb_csrf={token}; sb_as={who}");
    let replay = |who: &str, csrf: &str, id: i64| {
        form(&format!("/inbox/{id}/replay"), &jar(who), &format!("csrf={csrf}"), false)
    };
    let (status, _, _) = p.send(Mode::Demo, replay("carol", "forged", id)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, html, _) = p.send(Mode::Demo, replay("dave", token, id)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a viewer cannot replay: {html}");
    assert_eq!(inbox.get_delivery(id).await.unwrap().unwrap().status, DeliveryStatus::Dead, "refusals changed nothing");
    let (status, _, headers) = p.send(Mode::Demo, replay("carol", token, id)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers.get("location").unwrap(), "/inbox?status=pending");
    assert_eq!(inbox.get_delivery(id).await.unwrap().unwrap().status, DeliveryStatus::Pending);
    let (status, _, _) = p.send(Mode::Demo, replay("carol", token, id)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a pending delivery is not replayed again");
    // The replay is the replay_delivery operation: the log says who did it.
    let q = switchboard_core::event::EventQuery {
        kinds: vec![switchboard_core::event::EventKind::DeliveryReplayed],
        ..Default::default()
    };
    let replayed = p.service.log().query(&q).await.unwrap();
    assert_eq!(replayed.len(), 1);
    assert_eq!((replayed[0].actor.as_str(), replayed[0].payload["delivery"].as_i64()), ("carol", Some(id)));
}

#[tokio::test]
async fn link_page_links_a_chat_account_to_the_person_signed_in() {
    let p = portal().await;
    let (status, _, headers) = p.send(Mode::Serve, Request::get("/link").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "anonymous people are sent to sign in");
    assert_eq!(headers["location"], "/login?next=/link");
    let (_, _, headers) = p.send(Mode::Serve, Request::get("/login").body(Body::empty()).unwrap()).await;
    let c = headers.get("set-cookie").unwrap().to_str().unwrap();
    let token = c["sb_csrf=".len()..c.find(';').unwrap()].to_owned();

    let code = p.service.link_code(ChatPlatform::Discord, "5001").await.unwrap();
    let jar = format!("sb_csrf={token}; sb_as=erin");
    let (status, _, _) = p.send(Mode::Demo, form("/link", &jar, &format!("code={code}"), false)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no CSRF token");
    let (status, html, _) =
        p.send(Mode::Demo, form("/link", &jar, &format!("csrf={token}&code=NOTACODE"), false)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains(r#"id="link-error""#) && html.contains("/sb link"), "{html}");
    assert_eq!(p.service.chat_caller(ChatPlatform::Discord, "5001", None).await.unwrap().user.as_str(), "discord-5001");

    // erin enters it (lower case, spaces around it): the Discord account is hers.
    let entered = format!("csrf={token}&code=+{}+", code.to_lowercase());
    let (status, html, _) = p.send(Mode::Demo, form("/link", &jar, &entered, false)).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains(r#"id="link-done""#) && html.contains("discord 5001"), "{html}");
    let caller = p.service.chat_caller(ChatPlatform::Discord, "5001", None).await.unwrap();
    assert_eq!((caller.user.as_str(), caller.role), ("erin", Role::Approver));
    let (status, _, _) = p.send(Mode::Demo, form("/link", &jar, &entered, false)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a code works once");
}

#[tokio::test]
async fn the_chat_outbox_shows_dead_messages_and_retries_them() {
    use switchboard_core::outbox::{Attempt, MessageStatus, NewMessage};
    let p = portal().await;
    let outbox = p.store.clone();
    let message = NewMessage {
        key: "incident_triggered:e1:slack:CMISSING1".into(),
        platform: ChatPlatform::Slack,
        channel: "CMISSING1".into(),
        reply_to: None,
        edit: false,
        body: "{\"blocks\": []}".into(),
        created_at: NOW,
        not_before: None,
    };
    assert!(outbox.enqueue(&message).await.unwrap());
    let id = outbox.get_message(&message.key).await.unwrap().unwrap().id;
    let dead = Attempt {
        status: MessageStatus::Dead,
        attempts: 1,
        error: Some("chat.postMessage: channel_not_found".into()),
        next_attempt_at: NOW,
        sent_at: None,
        remote_id: None,
    };
    outbox.record_attempt(id, &dead).await.unwrap();
    let (status, html) = p.page("/inbox").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(r#"id="outbox""#) && html.contains("channel_not_found") && html.contains("CMISSING1"),
        "{html}"
    );
    assert!(html.contains(&format!(r#"action="/outbox/{id}/retry""#)));

    let token = "0123456789abcdef0123456789abcdef";
    let retry = |who: &str| {
        form(&format!("/outbox/{id}/retry"), &format!("sb_csrf={token}; sb_as={who}"), &format!("csrf={token}"), false)
    };
    let (status, _, _) = p.send(Mode::Demo, retry("dave")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a viewer cannot retry");
    let (status, _, headers) = p.send(Mode::Demo, retry("carol")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers.get("location").unwrap(), "/inbox#outbox");
    let again = outbox.get_message(&message.key).await.unwrap().unwrap();
    assert_eq!((again.status, again.attempts), (MessageStatus::Pending, 0));
    let (status, _, _) = p.send(Mode::Demo, retry("carol")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "only dead messages are retried");
}

#[tokio::test]
async fn a_run_is_cancelled_from_its_page() {
    let p = portal().await;
    let carol = Caller::new("carol", Role::Editor, "test");
    let run = p.service.execute_json(&carol, "deploy", json!({"project": "orders", "environment": "staging"})).await;
    let id = run.unwrap().to_json()["id"].as_str().unwrap().to_owned();
    let (_, html) = p.page(&format!("/runs/{id}")).await;
    assert!(html.contains(r#"id="cancel-run""#), "{html}");
    let token = "0123456789abcdef0123456789abcdef";
    let cancel = |who: &str| {
        let body = format!("csrf={token}&decision=cancel&reason=wrong+environment");
        form(&format!("/runs/{id}/decide"), &format!("sb_csrf={token}; sb_as={who}"), &body, false)
    };
    let (status, _, _) = p.send(Mode::Demo, cancel("erin")).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "erin is an approver");
    let (_, html) = p.page(&format!("/runs/{id}")).await;
    assert!(html.contains(r#"id="run-status">cancelled<"#) && !html.contains(r#"id="cancel-run""#), "{html}");
    let (status, _, _) = p.send(Mode::Demo, cancel("carol")).await;
    assert_eq!(status, StatusCode::CONFLICT, "a cancelled run stays cancelled");
}

/// The admin's Users page: the account operations as CSRF-checked forms,
/// refused for anyone below admin, with what changed said on return.
#[tokio::test]
async fn users_page_changes_accounts_for_admins_only() {
    let p = portal().await;
    let token = "0123456789abcdef0123456789abcdef";
    let as_ = |who: &str| format!("sb_csrf={token}; sb_as={who}");
    let (status, html, _) = p
        .send(Mode::Demo, Request::get("/admin/users").header("cookie", as_("demo-admin")).body(Body::empty()).unwrap())
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"id="user-carol""#) && html.contains("Sign out everywhere"), "{html}");
    let (status, _, _) = p
        .send(Mode::Demo, Request::get("/admin/users").header("cookie", as_("dave")).body(Body::empty()).unwrap())
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "viewers do not see who has access");

    let disable = |who: &str, csrf: &str| {
        form("/admin/users/carol", &as_(who), &format!("csrf={csrf}&action=disable&reason=left"), false)
    };
    let before = p.service.graph().get_user(&"carol".parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(p.send(Mode::Demo, disable("demo-admin", "forged")).await.0, StatusCode::FORBIDDEN);
    assert_eq!(p.send(Mode::Demo, disable("erin", token)).await.0, StatusCode::FORBIDDEN, "approvers are not admins");
    assert_eq!(p.service.graph().get_user(&"carol".parse().unwrap()).await.unwrap().unwrap(), before);
    let (status, _, headers) = p.send(Mode::Demo, disable("demo-admin", token)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let back = headers["location"].to_str().unwrap().to_owned();
    assert!(back.starts_with("/admin/users?done="), "{back}");
    let (_, html, _) =
        p.send(Mode::Demo, Request::get(&back).header("cookie", as_("demo-admin")).body(Body::empty()).unwrap()).await;
    assert!(html.contains("carol is disabled"), "{html}");
    assert!(p.service.graph().get_user(&"carol".parse().unwrap()).await.unwrap().unwrap().disabled);
    let role =
        form("/admin/users/carol", &as_("demo-admin"), &format!("csrf={token}&action=role&role=approver"), false);
    assert_eq!(p.send(Mode::Demo, role).await.0, StatusCode::SEE_OTHER);
    let bad = form("/admin/users/carol", &as_("demo-admin"), &format!("csrf={token}&action=role&role=owner"), false);
    assert_eq!(p.send(Mode::Demo, bad).await.0, StatusCode::BAD_REQUEST);
    let carol = p.service.graph().get_user(&"carol".parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(carol.role, Role::Approver);
}

#[tokio::test]
async fn imports_page_lists_each_repositorys_latest_import_and_queues_an_org_import() {
    use switchboard_core::ops::output::RepositoryImport;
    let p = portal().await;
    for (repo, outcome, summary) in [
        ("acme/billing", "created", "created, team payments (CODEOWNERS), type api (import.default_type)"),
        ("acme/fork", "skipped", "skipped, a fork (import.forks is off)"),
    ] {
        let import = RepositoryImport {
            repository: repo.into(),
            project: (outcome != "skipped").then(|| "billing".into()),
            outcome: outcome.into(),
            summary: summary.into(),
            at: NOW,
        };
        p.service.record_import(&import).await.unwrap();
    }
    // The project page says when its repository was last read.
    let q = switchboard_core::store::ProjectQuery { limit: 1, ..Default::default() };
    let slug = p.service.graph().find_projects(&q).await.unwrap()[0].slug.to_string();
    let repo = p
        .service
        .graph()
        .get_project(&slug.parse().unwrap())
        .await
        .unwrap()
        .unwrap()
        .external_ids
        .github_repository
        .unwrap();
    let read = RepositoryImport {
        repository: repo.clone(),
        project: Some(slug.clone()),
        outcome: "updated".into(),
        summary: "updated; dependencies 3 direct, 9 transitive (0 added, 1 changed, 0 removed)".into(),
        at: NOW,
    };
    p.service.record_import(&read).await.unwrap();
    let (_, html) = p.page(&format!("/projects/{slug}")).await;
    assert!(html.contains(&format!("Read from {repo}")) && html.contains("1 changed"), "{html}");

    let (status, html) = p.page("/imports").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("created: 1") && html.contains("skipped: 1") && html.contains("updated: 1"), "{html}");
    assert!(html.contains("team payments (CODEOWNERS)") && html.contains(r#"href="/projects/billing""#), "{html}");
    let (_, html) = p.page("/imports?outcome=skipped").await;
    assert!(html.contains("a fork (import.forks is off)") && !html.contains("CODEOWNERS"), "{html}");
    let (status, _) = p.page("/imports?outcome=sideways").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Importing the organisation is an admin's, and needs a GitHub App.
    let token = "0123456789abcdef0123456789abcdef";
    let import =
        |who: &str| form("/imports/github", &format!("sb_csrf={token}; sb_as={who}"), &format!("csrf={token}"), false);
    let (status, _, _) = p.send(Mode::Demo, import("carol")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "an editor cannot import the organisation");
    let (status, html, _) = p.send(Mode::Demo, import("alice")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("needs a GitHub App"), "{html}");
    assert!(p.service.due_refreshes(10).await.unwrap().is_empty(), "nothing queued");
}
