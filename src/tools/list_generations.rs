//! list_generations: the gallery (finished images), newest first, paged.

use serde::Serialize;
#[cfg(test)]
use serde_json::json;
use serde_json::{Map, Value};

use super::generation::{with_generation, Generation};
use super::output::{json_text, ToolOutput};
use super::paging::{page_schema, PageArgs, PageInfo};
use super::{Extras, Handler, Hints, Scope, ToolContext, ToolResult, ToolSpec, Typed};
use crate::icons;
#[cfg(test)]
use crate::jobs::Page;

pub const TOOL: ToolSpec = ToolSpec {
    name: "list_generations",
    title: "List generated images",
    description: || "Browse finished images (the gallery), newest first, with their URLs and prompts.".to_string(),
    typed: Typed::of::<ListGenerations>(),
    output_schema,
    scope: Scope::Read,
    hints: Hints::READ,
    reports_images: false,
    extras: Extras {
        icon: Some(icons::LIST),
        // Shows the image, or the job that will be one.
        viewer: true,
        ..Extras::NONE
    },
    #[cfg(test)]
    samples: sample_results,
};

fn output_schema() -> Value {
    page_schema(
        "generations",
        with_generation(json_text(
            r#"{"type": "object", "properties": {
            "id": {"type": "string"}, "job_id": {"type": "string"}, "image_url": {"type": "string"},
            "thumbnail_url": {"type": ["string", "null"], "description": "A small WebP preview of the image (null when there is none)."},
            "prompt": {"type": "string"}, "model": {"type": "string"}, "created_at": {"type": "integer"}
        }}"#,
        )),
        Value::Object(Map::new()),
    )
}

#[derive(Serialize)]
struct GenerationItem {
    id: String,
    job_id: String,
    image_url: String,
    thumbnail_url: Option<String>,
    prompt: String,
    model: String,
    created_at: i64,
    #[serde(flatten)]
    generation: Generation,
}

#[derive(Serialize)]
struct GenerationsPage {
    success: bool,
    #[serde(flatten)]
    page: PageInfo,
    generations: Vec<GenerationItem>,
}

/// The tool's behaviour: typed arguments in, a result out.
pub struct ListGenerations;

impl Handler for ListGenerations {
    type Args = PageArgs;

    async fn handle(ctx: &ToolContext, args: PageArgs) -> ToolResult {
        let page = args.page();
        let (total, rows) = ctx.store()?.list_generations(page, ctx.caller.visible_owner()).await?;
        let generations: Vec<GenerationItem> = rows
            .into_iter()
            .map(|row| GenerationItem {
                generation: Generation::of_generation(&row, &ctx.origin),
                thumbnail_url: ctx.image_url(row.thumbnail_url.as_deref()),
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
}

/// Every shape list_generations answers with, from the same result types as its handler.
#[cfg(test)]
fn sample_results() -> Vec<(&'static str, ToolOutput)> {
    let item = |n: i64| GenerationItem {
        id: format!("gen-{n}"),
        job_id: format!("job-{n}"),
        image_url: crate::urls::absolute_image_url(&format!("/images/{n}.jpg"), "https://worker.example"),
        // Odd items have a thumbnail, even ones were made without (or before) thumbnails.
        thumbnail_url: (n % 2 == 1)
            .then(|| crate::urls::absolute_image_url(&format!("/images/{n}-thumb.webp"), "https://worker.example")),
        prompt: "a lighthouse at dusk".into(),
        model: "flux-schnell".into(),
        created_at: 1_767_000_000_000 + n,
        generation: Generation {
            seed: None,
            width: Some(1024),
            height: Some(1024),
            parameters: json!({"steps": 4}).as_object().cloned().unwrap_or_default(),
            inputs: serde_json::from_str(super::generation::SAMPLE_INPUTS).ok(),
            estimated_neurons: Some(57.6),
            estimated_usd: Some(0.0006336),
        },
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_has_no_filter_field() {
        assert!(output_schema()["properties"].get("filter").is_none());
    }
}
