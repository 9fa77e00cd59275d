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

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let code = status(&self.0);
        let page = ErrorPage {
            title: code.canonical_reason().unwrap_or("Error").to_owned(),
            message: self.0.to_string(),
            banner: None,
        };
        with_retry_after(&self.0, (code, page).into_response())
    }
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
