//! The models the tools pick when a call names none (the registry's roles), every text that names
//! models, and the widest ranges the tools' fields accept, all rendered from the registry so a
//! new entry shows up in them by itself.

use super::registry::ENTRIES;
use super::{Control, ImageModel, ModelSpec, Range, Role, MODELS};

const EDIT_ONE_IMAGE: ImageModel = ImageModel::holding(Role::EditOneImage);
const EDIT_SEVERAL_IMAGES: ImageModel = ImageModel::holding(Role::EditSeveralImages);
const EDIT_WITH_MASK: ImageModel = ImageModel::holding(Role::EditWithMask);
const VARIATION_FALLBACK: ImageModel = ImageModel::holding(Role::VariationFallback);

/// The model edit_image uses when the call names none: the inputs decide.
pub fn edit_default(images: usize, has_mask: bool) -> ImageModel {
    match (has_mask, images) {
        (true, _) => EDIT_WITH_MASK,
        (false, 2..) => EDIT_SEVERAL_IMAGES,
        _ => EDIT_ONE_IMAGE,
    }
}

/// [`edit_default`] in words: "<model> with a mask, <model> with several images, else <model>".
pub fn edit_defaults_text() -> String {
    format!(
        "{} with a mask, {} with several images, else {}",
        EDIT_WITH_MASK.name(),
        EDIT_SEVERAL_IMAGES.name(),
        EDIT_ONE_IMAGE.name()
    )
}

/// Whether edit_image gives `spec` its default strength when the call gives none: the model
/// takes a strength and repaints a whole image (an inpainting model keeps its own default).
pub fn edit_strength_default_applies(spec: &ModelSpec) -> bool {
    spec.param(Control::Strength).is_some() && !spec.inputs.is_some_and(|rule| rule.mask)
}

/// OpenAI's image model names and the model the OpenAI-compatible API (`/v1/images/…`) runs for
/// each when generating (see [`Role`]); edits and variations pick by their inputs instead.
pub const OPENAI_ALIASES: [(&str, ImageModel); 3] = [
    ("dall-e-2", ImageModel::holding(Role::OpenAiDallE2)),
    ("dall-e-3", ImageModel::holding(Role::OpenAiDallE3)),
    ("gpt-image-1", ImageModel::holding(Role::OpenAiGptImage1)),
];

/// The model an OpenAI model name stands for, if it is one of [`OPENAI_ALIASES`].
pub fn openai_alias(name: &str) -> Option<ImageModel> {
    OPENAI_ALIASES
        .iter()
        .find(|(alias, _)| *alias == name)
        .map(|(_, model)| *model)
}

/// The model that makes variations when the image's own model cannot (see [`Role`]).
pub fn variation_fallback() -> ImageModel {
    VARIATION_FALLBACK
}

/// The names of the models `keep` selects, in registry order: "a, b, c".
pub fn names(keep: impl Fn(&ModelSpec) -> bool) -> String {
    list(&keep, false)
}

/// Like [`names`], but the models of a family are named once, by the family ("FLUX.2"), after
/// the models named alone: "sd-v1-5-img2img, FLUX.2".
pub fn labels(keep: impl Fn(&ModelSpec) -> bool) -> String {
    list(&keep, true)
}

/// One body for every caller's filter (a generic one would be copied per filter into the Wasm).
fn list(keep: &dyn Fn(&ModelSpec) -> bool, by_family: bool) -> String {
    let mut text = String::new();
    let mut add = |label: &str| {
        if !text.is_empty() {
            text.push_str(", ");
        }
        text.push_str(label);
    };
    for spec in MODELS.iter().filter(|spec| keep(spec)) {
        if !by_family || spec.family.is_none() {
            add(spec.name);
        }
    }
    // Families follow the models named alone, each once (at its first kept model).
    if by_family {
        for (i, spec) in MODELS.iter().enumerate().filter(|(_, spec)| keep(spec)) {
            let Some(family) = spec.family else { continue };
            if !MODELS[..i]
                .iter()
                .any(|earlier| earlier.family == Some(family) && keep(earlier))
            {
                add(family);
            }
        }
    }
    text
}

/// The models that take `control`.
pub fn names_taking(control: Control) -> String {
    names(|spec| spec.param(control).is_some())
}

/// The models that repaint under a mask (and need one).
pub fn mask_model_names() -> String {
    names(|spec| spec.inputs.is_some_and(|rule| rule.mask))
}

/// The models (by family) that take several input images.
pub fn several_images_labels() -> String {
    labels(|spec| spec.inputs.is_some_and(|rule| rule.max_images > 1))
}

/// The widest range any model takes for an integer `control`: what a tool's field accepts before
/// the chosen model's own range is checked. (0, 0) when no model takes it.
pub fn integer_bounds(control: Control) -> (i64, i64) {
    widest(control, |range| match range {
        Range::Integer { min, max } => Some((min, max)),
        _ => None,
    })
    .unwrap_or((0, 0))
}

/// [`integer_bounds`] for a number `control`.
pub fn number_bounds(control: Control) -> (f64, f64) {
    widest(control, |range| match range {
        Range::Number { min, max } => Some((min, max)),
        _ => None,
    })
    .unwrap_or((0.0, 0.0))
}

