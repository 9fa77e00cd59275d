//! Maven's version order (`ComparableVersion`): numbers and qualifiers split
//! at `.`, `-` and digit/letter changes, `-` opening a sub-list, trailing
//! zeros and release qualifiers dropped; `alpha < beta < milestone < rc <
//! snapshot < (release) < sp < anything else`, `ga`/`final`/`release` being
//! the release itself. No maintained crate implements it, so it lives here,
//! checked against the examples Maven's own documentation gives.

use std::cmp::Ordering;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Item {
    /// Digits without leading zeros, compared by length then text (no overflow).
    Int(String),
    /// The qualifier's comparable form: its rank for known ones, `7-text` else.
    Str(String),
    List(Vec<Item>),
}

const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
const RELEASE: &str = "5";

fn comparable(text: &str, followed_by_digit: bool) -> String {
    let text = match (text, followed_by_digit) {
        ("a", true) => "alpha",
        ("b", true) => "beta",
        ("m", true) => "milestone",
        ("ga" | "final" | "release", _) => "",
        ("cr", _) => "rc",
        (t, _) => t,
    };
    match QUALIFIERS.iter().position(|q| *q == text) {
        Some(i) => i.to_string(),
        None => format!("7-{text}"),
    }
}

fn item(text: &str, digits: bool, followed_by_digit: bool) -> Item {
    if digits {
        let trimmed = text.trim_start_matches('0');
        Item::Int(if trimmed.is_empty() { "0".into() } else { trimmed.into() })
    } else {
        Item::Str(comparable(text, followed_by_digit))
    }
}

impl Item {
    fn is_null(&self) -> bool {
        match self {
            Self::Int(d) => d == "0",
            Self::Str(q) => q == RELEASE,
            Self::List(l) => l.is_empty(),
        }
    }

    /// Maven's kinds in its order: a qualifier below a sub-list below a number.
    fn kind(&self) -> u8 {
        match self {
            Self::Str(_) => 0,
            Self::List(_) => 1,
            Self::Int(_) => 2,
        }
    }

    /// Where this item alone puts a version against one that ends before it:
    /// `Equal` for the items that stand for nothing (`0`, the release, an
    /// empty sub-list), whose place is then decided by what follows.
    fn sign(&self) -> Ordering {
        match self {
            Self::Int(d) if d == "0" => Ordering::Equal,
            Self::Int(_) => Ordering::Greater,
            Self::Str(q) => q.as_str().cmp(RELEASE),
            Self::List(l) => sign(l),
        }
    }

    /// The two items' own order, kind first, for items that are not the same.
    fn cmp_item(&self, other: &Item) -> Ordering {
        use Item::*;
        match (self, other) {
            (Int(a), Int(b)) => a.len().cmp(&b.len()).then_with(|| a.cmp(b)),
            (Str(a), Str(b)) => a.cmp(b),
            (List(a), List(b)) => cmp_lists(a, b),
            _ => self.kind().cmp(&other.kind()),
        }
    }
}

/// Where these items put a version against one that ends before them.
fn sign(items: &[Item]) -> Ordering {
    items.iter().map(Item::sign).find(|s| s.is_ne()).unwrap_or(Ordering::Equal)
}

/// Maven's order made total. Maven compares item by item, a missing item
/// being equal to `0` and to the release, yet a number above any qualifier,
/// which is not transitive: `1-abc < 1.0.alpha < 1 < 1-abc` all hold in
/// Maven. Here, at the first items that differ, the rests are first placed
/// against the common prefix (below it, equal to it, above it: `1.0.alpha`
/// is below `1`, `1-abc` above); only rests on the same side are ordered by
/// Maven's kinds and values. Every order Maven's documentation gives stands.
fn cmp_lists(a: &[Item], b: &[Item]) -> Ordering {
    for i in 0..a.len().max(b.len()) {
        let (x, y) = (a.get(i), b.get(i));
        if let (Some(x), Some(y)) = (x, y)
            && x.cmp_item(y).is_eq()
        {
            continue;
        }
        let (sa, sb) = (sign(a.get(i..).unwrap_or_default()), sign(b.get(i..).unwrap_or_default()));
        if sa != sb || sa.is_eq() {
            return sa.cmp(&sb);
        }
        // Both rests on the same side, so neither is missing (a missing rest
        // is equal): Maven's kinds, then values.
        return match (x, y) {
            (Some(x), Some(y)) => x.cmp_item(y),
            _ => Ordering::Equal,
        };
    }
    Ordering::Equal
}

