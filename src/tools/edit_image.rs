//! edit_image: new images from 1-4 input images and a prompt (image-to-image, inpainting with a
//! mask, FLUX.2 references), then the wait of generate_image_and_wait.

use futures::future::LocalBoxFuture;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::args::{parse, Field, FieldKind, ToolArgs};
use super::generate_image::{plan_jobs, random_seed, start_jobs, Batch, GenerateArgs};
use super::inputs::{check_mask_size, check_shape, edit_model_names, load, prepare};
use super::output::ToolError;
use super::previews::{preview_field, PreviewArg};
use super::wait_for_completion::{self, wait_for_jobs};
use super::{ToolContext, ToolResult, ToolSpec};
use crate::catalog::{EDIT_IMAGES_MAX, EDIT_STRENGTH_DEFAULT, INPUT_IMAGE_MAX_BYTES, REQUEST_BODY_MAX_BYTES};
use crate::jobs::InputRole;
use crate::models::{Controls, ImageModel, MODELS};

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
    fields,
    #[cfg(test)]
    parse_args: |raw| {
        parse::<EditArgs>(raw)
            .and_then(|_| parse::<PreviewArg>(raw))
            .map(drop)
            .map_err(|e| e.to_string())
    },
    output_schema: wait_for_completion::output_schema,
    read_only: false,
    reports_images: true,
    handler: handle,
    #[cfg(test)]
    samples: wait_for_completion::sample_results,
};

#[derive(Debug, Deserialize)]
#[cfg_attr(test, derive(serde::Serialize))]
struct EditArgs {
    prompt: String,
    images: Vec<String>,
    mask: Option<String>,
    model: Option<ImageModel>,
    count: usize,
    #[serde(flatten)]
    controls: Controls,
}

impl ToolArgs for EditArgs {
    /// generate_image's fields with the edit models, plus the inputs and strength.
    fn fields() -> Vec<Field> {
        let reference =
            "the job_id of a completed image, this server's image URL, or a data:image/png|jpeg|webp;base64 URL";
        let mut fields = vec![
            Field::new(
                "images",
                format!("1-{EDIT_IMAGES_MAX} input images, each {reference}. Several images need a FLUX.2 model."),
                FieldKind::TextList {
                    min_items: 1,
                    max_items: EDIT_IMAGES_MAX,
                    max_len: REQUEST_BODY_MAX_BYTES,
                },
            )
            .required(),
            Field::new(
                "mask",
                format!("Inpainting mask, {reference}: white is repainted, black kept; the same size as the image."),
                FieldKind::Text {
                    min_len: 1,
                    max_len: Some(REQUEST_BODY_MAX_BYTES),
                },
            ),
            Field::new(
                "strength",
                format!(
                    "How far to move from the input image: 0 keeps it, 1 ignores it (default {EDIT_STRENGTH_DEFAULT} for \
                     sd-v1-5-img2img). Taken by: sd-v1-5-img2img, sd-v1-5-inpainting."
                ),
                FieldKind::Number { min: 0.0, max: 1.0 },
            ),
        ];
        for field in GenerateArgs::fields() {
            if field.name == "model" {
                fields.push(Field::new(
                    "model",
                    "Editing model. Default: sd-v1-5-inpainting with a mask, flux-2-klein-4b with several images, \
                     else sd-v1-5-img2img. list_models describes each.",
                    FieldKind::Choice {
                        options: MODELS
                            .iter()
                            .filter(|spec| spec.inputs.is_some())
                            .map(|spec| spec.name)
                            .collect(),
                        default: None,
                    },
                ));
            } else {
                fields.push(field);
            }
        }
        fields
    }
}

fn fields() -> Vec<Field> {
    [EditArgs::fields(), vec![preview_field()]].concat()
}

/// The model an edit uses when the call names none: the inputs decide.
fn default_model(images: usize, has_mask: bool) -> ImageModel {
    match (has_mask, images) {
        (true, _) => ImageModel::SdV15Inpainting,
        (false, 2..) => ImageModel::Flux2Klein4b,
        _ => ImageModel::SdV15Img2img,
    }
}

