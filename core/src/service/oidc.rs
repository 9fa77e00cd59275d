//! Signing in through the OIDC provider, after the portal has verified the
//! ID token: the person's account found by their subject (or made, or linked
//! by a verified email), their role and teams set from their groups as
//! `[auth.oidc]` maps them — at every sign-in, winning over local changes —
//! then a session. Refusals are recorded like failed password sign-ins.

use std::net::IpAddr;

use super::Service;
use crate::error::{DenyReason, Error, Result};
use crate::event::{Event, EventData, EventKind, payload};
use crate::ids::{TeamSlug, UserName};
use crate::model::{OidcSubject, User};
use crate::policy::Caller;

/// What a verified ID token says about the person.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OidcClaims {
    pub issuer: String,
    pub subject: String,
    /// The name the configured claim gives (`preferred_username`), if any.
    pub username: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub email_verified: bool,
    pub groups: Vec<String>,
}

/// A user name from what a provider calls the person: lowercase, with
/// anything else than letters, digits, `.`, `_` and `-` made a `-`.
fn user_name(claims: &OidcClaims) -> Option<UserName> {
    let local = claims.email.as_deref().and_then(|e| e.split('@').next());
    [claims.username.as_deref(), local, Some(claims.subject.as_str())].into_iter().flatten().find_map(|raw| {
        let clean: String = raw
            .trim()
            .to_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '-' })
            .collect();
        let clean: String = clean.trim_matches(['-', '.', '_']).chars().take(64).collect();
        clean.parse().ok()
    })
}

impl Service {
    /// Signs in the person a verified ID token describes, from `address`;
    /// returns the caller and the session's secret.
    pub async fn oidc_sign_in(&self, claims: &OidcClaims, address: IpAddr) -> Result<(Caller, String)> {
        let Some(config) = self.ctx.config.auth.oidc.clone() else {
            return Err(Error::conflict("single sign-on is not configured ([auth.oidc])"));
        };
        let account = {
            let _account = self.ctx.accounts.lock().await;
            self.oidc_account(claims, &config, address).await
        };
        match account {
            Ok(user) => {
                let secret = self.start_session(&user, "oidc", address).await?;
                Ok((Caller { user: user.name, role: user.role, source: "portal".into() }, secret))
            }
            Err((reason, e)) => {
                let shown = claims.username.clone().unwrap_or_else(|| claims.subject.clone());
                tracing::info!(user = %shown, %address, reason, "single sign-on refused");
                let failed = EventData::SignInFailed(payload::SignInFailed {
                    user: shown.chars().take(100).collect(),
                    address: address.to_string(),
                    reason: reason.into(),
                    method: Some("oidc".into()),
                    next_wait_ms: None,
                });
                let e2 = Event::of(&failed, self.now(), "anonymous", "portal");
                self.record(&[e2]).await?;
                Err(e)
            }
        }
    }

