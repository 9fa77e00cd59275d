//! A repository's dependencies read from its manifests and lock files, at
//! every path (monorepos: every directory that has one). Manifests say what
//! the project declares (and with which requirement); lock files say which
//! version is resolved and what else comes along. Formats: Cargo.toml +
//! Cargo.lock; package.json + package-lock.json (v1–v3), yarn.lock (classic
//! and Berry), pnpm-lock.yaml; pyproject.toml (PEP 621, PEP 735 groups,
//! Poetry) + poetry.lock, uv.lock; requirements*.txt; go.mod; Gemfile +
//! Gemfile.lock. Each file is read on its own: one that cannot be read is
//! skipped with its path and the parser's message, and the rest still count.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::Skipped;
use super::purl::normalize_pypi;
use crate::ids::{PackageName, Version};
use crate::model::{Dependency, DependencyScope, Ecosystem};

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
        Format::CargoToml => cargo_toml(text),
        Format::CargoLock => cargo_lock(text),
        Format::PackageJson => package_json(text),
        Format::PackageLock => package_lock(text),
        Format::YarnLock => yarn_lock(text),
        Format::PnpmLock => pnpm_lock(text),
        Format::Pyproject => pyproject(text),
        Format::PoetryLock => poetry_lock(text),
        Format::UvLock => uv_lock(text),
        Format::Requirements => Ok(requirements(text)),
        Format::GoMod => Ok(go_mod(text)),
        Format::Gemfile => Ok(gemfile(text)),
        Format::GemfileLock => Ok(gemfile_lock(text)),
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

// ---- Cargo ----

fn toml_doc(text: &str) -> Result<toml::Table, String> {
    text.parse::<toml::Table>().map_err(|e| e.to_string().lines().next().unwrap_or("invalid TOML").to_owned())
}

fn cargo_toml(text: &str) -> Result<FileDeps, String> {
    let doc = toml_doc(text)?;
    let mut out = FileDeps::default();
    if let Some(name) = doc.get("package").and_then(|p| p.get("name")).and_then(|n| n.as_str()) {
        out.own.insert(name.to_owned());
    }
    let mut tables: Vec<(&toml::Table, DependencyScope)> = Vec::new();
    for (key, scope) in [
        ("dependencies", DependencyScope::Runtime),
        ("dev-dependencies", DependencyScope::Dev),
        ("build-dependencies", DependencyScope::Build),
    ] {
        if let Some(t) = doc.get(key).and_then(|t| t.as_table()) {
            tables.push((t, scope));
        }
        for target in doc.get("target").and_then(|t| t.as_table()).into_iter().flat_map(|t| t.values()) {
            if let Some(t) = target.get(key).and_then(|t| t.as_table()) {
                tables.push((t, scope));
            }
        }
    }
    if let Some(t) = doc.get("workspace").and_then(|w| w.get("dependencies")).and_then(|t| t.as_table()) {
        tables.push((t, DependencyScope::Runtime));
    }
    for (table, scope) in tables {
        for (key, value) in table {
            let (name, requirement, local) = match value {
                toml::Value::String(req) => (key.clone(), req.clone(), false),
                toml::Value::Table(t) => {
                    let name = t.get("package").and_then(|p| p.as_str()).unwrap_or(key).to_owned();
                    let local = t.contains_key("path") && !t.contains_key("version");
                    (name, t.get("version").and_then(|v| v.as_str()).unwrap_or_default().to_owned(), local)
                }
                _ => continue,
            };
            if local {
                out.own.insert(name.clone());
            }
            out.declared.push(Declared { name, requirement, scope });
        }
    }
    Ok(out)
}

/// The `[[package]]` entries of a TOML lock file with their name and version.
fn toml_packages(doc: &toml::Table) -> impl Iterator<Item = (&toml::Value, &str, &str)> {
    doc.get("package").and_then(|p| p.as_array()).into_iter().flatten().filter_map(|p| {
        let name = p.get("name").and_then(|v| v.as_str())?;
        Some((p, name, p.get("version").and_then(|v| v.as_str())?))
    })
}

fn cargo_lock(text: &str) -> Result<FileDeps, String> {
    let doc = toml_doc(text)?;
    let mut out = FileDeps::default();
    for (p, name, version) in toml_packages(&doc) {
        if p.get("source").is_none() {
            // A workspace member or path crate: the project itself.
            out.own.insert(name.to_owned());
            continue;
        }
        out.resolved.push(Resolved { name: name.into(), version: version.into(), direct: None, scope: None });
    }
    Ok(out)
}

// ---- npm ----

fn json_doc(text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))
}

