//! Tool arguments: one field list per tool produces both its JSON Schema and its validation.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use crate::catalog::IntLimit;

/// What values a field accepts.
#[derive(Debug, Clone)]
pub enum FieldKind {
    /// A string whose length (UTF-16 code units, as JavaScript counts) lies in the range.
    Text { min_len: usize, max_len: Option<usize> },
    /// One of fixed strings; the default applies when the field is absent.
    Choice {
        options: Vec<&'static str>,
        default: &'static str,
    },
    /// An integer in range; the default applies when the field is absent.
    Integer(IntLimit),
    /// An array of non-empty strings.
    TextList { min_items: usize, max_items: usize },
}

/// One argument of a tool.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: &'static str,
    pub description: String,
    pub kind: FieldKind,
    pub required: bool,
}

impl Field {
    pub fn new(name: &'static str, description: impl Into<String>, kind: FieldKind) -> Self {
        Field {
            name,
            description: description.into(),
            kind,
            required: false,
        }
    }

    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    fn schema(&self) -> Value {
        let mut schema = match &self.kind {
            FieldKind::Text { min_len, max_len } => {
                let mut s = json!({"type": "string", "minLength": min_len});
                if let Some(max) = max_len {
                    s["maxLength"] = json!(max);
                }
                s
            }
            FieldKind::Choice { options, default } => json!({"type": "string", "enum": options, "default": default}),
            FieldKind::Integer(limit) => {
                let mut s = json!({"type": "integer", "minimum": limit.min, "default": limit.default});
                if let Some(max) = limit.max {
                    s["maximum"] = json!(max);
                }
                s
            }
            FieldKind::TextList { min_items, max_items } => json!({
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "minItems": min_items,
                "maxItems": max_items
            }),
        };
        schema["description"] = json!(self.description);
        schema
    }
}

/// The JSON Schema (`inputSchema`) for a list of fields.
pub fn input_schema(fields: &[Field]) -> Value {
    let properties: Map<String, Value> = fields.iter().map(|f| (f.name.to_string(), f.schema())).collect();
    let required: Vec<&str> = fields.iter().filter(|f| f.required).map(|f| f.name).collect();
    let mut schema = json!({"type": "object", "properties": properties});
    if !required.is_empty() {
        schema["required"] = json!(required);
    }
    schema
}

/// A validated argument value, defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub enum ArgValue {
    Text(String),
    Integer(i64),
    TextList(Vec<String>),
}

/// Arguments that passed validation. Absent optional fields without a default are missing here.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Args(HashMap<&'static str, ArgValue>);

impl Args {
    pub fn text(&self, name: &str) -> Option<&str> {
        match self.0.get(name) {
            Some(ArgValue::Text(text)) => Some(text),
            _ => None,
        }
    }

    pub fn integer(&self, name: &str) -> Option<i64> {
        match self.0.get(name) {
            Some(ArgValue::Integer(n)) => Some(*n),
            _ => None,
        }
    }

    pub fn text_list(&self, name: &str) -> Option<&[String]> {
        match self.0.get(name) {
            Some(ArgValue::TextList(list)) => Some(list),
            _ => None,
        }
    }
}

/// Why arguments were refused; the message is shown to the client as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid arguments: {0}")]
pub struct ArgError(pub String);

/// Checks `raw` against `fields`. Unknown keys are ignored and `null` counts as absent,
/// which is what lenient clients send for optional fields they leave empty.
pub fn validate(fields: &[Field], raw: &Map<String, Value>) -> Result<Args, ArgError> {
    let mut args = Args::default();
    for field in fields {
        let value = raw.get(field.name).filter(|v| !v.is_null());
        let parsed = match (value, &field.kind) {
            (None, _) if field.required => return Err(ArgError(format!("{} is required", field.name))),
            (None, FieldKind::Choice { default, .. }) => Some(ArgValue::Text(default.to_string())),
            (None, FieldKind::Integer(limit)) => Some(ArgValue::Integer(limit.default)),
            (None, _) => None,
            (Some(value), kind) => Some(check(field.name, kind, value)?),
        };
        if let Some(parsed) = parsed {
            args.0.insert(field.name, parsed);
        }
    }
    Ok(args)
}

/// Length as JavaScript's `String.length` counts it, so limits match the original exactly.
pub fn js_length(text: &str) -> usize {
    text.encode_utf16().count()
}

