//! Portal sign-in with local accounts: argon2 password hashes (in core),
//! a session cookie (HttpOnly, SameSite=Lax, Secure over TLS), sign-out.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use switchboard_core::Error;
use switchboard_core::error::DenyReason;

use crate::error::PageError;
use crate::views::banner;
use crate::{ClientAddress, PageCaller, PortalState, csrf, with_cookie};

/// Cookie holding the session secret.
pub(crate) const SESSION: &str = "sb_session";

pub(crate) fn routes() -> Router<PortalState> {
    Router::new().route("/login", get(form).post(login)).route("/logout", post(logout))
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage {
    banner: Option<String>,
    csrf: String,
    user: String,
    error: String,
    /// Where to go once signed in (a path of this portal).
    next: String,
    /// The single sign-on button's text, when a provider is configured.
    sso: String,
    /// Whether the password form is shown (`auth.local_passwords`).
    passwords: bool,
    /// Whether someone is signed in on this browser (only then is there a Sign out).
    signed_in: bool,
}

impl LoginPage {
    fn new(state: &PortalState, caller: &switchboard_core::Caller, csrf: String, next: String) -> Self {
        Self {
            banner: login_banner(state, caller),
            csrf,
            user: String::new(),
            error: String::new(),
            next,
            sso: state.oidc.as_ref().map(|p| p.label().to_owned()).unwrap_or_default(),
            passwords: state.service.config().auth.local_passwords,
            signed_in: matches!(state.mode, crate::Mode::Serve) && caller.user.as_str() != "anonymous",
        }
    }

    /// The `next` value as a query string, for the single sign-on link.
    fn next_query(&self) -> String {
        crate::gate::encode(&self.next)
    }
}

/// The sign-in page says who you are only when you are someone.
fn login_banner(state: &PortalState, caller: &switchboard_core::Caller) -> Option<String> {
    let anonymous = matches!(state.mode, crate::Mode::Serve) && caller.user.as_str() == "anonymous";
    if anonymous { None } else { banner(&state.mode, caller) }
}

#[derive(Deserialize)]
struct Next {
    next: Option<String>,
}

fn next_of(next: Option<&str>) -> String {
    next.and_then(crate::gate::local_path).unwrap_or("/").to_owned()
}

async fn form(
    State(state): State<PortalState>,
    PageCaller(caller): PageCaller,
    axum::extract::Query(q): axum::extract::Query<Next>,
    headers: HeaderMap,
) -> Response {
    let (csrf, set) = csrf::token(&headers, state.secure_cookies());
    let page = LoginPage::new(&state, &caller, csrf, next_of(q.next.as_deref()));
    with_cookie(page.into_response(), set)
}

#[derive(Deserialize)]
struct LoginForm {
    csrf: Option<String>,
    user: String,
    password: String,
    next: Option<String>,
}

async fn login(
    State(state): State<PortalState>,
    PageCaller(caller): PageCaller,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    axum::Form(form): axum::Form<LoginForm>,
) -> Result<Response, PageError> {
    if !csrf::verify(&headers, form.csrf.as_deref()) {
        return Err(PageError(Error::Denied { operation: "this sign-in".into(), reason: DenyReason::Csrf }));
    }
    match state.service.login(&form.user, &form.password, address).await {
        Ok((_, secret)) => {
            let secure = if state.secure_cookies() { "; Secure" } else { "" };
            let max_age = i64::from(state.service.config().server.session_hours) * 3600;
            let cookie = format!("{SESSION}={secret}; Path=/; Max-Age={max_age}; SameSite=Lax; HttpOnly{secure}");
            Ok(with_cookie(Redirect::to(&next_of(form.next.as_deref())).into_response(), Some(cookie)))
        }
        Err(e @ (Error::Unauthenticated { .. } | Error::RateLimited { .. })) => {
            let (csrf, _) = csrf::token(&headers, state.secure_cookies());
            let status = if let Error::RateLimited { .. } = e {
                StatusCode::TOO_MANY_REQUESTS
            } else {
                StatusCode::UNAUTHORIZED
            };
            let retry = match &e {
                Error::RateLimited { retry_after_secs, .. } => Some(*retry_after_secs),
                _ => None,
            };
            let page = LoginPage {
                user: form.user,
                error: e.to_string(),
                ..LoginPage::new(&state, &caller, csrf, next_of(form.next.as_deref()))
            };
            let mut response = (status, page).into_response();
            if let Some(secs) = retry {
                response.headers_mut().insert(axum::http::header::RETRY_AFTER, secs.into());
            }
            Ok(response)
        }
        Err(e) => Err(PageError(e)),
    }
}

#[derive(Deserialize)]
struct LogoutForm {
    csrf: Option<String>,
}

async fn logout(
    State(state): State<PortalState>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<LogoutForm>,
) -> Result<Response, PageError> {
    if !csrf::verify(&headers, form.csrf.as_deref()) {
        return Err(PageError(Error::Denied { operation: "this sign-out".into(), reason: DenyReason::Csrf }));
    }
    if let Some(secret) = csrf::cookie(&headers, SESSION) {
        state.service.logout(secret).await?;
    }
    let clear = format!("{SESSION}=; Path=/; Max-Age=0; SameSite=Lax; HttpOnly");
    Ok(with_cookie(Redirect::to("/").into_response(), Some(clear)))
}
