//! Reading what organisations already have — SBOMs (and, as they land,
//! catalogs and repositories) — into the graph's terms. Pure functions: the
//! operations in `service` write what they return.

pub mod backstage;
pub mod lockfiles;
pub mod purl;
pub mod sbom;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Something an import left out, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Skipped {
    /// Where it was (`components[12] (left-pad)`, a file path).
    pub what: String,
    pub reason: String,
}
