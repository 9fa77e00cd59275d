//! Readiness: the checks `crate::health` describes, on this service's stores.

use crate::health::{Check, check};

impl super::Service {
    /// A long-lived part's state (`llm`, `slack_socket`, `discord_gateway`):
    /// shown by readiness, never failing it.
    pub fn report(&self, part: &'static str, ok: bool, detail: impl Into<String>) {
        self.ctx.reported.0.lock().unwrap_or_else(|e| e.into_inner()).insert(part, (ok, detail.into()));
    }

    /// Every check, the stores asked at once (a dead server costs one
    /// deadline, not one each); ready when each required one passed.
    pub async fn readiness(&self) -> Vec<Check> {
        // Something small from each store: probes come every few seconds,
        // and counting every project or deployment each time would be work.
        let graph = check("graph", async {
            let teams = self.ctx.graph.list_teams().await.map_err(|e| e.to_string())?;
            Ok(format!("{} teams", teams.len()))
        });
        // The log's length: kept by ClickHouse, counted by SQLite (an
        // embedded store is one machine's worth); the newest event instead
        // would sort the whole table on ClickHouse.
        let log = check("log", async {
            let n = self.ctx.log.count().await.map_err(|e| e.to_string())?;
            Ok(format!("{n} events"))
        });
        let inbox = async {
            let inbox = self.ctx.inbox.as_ref()?;
            Some(
                check("inbox", async {
                    let counts = inbox.inbox_counts().await.map_err(|e| e.to_string())?;
                    Ok(format!("{} deliveries", counts.iter().map(|(_, n)| n).sum::<u64>()))
                })
                .await,
            )
        };
        let outbox = async {
            let outbox = self.ctx.outbox.as_ref()?;
            Some(
                check("outbox", async {
                    let counts = outbox.outbox_counts().await.map_err(|e| e.to_string())?;
                    Ok(format!("{} messages", counts.iter().map(|(_, n)| n).sum::<u64>()))
                })
                .await,
            )
        };
        let (graph, log, inbox, outbox) = tokio::join!(graph, log, inbox, outbox);
        let mut checks: Vec<Check> = [Some(graph), Some(log), inbox, outbox].into_iter().flatten().collect();
        let reported = self.ctx.reported.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        checks.extend(reported.into_iter().map(|(name, (ok, detail))| Check {
            name,
            ok,
            required: false,
            detail,
            ms: 0,
        }));
        checks
    }
}
