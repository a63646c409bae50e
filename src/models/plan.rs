//! Planning: checks a call's controls against one model's registry entry and decides the exact
//! parameters it receives; sizes from aspect ratios; the controls a stored job was made with.

use serde::Serialize;
use serde_json::{Map, Value};

use super::{Control, ModelSpec, Param, Plan, Range, SizeRule};
use crate::catalog::Echoed;

/// Aspect-ratio sizes are rounded to this, a multiple of every model's size rule.
const ASPECT_STEP: u32 = 64;

/// The aspect ratios a call may ask for instead of a width and height.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AspectRatio {
    pub name: &'static str,
    pub width: u32,
    pub height: u32,
}

pub const ASPECT_RATIOS: [AspectRatio; 8] = [
    AspectRatio {
        name: "1:1",
        width: 1,
        height: 1,
    },
    AspectRatio {
        name: "16:9",
        width: 16,
        height: 9,
    },
    AspectRatio {
        name: "9:16",
        width: 9,
        height: 16,
    },
    AspectRatio {
        name: "4:3",
        width: 4,
        height: 3,
    },
    AspectRatio {
        name: "3:4",
        width: 3,
        height: 4,
    },
    AspectRatio {
        name: "3:2",
        width: 3,
        height: 2,
    },
    AspectRatio {
        name: "2:3",
        width: 2,
        height: 3,
    },
    AspectRatio {
        name: "21:9",
        width: 21,
        height: 9,
    },
];

impl AspectRatio {
    pub fn from_name(name: &str) -> Option<AspectRatio> {
        ASPECT_RATIOS.into_iter().find(|ratio| ratio.name == name)
    }
}

impl SizeRule {
    /// Whether the model takes `width` x `height`: each side within its range and a multiple of
    /// its step. The problem names the first side that is not.
    pub fn check(&self, width: i64, height: i64) -> Result<(), String> {
        for (name, side) in [("width", width), ("height", height)] {
            if side < i64::from(self.min) || side > i64::from(self.max) {
                return Err(format!(
                    "{name} must be between {} and {} (got {side})",
                    self.min, self.max
                ));
            }
            if side % i64::from(self.multiple_of) != 0 {
                return Err(format!(
                    "{name} must be a multiple of {} (got {side})",
                    self.multiple_of
                ));
            }
        }
        Ok(())
    }

    /// The size for `ratio` at about the model's default pixel count, on a 64-pixel grid, within
    /// the model's limits.
    pub fn for_aspect_ratio(&self, ratio: AspectRatio) -> (u32, u32) {
        let pixels = f64::from(self.default_width) * f64::from(self.default_height);
        let width = (pixels * f64::from(ratio.width) / f64::from(ratio.height)).sqrt();
        let height = width * f64::from(ratio.height) / f64::from(ratio.width);
        let fit = |side: f64| {
            let rounded = ((side / f64::from(ASPECT_STEP)).round() as u32).max(1) * ASPECT_STEP;
            rounded.clamp(
                self.min.div_ceil(ASPECT_STEP) * ASPECT_STEP,
                self.max / ASPECT_STEP * ASPECT_STEP,
            )
        };
        (fit(width), fit(height))
    }
}

impl<'de> serde::Deserialize<'de> for AspectRatio {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        AspectRatio::from_name(&name).ok_or_else(|| serde::de::Error::custom(format!("unknown aspect ratio {name:?}")))
    }
}

impl Serialize for AspectRatio {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name)
    }
}

/// The generation controls of one call (arguments of the generate tools), before they are
/// checked against a model.
#[derive(Debug, Clone, Default, PartialEq)]
#[cfg_attr(test, derive(Serialize))]
pub struct Controls {
    pub aspect_ratio: Option<AspectRatio>,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub seed: Option<i64>,
    pub negative_prompt: Option<String>,
    pub steps: Option<i64>,
    pub guidance: Option<f64>,
    /// Editing models only (edit_image, generate_variations): generate_image has no such field.
    #[cfg_attr(test, serde(skip_serializing_if = "Option::is_none"))]
    pub strength: Option<f64>,
}

