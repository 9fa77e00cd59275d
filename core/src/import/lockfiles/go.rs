//! Go: go.mod, whose versions are the resolved ones (`// indirect` is transitive).

use super::{FileDeps, Resolved};

pub(super) fn go_mod(text: &str) -> FileDeps {
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
