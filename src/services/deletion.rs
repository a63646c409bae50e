//! Deleting images, for delete_image and the gallery's Delete button: R2 first (the image, its
//! thumbnail, whatever an attempt could have stored, and the stored inputs no other job uses),
//! then one D1 batch that turns each job row into a tombstone (status `deleted`, prompt and
//! parameters cleared) and removes its gallery row.
//!
//! In that order a failure in between leaves a row that still names objects that are gone, and a
//! repeat finishes the job; the other order could leave objects no row names, which nothing would
//! ever find again. A call deletes all of its jobs or none: an id the caller may not see (another
//! key's job is "not found", exactly like a missing one) or a job still running refuses the whole
//! call before anything is touched. A tombstone asked for again counts as deleted: repeats are
//! harmless. A job still pending or processing is refused rather than deleted, since its attempt
//! could store an image after the delete; wait for it (or cancel it) first. So is an image a
//! running job takes as an input (used in place: its model has yet to read it).

use super::storage::{job_object_keys, stored_input_keys};
use super::{Context, ServiceError};
use crate::jobs::{JobRow, JobStatus};
use crate::time::now_ms;

/// Why nothing was deleted: the caller can fix the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Ids with no row the caller may see.
    NotFound(Vec<String>),
    /// Jobs that are still pending or processing, with their status.
    Running(Vec<(String, JobStatus)>),
    /// This many jobs still pending or processing take one of the images as an input (their ids
    /// are not named: they may be another key's).
    InUse(usize),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::NotFound(ids) => write!(
                f,
                "Job not found: {}. Nothing was deleted.",
                ids.iter()
                    .map(|id| crate::catalog::echo(id))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Refusal::Running(jobs) => write!(
                f,
                "Still running, so not deleted: {}. Wait for {} to finish (wait_for_completion) and delete {} \
                 then. Nothing was deleted.",
                jobs.iter()
                    .map(|(id, status)| format!("{id} ({})", status.as_str()))
                    .collect::<Vec<_>>()
                    .join(", "),
                if jobs.len() == 1 { "it" } else { "them" },
                if jobs.len() == 1 { "it" } else { "them" },
            ),
            Refusal::InUse(count) => write!(
                f,
                "Not deleted: {count} job(s) still running take this image as an input. Try again once they \
                 finish. Nothing was deleted."
            ),
        }
    }
}

/// What a delete did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Deleted {
    /// Jobs this call turned into tombstones, in the order asked.
    pub deleted: Vec<String>,
    /// Jobs that were tombstones already, in the order asked.
    pub already_deleted: Vec<String>,
    /// R2 objects named in the delete (images, thumbnails, possible attempts; deleting a missing
    /// key is a no-op, so this counts keys, not objects that existed).
    pub object_keys: usize,
    /// Stored inputs removed because no other job uses them.
    pub inputs: usize,
}

/// The jobs among `rows` to delete, in the order of `ids` (distinct), or why none may be.
pub fn plan<'a>(ids: &[String], rows: &'a [JobRow]) -> Result<(Vec<&'a JobRow>, Vec<String>), Refusal> {
    let mut missing = Vec::new();
    let mut running = Vec::new();
    let mut targets = Vec::new();
    let mut already = Vec::new();
    for id in ids {
        match rows.iter().find(|row| &row.id == id) {
            None => missing.push(id.clone()),
            Some(row) => match row.status {
                JobStatus::Pending | JobStatus::Processing => running.push((id.clone(), row.status)),
                JobStatus::Deleted => already.push(id.clone()),
                JobStatus::Completed | JobStatus::Failed | JobStatus::Cancelled => targets.push(row),
            },
        }
    }
    if !missing.is_empty() {
        return Err(Refusal::NotFound(missing));
    }
    if !running.is_empty() {
        return Err(Refusal::Running(running));
    }
    Ok((targets, already))
}

