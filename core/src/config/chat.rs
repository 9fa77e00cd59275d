//! `[chat]`, `[slack]` and `[discord]`: the chat platforms and who people
//! there are to Switchboard.

use serde::{Deserialize, Serialize};

use crate::model::Role;

/// What every chat platform shares.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChatConfig {
    /// The role of a Slack or Discord user who is not linked to a Switchboard
    /// user (by verified email or `/sb link`). Default: `viewer`.
    pub unknown_role: Role,
    /// Days conversation history is kept (web chat, terminal, Slack and
    /// Discord threads); older messages are deleted hourly. `0` keeps them.
    /// Each thread also keeps only its newest 50 messages. Default: `30`.
    pub retention_days: u32,
}

impl Default for ChatConfig {
    fn default() -> Self {
        Self { unknown_role: Role::Viewer, retention_days: 30 }
    }
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SlackConfig {
    /// Verifies every request from Slack. `SWITCHBOARD_SLACK_SIGNING_SECRET`
    /// wins. Unset: the Slack endpoints answer 503. Default: unset.
    pub signing_secret: Option<String>,
    /// `xoxb-…`, for replies and lookups. `SWITCHBOARD_SLACK_BOT_TOKEN` wins.
    /// Default: unset.
    pub bot_token: Option<String>,
    /// The Web API's base URL (a proxy, or a fake in tests). Default: `https://slack.com/api/`.
    pub api_url: String,
    /// Receive events, commands and clicks over Socket Mode (a WebSocket
    /// Switchboard opens to Slack) instead of HTTP requests from Slack: for
    /// servers Slack cannot reach. Needs `app_token` and `bot_token`. Default: false.
    pub socket_mode: bool,
    /// `xapp-…`, an app-level token with `connections:write`, for Socket
    /// Mode. `SWITCHBOARD_SLACK_APP_TOKEN` wins. Default: unset.
    pub app_token: Option<String>,
    /// A channel id (`C024BE91L`) that gets every approval request, besides
    /// the owning team's channels; requests about no one project (upgrade
    /// campaigns) go only here. Default: unset.
    pub approvals_channel: Option<String>,
}

impl Default for SlackConfig {
    fn default() -> Self {
        Self {
            signing_secret: None,
            bot_token: None,
            api_url: "https://slack.com/api/".into(),
            socket_mode: false,
            app_token: None,
            approvals_channel: None,
        }
    }
}

impl std::fmt::Debug for SlackConfig {
    /// Never prints a secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = |s: &Option<String>| s.as_ref().map(|_| "<set>");
        f.debug_struct("SlackConfig")
            .field("signing_secret", &set(&self.signing_secret))
            .field("bot_token", &set(&self.bot_token))
            .field("api_url", &self.api_url)
            .field("socket_mode", &self.socket_mode)
            .field("app_token", &set(&self.app_token))
            .field("approvals_channel", &self.approvals_channel)
            .finish()
    }
}

#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiscordConfig {
    /// The application's public key (64 hex digits) from the Developer
    /// Portal; verifies every interaction. `SWITCHBOARD_DISCORD_PUBLIC_KEY`
    /// wins. Unset: `/discord/interactions` answers 503. Default: unset.
    pub public_key: Option<String>,
    /// For follow-ups, notifications and registering commands.
    /// `SWITCHBOARD_DISCORD_BOT_TOKEN` wins. Default: unset.
    pub bot_token: Option<String>,
    /// The application id (a snowflake), for follow-ups and
    /// `discord register-commands`. `SWITCHBOARD_DISCORD_APPLICATION_ID` wins. Default: unset.
    pub application_id: Option<u64>,
    /// Send REST calls through this URL (a proxy, or a fake in tests).
    /// Default: unset (Discord's API directly).
    pub api_proxy: Option<String>,
    /// Also connect to Discord's gateway, to answer @mentions and direct
    /// messages (not only `/sb`). Needs `bot_token` and `application_id`. Default: false.
    pub gateway: bool,
    /// A channel id (a snowflake) that gets every approval request, besides
    /// the owning team's channels; requests about no one project go only
    /// here. Default: unset.
    pub approvals_channel: Option<String>,
}

