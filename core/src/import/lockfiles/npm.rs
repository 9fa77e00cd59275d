//! npm: `package.json` (aliases read as the real package), package-lock.json
//! v1–v3, yarn.lock (classic and Berry), pnpm-lock.yaml.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Declared, FileDeps, Resolved};
use crate::model::DependencyScope;

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

pub(super) fn package_json(text: &str) -> Result<FileDeps, String> {
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

pub(super) fn package_lock(text: &str) -> Result<FileDeps, String> {
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

pub(super) fn yarn_lock(text: &str) -> Result<FileDeps, String> {
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

pub(super) fn pnpm_lock(text: &str) -> Result<FileDeps, String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_yarn_and_pnpm_keys() {
        assert_eq!(name_of_spec("\"@babel/core@^7.0.0\""), "@babel/core");
        assert_eq!(name_of_spec("lodash@4.17.21"), "lodash");
        assert_eq!(npm_alias("my-react", "npm:react@^18.2.0"), ("react".into(), "^18.2.0".into()));
    }
}
