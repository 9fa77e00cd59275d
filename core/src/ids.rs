//! Validated identifier newtypes. Every identifier that crosses a crate boundary is
//! one of these, so a bad slug is rejected once, at the edge, with a message that
//! says what is expected.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

/// Why a string is not a valid identifier; the text is shown to people as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} {value:?}: {expected}")]
pub struct IdError {
    pub what: &'static str,
    pub value: String,
    pub expected: &'static str,
}

/// Bytes as lowercase hexadecimal, as digests, commit ids and trace ids are written.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    s
}

fn is_slug(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
}

/// Any name made a project or team slug: lowercase ASCII letters and digits,
/// every run of anything else one `-`, at most 63 characters (`Orders_Service`
/// → `orders-service`). Empty when nothing is left.
pub fn slugify(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').chars().take(63).collect::<String>().trim_end_matches('-').to_owned()
}

macro_rules! string_id {
    ($(#[$meta:meta])* $name:ident, $what:literal, $expected:literal, $pattern:literal, $check:expr) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Validates `value` and wraps it.
            pub fn new(value: impl Into<String>) -> Result<Self, IdError> {
                let value = value.into();
                let check: fn(&str) -> bool = $check;
                if check(&value) {
                    Ok(Self(value))
                } else {
                    Err(IdError { what: $what, value, expected: $expected })
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// What a valid value looks like, for error messages and docs.
            pub const EXPECTED: &'static str = $expected;
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, IdError> {
                Self::new(value)
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(value: &str) -> Result<Self, IdError> {
                Self::new(value)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({
                    "type": "string",
                    "pattern": $pattern,
                    "description": $expected,
                })
            }
            fn inline_schema() -> bool {
                true
            }
        }
    };
}

string_id!(
    /// A project's slug: `payments-api`.
    ProjectSlug,
    "project slug",
    "lowercase letters, digits and single dashes, 1-63 characters, e.g. payments-api",
    "^[a-z0-9]+(-[a-z0-9]+)*$",
    |s| is_slug(s, 63)
);
string_id!(
    /// A team's slug: `payments`.
    TeamSlug,
    "team slug",
    "lowercase letters, digits and single dashes, 1-63 characters, e.g. payments",
    "^[a-z0-9]+(-[a-z0-9]+)*$",
    |s| is_slug(s, 63)
);
string_id!(
    /// An environment name: `staging`.
    EnvName,
    "environment name",
    "lowercase letters, digits and single dashes, 1-32 characters, e.g. staging",
    "^[a-z0-9]+(-[a-z0-9]+)*$",
    |s| is_slug(s, 32)
);
string_id!(
    /// A project type: `api`, `consumer`.
    ProjectType,
    "project type",
    "lowercase letters, digits and single dashes, 1-32 characters, e.g. api",
    "^[a-z0-9]+(-[a-z0-9]+)*$",
    |s| is_slug(s, 32)
);
string_id!(
    /// A fact key: `tier`, `oncall.rotation`.
    FactKey,
    "fact key",
    "lowercase letters, digits, '_', '.' and '-', starting with a letter, 1-64 characters, e.g. tier",
    "^[a-z][a-z0-9_.-]{0,63}$",
    |s| !s.is_empty()
        && s.len() <= 64
        && s.as_bytes()[0].is_ascii_lowercase()
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b))
);
string_id!(
    /// A package name as its ecosystem spells it: `serde`, `@types/node`,
    /// `github.com/gin-gonic/gin`.
    PackageName,
    "package name",
    "a package name without spaces, 1-214 characters, e.g. serde or @types/node",
    "^[^\\s]{1,214}$",
    |s| !s.is_empty() && s.len() <= 214 && !s.chars().any(|c| c.is_whitespace() || c.is_control())
);
string_id!(
    /// A package version as written in a manifest: `1.2.3`, `^4.17`, `v1.9.1`.
    Version,
    "version",
    "a version without spaces, 1-64 characters, e.g. 1.2.3",
    "^[^\\s]{1,64}$",
    |s| !s.is_empty() && s.len() <= 64 && !s.chars().any(|c| c.is_whitespace() || c.is_control())
);
string_id!(
    /// A user name: `alice`, `alice@example.com`.
    UserName,
    "user name",
    "letters, digits, '.', '_', '@' and '-', 1-64 characters, e.g. alice",
    "^[A-Za-z0-9._@-]{1,64}$",
    |s| !s.is_empty()
        && s.len() <= 64
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._@-".contains(&b))
);
string_id!(
    /// A git commit id (7-40 hex digits).
    CommitSha,
    "commit sha",
    "7 to 40 hexadecimal digits",
    "^[0-9a-f]{7,40}$",
    |s| (7..=40).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
);
string_id!(
    /// A template name for new projects: `consumer`.
    TemplateName,
    "template name",
    "lowercase letters, digits and single dashes, 1-63 characters, e.g. consumer",
    "^[a-z0-9]+(-[a-z0-9]+)*$",
    |s| is_slug(s, 63)
);

/// The id of an automation run (UUIDv7, so ids sort by creation time).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct RunId(pub uuid::Uuid);

impl RunId {
    pub fn new() -> Self {
        Self(uuid::Uuid::now_v7())
    }

    /// The first run id written in `text` in its hyphenated form, as a
    /// dispatched workflow's title (`run-name`) or a deployment's payload
    /// carries it: the correlation id that ties an outside outcome to its run.
    pub fn find_in(text: &str) -> Option<Self> {
        const SHAPE: &[u8; 36] = b"xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
        let bytes = text.as_bytes();
        (0..=bytes.len().checked_sub(SHAPE.len())?).find_map(|at| {
            let window = &bytes[at..at + SHAPE.len()];
            let shaped = window.iter().zip(SHAPE).all(|(b, s)| match s {
                b'-' => *b == b'-',
                _ => b.is_ascii_hexdigit(),
            });
            let bounded = |b: Option<&u8>| b.is_none_or(|b| !b.is_ascii_alphanumeric());
            let alone = bounded(at.checked_sub(1).and_then(|i| bytes.get(i))) && bounded(bytes.get(at + SHAPE.len()));
            (shaped && alone).then(|| std::str::from_utf8(window).ok()?.parse().ok()).flatten()
        })
    }
}

impl Default for RunId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RunId({})", self.0)
    }
}