/// The union of every model's range of `control`, as `pick` reads it.
fn widest<T: PartialOrd + Copy>(control: Control, pick: impl Fn(Range) -> Option<(T, T)>) -> Option<(T, T)> {
    ENTRIES
        .iter()
        .flat_map(|entry| entry.params)
        .filter(|param| param.control == control)
        .filter_map(|param| pick(param.range))
        .reduce(|(low, high), (min, max)| (if min < low { min } else { low }, if max > high { max } else { high }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_edit_model_follows_the_inputs_and_can_take_them() {
        assert_eq!(edit_default(1, true), ImageModel::named("sd-v1-5-inpainting"));
        assert_eq!(edit_default(1, false), ImageModel::named("sd-v1-5-img2img"));
        assert_eq!(edit_default(2, false), ImageModel::named("flux-2-klein-4b"));
        for (images, mask) in [(1, true), (1, false), (2, false), (4, false)] {
            let rule = edit_default(images, mask).spec().inputs.unwrap();
            assert!(images <= rule.max_images && rule.mask == mask, "{images} {mask}");
        }
        assert_eq!(
            edit_defaults_text(),
            "sd-v1-5-inpainting with a mask, flux-2-klein-4b with several images, else sd-v1-5-img2img"
        );
    }

    #[test]
    fn openai_names_stand_for_text_models_that_take_their_sizes() {
        assert_eq!(openai_alias("dall-e-2"), Some(ImageModel::named("sdxl-lightning")));
        assert_eq!(openai_alias("dall-e-3"), Some(ImageModel::named("flux-2-dev")));
        assert_eq!(openai_alias("gpt-image-1"), Some(ImageModel::named("flux-2-klein-9b")));
        assert_eq!(openai_alias("flux-2-dev"), None, "our own names are no aliases");
        // The sizes OpenAI documents for each model are sizes its stand-in takes.
        let sizes: [(&str, &[(i64, i64)]); 3] = [
            ("dall-e-2", &[(256, 256), (512, 512), (1024, 1024)]),
            ("dall-e-3", &[(1024, 1024), (1792, 1024), (1024, 1792)]),
            ("gpt-image-1", &[(1024, 1024), (1536, 1024), (1024, 1536)]),
        ];
        for (alias, sizes) in sizes {
            let model = openai_alias(alias).unwrap();
            assert!(model.draws_from_text(), "{alias}");
            let rule = model.spec().size.expect("a model that takes a size");
            for (w, h) in sizes {
                assert_eq!(rule.check(*w, *h), Ok(()), "{alias} {w}x{h}");
            }
        }
    }

    #[test]
    fn the_variation_fallback_varies_any_image_from_the_image() {
        let spec = variation_fallback().spec();
        let rule = spec.inputs.unwrap();
        assert!(!rule.mask && rule.max_images >= 1);
        assert!(spec.param(Control::Strength).is_some() && spec.param(Control::Seed).is_some());
        assert!(edit_strength_default_applies(spec));
    }

    #[test]
    fn names_and_labels_follow_the_registry() {
        let some = |spec: &ModelSpec| {
            [
                "phoenix",
                "flux-schnell",
                "sd-v1-5-img2img",
                "flux-2-dev",
                "flux-2-klein-4b",
            ]
            .contains(&spec.name)
        };
        assert_eq!(
            names(some),
            "flux-schnell, flux-2-dev, flux-2-klein-4b, phoenix, sd-v1-5-img2img"
        );
        assert_eq!(labels(some), "flux-schnell, phoenix, sd-v1-5-img2img, FLUX.2");
        assert_eq!(names(|_| false), "");
        let has = |list: String, item: &str| list.split(", ").any(|listed| listed == item);
        for spec in MODELS.iter() {
            let takes_strength = spec.param(Control::Strength).is_some();
            assert_eq!(has(names_taking(Control::Strength), spec.name), takes_strength);
            let masked = spec.inputs.is_some_and(|rule| rule.mask);
            assert_eq!(has(mask_model_names(), spec.name), masked);
            if spec.inputs.is_some_and(|rule| rule.max_images > 1) {
                assert!(has(several_images_labels(), spec.family.unwrap_or(spec.name)));
            }
        }
    }

    #[test]
    fn bounds_are_the_union_of_the_models_ranges() {
        let (low, high) = integer_bounds(Control::Steps);
        let steps: Vec<(i64, i64)> = MODELS
            .iter()
            .filter_map(|spec| match spec.param(Control::Steps)?.range {
                Range::Integer { min, max } => Some((min, max)),
                _ => None,
            })
            .collect();
        assert!(steps.iter().all(|(min, max)| low <= *min && *max <= high));
        assert!(steps.iter().any(|(min, _)| *min == low) && steps.iter().any(|(_, max)| *max == high));
        let (low, high) = number_bounds(Control::Guidance);
        let guidance: Vec<(f64, f64)> = MODELS
            .iter()
            .filter_map(|spec| match spec.param(Control::Guidance)?.range {
                Range::Number { min, max } => Some((min, max)),
                _ => None,
            })
            .collect();
        assert!(guidance.iter().all(|(min, max)| low <= *min && *max <= high));
        assert!(guidance.iter().any(|(min, _)| *min == low) && guidance.iter().any(|(_, max)| *max == high));
        assert_eq!(integer_bounds(Control::Guidance), (0, 0), "guidance is a number");
    }
}
