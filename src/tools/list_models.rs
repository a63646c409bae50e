//! list_models: every image model with its Workers AI id, parameters, ranges, defaults, sizes,
//! typical time and price, straight from the model registry.

use serde::Serialize;
use serde_json::{json, Map, Value};

use super::args::NoArgs;
use super::output::{json_text, result_schema, ToolOutput};
use super::{Extras, Handler, Hints, Scope, ToolContext, ToolResult, ToolSpec, Typed};
use crate::icons;
use crate::models::{
    js_f64, ImageModel, InputEncoding, InputRule, ModelSpec, OutputShape, Param, Price, Range, ASPECT_RATIOS, MODELS,
    OPERATIONS, PRICING_PAGE, USD_PER_THOUSAND_NEURONS, VISION,
};

pub const TOOL: ToolSpec = ToolSpec {
    name: "list_models",
    title: "List image models",
    description: || {
        "List every image model this server can use: name (pass it as `model`), Workers AI id, what it is good at, \
         its parameters with types, ranges and defaults, supported aspect ratios, default size, typical time, price \
         and the estimated neurons and USD of one default image."
            .to_string()
    },
    typed: Typed::of::<ListModels>(),
    output_schema,
    scope: Scope::Read,
    hints: Hints::READ,
    reports_images: false,
    extras: Extras {
        icon: Some(icons::MODELS),
        ..Extras::NONE
    },
    #[cfg(test)]
    samples: sample_results,
};

fn output_schema() -> Value {
    // The registry is static: this tool has no failure result, so no `error` field.
    let mut schema = result_schema(json_text(
        r#"{
        "default_model": {"type": "string"},
        "count": {"type": "integer"},
        "usd_per_1000_neurons": {"type": "number", "description": "What Workers AI charges per 1,000 neurons."},
        "pricing_page": {"type": "string"},
        "operations": {"type": "array", "description": "Image operations that are not models (remove_background).", "items": {"type": "object", "properties": {
            "name": {"type": "string"}, "description": {"type": "string"}, "docs": {"type": "string"},
            "price_hint": {"type": "string"}, "usd_per_image": {"type": "number"}, "pricing_page": {"type": "string"}}}},
        "vision_model": {"type": "object", "description": "The model describe_image asks.", "properties": {
            "name": {"type": "string"}, "workers_ai_id": {"type": "string"}, "docs": {"type": "string"},
            "max_tokens": {"type": "integer"},
            "neurons_per_million_input_tokens": {"type": "number"}, "neurons_per_million_output_tokens": {"type": "number"}}},
        "models": {"type": "array", "items": {"type": "object", "properties": {
            "name": {"type": "string"},
            "workers_ai_id": {"type": "string"},
            "description": {"type": "string"},
            "input": {"type": "string", "enum": ["json", "multipart"]},
            "output": {"type": "string", "enum": ["base64-json", "binary-stream"]},
            "output_format": {"type": "string"},
            "parameters": {"type": "array", "items": {"type": "object", "properties": {
                "name": {"type": "string", "description": "The argument of generate_image."},
                "sent_as": {"type": "string", "description": "The model's own input name."},
                "type": {"type": "string", "enum": ["integer", "number", "string"]},
                "minimum": {"type": "number"}, "maximum": {"type": "number"}, "max_length": {"type": "integer"},
                "default": {"type": ["number", "null"]}
            }}},
            "aspect_ratios": {"type": "array", "items": {"type": "string"}},
            "default_size": {"type": ["object", "null"], "properties": {
                "width": {"type": "integer"}, "height": {"type": "integer"}}},
            "size_multiple_of": {"type": ["integer", "null"]},
            "image_inputs": {"type": ["object", "null"], "description": "What edit_image may give the model (null: text only).",
                "properties": {"max_images": {"type": "integer"}, "image_required": {"type": "boolean"},
                    "mask": {"type": "boolean", "description": "Needs a mask (inpainting)."},
                    "max_side": {"type": "integer", "description": "Larger inputs are scaled down to fit."}}},
            "typical_time": {"type": "string"},
            "price_hint": {"type": "string", "description": "The price in words, from the Workers AI pricing page."},
            "price": {"type": ["object", "null"], "description": "The price in USD, in the form the model's page gives it (null: none listed, counted as 0 toward DAILY_NEURON_BUDGET).",
                "properties": {"form": {"type": "string", "enum": ["tile_and_step", "tile_step_input_and_output", "tile_input_and_output", "megapixel", "step"]},
                    "usd_per_tile": {"type": "number"}, "usd_per_step": {"type": "number"},
                    "usd_per_input_tile_step": {"type": "number"}, "usd_per_output_tile_step": {"type": "number"},
                    "usd_per_input_tile": {"type": "number"}, "usd_per_output_tile": {"type": "number"},
                    "usd_first": {"type": "number"}, "usd_per_further": {"type": "number"}, "usd_per_input": {"type": "number"}}},
            "per_default_image": {"type": ["object", "null"], "description": "Estimated cost of one image at the default size and steps from text alone (null: no price listed).",
                "properties": {"width": {"type": "integer"}, "height": {"type": "integer"}, "steps": {"type": ["integer", "null"]},
                    "neurons": {"type": "number"}, "usd": {"type": "number"}}},
            "docs": {"type": "string"}
        }}}
    }"#,
    ));
    if let Some(properties) = schema["properties"].as_object_mut() {
        properties.remove("error");
    }
    schema
}

