//! remove_background: one image reference (as edit_image takes them) → a PNG with the background
//! made transparent, through the Images binding's `segment: "foreground"` transform. A queued job
//! like the others (row, image, thumbnail, gallery entry, `inputs` listed), made by the registry's
//! background-removal operation, then the wait of generate_image_and_wait.

use serde_json::{json, Value};

use super::args::{image_arg, tool_args};
use super::previews::preview_arg;
use super::support::start::start_with_inputs;
use super::wait_for_completion;
use super::{Extras, Handler, Hints, Scope, ToolContext, ToolError, ToolResult, ToolSpec, Typed};
use crate::catalog::INPUT_IMAGE_MAX_BYTES;
use crate::jobs::{InputRole, NewJob};
use crate::models::{Maker, Operation};
use crate::services::inputs::load;
use crate::services::ServiceError;

pub const TOOL: ToolSpec = ToolSpec {
    name: "remove_background",
    title: "Remove the background",
    description: || {
        let operation = Operation::REMOVE_BACKGROUND.spec();
        format!(
            "Cut out the subject of an image: returns a PNG whose background is transparent (Cloudflare Images \
             segment: \"foreground\"), stored and listed like any generated image, and waits for it. The image is \
             the job_id of a completed image, one of this server's image URLs, or a data:image/png|jpeg|webp;base64 \
             URL (at most {INPUT_IMAGE_MAX_BYTES} bytes); other URLs are refused, never fetched. Counts as one image \
             toward the daily quota; costs {}. Returns like generate_image_and_wait.",
            operation.price_text
        )
    },
    typed: Typed::of::<RemoveBackground>(),
    output_schema: wait_for_completion::output_schema,
    scope: Scope::Write,
    hints: Hints::GENERATE,
    reports_images: true,
    extras: Extras::NONE,
    #[cfg(test)]
    samples: wait_for_completion::sample_results,
};

tool_args! {
    /// The image to cut out, and whether to inline its thumbnail.
    pub struct Args {
        image: String = image_arg(),
        preview: bool = preview_arg(),
    }
}

/// What the job records as sent besides its input: the transform and the output format.
pub fn parameters() -> Value {
    json!({"segment": "foreground", "format": "png"})
}

/// The tool's behaviour: typed arguments in, a result out.
pub struct RemoveBackground;

impl Handler for RemoveBackground {
    type Args = Args;

    async fn handle(ctx: &ToolContext, args: Args) -> ToolResult {
        // Refused before anything is read or stored: nothing else can do the cut-out.
        if crate::bindings::images(&ctx.env).is_none() {
            return Err(ToolError::from(ServiceError::Invalid(format!(
                "remove_background needs the {} binding (Cloudflare Images, `[images] binding` in wrangler.toml), \
                 which is not configured, so nothing was started",
                crate::bindings::IMAGES
            ))));
        }
        let store = ctx.store()?;
        let input = load(ctx, &store, "image".to_string(), &args.image, InputRole::Image).await?;
        let prompt = format!("background removed from {}", crate::catalog::echo(&input.source));
        let job = NewJob {
            id: uuid::Uuid::new_v4().to_string(),
            seed: None,
            width: Some(i64::from(input.width)),
            height: Some(i64::from(input.height)),
            parameters: parameters().to_string(),
            inputs: None,
            estimated_neurons: None,
            estimated_usd: None,
        };
        let maker = Maker::Operation(Operation::REMOVE_BACKGROUND);
        start_with_inputs(ctx, &prompt, maker, vec![job], vec![input], args.preview).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::args::{parse, ToolArgs};

    #[test]
    fn one_image_is_required_and_preview_defaults_to_true() {
        let names: Vec<&str> = Args::fields().iter().map(|f| f.name).collect();
        assert_eq!(names, ["image", "preview"]);
        let raw = json!({"image": "data:image/png;base64,AA"});
        let args: Args = parse(raw.as_object().unwrap()).unwrap();
        assert_eq!(args.image, "data:image/png;base64,AA");
        assert!(args.preview);
        assert!(parse::<Args>(json!({}).as_object().unwrap()).is_err());
        assert!(parse::<Args>(json!({"image": ""}).as_object().unwrap()).is_err());
    }

    #[test]
    fn the_job_asks_for_the_foreground_as_png() {
        assert_eq!(parameters(), json!({"segment": "foreground", "format": "png"}));
        let cost = Maker::Operation(Operation::REMOVE_BACKGROUND)
            .estimate(None, &serde_json::Map::new(), &[])
            .unwrap();
        assert_eq!((cost.neurons, cost.usd), (0.0, 0.0005));
    }
}
