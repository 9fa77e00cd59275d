//! Users and API tokens. Not operations (no chat, LLM or MCP client should
//! mint credentials): admin-only service methods the CLI and portal call, each
//! recorded in the event log. Token secrets are shown once and stored hashed.

use serde_json::json;
use sha2::{Digest, Sha256};

use super::Service;
use crate::error::{DenyReason, Error, Result};
use crate::event::{Event, EventKind};
use crate::ids::UserName;
use crate::messages;
use crate::model::{ApiToken, Millis, Role, Session, User};
use crate::policy::Caller;

/// Prefix of every token secret, so leaked tokens are easy to scan for.
pub const TOKEN_PREFIX: &str = "sb_";

/// Hex SHA-256 of a token secret.
pub fn hash_token(secret: &str) -> String {
    Sha256::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn new_secret() -> String {
    // Two v4 UUIDs: 244 random bits from the operating system.
    format!("{TOKEN_PREFIX}{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

fn admin_only(caller: &Caller) -> Result<()> {
    if caller.role < Role::Admin {
        return Err(Error::Denied {
            operation: "account management".into(),
            reason: DenyReason::Role { needed: Role::Admin, actual: caller.role },
        });
    }
    Ok(())
}

/// A token just created: the record and its secret, which is never stored.
#[derive(Debug)]
pub struct NewToken {
    pub token: ApiToken,
    pub secret: String,
    /// Whether the user was created for it.
    pub created_user: bool,
}

impl Service {
    /// Creates an API token for `user`, creating the user with `role` if it
    /// does not exist. The token's role is `role` (default: the user's), and
    /// never more than the user's.
    pub async fn create_token(
        &self,
        caller: &Caller,
        user: &UserName,
        role: Option<Role>,
        expires_in: Option<Millis>,
    ) -> Result<NewToken> {
        admin_only(caller)?;
        let now = self.now();
        if let Some(e) = expires_in
            && e <= 0
        {
            return Err(Error::field("expires", "must be in the future"));
        }
        let (account, created_user) = self.ensure_user(caller, user, role).await?;
        let role = role.unwrap_or(account.role);
        if role > account.role {
            return Err(Error::field(
                "role",
                format!("{} is {}; a token cannot have more rights than its user", account.name, account.role),
            ));
        }
        let secret = new_secret();
        let hash = hash_token(&secret);
        let token = ApiToken {
            id: format!("tok_{}", &hash[..10]),
            user: account.name.clone(),
            role,
            hash,
            created_at: now,
            expires_at: expires_in.map(|e| now + e),
            revoked_at: None,
        };
        self.ctx.graph.put_token(&token).await?;
        let events = vec![
            Event::new(
                EventKind::TokenCreated,
                now,
                caller.user.as_str(),
                &caller.source,
                json!({"token": token.id, "user": token.user, "role": token.role, "expires_at": token.expires_at}),
            )
            .subject(token.user.as_str()),
        ];
        self.record(&events).await?;
        Ok(NewToken { token, secret, created_user })
    }

    /// The user named `user`, created with `role` (viewer by default) and
    /// recorded when missing. Returns whether it was created.
    async fn ensure_user(&self, caller: &Caller, user: &UserName, role: Option<Role>) -> Result<(User, bool)> {
        if let Some(u) = self.ctx.graph.get_user(user).await? {
            return Ok((u, false));
        }
        let u = User {
            name: user.clone(),
            display_name: user.to_string(),
            email: None,
            role: role.unwrap_or(Role::Viewer),
            chat_identities: Vec::new(),
        };
        self.ctx.graph.put_user(&u).await?;
        let e = Event::new(
            EventKind::UserCreated,
            self.now(),
            caller.user.as_str(),
            &caller.source,
            json!({"user": u.name, "role": u.role}),
        )
        .subject(u.name.as_str());
        self.record(&[e]).await?;
        Ok((u, true))
    }

    /// Revokes a token by its public id.
    pub async fn revoke_token(&self, caller: &Caller, id: &str) -> Result<ApiToken> {
        admin_only(caller)?;
        let mut token = self.ctx.graph.get_token(id).await?.ok_or_else(|| Error::not_found("token", id))?;
        if token.revoked_at.is_none() {
            token.revoked_at = Some(self.now());
            self.ctx.graph.put_token(&token).await?;
            let e = Event::new(
                EventKind::TokenRevoked,
                self.now(),
                caller.user.as_str(),
                &caller.source,
                json!({"token": token.id, "user": token.user}),
            )
            .subject(token.user.as_str());
            self.record(&[e]).await?;
        }
        Ok(token)
    }

    pub async fn list_tokens(&self, caller: &Caller, user: Option<&UserName>) -> Result<Vec<ApiToken>> {
        admin_only(caller)?;
        let mut tokens = self.ctx.graph.list_tokens(user).await?;
        for t in &mut tokens {
            t.hash.clear();
        }
        Ok(tokens)
    }

    /// The caller a token secret stands for: its user, with the lower of the
    /// token's role and the user's current role.
    pub async fn authenticate(&self, secret: &str, source: &str) -> Result<Caller> {
        let invalid = || Error::Unauthenticated { message: messages::unauthenticated_token() };
        if !secret.starts_with(TOKEN_PREFIX) || secret.len() > 200 {
            return Err(invalid());
        }
        let token = self.ctx.graph.token_by_hash(&hash_token(secret)).await?.ok_or_else(invalid)?;
        let now = self.now();
        if token.revoked_at.is_some() || token.expires_at.is_some_and(|e| now >= e) {
            return Err(invalid());
        }
        let user = self.ctx.graph.get_user(&token.user).await?.ok_or_else(invalid)?;
        Ok(Caller { user: user.name, role: token.role.min(user.role), source: source.to_owned() })
    }
}

/// Shortest password accepted.
pub const MIN_PASSWORD: usize = 12;

fn wrong_credentials() -> Error {
    // One message for an unknown user and a wrong password: no user probing.
    Error::Unauthenticated { message: "Wrong user name or password.".into() }
}

impl Service {
    /// Sets a user's portal password (creating the user with `role` if it does
    /// not exist). Returns whether the user was created.
    pub async fn set_password(
        &self,
        caller: &Caller,
        user: &UserName,
        password: &str,
        role: Option<Role>,
    ) -> Result<bool> {
        use argon2::password_hash::PasswordHasher;
        admin_only(caller)?;
        if password.chars().count() < MIN_PASSWORD {
            return Err(Error::field("password", format!("must be at least {MIN_PASSWORD} characters")));
        }
        if password.len() > 1024 {
            return Err(Error::field("password", "must be at most 1024 bytes"));
        }
        let (_, created) = self.ensure_user(caller, user, role).await?;
        let hash = argon2::Argon2::default()
            .hash_password(password.as_bytes())
            .map_err(|e| Error::Internal { reference: "password".into(), detail: e.to_string() })?
            .to_string();
        self.ctx.graph.set_password_hash(user, &hash).await?;
        Ok(created)
    }

    /// Checks a user name and password; on success starts a session and
    /// returns its secret (for the cookie) and the caller.
    pub async fn login(&self, user: &str, password: &str) -> Result<(Caller, String)> {
        use argon2::password_hash::PasswordVerifier;
        use argon2::password_hash::phc::PasswordHash;
        let name: UserName = user.trim().parse().map_err(|_| wrong_credentials())?;
        let stored = self.ctx.graph.password_hash(&name).await?.ok_or_else(wrong_credentials)?;
        let parsed = PasswordHash::new(&stored).map_err(|_| wrong_credentials())?;
        argon2::Argon2::default().verify_password(password.as_bytes(), &parsed).map_err(|_| wrong_credentials())?;
        let account = self.ctx.graph.get_user(&name).await?.ok_or_else(wrong_credentials)?;
        let secret = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
        let now = self.now();
        let session = Session {
            hash: hash_token(&secret),
            user: account.name.clone(),
            created_at: now,
            expires_at: now + i64::from(self.ctx.config.server.session_hours) * 3_600_000,
        };
        self.ctx.graph.put_session(&session).await?;
        Ok((Caller { user: account.name, role: account.role, source: "portal".into() }, secret))
    }

    /// The signed-in caller of a session cookie, if it is valid.
    pub async fn session(&self, secret: &str, source: &str) -> Result<Option<Caller>> {
        if secret.len() != 64 {
            return Ok(None);
        }
        let Some(session) = self.ctx.graph.session_by_hash(&hash_token(secret)).await? else { return Ok(None) };
        if self.now() >= session.expires_at {
            self.ctx.graph.delete_session(&session.hash).await?;
            return Ok(None);
        }
        let Some(user) = self.ctx.graph.get_user(&session.user).await? else { return Ok(None) };
        Ok(Some(Caller { user: user.name, role: user.role, source: source.to_owned() }))
    }

    pub async fn logout(&self, secret: &str) -> Result<()> {
        self.ctx.graph.delete_session(&hash_token(secret)).await?;
        Ok(())
    }
}
