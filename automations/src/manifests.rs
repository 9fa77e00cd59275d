//! Changing one dependency's version in a manifest, and nothing else: the
//! bytes around the version — formatting, comments, other entries, the
//! version's operator (`^`, `~`, `==`, `>=`…) — stay exactly as they were.
//! For the upgrade campaign: Cargo.toml, package.json, requirements*.txt,
//! pyproject.toml (PEP 621 and Poetry) and go.mod.

/// A manifest format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Manifest {
    Cargo,
    PackageJson,
    Requirements,
    Pyproject,
    GoMod,
}

impl Manifest {
    /// The format of the file at `path`, by its name.
    pub fn of(path: &str) -> Option<Self> {
        let name = path.rsplit('/').next().unwrap_or(path);
        match name {
            "Cargo.toml" => Some(Self::Cargo),
            "package.json" => Some(Self::PackageJson),
            "pyproject.toml" => Some(Self::Pyproject),
            "go.mod" => Some(Self::GoMod),
            n if n.starts_with("requirements") && n.ends_with(".txt") => Some(Self::Requirements),
            _ => None,
        }
    }
}

/// What changing a version did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Edit {
    /// The new text, with every matching declaration changed.
    Changed(String),
    /// The package is there, already at the target version.
    AlreadyAt,
    /// The package is there, but not at `from`.
    OtherVersion(String),
    /// The manifest does not declare the package.
    NotFound,
}

/// Sets `package` to `to` in `text`; with `from`, only where it is at `from`.
pub fn set_version(kind: Manifest, text: &str, package: &str, from: Option<&str>, to: &str) -> Edit {
    let spans = match kind {
        Manifest::Cargo => toml_spans(text, package, false),
        Manifest::Pyproject => {
            let mut s = toml_spans(text, package, true);
            s.extend(pep508_spans(text, package, true));
            s.sort();
            s
        }
        Manifest::PackageJson => json_spans(text, package),
        Manifest::Requirements => pep508_spans(text, package, false),
        Manifest::GoMod => gomod_spans(text, package),
    };
    if spans.is_empty() {
        return Edit::NotFound;
    }
    let target = strip_v(to);
    let replacement = if kind == Manifest::GoMod { go_version(to) } else { target.to_owned() };
    let mut out = String::with_capacity(text.len() + 16);
    let mut last = 0;
    let (mut changed, mut already, mut other) = (false, false, None);
    for (start, end) in spans {
        let current = &text[start..end];
        if strip_v(current) == target {
            already = true;
            continue;
        }
        if from.is_some_and(|f| strip_v(f) != strip_v(current)) {
            other = Some(current.to_owned());
            continue;
        }
        out.push_str(&text[last..start]);
        out.push_str(&replacement);
        last = end;
        changed = true;
    }
    if changed {
        out.push_str(&text[last..]);
        Edit::Changed(out)
    } else if already {
        Edit::AlreadyAt
    } else {
        Edit::OtherVersion(other.unwrap_or_default())
    }
}

fn strip_v(v: &str) -> &str {
    v.strip_prefix('v').unwrap_or(v)
}

fn go_version(v: &str) -> String {
    if v.starts_with('v') { v.to_owned() } else { format!("v{v}") }
}

/// PEP 503: names compare case-insensitively with `-`, `_`, `.` alike.
fn py_name(n: &str) -> String {
    n.trim().to_lowercase().replace(['_', '.'], "-")
}

/// The span of the version in a requirement value such as `^1.2.3`,
/// `=1.2`, `>=1.0, <2`: after the operator, up to the first character that
/// is not part of a version. Offsets are relative to `v`.
fn version_in(v: &str) -> Option<(usize, usize)> {
    let start = v.find(|c: char| c.is_ascii_digit())?;
    let end =
        v[start..].find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'))).map(|e| start + e);
    Some((start, end.unwrap_or(v.len())))
}

/// Byte offsets of the quoted string starting at `from` (after the quote).
fn quoted(text: &str, from: usize, quote: char) -> Option<(usize, usize)> {
    let end = text[from..].find(quote)? + from;
    Some((from, end))
}

