//! SQL for every job and gallery query, built as plain data so it can be tested without D1.
//!
//! Status guards live in the WHERE clauses: a job that reached `completed` is never
//! moved back, whatever order retries and redeliveries arrive in.

use super::{ImageFilter, ImagePosition, JobFilter, JobStatus, Limits, NewJob, Page, Spend, StatusFilter, StoredImage};
use crate::d1::{SqlValue, Statement};

/// Declares a row's columns once, in the row struct's field order, each named as its field is
/// (`"g.id"` for field `id`; `real` after a REAL column), giving two select lists that read the
/// same values: `$plain`, one column per field (`g.id, …`, read by name), and `$json`, the whole
/// row as one JSON array text named `j` (`json_array(g.id, …) AS j`), which crosses from D1 into
/// Wasm as one string per row instead of an object converted field by field. The array carries
/// no keys (a bench job row takes 282 bytes of D1's answer, against 504 as a `json_object`), so
/// serde reads it by position, and the struct's fields after the last column take their
/// defaults; `the_columns_are_the_row_structs_fields_in_order` holds the lists to the structs.
/// Adding a column is one line here and its field in the row struct, in the same place. A second
/// declaration after `;` whose list opens with `..` is the same row with more columns after the
/// first's (`[.., "extra"]`): its two lists are derived from the first's, so the shared columns
/// are written once.
macro_rules! row_columns {
    (
        $(#[$meta:meta])* $plain:ident, $json:ident = [$($column:literal $($real:ident)?),+ $(,)?];
        $(#[$wide_meta:meta])* $wide_plain:ident, $wide_json:ident =
        [.., $($extra:literal $($extra_real:ident)?),+ $(,)?]
    ) => {
        row_columns!($(#[$meta])* $plain, $json = [$($column $($real)?),+]);
        row_columns!(
            $(#[$wide_meta])* $wide_plain, $wide_json = [$($column $($real)?),+, $($extra $($extra_real)?),+]
        );
    };
    (
        $(#[$meta:meta])* $plain:ident, $json:ident =
        [$first:literal $($first_real:ident)? $(, $expr:literal $($real:ident)?)* $(,)?]
    ) => {
        $(#[$meta])*
        pub(super) const $plain: &str = concat!($first $(, ", ", $expr)*);
        $(#[$meta])*
        pub(super) const $json: &str = concat!(
            "json_array(", json_value!($first $($first_real)?)
            $(, ", ", json_value!($expr $($real)?))*,
            ") AS j"
        );
    };
}

/// A column's value inside `json_array`. SQLite renders a REAL there with 15 significant digits
/// (3.50's `json.c`: `%!0.15g`), which can change the double; printed with 17 it reads back as
/// the very same double, and `json()` makes that text a number (NULL stays NULL).
macro_rules! json_value {
    ($expr:literal) => {
        $expr
    };
    ($expr:literal real) => {
        concat!("iif(", $expr, " IS NULL, NULL, json(printf('%!.17g', ", $expr, ")))")
    };
}

row_columns! {
    /// Every `JobRow` field.
    JOB_COLUMNS, JOB_JSON = [
        "id", "status", "prompt", "model", "image_url", "error", "created_at", "updated_at", "seed", "width",
        "height", "parameters", "thumbnail_url", "image_size", "inputs", "estimated_neurons" real,
        "estimated_usd" real,
    ];
    /// A job row with its inline preview (`thumbnail_base64`), for the queries of tools that show
    /// it; listings and the sweeper read [`JOB_COLUMNS`] and leave the text in D1.
    JOB_COLUMNS_WITH_PREVIEW, JOB_JSON_WITH_PREVIEW = [.., "thumbnail_base64"]
}

row_columns! {
    /// Gallery rows with their job's generation parameters (every `GenerationRow` field).
    GENERATION_COLUMNS, GENERATION_JSON = [
        "g.id",
        "g.job_id",
        "g.image_url",
        "g.prompt",
        "g.model",
        "g.created_at",
        "j.seed",
        "j.width",
        "j.height",
        "j.parameters",
        "g.thumbnail_url",
        "g.image_size",
        "j.inputs",
        "j.estimated_neurons" real,
        "j.estimated_usd" real,
    ]
}

/// How a query hands its rows over: [`Select::Json`] on the read paths (`Db::json_rows`), the
/// plain columns for the tests that compare the two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Select {
    /// One column per field, read as a JS object per row.
    #[cfg_attr(not(test), allow(dead_code))]
    Columns,
    /// One JSON array text per row (its values in the row struct's field order), in a column
    /// named `j`.
    Json,
}

impl Select {
    fn jobs(self) -> &'static str {
        match self {
            Select::Columns => JOB_COLUMNS,
            Select::Json => JOB_JSON,
        }
    }

    fn jobs_with_preview(self) -> &'static str {
        match self {
            Select::Columns => JOB_COLUMNS_WITH_PREVIEW,
            Select::Json => JOB_JSON_WITH_PREVIEW,
        }
    }

    fn generations(self) -> &'static str {
        match self {
            Select::Columns => GENERATION_COLUMNS,
            Select::Json => GENERATION_JSON,
        }
    }
}

/// Inserts `jobs`, pending, with one prompt, model, owner and time, in one statement whatever
/// their number: each job's own values travel as one row of a JSON array read by `json_each`, in
/// order. So 20 jobs bind 6 values instead of 260 (D1 takes at most 100 a statement), and D1 runs
/// one statement instead of 20, which made `generate_image` ×20 1.23× faster; one job is level
/// with a row of 13 bound values (bench/README.md, seventeenth pass). The array is written by
/// serde_json and read back by SQLite's JSON functions, which give each text and integer back
/// exactly, and each REAL over the range an estimate takes (`insert_jobs_stores_each_value_exactly`,
/// fuzz_tests.rs).
pub fn insert_jobs(jobs: &[NewJob], prompt: &str, model: &str, owner: &str, now: i64) -> Statement {
    let rows: Vec<_> = jobs
        .iter()
        .map(|job| {
            (
                &job.id,
                job.seed,
                job.width,
                job.height,
                &job.parameters,
                &job.inputs,
                job.estimated_neurons,
                job.estimated_usd,
            )
        })
        .collect();
    // Strings, integers, finite floats and nulls: serde_json cannot fail on them.
    let rows = serde_json::to_string(&rows).unwrap_or_default();
    Statement::new(
        "INSERT INTO generation_jobs \
         (id, status, prompt, model, image_url, error, created_at, updated_at, seed, width, height, parameters, owner, inputs, \
         estimated_neurons, estimated_usd) \
         SELECT job.value ->> 0, 'pending', ?, ?, NULL, NULL, ?, ?, job.value ->> 1, job.value ->> 2, job.value ->> 3, \
         job.value ->> 4, ?, job.value ->> 5, job.value ->> 6, job.value ->> 7 FROM json_each(?) AS job",
        vec![
            prompt.into(),
            model.into(),
            now.into(),
            now.into(),
            owner.into(),
            rows.into(),
        ],
    )
}

/// [`insert_jobs`] for one job: how the tests make their rows.
#[cfg(test)]
pub fn insert_job(job: &NewJob, prompt: &str, model: &str, owner: &str, now: i64) -> Statement {
    insert_jobs(std::slice::from_ref(job), prompt, model, owner, now)
}

/// ` WHERE a = ? AND b = ?` for the conditions given (nothing for none), and their values.
fn where_clause(conditions: Vec<(&'static str, SqlValue)>) -> (String, Vec<SqlValue>) {
    if conditions.is_empty() {
        return (String::new(), Vec::new());
    }
    let (columns, params): (Vec<&str>, Vec<SqlValue>) = conditions.into_iter().unzip();
    (format!(" WHERE {}", columns.join(" AND ")), params)
}

/// `ids` as one JSON array text, bound once and read with `json_each`: a list of any length is
/// one value, where `IN (?, ?, …)` would take one each (D1 takes at most 100 a statement).
pub(super) fn json_ids(ids: &[String]) -> SqlValue {
    SqlValue::from(serde_json::to_string(ids).unwrap_or_else(|_| "[]".to_string()))
}

/// ` AND owner = ?` (its value pushed onto `params`) when the caller sees only its own rows
/// (jobs or tasks); nothing for the administrator (`None`).
pub(super) fn owner_clause(owner: Option<&str>, params: &mut Vec<SqlValue>) -> &'static str {
    owner_term(owner, params, " AND owner = ?")
}

/// [`owner_clause`] for a statement that acts on a list of jobs: ` AND +owner = ?`. The unary
/// `+` keeps SQLite from reading the rows through the owner's index (every job of the key) and
/// makes it look each listed id up by primary key (`statements_on_a_list_of_jobs_look_each_up_by_id`).
pub(super) fn listed_owner_clause(owner: Option<&str>, params: &mut Vec<SqlValue>) -> &'static str {
    owner_term(owner, params, " AND +owner = ?")
}

/// `term` with the owner's value pushed onto `params`, or nothing for the administrator (`None`).
fn owner_term(owner: Option<&str>, params: &mut Vec<SqlValue>, term: &'static str) -> &'static str {
    match owner {
        Some(owner) => {
            params.push(owner.into());
            term
        }
        None => "",
    }
}

/// Keyset pagination, newest first: the rows strictly after the one at (`created_at`, `id`)
/// (id breaks ties), its values pushed onto `params`.
pub(super) fn older_than(created_at: i64, id: &str, params: &mut Vec<SqlValue>) -> &'static str {
    params.extend([created_at.into(), created_at.into(), id.into()]);
    " AND (created_at < ? OR (created_at = ? AND id < ?))"
}

/// The owner condition a caller's visibility adds: `None` (the administrator) sees every owner.
fn owner_condition(owner: Option<&str>, column: &'static str) -> Option<(&'static str, SqlValue)> {
    owner.map(|owner| (column, SqlValue::from(owner)))
}

/// One job, as one JSON text (read with `Db::json_rows`).
pub fn select_job(id: &str, owner: Option<&str>) -> Statement {
    select_job_as(Select::Json, id, owner)
}

pub(crate) fn select_job_as(select: Select, id: &str, owner: Option<&str>) -> Statement {
    let conditions = [Some(("id = ?", id.into())), owner_condition(owner, "owner = ?")];
    let (clause, params) = where_clause(conditions.into_iter().flatten().collect());
    Statement::new(
        format!("SELECT {} FROM generation_jobs{clause}", select.jobs_with_preview()),
        params,
    )
}

/// The job's status alone (read at the end of the completing batch).
pub fn select_status(id: &str) -> Statement {
    Statement::new("SELECT status FROM generation_jobs WHERE id = ?", vec![id.into()])
}

/// Selects the given jobs the owner may see; duplicate ids are the caller's to remove (they
/// would only repeat rows).
pub fn select_jobs(ids: &[String], owner: Option<&str>) -> Statement {
    let placeholders = vec!["?"; ids.len()].join(", ");
    let mut params: Vec<SqlValue> = ids.iter().map(|id| SqlValue::from(id.as_str())).collect();
    let owner_only = listed_owner_clause(owner, &mut params);
    Statement::new(
        format!("SELECT {JOB_COLUMNS_WITH_PREVIEW} FROM generation_jobs WHERE id IN ({placeholders}){owner_only}"),
        params,
    )
}

fn status_clause(filter: StatusFilter, owner: Option<&str>) -> (String, Vec<SqlValue>) {
    let status = match filter {
        StatusFilter::All => None,
        StatusFilter::Only(status) => Some(("status = ?", status.as_str().into())),
    };
    where_clause(
        [status, owner_condition(owner, "owner = ?")]
            .into_iter()
            .flatten()
            .collect(),
    )
}

pub fn count_jobs(filter: StatusFilter, owner: Option<&str>) -> Statement {
    let (clause, params) = status_clause(filter, owner);
    Statement::new(format!("SELECT COUNT(*) AS total FROM generation_jobs{clause}"), params)
}

/// Newest first; id breaks ties so pages never overlap when jobs share a millisecond. One JSON
/// text per row.
pub fn list_jobs(filter: StatusFilter, page: Page, owner: Option<&str>) -> Statement {
    list_jobs_as(Select::Json, filter, page, owner)
}

pub(crate) fn list_jobs_as(select: Select, filter: StatusFilter, page: Page, owner: Option<&str>) -> Statement {
    let (clause, mut params) = status_clause(filter, owner);
    params.extend([page.limit.into(), page.offset.into()]);
    Statement::new(
        format!(
            "SELECT {} FROM generation_jobs{clause} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
            select.jobs()
        ),
        params,
    )
}

/// `WHERE model = ? AND status = ? AND prompt LIKE ? AND owner = ?` with the parts set (without a
/// status, `status != 'deleted'`: tombstones show only when asked for).
fn job_filter_clause(filter: JobFilter, owner: Option<&str>) -> (String, Vec<SqlValue>) {
    let status = match filter.status {
        Some(status) => ("status = ?", status.as_str().into()),
        None => ("status != ?", JobStatus::Deleted.as_str().into()),
    };
    let conditions = [
        filter.model.map(|model| ("model = ?", model.into())),
        Some(status),
        filter
            .search
            .map(|text| ("prompt LIKE ? ESCAPE '\\'", contains_pattern(text).into())),
        owner_condition(owner, "owner = ?"),
    ];
    where_clause(conditions.into_iter().flatten().collect())
}

/// A LIKE pattern matching any text that contains `text` literally: `\`, `%` and `_` are
/// escaped with `\` (the statement says `ESCAPE '\'`), then wrapped in `%…%`.
pub fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// How many jobs the gallery filter matches.
pub fn count_filtered_jobs(filter: JobFilter, owner: Option<&str>) -> Statement {
    let (clause, params) = job_filter_clause(filter, owner);
    Statement::new(format!("SELECT COUNT(*) AS total FROM generation_jobs{clause}"), params)
}

/// One gallery page of jobs matching the filter, newest first (id breaks ties); one JSON text per row.
pub fn list_filtered_jobs(filter: JobFilter, page: Page, owner: Option<&str>) -> Statement {
    let (clause, mut params) = job_filter_clause(filter, owner);
    params.extend([page.limit.into(), page.offset.into()]);
    Statement::new(
        format!("SELECT {JOB_JSON} FROM generation_jobs{clause} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?"),
        params,
    )
}

pub fn count_generations(owner: Option<&str>) -> Statement {
    match owner {
        None => Statement::new("SELECT COUNT(*) AS total FROM generations", vec![]),
        Some(owner) => Statement::new(
            "SELECT COUNT(*) AS total FROM generations g JOIN generation_jobs j ON j.id = g.job_id \
             WHERE j.owner = ?",
            vec![owner.into()],
        ),
    }
}

/// The gallery's page, newest first, one JSON text per row.
pub fn list_generations(page: Page, owner: Option<&str>) -> Statement {
    list_generations_as(Select::Json, page, owner)
}

pub(crate) fn list_generations_as(select: Select, page: Page, owner: Option<&str>) -> Statement {
    let (clause, mut params) = where_clause(owner_condition(owner, "j.owner = ?").into_iter().collect());
    params.extend([page.limit.into(), page.offset.into()]);
    Statement::new(
        format!(
            "SELECT {} FROM generations g LEFT JOIN generation_jobs j ON j.id = g.job_id{clause} \
             ORDER BY g.created_at DESC, g.id DESC LIMIT ? OFFSET ?",
            select.generations()
        ),
        params,
    )
}

/// No neuron budget: a bound no day reaches (SQLite compares REALs exactly).
const NO_BUDGET: f64 = 1e300;

/// How both usage counters ([`reserve_usage`], [`count_usage`]) add to a day's existing row:
/// by the new row's images, neurons and USD. A macro, so each statement stays one static text.
macro_rules! add_to_existing_usage {
    () => {
        "ON CONFLICT (owner, day) DO UPDATE SET images = images + excluded.images, \
         neurons = neurons + excluded.neurons, usd = usd + excluded.usd"
    };
}

/// Adds `spend` to the owner's usage for `day` in one statement, so two calls racing for the
/// last images or neurons cannot both pass: the row is created or increased only while the new
/// totals stay within `limits` (none: always). It returns the new image total, or no row when the
/// reservation would pass a limit (then nothing changed).
pub fn reserve_usage(owner: &str, day: &str, spend: Spend, limits: Limits) -> Statement {
    let quota = limits.images.map_or(i64::MAX, i64::from);
    let budget = limits.neurons.unwrap_or(NO_BUDGET);
    let mut params = usage_row(owner, day, spend);
    params.extend([
        spend.images.into(),
        quota.into(),
        spend.neurons.into(),
        budget.into(),
        quota.into(),
        budget.into(),
    ]);
    Statement::new(
        concat!(
            "INSERT INTO daily_usage (owner, day, images, neurons, usd) SELECT ?, ?, ?, ?, ? WHERE ? <= ? AND ? <= ? ",
            add_to_existing_usage!(),
            " WHERE daily_usage.images + excluded.images <= ? AND daily_usage.neurons + excluded.neurons <= ? \
             RETURNING images"
        ),
        params,
    )
}

/// A `daily_usage` row's values in column order: owner, day, images, neurons, USD.
fn usage_row(owner: &str, day: &str, spend: Spend) -> Vec<SqlValue> {
    vec![
        owner.into(),
        day.into(),
        spend.images.into(),
        spend.neurons.into(),
        spend.usd.into(),
    ]
}

/// Adds `spend` to the owner's usage for `day`, with no limit to check: what the job-creating
/// batch counts for a caller without a quota or budget. [`reserve_usage`] with no limits does the
/// same, but its limit checks and `RETURNING` made the batch's D1 work measurably dearer
/// (bench/README.md, thirteenth pass), and inside a batch nothing reads the total.
pub fn count_usage(owner: &str, day: &str, spend: Spend) -> Statement {
    Statement::new(
        concat!(
            "INSERT INTO daily_usage (owner, day, images, neurons, usd) VALUES (?, ?, ?, ?, ?) ",
            add_to_existing_usage!()
        ),
        usage_row(owner, day, spend),
    )
}

/// Gives back a reservation whose work could not be done (never below zero).
pub fn release_usage(owner: &str, day: &str, spend: Spend) -> Statement {
    Statement::new(
        "UPDATE daily_usage SET images = MAX(images - ?, 0), neurons = MAX(neurons - ?, 0), usd = MAX(usd - ?, 0) \
         WHERE owner = ? AND day = ?",
        vec![
            spend.images.into(),
            spend.neurons.into(),
            spend.usd.into(),
            owner.into(),
            day.into(),
        ],
    )
}

/// Corrects the day's spend by `neurons` and `usd` (either sign) once the real figure is known
/// (describe_image: the model's token count replaces the estimate reserved before the call).
pub fn adjust_spend(owner: &str, day: &str, neurons: f64, usd: f64) -> Statement {
    Statement::new(
        "INSERT INTO daily_usage (owner, day, images, neurons, usd) VALUES (?, ?, 0, MAX(?, 0), MAX(?, 0)) \
         ON CONFLICT (owner, day) DO UPDATE SET neurons = MAX(neurons + ?, 0), usd = MAX(usd + ?, 0)",
        vec![
            owner.into(),
            day.into(),
            neurons.into(),
            usd.into(),
            neurons.into(),
            usd.into(),
        ],
    )
}

/// Images, neurons and USD counted for `day`: one owner's, or every owner's (the administrator's view).
pub fn select_usage(day: &str, owner: Option<&str>) -> Statement {
    let conditions = [Some(("day = ?", day.into())), owner_condition(owner, "owner = ?")];
    let (clause, params) = where_clause(conditions.into_iter().flatten().collect());
    Statement::new(
        format!("SELECT owner, images, neurons, usd FROM daily_usage{clause} ORDER BY owner"),
        params,
    )
}

/// Up to `limit` finished jobs that have a stored image, newest first (id breaks ties), strictly
/// after `after` when given. Keyset pagination: a page never repeats or skips an image when new
/// ones finish between requests, and its cost does not grow with the page number.
pub fn list_stored_images(filter: ImageFilter, after: Option<&ImagePosition>, limit: i64) -> Statement {
    let ImageFilter { owner } = filter;
    let mut params: Vec<SqlValue> = Vec::new();
    let mut clause = String::from("WHERE status = 'completed' AND image_url IS NOT NULL");
    clause.push_str(owner_clause(owner, &mut params));
    if let Some(position) = after {
        clause.push_str(older_than(position.created_at, &position.id, &mut params));
    }
    params.push(limit.into());
    Statement::new(
        format!("SELECT {JOB_COLUMNS} FROM generation_jobs {clause} ORDER BY created_at DESC, id DESC LIMIT ?"),
        params,
    )
}

/// Marks a job `processing` for a delivery and returns its row, in one round trip; no row when
/// the job is finished (or missing), which the caller tells apart with [`select_job`].
pub fn claim_for_processing(id: &str, now: i64) -> Statement {
    Statement::new(
        format!(
            "UPDATE generation_jobs SET status = 'processing', updated_at = ? \
             WHERE id = ? AND status IN ('pending', 'processing') RETURNING {JOB_COLUMNS}"
        ),
        vec![now.into(), id.into()],
    )
}

/// An attempt failed but the queue will retry: the job waits again, with the error on record.
pub fn record_retryable_failure(id: &str, error: &str, now: i64) -> Statement {
    Statement::new(
        "UPDATE generation_jobs SET status = 'pending', error = ?, updated_at = ? \
         WHERE id = ? AND status IN ('pending', 'processing')",
        vec![error.into(), now.into(), id.into()],
    )
}

/// The job will not be retried any more. A completed or cancelled job is left alone, and so is a deleted one
/// (a tombstone stays one).
pub fn mark_failed(id: &str, error: &str, now: i64) -> Statement {
    Statement::new(
        "UPDATE generation_jobs SET status = 'failed', error = ?, updated_at = ? \
         WHERE id = ? AND status NOT IN ('completed', 'cancelled', 'deleted')",
        vec![error.into(), now.into(), id.into()],
    )
}

/// The dead-letter queue got the job: fail it with the last recorded error (or `fallback`).
pub fn mark_dead_lettered(id: &str, fallback: &str, now: i64) -> Statement {
    Statement::new(
        "UPDATE generation_jobs SET status = 'failed', error = COALESCE(error, ?), updated_at = ? \
         WHERE id = ? AND status NOT IN ('completed', 'cancelled', 'deleted')",
        vec![fallback.into(), now.into(), id.into()],
    )
}

/// Completes the job with its image, the image's real size and byte count, and its thumbnail
/// (NULL when none was made: a redelivery that made one fills it in) with the thumbnail's inline
/// text, set or cleared together with it.
pub fn mark_completed(id: &str, image: &StoredImage, now: i64) -> Statement {
    let size = image.size;
    let (width, height) = (size.map(|s| i64::from(s.0)), size.map(|s| i64::from(s.1)));
    Statement::new(
        "UPDATE generation_jobs SET status = 'completed', image_url = ?, error = NULL, updated_at = ?, \
         width = COALESCE(?, width), height = COALESCE(?, height), thumbnail_url = ?, image_size = ?, \
         thumbnail_base64 = ? \
         WHERE id = ? AND status NOT IN ('failed', 'cancelled', 'deleted')",
        vec![
            image.url.as_str().into(),
            now.into(),
            width.into(),
            height.into(),
            image.thumbnail_url.as_deref().into(),
            image.bytes.into(),
            image
                .thumbnail_url
                .as_ref()
                .and(image.thumbnail_base64.as_deref())
                .into(),
            id.into(),
        ],
    )
}

/// Adds the gallery row once per job: the unique index on job_id keeps it one row when a job is
/// completed again (two deliveries racing), and that completion's image, thumbnail and size
/// replace the row's as `mark_completed` replaces the job's, so the two rows never disagree about
/// which thumbnail exists (a redo without one deletes the earlier object). Only a job that is
/// `completed` gets a row (runs after `mark_completed` in the same batch, so a job another
/// delivery already failed stays out of the gallery).
pub fn insert_generation(
    generation_id: &str,
    job_id: &str,
    image: &StoredImage,
    prompt: &str,
    model: &str,
    now: i64,
) -> Statement {
    Statement::new(
        "INSERT INTO generations (id, job_id, image_url, prompt, model, created_at, thumbnail_url, image_size) \
         SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS \
         (SELECT 1 FROM generation_jobs WHERE id = ? AND status = 'completed') \
         ON CONFLICT (job_id) DO UPDATE SET image_url = excluded.image_url, \
         thumbnail_url = excluded.thumbnail_url, image_size = excluded.image_size",
        vec![
            generation_id.into(),
            job_id.into(),
            image.url.as_str().into(),
            prompt.into(),
            model.into(),
            now.into(),
            image.thumbnail_url.as_deref().into(),
            image.bytes.into(),
            job_id.into(),
        ],
    )
}

#[cfg(test)]
pub(in crate::jobs) mod tests {
    use super::*;
    use crate::jobs::JobStatus;

    pub(crate) fn job(id: &str) -> NewJob {
        NewJob {
            id: id.to_string(),
            seed: Some(42),
            width: None,
            height: None,
            parameters: r#"{"seed":42}"#.to_string(),
            inputs: None,
            estimated_neurons: Some(57.6),
            estimated_usd: Some(0.0006336),
        }
    }

    pub(in crate::jobs) fn stored(url: &str, thumbnail_url: Option<&str>) -> StoredImage {
        StoredImage {
            url: url.to_string(),
            size: Some((512, 384)),
            bytes: 123_456,
            thumbnail_url: thumbnail_url.map(String::from),
            thumbnail_base64: None,
        }
    }

    fn placeholders(statement: &Statement) -> usize {
        statement.sql.matches('?').count()
    }

    #[test]
    fn every_statement_binds_as_many_values_as_it_has_placeholders() {
        let page = Page { limit: 10, offset: 20 };
        let ids = vec!["a".to_string(), "b".to_string(), "c".to_string()];
        let statements = [
            insert_job(&job("id"), "prompt", "flux-schnell", "admin", 1),
            insert_jobs(&[job("a"), job("b")], "prompt", "flux-schnell", "admin", 1),
            select_job("id", None),
            select_jobs(&ids, None),
            count_jobs(StatusFilter::All, None),
            count_jobs(StatusFilter::Only(JobStatus::Failed), None),
            list_jobs(StatusFilter::All, page, None),
            list_jobs(StatusFilter::Only(JobStatus::Pending), page, None),
            count_generations(None),
            list_generations(page, None),
            count_filtered_jobs(JobFilter::default(), None),
            count_filtered_jobs(
                JobFilter {
                    model: Some("sdxl-base"),
                    status: Some(JobStatus::Failed),
                    ..JobFilter::default()
                },
                None,
            ),
            list_filtered_jobs(JobFilter::default(), page, None),
            list_filtered_jobs(
                JobFilter {
                    model: Some("flux-schnell"),
                    status: None,
                    ..JobFilter::default()
                },
                page,
                None,
            ),
            claim_for_processing("id", 1),
            record_retryable_failure("id", "e", 1),
            mark_failed("id", "e", 1),
            mark_dead_lettered("id", "e", 1),
            mark_completed("id", &stored("u", Some("t")), 1),
            mark_completed("id", &stored("u", None), 1),
            insert_generation("g", "j", &stored("u", Some("t")), "p", "m", 1),
            list_stored_images(ImageFilter::default(), None, 51),
            list_stored_images(ImageFilter { owner: Some("alice") }, None, 51),
            list_stored_images(
                ImageFilter::default(),
                Some(&ImagePosition {
                    created_at: 5,
                    id: "j".into(),
                }),
                51,
            ),
        ];
        for statement in statements {
            assert_eq!(
                placeholders(&statement),
                statement.params.len(),
                "mismatch in: {}",
                statement.sql
            );
        }
    }

    #[test]
    fn select_jobs_has_one_placeholder_per_id() {
        let ids: Vec<String> = (0..20).map(|i| format!("id-{i}")).collect();
        let statement = select_jobs(&ids, None);
        assert!(statement.sql.ends_with(&format!("IN ({})", vec!["?"; 20].join(", "))));
        assert_eq!(statement.params[19], SqlValue::Text("id-19".into()));
    }

    #[test]
    fn status_filter_adds_a_where_clause_only_when_filtering() {
        let all = list_jobs(StatusFilter::All, Page { limit: 5, offset: 0 }, None);
        assert!(!all.sql.contains("WHERE"));
        assert_eq!(all.params, vec![SqlValue::Integer(5), SqlValue::Integer(0)]);
        let failed = list_jobs(
            StatusFilter::Only(JobStatus::Failed),
            Page { limit: 5, offset: 10 },
            None,
        );
        assert!(failed.sql.contains("WHERE status = ?"));
        assert_eq!(
            failed.params,
            vec![
                SqlValue::Text("failed".into()),
                SqlValue::Integer(5),
                SqlValue::Integer(10)
            ]
        );
    }

    #[test]
    fn job_filter_binds_model_then_status_then_the_page() {
        let page = Page { limit: 24, offset: 48 };
        let all = list_filtered_jobs(JobFilter::default(), page, None);
        assert!(all
            .sql
            .ends_with("FROM generation_jobs WHERE status != ? ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?"));
        let deleted = SqlValue::Text("deleted".into());
        assert_eq!(
            all.params,
            vec![deleted.clone(), SqlValue::Integer(24), SqlValue::Integer(48)]
        );
        assert_eq!(
            count_filtered_jobs(JobFilter::default(), None).sql,
            "SELECT COUNT(*) AS total FROM generation_jobs WHERE status != ?"
        );
        let search = JobFilter {
            search: Some("50%_off\\"),
            ..JobFilter::default()
        };
        let searched = count_filtered_jobs(search, Some("alice"));
        assert!(
            searched
                .sql
                .ends_with(" WHERE status != ? AND prompt LIKE ? ESCAPE '\\' AND owner = ?"),
            "{}",
            searched.sql
        );
        assert_eq!(searched.params[1], SqlValue::Text("%50\\%\\_off\\\\%".into()));
        let model = JobFilter {
            model: Some("sdxl-lightning"),
            status: None,
            ..JobFilter::default()
        };
        assert!(count_filtered_jobs(model, None)
            .sql
            .ends_with(" WHERE model = ? AND status != ?"));
        let status = JobFilter {
            model: None,
            status: Some(JobStatus::Failed),
            ..JobFilter::default()
        };
        assert_eq!(
            count_filtered_jobs(status, None).params,
            vec![SqlValue::Text("failed".into())]
        );
        let both = JobFilter {
            model: Some("flux-schnell"),
            status: Some(JobStatus::Completed),
            ..JobFilter::default()
        };
        let listed = list_filtered_jobs(both, page, None);
        assert!(listed
            .sql
            .contains(" WHERE model = ? AND status = ? ORDER BY created_at DESC, id DESC"));
        assert_eq!(
            listed.params,
            vec![
                SqlValue::Text("flux-schnell".into()),
                SqlValue::Text("completed".into()),
                SqlValue::Integer(24),
                SqlValue::Integer(48)
            ]
        );
    }

    #[test]
    fn lists_are_newest_first() {
        assert!(list_jobs(StatusFilter::All, Page { limit: 1, offset: 0 }, None)
            .sql
            .contains("ORDER BY created_at DESC"));
        assert!(list_generations(Page { limit: 1, offset: 0 }, None)
            .sql
            .contains("ORDER BY g.created_at DESC"));
    }

    #[test]
    fn transitions_never_leave_a_finished_state_wrongly() {
        assert!(claim_for_processing("id", 1)
            .sql
            .contains("status IN ('pending', 'processing')"));
        assert!(record_retryable_failure("id", "e", 1)
            .sql
            .contains("status IN ('pending', 'processing')"));
        assert!(mark_failed("id", "e", 1)
            .sql
            .contains("status NOT IN ('completed', 'cancelled', 'deleted')"));
        assert!(mark_dead_lettered("id", "e", 1).sql.contains("COALESCE(error, ?)"));
        assert!(insert_generation("g", "j", &stored("u", None), "p", "m", 1)
            .sql
            .contains("ON CONFLICT (job_id) DO UPDATE"));
    }
}

/// The SQL above run against SQLite (D1's engine) with the real migrations applied.
#[cfg(test)]
pub(crate) mod sqlite_tests {
    use super::tests::{job, stored};
    use super::*;
    use crate::d1::Statement;
    use crate::jobs::{GenerationRow, JobRow, JobStatus};
    use rusqlite::{params_from_iter, Connection};

    use crate::d1::sqlite::{apply, migrations};
    pub(crate) use crate::d1::sqlite::{database, values};

    /// SQLite's plan for `statement`, one line per step.
    fn plan(db: &Connection, statement: &Statement) -> Vec<String> {
        let mut query = db.prepare(&format!("EXPLAIN QUERY PLAN {}", statement.sql)).unwrap();
        query
            .query_map(params_from_iter(values(statement)), |r| r.get::<_, String>(3))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    /// Statements that act on a list of jobs find each one by its id. Left to itself, SQLite
    /// chose the owner's index (every job of the key, scanned) or the status index over a list
    /// read by `json_each`, whose length it cannot see: a cost that grew with the table.
    #[test]
    fn statements_on_a_list_of_jobs_look_each_up_by_id() {
        let db = database();
        let ids: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        for owner in [Some("alice"), None] {
            let mut statements = vec![
                ("select_jobs", select_jobs(&ids, owner)),
                (
                    "tombstone_jobs",
                    crate::jobs::delete_sql::tombstone_jobs(&ids, owner, 1),
                ),
                (
                    "delete_gallery_rows",
                    crate::jobs::delete_sql::delete_gallery_rows(&ids),
                ),
            ];
            statements.extend(
                crate::jobs::cancel_sql::cancel_batch(&ids, owner, 1)
                    .into_iter()
                    .map(|statement| ("cancel_batch", statement)),
            );
            statements.extend(
                crate::jobs::sweep_sql::delete_jobs(&ids)
                    .into_iter()
                    .map(|statement| ("delete_jobs", statement)),
            );
            for (name, statement) in &statements {
                let steps = plan(&db, statement);
                for table in ["generation_jobs", "generations"] {
                    let reads: Vec<&String> = steps
                        .iter()
                        .filter(|step| step.contains(&format!(" {table} ")) || step.ends_with(&format!(" {table}")))
                        .collect();
                    let by_id = |step: &&String| {
                        step.starts_with(&format!("SEARCH {table} USING"))
                            && (step.contains("(id=?)") || step.contains("(job_id=?)"))
                    };
                    assert!(
                        reads.iter().all(by_id),
                        "{name} (owner {owner:?}) reads {table} other than by id: {steps:#?}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_status_migration_keeps_every_column_and_takes_cancelled_and_deleted() {
        let db = Connection::open_in_memory().unwrap();
        db.execute_batch("PRAGMA foreign_keys = ON").unwrap();
        let (old, new): (Vec<_>, Vec<_>) = migrations()
            .into_iter()
            .partition(|f| f.file_name().unwrap().to_str().unwrap() < "0008");
        for file in &old {
            apply(&db, file);
        }
        let row = "SELECT id, status, prompt, model, image_url, error, created_at, updated_at, seed, width, \
                   height, parameters, thumbnail_url, image_size, owner, inputs FROM generation_jobs";
        db.execute_batch(
            "INSERT INTO generation_jobs (id, status, prompt, model, image_url, error, created_at, updated_at, \
               seed, width, height, parameters, thumbnail_url, image_size, owner, inputs) \
             VALUES ('j', 'completed', 'a fox', 'flux-schnell', '/images/j.png', NULL, 1, 2, 7, 512, 256, \
               '{\"steps\":4}', '/images/j-thumb.webp', 1234, 'alice', '[]');
             INSERT INTO generations (id, job_id, image_url, prompt, model, created_at, thumbnail_url, image_size) \
             VALUES ('g', 'j', '/images/j.png', 'a fox', 'flux-schnell', 2, '/images/j-thumb.webp', 1234);",
        )
        .unwrap();
        let read = |db: &Connection, sql: &str| -> Vec<Vec<rusqlite::types::Value>> {
            let mut stmt = db.prepare(sql).unwrap();
            let n = stmt.column_count();
            stmt.query_map([], |r| (0..n).map(|i| r.get(i)).collect())
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        let (jobs, gallery) = (read(&db, row), read(&db, "SELECT * FROM generations"));
        assert!(db
            .execute_batch("UPDATE generation_jobs SET status = 'cancelled' WHERE id = 'j'")
            .is_err());
        for file in &new {
            apply(&db, file);
        }
        assert_eq!(read(&db, row), jobs);
        assert_eq!(read(&db, "SELECT * FROM generations"), gallery);
        for status in ["cancelled", "deleted"] {
            db.execute(
                &format!("UPDATE generation_jobs SET status = '{status}' WHERE id = 'j'"),
                [],
            )
            .unwrap();
        }
        assert!(db
            .execute_batch("UPDATE generation_jobs SET status = 'gone' WHERE id = 'j'")
            .is_err());
        assert!(
            db.execute_batch(
                "INSERT INTO generations (id, job_id, image_url, prompt, model, created_at) \
                 VALUES ('h', 'nope', 'u', 'p', 'm', 1)"
            )
            .is_err(),
            "the gallery's foreign key still points at the rebuilt jobs table"
        );
    }

    #[test]
    fn the_parameters_migration_keeps_every_row_of_the_old_schema() {
        let db = Connection::open_in_memory().unwrap();
        db.execute_batch("PRAGMA foreign_keys = ON").unwrap();
        let files = migrations();
        let (old, new): (Vec<_>, Vec<_>) = files
            .iter()
            .partition(|f| f.file_name().unwrap().to_str().unwrap() < "0003");
        for file in &old {
            apply(&db, file);
        }
        // Rows as the 0001 schema and the previous server wrote them.
        db.execute_batch(
            "INSERT INTO generation_jobs VALUES ('old-1', 'completed', 'a fox', 'sdxl-base', '/images/1-a-fox-old-1.png', NULL, 1, 2);
             INSERT INTO generation_jobs VALUES ('old-2', 'failed', 'a cat', 'flux-schnell', NULL, 'boom', 3, 4);
             INSERT INTO generation_jobs VALUES ('old-3', 'pending', 'a dog', 'sdxl-lightning', NULL, NULL, 5, 5);
             INSERT INTO generations VALUES ('g-1', 'old-1', '/images/1-a-fox-old-1.png', 'a fox', 'sdxl-base', 2);",
        )
        .unwrap();
        assert!(
            db.execute_batch("INSERT INTO generation_jobs VALUES ('x', 'pending', 'p', 'phoenix', NULL, NULL, 1, 1)")
                .is_err(),
            "the old schema refuses new model names"
        );
        for file in &new {
            apply(&db, file);
        }
        type Job = (String, String, String, Option<String>, Option<i64>);
        let jobs: Vec<Job> = db
            .prepare("SELECT id, status, model, error, seed FROM generation_jobs ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            jobs,
            [
                ("old-1".into(), "completed".into(), "sdxl-base".into(), None, None),
                (
                    "old-2".into(),
                    "failed".into(),
                    "flux-schnell".into(),
                    Some("boom".into()),
                    None
                ),
                ("old-3".into(), "pending".into(), "sdxl-lightning".into(), None, None),
            ]
        );
        let gallery: i64 = db
            .query_row("SELECT COUNT(*) FROM generations", [], |r| r.get(0))
            .unwrap();
        assert_eq!(gallery, 1);
        // New model names are accepted; the constraints that matter still hold.
        run(&db, insert_job(&job("new-1"), "p", "phoenix", "admin", 9));
        assert!(
            db.execute_batch(
                "INSERT INTO generations (id, job_id, image_url, prompt, model, created_at) \
                 VALUES ('g-2', 'old-1', 'u', 'p', 'm', 1)"
            )
            .is_err(),
            "one gallery row per job"
        );
        assert!(
            db.execute_batch(
                "INSERT INTO generations (id, job_id, image_url, prompt, model, created_at) \
                 VALUES ('g-3', 'nope', 'u', 'p', 'm', 1)"
            )
            .is_err(),
            "the job must exist"
        );
        assert!(
            db.execute_batch("UPDATE generation_jobs SET status = 'odd' WHERE id = 'new-1'")
                .is_err(),
            "status stays checked"
        );
        let indexes: i64 = db
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name IN \
                 ('idx_generation_jobs_status', 'idx_generation_jobs_created_at', \
                  'idx_generations_created_at', 'idx_generations_job_id')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(indexes, 4);
        // The gallery query joins the old rows with their (absent) parameters.
        let page = list_generations_as(Select::Columns, Page { limit: 10, offset: 0 }, None);
        let seen: Vec<(String, Option<i64>)> = db
            .prepare(&page.sql)
            .unwrap()
            .query_map(params_from_iter(values(&page)), |r| Ok((r.get(1)?, r.get(6)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(seen, [("old-1".to_string(), None)]);
    }

    pub(crate) fn run(db: &Connection, statement: Statement) -> usize {
        db.execute(&statement.sql, params_from_iter(values(&statement)))
            .unwrap_or_else(|e| panic!("{}: {e}", statement.sql))
    }

    /// What `JobStore::complete` sends as one batch.
    fn complete(db: &Connection, job_id: &str, generation_id: &str) {
        complete_with(
            db,
            job_id,
            generation_id,
            &stored("/images/k.png", Some("/images/k-thumb.webp")),
        );
    }

    /// Returns the status the batch's last statement reads.
    fn complete_with(db: &Connection, job_id: &str, generation_id: &str, image: &StoredImage) -> String {
        let tx = db.unchecked_transaction().unwrap();
        run(&tx, mark_completed(job_id, image, 20));
        run(
            &tx,
            insert_generation(generation_id, job_id, image, "p", "flux-schnell", 20),
        );
        let status = select_status(job_id);
        let after = tx
            .query_row(&status.sql, params_from_iter(values(&status)), |r| r.get(0))
            .unwrap();
        tx.commit().unwrap();
        after
    }

    #[test]
    fn the_completing_batch_reads_back_whether_it_completed_the_job() {
        let db = database();
        run(&db, insert_job(&job("j6"), "p", "flux-schnell", "admin", 1));
        listed_ids(&db, &claim_for_processing("j6", 2));
        run(&db, crate::jobs::cancel_sql::cancel(&["j6".to_string()], None, 3));
        let image = stored("/images/k.png", None);
        assert_eq!(complete_with(&db, "j6", "g11", &image), "cancelled");
        assert_eq!(status_and_gallery_rows(&db, "j6"), ("cancelled".to_string(), 0));
        run(&db, insert_job(&job("j7"), "p", "flux-schnell", "admin", 1));
        assert_eq!(complete_with(&db, "j7", "g12", &image), "completed");
    }

    #[test]
    fn the_inline_preview_is_written_and_cleared_with_the_thumbnail_url() {
        let db = database();
        run(&db, insert_job(&job("j5"), "p", "flux-schnell", "admin", 1));
        let preview = |db: &Connection| -> (Option<String>, Option<String>) {
            let select = select_jobs(&["j5".to_string()], None);
            db.query_row(&select.sql, params_from_iter(values(&select)), |r| {
                Ok((r.get("thumbnail_url")?, r.get("thumbnail_base64")?))
            })
            .unwrap()
        };
        let thumb = "/images/k-thumb.webp";
        let with_preview = StoredImage {
            thumbnail_base64: Some("UklGRg==".into()),
            ..stored("/images/k.png", Some(thumb))
        };
        complete_with(&db, "j5", "g8", &with_preview);
        assert_eq!(preview(&db), (Some(thumb.into()), Some("UklGRg==".into())));
        // A redo whose thumbnail failed clears both; text without a URL is never kept.
        let orphan_text = StoredImage {
            thumbnail_base64: Some("QQ==".into()),
            ..stored("/images/k.png", None)
        };
        complete_with(&db, "j5", "g9", &orphan_text);
        assert_eq!(preview(&db), (None, None));
        // A thumbnail over the inline limit: the URL alone (previews fall back to R2).
        complete_with(&db, "j5", "g10", &stored("/images/k.png", Some(thumb)));
        assert_eq!(preview(&db), (Some(thumb.into()), None));
        // Deleting the image makes a tombstone without either.
        complete_with(&db, "j5", "g10", &with_preview);
        let tombstone = crate::jobs::delete_sql::tombstone_jobs(&["j5".to_string()], None, 30);
        let ids: Vec<String> = db
            .prepare(&tombstone.sql)
            .unwrap()
            .query_map(params_from_iter(values(&tombstone)), |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(ids, ["j5"]);
        assert_eq!(preview(&db), (None, None));
        // Only the single-job reads carry the text; listings and the sweeper leave it in D1.
        assert!(select_job("j5", None).sql.contains("thumbnail_base64"));
        assert!(!JOB_COLUMNS.contains("thumbnail_base64"));
        assert!(!list_jobs(StatusFilter::All, Page { limit: 1, offset: 0 }, None)
            .sql
            .contains("thumbnail_base64"));
    }

    #[test]
    fn completion_records_the_thumbnail_and_byte_size_in_the_job_and_the_gallery_row() {
        let db = database();
        run(&db, insert_job(&job("t1"), "p", "flux-schnell", "admin", 1));
        complete(&db, "t1", "g-t1");
        let select = select_job_as(Select::Columns, "t1", None);
        let (thumbnail, size, width): (Option<String>, Option<i64>, Option<i64>) = db
            .query_row(&select.sql, params_from_iter(values(&select)), |r| {
                Ok((r.get(12)?, r.get(13)?, r.get(9)?))
            })
            .unwrap();
        assert_eq!(thumbnail.as_deref(), Some("/images/k-thumb.webp"));
        assert_eq!((size, width), (Some(123_456), Some(512)));
        let page = list_generations_as(Select::Columns, Page { limit: 5, offset: 0 }, None);
        let gallery: (String, Option<String>, Option<i64>) = db
            .query_row(&page.sql, params_from_iter(values(&page)), |r| {
                Ok((r.get(1)?, r.get(10)?, r.get(11)?))
            })
            .unwrap();
        assert_eq!(
            gallery,
            (
                "t1".to_string(),
                Some("/images/k-thumb.webp".to_string()),
                Some(123_456)
            )
        );
        // Without a thumbnail both rows say so with NULL; the byte size is still recorded.
        run(&db, insert_job(&job("t2"), "p", "flux-schnell", "admin", 2));
        complete_with(&db, "t2", "g-t2", &stored("/images/j.png", None));
        let (thumbnail, size): (Option<String>, Option<i64>) = db
            .query_row(
                "SELECT g.thumbnail_url, j.image_size FROM generations g JOIN generation_jobs j ON j.id = g.job_id \
                 WHERE g.job_id = 't2'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((thumbnail, size), (None, Some(123_456)));
    }

    #[test]
    fn the_thumbnails_migration_keeps_rows_and_reads_null_for_them() {
        let db = Connection::open_in_memory().unwrap();
        db.execute_batch("PRAGMA foreign_keys = ON").unwrap();
        let files = migrations();
        let (old, new): (Vec<_>, Vec<_>) = files
            .iter()
            .partition(|f| f.file_name().unwrap().to_str().unwrap() < "0004");
        for file in &old {
            apply(&db, file);
        }
        // A row as the 0003 schema had it (no thumbnail columns, no owner yet).
        db.execute_batch(
            "INSERT INTO generation_jobs (id, status, prompt, model, created_at, updated_at, seed, parameters)
               VALUES ('before', 'pending', 'p', 'phoenix', 1, 1, 42, '{}');
             UPDATE generation_jobs SET status = 'completed', image_url = '/images/b.png' WHERE id = 'before';
             INSERT INTO generations (id, job_id, image_url, prompt, model, created_at)
               VALUES ('g-b', 'before', '/images/b.png', 'p', 'phoenix', 2);",
        )
        .unwrap();
        for file in &new {
            apply(&db, file);
        }
        let select = select_job_as(Select::Columns, "before", None);
        let row: (String, Option<String>, Option<String>, Option<i64>) = db
            .query_row(&select.sql, params_from_iter(values(&select)), |r| {
                Ok((r.get(1)?, r.get(4)?, r.get(12)?, r.get(13)?))
            })
            .unwrap();
        assert_eq!(
            row,
            ("completed".to_string(), Some("/images/b.png".to_string()), None, None)
        );
        let page = list_generations_as(Select::Columns, Page { limit: 5, offset: 0 }, None);
        let gallery: (String, Option<String>) = db
            .query_row(&page.sql, params_from_iter(values(&page)), |r| {
                Ok((r.get(1)?, r.get(10)?))
            })
            .unwrap();
        assert_eq!(gallery, ("before".to_string(), None));
    }

    fn status_and_gallery_rows(db: &Connection, job_id: &str) -> (String, i64) {
        let status = db
            .query_row("SELECT status FROM generation_jobs WHERE id = ?", [job_id], |r| {
                r.get(0)
            })
            .unwrap();
        let rows = db
            .query_row("SELECT COUNT(*) FROM generations WHERE job_id = ?", [job_id], |r| {
                r.get(0)
            })
            .unwrap();
        (status, rows)
    }

    #[test]
    fn completing_adds_exactly_one_gallery_row_even_when_redelivered() {
        let db = database();
        run(&db, insert_job(&job("j1"), "p", "flux-schnell", "admin", 1));
        listed_ids(&db, &claim_for_processing("j1", 2));
        complete(&db, "j1", "g1");
        complete(&db, "j1", "g2");
        assert_eq!(status_and_gallery_rows(&db, "j1"), ("completed".to_string(), 1));
    }

    #[test]
    fn completing_again_replaces_the_thumbnail_in_the_job_and_its_one_gallery_row() {
        let db = database();
        run(&db, insert_job(&job("j4"), "p", "flux-schnell", "admin", 1));
        let thumbnails = |db: &Connection| -> (Option<String>, Option<String>, i64) {
            db.query_row(
                "SELECT j.thumbnail_url, g.thumbnail_url, (SELECT COUNT(*) FROM generations WHERE job_id = 'j4') \
                 FROM generation_jobs j JOIN generations g ON g.job_id = j.id WHERE j.id = 'j4'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap()
        };
        complete_with(&db, "j4", "g5", &stored("/images/k.png", Some("/images/k-thumb.webp")));
        // A racing delivery whose thumbnail failed (and which deleted the object) completes last.
        complete_with(&db, "j4", "g6", &stored("/images/k.png", None));
        assert_eq!(thumbnails(&db), (None, None, 1));
        complete_with(&db, "j4", "g7", &stored("/images/k.png", Some("/images/k-thumb.webp")));
        let thumb = Some("/images/k-thumb.webp".to_string());
        assert_eq!(thumbnails(&db), (thumb.clone(), thumb, 1));
    }

    #[test]
    fn a_job_failed_by_another_delivery_never_gains_a_gallery_row() {
        let db = database();
        run(&db, insert_job(&job("j2"), "p", "flux-schnell", "admin", 1));
        listed_ids(&db, &claim_for_processing("j2", 2));
        // The redelivery race: another delivery gave up on the job while this one was generating.
        run(&db, mark_failed("j2", "gave up", 3));
        complete(&db, "j2", "g3");
        assert_eq!(status_and_gallery_rows(&db, "j2"), ("failed".to_string(), 0));
    }

    #[test]
    fn a_completed_job_is_never_failed_or_put_back() {
        let db = database();
        run(&db, insert_job(&job("j3"), "p", "flux-schnell", "admin", 1));
        complete(&db, "j3", "g4");
        assert_eq!(run(&db, mark_failed("j3", "late failure", 5)), 0);
        assert_eq!(run(&db, mark_dead_lettered("j3", "dead", 5)), 0);
        assert_eq!(run(&db, record_retryable_failure("j3", "retry", 5)), 0);
        assert_eq!(listed_ids(&db, &claim_for_processing("j3", 5)), Vec::<String>::new());
        assert_eq!(status_and_gallery_rows(&db, "j3"), ("completed".to_string(), 1));
    }

    #[test]
    fn list_queries_page_newest_first_and_count_with_the_filter() {
        let db = database();
        for (i, id) in ["a", "b", "c"].iter().enumerate() {
            run(&db, insert_job(&job(id), "p", "flux-schnell", "admin", i as i64));
        }
        run(&db, mark_failed("b", "x", 9));
        let page = Page { limit: 2, offset: 0 };
        let list = list_jobs_as(Select::Columns, StatusFilter::All, page, None);
        let ids: Vec<String> = db
            .prepare(&list.sql)
            .unwrap()
            .query_map(params_from_iter(values(&list)), |row| row.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(ids, ["c", "b"]);
        let count = count_jobs(StatusFilter::Only(crate::jobs::JobStatus::Failed), None);
        let failed: i64 = db
            .query_row(&count.sql, params_from_iter(values(&count)), |r| r.get(0))
            .unwrap();
        assert_eq!(failed, 1);
    }

    /// The ids a listing statement returns, in order.
    /// The `id` of each row a statement returns, whether it selects columns (id first) or one
    /// JSON text per row.
    fn listed_ids(db: &Connection, statement: &Statement) -> Vec<String> {
        let first_column: Vec<String> = db
            .prepare(&statement.sql)
            .unwrap()
            .query_map(params_from_iter(values(statement)), |row| row.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        if !statement.sql.starts_with("SELECT json_array(") {
            return first_column;
        }
        // The id is each array's first value, as it is each row struct's first field.
        let id = |text: &String| serde_json::from_str::<serde_json::Value>(text).unwrap()[0].clone();
        first_column
            .iter()
            .map(|text| id(text).as_str().unwrap().to_string())
            .collect()
    }

    /// Each row as the object path hands it to serde (workers-rs reads D1's row objects with
    /// serde-wasm-bindgen): a map of column name to value, INTEGER as an integer, REAL as a
    /// float, TEXT as a string, NULL as null.
    fn object_rows(db: &Connection, statement: &Statement) -> Vec<serde_json::Value> {
        use rusqlite::types::ValueRef;
        let mut prepared = db.prepare(&statement.sql).unwrap();
        let names: Vec<String> = prepared.column_names().into_iter().map(String::from).collect();
        prepared
            .query_map(params_from_iter(values(statement)), |row| {
                let mut object = serde_json::Map::new();
                for (i, name) in names.iter().enumerate() {
                    let value = match row.get_ref(i)? {
                        ValueRef::Null => serde_json::Value::Null,
                        ValueRef::Integer(n) => n.into(),
                        ValueRef::Real(x) => x.into(),
                        ValueRef::Text(text) => String::from_utf8(text.to_vec()).unwrap().into(),
                        ValueRef::Blob(_) => panic!("no row type has a blob column"),
                    };
                    object.insert(name.clone(), value);
                }
                Ok(serde_json::Value::Object(object))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    /// Each row's one JSON text (the `j` column), as `Db::json_rows` reads it.
    fn json_texts(db: &Connection, statement: &Statement) -> Vec<String> {
        let mut prepared = db.prepare(&statement.sql).unwrap();
        assert_eq!(prepared.column_names(), ["j"], "{}", statement.sql);
        prepared
            .query_map(params_from_iter(values(statement)), |row| row.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    /// Decodes the same rows both ways and checks they are the same Rust values; returns them.
    fn decode_both_ways<T: serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(
        db: &Connection,
        columns: &Statement,
        json: &Statement,
    ) -> Vec<T> {
        let from_objects: Vec<T> = object_rows(db, columns)
            .into_iter()
            .map(|row| serde_json::from_value(row).unwrap())
            .collect();
        let from_json: Vec<T> = json_texts(db, json)
            .iter()
            .map(|text| serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}")))
            .collect();
        assert_eq!(from_json, from_objects, "{}", json.sql);
        from_json
    }

    /// A job with every column set (awkward text, whole and fractional REALs, large integers),
    /// one with every nullable column NULL, and the gallery row of the first.
    fn rows_with_every_column_set_and_every_nullable_null(db: &Connection) {
        let awkward = "quote \" ' backslash \\ newline \n tab \t nul-free \u{1} é 漢字 🦊 </script>";
        let job = NewJob {
            id: "full".into(),
            seed: Some(4_294_967_295),
            width: Some(1024),
            height: Some(768),
            parameters: r#"{"seed":4294967295,"guidance":7.5,"negative_prompt":"a \"b\""}"#.into(),
            inputs: Some(r#"[{"role":"image","source":"x","url":"/inputs/a.png"}]"#.into()),
            // A sum with a long binary expansion, and a whole number stored as REAL.
            estimated_neurons: Some(0.1 + 0.2),
            estimated_usd: Some(57.6 * 3.0 * 0.011 / 1000.0),
        };
        run(
            db,
            insert_job(&job, awkward, "flux-schnell", "alice", 1_767_000_000_123),
        );
        let image = StoredImage {
            url: "/images/1767000000123-fox-full.png".into(),
            size: Some((1024, 768)),
            bytes: 3_456_789_012,
            thumbnail_url: Some("/images/1767000000123-fox-full-thumb.webp".into()),
            thumbnail_base64: Some("UklGRiQAAABXRUJQ".into()),
        };
        complete_with(db, "full", "g-full", &image);
        // A completed job has no error; set one anyway so every column holds a value.
        db.execute("UPDATE generation_jobs SET error = ? WHERE id = 'full'", [awkward])
            .unwrap();
        db.execute_batch(
            "INSERT INTO generation_jobs (id, status, prompt, model, image_url, error, created_at, updated_at, \
               seed, width, height, parameters, thumbnail_url, image_size, inputs, estimated_neurons, estimated_usd) \
             VALUES ('bare', 'pending', '', 'sdxl-base', NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, \
               NULL, NULL);
             INSERT INTO generation_jobs (id, status, prompt, model, created_at, updated_at, estimated_neurons, \
               estimated_usd) VALUES ('whole', 'failed', 'p', 'sdxl-base', -1, 9007199254740991, 100, 0);
             INSERT INTO generations (id, job_id, image_url, prompt, model, created_at) \
             VALUES ('g-bare', 'bare', '/images/bare.png', '', 'sdxl-base', 5);",
        )
        .unwrap();
    }

    #[test]
    fn rows_read_as_json_text_decode_to_the_same_values_as_rows_read_as_objects() {
        let db = database();
        rows_with_every_column_set_and_every_nullable_null(&db);
        let every = Page { limit: 50, offset: 0 };
        let all = StatusFilter::All;
        for (id, owner) in [("full", Some("alice")), ("bare", None), ("whole", None), ("none", None)] {
            let rows: Vec<JobRow> =
                decode_both_ways(&db, &select_job_as(Select::Columns, id, owner), &select_job(id, owner));
            assert_eq!(rows.len(), usize::from(id != "none"), "{id}");
        }
        let jobs: Vec<JobRow> = decode_both_ways(
            &db,
            &list_jobs_as(Select::Columns, all, every, None),
            &list_jobs(all, every, None),
        );
        let full = jobs.iter().find(|job| job.id == "full").unwrap();
        assert!(full.prompt.contains("🦊 </script>") && full.error.as_deref() == Some(full.prompt.as_str()));
        assert_eq!((full.seed, full.image_size), (Some(4_294_967_295), Some(3_456_789_012)));
        assert_eq!(
            full.estimated_neurons,
            Some(0.1 + 0.2),
            "every bit of the REAL survives"
        );
        assert_eq!(full.estimated_usd, Some(57.6 * 3.0 * 0.011 / 1000.0));
        let bare = jobs.iter().find(|job| job.id == "bare").unwrap();
        assert_eq!(
            *bare,
            JobRow {
                prompt: String::new(),
                model: "sdxl-base".into(),
                created_at: 0,
                updated_at: 0,
                ..JobRow::fixture("bare", JobStatus::Pending)
            }
        );
        let whole = jobs.iter().find(|job| job.id == "whole").unwrap();
        assert_eq!((whole.estimated_neurons, whole.estimated_usd), (Some(100.0), Some(0.0)));
        assert_eq!((whole.created_at, whole.updated_at), (-1, 9_007_199_254_740_991));
        let gallery: Vec<GenerationRow> = decode_both_ways(
            &db,
            &list_generations_as(Select::Columns, every, None),
            &list_generations(every, None),
        );
        assert_eq!(gallery.len(), 2);
        let full = gallery.iter().find(|row| row.id == "g-full").unwrap();
        assert_eq!((full.seed, full.image_size), (Some(4_294_967_295), Some(3_456_789_012)));
        assert!(full.thumbnail_url.is_some() && full.inputs.is_some() && full.estimated_usd.is_some());
        let bare = gallery.iter().find(|row| row.id == "g-bare").unwrap();
        assert_eq!(
            (
                bare.seed,
                &bare.parameters,
                &bare.thumbnail_url,
                bare.image_size,
                bare.estimated_neurons
            ),
            (None, &None, &None, None, None)
        );
        // A key's own page, and the gallery's filtered page (its columns are the jobs').
        let _: Vec<GenerationRow> = decode_both_ways(
            &db,
            &list_generations_as(Select::Columns, every, Some("alice")),
            &list_generations(every, Some("alice")),
        );
        let filtered = list_filtered_jobs(JobFilter::default(), every, None);
        let columns = Statement::new(filtered.sql.replacen(JOB_JSON, JOB_COLUMNS, 1), filtered.params.clone());
        assert_eq!(decode_both_ways::<JobRow>(&db, &columns, &filtered).len(), 3);
    }

    /// The field names of `T`, in declaration order, as its derived `Deserialize` gives them to
    /// `deserialize_struct` (the names serde matches keys against, and the order it reads an
    /// array in).
    fn field_names<T: serde::de::DeserializeOwned>() -> Vec<&'static str> {
        struct Fields<'a>(&'a mut &'static [&'static str]);
        impl<'de> serde::Deserializer<'de> for Fields<'_> {
            type Error = serde::de::value::Error;
            fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
                Err(serde::de::Error::custom("not a struct"))
            }
            fn deserialize_struct<V: serde::de::Visitor<'de>>(
                self,
                _: &'static str,
                fields: &'static [&'static str],
                _: V,
            ) -> Result<V::Value, Self::Error> {
                *self.0 = fields;
                Err(serde::de::Error::custom("only the field names were wanted"))
            }
            serde::forward_to_deserialize_any! {
                bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
                option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
                ignored_any
            }
        }
        let mut fields: &'static [&'static str] = &[];
        assert!(T::deserialize(Fields(&mut fields)).is_err());
        fields.to_vec()
    }

    #[test]
    fn the_columns_are_the_row_structs_fields_in_order() {
        // The JSON read is by position: a column out of place would land in another field.
        let names = |columns: &'static str| -> Vec<&'static str> {
            columns
                .split(", ")
                .map(|column| column.rsplit('.').next().unwrap())
                .collect()
        };
        let job_fields = field_names::<JobRow>();
        assert_eq!(names(JOB_COLUMNS_WITH_PREVIEW), job_fields);
        assert_eq!(names(GENERATION_COLUMNS), field_names::<GenerationRow>());
        // The listing's narrower row is the same fields, the preview left to its default.
        assert_eq!(names(JOB_COLUMNS), job_fields[..job_fields.len() - 1]);
    }

    #[test]
    fn the_preview_columns_are_the_job_columns_and_the_preview() {
        assert_eq!(JOB_COLUMNS_WITH_PREVIEW, format!("{JOB_COLUMNS}, thumbnail_base64"));
        let job_fields = JOB_JSON.strip_suffix(") AS j").unwrap();
        assert_eq!(JOB_JSON_WITH_PREVIEW, format!("{job_fields}, thumbnail_base64) AS j"));
    }

    #[test]
    fn the_json_select_lists_every_column_of_the_plain_one_in_its_order() {
        let reals = ["estimated_neurons", "estimated_usd"];
        let pairs = [
            (JOB_COLUMNS, JOB_JSON),
            (JOB_COLUMNS_WITH_PREVIEW, JOB_JSON_WITH_PREVIEW),
            (GENERATION_COLUMNS, GENERATION_JSON),
        ];
        for (plain, json) in pairs {
            let values: Vec<String> = plain
                .split(", ")
                .map(|expr| {
                    let key = expr.rsplit('.').next().unwrap();
                    if reals.contains(&key) {
                        format!("iif({expr} IS NULL, NULL, json(printf('%!.17g', {expr})))")
                    } else {
                        expr.to_string()
                    }
                })
                .collect();
            assert_eq!(json, format!("json_array({}) AS j", values.join(", ")));
        }
    }

    #[test]
    fn every_double_a_real_column_holds_reads_back_bit_for_bit_from_the_json_text() {
        let db = database();
        run(&db, insert_job(&job("r"), "p", "flux-schnell", "alice", 1));
        // Doubles with every mantissa (xorshift bits) and binary exponents from 2^-60 to 2^60 (neurons
        // and USD lie far inside), and the awkward ones. Outside the test's range SQLite's printf
        // rounds some doubles above ~1e200 by one unit in the last place; -0.0 SQLite stores as 0.0.
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut doubles: Vec<f64> = vec![0.1 + 0.2, 57.6 * 0.011 / 1000.0, 1e-7, 100.0, 1e15 + 0.5];
        while doubles.len() < 5000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let exponent = 1023 + (state >> 53) % 121 - 60;
            let sign = state & (1 << 63);
            doubles.push(f64::from_bits(sign | exponent << 52 | state & 0x000F_FFFF_FFFF_FFFF));
        }
        let read = select_job("r", None);
        for double in doubles {
            db.execute(
                "UPDATE generation_jobs SET estimated_neurons = ?, estimated_usd = ? WHERE id = 'r'",
                rusqlite::params![double, -double],
            )
            .unwrap();
            let text = &json_texts(&db, &read)[0];
            let row: JobRow = serde_json::from_str(text).unwrap();
            let bits = |value: Option<f64>| value.map(f64::to_bits);
            assert_eq!(bits(row.estimated_neurons), Some(double.to_bits()), "{text}");
            assert_eq!(bits(row.estimated_usd), Some((-double).to_bits()), "{text}");
        }
    }

    fn total(db: &Connection, statement: &Statement) -> i64 {
        db.query_row(&statement.sql, params_from_iter(values(statement)), |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn gallery_filters_and_pages_run_on_sqlite() {
        let db = database();
        // Six jobs, two per model, created in pairs sharing a millisecond (id breaks the tie).
        let models = ["flux-schnell", "sdxl-lightning", "sdxl-base"];
        for i in 0..6i64 {
            run(
                &db,
                insert_job(&job(&format!("j{i}")), "p", models[i as usize % 3], "admin", i / 2),
            );
        }
        run(&db, mark_failed("j1", "boom", 9));
        run(&db, mark_failed("j4", "boom", 9));
        let every = Page { limit: 50, offset: 0 };
        let all = JobFilter::default();
        assert_eq!(
            listed_ids(&db, &list_filtered_jobs(all, every, None)),
            ["j5", "j4", "j3", "j2", "j1", "j0"]
        );
        assert_eq!(total(&db, &count_filtered_jobs(all, None)), 6);
        let second_page = Page { limit: 4, offset: 4 };
        assert_eq!(
            listed_ids(&db, &list_filtered_jobs(all, second_page, None)),
            ["j1", "j0"]
        );
        let failed = JobFilter {
            model: None,
            status: Some(JobStatus::Failed),
            ..JobFilter::default()
        };
        assert_eq!(listed_ids(&db, &list_filtered_jobs(failed, every, None)), ["j4", "j1"]);
        assert_eq!(total(&db, &count_filtered_jobs(failed, None)), 2);
        let lightning = JobFilter {
            model: Some("sdxl-lightning"),
            status: None,
            ..JobFilter::default()
        };
        assert_eq!(
            listed_ids(&db, &list_filtered_jobs(lightning, every, None)),
            ["j4", "j1"]
        );
        let lightning_pending = JobFilter {
            status: Some(JobStatus::Pending),
            ..lightning
        };
        assert!(listed_ids(&db, &list_filtered_jobs(lightning_pending, every, None)).is_empty());
        assert_eq!(total(&db, &count_filtered_jobs(lightning_pending, None)), 0);
    }

    #[test]
    fn the_gallery_search_takes_the_text_literally_and_hides_tombstones_unless_asked() {
        let db = database();
        let prompts = [
            ("pct", "a 100% red fox"),
            ("any", "a 100x red fox"),
            ("under", "snake_case sign"),
            ("plain", "snakeXcase sign"),
            ("slash", "back\\slash"),
            ("upper", "A RED FOX"),
        ];
        for (i, (id, prompt)) in prompts.iter().enumerate() {
            run(&db, insert_job(&job(id), prompt, "flux-schnell", "alice", i as i64));
        }
        let every = Page { limit: 50, offset: 0 };
        let found = |text: &str| {
            let filter = JobFilter {
                search: Some(text),
                ..JobFilter::default()
            };
            listed_ids(&db, &list_filtered_jobs(filter, every, Some("alice")))
        };
        assert_eq!(found("100%"), ["pct"], "% is a character, not a wildcard");
        assert_eq!(found("e_c"), ["under"], "_ is a character, not a wildcard");
        assert_eq!(found("k\\s"), ["slash"]);
        assert_eq!(
            found("red fox"),
            ["upper", "any", "pct"],
            "ASCII letters match in any case"
        );
        assert!(found("nothing like it").is_empty());
        // A deleted job leaves the gallery (and its prompt is gone, so no search finds it).
        complete(&db, "pct", "g-pct");
        let tombstoned = listed_ids(&db, &crate::jobs::delete_sql::tombstone_jobs(&["pct".into()], None, 50));
        assert_eq!(tombstoned, ["pct"]);
        assert_eq!(found("100"), ["any"]);
        let all = JobFilter::default();
        assert!(!listed_ids(&db, &list_filtered_jobs(all, every, None)).contains(&"pct".to_string()));
        let tombstones = JobFilter {
            status: Some(JobStatus::Deleted),
            ..JobFilter::default()
        };
        assert_eq!(listed_ids(&db, &list_filtered_jobs(tombstones, every, None)), ["pct"]);
        assert_eq!(total(&db, &count_filtered_jobs(tombstones, Some("alice"))), 1);
    }

    #[test]
    fn a_page_with_its_total_is_the_page_and_the_count_of_the_two_statements() {
        let db = database();
        let models = ["flux-schnell", "sdxl-lightning", "sdxl-base"];
        let owners = ["alice", "bob", "admin"];
        for i in 0..9i64 {
            let id = format!("j{i}");
            run(
                &db,
                insert_job(&job(&id), "p", models[i as usize % 3], owners[i as usize / 3], i / 2),
            );
            if i % 2 == 0 {
                complete(&db, &id, &format!("g{i}"));
            }
        }
        run(&db, mark_failed("j3", "boom", 9));
        let pages = [(50, 0), (2, 0), (2, 3), (4, 4), (3, 50)].map(|(limit, offset)| Page { limit, offset });
        let mut listings = Vec::new();
        for owner in [None, Some("alice"), Some("bob"), Some("carol")] {
            for page in pages {
                for filter in [StatusFilter::All, StatusFilter::Only(JobStatus::Completed)] {
                    listings.push((count_jobs(filter, owner), list_jobs(filter, page, owner)));
                }
                let failed = JobFilter {
                    status: Some(JobStatus::Failed),
                    ..JobFilter::default()
                };
                for filter in [JobFilter::default(), failed] {
                    listings.push((
                        count_filtered_jobs(filter, owner),
                        list_filtered_jobs(filter, page, owner),
                    ));
                }
                listings.push((count_generations(owner), list_generations(page, owner)));
            }
        }
        let mut nonempty = 0;
        for (count, page) in &listings {
            let combined = object_rows(&db, &Statement::page_with_total(count, page));
            let rows = json_texts(&db, page);
            assert_eq!(
                combined
                    .iter()
                    .map(|row| row["j"].as_str().unwrap())
                    .collect::<Vec<_>>(),
                rows,
                "{}",
                page.sql
            );
            let total = total(&db, count);
            assert!(
                combined
                    .iter()
                    .all(|row| row.as_object().unwrap().len() == 2 && row["total"] == total),
                "{}",
                page.sql
            );
            nonempty += usize::from(!rows.is_empty());
        }
        // Both kinds were compared: pages with rows, and pages past the end (or of no rows).
        assert!(
            nonempty > 20 && nonempty < listings.len(),
            "{nonempty} of {}",
            listings.len()
        );
    }

    #[test]
    fn keys_see_only_their_own_jobs_and_the_administrator_sees_all() {
        let db = database();
        run(&db, insert_job(&job("a1"), "p", "flux-schnell", "alice", 1));
        run(&db, insert_job(&job("a2"), "p", "sdxl-base", "alice", 2));
        run(&db, insert_job(&job("b1"), "p", "flux-schnell", "bob", 3));
        run(&db, insert_job(&job("r1"), "p", "flux-schnell", "admin", 4));
        complete(&db, "a1", "ga1");
        complete(&db, "b1", "gb1");
        let every = Page { limit: 50, offset: 0 };
        let all = StatusFilter::All;
        assert_eq!(listed_ids(&db, &list_jobs(all, every, Some("alice"))), ["a2", "a1"]);
        assert_eq!(listed_ids(&db, &list_jobs(all, every, Some("bob"))), ["b1"]);
        assert_eq!(listed_ids(&db, &list_jobs(all, every, None)), ["r1", "b1", "a2", "a1"]);
        assert_eq!(total(&db, &count_jobs(all, Some("alice"))), 2);
        assert_eq!(
            total(&db, &count_jobs(StatusFilter::Only(JobStatus::Completed), Some("bob"))),
            1
        );
        assert_eq!(listed_ids(&db, &select_job("b1", Some("alice"))), Vec::<String>::new());
        assert_eq!(listed_ids(&db, &select_job("b1", Some("bob"))), ["b1"]);
        assert_eq!(listed_ids(&db, &select_job("b1", None)), ["b1"]);
        let mut both = listed_ids(&db, &select_jobs(&["a1".into(), "b1".into()], Some("alice")));
        assert_eq!(both, ["a1"]);
        both = listed_ids(&db, &select_jobs(&["a1".into(), "b1".into()], None));
        both.sort();
        assert_eq!(both, ["a1", "b1"]);
        assert_eq!(total(&db, &count_generations(Some("alice"))), 1);
        assert_eq!(total(&db, &count_generations(None)), 2);
        assert_eq!(listed_ids(&db, &list_generations(every, Some("bob"))), ["gb1"]);
        let gallery = JobFilter::default();
        assert_eq!(
            listed_ids(&db, &list_filtered_jobs(gallery, every, Some("alice"))),
            ["a2", "a1"]
        );
        assert_eq!(total(&db, &count_filtered_jobs(gallery, Some("bob"))), 1);
    }

    #[test]
    fn jobs_from_before_keys_belong_to_the_administrator() {
        let db = Connection::open_in_memory().unwrap();
        for file in migrations()
            .iter()
            .filter(|f| f.file_name().unwrap().to_str().unwrap() < "0005")
        {
            apply(&db, file);
        }
        db.execute_batch(
            "INSERT INTO generation_jobs (id, status, prompt, model, created_at, updated_at) \
             VALUES ('old', 'pending', 'p', 'flux-schnell', 1, 1)",
        )
        .unwrap();
        for file in migrations()
            .iter()
            .filter(|f| f.file_name().unwrap().to_str().unwrap() >= "0005")
        {
            apply(&db, file);
        }
        let owner: String = db
            .query_row("SELECT owner FROM generation_jobs WHERE id = 'old'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(owner, "admin");
    }

    /// The new total a reservation returned, or None when it was refused.
    fn reserve(db: &Connection, owner: &str, day: &str, images: i64, quota: Option<u32>) -> Option<i64> {
        let spend = Spend {
            images,
            ..Spend::default()
        };
        let limits = Limits {
            images: quota,
            neurons: None,
        };
        reserve_spend(db, owner, day, spend, limits)
    }

    fn reserve_spend(db: &Connection, owner: &str, day: &str, spend: Spend, limits: Limits) -> Option<i64> {
        let statement = reserve_usage(owner, day, spend, limits);
        let mut prepared = db.prepare(&statement.sql).unwrap();
        let mut rows = prepared.query(params_from_iter(values(&statement))).unwrap();
        rows.next().unwrap().map(|row| row.get(0).unwrap())
    }

    fn usage(db: &Connection, day: &str, owner: Option<&str>) -> Vec<(String, i64)> {
        let statement = select_usage(day, owner);
        db.prepare(&statement.sql)
            .unwrap()
            .query_map(params_from_iter(values(&statement)), |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    #[test]
    fn counting_without_limits_adds_as_an_unlimited_reservation_does() {
        let db = database();
        let day = "2026-12-06";
        let spend = Spend {
            images: 3,
            neurons: 1.5,
            usd: 0.25,
        };
        run(&db, count_usage("alice", day, spend)); // creates the row
        run(&db, count_usage("alice", day, spend)); // adds to it
        assert_eq!(reserve_spend(&db, "alice", day, spend, Limits::default()), Some(9));
        let totals: (f64, f64) = db
            .query_row(
                "SELECT neurons, usd FROM daily_usage WHERE owner = 'alice' AND day = ?",
                [day],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(totals, (4.5, 0.75));
        // Another owner and another day are rows of their own.
        run(&db, count_usage("bob", day, spend));
        run(&db, count_usage("alice", "2026-12-07", spend));
        assert_eq!(usage(&db, day, Some("bob")), [("bob".to_string(), 3)]);
        assert_eq!(usage(&db, "2026-12-07", Some("alice")), [("alice".to_string(), 3)]);
    }

    #[test]
    fn reservations_stop_exactly_at_the_quota_per_owner_and_day() {
        let db = database();
        let day = "2026-11-29";
        assert_eq!(reserve(&db, "alice", day, 4, Some(10)), Some(4));
        assert_eq!(reserve(&db, "alice", day, 6, Some(10)), Some(10));
        // Full: even one more is refused and nothing changes.
        assert_eq!(reserve(&db, "alice", day, 1, Some(10)), None);
        assert_eq!(usage(&db, day, Some("alice")), [("alice".to_string(), 10)]);
        // A first request larger than the quota is refused too, without creating a row.
        assert_eq!(reserve(&db, "bob", day, 11, Some(10)), None);
        assert_eq!(usage(&db, day, Some("bob")), []);
        // Another day and another owner count separately; no quota never refuses.
        assert_eq!(reserve(&db, "alice", "2026-11-30", 3, Some(10)), Some(3));
        assert_eq!(reserve(&db, "admin", day, 500, None), Some(500));
        assert_eq!(reserve(&db, "admin", day, 500, None), Some(1000));
        // Releasing gives back, never below zero.
        let images = |images| Spend {
            images,
            ..Spend::default()
        };
        run(&db, release_usage("alice", day, images(6)));
        assert_eq!(usage(&db, day, Some("alice")), [("alice".to_string(), 4)]);
        run(&db, release_usage("alice", day, images(60)));
        assert_eq!(usage(&db, day, Some("alice")), [("alice".to_string(), 0)]);
        assert_eq!(
            usage(&db, day, None),
            [("admin".to_string(), 1000), ("alice".to_string(), 0)]
        );
    }

    fn spent(db: &Connection, day: &str, owner: &str) -> (i64, f64, f64) {
        db.query_row(
            "SELECT images, neurons, usd FROM daily_usage WHERE day = ? AND owner = ?",
            [day, owner],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap()
    }

    #[test]
    fn the_neuron_budget_stops_a_reservation_that_would_pass_it_and_images_and_neurons_move_together() {
        let db = database();
        let day = "2026-12-03";
        let budget = Limits {
            images: Some(100),
            neurons: Some(100.0),
        };
        let spend = |images, neurons: f64| Spend {
            images,
            neurons,
            usd: neurons * 0.011 / 1000.0,
        };
        assert_eq!(reserve_spend(&db, "alice", day, spend(1, 57.6), budget), Some(1));
        // 57.6 + 57.6 > 100: refused, nothing changes.
        assert_eq!(reserve_spend(&db, "alice", day, spend(1, 57.6), budget), None);
        assert_eq!(spent(&db, day, "alice").0, 1);
        assert!((spent(&db, day, "alice").1 - 57.6).abs() < 1e-9);
        // Exactly up to the budget passes; an unpriced model (0 neurons) passes while within it.
        assert_eq!(reserve_spend(&db, "alice", day, spend(1, 42.4), budget), Some(2));
        assert_eq!(reserve_spend(&db, "alice", day, spend(1, 0.0), budget), Some(3));
        // A first request over the budget creates no row.
        assert_eq!(reserve_spend(&db, "bob", day, spend(1, 100.5), budget), None);
        assert_eq!(usage(&db, day, Some("bob")), []);
        // A correction above the budget is recorded (the model's real count); then even a free
        // call is refused until the day ends.
        run(&db, adjust_spend("alice", day, 5.0, 0.000055));
        assert_eq!(reserve_spend(&db, "alice", day, spend(1, 0.0), budget), None);
        run(&db, adjust_spend("alice", day, -1000.0, -1.0));
        assert_eq!(spent(&db, day, "alice").1, 0.0, "never below zero");
        run(&db, adjust_spend("carol", day, 12.5, 0.0001375));
        assert_eq!(spent(&db, day, "carol"), (0, 12.5, 0.0001375));
        run(&db, release_usage("carol", day, spend(0, 20.0)));
        assert_eq!(spent(&db, day, "carol").1, 0.0);
    }

    /// Every page of `list_stored_images`, as `resources/list` walks them: the ids in order.
    fn walk_stored_images(db: &Connection, page_size: i64, owner: Option<&str>) -> Vec<Vec<String>> {
        let mut pages = Vec::new();
        let mut after: Option<ImagePosition> = None;
        loop {
            let statement = list_stored_images(ImageFilter { owner }, after.as_ref(), page_size + 1);
            let rows: Vec<(String, i64)> = db
                .prepare(&statement.sql)
                .unwrap()
                .query_map(params_from_iter(values(&statement)), |r| Ok((r.get(0)?, r.get(6)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            let more = rows.len() as i64 > page_size;
            let page: Vec<(String, i64)> = rows.into_iter().take(page_size as usize).collect();
            after = page.last().map(|(id, created_at)| ImagePosition {
                created_at: *created_at,
                id: id.clone(),
            });
            pages.push(page.into_iter().map(|(id, _)| id).collect());
            if !more {
                return pages;
            }
        }
    }

    #[test]
    fn stored_images_page_newest_first_by_position_and_skip_unfinished_jobs() {
        let db = database();
        // Seven finished jobs, pairs sharing a millisecond; one failed and one pending job too.
        for i in 0..7i64 {
            let id = format!("j{i}");
            // Odd jobs belong to another key.
            let owner = if i % 2 == 0 { "alice" } else { "bob" };
            run(&db, insert_job(&job(&id), "p", "flux-schnell", owner, i / 2));
            run(
                &db,
                mark_completed(&id, &stored(&format!("/images/{i}-k-{id}.png"), None), 10),
            );
        }
        run(&db, insert_job(&job("failed"), "p", "flux-schnell", "alice", 100));
        run(&db, mark_failed("failed", "boom", 101));
        run(&db, insert_job(&job("pending"), "p", "flux-schnell", "alice", 100));
        assert_eq!(
            walk_stored_images(&db, 3, None),
            [vec!["j6", "j5", "j4"], vec!["j3", "j2", "j1"], vec!["j0"]]
        );
        assert_eq!(
            walk_stored_images(&db, 7, None),
            [vec!["j6", "j5", "j4", "j3", "j2", "j1", "j0"]]
        );
        // A key lists only its own images, across pages too.
        assert_eq!(
            walk_stored_images(&db, 2, Some("alice")),
            [vec!["j6", "j4"], vec!["j2", "j0"]]
        );
        assert_eq!(walk_stored_images(&db, 2, Some("bob")), [vec!["j5", "j3"], vec!["j1"]]);
        assert_eq!(walk_stored_images(&db, 2, Some("carol")), [Vec::<String>::new()]);
        // A cursor taken before newer images finished still continues where it was.
        let after = ImagePosition {
            created_at: 2,
            id: "j4".into(),
        };
        run(&db, insert_job(&job("newer"), "p", "flux-schnell", "alice", 200));
        run(
            &db,
            mark_completed("newer", &stored("/images/200-k-newer.png", None), 201),
        );
        let next = list_stored_images(ImageFilter::default(), Some(&after), 10);
        assert_eq!(listed_ids(&db, &next), ["j3", "j2", "j1", "j0"]);
        // Positions are bound, never spliced: a hostile id is only a value.
        let hostile = ImagePosition {
            created_at: i64::MAX,
            id: "') OR 1=1; DROP TABLE generation_jobs; --".into(),
        };
        let statement = list_stored_images(ImageFilter::default(), Some(&hostile), 100);
        assert!(!statement.sql.contains("DROP"));
        assert_eq!(listed_ids(&db, &statement).len(), 8);
        let empty = database();
        assert_eq!(walk_stored_images(&empty, 3, None), [Vec::<String>::new()]);
    }

    #[test]
    fn claiming_marks_processing_and_returns_the_row_only_for_unfinished_jobs() {
        let db = database();
        run(&db, insert_job(&job("c1"), "a claimed fox", "flux-schnell", "alice", 1));
        let claimed = listed_ids(&db, &claim_for_processing("c1", 5));
        assert_eq!(claimed, ["c1"]);
        assert_eq!(status_and_gallery_rows(&db, "c1").0, "processing");
        // A redelivery while processing claims it again; a finished job is never claimed.
        assert_eq!(listed_ids(&db, &claim_for_processing("c1", 6)), ["c1"]);
        complete(&db, "c1", "gc1");
        assert_eq!(listed_ids(&db, &claim_for_processing("c1", 7)), Vec::<String>::new());
        assert_eq!(status_and_gallery_rows(&db, "c1").0, "completed");
        assert_eq!(
            listed_ids(&db, &claim_for_processing("missing", 7)),
            Vec::<String>::new()
        );
    }
}
