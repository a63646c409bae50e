//! generate_image_and_wait: generate_image, then wait_for_completion, in one call.

use super::args::{tool_args, Flatten};
use super::generate_image::GenerateArgs;
use super::previews::preview_arg;
use super::wait_for_completion::{self, wait_for_jobs};
use super::{Extras, Handler, Hints, Scope, ToolContext, ToolResult, ToolSpec, Typed};
use crate::icons;
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
    typed: Typed::of::<GenerateImageAndWait>(),
    output_schema: wait_for_completion::output_schema,
    scope: Scope::Write,
    hints: Hints::GENERATE,
    reports_images: true,
    extras: Extras {
        icon: Some(icons::GENERATE),
        ..Extras::TASK_OPTIONAL
    },
    // It ends in the same wait as wait_for_completion.
    #[cfg(test)]
    samples: wait_for_completion::sample_results,
};

tool_args! {
    /// generate_image's arguments plus the wait's `preview`.
    pub struct Args {
        generate: GenerateArgs = Flatten,
        preview: bool = preview_arg(),
    }
}

/// The tool's behaviour: typed arguments in, a result out.
pub struct GenerateImageAndWait;

impl Handler for GenerateImageAndWait {
    type Args = Args;

    async fn handle(
        ctx: &ToolContext,
        Args {
            generate: request,
            preview,
        }: Args,
    ) -> ToolResult {
        let ids = start_jobs(ctx, request.batch()?).await?;
        wait_for_jobs(ctx, ids, preview).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::args::{parse, ToolArgs};

    #[test]
    fn the_fields_are_generate_images_plus_preview_and_read_into_both_parts() {
        let names: Vec<String> = Args::fields().iter().map(|f| f.name.to_string()).collect();
        let mut expected: Vec<String> = GenerateArgs::fields().iter().map(|f| f.name.to_string()).collect();
        expected.push("preview".to_string());
        assert_eq!(names, expected);
        let raw = serde_json::json!({"prompt": "a red fox", "preview": false, "count": 2});
        let args: Args = parse(raw.as_object().unwrap()).unwrap();
        assert!(!args.preview);
        assert_eq!((args.generate.count, args.generate.prompt.as_str()), (2, "a red fox"));
        let wrong = serde_json::json!({"prompt": "a red fox", "preview": "no"});
        assert_eq!(
            (TOOL.typed.parse)(wrong.as_object().unwrap()).unwrap_err().to_string(),
            "Invalid arguments: preview must be true or false"
        );
    }
}
