//! Account administration as operations (admin role): list accounts, change
//! a role or an email, disable and enable, sign someone out everywhere. A
//! change that takes rights away acts at once: the person's portal sessions
//! end, and their API tokens are revoked or capped at the new role.

use super::{Call, Context, Done};
use crate::error::{Error, Result};
use crate::event::{Event, EventData, payload};
use crate::ids::UserName;
use crate::model::{Millis, Role, User};
use crate::ops::inputs::{DisableUser, EnableUser, SetUserEmail, SetUserRole, SignOutEverywhere};
use crate::ops::output::{Account, AccountChange, AccountList, Output};
use crate::policy::Caller;

/// How an account looks to admins.
pub(crate) async fn account(ctx: &Context, user: User) -> Result<Account> {
    let sign_in = if user.oidc.is_some() {
        "oidc"
    } else if ctx.graph.password_hash(&user.name).await?.is_some() {
        "password"
    } else {
        "none"
    };
    let now = ctx.clock.now();
    let active = ctx
        .graph
        .list_tokens(Some(&user.name))
        .await?
        .iter()
        .filter(|t| t.revoked_at.is_none() && t.expires_at.is_none_or(|e| now < e))
        .count();
    Ok(Account { user, sign_in: sign_in.into(), active_tokens: u32::try_from(active).unwrap_or(u32::MAX) })
}

async fn user(call: &Call<'_>, name: &UserName) -> Result<User> {
    call.ctx.graph.get_user(name).await?.ok_or_else(|| Error::not_found("user", name))
}

/// Refuses a change that would leave no enabled admin.
async fn keep_an_admin(call: &Call<'_>, user: &User) -> Result<()> {
    if user.role < Role::Admin || user.disabled {
        return Ok(());
    }
    let admins =
        call.ctx.graph.list_users().await?.into_iter().filter(|u| u.role == Role::Admin && !u.disabled).count();
    if admins <= 1 {
        return Err(Error::conflict(format!(
            "{} is the only admin; make someone else an admin first, so Switchboard keeps one",
            user.name
        )));
    }
    Ok(())
}

/// What ending someone's access changes, applied to the stores: their
/// sessions end, and their tokens are revoked (`revoke`) or capped at their
/// role. Returns (tokens revoked, tokens capped).
pub(crate) async fn end_access(ctx: &Context, user: &mut User, now: Millis, revoke: bool) -> Result<(u32, u32)> {
    user.session_generation = user.session_generation.wrapping_add(1);
    ctx.graph.put_user(user).await?;
    let (mut revoked, mut capped) = (0, 0);
    for mut token in ctx.graph.list_tokens(Some(&user.name)).await? {
        if token.revoked_at.is_some() {
            continue;
        }
        if revoke {
            token.revoked_at = Some(now);
            revoked += 1;
        } else if token.role > user.role {
            token.role = user.role;
            capped += 1;
        } else {
            continue;
        }
        ctx.graph.put_token(&token).await?;
    }
    Ok((revoked, capped))
}

/// Changes `user`'s role, ending their sessions and capping their tokens.
/// Returns the event and the number of tokens capped.
pub(crate) async fn change_role(
    ctx: &Context,
    caller: &Caller,
    now: Millis,
    user: &mut User,
    role: Role,
) -> Result<(Event, u32)> {
    let from = user.role;
    user.role = role;
    let (_, capped) = end_access(ctx, user, now, false).await?;
    let changed = EventData::UserRoleChanged(payload::UserRoleChanged {
        user: user.name.clone(),
        from,
        to: role,
        tokens_capped: capped,
    });
    let e = Event::of(&changed, now, caller.user.as_str(), &caller.source).subject(user.name.as_str());
    Ok((e, capped))
}

async fn changed(call: &Call<'_>, user: User, sessions_ended: bool, revoked: u32, capped: u32) -> Result<Output> {
    let account = account(call.ctx, user).await?;
    Ok(Output::Account(Box::new(AccountChange {
        account,
        sessions_ended,
        tokens_revoked: revoked,
        tokens_capped: capped,
    })))
}

pub(super) async fn list_users(call: &Call<'_>) -> Result<Done> {
    let mut users = Vec::new();
    for u in call.ctx.graph.list_users().await? {
        users.push(account(call.ctx, u).await?);
    }
    Ok(Done::read(Output::Accounts(AccountList { users })))
}

