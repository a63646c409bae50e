//! How a job's image was made, as every result that describes a job reports it: the seed, the
//! size and every parameter sent to the model (added next to the original fields).

use serde::Serialize;
use serde_json::{Map, Value};

use super::output::json_text;
use crate::jobs::{parameters_object, GenerationRow, JobRow};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Generation {
    pub seed: Option<i64>,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub parameters: Map<String, Value>,
}

impl Generation {
    pub fn of_job(row: &JobRow) -> Self {
        Generation {
            seed: row.seed,
            width: row.width,
            height: row.height,
            parameters: parameters_object(row.parameters.as_deref()),
        }
    }

    pub fn of_generation(row: &GenerationRow) -> Self {
        Generation {
            seed: row.seed,
            width: row.width,
            height: row.height,
            parameters: parameters_object(row.parameters.as_deref()),
        }
    }
}

/// The output-schema properties of [`Generation`], to merge into a result's properties.
pub fn schema_properties() -> Map<String, Value> {
    let properties = json_text(
        r#"{
        "seed": {"type": ["integer", "null"], "description": "Seed sent to the model (null if the model takes none)."},
        "width": {"type": ["integer", "null"], "description": "Image width in pixels (requested, then as stored)."},
        "height": {"type": ["integer", "null"], "description": "Image height in pixels (requested, then as stored)."},
        "parameters": {"type": "object", "description": "Every parameter sent to the model besides the prompt, in the model's input names."}
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
