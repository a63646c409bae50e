//! Tool arguments: a typed struct per tool, plus the field list that gives its JSON Schema and
//! its validation (with the original's messages). A unit test per tool proves the two agree.

use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};

use crate::catalog::{Echoed, IntLimit};

/// What values a field accepts.
#[derive(Debug, Clone)]
pub enum FieldKind {
    /// A string whose length (UTF-16 code units, as JavaScript counts) lies in the range.
    Text { min_len: usize, max_len: Option<usize> },
    /// One of fixed strings; the default, if any, applies when the field is absent.
    Choice {
        options: Vec<&'static str>,
        default: Option<&'static str>,
    },
    /// An integer in range; the default applies when the field is absent.
    Integer(IntLimit),
    /// An integer in range with no default: absent stays absent.
    OptionalInteger { min: i64, max: i64 },
    /// A number in range with no default: absent stays absent.
    Number { min: f64, max: f64 },
    /// A boolean; the default applies when the field is absent.
    Flag { default: bool },
    /// An array of non-empty strings of at most `max_len` characters each.
    TextList {
        min_items: usize,
        max_items: usize,
        max_len: usize,
    },
}

/// One argument of a tool.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: &'static str,
    pub description: String,
    pub kind: FieldKind,
    pub required: bool,
}

#[cfg(test)]
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
}

