//! Maven: `pom.xml`. A POM is a manifest whose versions are resolved ones
//! (Maven picks exactly what is written), once `${properties}` are filled in
//! from the POM's own `<properties>`, its `<version>` and its parent's
//! (`${project.version}`, `${project.parent.version}`). A dependency without
//! a version takes it from the POM's `<dependencyManagement>`; one managed
//! only by a parent POM or BOM outside the file is left out, its version
//! unknown here. Scopes: `test` is dev, `provided` and `system` are build,
//! `compile`, `runtime` and none are runtime. Plugins are not dependencies.
//! The POM's own `groupId:artifactId` (and its parent's) are the project.

use std::collections::BTreeMap;

use super::{FileDeps, Resolved};
use crate::model::DependencyScope;

/// The text of the child element `name` of `node`, trimmed.
fn child<'a>(node: roxmltree::Node<'a, 'a>, name: &str) -> Option<&'a str> {
    node.children().find(|c| c.has_tag_name(name)).and_then(|c| c.text()).map(str::trim).filter(|t| !t.is_empty())
}

fn element<'a>(node: roxmltree::Node<'a, 'a>, name: &str) -> Option<roxmltree::Node<'a, 'a>> {
    node.children().find(|c| c.is_element() && c.has_tag_name(name))
}

/// `${name}` filled from `properties`, a few rounds deep (properties may name
/// properties); `None` when one stays unknown.
fn fill(text: &str, properties: &BTreeMap<String, String>) -> Option<String> {
    let mut out = text.to_owned();
    for _ in 0..5 {
        let Some(start) = out.find("${") else { return Some(out) };
        let end = start + out[start..].find('}')?;
        let value = properties.get(&out[start + 2..end])?;
        out.replace_range(start..=end, value);
    }
    (!out.contains("${")).then_some(out)
}

