//! Package URLs (`pkg:npm/%40angular/core@16.2.0`), the identifiers SBOMs
//! give components, read into the ecosystem, package name and version the
//! graph keys dependencies by. Spec: github.com/package-url/purl-spec.

use crate::model::Ecosystem;

/// A parsed package URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Purl {
    /// The package type, lowercased (`npm`, `maven`, `golang`, `deb`…).
    pub kind: String,
    /// Namespace segments joined by `/` (npm scope with its `@`, Maven group, Go module path).
    pub namespace: Option<String>,
    pub name: String,
    pub version: Option<String>,
}

impl Purl {
    /// Parses `pkg:type/namespace/name@version?qualifiers#subpath`
    /// (qualifiers and subpath are read past, not kept).
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let rest = text
            .strip_prefix("pkg:")
            .or_else(|| text.strip_prefix("PKG:"))
            .ok_or_else(|| format!("{text:?} is not a package URL (it does not start with pkg:)"))?;
        let rest = rest.trim_start_matches('/');
        let rest = rest.split_once('#').map_or(rest, |(r, _)| r);
        let rest = rest.split_once('?').map_or(rest, |(r, _)| r);
        let (kind, path) = rest.split_once('/').ok_or_else(|| format!("{text:?} has no name after its type"))?;
        let kind = kind.to_ascii_lowercase();
        if kind.is_empty() || !kind.chars().all(|c| c.is_ascii_alphanumeric() || ".+-".contains(c)) {
            return Err(format!("{text:?} has an invalid type {kind:?}"));
        }
        // The version follows the last `@` of the path (an npm scope's `@` is
        // percent-encoded by the spec, but writers often leave it bare).
        let (path, version) = match path.rfind('@') {
            Some(at) if at > 0 && !path[..at].ends_with('/') => (&path[..at], Some(decode(&path[at + 1..])?)),
            _ => (path, None),
        };
        let mut segments: Vec<String> =
            path.split('/').filter(|s| !s.is_empty()).map(decode).collect::<Result<_, _>>()?;
        let name = segments.pop().filter(|n| !n.is_empty()).ok_or_else(|| format!("{text:?} has no name"))?;
        let namespace = (!segments.is_empty()).then(|| segments.join("/"));
        let version = version.filter(|v| !v.is_empty());
        Ok(Self { kind, namespace, name, version })
    }

    /// The ecosystem and package name Switchboard uses for it: npm
    /// `@scope/name`, Maven `group:artifact`, Go the module path, PyPI the
    /// normalized name (PEP 503); a type Switchboard does not know is
    /// [`Ecosystem::Other`] with the type kept as a prefix (`deb:debian/openssl`).
    pub fn package(&self) -> (Ecosystem, String) {
        let joined = |sep: &str| match &self.namespace {
            Some(ns) => format!("{ns}{sep}{}", self.name),
            None => self.name.clone(),
        };
        match self.kind.as_str() {
            "cargo" => (Ecosystem::Cargo, self.name.clone()),
            "npm" => (Ecosystem::Npm, joined("/")),
            "pypi" => (Ecosystem::Pypi, normalize_pypi(&self.name)),
            "golang" => (Ecosystem::Go, joined("/")),
            "maven" => (Ecosystem::Maven, joined(":")),
            "gem" => (Ecosystem::Gem, self.name.clone()),
            "nuget" => (Ecosystem::Nuget, self.name.clone()),
            "composer" => (Ecosystem::Composer, joined("/")),
            other => (Ecosystem::Other, format!("{other}:{}", joined("/"))),
        }
    }
}

/// The package URL of a dependency as the graph keys it (what `package`
/// reads back): `None` for an `other` package that carries no purl type.
pub fn of(ecosystem: Ecosystem, package: &str, version: &str) -> Option<String> {
    let path = |p: &str| p.split('/').map(encode).collect::<Vec<_>>().join("/");
    let (kind, path) = match ecosystem {
        Ecosystem::Cargo => ("cargo", encode(package)),
        Ecosystem::Npm => ("npm", path(package)),
        Ecosystem::Pypi => ("pypi", encode(&normalize_pypi(package))),
        Ecosystem::Go => ("golang", path(package)),
        Ecosystem::Maven => ("maven", path(&package.replacen(':', "/", 1))),
        Ecosystem::Gem => ("gem", encode(package)),
        Ecosystem::Nuget => ("nuget", encode(package)),
        Ecosystem::Composer => ("composer", path(package)),
        Ecosystem::Other => {
            let (kind, rest) = package.split_once(':')?;
            let known = !kind.is_empty() && kind.chars().all(|c| c.is_ascii_alphanumeric() || ".+-".contains(c));
            return known.then(|| format!("pkg:{}/{}@{}", kind.to_ascii_lowercase(), path(rest), encode(version)));
        }
    };
    Some(format!("pkg:{kind}/{path}@{}", encode(version)))
}

