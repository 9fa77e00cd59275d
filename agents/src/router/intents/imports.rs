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

/// `checkout's` → `checkout`: a possessive names its owner.
fn owner_word(w: &str) -> String {
    w.strip_suffix("'s").or_else(|| w.strip_suffix("’s")).unwrap_or(w).to_owned()
}

/// `where did checkout's redis version come from?`, `where does redis in
/// checkout come from`, `which file does orders get lodash from`, `how does
/// orders use lodash?`, `is lodash a direct dependency of orders?`.
pub(super) fn dependency_source(m: &Msg<'_>) -> Option<Routed> {
    let words: Vec<String> = m.w.iter().map(|w| owner_word(w)).collect();
    let m = Msg { w: &words, raw: m.raw, cat: m.cat };
    let comes_from = m.has(&["come", "comes", "came", "coming"]) && m.has(&["from"]);
    let where_gets = m.first_is(&["where"]) && m.has(&["from"]) && m.has(&["get", "gets", "got"]);
    let which_file = m.has(&["which", "what"])
        && m.has(&["file", "files", "manifest", "lockfile", "lock", "sbom"])
        && !m.first_is(BRING);
    let how_uses = m.starts_with(&["how", "does"]) && m.has(&["use", "uses", "depend"]);
    let direct =
        m.first_is(&["is", "does"]) && m.has(&["direct", "directly", "transitive", "transitively", "indirect"]);
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
    let words: Vec<String> = m.w.iter().map(|w| owner_word(w).trim_end_matches('\'').to_owned()).collect();
    let m = Msg { w: &words, raw: m.raw, cat: m.cat };
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
    (catalog && m.has(BRING)).then(|| Routed::reply(messages::catalog_howto()))
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
