//! `[limits]`: how often one client may call each surface, how sign-in
//! failures slow down, and how much of the language model one person may use.
//! `0` turns a limit off.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// API requests a minute per token (anonymous: per client address);
    /// up to this many at once, then evenly. Default: `600`.
    pub api_per_minute: u32,
    /// MCP requests a minute per token. Default: `600`.
    pub mcp_per_minute: u32,
    /// Web chat messages a minute per signed-in person (anonymous: per
    /// client address). Default: `30`.
    pub chat_per_minute: u32,
    /// Sign-in attempts a minute per client address. Default: `10`.
    pub sign_in_per_minute: u32,
    /// Failed sign-ins of one account from one address before each further
    /// try must wait: 1 s, then doubling up to `sign_in_max_delay_secs`. Other
    /// addresses are not slowed, so nobody locks an account from elsewhere.
    /// Default: `5`.
    pub sign_in_free_failures: u32,
    /// The longest wait after failed sign-ins, in seconds. Default: `900`.
    pub sign_in_max_delay_secs: u64,
    /// Requests a minute per client address whose webhook, Slack or Discord
    /// signature fails, or whose API or MCP token is refused; past it they
    /// get 429. A correctly signed delivery is never refused. Default: `60`.
    pub bad_credentials_per_minute: u32,
    /// Open MCP sessions per token; opening one more closes its least
    /// recently used. Default: `16`.
    pub mcp_sessions_per_token: u32,
    /// Language model calls an hour per person. Default: `200`.
    pub llm_calls_per_hour: u32,
    /// Language model tokens (prompt and answer) an hour per person. Default: `200000`.
    pub llm_tokens_per_hour: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            api_per_minute: 600,
            mcp_per_minute: 600,
            chat_per_minute: 30,
            sign_in_per_minute: 10,
            sign_in_free_failures: 5,
            sign_in_max_delay_secs: 900,
            bad_credentials_per_minute: 60,
            mcp_sessions_per_token: 16,
            llm_calls_per_hour: 200,
            llm_tokens_per_hour: 200_000,
        }
    }
}

impl LimitsConfig {
    pub(crate) fn validate(&self) -> Result<(), (String, String)> {
        if self.mcp_sessions_per_token == 0 {
            return Err(("limits.mcp_sessions_per_token".into(), "must be at least 1".into()));
        }
        if self.sign_in_max_delay_secs == 0 {
            return Err(("limits.sign_in_max_delay_secs".into(), "must be at least 1".into()));
        }
        Ok(())
    }
}
