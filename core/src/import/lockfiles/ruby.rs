//! Ruby: Gemfile (development and test groups are dev) and Gemfile.lock.

use std::collections::BTreeSet;

use super::{Declared, FileDeps, Resolved};
use crate::model::DependencyScope;

pub(super) fn gemfile(text: &str) -> FileDeps {
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

pub(super) fn gemfile_lock(text: &str) -> FileDeps {
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
