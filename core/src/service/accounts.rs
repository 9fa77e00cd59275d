//! Users and API tokens. Not operations (no chat, LLM or MCP client should
//! mint credentials): admin-only service methods the CLI and portal call, each
//! recorded in the event log. Token secrets are shown once and stored hashed.

use sha2::{Digest, Sha256};

use super::Service;
use crate::error::{DenyReason, Error, Result};
use crate::event::{Event, EventData, payload};
use crate::ids::UserName;
use crate::messages;
use crate::model::{ApiToken, Millis, Role, User};
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

pub(super) fn admin_only(caller: &Caller) -> Result<()> {
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
        if account.disabled {
            return Err(Error::conflict(format!(
                "{} is disabled; enable the account first (enable_user)",
                account.name
            )));
        }
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
            Event::of(
                &EventData::TokenCreated(payload::TokenCreated {
                    token: token.id.clone(),
                    user: token.user.clone(),
                    role: token.role,
                    expires_at: token.expires_at,
                }),
                now,
                caller.user.as_str(),
                &caller.source,
            )
            .subject(token.user.as_str()),
        ];
        self.record(&events).await?;
        Ok(NewToken { token, secret, created_user })
    }

    /// The user named `user`, created with `role` (viewer by default) and
    /// recorded when missing. Returns whether it was created.
    pub(super) async fn ensure_user(
        &self,
        caller: &Caller,
        user: &UserName,
        role: Option<Role>,
    ) -> Result<(User, bool)> {
        if let Some(u) = self.ctx.graph.get_user(user).await? {
            return Ok((u, false));
        }
        let u = User::new(user.clone(), role.unwrap_or(Role::Viewer));
        self.ctx.graph.put_user(&u).await?;
        let created = EventData::UserCreated(payload::UserCreated { user: u.name.clone(), role: u.role, by: None });
        let e = Event::of(&created, self.now(), caller.user.as_str(), &caller.source).subject(u.name.as_str());
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
            let revoked =
                EventData::TokenRevoked(payload::TokenRevoked { token: token.id.clone(), user: token.user.clone() });
            let e = Event::of(&revoked, self.now(), caller.user.as_str(), &caller.source).subject(token.user.as_str());
            self.record(&[e]).await?;
        }
        Ok(token)
    }

    /// Replaces a token with a new secret for the same user and role, with
    /// the same lifetime from now; the old one is revoked at once.
    pub async fn rotate_token(&self, caller: &Caller, id: &str) -> Result<NewToken> {
        admin_only(caller)?;
        let old = self.ctx.graph.get_token(id).await?.ok_or_else(|| Error::not_found("token", id))?;
        if old.revoked_at.is_some() {
            return Err(Error::conflict(format!("{id} is revoked; create a new token instead")));
        }
        let lifetime = old.expires_at.map(|e| e - old.created_at);
        let new = self.create_token(caller, &old.user, Some(old.role), lifetime).await?;
        let mut revoked = old.clone();
        revoked.revoked_at = Some(self.now());
        self.ctx.graph.put_token(&revoked).await?;
        let rotated = EventData::TokenRotated(payload::TokenRotated {
            token: old.id.clone(),
            new_token: new.token.id.clone(),
            user: old.user.clone(),
        });
        let e = Event::of(&rotated, self.now(), caller.user.as_str(), &caller.source).subject(old.user.as_str());
        self.record(&[e]).await?;
        Ok(new)
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
        if user.disabled {
            return Err(invalid());
        }
        Ok(Caller { user: user.name, role: token.role.min(user.role), source: source.to_owned() })
    }
}