fn handle(ctx: &ToolContext, raw: Map<String, Value>) -> LocalBoxFuture<'_, ToolResult> {
    Box::pin(async move {
        let EditArgs {
            prompt,
            images,
            mask,
            model,
            count,
            mut controls,
        } = parse(&raw)?;
        let PreviewArg { preview } = parse(&raw)?;
        let model = model.unwrap_or_else(|| default_model(images.len(), mask.is_some()));
        let spec = model.spec();
        check_shape(spec, images.len(), mask.is_some())?;
        let takes_strength = spec.param(crate::models::Control::Strength).is_some();
        if controls.strength.is_none() && takes_strength && !spec.inputs.is_some_and(|rule| rule.mask) {
            controls.strength = Some(EDIT_STRENGTH_DEFAULT);
        }
        // Controls are checked before any input is read or stored.
        let mut jobs = plan_jobs(model, &controls, count, None, random_seed)?;
        let store = ctx.store()?;
        let mut loaded = Vec::with_capacity(images.len() + 1);
        for (i, text) in images.iter().enumerate() {
            loaded.push(load(ctx, &store, format!("images[{i}]"), text, InputRole::Image).await?);
        }
        if let Some(text) = &mask {
            let mask = load(ctx, &store, "mask".to_string(), text, InputRole::Mask).await?;
            check_mask_size(&loaded[0], &mask)?;
            loaded.push(mask);
        }
        let (inputs, stored_inputs) = prepare(ctx, spec, loaded).await?;
        let inputs =
            serde_json::to_string(&inputs).map_err(|e| ToolError::Args(super::args::ArgError(e.to_string())))?;
        for job in &mut jobs {
            job.inputs = Some(inputs.clone());
        }
        let batch = Batch {
            prompt: &prompt,
            model,
            jobs,
            stored_inputs,
        };
        let ids = start_jobs(ctx, batch).await?;
        wait_for_jobs(ctx, ids, preview).await
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_match() {
        super::super::args::agreement::assert_fields_match::<EditArgs>("edit_image");
    }

    #[test]
    fn the_default_model_follows_the_inputs() {
        assert_eq!(default_model(1, true), ImageModel::SdV15Inpainting);
        assert_eq!(default_model(1, false), ImageModel::SdV15Img2img);
        assert_eq!(default_model(2, false), ImageModel::Flux2Klein4b);
        assert_eq!(default_model(4, false), ImageModel::Flux2Klein4b);
        for (images, mask) in [(1, true), (1, false), (3, false)] {
            let spec = default_model(images, mask).spec();
            assert!(check_shape(spec, images, mask).is_ok(), "{}", spec.name);
        }
    }

    #[test]
    fn edit_models_only_and_the_shape_rules_say_what_to_use() {
        let names: Vec<&str> = EditArgs::fields()
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
        assert_eq!(
            names,
            [
                "flux-2-dev",
                "flux-2-klein-4b",
                "flux-2-klein-9b",
                "sd-v1-5-img2img",
                "sd-v1-5-inpainting"
            ]
        );
        let text_only = check_shape(ImageModel::SdxlBase.spec(), 1, false)
            .unwrap_err()
            .to_string();
        assert!(
            text_only.contains("sdxl-base does not take input images"),
            "{text_only}"
        );
        let two = check_shape(ImageModel::SdV15Img2img.spec(), 2, false)
            .unwrap_err()
            .to_string();
        assert!(two.contains("takes 1 input image(s), not 2"), "{two}");
        let no_mask = check_shape(ImageModel::SdV15Inpainting.spec(), 1, false)
            .unwrap_err()
            .to_string();
        assert!(no_mask.contains("needs a mask"), "{no_mask}");
        let flux_mask = check_shape(ImageModel::Flux2Dev.spec(), 1, true)
            .unwrap_err()
            .to_string();
        assert!(flux_mask.contains("takes no mask"), "{flux_mask}");
        assert!(check_shape(ImageModel::Flux2Dev.spec(), 5, false).is_err());
    }

    #[test]
    fn arguments_parse_with_the_edit_models_and_refuse_text_models() {
        let raw = serde_json::json!({"prompt": "same but at night", "images": ["data:image/png;base64,AA"],
            "model": "sd-v1-5-img2img", "strength": 0.4, "seed": 3});
        let args: EditArgs = parse(raw.as_object().unwrap()).unwrap();
        assert_eq!(args.model, Some(ImageModel::SdV15Img2img));
        assert_eq!(args.controls.strength, Some(0.4));
        assert_eq!(args.count, 1);
        let text_model = serde_json::json!({"prompt": "x y z", "images": ["a"], "model": "flux-schnell"});
        assert!(parse::<EditArgs>(text_model.as_object().unwrap()).is_err());
        let none = serde_json::json!({"prompt": "x y z", "images": []});
        assert!(parse::<EditArgs>(none.as_object().unwrap()).is_err());
        let strong = serde_json::json!({"prompt": "x y z", "images": ["a"], "strength": 1.5});
        assert!(parse::<EditArgs>(strong.as_object().unwrap()).is_err());
    }
}
