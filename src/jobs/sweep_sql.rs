//! SQL for the sweeper: claim jobs the queue lost, fail jobs stuck past the retry window, select
//! and delete jobs past retention, and find which of their stored inputs no other job uses. Built as plain data, like `sql`, and run against SQLite
//! in the tests below.
//!
//! Every statement is bounded (`LIMIT ?` in a subquery) and guarded twice: the subquery picks the
//! oldest matching rows, and the outer WHERE repeats the condition, so a row another sweep or a
//! delivery changed in between is left alone. `RETURNING` tells the sweeper what it changed.

use super::sql::{json_ids, JOB_COLUMNS};
use crate::d1::{SqlValue, Statement};

/// Marks up to `limit` jobs `pending` since before `stale_before` (and created since
/// `created_since`) as re-queued now, returning each row: the caller sends
/// their queue messages. Touching `updated_at` first means a concurrent sweep cannot claim them
/// again, and a job whose send fails is tried again one window later.
pub fn claim_stale_pending(stale_before: i64, created_since: i64, now: i64, limit: i64) -> Statement {
    Statement::new(
        format!(
            "UPDATE generation_jobs SET updated_at = ? \
             WHERE id IN (SELECT id FROM generation_jobs WHERE status = 'pending' AND updated_at < ? \
             AND created_at >= ? ORDER BY updated_at LIMIT ?) \
             AND status = 'pending' AND updated_at < ? \
             RETURNING {JOB_COLUMNS}"
        ),
        vec![
            now.into(),
            stale_before.into(),
            created_since.into(),
            limit.into(),
            stale_before.into(),
        ],
    )
}

/// Fails up to `limit` jobs in `status` since before `stale_before` (and, when given, created
/// before `created_before`) with `error`, keeping the last recorded attempt error after it.
/// Returns the rows it failed (whole rows: the store reads them with the one job-row decoder).
pub fn fail_stale(
    status: &'static str,
    stale_before: i64,
    created_before: Option<i64>,
    error: &str,
    now: i64,
    limit: i64,
) -> Statement {
    let created_before = created_before.unwrap_or(i64::MAX);
    Statement::new(
        format!(
            "UPDATE generation_jobs SET status = 'failed', \
             error = ? || COALESCE(' Last recorded error: ' || error, ''), updated_at = ? \
             WHERE id IN (SELECT id FROM generation_jobs WHERE status = ? AND updated_at < ? \
             AND created_at < ? ORDER BY updated_at LIMIT ?) \
             AND status = ? AND updated_at < ? \
             RETURNING {JOB_COLUMNS}"
        ),
        vec![
            error.into(),
            now.into(),
            status.into(),
            stale_before.into(),
            created_before.into(),
            limit.into(),
            status.into(),
            stale_before.into(),
        ],
    )
}

/// Up to `limit` finished jobs created before `created_before`, oldest first: completed, failed,
/// and deleted (a tombstone expires like the job it was). Jobs still pending or processing are
/// the other rules' business, never retention's.
pub fn select_expired(created_before: i64, limit: i64) -> Statement {
    Statement::new(
        format!(
            "SELECT {JOB_COLUMNS} FROM generation_jobs \
             WHERE status IN ('completed', 'failed', 'cancelled', 'deleted') AND created_at < ? ORDER BY created_at, id LIMIT ?"
        ),
        vec![created_before.into(), limit.into()],
    )
}

/// Of the stored input keys `candidates` (`input-<uuid>.<ext>`, taken from the inputs of the jobs
/// retention is about to delete), the ones no job row other than `deleting` mentions: those can
/// go from R2 with their jobs. Any other row counts, whatever its status or age (a pending edit,
/// an expired job left for a later batch), and a key anywhere in its `inputs` text counts (in a
/// `url` or a `source`), so the answer errs towards keeping. `instr` rather than `LIKE`: a key is
/// matched as plain text, no pattern character to escape (keys are `[a-z0-9.-]`, which JSON
/// never escapes either). Both lists are bound as one JSON array each, so the statement binds two
/// values however many keys and jobs there are.
pub fn unreferenced_inputs(candidates: &[String], deleting: &[String]) -> Statement {
    Statement::new(
        "SELECT DISTINCT c.value AS key FROM json_each(?) AS c \
         WHERE NOT EXISTS (SELECT 1 FROM generation_jobs AS j \
         WHERE j.inputs IS NOT NULL AND instr(j.inputs, c.value) > 0 \
         AND j.id NOT IN (SELECT d.value FROM json_each(?) AS d)) \
         ORDER BY c.value",
        vec![json_ids(candidates), json_ids(deleting)],
    )
}

