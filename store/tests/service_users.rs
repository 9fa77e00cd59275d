//! Accounts through the service: what an admin's change ends at once
//! (sessions, tokens), sign-in throttling per account and address, and the
//! operations log of every sign-in, failure and change.

mod common;

use std::net::IpAddr;

use common::*;
use serde_json::json;
use switchboard_core::Error;
use switchboard_core::event::{EventKind, EventQuery};
use switchboard_core::model::{OidcSubject, Role};
use switchboard_core::store::{EventLog, GraphStore};

const HERE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 10));
const THERE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 7));
const PASSWORD: &str = "correct horse battery";

async fn with_passwords() -> Harness {
    let h = Harness::new().await;
    for user in ["bob", "carol"] {
        h.service.set_password(&admin(), &user.parse().unwrap(), PASSWORD, None).await.unwrap();
    }
    h
}

async fn kinds(h: &Harness) -> Vec<EventKind> {
    let events = h.store.query(&EventQuery { limit: 1000, ..Default::default() }).await.unwrap();
    events.into_iter().map(|e| e.kind).collect()
}

#[tokio::test]
async fn lowering_a_role_ends_sessions_and_caps_tokens_for_good() {
    let h = with_passwords().await;
    let bob = "bob".parse().unwrap();
    let token = h.service.create_token(&admin(), &bob, None, None).await.unwrap();
    assert_eq!(h.service.authenticate(&token.secret, "api").await.unwrap().role, Role::Approver);
    let (_, session) = h.service.login("bob", PASSWORD, HERE).await.unwrap();

    let out = h.ok("set_user_role", json!({"user": "bob", "role": "viewer"})).await;
    assert_eq!((out["sessions_ended"].as_bool(), out["tokens_capped"].as_u64()), (Some(true), Some(1)), "{out}");
    assert!(h.service.session(&session, "portal").await.unwrap().is_none(), "the session ended at once");
    assert_eq!(h.service.authenticate(&token.secret, "api").await.unwrap().role, Role::Viewer);
    let err = h
        .service
        .execute_json(
            &h.service.authenticate(&token.secret, "api").await.unwrap(),
            "approve_run",
            json!({"run": "01930f3e-5c1a-7b6e-9d2f-0a1b2c3d4e5f"}),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Denied { .. }), "{err:?}");
    // Promoted again: the token stays capped (a new one has the new role).
    h.ok("set_user_role", json!({"user": "bob", "role": "approver"})).await;
    assert_eq!(h.service.authenticate(&token.secret, "api").await.unwrap().role, Role::Viewer);
    let (who, _) = h.service.login("bob", PASSWORD, HERE).await.unwrap();
    assert_eq!(who.role, Role::Approver, "a new sign-in has the new role");
    assert!(kinds(&h).await.contains(&EventKind::UserRoleChanged));
}

/// `user set-password --role viewer` on an approver used to keep the
/// approver role, and the approver's token still approved.
#[tokio::test]
async fn a_password_set_with_a_role_changes_the_role_and_ends_sessions() {
    let h = with_passwords().await;
    let bob = "bob".parse().unwrap();
    let token = h.service.create_token(&admin(), &bob, None, None).await.unwrap();
    let (_, session) = h.service.login("bob", PASSWORD, HERE).await.unwrap();
    let created = h.service.set_password(&admin(), &bob, "another long passphrase", Some(Role::Viewer)).await.unwrap();
    assert!(!created);
    assert_eq!(h.store.get_user(&bob).await.unwrap().unwrap().role, Role::Viewer);
    assert_eq!(h.service.authenticate(&token.secret, "api").await.unwrap().role, Role::Viewer);
    assert!(h.service.session(&session, "portal").await.unwrap().is_none());
    assert!(h.service.login("bob", PASSWORD, HERE).await.is_err(), "the old password is gone");
    // A password change alone ends sessions too.
    let (_, session) = h.service.login("bob", "another long passphrase", HERE).await.unwrap();
    h.service.set_password(&admin(), &bob, "a third long passphrase", None).await.unwrap();
    assert!(h.service.session(&session, "portal").await.unwrap().is_none());
    let k = kinds(&h).await;
    assert!(k.contains(&EventKind::PasswordChanged) && k.contains(&EventKind::UserRoleChanged), "{k:?}");
}

