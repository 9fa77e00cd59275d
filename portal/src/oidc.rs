//! Single sign-on through an OpenID Connect provider (`[auth.oidc]`): the
//! authorization code flow with PKCE, a state bound to the browser that
//! started it and a nonce bound to the ID token, the provider found by
//! discovery. The ID token is verified here (signature, issuer, audience,
//! expiry, nonce); core then makes or updates the account and starts the
//! session. What the flow must remember between its two steps rides in a
//! short-lived cookie, so any replica can finish a sign-in another began.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::Value;
use sha2::Digest;
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
/// Clock difference allowed when checking an ID token's times.
const LEEWAY_SECS: u64 = 60;

pub(crate) fn routes() -> Router<PortalState> {
    Router::new().route("/auth/oidc/login", get(start)).route("/auth/oidc/callback", get(callback))
}

/// What discovery tells of the provider (the fields the flow uses).
#[derive(Clone, Debug, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    #[serde(default)]
    token_endpoint_auth_methods_supported: Vec<String>,
}

/// The discovery document and the provider's signing keys.
#[derive(Clone)]
struct Metadata {
    discovery: Discovery,
    keys: JwkSet,
}

/// The provider: its settings and its discovery document, read when first needed.
pub(crate) struct Provider {
    config: OidcConfig,
    redirect: String,
    http: reqwest::Client,
    metadata: RwLock<Option<(Instant, Metadata)>>,
    /// When discovery last failed: asked again only after a pause.
    failed: RwLock<Option<Instant>>,
}

/// How long a failed discovery is not tried again.
const RETRY_DISCOVERY: Duration = Duration::from_secs(30);

impl Provider {
    pub(crate) fn new(service: &Service) -> Option<Arc<Self>> {
        let config = service.config().auth.oidc.clone()?;
        let redirect = format!("{}/auth/oidc/callback", service.config().server.base_url().trim_end_matches('/'));
        switchboard_agents::install_tls_provider();
        let http = reqwest::Client::builder()
            // Following redirects would let a provider's answer send us anywhere.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .ok()?;
        Some(Arc::new(Self { config, redirect, http, metadata: RwLock::new(None), failed: RwLock::new(None) }))
    }

    pub(crate) fn label(&self) -> &str {
        &self.config.label
    }