/// TOML dependency tables: `name = "1.2.3"`, `name = { version = "1.2.3" }`
/// and `[….dependencies.name]` tables with `version = "…"`. `poetry` looks
/// in `[tool.poetry.*dependencies]` instead of Cargo's tables.
fn toml_spans(text: &str, package: &str, poetry: bool) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut section = String::new();
    let mut offset = 0;
    let same = |a: &str| if poetry { py_name(a) == py_name(package) } else { a == package };
    let is_deps = |s: &str| {
        let last = s.rsplit('.').next().unwrap_or(s);
        let deps = matches!(last, "dependencies" | "dev-dependencies" | "build-dependencies")
            || (poetry && last == "dependencies");
        if poetry { s.starts_with("tool.poetry") && deps } else { deps }
    };
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if let Some(name) = trimmed.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            section = name.trim_matches(['[', ']']).trim().to_owned();
        } else if !trimmed.starts_with('#')
            && let Some((key, _)) = line.split_once('=')
        {
            let key_t = key.trim().trim_matches('"');
            let value_start = offset + key.len() + 1;
            if is_deps(&section) && same(key_t) {
                let value_text = &text[value_start..offset + line.len()];
                if let Some(q) = value_text.find('"') {
                    if !value_text[..q].contains('{') {
                        // name = "1.2.3"
                        if let Some((s, e)) = quoted(text, value_start + q + 1, '"')
                            && let Some((vs, ve)) = version_in(&text[s..e])
                        {
                            spans.push((s + vs, s + ve));
                        }
                    } else if let Some(vpos) = value_text.find("version") {
                        // name = { version = "1.2.3", … }
                        let after = value_start + vpos;
                        if let Some(q) = text[after..offset + line.len()].find('"')
                            && let Some((s, e)) = quoted(text, after + q + 1, '"')
                            && let Some((vs, ve)) = version_in(&text[s..e])
                        {
                            spans.push((s + vs, s + ve));
                        }
                    }
                }
            } else if key_t == "version" {
                // [dependencies.name] … version = "1.2.3"
                let table = section.rsplit_once('.');
                if let Some((parent, name)) = table
                    && is_deps(parent)
                    && same(name.trim_matches('"'))
                {
                    let value_text = &text[value_start..offset + line.len()];
                    if let Some(q) = value_text.find('"')
                        && let Some((s, e)) = quoted(text, value_start + q + 1, '"')
                        && let Some((vs, ve)) = version_in(&text[s..e])
                    {
                        spans.push((s + vs, s + ve));
                    }
                }
            }
        }
        offset += line.len();
    }
    spans
}

/// package.json: `"name": "^1.2.3"` inside the dependency objects.
fn json_spans(text: &str, package: &str) -> Vec<(usize, usize)> {
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(text) else { return Vec::new() };
    let sections = ["dependencies", "devDependencies", "peerDependencies", "optionalDependencies"];
    if !sections.iter().any(|s| doc[s].get(package).is_some()) {
        return Vec::new();
    }
    let needle = format!("\"{package}\"");
    let mut spans = Vec::new();
    let mut from = 0;
    while let Some(pos) = text[from..].find(&needle) {
        let key_end = from + pos + needle.len();
        from = key_end;
        let rest = &text[key_end..];
        let Some(colon) = rest.find(|c: char| !c.is_whitespace()) else { break };
        if !rest[colon..].starts_with(':') {
            continue;
        }
        let after = key_end + colon + 1;
        let Some(q) = text[after..].find(|c: char| !c.is_whitespace()) else { break };
        if !text[after + q..].starts_with('"') {
            continue; // an object ("name": {…}) is not a version
        }
        if let Some((s, e)) = quoted(text, after + q + 1, '"')
            && let Some((vs, ve)) = version_in(&text[s..e])
        {
            spans.push((s + vs, s + ve));
        }
    }
    spans
}

/// PEP 508 requirements: `name==1.2.3`, `name[extra]>=1.0 ; marker  # note`,
/// one per line (requirements.txt) or as quoted strings (pyproject.toml).
fn pep508_spans(text: &str, package: &str, quoted_only: bool) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let wanted = py_name(package);
    let mut consider = |start: usize, req: &str| {
        let name_end =
            req.find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))).unwrap_or(req.len());
        if name_end == 0 || py_name(&req[..name_end]) != wanted {
            return;
        }
        let mut rest = name_end;
        if req[rest..].starts_with('[') {
            rest += req[rest..].find(']').map(|e| e + 1).unwrap_or(0);
        }
        let spec = &req[rest..];
        let op = spec.trim_start();
        if !(op.starts_with("==") || op.starts_with(">=") || op.starts_with("~=") || op.starts_with("<=")) {
            return;
        }
        if let Some((vs, ve)) = version_in(spec) {
            spans.push((start + rest + vs, start + rest + ve));
        }
    };
    if quoted_only {
        let mut from = 0;
        while let Some(q) = text[from..].find('"') {
            let s = from + q + 1;
            let Some(e) = text[s..].find('"').map(|e| s + e) else { break };
            consider(s, &text[s..e]);
            from = e + 1;
        }
    } else {
        let mut offset = 0;
        for line in text.split_inclusive('\n') {
            let lead = line.len() - line.trim_start().len();
            if !line.trim_start().starts_with(['#', '-']) {
                consider(offset + lead, &line[lead..]);
            }
            offset += line.len();
        }
    }
    spans
}

/// go.mod: `require module v1.2.3` and lines of `require ( … )` blocks.
fn gomod_spans(text: &str, module: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut in_block = false;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        let entry = if in_block {
            if trimmed.starts_with(')') {
                in_block = false;
                None
            } else {
                Some(trimmed)
            }
        } else if trimmed.starts_with("require (") || trimmed == "require(" {
            in_block = true;
            None
        } else {
            trimmed.strip_prefix("require ").map(str::trim)
        };
        if let Some(entry) = entry {
            let mut parts = entry.split_whitespace();
            if parts.next() == Some(module)
                && let Some(version) = parts.next()
                && let Some(pos) = line.find(&format!("{module} {version}")).map(|p| p + module.len() + 1)
            {
                spans.push((offset + pos, offset + pos + version.len()));
            }
        }
        offset += line.len();
    }
    spans
}