/// Drops null items from the end, looking past non-null sub-lists (Maven's `normalize`).
fn normalize(list: &mut Vec<Item>) {
    for item in list.iter_mut() {
        if let Item::List(l) = item {
            normalize(l);
        }
    }
    let mut i = list.len();
    while i > 0 {
        i -= 1;
        if list[i].is_null() {
            list.remove(i);
        } else if !matches!(list[i], Item::List(_)) {
            break;
        }
    }
}

/// A Maven version, ordered as Maven orders it.
#[derive(Clone, Debug)]
pub struct MavenVersion(Vec<Item>);

impl MavenVersion {
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim().to_lowercase();
        if text.is_empty() || text.chars().any(char::is_whitespace) {
            return None;
        }
        // Nested lists as a stack of vectors: a `-` (or a digit/letter change)
        // opens a new innermost list, closed when the text ends.
        let mut stack: Vec<Vec<Item>> = vec![Vec::new()];
        let (mut digits, mut start) = (false, 0);
        for (i, c) in text.char_indices() {
            let top = stack.last_mut().expect("the root list");
            if c == '.' || c == '-' {
                if i == start {
                    top.push(Item::Int("0".into()));
                } else {
                    top.push(item(&text[start..i], digits, false));
                }
                start = i + c.len_utf8();
                if c == '-' {
                    stack.push(Vec::new());
                }
            } else if c.is_ascii_digit() {
                if !digits && i > start {
                    top.push(item(&text[start..i], false, true));
                    start = i;
                    stack.push(Vec::new());
                }
                digits = true;
            } else {
                if digits && i > start {
                    top.push(item(&text[start..i], true, false));
                    start = i;
                    stack.push(Vec::new());
                }
                digits = false;
            }
        }
        if text.len() > start {
            stack.last_mut().expect("the root list").push(item(&text[start..], digits, false));
        }
        while stack.len() > 1 {
            let mut inner = stack.pop().expect("an inner list");
            normalize(&mut inner);
            stack.last_mut().expect("its parent").push(Item::List(inner));
        }
        let mut root = stack.pop().expect("the root list");
        normalize(&mut root);
        Some(Self(root))
    }
}

impl PartialEq for MavenVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for MavenVersion {}

impl PartialOrd for MavenVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for MavenVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_lists(&self.0, &other.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> MavenVersion {
        MavenVersion::parse(s).unwrap()
    }

    #[test]
    fn orders_as_maven_documents() {
        // The order Maven's "Version Order Specification" gives.
        let chain = [
            "1-alpha1",
            "1-alpha2",
            "1-beta1",
            "1-milestone1",
            "1-rc1",
            "1-snapshot",
            "1",
            "1-sp1",
            "1-abc",
            "1.0.1",
            "1.1",
            "1.2-rc-1",
            "1.2",
            "2.0.16.release",
            "2.0.17-m1",
            "2.0.17",
        ];
        for w in chain.windows(2) {
            assert!(m(w[0]) < m(w[1]), "{} < {}", w[0], w[1]);
        }
        for (a, b) in [("1", "1.0.0"), ("1.ga", "1"), ("1-final", "1"), ("2.0.17.RELEASE", "2.0.17"), ("1cr1", "1rc1")]
        {
            assert_eq!(m(a), m(b), "{a} = {b}");
        }
        assert!(m("12.10.2-rc-1") < m("12.10.2"));
        assert!(m("11.10.13") < m("12.0"));
        assert!(m("1.0.0.1") > m("1.0.0"));
        assert!(m("100000000000000000000") > m("99999999999999999999"));
        // Qualifiers after a zero still fall before the release they qualify.
        assert!(m("2.0.0.RC1") < m("2.0.0"));
        assert!(m("2.0.0.RC1") > m("2.0.0.M3"));
    }

    #[test]
    fn maven_cycles_are_broken_by_the_side_of_the_release() {
        // Maven itself answers 1-abc < 1.0.alpha < 1 < 1-abc.
        assert!(m("1.0.alpha") < m("1"));
        assert!(m("1") < m("1-abc"));
        assert!(m("1.0.alpha") < m("1-abc"));
        // The case a property test found: 0.a0 < ga < b.rc, so 0.a0 < b.rc.
        assert!(m("0.a0") < m("ga"));
        assert!(m("ga") < m("b.rc"));
        assert!(m("0.a0") < m("b.rc"));
    }
}
