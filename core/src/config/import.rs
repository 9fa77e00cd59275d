//! `[import]`: how what an organisation already has (SBOMs, and as they
//! land catalogs and repositories) is read into the graph.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImportConfig {
    /// Largest SBOM accepted by `POST /api/v1/projects/{project}/sbom` and
    /// `switchboard import sbom`, in bytes (SBOMs of real projects run to
    /// several MB; the rest of the API keeps `server.body_limit_bytes`).
    /// Default: `33554432` (32 MiB).
    pub sbom_max_bytes: usize,
}

impl Default for ImportConfig {
    fn default() -> Self {
        Self { sbom_max_bytes: 32 * 1024 * 1024 }
    }
}

impl ImportConfig {
    pub(super) fn validate(&self) -> Result<(), (String, String)> {
        if !(1024..=1024 * 1024 * 1024).contains(&self.sbom_max_bytes) {
            return Err(("import.sbom_max_bytes".into(), "must be between 1024 and 1073741824 (1 GiB)".into()));
        }
        Ok(())
    }
}
