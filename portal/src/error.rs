//! One error type per kind of surface: pages render an error page, the API
//! answers JSON. Both keep user errors apart from internal ones.

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use switchboard_core::Error;

fn status(e: &Error) -> StatusCode {
    match e {
        Error::BadInput { .. } => StatusCode::BAD_REQUEST,
        Error::UnknownOperation { .. } | Error::NotFound { .. } => StatusCode::NOT_FOUND,
        Error::Denied { .. } => StatusCode::FORBIDDEN,
        Error::Conflict { .. } => StatusCode::CONFLICT,
        Error::Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
        Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        Error::Unavailable { .. } => StatusCode::BAD_GATEWAY,
        Error::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Adds `Retry-After` to a rate-limited answer.
fn with_retry_after(e: &Error, mut response: Response) -> Response {
    if let Error::RateLimited { retry_after_secs, .. } = e {
        response.headers_mut().insert(axum::http::header::RETRY_AFTER, (*retry_after_secs).into());
    }
    response
}

/// An error on an HTML page.
#[derive(Debug)]
pub struct PageError(pub Error);

impl From<Error> for PageError {
    fn from(e: Error) -> Self {
        Self(e)
    }
}

impl From<switchboard_core::store::StoreError> for PageError {
    fn from(e: switchboard_core::store::StoreError) -> Self {
        Self(e.into())
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
pub(crate) struct ErrorPage {
    pub title: String,
    pub message: String,
    pub banner: Option<String>,
}

/// What an error page said, kept on its response so [`with_banner`] can
/// render it again with the banner of the person who asked (an error knows
/// neither the mode nor the caller).
#[derive(Clone)]
struct Shown {
    title: String,
    message: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let code = status(&self.0);
        let shown = Shown { title: code.canonical_reason().unwrap_or("Error").to_owned(), message: self.0.to_string() };
        let page = ErrorPage { title: shown.title.clone(), message: shown.message.clone(), banner: None };
        let mut response = with_retry_after(&self.0, (code, page).into_response());
        response.extensions_mut().insert(shown);
        response
    }
}

/// Error pages keep the banner every other page shows (demo mode, who is
/// signed in): the page is rendered again once the caller is known. Other
/// responses pass untouched.
pub(crate) async fn with_banner(
    axum::extract::State(state): axum::extract::State<crate::PortalState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let (headers, signed) = (req.headers().clone(), req.extensions().get::<crate::gate::SignedIn>().cloned());
    let mut response = next.run(req).await;
    let Some(shown) = response.extensions_mut().remove::<Shown>() else { return response };
    let caller = match signed {
        Some(crate::gate::SignedIn(caller)) => caller,
        None => state.page_caller(&headers, "portal").await,
    };
    let page =
        ErrorPage { title: shown.title, message: shown.message, banner: crate::views::banner(&state.mode, &caller) };
    let (mut parts, _) = response.into_parts();
    let body = page.into_response().into_body();
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    Response::from_parts(parts, body)
}

/// An error from the REST API: `{"error": {"code", "message", "field"}}`.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        Self(e)
    }
}

impl From<switchboard_core::store::StoreError> for ApiError {
    fn from(e: switchboard_core::store::StoreError) -> Self {
        Self(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let field = match &self.0 {
            Error::BadInput { field, .. } => field.clone(),
            _ => None,
        };
        let body = serde_json::json!({
            "error": {"code": self.0.code(), "message": self.0.to_string(), "field": field}
        });
        with_retry_after(&self.0, (status(&self.0), Json(body)).into_response())
    }
}
