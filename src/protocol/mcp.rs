//! MCP message types, one struct per schema type, named and shaped as in the specification.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// `Implementation`: a client's or server's name and version.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Implementation {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub version: String,
    /// `Icon[]` (2025-11-25 on).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icons: Option<Vec<Value>>,
}

/// `ServerCapabilities`: tools, the stored images as resources, and prompt templates.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerCapabilities {
    pub tools: ToolsCapability,
    pub resources: ResourcesCapability,
    /// 2025-11-25's `tasks` capability, only for that revision.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tasks: Option<serde_json::Value>,
    pub prompts: PromptsCapability,
}

/// The `prompts` capability; the templates never change at run time.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PromptsCapability {
    pub list_changed: bool,
}

/// `PromptArgument`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PromptArgument {
    pub name: String,
    pub description: String,
    pub required: bool,
}

/// `Prompt` (`title` from 2025-06-18 on).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Prompt {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub description: String,
    pub arguments: Vec<PromptArgument>,
}

/// `ListPromptsResult`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListPromptsResult {
    pub prompts: Vec<Prompt>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// `GetPromptRequest` params.
#[derive(Debug, Clone, Deserialize)]
pub struct GetPromptParams {
    pub name: String,
    #[serde(default)]
    pub arguments: Option<Map<String, Value>>,
}

/// `TextContent` inside a `PromptMessage`.
#[derive(Debug, Clone, Serialize)]
pub struct PromptText {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub text: String,
}

/// `PromptMessage`.
#[derive(Debug, Clone, Serialize)]
pub struct PromptMessage {
    pub role: &'static str,
    pub content: PromptText,
}

/// `GetPromptResult`.
#[derive(Debug, Clone, Serialize)]
pub struct GetPromptResult {
    pub description: String,
    pub messages: Vec<PromptMessage>,
}

/// The `tools` capability; the tool list never changes at run time.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolsCapability {
    pub list_changed: bool,
}

/// The `resources` capability: no subscriptions and no list-changed notifications (a stateless
/// server has no channel to send them on), so both are advertised as absent.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourcesCapability {
    pub subscribe: bool,
    pub list_changed: bool,
}

/// `InitializeResult`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InitializeResult {
    pub protocol_version: String,
    pub capabilities: ServerCapabilities,
    pub server_info: Implementation,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
}

/// `ToolAnnotations`: hints about a tool's behaviour.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolAnnotations {
    pub title: String,
    pub read_only_hint: bool,
    pub destructive_hint: bool,
    pub idempotent_hint: bool,
    pub open_world_hint: bool,
}

/// `Tool`: a tool definition as listed by `tools/list`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tool {
    pub name: String,
    pub title: String,
    pub description: String,
    pub input_schema: Value,
    pub output_schema: Value,
    pub annotations: ToolAnnotations,
    /// `ToolExecution` (2025-11-25): whether the tool can run as a task.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub execution: Option<Value>,
    /// `Icon[]` (2025-11-25 on).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icons: Option<Vec<Value>>,
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Value>,
}

/// `ListToolsResult` (never paginated: it holds every tool of `tools::TOOLS` at once).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListToolsResult {
    pub tools: Vec<Tool>,
}

/// `CallToolRequest` params, as far as a call runs on them (`server::call_params` reads them and
/// checks the rest).
#[derive(Debug, Clone)]
pub struct CallToolParams {
    pub name: String,
    pub arguments: Option<Map<String, Value>>,
}

/// The `_meta` object of a request, as far as this server reads it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestMeta {
    #[serde(default)]
    pub progress_token: Option<ProgressToken>,
}

/// `ProgressToken`: a string or an integer chosen by the client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ProgressToken {
    Number(serde_json::Number),
    String(String),
}

/// The content blocks this server produces: `TextContent`, `ImageContent` (every revision) and
/// `ResourceLink` (2025-06-18 on).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentBlock {
    Text {
        text: String,
    },
    Image {
        /// Base64 of the image bytes.
        data: String,
        #[serde(rename = "mimeType")]
        mime_type: String,
    },
    ResourceLink {
        uri: String,
        name: String,
        #[serde(rename = "mimeType")]
        mime_type: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        size: Option<i64>,
    },
}

/// `CallToolResult`: JSON text for every client plus `structuredContent` for current ones, and
/// after the text, blocks that show finished images. The structured content is the result
/// object's compact text (see `ToolOutput`): no `Value` tree is built for it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallToolResult {
    pub content: Vec<ContentBlock>,
    pub structured_content: Box<RawValue>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub is_error: bool,
}

impl CallToolResult {
    /// One result object as its two texts: `pretty` (2-space) for the text block, `compact` as
    /// the structured content.
    pub fn from_texts(pretty: String, compact: Box<RawValue>, is_error: bool) -> Self {
        CallToolResult {
            content: vec![ContentBlock::Text { text: pretty }],
            structured_content: compact,
            is_error,
        }
    }

