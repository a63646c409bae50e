//! SQL for deleting images (delete_image, the gallery's Delete): the job row becomes a tombstone
//! with status `deleted` and everything it said about the image cleared, and its gallery row
//! goes. Built as plain data, like `sql`, and run against SQLite in the tests below.
//!
//! Both statements take the ids as one JSON array (`json_each`), so they bind a fixed number of
//! values however many jobs one call deletes. Guards live in the WHERE clauses: a job still
//! pending or processing is never touched (its attempt could store an image after the delete),
//! a tombstone is left as it is (a repeat changes nothing, not even `updated_at`), and a key's
//! call touches only that key's rows.

use super::sql::{json_ids, listed_owner_clause};
use crate::d1::Statement;

/// The `error` every tombstone carries, so a wait or a listing that shows errors says why the job
/// has no image.
pub const DELETED_MESSAGE: &str = "This image was deleted: its file, thumbnail, prompt and parameters are gone.";

/// Turns the finished jobs among `ids` (of `owner`, or any owner's for `None`) into tombstones:
/// status `deleted`, prompt empty (the column is NOT NULL), parameters, seed, size, inputs,
/// image, thumbnail (and its inline text) and byte count NULL, [`DELETED_MESSAGE`] as the error. Returns the ids it
/// changed.
pub fn tombstone_jobs(ids: &[String], owner: Option<&str>, now: i64) -> Statement {
    let mut params = vec![DELETED_MESSAGE.into(), now.into(), json_ids(ids)];
    let owner_only = listed_owner_clause(owner, &mut params);
    Statement::new(
        format!(
            "UPDATE generation_jobs SET status = 'deleted', prompt = '', parameters = NULL, seed = NULL, \
             width = NULL, height = NULL, inputs = NULL, image_url = NULL, thumbnail_url = NULL, \
             thumbnail_base64 = NULL, image_size = NULL, error = ?, updated_at = ? \
             WHERE id IN (SELECT value FROM json_each(?)) \
             AND status NOT IN ('pending', 'processing', 'deleted'){owner_only} RETURNING id"
        ),
        params,
    )
}

/// Deletes the gallery rows of those of `ids` that are tombstones (run after
/// [`tombstone_jobs`] in the same batch, so a job that was not deleted keeps its row).
pub fn delete_gallery_rows(ids: &[String]) -> Statement {
    Statement::new(
        "DELETE FROM generations WHERE job_id IN (SELECT value FROM json_each(?)) \
         AND EXISTS (SELECT 1 FROM generation_jobs AS j WHERE j.id = generations.job_id AND +j.status = 'deleted')",
        vec![json_ids(ids)],
    )
}

