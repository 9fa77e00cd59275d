//! `SWITCHBOARD_*` environment variables: settings paths
//! (`SWITCHBOARD_SERVER__PORT`), the secrets read by name, and the ones
//! Switchboard does not read at all.

use super::ConfigError;

/// `SWITCHBOARD_SERVER__PORT=9000` → (`["server", "port"]`, 9000). Values are read
/// as TOML (numbers, booleans, arrays) and fall back to plain strings.
pub(super) fn env_overrides(env: &[(String, String)]) -> Result<Vec<(Vec<String>, toml::Value, String)>, ConfigError> {
    let mut out = Vec::new();
    for (key, raw) in env {
        let Some(rest) = key.strip_prefix("SWITCHBOARD_") else {
            continue;
        };
        let path: Vec<String> = rest.split("__").map(|p| p.to_ascii_lowercase()).collect();
        if !SECTIONS.contains(&path[0].as_str()) {
            continue; // other SWITCHBOARD_* variables (secrets, CLI) are not config paths
        }
        if path.iter().any(|p| p.is_empty()) {
            return Err(ConfigError::new(format!("environment variable {key}: empty path segment")));
        }
        let value = format!("v = {raw}")
            .parse::<toml::Table>()
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(raw.clone()));
        out.push((path, value, key.clone()));
    }
    Ok(out)
}

/// The `SWITCHBOARD_*` variables that are not settings paths but secrets,
/// read by name (each section's `apply_env`); and the CLI's own.
pub(super) const VARIABLES: [&str; 14] = [
    "SWITCHBOARD_CONFIG",
    "SWITCHBOARD_DEPENDENCY_TRACK_API_KEY",
    "SWITCHBOARD_CLICKHOUSE_PASSWORD",
    "SWITCHBOARD_NEO4J_PASSWORD",
    "SWITCHBOARD_DISCORD_APPLICATION_ID",
    "SWITCHBOARD_DISCORD_BOT_TOKEN",
    "SWITCHBOARD_DISCORD_PUBLIC_KEY",
    "SWITCHBOARD_GITHUB_PRIVATE_KEY",
    "SWITCHBOARD_GITHUB_WEBHOOK_SECRET",
    "SWITCHBOARD_PAGERDUTY_WEBHOOK_SECRET",
    "SWITCHBOARD_OIDC_CLIENT_SECRET",
    "SWITCHBOARD_SLACK_APP_TOKEN",
    "SWITCHBOARD_SLACK_BOT_TOKEN",
    "SWITCHBOARD_SLACK_SIGNING_SECRET",
];

/// `SWITCHBOARD_*` variables in `env` that Switchboard does not read — a
/// misspelt secret would otherwise be ignored without a word.
pub fn unknown_variables(env: &[(String, String)]) -> Vec<String> {
    env.iter()
        .map(|(k, _)| k)
        .filter(|k| k.starts_with("SWITCHBOARD_") && !k.starts_with("SWITCHBOARD_TEST_"))
        .filter(|k| {
            let rest = &k["SWITCHBOARD_".len()..];
            let section = rest.split("__").next().unwrap_or_default().to_ascii_lowercase();
            let per_source =
                rest.strip_prefix("LOG_SOURCE_").is_some_and(|r| r.ends_with("_PASSWORD") || r.ends_with("_TOKEN"));
            !(SECTIONS.contains(&section.as_str()) && rest.contains("__")
                || VARIABLES.contains(&k.as_str())
                || rest.starts_with("WEBHOOK_SECRET_")
                || per_source)
        })
        .cloned()
        .collect()
}

/// The top-level tables `SWITCHBOARD_SECTION__KEY` variables may set.
const SECTIONS: [&str; 25] = [
    "server",
    "dependency_track",
    "auth",
    "limits",
    "store",
    "log",
    "policy",
    "score",
    "llm",
    "embeddings",
    "metrics",
    "traces",
    "texts",
    "webhooks",
    "notifications",
    "chat",
    "slack",
    "discord",
    "github",
    "import",
    "logs",
    "rules",
    "environments",
    "project_types",
    "templates",
];

pub(super) fn set_path(table: &mut toml::Table, path: &[String], value: toml::Value) {
    let (last, parents) = path.split_last().expect("non-empty path");
    let mut cur = table;
    for p in parents {
        let entry = cur.entry(p.clone()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        cur = entry.as_table_mut().expect("table");
    }
    cur.insert(last.clone(), value);
}
