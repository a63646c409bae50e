//! generate_image_and_wait: generate_image, then wait_for_completion, in one call.

use futures::future::LocalBoxFuture;
use serde_json::{Map, Value};

use super::args::{parse, Field, ToolArgs};
use super::generate_image::GenerateArgs;
use super::previews::PreviewArg;
use super::wait_for_completion::{self, wait_for_jobs};
use super::{ToolContext, ToolResult, ToolSpec};
use crate::services::jobs::start_jobs;

pub const TOOL: ToolSpec = ToolSpec {
    name: "generate_image_and_wait",
    title: "Generate image and wait",
    description: || {
        "Generate one or more images from a text prompt and wait until they are ready, \
         returning the image URL(s) in one call. The easiest way to get an image. \
         If generation takes longer than this call may wait, the result lists the finished images \
         and the job ids still running: pass those to wait_for_completion."
            .to_string()
    },
    fields,
    #[cfg(test)]
    parse_args: |raw| {
        parse::<GenerateArgs>(raw)
            .and_then(|_| parse::<PreviewArg>(raw))
            .map(drop)
            .map_err(|e| e.to_string())
    },
    output_schema: wait_for_completion::output_schema,
    read_only: false,
    reports_images: true,
    handler: handle,
    // It ends in the same wait as wait_for_completion.
    #[cfg(test)]
    samples: wait_for_completion::sample_results,
};

/// generate_image's arguments plus the wait's `preview`. Read as two argument sets (each checked
/// against its own fields): one struct flattening GenerateArgs would compile a second copy of its
/// deserializer into the Wasm.
fn fields() -> Vec<Field> {
    [GenerateArgs::fields(), PreviewArg::fields()].concat()
}

fn handle(ctx: &ToolContext, raw: Map<String, Value>) -> LocalBoxFuture<'_, ToolResult> {
    Box::pin(async move {
        let request: GenerateArgs = parse(&raw)?;
        let PreviewArg { preview } = parse(&raw)?;
        let ids = start_jobs(ctx, request.batch()?).await?;
        wait_for_jobs(ctx, ids, preview).await
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fields_are_generate_images_plus_preview_and_both_parts_parse() {
        let names: Vec<&str> = fields().iter().map(|f| f.name).collect();
        let generate: Vec<&str> = GenerateArgs::fields().iter().map(|f| f.name).collect();
        assert_eq!(names, [generate, vec!["preview"]].concat());
        let raw = serde_json::json!({"prompt": "a red fox", "preview": false, "count": 2});
        let raw = raw.as_object().unwrap();
        assert!((TOOL.parse_args)(raw).is_ok());
        assert!(!parse::<PreviewArg>(raw).unwrap().preview);
        assert_eq!(parse::<GenerateArgs>(raw).unwrap().count, 2);
        let wrong = serde_json::json!({"prompt": "a red fox", "preview": "no"});
        assert!((TOOL.parse_args)(wrong.as_object().unwrap()).is_err());
    }
}
