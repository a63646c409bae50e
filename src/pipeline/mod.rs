//! The image pipeline: the queue consumer runs each job through a backend into R2 and D1.

mod ai_errors;
mod backend;
pub mod consumer;
mod preview;
