//! The web portal and REST API: axum routers over `core::Service`. Pages are
//! askama templates enhanced with htmx (vendored, served from the binary);
//! the API executes any operation as JSON and documents itself in OpenAPI.

mod api;
mod api_reference;
mod assets;
mod audit;
mod auth;
mod charts;
mod chat;
mod chat_stream;
mod csrf;
mod dashboards;
pub mod edge;
mod error;
mod gate;
pub mod health;
mod home;
mod imports;
mod inbox;
mod investigation;
mod link;
mod messages;
mod notifications;
mod oidc;
mod openapi;
mod pages;
mod panels;
#[cfg(test)]
mod props;
mod runs;
mod schedules;
mod search;
mod security;
mod teams;
mod trends;
mod users;
mod views;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use switchboard_core::model::Role;
use switchboard_core::{Caller, Service};
use tower_http::limit::RequestBodyLimitLayer;

pub use error::{ApiError, PageError};

/// How the portal decides who is asking.
#[derive(Clone, Debug)]
pub enum Mode {
    /// Every request acts as the demo admin; pages say so.
    Demo,
    /// Production: API requests authenticate with `Authorization: Bearer`
    /// tokens; without one (and on pages, until sign-in) they are anonymous
    /// viewers who can only read.
    Serve,
}

#[derive(Clone)]
pub struct PortalState {
    pub service: Service,
    pub mode: Mode,
    pub conversation: std::sync::Arc<switchboard_bot::Conversation>,
    pub(crate) streams: chat_stream::Streams,
    /// The live notifications every open page follows.
    pub(crate) live: notifications::LiveFeed,
    /// Whether pages, the web chat and the API need a signed-in person or a
    /// token (`server.require_login`; always off in the demo).
    pub require_login: bool,
    /// The single sign-on provider, when `[auth.oidc]` names one.
    pub(crate) oidc: Option<std::sync::Arc<oidc::Provider>>,
}

/// Cookie naming the demo user the browser speaks as.
pub(crate) const SPEAK_AS: &str = "sb_as";

impl PortalState {
    /// Builds the state, loading the names the chat resolves against.
    pub async fn new(service: Service, mode: Mode) -> Result<Self, switchboard_core::Error> {
        let conversation = std::sync::Arc::new(switchboard_bot::Conversation::new(service.clone()).await?);
        let require_login = match mode {
            Mode::Demo => false,
            Mode::Serve => service.config().server.require_login.unwrap_or(true),
        };
        let oidc = oidc::Provider::new(&service);
        let (streams, live) = (chat_stream::Streams::default(), notifications::LiveFeed::default());
        Ok(Self { oidc, service, mode, conversation, streams, live, require_login })
    }

    /// Whether core's policy lets `caller` run `kind`: what a page offers
    /// (a form, a section) follows it; the operation still decides.
    pub(crate) fn may(&self, caller: &Caller, kind: switchboard_core::ops::OpKind) -> bool {
        switchboard_core::policy::authorize(caller, kind, &self.service.config().policy).is_ok()
    }

    /// Why `caller` may not run `kind`, in the words the API and chat use
    /// for the same refusal, to show in place of a button that would be
    /// refused; empty when they may.
    pub(crate) fn why_not(&self, caller: &Caller, kind: switchboard_core::ops::OpKind) -> String {
        switchboard_core::policy::authorize(caller, kind, &self.service.config().policy)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    }

    /// Cookies get `Secure` when the portal is served over TLS.
    pub(crate) fn secure_cookies(&self) -> bool {
        self.service.config().server.is_https()
    }

    /// The caller of a browser request: in demo mode, the demo user chosen
    /// with "speak as" (default: the demo admin).
    async fn page_caller(&self, headers: &axum::http::HeaderMap, source: &str) -> Caller {
        if let Some(caller) = self.signed_in(headers, source).await {
            return caller;
        }
        if let Mode::Demo = self.mode
            && let Some(name) = csrf::cookie(headers, SPEAK_AS).and_then(|n| n.parse().ok())
            && let Ok(Some(user)) = self.service.graph().get_user(&name).await
        {
            return Caller { user: user.name, role: user.role, source: source.to_owned() };
        }
        self.caller(source)
    }

    /// Whom the web chat's rate limit counts: a signed-in person, or (in the
    /// demo, where every browser is the demo admin, and for anonymous
    /// visitors) the client address.
    pub(crate) fn chat_key<'a>(
        &self,
        caller: &'a Caller,
        address: &std::net::IpAddr,
    ) -> switchboard_core::limits::Who<'a> {
        use switchboard_core::limits::Who;
        match self.mode {
            Mode::Serve if caller.user.as_str() != "anonymous" => Who::User(caller.user.as_str()),
            _ => Who::Address(*address),
        }
    }

    /// The person signed in with this request's session cookie, if any.
    pub(crate) async fn signed_in(&self, headers: &axum::http::HeaderMap, source: &str) -> Option<Caller> {
        let secret = csrf::cookie(headers, auth::SESSION)?;
        self.service.session(secret, source).await.ok().flatten()
    }

    fn caller(&self, source: &str) -> Caller {
        match self.mode {
            Mode::Demo => Caller::new(switchboard_core::demo::DEMO_ADMIN, Role::Admin, source),
            Mode::Serve => Caller::new("anonymous", Role::Viewer, source),
        }
    }
}