    /// The result as JSON text, for a response that writes it as is.
    pub fn into_raw(self) -> Result<Box<RawValue>, serde_json::Error> {
        serde_json::value::to_raw_value(&self)
    }
}

/// `Resource`: one stored image as `resources/list` shows it. `title` exists from 2025-06-18 on.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    pub uri: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub description: String,
    pub mime_type: String,
    /// Bytes of the object, when known (every revision's `Resource` has the optional `size`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
}

/// `ResourceTemplate`: a family of resource URIs (RFC 6570 template).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceTemplate {
    pub uri_template: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub description: String,
    /// Only when every resource of the template has the same type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
}

/// `ListResourcesResult`; `next_cursor` is absent on the last page.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListResourcesResult {
    pub resources: Vec<Resource>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// `ListResourceTemplatesResult` (never paginated: two templates).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListResourceTemplatesResult {
    pub resource_templates: Vec<ResourceTemplate>,
}

/// `BlobResourceContents`: binary contents, base64-encoded.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BlobResourceContents {
    pub uri: String,
    pub mime_type: String,
    pub blob: String,
}

/// `TextResourceContents`: text contents (the viewer's HTML), with the `_meta` it is read with.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TextResourceContents {
    pub uri: String,
    pub mime_type: String,
    pub text: String,
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Value>,
}

/// One item of a read result: an image is a blob, the viewer is text.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum ResourceContents {
    Blob(BlobResourceContents),
    Text(TextResourceContents),
}

/// `ReadResourceResult`: always one item.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadResourceResult {
    pub contents: Vec<ResourceContents>,
}

/// `ProgressNotification` params.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProgressParams {
    pub progress_token: ProgressToken,
    pub progress: u64,
    pub total: u64,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A result object as `ToolOutput` writes it.
    fn of(object: Value, is_error: bool) -> CallToolResult {
        CallToolResult::from_texts(
            serde_json::to_string_pretty(&object).unwrap(),
            serde_json::value::to_raw_value(&object).unwrap(),
            is_error,
        )
    }

    #[test]
    fn tool_result_carries_pretty_text_and_structured_copy() {
        let result = of(json!({"success": true, "n": 1}), false);
        let wire = serde_json::to_value(&result).unwrap();
        assert_eq!(wire["content"][0]["type"], "text");
        assert_eq!(wire["content"][0]["text"], "{\n  \"success\": true,\n  \"n\": 1\n}");
        assert_eq!(wire["structuredContent"], json!({"success": true, "n": 1}));
        assert!(wire.get("isError").is_none(), "isError must be omitted on success");
        let failed = serde_json::to_value(of(json!({"success": false}), true)).unwrap();
        assert_eq!(failed["isError"], true);
    }

    #[test]
    fn the_raw_and_the_tree_forms_write_the_same_text() {
        let object = json!({"success": true, "jobs": [{"id": "a", "n": 1, "nested": {"z": null, "a": [1.5, "x"]}}]});
        let mut with_blocks = of(object.clone(), false);
        with_blocks.content.push(ContentBlock::Image {
            data: "AAAA".into(),
            mime_type: "image/webp".into(),
        });
        with_blocks.content.push(ContentBlock::ResourceLink {
            uri: "images://jobs/a".into(),
            name: "a.png".into(),
            mime_type: "image/png".into(),
            size: None,
        });
        for result in [
            of(object.clone(), false),
            of(json!({"success": false, "error": "no"}), true),
            with_blocks,
        ] {
            let tree = serde_json::to_value(&result).unwrap();
            let raw = result.into_raw().unwrap();
            // Compared as text: the maps keep insertion order, and the wire is text.
            assert_eq!(raw.get(), tree.to_string());
            assert_eq!(
                tree["structuredContent"],
                serde_json::from_str::<Value>(tree["content"][0]["text"].as_str().unwrap()).unwrap()
            );
        }
    }

    #[test]
    fn image_and_resource_link_blocks_use_the_schema_names() {
        let image = ContentBlock::Image {
            data: "AAAA".into(),
            mime_type: "image/webp".into(),
        };
        assert_eq!(
            serde_json::to_value(&image).unwrap(),
            json!({"type": "image", "data": "AAAA", "mimeType": "image/webp"})
        );
        let link = ContentBlock::ResourceLink {
            uri: "images://jobs/j".into(),
            name: "k.png".into(),
            mime_type: "image/png".into(),
            size: Some(7),
        };
        assert_eq!(
            serde_json::to_value(&link).unwrap(),
            json!({"type": "resource_link", "uri": "images://jobs/j", "name": "k.png", "mimeType": "image/png", "size": 7})
        );
    }

    #[test]
    fn request_meta_reads_the_progress_token() {
        let meta: RequestMeta = serde_json::from_value(json!({"progressToken": "abc", "other": 1})).unwrap();
        assert_eq!(meta.progress_token, Some(ProgressToken::String("abc".into())));
        let meta: RequestMeta = serde_json::from_value(json!({"progressToken": 7})).unwrap();
        assert_eq!(meta.progress_token, Some(ProgressToken::Number(7.into())));
    }
}
