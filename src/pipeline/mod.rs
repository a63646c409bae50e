//! The image pipeline: the queue consumer runs each job through a backend into R2 and D1.

pub mod consumer;
mod models;
mod preview;
mod storage;