/// Deletes the jobs `ids` (distinct) that the caller may see; see the module comment.
pub async fn delete_images(ctx: &impl Context, ids: &[String]) -> Result<Result<Deleted, Refusal>, ServiceError> {
    let owner = ctx.caller().visible_owner();
    let store = ctx.job_store()?;
    let rows = store.jobs(ids, owner).await?;
    let (targets, already_deleted) = match plan(ids, &rows) {
        Ok(plan) => plan,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let deleting: Vec<String> = targets.iter().map(|job| job.id.clone()).collect();
    let mut done = Deleted {
        already_deleted,
        ..Deleted::default()
    };
    if deleting.is_empty() {
        return Ok(Ok(done));
    }
    // A job still running may read one of the images in place (edit_image, generate_variations).
    let images: Vec<String> = targets
        .iter()
        .filter_map(|job| job.image_url.as_deref().and_then(crate::urls::key_in_stored_url))
        .map(|(key, _)| key.to_string())
        .collect();
    let users = store.running_users(&images).await?;
    if !users.is_empty() {
        return Ok(Err(Refusal::InUse(users.len())));
    }
    let mut keys: Vec<String> = targets.iter().flat_map(|job| job_object_keys(job)).collect();
    let owned: Vec<JobRow> = targets.into_iter().cloned().collect();
    // Asked right before the delete, so a job made since (an edit of the same upload) keeps it.
    let inputs = store.unreferenced_inputs(&stored_input_keys(&owned), &deleting).await?;
    done.object_keys = keys.len();
    done.inputs = inputs.len();
    keys.extend(inputs);
    let bucket = crate::bindings::bucket(ctx.env())?;
    bucket.delete_multiple(keys).await.map_err(ServiceError::Delete)?;
    store.tombstone_jobs(&deleting, owner, now_ms()).await?;
    worker::console_log!("key {} deleted {} image(s)", ctx.caller().name(), deleting.len());
    done.deleted = deleting;
    Ok(Ok(done))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn finished_jobs_are_deleted_and_tombstones_count_as_deleted_already() {
        let rows = [
            JobRow::fixture("done", JobStatus::Completed),
            JobRow::fixture("broken", JobStatus::Failed),
            JobRow::fixture("gone", JobStatus::Deleted),
        ];
        let (targets, already) = plan(&ids(&["gone", "broken", "done"]), &rows).unwrap();
        let targets: Vec<&str> = targets.iter().map(|row| row.id.as_str()).collect();
        assert_eq!(targets, ["broken", "done"], "in the order asked");
        assert_eq!(already, ["gone"]);
    }

    #[test]
    fn a_missing_or_running_job_refuses_the_whole_call() {
        let rows = [
            JobRow::fixture("done", JobStatus::Completed),
            JobRow::fixture("busy", JobStatus::Processing),
        ];
        assert_eq!(
            plan(&ids(&["done", "someone-elses", "busy"]), &rows).map(|_| ()),
            Err(Refusal::NotFound(ids(&["someone-elses"])))
        );
        let refusal = plan(&ids(&["done", "busy"]), &rows).map(|_| ()).unwrap_err();
        assert_eq!(refusal, Refusal::Running(vec![("busy".into(), JobStatus::Processing)]));
        let text = refusal.to_string();
        assert!(
            text.contains("busy (processing)") && text.contains("Nothing was deleted"),
            "{text}"
        );
    }

    #[test]
    fn one_full_call_fits_one_r2_delete() {
        // Each job: its image, its thumbnail and the other format (job_object_keys), and at most
        // EDIT_IMAGES_MAX images and a mask.
        use crate::catalog::{DELETE_JOB_IDS_MAX, EDIT_IMAGES_MAX};
        let keys = DELETE_JOB_IDS_MAX * (3 + EDIT_IMAGES_MAX + 1);
        assert!(keys <= 1000, "R2 deletes at most 1,000 keys a call: {keys}");
    }

    #[test]
    fn a_refusal_quotes_ids_cut_short() {
        let long = "x".repeat(5000);
        let text = Refusal::NotFound(vec![long]).to_string();
        assert!(text.len() < 400, "{}", text.len());
    }
}
