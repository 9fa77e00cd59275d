//! Scheduled workflows: `[[schedules]]` in config request an automation
//! (an upgrade, a deploy…) on a cron expression, in UTC. A firing requests
//! the run as `scheduler`, so it still waits for an approver like any
//! other; someone with the requesting role can also fire a schedule by
//! hand from the portal. Every firing is a `schedule_fired` event — the
//! schedule's history, and how a restarted server knows what it already
//! fired (a slot missed while it was down fires once, not once per slot).

use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, TimeZone, Timelike, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::event::{Event, EventData, EventKind, EventQuery};
use crate::model::{Millis, Run};
use crate::ops::output::Output;
use crate::ops::{Effect, OpKind, Operation};
use crate::{Caller, Error, Result, Service};

/// One `[[schedules]]` entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleConfig {
    /// A name for the portal and the history: letters, digits, `-`, `_`.
    pub name: String,
    /// Five fields, UTC: minute hour day-of-month month day-of-week
    /// (`*`, `a-b`, `*/n`, `a-b/n`, lists; `JAN`…, `SUN`…; 0 and 7 are Sunday).
    pub cron: String,
    /// An automation: `upgrade_dependency`, `deploy` or `scaffold_project`.
    pub operation: String,
    /// Its arguments, as the operation takes them.
    #[serde(default = "empty_object")]
    pub arguments: serde_json::Value,
    /// A line for the portal.
    #[serde(default)]
    pub description: String,
}

fn empty_object() -> serde_json::Value {
    json!({})
}

impl ScheduleConfig {
    /// Why this schedule cannot work, if it cannot.
    pub fn check(&self) -> std::result::Result<Cron, String> {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 64
            && self.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !name_ok {
            return Err("name must be 1-64 letters, digits, - or _".into());
        }
        let cron: Cron = self.cron.parse().map_err(|e| format!("cron {:?}: {e}", self.cron))?;
        let kind =
            OpKind::from_name(&self.operation).ok_or_else(|| format!("unknown operation {:?}", self.operation))?;
        if kind.effect() != Effect::Automation {
            return Err(format!(
                "{} is not an automation; schedules request upgrade_dependency, deploy or scaffold_project",
                self.operation
            ));
        }
        Operation::parse(&self.operation, self.arguments.clone()).map_err(|e| format!("arguments: {e}"))?;
        Ok(cron)
    }
}

/// A parsed five-field cron expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cron {
    minutes: u64,
    hours: u32,
    days: u32,
    months: u16,
    weekdays: u8,
    /// Day of month or day of week given (not `*`): standard cron matches
    /// either when both are restricted.
    days_restricted: bool,
    weekdays_restricted: bool,
}

const MONTHS: [&str; 12] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// The set bits of one field, within `min..=max`.
fn field(text: &str, min: u32, max: u32, names: &[&str], offset: u32) -> std::result::Result<u64, String> {
    let value = |s: &str| -> std::result::Result<u32, String> {
        if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(s)) {
            return Ok(i as u32 + offset);
        }
        let v: u32 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
        if v < min || v > max {
            return Err(format!("{v} is outside {min}-{max}"));
        }
        Ok(v)
    };
    let mut bits = 0u64;
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => {
                let step: u32 = s.parse().map_err(|_| format!("step {s:?} is not a number"))?;
                if step == 0 {
                    return Err("a step of 0 never matches".into());
                }
                (r, step)
            }
            None => (part, 1),
        };
        let (from, to) = match range {
            "*" => (min, max),
            r => match r.split_once('-') {
                Some((a, b)) => (value(a)?, value(b)?),
                None if part.contains('/') => (value(r)?, max),
                None => {
                    let v = value(r)?;
                    (v, v)
                }
            },
        };
        if from > to {
            return Err(format!("{range:?} runs backwards"));
        }
        bits |= (from..=to).step_by(step as usize).fold(0u64, |acc, v| acc | (1 << v));
    }
    Ok(bits)
}