#[derive(Serialize)]
struct ModelsList {
    success: bool,
    default_model: &'static str,
    count: usize,
    usd_per_1000_neurons: f64,
    pricing_page: &'static str,
    models: Vec<ModelInfo>,
    operations: Vec<OperationInfo>,
    vision_model: VisionInfo,
}

#[derive(Serialize)]
struct OperationInfo {
    name: &'static str,
    description: &'static str,
    docs: &'static str,
    price_hint: &'static str,
    #[serde(serialize_with = "js_f64")]
    usd_per_image: f64,
    pricing_page: &'static str,
}

#[derive(Serialize)]
struct VisionInfo {
    name: &'static str,
    workers_ai_id: &'static str,
    docs: &'static str,
    max_tokens: u32,
    #[serde(serialize_with = "js_f64")]
    neurons_per_million_input_tokens: f64,
    #[serde(serialize_with = "js_f64")]
    neurons_per_million_output_tokens: f64,
}

fn parameter(param: &Param) -> Value {
    let mut out = Map::new();
    out.insert("name".into(), json!(param.control.name()));
    out.insert("sent_as".into(), json!(param.wire_name));
    match param.range {
        Range::Integer { min, max } => {
            out.insert("type".into(), json!("integer"));
            out.insert("minimum".into(), json!(min));
            out.insert("maximum".into(), json!(max));
        }
        Range::Number { min, max } => {
            out.insert("type".into(), json!("number"));
            out.insert("minimum".into(), json!(min));
            out.insert("maximum".into(), json!(max));
        }
        Range::Text { max_chars } => {
            out.insert("type".into(), json!("string"));
            out.insert("max_length".into(), json!(max_chars));
        }
    }
    out.insert("default".into(), json!(param.default));
    Value::Object(out)
}

#[derive(Serialize)]
struct ModelInfo {
    name: &'static str,
    workers_ai_id: &'static str,
    description: &'static str,
    input: InputEncoding,
    output: OutputShape,
    output_format: &'static str,
    parameters: Vec<Value>,
    aspect_ratios: Vec<&'static str>,
    default_size: Option<Size>,
    size_multiple_of: Option<u32>,
    /// null: text to image only.
    image_inputs: Option<InputRule>,
    typical_time: &'static str,
    price_hint: String,
    price: Option<Price>,
    per_default_image: Option<DefaultImageCost>,
    docs: &'static str,
}

#[derive(Serialize)]
struct DefaultImageCost {
    width: u32,
    height: u32,
    steps: Option<u32>,
    #[serde(serialize_with = "js_f64")]
    neurons: f64,
    #[serde(serialize_with = "js_f64")]
    usd: f64,
}

fn default_image_cost(spec: &ModelSpec) -> Option<DefaultImageCost> {
    let work = spec.work(None, &Map::new(), &[]);
    let cost = spec.estimate(&work)?;
    Some(DefaultImageCost {
        width: work.width,
        height: work.height,
        steps: work.steps,
        neurons: cost.neurons,
        usd: cost.usd,
    })
}