#[tokio::test]
async fn a_disabled_account_cannot_sign_in_or_use_its_tokens() {
    let h = with_passwords().await;
    let carol = "carol".parse().unwrap();
    let token = h.service.create_token(&admin(), &carol, None, None).await.unwrap();
    let (_, session) = h.service.login("carol", PASSWORD, HERE).await.unwrap();
    let out = h.ok("disable_user", json!({"user": "carol", "reason": "left"})).await;
    assert_eq!((out["account"]["user"]["disabled"].as_bool(), out["tokens_revoked"].as_u64()), (Some(true), Some(1)));
    assert!(h.service.session(&session, "portal").await.unwrap().is_none());
    assert!(matches!(h.service.authenticate(&token.secret, "api").await, Err(Error::Unauthenticated { .. })));
    let err = h.service.login("carol", PASSWORD, HERE).await.unwrap_err();
    assert_eq!(err.to_string(), "Wrong user name or password.", "no hint that the account exists");
    let err = h.service.create_token(&admin(), &carol, None, None).await.unwrap_err();
    assert!(err.to_string().contains("disabled"), "{err}");
    h.ok("enable_user", json!({"user": "carol"})).await;
    h.service.login("carol", PASSWORD, HERE).await.expect("enabled again");
    assert!(h.service.authenticate(&token.secret, "api").await.is_err(), "revoked tokens stay revoked");
    let k = kinds(&h).await;
    assert!(k.contains(&EventKind::UserDisabled) && k.contains(&EventKind::UserEnabled), "{k:?}");
}

#[tokio::test]
async fn signing_out_everywhere_ends_every_session_but_not_the_next() {
    let h = with_passwords().await;
    let (_, one) = h.service.login("carol", PASSWORD, HERE).await.unwrap();
    let (_, two) = h.service.login("carol", PASSWORD, THERE).await.unwrap();
    let (_, bobs) = h.service.login("bob", PASSWORD, HERE).await.unwrap();
    h.ok("sign_out_everywhere", json!({"user": "carol"})).await;
    for s in [&one, &two] {
        assert!(h.service.session(s, "portal").await.unwrap().is_none());
    }
    assert!(h.service.session(&bobs, "portal").await.unwrap().is_some(), "only carol's");
    let (_, three) = h.service.login("carol", PASSWORD, HERE).await.unwrap();
    assert!(h.service.session(&three, "portal").await.unwrap().is_some());
    assert!(kinds(&h).await.contains(&EventKind::SessionsEnded));
}

#[tokio::test]
async fn admins_keep_one_admin_and_cannot_disable_themselves() {
    let h = Harness::new().await;
    let err = h.err(&admin(), "disable_user", json!({"user": "alice"})).await;
    assert!(err.to_string().contains("your own account"), "{err}");
    let err = h.err(&admin(), "set_user_role", json!({"user": "alice", "role": "editor"})).await;
    assert!(err.to_string().contains("only admin"), "{err}");
    h.ok("set_user_role", json!({"user": "bob", "role": "admin"})).await;
    h.ok("set_user_role", json!({"user": "alice", "role": "editor"})).await;
    let err = h.err(&caller("bob", Role::Admin), "disable_user", json!({"user": "bob"})).await;
    assert!(err.to_string().contains("your own account"), "{err}");
}

#[tokio::test]
async fn oidc_accounts_take_their_role_from_the_provider() {
    let h = Harness::new().await;
    let erin = "erin".parse().unwrap();
    let mut u = h.store.get_user(&erin).await.unwrap().unwrap();
    u.oidc = Some(OidcSubject { issuer: "https://id.example.com".into(), subject: "e-1".into() });
    h.store.put_user(&u).await.unwrap();
    let before = h.snapshot().await;
    let err = h.err(&admin(), "set_user_role", json!({"user": "erin", "role": "viewer"})).await;
    assert!(err.to_string().contains("[auth.oidc]"), "{err}");
    let err = h.service.set_password(&admin(), &erin, "a long enough password", None).await.unwrap_err();
    assert!(err.to_string().contains("OIDC"), "{err}");
    assert_eq!(h.snapshot().await, before, "nothing changed");
    h.ok("disable_user", json!({"user": "erin"})).await;
}

#[tokio::test]
async fn bad_account_input_changes_nothing() {
    let h = Harness::new().await;
    let before = h.snapshot().await;
    for (op, args, says) in [
        ("set_user_email", json!({"user": "carol", "email": "not an address"}), "email"),
        ("set_user_email", json!({"user": "nobody", "email": "n@example.com"}), "nobody"),
        ("set_user_role", json!({"user": "carol", "role": "owner"}), "role"),
        ("disable_user", json!({"user": "Not A Name"}), "user"),
        ("enable_user", json!({}), "user"),
    ] {
        let err = h.err(&admin(), op, args.clone()).await;
        assert!(err.to_string().contains(says), "{op} {args}: {err}");
    }
    assert_eq!(h.snapshot().await, before);
    let out = h.ok("set_user_email", json!({"user": "carol", "email": " carol@new.example.com "})).await;
    assert_eq!(out["account"]["user"]["email"], "carol@new.example.com");
    let out = h.ok("list_users", json!({})).await;
    let carol = out["users"].as_array().unwrap().iter().find(|u| u["user"]["name"] == "carol").unwrap().clone();
    assert_eq!((carol["sign_in"].as_str(), carol["active_tokens"].as_u64()), (Some("none"), Some(0)), "{carol}");
}

