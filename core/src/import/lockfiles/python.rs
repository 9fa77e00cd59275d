//! Python: pyproject.toml (PEP 621, PEP 735 groups, Poetry), poetry.lock,
//! uv.lock and requirements files.

use super::{Declared, FileDeps, Resolved};
use super::{toml_doc, toml_packages};
use crate::model::DependencyScope;

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

pub(super) fn pyproject(text: &str) -> Result<FileDeps, String> {
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

pub(super) fn poetry_lock(text: &str) -> Result<FileDeps, String> {
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

pub(super) fn uv_lock(text: &str) -> Result<FileDeps, String> {
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

pub(super) fn requirements(text: &str) -> FileDeps {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep508_requirements() {
        assert_eq!(
            pep508("requests[socks]>=2.31,<3 ; python_version < \"3.12\""),
            Some(("requests".into(), ">=2.31,<3".into()))
        );
        assert_eq!(pep508("Django (==4.2.1)"), Some(("Django".into(), "==4.2.1".into())));
        assert_eq!(pep508("pkg @ https://x/y.whl"), Some(("pkg".into(), String::new())));
    }
}
