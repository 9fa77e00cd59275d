//! Single sign-on through the service (the portal verifies the ID token;
//! these start from its claims): accounts made or linked, roles and teams
//! from groups at every sign-in, and each refusal recorded.

mod common;

use std::net::IpAddr;

use common::*;
use serde_json::json;
use switchboard_core::Error;
use switchboard_core::config::{Config, OidcConfig};
use switchboard_core::event::{EventKind, EventQuery};
use switchboard_core::model::Role;
use switchboard_core::service::OidcClaims;
use switchboard_core::store::{EventLog, GraphStore};

const HERE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 20));
const ISSUER: &str = "https://id.example.com";

fn config(edit: impl FnOnce(&mut OidcConfig)) -> Config {
    let mut c = Config::default();
    let toml = format!(
        "issuer = \"{ISSUER}\"\nclient_id = \"sb\"\n[roles]\nadmins = \"admin\"\nops = \"approver\"\n[teams]\npay = \"payments\"\n"
    );
    let mut o: OidcConfig = toml::from_str(&toml).unwrap();
    edit(&mut o);
    c.auth.oidc = Some(o);
    c
}

async fn harness(edit: impl FnOnce(&mut OidcConfig)) -> Harness {
    let h = Harness::with_config(config(edit)).await;
    h.ok("create_team", json!({"slug": "payments", "members": ["bob"]})).await;
    h
}

fn claims(sub: &str, username: &str, groups: &[&str]) -> OidcClaims {
    OidcClaims {
        issuer: ISSUER.into(),
        subject: sub.into(),
        username: Some(username.into()),
        name: Some(format!("{username} at the provider")),
        email: Some(format!("{username}@corp.example.com")),
        email_verified: true,
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
    }
}

async fn members(h: &Harness) -> Vec<String> {
    let team = h.store.get_team(&"payments".parse().unwrap()).await.unwrap().unwrap();
    team.members.iter().map(|m| m.to_string()).collect()
}