/// The client's address, as the HTTP edge established it (unspecified when
/// the router runs without the edge, as in some tests).
pub struct ClientAddress(pub std::net::IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let addr = parts.extensions.get::<switchboard_core::limits::ClientAddr>().map(|c| c.0);
        Ok(Self(addr.unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))))
    }
}

/// The caller of a portal page.
pub struct PageCaller(pub Caller);

impl FromRequestParts<PortalState> for PageCaller {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, state: &PortalState) -> Result<Self, Self::Rejection> {
        if let Some(gate::SignedIn(caller)) = parts.extensions.get::<gate::SignedIn>() {
            return Ok(Self(caller.clone()));
        }
        Ok(Self(state.page_caller(&parts.headers, "portal").await))
    }
}

/// Adds a `Set-Cookie` header when there is one.
pub(crate) fn with_cookie(mut response: axum::response::Response, cookie: Option<String>) -> axum::response::Response {
    if let Some(c) = cookie
        && let Ok(v) = axum::http::HeaderValue::from_str(&c)
    {
        response.headers_mut().append(axum::http::header::SET_COOKIE, v);
    }
    response
}

/// The caller of an API request: the token's user when a Bearer token is
/// presented (a bad token is refused, never downgraded), else the mode's default.
pub struct ApiCaller(pub Caller);

impl FromRequestParts<PortalState> for ApiCaller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &PortalState) -> Result<Self, Self::Rejection> {
        use switchboard_core::limits::{Limit, Who};
        let ClientAddress(address) =
            ClientAddress::from_request_parts(parts, state).await.unwrap_or_else(|e| match e {});
        let limits = state.service.limits();
        let Some(header) = parts.headers.get(axum::http::header::AUTHORIZATION) else {
            limits.check(Limit::Api, Who::Address(address))?;
            if state.require_login {
                return Err(ApiError(switchboard_core::Error::Unauthenticated {
                    message: messages::token_required().into(),
                }));
            }
            return Ok(Self(state.caller("api")));
        };
        limits.refusing(Who::Address(address))?;
        let secret = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
            .map(str::trim)
            .ok_or_else(|| switchboard_core::Error::Unauthenticated {
                message: "Expected `Authorization: Bearer <token>`.".into(),
            });
        match secret.map(|s| state.service.authenticate(s, "api")) {
            Ok(authenticating) => match authenticating.await {
                Ok(caller) => {
                    limits.check(Limit::Api, Who::User(caller.user.as_str()))?;
                    Ok(Self(caller))
                }
                Err(e) => Err(refused_credentials(limits, address, e)),
            },
            Err(e) => Err(refused_credentials(limits, address, e)),
        }
    }
}

/// A refused token counts against its address; past the limit the answer
/// is 429 instead of 401, so guessing tokens stays slow.
fn refused_credentials(
    limits: &switchboard_core::limits::Limits,
    address: std::net::IpAddr,
    e: switchboard_core::Error,
) -> ApiError {
    use switchboard_core::limits::{Limit, Who};
    if let switchboard_core::Error::Unauthenticated { .. } = e
        && let Err(limited) = limits.check(Limit::BadCredentials, Who::Address(address))
    {
        return ApiError(limited);
    }
    ApiError(e)
}

/// The whole portal: pages, API, static assets, health, with a body limit.
/// The binary puts it (with every other router) behind [`edge::wrap`].
pub fn router(state: PortalState) -> Router {
    let config = state.service.config().server.clone();
    Router::new()
        .merge(pages::routes())
        .merge(health::routes())
        .merge(teams::routes())
        .merge(runs::routes())
        .merge(chat::routes())
        .merge(inbox::routes())
        .merge(security::routes())
        .merge(imports::routes())
        .merge(investigation::routes())
        .merge(schedules::routes())
        .merge(users::routes())
        .merge(dashboards::routes())
        .merge(notifications::routes())
        .merge(link::routes())
        .merge(auth::routes())
        .merge(oidc::routes())
        // Pages only: the API and assets never answer with an error page,
        // so their requests skip the headers' copy it keeps.
        .layer(axum::middleware::from_fn_with_state(state.clone(), error::with_banner))
        .nest("/api/v1", api::routes(&state))
        .merge(assets::routes())
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), gate::require_sign_in))
        .with_state(state.clone())
        .layer(RequestBodyLimitLayer::new(config.body_limit_bytes))
        .merge(api::uploads(state))
}