    /// The discovery document and the provider's signing keys, read again
    /// after an hour, or at once when `fresh` (a token signed with a key we
    /// do not know yet: the provider rotated its keys).
    async fn metadata(&self, fresh: bool) -> Result<Metadata, Error> {
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
        let m = match self.discover().await {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, issuer = %self.config.issuer, "cannot read the OIDC provider's discovery document");
                *self.failed.write().await = Some(Instant::now());
                return Err(unavailable(&e));
            }
        };
        *self.failed.write().await = None;
        *self.metadata.write().await = Some((Instant::now(), m.clone()));
        Ok(m)
    }

    /// Reads `{issuer}/.well-known/openid-configuration`, checks it names
    /// the configured issuer, then reads the keys it points to.
    async fn discover(&self) -> Result<Metadata, String> {
        let issuer = self.config.issuer.trim_end_matches('/');
        let url = format!("{issuer}/.well-known/openid-configuration");
        let discovery: Discovery = serde_json::from_value(self.get_json(&url).await?)
            .map_err(|e| format!("{url} is not an OpenID Connect discovery document: {e}"))?;
        if discovery.issuer.trim_end_matches('/') != issuer {
            return Err(format!(
                "{url} names issuer {:?}, not {:?} as configured",
                discovery.issuer, self.config.issuer
            ));
        }
        let keys: JwkSet = serde_json::from_value(self.get_json(&discovery.jwks_uri).await?)
            .map_err(|e| format!("{} is not a JSON Web Key Set: {e}", discovery.jwks_uri))?;
        Ok(Metadata { discovery, keys })
    }

    async fn get_json(&self, url: &str) -> Result<Value, String> {
        let response =
            self.http.get(url).header("accept", "application/json").send().await.map_err(|e| format!("{url}: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("{url} answered {}", response.status()));
        }
        response.json().await.map_err(|e| format!("{url} did not answer JSON: {e}"))
    }

    /// Exchanges the authorization `code` (with its PKCE `verifier`) for
    /// the ID token, authenticating as the client the way the provider takes.
    async fn exchange(&self, m: &Metadata, code: &str, verifier: &str) -> Result<String, String> {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", self.redirect.as_str()),
            ("code_verifier", verifier),
        ];
        let methods = &m.discovery.token_endpoint_auth_methods_supported;
        let mut request = self.http.post(&m.discovery.token_endpoint).header("accept", "application/json");
        match self.config.client_secret.as_deref() {
            // Basic is the default when a provider lists no methods (RFC 6749, OIDC Discovery).
            Some(secret) if methods.is_empty() || methods.iter().any(|x| x == "client_secret_basic") => {
                let user = |s: &str| serde_urlencoded::to_string([("", s)]).unwrap_or_default().split_off(1);
                request = request.basic_auth(user(&self.config.client_id), Some(user(secret)));
            }
            Some(secret) => form.extend([("client_id", self.config.client_id.as_str()), ("client_secret", secret)]),
            None => form.push(("client_id", self.config.client_id.as_str())),
        }
        let body = serde_urlencoded::to_string(&form).map_err(|e| e.to_string())?;
        let response = request
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|e| format!("the token endpoint: {e}"))?;
        let status = response.status();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            let why = answer["error_description"].as_str().or(answer["error"].as_str()).unwrap_or_default();
            return Err(format!("the token endpoint answered {status}: {why}"));
        }
        answer["id_token"].as_str().map(str::to_owned).ok_or_else(|| "no ID token came back".to_owned())
    }

    /// The ID token's claims once it holds: signed by one of the provider's
    /// keys (or with the client secret, for HS*), issued by the issuer for
    /// this client, not expired, carrying the flow's nonce.
    fn verify(&self, m: &Metadata, token: &str, nonce: &str) -> Result<Value, String> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| format!("not a signed JWT: {e}"))?;
        let key = match header.alg {
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => {
                let secret = self
                    .config
                    .client_secret
                    .as_deref()
                    .ok_or("signed with a shared secret, and this client has none")?;
                DecodingKey::from_secret(secret.as_bytes())
            }
            _ => {
                let jwk = match &header.kid {
                    Some(kid) => m.keys.find(kid),
                    None if m.keys.keys.len() == 1 => m.keys.keys.first(),
                    None => None,
                };
                let jwk =
                    jwk.ok_or_else(|| format!("signed with a key the provider does not list ({:?})", header.kid))?;
                DecodingKey::from_jwk(jwk).map_err(|e| format!("the provider's key {:?}: {e}", header.kid))?
            }
        };
        let mut rules = Validation::new(header.alg);
        rules.set_issuer(&[m.discovery.issuer.as_str()]);
        rules.set_audience(&[self.config.client_id.as_str()]);
        rules.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        rules.leeway = LEEWAY_SECS;
        let claims = jsonwebtoken::decode::<Value>(token, &key, &rules).map_err(|e| e.to_string())?.claims;
        if !claims["nonce"].as_str().is_some_and(|n| same(n, nonce)) {
            return Err("the nonce is not the one this sign-in sent".into());
        }
        // With several audiences, the token must say it was issued to us.
        let audiences = claims["aud"].as_array().map_or(1, Vec::len);
        match claims["azp"].as_str() {
            Some(azp) if azp != self.config.client_id => return Err(format!("issued to {azp:?}, not this client")),
            None if audiences > 1 => return Err("several audiences and no azp".into()),
            _ => {}
        }
        Ok(claims)
    }
}

fn unavailable(detail: &str) -> Error {
    let reference = uuid::Uuid::now_v7().simple().to_string()[20..].to_owned();
    tracing::error!(%reference, detail, "single sign-on failed");
    Error::Internal { reference, detail: detail.to_owned() }
}

/// 244 random bits as 64 hexadecimal digits: a state, nonce or PKCE verifier.
fn random() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

