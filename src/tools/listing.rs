//! list_generations and list_jobs: paged views of the gallery and of all jobs, newest first.

use serde::Serialize;
use serde_json::{json, Value};

use super::args::{Args, Field, FieldKind};
use super::output::{result_schema, ToolError, ToolOutput};
use super::{ToolContext, ToolDefinition, ToolName};
use crate::catalog::{PAGE_LIMIT, PAGE_OFFSET};
use crate::jobs::{JobStatus, Page, StatusFilter};

fn page_fields() -> Vec<Field> {
    vec![
        Field::new(
            "limit",
            format!("Items per page ({}).", PAGE_LIMIT.range_text()),
            FieldKind::Integer(PAGE_LIMIT),
        ),
        Field::new("offset", "Items to skip, for paging.", FieldKind::Integer(PAGE_OFFSET)),
    ]
}

fn page_from(args: &Args) -> Page {
    Page {
        limit: args.integer("limit").unwrap_or(PAGE_LIMIT.default),
        offset: args.integer("offset").unwrap_or(PAGE_OFFSET.default),
    }
}

/// Paging fields shared by both list results.
#[derive(Debug, PartialEq, Serialize)]
struct PageInfo {
    total_count: i64,
    returned_count: usize,
    has_more: bool,
    limit: i64,
    offset: i64,
}

impl PageInfo {
    fn new(page: Page, total_count: i64, returned_count: usize) -> Self {
        PageInfo {
            total_count,
            returned_count,
            has_more: page.offset + (returned_count as i64) < total_count,
            limit: page.limit,
            offset: page.offset,
        }
    }
}

fn page_schema(items_key: &str, item: Value) -> Value {
    result_schema(json!({
            "total_count": {"type": "integer"},
            "returned_count": {"type": "integer"},
            "has_more": {"type": "boolean"},
            "limit": {"type": "integer"},
            "offset": {"type": "integer"},
            items_key: {"type": "array", "items": item}
    }))
}

/// list_jobs' result also names the status filter it applied; list_generations has none.
fn with_status_filter(mut schema: Value) -> Value {
    schema["properties"]["filter"] = json!({"type": "string", "enum": StatusFilter::NAMES});
    schema
}

pub fn generations_definition() -> ToolDefinition {
    ToolDefinition {
        name: ToolName::ListGenerations,
        title: "List generated images",
        description: "Browse finished images (the gallery), newest first, with their URLs and prompts.".to_string(),
        fields: page_fields(),
        output_schema: page_schema(
            "generations",
            json!({"type": "object", "properties": {
                "id": {"type": "string"}, "job_id": {"type": "string"}, "image_url": {"type": "string"},
                "prompt": {"type": "string"}, "model": {"type": "string"}, "created_at": {"type": "integer"}
            }}),
        ),
        read_only: true,
    }
}

pub fn jobs_definition() -> ToolDefinition {
    let mut fields = vec![Field::new(
        "status",
        "Only jobs in this state; \"all\" for every job.",
        FieldKind::Choice {
            options: StatusFilter::NAMES.to_vec(),
            default: "all",
        },
    )];
    fields.extend(page_fields());
    ToolDefinition {
        name: ToolName::ListJobs,
        title: "List jobs",
        description: "List image jobs in any state (pending, processing, completed, failed), newest first, \
            optionally filtered by status."
            .to_string(),
        fields,
        output_schema: with_status_filter(page_schema(
            "jobs",
            json!({"type": "object", "properties": {
                "id": {"type": "string"}, "status": {"type": "string", "enum": JobStatus::ALL.map(JobStatus::as_str)},
                "prompt": {"type": "string"}, "model": {"type": "string"},
                "image_url": {"type": ["string", "null"]}, "error": {"type": ["string", "null"]},
                "created_at": {"type": "integer"}, "updated_at": {"type": "integer"}
            }}),
        )),
        read_only: true,
    }
}

#[derive(Serialize)]
struct GenerationItem {
    id: String,
    job_id: String,
    image_url: String,
    prompt: String,
    model: String,
    created_at: i64,
}

#[derive(Serialize)]
struct GenerationsPage {
    success: bool,
    #[serde(flatten)]
    page: PageInfo,
    generations: Vec<GenerationItem>,
}

#[derive(Serialize)]
struct JobItem {
    id: String,
    status: JobStatus,
    prompt: String,
    model: String,
    image_url: Option<String>,
    error: Option<String>,
    created_at: i64,
    updated_at: i64,
}

#[derive(Serialize)]
struct JobsPage {
    success: bool,
    filter: &'static str,
    #[serde(flatten)]
    page: PageInfo,
    jobs: Vec<JobItem>,
}

