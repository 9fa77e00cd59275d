//! Versions as each ecosystem orders them: SemVer for crates.io, npm and Go
//! (Go's `v` prefix, `+incompatible` and pseudo-versions included), PEP 440
//! for PyPI, Maven's `ComparableVersion` and RubyGems' `Gem::Version`.
//! An ecosystem without rules here is never guessed at: `parse` says so.

use std::cmp::Ordering;

use crate::model::Ecosystem;

/// A version parsed by its ecosystem's rules; compared only with versions
/// of the same ecosystem.
#[derive(Clone, Debug)]
pub enum Ver {
    Semver(semver::Version),
    Pep440(pep440_rs::Version),
    Maven(super::maven::MavenVersion),
    Gem(super::gem::GemVersion),
}

impl PartialEq for Ver {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Ver {}

impl PartialOrd for Ver {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ver {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Self::Semver(a), Self::Semver(b)) => a.cmp_precedence(b),
            (Self::Pep440(a), Self::Pep440(b)) => a.cmp(b),
            (Self::Maven(a), Self::Maven(b)) => a.cmp(b),
            (Self::Gem(a), Self::Gem(b)) => a.cmp(b),
            // Never mixed: every version of one comparison is parsed with one
            // ecosystem's rules. Ordered by kind only to keep `Ord` total.
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl Ver {
    fn rank(&self) -> u8 {
        match self {
            Self::Semver(_) => 0,
            Self::Pep440(_) => 1,
            Self::Maven(_) => 2,
            Self::Gem(_) => 3,
        }
    }
}

/// Why a version could not be compared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unparsed {
    /// The ecosystem has no version rules here (NuGet, Packagist, others).
    NoRules(Ecosystem),
    /// The text is not a version in the ecosystem's grammar.
    Invalid(String),
}

impl std::fmt::Display for Unparsed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoRules(e) => write!(f, "no version rules for {} packages", e.as_str()),
            Self::Invalid(v) => write!(f, "{v:?} is not a version"),
        }
    }
}

/// Whether `parse` knows the ecosystem's version rules.
pub fn has_rules(ecosystem: Ecosystem) -> bool {
    matches!(
        ecosystem,
        Ecosystem::Cargo | Ecosystem::Npm | Ecosystem::Go | Ecosystem::Pypi | Ecosystem::Maven | Ecosystem::Gem
    )
}

/// Parses `text` as a version of `ecosystem`.
pub fn parse(ecosystem: Ecosystem, text: &str) -> Result<Ver, Unparsed> {
    let text = text.trim();
    let invalid = || Unparsed::Invalid(text.to_owned());
    if text.is_empty() {
        return Err(invalid());
    }
    match ecosystem {
        Ecosystem::Cargo | Ecosystem::Npm => semver_loose(text.trim_start_matches(['v', '='])).ok_or_else(invalid),
        Ecosystem::Go => {
            let bare = text.strip_prefix("go").unwrap_or(text);
            let bare = bare.strip_prefix('v').unwrap_or(bare);
            let bare = bare.strip_suffix("+incompatible").unwrap_or(bare);
            semver_loose(bare).ok_or_else(invalid)
        }
        Ecosystem::Pypi => text.parse::<pep440_rs::Version>().map(Ver::Pep440).map_err(|_| invalid()),
        Ecosystem::Maven => super::maven::MavenVersion::parse(text).map(Ver::Maven).ok_or_else(invalid),
        Ecosystem::Gem => super::gem::GemVersion::parse(text).map(Ver::Gem).ok_or_else(invalid),
        other => Err(Unparsed::NoRules(other)),
    }
}

/// SemVer, with the missing minor or patch of `1` and `1.2` taken as zero
/// (Go toolchains and hand-written manifests write them so).
fn semver_loose(text: &str) -> Option<Ver> {
    if let Ok(v) = semver::Version::parse(text) {
        return Some(Ver::Semver(v));
    }
    let end = text.find(['-', '+']).unwrap_or(text.len());
    let (core, rest) = text.split_at(end);
    let parts = core.split('.').count();
    if !(1..3).contains(&parts) || core.split('.').any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let padded = format!("{core}{}{rest}", ".0".repeat(3 - parts));
    semver::Version::parse(&padded).ok().map(Ver::Semver)
}

