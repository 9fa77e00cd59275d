//! `[advisories]`: where OSV advisories are refreshed from, and who is told
//! about new vulnerabilities (docs/advisories.md).

use serde::{Deserialize, Serialize};

use chrono::{TimeZone, Timelike};
use chrono_tz::Tz;

use crate::advisory::Severity;
use crate::model::Millis;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdvisoriesConfig {
    /// OSV sources `serve` imports at start and then every `refresh_hours`:
    /// http(s) URLs (asked with `If-None-Match` / `If-Modified-Since`, so an
    /// unchanged source costs one request) or paths, each a JSON record, a
    /// list, a directory or a zip of them, e.g.
    /// `https://osv-vulnerabilities.storage.googleapis.com/crates.io/all.zip`.
    /// Default: none (import by hand with `switchboard advisories import`).
    pub sources: Vec<String>,
    /// Hours between refreshes. Default: `6`; `0`: only at start.
    pub refresh_hours: u32,
    /// The owning team is told of a new vulnerability in its project of this
    /// severity or worse (`critical`, `high`, `medium`, `low`, `unknown`),
    /// once per project and advisory. Default: `high`.
    pub notify_min_severity: Severity,
    /// Tell teams at all. Default: `true`.
    pub notify: bool,
    /// When chat stays quiet about new vulnerabilities: what would be sent
    /// then waits until the window ends. Default: none.
    pub quiet_hours: Option<QuietHours>,
}

impl Default for AdvisoriesConfig {
    fn default() -> Self {
        Self {
            sources: Vec::new(),
            refresh_hours: 6,
            notify_min_severity: Severity::High,
            notify: true,
            quiet_hours: None,
        }
    }
}

/// `[advisories.quiet_hours]`: every day from `from` until `until` (times
/// of day in `timezone`; an `until` before `from` ends the next morning),
/// vulnerability notifications to chat wait for the window's end, but for
/// those of `urgent` severity or worse.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    /// `HH:MM`, e.g. `19:00`.
    pub from: String,
    /// `HH:MM`, e.g. `08:00`.
    pub until: String,
    /// An IANA time zone, e.g. `Europe/Berlin` (daylight saving followed).
    /// Default: `UTC`.
    #[serde(default = "utc")]
    pub timezone: String,
    /// Findings this severe or worse are sent at once (`critical`, `high`,
    /// `medium`, `low`), or `none` to hold them all. Default: `critical`.
    #[serde(default = "critical")]
    pub urgent: String,
}

fn utc() -> String {
    "UTC".into()
}

fn critical() -> String {
    "critical".into()
}

impl QuietHours {
    /// When the quiet window `at` falls in ends, for a finding of
    /// `severity`; `None` when it may be sent now. The config was validated
    /// when it loaded (an invalid window is never quiet).
    pub fn holds_until(&self, at: Millis, severity: Severity) -> Option<Millis> {
        if self.urgent_from().is_some_and(|u| severity >= u) {
            return None;
        }
        let tz: Tz = self.timezone.trim().parse().ok()?;
        let (from, until) = (minute_of_day(&self.from)?, minute_of_day(&self.until)?);
        let local = tz.timestamp_millis_opt(at).single()?;
        let now = local.hour() * 60 + local.minute();
        let inside = if from < until { from <= now && now < until } else { now >= from || now < until };
        if !inside {
            return None;
        }
        let day = if now < until { local.date_naive() } else { local.date_naive().succ_opt()? };
        let end = day.and_hms_opt(until / 60, until % 60, 0)?;
        // In a daylight-saving gap the window ends at the first time that exists after it.
        let resolved = tz
            .from_local_datetime(&end)
            .earliest()
            .or_else(|| tz.from_local_datetime(&(end + chrono::Duration::hours(1))).earliest())?;
        Some(resolved.timestamp_millis())
    }

    fn urgent_from(&self) -> Option<Severity> {
        Severity::parse(&self.urgent).filter(|s| *s != Severity::Unknown)
    }

    fn validate(&self) -> Result<(), (String, String)> {
        let at = "advisories.quiet_hours";
        for (field, s) in [("from", &self.from), ("until", &self.until)] {
            if minute_of_day(s).is_none() {
                return Err((format!("{at}.{field}"), format!("{s:?} is not a time of day such as 19:00")));
            }
        }
        if minute_of_day(&self.from) == minute_of_day(&self.until) {
            return Err((format!("{at}.until"), "must differ from `from`".into()));
        }
        if self.timezone.trim().parse::<Tz>().is_err() {
            return Err((
                format!("{at}.timezone"),
                format!("{:?} is not an IANA time zone such as Europe/Berlin, America/New_York or UTC", self.timezone),
            ));
        }
        if !self.urgent.eq_ignore_ascii_case("none") && self.urgent_from().is_none() {
            return Err((
                format!("{at}.urgent"),
                format!("{:?} is not one of critical, high, medium, low, none", self.urgent),
            ));
        }
        Ok(())
    }
}

/// `HH:MM` (00:00-23:59) as minutes after midnight.
fn minute_of_day(s: &str) -> Option<u32> {
    let (h, m) = s.trim().split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60 && s.trim().len() == 5).then_some(h * 60 + m)
}

impl AdvisoriesConfig {
    pub(super) fn validate(&self) -> Result<(), (String, String)> {
        for (i, s) in self.sources.iter().enumerate() {
            let s = s.trim();
            let url = s.starts_with("http://") || s.starts_with("https://");
            if s.is_empty() || (s.contains("://") && !url) {
                return Err((
                    format!("advisories.sources[{i}]"),
                    format!(
                        "{s:?} is not an http(s) URL or a path; e.g. \"https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip\""
                    ),
                ));
            }
        }
        if let Some(q) = &self.quiet_hours {
            q.validate()?;
        }
        Ok(())
    }
}
