//! generate_image_and_wait: generate_image, then wait_for_completion, in one call.

use futures::future::LocalBoxFuture;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::args::{parse, Field, ToolArgs};
use super::generate_image::{start_jobs, GenerateArgs};
use super::previews::preview_field;
use super::wait_for_completion::{self, wait_for_jobs};
use super::{ToolContext, ToolResult, ToolSpec};

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
    fields: Args::fields,
    #[cfg(test)]
    parse_args: |raw| parse::<Args>(raw).map(drop).map_err(|e| e.to_string()),
    output_schema: wait_for_completion::output_schema,
    read_only: false,
    reports_images: true,
    handler: handle,
    // It ends in the same wait as wait_for_completion.
    #[cfg(test)]
    samples: wait_for_completion::sample_results,
};

/// generate_image's arguments plus the wait's `preview`.
#[derive(Debug, Deserialize)]
#[cfg_attr(test, derive(serde::Serialize))]
struct Args {
    #[serde(flatten)]
    generate: GenerateArgs,
    preview: bool,
}

impl ToolArgs for Args {
    fn fields() -> Vec<Field> {
        let mut fields = GenerateArgs::fields();
        fields.push(preview_field());
        fields
    }
}

fn handle(ctx: &ToolContext, raw: Map<String, Value>) -> LocalBoxFuture<'_, ToolResult> {
    Box::pin(async move {
        let args: Args = parse(&raw)?;
        let ids = start_jobs(ctx, &args.generate).await?;
        wait_for_jobs(ctx, ids, args.preview).await
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_match() {
        super::super::args::agreement::assert_fields_match::<Args>("generate_image_and_wait");
    }
}