/// `npm:real-name@^1.2` (an alias) → (`real-name`, `^1.2`).
fn npm_alias(name: &str, requirement: &str) -> (String, String) {
    match requirement.strip_prefix("npm:") {
        Some(rest) => match rest.rfind('@').filter(|at| *at > 0) {
            Some(at) => (rest[..at].to_owned(), rest[at + 1..].to_owned()),
            None => (rest.to_owned(), String::new()),
        },
        None => (name.to_owned(), requirement.to_owned()),
    }
}

fn package_json(text: &str) -> Result<FileDeps, String> {
    let doc = json_doc(text)?;
    let mut out = FileDeps::default();
    if let Some(name) = doc["name"].as_str() {
        out.own.insert(name.to_owned());
    }
    for (key, scope) in [
        ("dependencies", DependencyScope::Runtime),
        ("optionalDependencies", DependencyScope::Runtime),
        ("devDependencies", DependencyScope::Dev),
    ] {
        for (name, req) in doc[key].as_object().into_iter().flatten() {
            let Some(req) = req.as_str() else { continue };
            if req.starts_with("workspace:") || req.starts_with("file:") || req.starts_with("link:") {
                out.own.insert(name.clone());
                continue;
            }
            let (name, requirement) = npm_alias(name, req);
            out.declared.push(Declared { name, requirement, scope });
        }
    }
    Ok(out)
}

fn package_lock(text: &str) -> Result<FileDeps, String> {
    let doc = json_doc(text)?;
    let mut out = FileDeps::default();
    if let Some(name) = doc["name"].as_str() {
        out.own.insert(name.to_owned());
    }
    if let Some(packages) = doc["packages"].as_object() {
        // v2/v3: one entry per installed path.
        for (path, p) in packages {
            if path.is_empty() {
                continue;
            }
            let Some(at) = path.rfind("node_modules/") else {
                // A workspace package's own folder.
                if let Some(n) = p["name"].as_str() {
                    out.own.insert(n.to_owned());
                }
                continue;
            };
            if p["link"].as_bool() == Some(true) {
                out.own.insert(path[at + "node_modules/".len()..].to_owned());
                continue;
            }
            let name = p["name"].as_str().unwrap_or(&path[at + "node_modules/".len()..]).to_owned();
            let Some(version) = p["version"].as_str() else { continue };
            let scope = (p["dev"].as_bool() == Some(true)).then_some(DependencyScope::Dev);
            out.resolved.push(Resolved { name, version: version.to_owned(), direct: None, scope });
        }
        return Ok(out);
    }
    // v1: nested `dependencies`.
    fn walk(deps: &Value, out: &mut FileDeps) {
        for (name, p) in deps.as_object().into_iter().flatten() {
            if let Some(version) = p["version"].as_str() {
                let (name, version) = npm_alias(name, version);
                if !version.starts_with("file:") && !version.is_empty() {
                    let scope = (p["dev"].as_bool() == Some(true)).then_some(DependencyScope::Dev);
                    out.resolved.push(Resolved { name, version, direct: None, scope });
                }
            }
            walk(&p["dependencies"], out);
        }
    }
    walk(&doc["dependencies"], &mut out);
    if out.resolved.is_empty() && !doc.is_object() {
        return Err("not a package-lock.json: expected an object with packages or dependencies".into());
    }
    Ok(out)
}

/// `@scope/name@^1.2` → `@scope/name`.
fn name_of_spec(spec: &str) -> &str {
    let spec = spec.trim().trim_matches('"');
    match spec[1.min(spec.len())..].find('@') {
        Some(at) => &spec[..at + 1],
        None => spec,
    }
}

fn yarn_lock(text: &str) -> Result<FileDeps, String> {
    if text.contains("__metadata:") {
        // Berry: YAML keyed by `name@npm:range, name@npm:range2`.
        let doc: Value = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
        let mut out = FileDeps::default();
        for (key, entry) in doc.as_object().into_iter().flatten() {
            if key == "__metadata" {
                continue;
            }
            let Some(version) = entry["version"].as_str().or_else(|| entry["version"].as_f64().map(|_| "")) else {
                continue;
            };
            let first = key.split(", ").next().unwrap_or(key);
            let name = name_of_spec(first).to_owned();
            let resolution = entry["resolution"].as_str().unwrap_or_default();
            if resolution.contains("@workspace:") || resolution.contains("@link:") || resolution.contains("@portal:") {
                out.own.insert(name);
                continue;
            }
            if !version.is_empty() {
                out.resolved.push(Resolved { name, version: version.to_owned(), direct: None, scope: None });
            }
        }
        return Ok(out);
    }
    // Classic: `"a@^1", a@~1.2:` then an indented `version "1.2.3"`.
    let mut out = FileDeps::default();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if !line.starts_with(' ') {
            let header = line.trim_end().trim_end_matches(':');
            let first = header.split(", ").next().unwrap_or(header).trim_matches('"');
            let (name, range) = match first[1.min(first.len())..].find('@') {
                Some(at) => (&first[..at + 1], &first[at + 2..]),
                None => (first, ""),
            };
            current = Some(npm_alias(name, range).0);
        } else if let Some(rest) = line.trim_start().strip_prefix("version ")
            && let Some(name) = current.take()
        {
            let version = rest.trim().trim_matches('"').to_owned();
            out.resolved.push(Resolved { name, version, direct: None, scope: None });
        }
    }
    if out.resolved.is_empty() && !text.trim().is_empty() && !text.contains("yarn lockfile") {
        return Err("not a yarn.lock: no entry with a version".into());
    }
    Ok(out)
}

