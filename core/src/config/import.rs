//! `[import]`: how what an organisation already has (SBOMs, and as they
//! land catalogs and repositories) is read into the graph.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::{ProjectType, TeamSlug};

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
        Ok(())
    }

    /// `default_type`, else `api` when declared, else the first declared type.
    pub fn default_type<'a>(&'a self, types: &[&'a ProjectType]) -> Option<&'a ProjectType> {
        self.default_type
            .as_ref()
            .or_else(|| types.iter().copied().find(|t| t.as_str() == "api"))
            .or_else(|| types.first().copied())
    }
}
