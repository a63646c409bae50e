//! SQL for cancelling jobs: the job becomes `cancelled` and its image goes back to the owner's
//! daily allowance, both in one batch (one transaction in D1), and only while the job is still
//! unfinished, so a job is cancelled (and its image given back) at most once.

use super::sql::owner_clause;
use crate::d1::{SqlValue, Statement};

/// What a cancelled job's `error` says.
pub const CANCELLED_ERROR: &str = "Job cancelled";

/// Gives back the image of the job `id` to its owner's count for the UTC day it was created on
/// (the day `quota::reserve` counted it under), while the job is unfinished. Runs before
/// [`cancel`] in the same batch.
pub fn release_cancelled_image(id: &str, owner: Option<&str>) -> Statement {
    let mut params: Vec<SqlValue> = vec![id.into()];
    let owner_only = owner_clause(owner, &mut params);
    Statement::new(
        format!(
            "UPDATE daily_usage SET images = MAX(images - 1, 0) WHERE (owner, day) IN \
             (SELECT owner, strftime('%Y-%m-%d', created_at / 1000, 'unixepoch') FROM generation_jobs \
             WHERE id = ? AND status IN ('pending', 'processing'){owner_only})"
        ),
        params,
    )
}

/// Cancels the job `id` if it is unfinished (and `owner`'s, when given).
pub fn cancel(id: &str, owner: Option<&str>, now: i64) -> Statement {
    let mut params: Vec<SqlValue> = vec![CANCELLED_ERROR.into(), now.into(), id.into()];
    let owner_only = owner_clause(owner, &mut params);
    Statement::new(
        format!(
            "UPDATE generation_jobs SET status = 'cancelled', error = ?, updated_at = ? \
             WHERE id = ? AND status IN ('pending', 'processing'){owner_only}"
        ),
        params,
    )
}

/// The batch that cancels `ids`: for each, its image given back, then its status.
pub fn cancel_batch(ids: &[String], owner: Option<&str>, now: i64) -> Vec<Statement> {
    ids.iter()
        .flat_map(|id| [release_cancelled_image(id, owner), cancel(id, owner, now)])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::sql::sqlite_tests::{database, run};
    use crate::jobs::sql::{insert_job, mark_completed, tests::job, tests::stored};
    use rusqlite::Connection;

    /// 2026-11-29T18:30:00Z
    const CREATED: i64 = 1_795_977_000_000;

    fn status(db: &Connection, id: &str) -> String {
        db.query_row("SELECT status FROM generation_jobs WHERE id = ?", [id], |r| r.get(0))
            .unwrap()
    }

    fn used(db: &Connection, owner: &str) -> i64 {
        db.query_row(
            "SELECT images FROM daily_usage WHERE owner = ? AND day = '2026-11-29'",
            [owner],
            |r| r.get(0),
        )
        .unwrap()
    }

    fn cancel_all(db: &Connection, ids: &[&str], owner: Option<&str>) {
        let ids: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
        let tx = db.unchecked_transaction().unwrap();
        for statement in cancel_batch(&ids, owner, CREATED + 5) {
            run(&tx, statement);
        }
        tx.commit().unwrap();
    }

    #[test]
    fn cancelling_gives_the_image_back_once_and_only_for_unfinished_jobs_of_the_owner() {
        let db = database();
        for id in ["a", "b", "c"] {
            run(&db, insert_job(&job(id), "p", "flux-schnell", "alice", CREATED));
        }
        run(&db, insert_job(&job("m"), "p", "flux-schnell", "mallory", CREATED));
        db.execute_batch(
            "INSERT INTO daily_usage (owner, day, images) VALUES ('alice', '2026-11-29', 3), ('mallory', '2026-11-29', 1)",
        )
        .unwrap();
        run(&db, mark_completed("c", &stored("/images/c.png", None), CREATED + 1));

        cancel_all(&db, &["a", "c", "m"], Some("alice"));
        assert_eq!(status(&db, "a"), "cancelled");
        assert_eq!(status(&db, "c"), "completed", "a finished job stays finished");
        assert_eq!(status(&db, "m"), "pending", "another key's job is not touched");
        assert_eq!(used(&db, "alice"), 2);
        assert_eq!(used(&db, "mallory"), 1);

        cancel_all(&db, &["a"], Some("alice"));
        assert_eq!(used(&db, "alice"), 2, "cancelling again gives nothing back");

        // The administrator sees every owner's jobs.
        cancel_all(&db, &["m", "b"], None);
        assert_eq!(
            (status(&db, "m"), status(&db, "b")),
            ("cancelled".into(), "cancelled".into())
        );
        assert_eq!((used(&db, "alice"), used(&db, "mallory")), (1, 0));
    }

    #[test]
    fn a_cancelled_job_is_never_completed_failed_or_claimed() {
        use crate::jobs::sql::{claim_for_processing, mark_dead_lettered, mark_failed, record_retryable_failure};
        let db = database();
        run(&db, insert_job(&job("j"), "p", "flux-schnell", "alice", CREATED));
        cancel_all(&db, &["j"], Some("alice"));
        assert_eq!(run(&db, claim_for_processing("j", CREATED + 6)), 0);
        assert_eq!(
            run(&db, mark_completed("j", &stored("/images/j.png", None), CREATED + 7)),
            0
        );
        assert_eq!(run(&db, mark_failed("j", "e", CREATED + 8)), 0);
        assert_eq!(run(&db, mark_dead_lettered("j", "e", CREATED + 8)), 0);
        assert_eq!(run(&db, record_retryable_failure("j", "e", CREATED + 8)), 0);
        assert_eq!(status(&db, "j"), "cancelled");
    }
}