impl FromStr for Cron {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let parts: Vec<&str> = s.split_whitespace().collect();
        let [m, h, dom, mon, dow] = parts[..] else {
            return Err(format!(
                "has {} fields; a cron expression has five: minute hour day-of-month month day-of-week",
                parts.len()
            ));
        };
        let named = |e: String, what: &str| format!("{what}: {e}");
        let mut weekdays = field(dow, 0, 7, &DAYS, 0).map_err(|e| named(e, "day of week"))?;
        if weekdays & (1 << 7) != 0 {
            weekdays = (weekdays | 1) & 0x7f; // 7 is Sunday too
        }
        Ok(Self {
            minutes: field(m, 0, 59, &[], 0).map_err(|e| named(e, "minute"))?,
            hours: field(h, 0, 23, &[], 0).map_err(|e| named(e, "hour"))? as u32,
            days: field(dom, 1, 31, &[], 0).map_err(|e| named(e, "day of month"))? as u32,
            months: field(mon, 1, 12, &MONTHS, 1).map_err(|e| named(e, "month"))? as u16,
            weekdays: weekdays as u8,
            days_restricted: dom != "*",
            weekdays_restricted: dow != "*",
        })
    }
}

impl Cron {
    fn day_matches(&self, t: &DateTime<Utc>) -> bool {
        let dom = self.days & (1 << t.day()) != 0;
        let dow = self.weekdays & (1 << t.weekday().num_days_from_sunday()) != 0;
        let day = match (self.days_restricted, self.weekdays_restricted) {
            (true, true) => dom || dow,
            (true, false) => dom,
            (false, true) => dow,
            (false, false) => true,
        };
        day && self.months & (1 << t.month()) != 0
    }

    /// The first matching minute strictly after `after`, within about five years.
    pub fn next_after(&self, after: Millis) -> Option<Millis> {
        let start = Utc.timestamp_millis_opt(after).single()?;
        let mut t = start.with_second(0)?.with_nanosecond(0)? + Duration::minutes(1);
        let limit = start + Duration::days(366 * 5);
        while t <= limit {
            if !self.day_matches(&t) {
                t = (t + Duration::days(1)).with_hour(0)?.with_minute(0)?;
                continue;
            }
            if self.hours & (1 << t.hour()) == 0 {
                t = (t + Duration::hours(1)).with_minute(0)?;
                continue;
            }
            if self.minutes & (1 << t.minute()) == 0 {
                t += Duration::minutes(1);
                continue;
            }
            return Some(t.timestamp_millis());
        }
        None
    }
}

/// One firing of a schedule, from its `schedule_fired` event.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Firing {
    pub at: Millis,
    pub run: String,
    /// Fired by hand (who), or on its cron slot (`None`).
    pub by: Option<String>,
    pub slot: Option<Millis>,
}

fn subject(name: &str) -> String {
    format!("schedule:{}", name.to_ascii_lowercase())
}

/// Who a schedule's automatic requests come from.
pub fn scheduler_caller(config: &crate::config::Config) -> Caller {
    Caller::new("scheduler", config.policy.request_automation_role, "schedule")
}

/// The store's ticket kind of claimed schedule slots.
const SLOT_TICKET: &str = "schedule_slot";

impl Service {
    /// The configured schedule `name`.
    pub fn schedule(&self, name: &str) -> Result<&ScheduleConfig> {
        self.config().schedules.iter().find(|s| s.name == name).ok_or_else(|| Error::not_found("schedule", name))
    }

    /// Requests schedule `name`'s automation as `caller` and records the
    /// firing: `slot` is the cron time it fired for (none when by hand).
    pub async fn fire_schedule(&self, name: &str, caller: &Caller, slot: Option<Millis>) -> Result<Run> {
        let s = self.schedule(name)?.clone();
        let Output::Run(run) = self.execute_json(caller, &s.operation, s.arguments.clone()).await? else {
            return Err(Error::bad_input(None, format!("schedule {name}: {} did not request a run", s.operation)));
        };
        let by = slot.is_none().then(|| caller.user.to_string());
        let data = EventData::ScheduleFired(crate::event::payload::ScheduleFired {
            schedule: name.to_owned(),
            run: run.id,
            operation: run.operation,
            slot,
            by,
        });
        let mut e = Event::of(&data, self.now(), caller.user.as_str(), &caller.source);
        e.subjects = vec![subject(name)];
        self.record(&[e]).await?;
        Ok(*run)
    }

    /// Schedule `name`'s firings, newest first.
    pub async fn schedule_history(&self, name: &str, limit: usize) -> Result<Vec<Firing>> {
        let q = EventQuery {
            kinds: vec![EventKind::ScheduleFired],
            subject: Some(subject(name)),
            limit,
            ..Default::default()
        };
        let events = self.log().query(&q).await?;
        Ok(events
            .into_iter()
            .filter_map(|e| match e.data() {
                Ok(EventData::ScheduleFired(f)) => {
                    Some(Firing { at: e.occurred_at, run: f.run.to_string(), by: f.by, slot: f.slot })
                }
                _ => None,
            })
            .collect())
    }

