//! The image endpoints: each request starts its jobs through the services the MCP tools use
//! (generations as generate_image_and_wait, edits and variations as edit_image), waits for them
//! within the same bound, and answers with OpenAI's images response.

use serde_json::{json, Value};

use super::error::ApiError;
use super::request::{EditRequest, GenerationRequest, Given, Image, ResponseFormat, VariationRequest};
use crate::catalog::VARIATION_STRENGTH_DEFAULT;
use crate::jobs::JobRow;
use crate::models::{Control, Controls};
use crate::services::edits::{start_edit, Edit, Input, Source};
use crate::services::jobs::{plan_jobs, random_seed, start_jobs, Batch};
use crate::tools::{settle, ToolContext, WaitBudget, WaitState};

/// `POST /v1/images/generations`.
pub async fn generate(ctx: &ToolContext, request: GenerationRequest) -> Result<Value, ApiError> {
    let output = request.output;
    let jobs = plan_jobs(output.model, &sized(output.size), output.n, None, random_seed)?;
    let batch = Batch {
        prompt: &request.prompt,
        model: crate::models::Maker::Model(output.model),
        jobs,
        stored_inputs: Vec::new(),
    };
    let ids = start_jobs(ctx, batch).await?;
    answer(ctx, ids, output.response_format).await
}

/// `POST /v1/images/edits`.
pub async fn edit(ctx: &ToolContext, mut request: EditRequest) -> Result<Value, ApiError> {
    let output = &request.output;
    let mut mask = request.mask.take();
    if let Some(Given {
        image: Image::File(bytes),
        ..
    }) = &mut mask
    {
        if let Some(converted) =
            super::mask::from_openai(bytes).map_err(|problem| ApiError::invalid("mask", "invalid_value", problem))?
        {
            *bytes = converted;
        }
    }
    let edit = Edit {
        prompt: &request.prompt,
        model: Some(output.model),
        count: output.n,
        controls: sized(output.size),
        images: request.images.iter_mut().map(input).collect(),
        mask: mask.as_mut().map(input),
    };
    let ids = start_edit(ctx, edit).await?;
    answer(ctx, ids, output.response_format).await
}

/// `POST /v1/images/variations`: image-to-image on the upload, keeping most of it
/// (VARIATION_STRENGTH_DEFAULT, as generate_variations), each image with its own seed.
pub async fn vary(ctx: &ToolContext, mut request: VariationRequest) -> Result<Value, ApiError> {
    let output = &request.output;
    let mut controls = sized(output.size);
    if output.model.spec().param(Control::Strength).is_some() {
        controls.strength = Some(VARIATION_STRENGTH_DEFAULT);
    }
    let edit = Edit {
        prompt: &request.prompt,
        model: Some(output.model),
        count: output.n,
        controls,
        images: vec![input(&mut request.image)],
        mask: None,
    };
    let ids = start_edit(ctx, edit).await?;
    answer(ctx, ids, output.response_format).await
}

/// The controls of a request: its size, if it gave one.
fn sized(size: Option<(i64, i64)>) -> Controls {
    Controls {
        width: size.map(|(width, _)| width),
        height: size.map(|(_, height)| height),
        ..Controls::default()
    }
}

/// A given image as the edit service takes it (a file's bytes move into the service).
fn input(given: &mut Given) -> Input<'_> {
    let source = match &mut given.image {
        Image::File(bytes) => Source::Upload(std::mem::take(bytes)),
        Image::Reference(text) => Source::Reference(text.as_str()),
    };
    Input {
        argument: given.field.clone(),
        source,
    }
}

/// Waits for the jobs as generate_image_and_wait does and answers with their images; past the
/// wait's bound a 504 names the jobs, which go on.
async fn answer(ctx: &ToolContext, ids: Vec<String>, format: ResponseFormat) -> Result<Value, ApiError> {
    let budget = WaitBudget::new(ids.len(), ctx.config.wait_response_limit_seconds);
    let deadline = budget.deadline_ms();
    let state = settle(ctx, &ids, &budget, |state, elapsed| match state {
        WaitState::Running { .. } if elapsed < deadline => None,
        state => Some(state),
    })
    .await?;
    match state {
        WaitState::Completed(rows) => {
            let mut data = Vec::with_capacity(rows.len());
            for row in &rows {
                data.push(image(ctx, row, format).await?);
            }
            Ok(json!({"created": crate::time::now_ms() / 1000, "data": data}))
        }
        WaitState::Failed { failed, .. } => {
            let failed: Vec<(String, Option<String>)> = failed.into_iter().map(|row| (row.id, row.error)).collect();
            Err(ApiError::jobs_failed(&failed, ids.len()))
        }
        WaitState::Running { .. } => Err(ApiError::timeout(&ids, deadline / 1000)),
        WaitState::NotFound => Err(ApiError::server("the jobs this request started could not be read back")),
    }
}

/// One entry of `data`: the image's URL, or its bytes in base64.
async fn image(ctx: &ToolContext, row: &JobRow, format: ResponseFormat) -> Result<Value, ApiError> {
    let stored = row.image_url.as_deref();
    let missing = || ApiError::server(format!("job {} completed without a stored image", row.id));
    match format {
        ResponseFormat::Url => Ok(json!({"url": ctx.image_url(stored).ok_or_else(missing)?})),
        ResponseFormat::B64Json => {
            let (key, _) = stored.and_then(crate::urls::key_in_stored_url).ok_or_else(missing)?;
            let bucket = crate::bindings::bucket(&ctx.env).map_err(|error| ApiError::server(error.to_string()))?;
            let bytes = crate::services::storage::read_object(&bucket, key)
                .await
                .map_err(|error| ApiError::server(format!("could not read job {}'s image: {error}", row.id)))?
                .ok_or_else(missing)?;
            Ok(json!({"b64_json": crate::media::base64_encode(&bytes)}))
        }
    }
}
