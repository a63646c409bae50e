//! MCP wire types, independent of transport and of what the server does: JSON-RPC messages,
//! MCP types, and the protocol revisions this server speaks.

pub mod jsonrpc;
pub mod mcp;
pub mod version;