/// The lowest version a declared requirement allows (`^1.2.3`, `~=2.28`,
/// `>=2,<3`, `==1.4.*`), for a dependency known only by its manifest.
/// Returns it with its text.
pub fn requirement_floor(ecosystem: Ecosystem, requirement: &str) -> Option<(Ver, String)> {
    let requirement = requirement.trim();
    if ecosystem == Ecosystem::Pypi
        && let Ok(specs) = requirement.parse::<pep440_rs::VersionSpecifiers>()
    {
        use pep440_rs::Operator::*;
        return specs
            .iter()
            .filter(|s| {
                matches!(s.operator(), Equal | EqualStar | ExactEqual | TildeEqual | GreaterThanEqual | GreaterThan)
            })
            .map(|s| s.version().clone())
            .max()
            .map(|v| (Ver::Pep440(v.clone()), v.to_string()));
    }
    // The first comparator of the first alternative, operators stripped.
    let first = requirement.split("||").next()?.split([',', ' ']).find(|s| !s.is_empty())?;
    let bare = first.trim_start_matches(['^', '~', '>', '=', '<', '!', 'v']).trim_end_matches(".*");
    if first.starts_with('<') || first.starts_with("!=") {
        return None;
    }
    parse(ecosystem, bare).ok().map(|v| (v, bare.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(e: Ecosystem, s: &str) -> Ver {
        parse(e, s).unwrap_or_else(|e| panic!("{e}"))
    }

    fn ordered(e: Ecosystem, versions: &[&str]) {
        for w in versions.windows(2) {
            assert!(v(e, w[0]) < v(e, w[1]), "{:?}: {} < {}", e, w[0], w[1]);
        }
    }

    #[test]
    fn semver_for_crates_npm_and_go() {
        ordered(Ecosystem::Cargo, &["0.0.0-0", "0.1.37", "0.1.38-0", "0.1.38", "0.1.40", "1.38.0", "1.38.2"]);
        ordered(Ecosystem::Npm, &["2.1.1-0", "2.1.1", "2.2.0", "3.0.0-rc1", "3.0.0"]);
        // Go: the `v` prefix, pseudo-versions below their release, `+incompatible` ignored.
        ordered(Ecosystem::Go, &["v1.3.1-0.20190301021747-ccb9e902956d", "1.3.1", "v1.9.0", "v1.9.1", "1.64.0"]);
        assert_eq!(v(Ecosystem::Go, "v1.64.0"), v(Ecosystem::Go, "1.64.0"));
        assert_eq!(v(Ecosystem::Go, "v2.0.0+incompatible"), v(Ecosystem::Go, "2.0.0"));
        assert_eq!(v(Ecosystem::Go, "go1.22"), v(Ecosystem::Go, "1.22.0"));
        assert!(parse(Ecosystem::Cargo, "not-a-version").is_err());
    }

    #[test]
    fn pep440_for_pypi() {
        ordered(Ecosystem::Pypi, &["1.0.dev1", "1.0a1", "1.0b2", "1.0rc1", "1.0", "1.0.post1", "1.1", "2!0.1"]);
        assert_eq!(v(Ecosystem::Pypi, "2.31"), v(Ecosystem::Pypi, "2.31.0"));
    }

    #[test]
    fn no_rules_is_said_not_guessed() {
        assert_eq!(parse(Ecosystem::Nuget, "1.0.0").unwrap_err(), Unparsed::NoRules(Ecosystem::Nuget));
        assert_eq!(parse(Ecosystem::Other, "7.2.4").unwrap_err(), Unparsed::NoRules(Ecosystem::Other));
    }

    #[test]
    fn requirement_floors() {
        let floor = |e, r| requirement_floor(e, r).map(|(_, text)| text);
        assert_eq!(floor(Ecosystem::Pypi, "~=2.28.0").as_deref(), Some("2.28.0"));
        assert_eq!(floor(Ecosystem::Pypi, ">=2,<3").as_deref(), Some("2"));
        assert_eq!(floor(Ecosystem::Pypi, "==1.4.*").as_deref(), Some("1.4"));
        assert_eq!(floor(Ecosystem::Npm, "^4.17.19").as_deref(), Some("4.17.19"));
        assert_eq!(requirement_floor(Ecosystem::Cargo, "1.38").map(|(v, _)| v), Some(v(Ecosystem::Cargo, "1.38.0")));
        assert_eq!(floor(Ecosystem::Npm, "<2.0.0"), None);
    }
}
