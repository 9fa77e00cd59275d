//! `[auth]`: how people sign in to the portal. Local passwords (set with
//! `switchboard user set-password`) and, with `[auth.oidc]`, single sign-on
//! through an OpenID Connect provider whose groups decide the role and the
//! teams of each person at every sign-in.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::TeamSlug;
use crate::model::Role;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Whether people may sign in with a password an admin set
    /// (`switchboard user set-password`). Turn off when everyone signs in
    /// through `[auth.oidc]`. Default: `true`.
    pub local_passwords: bool,
    /// Single sign-on through an OpenID Connect provider. Default: none.
    pub oidc: Option<OidcConfig>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self { local_passwords: true, oidc: None }
    }
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// The provider's issuer URL; its discovery document is read from
    /// `{issuer}/.well-known/openid-configuration`. https, or http on
    /// loopback only. Required.
    pub issuer: String,
    /// The client id registered at the provider. Required.
    pub client_id: String,
    /// The client secret; `SWITCHBOARD_OIDC_CLIENT_SECRET` wins. Without one,
    /// the client is public and relies on PKCE alone. Default: none.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// Scopes asked for besides `openid`. Add the one your provider needs for
    /// a groups claim (often `groups`). Default: `["profile", "email"]`.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// The claim that names the person's Switchboard user. Default: `preferred_username`
    /// (then the email's local part, then the subject).
    #[serde(default = "default_username_claim")]
    pub username_claim: String,
    /// The claim listing the person's groups. Default: `groups`.
    #[serde(default = "default_groups_claim")]
    pub groups_claim: String,
    /// Group → role; the highest role of the person's groups wins. Default: none.
    #[serde(default)]
    pub roles: BTreeMap<String, Role>,
    /// The role of someone none of whose groups is in `roles`: a role, or
    /// `"none"` to refuse them. Default: `"viewer"`.
    #[serde(default = "default_role")]
    pub default_role: String,
    /// Group → team: at every sign-in the person joins the teams of their
    /// groups and leaves the listed teams of groups they left. Default: none.
    #[serde(default)]
    pub teams: BTreeMap<String, TeamSlug>,
    /// The sign-in button's text. Default: `Sign in with single sign-on`.
    #[serde(default = "default_label")]
    pub label: String,
}

fn default_scopes() -> Vec<String> {
    vec!["profile".into(), "email".into()]
}
fn default_username_claim() -> String {
    "preferred_username".into()
}
fn default_groups_claim() -> String {
    "groups".into()
}
fn default_role() -> String {
    "viewer".into()
}
fn default_label() -> String {
    "Sign in with single sign-on".into()
}

impl std::fmt::Debug for OidcConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcConfig")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "<redacted>"))
            .field("scopes", &self.scopes)
            .field("roles", &self.roles)
            .field("teams", &self.teams)
            .finish_non_exhaustive()
    }
}

impl OidcConfig {
    /// The role for someone in no mapped group; `None` refuses them.
    pub fn fallback_role(&self) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == self.default_role)
    }

    /// The role `groups` give: the highest mapped one, else the fallback.
    pub fn role_for(&self, groups: &[String]) -> Option<Role> {
        groups.iter().filter_map(|g| self.roles.get(g)).copied().max().or_else(|| self.fallback_role())
    }
}

impl AuthConfig {
    pub(crate) fn apply_env(&mut self, env: &[(String, String)]) {
        if let Some(oidc) = &mut self.oidc
            && let Some((_, v)) = env.iter().find(|(k, _)| k == "SWITCHBOARD_OIDC_CLIENT_SECRET")
        {
            oidc.client_secret = Some(v.clone());
        }
    }

    pub(crate) fn validate(&self) -> Result<(), (String, String)> {
        let Some(o) = &self.oidc else {
            if !self.local_passwords {
                return Err((
                    "auth.local_passwords".into(),
                    "with local passwords off, configure [auth.oidc] or nobody can sign in".into(),
                ));
            }
            return Ok(());
        };
        let at = |k: &str, m: String| Err((format!("auth.oidc.{k}"), m));
        let host = super::host_of(&o.issuer);
        let loopback = host.as_deref().is_some_and(|h| matches!(h, "localhost" | "127.0.0.1" | "::1"));
        if host.is_none() || !(o.issuer.starts_with("https://") || loopback) {
            return at("issuer", format!("{:?} must be an https:// URL (http only on loopback)", o.issuer));
        }
        if o.client_id.trim().is_empty() {
            return at("client_id", "must be the client id registered at the provider".into());
        }
        if o.default_role != "none" && o.fallback_role().is_none() {
            return at(
                "default_role",
                format!("{:?} is not a role; use viewer, editor, approver, admin or none", o.default_role),
            );
        }
        if o.username_claim.trim().is_empty() || o.groups_claim.trim().is_empty() {
            return at("username_claim", "claim names must not be empty".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oidc(edit: impl FnOnce(&mut OidcConfig)) -> AuthConfig {
        let mut o = OidcConfig {
            issuer: "https://id.example.com".into(),
            client_id: "switchboard".into(),
            client_secret: None,
            scopes: default_scopes(),
            username_claim: default_username_claim(),
            groups_claim: default_groups_claim(),
            roles: BTreeMap::new(),
            default_role: default_role(),
            teams: BTreeMap::new(),
            label: default_label(),
        };
        edit(&mut o);
        AuthConfig { local_passwords: true, oidc: Some(o) }
    }

    #[test]
    fn groups_give_the_highest_role_else_the_fallback() {
        let c = oidc(|o| {
            o.roles.insert("ops".into(), Role::Approver);
            o.roles.insert("admins".into(), Role::Admin);
        });
        let o = c.oidc.unwrap();
        assert_eq!(o.role_for(&["ops".into(), "admins".into()]), Some(Role::Admin));
        assert_eq!(o.role_for(&["ops".into()]), Some(Role::Approver));
        assert_eq!(o.role_for(&[]), Some(Role::Viewer));
        let none = OidcConfig { default_role: "none".into(), ..o };
        assert_eq!(none.role_for(&["other".into()]), None);
    }

    #[test]
    fn bad_settings_are_named() {
        let key = |c: AuthConfig| c.validate().unwrap_err().0;
        assert_eq!(key(oidc(|o| o.issuer = "http://id.example.com".into())), "auth.oidc.issuer");
        assert!(oidc(|o| o.issuer = "http://127.0.0.1:9400".into()).validate().is_ok());
        assert_eq!(key(oidc(|o| o.client_id = " ".into())), "auth.oidc.client_id");
        assert_eq!(key(oidc(|o| o.default_role = "root".into())), "auth.oidc.default_role");
        assert_eq!(key(AuthConfig { local_passwords: false, oidc: None }), "auth.local_passwords");
        let mut with_secret = oidc(|o| o.client_secret = Some("s3cret".into()));
        assert!(!format!("{with_secret:?}").contains("s3cret"));
        with_secret.apply_env(&[("SWITCHBOARD_OIDC_CLIENT_SECRET".into(), "from-env".into())]);
        assert_eq!(with_secret.oidc.unwrap().client_secret.as_deref(), Some("from-env"));
    }
}
