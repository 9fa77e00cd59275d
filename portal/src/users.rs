//! The admin's Users page: every account with its role, email, how it signs
//! in and its tokens, and the account operations as forms (CSRF-checked, run
//! as the person who pressed them, so only admins get through the policy).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;
use switchboard_core::Error;
use switchboard_core::model::Role;

use crate::error::PageError;
use crate::views::banner;
use crate::{PageCaller, PortalState};

pub(crate) fn routes() -> Router<PortalState> {
    Router::new().route("/admin/users", get(page)).route("/admin/users/{name}", post(change))
}

pub(crate) struct UserRow {
    pub name: String,
    pub display_name: String,
    pub email: String,
    pub role: &'static str,
    pub sign_in: String,
    pub tokens: u32,
    pub disabled: bool,
    /// Roles come from the OIDC provider for these accounts.
    pub managed: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "users.html")]
struct UsersPage {
    banner: Option<String>,
    csrf: String,
    users: Vec<UserRow>,
    roles: Vec<&'static str>,
    /// What the last change did, when coming back from one.
    done: String,
}

#[derive(Deserialize)]
struct Done {
    done: Option<String>,
}

async fn page(
    State(state): State<PortalState>,
    PageCaller(caller): PageCaller,
    axum::extract::Query(q): axum::extract::Query<Done>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let (csrf, set_cookie) = crate::csrf::token(&headers, state.secure_cookies());
    let list = state.service.call(&caller, switchboard_core::ops::inputs::ListUsers {}).await?;
    let users = list
        .users
        .into_iter()
        .map(|a| UserRow {
            name: a.user.name.to_string(),
            display_name: a.user.display_name.clone(),
            email: a.user.email.clone().unwrap_or_default(),
            role: a.user.role.as_str(),
            managed: a.user.oidc.is_some(),
            sign_in: a.sign_in,
            tokens: a.active_tokens,
            disabled: a.user.disabled,
        })
        .collect();
    let done = q.done.map(|d| d.chars().take(200).collect()).unwrap_or_default();
    let roles = Role::ALL.iter().map(|r| r.as_str()).collect();
    let page = UsersPage { banner: banner(&state.mode, &caller), csrf, users, roles, done };
    Ok(crate::with_cookie(page.into_response(), set_cookie))
}

#[derive(Deserialize)]
struct ChangeForm {
    csrf: Option<String>,
    /// `role`, `email`, `disable`, `enable` or `sign_out`.
    action: String,
    role: Option<String>,
    email: Option<String>,
    reason: Option<String>,
}

async fn change(
    State(state): State<PortalState>,
    PageCaller(caller): PageCaller,
    headers: HeaderMap,
    Path(name): Path<String>,
    axum::Form(form): axum::Form<ChangeForm>,
) -> Result<Response, PageError> {
    crate::csrf::require(&headers, form.csrf.as_deref())?;
    let (operation, args) = match form.action.as_str() {
        "role" => ("set_user_role", json!({"user": name, "role": form.role})),
        "email" => {
            let email = form.email.as_deref().map(str::trim).filter(|e| !e.is_empty());
            ("set_user_email", json!({"user": name, "email": email}))
        }
        "disable" => {
            let reason = form.reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
            ("disable_user", json!({"user": name, "reason": reason}))
        }
        "enable" => ("enable_user", json!({"user": name})),
        "sign_out" => ("sign_out_everywhere", json!({"user": name})),
        other => return Err(PageError(Error::field("action", format!("{other:?} is not an account action")))),
    };
    // What people typed in the form is read by the operation's own input
    // parsing, with the same errors the API gives.
    state.service.execute_json(&caller, operation, args).await?;
    let done = crate::messages::account_changed(operation, &name);
    Ok(Redirect::to(&format!("/admin/users?done={}", crate::gate::encode(&done))).into_response())
}
