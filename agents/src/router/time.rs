//! Time phrases in chat: "in the last 2 hours", "past week", "today",
//! "yesterday", "since monday", "since 2026-11-01", "between 2026-11-01 and
//! 2026-11-15", "24h". They become the `since`/`until` arguments core reads
//! (`2h`, `7d`, `today`, `yesterday`, `monday`, a date), so the router stays
//! pure: the words are resolved against the clock when the operation runs.

/// A window found in a message, with the positions of the words it used.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Window {
    pub since: Option<String>,
    pub until: Option<String>,
    pub used: Vec<usize>,
}

impl Window {
    pub fn is_empty(&self) -> bool {
        self.since.is_none() && self.until.is_none()
    }
}

fn unit(w: &str) -> Option<(char, u32)> {
    let w = w.trim_end_matches('s');
    Some(match w {
        "minute" | "min" | "m" | "mn" => ('m', 1),
        "hour" | "hr" | "h" => ('h', 1),
        "day" | "d" | "night" => ('d', 1),
        "week" | "wk" | "w" => ('w', 1),
        "month" | "mo" => ('d', 30),
        "quarter" => ('d', 90),
        "year" | "yr" => ('d', 365),
        _ => return None,
    })
}

/// `2h`, `15m`, `3d`, `2w`, `90d` in one word.
fn compact(w: &str) -> Option<String> {
    let digits: String = w.chars().take_while(char::is_ascii_digit).collect();
    let rest = &w[digits.len()..];
    if digits.is_empty() || digits.len() > 5 {
        return None;
    }
    let (u, times) = unit(rest).filter(|_| !rest.is_empty())?;
    if rest.len() > 1 && !matches!(rest, "hr" | "hrs" | "min" | "mins" | "wk" | "wks" | "mo") {
        return None;
    }
    let n: u32 = digits.parse().ok()?;
    Some(format!("{}{u}", n * times))
}

fn number(w: &str) -> Option<u32> {
    if let Ok(n) = w.parse::<u32>() {
        return Some(n);
    }
    Some(match w {
        "a" | "an" | "one" => 1,
        "two" | "couple" => 2,
        "three" | "few" => 3,
        "four" => 4,
        "five" => 5,
        "six" => 6,
        "seven" => 7,
        "eight" => 8,
        "nine" => 9,
        "ten" => 10,
        "twelve" => 12,
        "fourteen" => 14,
        "thirty" => 30,
        _ => return None,
    })
}

fn is_date(w: &str) -> bool {
    use switchboard_core::time::TimeArg;
    w.len() == 10 && w.as_bytes()[4] == b'-' && matches!(TimeArg::parse(w), Ok(TimeArg::At(_)))
}

fn is_day(w: &str) -> bool {
    switchboard_core::time::DayWord::parse(w).is_some_and(|d| !matches!(d.as_str(), "today" | "yesterday"))
}

fn day(w: &str) -> String {
    switchboard_core::time::DayWord::parse(w).map(|d| d.as_str().to_owned()).unwrap_or_else(|| w.to_owned())
}

