//! `/link`: a signed-in person confirms the one-time code `/sb link` gave
//! them in Slack or Discord, so that chat account acts as them (their role
//! decides what its buttons and commands may do). CSRF-checked.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::error::PageError;
use crate::views::banner;
use crate::{PageCaller, PortalState};

pub(crate) fn routes() -> Router<PortalState> {
    Router::new().route("/link", get(form).post(redeem))
}

#[derive(Template, WebTemplate)]
#[template(path = "link.html")]
struct LinkPage {
    banner: Option<String>,
    csrf: String,
    user: String,
    signed_in: bool,
    error: String,
    linked: Vec<String>,
    done: String,
}

async fn page(
    state: &PortalState,
    caller: &switchboard_core::Caller,
    headers: &HeaderMap,
) -> (LinkPage, Option<String>) {
    let (csrf, set_cookie) = crate::csrf::token(headers, state.secure_cookies());
    let account = state.service.graph().get_user(&caller.user).await.ok().flatten();
    let linked = account
        .as_ref()
        .map(|u| u.chat_identities.iter().map(|i| format!("{} {}", i.platform.as_str(), i.id)).collect())
        .unwrap_or_default();
    let page = LinkPage {
        banner: banner(&state.mode, caller),
        csrf,
        user: caller.user.to_string(),
        signed_in: account.is_some(),
        error: String::new(),
        linked,
        done: String::new(),
    };
    (page, set_cookie)
}

async fn form(State(state): State<PortalState>, PageCaller(caller): PageCaller, headers: HeaderMap) -> Response {
    let (page, cookie) = page(&state, &caller, &headers).await;
    crate::with_cookie(page.into_response(), cookie)
}

#[derive(Deserialize)]
struct LinkForm {
    csrf: Option<String>,
    code: Option<String>,
}

async fn redeem(
    State(state): State<PortalState>,
    PageCaller(caller): PageCaller,
    headers: HeaderMap,
    axum::Form(f): axum::Form<LinkForm>,
) -> Result<Response, PageError> {
    crate::csrf::require(&headers, f.csrf.as_deref())?;
    let code = f.code.unwrap_or_default();
    let result = state.service.redeem_link_code(&caller, &code).await;
    let (mut page, cookie) = page(&state, &caller, &headers).await;
    let status = match result {
        Ok(user) => {
            page.linked = user.chat_identities.iter().map(|i| format!("{} {}", i.platform.as_str(), i.id)).collect();
            page.done = "Linked: that chat account now acts as you.".into();
            axum::http::StatusCode::OK
        }
        Err(e) if e.is_user_error() => {
            page.error = e.to_string();
            axum::http::StatusCode::BAD_REQUEST
        }
        Err(e) => return Err(PageError(e)),
    };
    Ok(crate::with_cookie((status, page).into_response(), cookie))
}
