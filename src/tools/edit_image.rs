//! edit_image: new images from 1-4 input images and a prompt (image-to-image, inpainting with a
//! mask, FLUX.2 references), then the wait of generate_image_and_wait.

use super::args::{arg, tool_args, FieldKind, Flatten, IMAGE_REFERENCE};
use super::generate_image::{count_arg, prompt_arg, ControlArgs};
use super::previews::preview_arg;
use super::wait_for_completion;
use super::{Extras, Handler, Hints, Scope, ToolContext, ToolResult, ToolSpec, Typed};
use crate::catalog::{EDIT_IMAGES_MAX, EDIT_STRENGTH_DEFAULT, INPUT_IMAGE_MAX_BYTES, REQUEST_BODY_MAX_BYTES};
use crate::icons;
use crate::models::{self, Control, ImageModel};
use crate::services::edits::{start_edit, Edit, Input, Source};
#[cfg(test)]
use crate::services::inputs::check_shape;
use crate::services::inputs::{edit_model_names, edit_models};

pub const TOOL: ToolSpec = ToolSpec {
    name: "edit_image",
    title: "Edit images",
    description: || {
        format!(
            "Make new images from 1-{EDIT_IMAGES_MAX} input images and a prompt, and wait for them: change an image \
             (\"same but at night\"), repaint where a mask is white (inpainting), or combine references. \
             An image is the job_id of a completed image, one of this server's image URLs, or a \
             data:image/png|jpeg|webp;base64 URL (at most {INPUT_IMAGE_MAX_BYTES} bytes); other URLs are refused, \
             never fetched. Models: {}. Returns like generate_image_and_wait, with each job's inputs.",
            edit_model_names()
        )
    },
    typed: Typed::of::<EditImage>(),
    output_schema: wait_for_completion::output_schema,
    scope: Scope::Write,
    hints: Hints::GENERATE,
    reports_images: true,
    extras: Extras {
        icon: Some(icons::EDIT),
        ..Extras::TASK_OPTIONAL
    },
    #[cfg(test)]
    samples: wait_for_completion::sample_results,
};

tool_args! {
    /// generate_image's arguments with the edit models, plus the inputs, strength and preview.
    pub struct Args {
        images: Vec<String> = arg(
            format!(
                "1-{EDIT_IMAGES_MAX} input images, each {IMAGE_REFERENCE}. Several images need a {} model.",
                models::several_images_labels()
            ),
            FieldKind::TextList {
                min_items: 1,
                max_items: EDIT_IMAGES_MAX,
                max_len: REQUEST_BODY_MAX_BYTES,
            },
        )
        .required(),
        mask: Option<String> = arg(
            format!("Inpainting mask, {IMAGE_REFERENCE}: white is repainted, black kept; the same size as the image."),
            FieldKind::Text {
                min_len: 1,
                max_len: Some(REQUEST_BODY_MAX_BYTES),
            },
        ),
        strength: Option<f64> = arg(
            format!(
                "How far to move from the input image: 0 keeps it, 1 ignores it (default {EDIT_STRENGTH_DEFAULT} for \
                     {}). Taken by: {}.",
                models::names(models::edit_strength_default_applies),
                models::names_taking(Control::Strength)
            ),
            FieldKind::Number { min: 0.0, max: 1.0 },
        ),
        prompt: String = prompt_arg(),
        /// Absent: the inputs decide ([`default_model`]).
        model: Option<ImageModel> = arg(
            format!(
                "Editing model. Default: {}. list_models describes each.",
                models::edit_defaults_text()
            ),
            FieldKind::Choice {
                options: edit_models().collect(),
                default: None,
            },
        ),
        count: usize = count_arg(),
        controls: ControlArgs = Flatten,
        preview: bool = preview_arg(),
    }
}

impl Args {
    /// The model asked for, or the one the inputs call for.
    #[cfg(test)]
    fn model(&self) -> ImageModel {
        self.model
            .unwrap_or_else(|| default_model(self.images.len(), self.mask.is_some()))
    }
}

/// The model an edit uses when the call names none: the inputs decide.
#[cfg(test)]
fn default_model(images: usize, has_mask: bool) -> ImageModel {
    models::edit_default(images, has_mask)
}

/// The tool's behaviour: typed arguments in, a result out.
pub struct EditImage;

impl Handler for EditImage {
    type Args = Args;

