//! Time arguments: `2026-01-31`, RFC 3339 (`2026-01-31T12:00:00Z`), epoch
//! milliseconds, a span back from now (`30d`, `12h`, `90m`), or a day said as
//! people say it (`today`, `yesterday`, `monday`: midnight UTC of that day,
//! a weekday being the latest one not after today).

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;

use crate::model::{DAY_MS, Millis};

/// How a time argument is described in the operations' schemas.
pub const DESCRIPTION: &str = "date, RFC 3339, span like 30d, today, yesterday, a weekday, or epoch ms";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeArg {
    At(Millis),
    Ago(Millis),
    /// Midnight UTC of a day counted back from today.
    Day(DayWord),
}

/// A day named in words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DayWord {
    Today,
    Yesterday,
    /// The latest such weekday on or before today.
    Weekday(chrono::Weekday),
}

impl DayWord {
    /// `today`, `yesterday`, a weekday's name or its three-letter short form.
    pub fn parse(word: &str) -> Option<Self> {
        match word.to_ascii_lowercase().as_str() {
            "today" => Some(Self::Today),
            "yesterday" => Some(Self::Yesterday),
            w if w.len() >= 3 => {
                let day = w.parse::<chrono::Weekday>().ok()?;
                let full = full_name(day);
                (w == full || w == &full[..3]).then_some(Self::Weekday(day))
            }
            _ => None,
        }
    }

    /// The canonical word: `today`, `yesterday`, `monday`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Today => "today",
            Self::Yesterday => "yesterday",
            Self::Weekday(d) => full_name(d),
        }
    }

    fn days_back(self, now: Millis) -> i64 {
        use chrono::Datelike;
        match self {
            Self::Today => 0,
            Self::Yesterday => 1,
            Self::Weekday(d) => {
                let today = chrono::DateTime::from_timestamp_millis(now).map(|t| t.weekday()).unwrap_or(d);
                i64::from((7 + today.num_days_from_monday() - d.num_days_from_monday()) % 7)
            }
        }
    }
}

fn full_name(d: chrono::Weekday) -> &'static str {
    use chrono::Weekday::*;
    match d {
        Mon => "monday",
        Tue => "tuesday",
        Wed => "wednesday",
        Thu => "thursday",
        Fri => "friday",
        Sat => "saturday",
        Sun => "sunday",
    }
}

impl TimeArg {
    pub fn resolve(self, now: Millis) -> Millis {
        match self {
            Self::At(t) => t,
            Self::Ago(d) => now - d,
            Self::Day(w) => now - now.rem_euclid(DAY_MS) - w.days_back(now) * DAY_MS,
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let expected = "a date (2026-01-31), an RFC 3339 time (2026-01-31T12:00:00Z), a span like 30d, 12h, 90m, \
                        or today, yesterday or a weekday";
        if let Some(w) = DayWord::parse(s) {
            return Ok(Self::Day(w));
        }
        if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            let t = d.and_hms_opt(0, 0, 0).expect("midnight").and_utc().timestamp_millis();
            return Ok(Self::At(t));
        }
        if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
            return Ok(Self::At(t.timestamp_millis()));
        }
        if let Some(unit) = s.chars().last() {
            let n = &s[..s.len() - unit.len_utf8()];
            if let Ok(n) = n.parse::<i64>()
                && n >= 0
            {
                let per = match unit {
                    'd' => Some(DAY_MS),
                    'h' => Some(3_600_000),
                    'm' => Some(60_000),
                    'w' => Some(7 * DAY_MS),
                    _ => None,
                };
                if let Some(per) = per {
                    return n.checked_mul(per).map(Self::Ago).ok_or_else(|| format!("{s:?} is too far back"));
                }
            }
        }
        Err(format!("{s:?} is not a time: expected {expected}"))
    }
}

impl<'de> Deserialize<'de> for TimeArg {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Ms(i64),
            Text(String),
        }
        match Raw::deserialize(d).map_err(|_| {
            serde::de::Error::custom("expected a date, an RFC 3339 time, a span like 30d, or epoch milliseconds")
        })? {
            Raw::Ms(ms) => Ok(Self::At(ms)),
            Raw::Text(s) => Self::parse(&s).map_err(serde::de::Error::custom),
        }
    }
}

impl JsonSchema for TimeArg {
    fn schema_name() -> Cow<'static, str> {
        Cow::Borrowed("TimeArg")
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": DESCRIPTION,
            "type": ["string", "integer"]
        })
    }
    fn inline_schema() -> bool {
        true
    }
}

/// Formats epoch milliseconds as `2026-01-31 12:00 UTC`.
pub fn format_ms(ms: Millis) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| ms.to_string())
}

/// Formats a duration for people: `95 s`, `12 min`, `1.5 h`, `3.2 days`.
pub fn format_duration(ms: i64) -> String {
    if ms < 120_000 {
        format!("{} s", ms / 1000)
    } else if ms < 7_200_000 {
        format!("{} min", ms / 60_000)
    } else if ms < 172_800_000 {
        format!("{:.1} h", ms as f64 / 3_600_000.0)
    } else {
        format!("{:.1} days", ms as f64 / 86_400_000.0)
    }
}

/// Formats epoch milliseconds as a date, `2026-01-31`.
pub fn format_date(ms: Millis) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| ms.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        assert_eq!(TimeArg::parse("1970-01-02").unwrap(), TimeArg::At(DAY_MS));
        assert_eq!(TimeArg::parse("1970-01-01T00:00:01Z").unwrap(), TimeArg::At(1000));
        assert_eq!(TimeArg::parse("2d").unwrap().resolve(5 * DAY_MS), 3 * DAY_MS);
        assert!(TimeArg::parse("someday").unwrap_err().contains("not a time"));
        assert!(TimeArg::parse("mo").is_err());
        assert!(TimeArg::parse("mondays").is_err());
        // 1970-01-08 was a Thursday; at 15:00 that day:
        let now = 7 * DAY_MS + 15 * 3_600_000;
        assert_eq!(TimeArg::parse("today").unwrap().resolve(now), 7 * DAY_MS);
        assert_eq!(TimeArg::parse("Yesterday").unwrap().resolve(now), 6 * DAY_MS);
        assert_eq!(TimeArg::parse("thursday").unwrap().resolve(now), 7 * DAY_MS);
        assert_eq!(TimeArg::parse("mon").unwrap().resolve(now), 4 * DAY_MS);
        assert_eq!(TimeArg::parse("friday").unwrap().resolve(now), DAY_MS);
        let t: TimeArg = serde_json::from_str("42").unwrap();
        assert_eq!(t, TimeArg::At(42));
    }
}
