//! Cancelling jobs, for every way in (cancel_job, tasks/cancel, the gallery's Cancel button):
//! only unfinished jobs the caller may see are cancelled; the queue consumer then never sends a
//! pending one to its model and discards a processing one's late result (see
//! `pipeline::consumer`), and each cancelled image goes back to the owner's daily count.

use crate::d1::DbResult;
use crate::jobs::{JobRow, JobStatus, JobStore};

/// What became of one job asked to be cancelled.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Cancelled by this call.
    Cancelled(JobRow),
    /// It had already finished (completed, failed or cancelled); nothing changed.
    AlreadyFinished(JobRow),
    /// No such job, or not the caller's.
    NotFound,
}

impl Outcome {
    pub fn cancelled(&self) -> bool {
        matches!(self, Outcome::Cancelled(_))
    }
}

/// Cancels `ids` (each distinct id once, in the order given) for a caller that sees `owner`'s
/// jobs (`None`: every owner's).
pub async fn cancel_jobs(store: &JobStore, ids: &[String], owner: Option<&str>) -> DbResult<Vec<(String, Outcome)>> {
    let before = store.jobs(ids, owner).await?;
    let unfinished: Vec<String> = before
        .iter()
        .filter(|row| row.status.is_unfinished())
        .map(|row| row.id.clone())
        .collect();
    store.cancel_jobs(&unfinished, owner, crate::time::now_ms()).await?;
    let after = if unfinished.is_empty() {
        before
    } else {
        store.jobs(ids, owner).await?
    };
    let outcomes = ids
        .iter()
        .map(|id| (id.clone(), outcome(id, &unfinished, &after)))
        .collect();
    Ok(outcomes)
}

/// A job this call tried to cancel is cancelled by it unless it finished first (the consumer
/// completed or failed it between the read and the batch).
fn outcome(id: &str, unfinished: &[String], after: &[JobRow]) -> Outcome {
    let Some(row) = after.iter().find(|row| row.id == id) else {
        return Outcome::NotFound;
    };
    if row.status == JobStatus::Cancelled && unfinished.iter().any(|tried| tried == id) {
        Outcome::Cancelled(row.clone())
    } else {
        Outcome::AlreadyFinished(row.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_job_this_call_found_unfinished_and_now_cancelled_counts_as_cancelled() {
        let cancelled = JobRow::fixture("a", JobStatus::Cancelled);
        let completed = JobRow::fixture("b", JobStatus::Completed);
        let tried = vec!["a".to_string(), "b".to_string()];
        let after = vec![cancelled.clone(), completed.clone()];
        assert_eq!(outcome("a", &tried, &after), Outcome::Cancelled(cancelled.clone()));
        assert_eq!(outcome("b", &tried, &after), Outcome::AlreadyFinished(completed));
        assert_eq!(outcome("a", &[], &after), Outcome::AlreadyFinished(cancelled));
        assert_eq!(outcome("c", &tried, &after), Outcome::NotFound);
    }
}
