//! Single sign-on through an OpenID Connect provider (`[auth.oidc]`): the
//! authorization code flow with PKCE, a state bound to the browser that
//! started it and a nonce bound to the ID token, the provider found by
//! discovery. The ID token is verified here (signature, issuer, audience,
//! expiry, nonce); core then makes or updates the account and starts the
//! session. What the flow must remember between its two steps rides in a
//! short-lived cookie, so any replica can finish a sign-in another began.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{CoreClient, CoreProviderMetadata, CoreResponseType};
use openidconnect::{
    AsyncHttpClient, AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken, HttpRequest,
    HttpResponse, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
};
use serde::Deserialize;
use serde_json::Value;
use switchboard_core::config::OidcConfig;
use switchboard_core::limits::{Limit, Who};
use switchboard_core::service::OidcClaims;
use switchboard_core::{Error, Service};
use tokio::sync::RwLock;

use crate::error::PageError;
use crate::{ClientAddress, PortalState, csrf, with_cookie};

/// Cookie carrying a sign-in in progress.
const FLOW: &str = "sb_oidc";
/// How long a sign-in may take at the provider.
const FLOW_SECS: u64 = 600;
/// How long the provider's discovery document is trusted before it is read again.
const METADATA_TTL: Duration = Duration::from_secs(3600);

pub(crate) fn routes() -> Router<PortalState> {
    Router::new().route("/auth/oidc/login", get(start)).route("/auth/oidc/callback", get(callback))
}

/// The provider: its settings and its discovery document, read when first needed.
pub(crate) struct Provider {
    config: OidcConfig,
    redirect: String,
    http: Http,
    metadata: RwLock<Option<(Instant, CoreProviderMetadata)>>,
    /// When discovery last failed: asked again only after a pause.
    failed: RwLock<Option<Instant>>,
}

/// How long a failed discovery is not tried again.
const RETRY_DISCOVERY: Duration = Duration::from_secs(30);

impl Provider {
    pub(crate) fn new(service: &Service) -> Option<Arc<Self>> {
        let config = service.config().auth.oidc.clone()?;
        let redirect = format!("{}/auth/oidc/callback", service.config().server.base_url().trim_end_matches('/'));
        let http = reqwest::Client::builder()
            // Following redirects would let a provider's answer send us anywhere.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .ok()?;
        Some(Arc::new(Self {
            config,
            redirect,
            http: Http(http),
            metadata: RwLock::new(None),
            failed: RwLock::new(None),
        }))
    }

    pub(crate) fn label(&self) -> &str {
        &self.config.label
    }

    /// The discovery document (with the provider's signing keys), read
    /// again after an hour, or at once when `fresh` (a token signed with a
    /// key we do not know yet: the provider rotated its keys).
    async fn metadata(&self, fresh: bool) -> Result<CoreProviderMetadata, Error> {
        if !fresh
            && let Some((at, m)) = &*self.metadata.read().await
            && at.elapsed() < METADATA_TTL
        {
            return Ok(m.clone());
        }
        if let Some(at) = *self.failed.read().await
            && at.elapsed() < RETRY_DISCOVERY
        {
            return Err(unavailable("the provider's discovery document could not be read a moment ago"));
        }
        let issuer = IssuerUrl::new(self.config.issuer.clone()).map_err(|e| unavailable(&e.to_string()))?;
        let m = match CoreProviderMetadata::discover_async(issuer, &self.http).await {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, issuer = %self.config.issuer, "cannot read the OIDC provider's discovery document");
                *self.failed.write().await = Some(Instant::now());
                return Err(unavailable(&e.to_string()));
            }
        };
        *self.failed.write().await = None;
        *self.metadata.write().await = Some((Instant::now(), m.clone()));
        Ok(m)
    }

    async fn client(
        &self,
        fresh: bool,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        Error,
    > {
        let metadata = self.metadata(fresh).await?;
        let redirect = RedirectUrl::new(self.redirect.clone()).map_err(|e| unavailable(&e.to_string()))?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.config.client_id.clone()),
            self.config.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(redirect))
    }
}

fn unavailable(detail: &str) -> Error {
    let reference = uuid::Uuid::now_v7().simple().to_string()[20..].to_owned();
    tracing::error!(%reference, detail, "single sign-on failed");
    Error::Internal { reference, detail: detail.to_owned() }
}