#[tokio::test]
async fn groups_decide_the_role_and_teams_at_every_sign_in() {
    let h = harness(|_| {}).await;
    let (who, session) = h.service.oidc_sign_in(&claims("s-1", "Ada", &["admins", "pay"]), HERE).await.unwrap();
    assert_eq!((who.user.as_str(), who.role), ("ada", Role::Admin));
    let ada = h.store.get_user(&"ada".parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(
        (ada.display_name.as_str(), ada.email.as_deref()),
        ("Ada at the provider", Some("Ada@corp.example.com"))
    );
    assert!(ada.oidc.is_some());
    assert_eq!(members(&h).await, ["bob", "ada"]);
    assert!(h.service.session(&session, "portal").await.unwrap().is_some());

    // A local change is undone at the next sign-in: the provider wins.
    let err = h.err(&admin(), "set_user_role", json!({"user": "ada", "role": "viewer"})).await;
    assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
    let (who, _) = h.service.oidc_sign_in(&claims("s-1", "Ada", &["ops"]), HERE).await.unwrap();
    assert_eq!(who.role, Role::Approver);
    assert!(h.service.session(&session, "portal").await.unwrap().is_none(), "the role changed: old sessions end");
    assert_eq!(members(&h).await, ["bob"], "left the team with the group");
    let (who, _) = h.service.oidc_sign_in(&claims("s-1", "renamed", &[]), HERE).await.unwrap();
    assert_eq!((who.user.as_str(), who.role), ("ada", Role::Viewer), "found by subject; the default role");
    let kinds: Vec<EventKind> = h
        .store
        .query(&EventQuery { limit: 100, ..Default::default() })
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    for k in [EventKind::UserCreated, EventKind::SignedIn, EventKind::UserRoleChanged, EventKind::TeamUpdated] {
        assert!(kinds.contains(&k), "{k:?} in {kinds:?}");
    }
}

#[tokio::test]
async fn local_accounts_are_linked_only_by_a_verified_matching_email() {
    let h = harness(|_| {}).await;
    // carol@example.com is carol's email in the harness.
    let mut unverified = claims("s-2", "carol", &["ops"]);
    unverified.email = Some("carol@example.com".into());
    unverified.email_verified = false;
    let err = h.service.oidc_sign_in(&unverified, HERE).await.unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
    let mut other = claims("s-2", "carol", &["ops"]);
    other.email = Some("someone@else.example.com".into());
    assert!(h.service.oidc_sign_in(&other, HERE).await.is_err(), "a different email does not take carol's account");
    let mut verified = unverified.clone();
    verified.email_verified = true;
    let (who, _) = h.service.oidc_sign_in(&verified, HERE).await.unwrap();
    assert_eq!((who.user.as_str(), who.role), ("carol", Role::Approver));
    // Her password no longer works: she signs in at the provider.
    let h2 = &h;
    h2.service.set_password(&admin(), &"dave".parse().unwrap(), "a password long enough", None).await.unwrap();
    let dave = claims("s-3", "dave", &[]);
    let mut dave = dave;
    dave.email = Some("dave@example.com".into());
    h2.service.oidc_sign_in(&dave, HERE).await.unwrap();
    let err = h2.service.login("dave", "a password long enough", HERE).await.unwrap_err();
    assert_eq!(err.to_string(), "Wrong user name or password.");
}

#[tokio::test]
async fn refusals_are_clear_and_recorded() {
    let h = harness(|o| o.default_role = "none".into()).await;
    let err = h.service.oidc_sign_in(&claims("s-4", "nobody", &["guests"]), HERE).await.unwrap_err();
    assert!(err.to_string().contains("None of your groups"), "{err}");
    assert!(h.store.get_user(&"nobody".parse().unwrap()).await.unwrap().is_none(), "no account was made");
    h.service.oidc_sign_in(&claims("s-5", "eve", &["ops"]), HERE).await.unwrap();
    h.ok("disable_user", json!({"user": "eve"})).await;
    let err = h.service.oidc_sign_in(&claims("s-5", "eve", &["ops"]), HERE).await.unwrap_err();
    assert!(err.to_string().contains("disabled"), "{err}");
    let failed = h
        .store
        .query(&EventQuery { kinds: vec![EventKind::SignInFailed], limit: 10, ..Default::default() })
        .await
        .unwrap();
    let reasons: Vec<&str> = failed.iter().filter_map(|e| e.payload["reason"].as_str()).collect();
    assert_eq!(reasons, ["disabled", "no_role"]);
}

/// Taken out of every group at the provider: the next sign-in is refused,
/// and what the person still had here (sessions, tokens) ends with it.
#[tokio::test]
async fn losing_every_group_ends_what_the_account_had() {
    let h = harness(|o| o.default_role = "none".into()).await;
    let (_, session) = h.service.oidc_sign_in(&claims("s-6", "zoe", &["ops"]), HERE).await.unwrap();
    let token = h.service.create_token(&admin(), &"zoe".parse().unwrap(), None, None).await.unwrap();
    h.service.authenticate(&token.secret, "api").await.unwrap();
    let err = h.service.oidc_sign_in(&claims("s-6", "zoe", &[]), HERE).await.unwrap_err();
    assert!(err.to_string().contains("None of your groups"), "{err}");
    assert!(h.service.session(&session, "portal").await.unwrap().is_none());
    assert!(h.service.authenticate(&token.secret, "api").await.is_err(), "its tokens are revoked");
    // An unverified email is not taken over from the provider.
    let mut c = claims("s-7", "yan", &["ops"]);
    c.email = Some("alice@example.com".into());
    c.email_verified = false;
    h.service.oidc_sign_in(&c, HERE).await.unwrap();
    assert_eq!(h.store.get_user(&"yan".parse().unwrap()).await.unwrap().unwrap().email, None);
}

#[tokio::test]
async fn with_passwords_off_only_the_provider_signs_people_in() {
    let mut c = config(|_| {});
    c.auth.local_passwords = false;
    let h = Harness::with_config(c).await;
    let err =
        h.service.set_password(&admin(), &"carol".parse().unwrap(), "a long enough password", None).await.unwrap_err();
    assert!(err.to_string().contains("auth.local_passwords"), "{err}");
    let err = h.service.login("carol", "anything at all", HERE).await.unwrap_err();
    assert!(err.to_string().contains("single sign-on"), "{err}");
}