#[derive(Serialize)]
struct Size {
    width: u32,
    height: u32,
}

fn describe(spec: &ModelSpec) -> ModelInfo {
    ModelInfo {
        name: spec.name,
        workers_ai_id: spec.workers_ai_id,
        description: spec.description,
        input: spec.input,
        output: spec.output,
        output_format: spec.output_format,
        parameters: spec.params.iter().map(parameter).collect(),
        aspect_ratios: match spec.size {
            Some(_) => ASPECT_RATIOS.iter().map(|r| r.name).collect(),
            None => Vec::new(),
        },
        default_size: spec.size.map(|rule| Size {
            width: rule.default_width,
            height: rule.default_height,
        }),
        size_multiple_of: spec.size.map(|rule| rule.multiple_of),
        image_inputs: spec.inputs,
        typical_time: spec.typical_time,
        price_hint: spec.price_text(),
        price: spec.price,
        per_default_image: default_image_cost(spec),
        docs: spec.page,
    }
}

fn models_list() -> ModelsList {
    ModelsList {
        success: true,
        default_model: ImageModel::DEFAULT.name(),
        count: MODELS.len(),
        usd_per_1000_neurons: USD_PER_THOUSAND_NEURONS,
        pricing_page: PRICING_PAGE,
        models: MODELS.iter().map(describe).collect(),
        operations: OPERATIONS
            .iter()
            .map(|spec| OperationInfo {
                name: spec.name,
                description: spec.description,
                docs: spec.page,
                price_hint: spec.price_text,
                usd_per_image: spec.cost.usd,
                pricing_page: spec.price_page,
            })
            .collect(),
        vision_model: VisionInfo {
            name: VISION.name,
            workers_ai_id: VISION.workers_ai_id,
            docs: VISION.page,
            max_tokens: VISION.max_tokens,
            neurons_per_million_input_tokens: VISION.neurons_per_million_input_tokens,
            neurons_per_million_output_tokens: VISION.neurons_per_million_output_tokens,
        },
    }
}

/// The tool's behaviour: typed arguments in, a result out.
pub struct ListModels;

impl Handler for ListModels {
    type Args = NoArgs;

    async fn handle(_ctx: &ToolContext, _args: NoArgs) -> ToolResult {
        Ok(ToolOutput::success(&models_list()))
    }
}

#[cfg(test)]
fn sample_results() -> Vec<(&'static str, ToolOutput)> {
    vec![("every model", ToolOutput::success(&models_list()))]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_every_model_with_parameters_and_inputs_from_the_registry() {
        let list = serde_json::to_value(models_list()).unwrap();
        assert_eq!(list["count"], MODELS.len());
        assert_eq!(list["models"][0]["image_inputs"], Value::Null);
        assert_eq!(
            list["models"][1]["image_inputs"],
            json!({"max_images": 4, "image_required": false, "mask": false, "max_side": 512})
        );
        assert_eq!(
            list["models"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["name"] == "sd-v1-5-inpainting")
                .unwrap()["image_inputs"],
            json!({"max_images": 1, "image_required": true, "mask": true, "max_side": 2048})
        );
        assert_eq!(list["default_model"], "flux-schnell");
        let flux2 = &list["models"][1];
        assert_eq!(flux2["name"], "flux-2-dev");
        assert_eq!(flux2["input"], "multipart");
        assert_eq!(flux2["aspect_ratios"].as_array().unwrap().len(), 8);
        assert_eq!(flux2["default_size"], json!({"width": 1024, "height": 768}));
        let schnell = &list["models"][0];
        assert_eq!(
            schnell["parameters"],
            json!([{"name": "steps", "sent_as": "steps", "type": "integer", "minimum": 1, "maximum": 8, "default": 4.0}])
        );
        assert_eq!(schnell["aspect_ratios"], json!([]));
        let phoenix = list["models"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == "phoenix")
            .unwrap();
        assert_eq!(phoenix["output"], "binary-stream");
        let names: Vec<&str> = phoenix["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            ["width", "height", "seed", "negative_prompt", "steps", "guidance"]
        );
    }
}
