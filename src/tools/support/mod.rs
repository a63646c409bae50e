//! What the tools share that is not a tool: argument declarations and parsing (with the job_id/job_ids pair), results and the
//! tool error, paging, image previews, progress notifications, the generation fields of results,
//! and starting jobs from an edit and waiting for them.

pub mod args;
pub mod generation;
pub mod job_ids;
pub mod output;
pub mod paging;
pub mod previews;
pub mod progress;
pub mod start;
