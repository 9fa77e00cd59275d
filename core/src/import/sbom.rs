//! SBOMs read into dependency edges: CycloneDX JSON (spec 1.2–1.6) and SPDX
//! 2.x JSON (2.3 is what GitHub's dependency graph exports; its `{"sbom": …}`
//! wrapper is taken off). Components are keyed by their package URL; one
//! without a purl but with a name and version is kept as an `other`
//! package. The SBOM's own subject (CycloneDX `metadata.component`, SPDX
//! described packages) is not a dependency of itself. When the document has
//! a dependency graph, what the subject depends on directly is direct and
//! the rest transitive; without one, every component counts as direct.
//! A component that cannot be read is skipped with the reason, and the rest
//! still import.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_json::Value;

use super::Skipped;
use super::purl::Purl;
use crate::ids::{PackageName, Version};
use crate::model::{Dependency, DependencyScope, Ecosystem};

/// What one SBOM holds, ready to be a project's SBOM dependencies.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedSbom {
    /// `CycloneDX 1.5`, `SPDX-2.3`.
    pub format: String,
    /// What the SBOM describes (its own name), when it says.
    pub subject: Option<String>,
    /// Components (packages) listed, the subject excluded.
    pub components: usize,
    /// One edge per package, sorted; each with `source` set.
    pub dependencies: Vec<Dependency>,
    pub skipped: Vec<Skipped>,
}

/// Reads `doc` (a parsed JSON document); `source` is what each edge's
/// `source` becomes (`sbom` or `sbom:NAME`). An error says why the whole
/// document is not an SBOM this reads.
pub fn parse(doc: &Value, source: &str) -> Result<ParsedSbom, String> {
    let doc = match doc.get("sbom") {
        Some(inner) if inner.is_object() => inner,
        _ => doc,
    };
    let Some(object) = doc.as_object() else {
        return Err("an SBOM is a JSON object (CycloneDX or SPDX JSON; XML and tag-value are not read)".into());
    };
    if object.get("bomFormat").and_then(Value::as_str).is_some_and(|f| f.eq_ignore_ascii_case("cyclonedx")) {
        cyclonedx(doc, source)
    } else if object.contains_key("spdxVersion") {
        spdx(doc, source)
    } else {
        Err("not an SBOM: expected a CycloneDX document (\"bomFormat\": \"CycloneDX\") or an SPDX one (\"spdxVersion\")"
            .into())
    }
}

/// Edges gathered so far, one per package: direct beats transitive, then the first seen.
#[derive(Default)]
struct Edges {
    by_key: BTreeMap<(Ecosystem, String), Dependency>,
    skipped: Vec<Skipped>,
}

impl Edges {
    fn skip(&mut self, what: impl Into<String>, reason: impl Into<String>) {
        self.skipped.push(Skipped { what: what.into(), reason: reason.into() });
    }

    /// Adds the component at `what` (for messages) named by `purl` or
    /// `fallback_name` at `version`.
    fn add(
        &mut self,
        what: &str,
        purl: Option<&str>,
        fallback_name: &str,
        version: Option<&str>,
        edge: (bool, DependencyScope, &str),
    ) {
        let (transitive, scope, source) = edge;
        let (ecosystem, package, purl_version) = match purl.filter(|p| !p.trim().is_empty()) {
            Some(text) => match Purl::parse(text) {
                Ok(p) => {
                    let (ecosystem, package) = p.package();
                    (ecosystem, package, p.version)
                }
                Err(e) => return self.skip(what, e),
            },
            None if fallback_name.trim().is_empty() => return self.skip(what, "it has neither a purl nor a name"),
            None => (Ecosystem::Other, fallback_name.trim().to_owned(), None),
        };
        let Some(version) = purl_version.or_else(|| version.map(str::to_owned)).filter(|v| !v.trim().is_empty()) else {
            return self.skip(format!("{what} ({package})"), "it has no version");
        };
        let package = match PackageName::new(package.clone()) {
            Ok(p) => p,
            Err(e) => return self.skip(format!("{what} ({package})"), e.to_string()),
        };
        let version = match Version::new(version.trim()) {
            Ok(v) => v,
            Err(e) => return self.skip(format!("{what} ({package})"), e.to_string()),
        };
        let mut d = Dependency::new(ecosystem, package, version);
        d.transitive = transitive;
        d.scope = scope;
        d.source = Some(source.to_owned());
        let key = (d.ecosystem, d.package.as_str().to_owned());
        match self.by_key.get(&key) {
            None => {
                self.by_key.insert(key, d);
            }
            Some(kept) if kept.transitive && !d.transitive => {
                let reason = format!("{} is listed again at {}; the direct one is kept", kept.package, kept.version);
                self.skipped.push(Skipped { what: format!("{what} ({} {})", kept.package, kept.version), reason });
                self.by_key.insert(key, d);
            }
            Some(kept) if kept.version != d.version => {
                let reason = format!("{} is listed again at {}; {} is kept", d.package, d.version, kept.version);
                self.skip(format!("{what} ({} {})", d.package, d.version), reason);
            }
            Some(_) => {}
        }
    }

