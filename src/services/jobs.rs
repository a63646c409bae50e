//! Job creation, for every tool that starts jobs: plan them (checked against the model, each
//! with its seed), estimate each one's cost, reserve the images and neurons against the daily
//! quota and budget, record them in D1, queue one message per image. Nothing is left pending or reserved when a step fails.

use serde_json::Value;

use super::{quota, Context, ServiceError};
use crate::jobs::{JobInput, JobMessage, JobStore, NewJob, Spend};
use crate::models::{Controls, ImageModel, Maker, SEED_MAX};
use crate::time::now_ms;

/// `count` jobs of `model`, checked against it (nothing is stored if this fails). With a seed in
/// `base`, image i uses seed + i; without, each job gets its own random seed. `inputs` is the JSON
/// list of the images every job's model receives.
pub fn plan_jobs(
    model: ImageModel,
    base: &Controls,
    count: usize,
    inputs: Option<&str>,
    mut random_seed: impl FnMut() -> u32,
) -> Result<Vec<NewJob>, ServiceError> {
    let spec = model.spec();
    (0..count)
        .map(|i| {
            let mut controls = base.clone();
            controls.seed = base.seed.map(|seed| (seed + i as i64) % (SEED_MAX + 1));
            let plan = spec.plan(&controls, random_seed()).map_err(ServiceError::Invalid)?;
            Ok(NewJob {
                id: uuid::Uuid::new_v4().to_string(),
                seed: plan.seed,
                width: plan.width,
                height: plan.height,
                parameters: Value::Object(plan.parameters).to_string(),
                inputs: inputs.map(str::to_string),
                estimated_neurons: None,
                estimated_usd: None,
            })
        })
        .collect()
}

/// Sets each job's estimated neurons and USD from what it sends and receives, and returns what
/// the jobs add to the day: their images, and the neurons and USD of those with a listed price
/// (an unlisted price counts as 0).
pub fn estimate_jobs(maker: Maker, jobs: &mut [NewJob]) -> Spend {
    let mut spend = Spend {
        images: jobs.len() as i64,
        ..Spend::default()
    };
    for job in jobs.iter_mut() {
        let size = job
            .width
            .zip(job.height)
            .and_then(|(w, h)| Some((u32::try_from(w).ok()?, u32::try_from(h).ok()?)));
        let parameters = crate::jobs::parameters_object(Some(&job.parameters));
        let inputs: Vec<JobInput> = job
            .inputs
            .as_deref()
            .and_then(|text| serde_json::from_str(text).ok())
            .unwrap_or_default();
        let sizes: Vec<(u32, u32)> = inputs.iter().map(|input| (input.width, input.height)).collect();
        let cost = maker.estimate(size, &parameters, &sizes);
        job.estimated_neurons = cost.map(|cost| cost.neurons);
        job.estimated_usd = cost.map(|cost| cost.usd);
        if let Some(cost) = cost {
            spend.neurons += cost.neurons;
            spend.usd += cost.usd;
        }
    }
    spend
}

/// One call's jobs, planned and checked, ready to be recorded and queued.
pub struct Batch<'a> {
    pub prompt: &'a str,
    pub model: Maker,
    pub jobs: Vec<NewJob>,
    /// R2 keys stored for these jobs (uploaded or converted inputs): deleted if the jobs are
    /// never recorded; once recorded they stay with the jobs, whatever becomes of them.
    pub stored_inputs: Vec<String>,
}

/// Reserves the images against the caller's daily quota, records the jobs, then queues them.
/// If recording fails the reservation is given back; if queueing fails the jobs are failed at
/// once (and the reservation given back), so no row is left pending forever.
pub async fn start_jobs(ctx: &impl Context, batch: Batch<'_>) -> Result<Vec<String>, ServiceError> {
    let Batch {
        prompt,
        model,
        mut jobs,
        stored_inputs,
    } = batch;
    let spend = estimate_jobs(model, &mut jobs);
    let recorded = record_jobs(ctx, &jobs, spend, prompt, model).await;
    let (store, reservation) = match recorded {
        Ok(recorded) => recorded,
        Err(error) => {
            super::inputs::discard(ctx, &stored_inputs).await;
            return Err(error);
        }
    };
    let ids: Vec<String> = jobs.into_iter().map(|job| job.id).collect();
    let messages: Vec<JobMessage> = ids
        .iter()
        .map(|id| JobMessage {
            job_id: id.clone(),
            prompt: prompt.to_string(),
            model: model.name().to_string(),
        })
        .collect();
    if let Err(error) = enqueue(ctx, messages).await {
        for id in &ids {
            if let Err(store_error) = store.mark_failed(id, &error.to_string(), now_ms()).await {
                worker::console_error!("could not fail job {id} after a queue error: {store_error}");
            }
        }
        reservation.release(&store).await;
        return Err(error);
    }
    worker::console_log!("key {} started {} job(s)", ctx.caller().name(), ids.len());
    Ok(ids)
}

/// Reserves the images against the caller's quota and records the jobs; nothing is left
/// reserved or recorded when this fails.
async fn record_jobs(
    ctx: &impl Context,
    jobs: &[NewJob],
    spend: Spend,
    prompt: &str,
    model: Maker,
) -> Result<(JobStore, quota::Reservation), ServiceError> {
    let store: JobStore = ctx.job_store()?;
    let now = now_ms();
    let reservation = quota::reserve(ctx, &store, spend, now).await?;
    if let Err(error) = store
        .insert_jobs(
            jobs,
            prompt,
            model.name(),
            ctx.caller().name(),
            now,
            reservation.count_with_jobs(),
        )
        .await
    {
        reservation.release_after_failed_insert(&store).await;
        return Err(error.into());
    }
    Ok((store, reservation))
}

/// A fresh seed from the runtime's random source (the same one job ids come from).
pub fn random_seed() -> u32 {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

async fn enqueue(ctx: &impl Context, messages: Vec<JobMessage>) -> Result<(), ServiceError> {
    let queue = crate::bindings::queue(ctx.env())?;
    crate::jobs::queue::send(&queue, &messages)
        .await
        .map_err(ServiceError::Queue)
}