/// Finds the time phrase in lowercased `words`.
pub fn window(words: &[String]) -> Window {
    let w = |i: usize| words.get(i).map(String::as_str).unwrap_or_default();
    let mut out = Window::default();
    for i in 0..words.len() {
        if out.since.is_some() {
            break;
        }
        match w(i) {
            // between D1 and D2, from D1 to D2
            "between" | "from"
                if (is_date(w(i + 1)) || is_day(w(i + 1))) && matches!(w(i + 2), "and" | "to" | "until") =>
            {
                out.since = Some(day(w(i + 1)));
                if is_date(w(i + 3)) || is_day(w(i + 3)) || w(i + 3) == "today" {
                    out.until = Some(day(w(i + 3)));
                    out.used.extend([i, i + 1, i + 2, i + 3]);
                } else {
                    out.used.extend([i, i + 1]);
                }
            }
            "since" | "after" | "from"
                if is_date(w(i + 1)) || is_day(w(i + 1)) || (w(i + 1) == "yesterday" && w(i) != "from") =>
            {
                out.since = Some(day(w(i + 1)));
                out.used.extend([i, i + 1]);
            }
            "since" if w(i + 1) == "last" && is_day(w(i + 2)) => {
                out.since = Some(day(w(i + 2)));
                out.used.extend([i, i + 1, i + 2]);
            }
            "today" | "tonight" => {
                out.since = Some("today".into());
                out.used.push(i);
            }
            "this" if matches!(w(i + 1), "morning" | "afternoon" | "evening") => {
                out.since = Some("today".into());
                out.used.extend([i, i + 1]);
            }
            n if i + 2 < words.len()
                && number(n).is_some()
                && n.parse::<u32>().is_ok()
                && unit(w(i + 1)).is_some()
                && w(i + 2) == "of" =>
            {
                // `3 days of production releases`
                let (u, times) = unit(w(i + 1)).unwrap_or(('d', 1));
                out.since = Some(format!("{}{u}", number(n).unwrap_or(1) * times));
                out.used.extend([i, i + 1, i + 2]);
            }
            "yesterday" => {
                out.since = Some("yesterday".into());
                out.until = Some("today".into());
                out.used.push(i);
            }
            "last" | "past" | "previous" | "this" | "within" | "over" | "in" | "for" => {
                // `in the last 2 hours`, `last 3 days`, `past week`, `this week`
                let mut j = i + 1;
                if w(j) == "the" {
                    j += 1;
                }
                if matches!(w(i), "within" | "over" | "in" | "for") && matches!(w(j), "last" | "past" | "previous") {
                    j += 1;
                }
                let start = if matches!(w(i), "within" | "over" | "in" | "for") { j.saturating_sub(1) } else { i };
                let lead_ok = matches!(w(i), "last" | "past" | "previous" | "this")
                    || matches!(w(j.saturating_sub(1)), "last" | "past" | "previous");
                if let Some(c) = compact(w(j)) {
                    if lead_ok || matches!(w(i), "within" | "in" | "for" | "over") {
                        out.since = Some(c);
                        out.used.extend(start.min(i)..=j);
                    }
                } else if let (Some(n), Some((u, times))) = (number(w(j)), unit(w(j + 1))) {
                    if lead_ok && !(w(j) == "a" && w(i) == "in") {
                        out.since = Some(format!("{}{u}", n * times));
                        out.used.extend(i..=j + 1);
                    }
                } else if lead_ok && let Some((u, times)) = unit(w(j)) {
                    // `past week` is seven days, `last month` thirty.
                    let s = match (u, times) {
                        ('w', 1) => "7d".to_owned(),
                        ('d', 1) => "24h".to_owned(),
                        (u, t) => format!("{t}{u}"),
                    };
                    out.since = Some(s);
                    out.used.extend(i..=j);
                }
            }
            "until" | "before" if is_date(w(i + 1)) => {
                out.until = Some(w(i + 1).to_owned());
                out.used.extend([i, i + 1]);
            }
            x if compact(x).is_some() && i > 0 && matches!(w(i - 1), "last" | "past" | "within" | "in" | "for") => {
                out.since = compact(x);
                out.used.extend([i - 1, i]);
            }
            x if compact(x).is_some() && matches!(w(i + 1), "ago") => {
                out.since = compact(x);
                out.used.extend([i, i + 1]);
            }
            _ => {}
        }
    }
    if out.until.is_none()
        && let Some(i) = words.iter().position(|x| matches!(x.as_str(), "until" | "before"))
        && is_date(w(i + 1))
    {
        out.until = Some(w(i + 1).to_owned());
        out.used.extend([i, i + 1]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn win(text: &str) -> (Option<String>, Option<String>) {
        let words: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
        let w = window(&words);
        (w.since, w.until)
    }

    fn since(text: &str) -> Option<String> {
        win(text).0
    }

    #[test]
    fn spans() {
        assert_eq!(since("errors in the last 2 hours").as_deref(), Some("2h"));
        assert_eq!(since("last 3 days").as_deref(), Some("3d"));
        assert_eq!(since("over the past 48 hours").as_deref(), Some("48h"));
        assert_eq!(since("deploys in the last 24h").as_deref(), Some("24h"));
        assert_eq!(since("past week").as_deref(), Some("7d"));
        assert_eq!(since("this week").as_deref(), Some("7d"));
        assert_eq!(since("last month").as_deref(), Some("30d"));
        assert_eq!(since("last 2 weeks").as_deref(), Some("2w"));
        assert_eq!(since("in the last 30 minutes").as_deref(), Some("30m"));
        assert_eq!(since("last 90 days").as_deref(), Some("90d"));
        assert_eq!(since("in the past hour").as_deref(), Some("1h"));
        assert_eq!(since("the last two days").as_deref(), Some("2d"));
        assert_eq!(since("3d ago").as_deref(), Some("3d"));
    }

    #[test]
    fn days_and_dates() {
        assert_eq!(win("incidents yesterday"), (Some("yesterday".into()), Some("today".into())));
        assert_eq!(win("since yesterday"), (Some("yesterday".into()), None));
        assert_eq!(since("deploys today").as_deref(), Some("today"));
        assert_eq!(since("since monday").as_deref(), Some("monday"));
        assert_eq!(since("since last fri").as_deref(), Some("friday"));
        assert_eq!(since("since 2026-11-01").as_deref(), Some("2026-11-01"));
        assert_eq!(win("between 2026-11-01 and 2026-11-15"), (Some("2026-11-01".into()), Some("2026-11-15".into())));
    }

    #[test]
    fn words_that_are_not_times() {
        for text in ["when was orders last deployed", "last deploy of payouts", "in production", "for orders", "a week"]
        {
            assert_eq!(win(text), (None, None), "{text}");
        }
    }
}