/// The OIDC library's HTTP calls, made with reqwest.
struct Http(reqwest::Client);

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct HttpError(String);

impl<'c> AsyncHttpClient<'c> for Http {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let request = reqwest::Request::try_from(request).map_err(|e| HttpError(e.to_string()))?;
            let response = self.0.execute(request).await.map_err(|e| HttpError(e.to_string()))?;
            let mut out = axum::http::Response::builder().status(response.status());
            for (k, v) in response.headers() {
                out = out.header(k, v);
            }
            let body = response.bytes().await.map_err(|e| HttpError(e.to_string()))?;
            out.body(body.to_vec()).map_err(|e| HttpError(e.to_string()))
        })
    }
}

#[derive(Deserialize)]
struct Start {
    next: Option<String>,
}

fn provider(state: &PortalState) -> Result<&Arc<Provider>, PageError> {
    state.oidc.as_ref().ok_or_else(|| PageError(Error::not_found("page", "/auth/oidc")))
}

/// Sends the browser to the provider, remembering in a cookie what the
/// answer must match.
async fn start(State(state): State<PortalState>, Query(q): Query<Start>) -> Result<Response, PageError> {
    let provider = provider(&state)?;
    let client = provider.client(false).await?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client.authorize_url(
        AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
        CsrfToken::new_random,
        Nonce::new_random,
    );
    for scope in &provider.config.scopes {
        request = request.add_scope(Scope::new(scope.clone()));
    }
    let (url, csrf_state, nonce) = request.set_pkce_challenge(challenge).url();
    let next = q.next.as_deref().and_then(crate::gate::local_path).unwrap_or("/");
    let flow =
        [csrf_state.secret().as_str(), nonce.secret(), verifier.secret(), &URL_SAFE_NO_PAD.encode(next)].join(".");
    let secure = if state.secure_cookies() { "; Secure" } else { "" };
    // Lax: the provider sends the browser back with a top-level GET.
    let cookie = format!("{FLOW}={flow}; Path=/auth/oidc; Max-Age={FLOW_SECS}; SameSite=Lax; HttpOnly{secure}");
    Ok(with_cookie(Redirect::to(url.as_str()).into_response(), Some(cookie)))
}

