//! Signing in to the portal: passwords (argon2, hashed and checked on the
//! bounded CPU pool), the throttles that keep guessing slow, sessions that
//! end when the person's access changes, and a record of every sign-in and
//! failure in the operations log.

use std::net::IpAddr;

use super::Service;
use super::accounts::{admin_only, hash_token};
use crate::error::{DenyReason, Error, Result};
use crate::event::{Event, EventData, payload};
use crate::ids::UserName;
use crate::limits::{Limit, Who};
use crate::model::{Role, Session, User};
use crate::policy::Caller;

/// Shortest password accepted.
pub const MIN_PASSWORD: usize = 12;

fn wrong_credentials() -> Error {
    // One message for an unknown user, a wrong password and a disabled
    // account: no probing which accounts exist.
    Error::Unauthenticated { message: "Wrong user name or password.".into() }
}

fn internal(detail: impl ToString) -> Error {
    Error::internal("password hashing failed", detail)
}

/// Too many sign-ins wait for the CPU: the person tries again shortly.
fn busy(e: crate::cpu::Refused) -> Error {
    match e {
        crate::cpu::Refused::Busy => Error::RateLimited {
            message: crate::messages::rate_limited("sign-in attempts at once", 1),
            retry_after_secs: 1,
        },
        crate::cpu::Refused::Failed => internal("a password job stopped"),
    }
}

fn hash_password(password: &str) -> Result<String> {
    use argon2::password_hash::PasswordHasher;
    argon2::Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string()).map_err(internal)
}

fn password_matches(stored: &str, password: &str) -> bool {
    use argon2::password_hash::PasswordVerifier;
    use argon2::password_hash::phc::PasswordHash;
    PasswordHash::new(stored).is_ok_and(|p| argon2::Argon2::default().verify_password(password.as_bytes(), &p).is_ok())
}

impl Service {
    /// Sets a user's portal password, creating the user with `role` if it
    /// does not exist, or changing an existing user's role to `role` when
    /// given. Their sessions end. Returns whether the user was created.
    pub async fn set_password(
        &self,
        caller: &Caller,
        user: &UserName,
        password: &str,
        role: Option<Role>,
    ) -> Result<bool> {
        admin_only(caller)?;
        if !self.ctx.config.auth.local_passwords {
            return Err(Error::conflict(
                "passwords are off here (auth.local_passwords = false): people sign in through single sign-on",
            ));
        }
        if password.chars().count() < MIN_PASSWORD {
            return Err(Error::field("password", format!("must be at least {MIN_PASSWORD} characters")));
        }
        if password.len() > 1024 {
            return Err(Error::field("password", "must be at most 1024 bytes"));
        }
        if let Some(u) = self.ctx.graph.get_user(user).await?
            && u.oidc.is_some()
        {
            return Err(Error::conflict(format!(
                "{user} signs in through the OIDC provider; a password would be a second way in, so none is set"
            )));
        }
        let _account = self.ctx.accounts.lock().await;
        let owned = password.to_owned();
        let hash = self.ctx.passwords.run(move || hash_password(&owned)).await.map_err(busy)??;
        let (mut account, created) = self.ensure_user(caller, user, role).await?;
        self.ctx.graph.set_password_hash(user, &hash).await?;
        let now = self.now();
        let mut events = Vec::new();
        if !created {
            match role.filter(|r| *r != account.role) {
                Some(r) => events.push(super::users::change_role(&self.ctx, caller, now, &mut account, r).await?.0),
                None => {
                    super::users::end_access(&self.ctx, &mut account, now, false).await?;
                }
            }
        }
        let changed = EventData::PasswordChanged(payload::AboutUser { user: user.clone() });
        let e = Event::of(&changed, now, caller.user.as_str(), &caller.source).subject(user.as_str());
        events.push(e);
        self.record(&events).await?;
        Ok(created)
    }