    fn finish(self, format: String, subject: Option<String>, components: usize) -> ParsedSbom {
        ParsedSbom {
            format,
            subject,
            components,
            dependencies: self.by_key.into_values().collect(),
            skipped: self.skipped,
        }
    }
}

// ---- CycloneDX ----

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Cdx {
    spec_version: Option<String>,
    #[serde(default)]
    metadata: Option<CdxMetadata>,
    #[serde(default)]
    components: Vec<Value>,
    #[serde(default)]
    dependencies: Vec<CdxDependency>,
}

#[derive(Deserialize)]
struct CdxMetadata {
    component: Option<CdxComponent>,
}

#[derive(Deserialize)]
struct CdxComponent {
    #[serde(rename = "bom-ref")]
    bom_ref: Option<String>,
    #[serde(default)]
    name: String,
    group: Option<String>,
    version: Option<String>,
    purl: Option<String>,
    scope: Option<String>,
    #[serde(default)]
    components: Vec<Value>,
    #[serde(default)]
    properties: Vec<CdxProperty>,
}

#[derive(Deserialize)]
struct CdxProperty {
    name: String,
    #[serde(default)]
    value: Option<String>,
}

#[derive(Deserialize)]
struct CdxDependency {
    #[serde(rename = "ref")]
    reference: String,
    #[serde(default, rename = "dependsOn")]
    depends_on: Vec<String>,
}

fn cyclonedx(doc: &Value, source: &str) -> Result<ParsedSbom, String> {
    let bom: Cdx =
        serde_json::from_value(doc.clone()).map_err(|e| format!("not a CycloneDX document this reads: {e}"))?;
    let version = bom.spec_version.unwrap_or_else(|| "1.x".into());
    let root = bom.metadata.and_then(|m| m.component);
    let subject = root.as_ref().map(|c| c.name.clone()).filter(|n| !n.is_empty());
    let root_ref = root.as_ref().and_then(|c| c.bom_ref.clone());
    let direct: Option<BTreeSet<String>> = root_ref.as_ref().and_then(|r| {
        bom.dependencies.iter().find(|d| &d.reference == r).map(|d| d.depends_on.iter().cloned().collect())
    });
    let mut edges = Edges::default();
    let mut components = 0;
    // Components nest (a component's own `components`): walk them all.
    let mut stack: Vec<(String, Value)> =
        bom.components.into_iter().enumerate().rev().map(|(i, v)| (format!("components[{i}]"), v)).collect();
    while let Some((what, value)) = stack.pop() {
        let component: CdxComponent = match serde_json::from_value(value) {
            Ok(c) => c,
            Err(e) => {
                edges.skip(what, format!("not a component this reads: {e}"));
                continue;
            }
        };
        for (i, inner) in component.components.iter().enumerate().rev() {
            stack.push((format!("{what}.components[{i}]"), inner.clone()));
        }
        if root_ref.is_some() && component.bom_ref == root_ref {
            continue;
        }
        components += 1;
        let transitive = match (&direct, &component.bom_ref) {
            (Some(direct), Some(r)) => !direct.contains(r),
            _ => false,
        };
        let development = component
            .properties
            .iter()
            .any(|p| p.name.ends_with(":development") && p.value.as_deref().is_some_and(|v| v == "true"));
        let scope = if development || component.scope.as_deref() == Some("excluded") {
            DependencyScope::Dev
        } else {
            DependencyScope::Runtime
        };
        let name = match &component.group {
            Some(g) if !g.is_empty() => format!("{g}/{}", component.name),
            _ => component.name.clone(),
        };
        edges.add(&what, component.purl.as_deref(), &name, component.version.as_deref(), (transitive, scope, source));
    }
    Ok(edges.finish(format!("CycloneDX {version}"), subject, components))
}

