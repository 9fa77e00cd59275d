//! `[import]`: how what an organisation already has (SBOMs, and as they
//! land catalogs and repositories) is read into the graph.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::{FactDecl, ProjectTypeConfig};
use crate::ids::{FactKey, ProjectType, TeamSlug};
use crate::model::FactType;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImportConfig {
    /// Largest SBOM accepted by `POST /api/v1/projects/{project}/sbom` and
    /// `switchboard import sbom`, in bytes (SBOMs of real projects run to
    /// several MB; the rest of the API keeps `server.body_limit_bytes`).
    /// Default: `33554432` (32 MiB).
    pub sbom_max_bytes: usize,
    /// The team of an imported project whose owner is not a team (a user,
    /// none). Default: `unowned` (created when `create_teams` is on).
    pub default_team: TeamSlug,
    /// The type of an imported project whose catalog type is not in
    /// `catalog_types` (or maps to a type not declared); one of
    /// `project_types`. Default: `api` when declared, else the first
    /// declared type.
    pub default_type: Option<ProjectType>,
    /// Backstage `spec.type` → project type. Default: `service` → api,
    /// `website` → frontend, `library` → library (a mapping to a type not in
    /// `project_types` falls back to `default_type`, and the report says so).
    pub catalog_types: BTreeMap<String, ProjectType>,
    /// Teams a catalog names (as owners or Groups) are created when missing;
    /// off, their projects go to `default_team` (which must then exist) and
    /// the report says why. Default: `true`.
    pub create_teams: bool,
    /// Forks are imported as projects too. Default: `false` (a fork is
    /// skipped, and the report says so).
    pub forks: bool,
    /// An archived repository: `archive` (its project is made or kept, and
    /// archived) or `skip`. Default: `archive`.
    pub archived: ArchivedRepositories,
    /// GitHub's primary language (as GitHub names it, any case) → project
    /// type, for a repository whose catalog and topics name no type; e.g.
    /// `{ TypeScript = "frontend" }`. Default: none.
    pub language_types: BTreeMap<String, ProjectType>,
    /// Facts read from each repository, among `repo_language`,
    /// `repo_default_branch`, `repo_last_commit` (date of the last push),
    /// `repo_license` (SPDX id), `repo_has_codeowners`, `repo_has_ci`
    /// (a GitHub Actions workflow), `repo_has_readme`. Each is declared for
    /// every project type with weight 0 unless a type declares it itself, so
    /// it enters no score until an operator weights it. Default: all seven.
    pub repository_facts: Vec<FactKey>,
    /// Where a repository's dependencies come from: `files` (its manifests
    /// and lock files) or `github_sbom` (GitHub's dependency graph SBOM,
    /// which needs the dependency graph enabled). Default: `files`.
    pub dependency_source: DependencySource,
    /// Directories whose manifests are not read, at any depth. Default:
    /// `node_modules/`, `vendor/`, `testdata/`, `third_party/`, `.git/`,
    /// `target/`, `dist/`.
    pub ignore: Vec<String>,
}

/// What an archived repository becomes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArchivedRepositories {
    #[default]
    Archive,
    Skip,
}

/// Where a repository's dependencies are read from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DependencySource {
    #[default]
    Files,
    GithubSbom,
}

/// The facts a repository import can record: key, type, description.
pub const REPOSITORY_FACTS: &[(&str, RepoFactType, &str)] = &[
    ("repo_language", RepoFactType::Text, "Primary language, as GitHub detects it."),
    ("repo_default_branch", RepoFactType::Text, "The repository's default branch."),
    ("repo_last_commit", RepoFactType::Date, "Day of the last push to the repository."),
    ("repo_license", RepoFactType::Text, "License, as an SPDX id."),
    ("repo_has_codeowners", RepoFactType::Bool, "The repository has a CODEOWNERS file."),
    ("repo_has_ci", RepoFactType::Bool, "The repository has a GitHub Actions workflow."),
    ("repo_has_readme", RepoFactType::Bool, "The repository has a README at its root."),
];