pub(super) fn pom(text: &str) -> Result<FileDeps, String> {
    let doc = roxmltree::Document::parse(text).map_err(|e| format!("not a POM: {e}"))?;
    let project = doc.root_element();
    if !project.has_tag_name("project") {
        return Err(format!("not a POM: the root element is <{}>, not <project>", project.tag_name().name()));
    }
    let parent = element(project, "parent");
    let mut properties: BTreeMap<String, String> = BTreeMap::new();
    if let Some(props) = element(project, "properties") {
        for p in props.children().filter(|c| c.is_element()) {
            properties.insert(p.tag_name().name().to_owned(), p.text().unwrap_or_default().trim().to_owned());
        }
    }
    let group = child(project, "groupId").or_else(|| parent.and_then(|p| child(p, "groupId")));
    let version = child(project, "version").or_else(|| parent.and_then(|p| child(p, "version")));
    let mut out = FileDeps::default();
    if let (Some(g), Some(a)) = (group, child(project, "artifactId")) {
        out.own.insert(format!("{g}:{a}"));
        properties.insert("project.groupId".into(), g.to_owned());
        properties.insert("project.artifactId".into(), a.to_owned());
    }
    if let Some(v) = version {
        properties.insert("project.version".into(), v.to_owned());
        properties.insert("version".into(), v.to_owned());
    }
    if let Some(p) = parent
        && let (Some(g), Some(a)) = (child(p, "groupId"), child(p, "artifactId"))
    {
        if let Some(v) = child(p, "version") {
            properties.insert("project.parent.version".into(), v.to_owned());
        }
        // A parent in the same repository is the project; a published one
        // (spring-boot-starter-parent) is a dependency people upgrade.
        if child(p, "relativePath").is_some_and(|r| !r.is_empty()) {
            out.own.insert(format!("{g}:{a}"));
        } else if let Some(v) = child(p, "version").and_then(|v| fill(v, &properties)) {
            out.resolved.push(Resolved {
                name: format!("{g}:{a}"),
                version: v,
                direct: Some(true),
                scope: Some(DependencyScope::Build),
            });
        }
    }
    let managed: BTreeMap<String, String> = element(project, "dependencyManagement")
        .and_then(|m| element(m, "dependencies"))
        .into_iter()
        .flat_map(|deps| deps.children().filter(|c| c.has_tag_name("dependency")))
        .filter_map(|d| {
            let name = format!("{}:{}", child(d, "groupId")?, child(d, "artifactId")?);
            Some((fill(&name, &properties)?, fill(child(d, "version")?, &properties)?))
        })
        .collect();
    let Some(deps) = element(project, "dependencies") else { return Ok(out) };
    for d in deps.children().filter(|c| c.has_tag_name("dependency")) {
        let (Some(g), Some(a)) = (child(d, "groupId"), child(d, "artifactId")) else { continue };
        let Some(name) = fill(&format!("{g}:{a}"), &properties) else { continue };
        let version = match child(d, "version") {
            Some(v) => fill(v, &properties),
            None => managed.get(&name).cloned(),
        };
        let Some(version) = version else { continue };
        // `[1.2,2.0)`: a range, which a POM rarely uses; its lower bound stands.
        let version = version.trim_start_matches(['[', '(']).split(',').next().unwrap_or_default().trim().to_owned();
        if version.is_empty() {
            continue;
        }
        let scope = match child(d, "scope") {
            Some("test") => DependencyScope::Dev,
            Some("provided" | "system") => DependencyScope::Build,
            _ => DependencyScope::Runtime,
        };
        out.resolved.push(Resolved { name, version, direct: Some(true), scope: Some(scope) });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::pom;
    use crate::model::DependencyScope;

    #[test]
    fn properties_management_scopes_and_the_project_itself() {
        let text = r#"<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <parent><groupId>org.example</groupId><artifactId>parent</artifactId><version>2.1.0</version><relativePath>../pom.xml</relativePath></parent>
  <artifactId>orders</artifactId>
  <properties><jackson.version>2.17.1</jackson.version><junit.version>${junit.base}.2</junit.version><junit.base>5.10</junit.base></properties>
  <dependencyManagement><dependencies>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>2.0.13</version></dependency>
  </dependencies></dependencyManagement>
  <dependencies>
    <dependency><groupId>com.fasterxml.jackson.core</groupId><artifactId>jackson-databind</artifactId><version>${jackson.version}</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId></dependency>
    <dependency><groupId>org.junit.jupiter</groupId><artifactId>junit-jupiter</artifactId><version>${junit.version}</version><scope>test</scope></dependency>
    <dependency><groupId>jakarta.servlet</groupId><artifactId>jakarta.servlet-api</artifactId><version>6.0.0</version><scope>provided</scope></dependency>
    <dependency><groupId>org.example</groupId><artifactId>common</artifactId><version>${project.version}</version></dependency>
    <dependency><groupId>org.unknown</groupId><artifactId>managed-elsewhere</artifactId></dependency>
  </dependencies>
  <build><plugins><plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-surefire-plugin</artifactId><version>3.2.5</version></plugin></plugins></build>
</project>"#;
        let d = pom(text).unwrap();
        let got: Vec<(&str, &str, DependencyScope)> =
            d.resolved.iter().map(|r| (r.name.as_str(), r.version.as_str(), r.scope.unwrap())).collect();
        assert_eq!(
            got,
            [
                ("com.fasterxml.jackson.core:jackson-databind", "2.17.1", DependencyScope::Runtime),
                ("org.slf4j:slf4j-api", "2.0.13", DependencyScope::Runtime),
                ("org.junit.jupiter:junit-jupiter", "5.10.2", DependencyScope::Dev),
                ("jakarta.servlet:jakarta.servlet-api", "6.0.0", DependencyScope::Build),
                ("org.example:common", "2.1.0", DependencyScope::Runtime),
            ]
        );
        assert!(d.own.contains("org.example:orders") && d.own.contains("org.example:parent"));
        assert!(pom("<project><dependencies><dependency>").unwrap_err().starts_with("not a POM"));
        assert!(pom("<settings/>").unwrap_err().contains("root element is <settings>"));
    }
}
