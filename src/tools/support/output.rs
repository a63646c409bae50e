//! What a tool hands back (its result as compact and pretty JSON text, and whether it failed), and the tool error type.

use serde::Serialize;
use serde_json::value::{to_raw_value, RawValue};
use serde_json::Value;

use super::args::ArgError;
use super::previews::FinishedImage;
use crate::config::ImageBackend;
use crate::d1::DbError;
use crate::protocol::mcp::CallToolResult;
use crate::services::ServiceError;

/// A tool's answer before it is wrapped for the wire: its result object written straight from
/// the tool's result struct as the two texts a `CallToolResult` carries, with no `Value` tree in
/// between (for a listing, building and walking that tree cost more than writing both texts).
/// Only the compact one is kept: the pretty one is indented from it when the `CallToolResult` is
/// made ([`pretty_of`]).
#[derive(Debug, Clone)]
pub struct ToolOutput {
    /// The object, compact: the result's `structuredContent`; its text block is [`Self::pretty`].
    pub compact: Box<RawValue>,
    pub is_error: bool,
    /// Finished images the object describes, shown by blocks after `content[0]`.
    pub images: Vec<FinishedImage>,
    /// Whether those blocks include the thumbnails inline (the call's `preview`).
    pub inline_previews: bool,
}

impl PartialEq for ToolOutput {
    fn eq(&self, other: &Self) -> bool {
        self.compact.get() == other.compact.get()
            && self.is_error == other.is_error
            && self.images == other.images
            && self.inline_previews == other.inline_previews
    }
}

impl ToolOutput {
    pub fn success(body: &impl Serialize) -> Self {
        let compact = to_raw_value(body).unwrap_or_else(|e| {
            let failed = ErrorBody {
                success: false,
                error: format!("could not encode the result: {e}"),
            };
            to_raw_value(&failed).unwrap_or_else(|_| empty_object())
        });
        ToolOutput {
            compact,
            is_error: false,
            images: Vec::new(),
            inline_previews: false,
        }
    }

    pub fn failure(body: &impl Serialize) -> Self {
        ToolOutput {
            is_error: true,
            ..ToolOutput::success(body)
        }
    }

    /// Adds the finished images to show, with their thumbnails inline when `inline`.
    pub fn showing(mut self, images: Vec<FinishedImage>, inline: bool) -> Self {
        self.images = images;
        self.inline_previews = inline;
        self
    }

    /// `{success: false, error}`, the original's shape for every plain failure.
    pub fn error_message(error: impl std::fmt::Display) -> Self {
        ToolOutput::failure(&ErrorBody {
            success: false,
            error: error.to_string(),
        })
    }

    /// The object as a tree, for reading fields back (tests).
    #[cfg(test)]
    pub fn object(&self) -> Value {
        serde_json::from_str(self.compact.get()).unwrap_or(Value::Null)
    }

    /// Tells the client, in the result itself, that images come from the offline preview backend.
    pub fn note_preview_backend(&mut self, backend: ImageBackend) {
        if backend != ImageBackend::Preview || self.is_error {
            return;
        }
        self.append_string_field("note", PREVIEW_NOTE);
    }

    /// Appends `"key": value` to the object where `Map::insert` of a new key would put it (last),
    /// written as serde_json writes it: the compact text ends in `}`. Only for a key the object
    /// does not have: no result has a top-level `note` of its own (the tests hold every tool's
    /// samples to this).
    fn append_string_field(&mut self, key: &str, value: &str) {
        let (key, value) = (Value::from(key).to_string(), Value::from(value).to_string());
        let Some(head) = self.compact.get().strip_suffix('}') else {
            return;
        };
        let comma = if head == "{" { "" } else { "," };
        let Ok(compact) = RawValue::from_string(format!("{head}{comma}{key}:{value}}}")) else {
            return;
        };
        self.compact = compact;
    }

    /// The object pretty-printed (2-space), as the original's `JSON.stringify(result, null, 2)`:
    /// the result's text block.
    pub fn pretty(&self) -> String {
        pretty_of(self.compact.get())
    }

    pub fn into_result(self) -> CallToolResult {
        CallToolResult::from_texts(self.pretty(), self.compact, self.is_error)
    }
}