#[derive(Deserialize)]
struct Answer {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// What the flow cookie remembers: state, nonce, PKCE verifier, where to go.
struct Flow {
    state: String,
    nonce: String,
    verifier: String,
    next: String,
}

fn flow(headers: &HeaderMap) -> Option<Flow> {
    let mut parts = csrf::cookie(headers, FLOW)?.split('.');
    let (state, nonce, verifier, next) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let next = String::from_utf8(URL_SAFE_NO_PAD.decode(next).ok()?).ok()?;
    let next = crate::gate::local_path(&next).unwrap_or("/").to_owned();
    Some(Flow { state: state.into(), nonce: nonce.into(), verifier: verifier.into(), next })
}

/// The return path a flow cookie carries, for the property tests.
#[cfg(test)]
pub(crate) fn flow_for_tests(headers: &HeaderMap) -> Option<String> {
    flow(headers).map(|f| f.next)
}

fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn refused(message: String) -> PageError {
    PageError(Error::Unauthenticated { message })
}

/// The provider's answer: checked against the flow cookie, the code
/// exchanged, the ID token verified, then the person signed in.
async fn callback(
    State(state): State<PortalState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    Query(answer): Query<Answer>,
) -> Result<Response, PageError> {
    let provider = provider(&state)?;
    // Each answer costs a call to the provider: as many as sign-in attempts.
    state.service.limits().check(Limit::SignIn, Who::Address(address))?;
    if let Some(error) = answer.error {
        let why = answer.error_description.unwrap_or(error);
        return Err(refused(crate::messages::oidc_refused(&why.chars().take(300).collect::<String>())));
    }
    let flow = flow(&headers).ok_or_else(|| refused(crate::messages::oidc_flow_lost().into()))?;
    let (Some(code), Some(given)) = (answer.code, answer.state) else {
        return Err(refused(crate::messages::oidc_flow_lost().into()));
    };
    if !same(&given, &flow.state) {
        return Err(refused(crate::messages::oidc_flow_lost().into()));
    }
    let client = provider.client(false).await?;
    let token = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|e| unavailable(&e.to_string()))?
        .set_pkce_verifier(PkceCodeVerifier::new(flow.verifier))
        .request_async(&provider.http)
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "the OIDC provider refused the code");
            refused(crate::messages::oidc_refused("the code could not be exchanged"))
        })?;
    use openidconnect::TokenResponse;
    let id_token = token.id_token().ok_or_else(|| refused(crate::messages::oidc_refused("no ID token came back")))?;
    let nonce = Nonce::new(flow.nonce);
    let verified = match id_token.claims(&client.id_token_verifier(), &nonce) {
        Ok(v) => v.clone(),
        // Perhaps signed with a key the provider has just started using: read its keys again, once.
        Err(first) => {
            let again = provider.client(true).await?;
            id_token.claims(&again.id_token_verifier(), &nonce).cloned().map_err(|e| {
                tracing::warn!(error = %e, earlier = %first, "an ID token failed verification");
                refused(crate::messages::oidc_refused("the ID token did not verify"))
            })?
        }
    };
    // The token verified; its other claims (groups, the username claim) are read from its payload.
    let payload: Value = id_token
        .to_string()
        .split('.')
        .nth(1)
        .and_then(|p| URL_SAFE_NO_PAD.decode(p.trim_end_matches('=')).ok())
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null);
    let claims = OidcClaims {
        issuer: verified.issuer().to_string(),
        subject: verified.subject().to_string(),
        username: text(&payload[provider.config.username_claim.as_str()]),
        name: verified.name().and_then(|n| n.get(None)).map(|n| n.to_string()),
        email: verified.email().map(|e| e.to_string()),
        email_verified: verified.email_verified().unwrap_or(false),
        groups: groups(&payload[provider.config.groups_claim.as_str()]),
    };
    let (_, secret) = state.service.oidc_sign_in(&claims, address).await?;
    let secure = if state.secure_cookies() { "; Secure" } else { "" };
    let max_age = i64::from(state.service.config().server.session_hours) * 3600;
    let session =
        format!("{}={secret}; Path=/; Max-Age={max_age}; SameSite=Lax; HttpOnly{secure}", crate::auth::SESSION);
    let done = format!("{FLOW}=; Path=/auth/oidc; Max-Age=0; SameSite=Lax; HttpOnly{secure}");
    Ok(with_cookie(with_cookie(Redirect::to(&flow.next).into_response(), Some(session)), Some(done)))
}

fn text(v: &Value) -> Option<String> {
    v.as_str().map(str::to_owned).filter(|s| !s.trim().is_empty())
}

/// A groups claim: a list of names, or one name, or names separated by commas or spaces.
fn groups(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) => items.iter().filter_map(|i| i.as_str().map(str::to_owned)).collect(),
        Value::String(s) => s.split([',', ' ']).filter(|g| !g.is_empty()).map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_claims_come_in_three_shapes() {
        assert_eq!(groups(&serde_json::json!(["a", "b", 3])), ["a", "b"]);
        assert_eq!(groups(&serde_json::json!("a, b c")), ["a", "b", "c"]);
        assert!(groups(&Value::Null).is_empty());
    }

    #[test]
    fn the_flow_cookie_round_trips_and_refuses_foreign_paths() {
        let next = URL_SAFE_NO_PAD.encode("/runs?status=pending");
        let mut h = HeaderMap::new();
        h.insert("cookie", format!("{FLOW}=st.no.ve.{next}").parse().unwrap());
        let f = flow(&h).unwrap();
        assert_eq!(
            (f.state.as_str(), f.nonce.as_str(), f.verifier.as_str(), f.next.as_str()),
            ("st", "no", "ve", "/runs?status=pending")
        );
        let evil = URL_SAFE_NO_PAD.encode("//evil.example");
        h.insert("cookie", format!("{FLOW}=st.no.ve.{evil}").parse().unwrap());
        assert_eq!(flow(&h).unwrap().next, "/");
        h.insert("cookie", format!("{FLOW}=broken").parse().unwrap());
        assert!(flow(&h).is_none());
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("abc", "ab"));
    }
}