/// Percent-encoding of one purl component: all but unreserved characters.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// PEP 503: lowercase, runs of `-`, `_` and `.` become one `-`.
pub fn normalize_pypi(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut dash = false;
    for c in name.chars() {
        if "-_.".contains(c) {
            dash = true;
        } else {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// Percent-decoding of one purl component.
fn decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3).ok_or_else(|| format!("{s:?} ends inside a %-escape"))?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| format!("{s:?} has an invalid %-escape %{hex}"))?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("{s:?} decodes to invalid UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Purl {
        Purl::parse(s).unwrap()
    }

    /// What `of` writes reads back to the same package and version.
    #[test]
    fn written_purls_read_back() {
        for (eco, name, version, written) in [
            (Ecosystem::Npm, "@angular/core", "16.2.0", "pkg:npm/%40angular/core@16.2.0"),
            (Ecosystem::Npm, "axios", "1.13.6", "pkg:npm/axios@1.13.6"),
            (
                Ecosystem::Maven,
                "org.apache.logging.log4j:log4j-core",
                "2.14.1",
                "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
            ),
            (Ecosystem::Go, "github.com/redis/go-redis/v9", "v9.5.1", "pkg:golang/github.com/redis/go-redis/v9@v9.5.1"),
            (Ecosystem::Pypi, "urllib3", "1.26.16", "pkg:pypi/urllib3@1.26.16"),
            (Ecosystem::Cargo, "tokio", "1.40.0+build.1", "pkg:cargo/tokio@1.40.0%2Bbuild.1"),
            (Ecosystem::Composer, "symfony/http-kernel", "6.4.1", "pkg:composer/symfony/http-kernel@6.4.1"),
            (Ecosystem::Other, "deb:debian/openssl", "3.0.11-1", "pkg:deb/debian/openssl@3.0.11-1"),
        ] {
            let purl = of(eco, name, version).unwrap();
            assert_eq!(purl, written);
            let read = p(&purl);
            assert_eq!((read.package(), read.version.as_deref()), ((eco, name.to_owned()), Some(version)));
        }
        assert_eq!(of(Ecosystem::Other, "redis", "7.2"), None, "an `other` package without a type has no purl");
    }

    #[test]
    fn the_specs_examples() {
        let angular = p("pkg:npm/%40angular/animation@12.3.1");
        assert_eq!(angular.package(), (Ecosystem::Npm, "@angular/animation".into()));
        assert_eq!(angular.version.as_deref(), Some("12.3.1"));
        let bare_scope = p("pkg:npm/@babel/core@7.22.5");
        assert_eq!((bare_scope.package().1, bare_scope.version.as_deref()), ("@babel/core".into(), Some("7.22.5")));
        let maven = p("pkg:maven/org.apache.xmlgraphics/batik-anim@1.9.1?packaging=sources");
        assert_eq!(maven.package(), (Ecosystem::Maven, "org.apache.xmlgraphics:batik-anim".into()));
        let go = p("pkg:golang/google.golang.org/genproto#googleapis/api/annotations");
        assert_eq!(go.package(), (Ecosystem::Go, "google.golang.org/genproto".into()));
        assert_eq!(go.version, None);
        assert_eq!(
            p("pkg:pypi/Django_Rest.framework@3.0").package(),
            (Ecosystem::Pypi, "django-rest-framework".into())
        );
        assert_eq!(p("pkg:cargo/rand@0.7.2").package(), (Ecosystem::Cargo, "rand".into()));
        assert_eq!(
            p("pkg:gem/ruby-advisory-db-check@0.12.4").package(),
            (Ecosystem::Gem, "ruby-advisory-db-check".into())
        );
        assert_eq!(p("pkg:nuget/EnterpriseLibrary.Common@6.0.1304").package().0, Ecosystem::Nuget);
        assert_eq!(
            p("pkg:deb/debian/curl@7.50.3-1?arch=i386&distro=jessie").package(),
            (Ecosystem::Other, "deb:debian/curl".into())
        );
        assert_eq!(p("pkg:golang/github.com/gorilla/mux@v1.8.0").version.as_deref(), Some("v1.8.0"));
    }

    #[test]
    fn bad_ones_say_why() {
        assert!(Purl::parse("npm/left-pad@1").unwrap_err().contains("does not start with pkg:"));
        assert!(Purl::parse("pkg:npm").unwrap_err().contains("no name"));
        assert!(Purl::parse("pkg:npm/").unwrap_err().contains("no name"));
        assert!(Purl::parse("pkg:n pm/x@1").unwrap_err().contains("invalid type"));
        assert!(Purl::parse("pkg:npm/x%2@1").unwrap_err().contains("%-escape"));
    }
}