/// What serde_json's `to_string_pretty` writes for the value whose compact text (as serde_json
/// writes it: no whitespace outside strings) is `compact`: the same bytes, with a line break and
/// two spaces a level after each `{`, `[` and `,` and before each `}` and `]` (an empty object or
/// array stays `{}` or `[]`), and a space after each `:`. Written from the compact text rather
/// than by serialising the result a second time: its strings are copied, not escaped again, and
/// its numbers not formatted again. The tests hold it to serde_json for every tool's samples and
/// for arbitrary values.
pub(crate) fn pretty_of(compact: &str) -> String {
    let bytes = compact.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len() + bytes.len() / 2);
    let mut depth = 0usize;
    let line = |out: &mut Vec<u8>, depth: usize| {
        out.push(b'\n');
        out.resize(out.len() + 2 * depth, b' ');
    };
    let mut at = 0;
    while at < bytes.len() {
        let byte = bytes[at];
        match byte {
            b'"' => {
                // A string, copied as written, up to its closing quote (an escaped one is skipped).
                let mut end = at + 1;
                while end < bytes.len() && bytes[end] != b'"' {
                    end += if bytes[end] == b'\\' { 2 } else { 1 };
                }
                let end = (end + 1).min(bytes.len());
                out.extend_from_slice(&bytes[at..end]);
                at = end;
                continue;
            }
            b'{' | b'[' => {
                out.push(byte);
                let close = if byte == b'{' { b'}' } else { b']' };
                if bytes.get(at + 1) == Some(&close) {
                    out.push(close);
                    at += 2;
                    continue;
                }
                depth += 1;
                line(&mut out, depth);
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                line(&mut out, depth);
                out.push(byte);
            }
            b',' => {
                out.push(byte);
                line(&mut out, depth);
            }
            b':' => out.extend_from_slice(b": "),
            _ => out.push(byte),
        }
        at += 1;
    }
    // Only ASCII was added, between whole characters, so the text is still UTF-8.
    String::from_utf8(out).unwrap_or_else(|_| compact.to_string())
}

/// `{}`, for the one case where even the error object cannot be written.
fn empty_object() -> Box<RawValue> {
    RawValue::from_string("{}".to_string()).unwrap_or_default()
}