impl std::fmt::Debug for DiscordConfig {
    /// Never prints a secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiscordConfig")
            .field("public_key", &self.public_key)
            .field("bot_token", &self.bot_token.as_ref().map(|_| "<set>"))
            .field("application_id", &self.application_id)
            .field("api_proxy", &self.api_proxy)
            .field("gateway", &self.gateway)
            .field("approvals_channel", &self.approvals_channel)
            .finish()
    }
}

impl SlackConfig {
    pub(super) fn apply_env(&mut self, env: &[(String, String)]) {
        for (key, value) in env {
            match key.as_str() {
                "SWITCHBOARD_SLACK_SIGNING_SECRET" => self.signing_secret = Some(value.clone()),
                "SWITCHBOARD_SLACK_BOT_TOKEN" => self.bot_token = Some(value.clone()),
                "SWITCHBOARD_SLACK_APP_TOKEN" => self.app_token = Some(value.clone()),
                _ => {}
            }
        }
    }

    pub(super) fn validate(&self) -> Result<(), (String, String)> {
        if self.signing_secret.as_ref().is_some_and(|s| s.trim().is_empty()) {
            return Err(("slack.signing_secret".into(), "must not be empty; leave it out to turn Slack off".into()));
        }
        if let Some(t) = &self.bot_token
            && !t.starts_with("xox")
        {
            return Err(("slack.bot_token".into(), "a bot token starts with xoxb-".into()));
        }
        if let Some(t) = &self.app_token
            && !t.starts_with("xapp-")
        {
            return Err(("slack.app_token".into(), "an app-level token starts with xapp-".into()));
        }
        if self.socket_mode && (self.app_token.is_none() || self.bot_token.is_none()) {
            return Err((
                "slack.socket_mode".into(),
                "needs slack.app_token (xapp-…, with connections:write) and slack.bot_token".into(),
            ));
        }
        if !(self.api_url.starts_with("https://") || self.api_url.starts_with("http://")) {
            return Err(("slack.api_url".into(), "must start with https:// or http://".into()));
        }
        if let Some(c) = &self.approvals_channel
            && (c.is_empty() || !c.chars().all(|c| c.is_ascii_alphanumeric()))
        {
            return Err((
                "slack.approvals_channel".into(),
                "must be a channel id such as C024BE91L, not its name".into(),
            ));
        }
        Ok(())
    }
}

impl DiscordConfig {
    pub(super) fn apply_env(&mut self, env: &[(String, String)]) -> Result<(), (String, String)> {
        for (key, value) in env {
            match key.as_str() {
                "SWITCHBOARD_DISCORD_PUBLIC_KEY" => self.public_key = Some(value.clone()),
                "SWITCHBOARD_DISCORD_BOT_TOKEN" => self.bot_token = Some(value.clone()),
                "SWITCHBOARD_DISCORD_APPLICATION_ID" => {
                    self.application_id =
                        Some(value.trim().parse().map_err(|_| {
                            (key.clone(), "must be the application's numeric id (a snowflake)".to_owned())
                        })?);
                }
                _ => {}
            }
        }
        Ok(())
    }

    pub(super) fn validate(&self) -> Result<(), (String, String)> {
        if let Some(k) = &self.public_key
            && (k.len() != 64 || !k.chars().all(|c| c.is_ascii_hexdigit()))
        {
            return Err((
                "discord.public_key".into(),
                "must be the application's public key: 64 hex digits from the Developer Portal".into(),
            ));
        }
        if self.gateway && (self.bot_token.is_none() || self.application_id.is_none()) {
            return Err((
                "discord.gateway".into(),
                "needs discord.bot_token and discord.application_id (or their SWITCHBOARD_DISCORD_* variables)".into(),
            ));
        }
        if let Some(p) = &self.api_proxy
            && !(p.starts_with("https://") || p.starts_with("http://"))
        {
            return Err(("discord.api_proxy".into(), "must start with https:// or http://".into()));
        }
        if let Some(c) = &self.approvals_channel
            && c.parse::<u64>().is_err()
        {
            return Err(("discord.approvals_channel".into(), "must be a channel id (a number), not its name".into()));
        }
        Ok(())
    }
}