/// The type of a repository fact.
#[derive(Clone, Copy, Debug)]
pub enum RepoFactType {
    Text,
    Date,
    Bool,
}

impl Default for ImportConfig {
    fn default() -> Self {
        let t = |s: &str| ProjectType::new(s).expect("a valid default type");
        Self {
            sbom_max_bytes: 32 * 1024 * 1024,
            default_team: TeamSlug::new("unowned").expect("a valid default team"),
            default_type: None,
            catalog_types: [("service", t("api")), ("website", t("frontend")), ("library", t("library"))]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
            create_teams: true,
            forks: false,
            archived: ArchivedRepositories::Archive,
            language_types: BTreeMap::new(),
            repository_facts: REPOSITORY_FACTS
                .iter()
                .map(|(k, _, _)| FactKey::new(*k).expect("a valid repository fact key"))
                .collect(),
            dependency_source: DependencySource::Files,
            ignore: crate::import::lockfiles::DEFAULT_IGNORE.iter().map(|d| (*d).to_owned()).collect(),
        }
    }
}

impl ImportConfig {
    pub(super) fn validate(&self, types: &[&ProjectType]) -> Result<(), (String, String)> {
        if !(1024..=1024 * 1024 * 1024).contains(&self.sbom_max_bytes) {
            return Err(("import.sbom_max_bytes".into(), "must be between 1024 and 1073741824 (1 GiB)".into()));
        }
        if let Some(t) = &self.default_type
            && !types.contains(&t)
        {
            let list = types.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ");
            return Err(("import.default_type".into(), format!("{t} is not a project type; declared: {list}")));
        }
        for (language, t) in &self.language_types {
            if !types.contains(&t) {
                let list = types.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ");
                return Err((
                    format!("import.language_types.{language}"),
                    format!("{t} is not a project type; declared: {list}"),
                ));
            }
        }
        if let Some(k) =
            self.repository_facts.iter().find(|k| !REPOSITORY_FACTS.iter().any(|(f, _, _)| k.as_str() == *f))
        {
            let known = REPOSITORY_FACTS.iter().map(|(f, _, _)| *f).collect::<Vec<_>>().join(", ");
            return Err(("import.repository_facts".into(), format!("{k} is not a repository fact; known: {known}")));
        }
        if let Some(d) = self.ignore.iter().find(|d| d.trim_matches('/').is_empty()) {
            return Err((
                "import.ignore".into(),
                format!("{d:?} would ignore every file; name a directory such as vendor/"),
            ));
        }
        Ok(())
    }

    /// Declares each recorded repository fact, with weight 0, on every
    /// project type that does not declare it itself.
    pub(super) fn declare_repository_facts(&self, types: &mut BTreeMap<ProjectType, ProjectTypeConfig>) {
        for (key, ty, description) in REPOSITORY_FACTS {
            let Ok(key) = FactKey::new(*key) else { continue };
            if !self.repository_facts.contains(&key) {
                continue;
            }
            let fact_type = match ty {
                RepoFactType::Text => FactType::String,
                RepoFactType::Date => FactType::Date,
                RepoFactType::Bool => FactType::Bool,
            };
            for t in types.values_mut() {
                t.facts.entry(key.clone()).or_insert_with(|| FactDecl {
                    fact_type: fact_type.clone(),
                    weight: 0,
                    description: (*description).to_owned(),
                });
            }
        }
    }

    /// The directories not read, as `lockfiles::ignored` takes them.
    pub fn ignore_dirs(&self) -> Vec<&str> {
        self.ignore.iter().map(String::as_str).collect()
    }

    /// `default_type`, else `api` when declared, else the first declared type.
    pub fn default_type<'a>(&'a self, types: &[&'a ProjectType]) -> Option<&'a ProjectType> {
        self.default_type
            .as_ref()
            .or_else(|| types.iter().copied().find(|t| t.as_str() == "api"))
            .or_else(|| types.first().copied())
    }
}