/// JSON written out as text, for schemas: parsing text at run time costs far less Wasm than the
/// code `json!` generates for a literal (each key and value becomes its own insert call). The
/// text is ours and fixed, and the wire-contract tests parse and validate every schema, so a
/// typo fails `cargo test`; should one slip through anyway the schema is `null`, not a panic.
pub fn json_text(text: &'static str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

/// The job statuses, as a schema `enum`.
pub fn status_names() -> Value {
    Value::from(crate::jobs::JobStatus::ALL.map(crate::jobs::JobStatus::as_str).to_vec())
}

/// A tool's `outputSchema`: `properties` plus the `success`/`error` pair every result has.
/// Only `success` is required, because failure results carry structured content too and
/// clients validate it against the same schema.
pub fn result_schema(mut properties: Value) -> Value {
    if let Value::Object(fields) = &mut properties {
        fields.insert("success".to_string(), serde_json::json!({"type": "boolean"}));
        fields.insert("error".to_string(), serde_json::json!({"type": ["string", "null"], "description": "Why the call failed (when success is false)."}));
    }
    serde_json::json!({"type": "object", "properties": properties, "required": ["success"]})
}

/// Added to generation results when IMAGE_BACKEND=preview.
pub const PREVIEW_NOTE: &str = "Offline preview backend (IMAGE_BACKEND=preview): images are pictures drawn locally \
from the prompt for development, not generated by an AI model.";

#[derive(Serialize)]
struct ErrorBody {
    success: bool,
    error: String,
}

/// Why a tool could not do its work. Each becomes an `isError` result with this message.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error(transparent)]
    Args(#[from] ArgError),
    #[error(transparent)]
    Store(#[from] DbError),
    #[error(transparent)]
    Binding(#[from] crate::bindings::Unavailable),
    /// A service's failure (job creation, quota, inputs), with its own message.
    #[error(transparent)]
    Service(ServiceError),
}

/// The one conversion at the tool boundary: what the caller asked for wrongly stays an argument
/// error; the rest keeps its message.
impl From<ServiceError> for ToolError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::Invalid(message) => ToolError::Args(ArgError(message)),
            ServiceError::Store(error) => ToolError::Store(error),
            ServiceError::Binding(error) => ToolError::Binding(error),
            error => ToolError::Service(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preview_note_is_added_only_to_successes_under_the_preview_backend() {
        let mut output = ToolOutput::success(&serde_json::json!({"success": true}));
        output.note_preview_backend(ImageBackend::WorkersAi);
        assert!(output.object().get("note").is_none());
        output.note_preview_backend(ImageBackend::Preview);
        assert_eq!(output.object()["note"], PREVIEW_NOTE);
        let mut failed = ToolOutput::error_message("x");
        failed.note_preview_backend(ImageBackend::Preview);
        assert!(failed.object().get("note").is_none());
    }

    #[test]
    fn the_pretty_text_is_serdes_for_strings_that_look_like_structure() {
        let value = serde_json::json!({
            "a": "{\"b\": [1, 2]}, : \\",
            "back\\slash\"": ["\\", "\\\"", "", "\u{1}\n\t", "é😀"],
            "empty": {"object": {}, "array": [], "nested": [[], [{}], {"x": []}]},
            "numbers": [0, -1, 1.5, 1e300, -0.0, 18446744073709551615u64],
            "literals": [true, false, null],
        });
        assert_eq!(
            pretty_of(&value.to_string()),
            serde_json::to_string_pretty(&value).unwrap()
        );
        for scalar in ["1", "\"x\"", "null", "{}", "[]"] {
            assert_eq!(pretty_of(scalar), scalar);
        }
    }

    /// The two texts must be exactly what serde_json writes for the object, compact and pretty.
    fn assert_texts_are_serdes(output: &ToolOutput, what: &str) {
        let object = output.object();
        assert!(object.is_object(), "{what}: {}", output.compact.get());
        assert_eq!(output.compact.get(), object.to_string(), "{what}");
        assert_eq!(
            output.pretty(),
            serde_json::to_string_pretty(&object).unwrap(),
            "{what}"
        );
    }

    #[test]
    fn every_tools_results_are_written_as_serde_writes_them_and_the_note_goes_last() {
        let mut checked = 0;
        for tool in crate::tools::TOOLS {
            for (name, output) in (tool.samples)() {
                let what = format!("{}: {name}", tool.name);
                assert_texts_are_serdes(&output, &what);
                // The note as a map insert of a new key would add it, in both texts.
                let mut expected = output.object();
                let fields = expected.as_object_mut().unwrap();
                if fields.contains_key("note") {
                    // A sample noted already (describe_image's): only the note, and last.
                    assert_eq!(fields.keys().next_back().map(String::as_str), Some("note"), "{what}");
                    assert_eq!(fields["note"], PREVIEW_NOTE, "{what}");
                    continue;
                }
                fields.insert("note".to_string(), Value::from(PREVIEW_NOTE));
                let mut noted = ToolOutput {
                    is_error: false,
                    ..output
                };
                noted.note_preview_backend(ImageBackend::Preview);
                assert_texts_are_serdes(&noted, &what);
                assert_eq!(noted.object(), expected, "{what}");
                checked += 1;
            }
        }
        assert!(checked >= crate::tools::TOOLS.len(), "only {checked} samples");
    }

    #[test]
    fn a_field_is_appended_after_nested_and_empty_objects_and_awkward_strings() {
        for object in [
            serde_json::json!({}),
            serde_json::json!({"success": true}),
            serde_json::json!({"a": {"b": {}}, "c": [{}], "d": "}\n}\"}"}),
            serde_json::json!({"z": [1, {"y": "\u{2028}"}], "e": {"f": null}}),
        ] {
            let mut output = ToolOutput::success(&object);
            assert_texts_are_serdes(&output, &object.to_string());
            output.note_preview_backend(ImageBackend::Preview);
            assert_texts_are_serdes(&output, &object.to_string());
            let mut expected = object.clone();
            expected
                .as_object_mut()
                .unwrap()
                .insert("note".into(), Value::from(PREVIEW_NOTE));
            assert_eq!(output.object(), expected);
        }
    }

    #[test]
    fn service_errors_keep_their_messages_and_refusals_stay_argument_errors() {
        let refused = ToolError::from(ServiceError::Invalid("mask: no job x".into()));
        assert!(matches!(refused, ToolError::Args(_)), "{refused:?}");
        assert_eq!(refused.to_string(), "Invalid arguments: mask: no job x");
        let over = ToolError::from(ServiceError::OverQuota {
            key: "team".into(),
            quota: 5,
            used: 4,
            requested: 2,
            resets_at: "2026-12-04T00:00:00.000Z".into(),
        });
        assert!(matches!(over, ToolError::Service(_)), "{over:?}");
        assert_eq!(
            over.to_string(),
            "daily image quota reached: key \"team\" has used 4 of its 5 images today (UTC) and this call asks \
             for 2, so nothing was started; the quota resets at 2026-12-04T00:00:00.000Z"
        );
    }

    #[test]
    fn error_message_has_the_original_shape() {
        let output = ToolOutput::error_message("Job not found");
        assert!(output.is_error);
        assert_eq!(
            output.object(),
            serde_json::json!({"success": false, "error": "Job not found"})
        );
    }
}