pub async fn handle_generations(ctx: &ToolContext, args: &Args) -> Result<ToolOutput, ToolError> {
    let page = page_from(args);
    let (total, rows) = ctx.store()?.list_generations(page).await?;
    let generations: Vec<GenerationItem> = rows
        .into_iter()
        .map(|row| GenerationItem {
            image_url: ctx.image_url(Some(&row.image_url)).unwrap_or(row.image_url),
            id: row.id,
            job_id: row.job_id,
            prompt: row.prompt,
            model: row.model,
            created_at: row.created_at,
        })
        .collect();
    Ok(ToolOutput::success(&GenerationsPage {
        success: true,
        page: PageInfo::new(page, total, generations.len()),
        generations,
    }))
}

pub async fn handle_jobs(ctx: &ToolContext, args: &Args) -> Result<ToolOutput, ToolError> {
    let filter = args
        .text("status")
        .and_then(StatusFilter::from_name)
        .unwrap_or(StatusFilter::All);
    let page = page_from(args);
    let (total, rows) = ctx.store()?.list_jobs(filter, page).await?;
    let jobs: Vec<JobItem> = rows
        .into_iter()
        .map(|row| JobItem {
            image_url: ctx.image_url(row.image_url.as_deref()),
            id: row.id,
            status: row.status,
            prompt: row.prompt,
            model: row.model,
            error: row.error,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
        .collect();
    Ok(ToolOutput::success(&JobsPage {
        success: true,
        filter: filter.name(),
        page: PageInfo::new(page, total, jobs.len()),
        jobs,
    }))
}

/// Every shape the two list tools answer with, from the same result types as their handlers.
#[cfg(test)]
pub(crate) fn generations_sample_results() -> Vec<(&'static str, ToolOutput)> {
    let item = |n: i64| GenerationItem {
        id: format!("gen-{n}"),
        job_id: format!("job-{n}"),
        image_url: crate::pipeline::storage::absolute_image_url(&format!("/images/{n}.jpg"), "https://worker.example"),
        prompt: "a lighthouse at dusk".into(),
        model: "flux-schnell".into(),
        created_at: 1_767_000_000_000 + n,
    };
    let page = |page: Page, total: i64, generations: Vec<GenerationItem>| {
        ToolOutput::success(&GenerationsPage {
            success: true,
            page: PageInfo::new(page, total, generations.len()),
            generations,
        })
    };
    vec![
        (
            "first page of more",
            page(Page { limit: 2, offset: 0 }, 3, vec![item(1), item(2)]),
        ),
        ("past the end", page(Page { limit: 10, offset: 20 }, 3, vec![])),
    ]
}

/// See `generations_sample_results`.
#[cfg(test)]
pub(crate) fn jobs_sample_results() -> Vec<(&'static str, ToolOutput)> {
    let item = |status: JobStatus, image_url: Option<&str>, error: Option<&str>| JobItem {
        id: format!("job-{}", status.as_str()),
        status,
        prompt: "a lighthouse at dusk".into(),
        model: "flux-schnell".into(),
        image_url: image_url.map(|url| crate::pipeline::storage::absolute_image_url(url, "https://worker.example")),
        error: error.map(String::from),
        created_at: 1_767_000_000_000,
        updated_at: 1_767_000_002_000,
    };
    let page = |filter: StatusFilter, jobs: Vec<JobItem>| {
        ToolOutput::success(&JobsPage {
            success: true,
            filter: filter.name(),
            page: PageInfo::new(Page { limit: 10, offset: 0 }, jobs.len() as i64, jobs.len()),
            jobs,
        })
    };
    vec![
        (
            "all, one in each state",
            page(
                StatusFilter::All,
                vec![
                    item(JobStatus::Pending, None, None),
                    item(JobStatus::Processing, None, Some("attempt 1 failed")),
                    item(JobStatus::Completed, Some("/images/a.jpg"), None),
                    item(JobStatus::Failed, None, Some("model unavailable")),
                ],
            ),
        ),
        ("only failed, none", page(StatusFilter::Only(JobStatus::Failed), vec![])),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn has_more_is_true_only_when_rows_remain_after_this_page() {
        let page = Page { limit: 10, offset: 0 };
        assert!(PageInfo::new(page, 25, 10).has_more);
        assert!(!PageInfo::new(Page { limit: 10, offset: 20 }, 25, 5).has_more);
        assert!(!PageInfo::new(Page { limit: 10, offset: 30 }, 25, 0).has_more);
        assert!(!PageInfo::new(page, 0, 0).has_more);
    }

    #[test]
    fn list_results_keep_the_original_field_order() {
        let value = serde_json::to_value(JobsPage {
            success: true,
            filter: "all",
            page: PageInfo::new(Page { limit: 10, offset: 0 }, 0, 0),
            jobs: vec![],
        })
        .unwrap();
        let keys: Vec<&String> = value.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "success",
                "filter",
                "total_count",
                "returned_count",
                "has_more",
                "limit",
                "offset",
                "jobs"
            ]
        );
    }

    #[test]
    fn list_jobs_status_defaults_to_all() {
        let definition = jobs_definition();
        let args = super::super::args::validate(&definition.fields, &serde_json::Map::new()).unwrap();
        assert_eq!(args.text("status"), Some("all"));
        assert_eq!(page_from(&args), Page { limit: 10, offset: 0 });
    }
}
