//! Starting an edit: new images from input images and a prompt, for edit_image and the
//! OpenAI-compatible `/v1/images/edits` and `/v1/images/variations`. The model (named, or picked
//! by the inputs), the shape of the inputs and the controls are checked before any input is read
//! or stored; then the inputs are loaded, and the jobs recorded and queued with them.

use super::inputs::{check_mask_size, check_shape, load, start_jobs_with_inputs, uploaded, Loaded};
use super::jobs::{plan_jobs, random_seed};
use super::{Context, ServiceError};
use crate::catalog::EDIT_STRENGTH_DEFAULT;
use crate::jobs::{InputRole, JobStore};
use crate::models::{edit_default, edit_strength_default_applies, Controls, ImageModel};

/// Where an input image comes from.
pub enum Source<'a> {
    /// A reference as edit_image takes it: a job id, one of this server's image URLs, a data URL.
    Reference(&'a str),
    /// The bytes of an uploaded file.
    Upload(Vec<u8>),
}

/// One input image and the argument it was given in (`images[0]`, `image`, `mask`), for messages.
pub struct Input<'a> {
    pub argument: String,
    pub source: Source<'a>,
}

/// What an edit asks for.
pub struct Edit<'a> {
    pub prompt: &'a str,
    /// None: the inputs decide ([`edit_default`]).
    pub model: Option<ImageModel>,
    pub count: usize,
    /// Without a strength, a model that repaints a whole image gets EDIT_STRENGTH_DEFAULT.
    pub controls: Controls,
    pub images: Vec<Input<'a>>,
    pub mask: Option<Input<'a>>,
}

/// Checks the edit, loads its inputs, stores what they need, and records and queues its jobs;
/// returns the job ids. Nothing is stored when a check fails.
pub async fn start_edit(ctx: &impl Context, edit: Edit<'_>) -> Result<Vec<String>, ServiceError> {
    let Edit {
        prompt,
        model,
        count,
        mut controls,
        images,
        mask,
    } = edit;
    let model = model.unwrap_or_else(|| edit_default(images.len(), mask.is_some()));
    let spec = model.spec();
    check_shape(spec, images.len(), mask.is_some())?;
    if controls.strength.is_none() && edit_strength_default_applies(spec) {
        controls.strength = Some(EDIT_STRENGTH_DEFAULT);
    }
    // Controls are checked before any input is read or stored.
    let jobs = plan_jobs(model, &controls, count, None, random_seed)?;
    let store = ctx.job_store()?;
    let mut loaded = Vec::with_capacity(images.len() + 1);
    for input in images {
        loaded.push(read(ctx, &store, input, InputRole::Image).await?);
    }
    if let Some(input) = mask {
        let mask = read(ctx, &store, input, InputRole::Mask).await?;
        check_mask_size(&loaded[0], &mask)?;
        loaded.push(mask);
    }
    start_jobs_with_inputs(ctx, prompt, crate::models::Maker::Model(model), jobs, loaded).await
}

async fn read(ctx: &impl Context, store: &JobStore, input: Input<'_>, role: InputRole) -> Result<Loaded, ServiceError> {
    match input.source {
        Source::Reference(text) => load(ctx, store, input.argument, text, role).await,
        Source::Upload(bytes) => uploaded(input.argument, role, bytes),
    }
}