fn pnpm_lock(text: &str) -> Result<FileDeps, String> {
    let doc: Value = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
    let mut out = FileDeps::default();
    let version_of = |v: &Value| -> Option<String> {
        let s = v["version"].as_str().or(v.as_str())?;
        // `1.2.3(peer@4.5.6)` → `1.2.3`; links are the project's own.
        (!s.starts_with("link:")).then(|| s.split('(').next().unwrap_or(s).to_owned())
    };
    // Direct: each importer's (workspace package's) dependencies.
    let mut direct: BTreeMap<(String, String), DependencyScope> = BTreeMap::new();
    let importers: Vec<&Value> = match doc["importers"].as_object() {
        Some(i) => i.values().collect(),
        None => vec![&doc],
    };
    for importer in importers {
        for (key, scope) in [
            ("dependencies", DependencyScope::Runtime),
            ("optionalDependencies", DependencyScope::Runtime),
            ("devDependencies", DependencyScope::Dev),
        ] {
            for (name, v) in importer[key].as_object().into_iter().flatten() {
                match version_of(v) {
                    Some(version) => {
                        direct.insert((name.clone(), version), scope);
                    }
                    None => {
                        out.own.insert(name.clone());
                    }
                }
            }
        }
    }
    for key in doc["packages"].as_object().into_iter().flatten().map(|(k, _)| k) {
        // v9 `name@1.2.3`, v6 `/name@1.2.3`, v5 `/name/1.2.3`; peers in parentheses.
        let k = key.trim_start_matches('/');
        let k = k.split('(').next().unwrap_or(k);
        let (name, version) = match k[1.min(k.len())..].rfind('@') {
            Some(at) => (&k[..at + 1], &k[at + 2..]),
            None => match k.rsplit_once('/') {
                Some((n, v)) => (n, v),
                None => continue,
            },
        };
        let scope = direct.get(&(name.to_owned(), version.to_owned())).copied();
        out.resolved.push(Resolved {
            name: name.to_owned(),
            version: version.to_owned(),
            direct: Some(scope.is_some()),
            scope,
        });
    }
    Ok(out)
}

// ---- Python ----

/// A PEP 508 requirement: `requests[socks]>=2.31,<3 ; python_version < "3.12"` → (`requests`, `>=2.31,<3`).
fn pep508(line: &str) -> Option<(String, String)> {
    let line = line.split(';').next()?.trim();
    let line = line.split(" @ ").next()?.trim();
    let end = line.find(|c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c))).unwrap_or(line.len());
    let name = &line[..end];
    if name.is_empty() {
        return None;
    }
    let mut rest = line[end..].trim();
    if rest.starts_with('[') {
        rest = rest.find(']').map_or("", |i| &rest[i + 1..]).trim();
    }
    let rest = rest.trim_start_matches('(').trim_end_matches(')').trim();
    Some((name.to_owned(), rest.replace(' ', "")))
}