    /// Checks a user name and password from `address`; on success starts a
    /// session and returns the caller and its secret (for the cookie).
    /// Refused with the time to wait when `address` tries too often, or has
    /// failed too often for this account; unknown accounts take as long to
    /// refuse as known ones.
    pub async fn login(&self, user: &str, password: &str, address: IpAddr) -> Result<(Caller, String)> {
        if !self.ctx.config.auth.local_passwords {
            return Err(Error::Unauthenticated { message: crate::messages::passwords_off() });
        }
        let limits = self.limits();
        limits.check(Limit::SignIn, Who::Address(address))?;
        let account_key: String = user.trim().chars().take(100).collect();
        limits.sign_in_allowed(&account_key, address)?;
        let name = account_key.parse::<UserName>().ok();
        let stored = match &name {
            Some(n) => self.ctx.graph.password_hash(n).await?,
            None => None,
        };
        let known = stored.is_some();
        // Unknown accounts are checked against a hash of nothing, so both take as long.
        let stored = match stored {
            Some(s) => s,
            None => self.dummy_hash().await?,
        };
        let given = password.chars().take(1024).collect::<String>();
        let matched = self.ctx.passwords.run(move || password_matches(&stored, &given)).await.map_err(busy)?;
        let account = match (&name, known && matched) {
            (Some(n), true) => self.ctx.graph.get_user(n).await?,
            _ => None,
        };
        // Accounts of the provider sign in there only: its groups decide their access.
        let Some(account) = account.filter(|a| !a.disabled && a.oidc.is_none()) else {
            let reason = if known && matched { "disabled_or_single_sign_on" } else { "wrong_credentials" };
            let wait = limits.sign_in_failed(&account_key, address);
            let shown = name.as_ref().map(|n| n.to_string()).unwrap_or_else(|| "(not a user name)".into());
            tracing::info!(user = %shown, %address, reason, "sign-in refused");
            let failed = EventData::SignInFailed(payload::SignInFailed {
                user: shown,
                address: address.to_string(),
                reason: reason.into(),
                method: None,
                next_wait_ms: Some(wait),
            });
            let e = Event::of(&failed, self.now(), "anonymous", "portal");
            self.record(&[e]).await?;
            return Err(wrong_credentials());
        };
        limits.sign_in_succeeded(&account_key, address);
        let secret = self.start_session(&account, "password", address).await?;
        Ok((Caller { user: account.name, role: account.role, source: "portal".into() }, secret))
    }

    /// Starts a portal session for `user`, signed in by `method` (`password`,
    /// `oidc`) from `address`, and records it; returns the cookie's secret.
    pub async fn start_session(&self, user: &User, method: &str, address: IpAddr) -> Result<String> {
        if user.disabled {
            return Err(Error::Denied { operation: "sign-in".into(), reason: DenyReason::Disabled });
        }
        let secret = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
        let now = self.now();
        let session = Session {
            hash: hash_token(&secret),
            user: user.name.clone(),
            created_at: now,
            expires_at: now + i64::from(self.ctx.config.server.session_hours) * 3_600_000,
            generation: user.session_generation,
        };
        self.ctx.graph.put_session(&session).await?;
        tracing::info!(user = %user.name, method, %address, "signed in");
        let signed_in = EventData::SignedIn(payload::SignedIn {
            user: user.name.clone(),
            method: method.into(),
            address: address.to_string(),
        });
        let e = Event::of(&signed_in, now, user.name.as_str(), "portal").subject(user.name.as_str());
        self.record(&[e]).await?;
        Ok(secret)
    }

    /// A hash of a random password, made once, that unknown accounts are checked against.
    async fn dummy_hash(&self) -> Result<String> {
        if let Some(h) = self.ctx.dummy_hash.get() {
            return Ok(h.clone());
        }
        let random = uuid::Uuid::new_v4().simple().to_string();
        let hash = self.ctx.passwords.run(move || hash_password(&random)).await.map_err(busy)??;
        Ok(self.ctx.dummy_hash.get_or_init(|| hash).clone())
    }

    /// The signed-in caller of a session cookie, if it is still valid: not
    /// expired, and the person neither disabled nor signed out everywhere since.
    pub async fn session(&self, secret: &str, source: &str) -> Result<Option<Caller>> {
        if secret.len() != 64 {
            return Ok(None);
        }
        let Some(session) = self.ctx.graph.session_by_hash(&hash_token(secret)).await? else { return Ok(None) };
        let user = self.ctx.graph.get_user(&session.user).await?;
        let valid = user.as_ref().filter(|u| !u.disabled && u.session_generation == session.generation);
        let Some(user) = valid.filter(|_| self.now() < session.expires_at) else {
            self.ctx.graph.delete_session(&session.hash).await?;
            return Ok(None);
        };
        Ok(Some(Caller { user: user.name.clone(), role: user.role, source: source.to_owned() }))
    }

    /// Ends the session of a cookie, recording who signed out.
    pub async fn logout(&self, secret: &str) -> Result<()> {
        let hash = hash_token(secret);
        if let Some(session) = self.ctx.graph.session_by_hash(&hash).await? {
            self.ctx.graph.delete_session(&hash).await?;
            let out = EventData::SignedOut(payload::AboutUser { user: session.user.clone() });
            let e = Event::of(&out, self.now(), session.user.as_str(), "portal").subject(session.user.as_str());
            self.record(&[e]).await?;
        }
        Ok(())
    }
}