/// Guessing one account's password from one address slows down, doubling;
/// the same account from elsewhere is not slowed (nobody locks the admin
/// out from their own network), and unknown accounts behave the same.
#[tokio::test]
async fn failed_sign_ins_slow_down_per_account_and_address() {
    let h = with_passwords().await;
    for _ in 0..5 {
        assert!(matches!(
            h.service.login("carol", "guess guess guess", HERE).await,
            Err(Error::Unauthenticated { .. })
        ));
    }
    // The sixth failure makes the next try from here wait.
    assert!(h.service.login("carol", "guess guess guess", HERE).await.is_err());
    let err = h.service.login("carol", PASSWORD, HERE).await.unwrap_err();
    assert!(matches!(err, Error::RateLimited { retry_after_secs: 1, .. }), "{err:?}");
    h.service.login("carol", PASSWORD, THERE).await.expect("another address signs in");
    h.clock.advance(1000);
    h.service.login("carol", PASSWORD, HERE).await.expect("after the wait, the right password works");
    for _ in 0..6 {
        let _ = h.service.login("nobody", "guess guess guess", THERE).await;
    }
    let err = h.service.login("nobody", "guess guess guess", THERE).await.unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "unknown accounts are throttled alike: {err:?}");
    let failed = h
        .store
        .query(&EventQuery { kinds: vec![EventKind::SignInFailed], limit: 100, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(failed.len(), 12, "every checked failure is in the log");
    assert_eq!(failed[0].payload["address"], THERE.to_string());
    assert_eq!(failed.last().unwrap().payload["user"], "carol");
    let signed = h.store.query(&EventQuery { kinds: vec![EventKind::SignedIn], limit: 10, ..Default::default() }).await;
    assert_eq!(signed.unwrap().len(), 2);
}

#[tokio::test]
async fn sign_in_attempts_from_one_address_are_rate_limited() {
    let mut config = switchboard_core::config::Config::default();
    config.limits.sign_in_per_minute = 3;
    let h = Harness::with_config(config).await;
    for _ in 0..3 {
        assert!(matches!(h.service.login("mallory", "x", HERE).await, Err(Error::Unauthenticated { .. })));
    }
    let err = h.service.login("alice", "anything at all", HERE).await.unwrap_err();
    assert!(matches!(err, Error::RateLimited { retry_after_secs: 20, .. }), "{err:?}");
    assert!(matches!(h.service.login("mallory", "x", THERE).await, Err(Error::Unauthenticated { .. })));
}

#[tokio::test]
async fn rotating_a_token_revokes_the_old_secret() {
    let h = Harness::new().await;
    let carol = "carol".parse().unwrap();
    let old = h.service.create_token(&admin(), &carol, None, Some(86_400_000)).await.unwrap();
    let new = h.service.rotate_token(&admin(), &old.token.id).await.unwrap();
    assert_ne!(new.secret, old.secret);
    assert_eq!((new.token.user.as_str(), new.token.role), ("carol", Role::Editor));
    assert_eq!(new.token.expires_at.map(|e| e - new.token.created_at), Some(86_400_000), "same lifetime");
    assert!(h.service.authenticate(&old.secret, "api").await.is_err());
    h.service.authenticate(&new.secret, "api").await.unwrap();
    let err = h.service.rotate_token(&admin(), &old.token.id).await.unwrap_err();
    assert!(err.to_string().contains("revoked"), "{err}");
    assert!(matches!(
        h.service.rotate_token(&caller("bob", Role::Approver), &new.token.id).await,
        Err(Error::Denied { .. })
    ));
    assert!(kinds(&h).await.contains(&EventKind::TokenRotated));
}

/// A disabled person's linked Slack or Discord account is a stranger's.
#[tokio::test]
async fn a_disabled_persons_chat_account_loses_their_role() {
    use switchboard_core::model::{ChatIdentity, ChatPlatform};
    let h = Harness::new().await;
    let bob = "bob".parse().unwrap();
    let mut u = h.store.get_user(&bob).await.unwrap().unwrap();
    u.chat_identities.push(ChatIdentity { platform: ChatPlatform::Slack, id: "UBOB".into() });
    h.store.put_user(&u).await.unwrap();
    let who = h.service.chat_caller(ChatPlatform::Slack, "UBOB", None).await.unwrap();
    assert_eq!((who.user.as_str(), who.role), ("bob", Role::Approver));
    h.ok("disable_user", json!({"user": "bob"})).await;
    let who = h.service.chat_caller(ChatPlatform::Slack, "UBOB", None).await.unwrap();
    assert_eq!((who.user.as_str(), who.role), ("slack-UBOB", Role::Viewer));
    let linked = h.service.linked_caller(ChatPlatform::Slack, "UBOB").await.unwrap().unwrap();
    assert_eq!(linked.user.as_str(), "slack-UBOB");
    // Nor does a verified email link a chat account to them.
    let who = h.service.chat_caller(ChatPlatform::Slack, "UOTHER", Some("bob@example.com")).await.unwrap();
    assert_eq!(who.role, Role::Viewer);
}
