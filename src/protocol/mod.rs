//! The MCP protocol, independent of transport: JSON-RPC messages, MCP types, versions, dispatch.

pub mod dispatch;
pub mod jsonrpc;
pub mod mcp;
pub mod modern;
pub mod progress;
pub mod version;
