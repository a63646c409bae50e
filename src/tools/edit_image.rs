//! edit_image: new images from 1-4 input images and a prompt (image-to-image, inpainting with a
//! mask, FLUX.2 references), then the wait of generate_image_and_wait.

use futures::future::LocalBoxFuture;
use serde_json::{Map, Value};

use super::args::{parse, validate, ArgError, Field, FieldKind, ToolArgs};
use super::generate_image::{plan_jobs, random_seed, GenerateArgs};
use super::inputs::{check_mask_size, check_shape, edit_model_names, edit_models, load, start_with_inputs};
use super::previews::{preview_field, PreviewArg};
use super::wait_for_completion;
use super::{ToolContext, ToolResult, ToolSpec};
use crate::catalog::{EDIT_IMAGES_MAX, EDIT_STRENGTH_DEFAULT, INPUT_IMAGE_MAX_BYTES, REQUEST_BODY_MAX_BYTES};
use crate::jobs::InputRole;
use crate::models::{self, Control, ImageModel};

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
        parse_edit(raw)
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

/// edit_image's arguments: generate_image's (prompt, model, count, controls with strength), read
/// by generate_image's own deserializer (a second one would cost Wasm), plus the inputs.
#[derive(Debug)]
struct EditArgs {
    generate: GenerateArgs,
    images: Vec<String>,
    mask: Option<String>,
}

/// Validates `raw` against [`edit_fields`]; the model, when not given, follows the inputs.
fn parse_edit(raw: &Map<String, Value>) -> Result<EditArgs, ArgError> {
    let mut args = validate(&edit_fields(), raw)?;
    let text = |value: &Value| value.as_str().map(String::from);
    let images: Vec<String> = match args.remove("images") {
        Some(Value::Array(items)) => items.iter().filter_map(text).collect(),
        _ => Vec::new(),
    };
    let mask = args.remove("mask").as_ref().and_then(text);
    if !args.contains_key("model") {
        let model = default_model(images.len(), mask.is_some());
        args.insert("model".to_string(), model.name().into());
    }
    let generate = serde_json::from_value(Value::Object(args)).map_err(|e| ArgError(e.to_string()))?;
    Ok(EditArgs { generate, images, mask })
}

/// generate_image's fields with the edit models, plus the inputs and strength.
fn edit_fields() -> Vec<Field> {
    let reference =
        "the job_id of a completed image, this server's image URL, or a data:image/png|jpeg|webp;base64 URL";
    let mut fields = vec![
        Field::new(
            "images",
            format!(
                "1-{EDIT_IMAGES_MAX} input images, each {reference}. Several images need a {} model.",
                models::several_images_labels()
            ),
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
                     {}). Taken by: {}.",
                models::names(models::edit_strength_default_applies),
                models::names_taking(Control::Strength)
            ),
            FieldKind::Number { min: 0.0, max: 1.0 },
        ),
    ];
    for field in GenerateArgs::fields() {
        if field.name == "model" {
            fields.push(Field::new(
                "model",
                format!(
                    "Editing model. Default: {}. list_models describes each.",
                    models::edit_defaults_text()
                ),
                FieldKind::Choice {
                    options: edit_models().collect(),
                    default: None,
                },
            ));
        } else {
            fields.push(field);
        }
    }
    fields
}

fn fields() -> Vec<Field> {
    [edit_fields(), vec![preview_field()]].concat()
}

/// The model an edit uses when the call names none: the inputs decide.
fn default_model(images: usize, has_mask: bool) -> ImageModel {
    models::edit_default(images, has_mask)
}

fn handle(ctx: &ToolContext, raw: Map<String, Value>) -> LocalBoxFuture<'_, ToolResult> {
    Box::pin(async move {
        let EditArgs { generate, images, mask } = parse_edit(&raw)?;
        let PreviewArg { preview } = parse(&raw)?;
        let GenerateArgs {
            prompt,
            model,
            count,
            mut controls,
        } = generate;
        let spec = model.spec();
        check_shape(spec, images.len(), mask.is_some())?;
        if controls.strength.is_none() && models::edit_strength_default_applies(spec) {
            controls.strength = Some(EDIT_STRENGTH_DEFAULT);
        }
        // Controls are checked before any input is read or stored.
        let jobs = plan_jobs(model, &controls, count, None, random_seed)?;
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
        start_with_inputs(ctx, &prompt, model, jobs, loaded, preview).await
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_is_read() {
        let sample = super::super::args::agreement::full_sample(&edit_fields());
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
                "guidance"
            ]
        );
        assert_eq!((args.images, args.mask.as_deref()), (vec!["id".to_string()], Some("x")));
        let generate = args.generate;
        assert_eq!(
            (generate.prompt.len(), generate.model, generate.count),
            (3, ImageModel::named("sd-v1-5-inpainting"), 20)
        );
        let c = generate.controls;
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
        assert_eq!(args.generate.model, ImageModel::named("sd-v1-5-img2img"));
        assert_eq!(args.generate.controls.strength, Some(0.4));
        assert_eq!(args.generate.count, 1);
        let two = serde_json::json!({"prompt": "x y z", "images": ["a", "b"]});
        assert_eq!(
            parse_edit(two.as_object().unwrap()).unwrap().generate.model,
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
