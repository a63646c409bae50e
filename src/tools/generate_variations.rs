//! generate_variations: new images from a finished one, with its prompt and parameters and new
//! seeds (image-to-image on it where the model allows), then the wait of generate_image_and_wait.

use serde_json::{Map, Value};

use super::args::{arg, tool_args, ArgError, FieldKind};
use super::output::ToolError;
use super::previews::preview_arg;
use super::support::start::start_with_inputs;
use super::wait_for_completion;
use super::{Extras, Handler, Hints, Scope, ToolContext, ToolResult, ToolSpec, Typed};
use crate::catalog::{JOB_ID_MAX_CHARS, VARIATIONS, VARIATION_STRENGTH_DEFAULT};
use crate::icons;
use crate::jobs::{parameters_object, InputRole};
use crate::models::{self, Control, Controls, ImageModel, Operation};
use crate::services::inputs::{finished_job, from_job};
use crate::services::jobs::{plan_jobs, random_seed};

pub const TOOL: ToolSpec = ToolSpec {
    name: "generate_variations",
    title: "Generate variations",
    description: || {
        format!(
            "Make {} new versions of a finished image and wait for them: same prompt and parameters, new seeds. \
             Models that take an input image ({}) start from the image itself; others draw \
             the prompt again with new seeds, unless strength is given or the model takes no seed ({}): \
             then {} makes the variations from the image.",
            VARIATIONS.range_text(),
            models::labels(|spec| variation_model(spec.model(), false) == (spec.model(), true)),
            models::names(|spec| spec.param(Control::Seed).is_none()),
            models::variation_fallback().name()
        )
    },
    typed: Typed::of::<GenerateVariations>(),
    output_schema: wait_for_completion::output_schema,
    scope: Scope::Write,
    hints: Hints::GENERATE,
    reports_images: true,
    extras: Extras {
        icon: Some(icons::VARIATIONS),
        ..Extras::TASK_OPTIONAL
    },
    #[cfg(test)]
    samples: wait_for_completion::sample_results,
};

tool_args! {
    pub struct Args {
        job_id: String = arg(
            "The completed job whose image to vary.",
            FieldKind::Text {
                min_len: 1,
                max_len: Some(JOB_ID_MAX_CHARS),
            },
        )
        .required(),
        count: usize = arg(
            format!("How many variations ({}).", VARIATIONS.range_text()),
            FieldKind::Integer(VARIATIONS),
        ),
        strength: Option<f64> = arg(
            format!(
                "How far variations move from the image, 0-1 (default {VARIATION_STRENGTH_DEFAULT} for models that \
                 take it). Given for a model without image input, the variations are made by {}.",
                models::variation_fallback().name()
            ),
            FieldKind::Number { min: 0.0, max: 1.0 },
        ),
        preview: bool = preview_arg(),
    }
}

/// How variations of an image made by `source` are made: by which model, and whether from the
/// image itself (image-to-image) or from the prompt alone.
pub fn variation_model(source: ImageModel, strength_given: bool) -> (ImageModel, bool) {
    let spec = source.spec();
    let takes_strength = spec.param(Control::Strength).is_some();
    match spec.inputs {
        // Inpainting needs a mask a variation has none of: the same image through img2img.
        Some(rule) if rule.mask => (models::variation_fallback(), true),
        Some(_) if takes_strength || !strength_given => (source, true),
        // A model without a seed (flux-schnell) cannot be asked for a different image either.
        _ if strength_given || spec.param(Control::Seed).is_none() => (models::variation_fallback(), true),
        _ => (source, false),
    }
}

/// The controls of the variations: the source's (all taken by its model), seed left out (each
/// variation gets a new one); when img2img makes them, only the negative prompt carries over
/// (img2img takes one; sizes and step ranges differ between models).
pub fn variation_controls(
    source: ImageModel,
    model: ImageModel,
    parameters: &Map<String, Value>,
    strength: Option<f64>,
) -> Controls {
    let original = Controls::from_parameters(source.spec(), parameters);
    let mut controls = if model == source {
        original
    } else {
        Controls {
            negative_prompt: original.negative_prompt,
            ..Controls::default()
        }
    };
    controls.seed = None;
    if model.spec().param(Control::Strength).is_some() {
        controls.strength = Some(strength.unwrap_or(VARIATION_STRENGTH_DEFAULT));
    }
    controls
}

/// The tool's behaviour: typed arguments in, a result out.
pub struct GenerateVariations;