impl Field {
    fn schema(&self) -> Value {
        let mut schema = match &self.kind {
            FieldKind::Text { min_len, max_len } => {
                let mut s = json!({"type": "string", "minLength": min_len});
                if let Some(max) = max_len {
                    s["maxLength"] = json!(max);
                }
                s
            }
            FieldKind::Choice { options, default } => {
                let mut s = json!({"type": "string", "enum": options});
                if let Some(default) = default {
                    s["default"] = json!(default);
                }
                s
            }
            FieldKind::OptionalInteger { min, max } => json!({"type": "integer", "minimum": min, "maximum": max}),
            FieldKind::Number { min, max } => json!({"type": "number", "minimum": min, "maximum": max}),
            FieldKind::Flag { default } => json!({"type": "boolean", "default": default}),
            FieldKind::Integer(limit) => {
                let mut s = json!({"type": "integer", "minimum": limit.min, "default": limit.default});
                if let Some(max) = limit.max {
                    s["maximum"] = json!(max);
                }
                s
            }
            FieldKind::TextList {
                min_items,
                max_items,
                max_len,
            } => json!({
                "type": "array",
                "items": {"type": "string", "minLength": 1, "maxLength": max_len},
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

/// A tool's typed arguments: declared once with [`tool_args!`], which gives the field list (input
/// schema and validation) and the reading of validated arguments into the struct.
pub trait ToolArgs: Sized {
    fn fields() -> Vec<Field>;
    /// [`ToolArgs::fields`], built once per isolate: every call validates against it, and the
    /// descriptions (model lists, limits) need not be formatted again per request.
    fn cached_fields() -> &'static [Field];
    /// Reads arguments that [`validate`] accepted against [`ToolArgs::fields`].
    fn read(validated: &Map<String, Value>) -> Result<Self, ArgError>;
}

/// Validates `raw` against `A`'s fields (built once per isolate) and reads it into `A`.
pub fn parse<A: ToolArgs>(raw: &Map<String, Value>) -> Result<A, ArgError> {
    A::read(&validate(A::cached_fields(), raw)?)
}

/// One argument's schema entry, named by the struct field it declares.
#[derive(Debug, Clone)]
pub struct Arg {
    description: String,
    kind: FieldKind,
    required: bool,
}

/// An argument described for the client, accepting `kind`.
pub fn arg(description: impl Into<String>, kind: FieldKind) -> Arg {
    Arg {
        description: description.into(),
        kind,
        required: false,
    }
}

impl Arg {
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
}

/// Declares a struct field that holds another [`ToolArgs`] type: its fields, in place.
pub struct Flatten;

/// How a struct field of type `T` is declared: one argument ([`Arg`]) or a group ([`Flatten`]).
pub trait Declaration<T> {
    fn declare(self, name: &'static str, fields: &mut Vec<Field>);
    fn read(name: &str, validated: &Map<String, Value>) -> Result<T, ArgError>;
}

impl<T: DeserializeOwned> Declaration<T> for Arg {
    fn declare(self, name: &'static str, fields: &mut Vec<Field>) {
        fields.push(Field {
            name,
            description: self.description,
            kind: self.kind,
            required: self.required,
        });
    }

    fn read(name: &str, validated: &Map<String, Value>) -> Result<T, ArgError> {
        // Validation checked the value against the field's kind, so this fails only for a type
        // the kind cannot produce, which the tools' parse tests would show.
        T::deserialize(validated.get(name).unwrap_or(&Value::Null)).map_err(|e| ArgError(format!("{name}: {e}")))
    }
}

impl<T: ToolArgs> Declaration<T> for Flatten {
    fn declare(self, _name: &'static str, fields: &mut Vec<Field>) {
        fields.extend(T::fields());
    }

    fn read(_name: &str, validated: &Map<String, Value>) -> Result<T, ArgError> {
        T::read(validated)
    }
}

/// Reads field `name` as its declaration says; `_declaration` is never called, it only names
/// the declaration's type (so reading does not build descriptions).
pub fn read_declared<T, D: Declaration<T>>(
    _declaration: fn() -> D,
    name: &str,
    validated: &Map<String, Value>,
) -> Result<T, ArgError> {
    D::read(name, validated)
}

/// Declares a tool's argument struct: each field's type and its declaration (an [`Arg`] with its
/// description and kind, or [`Flatten`] for a group of arguments), once. The field's name is the
/// argument's name; the order is the schema's order.
///
/// ```ignore
/// tool_args! {
///     struct Args {
///         job_id: String = arg("The job id.", FieldKind::Text { min_len: 1, max_len: None }).required(),
///         page: PageArgs = Flatten,
///     }
/// }
/// ```
macro_rules! tool_args {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$field_meta:meta])* $field_vis:vis $field:ident : $ty:ty = $declaration:expr ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug)]
        $vis struct $name {
            $( $(#[$field_meta])* $field_vis $field: $ty, )*
        }

        impl $crate::tools::args::ToolArgs for $name {
            fn fields() -> Vec<$crate::tools::args::Field> {
                #[allow(unused_mut)]
                let mut fields = Vec::new();
                $( $crate::tools::args::Declaration::<$ty>::declare($declaration, stringify!($field), &mut fields); )*
                fields
            }

            fn cached_fields() -> &'static [$crate::tools::args::Field] {
                static FIELDS: std::sync::OnceLock<Vec<$crate::tools::args::Field>> = std::sync::OnceLock::new();
                FIELDS.get_or_init(<Self as $crate::tools::args::ToolArgs>::fields)
            }

            #[allow(clippy::redundant_closure, unused_variables)]
            fn read(
                validated: &serde_json::Map<String, serde_json::Value>,
            ) -> Result<Self, $crate::tools::args::ArgError> {
                Ok($name {
                    $( $field: $crate::tools::args::read_declared::<$ty, _>(|| $declaration, stringify!($field), validated)?, )*
                })
            }
        }
    };
}
pub(crate) use tool_args;

/// How an image argument is given (what `services::inputs` resolves), for its descriptions.
pub const IMAGE_REFERENCE: &str =
    "the job_id of a completed image, this server's image URL, or a data:image/png|jpeg|webp;base64 URL";

/// The required `image` argument of the tools that take one image.
pub fn image_arg() -> Arg {
    arg(
        format!("The image: {IMAGE_REFERENCE}."),
        FieldKind::Text {
            min_len: 1,
            max_len: Some(crate::catalog::REQUEST_BODY_MAX_BYTES),
        },
    )
    .required()
}

tool_args! {
    /// The arguments of a tool that takes none.
    pub struct NoArgs {}
}

/// Why arguments were refused; the message is shown to the client as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid arguments: {0}")]
pub struct ArgError(pub String);

/// Checks `raw` against `fields` and returns only the known fields, defaults filled in.
/// Unknown keys are ignored and `null` counts as absent, which is what lenient clients send
/// for optional fields they leave empty.
pub fn validate(fields: &[Field], raw: &Map<String, Value>) -> Result<Map<String, Value>, ArgError> {
    let mut args = Map::new();
    for field in fields {
        let value = raw.get(field.name).filter(|v| !v.is_null());
        let parsed = match (value, &field.kind) {
            (None, _) if field.required => return Err(ArgError(format!("{} is required", field.name))),
            (None, FieldKind::Choice { default, .. }) => default.map(Value::from),
            (None, FieldKind::Integer(limit)) => Some(Value::from(limit.default)),
            (None, FieldKind::Flag { default }) => Some(Value::from(*default)),
            (None, _) => None,
            (Some(value), kind) => Some(check(field.name, kind, value)?),
        };
        if let Some(parsed) = parsed {
            args.insert(field.name.to_string(), parsed);
        }
    }
    Ok(args)
}

/// An integer, also when a client sent it as a whole float (`5.0`).
fn whole_number(value: &Value) -> Option<i64> {
    value.as_i64().or_else(|| {
        value
            .as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9e15)
            .map(|f| f as i64)
    })
}

/// Length as JavaScript's `String.length` counts it, so limits match the original exactly.
pub fn js_length(text: &str) -> usize {
    text.encode_utf16().count()
}

fn check(name: &str, kind: &FieldKind, value: &Value) -> Result<Value, ArgError> {
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
            Ok(Value::from(text))
        }
        FieldKind::Choice { options, .. } => match value.as_str() {
            Some(text) if options.contains(&text) => Ok(Value::from(text)),
            _ => Err(ArgError(format!("{name} must be one of: {}", options.join(", ")))),
        },
        FieldKind::Integer(limit) => {
            let number = whole_number(value).ok_or_else(|| ArgError(format!("{name} must be an integer")))?;
            let below = number < limit.min;
            let above = limit.max.is_some_and(|max| number > max);
            if below || above {
                return Err(ArgError(match limit.max {
                    Some(max) => format!("{name} must be between {} and {max} (got {number})", limit.min),
                    None => format!("{name} must be at least {} (got {number})", limit.min),
                }));
            }
            Ok(Value::from(number))
        }
        FieldKind::OptionalInteger { min, max } => {
            let number = whole_number(value).ok_or_else(|| ArgError(format!("{name} must be an integer")))?;
            if number < *min || number > *max {
                return Err(ArgError(format!(
                    "{name} must be between {min} and {max} (got {number})"
                )));
            }
            Ok(Value::from(number))
        }
        FieldKind::Number { min, max } => {
            let number = value
                .as_f64()
                .filter(|n| n.is_finite())
                .ok_or_else(|| ArgError(format!("{name} must be a number")))?;
            if number < *min || number > *max {
                return Err(ArgError(format!(
                    "{name} must be between {min} and {max} (got {})",
                    Echoed(number)
                )));
            }
            Ok(value.clone())
        }
        FieldKind::Flag { .. } => value
            .as_bool()
            .map(Value::from)
            .ok_or_else(|| ArgError(format!("{name} must be true or false"))),
        FieldKind::TextList {
            min_items,
            max_items,
            max_len,
        } => {
            let items = value
                .as_array()
                .ok_or_else(|| ArgError(format!("{name} must be an array of strings")))?;
            if items.len() < *min_items || items.len() > *max_items {
                return Err(ArgError(format!(
                    "{name} must contain between {min_items} and {max_items} entries (got {})",
                    items.len()
                )));
            }
            items
                .iter()
                .map(|item| match item.as_str() {
                    Some(text) if !text.is_empty() && js_length(text) <= *max_len => Ok(Value::from(text)),
                    _ => Err(ArgError(format!(
                        "every entry of {name} must be a non-empty string of at most {max_len} characters"
                    ))),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    tool_args! {
        struct Inner {
            size: Option<i64> = arg("s", FieldKind::OptionalInteger { min: 1, max: 9 }),
            flag: bool = arg("f", FieldKind::Flag { default: true }),
        }
    }

    tool_args! {
        struct Outer {
            name: String = arg("n", FieldKind::Text { min_len: 1, max_len: Some(5) }).required(),
            inner: Inner = Flatten,
            tags: Option<Vec<String>> = arg("t", FieldKind::TextList { min_items: 1, max_items: 2, max_len: 3 }),
        }
    }

    #[test]
    fn a_declaration_gives_fields_in_order_and_reads_them_typed() {
        let names: Vec<&str> = Outer::fields().iter().map(|f| f.name).collect();
        assert_eq!(names, ["name", "size", "flag", "tags"]);
        let required: Vec<bool> = Outer::fields().iter().map(|f| f.required).collect();
        assert_eq!(required, [true, false, false, false]);
        let full: Outer = parse(
            json!({"name": "ab", "size": 3.0, "flag": false, "tags": ["x"]})
                .as_object()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            (full.name.as_str(), full.inner.size, full.inner.flag, full.tags),
            ("ab", Some(3), false, Some(vec!["x".to_string()]))
        );
        let sparse: Outer = parse(json!({"name": "ab", "size": null}).as_object().unwrap()).unwrap();
        assert_eq!((sparse.inner.size, sparse.inner.flag, sparse.tags), (None, true, None));
        assert_eq!(
            parse::<Outer>(json!({"name": "ab", "size": 10}).as_object().unwrap())
                .unwrap_err()
                .to_string(),
            "Invalid arguments: size must be between 1 and 9 (got 10)"
        );
        assert_eq!(
            parse::<Outer>(json!({}).as_object().unwrap()).unwrap_err().to_string(),
            "Invalid arguments: name is required"
        );
    }

    #[test]
    fn the_cached_field_list_is_built_once_and_equals_a_fresh_one() {
        let cached = Outer::cached_fields();
        assert!(
            std::ptr::eq(cached, Outer::cached_fields()),
            "one list per type, not per call"
        );
        let described = |fields: &[Field]| -> Vec<String> {
            fields
                .iter()
                .map(|f| format!("{} {:?} {} {}", f.name, f.kind, f.required, f.description))
                .collect()
        };
        assert_eq!(described(cached), described(&Outer::fields()));
        // Each declared type has its own list.
        assert_eq!(Inner::cached_fields().len(), 2);
        assert_eq!(Outer::cached_fields().len(), 4);
    }

    #[test]
    fn a_declared_type_the_kind_cannot_produce_is_an_error_not_a_panic() {
        tool_args! {
            #[allow(dead_code)]
            struct Mismatched {
                count: String = arg("c", FieldKind::OptionalInteger { min: 0, max: 5 }),
            }
        }
        let error = parse::<Mismatched>(json!({"count": 2}).as_object().unwrap()).unwrap_err();
        assert!(
            error.to_string().starts_with("Invalid arguments: count: invalid type"),
            "{error}"
        );
    }

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
                    default: Some("a"),
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
                    max_len: 4,
                },
            ),
        ]
    }

    fn run(raw: Value) -> Result<Map<String, Value>, ArgError> {
        validate(&fields(), raw.as_object().unwrap())
    }

    #[test]
    fn defaults_fill_absent_and_null_fields() {
        let args = run(json!({"prompt": "abc", "model": null, "stray": 1})).unwrap();
        assert_eq!(args["model"], "a");
        assert_eq!(args["count"], 1);
        assert!(
            !args.contains_key("ids"),
            "absent optional fields without a default stay absent"
        );
        assert!(!args.contains_key("stray"), "unknown keys are dropped");
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
        assert_eq!(run(json!({"prompt": "abc", "count": 5.0})).unwrap()["count"], 5);
    }

    #[test]
    fn choices_and_lists_are_checked() {
        assert!(run(json!({"prompt": "abc", "model": "c"})).is_err());
        assert!(run(json!({"prompt": "abc", "ids": []})).is_err());
        assert!(run(json!({"prompt": "abc", "ids": ["x", "y", "z"]})).is_err());
        assert!(run(json!({"prompt": "abc", "ids": ["x", ""]})).is_err());
        let long = run(json!({"prompt": "abc", "ids": ["x", "abcde"]}))
            .unwrap_err()
            .to_string();
        assert!(!long.contains("abcde"), "an oversized entry is not echoed back: {long}");
        assert_eq!(
            run(json!({"prompt": "abc", "ids": ["x", "x"]})).unwrap()["ids"],
            json!(["x", "x"])
        );
    }

    #[test]
    fn flags_take_booleans_only_and_default_when_absent() {
        let fields = [Field::new("preview", "p", FieldKind::Flag { default: true })];
        let check = |raw: Value| validate(&fields, raw.as_object().unwrap());
        assert_eq!(check(json!({})).unwrap()["preview"], true);
        assert_eq!(check(json!({"preview": null})).unwrap()["preview"], true);
        assert_eq!(check(json!({"preview": false})).unwrap()["preview"], false);
        for wrong in [json!("false"), json!(0), json!([])] {
            assert_eq!(
                check(json!({ "preview": wrong })).unwrap_err().to_string(),
                "Invalid arguments: preview must be true or false"
            );
        }
        assert_eq!(
            input_schema(&fields)["properties"]["preview"],
            json!({"type": "boolean", "default": true, "description": "p"})
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

/// Test support: valid argument objects built from a field list.
#[cfg(test)]
pub mod samples {
    use super::*;

    /// A valid value for every field, optional ones included.
    pub fn full_sample(fields: &[Field]) -> Map<String, Value> {
        fields
            .iter()
            .map(|field| {
                let value = match &field.kind {
                    FieldKind::Text { min_len, .. } => json!("x".repeat((*min_len).max(1))),
                    FieldKind::Choice { options, .. } => json!(options[options.len() - 1]),
                    FieldKind::Integer(limit) => json!(limit.max.unwrap_or(limit.min + 1)),
                    FieldKind::OptionalInteger { max, .. } => json!(max),
                    FieldKind::Number { max, .. } => json!(max),
                    FieldKind::Flag { default } => json!(!default),
                    FieldKind::TextList { min_items, .. } => json!(vec!["id"; (*min_items).max(1)]),
                };
                (field.name.to_string(), value)
            })
            .collect()
    }
}