fn pyproject(text: &str) -> Result<FileDeps, String> {
    let doc = toml_doc(text)?;
    let mut out = FileDeps::default();
    let project = doc.get("project");
    if let Some(name) = project.and_then(|p| p.get("name")).and_then(|n| n.as_str()) {
        out.own.insert(name.to_owned());
    }
    let strings = |v: Option<&toml::Value>| -> Vec<String> {
        v.and_then(|v| v.as_array()).into_iter().flatten().filter_map(|s| s.as_str().map(str::to_owned)).collect()
    };
    let push = |line: &str, scope: DependencyScope, out: &mut FileDeps| {
        if let Some((name, requirement)) = pep508(line) {
            out.declared.push(Declared { name, requirement, scope });
        }
    };
    for line in strings(project.and_then(|p| p.get("dependencies"))) {
        push(&line, DependencyScope::Runtime, &mut out);
    }
    for extra in project.and_then(|p| p.get("optional-dependencies")).and_then(|o| o.as_table()).into_iter().flatten() {
        for line in strings(Some(extra.1)) {
            push(&line, DependencyScope::Runtime, &mut out);
        }
    }
    for group in doc.get("dependency-groups").and_then(|g| g.as_table()).into_iter().flatten() {
        for line in strings(Some(group.1)) {
            push(&line, DependencyScope::Dev, &mut out);
        }
    }
    let poetry = doc.get("tool").and_then(|t| t.get("poetry"));
    if let Some(name) = poetry.and_then(|p| p.get("name")).and_then(|n| n.as_str()) {
        out.own.insert(name.to_owned());
    }
    let mut poetry_tables: Vec<(&toml::Table, DependencyScope)> = Vec::new();
    if let Some(t) = poetry.and_then(|p| p.get("dependencies")).and_then(|t| t.as_table()) {
        poetry_tables.push((t, DependencyScope::Runtime));
    }
    if let Some(t) = poetry.and_then(|p| p.get("dev-dependencies")).and_then(|t| t.as_table()) {
        poetry_tables.push((t, DependencyScope::Dev));
    }
    for (_, g) in poetry.and_then(|p| p.get("group")).and_then(|g| g.as_table()).into_iter().flatten() {
        if let Some(t) = g.get("dependencies").and_then(|t| t.as_table()) {
            poetry_tables.push((t, DependencyScope::Dev));
        }
    }
    for (table, scope) in poetry_tables {
        for (name, v) in table {
            if name == "python" {
                continue;
            }
            let requirement = match v {
                toml::Value::String(s) => s.clone(),
                toml::Value::Table(t) if t.contains_key("path") => {
                    out.own.insert(name.clone());
                    continue;
                }
                toml::Value::Table(t) => t.get("version").and_then(|v| v.as_str()).unwrap_or_default().to_owned(),
                _ => String::new(),
            };
            out.declared.push(Declared { name: name.clone(), requirement, scope });
        }
    }
    Ok(out)
}

fn poetry_lock(text: &str) -> Result<FileDeps, String> {
    let doc = toml_doc(text)?;
    let mut out = FileDeps::default();
    for (p, name, version) in toml_packages(&doc) {
        if p.get("source").and_then(|s| s.get("type")).and_then(|t| t.as_str()) == Some("directory") {
            out.own.insert(name.to_owned());
            continue;
        }
        let scope = (p.get("category").and_then(|c| c.as_str()) == Some("dev")).then_some(DependencyScope::Dev);
        out.resolved.push(Resolved { name: name.into(), version: version.into(), direct: None, scope });
    }
    Ok(out)
}

fn uv_lock(text: &str) -> Result<FileDeps, String> {
    let doc = toml_doc(text)?;
    let mut out = FileDeps::default();
    for p in doc.get("package").and_then(|p| p.as_array()).into_iter().flatten() {
        let Some(name) = p.get("name").and_then(|v| v.as_str()) else { continue };
        let source = p.get("source").and_then(|s| s.as_table());
        if source
            .is_some_and(|s| s.contains_key("editable") || s.contains_key("virtual") || s.contains_key("directory"))
        {
            out.own.insert(name.to_owned());
            continue;
        }
        let Some(version) = p.get("version").and_then(|v| v.as_str()) else { continue };
        out.resolved.push(Resolved { name: name.into(), version: version.into(), direct: None, scope: None });
    }
    Ok(out)
}

fn requirements(text: &str) -> FileDeps {
    let mut out = FileDeps::default();
    let mut joined = String::new();
    for raw in text.lines() {
        // Continuations join; comments go.
        let line = raw.split(" #").next().unwrap_or(raw);
        if let Some(part) = line.trim_end().strip_suffix('\\') {
            joined.push_str(part);
            continue;
        }
        joined.push_str(line);
        let full = std::mem::take(&mut joined);
        let l = full.trim();
        if l.is_empty() || l.starts_with('#') || l.starts_with('-') || l.contains("://") {
            continue;
        }
        if let Some((name, requirement)) = pep508(l) {
            let requirement = requirement.split("--").next().unwrap_or("").trim().to_owned();
            let pinned = requirement.strip_prefix("==").filter(|v| !v.contains(['*', ',']));
            match pinned {
                Some(v) => out.resolved.push(Resolved { name, version: v.to_owned(), direct: Some(true), scope: None }),
                None => out.declared.push(Declared { name, requirement, scope: DependencyScope::Runtime }),
            }
        }
    }
    out
}

