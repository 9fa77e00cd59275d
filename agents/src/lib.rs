//! Switchboard's conversational brains. The intent router turns chat text
//! into an operation call with no LLM and no network; the MCP server offers
//! the operations to outside agents as tools. The LLM agent comes later.

pub mod mcp;
pub mod messages;
pub mod router;

pub use router::{Catalog, Routed, route};