/// Deletes the gallery rows and then the job rows of `ids` (one batch: D1 runs it as a
/// transaction). Only finished jobs are deleted, whatever ids are passed.
pub fn delete_jobs(ids: &[String]) -> Vec<Statement> {
    let placeholders = vec!["?"; ids.len()].join(", ");
    let params: Vec<SqlValue> = ids.iter().map(|id| SqlValue::from(id.as_str())).collect();
    vec![
        Statement::new(
            format!(
                "DELETE FROM generations WHERE job_id IN ({placeholders}) AND EXISTS (SELECT 1 FROM generation_jobs AS j \
                 WHERE j.id = generations.job_id AND +j.status IN ('completed', 'failed', 'cancelled', 'deleted'))"
            ),
            params.clone(),
        ),
        Statement::new(
            format!("DELETE FROM generation_jobs WHERE id IN ({placeholders}) AND +status IN ('completed', 'failed', 'cancelled', 'deleted')"),
            params,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::RETENTION_BATCH;
    use crate::jobs::sql::sqlite_tests::{database, run, values};
    use crate::jobs::sql::{
        claim_for_processing, insert_job, mark_failed,
        tests::{job, stored},
    };
    use rusqlite::{params_from_iter, Connection};

    fn returned(db: &Connection, statement: &Statement) -> Vec<Vec<rusqlite::types::Value>> {
        let mut prepared = db.prepare(&statement.sql).unwrap();
        let columns = prepared.column_count();
        prepared
            .query_map(params_from_iter(values(statement)), |row| {
                (0..columns).map(|i| row.get(i)).collect()
            })
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    fn ids(rows: &[Vec<rusqlite::types::Value>]) -> Vec<String> {
        rows.iter()
            .map(|row| match &row[0] {
                rusqlite::types::Value::Text(id) => id.clone(),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    fn row(db: &Connection, id: &str) -> (String, i64, Option<String>) {
        db.query_row(
            "SELECT status, updated_at, error FROM generation_jobs WHERE id = ?",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap()
    }

    #[test]
    fn stale_pending_jobs_are_claimed_once_oldest_first_and_bounded() {
        let db = database();
        for (id, at) in [("old-a", 10), ("old-b", 5), ("fresh", 90), ("ancient", -500)] {
            run(&db, insert_job(&job(id), "a fox", "flux-schnell", "admin", at));
        }
        run(&db, insert_job(&job("busy"), "p", "flux-schnell", "admin", 1));
        returned(&db, &claim_for_processing("busy", 2));
        let claim = claim_stale_pending(50, 0, 100, 1);
        let first = returned(&db, &claim);
        assert_eq!(ids(&first), ["old-b"], "oldest first, one per the limit");
        assert_eq!(first[0][2], rusqlite::types::Value::Text("a fox".into()));
        assert_eq!(row(&db, "old-b"), ("pending".into(), 100, None));
        // The next claim skips the one just claimed: a second sweep never sends it twice.
        assert_eq!(ids(&returned(&db, &claim_stale_pending(50, 0, 101, 10))), ["old-a"]);
        assert!(returned(&db, &claim_stale_pending(50, 0, 102, 10)).is_empty());
        assert_eq!(row(&db, "fresh").1, 90, "a fresh job is not touched");
        assert_eq!(
            row(&db, "ancient").1,
            -500,
            "too old to re-queue: another rule fails it"
        );
        assert_eq!(row(&db, "busy").0, "processing");
    }

    #[test]
    fn stuck_jobs_fail_with_the_reason_and_their_last_error_and_only_once() {
        let db = database();
        for id in ["stuck", "retried", "recent"] {
            run(&db, insert_job(&job(id), "p", "flux-schnell", "admin", 1));
        }
        returned(&db, &claim_for_processing("stuck", 2));
        returned(&db, &claim_for_processing("retried", 3));
        run(
            &db,
            Statement::new(
                "UPDATE generation_jobs SET error = 'R2 down' WHERE id = 'retried'",
                vec![],
            ),
        );
        returned(&db, &claim_for_processing("recent", 80));
        let fail = fail_stale("processing", 50, None, "No result.", 100, 10);
        let mut failed = ids(&returned(&db, &fail));
        failed.sort();
        assert_eq!(failed, ["retried", "stuck"]);
        assert_eq!(row(&db, "stuck"), ("failed".into(), 100, Some("No result.".into())));
        assert_eq!(
            row(&db, "retried").2.as_deref(),
            Some("No result. Last recorded error: R2 down")
        );
        assert_eq!(row(&db, "recent").0, "processing");
        assert!(returned(&db, &fail).is_empty(), "idempotent");
        // Never-delivered: pending, stale, and created before the bound.
        run(&db, insert_job(&job("lost"), "p", "flux-schnell", "admin", 5));
        run(&db, insert_job(&job("young"), "p", "flux-schnell", "admin", 40));
        let undelivered = fail_stale("pending", 50, Some(30), "Never delivered.", 100, 10);
        assert_eq!(ids(&returned(&db, &undelivered)), ["lost"]);
        assert_eq!(row(&db, "young").0, "pending");
        assert_eq!(row(&db, "stuck").0, "failed");
    }

    #[test]
    fn a_completed_job_is_never_touched_by_the_sweeper() {
        let db = database();
        run(&db, insert_job(&job("done"), "p", "flux-schnell", "admin", 1));
        run(
            &db,
            crate::jobs::sql::mark_completed("done", &stored("/images/k.png", None), 2),
        );
        assert!(returned(&db, &fail_stale("processing", i64::MAX, None, "x", 9, 10)).is_empty());
        assert!(returned(&db, &fail_stale("pending", i64::MAX, Some(i64::MAX), "x", 9, 10)).is_empty());
        assert!(returned(&db, &claim_stale_pending(i64::MAX, 0, 9, 10)).is_empty());
        assert_eq!(row(&db, "done").0, "completed");
    }

    #[test]
    fn retention_selects_finished_jobs_and_deletes_them_with_their_gallery_rows() {
        let db = database();
        for (id, at) in [("c-old", 1), ("f-old", 2), ("p-old", 3), ("d-old", 4), ("c-new", 50)] {
            run(&db, insert_job(&job(id), "p", "flux-schnell", "admin", at));
        }
        for id in ["c-old", "c-new", "d-old"] {
            let image = stored(&format!("/images/{id}.png"), None);
            run(&db, crate::jobs::sql::mark_completed(id, &image, 60));
            run(
                &db,
                crate::jobs::sql::insert_generation(&format!("g-{id}"), id, &image, "p", "m", 60),
            );
        }
        run(&db, mark_failed("f-old", "boom", 60));
        let tombstoned = returned(
            &db,
            &crate::jobs::delete_sql::tombstone_jobs(&["d-old".into()], None, 61),
        );
        assert_eq!(ids(&tombstoned), ["d-old"]);
        let expired = returned(&db, &select_expired(10, RETENTION_BATCH as i64));
        assert_eq!(
            ids(&expired),
            ["c-old", "f-old", "d-old"],
            "finished (a tombstone too) and old only, oldest first"
        );
        assert_eq!(expired[0][4], rusqlite::types::Value::Text("/images/c-old.png".into()));
        assert_eq!(expired[1][4], rusqlite::types::Value::Null);
        // A pending id slipped into the list is still not deleted.
        let doomed = vec![
            "c-old".to_string(),
            "f-old".to_string(),
            "p-old".to_string(),
            "d-old".to_string(),
        ];
        let tx = db.unchecked_transaction().unwrap();
        for statement in delete_jobs(&doomed) {
            run(&tx, statement);
        }
        tx.commit().unwrap();
        let left: Vec<String> = db
            .prepare("SELECT id FROM generation_jobs ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(left, ["c-new", "p-old"]);
        let gallery: i64 = db
            .query_row("SELECT COUNT(*) FROM generations", [], |r| r.get(0))
            .unwrap();
        assert_eq!(gallery, 1);
        assert!(returned(&db, &select_expired(10, 50)).is_empty(), "idempotent");
    }

    /// An `inputs` column as edit_image writes it, one entry per (source, url).
    fn inputs(entries: &[(&str, &str)]) -> Option<String> {
        let entries: Vec<serde_json::Value> = entries
            .iter()
            .map(|(source, url)| {
                serde_json::json!({"role": "image", "source": source, "url": url, "format": "png", "width": 64, "height": 64})
            })
            .collect();
        Some(serde_json::Value::from(entries).to_string())
    }

    #[test]
    fn an_input_is_unreferenced_only_when_no_job_outside_the_deleted_ones_mentions_it() {
        let db = database();
        let with = |id: &str, entries: &[(&str, &str)]| crate::jobs::NewJob {
            inputs: inputs(entries),
            ..job(id)
        };
        // Expiring now: `old-a` uploaded x and used y in place (y was uploaded for `live`) and an
        // earlier job's image; `old-b` uploaded z, which `old-c` (expired too, but left for the
        // next batch) also uses.
        let old_a = with(
            "old-a",
            &[
                ("data URL (10 bytes)", "/images/input-x.png"),
                (
                    "https://img.example.com/input-y.png",
                    "https://img.example.com/input-y.png",
                ),
                ("earlier", "/images/1-earlier-job.png"),
            ],
        );
        let old_b = with("old-b", &[("data URL (10 bytes)", "/images/input-z.jpg")]);
        let old_c = with("old-c", &[("/images/input-z.jpg", "/images/input-z.jpg")]);
        // Still live: y under another base (recorded before PUBLIC_IMAGE_BASE_URL changed); w
        // named only as the source of a converted copy; v by a pending edit made after the sweep
        // read its rows.
        let live = with(
            "live",
            &[("data URL (10 bytes)", "https://old-base.example/input-y.png")],
        );
        let converted = with("converted", &[("/images/input-w.webp", "/images/input-w2.png")]);
        let pending = with("pending", &[("/images/input-v.png", "/images/input-v.png")]);
        for (row, at) in [(&old_a, 1), (&old_b, 2), (&old_c, 3), (&live, 50), (&converted, 50)] {
            run(&db, insert_job(row, "p", "flux-2-klein-4b", "admin", at));
            run(&db, mark_failed(&row.id, "boom", 60));
        }
        run(&db, insert_job(&job("no-inputs"), "p", "flux-schnell", "admin", 1));
        run(&db, insert_job(&pending, "p", "sd-v1-5-img2img", "admin", 70));
        let candidates: Vec<String> = [
            "input-x.png",
            "input-y.png",
            "input-z.jpg",
            "input-w.webp",
            "input-v.png",
            "input-u.png",
        ]
        .map(String::from)
        .to_vec();
        let deleting = vec!["old-a".to_string(), "old-b".to_string()];
        let unreferenced = returned(&db, &unreferenced_inputs(&candidates, &deleting));
        assert_eq!(
            ids(&unreferenced),
            ["input-u.png", "input-x.png"],
            "x only the deleted jobs use, u no row names; y, z, w and v are still used"
        );
        // Once `old-c` goes too, z is free; a duplicate candidate comes back once.
        let more = ["input-z.jpg", "input-z.jpg"].map(String::from).to_vec();
        let deleting = ["old-a", "old-b", "old-c"].map(String::from).to_vec();
        assert_eq!(
            ids(&returned(&db, &unreferenced_inputs(&more, &deleting))),
            ["input-z.jpg"]
        );
        // Nothing to check, nothing found; and nothing excluded, everything named is kept.
        assert!(returned(&db, &unreferenced_inputs(&[], &deleting)).is_empty());
        assert_eq!(
            ids(&returned(&db, &unreferenced_inputs(&candidates, &[]))),
            ["input-u.png"]
        );
    }

    #[test]
    fn statements_bind_as_many_values_as_placeholders_and_stay_within_d1s_limit() {
        let ids: Vec<String> = (0..RETENTION_BATCH).map(|i| format!("id-{i}")).collect();
        let mut statements = vec![
            claim_stale_pending(1, 2, 3, 4),
            fail_stale("processing", 1, None, "e", 2, 3),
            fail_stale("pending", 1, Some(2), "e", 3, 4),
            select_expired(1, 2),
            unreferenced_inputs(&ids, &ids),
        ];
        statements.extend(delete_jobs(&ids));
        for statement in statements {
            assert_eq!(
                statement.sql.matches('?').count(),
                statement.params.len(),
                "{}",
                statement.sql
            );
            assert!(statement.params.len() <= 100, "D1 binds at most 100 parameters");
        }
    }
}
