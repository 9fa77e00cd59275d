//! What people say about where dependencies come from and about bringing
//! in SBOMs: "where did checkout's redis version come from?", "how does
//! orders use lodash?", "import an SBOM for orders" (answered with how: a
//! document is not typed into chat).

use serde_json::json;
use switchboard_core::ops::OpKind;

use super::{Msg, Routed, Strictness};
use crate::messages;

const SBOM: &[&str] = &["sbom", "sboms", "cyclonedx", "spdx", "bom"];
const BRING: &[&str] = &["import", "upload", "load", "add", "send", "read", "ingest", "attach", "submit"];

/// `where did checkout's redis version come from?`, `where does redis in
/// checkout come from`, `which file does orders get lodash from`, `how does
/// orders use lodash?`, `is lodash a direct dependency of orders?`.
pub(super) fn dependency_source(m: &Msg<'_>) -> Option<Routed> {
    let comes_from = m.has(&["come", "comes", "came", "coming"]) && m.has(&["from"]);
    let where_gets = m.first_is(&["where"]) && m.has(&["from"]) && m.has(&["get", "gets", "got"]);
    let which_file = m.has(&["which", "what"])
        && m.has(&["file", "files", "manifest", "lockfile", "lock", "sbom"])
        && !m.first_is(BRING);
    let how_uses = m.starts_with(&["how", "does"]) && m.has(&["use", "uses", "depend"]);
    let direct = m.first_is(&["is", "does"])
        && m.has(&["direct", "directly", "transitive", "transitively", "indirect"])
        && m.w.iter().any(|w| m.cat.projects.contains(w));
    if !(comes_from || where_gets || which_file || how_uses || direct) {
        return None;
    }
    let project = match m.project(0, Strictness::Forgiving) {
        Ok(p) => p,
        Err(reply) => return Some(reply),
    };
    let package = match m.package(0, Strictness::Forgiving) {
        Ok(p) => p,
        Err(reply) => return Some(reply),
    };
    match (project, package) {
        (Some((_, project)), Some((_, package))) => {
            Some(Routed::call(OpKind::GetDependency, json!({"project": project, "package": package})))
        }
        (Some((_, project)), None) => Some(Routed::reply(messages::ask(
            "Which package?",
            &format!("where did {project}'s redis version come from?"),
        ))),
        (None, Some((_, package))) => Some(Routed::reply(messages::ask(
            "In which project?",
            &format!("where did checkout's {package} version come from?"),
        ))),
        (None, None) => None,
    }
}

/// `read orders' lock files`, `import the manifests of checkout`.
pub(super) fn manifests_howto(m: &Msg<'_>) -> Option<Routed> {
    let files =
        m.has(&["lock", "lockfile", "lockfiles", "manifest", "manifests", "cargo.lock", "package-lock.json", "go.mod"]);
    if !(files && m.has(BRING)) || m.has(&["which", "what", "where"]) {
        return None;
    }
    let project = match m.project(0, Strictness::Forgiving) {
        Ok(Some((_, p))) => p,
        Ok(None) => "PROJECT".to_owned(),
        Err(reply) => return Some(reply),
    };
    Some(Routed::reply(messages::manifests_howto(&project)))
}

/// `import our backstage catalog`, `load catalog-info.yaml`.
pub(super) fn catalog_howto(m: &Msg<'_>) -> Option<Routed> {
    let catalog =
        m.has(&["backstage", "catalog-info.yaml", "catalog-info"]) || (m.has(&["catalog"]) && m.has(&["service"]));
    // `add a catalog entry for an existing service: slug …` registers one project.
    let one = m.has(&["existing", "slug", "entry"]);
    (catalog && m.has(BRING) && !one).then(|| Routed::reply(messages::catalog_howto()))
}

/// `import an SBOM for orders`, `upload the cyclonedx file of checkout`.
pub(super) fn sbom_howto(m: &Msg<'_>) -> Option<Routed> {
    if !(m.has(SBOM) && m.has(BRING)) {
        return None;
    }
    let project = match m.project(0, Strictness::Forgiving) {
        Ok(Some((_, p))) => p,
        Ok(None) => "PROJECT".to_owned(),
        Err(reply) => return Some(reply),
    };
    Some(Routed::reply(messages::sbom_howto(&project)))
}

const GITHUB: &[&str] = &["github", "gh", "repositories", "repos", "repository", "org", "organisation", "organization"];
const IMPORTING: &[&str] = &[
    "import",
    "imports",
    "imported",
    "importing",
    "re-import",
    "reimport",
    "onboard",
    "sync",
    "ingest",
    "pull",
    "bring",
    "load",
    "add",
];

/// `import our GitHub org`, `import every repository from github`, `import
/// the repositories of installation 42`: the App's repositories as projects.
/// Questions about an import (`how did the github import go?`, `which repos
/// were skipped by the import?`) list what was imported.
pub(super) fn github_import(m: &Msg<'_>) -> Option<Routed> {
    let github = m.has(GITHUB) || m.raw.iter().any(|w| w.to_ascii_lowercase().contains("github"));
    let package = m.w.iter().any(|w| m.cat.packages.contains(w));
    if !github || !m.has(IMPORTING) || m.has(SBOM) || m.has(&["backstage", "catalog"]) || package {
        return None;
    }
    let asking = m.first_is(&["how", "what", "which", "show", "list", "did", "was", "were", "any", "status"])
        || m.has(&["skipped", "failed", "went", "go", "status", "report", "result", "results", "created", "updated"])
        || m.raw.last().is_some_and(|w| w.ends_with('?'));
    if asking {
        let mut args = json!({});
        for (words, outcome) in [
            (&["skipped", "failed", "missing", "left"][..], "skipped"),
            (&["created", "create", "new", "made"][..], "created"),
            (&["updated", "changed"][..], "updated"),
        ] {
            if m.has(words) {
                args["outcome"] = json!(outcome);
                break;
            }
        }
        return Some(Routed::call(OpKind::ListImports, args));
    }
    let mut args = json!({});
    if let Some(i) = m.w.iter().position(|w| w == "installation")
        && let Some(id) = m.w.get(i + 1).and_then(|w| w.trim_start_matches('#').parse::<u64>().ok())
    {
        args["installation"] = json!(id);
    }
    Some(Routed::call(OpKind::ImportGithub, args))
}
