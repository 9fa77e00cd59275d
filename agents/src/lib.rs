//! Switchboard's conversational brains. The intent router turns chat text
//! into an operation call with no LLM and no network; the MCP server offers
//! the operations to outside agents as tools; the LLM agent answers with a
//! model when one is configured.

pub mod eval;
pub mod llm;
pub mod mcp;
pub mod messages;
pub mod router;
pub mod tools;

pub use router::{Catalog, Routed, route};

/// Installs ring as the process's TLS crypto provider (the one this project
/// builds; reqwest's TLS needs one before its first client). Idempotent.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