    async fn handle(ctx: &ToolContext, args: Args) -> ToolResult {
        let edit = Edit {
            prompt: &args.prompt,
            model: args.model,
            count: args.count,
            controls: args.controls.to_controls(args.strength),
            images: (args.images.iter().enumerate())
                .map(|(i, text)| Input {
                    argument: format!("images[{i}]"),
                    source: Source::Reference(text),
                })
                .collect(),
            mask: args.mask.as_deref().map(|text| Input {
                argument: "mask".to_string(),
                source: Source::Reference(text),
            }),
        };
        let ids = start_edit(ctx, edit).await?;
        wait_for_completion::wait_for_jobs(ctx, ids, args.preview).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::args::{parse, samples::full_sample, ArgError, ToolArgs};

    fn parse_edit(raw: &serde_json::Map<String, serde_json::Value>) -> Result<Args, ArgError> {
        parse(raw)
    }

    fn edit_fields() -> Vec<crate::tools::Field> {
        Args::fields()
    }

    #[test]
    fn every_field_is_read() {
        let sample = full_sample(&edit_fields());
        let args = parse_edit(&sample).unwrap();
        let names: Vec<&str> = edit_fields().iter().map(|f| f.name).collect();
        assert_eq!(
            names,
            [
                "images",
                "mask",
                "strength",
                "prompt",
                "model",
                "count",
                "aspect_ratio",
                "width",
                "height",
                "seed",
                "negative_prompt",
                "steps",
                "guidance",
                "preview"
            ]
        );
        assert_eq!(
            (&args.images, args.mask.as_deref()),
            (&vec!["id".to_string()], Some("x"))
        );
        assert_eq!(
            (args.prompt.len(), args.model(), args.count, args.preview),
            (3, ImageModel::named("sd-v1-5-inpainting"), 20, false)
        );
        let c = args.controls.to_controls(args.strength);
        assert_eq!(
            (c.strength, c.width, c.height, c.seed),
            (Some(1.0), Some(2500), Some(2500), Some(4294967295))
        );
        assert_eq!(
            (c.aspect_ratio.map(|r| r.name), c.negative_prompt.as_deref()),
            (Some("21:9"), Some("x"))
        );
        assert_eq!((c.steps, c.guidance), (Some(50), Some(30.0)));
    }

    #[test]
    fn the_default_model_follows_the_inputs() {
        assert_eq!(default_model(1, true), ImageModel::named("sd-v1-5-inpainting"));
        assert_eq!(default_model(1, false), ImageModel::named("sd-v1-5-img2img"));
        assert_eq!(default_model(2, false), ImageModel::named("flux-2-klein-4b"));
        assert_eq!(default_model(4, false), ImageModel::named("flux-2-klein-4b"));
        for (images, mask) in [(1, true), (1, false), (3, false)] {
            let spec = default_model(images, mask).spec();
            assert!(check_shape(spec, images, mask).is_ok(), "{}", spec.name);
        }
    }

    #[test]
    fn edit_models_only_and_the_shape_rules_say_what_to_use() {
        let names: Vec<&str> = edit_fields()
            .into_iter()
            .find(|f| f.name == "model")
            .map(|f| match f.kind {
                FieldKind::Choice { options, default } => {
                    assert_eq!(default, None);
                    options
                }
                _ => panic!("model is a choice"),
            })
            .unwrap();
        let image_models = crate::models::MODELS.iter().filter(|spec| spec.inputs.is_some());
        assert_eq!(names, image_models.map(|spec| spec.name).collect::<Vec<_>>());
        assert!(names.contains(&"sd-v1-5-img2img") && names.contains(&"flux-2-dev") && !names.contains(&"sdxl-base"));
        let text_only = check_shape(ImageModel::named("sdxl-base").spec(), 1, false)
            .unwrap_err()
            .to_string();
        assert!(
            text_only.contains("sdxl-base does not take input images"),
            "{text_only}"
        );
        let two = check_shape(ImageModel::named("sd-v1-5-img2img").spec(), 2, false)
            .unwrap_err()
            .to_string();
        assert!(two.contains("takes 1 input image(s), not 2"), "{two}");
        let no_mask = check_shape(ImageModel::named("sd-v1-5-inpainting").spec(), 1, false)
            .unwrap_err()
            .to_string();
        assert!(no_mask.contains("needs a mask"), "{no_mask}");
        let flux_mask = check_shape(ImageModel::named("flux-2-dev").spec(), 1, true)
            .unwrap_err()
            .to_string();
        assert!(flux_mask.contains("takes no mask"), "{flux_mask}");
        assert!(check_shape(ImageModel::named("flux-2-dev").spec(), 5, false).is_err());
    }

    #[test]
    fn arguments_parse_with_the_edit_models_and_refuse_text_models() {
        let raw = serde_json::json!({"prompt": "same but at night", "images": ["data:image/png;base64,AA"],
            "model": "sd-v1-5-img2img", "strength": 0.4, "seed": 3});
        let args = parse_edit(raw.as_object().unwrap()).unwrap();
        assert_eq!(args.model(), ImageModel::named("sd-v1-5-img2img"));
        assert_eq!(args.strength, Some(0.4));
        assert_eq!(args.count, 1);
        assert!(args.preview, "preview defaults to true");
        let two = serde_json::json!({"prompt": "x y z", "images": ["a", "b"]});
        assert_eq!(
            parse_edit(two.as_object().unwrap()).unwrap().model(),
            ImageModel::named("flux-2-klein-4b")
        );
        let text_model = serde_json::json!({"prompt": "x y z", "images": ["a"], "model": "flux-schnell"});
        assert!(parse_edit(text_model.as_object().unwrap()).is_err());
        let none = serde_json::json!({"prompt": "x y z", "images": []});
        assert!(parse_edit(none.as_object().unwrap()).is_err());
        let strong = serde_json::json!({"prompt": "x y z", "images": ["a"], "strength": 1.5});
        assert!(parse_edit(strong.as_object().unwrap()).is_err());
    }
}