impl Handler for GenerateVariations {
    type Args = Args;

    async fn handle(
        ctx: &ToolContext,
        Args {
            job_id,
            count,
            strength,
            preview,
        }: Args,
    ) -> ToolResult {
        let store = ctx.store()?;
        let job = finished_job(ctx, &store, "job_id", &job_id).await?;
        let source = ImageModel::from_name(&job.model).ok_or_else(|| {
            let message = match Operation::from_name(&job.model) {
                // Such an image has no prompt or model of its own to vary.
                Some(operation) => format!(
                    "job {job_id} was made by {}, an image operation, not a model: give its image to edit_image instead",
                    operation.name()
                ),
                None => format!("job {job_id} was made by an unknown model {:?}", job.model),
            };
            ToolError::Args(ArgError(message))
        })?;
        let (model, from_image) = variation_model(source, strength.is_some());
        let controls = variation_controls(source, model, &parameters_object(job.parameters.as_deref()), strength);
        let jobs = plan_jobs(model, &controls, count, None, random_seed)?;
        let prompt = job.prompt.clone();
        let loaded = match from_image {
            true => vec![from_job(ctx, "job_id".to_string(), job, InputRole::Image).await?],
            false => Vec::new(),
        };
        start_with_inputs(ctx, &prompt, model, jobs, loaded, preview).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_variation_model_starts_from_the_image_where_it_can() {
        let m = ImageModel::named;
        assert_eq!(variation_model(m("flux-schnell"), false), (m("sd-v1-5-img2img"), true));
        assert_eq!(variation_model(m("flux-schnell"), true), (m("sd-v1-5-img2img"), true));
        assert_eq!(variation_model(m("sdxl-base"), false), (m("sdxl-base"), false));
        assert_eq!(variation_model(m("sdxl-base"), true), (m("sd-v1-5-img2img"), true));
        assert_eq!(variation_model(m("phoenix"), false), (m("phoenix"), false));
        assert_eq!(
            variation_model(m("sd-v1-5-img2img"), false),
            (m("sd-v1-5-img2img"), true)
        );
        assert_eq!(
            variation_model(m("sd-v1-5-inpainting"), false),
            (m("sd-v1-5-img2img"), true)
        );
        assert_eq!(variation_model(m("flux-2-dev"), false), (m("flux-2-dev"), true));
        // FLUX.2 takes no strength: asked for one, img2img makes the variations.
        assert_eq!(
            variation_model(m("flux-2-klein-4b"), true),
            (m("sd-v1-5-img2img"), true)
        );
    }

    #[test]
    fn variations_keep_the_parameters_but_not_the_seed() {
        let parameters = json!({"width": 1024, "height": 768, "seed": 42, "steps": 30, "guidance": 3.5});
        let parameters = parameters.as_object().unwrap();
        let same = variation_controls(
            ImageModel::named("flux-2-dev"),
            ImageModel::named("flux-2-dev"),
            parameters,
            None,
        );
        assert_eq!(
            (
                same.width,
                same.height,
                same.seed,
                same.steps,
                same.guidance,
                same.strength
            ),
            (Some(1024), Some(768), None, Some(30), Some(3.5), None)
        );
        let sd = json!({"width": 512, "height": 512, "seed": 1, "num_steps": 12, "negative_prompt": "blur"});
        let sd = sd.as_object().unwrap();
        let other = variation_controls(
            ImageModel::named("sdxl-base"),
            ImageModel::named("sd-v1-5-img2img"),
            sd,
            Some(0.2),
        );
        assert_eq!(other.negative_prompt.as_deref(), Some("blur"));
        assert_eq!(
            (other.width, other.steps, other.seed, other.strength),
            (None, None, None, Some(0.2))
        );
        let own = variation_controls(
            ImageModel::named("sd-v1-5-img2img"),
            ImageModel::named("sd-v1-5-img2img"),
            sd,
            None,
        );
        assert_eq!((own.steps, own.strength), (Some(12), Some(VARIATION_STRENGTH_DEFAULT)));
        // What variations send is always a valid plan for their model.
        for controls in [&same, &other, &own] {
            let model = if controls.strength.is_some() {
                ImageModel::named("sd-v1-5-img2img")
            } else {
                ImageModel::named("flux-2-dev")
            };
            assert!(model.spec().plan(controls, 5).is_ok(), "{controls:?}");
        }
    }
}
