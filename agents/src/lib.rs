//! Switchboard's conversational brains. The intent router turns chat text
//! into an operation call with no LLM and no network; later work adds the LLM
//! agent and the MCP server here.

pub mod messages;
pub mod router;

pub use router::{Catalog, Routed, route};
