//! A repository's dependencies read from its manifests and lock files, at
//! every path (monorepos: every directory that has one). Manifests say what
//! the project declares (and with which requirement); lock files say which
//! version is resolved and what else comes along. Formats: Cargo.toml +
//! Cargo.lock; package.json + package-lock.json (v1–v3), yarn.lock (classic
//! and Berry), pnpm-lock.yaml; pyproject.toml (PEP 621, PEP 735 groups,
//! Poetry) + poetry.lock, uv.lock; requirements*.txt; go.mod; Gemfile +
//! Gemfile.lock; pom.xml. Each file is read on its own: one that cannot be read is
//! skipped with its path and the parser's message, and the rest still count.

use std::collections::{BTreeMap, BTreeSet};

use super::Skipped;
use super::purl::normalize_pypi;
use crate::ids::{PackageName, Version};
use crate::model::{Dependency, DependencyScope, Ecosystem};

mod cargo;
mod go;
mod maven;
mod npm;
mod python;
mod ruby;

/// A file format this reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Format {
    CargoToml,
    CargoLock,
    PackageJson,
    PackageLock,
    YarnLock,
    PnpmLock,
    Pyproject,
    PoetryLock,
    UvLock,
    Requirements,
    GoMod,
    Gemfile,
    GemfileLock,
    Pom,
}

impl Format {
    /// The format of the file at `path`, by its name.
    pub fn of(path: &str) -> Option<Self> {
        let name = path.rsplit('/').next().unwrap_or(path);
        Some(match name {
            "Cargo.toml" => Self::CargoToml,
            "Cargo.lock" => Self::CargoLock,
            "package.json" => Self::PackageJson,
            "package-lock.json" | "npm-shrinkwrap.json" => Self::PackageLock,
            "yarn.lock" => Self::YarnLock,
            "pnpm-lock.yaml" => Self::PnpmLock,
            "pyproject.toml" => Self::Pyproject,
            "poetry.lock" => Self::PoetryLock,
            "uv.lock" => Self::UvLock,
            "go.mod" => Self::GoMod,
            "Gemfile" | "gems.rb" => Self::Gemfile,
            "Gemfile.lock" | "gems.locked" => Self::GemfileLock,
            "pom.xml" => Self::Pom,
            n if n.starts_with("requirements") && n.ends_with(".txt") => Self::Requirements,
            // `requirements/base.txt`, `requirements/extras/redis.txt`: pip's folder of files.
            n if n.ends_with(".txt") && path.split('/').rev().skip(1).any(|d| d == "requirements") => {
                Self::Requirements
            }
            _ => return None,
        })
    }

    pub fn ecosystem(self) -> Ecosystem {
        match self {
            Self::CargoToml | Self::CargoLock => Ecosystem::Cargo,
            Self::PackageJson | Self::PackageLock | Self::YarnLock | Self::PnpmLock => Ecosystem::Npm,
            Self::Pyproject | Self::PoetryLock | Self::UvLock | Self::Requirements => Ecosystem::Pypi,
            Self::GoMod => Ecosystem::Go,
            Self::Gemfile | Self::GemfileLock => Ecosystem::Gem,
            Self::Pom => Ecosystem::Maven,
        }
    }

    /// A lock file: it resolves versions for the manifests beside and below it.
    pub fn is_lock(self) -> bool {
        matches!(
            self,
            Self::CargoLock
                | Self::PackageLock
                | Self::YarnLock
                | Self::PnpmLock
                | Self::PoetryLock
                | Self::UvLock
                | Self::GemfileLock
        )
    }
}

/// Directories never read by default: vendored and generated trees.
pub const DEFAULT_IGNORE: &[&str] =
    &["node_modules/", "vendor/", "testdata/", "third_party/", ".git/", "target/", "dist/"];

/// Whether `path` lies under one of `ignore` (directory prefixes, matched at
/// any depth: `node_modules/` ignores `a/node_modules/x/package.json`).
pub fn ignored(path: &str, ignore: &[&str]) -> bool {
    ignore.iter().any(|dir| {
        let dir = dir.trim_start_matches('/');
        path.starts_with(dir) || path.contains(&format!("/{dir}"))
    })
}

/// A package a manifest declares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Declared {
    pub name: String,
    /// As written (`^1.2`, `>=2,<3`, `v1.9.1`); empty when none is given.
    pub requirement: String,
    pub scope: DependencyScope,
}

/// A package a lock file resolves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    pub name: String,
    pub version: String,
    /// What the lock itself says of being direct, when it says.
    pub direct: Option<bool>,
    pub scope: Option<DependencyScope>,
}

/// What one file says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileDeps {
    pub declared: Vec<Declared>,
    pub resolved: Vec<Resolved>,
    /// Packages that are the project itself (workspace members, the root).
    pub own: BTreeSet<String>,
}

