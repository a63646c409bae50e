//! The end of generate_variations: start the jobs with their inputs (through
//! `services::inputs`) and wait for them.

use crate::jobs::NewJob;
use crate::models::Maker;
use crate::services::inputs::{start_jobs_with_inputs, Loaded};
use crate::tools::wait_for_completion::wait_for_jobs;
use crate::tools::{ToolContext, ToolResult};

/// Stores what the inputs need, records and queues the jobs with their inputs listed, and
/// waits for them.
pub async fn start_with_inputs(
    ctx: &ToolContext,
    prompt: &str,
    model: impl Into<Maker>,
    jobs: Vec<NewJob>,
    loaded: Vec<Loaded>,
    preview: bool,
) -> ToolResult {
    let ids = start_jobs_with_inputs(ctx, prompt, model.into(), jobs, loaded).await?;
    wait_for_jobs(ctx, ids, preview).await
}
