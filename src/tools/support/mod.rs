//! What the tools share that is not a tool.

pub mod start;