fn check(name: &str, kind: &FieldKind, value: &Value) -> Result<ArgValue, ArgError> {
    match kind {
        FieldKind::Text { min_len, max_len } => {
            let text = value
                .as_str()
                .ok_or_else(|| ArgError(format!("{name} must be a string")))?;
            let len = js_length(text);
            if len < *min_len {
                return Err(ArgError(if *min_len == 1 {
                    format!("{name} must not be empty")
                } else {
                    format!("{name} must be at least {min_len} characters long (got {len})")
                }));
            }
            if let Some(max) = max_len.filter(|max| len > *max) {
                return Err(ArgError(format!(
                    "{name} must be at most {max} characters long (got {len})"
                )));
            }
            Ok(ArgValue::Text(text.to_string()))
        }
        FieldKind::Choice { options, .. } => match value.as_str() {
            Some(text) if options.contains(&text) => Ok(ArgValue::Text(text.to_string())),
            _ => Err(ArgError(format!("{name} must be one of: {}", options.join(", ")))),
        },
        FieldKind::Integer(limit) => {
            let number = value
                .as_i64()
                .or_else(|| {
                    value
                        .as_f64()
                        .filter(|f| f.fract() == 0.0 && f.abs() < 9e15)
                        .map(|f| f as i64)
                })
                .ok_or_else(|| ArgError(format!("{name} must be an integer")))?;
            let below = number < limit.min;
            let above = limit.max.is_some_and(|max| number > max);
            if below || above {
                return Err(ArgError(match limit.max {
                    Some(max) => format!("{name} must be between {} and {max} (got {number})", limit.min),
                    None => format!("{name} must be at least {} (got {number})", limit.min),
                }));
            }
            Ok(ArgValue::Integer(number))
        }
        FieldKind::TextList { min_items, max_items } => {
            let items = value
                .as_array()
                .ok_or_else(|| ArgError(format!("{name} must be an array of strings")))?;
            if items.len() < *min_items || items.len() > *max_items {
                return Err(ArgError(format!(
                    "{name} must contain between {min_items} and {max_items} ids (got {})",
                    items.len()
                )));
            }
            items
                .iter()
                .map(|item| match item.as_str() {
                    Some(text) if !text.is_empty() => Ok(text.to_string()),
                    _ => Err(ArgError(format!("every entry of {name} must be a non-empty string"))),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(ArgValue::TextList)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> Vec<Field> {
        vec![
            Field::new(
                "prompt",
                "p",
                FieldKind::Text {
                    min_len: 3,
                    max_len: Some(10),
                },
            )
            .required(),
            Field::new(
                "model",
                "m",
                FieldKind::Choice {
                    options: vec!["a", "b"],
                    default: "a",
                },
            ),
            Field::new(
                "count",
                "c",
                FieldKind::Integer(IntLimit {
                    min: 1,
                    max: Some(5),
                    default: 1,
                }),
            ),
            Field::new(
                "ids",
                "i",
                FieldKind::TextList {
                    min_items: 1,
                    max_items: 2,
                },
            ),
        ]
    }

    fn run(raw: Value) -> Result<Args, ArgError> {
        validate(&fields(), raw.as_object().unwrap())
    }

    #[test]
    fn defaults_fill_absent_and_null_fields() {
        let args = run(json!({"prompt": "abc", "model": null})).unwrap();
        assert_eq!(args.text("model"), Some("a"));
        assert_eq!(args.integer("count"), Some(1));
        assert_eq!(args.text_list("ids"), None);
    }

    #[test]
    fn missing_required_field_is_named() {
        assert_eq!(
            run(json!({})).unwrap_err().to_string(),
            "Invalid arguments: prompt is required"
        );
    }

    #[test]
    fn text_length_is_checked_at_both_bounds_in_utf16_units() {
        assert!(run(json!({"prompt": "ab"})).is_err());
        assert!(run(json!({"prompt": "abc"})).is_ok());
        assert!(run(json!({"prompt": "abcdefghij"})).is_ok());
        assert!(run(json!({"prompt": "abcdefghijk"})).is_err());
        // One emoji is two UTF-16 units, as in JavaScript.
        assert!(run(json!({"prompt": "a\u{1F600}"})).is_ok());
        assert!(run(json!({"prompt": 123})).is_err());
    }

    #[test]
    fn integers_must_be_whole_and_in_range() {
        assert!(run(json!({"prompt": "abc", "count": 0})).is_err());
        assert!(run(json!({"prompt": "abc", "count": 6})).is_err());
        assert!(run(json!({"prompt": "abc", "count": 2.5})).is_err());
        assert!(run(json!({"prompt": "abc", "count": "2"})).is_err());
        assert_eq!(
            run(json!({"prompt": "abc", "count": 5.0})).unwrap().integer("count"),
            Some(5)
        );
    }

    #[test]
    fn choices_and_lists_are_checked() {
        assert!(run(json!({"prompt": "abc", "model": "c"})).is_err());
        assert!(run(json!({"prompt": "abc", "ids": []})).is_err());
        assert!(run(json!({"prompt": "abc", "ids": ["x", "y", "z"]})).is_err());
        assert!(run(json!({"prompt": "abc", "ids": ["x", ""]})).is_err());
        assert_eq!(
            run(json!({"prompt": "abc", "ids": ["x", "x"]}))
                .unwrap()
                .text_list("ids")
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn schema_lists_limits_defaults_and_required() {
        let schema = input_schema(&fields());
        assert_eq!(schema["required"], json!(["prompt"]));
        assert_eq!(schema["properties"]["prompt"]["maxLength"], 10);
        assert_eq!(schema["properties"]["model"]["enum"], json!(["a", "b"]));
        assert_eq!(schema["properties"]["count"]["maximum"], 5);
        assert_eq!(schema["properties"]["count"]["default"], 1);
        assert_eq!(schema["properties"]["ids"]["maxItems"], 2);
    }
}
