//! SQL for cancelling jobs: the job becomes `cancelled` and its image and estimated cost go back
//! to the owner's daily allowance, both in one batch (one transaction in D1), and only while the
//! job is still unfinished, so a job is cancelled (and its allowance given back) at most once.

use super::sql::{json_ids, listed_owner_clause};
use crate::d1::{SqlValue, Statement};

/// What a cancelled job's `error` says.
pub const CANCELLED_ERROR: &str = "Job cancelled";

/// Gives back the images of the jobs among `ids` that are unfinished (and `owner`'s, when given),
/// and the neurons and USD they were estimated to cost (the figures `quota::reserve` counted, kept
/// on each job row), to their owners' counts for the UTC day each was created on (the day they
/// were counted under): one update per owner and day, by the jobs' totals. Never below zero.
/// Runs before [`cancel`] in the same batch.
pub fn release_cancelled_images(ids: &[String], owner: Option<&str>) -> Statement {
    let mut params: Vec<SqlValue> = vec![json_ids(ids)];
    let owner_only = listed_owner_clause(owner, &mut params);
    Statement::new(
        format!(
            "UPDATE daily_usage SET images = MAX(daily_usage.images - job.images, 0), \
             neurons = MAX(daily_usage.neurons - job.neurons, 0), usd = MAX(daily_usage.usd - job.usd, 0) \
             FROM (SELECT owner, strftime('%Y-%m-%d', created_at / 1000, 'unixepoch') AS day, COUNT(*) AS images, \
             TOTAL(estimated_neurons) AS neurons, TOTAL(estimated_usd) AS usd FROM generation_jobs \
             WHERE id IN (SELECT value FROM json_each(?)) AND +status IN ('pending', 'processing'){owner_only} \
             GROUP BY owner, day) AS job \
             WHERE daily_usage.owner = job.owner AND daily_usage.day = job.day"
        ),
        params,
    )
}

/// Cancels the jobs among `ids` that are unfinished (and `owner`'s, when given).
pub fn cancel(ids: &[String], owner: Option<&str>, now: i64) -> Statement {
    let mut params: Vec<SqlValue> = vec![CANCELLED_ERROR.into(), now.into(), json_ids(ids)];
    let owner_only = listed_owner_clause(owner, &mut params);
    Statement::new(
        format!(
            "UPDATE generation_jobs SET status = 'cancelled', error = ?, updated_at = ? \
             WHERE id IN (SELECT value FROM json_each(?)) AND +status IN ('pending', 'processing'){owner_only}"
        ),
        params,
    )
}