    /// The cron slot schedule `name` is due for at `now`, if any: the latest
    /// slot after the last one fired (or after `since`, for a schedule that
    /// never fired) that is not in the future.
    pub async fn due_slot(&self, name: &str, since: Millis) -> Result<Option<Millis>> {
        let cron = self.schedule(name)?.check().map_err(|e| Error::field("cron", format!("schedule {name}: {e}")))?;
        let last = self.schedule_history(name, 50).await?.into_iter().find_map(|f| f.slot);
        let now = self.now();
        let mut due = None;
        let mut t = last.unwrap_or(since);
        while let Some(next) = cron.next_after(t) {
            if next > now {
                break;
            }
            due = Some(next);
            t = next;
        }
        Ok(due)
    }

    /// Whether this process fires schedule `name`'s `slot`: the first of the
    /// processes on the store to ask does (a replica that dies between the
    /// claim and the firing loses that slot; the next one fires).
    async fn claim_slot(&self, name: &str, slot: Millis) -> Result<bool> {
        const KEEP_MS: Millis = 7 * 24 * 3600 * 1000;
        self.claim_once(SLOT_TICKET, &format!("{name}:{slot}"), slot + KEEP_MS).await
    }

    /// Fires every schedule due at `now` (once each, however many slots
    /// were missed); what each firing did. `since`: when this server began
    /// keeping schedules (a schedule that never fired does not fire for
    /// slots before it).
    pub async fn fire_due_schedules(&self, since: Millis) -> Vec<(String, Result<Run>)> {
        let caller = scheduler_caller(self.config());
        let mut out = Vec::new();
        for s in &self.config().schedules {
            let fired = match self.due_slot(&s.name, since).await {
                Ok(Some(slot)) => match self.claim_slot(&s.name, slot).await {
                    Ok(true) => self.fire_schedule(&s.name, &caller, Some(slot)).await,
                    Ok(false) => continue,
                    Err(e) => Err(e),
                },
                Ok(None) => continue,
                Err(e) => Err(e),
            };
            out.push((s.name.clone(), fired));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Millis {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis()
    }

    fn next(cron: &str, after: &str) -> String {
        let c: Cron = cron.parse().unwrap();
        let t = c.next_after(at(after)).unwrap();
        Utc.timestamp_millis_opt(t).unwrap().format("%Y-%m-%dT%H:%M").to_string()
    }

    #[test]
    fn cron_expressions_find_the_next_minute() {
        assert_eq!(next("*/15 * * * *", "2026-11-26T08:07:30Z"), "2026-11-26T08:15");
        assert_eq!(next("0 6 * * MON", "2026-11-26T08:00:00Z"), "2026-11-30T06:00"); // a Thursday
        assert_eq!(next("30 2 1 * *", "2026-11-26T08:00:00Z"), "2026-12-01T02:30");
        assert_eq!(next("0 0 29 FEB *", "2026-03-01T00:00:00Z"), "2028-02-29T00:00");
        assert_eq!(next("0 9 * * 1-5", "2026-11-28T10:00:00Z"), "2026-11-30T09:00"); // Saturday → Monday
        assert_eq!(next("0 12 * * 7", "2026-11-26T00:00:00Z"), "2026-11-29T12:00"); // 7 is Sunday
        // Both day fields restricted: either matches (the 1st, or a Friday).
        assert_eq!(next("0 0 1 * FRI", "2026-11-26T00:00:00Z"), "2026-11-27T00:00");
        assert_eq!(next("5,10 8 * * *", "2026-11-26T08:05:00Z"), "2026-11-26T08:10");
    }

    #[test]
    fn bad_cron_expressions_say_what_is_wrong() {
        let err = |s: &str| s.parse::<Cron>().unwrap_err();
        assert!(err("* * * *").contains("has 4 fields"), "{}", err("* * * *"));
        assert!(err("60 * * * *").contains("minute: 60 is outside 0-59"));
        assert!(err("*/0 * * * *").contains("a step of 0"));
        assert!(err("* * * * FUNDAY").contains("day of week"));
        assert!(err("* 5-2 * * *").contains("runs backwards"));
        assert_eq!("0 0 31 2 *".parse::<Cron>().unwrap().next_after(0), None, "February 31st never comes");
    }
}
