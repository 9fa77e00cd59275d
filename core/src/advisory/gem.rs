//! RubyGems' version order (`Gem::Version#<=>`): segments of digits or
//! letters, `-` meaning `.pre.`, trailing zeros dropped from the release and
//! pre-release parts, a letter segment sorting before any number (so
//! `1.0.a < 1.0`). Small and fully specified, so it lives here.

use std::cmp::Ordering;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Num(u64),
    Text(String),
}

/// A RubyGems version, ordered as `gem` orders it.
#[derive(Clone, Debug)]
pub struct GemVersion(Vec<Segment>);

impl GemVersion {
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let valid = !text.is_empty()
            && text.starts_with(|c: char| c.is_ascii_digit())
            && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
        if !valid {
            return None;
        }
        let text = text.replace('-', ".pre.");
        let mut segments = Vec::new();
        let mut current = String::new();
        let flush = |current: &mut String, segments: &mut Vec<Segment>| -> Option<()> {
            if current.is_empty() {
                return Some(());
            }
            let segment = if current.bytes().all(|b| b.is_ascii_digit()) {
                Segment::Num(current.parse().ok()?)
            } else {
                Segment::Text(current.clone())
            };
            segments.push(segment);
            current.clear();
            Some(())
        };
        for c in text.chars() {
            let switches = current.chars().last().is_some_and(|l| l.is_ascii_digit() != c.is_ascii_digit());
            if c == '.' || switches {
                flush(&mut current, &mut segments)?;
            }
            if c != '.' {
                current.push(c);
            }
        }
        flush(&mut current, &mut segments)?;
        // Canonical: trailing zeros dropped from the release part and from the pre-release part.
        let split = segments.iter().position(|s| matches!(s, Segment::Text(_))).unwrap_or(segments.len());
        let mut pre = segments.split_off(split);
        let trim = |part: &mut Vec<Segment>| {
            while part.last() == Some(&Segment::Num(0)) {
                part.pop();
            }
        };
        trim(&mut segments);
        trim(&mut pre);
        segments.extend(pre);
        Some(Self(segments))
    }
}

impl Ord for GemVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let zero = Segment::Num(0);
        for i in 0..self.0.len().max(other.0.len()) {
            let (l, r) = (self.0.get(i).unwrap_or(&zero), other.0.get(i).unwrap_or(&zero));
            let order = match (l, r) {
                (Segment::Num(a), Segment::Num(b)) => a.cmp(b),
                (Segment::Text(a), Segment::Text(b)) => a.cmp(b),
                (Segment::Text(_), Segment::Num(_)) => Ordering::Less,
                (Segment::Num(_), Segment::Text(_)) => Ordering::Greater,
            };
            if order != Ordering::Equal {
                return order;
            }
        }
        Ordering::Equal
    }
}

impl PartialOrd for GemVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for GemVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for GemVersion {}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(s: &str) -> GemVersion {
        GemVersion::parse(s).unwrap()
    }

    #[test]
    fn orders_as_rubygems_does() {
        let chain = ["1.0.a", "1.0.a.2", "1.0.b1", "1.0.rc1", "1.0", "1.0.1", "1.1", "3.0.21", "4.0.1", "4.0.5", "10"];
        for w in chain.windows(2) {
            assert!(g(w[0]) < g(w[1]), "{} < {}", w[0], w[1]);
        }
        assert_eq!(g("1.0.0"), g("1"));
        assert_eq!(g("1.0-1"), g("1.0.pre.1"));
        assert!(GemVersion::parse("v1.0").is_none());
        assert!(GemVersion::parse("1.0 beta").is_none());
    }
}