impl std::str::FromStr for RunId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        uuid::Uuid::parse_str(s).map(Self).map_err(|_| IdError {
            what: "run id",
            value: s.to_owned(),
            expected: "a run id such as 01930f3e-5c1a-7b6e-9d2f-0a1b2c3d4e5f",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_id_is_found_in_text_that_carries_it() {
        let id: RunId = "01930f3e-5c1a-7b6e-9d2f-0a1b2c3d4e5f".parse().unwrap();
        assert_eq!(RunId::find_in("deploy staging (01930f3e-5c1a-7b6e-9d2f-0a1b2c3d4e5f)"), Some(id));
        assert_eq!(RunId::find_in("01930f3e-5c1a-7b6e-9d2f-0a1b2c3d4e5f"), Some(id));
        assert_eq!(RunId::find_in("Déploiement — 01930f3e-5c1a-7b6e-9d2f-0a1b2c3d4e5f ✓"), Some(id));
        assert_eq!(RunId::find_in("x01930f3e-5c1a-7b6e-9d2f-0a1b2c3d4e5f"), None, "part of a longer word");
        assert_eq!(RunId::find_in("01930f3e-5c1a-7b6e-9d2f-0a1b2c3d4e5"), None);
        assert_eq!(RunId::find_in("Deploy to production"), None);
        assert_eq!(RunId::find_in(""), None);
    }

    #[test]
    fn slugs_accept_and_reject() {
        assert!(ProjectSlug::new("payments-api").is_ok());
        assert!(ProjectSlug::new("a").is_ok());
        for bad in ["", "Payments", "pay ments", "-x", "x-", "a--b", "é", &"a".repeat(64)] {
            let err = ProjectSlug::new(bad).unwrap_err();
            assert!(err.to_string().contains("lowercase letters"), "{err}");
        }
    }

    #[test]
    fn package_names_cover_ecosystems() {
        for ok in ["serde", "@types/node", "github.com/gin-gonic/gin", "Django", "zope.interface"] {
            assert!(PackageName::new(ok).is_ok(), "{ok}");
        }
        assert!(PackageName::new("left pad").is_err());
        assert!(PackageName::new("").is_err());
    }

    #[test]
    fn serde_validates() {
        let err = serde_json::from_str::<ProjectSlug>("\"Bad Slug\"").unwrap_err();
        assert!(err.to_string().contains("invalid project slug"), "{err}");
        let ok: FactKey = serde_json::from_str("\"oncall.rotation\"").unwrap();
        assert_eq!(ok.as_str(), "oncall.rotation");
    }
}
