//! Cargo: `Cargo.toml` (every dependency table, renames, workspace
//! dependencies; path crates are the project's own) and `Cargo.lock`.

use super::{Declared, FileDeps, Resolved};
use super::{toml_doc, toml_packages};
use crate::model::DependencyScope;

pub(super) fn cargo_toml(text: &str) -> Result<FileDeps, String> {
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

pub(super) fn cargo_lock(text: &str) -> Result<FileDeps, String> {
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
