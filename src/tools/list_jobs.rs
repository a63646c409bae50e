//! list_jobs: jobs in any state, newest first, paged and optionally filtered by status.

use serde::Serialize;
#[cfg(test)]
use serde_json::json;
use serde_json::Value;

use super::args::{arg, tool_args, FieldKind, Flatten};
use super::generation::{with_generation, Generation};
use super::output::{json_text, status_names, ToolOutput};
use super::paging::{page_schema, PageArgs, PageInfo};
use super::{Extras, Handler, Hints, Scope, ToolContext, ToolResult, ToolSpec, Typed};
use crate::icons;
#[cfg(test)]
use crate::jobs::Page;
use crate::jobs::{JobStatus, StatusFilter};

pub const TOOL: ToolSpec = ToolSpec {
    name: "list_jobs",
    title: "List jobs",
    description: || {
        "List image jobs in any state (pending, processing, completed, failed, cancelled), newest first, \
         optionally filtered by status."
            .to_string()
    },
    typed: Typed::of::<ListJobs>(),
    output_schema,
    scope: Scope::Read,
    hints: Hints::READ,
    reports_images: false,
    extras: Extras {
        icon: Some(icons::LIST),
        ..Extras::NONE
    },
    #[cfg(test)]
    samples: sample_results,
};

tool_args! {
    pub struct Args {
        status: StatusFilter = arg(
            "Only jobs in this state; \"all\" for every job.",
            FieldKind::Choice {
                options: StatusFilter::NAMES.to_vec(),
                default: Some(StatusFilter::All.name()),
            },
        ),
        page: PageArgs = Flatten,
    }
}

fn output_schema() -> Value {
    let mut item = json_text(
        r#"{"type": "object", "properties": {
            "id": {"type": "string"}, "status": {"type": "string"},
            "prompt": {"type": "string"}, "model": {"type": "string"},
            "image_url": {"type": ["string", "null"]}, "error": {"type": ["string", "null"]},
            "thumbnail_url": {"type": ["string", "null"], "description": "A small WebP preview of the image (null when there is none)."},
            "created_at": {"type": "integer"}, "updated_at": {"type": "integer"}
        }}"#,
    );
    item["properties"]["status"]["enum"] = status_names();
    let mut filter = json_text(r#"{"filter": {"type": "string"}}"#);
    filter["filter"]["enum"] = Value::from(StatusFilter::NAMES.to_vec());
    page_schema("jobs", with_generation(item), filter)
}

#[derive(Serialize)]
struct JobItem {
    id: String,
    status: JobStatus,
    prompt: String,
    model: String,
    image_url: Option<String>,
    thumbnail_url: Option<String>,
    error: Option<String>,
    created_at: i64,
    updated_at: i64,
    #[serde(flatten)]
    generation: Generation,
}

#[derive(Serialize)]
struct JobsPage {
    success: bool,
    filter: &'static str,
    #[serde(flatten)]
    page: PageInfo,
    jobs: Vec<JobItem>,
}

/// The tool's behaviour: typed arguments in, a result out.
pub struct ListJobs;

impl Handler for ListJobs {
    type Args = Args;

    async fn handle(ctx: &ToolContext, args: Args) -> ToolResult {
        let page = args.page.page();
        let (total, rows) = ctx
            .store()?
            .list_jobs(args.status, page, ctx.caller.visible_owner())
            .await?;
        let jobs: Vec<JobItem> = rows
            .into_iter()
            .map(|row| JobItem {
                image_url: ctx.image_url(row.image_url.as_deref()),
                thumbnail_url: ctx.image_url(row.thumbnail_url.as_deref()),
                generation: Generation::of_job(&row, &ctx.origin),
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
            filter: args.status.name(),
            page: PageInfo::new(page, total, jobs.len()),
            jobs,
        }))
    }
}

/// Every shape list_jobs answers with, from the same result types as its handler.
#[cfg(test)]
fn sample_results() -> Vec<(&'static str, ToolOutput)> {
    let item = |status: JobStatus, image_url: Option<&str>, error: Option<&str>| JobItem {
        id: format!("job-{}", status.as_str()),
        status,
        prompt: "a lighthouse at dusk".into(),
        model: "flux-2-dev".into(),
        image_url: image_url.map(|url| crate::urls::absolute_image_url(url, "https://worker.example")),
        thumbnail_url: image_url
            .map(|url| crate::urls::absolute_image_url(&crate::urls::thumbnail_key(url), "https://worker.example")),
        error: error.map(String::from),
        created_at: 1_767_000_000_000,
        updated_at: 1_767_000_002_000,
        generation: Generation {
            seed: Some(7),
            width: Some(1152),
            height: Some(640),
            parameters: json!({"width": 1152, "height": 640, "seed": 7})
                .as_object()
                .cloned()
                .unwrap_or_default(),
            inputs: Some(
                json!([{"role": "image", "source": "0b7c6a1e-1f2d-4e3c-9a8b-7c6d5e4f3a2b",
                "url": "https://worker.example/images/input-5d4c3b2a-1e0f-4a9b-8c7d-6e5f4a3b2c1d.png",
                "format": "png", "width": 512, "height": 512,
                "note": "scaled down from 1024x1024 to fit flux-2-dev's 512x512 input limit"}]),
            ),
            estimated_neurons: Some(2670.0),
            estimated_usd: Some(0.02937),
        },
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
    use crate::tools::args::parse;
    use serde_json::Map;

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
    // The original's defaults (limit 10, offset 0): pinned as literals, not read from the catalog.
    fn status_and_paging_default_to_all_and_the_first_page() {
        let args: Args = parse(&Map::new()).unwrap();
        assert_eq!(args.status, StatusFilter::All);
        let page = args.page.page();
        assert_eq!((page.limit, page.offset), (10, 0));
    }

    #[test]
    fn a_status_filter_becomes_the_enum() {
        let args: Args = parse(json!({"status": "failed"}).as_object().unwrap()).unwrap();
        assert_eq!(args.status, StatusFilter::Only(JobStatus::Failed));
    }
}