pub(super) async fn set_user_role(call: &Call<'_>, i: SetUserRole) -> Result<Done> {
    let _account = call.ctx.accounts.lock().await;
    let mut u = user(call, &i.user).await?;
    if u.oidc.is_some() {
        return Err(Error::conflict(format!(
            "{} signs in through the OIDC provider, whose groups set the role at every sign-in; change the mapping in [auth.oidc] instead",
            u.name
        )));
    }
    if u.role == i.role {
        let output = changed(call, u, false, 0, 0).await?;
        return Ok(Done { output, events: Vec::new() });
    }
    if i.role < Role::Admin {
        keep_an_admin(call, &u).await?;
    }
    let (event, capped) = change_role(call.ctx, call.caller, call.now, &mut u, i.role).await?;
    Ok(Done { output: changed(call, u, true, 0, capped).await?, events: vec![event] })
}

/// An email address as people type it, checked for shape.
fn email(raw: &str) -> Result<String> {
    let e = raw.trim();
    let shaped = e.len() <= 254
        && e.split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.') && !domain.contains('@'))
        && !e.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"' | ','));
    if shaped { Ok(e.to_owned()) } else { Err(Error::field("email", "is not an email address like carol@example.com")) }
}

pub(super) async fn set_user_email(call: &Call<'_>, i: SetUserEmail) -> Result<Done> {
    let _account = call.ctx.accounts.lock().await;
    let mut u = user(call, &i.user).await?;
    let new = i.email.as_deref().map(email).transpose()?;
    if u.email == new {
        return Ok(Done { output: changed(call, u, false, 0, 0).await?, events: Vec::new() });
    }
    u.email = new;
    call.ctx.graph.put_user(&u).await?;
    let e = call
        .event(EventData::UserUpdated(payload::UserUpdated {
            user: u.name.clone(),
            field: "email".into(),
            email: u.email.clone(),
        }))
        .subject(u.name.as_str());
    Ok(Done { output: changed(call, u, false, 0, 0).await?, events: vec![e] })
}

pub(super) async fn disable_user(call: &Call<'_>, i: DisableUser) -> Result<Done> {
    let _account = call.ctx.accounts.lock().await;
    let mut u = user(call, &i.user).await?;
    if u.name == call.caller.user {
        return Err(Error::conflict("you cannot disable your own account; ask another admin"));
    }
    if u.disabled {
        return Ok(Done { output: changed(call, u, false, 0, 0).await?, events: Vec::new() });
    }
    keep_an_admin(call, &u).await?;
    u.disabled = true;
    let (revoked, _) = end_access(call.ctx, &mut u, call.now, true).await?;
    let reason = i.reason.map(|r| r.chars().take(500).collect::<String>());
    let e = call
        .event(EventData::UserDisabled(payload::UserDisabled { user: u.name.clone(), reason, tokens_revoked: revoked }))
        .subject(u.name.as_str());
    Ok(Done { output: changed(call, u, true, revoked, 0).await?, events: vec![e] })
}

pub(super) async fn enable_user(call: &Call<'_>, i: EnableUser) -> Result<Done> {
    let _account = call.ctx.accounts.lock().await;
    let mut u = user(call, &i.user).await?;
    if !u.disabled {
        return Ok(Done { output: changed(call, u, false, 0, 0).await?, events: Vec::new() });
    }
    u.disabled = false;
    call.ctx.graph.put_user(&u).await?;
    let e = call.event(EventData::UserEnabled(payload::AboutUser { user: u.name.clone() })).subject(u.name.as_str());
    Ok(Done { output: changed(call, u, false, 0, 0).await?, events: vec![e] })
}

pub(super) async fn sign_out_everywhere(call: &Call<'_>, i: SignOutEverywhere) -> Result<Done> {
    let _account = call.ctx.accounts.lock().await;
    let mut u = user(call, &i.user).await?;
    u.session_generation = u.session_generation.wrapping_add(1);
    call.ctx.graph.put_user(&u).await?;
    let ended = payload::SessionsEnded { user: u.name.clone(), reason: None, tokens_revoked: None };
    let e = call.event(EventData::SessionsEnded(ended)).subject(u.name.as_str());
    Ok(Done { output: changed(call, u, true, 0, 0).await?, events: vec![e] })
}

#[cfg(test)]
mod tests {
    #[test]
    fn emails_are_checked_for_shape() {
        for ok in ["carol@example.com", " a.b+c@mail.example.org "] {
            assert!(super::email(ok).is_ok(), "{ok}");
        }
        for bad in
            ["", "carol", "@example.com", "carol@", "carol@example", "a b@example.com", "a@b@example.com", "<a@b.c>"]
        {
            assert!(super::email(bad).is_err(), "{bad}");
        }
    }
}