/// The batch that cancels `ids`, two statements whatever their number (two per job before,
/// seventeenth pass): their images given back, then their status.
pub fn cancel_batch(ids: &[String], owner: Option<&str>, now: i64) -> Vec<Statement> {
    vec![release_cancelled_images(ids, owner), cancel(ids, owner, now)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::sql::sqlite_tests::{database, run};
    use crate::jobs::sql::{insert_job, mark_completed, tests::job, tests::stored};
    use crate::jobs::NewJob;
    use rusqlite::Connection;

    /// 2026-11-29T18:30:00Z
    const CREATED: i64 = 1_795_977_000_000;

    fn status(db: &Connection, id: &str) -> String {
        db.query_row("SELECT status FROM generation_jobs WHERE id = ?", [id], |r| r.get(0))
            .unwrap()
    }

    fn used(db: &Connection, owner: &str) -> i64 {
        usage(db, owner).0
    }

    /// Images, neurons and USD counted for `owner` on 2026-11-29.
    fn usage(db: &Connection, owner: &str) -> (i64, f64, f64) {
        db.query_row(
            "SELECT images, neurons, usd FROM daily_usage WHERE owner = ? AND day = '2026-11-29'",
            [owner],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
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
    fn cancelling_gives_back_the_jobs_estimated_neurons_and_usd_with_its_image_never_below_zero() {
        let db = database();
        let priced = job("a"); // 57.6 neurons, $0.0006336
        let unpriced = NewJob {
            estimated_neurons: None,
            estimated_usd: None,
            ..job("b")
        };
        let small = job("c");
        for (row, owner) in [(&priced, "alice"), (&unpriced, "alice"), (&small, "bob")] {
            run(&db, insert_job(row, "p", "flux-schnell", owner, CREATED));
        }
        db.execute_batch(
            "INSERT INTO daily_usage (owner, day, images, neurons, usd) VALUES \
             ('alice', '2026-11-29', 2, 100.0, 0.0011), ('bob', '2026-11-29', 1, 10.0, 0.0001), \
             ('alice', '2026-11-30', 5, 500.0, 0.0055)",
        )
        .unwrap();

        cancel_all(&db, &["a"], Some("alice"));
        let (images, neurons, usd) = usage(&db, "alice");
        assert_eq!(images, 1);
        assert!((neurons - 42.4).abs() < 1e-9, "{neurons}");
        assert!((usd - 0.0004664).abs() < 1e-12, "{usd}");

        cancel_all(&db, &["a"], Some("alice"));
        assert_eq!(usage(&db, "alice").0, 1, "cancelling again gives nothing back");
        assert!((usage(&db, "alice").1 - 42.4).abs() < 1e-9);

        // A job without a listed price gives back its image only.
        cancel_all(&db, &["b"], Some("alice"));
        let (images, neurons, _) = usage(&db, "alice");
        assert_eq!(images, 0);
        assert!((neurons - 42.4).abs() < 1e-9, "{neurons}");

        // Never below zero; and only the day the job was created on.
        cancel_all(&db, &["c"], None);
        assert_eq!(usage(&db, "bob"), (0, 0.0, 0.0));
        let next_day: (i64, f64) = db
            .query_row(
                "SELECT images, neurons FROM daily_usage WHERE owner = 'alice' AND day = '2026-11-30'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(next_day, (5, 500.0));
    }

    #[test]
    fn one_batch_gives_back_each_owners_jobs_on_their_days_each_job_once() {
        let db = database();
        let next_day = CREATED + 86_400_000;
        for (id, owner, at) in [
            ("a1", "alice", CREATED),
            ("a2", "alice", CREATED),
            ("a3", "alice", next_day),
            ("b1", "bob", CREATED),
        ] {
            run(&db, insert_job(&job(id), "p", "flux-schnell", owner, at)); // 57.6 neurons, $0.0006336 each
        }
        db.execute_batch(
            "INSERT INTO daily_usage (owner, day, images, neurons, usd) VALUES \
             ('alice', '2026-11-29', 5, 500.0, 0.0055), ('alice', '2026-11-30', 5, 500.0, 0.0055), \
             ('bob', '2026-11-29', 5, 500.0, 0.0055)",
        )
        .unwrap();
        // Repeated and unknown ids among them.
        let ids = ["a1", "a2", "a3", "b1", "a1", "missing"];
        let listed: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
        assert_eq!(
            cancel_batch(&listed, None, CREATED + 5).len(),
            2,
            "two statements for any number of jobs"
        );
        cancel_all(&db, &ids, None);

        for id in ["a1", "a2", "a3", "b1"] {
            assert_eq!(status(&db, id), "cancelled");
        }
        let (images, neurons, usd) = usage(&db, "alice");
        assert_eq!(
            images, 3,
            "two of alice's jobs were counted on the 29th, a1 given back once"
        );
        assert!((neurons - (500.0 - 2.0 * 57.6)).abs() < 1e-9, "{neurons}");
        assert!((usd - (0.0055 - 2.0 * 0.0006336)).abs() < 1e-12, "{usd}");
        let next: (i64, f64) = db
            .query_row(
                "SELECT images, neurons FROM daily_usage WHERE owner = 'alice' AND day = '2026-11-30'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(next.0, 4);
        assert!((next.1 - (500.0 - 57.6)).abs() < 1e-9, "{}", next.1);
        let (images, neurons, _) = usage(&db, "bob");
        assert_eq!(images, 4);
        assert!((neurons - (500.0 - 57.6)).abs() < 1e-9, "{neurons}");
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