// ---- Go ----

fn go_mod(text: &str) -> FileDeps {
    let mut out = FileDeps::default();
    let mut in_block = false;
    for raw in text.lines() {
        let (line, comment) = match raw.split_once("//") {
            Some((l, c)) => (l.trim(), c.trim()),
            None => (raw.trim(), ""),
        };
        if let Some(module) = line.strip_prefix("module ") {
            out.own.insert(module.trim().trim_matches('"').to_owned());
            continue;
        }
        let spec = if in_block {
            if line == ")" {
                in_block = false;
                continue;
            }
            line
        } else if line == "require (" {
            in_block = true;
            continue;
        } else if let Some(one) = line.strip_prefix("require ") {
            one.trim()
        } else {
            continue;
        };
        let mut parts = spec.split_whitespace();
        if let (Some(module), Some(version)) = (parts.next(), parts.next()) {
            let direct = comment != "indirect";
            out.resolved.push(Resolved {
                name: module.to_owned(),
                version: version.to_owned(),
                direct: Some(direct),
                scope: None,
            });
        }
    }
    out
}

// ---- Ruby ----

fn gemfile(text: &str) -> FileDeps {
    let mut out = FileDeps::default();
    let mut group_dev = 0usize;
    for raw in text.lines() {
        let line = raw.trim();
        if line.starts_with("group ") && line.ends_with(" do") {
            if line.contains(":development") || line.contains(":test") {
                group_dev += 1;
            }
            continue;
        }
        if line == "end" && group_dev > 0 {
            group_dev -= 1;
            continue;
        }
        let Some(rest) = line.strip_prefix("gem ") else { continue };
        let mut args = rest.split(',').map(|a| a.trim().trim_matches(|c| c == '"' || c == '\''));
        let Some(name) = args.next().filter(|n| !n.is_empty()) else { continue };
        let requirement: Vec<&str> = args
            .take_while(|a| a.starts_with(['~', '>', '<', '=']) || a.starts_with(|c: char| c.is_ascii_digit()))
            .collect();
        let scope = if group_dev > 0 { DependencyScope::Dev } else { DependencyScope::Runtime };
        out.declared.push(Declared { name: name.to_owned(), requirement: requirement.join(","), scope });
    }
    out
}

fn gemfile_lock(text: &str) -> FileDeps {
    let mut out = FileDeps::default();
    let mut section = "";
    let mut in_specs = false;
    let mut direct = BTreeSet::new();
    let mut specs = Vec::new();
    for line in text.lines() {
        if !line.starts_with(' ') && !line.is_empty() {
            section = line.trim();
            in_specs = false;
            continue;
        }
        if line.trim() == "specs:" {
            in_specs = true;
            continue;
        }
        if section == "DEPENDENCIES" {
            if let Some(name) = line.trim().split([' ', '!']).next().filter(|n| !n.is_empty()) {
                direct.insert(name.to_owned());
            }
            continue;
        }
        // `    name (1.2.3)` or `    name (1.2.3-x86_64-linux)`: four spaces, a gem; six, its requirement.
        if in_specs && line.starts_with("    ") && !line.starts_with("      ") {
            let t = line.trim();
            if let Some((name, v)) = t.split_once(" (") {
                let version = v.trim_end_matches(')').split('-').next().unwrap_or(v).to_owned();
                if section == "PATH" {
                    out.own.insert(name.to_owned());
                } else {
                    specs.push((name.to_owned(), version));
                }
            }
        }
    }
    for (name, version) in specs {
        let is_direct = direct.contains(&name);
        out.resolved.push(Resolved { name, version, direct: Some(is_direct), scope: None });
    }
    out
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

    #[test]
    fn pep508_requirements() {
        assert_eq!(
            pep508("requests[socks]>=2.31,<3 ; python_version < \"3.12\""),
            Some(("requests".into(), ">=2.31,<3".into()))
        );
        assert_eq!(pep508("Django (==4.2.1)"), Some(("Django".into(), "==4.2.1".into())));
        assert_eq!(pep508("pkg @ https://x/y.whl"), Some(("pkg".into(), String::new())));
    }

    #[test]
    fn names_in_yarn_and_pnpm_keys() {
        assert_eq!(name_of_spec("\"@babel/core@^7.0.0\""), "@babel/core");
        assert_eq!(name_of_spec("lodash@4.17.21"), "lodash");
        assert_eq!(npm_alias("my-react", "npm:react@^18.2.0"), ("react".into(), "^18.2.0".into()));
    }
}
