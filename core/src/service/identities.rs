//! Who a Slack or Discord user is to Switchboard: a linked chat identity, or
//! a user with the same email the platform verified (linked on first use),
//! or else an unknown person with `chat.unknown_role`. People link an account
//! themselves with a one-time code (`/sb link` in chat, then the portal's
//! `/link` page while signed in).

use super::Service;
use super::accounts::hash_token;
use crate::error::{Error, Result};
use crate::event::{Event, EventData, payload};
use crate::model::{ChatIdentity, ChatPlatform, Millis, User};
use crate::policy::Caller;

/// How long a link code stays valid.
pub const LINK_CODE_TTL_MS: Millis = 10 * 60 * 1000;
/// The store's ticket kind of link codes (kept under the SHA-256 of the code).
const LINK_TICKET: &str = "chat_link";

impl Service {
    /// The caller behind a chat account. `verified_email` is the address the
    /// platform vouches for (Slack's `users.info`), if known.
    /// The user a chat account is linked to, if it is.
    pub async fn linked_caller(&self, platform: ChatPlatform, id: &str) -> Result<Option<Caller>> {
        let identity = ChatIdentity { platform, id: id.to_owned() };
        let users = self.ctx.graph.list_users().await?;
        Ok(users
            .iter()
            .find(|u| u.chat_identities.contains(&identity))
            .map(|u| access(u, platform, id, self.ctx.config.chat.unknown_role)))
    }

    pub async fn chat_caller(&self, platform: ChatPlatform, id: &str, verified_email: Option<&str>) -> Result<Caller> {
        let source = platform.as_str();
        let identity = ChatIdentity { platform, id: id.to_owned() };
        let users = self.ctx.graph.list_users().await?;
        if let Some(u) = users.iter().find(|u| u.chat_identities.contains(&identity)) {
            return Ok(access(u, platform, id, self.ctx.config.chat.unknown_role));
        }
        let by_email = verified_email
            .map(str::trim)
            .filter(|e| e.contains('@'))
            .and_then(|e| users.iter().find(|u| u.email.as_deref().is_some_and(|m| m.eq_ignore_ascii_case(e))));
        if let Some(u) = by_email {
            // Read again under the accounts lock: the list may be older than a change to this person.
            let _account = self.ctx.accounts.lock().await;
            let fresh = self.ctx.graph.get_user(&u.name).await?.unwrap_or_else(|| u.clone());
            if fresh.disabled {
                return Ok(Caller::new(&unknown_name(platform, id), self.ctx.config.chat.unknown_role, source));
            }
            let u = self.link(fresh, identity, "email").await?;
            return Ok(Caller::new(u.name.as_str(), u.role, source));
        }
        Ok(Caller::new(&unknown_name(platform, id), self.ctx.config.chat.unknown_role, source))
    }

    /// A one-time code for `/sb link`: typed in the portal by a signed-in
    /// person, it links this chat account to them.
    /// Kept in the store, so any replica can redeem it.
    pub async fn link_code(&self, platform: ChatPlatform, id: &str) -> Result<String> {
        let now = self.now();
        let code: String = uuid::Uuid::new_v4().simple().to_string()[..8].to_uppercase();
        let identity =
            serde_json::to_value(ChatIdentity { platform, id: id.to_owned() }).expect("a chat identity is plain data");
        self.ctx.graph.prune_tickets(now).await?;
        self.ctx.graph.put_ticket(LINK_TICKET, &hash_token(&code), &identity, now + LINK_CODE_TTL_MS).await?;
        Ok(code)
    }

    /// Links the chat account that asked for `code` to `caller`'s user.
    pub async fn redeem_link_code(&self, caller: &Caller, code: &str) -> Result<User> {
        let _account = self.ctx.accounts.lock().await;
        let now = self.now();
        let key = hash_token(code.trim().to_uppercase().as_str());
        let found = self.ctx.graph.take_ticket(LINK_TICKET, &key, now).await?;
        let Some(identity) = found.and_then(|v| serde_json::from_value::<ChatIdentity>(v).ok()) else {
            return Err(Error::field(
                "code",
                "this code is unknown or older than 10 minutes; type /sb link in Slack or Discord for a new one",
            ));
        };
        let user = self.ctx.graph.get_user(&caller.user).await?.ok_or_else(|| {
            Error::field("user", format!("{} has no account to link; an admin can create one", caller.user))
        })?;
        // The account leaves whoever had it before.
        for mut other in self.ctx.graph.list_users().await? {
            if other.name != user.name && other.chat_identities.contains(&identity) {
                other.chat_identities.retain(|i| *i != identity);
                self.ctx.graph.put_user(&other).await?;
            }
        }
        self.link(user, identity, "code").await
    }

    async fn link(&self, mut user: User, identity: ChatIdentity, how: &str) -> Result<User> {
        if !user.chat_identities.contains(&identity) {
            user.chat_identities.push(identity.clone());
            self.ctx.graph.put_user(&user).await?;
            let linked = EventData::ChatIdentityLinked(payload::ChatIdentityLinked {
                user: user.name.clone(),
                platform: identity.platform,
                id: identity.id.clone(),
                by: how.to_owned(),
            });
            let e = Event::of(&linked, self.now(), user.name.as_str(), identity.platform.as_str())
                .subject(user.name.as_str());
            self.record(&[e]).await?;
        }
        Ok(user)
    }
}

/// Who a linked chat account acts as: its person, unless they are disabled
/// (then it is a stranger like any unlinked account).
fn access(user: &User, platform: ChatPlatform, id: &str, unknown_role: crate::model::Role) -> Caller {
    if user.disabled {
        Caller::new(&unknown_name(platform, id), unknown_role, platform.as_str())
    } else {
        Caller::new(user.name.as_str(), user.role, platform.as_str())
    }
}

/// The name an unlinked chat user acts under: `slack-U061F7AUR`.
fn unknown_name(platform: ChatPlatform, id: &str) -> String {
    let clean: String =
        id.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')).take(50).collect();
    format!("{}-{}", platform.as_str(), if clean.is_empty() { "someone" } else { &clean })
}