    /// The account for `claims`, brought in line with the provider.
    async fn oidc_account(
        &self,
        claims: &OidcClaims,
        config: &crate::config::OidcConfig,
        address: IpAddr,
    ) -> std::result::Result<User, (&'static str, Error)> {
        let store = |e: crate::store::StoreError| ("store", Error::from(e));
        let me = OidcSubject { issuer: claims.issuer.clone(), subject: claims.subject.clone() };
        let users = self.ctx.graph.list_users().await.map_err(store)?;
        let now = self.now();
        let Some(role) = config.role_for(&claims.groups) else {
            // Someone the provider no longer gives any access: what they had here ends too.
            if let Some(linked) = users.iter().find(|u| u.oidc.as_ref() == Some(&me)) {
                let mut u = linked.clone();
                let (revoked, _) =
                    super::users::end_access(&self.ctx, &mut u, now, true).await.map_err(|e| ("store", e))?;
                let ended = EventData::SessionsEnded(payload::SessionsEnded {
                    user: u.name.clone(),
                    reason: Some("no_role_at_provider".into()),
                    tokens_revoked: Some(revoked),
                });
                let e = Event::of(&ended, now, "oidc", "oidc").subject(u.name.as_str());
                self.record(&[e]).await.map_err(|e| ("store", e))?;
            }
            return Err(("no_role", Error::Denied { operation: "sign-in".into(), reason: DenyReason::NoAccess }));
        };
        let caller = Caller::new("oidc", crate::model::Role::Admin, "oidc");
        let mut events = Vec::new();
        let mut user = match users.iter().find(|u| u.oidc.as_ref() == Some(&me)) {
            Some(u) => u.clone(),
            None => {
                let Some(name) = user_name(claims) else {
                    return Err(("no_name", Error::field("sub", "the provider gave no usable name")));
                };
                match users.iter().find(|u| u.name == name) {
                    // A local account becomes this person's only when the provider vouches for its email.
                    Some(local)
                        if local.oidc.is_none()
                            && claims.email_verified
                            && local.email.is_some()
                            && local.email.as_deref().map(str::to_lowercase)
                                == claims.email.as_ref().map(|e| e.to_lowercase()) =>
                    {
                        let mut u = local.clone();
                        u.oidc = Some(me.clone());
                        u
                    }
                    Some(_) => {
                        return Err(("name_taken", Error::conflict(crate::messages::oidc_name_taken(name.as_str()))));
                    }
                    None => {
                        let u = User { oidc: Some(me.clone()), ..User::new(name, role) };
                        events.push(
                            Event::of(
                                &EventData::UserCreated(payload::UserCreated {
                                    user: u.name.clone(),
                                    role,
                                    by: Some("oidc".into()),
                                }),
                                now,
                                "oidc",
                                "oidc",
                            )
                            .subject(u.name.as_str()),
                        );
                        u
                    }
                }
            }
        };
        if user.disabled {
            return Err(("disabled", Error::Denied { operation: "sign-in".into(), reason: DenyReason::Disabled }));
        }
        if let Some(n) = claims.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            user.display_name = n.chars().take(200).collect();
        }
        // Only an address the provider vouches for: Slack accounts link to people by email.
        if let Some(e) = claims.email.as_deref().filter(|e| claims.email_verified && e.contains('@') && e.len() <= 254)
        {
            user.email = Some(e.to_owned());
        }
        if user.role != role && !events.iter().any(|e| e.kind == EventKind::UserCreated) {
            let (e, _) =
                super::users::change_role(&self.ctx, &caller, now, &mut user, role).await.map_err(|e| ("store", e))?;
            events.push(e);
        }
        self.ctx.graph.put_user(&user).await.map_err(store)?;
        events.extend(self.oidc_teams(&user, &claims.groups, config, now).await.map_err(|e| ("store", e))?);
        self.record(&events).await.map_err(|e| ("store", e))?;
        tracing::debug!(user = %user.name, %address, ?role, "single sign-on account in line with the provider");
        Ok(user)
    }

    /// Team memberships the groups give: joins and leaves, as events.
    async fn oidc_teams(
        &self,
        user: &User,
        groups: &[String],
        config: &crate::config::OidcConfig,
        now: crate::model::Millis,
    ) -> Result<Vec<Event>> {
        let mut events = Vec::new();
        let mut wanted: std::collections::BTreeMap<&TeamSlug, bool> = std::collections::BTreeMap::new();
        for (group, team) in &config.teams {
            let member = groups.contains(group);
            let e = wanted.entry(team).or_insert(false);
            *e |= member;
        }
        for (slug, member) in wanted {
            let Some(mut team) = self.ctx.graph.get_team(slug).await? else {
                tracing::warn!(team = %slug, "auth.oidc.teams names a team that does not exist");
                continue;
            };
            let has = team.members.contains(&user.name);
            if has == member {
                continue;
            }
            if member {
                team.members.push(user.name.clone());
            } else {
                team.members.retain(|m| *m != user.name);
            }
            self.ctx.graph.put_team(&team).await?;
            let change = if member { payload::MembershipChange::Joined } else { payload::MembershipChange::Left };
            let updated = EventData::TeamUpdated(payload::TeamUpdated::Membership {
                team: team.slug.clone(),
                members: team.members.clone(),
                by: "oidc".into(),
                user: user.name.clone(),
                change,
            });
            events.push(Event::of(&updated, now, "oidc", "oidc").subject(team.slug.as_str()));
        }
        Ok(events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_username_then_the_email_then_the_subject() {
        let c = |username: Option<&str>, email: Option<&str>, sub: &str| OidcClaims {
            username: username.map(str::to_owned),
            email: email.map(str::to_owned),
            subject: sub.into(),
            ..Default::default()
        };
        assert_eq!(user_name(&c(Some("Ada.Lovelace"), None, "1")).unwrap().as_str(), "ada.lovelace");
        assert_eq!(user_name(&c(None, Some("grace@example.com"), "1")).unwrap().as_str(), "grace");
        assert_eq!(user_name(&c(Some("Jean Luc"), None, "1")).unwrap().as_str(), "jean-luc");
        assert_eq!(user_name(&c(None, None, "00u1abc")).unwrap().as_str(), "00u1abc");
    }
}