// ---- SPDX ----

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Spdx {
    spdx_version: String,
    name: Option<String>,
    #[serde(default)]
    document_describes: Vec<String>,
    #[serde(default)]
    packages: Vec<Value>,
    #[serde(default)]
    relationships: Vec<SpdxRelationship>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpdxPackage {
    #[serde(rename = "SPDXID")]
    id: String,
    #[serde(default)]
    name: String,
    version_info: Option<String>,
    #[serde(default)]
    external_refs: Vec<SpdxRef>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpdxRef {
    #[serde(default)]
    reference_type: String,
    #[serde(default)]
    reference_locator: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpdxRelationship {
    spdx_element_id: String,
    relationship_type: String,
    related_spdx_element: String,
}

fn spdx(doc: &Value, source: &str) -> Result<ParsedSbom, String> {
    let sbom: Spdx =
        serde_json::from_value(doc.clone()).map_err(|e| format!("not an SPDX document this reads: {e}"))?;
    if !sbom.spdx_version.starts_with("SPDX-2.") {
        return Err(format!("{} is not read; SPDX 2.x JSON (2.3 recommended) is", sbom.spdx_version));
    }
    let mut roots: BTreeSet<String> = sbom.document_describes.iter().cloned().collect();
    let mut depends: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut scopes: BTreeMap<String, DependencyScope> = BTreeMap::new();
    for r in &sbom.relationships {
        let (from, to) = (r.spdx_element_id.clone(), r.related_spdx_element.clone());
        match r.relationship_type.as_str() {
            "DESCRIBES" => {
                roots.insert(to);
            }
            "DESCRIBED_BY" => {
                roots.insert(from);
            }
            "DEPENDS_ON" => {
                depends.entry(from).or_default().insert(to);
            }
            "DEPENDENCY_OF" | "RUNTIME_DEPENDENCY_OF" | "OPTIONAL_DEPENDENCY_OF" | "PROVIDED_DEPENDENCY_OF" => {
                depends.entry(to).or_default().insert(from);
            }
            "DEV_DEPENDENCY_OF" | "TEST_DEPENDENCY_OF" => {
                scopes.insert(from.clone(), DependencyScope::Dev);
                depends.entry(to).or_default().insert(from);
            }
            "BUILD_DEPENDENCY_OF" => {
                scopes.insert(from.clone(), DependencyScope::Build);
                depends.entry(to).or_default().insert(from);
            }
            _ => {}
        }
    }
    roots.remove("SPDXRef-DOCUMENT");
    let direct: Option<BTreeSet<&String>> =
        (!depends.is_empty()).then(|| roots.iter().filter_map(|r| depends.get(r)).flatten().collect());
    let mut edges = Edges::default();
    let mut components = 0;
    let mut subject = None;
    for (i, value) in sbom.packages.into_iter().enumerate() {
        let what = format!("packages[{i}]");
        let package: SpdxPackage = match serde_json::from_value(value) {
            Ok(p) => p,
            Err(e) => {
                edges.skip(what, format!("not a package this reads: {e}"));
                continue;
            }
        };
        if roots.contains(&package.id) {
            subject.get_or_insert(package.name.clone());
            continue;
        }
        components += 1;
        let purl = package
            .external_refs
            .iter()
            .find(|r| r.reference_type.eq_ignore_ascii_case("purl"))
            .map(|r| r.reference_locator.as_str());
        let transitive = direct.as_ref().is_some_and(|d| !d.contains(&package.id));
        let scope = scopes.get(&package.id).copied().unwrap_or_default();
        edges.add(&what, purl, &package.name, package.version_info.as_deref(), (transitive, scope, source));
    }
    let subject = subject.or(sbom.name);
    Ok(edges.finish(sbom.spdx_version, subject, components))
}
