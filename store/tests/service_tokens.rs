//! API tokens through the service: created for (and with) users, stored
//! hashed, capped by the user's role, refused once revoked or expired.

mod common;

/// Where the test's sign-ins come from.
const ADDR: std::net::IpAddr = std::net::IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 10));

use common::*;
use serde_json::json;
use switchboard_core::Error;
use switchboard_core::event::{EventKind, EventQuery};
use switchboard_core::model::{DAY_MS, Role};
use switchboard_core::store::{EventLog, GraphStore};

#[tokio::test]
async fn tokens_authenticate_as_their_user() {
    let h = Harness::new().await;
    let new =
        h.service.create_token(&admin(), &"zed".parse().unwrap(), Some(Role::Editor), Some(90 * DAY_MS)).await.unwrap();
    assert!(new.created_user, "the user is created with the role");
    assert!(new.secret.starts_with("sb_") && new.secret.len() > 60);
    let stored = h.store.get_token(&new.token.id).await.unwrap().unwrap();
    assert_ne!(stored.hash, new.secret, "only the hash is stored");
    assert_eq!(h.store.get_user(&"zed".parse().unwrap()).await.unwrap().unwrap().role, Role::Editor);

    let caller = h.service.authenticate(&new.secret, "api").await.unwrap();
    assert_eq!((caller.user.as_str(), caller.role), ("zed", Role::Editor));

    // Events say who made which token, never its secret.
    let events = h
        .store
        .query(&EventQuery { kinds: vec![EventKind::TokenCreated, EventKind::UserCreated], ..Default::default() })
        .await
        .unwrap();
    assert_eq!(events.len(), 2);
    for e in &events {
        let text = e.payload.to_string();
        assert!(!text.contains(&new.secret) && !text.contains(&stored.hash), "{text}");
    }
    let listed = h.service.list_tokens(&admin(), None).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].hash.is_empty(), "lists never carry hashes");
}

#[tokio::test]
async fn revoked_expired_and_forged_tokens_are_refused() {
    let h = Harness::new().await;
    let carol = "carol".parse().unwrap();
    let a = h.service.create_token(&admin(), &carol, None, Some(DAY_MS)).await.unwrap();
    let b = h.service.create_token(&admin(), &carol, None, None).await.unwrap();
    assert_eq!(a.token.role, Role::Editor, "defaults to the user's role");
    h.service.revoke_token(&admin(), &b.token.id).await.unwrap();
    let err = h.service.authenticate(&b.secret, "api").await.unwrap_err();
    assert!(matches!(err, Error::Unauthenticated { .. }), "{err:?}");
    assert!(err.to_string().contains("switchboard token create"));
    h.clock.advance(DAY_MS);
    assert!(matches!(h.service.authenticate(&a.secret, "api").await, Err(Error::Unauthenticated { .. })));
    for forged in ["", "sb_", "sb_0000", "Bearer x", &"sb_x".repeat(100)] {
        assert!(matches!(h.service.authenticate(forged, "api").await, Err(Error::Unauthenticated { .. })), "{forged}");
    }
    let err = h.service.revoke_token(&admin(), "tok_nothing").await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }));
}

#[tokio::test]
async fn a_token_never_exceeds_its_user() {
    let h = Harness::new().await;
    let dave = "dave".parse().unwrap();
    let err = h.service.create_token(&admin(), &dave, Some(Role::Admin), None).await.unwrap_err();
    assert!(matches!(&err, Error::BadInput { field: Some(f), .. } if f == "role"), "{err:?}");
    assert!(err.to_string().contains("dave is viewer"), "{err}");
    // Demoting the user demotes the token.
    let bob = "bob".parse().unwrap();
    let t = h.service.create_token(&admin(), &bob, Some(Role::Approver), None).await.unwrap();
    let mut user = h.store.get_user(&bob).await.unwrap().unwrap();
    user.role = Role::Viewer;
    h.store.put_user(&user).await.unwrap();
    assert_eq!(h.service.authenticate(&t.secret, "api").await.unwrap().role, Role::Viewer);
    // Only admins mint tokens.
    let before = h.snapshot().await;
    let err = h
        .service
        .create_token(&caller("erin", Role::Approver), &"erin".parse().unwrap(), None, None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Denied { .. }), "{err:?}");
    assert_eq!(h.snapshot().await, before);
    let _ = json!({});
}

#[tokio::test]
async fn passwords_and_sessions() {
    let h = Harness::new().await;
    let carol = "carol".parse().unwrap();
    let err = h.service.set_password(&admin(), &carol, "short", None).await.unwrap_err();
    assert!(matches!(&err, Error::BadInput { field: Some(f), .. } if f == "password"), "{err:?}");
    let err =
        h.service.set_password(&caller("bob", Role::Approver), &carol, "long enough password", None).await.unwrap_err();
    assert!(matches!(err, Error::Denied { .. }));
    assert!(!h.service.set_password(&admin(), &carol, "correct horse battery", None).await.unwrap());
    let stored = h.store.password_hash(&carol).await.unwrap().unwrap();
    assert!(stored.starts_with("$argon2id$"), "{stored}");

    for (user, password) in [("carol", "wrong password!"), ("nobody", "correct horse battery"), ("Not A Name", "x")] {
        let err = h.service.login(user, password, ADDR).await.unwrap_err();
        assert_eq!(err.to_string(), "Wrong user name or password.", "{user}");
    }
    let (who, secret) = h.service.login("carol", "correct horse battery", ADDR).await.unwrap();
    assert_eq!((who.user.as_str(), who.role), ("carol", Role::Editor));
    let again = h.service.session(&secret, "portal").await.unwrap().unwrap();
    assert_eq!(again.user.as_str(), "carol");
    assert!(h.service.session("0".repeat(64).as_str(), "portal").await.unwrap().is_none());
    h.service.logout(&secret).await.unwrap();
    assert!(h.service.session(&secret, "portal").await.unwrap().is_none(), "signed out");
    let (_, secret) = h.service.login("carol", "correct horse battery", ADDR).await.unwrap();
    h.clock.advance(13 * 3_600_000);
    assert!(
        h.service.session(&secret, "portal").await.unwrap().is_none(),
        "sessions expire after server.session_hours"
    );
    // A new user can be created with a password.
    assert!(
        h.service
            .set_password(&admin(), &"newbie".parse().unwrap(), "a long new password", Some(Role::Approver))
            .await
            .unwrap()
    );
    assert_eq!(h.service.login("newbie", "a long new password", ADDR).await.unwrap().0.role, Role::Approver);
}