/// PKCE's S256 challenge for `verifier`.
fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
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
    let m = provider.metadata(false).await?;
    let (csrf_state, nonce, verifier) = (random(), random(), random());
    let mut url = reqwest::Url::parse(&m.discovery.authorization_endpoint)
        .map_err(|e| unavailable(&format!("the provider's authorization endpoint: {e}")))?;
    let scopes: Vec<&str> = std::iter::once("openid")
        .chain(provider.config.scopes.iter().map(String::as_str).filter(|s| *s != "openid"))
        .collect();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &provider.config.client_id)
        .append_pair("redirect_uri", &provider.redirect)
        .append_pair("scope", &scopes.join(" "))
        .append_pair("state", &csrf_state)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", &challenge(&verifier))
        .append_pair("code_challenge_method", "S256");
    let next = q.next.as_deref().and_then(crate::gate::local_path).unwrap_or("/");
    let flow = [csrf_state.as_str(), &nonce, &verifier, &URL_SAFE_NO_PAD.encode(next)].join(".");
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
    let m = provider.metadata(false).await?;
    let id_token = provider.exchange(&m, &code, &flow.verifier).await.map_err(|e| {
        tracing::warn!(error = %e, "the OIDC provider refused the code");
        refused(crate::messages::oidc_refused("the code could not be exchanged"))
    })?;
    let verified = match provider.verify(&m, &id_token, &flow.nonce) {
        Ok(v) => v,
        // Perhaps signed with a key the provider has just started using: read its keys again, once.
        Err(first) => {
            let again = provider.metadata(true).await?;
            provider.verify(&again, &id_token, &flow.nonce).map_err(|e| {
                tracing::warn!(error = %e, earlier = %first, "an ID token failed verification");
                refused(crate::messages::oidc_refused("the ID token did not verify"))
            })?
        }
    };
    let claims = OidcClaims {
        issuer: text(&verified["iss"]).unwrap_or_default(),
        subject: text(&verified["sub"]).unwrap_or_default(),
        username: text(&verified[provider.config.username_claim.as_str()]),
        name: text(&verified["name"]),
        email: text(&verified["email"]),
        email_verified: verified["email_verified"].as_bool().unwrap_or(verified["email_verified"] == "true"),
        groups: groups(&verified[provider.config.groups_claim.as_str()]),
    };
    if claims.subject.is_empty() {
        return Err(refused(crate::messages::oidc_refused("the ID token names no subject")));
    }
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
    use serde_json::json;

    /// An RSA test key (the fake GitHub App's, see
    /// automations/tests/fixtures/SOURCES.md) and its public half as a JWK set.
    const KEY: &str = include_str!("../../automations/tests/fixtures/github/app-test-key.pem");
    const JWKS: &str = include_str!("../tests/fixtures/oidc/jwks.json");
    const ISSUER: &str = "https://id.example.test";

    fn provider() -> (Provider, Metadata) {
        switchboard_agents::install_tls_provider();
        let config = serde_json::from_value(json!({"issuer": ISSUER, "client_id": "switchboard"})).unwrap();
        let discovery = Discovery {
            issuer: ISSUER.into(),
            authorization_endpoint: format!("{ISSUER}/authorize"),
            token_endpoint: format!("{ISSUER}/token"),
            jwks_uri: format!("{ISSUER}/jwks"),
            token_endpoint_auth_methods_supported: Vec::new(),
        };
        let provider = Provider {
            config,
            redirect: "http://127.0.0.1/auth/oidc/callback".into(),
            http: reqwest::Client::new(),
            metadata: RwLock::new(None),
            failed: RwLock::new(None),
        };
        (provider, Metadata { discovery, keys: serde_json::from_str(JWKS).unwrap() })
    }

    fn now() -> u64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
    }

    fn claims() -> Value {
        json!({"iss": ISSUER, "aud": "switchboard", "sub": "u1", "iat": now(), "exp": now() + 300, "nonce": "n1",
               "email": "ada@example.test"})
    }

    fn signed(claims: &Value, kid: Option<&str>) -> String {
        let mut header = jsonwebtoken::Header::new(Algorithm::RS256);
        header.kid = kid.map(str::to_owned);
        jsonwebtoken::encode(&header, claims, &jsonwebtoken::EncodingKey::from_rsa_pem(KEY.as_bytes()).unwrap())
            .unwrap()
    }

    #[test]
    fn an_id_token_holds_only_when_every_check_does() {
        let (p, m) = provider();
        let good = p.verify(&m, &signed(&claims(), Some("test-key-1")), "n1").unwrap();
        assert_eq!(good["email"], "ada@example.test");
        // One key listed: a token naming no key is checked against it.
        assert!(p.verify(&m, &signed(&claims(), None), "n1").is_ok());

        let refused = |c: Value, kid: Option<&str>, nonce: &str| p.verify(&m, &signed(&c, kid), nonce).unwrap_err();
        let with = |k: &str, v: Value| {
            let mut c = claims();
            c[k] = v;
            c
        };
        let kid = Some("test-key-1");
        assert!(refused(claims(), kid, "other").contains("nonce"));
        assert!(refused(with("aud", json!("someone-else")), kid, "n1").contains("udience"));
        assert!(refused(with("iss", json!("https://evil.test")), kid, "n1").contains("ssuer"));
        assert!(refused(with("exp", json!(now() - 3600)), kid, "n1").contains("xpired"));
        assert!(refused(claims(), Some("rotated-away"), "n1").contains("does not list"));
        assert!(refused(with("azp", json!("someone-else")), kid, "n1").contains("not this client"));
        let several = with("aud", json!(["switchboard", "other"]));
        assert!(refused(several, kid, "n1").contains("no azp"));
        let mut no_sub = claims();
        no_sub.as_object_mut().unwrap().remove("sub");
        assert!(refused(no_sub, kid, "n1").contains("sub"));

        // A token MACed with the public key (the algorithm-confusion attack), or with no secret configured.
        let hs = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(Algorithm::HS256),
            &claims(),
            &jsonwebtoken::EncodingKey::from_secret(JWKS.as_bytes()),
        )
        .unwrap();
        assert!(p.verify(&m, &hs, "n1").unwrap_err().contains("shared secret"));
        // A signature that does not match.
        let token = signed(&claims(), kid);
        let tampered = format!("{}x", &token[..token.len() - 1]);
        assert!(p.verify(&m, &tampered, "n1").is_err());
        // Not a JWT at all.
        assert!(p.verify(&m, "nonsense", "n1").unwrap_err().contains("not a signed JWT"));
    }

    #[test]
    fn the_pkce_challenge_is_rfc_7636s() {
        // RFC 7636, appendix B.
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert_eq!(random().len(), 64);
        assert_ne!(random(), random());
    }

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
