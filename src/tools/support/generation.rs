//! How a job's image was made, as every result that describes a job reports it: the seed, the
//! size, every parameter sent to the model and the images it was given (added next to the
//! original fields).

use serde::Serialize;
use serde_json::{Map, Value};

use super::output::json_text;
use crate::jobs::{parameters_object, GenerationRow, JobRow};
use crate::models::js_opt_f64;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Generation {
    pub seed: Option<i64>,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub parameters: Map<String, Value>,
    /// The images the model received (edits and variations only), each `url` absolute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inputs: Option<Value>,
    /// Estimated when the job was created (null: no listed price, or a job from before costs).
    #[serde(serialize_with = "js_opt_f64")]
    pub estimated_neurons: Option<f64>,
    #[serde(serialize_with = "js_opt_f64")]
    pub estimated_usd: Option<f64>,
}

impl Generation {
    pub fn of_job(row: &JobRow, origin: &str) -> Self {
        let (parameters, inputs) = (row.parameters.as_deref(), row.inputs.as_deref());
        Self::of([row.seed, row.width, row.height], parameters, inputs, origin)
            .costing(row.estimated_neurons, row.estimated_usd)
    }

    pub fn of_generation(row: &GenerationRow, origin: &str) -> Self {
        let (parameters, inputs) = (row.parameters.as_deref(), row.inputs.as_deref());
        Self::of([row.seed, row.width, row.height], parameters, inputs, origin)
            .costing(row.estimated_neurons, row.estimated_usd)
    }

    fn costing(self, estimated_neurons: Option<f64>, estimated_usd: Option<f64>) -> Self {
        Generation {
            estimated_neurons,
            estimated_usd,
            ..self
        }
    }

    /// From a row's seed, width and height and its parameters and inputs JSON texts.
    fn of(
        [seed, width, height]: [Option<i64>; 3],
        parameters: Option<&str>,
        inputs: Option<&str>,
        origin: &str,
    ) -> Self {
        Generation {
            seed,
            width,
            height,
            parameters: parameters_object(parameters),
            inputs: inputs_value(inputs, origin),
            estimated_neurons: None,
            estimated_usd: None,
        }
    }
}

/// A stored inputs list, as an edit writes it (test samples).
#[cfg(test)]
pub const SAMPLE_INPUTS: &str = r#"[{"role":"image","source":"0b7c6a1e-1f2d-4e3c-9a8b-7c6d5e4f3a2b","url":"/images/input-5d4c3b2a-1e0f-4a9b-8c7d-6e5f4a3b2c1d.png","format":"png","width":512,"height":384,"note":"scaled down from 1024x768 to fit flux-2-dev's 512x512 input limit"},{"role":"mask","source":"data URL (2048 bytes)","url":"/images/input-6e5f4a3b-2c1d-4e0f-9a8b-7c6d5e4f3a2b.png","format":"png","width":512,"height":384}]"#;

/// A job's stored inputs list with every stored URL made absolute for the client.
fn inputs_value(text: Option<&str>, origin: &str) -> Option<Value> {
    let mut inputs: Value = serde_json::from_str(text?).ok()?;
    for input in inputs.as_array_mut()? {
        if let Some(Value::String(url)) = input.get_mut("url") {
            *url = crate::urls::absolute_image_url(url, origin);
        }
    }
    Some(inputs)
}

/// The output-schema properties of [`Generation`], to merge into a result's properties.
pub fn schema_properties() -> Map<String, Value> {
    let properties = json_text(
        r#"{
        "seed": {"type": ["integer", "null"], "description": "Seed sent to the model (null if the model takes none)."},
        "width": {"type": ["integer", "null"], "description": "Image width in pixels (requested, then as stored)."},
        "height": {"type": ["integer", "null"], "description": "Image height in pixels (requested, then as stored)."},
        "parameters": {"type": "object", "description": "Every parameter sent to the model besides the prompt, in the model's input names."},
        "estimated_neurons": {"type": ["number", "null"], "description": "Workers AI neurons the job was estimated at from the model's published price (null: no price listed)."},
        "estimated_usd": {"type": ["number", "null"], "description": "The estimate in USD ($0.011 per 1,000 neurons; background removal: the Images transformation price)."},
        "inputs": {"type": "array", "description": "Edits and variations: the images the model received (never inline data).",
            "items": {"type": "object", "properties": {
                "role": {"type": "string", "enum": ["image", "mask"]},
                "source": {"type": "string", "description": "The reference as given: a job id, an image URL, or a note that a data URL was uploaded."},
                "url": {"type": "string", "description": "The exact bytes the model received."},
                "format": {"type": "string"}, "width": {"type": "integer"}, "height": {"type": "integer"},
                "note": {"type": "string", "description": "How the input was converted to suit the model, if it was."}
            }}}
    }"#,
    );
    match properties {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// `schema` (an object schema) with the [`Generation`] properties added.
pub fn with_generation(mut schema: Value) -> Value {
    if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        properties.extend(schema_properties());
    }
    schema
}