/// Reads one file.
pub fn read(format: Format, text: &str) -> Result<FileDeps, String> {
    match format {
        Format::CargoToml => cargo::cargo_toml(text),
        Format::CargoLock => cargo::cargo_lock(text),
        Format::PackageJson => npm::package_json(text),
        Format::PackageLock => npm::package_lock(text),
        Format::YarnLock => npm::yarn_lock(text),
        Format::PnpmLock => npm::pnpm_lock(text),
        Format::Pyproject => python::pyproject(text),
        Format::PoetryLock => python::poetry_lock(text),
        Format::UvLock => python::uv_lock(text),
        Format::Requirements => Ok(python::requirements(text)),
        Format::GoMod => Ok(go::go_mod(text)),
        Format::Gemfile => Ok(ruby::gemfile(text)),
        Format::GemfileLock => Ok(ruby::gemfile_lock(text)),
        Format::Pom => maven::pom(text),
    }
}

/// A repository's dependency edges from its files (`(path, text)`), one per
/// package: direct beats transitive, then the shallowest path. Each edge's
/// `source` is the lock file (or, without one, the manifest) it was read from.
pub fn repository(files: &[(String, String)]) -> (Vec<Dependency>, Vec<Skipped>) {
    let mut skipped = Vec::new();
    let mut read_files: Vec<(String, Format, FileDeps)> = Vec::new();
    let mut sorted: Vec<&(String, String)> = files.iter().collect();
    sorted.sort_by_key(|(p, _)| (p.matches('/').count(), p.clone()));
    for (path, text) in sorted {
        let Some(format) = Format::of(path) else { continue };
        match read(format, text) {
            Ok(d) => read_files.push((path.clone(), format, d)),
            Err(e) => skipped.push(Skipped { what: path.clone(), reason: e }),
        }
    }
    let own: BTreeSet<(Ecosystem, String)> = read_files
        .iter()
        .flat_map(|(_, f, d)| d.own.iter().map(move |n| (f.ecosystem(), key_name(f.ecosystem(), n))))
        .collect();
    let dir = |p: &str| p.rsplit_once('/').map_or(String::new(), |(d, _)| d.to_owned());
    let under =
        |d: &str, lock_dir: &str| lock_dir.is_empty() || d == lock_dir || d.starts_with(&format!("{lock_dir}/"));
    let mut edges: BTreeMap<(Ecosystem, String), Dependency> = BTreeMap::new();
    let put = |d: Dependency, edges: &mut BTreeMap<(Ecosystem, String), Dependency>| {
        let k = (d.ecosystem, key_name(d.ecosystem, d.package.as_str()));
        match edges.get(&k) {
            Some(kept) if !kept.transitive || d.transitive => {}
            _ => {
                edges.insert(k, d);
            }
        }
    };
    // Manifests covered by each lock: same ecosystem, in its directory or
    // below, with no closer lock of that ecosystem.
    let locks: Vec<&(String, Format, FileDeps)> = read_files.iter().filter(|(_, f, _)| f.is_lock()).collect();
    let lock_for = |manifest: &str, eco: Ecosystem| -> Option<&String> {
        let d = dir(manifest);
        locks
            .iter()
            .filter(|(p, f, _)| f.ecosystem() == eco && under(&d, &dir(p)))
            .max_by_key(|(p, _, _)| dir(p).len())
            .map(|(p, _, _)| p)
    };
    for (lock_path, format, lock) in locks.iter().map(|(p, f, d)| (p, *f, d)) {
        let eco = format.ecosystem();
        // One declaration per package across the covered manifests: the first
        // requirement given (a workspace member's `workspace = true` gives
        // none), runtime when any manifest uses it at runtime.
        let mut declared: BTreeMap<String, Declared> = BTreeMap::new();
        let covered = read_files
            .iter()
            .filter(|(p, f, _)| !f.is_lock() && f.ecosystem() == eco && lock_for(p, eco) == Some(lock_path));
        for d in covered.flat_map(|(_, _, d)| d.declared.iter()) {
            let kept = declared.entry(key_name(eco, &d.name)).or_insert_with(|| d.clone());
            if kept.requirement.is_empty() {
                kept.requirement.clone_from(&d.requirement);
            }
            if d.scope == DependencyScope::Runtime {
                kept.scope = DependencyScope::Runtime;
            }
        }
        // A package locked at several versions: the one the declaration asks
        // for when there is one, else the highest.
        let mut chosen: BTreeMap<String, &Resolved> = BTreeMap::new();
        for r in &lock.resolved {
            let k = key_name(eco, &r.name);
            let wanted = declared.get(&k).map(|d| d.requirement.as_str()).unwrap_or_default();
            match chosen.get(&k) {
                Some(kept) if better(&kept.version, &r.version, wanted) => {}
                _ => {
                    chosen.insert(k, r);
                }
            }
        }
        for (k, r) in chosen {
            if own.contains(&(eco, k.clone())) {
                continue;
            }
            let decl = declared.get(&k);
            let direct = r.direct.unwrap_or(decl.is_some());
            let scope = r.scope.or(decl.map(|d| d.scope)).unwrap_or_default();
            let requirement = decl.map(|d| d.requirement.clone()).filter(|q| !q.is_empty() && q != &r.version);
            match edge(eco, &r.name, &r.version, !direct, scope, requirement, lock_path) {
                Ok(d) => put(d, &mut edges),
                Err(e) => skipped.push(Skipped { what: format!("{lock_path} ({})", r.name), reason: e }),
            }
        }
    }
    // Manifests without a lock: what they declare, the requirement as the version.
    for (path, format, file) in &read_files {
        let eco = format.ecosystem();
        if format.is_lock() || lock_for(path, eco).is_some() {
            continue;
        }
        for d in &file.declared {
            if d.requirement.is_empty() || own.contains(&(eco, key_name(eco, &d.name))) {
                continue;
            }
            let version = exact(&d.requirement).unwrap_or(&d.requirement);
            let requirement = (version != d.requirement).then(|| d.requirement.clone());
            match edge(eco, &d.name, version, false, d.scope, requirement, path) {
                Ok(e) => put(e, &mut edges),
                Err(e) => skipped.push(Skipped { what: format!("{path} ({})", d.name), reason: e }),
            }
        }
        for r in &file.resolved {
            if let Ok(e) =
                edge(eco, &r.name, &r.version, r.direct == Some(false), r.scope.unwrap_or_default(), None, path)
            {
                put(e, &mut edges);
            }
        }
    }
    (edges.into_values().collect(), skipped)
}