impl Controls {
    /// The controls a job of `spec` was made with, read back from its stored parameters (in the
    /// model's input names); unknown or mistyped entries are left out.
    pub fn from_parameters(spec: &ModelSpec, parameters: &Map<String, Value>) -> Controls {
        let mut controls = Controls::default();
        for param in spec.params {
            let Some(value) = parameters.get(param.wire_name) else {
                continue;
            };
            match param.control {
                Control::Width => controls.width = value.as_i64(),
                Control::Height => controls.height = value.as_i64(),
                Control::Seed => controls.seed = value.as_i64(),
                Control::NegativePrompt => controls.negative_prompt = value.as_str().map(String::from),
                Control::Steps => controls.steps = value.as_i64(),
                Control::Guidance => controls.guidance = value.as_f64(),
                Control::Strength => controls.strength = value.as_f64(),
            }
        }
        controls
    }
}

impl ModelSpec {
    pub fn param(&self, control: Control) -> Option<&Param> {
        self.params.iter().find(|param| param.control == control)
    }

    /// "width (256-1920, default 1024), seed (0-4294967295), …": what the model takes.
    pub fn params_text(&self) -> String {
        let mut parts: Vec<String> = self.params.iter().map(Param::describe).collect();
        if self.size.is_some() {
            parts.push("aspect_ratio".to_string());
        }
        parts.join(", ")
    }

    /// Checks `controls` against this model and decides every value to send. `random_seed` is
    /// used when the model takes a seed and the call gave none, so the image can be reproduced.
    pub fn plan(&self, controls: &Controls, random_seed: u32) -> Result<Plan, String> {
        let refuse = |what: String| {
            Err(format!(
                "{what}. Model {} takes: {}.",
                self.name,
                if self.params.is_empty() {
                    "no parameters besides the prompt".to_string()
                } else {
                    self.params_text()
                }
            ))
        };
        let given = [
            (Control::Width, controls.width.is_some()),
            (Control::Height, controls.height.is_some()),
            (Control::Seed, controls.seed.is_some()),
            (Control::NegativePrompt, controls.negative_prompt.is_some()),
            (Control::Steps, controls.steps.is_some()),
            (Control::Guidance, controls.guidance.is_some()),
            (Control::Strength, controls.strength.is_some()),
        ];
        let unsupported: Vec<&str> = given
            .iter()
            .filter(|(control, set)| *set && self.param(*control).is_none())
            .map(|(control, _)| control.name())
            .collect();
        if !unsupported.is_empty() {
            return refuse(format!("{} does not take {}", self.name, unsupported.join(", ")));
        }
        let (width, height) = match (controls.aspect_ratio, controls.width, controls.height) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                return refuse("aspect_ratio cannot be combined with width or height".to_string())
            }
            (Some(ratio), None, None) => match &self.size {
                Some(rule) => {
                    let (w, h) = rule.for_aspect_ratio(ratio);
                    (Some(i64::from(w)), Some(i64::from(h)))
                }
                None => return refuse(format!("{} has a fixed size and does not take aspect_ratio", self.name)),
            },
            (None, Some(w), Some(h)) => (Some(w), Some(h)),
            (None, Some(_), None) | (None, None, Some(_)) => {
                return refuse("width and height must be given together".to_string())
            }
            (None, None, None) => (None, None),
        };
        if let (Some(rule), Some(w), Some(h)) = (&self.size, width, height) {
            if let Err(problem) = rule.check(w, h) {
                return refuse(problem);
            }
        }
        let seed = self
            .param(Control::Seed)
            .map(|_| controls.seed.unwrap_or(i64::from(random_seed)));
        let mut parameters = Map::new();
        for param in self.params {
            let value = match param.control {
                Control::Width => width.map(Value::from),
                Control::Height => height.map(Value::from),
                Control::Seed => seed.map(Value::from),
                Control::NegativePrompt => controls.negative_prompt.clone().map(Value::from),
                Control::Steps => controls.steps.map(Value::from),
                Control::Guidance => controls.guidance.map(Value::from),
                Control::Strength => controls.strength.map(Value::from),
            };
            let Some(value) = value else { continue };
            if let Err(problem) = param.check(&value) {
                return refuse(problem);
            }
            parameters.insert(param.wire_name.to_string(), value);
        }
        Ok(Plan {
            parameters,
            seed,
            width,
            height,
        })
    }
}