/// The jobs still pending or processing whose inputs name any of `keys` (R2 keys of images about
/// to be deleted): their model has yet to read those bytes. Matched as plain text in `inputs`,
/// like the sweeper's `unreferenced_inputs`, so the answer errs towards refusing.
pub fn running_users(keys: &[String]) -> Statement {
    Statement::new(
        "SELECT DISTINCT j.id AS id FROM generation_jobs AS j, json_each(?) AS k \
         WHERE j.status IN ('pending', 'processing') AND j.inputs IS NOT NULL AND instr(j.inputs, k.value) > 0",
        vec![json_ids(keys)],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::sql::sqlite_tests::{database, run, values};
    use crate::jobs::sql::tests::{job, stored};
    use crate::jobs::sql::{claim_for_processing, insert_generation, insert_job, mark_completed, mark_failed};
    use rusqlite::{params_from_iter, Connection};

    fn ids(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    type Row = (
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<i64>,
        i64,
    );

    fn row(db: &Connection, id: &str) -> Row {
        db.query_row(
            "SELECT status, prompt, parameters, image_url, inputs, seed, updated_at FROM generation_jobs WHERE id = ?",
            [id],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                ))
            },
        )
        .unwrap()
    }

    fn gallery_rows(db: &Connection, id: &str) -> i64 {
        db.query_row("SELECT COUNT(*) FROM generations WHERE job_id = ?", [id], |r| r.get(0))
            .unwrap()
    }

    fn changed(db: &Connection, statement: &Statement) -> Vec<String> {
        let mut prepared = db.prepare(&statement.sql).unwrap();
        prepared
            .query_map(params_from_iter(values(statement)), |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    /// What the store sends as one batch.
    fn delete(db: &Connection, targets: &[String], owner: Option<&str>, now: i64) -> Vec<String> {
        let tx = db.unchecked_transaction().unwrap();
        let done = changed(&tx, &tombstone_jobs(targets, owner, now));
        run(&tx, delete_gallery_rows(targets));
        tx.commit().unwrap();
        done
    }

    fn completed(db: &Connection, id: &str, owner: &str) {
        let mut new = job(id);
        new.inputs = Some(r#"[{"url":"/images/input-x.png"}]"#.into());
        run(db, insert_job(&new, "a secret prompt", "flux-schnell", owner, 1));
        let image = stored(&format!("/images/1-a-{id}.png"), Some("t"));
        run(db, mark_completed(id, &image, 5));
        run(
            db,
            insert_generation(&format!("g-{id}"), id, &image, "a secret prompt", "flux-schnell", 5),
        );
    }

    #[test]
    fn a_finished_job_becomes_a_tombstone_without_its_prompt_or_parameters_and_leaves_the_gallery() {
        let db = database();
        completed(&db, "done", "alice");
        run(&db, insert_job(&job("broken"), "p", "flux-schnell", "alice", 1));
        run(&db, mark_failed("broken", "model unavailable", 2));
        assert_eq!(gallery_rows(&db, "done"), 1);
        let mut done = delete(&db, &ids(&["done", "broken"]), Some("alice"), 100);
        done.sort();
        assert_eq!(done, ["broken", "done"]);
        assert_eq!(
            row(&db, "done"),
            ("deleted".into(), String::new(), None, None, None, None, 100),
            "status deleted; prompt, parameters, image, inputs and seed cleared"
        );
        assert_eq!(row(&db, "broken").0, "deleted");
        assert_eq!(gallery_rows(&db, "done"), 0, "the gallery row goes");
        let error: String = db
            .query_row("SELECT error FROM generation_jobs WHERE id = 'done'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(error, DELETED_MESSAGE);
    }

    #[test]
    fn a_repeat_changes_nothing_and_a_tombstone_stays_one() {
        let db = database();
        completed(&db, "done", "admin");
        assert_eq!(delete(&db, &ids(&["done"]), None, 100), ["done"]);
        assert!(delete(&db, &ids(&["done"]), None, 200).is_empty());
        assert_eq!(row(&db, "done").6, 100, "a repeat does not even touch updated_at");
        // Late deliveries of the queue cannot revive or fail it.
        assert_eq!(run(&db, mark_failed("done", "late", 300)), 0);
        assert_eq!(run(&db, mark_completed("done", &stored("/images/x.png", None), 300)), 0);
        assert!(changed(&db, &claim_for_processing("done", 300)).is_empty());
        assert_eq!(row(&db, "done").0, "deleted");
    }

    #[test]
    fn running_jobs_and_other_keys_jobs_are_left_alone() {
        let db = database();
        completed(&db, "bobs", "bob");
        run(&db, insert_job(&job("waiting"), "p", "flux-schnell", "alice", 1));
        run(&db, insert_job(&job("busy"), "p", "flux-schnell", "alice", 1));
        changed(&db, &claim_for_processing("busy", 2));
        assert!(delete(&db, &ids(&["bobs", "waiting", "busy"]), Some("alice"), 100).is_empty());
        assert_eq!(row(&db, "bobs").0, "completed");
        assert_eq!(gallery_rows(&db, "bobs"), 1, "another key's gallery row stays");
        assert_eq!(row(&db, "waiting").0, "pending");
        assert_eq!(row(&db, "busy").0, "processing");
        // The administrator may delete any key's job.
        assert_eq!(delete(&db, &ids(&["bobs"]), None, 100), ["bobs"]);
    }

    #[test]
    fn a_running_job_that_reads_an_image_is_found_and_a_finished_one_is_not() {
        let db = database();
        let mut edit = job("edit");
        edit.inputs = Some(r#"[{"url":"/images/1-a-fox-done.png"}]"#.into());
        run(&db, insert_job(&edit, "p", "flux-schnell", "alice", 1));
        let users = |keys: &[&str]| changed(&db, &running_users(&ids(keys)));
        assert_eq!(users(&["1-a-fox-done.png", "other.png"]), ["edit"]);
        assert!(users(&["other.png"]).is_empty());
        run(&db, mark_failed("edit", "boom", 2));
        assert!(
            users(&["1-a-fox-done.png"]).is_empty(),
            "a finished job reads nothing any more"
        );
    }

    #[test]
    fn many_ids_bind_one_value() {
        let many: Vec<String> = (0..500).map(|i| format!("id-{i}")).collect();
        assert_eq!(tombstone_jobs(&many, None, 1).params.len(), 3);
        assert_eq!(tombstone_jobs(&many, Some("k"), 1).params.len(), 4);
        assert_eq!(delete_gallery_rows(&many).params.len(), 1);
    }
}