/// Whether `kept` is the better of two locked versions of one package for
/// `requirement`: the one whose numbers begin as the requirement's do, else
/// the higher.
fn better(kept: &str, other: &str, requirement: &str) -> bool {
    let wanted: String = requirement
        .trim_start_matches(|c: char| !c.is_ascii_digit())
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let wanted = wanted.trim_end_matches('.');
    if !wanted.is_empty() {
        let fits = |v: &str| {
            v.trim_start_matches('v') == wanted || v.trim_start_matches('v').starts_with(&format!("{wanted}."))
        };
        match (fits(kept), fits(other)) {
            (true, false) => return true,
            (false, true) => return false,
            _ => {}
        }
    }
    numbers(kept) >= numbers(other)
}

/// `1.10.2-rc1` → [1, 10, 2]: enough to order versions of one package.
fn numbers(v: &str) -> Vec<u64> {
    v.trim_start_matches('v').split(['.', '-', '+']).map_while(|p| p.parse().ok()).collect()
}

/// Names as each ecosystem compares them (PyPI normalizes).
fn key_name(eco: Ecosystem, name: &str) -> String {
    if eco == Ecosystem::Pypi { normalize_pypi(name) } else { name.to_owned() }
}

/// `==1.2.3`, `=1.2.3`, `1.2.3` (a bare version): the pinned version.
fn exact(requirement: &str) -> Option<&str> {
    let r = requirement.trim();
    let v = r.strip_prefix("==").or_else(|| r.strip_prefix('=')).unwrap_or(r).trim();
    let bare = v.chars().next().is_some_and(|c| c.is_ascii_digit() || c == 'v')
        && v.chars().all(|c| c.is_ascii_alphanumeric() || ".-+_".contains(c));
    bare.then_some(v)
}

fn edge(
    eco: Ecosystem,
    name: &str,
    version: &str,
    transitive: bool,
    scope: DependencyScope,
    requirement: Option<String>,
    source: &str,
) -> Result<Dependency, String> {
    let name = if eco == Ecosystem::Pypi { normalize_pypi(name) } else { name.to_owned() };
    let mut d = Dependency::new(
        eco,
        PackageName::new(name).map_err(|e| e.to_string())?,
        Version::new(version.trim()).map_err(|e| e.to_string())?,
    );
    d.transitive = transitive;
    d.scope = scope;
    d.requirement = requirement.filter(|r| r.len() <= 200);
    d.source = Some(source.to_owned());
    Ok(d)
}

pub(super) fn toml_doc(text: &str) -> Result<toml::Table, String> {
    text.parse::<toml::Table>().map_err(|e| e.to_string().lines().next().unwrap_or("invalid TOML").to_owned())
}

/// The `[[package]]` entries of a TOML lock file with their name and version.
pub(super) fn toml_packages(doc: &toml::Table) -> impl Iterator<Item = (&toml::Value, &str, &str)> {
    doc.get("package").and_then(|p| p.as_array()).into_iter().flatten().filter_map(|p| {
        let name = p.get("name").and_then(|v| v.as_str())?;
        Some((p, name, p.get("version").and_then(|v| v.as_str())?))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_name_and_ignored_trees() {
        assert_eq!(Format::of("services/api/Cargo.lock"), Some(Format::CargoLock));
        assert_eq!(Format::of("requirements-dev.txt"), Some(Format::Requirements));
        assert_eq!(Format::of("README.md"), None);
        assert!(ignored("web/node_modules/x/package.json", DEFAULT_IGNORE));
        assert!(ignored("vendor/github.com/x/go.mod", DEFAULT_IGNORE));
        assert!(!ignored("services/vendored-api/go.mod", DEFAULT_IGNORE));
    }
}