impl Param {
    /// "steps (1-8, default 4)", "guidance (2-10, default 2)", "negative_prompt (text)".
    pub fn describe(&self) -> String {
        let range = match self.range {
            Range::Integer { min, max } => format!("{min}-{max}"),
            Range::Number { min, max } => format!("{min}-{max}"),
            Range::Text { max_chars } => format!("text up to {max_chars} characters"),
        };
        match self.default {
            Some(default) => format!("{} ({range}, default {default})", self.control.name()),
            None => format!("{} ({range})", self.control.name()),
        }
    }

    fn check(&self, value: &Value) -> Result<(), String> {
        let name = self.control.name();
        match self.range {
            Range::Integer { min, max } => match value.as_i64() {
                Some(n) if (min..=max).contains(&n) => Ok(()),
                Some(n) => Err(format!("{name} must be between {min} and {max} (got {n})")),
                None => Err(format!("{name} must be an integer")),
            },
            Range::Number { min, max } => match value.as_f64() {
                Some(x) if x >= min && x <= max => Ok(()),
                Some(x) => Err(format!("{name} must be between {min} and {max} (got {})", Echoed(x))),
                None => Err(format!("{name} must be a number")),
            },
            Range::Text { max_chars } => match value.as_str() {
                Some(text) if !text.trim().is_empty() && text.encode_utf16().count() <= max_chars => Ok(()),
                Some(_) => Err(format!("{name} must be 1-{max_chars} characters")),
                None => Err(format!("{name} must be a string")),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{ImageModel, MODELS};

    fn plan(model: &str, controls: Controls) -> Result<Plan, String> {
        ImageModel::named(model).spec().plan(&controls, 7)
    }

    #[test]
    fn size_params_agree_with_the_size_rule() {
        for spec in &MODELS {
            let width = spec.param(Control::Width);
            assert_eq!(width.is_some(), spec.size.is_some(), "{}", spec.name);
            assert_eq!(
                spec.param(Control::Height).is_some(),
                spec.size.is_some(),
                "{}",
                spec.name
            );
            if let (Some(rule), Some(width)) = (spec.size, width) {
                assert_eq!(
                    width.range,
                    Range::Integer {
                        min: rule.min.into(),
                        max: rule.max.into()
                    },
                    "{}",
                    spec.name
                );
                assert_eq!(width.default, Some(f64::from(rule.default_width)), "{}", spec.name);
            }
        }
    }

    #[test]
    fn flux_schnell_takes_only_steps() {
        let error = plan(
            "flux-schnell",
            Controls {
                negative_prompt: Some("blur".into()),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(
            error,
            "flux-schnell does not take negative_prompt. Model flux-schnell takes: steps (1-8, default 4)."
        );
        let error = plan(
            "flux-schnell",
            Controls {
                aspect_ratio: AspectRatio::from_name("16:9"),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(error.contains("fixed size"), "{error}");
        let ok = plan(
            "flux-schnell",
            Controls {
                steps: Some(8),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(Value::Object(ok.parameters), serde_json::json!({"steps": 8}));
        assert_eq!(ok.seed, None, "flux-schnell takes no seed, so none is chosen");
    }

    #[test]
    fn a_seed_is_chosen_when_the_model_takes_one_and_the_call_gave_none() {
        let chosen = plan("phoenix", Controls::default()).unwrap();
        assert_eq!(chosen.seed, Some(7));
        assert_eq!(chosen.parameters["seed"], 7);
        let given = plan(
            "phoenix",
            Controls {
                seed: Some(42),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(given.seed, Some(42));
    }

    #[test]
    fn aspect_ratios_map_to_each_models_size_rules() {
        let flux2 = plan(
            "flux-2-dev",
            Controls {
                aspect_ratio: AspectRatio::from_name("16:9"),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!((flux2.width, flux2.height), (Some(1152), Some(640)));
        for spec in MODELS.iter().filter(|spec| spec.size.is_some()) {
            let rule = spec.size.unwrap();
            for ratio in ASPECT_RATIOS {
                let (w, h) = rule.for_aspect_ratio(ratio);
                assert!(
                    w >= rule.min && w <= rule.max && h >= rule.min && h <= rule.max,
                    "{} {}",
                    spec.name,
                    ratio.name
                );
                assert_eq!(w % rule.multiple_of, 0);
                assert_eq!(h % rule.multiple_of, 0);
                let asked = f64::from(ratio.width) / f64::from(ratio.height);
                let got = f64::from(w) / f64::from(h);
                assert!(
                    (got / asked - 1.0).abs() < 0.12,
                    "{} {}: {w}x{h}",
                    spec.name,
                    ratio.name
                );
                let pixels = f64::from(w * h) / f64::from(rule.default_width * rule.default_height);
                assert!(
                    (0.6..=1.25).contains(&pixels),
                    "{} {}: {w}x{h} is far from the default area",
                    spec.name,
                    ratio.name
                );
            }
            assert_eq!(
                rule.for_aspect_ratio(ASPECT_RATIOS[0]).0,
                rule.for_aspect_ratio(ASPECT_RATIOS[0]).1
            );
        }
    }

    #[test]
    fn invalid_combinations_and_ranges_are_refused_with_the_models_parameters() {
        let both = plan(
            "sdxl-base",
            Controls {
                aspect_ratio: AspectRatio::from_name("1:1"),
                width: Some(512),
                height: Some(512),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(both.contains("cannot be combined"), "{both}");
        assert!(
            both.contains("steps (1-20, default 20)"),
            "the message names the model's parameters: {both}"
        );
        let lone = plan(
            "sdxl-base",
            Controls {
                width: Some(512),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(lone.contains("together"), "{lone}");
        let big = plan(
            "flux-2-dev",
            Controls {
                width: Some(2048),
                height: Some(1024),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(big.contains("between 256 and 1920"), "{big}");
        let odd = plan(
            "flux-2-dev",
            Controls {
                width: Some(1000),
                height: Some(1024),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(odd.contains("multiple of 16"), "{odd}");
        let guidance = plan(
            "phoenix",
            Controls {
                guidance: Some(1.0),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(guidance.contains("guidance must be between 2 and 10"), "{guidance}");
        let steps = plan(
            "flux-2-klein-4b",
            Controls {
                steps: Some(4),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(steps.contains("flux-2-klein-4b does not take steps"), "{steps}");
    }

    #[test]
    fn parameters_use_each_models_wire_names() {
        let sd = plan(
            "sdxl-lightning",
            Controls {
                steps: Some(10),
                guidance: Some(5.0),
                negative_prompt: Some("text".into()),
                width: Some(768),
                height: Some(512),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            Value::Object(sd.parameters),
            serde_json::json!({"width": 768, "height": 512, "seed": 7, "negative_prompt": "text", "num_steps": 10, "guidance": 5.0})
        );
        let flux = plan(
            "flux-2-dev",
            Controls {
                steps: Some(20),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(flux.parameters["steps"], 20);
    }
}
